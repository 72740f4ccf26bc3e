// Writing a 3D joint sequence in the formats people load elsewhere, chosen by the output file's
// extension or explicitly:
//   .csv  the tool's own table (Pose3DCSV)
//   .json metadata (fps, units, axes, joint names, parents) and per frame the joints and scores
//   .trc  OpenSim's marker format (Y up)
//   .bvh  a skeleton with rotations (Y up), for Blender, Maya, Unity (BVH.swift): the 17 joints, or
//         a rig preset's joints (RigPreset)
//   .glb  glTF 2.0 binary: the rig preset's skeleton, a skinned mannequin and the animation (GLB.swift)

import Foundation

public enum MotionFormat: String, CaseIterable, Sendable {
    case csv, json, trc, bvh, glb

    /// Formats that carry a skeleton with rotations (a rig preset applies to them).
    public var isRig: Bool { self == .bvh || self == .glb }

    /// The format named by a file's extension, if any.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }
}

/// What the numbers of a sequence mean, written into the file's metadata.
public struct MotionDescription: Sendable {
    /// "camera" or "world" (see CoordinateFrame).
    public var coordinates: String
    /// The axes in words, e.g. "x right, y down, z away from the camera".
    public var axes: String
    public var rootRelative: Bool
    public var fps: Double

    public init(coordinates: String, axes: String, rootRelative: Bool, fps: Double) {
        self.coordinates = coordinates; self.axes = axes; self.rootRelative = rootRelative; self.fps = fps
    }
}

public enum MotionWriter {
    /// `scores`: the (N, 17) 2D scores, written by JSON, used by BVH's skeleton fit (bone lengths
    /// from the frames where the joints were seen); `scoreColumns`: also add them to the CSV.
    /// `fileName`: the name the TRC header records (default: `path`'s; a staged output gives its final one).
    /// `contactColumns`: the CSV also gets the foot contacts (`pose.footContacts`); JSON always has
    /// them when the sequence has them.
    /// `rig`: the skeleton BVH and GLB carry (h36m: the 17 joints).
    public static func write(_ pose: Pose3DSequence, scores: [Float]?, description: MotionDescription,
                             format: MotionFormat, rig: RigPreset = .h36m, scoreColumns: Bool = false, contactColumns: Bool = false,
                             to path: String, fileName: String? = nil) throws {
        switch format {
        case .csv: try Pose3DCSV.write(pose, scores: scoreColumns ? scores : nil, contacts: contactColumns, to: path)
        case .json: try AtomicFile.write(json(pose, scores: scores, description: description), to: path)
        case .trc: try AtomicFile.write(trc(pose, description: description, fileName: fileName ?? (path as NSString).lastPathComponent), to: path)
        case .bvh where rig == .h36m:
            let fit = BVH.fit(positions: pose.joints.map(Double.init), present: pose.present, scores: scores)
            try AtomicFile.write(BVH.render(fit, fps: description.fps), to: path)
        case .bvh, .glb:
            let fit = RigFit.fit(positions: pose.joints.map(Double.init), present: pose.present, scores: scores, preset: rig)
            guard fit.isFinite else {
                throw MHFormerError("\(fileName ?? path): the \(rig.rawValue) rig's joints or rotations are not finite (joints on top of each other?); nothing written")
            }
            if format == .bvh {
                try AtomicFile.write(BVH.render(fit, fps: description.fps), to: path)
            } else {
                try AtomicFile.write(try GLB.encode(fit, times: GLB.animationTimes(pose.times, frames: pose.frames, fps: description.fps)), to: path)
            }
        }
    }

    /// Frame rate from the time stamps (median step), else `fallback`.
    public static func frameRate(times: [Double?], fallback: Double) -> Double {
        let t = times.compactMap { $0 }
        guard t.count == times.count, t.count > 1 else { return fallback }
        let steps = zip(t.dropFirst(), t).map { $0 - $1 }.sorted()
        let median = steps[steps.count / 2]
        return median > 0 ? 1 / median : fallback
    }

    // MARK: JSON

