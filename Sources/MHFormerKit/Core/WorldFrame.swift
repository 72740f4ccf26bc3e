// The shared geometry of the scene: the camera the world frame assumes (PinholeCamera) and the
// world frame itself (WorldFrame: Y up, metres, the ground at 0), from the Motion stage's root
// trajectory and used by the stages after it (Refinement) and the outputs.

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

    /// The only joints the estimate looks at, per frame with a person: 12 numbers a frame, the
    /// pelvis, right ankle, left ankle and thorax (camera frame, metres). A scene of many people
    /// collects these as each person is finished instead of everyone's whole poses.
    public struct GroundJoints: Sendable {
        public private(set) var values: [Double] = []
        /// The joints (H36M-17) kept, in the order of `values`.
        static let joints = [0, 3, 6, 8]
        public var frames: Int { values.count / 12 }

        public init() {}
        /// Appends the frames where `present` of absolute camera-frame joints (N, 17, 3).
        public mutating func append(cameraJoints p: [Double], present: [Bool]) {
            for i in present.indices where present[i] {
                for j in GroundJoints.joints { values += [p[i * 51 + 3 * j], p[i * 51 + 3 * j + 1], p[i * 51 + 3 * j + 2]] }
            }
        }
    }

    /// Ground and axes from absolute camera-frame joints (N, 17, 3), metres, frames where `present`.
    public static func estimate(cameraJoints p: [Double], present: [Bool]) -> WorldFrame {
        var ground = GroundJoints()
        ground.append(cameraJoints: p, present: present)
        return estimate(ground)
    }

    /// Ground and axes from the joints that decide them (the same numbers as from the whole poses).
    public static func estimate(_ ground: GroundJoints) -> WorldFrame {
        let p = ground.values
        let frames = Array(0..<ground.frames)
        // Joint j (H36M-17: 0 pelvis, 3 right ankle, 6 left ankle, 8 thorax) of frame i.
        func joint(_ i: Int, _ j: Int) -> [Double] {
            let k = i * 12 + 3 * GroundJoints.joints.firstIndex(of: j)!
            return [p[k], p[k + 1], p[k + 2]]
        }
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

    /// World-frame points (…, 3), Y up → camera frame: the inverse of `transform(_:zUp: false)`.
    public func cameraPoints(_ p: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: p.count)
        for k in stride(from: 0, to: p.count, by: 3) {
            for c in 0..<3 { out[k + c] = origin[c] + axes[0][c] * p[k] + axes[1][c] * p[k + 1] + axes[2][c] * p[k + 2] }
        }
        return out
    }

    /// World-frame points (…, 3), Y up → the same with Z up: (x, -z, y), X right, Y away, Z up.
    public static func zUp(_ p: [Double]) -> [Double] {
        var out = p
        for k in stride(from: 0, to: p.count, by: 3) { out[k + 1] = -p[k + 2]; out[k + 2] = p[k + 1] }
        return out
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

