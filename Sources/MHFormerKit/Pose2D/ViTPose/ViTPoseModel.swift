// ViTPose (Xu et al. 2022) as Hugging Face transformers' `VitPoseForPoseEstimation` computes it:
// crop pixels [B, 3, 256, 192] (normalised, NCHW) → heatmaps [B, 17, 64, 48].
//
//   1. patch embedding: Conv2d(3 → D, kernel = stride = 16, padding 2) as one GEMM over the
//      im2col patches [B·N, 3·16·16]; N = 16·12 = 192 tokens, row-major over the grid (gy, gx)
//   2. + position_embeddings[1 + n] + position_embeddings[0] (no class token)
//   3. blocks 1 ... outputStage (pre-LN): x += Wo·MHA(LN₁ x);  x += fc2(GELU(fc1(LN₂ x)))
//   4. the backbone's final LayerNorm → features [B·N, D] (channel-last, i.e. the grid's pixels)
//   5. decoder, per crop:
//      simple:  ReLU → bilinear ×scale (align_corners = False) → Conv3x3 (padding 1) D → 17
//      classic: ConvTranspose4x4/2 D → 256, BatchNorm, ReLU, ConvTranspose4x4/2 256 → 256, BatchNorm,
//               ReLU → Conv1x1 256 → 17
// Layouts: activations are channel-last [pixels, channels] (tokens are pixels of the grid), so every
// conv is a plain GEMM; the heatmaps are returned NCHW like transformers'.
// Weights: model.safetensors with transformers' names, loaded strictly (StrictWeights: every tensor
// the config implies must be there with its shape, and nothing else).

import Foundation

public final class ViTPoseModel {
    public let config: ViTPoseConfig

    struct Block {
        let ln1Gamma, ln1Beta, ln2Gamma, ln2Beta: Tensor       // [D]
        let qkvWeight: Tensor                                   // [3D, D]: query, key, value rows
        let qkvBias: Tensor?                                    // [3D]
        let outWeight, outBias: Tensor                          // [D, D], [D]
        let fc1Weight, fc1Bias, fc2Weight, fc2Bias: Tensor      // [M, D], [M], [D, M], [D]
    }
    let patchWeight: Tensor      // [D, 3·ph·pw] (the conv kernel flattened as (c, ky, kx))
    let patchBias: Tensor        // [D]
    let positions: Tensor        // [N + 1, D]
    let blocks: [Block]
    let finalGamma, finalBeta: Tensor
    // simple decoder
    var convTaps: Tensor?        // [9·K, D]: row (tap·K + k) = conv.weight[k, :, ky, kx], tap = ky·3 + kx
    var convBias: Tensor?        // [K]
    // classic decoder
    var deconv1: Tensor?         // [D, 16·256]: column (ky·4 + kx)·256 + co = weight[ci, co, ky, kx]
    var deconv2: Tensor?         // [256, 16·256]
    var bn1Scale, bn1Shift, bn2Scale, bn2Shift: Tensor?   // [256]: x·scale + shift (eval BatchNorm, eps 1e-5)
    var headWeight, headBias: Tensor?                     // [K, 256], [K]

    /// Loads `config.json` and `model.safetensors` from a folder (as save_pretrained() writes them).
    public convenience init(directory: String) throws {
        let config = try ViTPoseConfig.load(path: (directory as NSString).appendingPathComponent("config.json"))
        try self.init(config: config, weightsPath: (directory as NSString).appendingPathComponent("model.safetensors"))
    }

