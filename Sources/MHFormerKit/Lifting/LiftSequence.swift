// From a 2D keypoint file's contents to the 3D sequence: the lifter runs on each contiguous run of
// frames with a person; frames without one stay empty.

import Foundation

extension Lifter {
    /// Root-relative camera-frame joints for every row of `kp` (other frames: Lifter.cameraToWorld
    /// for the demo's frame, WorldMotion for the world frame).
    public func lift(_ kp: Keypoints2D, flip: Bool = true, progress: ((Int) -> Void)? = nil) -> Pose3DSequence {
        var joints = [Float](repeating: 0, count: kp.count * 51)
        var done = 0
        for seg in kp.segments {
            let pts = Array(kp.rows(seg))
            let y = lift(pts, frames: seg.count, width: kp.width, height: kp.height, flip: flip,
                         progress: { progress?(done + $0) })
            joints.replaceSubrange((seg.lowerBound * 51)..<(seg.upperBound * 51), with: y)
            done += seg.count
        }
        return Pose3DSequence(frames: kp.frames, times: kp.times, joints: joints, present: kp.present)
    }
}
