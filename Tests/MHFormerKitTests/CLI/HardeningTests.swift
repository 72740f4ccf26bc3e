// Findings of a fuzz audit, each kept fixed by a test: numbers in the 2D CSV that trapped or were
// read wrongly, safetensors shapes whose size overflows, safetensors layouts the format forbids
// (overlapping tensors, bytes no tensor covers), weights that are not finite, outputs that overwrite
// an input (directly or through a symlink or hard link), and NaN results written with exit status 0.
// Every failure must be one line `error: <file>: <problem>`, exit status 1, no output file, and
// inputs left byte-identical.
//
// The failing cases run the built `mhformer` binary rather than calling the library in process: before
// the fixes several of them trapped, which would have taken the whole test runner down. (Checks that
// never trapped, such as the weights' layout and values, call the library.)

import Foundation
import Testing
@testable import MHFormerKit

/// A valid 2D CSV (a still pose with small per-frame motion), as lines, for the tests to corrupt.
/// With `scores`, 17 `<joint>_score` columns follow.
private func csvLines(rows: Int = 5, scores: Bool = false) -> [String] {
    var header = ["frame", "width", "height"]
    for j in Skeleton.jointNames { header += ["\(j)_x", "\(j)_y"] }
    if scores { for j in Skeleton.jointNames { header.append("\(j)_score") } }
    var lines = [header.joined(separator: ",")]
    for i in 0..<rows {
        var cells = ["\(i)", "640", "480"] + (0..<34).map { "\(100 + $0 * 3 + i)" }
        if scores { cells += Array(repeating: "0.9", count: 17) }
        lines.append(cells.joined(separator: ","))
    }
    return lines
}

/// `line` with cell `column` (0-based) replaced by `value`.
private func replacing(_ line: String, _ column: Int, with value: String) -> String {
    var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    cells[column] = value
    return cells.joined(separator: ",")
}

/// Runs `mhformer` with `args` and checks the failure contract: exit status 1, one line
/// `error: ...` mentioning each of `mentions`, no crash, none of `absent` created, each file in
/// `unchanged` still byte-identical, no temporary files left in `dir`.
private func expectRefusal(_ args: [String], in dir: URL, mentions: [String], absent: [String] = [], unchanged: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
    let before = try unchanged.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    let r = try run(Paths.tool, args)
    #expect(r.status == 1, "expected exit status 1, got \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1,
            "expected one line 'error: ...', got: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)", sourceLocation: sourceLocation)
    for m in mentions {
        #expect(r.stderr.contains(m), "stderr should mention '\(m)': \(r.stderr)", sourceLocation: sourceLocation)
    }
    for path in absent {
        #expect(!FileManager.default.fileExists(atPath: path), "output \(path) written", sourceLocation: sourceLocation)
    }
    for (path, data) in zip(unchanged, before) {
        #expect((try? Data(contentsOf: URL(fileURLWithPath: path))) == data, "input \(path) was changed", sourceLocation: sourceLocation)
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter(isTemporaryName)
    #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)", sourceLocation: sourceLocation)
}

/// Whether a file name is one of the tool's temporary names (AtomicFile, OutputBatch).
func isTemporaryName(_ name: String) -> Bool { name.hasPrefix(".tmp-") || name.hasPrefix(".partial-") || name.contains(".tmp-") }

// MARK: - Numbers in the 2D keypoints CSV

