// Rig presets: the skeleton a BVH, GLB or FBX export carries, with the bone names and parent chain
// of the software it is meant for, so that retargeting by name works without manual mapping.
//
//   h36m    the 17 Human3.6M joints with our own names (today's BVH, byte for byte)
//   mixamo  Adobe Mixamo's `mixamorig:` skeleton (Hips, Spine, Spine1, Spine2, Neck, Head, LeftShoulder,
//           LeftArm, LeftForeArm, LeftHand, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, ...), T-pose
//   unreal  Unreal Engine's mannequin (root, pelvis, spine_01..03, neck_01, head, clavicle_l,
//           upperarm_l, lowerarm_l, hand_l, thigh_l, calf_l, foot_l, ball_l, ...), A-pose
//   rigify  Blender Rigify's human metarig (spine = hips, spine.001..006, shoulder.L, upper_arm.L,
//           forearm.L, hand.L, thigh.L, shin.L, foot.L, toe.L, ...), T-pose
//
// Every rig joint sits at a point computed from the 17 joints of a frame (RigPoint). Bones the lifter
// does not estimate are placed so that every bone stays inside one rigid part of the fitted 17-joint
// skeleton (constant length, so the exported rig reproduces the joints exactly):
//   - extra spine joints: on the pelvis→spine and spine→thorax segments (the spine is interpolated);
//   - clavicles: from the thorax (the base of the neck) to each shoulder;
//   - the foot (ankle → ball → toe tip): a fixed-length foot at right angles to the shin, turned
//     25° down, pointing where the pelvis faces. The 17 joints have no foot and BlazePose's 2D foot
//     landmarks have no depth, so the toes are placed, not measured.
// Rest pose axes: Y up, metres, the person facing +Z with their left along +X (glTF's and Mixamo's
// convention; Blender's importers turn it Z up).

import Foundation

public enum RigPreset: String, CaseIterable, Codable, Sendable {
    case h36m, mixamo, unreal, rigify

    /// The preset's joints, parents before children.
    var joints: [RigJoint] {
        switch self {
        case .h36m: return RigPreset.h36mJoints
        case .mixamo: return RigPreset.mixamoJoints
        case .unreal: return RigPreset.unrealJoints
        case .rigify: return RigPreset.rigifyJoints
        }
    }

    /// The joint names in export order.
    public var jointNames: [String] { joints.map(\.name) }
    /// Each joint's parent index (-1: the root).
    public var parents: [Int] { joints.map(\.parent) }
}

/// Where a rig joint is in a frame, from the 17 Human3.6M joints (Skeleton.jointNames).
enum RigPoint: Equatable {
    /// At joint j.
    case joint(Int)
    /// On the segment from joint a to joint b, at fraction t.
    case between(Int, Int, Double)
    /// The ball of the foot (left or right): RigFit.footPoints.
    case ball(left: Bool)
    /// The tip of the toes, beyond the ball along the foot.
    case toeTip(left: Bool)
    /// The world origin (a static root, as Unreal's `root`).
    case origin
}

/// How a rig joint's rotation is found in each frame.
enum RigRotation: Equatable {
    /// The smallest rotation that turns the parent's frame so the bone points at its aim (BVH's rule).
    case swing
    /// A branching joint (the pelvis; H36M's thorax): x towards `left` from `right`, y towards `up`.
    case frame(left: Int, right: Int, up: Int)
    /// A spine joint: pointing at its aim, turned about the bone so its x follows the body's left,
    /// blended from the hips' left (0) to the shoulders' left (1): the spine's twist is spread along it.
    case spineTwist(Double)
    /// Never rotates (a static root).
    case fixed
}

struct RigJoint {
    let name: String
    /// Index of the parent in the preset (-1: the root).
    let parent: Int
    /// Where the joint is.
    let head: RigPoint
    /// The point the bone points at (its child's joint, or an end point); nil: it keeps its parent's
    /// rotation (hands, toe tips) or has a frame of its own (`.frame`).
    let aim: RigPoint?
    /// Direction from the joint to `aim` in the rest pose (unit, Y up, facing +Z).
    let restAim: [Double]
    let rotation: RigRotation
    /// Radius of the mannequin's capsule around this bone (0: none).
    let radius: Double
}

