// A sequence of 3D poses: one row per frame, 17 Human3.6M joints (x, y, z) in metres, with the
// frame numbers and time stamps of the 2D keypoints it was lifted from.

import Foundation

public struct Pose3DSequence: Sendable {
    public var frames: [Int]
    public var times: [Double?]
    /// (N, 17, 3) metres.
    public var joints: [Float]
    public var present: [Bool]
    /// (N, 2) whether the left and the right foot is planted on the ground, per row, when the motion
    /// stage found out (MotionRefinement); nil otherwise.
    public var footContacts: [Bool]?

    public init(frames: [Int], times: [Double?], joints: [Float], present: [Bool], footContacts: [Bool]? = nil) {
        self.frames = frames; self.times = times; self.joints = joints; self.present = present
        self.footContacts = footContacts
    }
}

extension Pose3DSequence {
    public var count: Int { frames.count }

    /// Joint `j` of row `i`, metres.
    @inline(__always)
    public func joint(_ i: Int, _ j: Int) -> SIMD3<Float> {
        SIMD3(joints[i * 51 + 3 * j], joints[i * 51 + 3 * j + 1], joints[i * 51 + 3 * j + 2])
    }

    /// The 51 values (17 joints × xyz) of row `i`.
    public func row(_ i: Int) -> ArraySlice<Float> { joints[(i * 51)..<((i + 1) * 51)] }

    /// The (rows.count, 17, 3) values of a range of rows, e.g. one segment with a person.
    public func rows(_ rows: Range<Int>) -> ArraySlice<Float> { joints[(rows.lowerBound * 51)..<(rows.upperBound * 51)] }

    /// The frame number of the first row with a person whose joints hold NaN or an infinity, or nil.
    /// (Rows without a person are not written as numbers, so their contents do not matter.)
    public var firstNonFiniteFrame: Int? {
        for i in present.indices where present[i] {
            if row(i).contains(where: { !$0.isFinite }) { return frames[i] }
        }
        return nil
    }
}
