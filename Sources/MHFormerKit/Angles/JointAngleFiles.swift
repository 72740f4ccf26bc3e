// The joint angle files (`--angles OUT.csv` or `OUT.mot`), the format chosen by the extension:
//
//   .csv  `frame,time_s,<angle>...` like the 3D CSV: one row per frame of the video, the video's
//         frame numbers and times, empty cells on rows without a person; degrees.
//   .mot  OpenSim's motion (storage) file, as OpenSim, Sports2D and OpenCap read it:
//             <name>
//             version=1
//             nRows=<rows>
//             nColumns=<1 + angles>      (the time column counts)
//             inDegrees=yes
//             endheader
//             time<TAB><angle><TAB>...
//         then one tab-separated row per frame with a person (OpenSim reads no empty cells), the
//         time in seconds from the first frame, as the .trc output counts it.

import Foundation

public enum JointAngleFormat: String, CaseIterable, Sendable {
    case csv, mot

    /// The format named by a file's extension, if any.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }
}

public enum JointAngleFiles {
    /// Writes `angles` to `path` in `format`. `fps`: the times of rows without a time stamp;
    /// `fileName`: the name the .mot header records (a staged output gives its final one).
    public static func write(_ angles: JointAngleSequence, format: JointAngleFormat, fps: Double, to path: String,
                             fileName: String? = nil) throws {
        switch format {
        case .csv: try AtomicFile.write(csv(angles), to: path)
        case .mot: try AtomicFile.write(mot(angles, fps: fps, name: fileName ?? (path as NSString).lastPathComponent), to: path)
        }
    }

    /// The CSV text: `frame,time_s,<JointAngles.names>`, degrees to 0.001.
    public static func csv(_ angles: JointAngleSequence) -> String {
        let n = JointAngles.names.count
        var out = (["frame", "time_s"] + JointAngles.names).joined(separator: ",") + "\n"
        for i in 0..<angles.count {
            out += String(angles.frames[i]) + "," + (angles.times[i].map(formatDouble) ?? "")
            for k in 0..<n {
                out += ","
                if angles.present[i] { out += degreesText(angles.value(i, k)) }
            }
            out += "\n"
        }
        return out
    }

    /// The .mot text (see the top of this file); `name` is its first line.
    public static func mot(_ angles: JointAngleSequence, fps: Double, name: String) -> String {
        let rows = angles.present.indices.filter { angles.present[$0] }
        let t0 = angles.times.first.flatMap { $0 } ?? 0
        var out = "\(name)\nversion=1\nnRows=\(rows.count)\nnColumns=\(JointAngles.names.count + 1)\ninDegrees=yes\nendheader\n"
        out += (["time"] + JointAngles.names).joined(separator: "\t") + "\n"
        for i in rows {
            let time = angles.times[i].map { $0 - t0 } ?? Double(i) / fps
            out += String(format: "%.6f", time)
            for k in 0..<JointAngles.names.count { out += "\t" + degreesText(angles.value(i, k)) }
            out += "\n"
        }
        return out
    }

    static func degreesText(_ v: Double) -> String {
        let text = String(format: "%.3f", v)
        return text == "-0.000" ? "0.000" : text
    }
}
