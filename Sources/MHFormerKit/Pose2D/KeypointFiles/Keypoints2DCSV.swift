// The 2D keypoint CSV that `mhformer lift` reads (and `mhformer run` writes):
//   header row; columns `frame`, `width`, `height` (image size, pixels), `<joint>_x`, `<joint>_y` for
//   the 17 Human3.6M joints; optional `time_s` and `<joint>_score`. Columns are matched by name, in
//   any order, ignoring case. A row whose 34 coordinate cells are all empty is a frame without a
//   person; the lifter runs on each contiguous run of frames with a person. The CSV dialect (quoting,
//   line endings, blank lines) is CSVTokenizer's.

import Foundation


public enum Keypoints2DCSV {
    public static func read(path: String) throws -> Keypoints2D {
        var csv = try CSVTokenizer(path: path)
        return try parse(&csv, path: path)
    }

    /// Reads `text`, a whole file's content; errors name `path`.
    public static func parse(_ text: String, path: String) throws -> Keypoints2D {
        var csv = CSVTokenizer(bytes: text.utf8, path: path)
        return try parse(&csv, path: path)
    }

    private static func parse(_ csv: inout CSVTokenizer, path: String) throws -> Keypoints2D {
        guard let header = try csv.next() else { throw MHFormerError("\(path): empty file, expected a header row") }
        let names = header.strings

        // Map columns by name, ignoring case (`Pelvis_X` is `pelvis_x`).
        var known: [String: Int] = [:]            // column name → index in the header
        var expected = ["frame", "width", "height", "time_s"]
        for j in Skeleton.jointNames { expected += ["\(j)_x", "\(j)_y", "\(j)_score"] }
        let expectedSet = Set(expected)
        for (i, name) in names.enumerated() {
            let n = name.lowercased()
            guard expectedSet.contains(n) else {
                if n.isEmpty { throw MHFormerError("\(path): header column \(i + 1) is empty") }
                if parseDecimal(n) != nil { throw MHFormerError("\(path): no header row (the first row holds numbers)") }
                throw MHFormerError("\(path): unknown column '\(printable(name))' (expected frame, width, height, optional time_s, and <joint>_x/<joint>_y[/_score] for \(Skeleton.jointNames.joined(separator: ", ")))")
            }
            guard known[n] == nil else { throw MHFormerError("\(path): duplicate column '\(printable(name))'") }
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
        while let cells = try csv.next() {
            let row = cells.line                   // the file's line, header = line 1 (blank lines count)
            guard cells.count == names.count else {
                throw MHFormerError("\(path): line \(row) has \(cells.count) columns, the header has \(names.count)")
            }
            func number(_ col: Int) throws -> Double {
                // Only plain decimal text: Double(String) alone also takes hex floats ("0x1p3"), "nan",
                // "inf", and stops at an embedded NUL ("3\0garbage" reads as 3).
                guard let v = cells.withField(col, parseDecimal), v.isFinite else {
                    if cells.isEmpty(col) { throw MHFormerError("\(path): line \(row), column '\(printable(names[col]))': empty value") }
                    throw MHFormerError("\(path): line \(row), column '\(printable(names[col]))': '\(printable(cells.string(col)))' is not a finite number")
                }
                return v
            }
            /// A value stored as Float32 (coordinates, scores): finite as a Double is not enough, 1e39
            /// would become +inf on conversion. `limit` bounds the magnitude where later code needs it.
            func float(_ col: Int, limit: Float = .greatestFiniteMagnitude) throws -> Float {
                let v = Float(try number(col))
                guard v.isFinite, abs(v) <= limit else {
                    throw MHFormerError("\(path): line \(row), column '\(printable(names[col]))': '\(printable(cells.string(col)))' is out of range (at most \(limit) in magnitude)")
                }
                return v
            }
            let frameValue = try number(frameCol)
            guard frameValue == frameValue.rounded(), abs(frameValue) < 1e12 else {
                throw MHFormerError("\(path): line \(row), column 'frame': '\(printable(cells.string(frameCol)))' is not an integer")
            }
            let frame = Int(frameValue)
            if let prev = result.frames.last {
                if frame == prev { throw MHFormerError("\(path): line \(row): duplicate frame number \(frame)") }
                if frame < prev { throw MHFormerError("\(path): line \(row): frame \(frame) comes after frame \(prev) (frames must increase)") }
            }
            let (w, h) = try rowImageSize(width: try number(widthCol), height: try number(heightCol),
                                          widthText: cells.string(widthCol), heightText: cells.string(heightCol), path: path, line: row)
            if result.frames.isEmpty {
                result.width = w; result.height = h
            } else if w != result.width || h != result.height {
                throw MHFormerError("\(path): line \(row): image size \(w)x\(h) differs from \(result.width)x\(result.height) of the first row")
            }
            var time: Double? = nil
            if let tc = timeCol, !cells.isEmpty(tc) { time = try number(tc) }
            // A frame without a person: all coordinate cells empty.
            if xyCols.allSatisfy({ cells.isEmpty($0) }) {
                result.points.append(contentsOf: repeatElement(0, count: 34))
                result.present.append(false)
                result.scores?.append(contentsOf: repeatElement(0, count: 17))
            } else {
                for c in xyCols { result.points.append(try float(c, limit: maxCoordinate)) }
                result.present.append(true)
                if hasScores {
                    for sc in scoreCols {
                        if let sc, !cells.isEmpty(sc) { result.scores!.append(try float(sc)) }
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

    /// A row's width and height cells (`widthText`, `heightText` as written, for the message) as a
    /// pixel size: integers from 1 to `maxImageSide`. Checked before Int(w): converting a Double
    /// >= 2^63 to Int traps. The limit is far above any real image and keeps later pixel arithmetic
    /// (e.g. width * height) well inside Int.
    static func rowImageSize(width w: Double, height h: Double, widthText: String, heightText: String,
                             path: String, line: Int) throws -> (width: Int, height: Int) {
        guard w > 0, h > 0, w <= Double(maxImageSide), h <= Double(maxImageSide), w == w.rounded(), h == h.rounded() else {
            throw MHFormerError("\(path): line \(line): width and height must be positive integers up to \(maxImageSide) (got \(printable(widthText)) x \(printable(heightText)))")
        }
        return (Int(w), Int(h))
    }

    /// The largest width or height accepted, in pixels.
    public static let maxImageSide = 100_000
    /// The largest coordinate magnitude accepted, in pixels: points may lie outside the image (guessed
    /// joints), but not absurdly far; drawing code converts them to Int, which traps beyond 2^63.
    public static let maxCoordinate: Float = 10_000_000

    /// `text` as a Double when it is plain decimal notation: an optional sign, digits with at most one
    /// decimal point (at least one digit), and an optional exponent `e`/`E` [sign] digits. Anything
    /// else (hex floats, nan, inf, embedded NULs or other trailing characters) gives nil.
    static func parseDecimal(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parseDecimal($0) }
    }

    /// `parseDecimal` of a cell's UTF-8 bytes, as the CSV readers call it (no String per cell).
    static func parseDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        var mantissaDigits = digits()
        if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; mantissaDigits += digits() }
        guard mantissaDigits > 0 else { return nil }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == b.count else { return nil }
        // The text is plain decimal now; 1e400 gives +inf, rejected by callers. A String of up to 15
        // bytes is stored inline, so this allocates nothing for the numbers a CSV holds.
        return Double(String(decoding: b, as: UTF8.self))
    }

    /// The most bytes of input an error message quotes (see `printable`).
    static let quoteLimit = 80

    /// Input text as an error message can quote it: on one line (control characters such as a NUL or
    /// a newline escaped, `\0`, `\n`) and short: at most `limit` bytes, cut at a character boundary
    /// and ended with "…" when longer, so that a 2 MB junk header gives a one-line message.
    static func printable(_ text: String, limit: Int = quoteLimit) -> String {
        var out = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let piece = scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
            bytes += piece.utf8.count
            guard bytes <= limit else { return out + "…" }
            out += piece
        }
        return out
    }

    /// Writes keypoints in the format `read` accepts (frames without a person as empty cells).
    public static func write(_ kp: Keypoints2D, to path: String) throws {
        var header = ["frame", "time_s", "width", "height"]
        for j in Skeleton.jointNames { header += ["\(j)_x", "\(j)_y"] }
        if kp.scores != nil { for j in Skeleton.jointNames { header.append("\(j)_score") } }
        var out = header.joined(separator: ",") + "\n"
        for i in 0..<kp.count {
            var cells = [String(kp.frames[i]), kp.times[i].map { formatDouble($0) } ?? "", String(kp.width), String(kp.height)]
            for v in kp.row(i) { cells.append(kp.present[i] ? formatFloat(v) : "") }
            if let s = kp.scores { for j in 0..<17 { cells.append(kp.present[i] ? formatFloat(s[i * 17 + j]) : "") } }
            out += cells.joined(separator: ",") + "\n"
        }
        try AtomicFile.write(out, to: path)
    }
}
