// MHFormer's forward pass (CVPR 2022, "MHFormer: Multi-Hypothesis Transformer for 3D Human Pose
// Estimation"), exactly as the official model/mhformer.py computes it in eval mode:
//
//   x (B, T, 17, 2) ─flatten→ X0 (B, 34, T)
//   MHG:  X1 = X0 + Enc1(norm_1(X0)); X2 = X1 + Enc2(norm_2(X1)); X3 = X2 + Enc3(norm_3(X2))
//         (tokens are the 34 coordinate tracks, features are the T frames)
//   embedding_k(Xk) → Hk (B, T, C)   + pos_embed_k        (tokens are frames from here on)
//   SHR × (L-1): per-hypothesis self-attention, then one MLP over [H1 | H2 | H3]
//   CHI × 1:     sequential cross-attention between hypotheses, then the MLP
//   LayerNorm(3C) → BatchNorm(3C) → Conv1d(3C → 51)  → Y (B, T, 17, 3)
//
// The three hypotheses live side by side in one (B·T, 3C) buffer, so "concat" and "split" are free:
// hypothesis k is the column slice [k·C, (k+1)·C) with row stride 3C.
// Every quirk cited below is from ../shared/docs/mhformer-reference.md.

public final class MHFormerModel: @unchecked Sendable {
    public let weights: MHFormerWeights
    public var config: MHFormerConfig { weights.config }

    /// Called with (name, values, shape) for each named activation when set; used by the parity tests
    /// to find the first layer that differs from PyTorch. Layouts are this implementation's:
    /// mhg_* (B, 34, T); embedding_k_out, shr*/chi* (B, T, C); hypothesis_out (B, T, 3C);
    /// regression_out (B, T, 51); output (B, T, 17, 3).
    public var trace: ((String, [Float], [Int]) -> Void)?

    public init(weights: MHFormerWeights) { self.weights = weights }

    /// Activation buffers are kept between calls of the same batch size (so a model object must not
    /// run two forward passes at once).
    private var cachedScratch: Scratch?
    private func scratch(_ B: Int) -> Scratch {
        if let s = cachedScratch, s.B == B { return s }
        let s = Scratch(B: B, config: config)
        cachedScratch = s
        return s
    }

    public convenience init(path: String) throws { self.init(weights: try MHFormerWeights(path: path)) }

    /// Runs `batch` windows. `input`: (B, T, 17, 2) normalised screen coordinates.
    /// Returns (B, T, 17, 3): root-relative camera-frame 3D for every frame of every window.
    public func forward(_ input: [Float], batch B: Int) -> [Float] {
        let T = config.frames, C = config.channel, J2 = 2 * MHFormerConfig.joints, J3 = 3 * MHFormerConfig.joints
        precondition(input.count == B * T * J2, "input has \(input.count) values, expected \(B)·\(T)·\(J2)")
        let s = scratch(B)

        // Flatten: X0[b, 2j + c, t] = x[b, t, j, c]                                    (B, 34, T)
        input.withUnsafeBufferPointer { x in
            for b in 0..<B { for t in 0..<T { for r in 0..<J2 {
                s.x.data[(b * J2 + r) * T + t] = x[(b * T + t) * J2 + r]
            } } }
        }
        record("mhg_in", s.x.data, rows: B * J2, cols: T, stride: T, shape: [B, J2, T])

        // MHG: three chained residual encoders; embedding_k reads the residual stream Xk.   (B, 34, T)
        for k in 0..<3 {
            mhgEncoder(k, s)
            embed(k, s)
        }

        // Hypothesis transformer over frames.                                          (B·T, 3C)
        for k in 0..<3 {
            for b in 0..<B {
                addInPlace(s.h.data + b * T * 3 * C + k * C, dstStride: 3 * C,
                           weights.hypothesisPosEmbed[k].data, srcStride: C, rows: T, cols: C)
            }
        }
        for (l, block) in weights.shrBlocks.enumerated() {
            shrBlock(block, s)
            for k in 0..<3 { record("shr\(l)_out_x\(k + 1)", s.h.data + k * C, rows: B * T, cols: C, stride: 3 * C, shape: [B, T, C]) }
        }
        chiBlock(weights.chiBlock, s)
        for k in 0..<3 { record("chi_out_x\(k + 1)", s.h.data + k * C, rows: B * T, cols: C, stride: 3 * C, shape: [B, T, C]) }

        // Head: LayerNorm(3C) → BatchNorm(3C) → Conv1d(3C → 51).                         (B·T, 51)
        let fn = weights.finalNorm
        layerNorm(s.h.data, xStride: 3 * C, rows: B * T, dim: 3 * C, gamma: fn.gamma.data, beta: fn.beta.data,
                  eps: fn.eps, s.wide.data, yStride: 3 * C)
        record("hypothesis_out", s.wide.data, rows: B * T, cols: 3 * C, stride: 3 * C, shape: [B, T, 3 * C])
        let rbn = weights.regressionBatchNorm
        batchNormInference(s.wide.data, stride: 3 * C, rows: B * T, channels: 3 * C, scale: rbn.scale.data, shift: rbn.shift.data)
        let out = Tensor(shape: [B * T, J3])
        apply(weights.regression, s.wide.data, xStride: 3 * C, rows: B * T, out.data, yStride: J3)
        record("regression_out", out.data, rows: B * T, cols: J3, stride: J3, shape: [B, T, J3])
        // Y[b, t, j, c] = R[b, t, 3j + c]: the (B·T, 51) buffer already is (B, T, 17, 3).
        let y = out.array
        trace?("output", y, [B, T, MHFormerConfig.joints, 3])
        return y
    }