@Suite("2D CSV numbers are range-checked and strictly decimal")
struct HardeningCSVTests {
    /// Writes `text` (raw bytes, NULs included) as k.csv and runs `lift` on it.
    private func expectBadCSV(_ text: String, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("k.csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
        let out = dir.appendingPathComponent("out.csv").path
        try expectRefusal(["lift", "--keypoints", csv, "-o", out], in: dir, mentions: ["k.csv"] + mentions, absent: [out],
                          sourceLocation: sourceLocation)
    }

    @Test("width or height >= 2^63 (used to trap converting to Int) or above the limit", arguments: ["1e19", "1e308", "9223372036854775808", "100001"])
    func hugeImageSize(value: String) throws {
        var lines = csvLines()
        lines[1] = replacing(lines[1], 1, with: value)
        try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 2", "width and height", "100000"])
        lines = csvLines()
        lines[3] = replacing(lines[3], 2, with: value)
        try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 4", "width and height"])
    }

    @Test("a coordinate beyond Float32 (1e39 would become +inf) or absurdly far", arguments: ["1e39", "-1e39", "3e38", "1e8"])
    func coordinateOutOfRange(value: String) throws {
        var lines = csvLines()
        lines[2] = replacing(lines[2], 7, with: value)
        try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 3", "'\(value)'", "out of range"])
    }

    @Test("a score beyond Float32")
    func scoreOutOfRange() throws {
        var lines = csvLines(scores: true)
        lines[2] = replacing(lines[2], 40, with: "1e39")
        try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 3", "_score", "'1e39'", "out of range"])
    }

    @Test("trailing garbage, hex floats and other non-decimal text",
          arguments: ["3\u{0}garbage", "0x1p3", "0x10", "1e", "1.2.3", "--1", "1e5x", "1_000", "infinity", "0x1p3\u{0}"])
    func notDecimal(value: String) throws {
        var lines = csvLines()
        lines[2] = replacing(lines[2], 7, with: value)
        try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 3", "not a finite number"])
    }

    @Test("garbage after a NUL in width, height and frame")
    func nulInIntegerColumns() throws {
        for column in 0...2 {
            var lines = csvLines()
            lines[1] = replacing(lines[1], column, with: "3\u{0}garbage")
            try expectBadCSV(lines.joined(separator: "\n"), mentions: ["line 2", "not a finite number", "\\0"])
        }
    }

    @Test("the decimal grammar: what is accepted and what is not")
    func decimalGrammar() {
        for (text, value) in [("1", 1.0), ("-1.5", -1.5), ("+2", 2), (".5", 0.5), ("5.", 5), ("1e3", 1000), ("1E-3", 0.001),
                              ("-0", 0), ("007", 7), ("1.5e+2", 150)] {
            #expect(Keypoints2DCSV.parseDecimal(text) == value, "\(text)")
        }
        for text in ["", ".", "-", "e5", "1e", "1e+", "0x1p3", "nan", "inf", "-inf", " 1", "1 ", "3\u{0}9", "1,5", "١"] {
            #expect(Keypoints2DCSV.parseDecimal(text) == nil, "\(text.debugDescription)")
        }
    }

    @Test("plain values still read (exponent notation, signs, no fraction digits)")
    func plainValuesAccepted() throws {
        var lines = csvLines()
        lines[1] = replacing(replacing(replacing(lines[1], 1, with: "6.4e2"), 7, with: "+1.5E2"), 8, with: "150.")
        let kp = try Keypoints2DCSV.parse(lines.joined(separator: "\n"), path: "k.csv")
        #expect(kp.width == 640)
        #expect(kp.points[4] == 150 && kp.points[5] == 150)
    }
}

// MARK: - safetensors shapes whose size overflows

@Suite("safetensors shapes whose element count overflows")
struct HardeningSafeTensorsTests {
    /// A safetensors file with one F32 tensor 'w' of the given shape (as JSON text) and 4 data bytes.
    private func writeWeights(shapeJSON: String, to path: String) throws {
        var json = Data("{\"w\":{\"dtype\":\"F32\",\"shape\":\(shapeJSON),\"data_offsets\":[0,4]}}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(Data(count: 4))
        try out.write(to: URL(fileURLWithPath: path))
    }

    @Test("shape product overflows Int (used to trap in shape.reduce(1, *))",
          arguments: ["[4294967296, 4294967296]", "[9223372036854775807]", "[2, 4611686018427387904]", "[3037000500, 3037000500]"])
    func overflowingShape(shape: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("huge.safetensors").path
        try writeWeights(shapeJSON: shape, to: weights)
        let csv = dir.appendingPathComponent("k.csv").path
        try csvLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.csv").path
        try expectRefusal(["lift", "--keypoints", csv, "--weights", weights, "-o", out], in: dir,
                          mentions: ["huge.safetensors", "tensor 'w'", "overflows"], absent: [out], unchanged: [weights])
    }

    @Test("non-integer, negative or out-of-Int shape entries are errors, not dropped or wrapped",
          arguments: ["[2.5]", "[\"4\"]", "[-1]", "[18446744073709551615]", "[1e30]"])
    func malformedShape(shape: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("odd.safetensors").path
        try writeWeights(shapeJSON: shape, to: weights)
        #expect(throws: MHFormerError.self) { _ = try SafeTensorsFile(path: weights) }
        do { _ = try SafeTensorsFile(path: weights) } catch let e as MHFormerError {
            #expect(e.message.contains("odd.safetensors") && e.message.contains("'w'"), "\(e.message)")
        }
    }

    @Test("the product helper")
    func checkedProduct() {
        #expect(SafeTensorsFile.checkedProduct([]) == 1)
        #expect(SafeTensorsFile.checkedProduct([3, 4, 5]) == 60)
        #expect(SafeTensorsFile.checkedProduct([0, Int.max, 2]) == 0)
        #expect(SafeTensorsFile.checkedProduct([Int.max, 2]) == nil)
        #expect(SafeTensorsFile.checkedProduct([1 << 32, 1 << 32]) == nil)
    }
}

// MARK: - safetensors layout and weight values

@Suite("safetensors layout rules and finite weights, checked at load")
struct HardeningWeightsLayoutTests {
    /// A safetensors file with the JSON header `header` (padded to 8 bytes) and `data` after it.
    private func write(header: String, data: [UInt8], to path: String) throws {
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(contentsOf: data)
        try out.write(to: URL(fileURLWithPath: path))
    }

