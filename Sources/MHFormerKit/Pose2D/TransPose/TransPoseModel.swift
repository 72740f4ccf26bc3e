// TransPose (Yang et al., ICCV 2021): a CNN stem, a transformer encoder over the feature-map cells,
// and a heatmap head. Two variants, told apart by the tensors in the checkpoint:
//   TransPose-R: ResNet-50 stem + layer1 + layer2 (1/8 resolution, 32x24 tokens), deconv head
//   TransPose-H: HRNet stem up to stage 3 (1/4 resolution, 64x48 tokens), 1x1 head
// Input (3, 256, 192) normalised RGB; output heatmaps (17, 64, 48). The layer-by-layer reference is
// ../shared/docs/transpose-reference.md; weights are the official state_dict names (safetensors).

import Foundation

/// Hyper-parameters of a TransPose checkpoint (all but `heads` read from the tensor shapes).
public struct TransPoseConfig: Equatable, Sendable {
    public enum Stem: String, Sendable { case resnet = "transpose_r", hrnet = "transpose_h" }
    public var stem: Stem
    public var dModel: Int          // transformer width (`reduce` output channels)
    public var dFeedForward: Int
    public var heads: Int
    public var encoderLayers: Int
    public var tokensH: Int, tokensW: Int   // feature map under the encoder: 32x24 (R) or 64x48 (H)
    public var joints: Int
    public var hrnetWidths: [Int]   // H only: [c0, c1, c2]
}

/// TransPose's convolutions load with their BatchNorm folded into the weights.
extension StrictWeights {
    /// Conv `conv` weight [outC, inC, k, k] (+ bias [outC] if `convBias`) with the BatchNorm `bn` (eps
    /// 1e-5) folded in: W' = W · scale per output channel, bias = shift.
    func convBN(_ conv: String, _ bn: String?, inC: Int, outC: Int, kernel: Int, stride: Int, relu: Bool,
                convBias: Bool = false) throws -> ConvBN {
        var w = try floats(conv + ".weight", [outC, inC, kernel, kernel])
        var b = convBias ? try floats(conv + ".bias", [outC]) : [Float](repeating: 0, count: outC)
        if let bn {
            let (a, c) = try batchNorm(bn, channels: outC)
            let K = inC * kernel * kernel
            for o in 0..<outC {
                for i in 0..<K { w[o * K + i] *= a[o] }
            }
            b = c
        }
        return ConvBN(inC: inC, outC: outC, kernel: kernel, stride: stride, pad: kernel / 2, relu: relu,
                      weight: w, scale: nil, bias: b)
    }
}

// MARK: - Residual blocks

/// Bottleneck (expansion 4): 1x1 → 3x3 (stride) → 1x1, + residual (optionally downsampled), ReLU.
struct Bottleneck {
    let conv1: ConvBN, conv2: ConvBN, conv3: ConvBN
    let downsample: ConvBN?

    init(_ w: StrictWeights, _ p: String, inplanes: Int, planes: Int, stride: Int) throws {
        conv1 = try w.convBN(p + ".conv1", p + ".bn1", inC: inplanes, outC: planes, kernel: 1, stride: 1, relu: true)
        conv2 = try w.convBN(p + ".conv2", p + ".bn2", inC: planes, outC: planes, kernel: 3, stride: stride, relu: true)
        conv3 = try w.convBN(p + ".conv3", p + ".bn3", inC: planes, outC: planes * 4, kernel: 1, stride: 1, relu: false)
        downsample = w.has(p + ".downsample.0.weight")
            ? try w.convBN(p + ".downsample.0", p + ".downsample.1", inC: inplanes, outC: planes * 4, kernel: 1,
                           stride: stride, relu: false)
            : nil
    }

    func callAsFunction(_ x: FeatureMap) -> FeatureMap {
        var out = conv3(conv2(conv1(x)))
        addInPlace(&out, downsample.map { $0(x) } ?? x)
        reluInPlace(&out)
        return out
    }
}