    public init(config c: ViTPoseConfig, weightsPath: String) throws {
        config = c
        let w = try StrictWeights(path: weightsPath, model: "the model config.json describes", shapesFrom: "config.json")
        let D = c.hiddenSize, M = c.mlpHidden, K = c.keypoints
        let pp = 3 * c.patchHeight * c.patchWidth
        let emb = "backbone.embeddings."
        patchWeight = try w.take(emb + "patch_embeddings.projection.weight", [D, 3, c.patchHeight, c.patchWidth], as: [D, pp])
        patchBias = try w.take(emb + "patch_embeddings.projection.bias", [D])
        positions = try w.take(emb + "position_embeddings", [1, c.tokens + 1, D], as: [c.tokens + 1, D])
        var blocks: [Block] = []
        for i in 0..<c.layers {
            let p = "backbone.encoder.layer.\(i)."
            // query, key and value stacked into one [3D, D] matrix (and [3D] bias): one GEMM
            let names = ["query", "key", "value"].map { p + "attention.attention.\($0)." }
            let qkvW = Tensor(shape: [3 * D, D], values: try names.flatMap { try w.floats($0 + "weight", [D, D]) })
            let qkvB = c.qkvBias ? Tensor(shape: [3 * D], values: try names.flatMap { try w.floats($0 + "bias", [D]) }) : nil
            blocks.append(Block(
                ln1Gamma: try w.take(p + "layernorm_before.weight", [D]), ln1Beta: try w.take(p + "layernorm_before.bias", [D]),
                ln2Gamma: try w.take(p + "layernorm_after.weight", [D]), ln2Beta: try w.take(p + "layernorm_after.bias", [D]),
                qkvWeight: qkvW, qkvBias: qkvB,
                outWeight: try w.take(p + "attention.output.dense.weight", [D, D]),
                outBias: try w.take(p + "attention.output.dense.bias", [D]),
                fc1Weight: try w.take(p + "mlp.fc1.weight", [M, D]), fc1Bias: try w.take(p + "mlp.fc1.bias", [M]),
                fc2Weight: try w.take(p + "mlp.fc2.weight", [D, M]), fc2Bias: try w.take(p + "mlp.fc2.bias", [D])))
        }
        self.blocks = blocks
        finalGamma = try w.take("backbone.layernorm.weight", [D])
        finalBeta = try w.take("backbone.layernorm.bias", [D])
        if c.simpleDecoder {
            let conv = try w.take("head.conv.weight", [K, D, 3, 3])    // [k, ci, ky, kx]
            let taps = Tensor(shape: [9 * K, D])
            for k in 0..<K { for ci in 0..<D { for tap in 0..<9 {
                taps.data[(tap * K + k) * D + ci] = conv.data[(k * D + ci) * 9 + tap]
            } } }
            convTaps = taps
            convBias = try w.take("head.conv.bias", [K])
        } else {
            deconv1 = try Self.deconvMatrix(try w.take("head.deconv1.weight", [D, 256, 4, 4]), inChannels: D)
            deconv2 = try Self.deconvMatrix(try w.take("head.deconv2.weight", [256, 256, 4, 4]), inChannels: 256)
            (bn1Scale, bn1Shift) = try Self.batchNorm(w, "head.batchnorm1")
            (bn2Scale, bn2Shift) = try Self.batchNorm(w, "head.batchnorm2")
            headWeight = try w.take("head.conv.weight", [K, 256, 1, 1], as: [K, 256])
            headBias = try w.take("head.conv.bias", [K])
        }
        try w.finish()
    }

    /// ConvTranspose2d weight [ci, co, 4, 4] → [ci, (ky·4 + kx)·256 + co].
    private static func deconvMatrix(_ t: Tensor, inChannels: Int) throws -> Tensor {
        let m = Tensor(shape: [inChannels, 16 * 256])
        for ci in 0..<inChannels { for co in 0..<256 { for tap in 0..<16 {
            m.data[ci * 4096 + tap * 256 + co] = t.data[(ci * 256 + co) * 16 + tap]
        } } }
        return m
    }

    /// Eval BatchNorm2d(256), eps 1e-5, folded to x·scale + shift: scale and shift [256].
    private static func batchNorm(_ w: StrictWeights, _ prefix: String) throws -> (Tensor, Tensor) {
        let (scale, shift) = try w.batchNorm(prefix, channels: 256)
        return (Tensor(shape: [256], values: scale), Tensor(shape: [256], values: shift))
    }

