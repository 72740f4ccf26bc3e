// BVH motion export: a 17-joint hierarchy (the Human3.6M joints, pelvis as root) with the person's
// median bone lengths as offsets and per-frame joint rotations solved from the 3D positions. With 2D
// scores, the medians use the frames where the bone's joints were seen (score >= 0.5).
//
// Axes: Y up, metres (Blender imports it as is). The rest pose is a T-pose facing +Z (the person's
// left along +X), except the two branching joints, whose children keep the person's own median
// layout: the pelvis (hips, spine) and the thorax (neck, shoulders).
// Rotations: each joint's channels are "Zrotation Xrotation Yrotation", i.e. local = Rz·Rx·Ry, in
// degrees; the root also has "Xposition Yposition Zposition" (the pelvis position).
// Frames without a person repeat the nearest frame with one (BVH has no missing frames).

import Foundation

public enum BVH {
    /// Children of each joint (Skeleton.parents inverted).
    static let children: [[Int]] = (0..<17).map { j in (0..<17).filter { Skeleton.parents[$0] == j } }

    /// T-pose direction of the bone ending at joint j (for joints whose parent has one child).
    static let restDirection: [[Double]] = [
        [0, 0, 0], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 1, 0],
        [0, 1, 0], [0, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [-1, 0, 0], [-1, 0, 0], [-1, 0, 0],
    ]

    /// The local frame (columns x, y, z) of a branching joint from its current positions:
    /// pelvis: x towards the left hip, y towards the spine; thorax: x towards the left shoulder,
    /// y towards the nose.
    /// Always a rotation, also when the pose gives no frame: with the left and right joints on one
    /// point x is taken across the up direction, and with the up child on the left-right line y is
    /// taken across x (otherwise the matrix is not a rotation and the BVH cannot encode the fit).
    static func branchFrame(_ joint: Int, _ p: (Int) -> [Double]) -> Mat3 {
        let (left, right, upChild) = joint == 0 ? (4, 1, 7) : (11, 14, 9)
        return frame(origin: p(joint), left: p(left), right: p(right), up: p(upChild))
    }

    /// The frame (columns x, y, z) with x from `right` towards `left` and y towards `up` from
    /// `origin`, made orthogonal to x; always a rotation (see branchFrame).
    static func frame(origin: [Double], left: [Double], right: [Double], up: [Double]) -> Mat3 {
        let upVector = sub(up, origin)
        var x = sub(left, right)
        if dot(x, x) < 1e-18 { x = perpendicular(to: upVector) }
        x = normalised(x)
        var y = sub(upVector, x.map { $0 * dot(upVector, x) })
        if dot(y, y) < 1e-18 { y = perpendicular(to: x) }
        y = normalised(y)
        return Mat3(columns: x, y, cross(x, y))
    }

    /// A unit vector perpendicular to `v` (any, when `v` is 0): `v` crossed with the axis it is least
    /// aligned with.
    static func perpendicular(to v: [Double]) -> [Double] {
        guard dot(v, v) > 1e-18 else { return [1, 0, 0] }
        let axis: [Double] = abs(v[0]) <= abs(v[1]) && abs(v[0]) <= abs(v[2]) ? [1, 0, 0] : (abs(v[1]) <= abs(v[2]) ? [0, 1, 0] : [0, 0, 1])
        return normalised(cross(v, axis))
    }

    /// The rigid skeleton that best explains a motion: constant offsets (median bone lengths) and per
    /// frame the global rotation of every joint. Bones from one-child joints keep their exact
    /// direction; the children of the two branching joints keep the median layout, so shoulders,
    /// hips, spine and neck move rigidly with the pelvis or thorax.
    public struct Fit {
        /// Offset of each joint from its parent in the parent's rest frame (pelvis: 0).
        public let offsets: [[Double]]
        /// Per frame, per joint: local → world rotation.
        let globals: [[Mat3]]
        /// (N, 17, 3) positions of the fitted skeleton: what the BVH encodes.
        public let positions: [Double]
        public var frames: Int { globals.count }
    }

    /// The 2D score from which a joint counts as seen, for the bone lengths.
    public static let seenScore: Float = 0.5

