// Fitting a rig preset to a motion: the preset's joints placed from the 17 joints of each frame, rest
// offsets (the person's bone lengths in the preset's rest pose), and per frame each joint's rotation
// relative to its parent plus the hips' position — what BVH, glTF and FBX animations carry.
//
// The 17 joints are first refitted to a rigid skeleton (BVH.fit: constant bone lengths), and every
// preset bone lies inside one rigid part of it (RigPreset), so the rig reproduces the fitted joints
// exactly: forward kinematics of the offsets and rotations gives back `positions`.
//
// Shapes: N frames, J joints of the preset. positions (N, J, 3); locals N × J rotations.

import Foundation

public struct RigFit {
    public let preset: RigPreset
    let joints: [RigJoint]
    /// Each joint's offset from its parent in the parent's rest frame (J × 3); the root's: its rest
    /// position (standing on y = 0).
    public let offsets: [[Double]]
    /// The joint whose translation is animated: the hips (Unreal: the pelvis under the static root).
    public let motionRoot: Int
    /// Per frame, per joint: rotation relative to the parent in the rest pose's axes.
    let locals: [[Mat3]]
    /// Per frame: the motion root's position (its parent, when it has one, stays at the origin).
    public let rootPositions: [[Double]]
    /// Each joint's distance to its aim point (0 without one): the bone's length in a picture or mesh.
    public let aimLengths: [Double]
    /// (N, J, 3) the joints' positions the rig reproduces.
    public let positions: [Double]
    public var frames: Int { locals.count }
    public var jointCount: Int { joints.count }

    /// Joint j's rotation in frame i relative to its parent, as a unit quaternion (x, y, z, w).
    public func localQuaternion(_ i: Int, _ j: Int) -> [Double] { locals[i][j].quaternion }

    /// Joint j's rotation in frame i relative to its parent as BVH's Z-X-Y Euler angles in degrees.
    func localEulerZXY(_ i: Int, _ j: Int) -> [Double] { locals[i][j].eulerZXYDegrees }

    /// Whether every number the files carry is finite.
    public var isFinite: Bool {
        positions.allSatisfy(\.isFinite) && offsets.joined().allSatisfy(\.isFinite) && rootPositions.joined().allSatisfy(\.isFinite)
            && locals.allSatisfy { $0.allSatisfy { $0.m.allSatisfy(\.isFinite) } }
    }

    /// The rest pose's joint positions (J × 3): offsets chained from the root.
    public var restPositions: [[Double]] {
        var rest = [[Double]]()
        for (j, joint) in joints.enumerated() {
            rest.append(joint.parent < 0 ? offsets[j] : add(rest[joint.parent], offsets[j]))
        }
        return rest
    }
}

extension RigFit {
    /// Ankle → ball and ball → toe tip, as fractions of the shin's length (knee → ankle): a foot of
    /// average proportions (shin 0.40 m: 0.14 m and 0.06 m).
    static let ballFraction = 0.36, toeTipFraction = 0.14

