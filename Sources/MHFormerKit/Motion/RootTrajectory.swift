// Putting the lifted, root-relative pose back into the scene:
//  1. the root's camera-frame translation per frame, from the 2D keypoints and the root-relative 3D
//     pose, by a least-squares perspective fit with a pinhole camera of assumed focal length;
//  2. a zero-lag temporal smoothing of that translation (the tool is offline);
//  3. a world frame whose ground plane comes from the feet: Y up, metres, ground at Y = 0.

import Foundation

public enum RootTrajectory {
    /// Camera-frame translation t (metres) of each frame such that pose + t projects onto the 2D
    /// keypoints: u = f·(X + tx)/(Z + tz) + cx, v = f·(Y + ty)/(Z + tz) + cy.
    /// points2D (N, 17, 2) px, pose3D (N, 17, 3) root-relative metres → (N, 3).
    public static func solve(points2D: [Float], pose3D: [Float], frames n: Int, camera: PinholeCamera,
                             jointWeights: [Float]? = nil) -> [Double] {
        var t = [Double](repeating: 0, count: n * 3)
        let f = camera.focalPx
        for i in 0..<n {
            // Linear start: f(X + tx) - (u - cx)(Z + tz) = 0, the same for y: three unknowns, 34 equations.
            var ata = [Double](repeating: 0, count: 9), atb = [Double](repeating: 0, count: 3)
            for j in 0..<17 {
                let w = Double(jointWeights?[i * 17 + j] ?? 1)
                let X = Double(pose3D[i * 51 + 3 * j]), Y = Double(pose3D[i * 51 + 3 * j + 1]), Z = Double(pose3D[i * 51 + 3 * j + 2])
                let du = Double(points2D[i * 34 + 2 * j]) - camera.cx, dv = Double(points2D[i * 34 + 2 * j + 1]) - camera.cy
                accumulate(&ata, &atb, row: [f, 0, -du], rhs: du * Z - f * X, weight: w)
                accumulate(&ata, &atb, row: [0, f, -dv], rhs: dv * Z - f * Y, weight: w)
            }
            var ti = solve3(ata, atb) ?? [0, 0, 5]
            // Gauss-Newton on the reprojection error itself (the linear form weighs far joints more).
            for _ in 0..<3 {
                var h = [Double](repeating: 0, count: 9), g = [Double](repeating: 0, count: 3)
                for j in 0..<17 {
                    let w = Double(jointWeights?[i * 17 + j] ?? 1)
                    let X = Double(pose3D[i * 51 + 3 * j]) + ti[0], Y = Double(pose3D[i * 51 + 3 * j + 1]) + ti[1]
                    let Z = max(Double(pose3D[i * 51 + 3 * j + 2]) + ti[2], 0.05)
                    let ru = f * X / Z + camera.cx - Double(points2D[i * 34 + 2 * j])
                    let rv = f * Y / Z + camera.cy - Double(points2D[i * 34 + 2 * j + 1])
                    accumulate(&h, &g, row: [f / Z, 0, -f * X / (Z * Z)], rhs: -ru, weight: w)
                    accumulate(&h, &g, row: [0, f / Z, -f * Y / (Z * Z)], rhs: -rv, weight: w)
                }
                guard let step = solve3(h, g) else { break }
                for k in 0..<3 { ti[k] += step[k] }
            }
            for k in 0..<3 { t[i * 3 + k] = ti[k] }
        }
        return t
    }

    /// Zero-lag smoothing of a (N, channels) series: a Gaussian of `sigmaSeconds` over the time stamps,
    /// renormalised at the ends.
    public static func smooth(_ x: [Double], channels: Int, times: [Double], sigmaSeconds: Double) -> [Double] {
        let n = times.count
        guard sigmaSeconds > 0, n > 2 else { return x }
        var out = x
        for i in 0..<n {
            var wsum = 0.0
            var acc = [Double](repeating: 0, count: channels)
            var k = i
            while k >= 0 && times[i] - times[k] <= 3 * sigmaSeconds { k -= 1 }
            k += 1
            while k < n && times[k] - times[i] <= 3 * sigmaSeconds {
                let d = (times[k] - times[i]) / sigmaSeconds
                let w = exp(-0.5 * d * d)
                wsum += w
                for c in 0..<channels { acc[c] += w * x[k * channels + c] }
                k += 1
            }
            for c in 0..<channels { out[i * channels + c] = acc[c] / wsum }
        }
        return out
    }

    private static func accumulate(_ ata: inout [Double], _ atb: inout [Double], row: [Double], rhs: Double, weight: Double) {
        for r in 0..<3 {
            atb[r] += weight * row[r] * rhs
            for c in 0..<3 { ata[r * 3 + c] += weight * row[r] * row[c] }
        }
    }
}
