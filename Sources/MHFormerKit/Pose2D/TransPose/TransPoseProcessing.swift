// TransPose's test-time pipeline around the network, as the official code does it
// (../shared/docs/transpose-reference.md §6-8):
//   person box → center/scale → affine crop 256x192 (OpenCV's fixed-point bilinear warp)
//   → RGB / 255, ImageNet mean/std → heatmaps of the crop and of its mirror (flip test)
//   → DARK keypoints (argmax, Gaussian blur, log, Taylor step) → image pixels.

import Foundation

public enum TransPoseGeometry {
    public static let inputW = 192, inputH = 256
    public static let heatmapW = 48, heatmapH = 64

    /// COCO box (x, y, w, h) → center and scale (in units of 200 px), `_xywh2cs`: aspect fixed to
    /// 0.75 by growing one side, then × 1.25. Float32 like the official arrays.
    public static func centerScale(box x: Float, _ y: Float, _ w: Float, _ h: Float) -> (center: SIMD2<Float>, scale: SIMD2<Float>) {
        let center = SIMD2<Float>(x + (w - 1) * 0.5, y + (h - 1) * 0.5)
        let aspect: Float = 192.0 / 256.0
        var w = w, h = h
        if w > aspect * h { h = w / aspect } else if w < aspect * h { w = h * aspect }
        let scale = SIMD2<Float>(w / 200, h / 200) * 1.25
        return (center, scale)
    }

    /// Image → crop similarity (only scale_x matters): x_crop = k·(x - cx) + 95.5, y likewise about
    /// 127.5, k = 191 / (scale_x·200 - 1). Returns the 2x3 matrix [k, 0, tx; 0, k, ty].
    public static func imageToCrop(center: SIMD2<Float>, scale: SIMD2<Float>) -> [Double] {
        let k = Double(inputW - 1) / (Double(scale.x) * 200 - 1)
        return [k, 0, Double(inputW - 1) / 2 - k * Double(center.x),
                0, k, Double(inputH - 1) / 2 - k * Double(center.y)]
    }

    /// cv2.warpAffine(rgb, M, (192, 256), INTER_LINEAR, constant-0 border) on uint8 RGB [height, width, 3]
    /// → crop [256, 192, 3], bit-exact with OpenCV's fixed-point path: the source position of each crop
    /// pixel in 1/1024 px, as OpenCV's row start + per-column delta, then 1/32 px for the 15-bit
    /// weights (sampleBilinearFixedPoint).
    public static func warpCrop(rgb: [UInt8], width: Int, height: Int, imageToCrop m: [Double]) -> [UInt8] {
        precondition(rgb.count == width * height * 3, "warpCrop: \(rgb.count) bytes for \(width)x\(height) RGB")
        // invert M in double as OpenCV does
        let det = m[0] * m[4] - m[1] * m[3]
        let D = det != 0 ? 1 / det : 0
        let a00 = m[4] * D, a01 = -m[1] * D, a10 = -m[3] * D, a11 = m[0] * D
        let b0 = -a00 * m[2] - a01 * m[5], b1 = -a10 * m[2] - a11 * m[5]
        let W = inputW, H = inputH
        var out = [UInt8](repeating: 0, count: W * H * 3)
        let adelta = (0..<W).map { Int((a00 * Double($0) * 1024).rounded(.toNearestOrEven)) }
        let bdelta = (0..<W).map { Int((a10 * Double($0) * 1024).rounded(.toNearestOrEven)) }
        rgb.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<H {
                    // + 16: rounding when dropping the 5 bits below 1/32 px
                    let x0 = Int(((a01 * Double(y) + b0) * 1024).rounded(.toNearestOrEven)) + 16
                    let y0 = Int(((a11 * Double(y) + b1) * 1024).rounded(.toNearestOrEven)) + 16
                    for x in 0..<W {
                        sampleBilinearFixedPoint(src, width: width, height: height, x32: (x0 + adelta[x]) >> 5,
                                                 y32: (y0 + bdelta[x]) >> 5, border: .zero, dst.baseAddress! + (y * W + x) * 3)
                    }
                }
            }
        }
        return out
    }

    /// uint8 RGB crop (256, 192, 3) → normalised float input (3, 256, 192): (v/255 - mean) / std.
    public static func normalise(crop: [UInt8]) -> [Float] {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let P = inputW * inputH
        var x = [Float](repeating: 0, count: 3 * P)
        for p in 0..<P {
            for c in 0..<3 { x[c * P + p] = (Float(crop[p * 3 + c]) / 255 - mean[c]) / std[c] }
        }
        return x
    }

    /// Mirror a (C, H, W) tensor along W (COCOSkeleton.mirror, with its size checked).
    public static func mirror(_ x: [Float], channels: Int, height: Int, width: Int) -> [Float] {
        precondition(x.count == channels * height * width, "mirror: \(x.count) values for (\(channels), \(height), \(width))")
        return COCOSkeleton.mirror(x, height: height, width: width)
    }

    /// flip_back of heatmaps (J, 64, 48): mirrored along W, each left/right pair swapped.
    public static func flipBack(_ hm: [Float], joints: Int) -> [Float] {
        COCOSkeleton.flipBack(hm, keypoints: joints, height: heatmapH, width: heatmapW)
    }

    /// (hm + flipBack(hmFlipped)) · 0.5
    public static func flipAverage(_ hm: [Float], flipped hmFlipped: [Float], joints: Int) -> [Float] {
        let back = flipBack(hmFlipped, joints: joints)
        return zip(hm, back).map { ($0 + $1) * 0.5 }
    }
}

