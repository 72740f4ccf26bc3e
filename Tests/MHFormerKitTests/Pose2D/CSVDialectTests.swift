// The CSV dialect both keypoint CSVs are read in (CSVTokenizer): findings of a fuzz audit, each kept
// fixed by a test. Files that are valid CSV were refused (RFC 4180 quoting, CR-only line endings, a
// blank line in the middle, upper-case header names); error messages echoed whole cells (a 2 MB
// junk header gave a 2 MB error line); and reading split the whole text into Strings (200,000 rows
// took 22 s and 455 MB; the opt-in test at the end measures it).

import Foundation
import Testing
@testable import MHFormerKit

/// Every record of `text` as strings, with the line each starts on.
private func records(_ text: String) throws -> [(line: Int, fields: [String])] {
    var csv = CSVTokenizer(bytes: text.utf8, path: "t.csv")
    var out: [(line: Int, fields: [String])] = []
    while let r = try csv.next() { out.append((r.line, r.strings)) }
    return out
}

/// A valid 2D CSV of `rows` frames: header and rows as cells, for tests to quote, re-case and join.
/// Coordinates are (100 + 3 * column + row) / 4 (exact in binary), scores 0.5.
private func keypointCells(rows: Int = 4) -> [[String]] {
    var header = ["frame", "time_s", "width", "height"]
    for j in Skeleton.jointNames { header += ["\(j)_x", "\(j)_y"] }
    for j in Skeleton.jointNames { header.append("\(j)_score") }
    var table = [header]
    for i in 0..<rows {
        table.append(["\(i + 10)", "\(Double(i) / 4)", "640", "480"] + (0..<34).map { "\(Double(100 + 3 * $0 + i) / 4)" }
                     + Array(repeating: "0.5", count: 17))
    }
    return table
}

private func joined(_ table: [[String]], lineBreak: String = "\n") -> String {
    table.map { $0.joined(separator: ",") }.joined(separator: lineBreak) + lineBreak
}

@Suite("CSV dialect: RFC 4180 quoting, LF/CRLF/CR, blank lines, header case")
struct CSVDialectTests {
    // MARK: The tokenizer

    @Test("quoted fields: \"\" is one quote, commas and line breaks inside quotes are data")
    func quotedFields() throws {
        let r = try records("a,\"b\",\"c \"\"d\"\", e\"\n\"1\n2\",\"\",3\n")
        #expect(r.count == 2)
        #expect(r[0].fields == ["a", "b", "c \"d\", e"])
        #expect(r[0].line == 1)
        #expect(r[1].fields == ["1\n2", "", "3"])
        #expect(r[1].line == 2)                       // where the record starts; its quoted field runs over lines 2 and 3
    }

    @Test("LF, CRLF and CR (old Mac) line endings, mixed, and no line break at the end")
    func lineEndings() throws {
        let expected = [["a", "b"], ["1", "2"], ["3", "4"]]
        for text in ["a,b\n1,2\n3,4\n", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4\r", "a,b\r1,2\r\n3,4", "a,b\n1,2\r3,4"] {
            let r = try records(text)
            #expect(r.map(\.fields) == expected, "\(text.debugDescription)")
            #expect(r.map(\.line) == [1, 2, 3], "\(text.debugDescription)")
        }
        // A CR LF inside quotes is data, and still one line break for the line count.
        let r = try records("a,\"x\r\ny\"\r\n1,2\r\n")
        #expect(r.map(\.fields) == [["a", "x\r\ny"], ["1", "2"]])
        #expect(r.map(\.line) == [1, 3])
    }

    @Test("blank lines (empty, or only spaces and tabs) are skipped; line numbers still count them")
    func blankLines() throws {
        let r = try records("\n a , b \n\n \t\n1,2\r\n\r\n3,4\n\n\n")
        #expect(r.map(\.fields) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(r.map(\.line) == [2, 5, 7])
        // A line of two empty fields or one quoted empty field is not blank.
        #expect(try records("a,b\n,\n\"\"\n").map(\.fields) == [["a", "b"], ["", ""], [""]])
        #expect(try records("").isEmpty)
        #expect(try records("\n\r\n  \n").isEmpty)
    }

    @Test("byte order mark, spaces around fields, spaces inside quotes kept, a trailing comma")
    func spacesAndMarks() throws {
        #expect(try records("\u{FEFF}frame,x\n").map(\.fields) == [["frame", "x"]])
        #expect(try records("  1 ,\t\"  2 \"  , 3\t\n").map(\.fields) == [["1", "  2 ", "3"]])
        #expect(try records("1,2,\n").map(\.fields) == [["1", "2", ""]])
        // A quote inside an unquoted field is kept as a character.
        #expect(try records("5\",a\"b\n").map(\.fields) == [["5\"", "a\"b"]])
    }

