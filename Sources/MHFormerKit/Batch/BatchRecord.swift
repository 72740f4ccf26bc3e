// The small JSON file beside a video's outputs that says what made them: the input's fingerprint,
// the settings, the tool and weights versions, and how the run went. `mhformer batch` compares it
// with what it is asked to do before running a video again.
//
// Written after the outputs are in place (atomically), so a record that says "ok" always stands
// beside complete outputs; a run killed in between leaves outputs without a record, and the next
// batch runs that video again.

import Foundation

public struct BatchRecord: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed }

    /// MHFormerVersion.tool of the run.
    public var tool: String
    public var input: FileFingerprint
    public var settings: BatchSettings
    public var status: Status
    /// The one-line error of a failed run.
    public var error: String?
    /// What was damaged in the video, when it ran anyway (PoseJobResult.damage).
    public var warning: String?
    public var frames: Int
    public var detectedFrames: Int
    /// One person: of `detectedFrames`, those offline tracking found (PoseJobResult.recovery).
    public var recovery: OfflineRecovery?
    public var seconds2d: Double
    public var secondsLift: Double
    public var secondsTotal: Double
    /// The outputs written (absolute paths); empty for a failed run.
    public var outputs: [String]
    /// When the run ended (ISO 8601) and on which machine.
    public var finished: String
    public var host: String

    public static func load(_ path: String) -> BatchRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? decoder.decode(BatchRecord.self, from: data)
    }

    public func write(to path: String) throws {
        try AtomicFile.write(try BatchRecord.encoder.encode(self) + Data("\n".utf8), to: path)
    }

    /// Whether this record stands for running `video` with `settings` now: same tool, same settings,
    /// same input contents, and (for a good run) every output still there.
    public func matches(_ video: BatchVideo, settings: BatchSettings) -> Bool {
        guard tool == MHFormerVersion.tool, self.settings.makesSameOutputs(as: settings), input.path == video.input, input.matches(video.input) else { return false }
        // One person: exactly the planned files; several: the per-person files the run made.
        let planned = settings.people == "1" ? outputs == video.outputs.files : !outputs.isEmpty
        if status == .ok { return planned && outputs.allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        return true
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
    static var hostName: String { ProcessInfo.processInfo.hostName }
}

/// How one video of a batch went: a line of `--json-lines` and an entry of batch-summary.json.
public struct BatchVideoResult: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, skipped, failed }
    public var input: String
    public var status: Status
    public var error: String?
    public var frames: Int
    /// Seconds this run spent on the video (0 when skipped).
    public var seconds: Double
    public var outputs: [String]
    public var record: String

    public init(input: String, status: Status, error: String?, frames: Int, seconds: Double, outputs: [String], record: String) {
        self.input = input; self.status = status; self.error = error; self.frames = frames; self.seconds = seconds
        self.outputs = outputs; self.record = record
    }

    /// One line of JSON (keys in snake case, sorted).
    public var jsonLine: String {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// OUTDIR/batch-summary.json: every video of the run and the totals.
public struct BatchSummary: Codable, Equatable, Sendable {
    public struct Totals: Codable, Equatable, Sendable {
        public var videos: Int, ok: Int, skipped: Int, failed: Int, frames: Int
        /// Wall-clock seconds of the whole batch.
        public var seconds: Double
    }
    public var tool: String
    public var outdir: String
    public var videos: [BatchVideoResult]
    public var totals: Totals

    public init(outdir: String, videos: [BatchVideoResult], seconds: Double) {
        tool = MHFormerVersion.tool
        self.outdir = outdir
        self.videos = videos.sorted { $0.input < $1.input }
        totals = Totals(videos: videos.count, ok: videos.filter { $0.status == .ok }.count,
                        skipped: videos.filter { $0.status == .skipped }.count,
                        failed: videos.filter { $0.status == .failed }.count,
                        frames: videos.map(\.frames).reduce(0, +), seconds: seconds)
    }

    public func write(to path: String) throws {
        try AtomicFile.write(try BatchRecord.encoder.encode(self) + Data("\n".utf8), to: path)
    }

    public static func load(_ path: String) -> BatchSummary? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? BatchRecord.decoder.decode(BatchSummary.self, from: data)
    }
}