    // MARK: - MHG

    /// X_{k+1} = X_k + Enc_k(norm_k(X_k)), in place on s.x.                           (B·34, T)
    private func mhgEncoder(_ k: Int, _ s: Scratch) {
        let T = config.frames, rows = s.B * 2 * MHFormerConfig.joints
        let enc = weights.encoders[k], norm = weights.inputNorms[k]
        // QUIRK: norm_k normalises each coordinate track over time, eps 1e-5 (all other LNs: 1e-6).
        layerNorm(s.x.data, xStride: T, rows: rows, dim: T, gamma: norm.gamma.data, beta: norm.beta.data,
                  eps: norm.eps, s.z.data, yStride: T)
        record("mhg_norm_\(k + 1)", s.z.data, rows: rows, cols: T, stride: T, shape: [s.B, 34, T])
        // The encoder adds its positional embedding (34, T) after the norm.
        for b in 0..<s.B {
            addInPlace(s.z.data + b * 34 * T, dstStride: T, enc.posEmbed.data, srcStride: T, rows: 34, cols: T)
        }
        for block in enc.blocks {
            // Z = Z + Attn(LN1(Z)): 34 tokens, dim T, 9 heads (attention across coordinate tracks)
            encoderBlock(block, s.z.data, rows: rows, tokens: 34, dim: T, heads: MHFormerConfig.mhgHeads, s)
        }
        // The encoder returns its final LayerNorm's output; that is what joins the residual stream.
        layerNorm(s.z.data, xStride: T, rows: rows, dim: T, gamma: enc.norm.gamma.data, beta: enc.norm.beta.data,
                  eps: enc.norm.eps, s.t1.data, yStride: T)
        record("mhg_encoder_\(k + 1)_out", s.t1.data, rows: rows, cols: T, stride: T, shape: [s.B, 34, T])
        addInPlace(s.x.data, dstStride: T, s.t1.data, srcStride: T, rows: rows, cols: T)
        record("mhg_x\(k + 1)", s.x.data, rows: rows, cols: T, stride: T, shape: [s.B, 34, T])
    }

    /// One pre-norm transformer block on z (rows = B·tokens, dim features), in place:
    ///   z += proj(MSA(LN1(z)));  z += fc2(GELU(fc1(LN2(z))))
    private func encoderBlock(_ w: EncoderBlockWeights, _ z: FloatPtr, rows: Int, tokens: Int, dim: Int, heads: Int,
                              _ s: Scratch) {
        layerNorm(z, xStride: dim, rows: rows, dim: dim, gamma: w.norm1.gamma.data, beta: w.norm1.beta.data,
                  eps: w.norm1.eps, s.t1.data, yStride: dim)
        selfAttention(SelfAttentionWeights(qkv: w.qkv, proj: w.proj), s.t1.data, xStride: dim, rows: rows,
                      tokens: tokens, dim: dim, heads: heads, residual: z, residualStride: dim, s)
        layerNorm(z, xStride: dim, rows: rows, dim: dim, gamma: w.norm2.gamma.data, beta: w.norm2.beta.data,
                  eps: w.norm2.eps, s.t1.data, yStride: dim)
        mlp(MLPWeights(fc1: w.fc1, fc2: w.fc2), s.t1.data, xStride: dim, rows: rows, residual: z, residualStride: dim, s)
    }

    // MARK: - Embedding

