// MHFormer's weights, loaded strictly from a safetensors file with the official tensor names
// (see ../shared/docs/mhformer-reference.md §2). The configuration (T, C, d_hid, layers, embedding
// variant) is inferred from the tensor shapes; then every expected tensor must be present with its
// exact shape and nothing else may be there.

import Foundation

public struct MHFormerConfig: Equatable, Sendable {
    /// T: frames per input window (receptive field); the output frame is `pad = (T-1)/2`.
    public let frames: Int
    /// C: width of each hypothesis in SHR/CHI.
    public let channel: Int
    /// D: hidden width of the SHR/CHI MLPs.
    public let dHid: Int
    /// L: `layers - 1` SHR blocks followed by exactly one CHI block.
    public let layers: Int
    /// T <= 27 checkpoints embed with Conv1d + BatchNorm1d + ReLU, longer ones with a plain Conv1d.
    public let embeddingHasBatchNorm: Bool

    public static let joints = 17
    public static let mhgDepth = 4
    public static let mhgHeads = 9
    public static let hypothesisHeads = 8

    public var pad: Int { (frames - 1) / 2 }
}

struct LinearWeights {
    let weight: Tensor   // [out, in]
    let bias: Tensor     // [out]
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }
}

struct LayerNormWeights {
    let gamma: Tensor, beta: Tensor
    let eps: Float
    var dim: Int { gamma.count }
}

/// BatchNorm1d in eval mode, folded into y = x · scale + shift.
struct BatchNormWeights {
    let scale: Tensor, shift: Tensor
}

/// One block of the MHG encoders (dim T, 9 heads, MLP 2T) or of SHR's attentions.
struct EncoderBlockWeights {
    let norm1: LayerNormWeights
    let qkv: LinearWeights        // [3·dim, dim]: [q | k | v], heads contiguous inside each
    let proj: LinearWeights
    let norm2: LayerNormWeights
    let fc1: LinearWeights, fc2: LinearWeights
}

struct EncoderWeights {
    let posEmbed: Tensor          // [34, T]
    let blocks: [EncoderBlockWeights]
    let norm: LayerNormWeights
}

struct SelfAttentionWeights { let qkv: LinearWeights, proj: LinearWeights }
struct CrossAttentionWeights { let q: LinearWeights, k: LinearWeights, v: LinearWeights, proj: LinearWeights }
struct MLPWeights { let fc1: LinearWeights, fc2: LinearWeights }

struct SHRBlockWeights {
    let norm1: [LayerNormWeights]          // norm1_1..3, over C
    let attn: [SelfAttentionWeights]       // attn_1..3
    let norm2: LayerNormWeights            // over 3C
    let mlp: MLPWeights                    // 3C → D → 3C
}

struct CHIBlockWeights {
    let norm3: [[LayerNormWeights]]        // norm3_{k}{1: query, 2: key, 3: value}
    let attn: [CrossAttentionWeights]      // attn_1..3
    let norm2: LayerNormWeights
    let mlp: MLPWeights
}

struct EmbeddingWeights {
    let conv: LinearWeights                // Conv1d(34 → C, k=1) as a Linear, weight [C, 34]
    let batchNorm: BatchNormWeights?       // T <= 27 variant only (followed by ReLU)
}

public final class MHFormerWeights: @unchecked Sendable {
    public let config: MHFormerConfig
    let inputNorms: [LayerNormWeights]     // norm_1..3 over T, eps 1e-5
    let encoders: [EncoderWeights]         // Transformer_encoder_1..3
    let embeddings: [EmbeddingWeights]     // embedding_1..3
    let hypothesisPosEmbed: [Tensor]       // pos_embed_1..3, [T, C]
    let shrBlocks: [SHRBlockWeights]
    let chiBlock: CHIBlockWeights
    let finalNorm: LayerNormWeights        // over 3C
    let regressionBatchNorm: BatchNormWeights
    let regression: LinearWeights          // Conv1d(3C → 51, k=1), weight [51, 3C]

    /// Loads and checks a safetensors file.
    public convenience init(path: String) throws {
        try self.init(file: SafeTensorsFile(path: path))
    }