extension RigPreset {
    /// Direction helpers in the rest frame (Y up, facing +Z, left along +X).
    static let up: [Double] = [0, 1, 0], down: [Double] = [0, -1, 0]
    static let left: [Double] = [1, 0, 0], right: [Double] = [-1, 0, 0]
    /// The foot, ankle to ball: forward and 25° down (the angle RigFit.footPoints uses).
    static let footAngle = 25.0 * Double.pi / 180
    static let foot: [Double] = [0, -sin(footAngle), cos(footAngle)]
    /// Unreal's mannequin rests in an A-pose: arms 45° down.
    static let aLeft: [Double] = [sqrt(0.5), -sqrt(0.5), 0], aRight: [Double] = [-sqrt(0.5), -sqrt(0.5), 0]

    /// Builds a joint table by names, so each preset reads as its hierarchy.
    struct Table {
        var joints = [RigJoint]()
        mutating func add(_ name: String, parent: String?, at head: RigPoint, aim: RigPoint?, rest: [Double],
                          _ rotation: RigRotation = .swing, radius: Double) {
            let p = parent.map { name in joints.firstIndex { $0.name == name }! } ?? -1
            joints.append(RigJoint(name: name, parent: p, head: head, aim: aim, restAim: rest, rotation: rotation, radius: radius))
        }
    }

    // H36M joint indices, for the tables below.
    static let pelvis = 0, rHip = 1, rKnee = 2, rAnkle = 3, lHip = 4, lKnee = 5, lAnkle = 6, spine = 7, thorax = 8,
               nose = 9, headTop = 10, lShoulder = 11, lElbow = 12, lWrist = 13, rShoulder = 14, rElbow = 15, rWrist = 16
    static let hipsFrame = RigRotation.frame(left: lHip, right: rHip, up: spine)

    /// The 17 joints as BVH.fit fits them (same names, parents, rest directions and rules).
    static let h36mJoints: [RigJoint] = {
        (0..<17).map { j in
            let kids = BVH.children[j]
            let rotation: RigRotation = j == pelvis ? hipsFrame : (j == thorax ? .frame(left: lShoulder, right: rShoulder, up: nose) : .swing)
            let aim: RigPoint? = kids.count == 1 ? .joint(kids[0]) : nil
            // Leaves point on (the feet forward, as BVH's end sites): the mannequin's stubs.
            let rest = kids.count == 1 ? BVH.restDirection[kids[0]] : (kids.isEmpty ? (j == lAnkle || j == rAnkle ? [0, 0, 1] : BVH.restDirection[j]) : [0, 0, 0])
            let radius = [0.10, 0.065, 0.05, 0.035, 0.065, 0.05, 0.035, 0.10, 0.06, 0.045, 0.09, 0.045, 0.04, 0.035, 0.045, 0.04, 0.035][j]
            return RigJoint(name: Skeleton.jointNames[j], parent: Skeleton.parents[j], head: .joint(j), aim: aim,
                            restAim: rest, rotation: rotation, radius: radius)
        }
    }()

    /// The hips and the three spine joints above them, shared by the presets: the hips' frame, then
    /// joints halfway along pelvis→spine, at the spine, halfway along spine→thorax, the twist spread
    /// along them. `names`: hips, lowest spine joint, middle, chest.
    static func addTorso(_ t: inout Table, names n: [String], hipsParent: String?) {
        t.add(n[0], parent: hipsParent, at: .joint(pelvis), aim: nil, rest: up, hipsFrame, radius: 0.10)
        t.add(n[1], parent: n[0], at: .between(pelvis, spine, 0.5), aim: .joint(spine), rest: up, .spineTwist(0.25), radius: 0.10)
        t.add(n[2], parent: n[1], at: .joint(spine), aim: .between(spine, thorax, 0.5), rest: up, .spineTwist(0.5), radius: 0.10)
        t.add(n[3], parent: n[2], at: .between(spine, thorax, 0.5), aim: .joint(thorax), rest: up, .spineTwist(1), radius: 0.11)
    }

