// `mhformer batch INPUT... -o OUTDIR`: many videos, resumably. The work is MHFormerKit's Batch/
// (plan, records, child processes); this file reads the options and prints progress.

import ArgumentParser
import Foundation
import MHFormerKit

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run many videos: outputs mirrored under OUTDIR, a record beside each, videos already done skipped.",
        discussion: """
        INPUT is a video, a folder (searched recursively for video files; hidden entries and OUTDIR are \
        skipped) or a text file with one path per line (relative to the list's folder). Each video \
        ROOT/sub/clip.mp4 gets OUTDIR/sub/clip.csv (one file per --format), clip.2d.csv, clip.overlay.mp4 \
        clip.plot.png, clip.viewer.html and clip.angles.csv when asked, and clip.record.json: the input's size, time and SHA-256, the \
        settings, the tool and weights versions, frames, timings and status. ROOT is the deepest folder \
        holding every video (or --input-root).
        A video whose record matches (same input contents, settings and version) is skipped and its \
        files are not touched; one that failed with the same input and settings is reported failed \
        again without running (--retry-failed runs it). A damaged video (a truncated file, frames \
        that do not decode) fails unless --allow-damaged. Each video runs in a child process and its \
        outputs appear together, record last: an interrupted batch leaves no partial output, and the \
        next run does only what is missing.
        OUTDIR/batch-summary.json lists every video (ok, skipped or failed with its error) and the \
        totals. Exit status: 0 when no video failed, 1 when one or more failed, 2 when the batch could \
        not start (no videos, OUTDIR not writable, a bad option).
        """)

    @Argument(help: "Videos, folders of videos, or text files listing videos.")
    var inputs: [String] = []

    @Option(name: [.short, .long], help: "Output folder (created if missing).")
    var output: String?

    @OptionGroup var pose2D: Pose2DOptions

    @OptionGroup var lifting: LiftingOptions

    @Option(name: .long, help: "Motion output format (csv, json, trc, bvh, glb); repeat for several files per video. Default: csv.")
    var format: [String] = []

    @Flag(name: .customLong("keypoints-2d"), help: "Also write each video's 2D keypoints (NAME.2d.csv, the CSV `lift` reads).")
    var keypoints2D = false

    @Flag(name: .long, help: "Also write each video's overlay video (NAME.overlay.mp4).")
    var overlay = false

    @Flag(name: .long, help: "Also write each video's plot of a few 3D poses (NAME.plot.png).")
    var plot = false

    @Flag(name: .long, help: "Also write each video's 3D viewer page (NAME.viewer.html; needs three.js: apt-get install -y libjs-three).")
    var viewer = false

    @Flag(name: .long, help: "Also write each video's joint angles in degrees (NAME.angles.csv; the columns and conventions are in docs/joint-angles.md).")
    var angles = false

    @Option(name: .long, help: "Videos run at once, each in its own process; the cores are split between them (OpenBLAS threads = cores / jobs unless --threads).")
    var jobs: Int = 1

    @Option(name: .long, help: "I/N: run only every N-th video starting with the I-th (1-based), to split one list between independent processes or machines. The summary is then OUTDIR/batch-summary.shard-I-of-N.json.")
    var shard: String?

    @Option(name: .long, help: "The folder the output tree mirrors (default: the deepest folder holding every video).")
    var inputRoot: String?

    @Flag(name: .long, help: "Process damaged videos (undecodable frames, decoder errors, repaired time stamps) as `run` does, with the damage as a warning in the record. Default: a damaged video fails with the damage as its error and gets no outputs, so that a truncated file never passes for a complete one.")
    var allowDamaged = false

    @Flag(name: .long, help: "Run videos whose record says they failed with the same input and settings.")
    var retryFailed = false

    @Flag(name: .long, help: "Run nothing: print the plan as JSON (outdir, input_root, videos with their outputs and record).")
    var plan = false

    @Flag(name: .long, help: "Print one JSON line per video to stdout as it ends (input, status, error, frames, seconds, outputs, record).")
    var jsonLines = false

    @Flag(name: .long, help: "Do not write OUTDIR/batch-summary.json (when another program collects the results).")
    var noSummary = false

    // A child process's video and settings (JSON), set by the parent batch; not for users.
    @Option(name: .long, help: .hidden) var childVideo: String?
    @Option(name: .long, help: .hidden) var childSettings: String?

    func run() throws {
        if let childVideo, let childSettings { return try runChild(video: childVideo, settings: childSettings) }
        let start = Date()
        let setup: (plan: BatchPlan, settings: BatchSettings, videos: [BatchVideo], summary: String)
        do { setup = try prepare() } catch let error as MHFormerError {
            printError("error: \(error.message)")
            throw ExitCode(2)
        }
        let (batchPlan, settings, videos, summaryPath) = setup
        if plan { return printPlan(batchPlan, videos: videos) }

        let threads = lifting.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, jobs))
        // The child's video and settings as JSON arguments (slashes unescaped: `ps` shows the paths).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let settingsJSON = String(decoding: try encoder.encode(settings), as: UTF8.self)
        var options = BatchRunner.Options(executable: Batch.executablePath) { video in
            ["batch", "--child-video", String(decoding: (try? encoder.encode(video)) ?? Data(), as: UTF8.self),
             "--child-settings", settingsJSON, "--threads", String(threads)]
        }
        options.jobs = jobs
        options.threadsPerJob = threads
        options.retryFailed = retryFailed
        let progress = BatchProgress(total: videos.count, start: start)
        let results = BatchRunner(settings: settings, options: options).run(videos) { result in
            progress.report(result)
            if jsonLines { printLine(result.jsonLine) }
        }
        let summary = BatchSummary(outdir: batchPlan.outdir, videos: results, seconds: Date().timeIntervalSince(start))
        let t = summary.totals
        var line = String(format: "%d videos: %d ok, %d skipped, %d failed; %d frames in %.1f s", t.videos, t.ok, t.skipped, t.failed, t.frames, t.seconds)
        if !noSummary {
            do { try summary.write(to: summaryPath) } catch let error as MHFormerError {
                printError("error: \(error.message)")
                throw ExitCode(2)
            }
            line += " -> \(summaryPath)"
        }
        printError(line)
        if t.failed > 0 { throw ExitCode(1) }
    }

    /// Checks the options, resolves the settings and expands the inputs.
    func prepare() throws -> (BatchPlan, BatchSettings, [BatchVideo], String) {
        guard !inputs.isEmpty else { throw MHFormerError("batch: give at least one INPUT (a video, a folder or a list file)") }
        guard let output else { throw MHFormerError("batch: give the output folder with -o OUTDIR") }
        guard jobs >= 1 else { throw MHFormerError("--jobs must be at least 1") }
        var shardIndex = 1, shardCount = 1
        if let shard {
            let parts = shard.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 1, i <= n else {
                throw MHFormerError("--shard \(shard): expected I/N with 1 <= I <= N, e.g. 2/4")
            }
            (shardIndex, shardCount) = (i, n)
        }
        var template = PoseJob(input: .video(""))
        try lifting.apply(to: &template)
        try pose2D.apply(to: &template)
        template.pose2D.strict = pose2D.strict || !allowDamaged
        // The job's own checks (option values, 2D model names, --rig against the formats) before any
        // video runs. BatchSettings checks the CSV-only options against the formats itself.
        let formats = try format.map(parseMotionFormat)
        template.outputs.motion = "check.csv"
        template.outputs.moreMotion = formats.filter { $0 != .csv }.map { "check." + $0.rawValue }
        template.outputs.viewer = viewer ? "check.html" : nil
        _ = try PosePipeline(template).validate()
        template.outputs.moreMotion = []
        let settings = try BatchSettings(template: template, formats: formats,
                                         keypoints2D: keypoints2D, overlay: overlay, plot: plot, viewer: viewer,
                                         angles: angles)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), !isFolder.boolValue {
            throw MHFormerError("\(output): exists and is not a folder (-o names the output folder)")
        }
        if !plan {
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw MHFormerError("\(output): cannot create the output folder (\(error.localizedDescription))")
            }
            guard access(output, W_OK) == 0 else { throw MHFormerError("\(output): the output folder is not writable") }
        }
        let batchPlan = try BatchPlan.make(inputs: inputs, outdir: output, inputRoot: inputRoot, settings: settings)
        let videos = batchPlan.shard(shardIndex, of: shardCount)
        let name = shard == nil ? "batch-summary.json" : "batch-summary.shard-\(shardIndex)-of-\(shardCount).json"
        return (batchPlan, settings, videos, (batchPlan.outdir as NSString).appendingPathComponent(name))
    }

    func printPlan(_ batchPlan: BatchPlan, videos: [BatchVideo]) {
        struct Entry: Encodable { var input: String, record: String, outputs: [String] }
        struct Plan: Encodable { var outdir: String, inputRoot: String, videos: [Entry] }
        let p = Plan(outdir: batchPlan.outdir, inputRoot: batchPlan.inputRoot,
                     videos: videos.map { Entry(input: $0.input, record: $0.outputs.record, outputs: $0.outputs.files) })
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: (try? e.encode(p)) ?? Data(), as: UTF8.self))
    }

    /// A child: one video in this process, its result as one JSON line on stdout (exit 0 ok, 1 failed).
    /// It stops (SIGTERM: staged files removed, exit 143) if its parent batch goes away, even one
    /// killed with SIGKILL, which cannot pass the signal on: no orphan finishes a video on its own.
    func runChild(video: String, settings: String) throws {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { usleep(250_000) }
            kill(getpid(), SIGTERM)
        }
        guard let v = try? JSONDecoder().decode(BatchVideo.self, from: Data(video.utf8)),
              let s = try? JSONDecoder().decode(BatchSettings.self, from: Data(settings.utf8)) else {
            printError("error: batch: unreadable --child-video / --child-settings")
            throw ExitCode(2)
        }
        let result = BatchVideoRun.run(v, settings: s, threads: lifting.threads)
        printLine(result.jsonLine)
        if result.status == .failed { throw ExitCode(1) }
    }

    /// This executable's absolute path, to start the children with.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// The batch's progress on stderr: a line per video as it ends, and (on a terminal) a status line
