// The 2D keypoint CSV that `mhformer lift` reads (and `mhformer run` writes):
//   header row; columns `frame`, `width`, `height` (image size, pixels), `<joint>_x`, `<joint>_y` for
//   the 17 Human3.6M joints; optional `time_s` and `<joint>_score`. Columns are matched by name, in
//   any order. A row whose 34 coordinate cells are all empty is a frame without a person; the lifter
//   runs on each contiguous run of frames with a person.

import Foundation

public struct Keypoints2D: Sendable {
    public var frames: [Int]
    /// Seconds from the start, when the file has them.
    public var times: [Double?]
    public var width: Int
    public var height: Int
    /// (N, 17, 2) pixels, x right, y down; rows of missing frames hold 0 and are flagged in `present`.
    public var points: [Float]
    public var present: [Bool]
    /// (N, 17) detector confidences when the file has them.
    public var scores: [Float]?

    public var count: Int { frames.count }

    public init(frames: [Int], times: [Double?], width: Int, height: Int, points: [Float], present: [Bool], scores: [Float]? = nil) {
        self.frames = frames; self.times = times; self.width = width; self.height = height
        self.points = points; self.present = present; self.scores = scores
    }

    /// Contiguous runs of frames with a person, as index ranges.
    public var segments: [Range<Int>] { runsOfTrue(present) }
}

/// The index ranges of the maximal runs of `true` in `flags`.
public func runsOfTrue(_ flags: [Bool]) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < flags.count {
        if !flags[i] { i += 1; continue }
        var j = i
        while j < flags.count && flags[j] { j += 1 }
        out.append(i..<j)
        i = j
    }
    return out
}

