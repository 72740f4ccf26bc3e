// The command line end to end: convert an official-format checkpoint, write the 2D CSV, run
// `mhformer lift`, compare with the official demo's output. And every class of bad input: a one-line
// error naming the file, a non-zero exit, and no output file left behind.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("mhformer lift, end to end", .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent: CLI parity cases skipped"))
struct LiftCommandParityTests {
    @Test("convert + lift reproduces the official demo (camera and the demo's world frame)", arguments: ["small27", "small81"])
    func cliMatchesDemo(config: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("\(config)/small_model.pth"), into: dir)
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        let csv = dir.appendingPathComponent("in.csv").path
        try write2DCSV(input.values, width: 1280, height: 720, to: csv)

        for (coords, fixture) in [("camera", "demo_output_3d"), ("demo", "demo_world_3d")] {
            let out = dir.appendingPathComponent("out-\(coords).csv").path
            let r = try run(Paths.tool, ["lift", "--keypoints", csv, "--weights", weights, "--output", out, "--coords", coords,
                                         "--no-rigid-skeleton", "--no-refine"])
            #expect(r.status == 0, "mhformer lift failed: \(r.stderr)")
            let (frames, values) = try read3DCSV(out)
            #expect(frames == Array(0..<60))
            let ref = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("\(config)/\(fixture).npy"))
            let err = maxAbsDiff(values, ref.values)
            #expect(err <= 1e-4, "\(config) \(coords): CLI output differs from \(fixture) by \(err)")
        }
    }

    @Test("the shared fixture CSV (other column names order) is read by name")
    func headerOrderAndTime() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small27/small_model.pth"), into: dir)
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        // Columns shuffled, time_s and scores present.
        var header = ["height", "time_s"]
        for j in Skeleton.jointNames.reversed() { header += ["\(j)_y", "\(j)_score", "\(j)_x"] }
        header += ["width", "frame"]
        var text = header.joined(separator: ",") + "\n"
        for i in 0..<60 {
            var cells = ["720", "\(Double(i) / 25)"]
            for j in (0..<17).reversed() { cells += ["\(input.values[i * 34 + 2 * j + 1])", "0.9", "\(input.values[i * 34 + 2 * j])"] }
            cells += ["1280", "\(i + 100)"]
            text += cells.joined(separator: ",") + "\n"
        }
        let csv = dir.appendingPathComponent("shuffled.csv").path
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out.csv").path
        let r = try run(Paths.tool, ["lift", "--keypoints", csv, "--weights", weights, "-o", out, "--no-rigid-skeleton", "--no-refine"])
        #expect(r.status == 0, "\(r.stderr)")
        let (frames, values) = try read3DCSV(out)
        #expect(frames == Array(100..<160))
        #expect(maxAbsDiff(values, try Npy.read(Paths.mhformerFixtures.appendingPathComponent("small27/demo_output_3d.npy")).values) <= 1e-4)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].hasPrefix("frame,time_s,pelvis_x,pelvis_y,pelvis_z,right_hip_x"))
        #expect(lines[2].split(separator: ",", omittingEmptySubsequences: false)[1] == "0.04")
    }

    @Test("frames without a person stay empty; the lifter runs on each segment")
    func segments() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small27/small_model.pth"), into: dir)
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        var kp = Keypoints2D(frames: Array(0..<60), times: Array(repeating: nil, count: 60), width: 1280, height: 720,
                             points: input.values, present: Array(repeating: true, count: 60))
        for i in 20..<25 { kp.present[i] = false }
        let csv = dir.appendingPathComponent("gap.csv").path
        try Keypoints2DCSV.write(kp, to: csv)
        let out = dir.appendingPathComponent("out.csv").path
        let r = try run(Paths.tool, ["lift", "--keypoints", csv, "--weights", weights, "-o", out, "--no-rigid-skeleton", "--no-refine"])
        #expect(r.status == 0, "\(r.stderr)")
        let (frames, values) = try read3DCSV(out)
        #expect(frames.count == 60)
        let model = try MHFormerModel(path: weights)
        let first = Lifter(model: model).lift(Array(input.values[0..<(20 * 34)]), frames: 20, width: 1280, height: 720)
        let second = Lifter(model: model).lift(Array(input.values[(25 * 34)...]), frames: 35, width: 1280, height: 720)
        #expect(maxAbsDiff(Array(values[0..<(20 * 51)]), first) <= 1e-5)   // BLAS thread counts differ: rounding only
        #expect(values[(20 * 51)..<(25 * 51)].allSatisfy { $0.isNaN })
        #expect(maxAbsDiff(Array(values[(25 * 51)...]), second) <= 1e-5)
    }
}

// MARK: - Bad input

