// The native TFLite reader against Google's runtime: BlazePose's two models on stored inputs, every
// output tensor compared with ai-edge-litert's (fixtures made by Scripts/make-tflite-reference.py).
//
// Metric, per output tensor: max |swift − litert| / max(max |litert|, 1), which must stay ≤ 1e-3.
// (Relative to the tensor's largest value, absolute for tensors of values under 1: the kernels sum
// in a different order than XNNPACK, so individual small values carry absolute, not relative, noise.)
//
// The models are not in the repository: Scripts/fetch-blazepose.sh puts them in Models/blazepose/;
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
    static let skipReason: Comment = "Models/blazepose/*.tflite absent: run Scripts/fetch-blazepose.sh"
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
    // A quick speed figure on request (MHFORMER_TIMING=1, best for `swift test -c release`).
    if ProcessInfo.processInfo.environment["MHFORMER_TIMING"] == "1" {
        let x = u8.values.map { $0 * scale + offset }
        var best = Double.infinity
        for _ in 0..<20 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try interp.run(x)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        print("tflite \(prefix): best of 20 runs \(best) ms")
        interp.profile = [:]
        for _ in 0..<10 { try interp.run(x) }
        for (k, v) in interp.profile!.sorted(by: { $0.value > $1.value }) { print("  \(k): \(v / 10) ms") }
    }
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

    @Test("the models' graphs: weights folded at load, the expected real operators left", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func structure() throws {
        let det = try TFLiteInterpreter(path: BlazePoseFiles.detector)
        #expect(det.input.shape == [1, 224, 224, 3])
        #expect(det.outputs.map(\.shape) == [[1, 2254, 12], [1, 2254, 1]])
        #expect(det.stepCount == 291 - 144 - 38)       // DEQUANTIZE and DENSIFY folded
        let lm = try TFLiteInterpreter(path: BlazePoseFiles.landmark)
        #expect(lm.input.shape == [1, 256, 256, 3])
        #expect(lm.outputs.map(\.shape) == [[1, 195], [1, 1], [1, 256, 256, 1], [1, 64, 64, 39], [1, 117]])
        #expect(lm.stepCount == 332 - 192)
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

    @Test("a missing model file is one error")
    func missingFile() {
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(path: "/nonexistent/model.tflite") }
        #expect(e?.message == "/nonexistent/model.tflite: no such model file")
    }
}