/// BasicBlock: 3x3 → 3x3, + residual, ReLU (no downsample inside TransPose-H's branches).
struct BasicBlock {
    let conv1: ConvBN, conv2: ConvBN

    init(_ w: StrictWeights, _ p: String, channels c: Int) throws {
        conv1 = try w.convBN(p + ".conv1", p + ".bn1", inC: c, outC: c, kernel: 3, stride: 1, relu: true)
        conv2 = try w.convBN(p + ".conv2", p + ".bn2", inC: c, outC: c, kernel: 3, stride: 1, relu: false)
    }

    func callAsFunction(_ x: FeatureMap) -> FeatureMap {
        var out = conv2(conv1(x))
        addInPlace(&out, x)
        reluInPlace(&out)
        return out
    }
}

/// ResNet layer: `blocks` Bottlenecks, the first one with `stride` (keys prefix.0 ... prefix.(n-1)).
func resnetLayer(_ w: StrictWeights, _ prefix: String, inplanes: Int, planes: Int, stride: Int) throws -> [Bottleneck] {
    let n = w.count(prefix, "conv1.weight")
    guard n > 0 else { throw MHFormerError("\(w.file.path): no blocks under '\(prefix)'") }
    return try (0..<n).map { i in
        try Bottleneck(w, "\(prefix).\(i)", inplanes: i == 0 ? inplanes : planes * 4, planes: planes, stride: i == 0 ? stride : 1)
    }
}

// MARK: - HRNet module

/// One HighResolutionModule: per-branch BasicBlocks, then the fuse layers. Output i is
/// ReLU(Σ_j f_ij(x_j)) with f_ii = identity, f_ij (j > i) = 1x1 conv + BN + nearest upsample by
/// 2^(j-i), f_ij (j < i) = (i-j) 3x3 stride-2 convs + BN (ReLU between them, not after the last).
struct HRModule {
    enum Fuse {
        case identity
        case up(ConvBN, factor: Int)
        case down([ConvBN])
    }
    let branches: [[BasicBlock]]
    let fuse: [[Fuse]]   // [output i][input j]

    init(_ w: StrictWeights, _ p: String, widths c: [Int], outputs: Int) throws {
        let B = c.count
        branches = try (0..<B).map { b in
            let n = w.count("\(p).branches.\(b)", "conv1.weight")
            return try (0..<n).map { k in try BasicBlock(w, "\(p).branches.\(b).\(k)", channels: c[b]) }
        }
        fuse = try (0..<outputs).map { i in
            try (0..<B).map { j -> Fuse in
                if j == i { return .identity }
                let f = "\(p).fuse_layers.\(i).\(j)"
                if j > i {
                    return .up(try w.convBN(f + ".0", f + ".1", inC: c[j], outC: c[i], kernel: 1, stride: 1, relu: false),
                               factor: 1 << (j - i))
                }
                return .down(try (0..<(i - j)).map { k in
                    let last = k == i - j - 1
                    return try w.convBN("\(f).\(k).0", "\(f).\(k).1", inC: c[j], outC: last ? c[i] : c[j], kernel: 3,
                                        stride: 2, relu: !last)
                })
            }
        }
    }

    func callAsFunction(_ inputs: [FeatureMap]) -> [FeatureMap] {
        let xs = zip(branches, inputs).map { blocks, x in blocks.reduce(x) { $1($0) } }
        return fuse.map { row in
            var sum: FeatureMap?
            for (j, f) in row.enumerated() {
                let term: FeatureMap
                switch f {
                case .identity: term = xs[j]
                case let .up(conv, factor): term = upsampleNearest(conv(xs[j]), factor: factor)
                case let .down(convs): term = convs.reduce(xs[j]) { $1($0) }
                }
                if sum == nil { sum = term } else { addInPlace(&sum!, term) }
            }
            reluInPlace(&sum!)
            return sum!
        }
    }
}

// MARK: - Transformer encoder layer

