// Partial views: Samples/cmu02_punch_closeup.mp4 is a validation subject (CMU 02, punching) rendered from
// 1.9 m at chest height, so the knees sit on the image's lower edge and the ankles are below it in every
// frame (Training/render/render_clips.py --plan closeup). BlazePose then guesses the legs. The default
// output must stay a plausible body: steady limb bones, human proportions, an accurate upper body.

import Foundation
import Testing
@testable import MHFormerKit

enum CloseupSample {
    static let video = Paths.repo.appendingPathComponent("Samples/cmu02_punch_closeup.mp4")
    static let gt3D = Paths.repo.appendingPathComponent("Samples/cmu02_punch_closeup_gt_3d_camera.csv")
    static let gt2D = Paths.repo.appendingPathComponent("Samples/cmu02_punch_closeup_gt_2d.csv")
}

/// Thigh, shin, upper arm, forearm on each side, as (parent, child) joints in the Human3.6M order.
let limbBones = [(1, 2), (2, 3), (4, 5), (5, 6), (11, 12), (12, 13), (14, 15), (15, 16)]

/// Per frame, the length (m) of each limb bone of (N, 17, 3) joints: [frame][bone].
func limbBoneLengths(_ v: [Float]) -> [[Double]] {
    (0..<(v.count / 51)).map { i in
        limbBones.map { (a, b) in
            let d = (0..<3).map { Double(v[i * 51 + 3 * a + $0] - v[i * 51 + 3 * b + $0]) }
            return dot(d, d).squareRoot()
        }
    }
}

func medianOf(_ x: [Double]) -> Double { let s = x.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }

@Suite("partial views: the lower body outside the image", .enabled(if: DefaultWeights.find() != nil && SampleVideo.ready,
                                                                 "needs Models/mhformer-cmu-T*.safetensors and BlazePose's models"))
struct PartialViewTests {
    @Test("a clip whose legs leave the frame gives plausible bone lengths")
    func closeupBoneLengths() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The sample really is a partial view: both ankles are below the 640x480 image in every frame.
        let gt2D = try Keypoints2DCSV.read(path: CloseupSample.gt2D.path)
        for i in 0..<gt2D.frames.count {
            #expect(gt2D.points[i * 34 + 3 * 2 + 1] > 480 && gt2D.points[i * 34 + 6 * 2 + 1] > 480, "frame \(i): ankles inside")
        }

        let out = dir.appendingPathComponent("o.csv").path
        let raw = dir.appendingPathComponent("raw.csv").path
        let r = try run(Paths.tool, ["run", CloseupSample.video.path, "-o", out])
        try #require(r.status == 0, "\(r.stderr)")
        let r2 = try run(Paths.tool, ["run", CloseupSample.video.path, "-o", raw, "--no-rigid-skeleton", "--no-refine"])
        try #require(r2.status == 0, "\(r2.stderr)")
        let (frames, mine) = try read3DCSV(out)
        let (_, truth) = try read3DCSV(CloseupSample.gt3D.path)
        try #require(frames.count == 100 && !mine.contains { $0.isNaN }, "a person in every frame")

        // 1. Steady: in every frame every limb bone is within 10 % of its length over the clip.
        let lengths = limbBoneLengths(mine)
        let clipLength = (0..<8).map { b in medianOf(lengths.map { $0[b] }) }
        for (i, frame) in lengths.enumerated() {
            for b in 0..<8 {
                #expect(abs(frame[b] / clipLength[b] - 1) <= 0.10, "frame \(i) bone \(limbBones[b]): \(frame[b]) m, clip \(clipLength[b]) m")
            }
        }
        // 2. Human: each limb bone within 30 % of the performer's, left and right within 10 % of each other.
        let trueLength = limbBoneLengths(truth)[0]
        for b in 0..<8 {
            #expect(abs(clipLength[b] / trueLength[b] - 1) <= 0.30, "bone \(limbBones[b]): \(clipLength[b]) m, truth \(trueLength[b]) m")
        }
        for (right, left) in [(0, 2), (1, 3), (6, 4), (7, 5)] {
            #expect(abs(clipLength[right] / clipLength[left] - 1) <= 0.10, "bones \(limbBones[right]) vs \(limbBones[left])")
        }
        // 3. The visible upper body is where it should be (Procrustes-aligned, all 17 joints).
        let error = pmpjpe(mine, truth)
        #expect(error < 100, "P-MPJPE \(error) mm")

        // The raw model output, for the record: how unsteady the guessed legs make it.
        let rawLengths = limbBoneLengths(try read3DCSV(raw).values)
        let rawMedian = (0..<8).map { b in medianOf(rawLengths.map { $0[b] }) }
        let steadyFrames = rawLengths.filter { f in (0..<8).allSatisfy { abs(f[$0] / rawMedian[$0] - 1) <= 0.10 } }.count
        print("partial view | default P-MPJPE \(error) mm | raw output: \(steadyFrames) of 100 frames with every limb bone within 10 %")
    }
}