/// A valid 2D CSV of `rows` frames (a still pose), as lines, for tests to corrupt.
private func goodCSVLines(rows: Int = 5) -> [String] {
    var header = ["frame", "width", "height"]
    for j in Skeleton.jointNames { header += ["\(j)_x", "\(j)_y"] }
    var lines = [header.joined(separator: ",")]
    for i in 0..<rows {
        lines.append((["\(i)", "640", "480"] + (0..<34).map { "\(100 + $0 * 3 + i)" }).joined(separator: ","))
    }
    return lines
}

/// The line with cell `column` (0-based) replaced.
private func replacingCell(_ line: String, _ column: Int, with value: String) -> String {
    var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    cells[column] = value
    return cells.joined(separator: ",")
}

/// Runs `mhformer lift` and checks the failure contract; returns stderr.
@discardableResult
private func expectFailure(keypointsText: String?, weights: String? = nil, extraArgs: [String] = [],
                           mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let dir = try Paths.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let csv = dir.appendingPathComponent("keypoints.csv").path
    if let keypointsText { try keypointsText.write(toFile: csv, atomically: true, encoding: .utf8) }
    let out = dir.appendingPathComponent("out.csv").path
    var args = ["lift", "--keypoints", csv, "--output", out] + extraArgs
    if let weights { args += ["--weights", weights] }
    let r = try run(Paths.tool, args)
    #expect(r.status != 0, "expected a failure, got exit 0", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "expected one line on stderr, got: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)", sourceLocation: sourceLocation)
    for m in mentions {
        #expect(r.stderr.contains(m), "stderr should mention '\(m)': \(r.stderr)", sourceLocation: sourceLocation)
    }
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    #expect(!FileManager.default.fileExists(atPath: out), "output file left behind", sourceLocation: sourceLocation)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("tmp") }
    #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)", sourceLocation: sourceLocation)
    return r.stderr
}

@Suite("mhformer lift rejects bad input with a one-line error")
struct LiftBadInputTests {
    /// Valid weights for the keypoint-side tests: a converted fixture model when ../shared exists.
    /// Without it these cases still run: the keypoints are checked before the weights are loaded.
    static func weightsPath(_ dir: URL) throws -> String? {
        guard Paths.sharedAvailable else { return nil }
        return try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small27/small_model.pth"), into: dir)
    }

    @Test func missingKeypointFile() throws {
        try expectFailure(keypointsText: nil, weights: "/nonexistent.safetensors", mentions: ["keypoints.csv", "no such file"])
    }

    @Test func emptyFile() throws {
        try expectFailure(keypointsText: "", mentions: ["keypoints.csv", "header"])
    }

    @Test func noHeader() throws {
        let lines = goodCSVLines()
        try expectFailure(keypointsText: lines.dropFirst().joined(separator: "\n"), mentions: ["keypoints.csv", "no header"])
    }