/// DETR-style post-norm encoder layer: q = k = src + pos, v = src;
///   src = norm1(src + MHA(q, k, v)); src = norm2(src + linear2(relu(linear1(src)))).
struct EncoderLayer {
    let d: Int, ff: Int, heads: Int
    let inProjW: [Float], inProjB: [Float]      // [3d, d] = [Wq; Wk; Wv], [3d]
    let outProjW: [Float], outProjB: [Float]    // [d, d], [d]
    let linear1W: [Float], linear1B: [Float]    // [ff, d], [ff]
    let linear2W: [Float], linear2B: [Float]    // [d, ff], [d]
    let norm1W: [Float], norm1B: [Float], norm2W: [Float], norm2B: [Float]

    init(_ w: StrictWeights, _ p: String, d: Int, heads: Int) throws {
        self.d = d; self.heads = heads
        ff = try w.shape(p + ".linear1.weight").first ?? 0
        inProjW = try w.floats(p + ".self_attn.in_proj_weight", [3 * d, d])
        inProjB = try w.floats(p + ".self_attn.in_proj_bias", [3 * d])
        outProjW = try w.floats(p + ".self_attn.out_proj.weight", [d, d])
        outProjB = try w.floats(p + ".self_attn.out_proj.bias", [d])
        linear1W = try w.floats(p + ".linear1.weight", [ff, d])
        linear1B = try w.floats(p + ".linear1.bias", [ff])
        linear2W = try w.floats(p + ".linear2.weight", [d, ff])
        linear2B = try w.floats(p + ".linear2.bias", [d])
        norm1W = try w.floats(p + ".norm1.weight", [d]); norm1B = try w.floats(p + ".norm1.bias", [d])
        norm2W = try w.floats(p + ".norm2.weight", [d]); norm2B = try w.floats(p + ".norm2.bias", [d])
    }

    /// src [L, d] (token-major) in place. If `attention` is given it receives the attention weights
    /// averaged over heads, [L (queries), L (keys)], rows summing to 1 (PyTorch's second output).
    /// `scores` is an L·L workspace (shared by the layers: 37.7 MB for TransPose-H).
    func forward(_ src: inout [Float], pos: [Float], L: Int, attention: UnsafeMutablePointer<Float>?, scores: inout [Float]) {
        let hd = d / heads
        var qkIn = [Float](repeating: 0, count: L * d)       // src + pos
        for i in 0..<(L * d) { qkIn[i] = src[i] + pos[i] }
        var qk = [Float](repeating: 0, count: L * 2 * d)     // [L, 2d]: Q | K
        var v = [Float](repeating: 0, count: L * d)
        var heads_out = [Float](repeating: 0, count: L * d)
        if let attention { attention.update(repeating: 0, count: L * L) }
        let invHeads = 1 / Float(heads)
        inProjW.withUnsafeBufferPointer { wb in
            inProjB.withUnsafeBufferPointer { bb in
                linear(qkIn, xStride: d, rows: L, weight: wb.baseAddress!, bias: bb.baseAddress!,
                       inFeatures: d, outFeatures: 2 * d, &qk, yStride: 2 * d)
                linear(src, xStride: d, rows: L, weight: wb.baseAddress! + 2 * d * d, bias: bb.baseAddress! + 2 * d,
                       inFeatures: d, outFeatures: d, &v, yStride: d)
            }
        }
        // Q / sqrt(hd) first, as PyTorch scales q before the product.
        let scale = 1 / Float(hd).squareRoot()
        for t in 0..<L { for c in 0..<d { qk[t * 2 * d + c] *= scale } }
        qk.withUnsafeBufferPointer { qkb in
            v.withUnsafeBufferPointer { vb in
                scores.withUnsafeMutableBufferPointer { sb in
                    heads_out.withUnsafeMutableBufferPointer { ob in
                        let q = qkb.baseAddress!, k = qkb.baseAddress! + d, s = sb.baseAddress!
                        for h in 0..<heads {
                            // scores[L, L] = Q_h · K_hᵀ, softmax over keys, O_h = scores · V_h
                            sgemm(L, L, hd, q + h * hd, lda: 2 * d, k + h * hd, ldb: 2 * d, transB: true, s, ldc: L)
                            softmaxRows(s, rows: L, cols: L)
                            sgemm(L, hd, L, s, lda: L, vb.baseAddress! + h * hd, ldb: d, transB: false,
                                  ob.baseAddress! + h * hd, ldc: d)
                            if let attention {
                                for i in 0..<(L * L) { attention[i] += s[i] * invHeads }
                            }
                        }
                    }
                }
            }
        }
        // src = norm1(src + out_proj(O))
        var x1 = src
        outProjW.withUnsafeBufferPointer { wb in
            outProjB.withUnsafeBufferPointer { bb in
                var attnOut = [Float](repeating: 0, count: L * d)
                linear(heads_out, xStride: d, rows: L, weight: wb.baseAddress!, bias: bb.baseAddress!,
                       inFeatures: d, outFeatures: d, &attnOut, yStride: d)
                for i in 0..<(L * d) { x1[i] += attnOut[i] }
            }
        }
        layerNorm(x1, xStride: d, rows: L, dim: d, gamma: norm1W, beta: norm1B, eps: 1e-5, &src, yStride: d)
        // src = norm2(src + linear2(relu(linear1(src))))
        var hidden = [Float](repeating: 0, count: L * ff)
        linear(src, xStride: d, rows: L, weight: linear1W, bias: linear1B, inFeatures: d, outFeatures: ff, &hidden, yStride: ff)
        hidden.withUnsafeMutableBufferPointer { reluInPlace($0.baseAddress!, stride: L * ff, rows: 1, cols: L * ff) }
        var x2 = src
        var ffOut = [Float](repeating: 0, count: L * d)
        linear(hidden, xStride: ff, rows: L, weight: linear2W, bias: linear2B, inFeatures: ff, outFeatures: d, &ffOut, yStride: d)
        for i in 0..<(L * d) { x2[i] += ffOut[i] }
        layerNorm(x2, xStride: d, rows: L, dim: d, gamma: norm2W, beta: norm2B, eps: 1e-5, &src, yStride: d)
    }
}