    /// The bytes of Float32 `values`, little-endian.
    private func bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// The one-line message of what `body` throws (nil when it does not throw an MHFormerError).
    private func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as MHFormerError { return e.message } catch { return nil }
        return nil
    }

    /// The format pads its header to a multiple of 8 bytes; the same file with the padding cut
    /// (header length 4 bytes shorter, data moved up) parses as JSON but is refused.
    @Test("a header length that leaves the data unaligned is refused; the padded file opens")
    func unalignedDataStart() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var padded = Array(header.utf8)
        while padded.count % 8 != 0 { padded.append(0x20) }
        func file(_ h: [UInt8]) -> Data { Data(withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + bytes([1.5])) }
        #expect(try Array(SafeTensorsFile(data: file(padded), name: "ok.safetensors").entries.keys) == ["w"])
        let unpadded = Array(header.utf8) + [0x20]            // 54 + 1 = 55 bytes: not a multiple of 8
        #expect(unpadded.count % 8 != 0)
        #expect(message { _ = try SafeTensorsFile(data: file(unpadded), name: "short.safetensors") }
                == "short.safetensors: not a safetensors file (header length 55 is not a multiple of 8: the data would not start 8-byte aligned)")
    }

    @Test("two tensors sharing bytes: refused on opening, naming the file and both tensors")
    func overlappingTensors() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("overlap.safetensors").path
        try write(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                  data: bytes([1, 2, 3]), to: path)
        let m = try #require(message { _ = try SafeTensorsFile(path: path) }, "an overlap must be refused")
        #expect(m.contains("overlap.safetensors") && m.contains("'a'") && m.contains("'b'") && m.contains("overlap"), "\(m)")
        #expect(!m.contains("\n"))
    }

    @Test("bytes no tensor covers (a gap between tensors, or trailing bytes): refused once every tensor was found",
          arguments: [(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, "4..<8"),
                      (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "8..<12")])
    func uncoveredBytes(header: String, range: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gap.safetensors").path
        try write(header: header, data: bytes([1, 2, 3]), to: path)
        let w = try StrictWeights(path: path, model: "a test model")
        #expect(try w.floats("a", [1]) == [1])
        _ = try w.floats("b", [1])
        let m = try #require(message { try w.finish() }, "uncovered bytes must be refused")
        #expect(m.contains("gap.safetensors") && m.contains(range) && m.contains("no tensor"), "\(m)")
        // exactly covered: accepted
        let good = dir.appendingPathComponent("good.safetensors").path
        try write(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                  data: bytes([1, 2, 3]), to: good)
        let g = try StrictWeights(path: good, model: "a test model")
        _ = try g.floats("a", [1]); _ = try g.floats("b", [2])
        #expect(throws: Never.self) { try g.finish() }
    }

    @Test("a NaN or infinite weight: refused on loading, naming the file and the tensor", arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeight(value: Float) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.safetensors").path
        try write(header: #"{"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                  data: bytes([1, 2, value]), to: path)
        let w = try StrictWeights(path: path, model: "a test model")
        #expect(try w.floats("ok", [1]) == [1])
        let m = try #require(message { _ = try w.floats("w", [2]) }, "a non-finite weight must be refused")
        #expect(m.contains("bad.safetensors") && m.contains("tensor 'w'") && m.contains("not finite") && m.contains("index 1"), "\(m)")
    }

    @Test("the shipped weights with bytes appended: lift refuses them in one line", .enabled(if: DefaultWeights.find() != nil, "Models/mhformer-cmu-T*.safetensors absent"))
    func trailingBytesThroughLift() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var data = try Data(contentsOf: URL(fileURLWithPath: try #require(DefaultWeights.find())))
        let end = data.count
        data.append(contentsOf: [UInt8](repeating: 7, count: 16))
        let weights = dir.appendingPathComponent("appended.safetensors").path
        try data.write(to: URL(fileURLWithPath: weights))
        let csv = dir.appendingPathComponent("k.csv").path
        try csvLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.csv").path
        let header = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        try expectRefusal(["lift", "--keypoints", csv, "--weights", weights, "-o", out], in: dir,
                          mentions: ["appended.safetensors", "\(end - 8 - header)..<\(end + 16 - 8 - header)", "no tensor"],
                          absent: [out], unchanged: [weights])
    }
}

// MARK: - Outputs never overwrite an input

@Suite("an output that is an input (or another output) is refused before any work")
struct HardeningOutputPathTests {
    /// A folder with a valid k.csv; returns (folder, k.csv path).
    private func setUp() throws -> (URL, String) {
        let dir = try Paths.tempDir()
        let csv = dir.appendingPathComponent("k.csv").path
        try csvLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        return (dir, csv)
    }

    @Test("lift --keypoints same.csv -o same.csv")
    func liftSameFile() throws {
        let (dir, csv) = try setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        try expectRefusal(["lift", "--keypoints", csv, "-o", csv], in: dir, mentions: ["k.csv", "-o", "--keypoints", "input"], unchanged: [csv])
        // The same file under another spelling: relative, with ./ and ../ in it.
        let other = dir.path + "/./sub/../k.csv"
        try expectRefusal(["lift", "--keypoints", csv, "-o", other], in: dir, mentions: ["input"], unchanged: [csv])
    }

    @Test("-o link.csv where link.csv is a symlink to the input, and a symlinked folder")
    func liftThroughSymlink() throws {
        let (dir, csv) = try setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let link = dir.appendingPathComponent("link.csv").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: csv)
        try expectRefusal(["lift", "--keypoints", csv, "-o", link], in: dir, mentions: ["link.csv", "input"], unchanged: [csv])
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == csv, "the symlink was replaced")

        let folderLink = dir.appendingPathComponent("alias").path
        try FileManager.default.createSymbolicLink(atPath: folderLink, withDestinationPath: dir.path)
        try expectRefusal(["lift", "--keypoints", csv, "-o", folderLink + "/k.csv"], in: dir, mentions: ["input"], unchanged: [csv])
    }

    @Test("a hard link to the input")
    func liftThroughHardLink() throws {
        let (dir, csv) = try setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hard = dir.appendingPathComponent("hard.csv").path
        try FileManager.default.linkItem(atPath: csv, toPath: hard)
        try expectRefusal(["lift", "--keypoints", csv, "-o", hard], in: dir, mentions: ["hard.csv", "input"], unchanged: [csv, hard])
    }

    @Test("--plot or --overlay onto the input, the weights, or the 3D output")
    func liftOtherOutputs() throws {
        let (dir, csv) = try setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("w.safetensors").path
        try Data("not really weights".utf8).write(to: URL(fileURLWithPath: weights))
        let out = dir.appendingPathComponent("out.csv").path
        try expectRefusal(["lift", "--keypoints", csv, "-o", out, "--plot", csv], in: dir, mentions: ["--plot", "input"],
                          absent: [out], unchanged: [csv])
        try expectRefusal(["lift", "--keypoints", csv, "-o", out, "--weights", weights, "--overlay", weights], in: dir,
                          mentions: ["--overlay", "--weights"], absent: [out], unchanged: [csv, weights])
        try expectRefusal(["lift", "--keypoints", csv, "-o", out, "--plot", out], in: dir, mentions: ["-o", "--plot", "same file"],
                          absent: [out], unchanged: [csv])
    }

    @Test("run vid.mp4 --overlay vid.mp4; --keypoints-2d X.csv -o X.csv; -o onto the video")
    func runSameFile() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Not a real video: the refusal must come before the video is opened (or any model loaded).
        let video = dir.appendingPathComponent("vid.mp4").path
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: video))
        let out = dir.appendingPathComponent("out.csv").path
        try expectRefusal(["run", video, "-o", out, "--overlay", video], in: dir, mentions: ["vid.mp4", "--overlay", "input"],
                          absent: [out], unchanged: [video])
        let x = dir.appendingPathComponent("X.csv").path
        try expectRefusal(["run", video, "--keypoints-2d", x, "-o", x], in: dir, mentions: ["X.csv", "--keypoints-2d", "same file"],
                          absent: [x], unchanged: [video])
        let link = dir.appendingPathComponent("vid-link.csv").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: video)
        try expectRefusal(["run", video, "-o", link], in: dir, mentions: ["vid-link.csv", "input"], unchanged: [video])
        try expectRefusal(["run", video, "-o", out, "--plot", video], in: dir, mentions: ["--plot", "input"], absent: [out], unchanged: [video])
    }

    @Test("resolution helper: missing files resolve through their folder; different files differ")
    func resolution() throws {
        let (dir, csv) = try setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folderLink = dir.appendingPathComponent("alias").path
        try FileManager.default.createSymbolicLink(atPath: folderLink, withDestinationPath: dir.path)
        #expect(OutputPaths.sameFile(folderLink + "/new.csv", dir.path + "/new.csv"))
        #expect(OutputPaths.sameFile(folderLink + "/k.csv", csv))
        #expect(!OutputPaths.sameFile(dir.path + "/new.csv", csv))
        #expect(!OutputPaths.sameFile(dir.path + "/a.csv", dir.path + "/b.csv"))
        #expect(throws: Never.self) {
            try OutputPaths.checkDistinct(outputs: [("-o", dir.path + "/out.csv"), ("--plot", nil)], inputs: [("--keypoints", csv)])
        }
    }
}