    /// H_k (B, T, C) = embedding_k(X_k): a 1×1 Conv1d over the 34 tracks (+ BN + ReLU when T <= 27).
    private func embed(_ k: Int, _ s: Scratch) {
        let T = config.frames, C = config.channel, B = s.B
        // Transpose each window's (34, T) stream to (T, 34) so the conv is a Linear over rows.
        for b in 0..<B { for r in 0..<34 { for t in 0..<T {
            s.t1.data[(b * T + t) * 34 + r] = s.x.data[(b * 34 + r) * T + t]
        } } }
        let e = weights.embeddings[k]
        let hk = s.h.data + k * C
        apply(e.conv, s.t1.data, xStride: 34, rows: B * T, hk, yStride: 3 * C)
        if let bn = e.batchNorm {
            batchNormInference(hk, stride: 3 * C, rows: B * T, channels: C, scale: bn.scale.data, shift: bn.shift.data)
            reluInPlace(hk, stride: 3 * C, rows: B * T, cols: C)
        }
        record("embedding_\(k + 1)_out", hk, rows: B * T, cols: C, stride: 3 * C, shape: [B, T, C])
    }

    // MARK: - SHR and CHI

    /// Self-Hypothesis Refinement: H_k += MSA_k(LN1_k(H_k)) for each k, then [H1|H2|H3] += MLP(LN2(·)).
    private func shrBlock(_ w: SHRBlockWeights, _ s: Scratch) {
        let T = config.frames, C = config.channel, rows = s.B * T
        for k in 0..<3 {
            let hk = s.h.data + k * C
            layerNorm(hk, xStride: 3 * C, rows: rows, dim: C, gamma: w.norm1[k].gamma.data, beta: w.norm1[k].beta.data,
                      eps: w.norm1[k].eps, s.t1.data, yStride: C)
            selfAttention(w.attn[k], s.t1.data, xStride: C, rows: rows, tokens: T, dim: C,
                          heads: MHFormerConfig.hypothesisHeads, residual: hk, residualStride: 3 * C, s)
        }
        hypothesisMLP(w.norm2, w.mlp, s)
    }

    /// Cross-Hypothesis Interaction. QUIRK: sequential, each line sees the streams updated before it:
    ///   H1 += CA_1(q = LN(H2),  k = LN(H3),  v = LN(H1))
    ///   H2 += CA_2(q = LN(H1'), k = LN(H3),  v = LN(H2))
    ///   H3 += CA_3(q = LN(H1'), k = LN(H2'), v = LN(H3))
    /// then the shared MLP as in SHR.
    private func chiBlock(_ w: CHIBlockWeights, _ s: Scratch) {
        let T = config.frames, C = config.channel, rows = s.B * T
        let sources = [(1, 2, 0), (0, 2, 1), (0, 1, 2)]      // (query, key, value) hypothesis per update
        for (k, src) in sources.enumerated() {
            let a = w.attn[k], n = w.norm3[k]
            let inputs = [src.0, src.1, src.2]
            let outs = [s.q, s.k, s.v]
            let lins = [a.q, a.k, a.v]
            for r in 0..<3 {
                layerNorm(s.h.data + inputs[r] * C, xStride: 3 * C, rows: rows, dim: C,
                          gamma: n[r].gamma.data, beta: n[r].beta.data, eps: n[r].eps, s.t1.data, yStride: C)
                apply(lins[r], s.t1.data, xStride: C, rows: rows, outs[r].data, yStride: C)
            }
            attention(q: s.q.data, qStride: C, k: s.k.data, kStride: C, v: s.v.data, vStride: C,
                      tokens: T, dim: C, heads: MHFormerConfig.hypothesisHeads, s)
            // H_value += proj(O)
            apply(a.proj, s.attnOut.data, xStride: C, rows: rows, s.t1.data, yStride: C)
            addInPlace(s.h.data + src.2 * C, dstStride: 3 * C, s.t1.data, srcStride: C, rows: rows, cols: C)
        }
        hypothesisMLP(w.norm2, w.mlp, s)
    }

    /// [H1|H2|H3] += fc2(GELU(fc1(LN(H))))  over 3C → D → 3C.
    private func hypothesisMLP(_ norm: LayerNormWeights, _ w: MLPWeights, _ s: Scratch) {
        let C3 = 3 * config.channel, rows = s.B * config.frames
        layerNorm(s.h.data, xStride: C3, rows: rows, dim: C3, gamma: norm.gamma.data, beta: norm.beta.data,
                  eps: norm.eps, s.wide.data, yStride: C3)
        mlp(w, s.wide.data, xStride: C3, rows: rows, residual: s.h.data, residualStride: C3, s)
    }

    // MARK: - Building blocks

    /// residual += proj(MSA(x)) with timm's packed qkv (x: rows = B·tokens, dim features).
    private func selfAttention(_ w: SelfAttentionWeights, _ x: ConstFloatPtr, xStride: Int, rows: Int,
                               tokens: Int, dim: Int, heads: Int, residual: FloatPtr, residualStride: Int,
                               _ s: Scratch) {
        // qkv (rows, 3·dim): feature f = part·dim + head·d + i, part 0 = q, 1 = k, 2 = v
        apply(w.qkv, x, xStride: xStride, rows: rows, s.qkv.data, yStride: 3 * dim)
        attention(q: s.qkv.data, qStride: 3 * dim, k: s.qkv.data + dim, kStride: 3 * dim,
                  v: s.qkv.data + 2 * dim, vStride: 3 * dim, tokens: tokens, dim: dim, heads: heads, s)
        apply(w.proj, s.attnOut.data, xStride: dim, rows: rows, s.t2.data, yStride: dim)
        addInPlace(residual, dstStride: residualStride, s.t2.data, srcStride: dim, rows: rows, cols: dim)
    }

