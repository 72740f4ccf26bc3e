// Smoothing a 3D pose sequence with the One Euro filter, each run of frames with a person on its own.

import Foundation

extension Pose3DSequence {
    /// One Euro smoothing of each contiguous run of rows with a person; `fps` gives the times of rows
    /// without a time stamp.
    public func smoothed(fps: Double, parameters: OneEuroParameters) -> Pose3DSequence {
        var out = self
        let times = self.times.enumerated().map { $0.element ?? Double(frames[$0.offset]) / fps }
        for seg in runsOfTrue(present) {
            let x = Array(rows(seg))
            let y = OneEuroFilter.filter(x, channels: 51, times: Array(times[seg]), parameters: parameters)
            out.joints.replaceSubrange((seg.lowerBound * 51)..<(seg.upperBound * 51), with: y)
        }
        return out
    }
}
