// The `world` coordinate frame: the lifted pose put back where the person is. Root translation per
// frame from the 2D keypoints (perspective fit, assumed or given focal length), smoothed without lag,
// then expressed in a frame whose ground plane comes from the feet: metres, Y up (or Z up), the
// ground at 0, origin on the ground under the first frame's pelvis.

import Foundation

/// How the root's per-frame translation (RootTrajectory.solve) is smoothed over time.
public enum RootFilter: Sendable, Equatable {
    /// A Gaussian of σ seconds over the time stamps (the world frame without the motion stage).
    case gaussian(seconds: Double)
    /// The motion stage's: a robust zero-phase low-pass (ZeroPhaseLowPass.robustFilter) with cut-off
    /// `acrossHz` for the camera's x and y and `depthHz` for the depth, which one camera sees far
    /// less well (a wrong depth for a few frames is bridged, not followed).
    case lowPass(acrossHz: Double, depthHz: Double)
}

public struct WorldMotion: Sendable {
    /// (N, 17, 3) world-frame joints in metres (rows without a person are 0).
    public var joints: [Float]
    /// (N, 3) root (pelvis) translation in the camera frame, metres.
    public var rootInCamera: [Double]
    public var frame: WorldFrame

    /// `pose`: root-relative camera-frame joints of the rows of `kp` (what the lifter returns).
    /// `rootFilter`: how the root translation is smoothed over time.
    /// `scene`: a world frame shared with other people in the same video (sceneFrame); nil: this
    /// person's own, from their feet.
    public static func make(keypoints kp: Keypoints2D, cameraPose pose: Pose3DSequence, camera: PinholeCamera,
                            rootFilter: RootFilter = .gaussian(seconds: 0.1), zUp: Bool = false, fps: Double,
                            scene: WorldFrame? = nil) -> WorldMotion {
        let (absolute, root) = cameraJoints(keypoints: kp, cameraPose: pose, camera: camera, rootFilter: rootFilter, fps: fps)
        let frame = scene ?? WorldFrame.estimate(cameraJoints: absolute, present: kp.present)
        let world = frame.transform(absolute, zUp: zUp)
        var joints = [Float](repeating: 0, count: kp.count * 51)
        for i in 0..<kp.count where kp.present[i] { for k in 0..<51 { joints[i * 51 + k] = Float(world[i * 51 + k]) } }
        return WorldMotion(joints: joints, rootInCamera: root, frame: frame)
    }

    /// One world frame for several people of one video (the same camera): the ground from all their
    /// feet, the origin under the first person's first pelvis. Each is then placed with `make(scene:)`.
    public static func sceneFrame(people: [(keypoints: Keypoints2D, cameraPose: Pose3DSequence)], camera: PinholeCamera,
                                  rootFilter: RootFilter = .gaussian(seconds: 0.1), fps: Double) -> WorldFrame {
        var ground = WorldFrame.GroundJoints()
        for p in people { addGroundJoints(of: p.keypoints, cameraPose: p.cameraPose, to: &ground, camera: camera, rootFilter: rootFilter, fps: fps) }
        return WorldFrame.estimate(ground)
    }

    /// One person's share of a scene (sceneFrame): the joints the ground is found from, placed in
    /// the camera frame as `make` places them. People added one at a time, in the order sceneFrame
    /// takes them, give the same scene without holding everyone's poses at once.
    public static func addGroundJoints(of kp: Keypoints2D, cameraPose pose: Pose3DSequence, to ground: inout WorldFrame.GroundJoints,
                                       camera: PinholeCamera, rootFilter: RootFilter = .gaussian(seconds: 0.1), fps: Double) {
        ground.append(cameraJoints: cameraJoints(keypoints: kp, cameraPose: pose, camera: camera, rootFilter: rootFilter, fps: fps).absolute,
                      present: kp.present)
    }

    /// (N, 17, 3) camera-frame joints with the root's fitted translation, and that translation (N, 3).
    static func cameraJoints(keypoints kp: Keypoints2D, cameraPose pose: Pose3DSequence, camera: PinholeCamera,
                             rootFilter: RootFilter, fps: Double) -> (absolute: [Double], root: [Double]) {
        let n = kp.count
        var root = [Double](repeating: 0, count: n * 3)
        let times = (0..<n).map { kp.times[$0] ?? Double(kp.frames[$0]) / fps }
        for seg in kp.segments {
            let pts = Array(kp.rows(seg))
            let p3 = Array(pose.rows(seg))
            var t = RootTrajectory.solve(points2D: pts, pose3D: p3, frames: seg.count, camera: camera,
                                         jointWeights: kp.scores.map { s in Array(s[(seg.lowerBound * 17)..<(seg.upperBound * 17)]).map { max($0, 0.05) } })
            switch rootFilter {
            case .gaussian(let seconds):
                t = RootTrajectory.smooth(t, channels: 3, times: Array(times[seg]), sigmaSeconds: seconds)
            case .lowPass(let acrossHz, let depthHz):
                // x and y together, z on its own: (n, 3) → (n, 2) and (n, 1) series and back.
                let n = seg.count
                var xy = [Double](repeating: 0, count: 2 * n), z = [Double](repeating: 0, count: n)
                for i in 0..<n { xy[2 * i] = t[3 * i]; xy[2 * i + 1] = t[3 * i + 1]; z[i] = t[3 * i + 2] }
                let across = ZeroPhaseLowPass.robustFilter(xy, channels: 2, lambda: ZeroPhaseLowPass.smoothness(cutoffHz: acrossHz, rate: fps))
                let depth = ZeroPhaseLowPass.robustFilter(z, channels: 1, lambda: ZeroPhaseLowPass.smoothness(cutoffHz: depthHz, rate: fps))
                for i in 0..<n { t[i * 3] = across[2 * i]; t[i * 3 + 1] = across[2 * i + 1]; t[i * 3 + 2] = depth[i] }
            }
            root.replaceSubrange((seg.lowerBound * 3)..<(seg.upperBound * 3), with: t)
        }
        // Absolute camera-frame joints.
        var absolute = [Double](repeating: 0, count: n * 51)
        for i in 0..<n where kp.present[i] {
            for j in 0..<17 { for c in 0..<3 { absolute[i * 51 + 3 * j + c] = Double(pose.joints[i * 51 + 3 * j + c]) + root[i * 3 + c] } }
        }
        return (absolute, root)
    }
}