/// with videos done of total, frames per second and the time left.
/// One line on stdout, written at once (not held in a buffer until exit: a parent reads it live).
func printLine(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

/// Called by the batch's worker threads one at a time (BatchRunner reports under its lock).
final class BatchProgress: @unchecked Sendable {
    private let total: Int, start: Date
    private var done = 0, frames = 0, ran = 0
    private let terminal = isatty(2) != 0

    init(total: Int, start: Date) { self.total = total; self.start = start }

    func report(_ r: BatchVideoResult) {
        done += 1
        if r.status != .skipped { frames += r.frames; ran += 1 }
        var line: String
        switch r.status {
        case .ok: line = String(format: "ok       %@ (%d frames, %.1f s)", r.input, r.frames, r.seconds)
        case .skipped: line = "skipped  \(r.input) (done before)"
        case .failed:
            let error = r.error ?? "unknown error"
            line = "failed   " + (error.hasPrefix(r.input) ? error : "\(r.input): \(error)")
        }
        if terminal { line = "\r\u{1B}[K" + line }
        printError(line)
        if terminal && done < total { FileHandle.standardError.write(Data(status.utf8)) }
    }

    private var status: String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(frames) / max(elapsed, 1e-9)
        // Time left from the pace so far, counting only videos that ran (skips are instant).
        let left = ran > 0 ? elapsed / Double(done) * Double(total - done) : 0
        return String(format: "[%d/%d videos]  %.1f frames/s  %d:%02d left", done, total, rate, Int(left) / 60, Int(left) % 60)
    }
}