    /// s.attnOut (B·tokens, dim) = per-window multi-head attention; scale head_dim^-0.5 applied to q·kᵀ.
    private func attention(q: ConstFloatPtr, qStride: Int, k: ConstFloatPtr, kStride: Int, v: ConstFloatPtr, vStride: Int,
                           tokens: Int, dim: Int, heads: Int, _ s: Scratch) {
        let d = dim / heads
        let scale = Float(1.0 / Double(d).squareRoot())
        for b in 0..<s.B {
            let r0 = b * tokens
            multiHeadAttention(q: q + r0 * qStride, qStride: qStride, k: k + r0 * kStride, kStride: kStride,
                               v: v + r0 * vStride, vStride: vStride, out: s.attnOut.data + r0 * dim, outStride: dim,
                               nq: tokens, nk: tokens, heads: heads, headDim: d, scale: scale, scores: s.scores.data)
        }
    }

    /// residual += fc2(GELU(fc1(x))).
    private func mlp(_ w: MLPWeights, _ x: ConstFloatPtr, xStride: Int, rows: Int, residual: FloatPtr, residualStride: Int,
                     _ s: Scratch) {
        let hidden = w.fc1.outFeatures, outF = w.fc2.outFeatures
        apply(w.fc1, x, xStride: xStride, rows: rows, s.hidden.data, yStride: hidden)
        geluInPlace(s.hidden.data, count: rows * hidden)
        apply(w.fc2, s.hidden.data, xStride: hidden, rows: rows, s.t2.data, yStride: outF)
        addInPlace(residual, dstStride: residualStride, s.t2.data, srcStride: outF, rows: rows, cols: outF)
    }

    private func apply(_ w: LinearWeights, _ x: ConstFloatPtr, xStride: Int, rows: Int, _ y: FloatPtr, yStride: Int) {
        linear(x, xStride: xStride, rows: rows, weight: w.weight.data, bias: w.bias.data,
               inFeatures: w.inFeatures, outFeatures: w.outFeatures, y, yStride: yStride)
    }

    private func record(_ name: String, _ p: ConstFloatPtr, rows: Int, cols: Int, stride: Int, shape: [Int]) {
        guard let trace else { return }
        var values = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for c in 0..<cols { values[r * cols + c] = p[r * stride + c] } }
        trace(name, values, shape)
    }
}

/// Activation buffers of one forward call, sized for B windows.
private final class Scratch {
    let B: Int
    let x: Tensor          // (B·34, T)   MHG residual stream
    let z: Tensor          // (B·34, T)   encoder working stream
    let h: Tensor          // (B·T, 3C)   the three hypotheses side by side
    let wide: Tensor       // (B·T, 3C)   LN(H)
    let t1: Tensor, t2: Tensor           // (rows, max feature width) temporaries
    let qkv: Tensor        // (rows, 3·dim)
    let q: Tensor, k: Tensor, v: Tensor  // (B·T, C) CHI projections
    let attnOut: Tensor    // (rows, dim)
    let hidden: Tensor     // (rows, MLP hidden)
    let scores: Tensor     // (tokens, tokens) for one head

    init(B: Int, config: MHFormerConfig) {
        let T = config.frames, C = config.channel
        self.B = B
        let mhgRows = B * 34, hypRows = B * T
        x = Tensor(shape: [mhgRows, T]); z = Tensor(shape: [mhgRows, T])
        h = Tensor(shape: [hypRows, 3 * C]); wide = Tensor(shape: [hypRows, 3 * C])
        let tmp = max(mhgRows * T, hypRows * max(3 * C, 34))
        t1 = Tensor(shape: [tmp]); t2 = Tensor(shape: [tmp])
        qkv = Tensor(shape: [max(mhgRows * 3 * T, hypRows * 3 * C)])
        q = Tensor(shape: [hypRows, C]); k = Tensor(shape: [hypRows, C]); v = Tensor(shape: [hypRows, C])
        attnOut = Tensor(shape: [max(mhgRows * T, hypRows * C)])
        hidden = Tensor(shape: [max(mhgRows * 2 * T, hypRows * config.dHid)])
        let tokens = max(34, T)
        scores = Tensor(shape: [tokens * tokens])
    }
}
