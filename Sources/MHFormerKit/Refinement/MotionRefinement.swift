// The motion stage: what turns per-frame 3D poses into motion an animator can use. MHFormer lifts
// each frame from its own window, so consecutive frames disagree (jitter), the root's path from one
// camera wobbles in depth, and nothing ties the feet to the ground. The tool is offline and sees the
// whole sequence, so every filter here is zero-phase (no lag):
//
//   root-relative joints ─ zero-phase low-pass (ZeroPhaseLowPass, cut-off `jointCutoffHz`) ─ rigid skeleton
//   root path ─ robust zero-phase low-pass (RootFilter.lowPass) ─ world frame (Y up, ground at 0)
//   world joints ─ FootContacts.detect (height, speed in 3D and in the image) ─ FootLocking.apply
//     (the root moved so that planted feet stay put and stand on the ground, leg IK for the rest,
//     blended in and out; no foot below the ground) ─ the job's coordinate frame
//
// PosePipeline runs it (PoseJob.post.refine); `--no-refine` leaves the output as it was before.

import Foundation

/// The motion stage's settings (PoseJob.post.refine; the command line's --no-refine and
/// --no-foot-lock map onto it).
public struct RefinementSettings: Sendable, Codable, Equatable {
    /// Off: the lifter's frames as they are (rigid skeleton and One Euro still apply when asked).
    public var enabled = true
    /// Cut-off of the zero-phase low-pass on the root-relative joints, Hz. Chosen on the motion
    /// benchmark (Scripts/bench/motion-quality.py): jitter near the truth's, accuracy kept.
    public var jointCutoffHz = 6.0
    /// Cut-offs of the robust low-pass on the root's path: across the image (x, y) and in depth.
    public var rootCutoffHz = 2.0
    public var rootDepthCutoffHz = 0.5
    /// Plant the feet that are in contact and keep every foot above the ground.
    public var footLock = true

    public init() {}

}

public enum MotionRefinement {
    /// The zero-phase low-pass of the root-relative joints, each run of frames with a person on its
    /// own; frames weigh by their 2D scores (an occluded or interpolated joint pulls less).
    public static func smoothJoints(_ pose: Pose3DSequence, scores: [Float]?, rate: Double, cutoffHz: Double) -> Pose3DSequence {
        var out = pose
        let lambda = ZeroPhaseLowPass.smoothness(cutoffHz: cutoffHz, rate: rate)
        for seg in runsOfTrue(pose.present) where seg.count >= 3 {
            for j in 0..<17 {
                // (n, 3) series of joint j, relative to the pelvis (joint 0 stays at the origin).
                let series = seg.flatMap { i in (0..<3).map { Double(pose.joints[i * 51 + 3 * j + $0]) } }
                let weights = scores.map { s in seg.map { i in Double(max(s[i * 17 + j], 0.05)) } }
                let smooth = ZeroPhaseLowPass.filter(series, channels: 3, weights: weights, lambda: lambda)
                for (k, i) in seg.enumerated() { for c in 0..<3 { out.joints[i * 51 + 3 * j + c] = Float(smooth[k * 3 + c]) } }
            }
        }
        return out
    }

    /// Contacts and foot locking on world-frame joints (N, 17, 3), Y up, metres, the ground at 0,
    /// of a rigid skeleton. `rootDepth` (N): the pelvis's distance from the camera (m) and
    /// `focalPx` its focal length, to turn the feet's speed in the image into metres per second.
    /// Returns the joints (locked when `settings.footLock`) and the contacts (N, 2: left, right).
    public static func plantFeet(world: [Double], present: [Bool], keypoints: Keypoints2D, rootDepth: [Double],
                                 focalPx: Double, rate: Double, settings: RefinementSettings) -> (joints: [Double], contacts: [Bool]) {
        let contacts = FootContacts.detect(world: world, present: present, keypoints: keypoints, rootDepth: rootDepth,
                                           focalPx: focalPx, rate: rate)
        guard settings.footLock else { return (world, contacts) }
        return (FootLocking.apply(world: world, present: present, contacts: contacts, rate: rate), contacts)
    }
}
