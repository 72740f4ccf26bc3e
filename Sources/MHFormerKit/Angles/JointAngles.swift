// Joint angles in degrees from the 17 Human3.6M joints (`--angles`): hips, knees, shoulders,
// elbows, pelvis and trunk, per frame. The conventions follow OpenSim's gait models and the ISB
// as far as 17 joints allow (docs/joint-angles.md's conventions table says where they differ):
//
//   segment frames (right-handed, like OpenSim's bodies): X anterior, Y superior, Z to the right
//     pelvis  Z: left hip → right hip; Y: pelvis → spine, made perpendicular to Z; X = Y × Z
//     trunk   Z: left shoulder → right shoulder; Y: spine → thorax, perpendicular to Z; X = Y × Z
//     ground  Y: up (the world frame's vertical); X: towards the camera, level; Z = X × Y (so a
//             person facing the camera has their pelvis frame equal to the ground frame)
//   pelvis vs ground:  rotation about Y, then obliquity about X, then tilt about Z (Baker 2001's
//                      order, which keeps tilt and obliquity independent of the heading)
//   trunk vs pelvis:   flexion about Z, then lateral bending about X, then rotation about Y
//                      (OpenSim's lumbar joint)
//   hip (thigh in the pelvis frame), shoulder (upper arm in the trunk frame): flexion about Z,
//     then abduction about X, from the segment's direction alone (no foot and no hand: no axial
//     rotation). Knee and elbow: the angle between the two bones (0 straight).
//
// The zero pose: standing upright facing the camera, the spine and thorax straight over the
// pelvis, legs straight down, arms hanging at the sides. No ankle angles: the 17 joints have no foot.

import Foundation

public enum JointAngles {
    /// The angles, in their column order (`<side>_<joint>_<motion>`, degrees).
    public static let names = [
        "pelvis_tilt", "pelvis_obliquity", "pelvis_rotation",
        "trunk_flexion", "trunk_lateral_bending", "trunk_rotation",
        "right_hip_flexion", "right_hip_abduction", "right_knee_flexion",
        "left_hip_flexion", "left_hip_abduction", "left_knee_flexion",
        "right_shoulder_flexion", "right_shoulder_abduction", "right_elbow_flexion",
        "left_shoulder_flexion", "left_shoulder_abduction", "left_elbow_flexion",
    ]

    /// The angles of every row of `pose`: root-relative camera-frame joints (x right, y down,
    /// z forward; what the lifter gives), with `up` the world's vertical in those camera coordinates
    /// (WorldFrame.axes[1], or the true camera rotation for ground truth). Rows without a person
    /// get NaN (their cells are written empty).
    public static func compute(_ pose: Pose3DSequence, up: SIMD3<Double>) -> JointAngleSequence {
        let ground = groundFrame(up: up)
        var degrees = [Double](repeating: .nan, count: pose.count * names.count)
        for i in 0..<pose.count where pose.present[i] {
            let joints = (0..<17).map { j in SIMD3<Double>(pose.joint(i, j)) }
            let row = angles(joints, ground: ground)
            degrees.replaceSubrange((i * names.count)..<((i + 1) * names.count), with: row)
        }
        return JointAngleSequence(frames: pose.frames, times: pose.times, present: pose.present, degrees: degrees)
    }

    /// The ground frame in camera coordinates: Y `up`; X level, towards the camera; Z = X × Y. It is
    /// WorldFrame's (X the camera's x laid level, Z = X × Y towards the camera) turned a quarter
    /// about the vertical, so that facing the camera is a pelvis rotation of 0.
    public static func groundFrame(up: SIMD3<Double>) -> SegmentFrame {
        let y = normalized(up)
        let worldX = normalized(SIMD3(1, 0, 0) - y * y.x)
        return SegmentFrame(x: cross(worldX, y), y: y, z: -worldX)
    }

    /// One pose's angles (in `names`' order, degrees): `joints` the 17 joints in any coordinates
    /// that `ground` is expressed in.
    public static func angles(_ joints: [SIMD3<Double>], ground: SegmentFrame) -> [Double] {
        func p(_ j: H36MJoint) -> SIMD3<Double> { joints[j.rawValue] }
        let pelvis = SegmentFrame(right: p(.rightHip) - p(.leftHip), up: p(.spine) - p(.pelvis))
        let trunk = SegmentFrame(right: p(.rightShoulder) - p(.leftShoulder), up: p(.thorax) - p(.spine))

        // Pelvis vs ground, R = Ry(rotation) Rx(obliquity) Rz(tilt).
        let rp = ground.rotation(to: pelvis)
        let pelvisObliquity = asinDegrees(-rp[1][2])
        let pelvisRotation = degrees(atan2(rp[0][2], rp[2][2]))
        let pelvisTilt = -degrees(atan2(rp[1][0], rp[1][1]))      // forward (anterior) tilt positive
        // Trunk vs pelvis, R = Rz(extension) Rx(bending) Ry(rotation).
        let rt = pelvis.rotation(to: trunk)
        let trunkFlexion = degrees(atan2(rt[0][1], rt[1][1]))     // = -extension: forward positive
        let trunkBending = asinDegrees(rt[2][1])
        let trunkRotation = degrees(atan2(-rt[2][0], rt[2][2]))

        let (rHipFlexion, rHipAbduction) = flexionAbduction(of: p(.rightKnee) - p(.rightHip), in: pelvis, right: true)
        let (lHipFlexion, lHipAbduction) = flexionAbduction(of: p(.leftKnee) - p(.leftHip), in: pelvis, right: false)
        let (rShoulderFlexion, rShoulderAbduction) = flexionAbduction(of: p(.rightElbow) - p(.rightShoulder), in: trunk, right: true)
        let (lShoulderFlexion, lShoulderAbduction) = flexionAbduction(of: p(.leftElbow) - p(.leftShoulder), in: trunk, right: false)
        return [
            pelvisTilt, pelvisObliquity, pelvisRotation,
            trunkFlexion, trunkBending, trunkRotation,
            rHipFlexion, rHipAbduction, bend(p(.rightHip), p(.rightKnee), p(.rightAnkle)),
            lHipFlexion, lHipAbduction, bend(p(.leftHip), p(.leftKnee), p(.leftAnkle)),
            rShoulderFlexion, rShoulderAbduction, bend(p(.rightShoulder), p(.rightElbow), p(.rightWrist)),
            lShoulderFlexion, lShoulderAbduction, bend(p(.leftShoulder), p(.leftElbow), p(.leftWrist)),
        ]
    }