    // MARK: - Forward

    /// Heatmaps [B, K, Hh, Wh] of B crops [B, 3, H, W] (normalised pixel values, NCHW).
    public func heatmaps(pixels: [Float], batch B: Int) -> [Float] {
        let c = config
        let H = c.imageHeight, W = c.imageWidth, ph = c.patchHeight, pw = c.patchWidth
        let N = c.tokens, D = c.hiddenSize, M = c.mlpHidden
        let heads = c.heads, hd = D / heads
        precondition(pixels.count == B * 3 * H * W, "ViTPose: \(pixels.count) pixel values for \(B) crops of 3x\(H)x\(W)")
        let rows = B * N
        let x = Tensor(shape: [rows, D])          // the residual stream
        let h = Tensor(shape: [rows, max(D, 3 * ph * pw)])
        let qkv = Tensor(shape: [rows, 3 * D])
        let attn = Tensor(shape: [rows, D])
        let mlp = Tensor(shape: [rows, M])
        let scores = Tensor(shape: [N * N])
        // the raw pointers below must not outlive their tensors: keep them all to the end
        return withExtendedLifetime([x, h, qkv, attn, mlp, scores]) {

        // 1. patches [B·N, 3·ph·pw] (padding 2: patch (gy, gx) starts at pixel (gy·ph − 2, gx·pw − 2))
        let pp = 3 * ph * pw
        pixels.withUnsafeBufferPointer { px in
            for b in 0..<B { for gy in 0..<c.gridHeight { for gx in 0..<c.gridWidth {
                let row = h.data + ((b * c.gridHeight + gy) * c.gridWidth + gx) * pp
                for ch in 0..<3 { for ky in 0..<ph {
                    let y = gy * ph - 2 + ky
                    for kx in 0..<pw {
                        let xx = gx * pw - 2 + kx
                        row[(ch * ph + ky) * pw + kx] = (y >= 0 && y < H && xx >= 0 && xx < W) ? px[((b * 3 + ch) * H + y) * W + xx] : 0
                    }
                } }
            } } }
        }
        linear(h.data, xStride: pp, rows: rows, weight: patchWeight.data, bias: patchBias.data,
               inFeatures: pp, outFeatures: D, x.data, yStride: D)
        // 2. position embeddings: + pos[1 + n], then + pos[0]
        for b in 0..<B {
            addInPlace(x.data + b * N * D, dstStride: D, positions.data + D, srcStride: D, rows: N, cols: D)
            addInPlace(x.data + b * N * D, dstStride: D, positions.data, srcStride: 0, rows: N, cols: D)
        }
        // 3. transformer blocks up to the output stage
        for block in blocks.prefix(c.outputStage) {
            layerNorm(x.data, xStride: D, rows: rows, dim: D, gamma: block.ln1Gamma.data, beta: block.ln1Beta.data,
                      eps: c.layerNormEps, h.data, yStride: D)
            linear(h.data, xStride: D, rows: rows, weight: block.qkvWeight.data, bias: block.qkvBias?.data,
                   inFeatures: D, outFeatures: 3 * D, qkv.data, yStride: 3 * D)
            for b in 0..<B {
                let q = qkv.data + b * N * 3 * D
                multiHeadAttention(q: q, qStride: 3 * D, k: q + D, kStride: 3 * D, v: q + 2 * D, vStride: 3 * D,
                                   out: attn.data + b * N * D, outStride: D, nq: N, nk: N, heads: heads, headDim: hd,
                                   scale: 1 / Float(hd).squareRoot(), scores: scores.data)
            }
            linear(attn.data, xStride: D, rows: rows, weight: block.outWeight.data, bias: block.outBias.data,
                   inFeatures: D, outFeatures: D, h.data, yStride: D)
            addInPlace(x.data, dstStride: D, h.data, srcStride: D, rows: rows, cols: D)
            layerNorm(x.data, xStride: D, rows: rows, dim: D, gamma: block.ln2Gamma.data, beta: block.ln2Beta.data,
                      eps: c.layerNormEps, h.data, yStride: D)
            linear(h.data, xStride: D, rows: rows, weight: block.fc1Weight.data, bias: block.fc1Bias.data,
                   inFeatures: D, outFeatures: M, mlp.data, yStride: M)
            geluInPlace(mlp.data, count: rows * M)
            linear(mlp.data, xStride: M, rows: rows, weight: block.fc2Weight.data, bias: block.fc2Bias.data,
                   inFeatures: M, outFeatures: D, h.data, yStride: D)
            addInPlace(x.data, dstStride: D, h.data, srcStride: D, rows: rows, cols: D)
        }
        // 4. final LayerNorm → features [B·N, D]
        layerNorm(x.data, xStride: D, rows: rows, dim: D, gamma: finalGamma.data, beta: finalBeta.data,
                  eps: c.layerNormEps, h.data, yStride: D)
        // 5. decoder
        let hw = c.heatmapHeight * c.heatmapWidth
        var out = [Float](repeating: 0, count: B * c.keypoints * hw)
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<B {
                let features = h.data + b * N * D
                let dst = o.baseAddress! + b * c.keypoints * hw
                if c.simpleDecoder { simpleDecoder(features, dst) } else { classicDecoder(features, dst) }
            }
        }
        return out
        }
    }

    /// ReLU → bilinear ×s → Conv3x3: features [N, D] → heatmaps [K, Hh, Wh].
    private func simpleDecoder(_ features: FloatPtr, _ out: FloatPtr) {
        let c = config, D = c.hiddenSize, K = c.keypoints
        let gh = c.gridHeight, gw = c.gridWidth, Hh = c.heatmapHeight, Wh = c.heatmapWidth
        reluInPlace(features, stride: D, rows: c.tokens, cols: D)
        // upsampled map, channel-last, inside a one-pixel zero border: [(Hh + 2)·(Wh + 2), D]
        let Wp = Wh + 2
        let up = Tensor(shape: [(Hh + 2) * Wp, D])
        let rowSrc = bilinearSources(input: gh, output: Hh), colSrc = bilinearSources(input: gw, output: Wh)
        for oy in 0..<Hh {
            let (y0, y1, ly0, ly1) = rowSrc[oy]
            for ox in 0..<Wh {
                let (x0, x1, lx0, lx1) = colSrc[ox]
                let a = features + (y0 * gw + x0) * D, bb = features + (y0 * gw + x1) * D
                let cc = features + (y1 * gw + x0) * D, dd = features + (y1 * gw + x1) * D
                let dst = up.data + ((oy + 1) * Wp + ox + 1) * D
                for ch in 0..<D {   // PyTorch's order: h0λ·(w0λ·a + w1λ·b) + h1λ·(w0λ·c + w1λ·d)
                    dst[ch] = ly0 * (lx0 * a[ch] + lx1 * bb[ch]) + ly1 * (lx0 * cc[ch] + lx1 * dd[ch])
                }
            }
        }
        // every tap of every pixel in one GEMM: z[(Hh + 2)·(Wh + 2), 9·K] = up · tapsᵀ
        let z = Tensor(shape: [(Hh + 2) * Wp, 9 * K])
        withExtendedLifetime([up, z]) {
        sgemm((Hh + 2) * Wp, 9 * K, D, up.data, lda: D, convTaps!.data, ldb: D, transB: true, z.data, ldc: 9 * K)
        // heatmap[k, y, x] = bias[k] + Σ_tap z[(y + ky)·Wp + x + kx, tap·K + k]
        for k in 0..<K {
            for y in 0..<Hh { for x in 0..<Wh {
                var s = convBias![k]
                for ky in 0..<3 { for kx in 0..<3 {
                    s += z.data[((y + ky) * Wp + x + kx) * 9 * K + (ky * 3 + kx) * K + k]
                } }
                out[(k * Hh + y) * Wh + x] = s
            } }
        }
        }
    }

    /// Deconv → BN → ReLU (twice) → Conv1x1: features [N, D] → heatmaps [K, 4·gh, 4·gw].
    private func classicDecoder(_ features: FloatPtr, _ out: FloatPtr) {
        let c = config, K = c.keypoints
        let (h1, w1) = (2 * c.gridHeight, 2 * c.gridWidth)
        let a = transposedConv(features, inChannels: c.hiddenSize, height: c.gridHeight, width: c.gridWidth, weight: deconv1!)
        batchNormInference(a.data, stride: 256, rows: h1 * w1, channels: 256, scale: bn1Scale!.data, shift: bn1Shift!.data)
        reluInPlace(a.data, stride: 256, rows: h1 * w1, cols: 256)
        let b = transposedConv(a.data, inChannels: 256, height: h1, width: w1, weight: deconv2!)
        let hw = 4 * h1 * w1
        batchNormInference(b.data, stride: 256, rows: hw, channels: 256, scale: bn2Scale!.data, shift: bn2Shift!.data)
        reluInPlace(b.data, stride: 256, rows: hw, cols: 256)
        let y = Tensor(shape: [hw, K])
        linear(b.data, xStride: 256, rows: hw, weight: headWeight!.data, bias: headBias!.data,
               inFeatures: 256, outFeatures: K, y.data, yStride: K)
        for p in 0..<hw { for k in 0..<K { out[k * hw + p] = y.data[p * K + k] } }
        withExtendedLifetime([a, b, y]) {}
    }

    /// ConvTranspose2d(kernel 4, stride 2, padding 1, no bias), channel-last:
    /// x [h·w, ci] → [2h·2w, 256]; input pixel (iy, ix) tap (ky, kx) lands on (2·iy − 1 + ky, 2·ix − 1 + kx).
    private func transposedConv(_ x: FloatPtr, inChannels: Int, height h: Int, width w: Int, weight: Tensor) -> Tensor {
        let z = Tensor(shape: [h * w, 16 * 256])
        sgemm(h * w, 16 * 256, inChannels, x, lda: inChannels, weight.data, ldb: 16 * 256, transB: false, z.data, ldc: 16 * 256)
        let out = Tensor(shape: [4 * h * w, 256])
        defer { withExtendedLifetime(z) {} }
        for iy in 0..<h { for ix in 0..<w { for ky in 0..<4 { for kx in 0..<4 {
            let oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx
            guard oy >= 0, oy < 2 * h, ox >= 0, ox < 2 * w else { continue }
            addInPlace(out.data + (oy * 2 * w + ox) * 256, dstStride: 256,
                       z.data + (iy * w + ix) * 4096 + (ky * 4 + kx) * 256, srcStride: 256, rows: 1, cols: 256)
        } } } }
        return out
    }
}

/// PyTorch's bilinear source indices and weights (align_corners = False) for each output index:
/// src = max((o + ½)·(in/out) − ½, 0), i0 = ⌊src⌋, i1 = min(i0 + 1, in − 1), λ1 = src − i0, λ0 = 1 − λ1.
func bilinearSources(input: Int, output: Int) -> [(Int, Int, Float, Float)] {
    let scale = Float(input) / Float(output)
    return (0..<output).map { o in
        let src = max(scale * (Float(o) + 0.5) - 0.5, 0)
        let i0 = Int(src)
        let i1 = i0 + (i0 < input - 1 ? 1 : 0)
        let l1 = src - Float(i0)
        return (i0, i1, 1 - l1, l1)
    }
}
