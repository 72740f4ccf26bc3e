// PosePipeline without the command line: the three kinds of input agree, checks happen before any
// work, and the result lists what was written.

import Foundation
import MHFormerKit
import Testing

@Suite("PosePipeline in the library", .enabled(if: DefaultWeights.find() != nil, "Models/mhformer-cmu-T*.safetensors absent"))
struct PosePipelineTests {
    let sample2D = Paths.repo.appendingPathComponent("Samples/cmu02_punch_2d.csv").path

    @Test("a keypoint file and the same keypoints in memory give the same 3D; nothing written without outputs")
    func fileAndMemoryInputsAgree() throws {
        // One OpenBLAS thread for both runs (as the parity suites set it): sgemm's results depend on
        // the thread count, and a parallel suite may change it between the two runs otherwise.
        setBLASThreads(1)
        let fromFile = try PosePipeline(PoseJob(input: .keypointsFile(sample2D))).run()
        let kp = try Keypoints2DCSV.read(path: sample2D)
        let fromMemory = try PosePipeline(PoseJob(input: .keypoints(kp, name: "punch"))).run()
        #expect(fromFile.written.isEmpty && fromMemory.written.isEmpty)
        #expect(fromFile.frames == kp.count && fromFile.detectedFrames == kp.framesWithPerson)
        #expect(maxAbsDiff(fromFile.pose.joints, fromMemory.pose.joints) == 0)
        // The default output is the rigid skeleton: every frame's right shin has the clip's length.
        let shins = (0..<fromFile.pose.count).map { { d in (d * d).sum().squareRoot() }(fromFile.pose.joint($0, .rightKnee) - fromFile.pose.joint($0, .rightAnkle)) }
        #expect(shins.max()! - shins.min()! < 1e-5)
        #expect(fromFile.segments == 1 && fromFile.gaps == 0)
    }

    @Test("the world frame puts the feet on the ground; outputs are listed in the order written")
    func worldFrameAndOutputs() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = PoseJob(input: .keypointsFile(sample2D))
        job.post.coordinates = .world
        job.outputs.motion = dir.appendingPathComponent("punch.bvh").path
        job.outputs.keypoints2D = dir.appendingPathComponent("punch_2d.csv").path
        let r = try PosePipeline(job).run()
        #expect(r.written == [job.outputs.keypoints2D!, job.outputs.motion!])
        for path in r.written { #expect(FileManager.default.fileExists(atPath: path)) }
        // Y up, ground at 0: the lowest ankle over the clip is within a few centimetres of 0.
        let lowest = (0..<r.pose.count).map { min(r.pose.joint($0, .leftAnkle).y, r.pose.joint($0, .rightAnkle).y) }.min()!
        #expect(abs(lowest) < 0.1, "lowest ankle at \(lowest) m")
    }

    @Test("bad settings fail before any file is read, naming what is wrong")
    func validation() throws {
        func message(_ edit: (inout PoseJob) -> Void) -> String? {
            var job = PoseJob(input: .video("/nonexistent/clip.mp4"))
            edit(&job)
            do { _ = try PosePipeline(job).run(); return nil } catch let e as MHFormerError { return e.message } catch { return "\(error)" }
        }
        #expect(message { $0.pose2D.model = "openpose" }?.contains("unknown 2D model") == true)
        #expect(message { $0.pose2D.flipTest = true }?.contains("--pose2d-flip needs --pose2d vitpose or transpose") == true)
        #expect(message { $0.pose2D.model = "vitpose" }?.contains("--pose2d vitpose needs --pose2d-weights") == true)
        #expect(message { $0.post.fps = 0 } == "--fps must be positive")
        #expect(message { $0.outputs.motion = "out.xyz" }?.contains("unknown output extension") == true)
        // All settings valid: the first file touched is the missing video.
        #expect(message { _ in } == "/nonexistent/clip.mp4: no such file")
    }
}
