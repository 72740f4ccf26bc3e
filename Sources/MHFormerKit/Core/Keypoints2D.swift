// 2D keypoints of one person over a sequence of frames: 17 Human3.6M joints in image pixels, with
// the frame numbers, time stamps, image size and (optionally) the detector's per-joint scores. What
// every 2D source produces and what the lifter reads.

import Foundation

public struct Keypoints2D: Sendable {
    public var frames: [Int]
    /// Seconds from the start, when the file has them.
    public var times: [Double?]
    public var width: Int
    public var height: Int
    /// (N, 17, 2) pixels, x right, y down; rows of missing frames hold 0 and are flagged in `present`.
    public var points: [Float]
    public var present: [Bool]
    /// (N, 17) detector confidences when the file has them.
    public var scores: [Float]?
    /// (N, 4, 2) pixels of the feet's points the 17 joints lack, when the 2D model gives them
    /// (BlazePose: heels and toes, in FootLandmark's order); the motion stage's contacts use them.
    public var feet: [Float]?

    public var count: Int { frames.count }

    public init(frames: [Int], times: [Double?], width: Int, height: Int, points: [Float], present: [Bool], scores: [Float]? = nil) {
        self.frames = frames; self.times = times; self.width = width; self.height = height
        self.points = points; self.present = present; self.scores = scores
    }

    /// Contiguous runs of frames with a person, as index ranges.
    public var segments: [Range<Int>] { runsOfTrue(present) }
}

/// The points of a foot that BlazePose gives beyond the 17 joints (landmarks 29-32), in the order
/// Keypoints2D.feet stores them: left heel, right heel, left toe, right toe.
public enum FootLandmark: Int, Sendable {
    case heel = 0, toe = 1

    /// BlazePose's landmark indices, in `feet`'s order.
    public static let blazePoseIndices = [29, 30, 31, 32]

    /// The point's place (0-3) in a row of `feet`; `side` 0 is the left foot, 1 the right.
    public func index(side: Int) -> Int { 2 * rawValue + side }
}

/// The index ranges of the maximal runs of `true` in `flags`.
public func runsOfTrue(_ flags: [Bool]) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < flags.count {
        if !flags[i] { i += 1; continue }
        var j = i
        while j < flags.count && flags[j] { j += 1 }
        out.append(i..<j)
        i = j
    }
    return out
}

extension Keypoints2D {
    /// Linearly interpolates (in time) runs of frames without a person whose neighbours on both sides
    /// are at most `maxSeconds` apart; longer gaps stay empty. Interpolated joints get score 0.
    /// Returns how many frames were filled.
    @discardableResult
    public mutating func fillGaps(maxSeconds: Double, fps: Double) -> Int {
        func time(_ i: Int) -> Double { times[i] ?? Double(frames[i]) / fps }
        var filled = 0
        var i = 0
        while i < count {
            guard !present[i] else { i += 1; continue }
            var j = i
            while j < count && !present[j] { j += 1 }
            // missing run [i, j): neighbours i-1 and j
            if i > 0, j < count, time(j) - time(i - 1) <= maxSeconds + 1e-9 {
                let t0 = time(i - 1), t1 = time(j)
                for k in i..<j {
                    let a = Float((time(k) - t0) / (t1 - t0))
                    for c in 0..<34 { points[k * 34 + c] = (1 - a) * points[(i - 1) * 34 + c] + a * points[j * 34 + c] }
                    if feet != nil { for c in 0..<8 { feet![k * 8 + c] = (1 - a) * feet![(i - 1) * 8 + c] + a * feet![j * 8 + c] } }
                    if scores != nil { for c in 0..<17 { scores![k * 17 + c] = 0 } }
                    present[k] = true
                    filled += 1
                }
            }
            i = j
        }
        return filled
    }
}

extension Keypoints2D {
    /// Joint `j` of row `i`, pixels.
    @inline(__always)
    public func point(_ i: Int, _ j: Int) -> SIMD2<Float> { SIMD2(points[i * 34 + 2 * j], points[i * 34 + 2 * j + 1]) }

    /// The 34 values (17 joints × xy) of row `i`.
    public func row(_ i: Int) -> ArraySlice<Float> { points[(i * 34)..<((i + 1) * 34)] }

    /// The (rows.count, 17, 2) values of a range of rows, e.g. one segment with a person.
    public func rows(_ rows: Range<Int>) -> ArraySlice<Float> { points[(rows.lowerBound * 34)..<(rows.upperBound * 34)] }

    /// Rows with a person.
    public var framesWithPerson: Int { present.filter { $0 }.count }
}
