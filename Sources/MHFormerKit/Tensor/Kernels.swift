// The layer kernels of the transformer models, over flat Float buffers.
//
// Conventions (PyTorch's):
//   Linear(in, out):  y = x · Wᵀ + b, W stored [out, in] row-major
//   LayerNorm(n):     y = (x - μ) / sqrt(σ² + eps) · γ + β over the last axis, biased variance
//   BatchNorm (eval): y = x · (γ / sqrt(var + eps)) + (β - mean · γ / sqrt(var + eps)), per channel
//   GELU:             exact erf form, 0.5 · x · (1 + erf(x / √2))
// Matrices are row-major; `stride` is the distance in floats between two rows, so a kernel can work
// on a column slice of a wider matrix. Hot loops use SIMD16 and raw pointers: plain Swift float loops
// do not vectorise (see ../shared/docs/toolchain.md §5).

import COpenBLAS
import Foundation

public typealias FloatPtr = UnsafeMutablePointer<Float>
public typealias ConstFloatPtr = UnsafePointer<Float>

// MARK: - BLAS

/// C[M,N] = alpha · A[M,K] · op(B) + beta · C, row-major. op(B) = Bᵀ when `transB` (B stored [N,K]).
@inline(__always)
public func sgemm(_ M: Int, _ N: Int, _ K: Int,
                  _ a: ConstFloatPtr, lda: Int,
                  _ b: ConstFloatPtr, ldb: Int, transB: Bool,
                  _ c: FloatPtr, ldc: Int, alpha: Float = 1, beta: Float = 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Sets the number of OpenBLAS threads (1 whenever anything else runs in parallel: two BLAS threads
/// collapse when another process is busy).
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

/// The number of threads OpenBLAS uses now.
public func blasThreads() -> Int { Int(openblas_get_num_threads()) }

// MARK: - Linear

/// y[rows, out] = x[rows, in] · Wᵀ + b.  W: [out, in], b: [out].
public func linear(_ x: ConstFloatPtr, xStride: Int, rows: Int,
                   weight: ConstFloatPtr, bias: ConstFloatPtr?, inFeatures: Int, outFeatures: Int,
                   _ y: FloatPtr, yStride: Int) {
    if let bias {
        for r in 0..<rows { (y + r * yStride).update(from: bias, count: outFeatures) }
    }
    sgemm(rows, outFeatures, inFeatures, x, lda: xStride, weight, ldb: inFeatures, transB: true,
          y, ldc: yStride, beta: bias == nil ? 0 : 1)
}

// MARK: - Normalisation

/// LayerNorm over `dim` for each of `rows` rows: two passes (mean, then centred variance), which keeps
/// nearly constant rows (MHG's near-static trajectories, eps 1e-5) accurate.
public func layerNorm(_ x: ConstFloatPtr, xStride: Int, rows: Int, dim: Int,
                      gamma: ConstFloatPtr, beta: ConstFloatPtr, eps: Float,
                      _ y: FloatPtr, yStride: Int) {
    let vec = dim / 16 * 16
    for r in 0..<rows {
        let xr = x + r * xStride, yr = y + r * yStride
        // mean
        var acc = SIMD16<Float>()
        var i = 0
        while i < vec { acc += load16(xr + i); i += 16 }
        var sum = acc.sum()
        while i < dim { sum += xr[i]; i += 1 }
        let mean = sum / Float(dim)
        // biased variance of the centred values
        var acc2 = SIMD16<Float>()
        let m16 = SIMD16<Float>(repeating: mean)
        i = 0
        while i < vec { let d = load16(xr + i) - m16; acc2 += d * d; i += 16 }
        var sq = acc2.sum()
        while i < dim { let d = xr[i] - mean; sq += d * d; i += 1 }
        let rstd = 1 / (sq / Float(dim) + eps).squareRoot()
        let r16 = SIMD16<Float>(repeating: rstd)
        i = 0
        while i < vec {
            store16((load16(xr + i) - m16) * r16 * load16(gamma + i) + load16(beta + i), yr + i)
            i += 16
        }
        while i < dim { yr[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i]; i += 1 }
    }
}

/// BatchNorm in inference mode over the last axis (the channel axis of a [rows, channels] matrix),
/// in place: x · a + c with a = γ / sqrt(var + eps), c = β - mean · a, as PyTorch's CPU kernel folds it.
public func batchNormInference(_ x: FloatPtr, stride: Int, rows: Int, channels: Int,
                               scale a: ConstFloatPtr, shift c: ConstFloatPtr) {
    for r in 0..<rows {
        let xr = x + r * stride
        for ch in 0..<channels { xr[ch] = xr[ch] * a[ch] + c[ch] }
    }
}

// MARK: - Element-wise

/// x = max(x, 0) on a [rows, cols] strided matrix.
public func reluInPlace(_ x: FloatPtr, stride: Int, rows: Int, cols: Int) {
    for r in 0..<rows {
        let xr = x + r * stride
        for i in 0..<cols where xr[i] < 0 { xr[i] = 0 }
    }
}

/// GELU, exact erf form, in place over `count` contiguous floats.
public func geluInPlace(_ x: FloatPtr, count: Int) {
    let vec = count / 16 * 16
    var i = 0
    let half = SIMD16<Float>(repeating: 0.5), one = SIMD16<Float>(repeating: 1)
    let invSqrt2 = SIMD16<Float>(repeating: 0.70710678118654752)
    while i < vec {
        let v = load16(x + i)
        store16(half * v * (one + erf16(v * invSqrt2)), x + i)
        i += 16
    }
    while i < count { x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)); i += 1 }   // tail (< 16)
}