    /// Fits the skeleton to (N, 17, 3) positions (any right-handed axes, metres). Frames without a
    /// person repeat the nearest frame with one.
    /// `scores`: optional (N, 17) per-joint 2D scores (the detector's visibility). When given, each
    /// bone's length and the branching joints' layout come from the frames where both of the bone's
    /// joints have a score >= `seenScore`, if there are at least max(5, 10 % of the frames with a
    /// person) such frames; otherwise from all frames with a person.
    public static func fit(positions inPositions: [Double], present: [Bool], scores: [Float]? = nil) -> Fit {
        let n = present.count
        precondition(scores == nil || scores!.count == n * 17, "BVH.fit: scores must be (N, 17)")
        let positions = fillMissing(inPositions, present: present)
        func p(_ i: Int, _ j: Int) -> [Double] { Array(positions[(i * 51 + 3 * j)..<(i * 51 + 3 * j + 3)]) }
        let used = (0..<n).filter { present[$0] }
        let frames = used.isEmpty ? Array(0..<n) : used
        let minimumSeen = max(5, 0.1 * Double(used.count))

        // Offsets: median bone lengths; branching joints keep the median layout of their children.
        var offsets = [[Double]](repeating: [0, 0, 0], count: 17)
        for j in 1..<17 {
            let parent = Skeleton.parents[j]
            var boneFrames = frames
            if let scores, !used.isEmpty {
                let seen = used.filter { scores[$0 * 17 + j] >= seenScore && scores[$0 * 17 + parent] >= seenScore }
                if Double(seen.count) >= minimumSeen { boneFrames = seen }
            }
            let length = median(boneFrames.map { i in norm(sub(p(i, j), p(i, parent))) })
            if children[parent].count > 1 {
                var local = [[Double]]()
                for i in boneFrames { local.append(branchFrame(parent, { p(i, $0) }).transposed.apply(sub(p(i, j), p(i, parent)))) }
                let m = [0, 1, 2].map { c in median(local.map { $0[c] }) }
                offsets[j] = normalised(m).map { $0 * length }
            } else {
                offsets[j] = restDirection[j].map { $0 * length }
            }
        }

        // Global rotations, parents before children, and the positions they give.
        let order = depthFirstOrder()
        var globals = [[Mat3]]()
        var fitted = [Double](repeating: 0, count: n * 51)
        for i in 0..<n {
            var global = [Mat3](repeating: .identity, count: 17)
            var pos = [[Double]](repeating: [0, 0, 0], count: 17)
            for j in order {
                let parent = Skeleton.parents[j]
                let parentRot = j == 0 ? Mat3.identity : global[parent]
                pos[j] = j == 0 ? p(i, 0) : add(pos[parent], parentRot.apply(offsets[j]))
                let kids = children[j]
                if kids.count > 1 {
                    global[j] = branchFrame(j, { p(i, $0) })
                } else if kids.count == 1 {
                    let c = kids[0]
                    let restWorld = parentRot.apply(normalised(offsets[c]))
                    global[j] = Mat3.rotation(from: restWorld, to: normalised(sub(p(i, c), p(i, j)))) * parentRot
                } else {
                    global[j] = parentRot
                }
            }
            globals.append(global)
            for j in 0..<17 { for c in 0..<3 { fitted[i * 51 + 3 * j + c] = pos[j][c] } }
        }
        return Fit(offsets: offsets, globals: globals, positions: fitted)
    }

    /// The BVH text of a fit whose positions are Y up, metres.
    public static func render(_ fit: Fit, fps: Double) -> String {
        let offsets = fit.offsets
        var text = "HIERARCHY\n"
        func emit(_ j: Int, _ depth: Int) {
            let pad = String(repeating: "  ", count: depth)
            let o = offsets[j]
            if j == 0 {
                text += "ROOT \(Skeleton.jointNames[0])\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
            } else {
                text += "\(pad)JOINT \(Skeleton.jointNames[j])\n\(pad){\n\(pad)  OFFSET \(f6(o[0])) \(f6(o[1])) \(f6(o[2]))\n\(pad)  CHANNELS 3 Zrotation Xrotation Yrotation\n"
            }
            if children[j].isEmpty {
                // End site: a short continuation of the bone, so every joint has a visible bone.
                let d = j == 3 || j == 6 ? [0.0, 0.0, 0.1] : normalised(offsets[j]).map { $0 * 0.08 }
                text += "\(pad)  End Site\n\(pad)  {\n\(pad)    OFFSET \(f6(d[0])) \(f6(d[1])) \(f6(d[2]))\n\(pad)  }\n"
            }
            for c in children[j] { emit(c, depth + 1) }
            text += "\(pad)}\n"
        }
        emit(0, 0)
        // Motion: pelvis position, then per joint local = parent⁻¹ · global as Z-X-Y Euler angles.
        text += "MOTION\nFrames: \(fit.frames)\nFrame Time: \(f6(1 / fps))\n"
        let order = depthFirstOrder()
        for i in 0..<fit.frames {
            let global = fit.globals[i]
            var values = Array(fit.positions[(i * 51)..<(i * 51 + 3)])
            for j in order {
                let local = j == 0 ? global[0] : global[Skeleton.parents[j]].transposed * global[j]
                values += local.eulerZXYDegrees
            }
            text += values.map(f6).joined(separator: " ") + "\n"
        }
        return text
    }

