// ViTPose's top-down pre- and post-processing, as transformers' VitPoseImageProcessor does it
// (../shared/docs/pose2d-backends.md §6), in float32 where it computes in float32:
//
//   box (x, y, w, h) → center (x + w/2, y + h/2); the box widened or heightened to the input's aspect
//   (192:256), scale = (w, h) / 200 · 1.25
//   crop: the UDP affine u = (X − cx)·(192 − 1)/(200·sx) + (192 − 1)/2 (v likewise with 256), each crop
//   pixel sampled bilinearly at the inverse map (scipy affine_transform order 1, mode 'constant':
//   0 for sample points outside [0, W−1]×[0, H−1]), rounded to uint8, then (v/255 − mean)/std
//   (ImageNet mean and std), NCHW
//   heatmaps → per keypoint: argmax (score = max; −1, −1 when the max is not positive), DARK refinement
//   (Gaussian blur σ 0.8 radius 5 with scipy's 'reflect' border, clip [0.001, 50], log, Newton step
//   with central differences on the edge-padded map), then back to the image:
//   X = px·(200·sx)/(Wh − 1) + cx − 100·sx (Y likewise with Hh)
// Flip test (not part of the processor; the caller averages, as transformers' model card and
// conversion check do): run the horizontally flipped crop, swap left/right channels (COCO flip pairs)
// and flip the heatmaps back (no shift: UDP), average the two. The mirror and flip_back are
// COCOSkeleton's, shared with TransPose.

import Foundation

public enum ViTPoseProcessing {
    static let mean: [Float] = [0.485, 0.456, 0.406]
    static let std: [Float] = [0.229, 0.224, 0.225]

    /// box_to_center_and_scale (padding 1.25, normalize factor 200) for an input of inputWidth x inputHeight.
    public static func centerAndScale(box: SIMD4<Double>, inputWidth: Int, inputHeight: Int) -> (center: SIMD2<Float>, scale: SIMD2<Float>) {
        let aspect = Double(inputWidth) / Double(inputHeight)
        var w = box[2], h = box[3]
        let center = SIMD2<Float>(Float(box[0] + w * 0.5), Float(box[1] + h * 0.5))
        if w > aspect * h { h = w * 1.0 / aspect } else if w < aspect * h { w = h * aspect }
        let scale = SIMD2<Float>(Float(w / 200), Float(h / 200)) * 1.25
        return (center, scale)
    }

    /// The crop of `image` for a box, normalised: [3, inputHeight, inputWidth] floats (NCHW).
    public static func crop(_ image: RGBImage, center: SIMD2<Float>, scale: SIMD2<Float>,
                            inputWidth tw: Int, inputHeight th: Int) -> [Float] {
        // get_warp_matrix(0, 2·center, (tw − 1, th − 1), 200·scale), stored in float32 as transformers does
        let target = scale * 200                                   // float32
        let sx = Double(tw - 1) / Double(target.x), sy = Double(th - 1) / Double(target.y)
        let ix = center.x * 2, iy = center.y * 2                    // float32
        let m00 = Float(sx), m11 = Float(sy)
        let m02 = Float(sx * Double(-0.5 * ix + 0.5 * target.x))
        let m12 = Float(sy * Double(-0.5 * iy + 0.5 * target.y))
        // inverse map (float64): X = (u − m02)/m00, Y = (v − m12)/m11
        let a = 1 / Double(m00), b = -Double(m02) / Double(m00)
        let c = 1 / Double(m11), d = -Double(m12) / Double(m11)
        let W = image.width, H = image.height
        var out = [Float](repeating: 0, count: 3 * th * tw)
        image.pixels.withUnsafeBufferPointer { src in
            for v in 0..<th {
                let y = c * Double(v) + d
                for u in 0..<tw {
                    let x = a * Double(u) + b
                    var rgb: (Double, Double, Double) = (0, 0, 0)
                    if x >= 0, x <= Double(W - 1), y >= 0, y <= Double(H - 1) {
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        let fx = x - Double(x0), fy = y - Double(y0)
                        let x1 = min(x0 + 1, W - 1), y1 = min(y0 + 1, H - 1)
                        func px(_ yy: Int, _ xx: Int, _ ch: Int) -> Double { Double(src[(yy * W + xx) * 3 + ch]) }
                        func sample(_ ch: Int) -> Double {
                            (1 - fy) * ((1 - fx) * px(y0, x0, ch) + fx * px(y0, x1, ch)) + fy * ((1 - fx) * px(y1, x0, ch) + fx * px(y1, x1, ch))
                        }
                        rgb = (sample(0), sample(1), sample(2))
                    }
                    for (ch, value) in [rgb.0, rgb.1, rgb.2].enumerated() {
                        let byte = min(max((value + 0.5).rounded(.down), 0), 255)   // scipy's uint8 output
                        let unit = Float(byte * (1.0 / 255.0))                     // rescale in float64, stored float32
                        out[(ch * th + v) * tw + u] = (unit - mean[ch]) / std[ch]
                    }
                }
            }
        }
        return out
    }

