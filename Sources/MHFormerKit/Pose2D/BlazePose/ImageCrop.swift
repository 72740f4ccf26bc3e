// Cutting a rotated rectangle out of an RGB image into a model's input tensor, the way MediaPipe's
// ImageToTensorCalculator does on the CPU (an OpenCV perspective warp, bilinear, uint8 result):
//
//   tensor pixel (u, v), integer indices, samples the image at
//       p = c + R(rotation) · [(u / tw − ½) · w, (v / th − ½) · h]
//   where c is the rect's centre and w, h its size in pixels, and image pixel (i, j) sits at (j, i)
//   (OpenCV's convention: pixel centres on integers). The rect's corners map to the tensor's edges.
//
// The bilinear weights are OpenCV's fixed point ones (Core/FixedPointBilinear.swift): the sample point
// is rounded to 1/32 pixel and the four weights are integers summing to 2^15, so the result matches
// cv2.warpPerspective to within one grey level (rounding of the matrix OpenCV builds). Taps outside
// the image are 0 (BORDER_ZERO, the detector's letterbox) or the nearest edge pixel (BORDER_REPLICATE,
// the landmark crop).

import Foundation

/// The rect `r` (pixels) of `image` [H, W, 3] resampled to [th, tw, 3] bytes.
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
                    sampleBilinearFixedPoint(src, width: W, height: H, x32: xi, y32: yi, border: border,
                                             dst.baseAddress! + (v * tw + u) * 3)
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
