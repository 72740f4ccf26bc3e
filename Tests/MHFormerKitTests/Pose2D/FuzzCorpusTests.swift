// The fuzz targets' committed inputs (Fuzz/Corpus/, seeds and the crashes the fuzzer found) replayed
// by `swift test`: every one is read or refused with an MHFormerError, and each crash that was fixed
// gets its exact one-line error. Fuzzing itself is Scripts/fuzz.sh; safetensors' replay is in
// Weights/SafeTensorsDataTests.swift.

import Foundation
import Testing
@testable import MHFormerKit

/// The committed inputs of fuzz target `target`.
func fuzzCorpus(_ target: String) throws -> [URL] {
    let dir = Paths.repo.appendingPathComponent("Fuzz/Corpus/\(target)")
    return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// Runs `body`; an MHFormerError is a fine answer to a bad file.
func readOrRefuse(_ body: () throws -> Void) rethrows {
    do { try body() } catch is MHFormerError {}
}

@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    @Test("TFLite: every committed input loads or is refused, and runs when it loads")
    func tflite() throws {
        let files = try fuzzCorpus("tflite")
        try #require(files.count >= 5)
        var loaded = 0
        for url in files {
            try readOrRefuse {
                let interpreter = try TFLiteInterpreter(model: TFLiteModel(bytes: [UInt8](Data(contentsOf: url)), path: url.path))
                try interpreter.run([Float](repeating: 0.5, count: interpreter.input.count))
                loaded += 1
            }
        }
        #expect(loaded >= 4, "the seed models written by Fuzz/make-corpus.py load and run")
    }

    @Test("TFLite: a buffer whose u64 size is beyond Int is one error, not a trap (found by fuzzing)")
    func bufferSizeBeyondInt() throws {
        let bytes = try Data(contentsOf: Paths.repo.appendingPathComponent("Fuzz/Corpus/tflite/crash-buffer-offset-beyond-int.tflite"))
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteModel(bytes: [UInt8](bytes), path: "m.tflite") }
        #expect(e?.message == "m.tflite: not a valid TFLite flatbuffer (buffer 3 has offset 0 and size 13779789879246323728, beyond any file)")
    }

    @Test("TFLite: a CSR segment below 0 is one error, not an index trap while densifying (found by fuzzing)")
    func negativeCSRSegment() throws {
        let bytes = try Data(contentsOf: Paths.repo.appendingPathComponent("Fuzz/Corpus/tflite/crash-csr-negative-segment.tflite"))
        let model = try TFLiteModel(bytes: [UInt8](bytes), path: "m.tflite")
        let ti = try #require(model.tensors.firstIndex { $0.sparsity != nil })
        let e = #expect(throws: MHFormerError.self) { _ = try model.constantFloats(ti) }
        #expect(e?.message == "m.tflite: tensor '\(model.tensors[ti].name)': bad CSR segments in dim 1", "\(e?.message ?? "")")
        #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(model: model) }
    }

    @Test("TFLite: tensor -1 (an absent optional input) as an operator's output, or as DENSIFY's input, is one error (found by fuzzing)")
    func absentTensorWhereOneIsNeeded() throws {
        let crash = try Data(contentsOf: Paths.repo.appendingPathComponent("Fuzz/Corpus/tflite/crash-operator-output-minus-one.tflite"))
        let e = #expect(throws: MHFormerError.self) { _ = try TFLiteModel(bytes: [UInt8](crash), path: "m.tflite") }
        #expect(e?.message.hasPrefix("m.tflite: not a valid TFLite flatbuffer (operator ") == true, "\(e?.message ?? "")")
        #expect(e?.message.hasSuffix(" names output tensor -1)") == true, "\(e?.message ?? "")")

        // The seed's DENSIFY (operator 0) reading tensor -1 instead of its sparse constant.
        var bytes = [UInt8](try Data(contentsOf: Paths.repo.appendingPathComponent("Fuzz/Corpus/tflite/sparse-densify-conv.tflite")))
        let densify = try #require(try FlatBuffer(bytes: bytes, path: "x").root().tables(2).first?.tables(3).first)
        let (start, count) = try #require(try densify.vector(1))
        try #require(count == 1)
        bytes.replaceSubrange(start..<(start + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        let model = try TFLiteModel(bytes: bytes, path: "m.tflite")
        let e2 = #expect(throws: MHFormerError.self) { _ = try TFLiteInterpreter(model: model) }
        #expect(e2?.message == "m.tflite: operator 0 (DENSIFY): only supported on a constant input (weights), not at run time")
    }

    @Test("2D CSV and other tools' keypoint files: every committed input is read or refused")
    func keypointFiles() throws {
        for url in try fuzzCorpus("keypoints2d-csv") {
            try readOrRefuse { _ = try Keypoints2DCSV.parse(String(decoding: Data(contentsOf: url), as: UTF8.self), path: url.path) }
        }
        for url in try fuzzCorpus("keypoint-files") {
            try readOrRefuse { _ = try COCOKeypointsJSON.read(path: url.path, imageSize: (640, 480)) }
            try readOrRefuse { _ = try MediaPipeCSV.read(path: url.path, imageSize: (640, 480)) }
        }
    }
}