    /// The limbs of one side, shared by the presets: (names of clavicle, upper arm, forearm, hand,
    /// thigh, shin, foot, ball, toe tip or nil), the arms' rest directions.
    static func addLimbs(_ t: inout Table, leftSide: Bool, names n: [String?], chest: String, hips: String, armRest: [Double]) {
        let (shoulder, elbow, wrist) = leftSide ? (lShoulder, lElbow, lWrist) : (rShoulder, rElbow, rWrist)
        let (hip, knee, ankle) = leftSide ? (lHip, lKnee, lAnkle) : (rHip, rKnee, rAnkle)
        let side = leftSide ? left : right
        t.add(n[0]!, parent: chest, at: .joint(thorax), aim: .joint(shoulder), rest: side, radius: 0.045)
        t.add(n[1]!, parent: n[0], at: .joint(shoulder), aim: .joint(elbow), rest: armRest, radius: 0.045)
        t.add(n[2]!, parent: n[1], at: .joint(elbow), aim: .joint(wrist), rest: armRest, radius: 0.04)
        t.add(n[3]!, parent: n[2], at: .joint(wrist), aim: nil, rest: armRest, radius: 0.035)
        t.add(n[4]!, parent: hips, at: .joint(hip), aim: .joint(knee), rest: down, radius: 0.065)
        t.add(n[5]!, parent: n[4], at: .joint(knee), aim: .joint(ankle), rest: down, radius: 0.05)
        t.add(n[6]!, parent: n[5], at: .joint(ankle), aim: .ball(left: leftSide), rest: foot, radius: 0.035)
        t.add(n[7]!, parent: n[6], at: .ball(left: leftSide), aim: .toeTip(left: leftSide), rest: foot, radius: 0.03)
        if let tip = n[8] { t.add(tip, parent: n[7], at: .toeTip(left: leftSide), aim: nil, rest: foot, radius: 0) }
    }

    /// Mixamo: `mixamorig:` names, T-pose.
    static let mixamoJoints: [RigJoint] = {
        var t = Table()
        let m = { (name: String) in "mixamorig:" + name }
        addTorso(&t, names: ["Hips", "Spine", "Spine1", "Spine2"].map(m), hipsParent: nil)
        t.add(m("Neck"), parent: m("Spine2"), at: .joint(thorax), aim: .joint(nose), rest: up, radius: 0.045)
        t.add(m("Head"), parent: m("Neck"), at: .joint(nose), aim: .joint(headTop), rest: up, radius: 0.09)
        t.add(m("HeadTop_End"), parent: m("Head"), at: .joint(headTop), aim: nil, rest: up, radius: 0)
        for leftSide in [true, false] {
            let s = leftSide ? "Left" : "Right"
            addLimbs(&t, leftSide: leftSide,
                     names: ["Shoulder", "Arm", "ForeArm", "Hand", "UpLeg", "Leg", "Foot", "ToeBase", "Toe_End"].map { m(s + $0) },
                     chest: m("Spine2"), hips: m("Hips"), armRest: leftSide ? left : right)
        }
        return t.joints
    }()

    /// Unreal Engine's mannequin (UE4 names): a static `root` on the ground at the origin, the pelvis
    /// carries the motion; A-pose.
    static let unrealJoints: [RigJoint] = {
        var t = Table()
        t.add("root", parent: nil, at: .origin, aim: nil, rest: up, .fixed, radius: 0)
        addTorso(&t, names: ["pelvis", "spine_01", "spine_02", "spine_03"], hipsParent: "root")
        t.add("neck_01", parent: "spine_03", at: .joint(thorax), aim: .joint(nose), rest: up, radius: 0.045)
        t.add("head", parent: "neck_01", at: .joint(nose), aim: .joint(headTop), rest: up, radius: 0.09)
        for leftSide in [true, false] {
            let s = leftSide ? "_l" : "_r"
            addLimbs(&t, leftSide: leftSide,
                     names: ["clavicle", "upperarm", "lowerarm", "hand", "thigh", "calf", "foot", "ball"].map { $0 + s } + [nil],
                     chest: "spine_03", hips: "pelvis", armRest: leftSide ? aLeft : aRight)
        }
        return t.joints
    }()

    /// Blender Rigify's human metarig: `spine` is the hips bone, spine.004-.006 the neck and head; T-pose.
    static let rigifyJoints: [RigJoint] = {
        var t = Table()
        addTorso(&t, names: ["spine", "spine.001", "spine.002", "spine.003"], hipsParent: nil)
        t.add("spine.004", parent: "spine.003", at: .joint(thorax), aim: .between(thorax, nose, 0.5), rest: up, radius: 0.045)
        t.add("spine.005", parent: "spine.004", at: .between(thorax, nose, 0.5), aim: .joint(nose), rest: up, radius: 0.045)
        t.add("spine.006", parent: "spine.005", at: .joint(nose), aim: .joint(headTop), rest: up, radius: 0.09)
        for leftSide in [true, false] {
            let s = leftSide ? ".L" : ".R"
            addLimbs(&t, leftSide: leftSide,
                     names: ["shoulder", "upper_arm", "forearm", "hand", "thigh", "shin", "foot", "toe"].map { $0 + s } + [nil],
                     chest: "spine.003", hips: "spine", armRest: leftSide ? left : right)
        }
        return t.joints
    }()
}
