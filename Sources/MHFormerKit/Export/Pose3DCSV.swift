// The 3D joint CSV: header `frame,time_s,<joint>_x,<joint>_y,<joint>_z` for the 17 joints in
// Human3.6M order; one row per input frame, in frame order; metres; empty cells for frames without
// a person; float32 values printed so that they read back exactly.

import Foundation

public struct Pose3DSequence: Sendable {
    public var frames: [Int]
    public var times: [Double?]
    /// (N, 17, 3) metres.
    public var joints: [Float]
    public var present: [Bool]

    public init(frames: [Int], times: [Double?], joints: [Float], present: [Bool]) {
        self.frames = frames; self.times = times; self.joints = joints; self.present = present
    }
}

public enum Pose3DCSV {
    public static var header: String {
        (["frame", "time_s"] + Skeleton.jointNames.flatMap { ["\($0)_x", "\($0)_y", "\($0)_z"] })
            .joined(separator: ",")
    }

    public static func render(_ pose: Pose3DSequence) -> String {
        var out = header + "\n"
        out.reserveCapacity(pose.frames.count * 51 * 12)
        for i in 0..<pose.frames.count {
            out += String(pose.frames[i]) + "," + (pose.times[i].map(formatDouble) ?? "")
            for c in 0..<51 {
                out += ","
                if pose.present[i] { out += formatFloat(pose.joints[i * 51 + c]) }
            }
            out += "\n"
        }
        return out
    }

    public static func write(_ pose: Pose3DSequence, to path: String) throws {
        try AtomicFile.write(render(pose), to: path)
    }
}
