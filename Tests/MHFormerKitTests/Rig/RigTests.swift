// Rig presets (RigPreset, RigFit) and their files (BVH, GLB): the tables are what retargeting tools
// expect, the fitted rig reproduces the 17 joints exactly, and the files carry it.

import Foundation
import Testing
@testable import MHFormerKit

/// A .glb read back: the JSON document and each accessor's values as Doubles.
struct GLBFile {
    let document: [String: Any]
    let bin: Data

    init(_ data: Data) throws {
        func u32(_ at: Int) -> Int { Int(data.subdata(in: at..<(at + 4)).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) }
        try #require(data.count >= 28 && u32(0) == 0x4654_6C67 && u32(4) == 2 && u32(8) == data.count, "not a GLB 2 file")
        let jsonLength = u32(12)
        try #require(u32(16) == 0x4E4F_534A)
        document = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 20..<(20 + jsonLength))) as? [String: Any])
        let binStart = 20 + jsonLength
        try #require(u32(binStart + 4) == 0x004E_4942)
        bin = data.subdata(in: (binStart + 8)..<(binStart + 8 + u32(binStart)))
    }

    func list(_ key: String) -> [[String: Any]] { document[key] as? [[String: Any]] ?? [] }

    /// Accessor `index` as rows of numbers (float32 or uint16 components).
    func accessor(_ index: Int) -> [[Double]] {
        let a = list("accessors")[index]
        let view = list("bufferViews")[a["bufferView"] as! Int]
        let width = ["SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16][a["type"] as! String]!
        let count = a["count"] as! Int, offset = view["byteOffset"] as? Int ?? 0
        let isFloat = a["componentType"] as! Int == 5126
        return bin.withUnsafeBytes { raw in
            (0..<count).map { r in
                (0..<width).map { c in
                    let k = r * width + c
                    return isFloat ? Double(raw.loadUnaligned(fromByteOffset: offset + 4 * k, as: Float.self))
                                   : Double(raw.loadUnaligned(fromByteOffset: offset + 2 * k, as: UInt16.self))
                }
            }
        }
    }

    /// Joint names and, per frame, the world position of every joint node by forward kinematics of
    /// the rest translations and the animation's rotations and translation.
    func jointPositions() -> (names: [String], times: [Double], positions: [[[Double]]]) {
        let nodes = list("nodes")
        let joints = (list("skins")[0]["joints"] as! [Int])
        var parent = [Int](repeating: -1, count: nodes.count)
        for (i, n) in nodes.enumerated() { for c in n["children"] as? [Int] ?? [] { parent[c] = i } }
        let animation = list("animations")[0]
        let samplers = animation["samplers"] as! [[String: Any]]
        var rotation = [Int: [[Double]]](), translation = [Int: [[Double]]]()
        for channel in animation["channels"] as! [[String: Any]] {
            let target = channel["target"] as! [String: Any]
            let values = accessor(samplers[channel["sampler"] as! Int]["output"] as! Int)
            if target["path"] as! String == "rotation" { rotation[target["node"] as! Int] = values }
            else { translation[target["node"] as! Int] = values }
        }
        let times = accessor(samplers[0]["input"] as! Int).map { $0[0] }
        var positions = [[[Double]]]()
        for i in times.indices {
            var global = [Int: Mat3](), pos = [Int: [Double]]()
            for j in joints {        // parents first (the writer's order)
                let t = translation[j]?[i] ?? (nodes[j]["translation"] as? [Double] ?? [0, 0, 0])
                let r = rotation[j].map { Mat3(quaternion: $0[i]) } ?? .identity
                if parent[j] < 0 { pos[j] = t; global[j] = r }
                else { pos[j] = add(pos[parent[j]]!, global[parent[j]]!.apply(t)); global[j] = global[parent[j]]! * r }
            }
            positions.append(joints.map { pos[$0]! })
        }
        return (joints.map { nodes[$0]["name"] as! String }, times, positions)
    }
}

extension Mat3 {
    init(quaternion q: [Double]) {
        let (x, y, z, w) = (q[0], q[1], q[2], q[3])
        self.init(m: [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                      2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                      2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)])
    }
}

/// For each of the 17 joints, a preset joint at the same place (at the thorax the neck and the
/// clavicles all start there). Every preset has one but for the head top, which Unreal's and Rigify's
/// heads only point at.
func rigJoint(for h36mJoint: Int, in preset: RigPreset) -> Int {
    preset.joints.firstIndex { $0.head == .joint(h36mJoint) }!
}

/// The 17 joints a preset has a joint at.
func jointsInRig(_ preset: RigPreset) -> [Int] { (0..<17).filter { h in preset.joints.contains { $0.head == .joint(h) } } }

