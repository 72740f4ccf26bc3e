// Putting the lifted, root-relative pose back into the scene:
//  1. the root's camera-frame translation per frame, from the 2D keypoints and the root-relative 3D
//     pose, by a least-squares perspective fit with a pinhole camera of assumed focal length;
//  2. a zero-lag temporal smoothing of that translation (the tool is offline);
//  3. a world frame whose ground plane comes from the feet: Y up, metres, ground at Y = 0.

import Foundation

/// Pinhole camera: square pixels, principal point at the image centre.
public struct PinholeCamera: Sendable, Equatable {
    public var focalPx: Double
    public var cx: Double
    public var cy: Double

    public init(focalPx: Double, cx: Double, cy: Double) { self.focalPx = focalPx; self.cx = cx; self.cy = cy }

    /// `fovDegrees` spans the image's longer side (60° is typical of phone and webcam video).
    public static func assumed(width: Int, height: Int, fovDegrees: Double = 60, focalPx: Double? = nil) -> PinholeCamera {
        let f = focalPx ?? Double(max(width, height)) / 2 / tan(fovDegrees * Double.pi / 360)
        return PinholeCamera(focalPx: f, cx: Double(width) / 2, cy: Double(height) / 2)
    }
}

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


/// The scene frame: origin on the ground under the first frame's pelvis, Y up (from the ground plane
/// the feet stand on), X the camera's x axis laid flat, Z = X × Y (towards the camera); metres.
public struct WorldFrame: Sendable {
    /// Rows: the world X, Y, Z axes expressed in camera coordinates.
    public let axes: [[Double]]
    /// The world origin in camera coordinates.
    public let origin: [Double]
    /// How the up direction was found: "feet" (a ground plane through the foot contacts), "feet+torso"
    /// (the feet moved along a line: up is perpendicular to it, tilted like the torso) or "torso" (the
    /// subject stayed in place: the mean pelvis→thorax direction).
    public let upSource: String

    /// Height of the ankle joint centres above the soles, metres: the ground lies this far below them.
    public static let ankleHeight = 0.08

    /// Ground and axes from absolute camera-frame joints (N, 17, 3), metres, frames where `present`.
    public static func estimate(cameraJoints p: [Double], present: [Bool]) -> WorldFrame {
        let frames = present.indices.filter { present[$0] }
        func joint(_ i: Int, _ j: Int) -> [Double] { [p[i * 51 + 3 * j], p[i * 51 + 3 * j + 1], p[i * 51 + 3 * j + 2]] }
        // Provisional up: against the camera's y (the camera is roughly upright).
        var up = [0.0, -1.0, 0.0]
        var source = "torso"
        for _ in 0..<2 {
            // The lower ankle of each frame is the foot on the ground.
            let contacts = frames.map { i -> [Double] in
                let r = joint(i, 3), l = joint(i, 6)
                return dot(r, up) < dot(l, up) ? r : l
            }
            let (normal, spread, line) = planeNormal(contacts)
            var torso = [0.0, 0.0, 0.0]
            for i in frames { torso = add(torso, sub(joint(i, 8), joint(i, 0))) }
            torso = normalised(torso)
            if spread > 0.4 * 0.4 {
                // The feet covered an area: the plane through them is well determined.
                up = dot(normal, up) < 0 ? normal.map { -$0 } : normal
                source = "feet"
            } else if dot(line.direction, line.direction) > 0 && line.extent > 0.5 * 0.5 {
                // The feet moved along a line: up is perpendicular to it; the torso fixes the tilt about it.
                up = normalised(sub(torso, line.direction.map { $0 * dot(torso, line.direction) }))
                source = "feet+torso"
            } else {
                // The subject stayed in place: the mean pelvis→thorax direction.
                up = torso
                source = "torso"
                break
            }
        }
        // Ground height: a low percentile of the lower ankle along up, minus the ankle height.
        var heights = frames.map { i in min(dot(joint(i, 3), up), dot(joint(i, 6), up)) }
        heights.sort()
        let ground = heights.isEmpty ? 0 : heights[Int(Double(heights.count - 1) * 0.05)] - ankleHeight
        let xAxis = normalised(sub([1, 0, 0], up.map { $0 * up[0] }))
        let zAxis = cross(xAxis, up)
        let pelvis0 = frames.first.map { joint($0, 0) } ?? [0, 0, 0]
        let origin = sub(pelvis0, up.map { $0 * (dot(pelvis0, up) - ground) })
        return WorldFrame(axes: [xAxis, up, zAxis], origin: origin, upSource: source)
    }

    /// Camera-frame points (…, 3) → world frame; `zUp` gives (x, -z, y): X right, Y away, Z up.
    public func transform(_ p: [Double], zUp: Bool = false) -> [Double] {
        var out = [Double](repeating: 0, count: p.count)
        for k in stride(from: 0, to: p.count, by: 3) {
            let d = [p[k] - origin[0], p[k + 1] - origin[1], p[k + 2] - origin[2]]
            let x = dot(axes[0], d), y = dot(axes[1], d), z = dot(axes[2], d)
            if zUp { out[k] = x; out[k + 1] = -z; out[k + 2] = y } else { out[k] = x; out[k + 1] = y; out[k + 2] = z }
        }
        return out
    }
}

