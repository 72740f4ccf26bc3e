// `mhformer run --pose2d transpose`: TransPose keypoints in BlazePose's person box, and the
// per-keypoint attention maps (--attention-out), on the first frames of the sample video.

import Foundation
import Testing
@testable import MHFormerKit

private let transposeFixtures = Paths.shared.appendingPathComponent("fixtures/transpose")
private var transposeRunReady: Bool {
    SampleVideo.ready && Paths.sharedAvailable
        && FileManager.default.fileExists(atPath: transposeFixtures.appendingPathComponent("r_a3_small/model.safetensors").path)
}

@Suite("mhformer run --pose2d transpose",
       .enabled(if: transposeRunReady, "needs the BlazePose models, the sample video and ../shared/fixtures (transpose, mhformer)"))
struct TransPoseRunTests {
    @Test("3 frames with a fixture TransPose-R: one row per frame, attention (3, 17, 32, 24) with rows summing to 1")
    func runWithAttention() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("clip.mp4").path
        let ff = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-i", SampleVideo.video.path, "-frames:v", "3",
                                          "-c:v", "libx264", "-pix_fmt", "yuv420p", clip])
        try #require(ff.status == 0, "ffmpeg: \(ff.stderr)")
        let weights = try #require(try anyWeights(in: dir))
        let out3D = dir.appendingPathComponent("o.csv").path, out2D = dir.appendingPathComponent("o2d.csv").path
        let attention = dir.appendingPathComponent("att.npy").path
        let model = transposeFixtures.appendingPathComponent("r_a3_small/model.safetensors").path
        let r = try run(Paths.tool, ["run", clip, "-o", out3D, "--keypoints-2d", out2D, "--weights", weights,
                                     "--pose2d", "transpose", "--pose2d-weights", model, "--attention-out", attention])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 frames, 3 with a person"), "\(r.stderr)")
        let kp = try Keypoints2DCSV.read(path: out2D)
        #expect(kp.count == 3 && kp.points.allSatisfy { $0.isFinite })
        let maps = try Npy.read(URL(fileURLWithPath: attention))
        #expect(maps.shape == [3, 17, 32, 24])
        for m in 0..<(3 * 17) {
            let s = maps.values[(m * 768)..<((m + 1) * 768)].reduce(0, +)
            #expect(abs(s - 1) < 1e-4, "map \(m) sums to \(s)")
        }
    }

    /// The top-down model runs in each tracked person's box: on two samples side by side, each
    /// person's TransPose keypoints lie in their own half of the frame.
    @Test("--people 2 --pose2d transpose: the keypoints of each person from their own box")
    func people() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clip = dir.appendingPathComponent("two.mp4").path
        let punch = Paths.repo.appendingPathComponent("Samples/cmu02_punch_closeup.mp4").path
        let ff = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-i", SampleVideo.video.path, "-i", punch, "-filter_complex", "[0:v][1:v]hstack=inputs=2",
                                          "-frames:v", "8", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip])
        try #require(ff.status == 0, "ffmpeg: \(ff.stderr)")
        let weights = try #require(try anyWeights(in: dir))
        let out2D = dir.appendingPathComponent("o2d.csv").path
        let model = transposeFixtures.appendingPathComponent("r_a3_small/model.safetensors").path
        let r = try run(Paths.tool, ["run", clip, "-o", dir.appendingPathComponent("o.csv").path, "--keypoints-2d", out2D, "--weights", weights,
                                     "--pose2d", "transpose", "--pose2d-weights", model, "--people", "2", "--no-pose2d-flip"])
        #expect(r.status == 0 && r.stderr.contains("2 people found, 2 written") && r.stderr.contains("TransPose"), "\(r.stderr)")
        var halves: [Bool] = []
        for id in 1...2 {
            let kp = try Keypoints2DCSV.read(path: PosePipeline.personPath(out2D, id: id))
            let xs = stride(from: 0, to: kp.points.count, by: 2).map { kp.points[$0] }.filter { $0 != 0 }
            let meanX = xs.reduce(0, +) / Float(max(xs.count, 1))
            #expect(kp.count == 8 && !xs.isEmpty)
            halves.append(meanX > 640)
        }
        #expect(Set(halves) == [false, true], "both people in one half: \(halves)")
    }

    @Test("option errors are one line", arguments: [
        (["--pose2d", "transpose"], "--pose2d transpose needs --pose2d-weights"),
        (["--pose2d", "nosuch"], "--pose2d nosuch: unknown 2D model"),
        (["--attention-out", "a.npy"], "--attention-out needs --pose2d transpose"),
        (["--pose2d", "transpose", "--pose2d-weights", "/nonexistent/tp.safetensors"], "/nonexistent/tp.safetensors: no such weights file"),
    ])
    func optionErrors(args: [String], message: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", dir.appendingPathComponent("o.csv").path,
                                     "--weights", weights] + args)
        #expect(r.status != 0)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
