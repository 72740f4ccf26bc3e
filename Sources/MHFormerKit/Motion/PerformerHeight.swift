// The performer's standing height and the skeleton's metric scale (`--height METRES`).
//
// A body's size cannot be seen in 2D: a small person near the camera and a tall one further away give
// the same picture, so the lifter's bone lengths are its guess of an average body. Given the real
// standing height, the skeleton is scaled (about the pelvis, the same factor on every frame) so that
// its own standing height equals it; the world frame's root depth follows, since the root's distance is
// fitted to make the scaled skeleton project onto the 2D keypoints (RootTrajectory).
//
// The standing height of the Human3.6M-17 skeleton, in metres:
//
//     legs  = (ankle→knee + knee→hip), the mean of both legs
//     trunk = pelvis→spine + spine→thorax + thorax→neck/nose + neck/nose→head top
//     height = legs + trunk + 0.10
//
// The bones' lengths are medians over the frames with a person (the rigid skeleton's are constant).
// The 0.10 m allowance is the ankle joint's height above the floor (about 4 % of the height, 0.07 m)
// plus the crown above the head-top joint (the training data's head top is 0.15 m above the skull base,
// about 0.03 m under the crown). Measured on the training mocap, the sum of the bones is 0.04 m (median)
// longer than the same skeletons' upright head-top-to-ankle extent (the spine and neck are curved),
// which the allowance absorbs as far as such a rule can; Training/evaluate_video.py uses this same
// rule on the truth to make its "true height".

import Foundation

public enum PerformerHeight {
    /// Metres added to the bones' sum: the ankle above the floor and the crown above the head-top joint.
    public static let allowance = 0.10
    /// Heights accepted by `--height` (metres): a small child to the tallest people measured.
    public static let accepted: ClosedRange<Double> = 0.5...2.6

    /// Joint pairs (Human3.6M-17 indices) whose lengths sum to the standing height less the allowance:
    /// each leg's shin and thigh (counted half: the mean of both legs), then the trunk and head.
    static let legBones = [(3, 2), (2, 1), (6, 5), (5, 4)]
    static let trunkBones = [(0, 7), (7, 8), (8, 9), (9, 10)]

    /// The standing height (metres) of the skeleton in `pose` by the rule above; nil when no frame has a person.
    public static func height(of pose: Pose3DSequence) -> Double? {
        func length(_ i: Int, _ a: Int, _ b: Int) -> Double {
            let d = pose.joint(i, a) - pose.joint(i, b)
            return Double((d * d).sum().squareRoot())
        }
        let rows = pose.present.indices.filter { pose.present[$0] }
        guard !rows.isEmpty else { return nil }
        func medianLength(_ bone: (Int, Int)) -> Double { median(rows.map { length($0, bone.0, bone.1) }) }
        let legs = legBones.map(medianLength).reduce(0, +) / 2
        let trunk = trunkBones.map(medianLength).reduce(0, +)
        return legs + trunk + allowance
    }

    /// `pose` (root-relative, metres) scaled about the pelvis so that `height(of:)` gives `metres`.
    /// Unchanged when it has no person.
    public static func scaled(_ pose: Pose3DSequence, toHeight metres: Double) -> Pose3DSequence {
        guard let current = height(of: pose), current > allowance else { return pose }
        let factor = Float((metres - allowance) / (current - allowance))
        var out = pose
        for i in 0..<pose.count where pose.present[i] {
            let root = pose.joint(i, 0)
            for j in 0..<17 {
                let p = root + (pose.joint(i, j) - root) * factor
                for c in 0..<3 { out.joints[i * 51 + 3 * j + c] = p[c] }
            }
        }
        return out
    }
}
