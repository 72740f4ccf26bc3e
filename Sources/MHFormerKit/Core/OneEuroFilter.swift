// The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cut-off rises
// with speed, so still poses lose their jitter while fast motion keeps little lag. One implementation,
// MediaPipe's variant, serves both BlazePose's landmark tracking (frame by frame) and the optional
// smoothing of the 3D output (whole sequences).

import Foundation

/// A first-order low-pass filter (mediapipe/util/filtering/low_pass_filter): the first value passes
/// through, then y = α·x + (1 − α)·y_prev.
struct LowPassFilter {
    private(set) var initialized = false
    private(set) var lastRaw = 0.0
    private var stored = 0.0

    mutating func apply(_ x: Double, alpha: Double) -> Double {
        let y = initialized ? alpha * x + (1 - alpha) * stored : x
        initialized = true
        lastRaw = x
        stored = y
        return y
    }
}

/// The One-Euro filter of one scalar (mediapipe/util/filtering/one_euro_filter): a low-pass filter
/// whose cutoff rises with the (smoothed) speed, so slow motion is smoothed hard and fast motion
/// follows with little lag. α(fc) = 1 / (1 + f / (2π·fc)), f = sampling frequency.
public struct OneEuroFilter {
    let minCutoff: Double, beta: Double, derivativeCutoff: Double
    private var frequency = 30.0
    private var lastTime: Int64 = 0
    private var x = LowPassFilter(), dx = LowPassFilter()

    public init(minCutoff: Double, beta: Double, derivativeCutoff: Double) {
        self.minCutoff = minCutoff; self.beta = beta; self.derivativeCutoff = derivativeCutoff
    }

    private func alpha(_ cutoff: Double) -> Double { 1 / (1 + frequency / (2 * Double.pi * cutoff)) }

    /// `valueScale` turns the value's speed into a scale-free one (1 / object size in pixels).
    public mutating func apply(timeNanoseconds t: Int64, valueScale: Double, _ value: Double) -> Double {
        guard t > lastTime else { return value }             // MediaPipe ignores out-of-order samples
        if lastTime != 0 { frequency = 1e9 / Double(t - lastTime) }
        lastTime = t
        let speed = x.initialized ? (value - x.lastRaw) * valueScale * frequency : 0
        let smoothedSpeed = dx.apply(speed, alpha: alpha(derivativeCutoff))
        return x.apply(value, alpha: alpha(minCutoff + beta * abs(smoothedSpeed)))
    }
}

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

extension OneEuroFilter {
    /// Filters each of the `channels` columns of a (N, channels) sequence sampled at `times`
    /// (seconds, increasing). Returns the filtered copy.
    public static func filter(_ x: [Float], channels: Int, times: [Double], parameters p: OneEuroParameters) -> [Float] {
        let n = times.count
        precondition(x.count == n * channels)
        guard n > 1 else { return x }
        // Nanosecond stamps starting at 1 (the filter treats time 0 as "no sample yet").
        let stamps = times.map { Int64((($0 - times[0]) * 1e9).rounded()) + 1 }
        var out = x
        for c in 0..<channels {
            var f = OneEuroFilter(minCutoff: p.minCutoff, beta: p.beta, derivativeCutoff: p.dCutoff)
            for i in 0..<n {
                out[i * channels + c] = Float(f.apply(timeNanoseconds: stamps[i], valueScale: 1, Double(x[i * channels + c])))
            }
        }
        return out
    }
}
