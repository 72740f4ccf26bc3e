// OpenCV's fixed-point bilinear interpolation of 8-bit images (INTER_LINEAR on CV_8U in remap,
// warpAffine and warpPerspective), shared by BlazePose's rotated crop (ImageCrop.swift) and
// TransPose's affine crop (TransPoseProcessing.swift), so both match cv2 to the grey level:
//
//   the sample point comes in 1/32 pixel (INTER_TAB_SIZE 32): x32 = x·32 rounded, likewise y32;
//   the top-left tap is (x32 >> 5, y32 >> 5), the fractions fx = x32 & 31, fy = y32 & 31;
//   the weights, scaled by 2^15, are exact integers summing to 2^15:
//       w00 = (32 − fx)(32 − fy)·32   w01 = fx(32 − fy)·32   w10 = (32 − fx)·fy·32   w11 = fx·fy·32
//   value = clamp((Σ w·tap + 2^14) >> 15, 0, 255)
//
// Taps outside the image are 0 (BORDER_CONSTANT with 0) or the nearest edge pixel (BORDER_REPLICATE).
// Called once per output pixel: keep it inlined, on raw buffers.

enum CropBorder { case zero, replicate }

/// The RGB image `src` [H, W, 3] (bytes, row-major) sampled at (x32 / 32, y32 / 32), written to
/// dst[0], dst[1], dst[2]. An empty image (W or H 0) samples as 0.
@inline(__always)
func sampleBilinearFixedPoint(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, x32: Int, y32: Int,
                              border: CropBorder, _ dst: UnsafeMutablePointer<UInt8>) {
    let x0 = x32 >> 5, y0 = y32 >> 5
    let fx = x32 & 31, fy = y32 & 31
    var w00 = (32 - fx) * (32 - fy) * 32, w01 = fx * (32 - fy) * 32
    var w10 = (32 - fx) * fy * 32, w11 = fx * fy * 32
    if W == 0 || H == 0 || (border == .zero && (x0 >= W || x0 + 1 < 0 || y0 >= H || y0 + 1 < 0)) {   // no tap inside
        dst[0] = 0; dst[1] = 0; dst[2] = 0
        return
    }
    // Byte offsets of the taps (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1). Most samples lie
    // inside; at the border a replicated tap reads the clamped pixel, a zero tap gets weight 0 (and
    // reads pixel 0, in bounds, so the sum stays one branch-free expression).
    var t00: Int, t01: Int, t10: Int, t11: Int
    if x0 >= 0 && x0 + 1 < W && y0 >= 0 && y0 + 1 < H {
        t00 = (y0 * W + x0) * 3; t01 = t00 + 3; t10 = t00 + 3 * W; t11 = t10 + 3
    } else if border == .replicate {
        let xa = min(max(x0, 0), W - 1), xb = min(max(x0 + 1, 0), W - 1)
        let ya = min(max(y0, 0), H - 1) * W, yb = min(max(y0 + 1, 0), H - 1) * W
        t00 = (ya + xa) * 3; t01 = (ya + xb) * 3; t10 = (yb + xa) * 3; t11 = (yb + xb) * 3
    } else {
        let inX0 = x0 >= 0, inX1 = x0 + 1 < W, inY0 = y0 >= 0, inY1 = y0 + 1 < H
        t00 = 0; t01 = 0; t10 = 0; t11 = 0
        if inY0 && inX0 { t00 = (y0 * W + x0) * 3 } else { w00 = 0 }
        if inY0 && inX1 { t01 = (y0 * W + x0 + 1) * 3 } else { w01 = 0 }
        if inY1 && inX0 { t10 = ((y0 + 1) * W + x0) * 3 } else { w10 = 0 }
        if inY1 && inX1 { t11 = ((y0 + 1) * W + x0 + 1) * 3 } else { w11 = 0 }
    }
    for ch in 0..<3 {
        let sum = Int(src[t00 + ch]) * w00 + Int(src[t01 + ch]) * w01 + Int(src[t10 + ch]) * w10 + Int(src[t11 + ch]) * w11
        dst[ch] = UInt8(min(max((sum + (1 << 14)) >> 15, 0), 255))
    }
}