// MARK: - The model

public final class TransPoseModel {
    public let config: TransPoseConfig

    /// Called with (stage name, values) after each traced stage of `heatmaps` (parity tests):
    /// R "layer2_out", "reduce_out", H "stage2_out_branch0/1", "stage3_out_branch0", both
    /// "encoder_layer{l}_out" ([L, d] token-major, token y·w + x).
    public var trace: ((String, [Float]) -> Void)?

    /// TransPose-R's own layers: ResNet-50's conv1 (+ max pool), layer1 and layer2 in front of the
    /// encoder; behind it ConvTranspose2d(d, d, 4, stride 2, pad 1, no bias), weight [d, d, 4, 4], then
    /// BatchNorm (scale, shift [d]) and ReLU.
    private struct ResNetLayers {
        let conv1: ConvBN, layer1: [Bottleneck], layer2: [Bottleneck]
        let deconv: [Float], deconvScale: [Float], deconvShift: [Float]
    }
    /// TransPose-H's own layers: HRNet up to stage 3, whose branch 0 feeds the encoder (no deconv).
    private struct HRNetLayers {
        let conv1: ConvBN, conv2: ConvBN, layer1: [Bottleneck], transition1: [ConvBN]
        let stage2: [HRModule], transition2: ConvBN, stage3: [HRModule]
    }
    private enum StemLayers { case resnet(ResNetLayers), hrnet(HRNetLayers) }

    private let stemLayers: StemLayers
    private let reduce: ConvBN
    private let posEmbedding: [Float]          // [L, d]
    private let encoder: [EncoderLayer]
    private let finalLayer: ConvBN