    public static func json(_ pose: Pose3DSequence, scores: [Float]?, description d: MotionDescription) -> String {
        func num(_ v: Float) -> String { v.isFinite ? formatFloat(v) : "null" }
        var out = "{\n"
        out += "  \"format\": \"mhformer-motion\",\n  \"version\": 1,\n"
        out += "  \"units\": \"m\",\n"
        out += "  \"coordinates\": {\"frame\": \"\(d.coordinates)\", \"axes\": \"\(d.axes)\", \"root_relative\": \(d.rootRelative)},\n"
        out += "  \"fps\": \(d.fps),\n"
        out += "  \"joint_names\": [" + Skeleton.jointNames.map { "\"\($0)\"" }.joined(separator: ", ") + "],\n"
        out += "  \"parents\": [" + Skeleton.parents.map(String.init).joined(separator: ", ") + "],\n"
        out += "  \"frames\": [\n"
        for i in 0..<pose.frames.count {
            var f = "    {\"frame\": \(pose.frames[i]), \"time_s\": \(pose.times[i].map(formatDouble) ?? "null"), "
            if pose.present[i] {
                let joints = (0..<17).map { j in
                    let p = pose.joint(i, j)
                    return "[" + [p.x, p.y, p.z].map(num).joined(separator: ", ") + "]"
                }
                f += "\"joints\": [" + joints.joined(separator: ", ") + "], "
                if let s = scores { f += "\"scores\": [" + (0..<17).map { num(s[i * 17 + $0]) }.joined(separator: ", ") + "]" }
                else { f += "\"scores\": null" }
                if let c = pose.footContacts { f += ", \"left_foot_contact\": \(c[2 * i] ? 1 : 0), \"right_foot_contact\": \(c[2 * i + 1] ? 1 : 0)" }
                f += "}"
            } else {
                f += "\"joints\": null, \"scores\": null" + (pose.footContacts != nil ? ", \"left_foot_contact\": null, \"right_foot_contact\": null}" : "}")
            }
            out += f + (i + 1 < pose.frames.count ? ",\n" : "\n")
        }
        out += "  ]\n}\n"
        return out
    }

    // MARK: TRC

    /// OpenSim's .trc: tab-separated, five header lines, a blank line, then `Frame# Time X1 Y1 Z1 ...`.
    /// Frames are numbered from 1; frames without a person have empty marker cells.
    public static func trc(_ pose: Pose3DSequence, description d: MotionDescription, fileName: String) -> String {
        let n = pose.frames.count
        let rate = String(format: "%.6g", d.fps)
        var lines = [
            "PathFileType\t4\t(X/Y/Z)\t\(fileName)",
            "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
            "\(rate)\t\(rate)\t\(n)\t17\tm\t\(rate)\t1\t\(n)",
            "Frame#\tTime\t" + Skeleton.jointNames.map { "\($0)\t\t" }.joined().dropLast(2),
            "\t\t" + (1...17).map { "X\($0)\tY\($0)\tZ\($0)" }.joined(separator: "\t"),
            "",
        ]
        let t0 = pose.times.first.flatMap { $0 } ?? 0
        for i in 0..<n {
            let time = pose.times[i].map { $0 - t0 } ?? Double(i) / d.fps
            var cells = ["\(i + 1)", String(format: "%.6f", time)]
            for v in pose.row(i) { cells.append(pose.present[i] ? formatFloat(v) : "") }
            lines.append(cells.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension MotionWriter {
    /// Writes joints expressed in `coordinates` in the chosen format, with the axes described in the
    /// file's metadata. TRC, BVH and glTF readers expect Y up: camera-frame joints (y down, z forward) are
    /// turned to (x, -y, -z), Z-up frames to (x, z, -y); both right-handed.
    public static func write(_ pose: Pose3DSequence, scores: [Float]?, scoreColumns: Bool = false, contactColumns: Bool = false,
                             coordinates: CoordinateFrame, zUp: Bool, fps: Double, format: MotionFormat, rig: RigPreset = .h36m,
                             to path: String, fileName: String? = nil) throws {
        var pose = pose
        var axes: String
        switch coordinates {
        case .camera: axes = "x right, y down, z away from the camera"
        case .world: axes = zUp ? "x right (level), y away from the camera, z up" : "x right (level), y up, z towards the camera"
        case .demo: axes = "x, y horizontal, z up (the official MHFormer demo's frame)"
        }
        let isZUp = coordinates == .demo || (coordinates == .world && zUp)
        if format == .trc || format.isRig, coordinates == .camera || isZUp {
            for k in stride(from: 0, to: pose.joints.count, by: 3) {
                let (y, z) = (pose.joints[k + 1], pose.joints[k + 2])
                if coordinates == .camera { pose.joints[k + 1] = -y; pose.joints[k + 2] = -z }
                else { pose.joints[k + 1] = z; pose.joints[k + 2] = -y }
            }
            axes = "Y up"
        }
        let description = MotionDescription(coordinates: coordinates.rawValue, axes: axes, rootRelative: coordinates != .world, fps: fps)
        try write(pose, scores: scores, description: description, format: format, rig: rig, scoreColumns: scoreColumns,
                  contactColumns: contactColumns, to: path, fileName: fileName)
    }
}
