// `mhformer run VIDEO`: the whole job. Frames (FFmpeg) → 2D keypoints (BlazePose) → 3D (MHFormer).

import ArgumentParser
import Foundation
import MHFormerKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "3D joints of the person in a video: BlazePose (or ViTPose) 2D keypoints lifted by MHFormer.",
        discussion: """
        Writes one row per decoded frame (time_s from the video's time stamps; ones that repeat or go back
        are repaired from the frame rate). A damaged video is reported after the summary (frames that could
        not be decoded, decoder errors, repaired time stamps); --strict makes it an error. Frames without a person:
        gaps up to --max-gap seconds are interpolated, longer ones stay empty and the lifter runs on each
        contiguous part.
        The joints are refitted to a rigid skeleton unless --no-rigid-skeleton is given.
        """)

    @Argument(help: "Video file (any container and codec FFmpeg decodes).")
    var video: String

    @Option(name: [.short, .long], help: "3D output file (.csv, .json, .trc, .bvh, .glb). Default: <video name>_3d.csv in the current folder.")
    var output: String?

    @Option(name: .customLong("keypoints-2d"), help: "Also write the 2D keypoints (the CSV `lift` reads).")
    var keypoints2D: String?

    @OptionGroup var pose2D: Pose2DOptions

    @Option(name: .long, help: "With --pose2d transpose: write the last encoder layer's attention of each keypoint as a float32 .npy (frames, 17, h, w): the map over the feature cells (h x w = 32x24 for TransPose-R, 64x48 for -H) that the keypoint's cell attends to.")
    var attentionOut: String?

    @OptionGroup var lifting: LiftingOptions

    @OptionGroup var files: FileOutputOptions

    func run() throws {
        do {
            var job = PoseJob(input: .video(video))
            let out = output ?? (((video as NSString).lastPathComponent as NSString).deletingPathExtension + "_3d.csv")
            try lifting.apply(to: &job)
            try files.apply(to: &job, output: out)
            lifting.applyDefaultCoordinates(to: &job)
            try pose2D.apply(to: &job)
            job.pose2D.attentionOutput = attentionOut
            job.outputs.keypoints2D = keypoints2D
            let progress = ProgressBar()
            let start = Date()
            if job.pose2D.people != .count(1) { return try runPeople(job, progress: progress, start: start) }
            let r = try PosePipeline(job).run { event in
                if case .pose2D(let done, let expected) = event { progress.update(done: done, expected: expected, since: start) }
            }
            progress.finish()
            var summary = String(format: "%d frames, %d with a person (%@%d interpolated), 2D %.1f s (%.1f frames/s), 3D %.1f s, total %.1f s -> %@",
                                 r.frames, r.detectedFrames, r.recovery.phrase, r.interpolatedFrames, r.seconds2D, Double(r.frames) / max(r.seconds2D, 1e-9),
                                 r.secondsLift, r.secondsTotal, out)
            if let s = r.pose2DSummary { summary += " (\(s))" }
            printError(summary)
            if let damage = r.damage { printError("warning: \(video): \(damage)") }
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }
}

extension Run {
    /// Several people: the run's line, then one line per person (frames covered, gaps, files).
    func runPeople(_ job: PoseJob, progress: ProgressBar, start: Date) throws {
        let r = try PosePipeline(job).runPeople { event in
            if case .pose2D(let done, let expected) = event { progress.update(done: done, expected: expected, since: start) }
        }
        progress.finish()
        var summary = String(format: "%d frames, %d people found, %d written, 2D %.1f s (%.1f frames/s), 3D %.1f s, total %.1f s",
                             r.frames, r.peopleFound, r.people.count, r.seconds2D, Double(r.frames) / max(r.seconds2D, 1e-9), r.secondsLift, r.secondsTotal)
        if let s = r.pose2DSummary { summary += " (\(s))" }
        printError(summary)
        for p in r.people {
            let gaps = p.gaps.isEmpty ? "no gaps" : "gaps " + p.gaps.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
            printError("  person \(p.id): frames \(p.firstFrame)-\(p.lastFrame), \(p.detectedFrames) found (\(p.interpolatedFrames) interpolated), \(gaps) -> \(p.written.joined(separator: ", "))")
        }
        if let path = job.outputs.overlay { printError("  overlay -> \(path)") }
        if let damage = r.damage { printError("warning: \(video): \(damage)") }
    }
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

extension OfflineRecovery {
    /// "12 tracked backwards, 3 re-detected, 20 tracked on; " for the summary line; "" when offline
    /// tracking found nothing more than the streaming tracker.
    var phrase: String {
        guard frames > 0 else { return "" }
        return "\(backward) tracked backwards, \(redetected) re-detected, \(forward) tracked on after a loss; "
    }
}