    /// The BVH text of a rig preset's fit (RigFit), Y up, metres: the preset's joint names and parent
    /// chain, its rest pose as offsets, the same channel layout as `render` (the joint carrying the
    /// motion, when it is not the root, gets position channels too: Unreal's pelvis under `root`).
    public static func render(_ fit: RigFit, fps: Double) -> String {
        let parents = fit.preset.parents
        let kids = parents.indices.map { j in parents.indices.filter { parents[$0] == j } }
        var order = [Int]()
        var text = "HIERARCHY\n"
        func emit(_ j: Int, _ depth: Int) {
            order.append(j)
            let pad = String(repeating: "  ", count: depth)
            let joint = fit.joints[j]
            let o = j == fit.motionRoot ? [0.0, 0, 0] : fit.offsets[j]
            let channels = j == fit.motionRoot ? "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" : "3 Zrotation Xrotation Yrotation"
            text += "\(pad)\(depth == 0 ? "ROOT" : "JOINT") \(joint.name)\n\(pad){\n\(pad)  OFFSET \(f6(o[0])) \(f6(o[1])) \(f6(o[2]))\n\(pad)  CHANNELS \(channels)\n"
            if kids[j].isEmpty {
                // End site: to the aim point (head, toes), else a short stub along the bone.
                let length = joint.aim != nil ? fit.aimLengths[j] : 0.08
                let d = dot(joint.restAim, joint.restAim) > 0 ? normalised(joint.restAim).map { $0 * length } : [0, 0.08, 0]
                text += "\(pad)  End Site\n\(pad)  {\n\(pad)    OFFSET \(f6(d[0])) \(f6(d[1])) \(f6(d[2]))\n\(pad)  }\n"
            }
            for c in kids[j] { emit(c, depth + 1) }
            text += "\(pad)}\n"
        }
        for root in parents.indices where parents[root] < 0 { emit(root, 0) }
        text += "MOTION\nFrames: \(fit.frames)\nFrame Time: \(f6(1 / fps))\n"
        for i in 0..<fit.frames {
            var values = [Double]()
            for j in order {
                if j == fit.motionRoot { values += fit.rootPositions[i] }
                values += fit.localEulerZXY(i, j)
            }
            text += values.map(f6).joined(separator: " ") + "\n"
        }
        return text
    }

    /// Joints in the order their channels appear (depth first, children in index order).
    static func depthFirstOrder() -> [Int] {
        var out = [Int]()
        func visit(_ j: Int) { out.append(j); for c in children[j] { visit(c) } }
        visit(0)
        return out
    }

    static func fillMissing(_ x: [Double], present: [Bool]) -> [Double] {
        guard let first = present.firstIndex(of: true) else { return x }
        var out = x
        var last = first
        for i in 0..<present.count {
            if present[i] { last = i; continue }
            let src = i < first ? first : last
            out.replaceSubrange((i * 51)..<(i * 51 + 51), with: x[(src * 51)..<(src * 51 + 51)])
        }
        return out
    }

    // MARK: Reading back (forward kinematics), for round-trip checks