/// Keypoints decoded from heatmaps, in heatmap pixels (x = column, y = row).
public struct HeatmapKeypoints {
    public var points: [SIMD2<Float>]       // per joint
    public var maxvals: [Float]             // the score: maximum of the unblurred heatmap
    public var argmax: [SIMD2<Float>]       // integer argmax ((0, 0) where maxval ≤ 0)
    public var taylorApplied: [Bool]
    public var logBlur: [Float]             // (J, 64, 48): the map the Taylor step differentiates
}

public enum TransPoseDecoding {
    /// get_final_preds(transform_back = False): argmax, DARK blur (k 11, σ 2), log, Taylor step.
    public static func decode(_ hm: [Float], joints: Int) -> HeatmapKeypoints {
        let W = TransPoseGeometry.heatmapW, H = TransPoseGeometry.heatmapH, P = W * H
        var points: [SIMD2<Float>] = [], maxvals: [Float] = [], argmax: [SIMD2<Float>] = [], applied: [Bool] = []
        var logBlur = [Float](repeating: 0, count: joints * P)
        // 1D Gaussian, kernel 11, σ = 0.3·((11-1)/2 - 1) + 0.8 = 2 (OpenCV's rule), in double
        var g = (0..<11).map { exp(-Double(($0 - 5) * ($0 - 5)) / 8) }
        let gs = g.reduce(0, +)
        g = g.map { $0 / gs }
        for j in 0..<joints {
            let map = Array(hm[(j * P)..<((j + 1) * P)])
            // first maximum in row-major order
            var best = 0
            for i in 1..<P where map[i] > map[best] { best = i }
            let m0 = map[best]
            maxvals.append(m0)
            let am = m0 > 0 ? SIMD2<Float>(Float(best % W), Float(best / W)) : SIMD2<Float>(0, 0)
            argmax.append(am)
            // zero-padded separable blur in double, rows then columns
            var tmp = [Double](repeating: 0, count: P)
            for y in 0..<H {
                for x in 0..<W {
                    var s = 0.0
                    for k in 0..<11 { let xx = x + k - 5; if xx >= 0 && xx < W { s += g[k] * Double(map[y * W + xx]) } }
                    tmp[y * W + x] = s
                }
            }
            var blurred = [Float](repeating: 0, count: P)
            for y in 0..<H {
                for x in 0..<W {
                    var s = 0.0
                    for k in 0..<11 { let yy = y + k - 5; if yy >= 0 && yy < H { s += g[k] * tmp[yy * W + x] } }
                    blurred[y * W + x] = Float(s)
                }
            }
            let ratio = m0 / blurred.max()!
            let L = blurred.map { log(max($0 * ratio, 1e-10)) }
            logBlur.replaceSubrange((j * P)..<((j + 1) * P), with: L)
            // Taylor step at the integer argmax
            var p = am
            let px = Int(am.x), py = Int(am.y)
            var didApply = false
            if 1 < px && px < W - 2 && 1 < py && py < H - 2 {
                func l(_ y: Int, _ x: Int) -> Float { L[y * W + x] }
                let dx = 0.5 * (l(py, px + 1) - l(py, px - 1))
                let dy = 0.5 * (l(py + 1, px) - l(py - 1, px))
                let dxx = 0.25 * (l(py, px + 2) - 2 * l(py, px) + l(py, px - 2))
                let dxy = 0.25 * (l(py + 1, px + 1) - l(py - 1, px + 1) - l(py + 1, px - 1) + l(py - 1, px - 1))
                let dyy = 0.25 * (l(py + 2, px) - 2 * l(py, px) + l(py - 2, px))
                let det = Double(dxx) * Double(dyy) - Double(dxy) * Double(dxy)
                if det != 0 {
                    // offset = -H⁻¹ · (dx, dy), H = [[dxx, dxy], [dxy, dyy]]
                    let ox = -(Double(dyy) * Double(dx) - Double(dxy) * Double(dy)) / det
                    let oy = -(-Double(dxy) * Double(dx) + Double(dxx) * Double(dy)) / det
                    p = SIMD2<Float>(Float(Double(p.x) + ox), Float(Double(p.y) + oy))
                    didApply = true
                }
            }
            points.append(p)
            applied.append(didApply)
        }
        return HeatmapKeypoints(points: points, maxvals: maxvals, argmax: argmax, taylorApplied: applied, logBlur: logBlur)
    }

