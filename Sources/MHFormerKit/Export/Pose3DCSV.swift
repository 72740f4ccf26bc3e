// The 3D joint CSV: header `frame,time_s,<joint>_x,<joint>_y,<joint>_z` for the 17 joints in
// Human3.6M order; one row per input frame, in frame order; metres; empty cells for frames without
// a person; float32 values printed so that they read back exactly. Optionally (--scores) 17
// `<joint>_score` columns follow: the 2D detector's per-joint score of the frame.

import Foundation


public enum Pose3DCSV {
    public static var header: String { header(scores: false) }

    /// The header; with `scores`, 17 `<joint>_score` columns follow the coordinates.
    public static func header(scores: Bool, contacts: Bool = false) -> String {
        var names = ["frame", "time_s"] + Skeleton.jointNames.flatMap { ["\($0)_x", "\($0)_y", "\($0)_z"] }
        if scores { names += Skeleton.jointNames.map { "\($0)_score" } }
        if contacts { names += ["left_foot_contact", "right_foot_contact"] }
        return names.joined(separator: ",")
    }

    /// The CSV text; `scores` ((N, 17), the 2D detector's per-joint scores) adds the score columns,
    /// `contacts` the sequence's foot contacts as `left_foot_contact,right_foot_contact` (0 or 1;
    /// empty on rows without a person).
    public static func render(_ pose: Pose3DSequence, scores: [Float]? = nil, contacts: Bool = false) -> String {
        precondition(scores == nil || scores!.count == pose.frames.count * 17, "Pose3DCSV: scores must be (N, 17)")
        let footContacts = contacts ? pose.footContacts : nil
        precondition(!contacts || footContacts?.count == pose.frames.count * 2, "Pose3DCSV: no foot contacts to write")
        var out = header(scores: scores != nil, contacts: contacts) + "\n"
        out.reserveCapacity(pose.frames.count * (scores == nil ? 51 : 68) * 12)
        for i in 0..<pose.frames.count {
            out += String(pose.frames[i]) + "," + (pose.times[i].map(formatDouble) ?? "")
            for v in pose.row(i) {
                out += ","
                if pose.present[i] { out += formatFloat(v) }
            }
            if let scores {
                for j in 0..<17 {
                    out += ","
                    if pose.present[i] { out += formatFloat(scores[i * 17 + j]) }
                }
            }
            if let footContacts {
                out += pose.present[i] ? "," + (footContacts[2 * i] ? "1" : "0") + "," + (footContacts[2 * i + 1] ? "1" : "0") : ",,"
            }
            out += "\n"
        }
        return out
    }

    public static func write(_ pose: Pose3DSequence, scores: [Float]? = nil, contacts: Bool = false, to path: String) throws {
        try AtomicFile.write(render(pose, scores: scores, contacts: contacts), to: path)
    }
}