    @Test("a quote never closed, text after a closing quote, bytes that are not UTF-8: one-line errors")
    func tokenizerErrors() throws {
        let unclosed = errorMessage { _ = try records("a,b\n1,\"2,3\n4,5\n") }
        #expect(unclosed == "t.csv: line 2, column 2: a quoted field has no closing quote")
        let after = errorMessage { _ = try records("a,b\n\n1,\"2\"x\n") }
        #expect(after == "t.csv: line 3, column 2: 'x' after a closing quote (a quote in a quoted field is written \"\")")
        var csv = CSVTokenizer(bytes: Array("a,b\n1,".utf8) + [0xC3, 0x28] + Array("\n".utf8), path: "t.csv")
        _ = try csv.next()
        #expect(errorMessage { _ = try csv.next() } == "t.csv: line 2: not a UTF-8 text file")
        // Valid UTF-8 beyond ASCII is fine.
        #expect(try records("é,\"ü\"\n").map(\.fields) == [["é", "ü"]])
    }

    @Test("a file is read in chunks: records that straddle the 1 MB chunk boundary read as from memory")
    func streamingAcrossChunks() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Rows of quoted fields with "" and CR LF inside, long enough to cross a chunk boundary at many
        // different states of the tokenizer.
        var text = "id,text,value\r\n"
        var i = 0
        while text.utf8.count < 2_300_000 {
            text += "\(i),\"row \(i) says \"\"hi\"\",\r\nover two lines\",\(Double(i) / 8)\r\n"
            if i % 7 == 0 { text += "\r\n" }          // blank lines too
            i += 1
        }
        let path = dir.appendingPathComponent("big.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var fromFile = try CSVTokenizer(path: path)
        var fromMemory = CSVTokenizer(bytes: text.utf8, path: path)
        var count = 0
        while let a = try fromMemory.next() {
            let b = try fromFile.next()
            #expect(b?.strings == a.strings && b?.line == a.line, "record \(count)")
            if b?.strings != a.strings { return }
            count += 1
        }
        #expect(try fromFile.next() == nil)
        #expect(count == i + 1)
    }

    // MARK: Keypoints2DCSV through the dialect