    /// transform_preds: heatmap pixels → image pixels for the crop of (center, scale):
    /// x = cx + (x_hm - 23.5)·k', y = cy + (y_hm - 31.5)·k', k' = (scale_x·200 - 1) / 47.
    public static func toImage(_ p: SIMD2<Float>, center: SIMD2<Float>, scale: SIMD2<Float>) -> SIMD2<Float> {
        let k = (Double(scale.x) * 200 - 1) / Double(TransPoseGeometry.heatmapW - 1)
        let hx = Double(TransPoseGeometry.heatmapW - 1) / 2, hy = Double(TransPoseGeometry.heatmapH - 1) / 2
        return SIMD2<Float>(Float(Double(center.x) + (Double(p.x) - hx) * k), Float(Double(center.y) + (Double(p.y) - hy) * k))
    }
}

/// The result of TransPose on one person box.
public struct TransPoseResult {
    public var keypoints: [SIMD2<Float>]   // 17 COCO joints, image pixels
    public var scores: [Float]             // heatmap maxima
    public var heatmaps: [Float]           // flip-averaged (17, 64, 48)
    /// Last encoder layer attention (mean over heads) of the un-mirrored crop, [L, L], rows =
    /// queries (token y·w + x), if requested.
    public var attention: [Float]?
    /// Per joint, the query token demo.ipynb looks at: p = (x_hm·4 + 0.5) / (256 / tokensH).
    public var attentionQuery: [Int]
}

extension TransPoseModel {
    /// Full pipeline on an RGB image (uint8 HWC) for a COCO box (x, y, w, h): crop, flip test, DARK.
    public func estimate(rgb: [UInt8], width: Int, height: Int, box: (Float, Float, Float, Float),
                         flipTest: Bool = true, withAttention: Bool = false) -> TransPoseResult {
        let (center, scale) = TransPoseGeometry.centerScale(box: box.0, box.1, box.2, box.3)
        let m = TransPoseGeometry.imageToCrop(center: center, scale: scale)
        let crop = TransPoseGeometry.warpCrop(rgb: rgb, width: width, height: height, imageToCrop: m)
        return estimate(input: TransPoseGeometry.normalise(crop: crop), center: center, scale: scale,
                        flipTest: flipTest, withAttention: withAttention)
    }

    /// Pipeline from a normalised crop (3, 256, 192) whose box is (center, scale).
    public func estimate(input: [Float], center: SIMD2<Float>, scale: SIMD2<Float>,
                         flipTest: Bool = true, withAttention: Bool = false) -> TransPoseResult {
        let J = config.joints, L = config.tokensH * config.tokensW
        var attention: [Float]? = withAttention ? [Float](repeating: 0, count: L * L) : nil
        var hm: [Float]
        if attention != nil {
            hm = attention!.withUnsafeMutableBufferPointer { heatmaps(input, attention: $0.baseAddress!) }
        } else {
            hm = heatmaps(input)
        }
        if flipTest {
            let flipped = heatmaps(TransPoseGeometry.mirror(input, channels: 3, height: 256, width: 192))
            hm = TransPoseGeometry.flipAverage(hm, flipped: flipped, joints: J)
        }
        let decoded = TransPoseDecoding.decode(hm, joints: J)
        let down = Float(256 / config.tokensH)
        let queries = decoded.points.map { p -> Int in
            let q = (p * 4 + 0.5) / down
            // truncation like int(), clamped to the grid: an ill-conditioned Taylor step can leave it
            func cell(_ v: Float, _ n: Int) -> Int { v.isFinite ? Int(min(max(v, 0), Float(n - 1))) : 0 }
            let qx = cell(q.x, config.tokensW), qy = cell(q.y, config.tokensH)
            return qy * config.tokensW + qx
        }
        return TransPoseResult(keypoints: decoded.points.map { TransPoseDecoding.toImage($0, center: center, scale: scale) },
                               scores: decoded.maxvals, heatmaps: hm,
                               attention: attention, attentionQuery: queries)
    }
}
