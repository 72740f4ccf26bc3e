// The native TFLite reader against Google's runtime: BlazePose's two models on stored inputs, every
// output tensor compared with ai-edge-litert's (fixtures made by Scripts/fixtures/make-tflite-reference.py).
//
// Metric, per output tensor: max |swift − litert| / max(max |litert|, 1), which must stay ≤ 1e-3.
// (Relative to the tensor's largest value, absolute for tensors of values under 1: the kernels sum
// in a different order than XNNPACK, so individual small values carry absolute, not relative, noise.)
//
// The models are not in the repository: Scripts/setup/fetch-blazepose.sh puts them in Models/blazepose/;
// without them these tests are skipped, saying so.

import Foundation
import Testing
@testable import MHFormerKit

enum BlazePoseFiles {
    static let models = Paths.repo.appendingPathComponent("Models/blazepose")
    static let fixtures = Paths.repo.appendingPathComponent("Tests/Fixtures/blazepose")
    static let detector = models.appendingPathComponent("pose_detection.tflite").path
    static let landmark = models.appendingPathComponent("pose_landmark_full.tflite").path
    static var available: Bool {
        FileManager.default.fileExists(atPath: detector) && FileManager.default.fileExists(atPath: landmark)
    }
    static let skipReason: Comment = "Models/blazepose/*.tflite absent: run Scripts/setup/fetch-blazepose.sh"
}

/// max |a − b| / max(max |b|, 1)
func scaledMaxError(_ a: [Float], _ b: [Float]) -> Float {
    maxAbsDiff(a, b) / max(b.map(abs).max() ?? 0, 1)
}

/// Runs `model` on the stored uint8 input scaled by `scale`·x + `offset` and checks every output.
private func checkModel(_ model: String, prefix: String, scale: Float, offset: Float) throws {
    let interp = try TFLiteInterpreter(path: model)
    let u8 = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("\(prefix)_input_u8.npy"))
    #expect([1] + u8.shape == interp.input.shape)
    try interp.run(u8.values.map { $0 * scale + offset })
    for (i, info) in interp.outputs.enumerated() {
        let ref = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("\(prefix)_\(info.name).npy"))
        #expect(ref.shape == info.shape, "\(info.name)")
        let got = interp.output(i)
        let err = scaledMaxError(got, ref.values)
        print("tflite \(prefix) \(info.name) \(info.shape): max|Δ| \(maxAbsDiff(got, ref.values)), max|ref| \(ref.values.map(abs).max() ?? 0), scaled \(err)")
        #expect(err <= 1e-3, "\(prefix) output \(info.name): scaled max error \(err)")
    }
    try reportSpeed(interp, input: u8.values.map { $0 * scale + offset }, label: prefix)
}

/// A quick speed figure on request (MHFORMER_TIMING=1, meant for `swift test -c release`): best of
/// 20 runs, then the time per operator kind over 10 more.
private func reportSpeed(_ interp: TFLiteInterpreter, input x: [Float], label: String) throws {
    guard ProcessInfo.processInfo.environment["MHFORMER_TIMING"] == "1" else { return }
    var best = Double.infinity
    for _ in 0..<20 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try interp.run(x)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    print("tflite \(label): best of 20 runs \(best) ms")
    interp.profile = [:]
    for _ in 0..<10 { try interp.run(x) }
    for (k, v) in interp.profile!.sorted(by: { $0.value > $1.value }) { print("  \(k): \(v / 10) ms") }
    interp.profile = nil
}

