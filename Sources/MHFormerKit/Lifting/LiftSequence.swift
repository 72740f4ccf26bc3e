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

    /// Several people's keypoints (one image size), each lifted on its own with the gap rules of one
    /// person, their windows batched together.
    public func lift(people: [Keypoints2D], flip: Bool = true) -> [Pose3DSequence] {
        guard let first = people.first else { return [] }
        var pieces: [(person: Int, rows: Range<Int>)] = []
        for (p, kp) in people.enumerated() { for seg in kp.segments { pieces.append((p, seg)) } }
        let lifted = lift(sequences: pieces.map { (Array(people[$0.person].rows($0.rows)), $0.rows.count) },
                          width: first.width, height: first.height, flip: flip)
        var joints = people.map { [Float](repeating: 0, count: $0.count * 51) }
        for (piece, y) in zip(pieces, lifted) {
            joints[piece.person].replaceSubrange((piece.rows.lowerBound * 51)..<(piece.rows.upperBound * 51), with: y)
        }
        return people.indices.map { Pose3DSequence(frames: people[$0].frames, times: people[$0].times, joints: joints[$0], present: people[$0].present) }
    }
}