    /// Fits `preset` to (N, 17, 3) positions, Y up, metres. Frames without a person repeat the nearest
    /// frame with one; `scores` (N, 17) pick the frames bone lengths come from (BVH.fit).
    public static func fit(positions: [Double], present: [Bool], scores: [Float]? = nil, preset: RigPreset) -> RigFit {
        let rigid = BVH.fit(positions: positions, present: present, scores: scores).positions
        let n = present.count
        let joints = preset.joints
        let used = present.indices.filter { present[$0] }
        let lengthFrames = used.isEmpty ? Array(0..<n) : used
        func p17(_ i: Int, _ j: Int) -> [Double] { Array(rigid[(i * 51 + 3 * j)..<(i * 51 + 3 * j + 3)]) }

        // The foot's size from the shins (the same for both feet).
        let shin = lengthFrames.isEmpty ? 0.4 : median(lengthFrames.flatMap { i in
            [norm(sub(p17(i, RigPreset.lAnkle), p17(i, RigPreset.lKnee))), norm(sub(p17(i, RigPreset.rAnkle), p17(i, RigPreset.rKnee)))]
        })

        // Every frame's points: heads and aims of all joints.
        var hipsFrames = [Mat3]()
        var previousFoot: [[Double]] = [[0, 0, 1], [0, 0, 1]]
        var heads = [[[Double]]](), aims = [[[Double]?]]()
        for i in 0..<n {
            let hips = BVH.branchFrame(0, { p17(i, $0) })
            hipsFrames.append(hips)
            let forward = [hips.m[2], hips.m[5], hips.m[8]]
            var ball = [[Double]](), tip = [[Double]]()
            for (k, (knee, ankle)) in [(RigPreset.lKnee, RigPreset.lAnkle), (RigPreset.rKnee, RigPreset.rAnkle)].enumerated() {
                // The foot at right angles to the shin where the pelvis faces, turned down by footAngle.
                let s = normalised(sub(p17(i, ankle), p17(i, knee)))
                var across = sub(forward, s.map { $0 * dot(forward, s) })
                if norm(across) < 1e-3 { across = previousFoot[k] }      // shin along the body's forward: keep the last
                across = normalised(across)
                previousFoot[k] = across
                let a = RigPreset.footAngle
                let direction = normalised(add(across.map { $0 * cos(a) }, s.map { $0 * sin(a) }))
                let b = add(p17(i, ankle), direction.map { $0 * shin * ballFraction })
                ball.append(b)
                tip.append(add(b, direction.map { $0 * shin * toeTipFraction }))
            }
            func point(_ q: RigPoint) -> [Double] {
                switch q {
                case .joint(let j): return p17(i, j)
                case .between(let a, let b, let t): let pa = p17(i, a); return add(pa, sub(p17(i, b), pa).map { $0 * t })
                case .ball(let left): return ball[left ? 0 : 1]
                case .toeTip(let left): return tip[left ? 0 : 1]
                case .origin: return [0, 0, 0]
                }
            }
            heads.append(joints.map { point($0.head) })
            aims.append(joints.map { $0.aim.map(point) })
        }

        // Rest offsets: along the parent's rest aim, or in a branching parent's median layout.
        let motionRoot = joints.firstIndex { $0.rotation != .fixed }!
        var offsets = [[Double]](repeating: [0, 0, 0], count: joints.count)
        for (j, joint) in joints.enumerated() where joint.parent >= 0 && j != motionRoot {
            let parent = joints[joint.parent]
            let vectors = lengthFrames.map { sub(heads[$0][j], heads[$0][joint.parent]) }
            if case .frame(let l, let r, let u) = parent.rotation {
                let local = lengthFrames.map { i in
                    BVH.frame(origin: heads[i][joint.parent], left: p17(i, l), right: p17(i, r), up: p17(i, u)).transposed
                        .apply(sub(heads[i][j], heads[i][joint.parent]))
                }
                let m = [0, 1, 2].map { c in median(local.map { $0[c] }) }
                offsets[j] = normalised(m).map { $0 * median(vectors.map(norm)) }
            } else {
                offsets[j] = parent.restAim.map { $0 * median(vectors.map(norm)) }
            }
        }
        let aimLengths = joints.indices.map { j in
            joints[j].aim == nil ? 0 : median(lengthFrames.map { norm(sub(aims[$0][j]!, heads[$0][j])) })
        }
        // The rest pose stands on y = 0: the motion root as high above it as its lowest joint is below.
        var rest = [[Double]](repeating: [0, 0, 0], count: joints.count)
        for (j, joint) in joints.enumerated() where joint.parent >= 0 { rest[j] = add(rest[joint.parent], offsets[j]) }
        offsets[motionRoot] = [0, -(rest.map { $0[1] }.min() ?? 0), 0]

        // Per frame: global rotations (parents first), locals, and the positions they give.
        var locals = [[Mat3]](), roots = [[Double]](), fitted = [Double]()
        fitted.reserveCapacity(n * joints.count * 3)
        for i in 0..<n {
            var global = [Mat3](repeating: .identity, count: joints.count)
            var local = [Mat3](repeating: .identity, count: joints.count)
            var pos = [[Double]](repeating: [0, 0, 0], count: joints.count)
            for (j, joint) in joints.enumerated() {
                let parentRot = joint.parent < 0 ? Mat3.identity : global[joint.parent]
                let head = heads[i][j]
                switch joint.rotation {
                case .fixed:
                    global[j] = .identity
                case .frame(let l, let r, let u):
                    global[j] = BVH.frame(origin: head, left: p17(i, l), right: p17(i, r), up: p17(i, u))
                case .swing:
                    global[j] = swing(parentRot, restAim: joint.restAim, from: head, to: aims[i][j])
                case .spineTwist(let t):
                    global[j] = spineTwist(parentRot, restAim: joint.restAim, from: head, to: aims[i][j], blend: t,
                                           hipsLeft: sub(p17(i, RigPreset.lHip), p17(i, RigPreset.rHip)),
                                           shouldersLeft: sub(p17(i, RigPreset.lShoulder), p17(i, RigPreset.rShoulder)))
                }
                local[j] = parentRot.transposed * global[j]
                if j == motionRoot { pos[j] = head }
                else if joint.parent < 0 { pos[j] = offsets[j] }
                else { pos[j] = add(pos[joint.parent], parentRot.apply(offsets[j])) }
            }
            locals.append(local)
            roots.append(heads[i][motionRoot])
            for q in pos { fitted += q }
        }
        return RigFit(preset: preset, joints: joints, offsets: offsets, motionRoot: motionRoot, locals: locals,
                      rootPositions: roots, aimLengths: aimLengths, positions: fitted)
    }

