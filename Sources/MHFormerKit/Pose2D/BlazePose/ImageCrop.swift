// Cutting a rotated rectangle out of an RGB image into a model's input tensor, the way MediaPipe's
// ImageToTensorCalculator does on the CPU (an OpenCV perspective warp, bilinear, uint8 result):
//
//   tensor pixel (u, v), integer indices, samples the image at
//       p = c + R(rotation) · [(u / tw − ½) · w, (v / th − ½) · h]
//   where c is the rect's centre and w, h its size in pixels, and image pixel (i, j) sits at (j, i)
//   (OpenCV's convention: pixel centres on integers). The rect's corners map to the tensor's edges.
//
// The bilinear weights are OpenCV's fixed point ones: the sample point is rounded to 1/32 pixel and
// the four weights are integers summing to 2^15, so the result matches cv2.warpPerspective to within
// one grey level (rounding of the matrix OpenCV builds). Taps outside the image are 0 (BORDER_ZERO,
// the detector's letterbox) or the nearest edge pixel (BORDER_REPLICATE, the landmark crop).

import Foundation

enum CropBorder { case zero, replicate }

/// The rect `r` (pixels) of `image` resampled to tw × th × 3 bytes.
func cropRotatedRect(_ image: RGBImage, _ r: PixelRect, tensorWidth tw: Int, tensorHeight th: Int,
                     border: CropBorder) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: tw * th * 3)
    let c = cos(r.rotation), s = sin(r.rotation)
    let W = image.width, H = image.height
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for v in 0..<th {
                let b = (Double(v) / Double(th) - 0.5) * r.height
                for u in 0..<tw {
                    let a = (Double(u) / Double(tw) - 0.5) * r.width
                    let x = r.cx + c * a - s * b
                    let y = r.cy + s * a + c * b
                    // OpenCV: coordinates in 1/32 pixel, rounded to nearest
                    let xi = Int((x * 32).rounded(.toNearestOrEven)), yi = Int((y * 32).rounded(.toNearestOrEven))
                    let x0 = xi >> 5, y0 = yi >> 5
                    let fx = xi & 31, fy = yi & 31
                    // weights · 2^15: (32 − fx)(32 − fy)·32 etc. are exact integers
                    let w00 = (32 - fx) * (32 - fy) * 32, w01 = fx * (32 - fy) * 32
                    let w10 = (32 - fx) * fy * 32, w11 = fx * fy * 32
                    let o = (v * tw + u) * 3
                    if border == .zero && (x0 >= W || x0 + 1 < 0 || y0 >= H || y0 + 1 < 0) { continue }  // stays 0
                    func tap(_ yy: Int, _ xx: Int) -> Int? {
                        if xx >= 0 && xx < W && yy >= 0 && yy < H { return (yy * W + xx) * 3 }
                        if border == .zero { return nil }
                        return (min(max(yy, 0), H - 1) * W + min(max(xx, 0), W - 1)) * 3
                    }
                    let t00 = tap(y0, x0), t01 = tap(y0, x0 + 1), t10 = tap(y0 + 1, x0), t11 = tap(y0 + 1, x0 + 1)
                    for ch in 0..<3 {
                        var sum = 0
                        if let t = t00 { sum += Int(src[t + ch]) * w00 }
                        if let t = t01 { sum += Int(src[t + ch]) * w01 }
                        if let t = t10 { sum += Int(src[t + ch]) * w10 }
                        if let t = t11 { sum += Int(src[t + ch]) * w11 }
                        dst[o + ch] = UInt8(min(max((sum + (1 << 14)) >> 15, 0), 255))
                    }
                }
            }
        }
    }
    return out
}

/// uint8 → float in [lo, hi]: x · (hi − lo)/255 + lo, as ImageToTensorCalculator scales.
func tensorFromBytes(_ bytes: [UInt8], lo: Float, hi: Float) -> [Float] {
    let scale = (hi - lo) / 255
    return bytes.map { Float($0) * scale + lo }
}
