// glTF 2.0 binary (.glb) export of a fitted rig (RigFit): the joints as a node hierarchy, a
// capsule mannequin skinned to them (so that something shows when the file is opened), and one
// animation with every joint's rotation and the hips' translation per frame, at the video's times.
// Y up, metres, facing +Z: glTF's own axes. Written directly (the format is small and its spec
// public: https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html).
//
// Layout of the file: a 12-byte header, a JSON chunk (the scene description), a BIN chunk (one
// buffer holding every array, each in its own bufferView, 4-byte aligned):
//   mesh:       POSITION (V, 3) f32, JOINTS_0 (V, 4) u16, WEIGHTS_0 (V, 4) f32, indices (3T) u16
//   skin:       inverseBindMatrices (J, 16) f32, column-major
//   animation:  times (N) f32 seconds; per joint rotation (N, 4) f32 quaternions (x, y, z, w);
//               the motion root's translation (N, 3) f32
// Nodes 0..J-1 are the joints in the preset's order (parents first); node J is the mesh.

import Foundation

public enum GLB {
    /// The .glb bytes of `fit` played at `times` (seconds, >= 0, strictly increasing). Throws on a
    /// fit that is not finite (JSON has no NaN; a file with one would not load).
    public static func encode(_ fit: RigFit, times: [Double]) throws -> Data {
        precondition(times.count == fit.frames && fit.frames > 0, "GLB: one time per frame")
        guard fit.isFinite, times.allSatisfy(\.isFinite) else {
            throw MHFormerError("the rig's joints or rotations are not finite (joints on top of each other?)")
        }
        var buffer = BinaryBuffer()
        var accessors = [[String: Any]]()

        /// Appends an accessor over a new bufferView; returns its index.
        func accessor(_ bytes: Data, count: Int, type: String, componentType: Int, target: Int? = nil,
                      min: [Float]? = nil, max: [Float]? = nil) -> Int {
            var view: [String: Any] = ["buffer": 0, "byteOffset": buffer.append(bytes), "byteLength": bytes.count]
            if let target { view["target"] = target }
            buffer.views.append(view)
            var a: [String: Any] = ["bufferView": buffer.views.count - 1, "count": count, "type": type, "componentType": componentType]
            if let min, let max { a["min"] = min.map(Double.init); a["max"] = max.map(Double.init) }
            accessors.append(a)
            return accessors.count - 1
        }
        let float = 5126, unsignedShort = 5123
        let arrayBuffer = 34962, elementArrayBuffer = 34963

        // The mannequin in the rest pose, every vertex bound to one joint.
        let body = Mannequin(fit)
        let position = accessor(floats(body.positions), count: body.positions.count / 3, type: "VEC3", componentType: float,
                                target: arrayBuffer, min: columnExtremes(body.positions, 3, Swift.min),
                                max: columnExtremes(body.positions, 3, Swift.max))
        let jointIndices = accessor(shorts(body.joints.flatMap { [UInt16($0), 0, 0, 0] }), count: body.joints.count,
                                    type: "VEC4", componentType: unsignedShort, target: arrayBuffer)
        let weights = accessor(floats(body.joints.flatMap { _ in [Float(1), 0, 0, 0] }), count: body.joints.count,
                               type: "VEC4", componentType: float, target: arrayBuffer)
        let indices = accessor(shorts(body.triangles.map(UInt16.init)), count: body.triangles.count, type: "SCALAR",
                               componentType: unsignedShort, target: elementArrayBuffer)

        // The skin: the rest pose has no rotations, so each inverse bind matrix is a translation.
        let rest = fit.restPositions
        let inverseBind = accessor(floats(rest.flatMap { p in [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, Float(-p[0]), Float(-p[1]), Float(-p[2]), 1] }),
                                   count: rest.count, type: "MAT4", componentType: float)

        // The animation: one time axis, a rotation per joint, the hips' translation.
        let t = times.map(Float.init)
        let input = accessor(floats(t), count: t.count, type: "SCALAR", componentType: float, min: [t.min()!], max: [t.max()!])
        var samplers = [[String: Any]](), channels = [[String: Any]]()
        for j in 0..<fit.jointCount {
            var previous: [Double]?
            var q = [Float]()
            for i in 0..<fit.frames {
                // Keep consecutive quaternions on one side (q and -q are one rotation) so that
                // interpolating between frames takes the short way.
                var r = fit.localQuaternion(i, j)
                if let p = previous, zip(p, r).map(*).reduce(0, +) < 0 { r = r.map { -$0 } }
                previous = r
                q += r.map(Float.init)
            }
            samplers.append(["input": input, "output": accessor(floats(q), count: fit.frames, type: "VEC4", componentType: float),
                             "interpolation": "LINEAR"])
            channels.append(["sampler": samplers.count - 1, "target": ["node": j, "path": "rotation"]])
        }
        let root = fit.rootPositions.flatMap { $0.map(Float.init) }
        samplers.append(["input": input, "output": accessor(floats(root), count: fit.frames, type: "VEC3", componentType: float),
                         "interpolation": "LINEAR"])
        channels.append(["sampler": samplers.count - 1, "target": ["node": fit.motionRoot, "path": "translation"]])

        // Nodes: the joints (rest translation = offset from the parent), then the mesh.
        let parents = fit.preset.parents
        var nodes = [[String: Any]]()
        for j in 0..<fit.jointCount {
            var node: [String: Any] = ["name": fit.joints[j].name, "translation": fit.offsets[j].map { Double(Float($0)) }]
            let kids = parents.indices.filter { parents[$0] == j }
            if !kids.isEmpty { node["children"] = kids }
            nodes.append(node)
        }
        nodes.append(["name": "mannequin", "mesh": 0, "skin": 0])
        let rootJoints = parents.indices.filter { parents[$0] < 0 }

        let document: [String: Any] = [
            "asset": ["version": "2.0", "generator": "mhformer"],
            "scene": 0,
            "scenes": [["name": "mhformer", "nodes": rootJoints + [fit.jointCount]]],
            "nodes": nodes,
            "meshes": [["name": "mannequin", "primitives": [[
                "attributes": ["POSITION": position, "JOINTS_0": jointIndices, "WEIGHTS_0": weights],
                "indices": indices, "mode": 4,
            ]]]],
            "skins": [["name": fit.preset.rawValue, "joints": Array(0..<fit.jointCount), "inverseBindMatrices": inverseBind,
                       "skeleton": rootJoints[0]]],
            "animations": [["name": "motion", "samplers": samplers, "channels": channels]],
            "accessors": accessors,
            "bufferViews": buffer.views,
            "buffers": [["byteLength": buffer.data.count]],
        ]
        let json = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        return container(json: json, bin: buffer.data)
    }