    /// post_process_pose_estimation (kernel 11) for one crop's heatmaps [K, Hh, Wh]:
    /// image keypoints [K·2] and scores [K].
    public static func keypoints(heatmaps hm: [Float], keypoints K: Int, height Hh: Int, width Wh: Int,
                                 center: SIMD2<Float>, scale: SIMD2<Float>) -> (points: [Float], scores: [Float]) {
        let hw = Hh * Wh
        // argmax per keypoint (the first maximum)
        var coords = [Float](repeating: 0, count: 2 * K), scores = [Float](repeating: 0, count: K)
        for k in 0..<K {
            var best = 0
            for i in 1..<hw where hm[k * hw + i] > hm[k * hw + best] { best = i }
            scores[k] = hm[k * hw + best]
            if scores[k] > 0 {
                coords[2 * k] = Float(best % Wh); coords[2 * k + 1] = Float(best / Wh)
            } else {
                coords[2 * k] = -1; coords[2 * k + 1] = -1
            }
        }
        // DARK: blurred, clipped log heatmaps, edge-padded by one: [K, Hh + 2, Wh + 2], flattened
        let Hp = Hh + 2, Wp = Wh + 2
        var padded = [Float](repeating: 0, count: K * Hp * Wp)
        for k in 0..<K {
            let blurred = gaussianBlur(Array(hm[(k * hw)..<((k + 1) * hw)]), height: Hh, width: Wh)
            for y in 0..<Hp { for x in 0..<Wp {
                let v = blurred[min(max(y - 1, 0), Hh - 1) * Wh + min(max(x - 1, 0), Wh - 1)]
                padded[(k * Hp + y) * Wp + x] = logf(min(max(v, 0.001), 50))
            } }
        }
        // numpy's flat indexing (a negative index counts from the end): a keypoint at (−1, −1) reads
        // its neighbours across the previous keypoint's map, exactly as transformers does
        func at(_ i: Int) -> Float { padded[i < 0 ? i + padded.count : i] }
        var points = [Float](repeating: 0, count: 2 * K)
        for k in 0..<K {
            let i = Int(coords[2 * k] + 1 + (coords[2 * k + 1] + 1) * Float(Wp)) + k * Hp * Wp
            let c = at(i), xp = at(i + 1), yp = at(i + Wp), xpyp = at(i + Wp + 1)
            let xm = at(i - 1), ym = at(i - Wp), xmym = at(i - Wp - 1)
            let dx = 0.5 * (xp - xm), dy = 0.5 * (yp - ym)
            let dxx = xp - 2 * c + xm, dyy = yp - 2 * c + ym
            let dxy = 0.5 * (xpyp - xp - yp + c + c - xm - ym + xmym)
            // (hessian + eps·I)⁻¹ · gradient, in float64
            let eps = Double(Float.ulpOfOne)
            let h00 = Double(dxx) + eps, h01 = Double(dxy), h11 = Double(dyy) + eps
            let det = h00 * h11 - h01 * h01
            let stepX = (h11 * Double(dx) - h01 * Double(dy)) / det
            let stepY = (-h01 * Double(dx) + h00 * Double(dy)) / det
            let px = Float(Double(coords[2 * k]) - stepX), py = Float(Double(coords[2 * k + 1]) - stepY)
            // back to the image (transform_preds)
            let size = scale * 200
            let perX = size.x / Float(Wh - 1), perY = size.y / Float(Hh - 1)
            points[2 * k] = px * perX + center.x - size.x * 0.5
            points[2 * k + 1] = py * perY + center.y - size.y * 0.5
        }
        return (points, scores)
    }

    /// scipy.ndimage.gaussian_filter(map, sigma 0.8, radius 5), mode 'reflect' (… b a | a b …): rows
    /// (axis 0) first, then columns, each pass summed in float64 and stored as float32.
    static func gaussianBlur(_ map: [Float], height H: Int, width W: Int) -> [Float] {
        let radius = 5
        var kernel = (-radius...radius).map { exp(-0.5 / (0.8 * 0.8) * Double($0 * $0)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func reflect(_ i: Int, _ n: Int) -> Int {
            var j = i
            while j < 0 || j >= n { j = j < 0 ? -j - 1 : 2 * n - j - 1 }
            return j
        }
        var pass1 = [Float](repeating: 0, count: H * W)
        for y in 0..<H { for x in 0..<W {
            var s = 0.0
            for t in -radius...radius { s += kernel[t + radius] * Double(map[reflect(y + t, H) * W + x]) }
            pass1[y * W + x] = Float(s)
        } }
        var pass2 = [Float](repeating: 0, count: H * W)
        for y in 0..<H { for x in 0..<W {
            var s = 0.0
            for t in -radius...radius { s += kernel[t + radius] * Double(pass1[y * W + reflect(x + t, W)]) }
            pass2[y * W + x] = Float(s)
        } }
        return pass2
    }
}
