// Float32 NHWC kernels of the TFLite operators BlazePose uses, batch 1, over flat buffers.
//
// Layouts (TFLite's):  activations [H, W, C] (batch 1 dropped), channels fastest
//                      CONV_2D weights [O, KH, KW, I], bias [O]
//                      DEPTHWISE_CONV_2D weights [1, KH, KW, C] (depth multiplier 1), bias [C]
// Convolutions go through OpenBLAS: im2col turns the input patches into a [OH·OW, KH·KW·I] matrix
// whose rows line up with the flattened weights [O, KH·KW·I], so y = cols · Wᵀ is one sgemm; a 1x1
// stride-1 convolution needs no im2col at all (the input already is [H·W, I]).
// Depthwise convolutions run per pixel with SIMD16/SIMD8 over the channels (every channel count here
// is a multiple of 8; a scalar tail covers the rest).

import Foundation

/// TFLite's fused activation (ActivationFunctionType), applied to an op's output.
enum FusedActivation {
    case none, relu, reluN1To1, relu6

    init(code: Int, path: String, op: String) throws {
        switch code {
        case 0: self = .none
        case 1: self = .relu
        case 2: self = .reluN1To1
        case 3: self = .relu6
        default: throw MHFormerError("\(path): \(op) has fused activation \(code) (TANH/SIGN_BIT), which is not supported")
        }
    }

    var bounds: (Float, Float)? {
        switch self {
        case .none: nil
        case .relu: (0, .infinity)
        case .reluN1To1: (-1, 1)
        case .relu6: (0, 6)
        }
    }
}

/// x = clamp(x, lo, hi) for the activation, over `count` contiguous floats.
func applyActivation(_ x: FloatPtr, count: Int, _ act: FusedActivation) {
    guard let (lo, hi) = act.bounds else { return }
    let lo16 = SIMD16<Float>(repeating: lo), hi16 = SIMD16<Float>(repeating: hi)
    var i = 0
    while i + 16 <= count {
        var v = load16(x + i)
        // masked selects: SIMD clamped()/pointwiseMin are ~20x slower (toolchain.md §5)
        v.replace(with: lo16, where: v .< lo16)
        v.replace(with: hi16, where: v .> hi16)
        store16(v, x + i)
        i += 16
    }
    while i < count { x[i] = min(max(x[i], lo), hi); i += 1 }
}

/// Output size and leading (top/left) padding of one spatial axis, TFLite's rule:
///   SAME:  out = ceil(in / stride), total pad = max((out-1)·stride + k - in, 0), before = total / 2
///          (so an odd total puts the extra row at the end: BlazePose's stride-2 SAME depthwise)
///   VALID: out = (in - k) / stride + 1, no padding
func convGeometry(inSize: Int, kernel: Int, stride: Int, same: Bool) -> (out: Int, padBefore: Int) {
    if same {
        let out = (inSize + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - inSize, 0)
        return (out, total / 2)
    }
    return ((inSize - kernel) / stride + 1, 0)
}

/// Spatial parameters shared by the convolution and pooling kernels.
struct ConvShape {
    var inH: Int, inW: Int, inC: Int
    var kH: Int, kW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var outH: Int, outW: Int
}

/// cols[OH·OW, KH·KW·C]: row (oy, ox) holds the input patch under output pixel (oy, ox), in the
/// weights' (ky, kx, c) order; taps outside the input are zero (SAME padding).
func im2col(_ x: ConstFloatPtr, _ s: ConvShape, _ cols: FloatPtr) {
    let C = s.inC, rowLen = s.kH * s.kW * C
    for oy in 0..<s.outH {
        for ox in 0..<s.outW {
            var dst = cols + (oy * s.outW + ox) * rowLen
            for ky in 0..<s.kH {
                let iy = oy * s.strideH - s.padTop + ky
                if iy < 0 || iy >= s.inH {
                    dst.update(repeating: 0, count: s.kW * C)
                    dst += s.kW * C
                    continue
                }
                for kx in 0..<s.kW {
                    let ix = ox * s.strideW - s.padLeft + kx
                    if ix < 0 || ix >= s.inW {
                        dst.update(repeating: 0, count: C)
                    } else {
                        dst.update(from: x + (iy * s.inW + ix) * C, count: C)
                    }
                    dst += C
                }
            }
        }
    }
}