// MARK: - Non-finite results

@Suite("NaN or infinite 3D results are an error, not written", .enabled(if: DefaultWeights.find() != nil, "Models/mhformer-cmu-T*.safetensors absent"))
struct HardeningFiniteOutputTests {
    @Test("weights containing NaN: error naming the weights, no output, exit 1", arguments: ["camera", "world"])
    func nanWeights(coords: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shipped = try SafeTensorsFile(path: try #require(DefaultWeights.find()))
        var tensors: [String: ([Int], [Float])] = [:]
        for (name, e) in shipped.entries where shipped.isFloating(name) { tensors[name] = (e.shape, try shipped.floats(name)) }
        let bias = try #require(tensors["regression.1.bias"], "the final layer's bias")
        tensors["regression.1.bias"] = (bias.0, [Float](repeating: .nan, count: bias.1.count))
        let weights = dir.appendingPathComponent("nan.safetensors").path
        try writeSafetensors(tensors, to: weights)
        let csv = dir.appendingPathComponent("k.csv").path
        try csvLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        for format in ["csv", "bvh"] {
            let out = dir.appendingPathComponent("out.\(format)").path
            let plot = dir.appendingPathComponent("p.png").path
            try expectRefusal(["lift", "--keypoints", csv, "--weights", weights, "-o", out, "--plot", plot, "--coords", coords, "--no-flip"],
                              in: dir, mentions: ["nan.safetensors", "not finite"], absent: [out, plot], unchanged: [csv, weights])
        }
    }

    @Test("good weights: the same command writes finite output (the checks do not reject valid runs)")
    func goodWeights() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("k.csv").path
        try csvLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.csv").path
        try "an older result".write(toFile: out, atomically: true, encoding: .utf8)   // replacing an earlier output is fine
        let r = try run(Paths.tool, ["lift", "--keypoints", csv, "-o", out, "--no-flip"])
        #expect(r.status == 0, "\(r.stderr)")
        let (frames, values) = try read3DCSV(out)
        #expect(frames == Array(0..<5))
        #expect(values.count == 5 * 51 && values.allSatisfy { $0.isFinite })
    }
}
