// `mhformer run VIDEO`: the whole job. Frames (FFmpeg) → 2D keypoints (BlazePose) → 3D (MHFormer).

import ArgumentParser
import Foundation
import MHFormerKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "3D joints of the person in a video: BlazePose (or ViTPose) 2D keypoints lifted by MHFormer.",
        discussion: """
        Writes one row per decoded frame (time_s from the video's time stamps). Frames without a person:
        gaps up to --max-gap seconds are interpolated, longer ones stay empty and the lifter runs on each
        contiguous part.
        The joints are refitted to a rigid skeleton unless --no-rigid-skeleton is given.
        """)

    @Argument(help: "Video file (any container and codec FFmpeg decodes).")
    var video: String

    @Option(name: [.short, .long], help: "3D output file (.csv, .json, .trc, .bvh). Default: <video name>_3d.csv in the current folder.")
    var output: String?

    @Option(name: .customLong("keypoints-2d"), help: "Also write the 2D keypoints (the CSV `lift` reads).")
    var keypoints2D: String?

    @Option(name: .long, help: "Folder with BlazePose's pose_detection.tflite and pose_landmark_full.tflite (default: Models/blazepose; bash Scripts/fetch-blazepose.sh gets them).")
    var pose2dModels: String?

    @Option(name: .long, help: "2D keypoints: blazepose (default); vitpose or transpose (BlazePose finds the person, the other model places the joints; needs --pose2d-weights).")
    var pose2d: String = "blazepose"

    @Option(name: .long, help: "vitpose: model folder with config.json + model.safetensors as Hugging Face transformers saves them (e.g. usyd-community/vitpose-base-simple); transpose: a .safetensors converted by Scripts/convert-transpose.py.")
    var pose2dWeights: String?

    @Flag(name: .long, help: "ViTPose flip test: also run the mirrored crop and average (twice the 2D time).")
    var pose2dFlip = false

    @Option(name: .long, help: "With --pose2d transpose: write the last encoder layer's attention of each keypoint as a float32 .npy (frames, 17, h, w): the map over the feature cells (h x w = 32x24 for TransPose-R, 64x48 for -H) that the keypoint's cell attends to.")
    var attentionOut: String?

    @Option(name: .long, help: "Longest gap without a person (seconds) that is interpolated.")
    var maxGap: Double = 0.5

    @OptionGroup var lifting: LiftingOptions

    func run() throws {
        do {
            let out = output ?? (((video as NSString).lastPathComponent as NSString).deletingPathExtension + "_3d.csv")
            let (frame, format) = try lifting.validated(output: out)
            guard maxGap >= 0 else { throw MHFormerError("--max-gap must be >= 0") }
            try lifting.checkOutputPaths(outputs: [("-o", out), ("--keypoints-2d", keypoints2D), ("--attention-out", attentionOut)],
                                         inputs: [("VIDEO", video), ("--pose2d-weights", pose2dWeights)])
            guard FileManager.default.fileExists(atPath: video) else { throw MHFormerError("\(video): no such file") }
            let (vitPose, transpose) = try load2DModel()
            let (model, weightsPath) = try lifting.loadModel()
            let pose = try BlazePose(modelDirectory: try blazePoseDirectory())
            let start = Date()
            let progress = ProgressBar()
            let result = try VideoKeypointExtractor.extract(videoPath: video, pose: pose, maxGapSeconds: maxGap,
                                                            vitPose: vitPose, flipTest: pose2dFlip,
                                                            cocoKeypoints: transpose.map { t in { t.keypoints(frame: $0, image: $1, landmarks: $2) } }) { done, info in
                progress.update(done: done, expected: expectedFrames(info), since: start)
            }
            progress.finish()
            let seconds2D = Date().timeIntervalSince(start)
            if let transpose, let attentionOut { try transpose.writeAttention(frames: result.keypoints.frames, to: attentionOut) }
            let liftSeconds = try lifting.liftAndWrite(result.keypoints, model: model, weightsPath: weightsPath, frame: frame, format: format,
                                                       output: out, video: video, keypoints2D: keypoints2D)
            let n = result.keypoints.count
            let total = Date().timeIntervalSince(start)
            var summary = String(format: "%d frames, %d with a person (%d interpolated), 2D %.1f s (%.1f frames/s), 3D %.1f s, total %.1f s -> %@",
                                 n, result.detectedFrames, result.interpolatedFrames, seconds2D, Double(n) / max(seconds2D, 1e-9),
                                 liftSeconds, total, out)
            if result.vitPoseCrops > 0 {
                summary += String(format: " (ViTPose %.0f ms per person%@)", 1000 * result.vitPoseSeconds / Double(result.vitPoseCrops),
                                  pose2dFlip ? ", flip test" : "")
            }
            if result.decode.packetErrors + result.decode.frameErrors + result.decode.corruptPackets > 0 {
                summary += " (decoding: \(result.decode))"
            }
            printError(summary)
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }

    /// The TransPose estimator for --pose2d transpose, nil for BlazePose's own keypoints.
    /// The optional second 2D model that places the joints in the person BlazePose finds.
    private func load2DModel() throws -> (ViTPose?, TransPoseVideoEstimator?) {
        if attentionOut != nil && pose2d != "transpose" { throw MHFormerError("--attention-out needs --pose2d transpose") }
        if pose2dFlip && pose2d != "vitpose" { throw MHFormerError("--pose2d-flip needs --pose2d vitpose") }
        switch pose2d {
        case "blazepose":
            if pose2dWeights != nil { throw MHFormerError("--pose2d-weights need --pose2d vitpose or --pose2d transpose") }
            return (nil, nil)
        case "vitpose":
            guard let pose2dWeights else {
                throw MHFormerError("--pose2d vitpose needs --pose2d-weights FOLDER (config.json + model.safetensors, see README: ViTPose backend)")
            }
            return (try ViTPose(directory: pose2dWeights), nil)
        case "transpose":
            guard let pose2dWeights else {
                throw MHFormerError("--pose2d transpose needs --pose2d-weights FILE.safetensors (see README: TransPose checkpoints)")
            }
            return (nil, TransPoseVideoEstimator(model: try TransPoseModel(path: pose2dWeights), keepAttention: attentionOut != nil))
        default:
            throw MHFormerError("--pose2d \(pose2d): unknown 2D model (blazepose, vitpose or transpose)")
        }
    }

    private func blazePoseDirectory() throws -> String {
        let fm = FileManager.default
        let candidates = pose2dModels.map { [$0] } ?? ModelFolders.candidates("blazepose").map(\.path)
        for c in candidates where fm.fileExists(atPath: c + "/pose_detection.tflite") && fm.fileExists(atPath: c + "/pose_landmark_full.tflite") {
            return c
        }
        throw MHFormerError("\(candidates.first ?? "Models/blazepose"): BlazePose models not found (run bash Scripts/fetch-blazepose.sh)")
    }
}


private func expectedFrames(_ info: VideoInfo) -> Int? {
    if let n = info.containerFrameCount, n > 0 { return n }
    if let d = info.duration, let f = info.frameRate { return Int((d * f).rounded()) }
    return nil
}

/// A one-line progress bar on stderr (only when stderr is a terminal): frames, frames/s, time left.
final class ProgressBar {
    private let enabled = isatty(2) != 0
    private var lastDraw = Date.distantPast

    func update(done: Int, expected: Int?, since start: Date) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        var line = String(format: "%d frames  %.1f frames/s", done, rate)
        if let expected, expected > 0 {
            let fraction = min(1, Double(done) / Double(expected))
            let width = 30
            let filled = Int(fraction * Double(width))
            let left = max(0, Double(expected - done) / max(rate, 1e-9))
            line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                + String(format: "%d/%d  %.1f frames/s  %d:%02d left", done, expected, rate, Int(left) / 60, Int(left) % 60)
        }
        FileHandle.standardError.write(Data(("\r" + line + "   ").utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
