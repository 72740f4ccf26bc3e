// Runs the videos of a batch: those whose record matches are skipped without starting anything; the
// others each run in a child process (the `mhformer` executable again, told to run one video), at
// most `jobs` at a time. A child process per video keeps one video's failure from touching the
// others: a crash or a runaway allocation ends that child, the batch records it and goes on.
//
//   parent: plan → skip / queue → [child: PosePipeline → outputs → record → one JSON line] × jobs
//
// Interrupting the parent (Ctrl-C, SIGTERM) passes the signal to the children (TemporaryFiles), each
// of which removes its staged files; a video whose record was not written runs again next time.

import Foundation

/// One video run in this process: the child's side.
public enum BatchVideoRun {
    /// Runs `video` and writes its record. The video's own failure is recorded, not thrown.
    public static func run(_ video: BatchVideo, settings: BatchSettings, threads: Int?) -> BatchVideoResult {
        let start = Date()
        removeStaleStagedFiles(video)
        var record = BatchRecord(tool: MHFormerVersion.tool, input: FileFingerprint(path: video.input, size: -1, modified: 0, sha256: ""),
                                 settings: settings, status: .failed, error: nil, warning: nil, frames: 0, detectedFrames: 0,
                                 seconds2d: 0, secondsLift: 0, secondsTotal: 0, outputs: [], finished: "", host: BatchRecord.hostName)
        do {
            try FileManager.default.createDirectory(atPath: (video.outputs.record as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        } catch {
            return BatchVideoResult(input: video.input, status: .failed,
                                    error: "\(video.outputs.record): cannot create its folder (\(error.localizedDescription))",
                                    frames: 0, seconds: Date().timeIntervalSince(start), outputs: [], record: video.outputs.record)
        }
        do {
            record.input = try FileFingerprint.make(video.input)
            let job = settings.job(video: video.input, outputs: video.outputs, threads: threads)
            if job.pose2D.people == .count(1) {
                let r = try PosePipeline(job).run()
                (record.warning, record.frames, record.detectedFrames, record.recovery) = (r.damage, r.frames, r.detectedFrames, r.recovery)
                (record.seconds2d, record.secondsLift, record.outputs) = (r.seconds2D, r.secondsLift, r.written.map(BatchSettings.absolute))
            } else {
                // Several people: NAME.p1.csv, NAME.p2.csv ... (which IDs, the video decides).
                let r = try PosePipeline(job).runPeople()
                (record.warning, record.frames, record.detectedFrames) = (r.damage, r.frames, r.people.map(\.detectedFrames).reduce(0, +))
                (record.seconds2d, record.secondsLift, record.outputs) = (r.seconds2D, r.secondsLift, r.written.map(BatchSettings.absolute))
            }
            record.status = .ok
        } catch {
            record.error = (error as? MHFormerError)?.message ?? "\(error)"
        }
        return finish(record, video: video, start: start)
    }

    /// Records a video that stopped without a result (its child process crashed or was killed).
    public static func recordStopped(_ video: BatchVideo, settings: BatchSettings, reason: String, seconds: Double) -> BatchVideoResult {
        var record = BatchRecord(tool: MHFormerVersion.tool, input: FileFingerprint(path: video.input, size: -1, modified: 0, sha256: ""),
                                 settings: settings, status: .failed, error: reason, warning: nil, frames: 0, detectedFrames: 0,
                                 seconds2d: 0, secondsLift: 0, secondsTotal: 0, outputs: [], finished: "", host: BatchRecord.hostName)
        if let fingerprint = try? FileFingerprint.make(video.input) { record.input = fingerprint }
        return finish(record, video: video, start: Date(timeIntervalSinceNow: -seconds))
    }

    static func finish(_ record: BatchRecord, video: BatchVideo, start: Date) -> BatchVideoResult {
        var record = record
        record.secondsTotal = Date().timeIntervalSince(start)
        record.finished = BatchRecord.now()
        var message = record.error
        do { try record.write(to: video.outputs.record) } catch {
            let recordError = (error as? MHFormerError)?.message ?? "\(error)"
            message = [message, recordError].compactMap { $0 }.joined(separator: "; ")
        }
        let error = message
        return BatchVideoResult(input: video.input, status: record.status == .ok && error == nil ? .ok : .failed, error: error,
                                frames: record.frames, seconds: record.secondsTotal, outputs: record.outputs, record: video.outputs.record)
    }

    /// Staged files (`.partial-<pid>-NAME`, `.tmp-<pid>-NAME`) of this video's outputs left by a
    /// process that no longer runs on this machine (killed with SIGKILL, or the machine went down):
    /// removed before the video runs again.
    static func removeStaleStagedFiles(_ video: BatchVideo) {
        let targets = video.outputs.files + [video.outputs.record]
        let folders = Set(targets.map { ($0 as NSString).deletingLastPathComponent })
        let names = Set(targets.map { ($0 as NSString).lastPathComponent })
        for folder in folders {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let parts = entry.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3, parts[0] == ".partial" || parts[0] == ".tmp", let pid = pid_t(parts[1]), names.contains(String(parts[2])) else { continue }
                if kill(pid, 0) != 0 && errno == ESRCH { unlink((folder as NSString).appendingPathComponent(entry)) }
            }
        }
    }
}

/// The parent's side: skipping, scheduling child processes, collecting their results.
public final class BatchRunner: @unchecked Sendable {
    public struct Options: Sendable {
        /// Videos run at once.
        public var jobs = 1
        /// OpenBLAS threads of each child (jobs × threads ≤ cores).
        public var threadsPerJob = 1
        /// Run videos whose record says they failed with these settings (default: report the failure again).
        public var retryFailed = false
        /// The executable a child runs, and its arguments for one video (the CLI knows its own syntax).
        public var executable: String
        public var childArguments: @Sendable (BatchVideo) -> [String]
        public init(executable: String, childArguments: @escaping @Sendable (BatchVideo) -> [String]) {
            self.executable = executable; self.childArguments = childArguments
        }
    }