/// y[OH, OW, O] = act(conv(x[H, W, I]) + bias), weights w[O, KH·KW·I].
/// `cols` needs OH·OW·KH·KW·I floats unless the conv is 1x1, stride 1, unpadded, or has under 4 outputs.
func conv2d(_ x: ConstFloatPtr, _ s: ConvShape, weights w: ConstFloatPtr, bias: ConstFloatPtr, outC O: Int,
            act: FusedActivation, _ y: FloatPtr, cols: FloatPtr) {
    let rows = s.outH * s.outW, K = s.kH * s.kW * s.inC
    let pointwise = s.kH == 1 && s.kW == 1 && s.strideH == 1 && s.strideW == 1
        && s.padTop == 0 && s.padLeft == 0 && s.outH == s.inH && s.outW == s.inW
    if !pointwise && O < 4 {
        // A few output channels (the segmentation head: 3x3, 8 → 1 at 256x256): im2col would write
        // KH·KW times the input to feed a GEMM that is really a matrix-vector product. Direct
        // per-pixel dot products are several times faster here.
        directConv2d(x, s, weights: w, bias: bias, outC: O, y)
        applyActivation(y, count: rows * O, act)
        return
    }
    let a: ConstFloatPtr
    if pointwise {
        a = x                              // [H·W, I] already is the patch matrix
    } else {
        im2col(x, s, cols)
        a = ConstFloatPtr(cols)
    }
    for r in 0..<rows { (y + r * O).update(from: bias, count: O) }
    sgemm(rows, O, K, a, lda: K, w, ldb: K, transB: true, y, ldc: O, beta: 1)
    applyActivation(y, count: rows * O, act)
}

/// y[OH, OW, O] = conv(x) + bias without im2col: per output pixel and channel, a dot product over
/// the taps inside the input, SIMD8 over the input channels.
func directConv2d(_ x: ConstFloatPtr, _ s: ConvShape, weights w: ConstFloatPtr, bias: ConstFloatPtr, outC O: Int,
                  _ y: FloatPtr) {
    let C = s.inC, vec = C / 8 * 8, K = s.kH * s.kW * C
    for oy in 0..<s.outH {
        let iy0 = oy * s.strideH - s.padTop
        let ky0 = max(0, -iy0), ky1 = max(ky0, min(s.kH, s.inH - iy0))
        for ox in 0..<s.outW {
            let ix0 = ox * s.strideW - s.padLeft
            let kx0 = max(0, -ix0), kx1 = max(kx0, min(s.kW, s.inW - ix0))
            for o in 0..<O {
                var acc8 = SIMD8<Float>()
                var acc = bias[o]
                for ky in ky0..<ky1 {
                    for kx in kx0..<kx1 {
                        let xp = x + ((iy0 + ky) * s.inW + ix0 + kx) * C
                        let wp = w + o * K + (ky * s.kW + kx) * C
                        var c = 0
                        while c < vec {
                            acc8 += UnsafeRawPointer(xp + c).loadUnaligned(as: SIMD8<Float>.self)
                                  * UnsafeRawPointer(wp + c).loadUnaligned(as: SIMD8<Float>.self)
                            c += 8
                        }
                        while c < C { acc += xp[c] * wp[c]; c += 1 }
                    }
                }
                y[(oy * s.outW + ox) * O + o] = acc + acc8.sum()
            }
        }
    }
}

/// y[OH, OW, C] = act(depthwise(x[H, W, C]) + bias), weights w[KH, KW, C] (depth multiplier 1).
/// Per output pixel, the channels in blocks of 16 (then 8, then one at a time), each block's sum
/// kept in registers over the taps that fall inside the input; the activation is applied before
/// the store. (About 30 % faster than SIMD8 blocks with a separate activation pass.)
func depthwiseConv2d(_ x: ConstFloatPtr, _ s: ConvShape, weights w: ConstFloatPtr, bias: ConstFloatPtr,
                     act: FusedActivation, _ y: FloatPtr) {
    let C = s.inC, rowStride = s.inW * C
    let (lo, hi) = act.bounds ?? (-.infinity, .infinity)
    let lo16 = SIMD16<Float>(repeating: lo), hi16 = SIMD16<Float>(repeating: hi)
    let lo8 = SIMD8<Float>(repeating: lo), hi8 = SIMD8<Float>(repeating: hi)
    for oy in 0..<s.outH {
        let iy0 = oy * s.strideH - s.padTop
        let ky0 = max(0, -iy0), ky1 = max(ky0, min(s.kH, s.inH - iy0))
        for ox in 0..<s.outW {
            let ix0 = ox * s.strideW - s.padLeft
            let kx0 = max(0, -ix0), kx1 = max(kx0, min(s.kW, s.inW - ix0))
            let base = x + iy0 * rowStride + ix0 * C      // tap (0, 0); only valid taps are read
            let out = y + (oy * s.outW + ox) * C
            var c = 0
            while c + 16 <= C {
                var acc = load16(bias + c)
                for ky in ky0..<ky1 {
                    let xr = base + ky * rowStride + c, wr = w + ky * s.kW * C + c
                    for kx in kx0..<kx1 { acc += load16(xr + kx * C) * load16(wr + kx * C) }
                }
                acc.replace(with: lo16, where: acc .< lo16)
                acc.replace(with: hi16, where: acc .> hi16)
                store16(acc, out + c)
                c += 16
            }
            while c + 8 <= C {
                var acc = UnsafeRawPointer(bias + c).loadUnaligned(as: SIMD8<Float>.self)
                for ky in ky0..<ky1 {
                    let xr = base + ky * rowStride + c, wr = w + ky * s.kW * C + c
                    for kx in kx0..<kx1 {
                        acc += UnsafeRawPointer(xr + kx * C).loadUnaligned(as: SIMD8<Float>.self)
                             * UnsafeRawPointer(wr + kx * C).loadUnaligned(as: SIMD8<Float>.self)
                    }
                }
                acc.replace(with: lo8, where: acc .< lo8)
                acc.replace(with: hi8, where: acc .> hi8)
                UnsafeMutableRawPointer(out + c).storeBytes(of: acc, as: SIMD8<Float>.self)
                c += 8
            }
            while c < C {
                var acc = bias[c]
                for ky in ky0..<ky1 {
                    for kx in kx0..<kx1 { acc += base[ky * rowStride + kx * C + c] * w[(ky * s.kW + kx) * C + c] }
                }
                out[c] = min(max(acc, lo), hi)
                c += 1
            }
        }
    }
}