    /// The animation's key times: the video's time stamps when every frame has one and they increase
    /// (so that the people of one video, each in their own file over their own frames, stay in step),
    /// else the video frame number / fps; shifted to start at 0 if they would start below it (glTF
    /// wants times >= 0, strictly increasing).
    public static func animationTimes(_ times: [Double?], frames: [Int], fps: Double) -> [Double] {
        let stamps = times.compactMap { $0 }
        var t = stamps.count == times.count && zip(stamps.dropFirst(), stamps).allSatisfy({ $0 > $1 })
            ? stamps : frames.map { Double($0) / fps }
        if let first = t.first, first < 0 { t = t.map { $0 - first } }
        return t
    }

    /// Header (magic "glTF", version 2, total length), JSON chunk padded with spaces, BIN chunk
    /// padded with zeros.
    static func container(json: Data, bin: Data) -> Data {
        func padded(_ d: Data, with byte: UInt8) -> Data { var d = d; while d.count % 4 != 0 { d.append(byte) }; return d }
        let j = padded(json, with: 0x20), b = padded(bin, with: 0)
        var out = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        u32(0x4654_6C67); u32(2); u32(12 + 8 + j.count + 8 + b.count)
        u32(j.count); u32(0x4E4F_534A); out.append(j)
        u32(b.count); u32(0x004E_4942); out.append(b)
        return out
    }

    static func floats(_ v: [Float]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }
    static func floats(_ v: [Double]) -> Data { floats(v.map(Float.init)) }
    static func shorts(_ v: [UInt16]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }

    /// Per component (of `width`), the smallest or largest value, as float32 (what the file holds).
    static func columnExtremes(_ v: [Double], _ width: Int, _ pick: (Float, Float) -> Float) -> [Float] {
        (0..<width).map { c in stride(from: c, to: v.count, by: width).map { Float(v[$0]) }.reduce(Float(v[c]), pick) }
    }
}

/// The growing BIN chunk and its bufferViews.
private struct BinaryBuffer {
    var data = Data()
    var views = [[String: Any]]()
    /// Appends `bytes` at a 4-byte boundary; returns its offset.
    mutating func append(_ bytes: Data) -> Int {
        while data.count % 4 != 0 { data.append(0) }
        let offset = data.count
        data.append(bytes)
        return offset
    }
}

/// A stick mannequin in the rest pose: a six-sided prism around every bone (joint → aim point; for a
/// branching joint, to each child; for a hand, a short stub), each bound to its joint alone.
struct Mannequin {
    /// (V, 3) vertices, V joint indices, triangle corner indices.
    var positions = [Double](), joints = [Int](), triangles = [Int]()

    init(_ fit: RigFit) {
        let rest = fit.restPositions
        let parents = fit.preset.parents
        for (j, joint) in fit.joints.enumerated() where joint.radius > 0 {
            var ends = [[Double]]()
            if joint.aim != nil {
                ends.append(add(rest[j], joint.restAim.map { $0 * fit.aimLengths[j] }))
            } else if case .frame = joint.rotation {
                ends = parents.indices.filter { parents[$0] == j }.map { rest[$0] }
            } else if dot(joint.restAim, joint.restAim) > 0 {
                ends.append(add(rest[j], normalised(joint.restAim).map { $0 * 0.08 }))
            }
            for end in ends { addPrism(from: rest[j], to: end, radius: joint.radius, joint: j) }
        }
    }

    mutating func addPrism(from a: [Double], to b: [Double], radius: Double, joint: Int) {
        let axis = sub(b, a)
        guard dot(axis, axis) > 1e-12 else { return }
        let u = BVH.perpendicular(to: axis), w = normalised(cross(axis, u))
        let base = joints.count
        let sides = 6
        for end in [a, b] {
            for k in 0..<sides {
                let angle = 2 * Double.pi * Double(k) / Double(sides)
                positions += add(end, add(u.map { $0 * radius * cos(angle) }, w.map { $0 * radius * sin(angle) }))
            }
        }
        positions += a + b                                  // cap centres: base + 12, base + 13
        joints += Array(repeating: joint, count: 2 * sides + 2)
        for k in 0..<sides {
            let k1 = (k + 1) % sides
            // Side quad (two triangles), then the two caps; counter-clockwise seen from outside.
            triangles += [base + k, base + k1, base + sides + k1, base + k, base + sides + k1, base + sides + k]
            triangles += [base + 2 * sides, base + k1, base + k]
            triangles += [base + 2 * sides + 1, base + sides + k, base + sides + k1]
        }
    }
}