    /// Loads a TransPose safetensors file (official state_dict names), strictly: every tensor used,
    /// every shape checked. `heads` overrides the number of attention heads; otherwise the file's
    /// metadata `n_head` (written by Scripts/convert/convert-transpose.py), else 8 for R and 1 for H (the
    /// released models).
    public init(path: String, heads: Int? = nil) throws {
        let file = try SafeTensorsFile(path: path)
        let stem: TransPoseConfig.Stem
        if file.entries["deconv_layers.0.weight"] != nil && file.entries["layer2.0.conv1.weight"] != nil { stem = .resnet }
        else if file.entries["transition1.0.0.weight"] != nil { stem = .hrnet }
        else { throw MHFormerError("\(path): not a TransPose checkpoint (neither a ResNet nor an HRNet stem)") }
        let w = StrictWeights(file: file, model: "a TransPose-\(stem == .resnet ? "R" : "H") model (wrong model or config?)")

        let reduceShape = try w.shape("reduce.weight")
        guard reduceShape.count == 4 else { throw MHFormerError("\(path): 'reduce.weight' has shape \(reduceShape)") }
        let d = reduceShape[0], reduceIn = reduceShape[1]
        let nHead = heads ?? file.metadata["n_head"].flatMap { Int($0) } ?? (stem == .resnet ? 8 : 1)
        guard nHead > 0, d % nHead == 0 else { throw MHFormerError("\(path): \(nHead) heads do not divide d = \(d)") }
        let layers = w.count("global_encoder.layers", "norm1.weight")
        guard layers > 0 else { throw MHFormerError("\(path): no transformer encoder layers") }
        let ff = try w.shape("global_encoder.layers.0.linear1.weight").first ?? 0
        let joints = try w.shape("final_layer.weight").first ?? 0
        let (th, tw) = stem == .resnet ? (32, 24) : (64, 48)
        var widths: [Int] = []

        switch stem {
        case .resnet:
            let conv1 = try w.convBN("conv1", "bn1", inC: 3, outC: 64, kernel: 7, stride: 2, relu: true)
            let layer1 = try resnetLayer(w, "layer1", inplanes: 64, planes: 64, stride: 1)
            let layer2 = try resnetLayer(w, "layer2", inplanes: 256, planes: 128, stride: 2)
            // ConvTranspose2d(d, d, 4, stride 2, pad 1, no bias) then BN + ReLU
            let deconvW = try w.floats("deconv_layers.0.weight", [d, d, 4, 4])
            let bn = try w.batchNorm("deconv_layers.1", channels: d)
            stemLayers = .resnet(ResNetLayers(conv1: conv1, layer1: layer1, layer2: layer2,
                                              deconv: deconvW, deconvScale: bn.scale, deconvShift: bn.shift))
        case .hrnet:
            let c0 = try w.shape("transition1.0.0.weight")[0]
            let c1 = try w.shape("transition1.1.0.0.weight")[0]
            let c2 = try w.shape("transition2.2.0.0.weight")[0]
            widths = [c0, c1, c2]
            let conv1 = try w.convBN("conv1", "bn1", inC: 3, outC: 64, kernel: 3, stride: 2, relu: true)
            let conv2 = try w.convBN("conv2", "bn2", inC: 64, outC: 64, kernel: 3, stride: 2, relu: true)
            let layer1 = try resnetLayer(w, "layer1", inplanes: 64, planes: 64, stride: 1)
            let t1 = [try w.convBN("transition1.0.0", "transition1.0.1", inC: 256, outC: c0, kernel: 3, stride: 1, relu: true),
                      try w.convBN("transition1.1.0.0", "transition1.1.0.1", inC: 256, outC: c1, kernel: 3, stride: 2, relu: true)]
            let nStage2 = w.count("stage2", "branches.0.0.conv1.weight")
            let stage2 = try (0..<nStage2).map { m in try HRModule(w, "stage2.\(m)", widths: [c0, c1], outputs: 2) }
            let t2 = try w.convBN("transition2.2.0.0", "transition2.2.0.1", inC: c1, outC: c2, kernel: 3, stride: 2, relu: true)
            let nStage3 = w.count("stage3", "branches.0.0.conv1.weight")
            let stage3 = try (0..<nStage3).map { m in
                // the last module fuses into branch 0 only
                try HRModule(w, "stage3.\(m)", widths: [c0, c1, c2], outputs: m == nStage3 - 1 ? 1 : 3)
            }
            stemLayers = .hrnet(HRNetLayers(conv1: conv1, conv2: conv2, layer1: layer1, transition1: t1,
                                            stage2: stage2, transition2: t2, stage3: stage3))
        }
        reduce = try w.convBN("reduce", nil, inC: reduceIn, outC: d, kernel: 1, stride: 1, relu: false)
        posEmbedding = try w.floats("pos_embedding", [th * tw, 1, d])
        encoder = try (0..<layers).map { l in try EncoderLayer(w, "global_encoder.layers.\(l)", d: d, heads: nHead) }
        finalLayer = try w.convBN("final_layer", nil, inC: d, outC: joints, kernel: 1, stride: 1, relu: false, convBias: true)
        try w.finish()
        config = TransPoseConfig(stem: stem, dModel: d, dFeedForward: ff, heads: nHead, encoderLayers: layers,
                                 tokensH: th, tokensW: tw, joints: joints, hrnetWidths: widths)
    }