    init(file: SafeTensorsFile) throws {
        let config = try MHFormerWeights.inferConfig(file)
        self.config = config
        let loader = StrictWeights(file: file, model: "an MHFormer with T=\(config.frames)")
        let T = config.frames, C = config.channel, D = config.dHid, J2 = 2 * MHFormerConfig.joints

        func ln(_ name: String, _ dim: Int, eps: Float) throws -> LayerNormWeights {
            LayerNormWeights(gamma: try loader.take("\(name).weight", [dim]),
                             beta: try loader.take("\(name).bias", [dim]), eps: eps)
        }
        /// Linear [outF, inF] (+ bias [outF]); `conv`: a Conv1d with kernel 1, stored [outF, inF, 1].
        func lin(_ name: String, _ inF: Int, _ outF: Int, conv: Bool = false) throws -> LinearWeights {
            LinearWeights(weight: try loader.take("\(name).weight", conv ? [outF, inF, 1] : [outF, inF], as: [outF, inF]),
                          bias: try loader.take("\(name).bias", [outF]))
        }
        /// BatchNorm1d(dim), eps 1e-5, folded: scale and shift [dim].
        func bn(_ name: String, _ dim: Int) throws -> BatchNormWeights {
            let (scale, shift) = try loader.batchNorm(name, channels: dim)
            return BatchNormWeights(scale: Tensor(shape: [dim], values: scale), shift: Tensor(shape: [dim], values: shift))
        }

        inputNorms = try (1...3).map { try ln("norm_\($0)", T, eps: 1e-5) }
        encoders = try (1...3).map { k in
            let p = "Transformer_encoder_\(k)"
            let pos = try loader.take("\(p).pos_embed", [1, J2, T], as: [J2, T])
            let blocks = try (0..<MHFormerConfig.mhgDepth).map { i in
                let b = "\(p).blocks.\(i)"
                return EncoderBlockWeights(
                    norm1: try ln("\(b).norm1", T, eps: 1e-6),
                    qkv: try lin("\(b).attn.qkv", T, 3 * T), proj: try lin("\(b).attn.proj", T, T),
                    norm2: try ln("\(b).norm2", T, eps: 1e-6),
                    fc1: try lin("\(b).mlp.fc1", T, 2 * T), fc2: try lin("\(b).mlp.fc2", 2 * T, T))
            }
            return EncoderWeights(posEmbed: pos, blocks: blocks,
                                  norm: try ln("\(p).norm", T, eps: 1e-6))
        }
        embeddings = try (1...3).map { k in
            if config.embeddingHasBatchNorm {
                return EmbeddingWeights(conv: try lin("embedding_\(k).0", J2, C, conv: true),
                                        batchNorm: try bn("embedding_\(k).1", C))
            }
            return EmbeddingWeights(conv: try lin("embedding_\(k)", J2, C, conv: true), batchNorm: nil)
        }
        let h = "Transformer_hypothesis"
        hypothesisPosEmbed = try (1...3).map { try loader.take("\(h).pos_embed_\($0)", [1, T, C], as: [T, C]) }
        shrBlocks = try (0..<(config.layers - 1)).map { l in
            let b = "\(h).SHR_blocks.\(l)"
            return SHRBlockWeights(
                norm1: try (1...3).map { try ln("\(b).norm1_\($0)", C, eps: 1e-6) },
                attn: try (1...3).map { SelfAttentionWeights(qkv: try lin("\(b).attn_\($0).qkv", C, 3 * C),
                                                             proj: try lin("\(b).attn_\($0).proj", C, C)) },
                norm2: try ln("\(b).norm2", 3 * C, eps: 1e-6),
                mlp: MLPWeights(fc1: try lin("\(b).mlp.fc1", 3 * C, D), fc2: try lin("\(b).mlp.fc2", D, 3 * C)))
        }
        let c = "\(h).CHI_blocks.0"
        chiBlock = CHIBlockWeights(
            norm3: try (1...3).map { k in try (1...3).map { r in try ln("\(c).norm3_\(k)\(r)", C, eps: 1e-6) } },
            attn: try (1...3).map { k in
                CrossAttentionWeights(q: try lin("\(c).attn_\(k).linear_q", C, C), k: try lin("\(c).attn_\(k).linear_k", C, C),
                                      v: try lin("\(c).attn_\(k).linear_v", C, C), proj: try lin("\(c).attn_\(k).proj", C, C))
            },
            norm2: try ln("\(c).norm2", 3 * C, eps: 1e-6),
            mlp: MLPWeights(fc1: try lin("\(c).mlp.fc1", 3 * C, D), fc2: try lin("\(c).mlp.fc2", D, 3 * C)))
        finalNorm = try ln("\(h).norm", 3 * C, eps: 1e-6)
        regressionBatchNorm = try bn("regression.0", 3 * C)
        regression = try lin("regression.1", 3 * C, 3 * MHFormerConfig.joints, conv: true)
        try loader.finish()
    }

    /// T, C, D, layers and the embedding variant from the shapes of a few tensors.
    static func inferConfig(_ file: SafeTensorsFile) throws -> MHFormerConfig {
        let path = file.path
        guard let norm1 = file.entries["norm_1.weight"], let reg = file.entries["regression.1.weight"] else {
            throw MHFormerError("\(path): not an MHFormer checkpoint (no 'norm_1.weight' or 'regression.1.weight'; convert official .pth files with Scripts/convert/convert-mhformer.py)")
        }
        guard norm1.shape.count == 1, reg.shape.count == 3 else {
            throw MHFormerError("\(path): not an MHFormer checkpoint ('norm_1.weight' \(norm1.shape), 'regression.1.weight' \(reg.shape))")
        }
        let T = norm1.shape[0]
        let hasBN = file.entries["embedding_1.0.weight"] != nil
        guard let emb = file.entries[hasBN ? "embedding_1.0.weight" : "embedding_1.weight"], emb.shape.count == 3 else {
            throw MHFormerError("\(path): missing tensor 'embedding_1.weight' (or 'embedding_1.0.weight')")
        }
        let C = emb.shape[0]
        guard let fc1 = file.entries["Transformer_hypothesis.CHI_blocks.0.mlp.fc1.weight"], fc1.shape.count == 2 else {
            throw MHFormerError("\(path): missing tensor 'Transformer_hypothesis.CHI_blocks.0.mlp.fc1.weight'")
        }
        let D = fc1.shape[0]
        var shr = 0
        while file.entries["Transformer_hypothesis.SHR_blocks.\(shr).norm2.weight"] != nil { shr += 1 }
        guard T % 9 == 0, T % 2 == 1 else {
            throw MHFormerError("\(path): frames T = \(T) (from 'norm_1.weight') must be odd and a multiple of 9")
        }
        guard C % 8 == 0, C > 0 else {
            throw MHFormerError("\(path): channel C = \(C) (from the embedding) must be a multiple of 8")
        }
        guard hasBN == (T <= 27) else {
            throw MHFormerError("\(path): embedding variant does not match T = \(T) (Conv+BatchNorm is used exactly when T <= 27)")
        }
        return MHFormerConfig(frames: T, channel: C, dHid: D, layers: shr + 1, embeddingHasBatchNorm: hasBN)
    }
}