@Suite("TFLite reader") struct TFLiteTests {
    @Test("pose_detection.tflite matches ai-edge-litert on every output", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func detector() throws {
        // the detector takes [-1, 1]: x · 2/255 − 1
        try checkModel(BlazePoseFiles.detector, prefix: "det", scale: 2 / 255, offset: -1)
    }

    @Test("pose_landmark_full.tflite matches ai-edge-litert on every output", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func landmark() throws {
        // the landmark model takes [0, 1]: x / 255
        try checkModel(BlazePoseFiles.landmark, prefix: "lm", scale: 1 / 255, offset: 0)
    }

    @Test("the models' graphs: weights and PADs folded at load, the expected real operators left", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func structure() throws {
        let det = try TFLiteInterpreter(path: BlazePoseFiles.detector)
        #expect(det.input.shape == [1, 224, 224, 3])
        #expect(det.outputs.map(\.shape) == [[1, 2254, 12], [1, 2254, 1]])
        #expect(det.stepCount == 291 - 144 - 38 - 8)   // DEQUANTIZE, DENSIFY and the 8 PADs folded
        let lm = try TFLiteInterpreter(path: BlazePoseFiles.landmark)
        #expect(lm.input.shape == [1, 256, 256, 3])
        #expect(lm.outputs.map(\.shape) == [[1, 195], [1, 1], [1, 256, 256, 1], [1, 64, 64, 39], [1, 117]])
        #expect(lm.stepCount == 332 - 192 - 5)         // DEQUANTIZE and the 5 PADs folded
    }

    @Test("skipping the segmentation output drops its branch and changes no other output", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func skipOutput() throws {
        let full = try TFLiteInterpreter(path: BlazePoseFiles.landmark)
        let pruned = try TFLiteInterpreter(path: BlazePoseFiles.landmark, skipping: ["Identity_2"])
        #expect(pruned.outputs.map(\.name) == ["Identity", "Identity_1", "Identity_3", "Identity_4"])
        #expect(pruned.stepCount < full.stepCount)
        let u8 = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("lm_input_u8.npy"))
        let x = u8.values.map { $0 / 255 }
        try full.run(x)
        try pruned.run(x)
        for name in ["Identity", "Identity_1", "Identity_3", "Identity_4"] {
            #expect(try full.output(named: name) == pruned.output(named: name), "\(name)")
        }
        try reportSpeed(pruned, input: x, label: "lm without segmentation")
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: BlazePoseFiles.landmark, skipping: ["mask"]) }
        #expect(e?.message == "\(BlazePoseFiles.landmark): no output named 'mask' to skip")
    }

    @Test("an unknown operator is refused by name", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func unknownOperator() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BlazePoseFiles.detector)))
        // Patch operator code 0's builtin_code (OperatorCode field 3, int32) to 200.
        let fb = FlatBuffer(bytes: bytes, path: "x")
        let code0 = try #require(try fb.root().tables(1).first)
        let p = try #require(try code0.field(3))
        bytes.replaceSubrange(p..<(p + 4), with: [200, 0, 0, 0])
        let url = try Paths.tempDir().appendingPathComponent("patched.tflite")
        try Data(bytes).write(to: url)
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: url.path) }
        #expect(e?.message.contains("builtin operator 200, which this reader does not implement") == true, "\(e?.message ?? "")")
        #expect(e?.message.hasPrefix(url.path) == true)
    }

    /// The detector's stem convolution (the first CONV_2D; it has a fused RELU6) with one option
    /// field overwritten: an option this reader does not implement must be refused, not ignored.
    @Test("unsupported or inconsistent option values are refused", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason),
          arguments: [(3, 4, "fused activation 4 (TANH/SIGN_BIT), which is not supported"),   // Conv2DOptions.fused_activation_function = TANH
                      (2, 3, "output shape [1, 112, 112, 24], computed [1, 75, 112, 24]")])  // stride_h 2 → 3 (int32 field, low byte)
    func unsupportedOption(field: Int, value: UInt8, message: String) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BlazePoseFiles.detector)))
        let model = try TFLiteModel(bytes: bytes, path: "x")
        let conv = try #require(model.operators.first { $0.op == .conv2D })
        let p = try #require(try conv.options?.field(field))
        bytes[p] = value
        let url = try Paths.tempDir().appendingPathComponent("patched.tflite")
        try Data(bytes).write(to: url)
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: url.path) }
        #expect(e?.message.contains(message) == true, "\(e?.message ?? "")")
    }

    @Test("a truncated model or another file gives one error naming the file", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func corruptFiles() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: BlazePoseFiles.landmark))
        let dir = try Paths.tempDir()
        let truncated = dir.appendingPathComponent("truncated.tflite")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: truncated.path) }
        #expect(e?.message.hasPrefix(truncated.path) == true, "\(e?.message ?? "")")
        let text = dir.appendingPathComponent("notes.tflite")
        try Data("hello".utf8).write(to: text)
        let e2 = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: text.path) }
        #expect(e2?.message == "\(text.path): not a TFLite model (no TFL3 identifier)")
    }

    /// Single-byte corruptions of the file's structure (the first 16 KB: tables, vtables, shapes,
    /// options; the weights come after) must give a clean MHFormerError or a model that still loads,
    /// never a crash. MHFORMER_FUZZ=N tries N corruptions instead of 20 (400 tried: 52 refused, none crashed).
    @Test("corrupted structure bytes never crash the loader", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func corruptedBytes() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: BlazePoseFiles.landmark)))
        let n = Int(ProcessInfo.processInfo.environment["MHFORMER_FUZZ"] ?? "") ?? 20
        var rng = SplitMix64(seed: 7)             // VideoReaderTests.swift
        var refused = 0
        for _ in 0..<n {
            var bytes = original
            let pos = Int(rng.next() % 16384), value = UInt8(truncatingIfNeeded: rng.next())
            bytes[pos] = value
            do {
                // parse, prepare and plan; a model that is accepted must also run
                let interp = try TFLiteInterpreter(model: try TFLiteModel(bytes: bytes, path: "fuzz"))
                try interp.run([Float](repeating: 0.5, count: interp.input.count))
            } catch is MHFormerError {
                refused += 1
            }
        }
        print("fuzz: \(n) corruptions, \(refused) refused")
    }

    @Test("a missing model file is one error")
    func missingFile() {
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: "/nonexistent/model.tflite") }
        #expect(e?.message == "/nonexistent/model.tflite: no such model file")
    }
}