    /// Flexion and abduction of a bone hanging from a joint (thigh from the hip, upper arm from the
    /// shoulder) in its parent's frame: the direction `bone` = Rz(flexion) Rx(-abduction) · (0, -1, 0)
    /// on the right side (mirrored on the left, so abduction is outwards on both), i.e.
    /// d = (cos a sin f, -cos a cos f, ±sin a). Flexion: forwards, -90 (straight back) to 270;
    /// abduction: sideways out, -90...90.
    static func flexionAbduction(of bone: SIMD3<Double>, in parent: SegmentFrame, right: Bool) -> (Double, Double) {
        let d = parent.local(normalized(bone))
        // Straight out sideways (abduction ±90) the flexion is undefined: called 0 there.
        var flexion = d.x * d.x + d.y * d.y < 1e-18 ? 0 : degrees(atan2(d.x, -d.y))
        // From -90 (straight back) to 270: an arm raised forwards past overhead goes on counting
        // (190) instead of jumping to -170.
        if flexion <= -90 { flexion += 360 }
        let abduction = asinDegrees(right ? d.z : -d.z)
        return (flexion, abduction)
    }

    /// The bend at `joint` between the bones from `parent` and to `child`: 0 when they are in line.
    static func bend(_ parent: SIMD3<Double>, _ joint: SIMD3<Double>, _ child: SIMD3<Double>) -> Double {
        let a = normalized(joint - parent), b = normalized(child - joint)
        // atan2 of |a × b| and a · b keeps full precision near 0 and 180 (acos does not).
        return degrees(atan2(length(cross(a, b)), dot(a, b)))
    }

    static func degrees(_ radians: Double) -> Double { radians * 180 / .pi }
    static func asinDegrees(_ s: Double) -> Double { degrees(asin(min(1, max(-1, s)))) }
}

/// A segment's orthonormal axes (X anterior, Y superior, Z right), each a unit vector in the
/// coordinates of the joints.
public struct SegmentFrame: Sendable {
    public var x: SIMD3<Double>
    public var y: SIMD3<Double>
    public var z: SIMD3<Double>

    public init(x: SIMD3<Double>, y: SIMD3<Double>, z: SIMD3<Double>) { self.x = x; self.y = y; self.z = z }

    /// Z along `right`, Y along `up` made perpendicular to it, X = Y × Z. Degenerate input (no
    /// width, `up` along `right`) gives NaN axes, which the writer refuses.
    init(right: SIMD3<Double>, up: SIMD3<Double>) {
        z = normalized(right)
        y = normalized(up - z * dot(up, z))
        x = cross(y, z)
    }

    /// `v` in this frame's axes.
    func local(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(dot(v, x), dot(v, y), dot(v, z)) }

    /// The rotation matrix R (rows: this frame's axes, columns: `other`'s) with R[i][j] the i-th
    /// component of `other`'s j-th axis in this frame: `other` = this · R.
    func rotation(to other: SegmentFrame) -> [[Double]] {
        let mine = [x, y, z], theirs = [other.x, other.y, other.z]
        return mine.map { a in theirs.map { b in dot(a, b) } }
    }
}

/// The angles of a sequence: one row per frame of the pose they come from.
public struct JointAngleSequence: Sendable {
    public var frames: [Int]
    public var times: [Double?]
    public var present: [Bool]
    /// (N, JointAngles.names.count) degrees; NaN on rows without a person.
    public var degrees: [Double]

    public var count: Int { frames.count }

    /// Angle `k` (JointAngles.names' order) of row `i`, degrees.
    public func value(_ i: Int, _ k: Int) -> Double { degrees[i * JointAngles.names.count + k] }

    /// The frame number of the first row with a person whose angles are not all finite, or nil.
    public var firstNonFiniteFrame: Int? {
        let n = JointAngles.names.count
        for i in present.indices where present[i] {
            if degrees[(i * n)..<((i + 1) * n)].contains(where: { !$0.isFinite }) { return frames[i] }
        }
        return nil
    }
}

private func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
private func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
private func length(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }
/// `a` scaled to length 1; NaN for a zero vector (caught before writing).
private func normalized(_ a: SIMD3<Double>) -> SIMD3<Double> { a / length(a) }