@Suite("Rig presets")
struct RigTests {
    @Test("the presets carry the names retargeting tools map (Mixamo, Unreal, Rigify), parents first")
    func tables() throws {
        let mixamo = ["Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
                      "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightShoulder", "RightArm", "RightForeArm", "RightHand",
                      "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase"].map { "mixamorig:" + $0 }
        let unreal = ["root", "pelvis", "spine_01", "spine_02", "spine_03", "neck_01", "head", "clavicle_l", "upperarm_l", "lowerarm_l",
                      "hand_l", "thigh_l", "calf_l", "foot_l", "ball_l", "clavicle_r", "upperarm_r", "lowerarm_r", "hand_r", "thigh_r", "calf_r", "foot_r", "ball_r"]
        let rigify = ["spine", "spine.001", "spine.002", "spine.003", "spine.004", "spine.005", "spine.006", "shoulder.L", "upper_arm.L",
                      "forearm.L", "hand.L", "thigh.L", "shin.L", "foot.L", "toe.L", "shoulder.R", "upper_arm.R", "forearm.R", "hand.R",
                      "thigh.R", "shin.R", "foot.R", "toe.R"]
        #expect(Set(mixamo).isSubset(of: RigPreset.mixamo.jointNames))
        #expect(Set(RigPreset.unreal.jointNames) == Set(unreal))
        #expect(Set(RigPreset.rigify.jointNames) == Set(rigify))
        #expect(RigPreset.h36m.jointNames == Skeleton.jointNames && RigPreset.h36m.parents == Skeleton.parents)
        func parent(_ p: RigPreset, _ name: String) -> String? { let i = p.parents[p.jointNames.firstIndex(of: name)!]; return i < 0 ? nil : p.jointNames[i] }
        #expect(parent(.mixamo, "mixamorig:LeftArm") == "mixamorig:LeftShoulder")
        #expect(parent(.mixamo, "mixamorig:LeftShoulder") == "mixamorig:Spine2")
        #expect(parent(.mixamo, "mixamorig:LeftUpLeg") == "mixamorig:Hips")
        #expect(parent(.unreal, "pelvis") == "root" && parent(.unreal, "thigh_r") == "pelvis" && parent(.unreal, "clavicle_l") == "spine_03")
        #expect(parent(.rigify, "thigh.L") == "spine" && parent(.rigify, "shoulder.R") == "spine.003")
        for preset in RigPreset.allCases {
            let joints = preset.joints
            #expect(Set(preset.jointNames).count == joints.count, "\(preset): names repeat")
            #expect(joints.filter { $0.parent < 0 }.count == 1, "\(preset): one root")
            for (j, joint) in joints.enumerated() {
                #expect(joint.parent < j, "\(preset) \(joint.name): parent after child")
                // The rig reproduces the joints only if each bone ends where its child starts: a child
                // of a bone that aims somewhere sits at that aim point.
                if joint.parent >= 0, let aim = joints[joint.parent].aim {
                    #expect(joint.head == aim, "\(preset) \(joint.name) does not sit at its parent's aim point")
                }
                #expect(abs(norm(joint.restAim) - 1) < 1e-12 || (preset == .h36m && [0, 8].contains(j)) || joint.rotation == .fixed,
                        "\(preset) \(joint.name): rest direction not a unit vector")
            }
        }
    }

    @Test("fitted to real motion capture, every preset reproduces the 17 joints (rigid fit) within 1e-6 m", arguments: RigPreset.allCases)
    func reproducesJoints(preset: RigPreset) throws {
        let (p, n) = try BVHTests.sampleMotion()
        let present = Array(repeating: true, count: n)
        let rigid = BVH.fit(positions: p, present: present).positions
        let fit = RigFit.fit(positions: p, present: present, preset: preset)
        #expect(fit.frames == n)
        var worst = 0.0
        #expect(jointsInRig(preset).count == (preset == .unreal || preset == .rigify ? 16 : 17))
        for h in jointsInRig(preset) {
            let r = rigJoint(for: h, in: preset)
            for i in 0..<n { for c in 0..<3 { worst = max(worst, abs(fit.positions[(i * fit.jointCount + r) * 3 + c] - rigid[i * 51 + 3 * h + c])) } }
        }
        #expect(worst < 1e-6, "\(preset): fitted rig vs rigid joints \(worst * 1000) mm")
        // Bones we do not estimate keep constant lengths (the rig is rigid): the foot, ankle → ball.
        if preset != .h36m {
            let foot = preset.joints.firstIndex { $0.head == .ball(left: true) }!, ankle = rigJoint(for: RigPreset.lAnkle, in: preset)
            let lengths = (0..<n).map { i in norm((0..<3).map { fit.positions[(i * fit.jointCount + foot) * 3 + $0] - fit.positions[(i * fit.jointCount + ankle) * 3 + $0] }) }
            #expect(lengths.max()! - lengths.min()! < 1e-9 && lengths[0] > 0.1 && lengths[0] < 0.2, "foot length \(lengths[0])")
        }
        // The rest pose stands on y = 0 in the preset's pose: Mixamo and Rigify T-pose (arms along ±X),
        // Unreal A-pose (arms 45° down), legs straight down.
        let rest = fit.restPositions
        #expect(abs(rest.map { $0[1] }.min()!) < 1e-12)
        let lElbow = rigJoint(for: RigPreset.lElbow, in: preset), lWrist = rigJoint(for: RigPreset.lWrist, in: preset)
        let forearm = normalised(sub(rest[lWrist], rest[lElbow]))
        let expected: [Double] = preset == .unreal ? RigPreset.aLeft : (preset == .h36m ? BVH.restDirection[RigPreset.lWrist] : [1, 0, 0])
        #expect(dot(forearm, expected) > 1 - 1e-12, "\(preset): rest forearm \(forearm)")
        let shin = normalised(sub(rest[rigJoint(for: RigPreset.rAnkle, in: preset)], rest[rigJoint(for: RigPreset.rKnee, in: preset)]))
        #expect(dot(shin, [0, -1, 0]) > 1 - 1e-12)
    }

    @Test("the spine's twist is spread along it: the chest follows the shoulders, the lowest spine joint the hips", arguments: [RigPreset.mixamo, .unreal, .rigify])
    func spineTwist(preset: RigPreset) throws {
        // A standing T-pose with the shoulders turned 40° about the vertical against the hips.
        var pose = [Double](repeating: 0, count: 51)
        func set(_ j: Int, _ v: [Double]) { for c in 0..<3 { pose[3 * j + c] = v[c] } }
        let turn = 40 * Double.pi / 180
        func turned(_ v: [Double]) -> [Double] { [v[0] * cos(turn) + v[2] * sin(turn), v[1], -v[0] * sin(turn) + v[2] * cos(turn)] }
        set(0, [0, 1, 0]); set(1, [-0.1, 1, 0]); set(2, [-0.1, 0.55, 0]); set(3, [-0.1, 0.1, 0])
        set(4, [0.1, 1, 0]); set(5, [0.1, 0.55, 0]); set(6, [0.1, 0.1, 0]); set(7, [0, 1.25, 0]); set(8, [0, 1.5, 0])
        set(9, add([0, 1.6, 0], turned([0, 0, 0.08]))); set(10, [0, 1.75, 0])
        for (j, x) in [(11, 0.18), (12, 0.45), (13, 0.7), (14, -0.18), (15, -0.45), (16, -0.7)] { set(j, add([0, 1.5, 0], turned([x, 0, 0]))) }
        let fit = RigFit.fit(positions: pose, present: [true], preset: preset)
        func yaw(_ name: String) -> Double {
            let m = fit.joints.indices.map { j in fit.locals[0][j] }
            var g = Mat3.identity
            var chain = [Int](), j = preset.jointNames.firstIndex(of: name)!
            while j >= 0 { chain.insert(j, at: 0); j = preset.parents[j] }
            for k in chain { g = g * m[k] }
            return atan2(g.m[2], g.m[0]) * 180 / Double.pi      // rotation of x about y, degrees
        }
        let names = preset.jointNames
        let lowest = names[preset.joints.firstIndex { $0.rotation == .spineTwist(0.25) }!]
        let chest = names[preset.joints.firstIndex { $0.rotation == .spineTwist(1) }!]
        let hips = names[preset.joints.firstIndex { if case .frame = $0.rotation { return true }; return false }!]
        #expect(abs(yaw(hips)) < 1e-9)
        #expect(abs(abs(yaw(chest)) - 40) < 1e-6, "chest \(yaw(chest))°")
        #expect(abs(abs(yaw(lowest)) - 10) < 1e-6, "lowest spine joint \(yaw(lowest))°")
    }

    @Test("GLB: forward kinematics of the file's nodes and animation gives the fitted rig (float32), at the given times", arguments: RigPreset.allCases)
    func glbRoundTrip(preset: RigPreset) throws {
        let (p, n) = try BVHTests.sampleMotion()
        let fit = RigFit.fit(positions: p, present: Array(repeating: true, count: n), preset: preset)
        let times = (0..<n).map { Double($0) * 0.02 }
        let file = try GLBFile(try GLB.encode(fit, times: times))
        let (names, readTimes, positions) = file.jointPositions()
        #expect(names == preset.jointNames)
        #expect(readTimes.count == n && zip(readTimes, times).allSatisfy { abs($0 - $1) < 1e-6 })
        var worst = 0.0
        for i in 0..<n { for j in 0..<fit.jointCount { for c in 0..<3 { worst = max(worst, abs(positions[i][j][c] - fit.positions[(i * fit.jointCount + j) * 3 + c])) } } }
        #expect(worst < 2e-6, "\(preset): GLB vs fit \(worst * 1000) mm")
        // The skin: one inverse bind matrix per joint, undoing the rest position; every vertex bound
        // to one existing joint with weight 1; POSITION's min/max those of the data.
        let skin = file.list("skins")[0]
        let inverseBind = file.accessor(skin["inverseBindMatrices"] as! Int)
        let rest = fit.restPositions
        #expect(inverseBind.count == fit.jointCount)
        for j in 0..<fit.jointCount { for c in 0..<3 { #expect(abs(inverseBind[j][12 + c] + rest[j][c]) < 1e-6) } }
        let primitive = (file.list("meshes")[0]["primitives"] as! [[String: Any]])[0]
        let attributes = primitive["attributes"] as! [String: Int]
        let vertices = file.accessor(attributes["POSITION"]!), jointsOf = file.accessor(attributes["JOINTS_0"]!)
        let weights = file.accessor(attributes["WEIGHTS_0"]!)
        #expect(vertices.count > 100 && jointsOf.count == vertices.count && weights.count == vertices.count)
        #expect(jointsOf.allSatisfy { Int($0[0]) < fit.jointCount } && weights.allSatisfy { $0 == [1, 0, 0, 0] })
        let positionAccessor = file.list("accessors")[attributes["POSITION"]!]
        // (as float32, the components' type: JSON writes the numbers with more digits than they hold)
        #expect((positionAccessor["min"] as! [Double]).map(Float.init) == (0..<3).map { c in Float(vertices.map { $0[c] }.min()!) })
        #expect((positionAccessor["max"] as! [Double]).map(Float.init) == (0..<3).map { c in Float(vertices.map { $0[c] }.max()!) })
        let indices = file.accessor(primitive["indices"] as! Int)
        #expect(indices.count % 3 == 0 && indices.allSatisfy { Int($0[0]) < vertices.count })
    }

    @Test("BVH with a rig preset: forward kinematics of the file gives the fitted rig", arguments: [RigPreset.mixamo, .unreal, .rigify])
    func bvhRoundTrip(preset: RigPreset) throws {
        let (p, n) = try BVHTests.sampleMotion()
        let fit = RigFit.fit(positions: p, present: Array(repeating: true, count: n), preset: preset)
        let (names, frameTime, fk) = try BVH.forwardKinematics(BVH.render(fit, fps: 50))
        #expect(abs(frameTime - 0.02) < 1e-9 && fk.count == n)
        // BVH lists joints depth first: compare by name.
        var worst = 0.0
        for (k, name) in names.enumerated() {
            let j = preset.jointNames.firstIndex(of: name)!
            for i in 0..<n { for c in 0..<3 { worst = max(worst, abs(fk[i][3 * k + c] - fit.positions[(i * fit.jointCount + j) * 3 + c])) } }
        }
        #expect(Set(names) == Set(preset.jointNames))
        #expect(worst < 2e-5, "\(preset): BVH vs fit \(worst * 1000) mm")
    }

    @Test("a motion that is not finite is refused with one line and no file, on every preset and both rig formats")
    func notFinite() throws {
        let (p, n) = try BVHTests.sampleMotion()
        var joints = p.map(Float.init)
        joints[51 * 3] = .nan          // frame 3's pelvis (the root position: nothing can stand in for it)
        let pose = Pose3DSequence(frames: Array(0..<n), times: (0..<n).map { Double($0) * 0.02 }, joints: joints,
                                  present: Array(repeating: true, count: n))
        let dir = ClipDir(); defer { dir.remove() }
        for preset in [RigPreset.mixamo, .unreal] { for format in [MotionFormat.glb, .bvh] {
            let path = dir.path("x.\(format.rawValue)")
            let description = MotionDescription(coordinates: "world", axes: "Y up", rootRelative: false, fps: 50)
            #expect(throws: MHFormerError.self) { try MotionWriter.write(pose, scores: nil, description: description, format: format, rig: preset, to: path) }
            #expect(!FileManager.default.fileExists(atPath: path))
        } }
    }

    @Test("animation times: the video's time stamps, else frame number / fps; never below 0")
    func animationTimes() {
        #expect(GLB.animationTimes([1.5, 1.52, 1.56], frames: [75, 76, 78], fps: 30) == [1.5, 1.52, 1.56])
        #expect(GLB.animationTimes([1.5, nil, 1.56], frames: [75, 76, 78], fps: 25) == [3, 3.04, 3.12])
        #expect(GLB.animationTimes([1.5, 1.5, 1.56], frames: [0, 1, 2], fps: 50) == [0, 0.02, 0.04])
        #expect(GLB.animationTimes([-0.08, -0.04, 0], frames: [0, 1, 2], fps: 25) == [0, 0.04, 0.08])
    }
}
