// Strict loading of a model's weights from a safetensors file, shared by MHFormer, ViTPose and
// TransPose: the model asks for each tensor by name with the shape it expects, and
//   - a missing tensor, another shape, a non-float dtype or a value that is not finite is an error,
//   - at the end (`finish`), so is any tensor nobody asked for, and any byte of the data section that
//     no tensor covers (SafeTensorsFile rejects overlaps at once; gaps are only reported here, after
//     the names, so a file with a tensor's header entry removed says which tensor is missing).
// Every error is one MHFormerError line naming the file and the tensor.
// Also here: eval-mode BatchNorm folded into a per-channel scale and shift, as all three models use it.

import Foundation

final class StrictWeights {
    let file: SafeTensorsFile
    var path: String { file.path }
    /// What the file should hold, for the unexpected-tensor message ("an MHFormer with T=27").
    private let model: String
    /// Where the expected shapes come from when it is a file the user chose ("config.json"): the
    /// shape message then points at it.
    private let shapesFrom: String?
    private var used = Set<String>()

    init(file: SafeTensorsFile, model: String, shapesFrom: String? = nil) {
        self.file = file
        self.model = model
        self.shapesFrom = shapesFrom
    }

    convenience init(path: String, model: String, shapesFrom: String? = nil) throws {
        self.init(file: try SafeTensorsFile(path: path), model: model, shapesFrom: shapesFrom)
    }

    func has(_ name: String) -> Bool { file.entries[name] != nil }

    /// The shape of tensor `name` (for reading hyper-parameters off the file; does not mark it used).
    func shape(_ name: String) throws -> [Int] {
        guard let e = file.entries[name] else { throw MHFormerError("\(path): missing tensor '\(name)'") }
        return e.shape
    }

    /// Number of consecutive indices i with `prefix.i.suffix` present.
    func count(_ prefix: String, _ suffix: String) -> Int {
        var n = 0
        while has("\(prefix).\(n).\(suffix)") { n += 1 }
        return n
    }

    /// Tensor `name`, which must have `shape`, a float dtype and finite values, as Float32 [∏ shape],
    /// row-major. Marks it used.
    func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        guard let e = file.entries[name] else {
            throw MHFormerError("\(path): missing tensor '\(name)' (\(shapesFrom.map { "\($0) expects" } ?? "expected") shape \(shape))")
        }
        guard e.shape == shape else {
            if let shapesFrom {
                throw MHFormerError("\(path): tensor '\(name)' has shape \(e.shape), \(shapesFrom) expects \(shape) (wrong \(shapesFrom) for these weights?)")
            }
            throw MHFormerError("\(path): tensor '\(name)' has shape \(e.shape), expected \(shape)")
        }
        guard file.isFloating(name) else {
            throw MHFormerError("\(path): tensor '\(name)' has dtype \(e.dtype), expected a float type")
        }
        let values = try file.floats(name)
        // A NaN or infinite weight would only show as NaN output much later (or not at all, behind a
        // ReLU or a max): refuse it here, naming the tensor.
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw MHFormerError("\(path): tensor '\(name)' holds a value that is not finite (\(values[i]) at index \(i))")
        }
        used.insert(name)
        return values
    }

    /// `floats(name, shape)` as a Tensor of shape `target` (default `shape`; same element count).
    func take(_ name: String, _ shape: [Int], as target: [Int]? = nil) throws -> Tensor {
        Tensor(shape: target ?? shape, values: try floats(name, shape))
    }

    /// A bookkeeping tensor that may be present and is not used (BatchNorm's num_batches_tracked).
    func allow(_ name: String) { used.insert(name) }

    /// Eval BatchNorm `prefix` (weight, bias, running_mean, running_var: [channels] each; its
    /// num_batches_tracked allowed) folded to y = x · scale + shift, scale and shift [channels].
    func batchNorm(_ prefix: String, channels: Int, eps: Float = 1e-5) throws -> (scale: [Float], shift: [Float]) {
        let gamma = try floats(prefix + ".weight", [channels]), beta = try floats(prefix + ".bias", [channels])
        let mean = try floats(prefix + ".running_mean", [channels]), variance = try floats(prefix + ".running_var", [channels])
        allow(prefix + ".num_batches_tracked")
        return foldBatchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance, eps: eps)
    }

    /// Throws if the file holds a tensor nobody took, or data bytes no tensor covers.
    func finish() throws {
        let unexpected = file.entries.keys.filter { !used.contains($0) }.sorted()
        if let first = unexpected.first {
            let others = unexpected.dropFirst()
            let more = others.isEmpty ? ""
                : " (and \(others.count) more: \(others.prefix(4).map { "'\($0)'" }.joined(separator: ", "))\(others.count > 4 ? ", ..." : ""))"
            throw MHFormerError("\(path): unexpected tensor '\(first)'\(more), not part of \(model)")
        }
        if let gap = file.uncoveredBytes {
            throw MHFormerError("\(path): bytes \(gap.lowerBound)..<\(gap.upperBound) of the data section belong to no tensor (corrupt file, or a tensor's header entry removed?)")
        }
    }
}

/// Eval-mode BatchNorm as y = x · scale + shift per channel, in float32 as PyTorch's CPU kernel
/// computes it: scale = γ / sqrt(var + eps), shift = β − mean · scale. All inputs and outputs [C].
func foldBatchNorm(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float) -> (scale: [Float], shift: [Float]) {
    let C = gamma.count
    precondition(beta.count == C && mean.count == C && variance.count == C, "BatchNorm: parameters of different lengths")
    var scale = [Float](repeating: 0, count: C), shift = scale
    for c in 0..<C {
        scale[c] = gamma[c] / (variance[c] + eps).squareRoot()
        shift[c] = beta[c] - mean[c] * scale[c]
    }
    return (scale, shift)
}