public enum Keypoints2DCSV {
    public static func read(path: String) throws -> Keypoints2D {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MHFormerError("\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MHFormerError("\(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MHFormerError("\(path): not a UTF-8 text file")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Keypoints2D {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard var header = lines.first, !header.isEmpty else { throw MHFormerError("\(path): empty file, expected a header row") }
        if header.hasPrefix("\u{FEFF}") { header.removeFirst() }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }

        // Map columns by name.
        var known: [String: Int] = [:]            // column name → index in the header
        var expected = ["frame", "width", "height", "time_s"]
        for j in Skeleton.jointNames { expected += ["\(j)_x", "\(j)_y", "\(j)_score"] }
        let expectedSet = Set(expected)
        for (i, n) in names.enumerated() {
            guard expectedSet.contains(n) else {
                if n.isEmpty { throw MHFormerError("\(path): header column \(i + 1) is empty") }
                if Double(n) != nil { throw MHFormerError("\(path): no header row (the first row holds numbers)") }
                throw MHFormerError("\(path): unknown column '\(n)' (expected frame, width, height, optional time_s, and <joint>_x/<joint>_y[/_score] for \(Skeleton.jointNames.joined(separator: ", ")))")
            }
            guard known[n] == nil else { throw MHFormerError("\(path): duplicate column '\(n)'") }
            known[n] = i
        }
        var required = ["frame", "width", "height"]
        for j in Skeleton.jointNames { required += ["\(j)_x", "\(j)_y"] }
        for r in required where known[r] == nil {
            throw MHFormerError("\(path): missing column '\(r)'")
        }
        let frameCol = known["frame"]!, widthCol = known["width"]!, heightCol = known["height"]!
        let timeCol = known["time_s"]
        let xyCols = Skeleton.jointNames.flatMap { [known["\($0)_x"]!, known["\($0)_y"]!] }
        let scoreCols = Skeleton.jointNames.map { known["\($0)_score"] }
        let hasScores = scoreCols.contains { $0 != nil }

        var result = Keypoints2D(frames: [], times: [], width: 0, height: 0, points: [], present: [],
                                 scores: hasScores ? [] : nil)
        for (li, line) in lines.enumerated().dropFirst() {
            let row = li + 1                       // 1-based line number, header = line 1
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == names.count else {
                throw MHFormerError("\(path): line \(row) has \(cells.count) columns, the header has \(names.count)")
            }
            func number(_ col: Int) throws -> Double {
                let cell = cells[col]
                guard let v = Double(cell), v.isFinite, !cell.lowercased().contains("nan"), !cell.lowercased().contains("inf") else {
                    if cell.isEmpty { throw MHFormerError("\(path): line \(row), column '\(names[col])': empty value") }
                    throw MHFormerError("\(path): line \(row), column '\(names[col])': '\(cell)' is not a finite number")
                }
                return v
            }
            let frameValue = try number(frameCol)
            guard frameValue == frameValue.rounded(), abs(frameValue) < 1e12 else {
                throw MHFormerError("\(path): line \(row), column 'frame': '\(cells[frameCol])' is not an integer")
            }
            let frame = Int(frameValue)
            if let prev = result.frames.last {
                if frame == prev { throw MHFormerError("\(path): line \(row): duplicate frame number \(frame)") }
                if frame < prev { throw MHFormerError("\(path): line \(row): frame \(frame) comes after frame \(prev) (frames must increase)") }
            }
            let w = try number(widthCol), h = try number(heightCol)
            guard w > 0, h > 0, w == w.rounded(), h == h.rounded() else {
                throw MHFormerError("\(path): line \(row): width and height must be positive integers (got \(cells[widthCol]) x \(cells[heightCol]))")
            }
            if result.frames.isEmpty {
                result.width = Int(w); result.height = Int(h)
            } else if Int(w) != result.width || Int(h) != result.height {
                throw MHFormerError("\(path): line \(row): image size \(Int(w))x\(Int(h)) differs from \(result.width)x\(result.height) of the first row")
            }
            var time: Double? = nil
            if let tc = timeCol, !cells[tc].isEmpty { time = try number(tc) }
            // A frame without a person: all coordinate cells empty.
            let empties = xyCols.filter { cells[$0].isEmpty }.count
            if empties == xyCols.count {
                result.points += [Float](repeating: 0, count: 34)
                result.present.append(false)
                result.scores? += [Float](repeating: 0, count: 17)
            } else {
                for c in xyCols { result.points.append(Float(try number(c))) }
                result.present.append(true)
                if hasScores {
                    for sc in scoreCols {
                        if let sc, !cells[sc].isEmpty { result.scores!.append(Float(try number(sc))) }
                        else { result.scores!.append(1) }
                    }
                }
            }
            result.frames.append(frame)
            result.times.append(time)
        }
        guard !result.frames.isEmpty else { throw MHFormerError("\(path): no data rows after the header") }
        guard result.present.contains(true) else { throw MHFormerError("\(path): no frame has keypoints (every row is empty)") }
        return result
    }

    /// Writes keypoints in the format `read` accepts (frames without a person as empty cells).
    public static func write(_ kp: Keypoints2D, to path: String) throws {
        var header = ["frame", "time_s", "width", "height"]
        for j in Skeleton.jointNames { header += ["\(j)_x", "\(j)_y"] }
        if kp.scores != nil { for j in Skeleton.jointNames { header.append("\(j)_score") } }
        var out = header.joined(separator: ",") + "\n"
        for i in 0..<kp.count {
            var cells = [String(kp.frames[i]), kp.times[i].map { formatDouble($0) } ?? "", String(kp.width), String(kp.height)]
            for c in 0..<34 { cells.append(kp.present[i] ? formatFloat(kp.points[i * 34 + c]) : "") }
            if let s = kp.scores { for j in 0..<17 { cells.append(kp.present[i] ? formatFloat(s[i * 17 + j]) : "") } }
            out += cells.joined(separator: ",") + "\n"
        }
        try AtomicFile.write(out, to: path)
    }
}

/// Shortest text that reads back as the same Float32.
public func formatFloat(_ v: Float) -> String { v == 0 ? "0" : "\(v)" }
public func formatDouble(_ v: Double) -> String { "\(v)" }
