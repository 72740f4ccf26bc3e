// The Human3.6M-17 skeleton that MHFormer reads and writes: joint names (the CSV column prefixes),
// kinematic parents and the left/right mirror map.

import Foundation

public enum Skeleton {
    /// Human3.6M-17 joint names in model order (the CSV column prefixes).
    public static let jointNames = [
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
        "right_shoulder", "right_elbow", "right_wrist",
    ]
    /// Kinematic parents (the shoulders hang off the thorax, as the demo draws them).
    public static let parents = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
    public static let leftJoints = [4, 5, 6, 11, 12, 13]
    public static let rightJoints = [1, 2, 3, 14, 15, 16]
    /// mirror[j]: the joint that j becomes under a left/right flip.
    public static let mirror: [Int] = {
        var m = Array(0..<17)
        for (l, r) in zip(leftJoints, rightJoints) { m[l] = r; m[r] = l }
        return m
    }()
}

/// The Human3.6M-17 joints by name, in model order (`rawValue` is the joint's index).
public enum H36MJoint: Int, CaseIterable, Sendable {
    case pelvis, rightHip, rightKnee, rightAnkle, leftHip, leftKnee, leftAnkle,
         spine, thorax, nose, head, leftShoulder, leftElbow, leftWrist,
         rightShoulder, rightElbow, rightWrist

    /// The CSV column prefix ("left_wrist").
    public var name: String { Skeleton.jointNames[rawValue] }
}

extension Pose3DSequence {
    /// `joint` of row `i`, metres.
    public func joint(_ i: Int, _ joint: H36MJoint) -> SIMD3<Float> { self.joint(i, joint.rawValue) }
}
