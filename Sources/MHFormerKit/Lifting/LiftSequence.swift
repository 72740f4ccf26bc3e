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
    /// person, their windows batched together. `workers` > 1: the people's pieces are shared out
    /// between that many threads, each with its own activations (a model copy sharing the weights);
    /// call it with one BLAS thread per worker.
    public func lift(people: [Keypoints2D], flip: Bool = true, workers: Int = 1) -> [Pose3DSequence] {
        guard let first = people.first else { return [] }
        var pieces: [(person: Int, rows: Range<Int>)] = []
        for (p, kp) in people.enumerated() { for seg in kp.segments { pieces.append((p, seg)) } }
        let inputs = pieces.map { (keypoints: Array(people[$0.person].rows($0.rows)), frames: $0.rows.count) }
        var lifted: [[Float]]
        if workers > 1 && pieces.count > 1 {
            // Longest pieces first, each to the least loaded worker.
            var load = [Int](repeating: 0, count: workers), share = [[Int]](repeating: [], count: workers)
            for k in pieces.indices.sorted(by: { pieces[$0].rows.count > pieces[$1].rows.count }) {
                let w = load.indices.min { load[$0] < load[$1] }!
                share[w].append(k); load[w] += pieces[k].rows.count
            }
            final class Results: @unchecked Sendable { var values: [[Float]]; init(_ n: Int) { values = Array(repeating: [], count: n) } }
            let results = Results(pieces.count)
            let work = UnsafeSendable((share, inputs, model.weights, windowsPerBatch))
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let (share, inputs, weights, batch) = work.value
                let own = Lifter(model: MHFormerModel(weights: weights), windowsPerBatch: batch)
                let out = own.lift(sequences: share[w].map { inputs[$0] }, width: first.width, height: first.height, flip: flip)
                for (k, y) in zip(share[w], out) { results.values[k] = y }      // each k written by one worker
            }
            lifted = results.values
        } else {
            lifted = lift(sequences: inputs, width: first.width, height: first.height, flip: flip)
        }
        var joints = people.map { [Float](repeating: 0, count: $0.count * 51) }
        for (piece, y) in zip(pieces, lifted) {
            joints[piece.person].replaceSubrange((piece.rows.lowerBound * 51)..<(piece.rows.upperBound * 51), with: y)
        }
        return people.indices.map { Pose3DSequence(frames: people[$0].frames, times: people[$0].times, joints: joints[$0], present: people[$0].present) }
    }
}
