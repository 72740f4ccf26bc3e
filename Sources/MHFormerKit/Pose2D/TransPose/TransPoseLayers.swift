// NCHW building blocks of TransPose (batch 1, so activations are [C, H, W] flat Float arrays):
// convolution with its BatchNorm folded in, max pooling, transposed convolution, nearest upsampling.
//
// Convolutions go through OpenBLAS. im2col lays the input patches out as a [C·KH·KW, OH·OW] matrix
// (row (c, ky, kx), column (oy, ox)) so that with the PyTorch weights [O, C, KH, KW] = [O, C·KH·KW]
// the convolution is one product y[O, OH·OW] = W · cols. A 1x1 stride-1 convolution needs no im2col
// (the input [C, H·W] already is the patch matrix).

import COpenBLAS
import Foundation

/// One feature map of batch 1: values[c·h·w + y·w + x].
public struct FeatureMap {
    public var channels: Int, height: Int, width: Int
    public var values: [Float]

    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(values.count == channels * height * width)
        self.channels = channels; self.height = height; self.width = width; self.values = values
    }

    init(zeros channels: Int, _ height: Int, _ width: Int) {
        self.init(channels: channels, height: height, width: width,
                  values: [Float](repeating: 0, count: channels * height * width))
    }
}

/// Conv2d followed by an eval-mode BatchNorm, then optional ReLU:
///   y = relu?( (W · x) · a + c ),  a = γ / sqrt(var + eps), c = β - mean · a  (per output channel)
/// StrictWeights.convBN (TransPoseModel.swift) folds the BN into the conv (W' = W · a per output row,
/// bias c) and leaves `scale` nil; `scale` applies a after the product instead (as PyTorch computes
/// it; the two agree to float32 rounding). A layer without BN has bias 0 (`reduce`) or its own conv bias (`final_layer`).
struct ConvBN {
    let inC: Int, outC: Int, kernel: Int, stride: Int, pad: Int
    let relu: Bool
    let weight: [Float]   // [outC, inC·k·k]
    let scale: [Float]?   // [outC] BN a, nil without BN
    let bias: [Float]     // [outC] BN c, or the conv bias

    func outSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * pad - kernel) / stride + 1, (w + 2 * pad - kernel) / stride + 1)
    }

    func callAsFunction(_ x: FeatureMap) -> FeatureMap {
        precondition(x.channels == inC, "conv expects \(inC) channels, got \(x.channels)")
        let (oh, ow) = outSize(x.height, x.width)
        let P = oh * ow, K = inC * kernel * kernel
        var y = FeatureMap(zeros: outC, oh, ow)
        y.values.withUnsafeMutableBufferPointer { yb in
            let yp = yb.baseAddress!
            let beta: Float = scale == nil ? 1 : 0     // with BN, the shift is added after the scale
            if scale == nil { for o in 0..<outC { (yp + o * P).update(repeating: bias[o], count: P) } }
            weight.withUnsafeBufferPointer { wb in
                if kernel == 1 && stride == 1 && pad == 0 {
                    x.values.withUnsafeBufferPointer { xb in
                        sgemm(outC, P, K, wb.baseAddress!, lda: K, xb.baseAddress!, ldb: P, transB: false,
                              yp, ldc: P, beta: beta)
                    }
                } else {
                    var cols = [Float](repeating: 0, count: K * P)
                    cols.withUnsafeMutableBufferPointer { cb in
                        x.values.withUnsafeBufferPointer { xb in
                            im2colNCHW(xb.baseAddress!, channels: inC, height: x.height, width: x.width,
                                       kernel: kernel, stride: stride, pad: pad, outH: oh, outW: ow, cb.baseAddress!)
                        }
                        sgemm(outC, P, K, wb.baseAddress!, lda: K, cb.baseAddress!, ldb: P, transB: false,
                              yp, ldc: P, beta: beta)
                    }
                }
            }
            if let scale {
                for o in 0..<outC {
                    let a = scale[o], c = bias[o], row = yp + o * P
                    for i in 0..<P { row[i] = row[i] * a + c }
                }
            }
            if relu { reluInPlace(yp, stride: outC * P, rows: 1, cols: outC * P) }
        }
        return y
    }
}