/// y[OH, OW, C] = max over the window (taps outside the input ignored), then the activation.
func maxPool2d(_ x: ConstFloatPtr, _ s: ConvShape, act: FusedActivation, _ y: FloatPtr) {
    let C = s.inC
    for oy in 0..<s.outH {
        let iy0 = oy * s.strideH - s.padTop
        for ox in 0..<s.outW {
            let ix0 = ox * s.strideW - s.padLeft
            let out = y + (oy * s.outW + ox) * C
            out.update(repeating: -.infinity, count: C)
            for ky in max(0, -iy0)..<max(max(0, -iy0), min(s.kH, s.inH - iy0)) {
                for kx in max(0, -ix0)..<max(max(0, -ix0), min(s.kW, s.inW - ix0)) {
                    let src = x + ((iy0 + ky) * s.inW + ix0 + kx) * C
                    for c in 0..<C where src[c] > out[c] { out[c] = src[c] }
                }
            }
        }
    }
    applyActivation(y, count: s.outH * s.outW * C, act)
}

/// y = act(a + b), same shapes.
func addTensors(_ a: ConstFloatPtr, _ b: ConstFloatPtr, count: Int, act: FusedActivation, _ y: FloatPtr) {
    var i = 0
    while i + 16 <= count { store16(load16(a + i) + load16(b + i), y + i); i += 16 }
    while i < count { y[i] = a[i] + b[i]; i += 1 }
    applyActivation(y, count: count, act)
}

/// Zero padding of x[H, W, C] by (top, bottom, left, right, channel before, channel after).
func pad3d(_ x: ConstFloatPtr, H: Int, W: Int, C: Int, top: Int, bottom: Int, left: Int, right: Int,
           cBefore: Int, cAfter: Int, _ y: FloatPtr) {
    let OW = W + left + right, OC = C + cBefore + cAfter
    y.update(repeating: 0, count: (H + top + bottom) * OW * OC)
    for h in 0..<H {
        for w in 0..<W {
            (y + ((h + top) * OW + w + left) * OC + cBefore).update(from: x + (h * W + w) * C, count: C)
        }
    }
}

/// Bilinear resize of x[H, W, C] to y[OH, OW, C] with half-pixel centres (align_corners false):
/// output pixel o samples the input at (o + ½)·in/out − ½, clamped to the first/last pixel.
func resizeBilinearHalfPixel(_ x: ConstFloatPtr, H: Int, W: Int, C: Int, outH: Int, outW: Int, _ y: FloatPtr) {
    func taps(_ o: Int, _ n: Int, _ on: Int) -> (Int, Int, Float) {
        let src = max((Float(o) + 0.5) * (Float(n) / Float(on)) - 0.5, 0)
        let i0 = Int(src.rounded(.down))
        return (i0, min(i0 + 1, n - 1), src - Float(i0))
    }
    let xt = (0..<outW).map { taps($0, W, outW) }
    for oy in 0..<outH {
        let (y0, y1, fy) = taps(oy, H, outH)
        for ox in 0..<outW {
            let (x0, x1, fx) = xt[ox]
            let a = x + (y0 * W + x0) * C, b = x + (y0 * W + x1) * C
            let c = x + (y1 * W + x0) * C, d = x + (y1 * W + x1) * C
            let out = y + (oy * outW + ox) * C
            for ch in 0..<C {
                let top = a[ch] + (b[ch] - a[ch]) * fx
                let bot = c[ch] + (d[ch] - c[ch]) * fx
                out[ch] = top + (bot - top) * fy
            }
        }
    }
}

/// DEPTH_TO_SPACE (TF's NHWC order): y[h·bs + dy, w·bs + dx, c] = x[h, w, (dy·bs + dx)·C' + c].
func depthToSpace(_ x: ConstFloatPtr, H: Int, W: Int, C: Int, block bs: Int, _ y: FloatPtr) {
    let OC = C / (bs * bs), OW = W * bs
    for h in 0..<H {
        for w in 0..<W {
            for dy in 0..<bs {
                for dx in 0..<bs {
                    (y + ((h * bs + dy) * OW + w * bs + dx) * OC).update(from: x + (h * W + w) * C + (dy * bs + dx) * OC, count: OC)
                }
            }
        }
    }
}

/// y = 1 / (1 + e^-x).
func logistic(_ x: ConstFloatPtr, count: Int, _ y: FloatPtr) {
    for i in 0..<count { y[i] = 1 / (1 + Foundation.exp(-x[i])) }
}