    public let settings: BatchSettings
    public let options: Options

    public init(settings: BatchSettings, options: Options) { self.settings = settings; self.options = options }

    /// Runs `videos`; `onResult` is called (under a lock, from any thread) as each one ends. Returns
    /// the results in the order of `videos`.
    public func run(_ videos: [BatchVideo], onResult: @escaping @Sendable (BatchVideoResult) -> Void) -> [BatchVideoResult] {
        let state = WorkState(count: videos.count)
        for (i, video) in videos.enumerated() {
            if let done = previousResult(video) { state.results[i] = done; onResult(done) } else { state.queue.append(i) }
        }
        let group = DispatchGroup()
        for _ in 0..<max(1, min(options.jobs, state.queue.count)) {
            group.enter()
            let worker = Thread { [self] in
                while let i = state.next() {
                    let result = runChild(videos[i])
                    state.finish(i, result, onResult)
                }
                group.leave()
            }
            worker.start()
        }
        group.wait()
        return state.results.map { $0! }
    }

    /// The queue of videos to run and their results, shared by the worker threads under a lock.
    private final class WorkState: @unchecked Sendable {
        var results: [BatchVideoResult?]
        var queue: [Int] = []
        private var position = 0
        private let lock = NSLock()
        init(count: Int) { results = Array(repeating: nil, count: count) }

        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard position < queue.count else { return nil }
            position += 1
            return queue[position - 1]
        }

        func finish(_ i: Int, _ result: BatchVideoResult, _ report: (BatchVideoResult) -> Void) {
            lock.lock(); defer { lock.unlock() }
            results[i] = result
            report(result)
        }
    }

    /// The result of a video that need not run: skipped (its record matches and it went well) or
    /// failed as recorded (same input and settings failed before, and failures are not retried).
    public func previousResult(_ video: BatchVideo) -> BatchVideoResult? {
        guard let record = BatchRecord.load(video.outputs.record), record.matches(video, settings: settings) else { return nil }
        switch record.status {
        case .ok:
            return BatchVideoResult(input: video.input, status: .skipped, error: nil, frames: record.frames, seconds: 0,
                                    outputs: record.outputs, record: video.outputs.record)
        case .failed:
            guard !options.retryFailed else { return nil }
            return BatchVideoResult(input: video.input, status: .failed, error: record.error, frames: 0, seconds: 0, outputs: [],
                                    record: video.outputs.record)
        }
    }

    /// Runs one video in a child process and reads its JSON line; a child that ends without one
    /// (crashed, killed) is recorded as failed with the reason.
    func runChild(_ video: BatchVideo) -> BatchVideoResult {
        let start = Date()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.executable)
        process.arguments = options.childArguments(video)
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = String(options.threadsPerJob)
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            return BatchVideoRun.recordStopped(video, settings: settings, reason: "\(options.executable): cannot start (\(error.localizedDescription))",
                                               seconds: 0)
        }
        TemporaryFiles.registerChild(process.processIdentifier)
        // Both pipes are drained at once: a child blocked on a full stderr would never finish stdout.
        final class Box: @unchecked Sendable { var data = Data() }
        let errorText = Box()
        let errorRead = DispatchGroup()
        errorRead.enter()
        DispatchQueue.global().async { errorText.data = err.fileHandleForReading.readDataToEndOfFile(); errorRead.leave() }
        let outputText = out.fileHandleForReading.readDataToEndOfFile()
        errorRead.wait()
        process.waitUntilExit()
        TemporaryFiles.unregisterChild(process.processIdentifier)
        let lastLine = String(decoding: outputText, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        if process.terminationReason == .exit, [0, 1].contains(process.terminationStatus),
           let result = try? JSONDecoder().decode(BatchVideoResult.self, from: Data(lastLine.utf8)) {
            return result
        }
        let message = String(decoding: errorText.data, as: UTF8.self).split(separator: "\n").last.map { ": " + $0 } ?? ""
        let how = process.terminationReason == .uncaughtSignal ? "was stopped by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
        return BatchVideoRun.recordStopped(video, settings: settings, reason: "mhformer \(how) while running this video\(message)",
                                           seconds: Date().timeIntervalSince(start))
    }
}
