// Fuzz target tflite: the TFLite flatbuffer reader (FlatBuffer, TFLiteModel) on arbitrary bytes, the
// constants it accepted, and, for models small enough to run quickly, the interpreter's loading
// passes and one run (what `mhformer run` does with a model file).

import Foundation

/// Models with a tensor above this many elements are parsed but not loaded or run: the point is
/// the reader's checks, not the kernels' speed on large made-up tensors.
private let runLimit = 1 << 16

func fuzzTFLite(_ data: Data) {
    expectingMHFormerErrors {
        let model = try TFLiteModel(bytes: [UInt8](data), path: "fuzz.tflite")
        for (ti, t) in model.tensors.enumerated() {
            invariant(t.shape.allSatisfy { $0 >= 0 }, "tensor \(ti) shape \(t.shape)")
            if let r = t.data { invariant(r.lowerBound >= 0 && r.upperBound <= data.count, "tensor \(ti) data \(r) outside the file") }
        }
        guard model.tensors.allSatisfy({ $0.shape.reduce(1, *) <= runLimit }) else { return }
        for (ti, t) in model.tensors.enumerated() where t.data != nil {
            expectingMHFormerErrors {
                if t.type == .int32 {
                    _ = try model.constantInts(ti)
                } else {
                    let v = try model.constantFloats(ti)
                    if t.sparsity != nil { invariant(v.count == t.shape.reduce(1, *), "densified tensor \(ti): \(v.count) values for \(t.shape)") }
                }
            }
        }
        let interpreter = try TFLiteInterpreter(model: model)
        try interpreter.run([Float](repeating: 0.5, count: interpreter.input.count))
        for i in interpreter.outputs.indices { _ = interpreter.output(i) }
        if verbose { print("accepted: \(model.tensors.count) tensors, \(interpreter.stepCount) steps run") }
    }
}