/// cols[C·K·K, OH·OW]: row (c, ky, kx) holds input[c, oy·s - pad + ky, ox·s - pad + kx] for every
/// output pixel (oy, ox); zero outside the input (zero padding).
func im2colNCHW(_ x: ConstFloatPtr, channels: Int, height: Int, width: Int, kernel: Int, stride: Int, pad: Int,
                outH: Int, outW: Int, _ cols: FloatPtr) {
    let P = outH * outW
    for c in 0..<channels {
        let plane = x + c * height * width
        for ky in 0..<kernel {
            for kx in 0..<kernel {
                let row = cols + ((c * kernel + ky) * kernel + kx) * P
                // output columns [lo, hi) read inside the input (ix = ox·stride - pad + kx in 0..<width)
                let lo = pad - kx > 0 ? min(outW, (pad - kx + stride - 1) / stride) : 0
                let hi = max(lo, min(outW, width - 1 + pad - kx >= 0 ? (width - 1 + pad - kx) / stride + 1 : 0))
                for oy in 0..<outH {
                    let iy = oy * stride - pad + ky
                    let dst = row + oy * outW
                    if iy < 0 || iy >= height { dst.update(repeating: 0, count: outW); continue }
                    let src = plane + iy * width - pad + kx
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if stride == 1 {
                        (dst + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        for ox in lo..<hi { dst[ox] = src[ox * stride] }
                    }
                    if hi < outW { (dst + hi).update(repeating: 0, count: outW - hi) }
                }
            }
        }
    }
}

/// MaxPool2d(kernel 3, stride 2, padding 1): padded taps never win (implicit -inf padding).
func maxPool3x3s2(_ x: FeatureMap) -> FeatureMap {
    let oh = (x.height + 2 - 3) / 2 + 1, ow = (x.width + 2 - 3) / 2 + 1
    var y = FeatureMap(zeros: x.channels, oh, ow)
    for c in 0..<x.channels {
        let src = c * x.height * x.width, dst = c * oh * ow
        for oy in 0..<oh {
            for ox in 0..<ow {
                var m = -Float.infinity
                for ky in 0..<3 {
                    let iy = oy * 2 - 1 + ky
                    if iy < 0 || iy >= x.height { continue }
                    for kx in 0..<3 {
                        let ix = ox * 2 - 1 + kx
                        if ix < 0 || ix >= x.width { continue }
                        m = max(m, x.values[src + iy * x.width + ix])
                    }
                }
                y.values[dst + oy * ow + ox] = m
            }
        }
    }
    return y
}

/// ConvTranspose2d(in, out, kernel 4, stride 2, padding 1, no bias), weights W[in, out, 4, 4]:
///   y[o, 2·iy - 1 + ky, 2·ix - 1 + kx] += x[i, iy, ix] · W[i, o, ky, kx]
/// One product cols[out·16, H·W] = Wᵀ[out·16, in] · x[in, H·W], then each column is scattered
/// (col2im) to its 4x4 output window; taps outside the (2H, 2W) output are dropped.
func convTranspose4x4s2(_ x: FeatureMap, weight: [Float], outC: Int) -> FeatureMap {
    let inC = x.channels, H = x.height, W = x.width, P = H * W
    let OH = 2 * H, OW = 2 * W
    let rows = outC * 16
    var cols = [Float](repeating: 0, count: rows * P)
    cols.withUnsafeMutableBufferPointer { cb in
        weight.withUnsafeBufferPointer { wb in
            x.values.withUnsafeBufferPointer { xb in
                // cols[rows, P] = Wᵀ · x, with W stored [inC, rows]
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows), Int32(P), Int32(inC), 1,
                            wb.baseAddress!, Int32(rows), xb.baseAddress!, Int32(P), 0, cb.baseAddress!, Int32(P))
            }
        }
    }
    var y = FeatureMap(zeros: outC, OH, OW)
    for o in 0..<outC {
        for ky in 0..<4 {
            for kx in 0..<4 {
                let row = ((o * 4 + ky) * 4 + kx) * P
                for iy in 0..<H {
                    let oy = 2 * iy - 1 + ky
                    if oy < 0 || oy >= OH { continue }
                    for ix in 0..<W {
                        let ox = 2 * ix - 1 + kx
                        if ox < 0 || ox >= OW { continue }
                        y.values[(o * OH + oy) * OW + ox] += cols[row + iy * W + ix]
                    }
                }
            }
        }
    }
    return y
}

/// Nearest-neighbour upsampling by an integer factor (pixel replication).
func upsampleNearest(_ x: FeatureMap, factor f: Int) -> FeatureMap {
    let OH = x.height * f, OW = x.width * f
    var y = FeatureMap(zeros: x.channels, OH, OW)
    for c in 0..<x.channels {
        for oy in 0..<OH {
            let src = (c * x.height + oy / f) * x.width, dst = (c * OH + oy) * OW
            for ox in 0..<OW { y.values[dst + ox] = x.values[src + ox / f] }
        }
    }
    return y
}

/// a += b, element-wise (same shape).
func addInPlace(_ a: inout FeatureMap, _ b: FeatureMap) {
    precondition(a.values.count == b.values.count)
    let n = a.values.count
    a.values.withUnsafeMutableBufferPointer { ab in
        b.values.withUnsafeBufferPointer { bb in
            addInPlace(ab.baseAddress!, dstStride: n, bb.baseAddress!, srcStride: n, rows: 1, cols: n)
        }
    }
}

func reluInPlace(_ a: inout FeatureMap) {
    let n = a.values.count
    a.values.withUnsafeMutableBufferPointer { reluInPlace($0.baseAddress!, stride: n, rows: 1, cols: n) }
}