/// dst[rows, cols] += src[rows, cols] (both strided).
public func addInPlace(_ dst: FloatPtr, dstStride: Int, _ src: ConstFloatPtr, srcStride: Int, rows: Int, cols: Int) {
    for r in 0..<rows {
        let d = dst + r * dstStride, s = src + r * srcStride
        var i = 0
        while i + 16 <= cols { store16(load16(d + i) + load16(s + i), d + i); i += 16 }
        while i < cols { d[i] += s[i]; i += 1 }
    }
}

// MARK: - Softmax and attention

/// Softmax over each row of a [rows, cols] matrix (contiguous rows), in place.
public func softmaxRows(_ x: FloatPtr, rows: Int, cols: Int) {
    let vec = cols / 16 * 16
    for r in 0..<rows {
        let xr = x + r * cols
        var mx = -Float.infinity
        var m16 = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i < vec { let v = load16(xr + i); m16.replace(with: v, where: v .> m16); i += 16 }
        mx = m16.max()
        while i < cols { mx = max(mx, xr[i]); i += 1 }
        let mxv = SIMD16<Float>(repeating: mx)
        var s16 = SIMD16<Float>()
        i = 0
        while i < vec { let e = exp16(load16(xr + i) - mxv); store16(e, xr + i); s16 += e; i += 16 }
        var sum = s16.sum()
        while i < cols { let e = expf(xr[i] - mx); xr[i] = e; sum += e; i += 1 }   // tail (< 16)
        let inv = SIMD16<Float>(repeating: 1 / sum)
        i = 0
        while i < vec { store16(load16(xr + i) * inv, xr + i); i += 16 }
        let invS = 1 / sum
        while i < cols { xr[i] *= invS; i += 1 }
    }
}

/// Multi-head scaled dot-product attention for one sequence:
///   for each head h: O_h[nq, d] = softmax(Q_h · K_hᵀ · scale) · V_h
/// Q_h is the column block [h·d, (h+1)·d) of Q (rows strided by qStride), likewise K, V and O, i.e.
/// heads are contiguous inside the feature axis (timm's layout). `scores` needs nq·nk floats.
public func multiHeadAttention(q: ConstFloatPtr, qStride: Int, k: ConstFloatPtr, kStride: Int,
                               v: ConstFloatPtr, vStride: Int, out: FloatPtr, outStride: Int,
                               nq: Int, nk: Int, heads: Int, headDim d: Int, scale: Float,
                               scores: FloatPtr) {
    for h in 0..<heads {
        // scores[nq, nk] = (Q_h · K_hᵀ) · scale
        sgemm(nq, nk, d, q + h * d, lda: qStride, k + h * d, ldb: kStride, transB: true,
              scores, ldc: nk, alpha: scale)
        softmaxRows(scores, rows: nq, cols: nk)
        // O_h[nq, d] = scores · V_h
        sgemm(nq, d, nk, scores, lda: nk, v + h * d, ldb: vStride, transB: false, out + h * d, ldc: outStride)
    }
}

// MARK: - SIMD helpers

@inline(__always) func load16(_ p: ConstFloatPtr) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func load16(_ p: FloatPtr) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func store16(_ v: SIMD16<Float>, _ p: FloatPtr) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// e^x for 16 lanes (Cephes expf: range reduction by ln 2 and a degree-6 polynomial; relative error
/// about 1e-7). libm's expf is a call per element and blocks vectorisation.
@inline(__always) func exp16(_ xIn: SIMD16<Float>) -> SIMD16<Float> {
    var x = xIn
    let hi = SIMD16<Float>(repeating: 88.3762626647949), lo = SIMD16<Float>(repeating: -87.3365447504019)
    x.replace(with: hi, where: x .> hi)
    let underflow = xIn .< lo              // includes -inf: exp = 0
    x.replace(with: lo, where: x .< lo)
    // n = round(x / ln 2) with the 1.5·2^23 trick (round to nearest, no float→int conversion traps)
    let magic = SIMD16<Float>(repeating: 12582912.0)
    let t = x * 1.44269504088896341 + magic
    let n = t - magic
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let e = p * (r * r) + r + 1
    // 2^n from the integer in t's low mantissa bits
    let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let pow2 = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD16<Float>.self)
    var result = e * pow2
    result.replace(with: 0, where: underflow)
    return result
}

/// erf(x) for 16 lanes (Abramowitz & Stegun 7.1.26, absolute error ≤ 1.5e-7), odd-symmetric.
@inline(__always) func erf16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var ax = x
    let negative = x .< 0
    ax.replace(with: -x, where: negative)
    let t = 1 / (1 + 0.3275911 * ax)
    var p = SIMD16<Float>(repeating: 1.061405429)
    p = p * t - 1.453152027
    p = p * t + 1.421413741
    p = p * t - 0.284496736
    p = p * t + 0.254829592
    var y = 1 - p * t * exp16(-(ax * ax))
    y.replace(with: -y, where: negative)
    return y
}