    /// The parent's frame turned by the smallest rotation that points the bone at `aim` (no aim: the
    /// parent's frame).
    static func swing(_ parent: Mat3, restAim: [Double], from head: [Double], to aim: [Double]?) -> Mat3 {
        guard let aim else { return parent }
        let d = sub(aim, head)
        guard dot(d, d) > 1e-18 else { return parent }
        return Mat3.rotation(from: parent.apply(restAim), to: normalised(d)) * parent
    }

    /// Pointing at `aim` with x (the rest pose's left) turned about the bone towards the body's left:
    /// the hips' left (blend 0) turned by `blend` of the angle to the shoulders' left (1), both seen
    /// across the bone. Falls back to `swing` where the hips' left runs along the bone.
    static func spineTwist(_ parent: Mat3, restAim: [Double], from head: [Double], to aim: [Double]?, blend: Double,
                           hipsLeft: [Double], shouldersLeft: [Double]) -> Mat3 {
        guard let aim, dot(sub(aim, head), sub(aim, head)) > 1e-18 else { return parent }
        let a = normalised(sub(aim, head))
        func across(_ v: [Double]) -> [Double] { sub(v, a.map { $0 * dot(v, a) }) }
        let hips = across(hipsLeft), shoulders = across(shouldersLeft)
        guard dot(hips, hips) > 1e-12 else { return swing(parent, restAim: restAim, from: head, to: aim) }
        let h = normalised(hips), side = cross(a, h)          // h, side: a right-handed basis across the bone
        let angle = dot(shoulders, shoulders) > 1e-12 ? atan2(dot(shoulders, side), dot(shoulders, h)) : 0
        let x = add(h.map { $0 * cos(blend * angle) }, side.map { $0 * sin(blend * angle) })
        // The rest frame built the same way from the rest aim and the rest pose's left (+X).
        let restX = normalised(sub([1, 0, 0], restAim.map { $0 * restAim[0] }))
        let now = Mat3(columns: x, a, cross(x, a)), rest = Mat3(columns: restX, restAim, cross(restX, restAim))
        return now * rest.transposed
    }
}

extension Mat3 {
    /// The unit quaternion (x, y, z, w) of this rotation, w >= 0.
    var quaternion: [Double] {
        let t = m[0] + m[4] + m[8]
        var q: [Double]
        if t > 0 {
            let s = (t + 1).squareRoot() * 2
            q = [(m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s, 0.25 * s]
        } else if m[0] > m[4] && m[0] > m[8] {
            let s = (1 + m[0] - m[4] - m[8]).squareRoot() * 2
            q = [0.25 * s, (m[1] + m[3]) / s, (m[2] + m[6]) / s, (m[7] - m[5]) / s]
        } else if m[4] > m[8] {
            let s = (1 + m[4] - m[0] - m[8]).squareRoot() * 2
            q = [(m[1] + m[3]) / s, 0.25 * s, (m[5] + m[7]) / s, (m[2] - m[6]) / s]
        } else {
            let s = (1 + m[8] - m[0] - m[4]).squareRoot() * 2
            q = [(m[2] + m[6]) / s, (m[5] + m[7]) / s, 0.25 * s, (m[3] - m[1]) / s]
        }
        let length = (q.map { $0 * $0 }.reduce(0, +)).squareRoot()
        q = q.map { $0 / length }
        return q[3] < 0 ? q.map { -$0 } : q
    }
}