    @Test("our 2D CSV quoted (cells and header), with CR or CRLF line endings, a blank line, upper-case headers: same keypoints")
    func keypointsVariants() throws {
        let table = keypointCells()
        let plain = try Keypoints2DCSV.parse(joined(table), path: "k.csv")
        #expect(plain.frames == [10, 11, 12, 13])
        #expect(plain.points[0] == 25 && plain.points[1] == 25.75)          // (100 + 0) / 4, (100 + 3) / 4
        #expect(plain.times == [0, 0.25, 0.5, 0.75])
        #expect(plain.scores?.allSatisfy { $0 == 0.5 } == true)
        let quoted = table.map { $0.map { "\"\($0)\"" } }
        var upper = table
        upper[0] = upper[0].enumerated().map { i, name in
            i == 0 ? "FRAME" : i % 2 == 0 ? name.uppercased() : name.prefix(1).uppercased() + name.dropFirst()    // FRAME, Time_s, WIDTH, ...
        }
        var blankInside = table.map { $0.joined(separator: ",") }
        blankInside.insert("", at: 3)
        blankInside.insert("   ", at: 1)
        let variants = [
            ("quoted", joined(quoted)),
            ("CR only", joined(table, lineBreak: "\r")),
            ("CRLF, quoted", joined(quoted, lineBreak: "\r\n")),
            ("blank lines", blankInside.joined(separator: "\n")),
            ("upper-case header", joined(upper)),
            ("byte order mark, only the header quoted", "\u{FEFF}" + joined([quoted[0]] + table.dropFirst())),
        ]
        for (name, text) in variants {
            let kp = try Keypoints2DCSV.parse(text, path: "k.csv")
            #expect(kp.frames == plain.frames && kp.points == plain.points && kp.times == plain.times
                    && kp.scores == plain.scores && kp.width == 640 && kp.height == 480, "\(name)")
        }
        #expect(upper[0][4] == "PELVIS_X" && upper[0][5] == "Pelvis_y")
    }

    @Test("errors after a blank line name the file's line; a quoted comma or line break stays in its cell")
    func keypointsErrors() throws {
        var lines = keypointCells().map { $0.joined(separator: ",") }
        lines.insert("", at: 2)                                   // line 3 is blank; the third frame is on line 4
        var cells = keypointCells()[2]
        cells[6] = "\"1,5\""
        lines[3] = cells.joined(separator: ",")
        #expect(errorMessage { _ = try Keypoints2DCSV.parse(lines.joined(separator: "\n"), path: "k.csv") }
                == "k.csv: line 4, column 'right_hip_x': '1,5' is not a finite number")
        cells[6] = "\"1\n5\""
        lines[3] = cells.joined(separator: ",")
        #expect(errorMessage { _ = try Keypoints2DCSV.parse(lines.joined(separator: "\n"), path: "k.csv") }
                == "k.csv: line 4, column 'right_hip_x': '1\\n5' is not a finite number")
        // A column name is matched ignoring case, so two spellings of one name are a duplicate.
        var header = keypointCells()[0]
        header[1] = "FRAME"
        #expect(errorMessage { _ = try Keypoints2DCSV.parse(header.joined(separator: ",") + "\n", path: "k.csv") }
                == "k.csv: duplicate column 'FRAME'")
    }

    @Test("MediaPipe CSV: quoted, CR line endings, upper-case header, detected and read as the plain file")
    func mediaPipeVariants() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var header = ["frame", "width", "height"]
        for l in MediaPipeCSV.landmarkNames { header += ["\(l)_x", "\(l)_y", "\(l)_visibility"] }
        var table = [header]
        for f in 0..<3 {
            table.append(["\(f)", "1280", "720"] + (0..<33).flatMap { i in ["\(Double(f + i) / 64)", "\(Double(2 * i) / 128)", "0.75"] })
        }
        let plainPath = dir.appendingPathComponent("plain.csv").path
        try joined(table).write(toFile: plainPath, atomically: true, encoding: .utf8)
        let plain = try KeypointFiles.read(path: plainPath)
        #expect(plain.frames == [0, 1, 2] && plain.width == 1280)
        var odd = table.map { $0.map { "\"\($0)\"" } }
        odd[0] = odd[0].map { $0.uppercased() }
        let oddPath = dir.appendingPathComponent("odd.csv").path
        try ("\u{FEFF}" + joined(odd, lineBreak: "\r") + "\r\r").write(toFile: oddPath, atomically: true, encoding: .utf8)
        #expect(try KeypointFiles.detectFormat(path: oddPath) == .mediapipe)
        let kp = try KeypointFiles.read(path: oddPath)
        #expect(kp.frames == plain.frames && kp.points == plain.points && kp.scores == plain.scores)
        // Its errors name the file's line too, and quote the cell.
        odd[2][4] = "\"0x1p3\""
        try joined(odd, lineBreak: "\r").write(toFile: oddPath, atomically: true, encoding: .utf8)
        #expect(errorMessage { _ = try KeypointFiles.read(path: oddPath) }
                == "\(oddPath): line 3, column 'NOSE_Y': '0x1p3' is not a finite number")
    }

    // MARK: Error messages quote at most 80 bytes of input

    @Test("printable: control characters escaped, at most 80 bytes, cut at a character boundary with …")
    func printableLimit() {
        #expect(Keypoints2DCSV.printable("1.5") == "1.5")
        #expect(Keypoints2DCSV.printable("3\u{0}x\n") == "3\\0x\\n")
        #expect(Keypoints2DCSV.printable(String(repeating: "a", count: 80)) == String(repeating: "a", count: 80))
        #expect(Keypoints2DCSV.printable(String(repeating: "a", count: 81)) == String(repeating: "a", count: 80) + "…")
        #expect(Keypoints2DCSV.printable(String(repeating: "é", count: 50)) == String(repeating: "é", count: 40) + "…")   // 2 bytes each
        #expect(Keypoints2DCSV.printable(String(repeating: "\u{1}", count: 30)) == String(repeating: "\\u{01}", count: 13) + "…")  // 6 bytes each
    }

    @Test("a 2 MB junk header or cell gives one short line naming the file and the problem")
    func junkInput() throws {
        let junk = String(repeating: "junk\u{0}\u{7}", count: 350_000)        // 2.1 MB, control bytes included
        let table = keypointCells()
        /// A fifth data row (frame 99, the file's line 6) with cell `column` replaced by `value`.
        func withRow(_ column: Int, _ value: String) -> String {
            var row = table[1]
            row[0] = "99"
            row[column] = value
            return joined(table + [row])
        }
        let inputs = [
            (junk + "\n" + joined(Array(table.dropFirst())), "unknown column 'junk\\0\\u{07}junk"),
            (table[0].joined(separator: ",") + "," + junk + "\n", "unknown column 'junk"),
            (withRow(8, junk), "line 6, column 'right_knee_x': 'junk\\0\\u{07}"),
            (withRow(0, "\"" + junk + "\""), "line 6, column 'frame': 'junk"),
        ]
        for (text, mentions) in inputs {
            let message = errorMessage { _ = try Keypoints2DCSV.parse(text, path: "k.csv") }
            #expect(message.hasPrefix("k.csv: ") && message.contains(mentions), "\(message.prefix(300))")
            #expect(!message.contains("\n") && !message.contains("\u{0}"), "\(message.prefix(300))")
            #expect(message.contains("…"), "\(message.prefix(300))")
            // The message's own words plus at most 80 bytes of the input (and an ellipsis).
            let quoted = message.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { $0.element.utf8.count }
            #expect(quoted.allSatisfy { $0 <= 80 + "…".utf8.count }, "\(quoted)")
            #expect(message.utf8.count < 400, "\(message.utf8.count) bytes")
        }
    }

    @Test("the CLI: a 2 MB junk header is one short error line")
    func junkHeaderCLI() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("k.csv").path
        try (String(repeating: "x", count: 2_000_000) + "\n1,2\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try run(Paths.tool, ["lift", "--keypoints", csv, "-o", dir.appendingPathComponent("out.csv").path])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(csv): unknown column '\(String(repeating: "x", count: 80))…' (expected frame, width, height, optional time_s, and <joint>_x/<joint>_y[/_score] for \(Skeleton.jointNames.joined(separator: ", ")))\n")
    }

    @Test("the tests' run() takes a child's 1 MB of stderr without hanging (the old code's 2 MB error line hung it)")
    func runDrainsStderr() throws {
        let r = try run("/bin/sh", ["-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done"])
        #expect(r.status == 0 && r.stdout == "done\n")
        #expect(r.stderr.utf8.count == 1_000_000)
    }

    // MARK: Speed and memory (opt-in: writes a 114 MB file)

    /// GNU time, which reports the peak memory of the command it runs. (getrusage(RUSAGE_CHILDREN)
    /// here would not do: it counts the test process's own memory, copied into the child at fork.)
    static let gnuTime = "/usr/bin/time"

    @Test("200,000 rows are read in under 5 s and 200 MB (MHFORMER_CSV_BENCH=1)",
          .enabled(if: ProcessInfo.processInfo.environment["MHFORMER_CSV_BENCH"] != nil, "set MHFORMER_CSV_BENCH=1 to run"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: gnuTime), "needs GNU time (Debian: apt-get install time)"))
    func twoHundredThousandRows() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = 200_000
        var kp = Keypoints2D(frames: Array(0..<rows), times: (0..<rows).map { Double($0) / 30 }, width: 1920, height: 1080,
                             points: [], present: Array(repeating: true, count: rows), scores: [])
        kp.points = (0..<(rows * 34)).map { Float(($0 * 7919) % 1_900_000) / 1000 + 0.123 }
        kp.scores = (0..<(rows * 17)).map { Float(($0 * 104_729) % 1000) / 1000 }
        let csv = dir.appendingPathComponent("k.csv").path
        try Keypoints2DCSV.write(kp, to: csv)
        // A bad last row: `lift` reads every row, then stops with an error before lifting.
        let handle = try #require(FileHandle(forWritingAtPath: csv))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\(rows),,1920,1080\(String(repeating: ",oops", count: 34 + 17))\n".utf8))
        try handle.close()
        let r = try run(Self.gnuTime, ["-f", "time %e s, peak %M KB", Paths.tool, "lift", "--keypoints", csv,
                                       "-o", dir.appendingPathComponent("out.csv").path])
        let report = try #require(r.stderr.split(separator: "\n").last { $0.hasPrefix("time ") }, "\(r.stderr)")
        let numbers = report.split(separator: " ").compactMap { Double($0) }       // [seconds, KB]
        try #require(numbers.count == 2, "\(report)")
        let seconds = numbers[0], peakMB = numbers[1] / 1024
        print("200,000 rows: \(seconds) s, peak \(peakMB) MB (\(Paths.tool))")
        #expect(r.stderr.contains("line \(rows + 2), column 'pelvis_x': 'oops' is not a finite number"), "\(r.stderr)")
        #expect(seconds < 5, "\(seconds) s")
        #expect(peakMB < 200, "\(peakMB) MB")
    }
}