    /// Heatmaps [joints, 64, 48] of one normalised crop `input` [3, 256, 192] (NCHW, batch 1).
    /// `attention`, if given, receives the last encoder layer's attention (mean over heads), [L, L].
    public func heatmaps(_ input: [Float], attention: UnsafeMutablePointer<Float>? = nil) -> [Float] {
        precondition(input.count == 3 * 256 * 192, "TransPose expects a (3, 256, 192) input")
        let x = FeatureMap(channels: 3, height: 256, width: 192, values: input)
        let features: FeatureMap
        switch stemLayers {
        case .resnet(let r):
            var y = maxPool3x3s2(r.conv1(x))                  // (64, 64, 48)
            y = r.layer1.reduce(y) { $1($0) }                  // (256, 64, 48)
            y = r.layer2.reduce(y) { $1($0) }                  // (512, 32, 24)
            trace?("layer2_out", y.values)
            features = y
        case .hrnet(let h):
            var y = h.conv2(h.conv1(x))                        // (64, 64, 48)
            y = h.layer1.reduce(y) { $1($0) }                  // (256, 64, 48)
            var branches = h.transition1.map { $0(y) }         // c0 @ 64x48, c1 @ 32x24
            for m in h.stage2 { branches = m(branches) }
            trace?("stage2_out_branch0", branches[0].values)
            trace?("stage2_out_branch1", branches[1].values)
            branches.append(h.transition2(branches[1]))        // c2 @ 16x12, from stage-2 branch 1
            for m in h.stage3 { branches = m(branches) }
            trace?("stage3_out_branch0", branches[0].values)   // (c0, 64, 48)
            features = branches[0]
        }
        let reduced = reduce(features)                         // (d, th, tw)
        if case .resnet = stemLayers { trace?("reduce_out", reduced.values) }

        // tokens [L, d], token t = y·w + x
        let d = config.dModel, L = config.tokensH * config.tokensW
        precondition(reduced.height * reduced.width == L)
        var src = [Float](repeating: 0, count: L * d)
        var scores = [Float](repeating: 0, count: L * L)
        for c in 0..<d { for t in 0..<L { src[t * d + c] = reduced.values[c * L + t] } }
        for (l, layer) in encoder.enumerated() {
            layer.forward(&src, pos: posEmbedding, L: L, attention: l == encoder.count - 1 ? attention : nil, scores: &scores)
            trace?("encoder_layer\(l)_out", src)
        }
        var map = FeatureMap(zeros: d, config.tokensH, config.tokensW)
        for c in 0..<d { for t in 0..<L { map.values[c * L + t] = src[t * d + c] } }

        if case .resnet(let r) = stemLayers {
            map = convTranspose4x4s2(map, weight: r.deconv, outC: d)   // (d, 64, 48)
            let P = map.height * map.width
            for c in 0..<d {
                for i in (c * P)..<((c + 1) * P) { map.values[i] = max(map.values[i] * r.deconvScale[c] + r.deconvShift[c], 0) }
            }
        }
        return finalLayer(map).values                          // (joints, 64, 48)
    }
}