    /// Parses a BVH written by `render` (or any BVH whose joints all have Z-X-Y rotations) and returns
    /// joint names and (frames, joints, 3) world positions by forward kinematics.
    public static func forwardKinematics(_ text: String) throws -> (names: [String], frameTime: Double, positions: [[Double]]) {
        var names = [String](), parents = [Int](), offsets = [[Double]](), channels = [[String]]()
        var stack = [Int]()
        var lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }[...]
        var inEndSite = false
        while let line = lines.first {
            lines = lines.dropFirst()
            let w = line.split(separator: " ").map(String.init)
            guard let head = w.first else { continue }
            switch head {
            case "ROOT", "JOINT":
                names.append(w[1]); parents.append(stack.last ?? -1); offsets.append([0, 0, 0]); channels.append([])
            case "End":
                inEndSite = true
            case "{":
                if !inEndSite { stack.append(names.count - 1) }
            case "}":
                if inEndSite { inEndSite = false } else { stack.removeLast() }
            case "OFFSET":
                if !inEndSite { offsets[names.count - 1] = w[1...3].map { Double($0)! } }
            case "CHANNELS":
                channels[names.count - 1] = Array(w[2...])
            case "MOTION":
                break
            case "Frames:":
                break
            case "Frame":
                let frameTime = Double(w[2])!
                var positions = [[Double]]()
                for motion in lines where !motion.isEmpty {
                    let v = motion.split(separator: " ").map { Double($0)! }
                    var k = 0
                    var global = [Mat3](repeating: .identity, count: names.count)
                    var pos = [[Double]](repeating: [0, 0, 0], count: names.count)
                    var row = [Double]()
                    for j in 0..<names.count {
                        var translation = offsets[j]
                        var rot = Mat3.identity
                        for ch in channels[j] {
                            let a = v[k]; k += 1
                            switch ch {
                            case "Xposition": translation[0] = a
                            case "Yposition": translation[1] = a
                            case "Zposition": translation[2] = a
                            case "Xrotation": rot = rot * Mat3.axisAngle(0, a)
                            case "Yrotation": rot = rot * Mat3.axisAngle(1, a)
                            case "Zrotation": rot = rot * Mat3.axisAngle(2, a)
                            default: throw MHFormerError("BVH: unknown channel \(ch)")
                            }
                        }
                        if parents[j] < 0 {
                            pos[j] = translation; global[j] = rot
                        } else {
                            pos[j] = add(pos[parents[j]], global[parents[j]].apply(translation))
                            global[j] = global[parents[j]] * rot
                        }
                        row += pos[j]
                    }
                    positions.append(row)
                }
                return (names, frameTime, positions)
            default:
                continue
            }
        }
        throw MHFormerError("BVH: no MOTION section")
    }
}

private func f6(_ v: Double) -> String { String(format: "%.6f", v) }

/// A 3×3 rotation matrix, row-major.
struct Mat3 {
    var m: [Double]
    static let identity = Mat3(m: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    init(m: [Double]) { self.m = m }
    init(columns x: [Double], _ y: [Double], _ z: [Double]) { m = [x[0], y[0], z[0], x[1], y[1], z[1], x[2], y[2], z[2]] }

    var transposed: Mat3 { Mat3(m: [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]) }

    func apply(_ v: [Double]) -> [Double] {
        [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]]
    }

    static func * (a: Mat3, b: Mat3) -> Mat3 {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { r[i * 3 + j] += a.m[i * 3 + k] * b.m[k * 3 + j] } } }
        return Mat3(m: r)
    }

    /// Rotation about axis 0 (x), 1 (y) or 2 (z) by `degrees`.
    static func axisAngle(_ axis: Int, _ degrees: Double) -> Mat3 {
        let a = degrees * Double.pi / 180, c = cos(a), s = sin(a)
        switch axis {
        case 0: return Mat3(m: [1, 0, 0, 0, c, -s, 0, s, c])
        case 1: return Mat3(m: [c, 0, s, 0, 1, 0, -s, 0, c])
        default: return Mat3(m: [c, -s, 0, s, c, 0, 0, 0, 1])
        }
    }

    /// The smallest rotation taking unit vector a onto unit vector b (Rodrigues).
    static func rotation(from a: [Double], to b: [Double]) -> Mat3 {
        let v = cross(a, b), c = dot(a, b)
        if c < -0.999999 {
            // Opposite vectors: half a turn about any axis perpendicular to a.
            let axis = normalised(abs(a[0]) < 0.9 ? cross(a, [1, 0, 0]) : cross(a, [0, 1, 0]))
            let (x, y, z) = (axis[0], axis[1], axis[2])
            return Mat3(m: [2 * x * x - 1, 2 * x * y, 2 * x * z, 2 * x * y, 2 * y * y - 1, 2 * y * z, 2 * x * z, 2 * y * z, 2 * z * z - 1])
        }
        let k = 1 / (1 + c)
        let vx = Mat3(m: [0, -v[2], v[1], v[2], 0, -v[0], -v[1], v[0], 0])
        let vx2 = vx * vx
        return Mat3(m: (0..<9).map { Mat3.identity.m[$0] + vx.m[$0] + vx2.m[$0] * k })
    }

    /// (z, x, y) angles in degrees with self = Rz(z)·Rx(x)·Ry(y).
    var eulerZXYDegrees: [Double] {
        let x = asin(max(-1, min(1, m[7])))
        let y = atan2(-m[6], m[8])
        let z = atan2(-m[1], m[4])
        return [z, x, y].map { $0 * 180 / Double.pi }
    }
}
