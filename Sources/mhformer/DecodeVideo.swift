// `mhformer decode-video`: a hidden developer command to check the video reader on a file
// (stream info, frame count, timestamps, decode speed) and dump one frame as raw RGB24.

import ArgumentParser
import Foundation
import MHFormerKit

struct DecodeVideo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode-video",
        abstract: "Developer tool: decode a video, print its info, frame times and decode speed.",
        shouldDisplay: false)

    @Argument(help: "Video file.")
    var path: String

    @Option(name: .long, help: "Decoder threads (0: FFmpeg chooses).")
    var threads = 0

    @Flag(name: .long, help: "Print one line per frame (index, time, size).")
    var times = false

    @Option(name: .long, help: "Write this frame's RGB24 pixels (index from 0) to --dump-to.")
    var dumpFrame: Int?

    @Option(name: .long, help: "Raw RGB24 output file for --dump-frame.")
    var dumpTo: String?

    func run() throws {
        do {
            let reader = try VideoReader(path: path, decoderThreads: threads)
            print(describe(reader.info))
            let start = Date()
            let summary = try reader.forEachFrame { frame in
                if times { print(String(format: "frame %d t=%.6f %dx%d%@", frame.index, frame.time, frame.width,
                                        frame.height, frame.timeIsEstimated ? " (estimated)" : "")) }
                if frame.index == dumpFrame, let dumpTo {
                    try Data(frame.pixels).write(to: URL(fileURLWithPath: dumpTo))
                }
                return true
            }
            let seconds = Date().timeIntervalSince(start)
            print("decoded: \(summary)")
            print(String(format: "speed: %.1f frames/s (%.3f s)", Double(summary.framesDecoded) / seconds, seconds))
            print("peak memory: \(peakResidentKilobytes()) kB")
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }

    private func describe(_ info: VideoInfo) -> String {
        let count = info.containerFrameCount.map(String.init) ?? "?"
        let fps = info.frameRate.map { String(format: "%.3f", $0) } ?? "?"
        let duration = info.duration.map { String(format: "%.3f s", $0) } ?? "?"
        return "\(info.codecName) \(info.width)x\(info.height) (stored \(info.storedWidth)x\(info.storedHeight), "
            + "rotation \(info.rotation), pixel aspect \(info.pixelAspectRatio)), time base \(info.timeBase), container frames \(count), fps \(fps), duration \(duration)"
    }
}

/// The process's peak resident set size in kilobytes, so tests can check that decoding a long video
/// does not use more memory than a short one. Linux's VmHWM belongs to this program only;
/// getrusage's ru_maxrss (the fallback) keeps the peak of the parent process this one was
/// forked from, e.g. a large test runner.
private func peakResidentKilobytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) {
        return kilobytes
    }
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return -1 }
    return usage.ru_maxrss
}
