// The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cut-off rises
// with speed, so still poses lose their jitter while fast motion keeps little lag.
//   α(fc) = 1 / (1 + 1 / (2π · fc · Δt))
//   dx̂ = low-pass(Δx / Δt, dCutoff);  fc = minCutoff + beta · |dx̂|;  x̂ = low-pass(x, fc)

import Foundation

public struct OneEuroParameters: Sendable, Equatable {
    /// Cut-off frequency at rest, Hz: lower = smoother still poses.
    public var minCutoff: Double
    /// Speed coefficient (per metre per second): higher = less lag on fast motion.
    public var beta: Double
    /// Cut-off of the speed estimate, Hz.
    public var dCutoff: Double

    public init(minCutoff: Double = 1.0, beta: Double = 0.5, dCutoff: Double = 1.0) {
        self.minCutoff = minCutoff; self.beta = beta; self.dCutoff = dCutoff
    }
}

public enum OneEuroFilter {
    /// Filters each of the `channels` columns of a (N, channels) sequence sampled at `times`
    /// (seconds, increasing). Returns the filtered copy.
    public static func filter(_ x: [Float], channels: Int, times: [Double], parameters p: OneEuroParameters) -> [Float] {
        let n = times.count
        precondition(x.count == n * channels)
        guard n > 1 else { return x }
        var out = x
        func alpha(_ cutoff: Double, _ dt: Double) -> Double { 1 / (1 + 1 / (2 * Double.pi * cutoff * dt)) }
        for c in 0..<channels {
            var prev = Double(x[c]), dPrev = 0.0
            for i in 1..<n {
                let dt = max(times[i] - times[i - 1], 1e-6)
                let v = Double(x[i * channels + c])
                let d = (v - prev) / dt
                dPrev += alpha(p.dCutoff, dt) * (d - dPrev)
                let cutoff = p.minCutoff + p.beta * abs(dPrev)
                prev += alpha(cutoff, dt) * (v - prev)
                out[i * channels + c] = Float(prev)
            }
        }
        return out
    }
}