    @Test func missingColumn() throws {
        var lines = goodCSVLines()
        lines = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "missing column 'right_wrist_y'"])
    }

    @Test func unknownColumn() throws {
        var lines = goodCSVLines()
        lines[0] = lines[0].replacingOccurrences(of: "left_knee_x", with: "lknee_x")
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "unknown column 'lknee_x'"])
    }

    @Test func wrongColumnCount() throws {
        var lines = goodCSVLines()
        lines[3] += ",7"
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "line 4", "columns"])
    }

    @Test func nonNumeric() throws {
        var lines = goodCSVLines()
        lines[2] = replacingCell(lines[2], 7, with: "abc")
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "line 3", "'abc'"])
    }

    @Test(arguments: ["nan", "NaN", "inf", "-inf"])
    func nanOrInfinite(value: String) throws {
        var lines = goodCSVLines()
        lines[2] = replacingCell(lines[2], 7, with: "\(value)")
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "line 3", "not a finite number"])
    }

    @Test func partlyMissingKeypoints() throws {
        var lines = goodCSVLines()
        lines[2] = replacingCell(lines[2], 7, with: "")
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "line 3", "empty value"])
    }

    @Test func duplicateFrame() throws {
        var lines = goodCSVLines()
        lines[3] = "0" + lines[3].dropFirst()
        lines[2] = "0" + lines[2].dropFirst()
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "duplicate frame number 0"])
    }

    @Test func unorderedFrames() throws {
        var lines = goodCSVLines()
        lines.swapAt(2, 4)
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "frames must increase"])
    }

    @Test(arguments: ["0", "-640", "12.5"])
    func badImageSize(width: String) throws {
        var lines = goodCSVLines()
        lines[1] = lines[1].replacingOccurrences(of: ",640,", with: ",\(width),")
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "line 2", "width and height"])
    }

    @Test func headerOnly() throws {
        try expectFailure(keypointsText: goodCSVLines()[0] + "\n", mentions: ["keypoints.csv", "no data rows"])
    }

    @Test func noPersonInAnyFrame() throws {
        var lines = goodCSVLines(rows: 3)
        for i in 1...3 { lines[i] = "\(i - 1),640,480" + String(repeating: ",", count: 34) }
        try expectFailure(keypointsText: lines.joined(separator: "\n"), mentions: ["keypoints.csv", "no frame has keypoints"])
    }

    @Test func missingWeights() throws {
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: "/nonexistent/w.safetensors",
                          mentions: ["/nonexistent/w.safetensors", "no such weights file"])
    }

    @Test func corruptWeights() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let garbage = dir.appendingPathComponent("garbage.safetensors").path
        try Data("this is not a model".utf8).write(to: URL(fileURLWithPath: garbage))
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: garbage,
                          mentions: ["garbage.safetensors", "not a safetensors file"])
    }

    @Test("truncated weights file", .enabled(if: Paths.sharedAvailable, "../shared absent: needs a fixture checkpoint"))
    func truncatedWeights() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try #require(try LiftBadInputTests.weightsPath(dir))
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = dir.appendingPathComponent("cut.safetensors").path
        try data.prefix(data.count - 1000).write(to: URL(fileURLWithPath: cut))
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: cut, mentions: ["cut.safetensors", "truncated"])
    }

    @Test func notMHFormerWeights() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let other = dir.appendingPathComponent("resnet.safetensors").path
        try writeSafetensors(["conv1.weight": ([4, 3], [Float](repeating: 1, count: 12))], to: other)
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: other,
                          mentions: ["resnet.safetensors", "not an MHFormer checkpoint"])
    }

    @Test("missing, unexpected and wrongly shaped tensors are named", .enabled(if: Paths.sharedAvailable, "../shared absent: needs a fixture checkpoint"))
    func strictTensors() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try #require(try LiftBadInputTests.weightsPath(dir))
        let file = try SafeTensorsFile(path: good)
        var tensors: [String: ([Int], [Float])] = [:]
        for (name, e) in file.entries where file.isFloating(name) { tensors[name] = (e.shape, try file.floats(name)) }

        var missing = tensors
        missing["Transformer_hypothesis.CHI_blocks.0.attn_2.linear_k.bias"] = nil
        let p1 = dir.appendingPathComponent("missing.safetensors").path
        try writeSafetensors(missing, to: p1)
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: p1,
                          mentions: ["missing.safetensors", "missing tensor 'Transformer_hypothesis.CHI_blocks.0.attn_2.linear_k.bias'"])

        var extra = tensors
        extra["Transformer_hypothesis.SHR_blocks.0.extra.weight"] = ([2], [1, 2])
        let p2 = dir.appendingPathComponent("extra.safetensors").path
        try writeSafetensors(extra, to: p2)
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: p2,
                          mentions: ["extra.safetensors", "unexpected tensor 'Transformer_hypothesis.SHR_blocks.0.extra.weight'"])

        var shaped = tensors
        shaped["Transformer_encoder_2.blocks.1.mlp.fc1.weight"] = ([27, 54], [Float](repeating: 0, count: 27 * 54))
        let p3 = dir.appendingPathComponent("shape.safetensors").path
        try writeSafetensors(shaped, to: p3)
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), weights: p3,
                          mentions: ["shape.safetensors", "'Transformer_encoder_2.blocks.1.mlp.fc1.weight' has shape [27, 54], expected [54, 27]"])
    }

    @Test("--scores with 2D input that has no scores")
    func scoresWithoutScoreColumns() throws {
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), extraArgs: ["--scores"],
                          mentions: ["--scores", "keypoints.csv", "_score"])
    }

    @Test("--scores with an output format other than CSV", arguments: ["json", "trc", "bvh"])
    func scoresNotCSV(format: String) throws {
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), extraArgs: ["--scores", "--format", format],
                          mentions: ["--scores", "CSV", format])
    }

    @Test func unknownCoords() throws {
        try expectFailure(keypointsText: goodCSVLines().joined(separator: "\n"), extraArgs: ["--coords", "sky"], mentions: ["--coords", "sky"])
    }

    @Test("output folder missing: error, nothing written", .enabled(if: Paths.sharedAvailable, "../shared absent: needs a fixture checkpoint"))
    func outputFolderMissing() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try #require(try LiftBadInputTests.weightsPath(dir))
        let csv = dir.appendingPathComponent("k.csv").path
        try goodCSVLines().joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try run(Paths.tool, ["lift", "--keypoints", csv, "--weights", w, "-o", dir.path + "/no/such/dir/out.csv"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("out.csv") && r.stderr.contains("does not exist"), "\(r.stderr)")
    }
}

/// Minimal safetensors writer for tests (F32 only).
func writeSafetensors(_ tensors: [String: ([Int], [Float])], to path: String) throws {
    var header: [String: Any] = [:]
    var blob = Data()
    for name in tensors.keys.sorted() {
        let (shape, values) = tensors[name]!
        let start = blob.count
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { blob.append(contentsOf: $0) } }
        header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [start, blob.count]]
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var out = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(blob)
    try out.write(to: URL(fileURLWithPath: path))
}
