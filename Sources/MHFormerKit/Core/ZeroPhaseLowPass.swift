// Zero-phase low-pass filtering of a sampled series, for an offline tool that sees the whole
// sequence: no lag, unlike the causal One Euro filter.
//
// The filter is a penalised least-squares fit (the Whittaker-Henderson smoother):
//     x = argmin  Σ_t w_t (x_t − y_t)²  +  λ Σ_t (x_{t−1} − 2 x_t + x_{t+1})²
// With equal weights its frequency response is 1 / (1 + λ (2 sin(ω/2))⁴): a second-order
// Butterworth low-pass run forwards and backwards (the zero-phase filter biomechanics uses, and
// Pose2Sim's default), here with exact ends (no padding) and per-sample weights, so a sample the 2D
// model was unsure of (or that was interpolated) pulls less. The response is ½ at the cut-off
// frequency f_c, where λ (2 sin(π f_c / rate))⁴ = 1.
//
// The normal equations (W + λ DᵀD) x = W y are pentadiagonal and positive definite: solved by a
// banded LDLᵀ factorisation in O(N), shared by the channels of one series.

import Foundation

public enum ZeroPhaseLowPass {
    /// λ whose response is ½ at `cutoffHz` for samples `rate` per second. 0 (no smoothing) when the
    /// cut-off is at or above the Nyquist frequency.
    public static func smoothness(cutoffHz: Double, rate: Double) -> Double {
        guard cutoffHz > 0, rate > 0, cutoffHz < rate / 2 else { return 0 }
        let s = 2 * sin(Double.pi * cutoffHz / rate)
        return 1 / (s * s * s * s)
    }

    /// Filters `channels` interleaved series, `x` (N, channels), with sample weights `weights` (N;
    /// nil: all 1; each is kept at least 1e-6) and smoothness `lambda`. Series shorter than 3 samples
    /// are returned as they are.
    public static func filter(_ x: [Double], channels: Int, weights: [Double]? = nil, lambda: Double) -> [Double] {
        let n = channels > 0 ? x.count / channels : 0
        guard n >= 3, lambda > 0 else { return x }
        let w = weights.map { $0.map { max($0, 1e-6) } } ?? [Double](repeating: 1, count: n)
        let factor = Pentadiagonal(weights: w, lambda: lambda)
        var out = x
        var column = [Double](repeating: 0, count: n)
        for c in 0..<channels {
            for t in 0..<n { column[t] = w[t] * x[t * channels + c] }
            factor.solve(&column)
            for t in 0..<n { out[t * channels + c] = column[t] }
        }
        return out
    }

    /// `filter` made robust to outliers: samples whose residual (the norm over the channels) is far
    /// beyond the typical one lose their weight (Tukey's biweight at `cutoffScale` times the median
    /// absolute residual, refitted `iterations` times), so a run of gross errors — a root depth the
    /// perspective fit got wrong for a few frames — is bridged instead of followed.
    public static func robustFilter(_ x: [Double], channels: Int, weights: [Double]? = nil, lambda: Double,
                                    iterations: Int = 4, cutoffScale: Double = 3) -> [Double] {
        let n = channels > 0 ? x.count / channels : 0
        guard n >= 3, lambda > 0 else { return x }
        let base = weights ?? [Double](repeating: 1, count: n)
        var w = base
        var y = filter(x, channels: channels, weights: w, lambda: lambda)
        for _ in 0..<iterations {
            var residuals = [Double](repeating: 0, count: n)
            for t in 0..<n {
                var r = 0.0
                for c in 0..<channels { let d = x[t * channels + c] - y[t * channels + c]; r += d * d }
                residuals[t] = r.squareRoot()
            }
            let scale = 1.4826 * residuals.sorted()[n / 2] + 1e-9
            for t in 0..<n {
                let u = residuals[t] / (cutoffScale * scale)
                w[t] = base[t] * (u < 1 ? (1 - u * u) * (1 - u * u) : 0)
            }
            y = filter(x, channels: channels, weights: w, lambda: lambda)
        }
        return y
    }
}

/// The LDLᵀ factors of W + λ DᵀD (D: second differences), a symmetric pentadiagonal matrix.
/// With e_i = L[i+1][i] and f_i = L[i+2][i]:
///     d_i = a_i − e_{i−1}² d_{i−1} − f_{i−2}² d_{i−2},  e_i = (b_i − f_{i−1} e_{i−1} d_{i−1}) / d_i,  f_i = c_i / d_i
/// where a, b, c are the main diagonal and the first and second upper diagonals.
private struct Pentadiagonal {
    var d: [Double], e: [Double], f: [Double]

    init(weights w: [Double], lambda: Double) {
        let n = w.count
        // DᵀD: diagonal 1, 5, 6, …, 6, 5, 1; first off-diagonal −2, −4, …, −4, −2; second 1, …, 1.
        var a = [Double](repeating: 6, count: n), b = [Double](repeating: -4, count: n), c = [Double](repeating: 1, count: n)
        a[0] = 1; a[n - 1] = 1; a[1] = 5; a[n - 2] = 5
        if n == 3 { a[1] = 4 }
        b[0] = -2; b[n - 2] = -2; b[n - 1] = 0
        c[n - 2] = 0; c[n - 1] = 0
        for i in 0..<n { a[i] = w[i] + lambda * a[i]; b[i] *= lambda; c[i] *= lambda }
        d = [Double](repeating: 0, count: n); e = d; f = d
        for i in 0..<n {
            var di = a[i]
            if i >= 1 { di -= e[i - 1] * e[i - 1] * d[i - 1] }
            if i >= 2 { di -= f[i - 2] * f[i - 2] * d[i - 2] }
            d[i] = di
            var bi = b[i]
            if i >= 1 { bi -= f[i - 1] * e[i - 1] * d[i - 1] }
            e[i] = bi / di
            f[i] = c[i] / di
        }
    }

    /// Solves (L D Lᵀ) x = r in place.
    func solve(_ r: inout [Double]) {
        let n = r.count
        for i in 0..<n {
            if i >= 1 { r[i] -= e[i - 1] * r[i - 1] }
            if i >= 2 { r[i] -= f[i - 2] * r[i - 2] }
        }
        for i in 0..<n { r[i] /= d[i] }
        for i in stride(from: n - 1, through: 0, by: -1) {
            if i + 1 < n { r[i] -= e[i] * r[i + 1] }
            if i + 2 < n { r[i] -= f[i] * r[i + 2] }
        }
    }
}
