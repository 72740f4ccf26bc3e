// Which foot is planted on the ground, frame by frame: a planted foot is low (near the ground) and
// still. "Still" is measured twice, because each measure fails somewhere else:
//   in 3D, the ankle's world speed: it sees motion in depth, but carries the root path's noise;
//   in the image, the foot's own points (ankle, and BlazePose's heel and toe when the 2D model gave
//   them): a planted foot does not move in the picture of a fixed camera, whatever the depth error,
//   but a foot moving straight at the camera barely moves there either.
// "Low" is measured from a local ground: a low percentile of the lower ankle's height over the
// surrounding second, not the world frame's single ground plane, which a root path with depth errors
// tilts or bends by more than a foot's lift.
// A foot is planted when it is low, still in the image and not fast in 3D. Short flickers are then
// removed: gaps of up to `gapSeconds` are closed, contacts shorter than `minimumSeconds` dropped.

import Foundation

public enum FootContacts {
    /// Left and right ankle in the 17 joints, in the order contacts are given (left, right).
    public static let ankles = [6, 3]

    /// The thresholds, chosen on the rendered benchmark clips (Scripts/bench/motion-quality.py).
    public struct Thresholds: Sendable {
        /// The ankle at most this far above the local ground (m).
        public var height = 0.12
        /// The local ground: this percentile of the lower ankle's height within `groundSeconds` either side.
        public var groundPercentile = 0.2
        public var groundSeconds = 1.0
        /// The foot's points in the image at most this fast (m/s, at the person's depth).
        public var imageSpeed = 0.35
        /// The ankle's world speed at most this fast (m/s).
        public var worldSpeed = 1.0
        /// Gaps this short are closed, contacts this short dropped (s).
        public var gapSeconds = 0.08
        public var minimumSeconds = 0.12
        /// Cut-off of the low-pass applied to the foot points before taking speeds (Hz).
        public var speedCutoffHz = 6.0
        public init() {}
    }

    /// (N, 2) contacts (left, right) of world-frame joints `world` (N, 17, 3), Y up, the ground at 0.
    /// `rootDepth` (N) metres and `focalPx` scale the image speeds; `keypoints` gives the 2D ankles
    /// and, when present, heels and toes.
    public static func detect(world: [Double], present: [Bool], keypoints: Keypoints2D, rootDepth: [Double], focalPx: Double,
                              rate: Double, thresholds: Thresholds = Thresholds()) -> [Bool] {
        let n = present.count
        var contacts = [Bool](repeating: false, count: n * 2)
        let lambda = ZeroPhaseLowPass.smoothness(cutoffHz: thresholds.speedCutoffHz, rate: rate)
        for seg in runsOfTrue(present) where seg.count >= 3 {
            // The ankles' low-passed paths, and the local ground under them.
            let paths = ankles.map { ankle -> [Double] in
                var series = [Double](repeating: 0, count: 3 * seg.count)
                for (k, i) in seg.enumerated() { for c in 0..<3 { series[3 * k + c] = world[i * 51 + 3 * ankle + c] } }
                return ZeroPhaseLowPass.filter(series, channels: 3, lambda: lambda)
            }
            let ground = localGround((0..<seg.count).map { min(paths[0][3 * $0 + 1], paths[1][3 * $0 + 1]) },
                                     window: Int((thresholds.groundSeconds * rate).rounded()), percentile: thresholds.groundPercentile)
            for side in 0..<2 {
                // 3D: the ankle's height above the local ground and its world speed.
                let path = paths[side]
                let heights = (0..<seg.count).map { path[3 * $0 + 1] - ground[$0] }
                let worldSpeed = centralSpeeds(path, channels: 3, rate: rate)
                // The image: the slowest of the foot's points, in metres per second at the person's depth.
                var imageSpeed = [Double](repeating: .infinity, count: seg.count)
                for points in footPoints(keypoints, side: side, rows: seg) {
                    let speeds = centralSpeeds(ZeroPhaseLowPass.filter(points, channels: 2, lambda: lambda), channels: 2, rate: rate)
                    for k in 0..<seg.count { imageSpeed[k] = min(imageSpeed[k], speeds[k] * rootDepth[seg.lowerBound + k] / focalPx) }
                }
                var planted = (0..<seg.count).map { k in
                    heights[k] < thresholds.height && imageSpeed[k] < thresholds.imageSpeed && worldSpeed[k] < thresholds.worldSpeed
                }
                clean(&planted, gap: Int((thresholds.gapSeconds * rate).rounded()), minimum: Int((thresholds.minimumSeconds * rate).rounded()))
                for (k, i) in seg.enumerated() { contacts[2 * i + side] = planted[k] }
            }
        }
        return contacts
    }

    /// For each sample, the given percentile (0...1) of `heights` within `window` samples either side.
    static func localGround(_ heights: [Double], window: Int, percentile: Double) -> [Double] {
        heights.indices.map { t in
            let near = heights[max(0, t - window)...min(heights.count - 1, t + window)].sorted()
            return near[Int(Double(near.count - 1) * percentile)]
        }
    }

    /// The foot's 2D points over `rows`, each as an (n, 2) series: the ankle, then the heel and the
    /// toe (foot index) when the keypoints have BlazePose's feet.
    static func footPoints(_ kp: Keypoints2D, side: Int, rows: Range<Int>) -> [[Double]] {
        func series(_ values: [Float], stride: Int, at offset: Int) -> [Double] {
            var out = [Double](repeating: 0, count: 2 * rows.count)
            for (k, i) in rows.enumerated() { out[2 * k] = Double(values[i * stride + offset]); out[2 * k + 1] = Double(values[i * stride + offset + 1]) }
            return out
        }
        var out = [series(kp.points, stride: 34, at: 2 * ankles[side])]
        if let feet = kp.feet {
            for point in [FootLandmark.heel, .toe] { out.append(series(feet, stride: 8, at: 2 * point.index(side: side))) }
        }
        return out
    }

    /// Speed (units per second) of an (n, channels) path: central differences, one-sided at the ends.
    static func centralSpeeds(_ x: [Double], channels: Int, rate: Double) -> [Double] {
        let n = x.count / channels
        guard n >= 2 else { return [Double](repeating: 0, count: n) }
        var speeds = [Double](repeating: 0, count: n)
        for t in 0..<n {
            let a = max(t - 1, 0), b = min(t + 1, n - 1)
            var d = 0.0
            for c in 0..<channels { let step = x[b * channels + c] - x[a * channels + c]; d += step * step }
            speeds[t] = d.squareRoot() * rate / Double(b - a)
        }
        return speeds
    }

    /// Closes runs of false up to `gap` long between two contacts, then drops contacts shorter than `minimum`.
    static func clean(_ flags: inout [Bool], gap: Int, minimum: Int) {
        for run in runsOfTrue(flags.map { !$0 }) where run.count <= gap && run.lowerBound > 0 && run.upperBound < flags.count {
            for i in run { flags[i] = true }
        }
        for run in runsOfTrue(flags) where run.count < minimum {
            for i in run { flags[i] = false }
        }
    }
}
