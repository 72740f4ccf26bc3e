// The video reader against clips made by the ffmpeg command line in a temporary directory: codecs and
// containers, rotated phone clips, variable frame rate, damaged and invalid files, memory use.
// Reference pixels come from `ffmpeg -pix_fmt rgb24 -f rawvideo`, which runs the same libraries.

import Foundation
import Testing
@testable import MHFormerKit

/// The ffmpeg command line, used only to make test clips and reference pixels.
enum FFmpegCLI {
    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return dirs.map { "\($0)/ffmpeg" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static var available: Bool { path != nil }

    /// Runs `ffmpeg -y -loglevel error ARGS`; fails the test with ffmpeg's message when it fails.
    static func run(_ args: [String]) throws {
        let r = try MHFormerKitTests.run(path!, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"] + args)
        guard r.status == 0 else { throw MHFormerError("ffmpeg \(args.joined(separator: " ")) failed: \(r.stderr)") }
    }

    /// Frame `index` of `video` as ffmpeg decodes it (auto-rotated), packed RGB24.
    static func referenceRGB(_ video: String, frame index: Int, in dir: URL) throws -> [UInt8] {
        let out = dir.appendingPathComponent("reference-\(index).rgb").path
        try run(["-i", video, "-vf", "select=eq(n\\,\(index))", "-frames:v", "1",
                 "-pix_fmt", "rgb24", "-f", "rawvideo", out])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
    }
}

/// A temporary directory of generated clips, removed by the test that made it.
struct ClipDir {
    let url = try! Paths.tempDir()
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }

    /// `ffmpeg -f lavfi -i testsrc2=...` (a moving, colourful, asymmetric test picture) encoded with `encoder`.
    @discardableResult
    func testPattern(_ name: String, size: String = "320x240", rate: Int = 25, seconds: Double = 1,
                     encoder: [String] = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
                     filter: [String] = [], withAudio: Bool = false) throws -> String {
        var args = ["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
        if withAudio { args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)"] }
        args += filter + encoder
        if withAudio { args += ["-c:a", "aac", "-shortest"] }
        try FFmpegCLI.run(args + [path(name)])
        return path(name)
    }
}

/// Decodes the whole file, keeping every frame (fine for the short test clips).
func decodeAll(_ path: String) throws -> (info: VideoInfo, frames: [VideoFrame], summary: DecodeSummary) {
    let reader = try VideoReader(path: path)
    var frames: [VideoFrame] = []
    let summary = try reader.forEachFrame { frames.append($0); return true }
    return (reader.info, frames, summary)
}

func maxByteDiff(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    // Raw buffers: the test target is not optimised, and an 8K frame has 100 million bytes.
    return a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            var m: UInt8 = 0
            for i in 0..<x.count { m = max(m, x[i] > y[i] ? x[i] - y[i] : y[i] - x[i]) }
            return Int(m)
        }
    }
}

/// The message of the MHFormerError that `body` throws (fails the test when it does not throw one).
func errorMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch let error as MHFormerError { return error.message } catch {
        Issue.record("not an MHFormerError: \(error)"); return ""
    }
    Issue.record("no error thrown"); return ""
}

struct CodecCase: Sendable, CustomTestStringConvertible {
    let file: String, codec: String, encoder: [String]
    var testDescription: String { "\(codec) in \(file)" }
}

@Suite("Video reader", .enabled(if: FFmpegCLI.available, "ffmpeg is not on PATH: the video tests need it to make their clips"))
struct VideoReaderTests {
    static let codecCases = [
        CodecCase(file: "h264.mp4", codec: "h264", encoder: ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]),
        // 10-bit HEVC as recent phones record it.
        CodecCase(file: "hevc.mp4", codec: "hevc", encoder: ["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
                                                             "-x265-params", "log-level=error"]),
        CodecCase(file: "mpeg4.avi", codec: "mpeg4", encoder: ["-c:v", "mpeg4", "-q:v", "4"]),
        CodecCase(file: "mpeg4.mkv", codec: "mpeg4", encoder: ["-c:v", "mpeg4", "-q:v", "4"]),
        CodecCase(file: "vp9.webm", codec: "vp9", encoder: ["-c:v", "libvpx-vp9", "-b:v", "300k", "-deadline", "realtime"]),
        CodecCase(file: "mjpeg.mov", codec: "mjpeg", encoder: ["-c:v", "mjpeg", "-q:v", "3"]),
    ]

    /// Every frame decoded (count from decoding, not metadata), in order, with ffmpeg's own pixels.
    @Test("decodes common codecs and containers", arguments: codecCases)
    func decodesCodec(_ c: CodecCase) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern(c.file, rate: 25, seconds: 1, encoder: c.encoder)
        let (info, frames, summary) = try decodeAll(clip)
        #expect(info.codecName == c.codec)
        #expect(info.width == 320 && info.height == 240 && info.rotation == 0)
        #expect(summary.framesDecoded == 25 && frames.count == 25, "\(summary)")
        #expect(!summary.hasProblems, "\(summary)")
        #expect(frames.map(\.index) == Array(0..<25))
        for (i, f) in frames.enumerated() {
            #expect(abs(f.time - Double(i) / 25) < 0.002, "frame \(i) at \(f.time) s")
            #expect(f.width == 320 && f.height == 240 && f.pixels.count == 320 * 240 * 3)
        }
        // The same decoder, swscale flags and colour matrix as the ffmpeg command line: same bytes.
        let reference = try FFmpegCLI.referenceRGB(clip, frame: 7, in: dir.url)
        #expect(maxByteDiff(frames[7].pixels, reference) == 0)
    }

    /// Phone videos are stored sideways with a display matrix: frames must come out upright,
    /// like ffmpeg's auto-rotated output.
    @Test("rotated phone clips come out upright", arguments: [90, 180, 270])
    func rotatedClip(tag: Int) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let landscape = try dir.testPattern("land.mp4", size: "320x180", rate: 30, seconds: 1, withAudio: true)
        let phone = dir.path("phone\(tag).mp4")
        try FFmpegCLI.run(["-i", landscape, "-c", "copy", "-metadata:s:v:0", "rotate=\(tag)", phone])
        let (info, frames, summary) = try decodeAll(phone)
        #expect(summary.framesDecoded == 30)
        #expect(info.storedWidth == 320 && info.storedHeight == 180)
        if tag == 180 {
            #expect(info.rotation == 180 && info.width == 320 && info.height == 180)
        } else {
            #expect([90, 270].contains(info.rotation) && info.width == 180 && info.height == 320)
        }
        #expect(frames[3].width == info.width && frames[3].height == info.height)
        let reference = try FFmpegCLI.referenceRGB(phone, frame: 3, in: dir.url)
        #expect(maxByteDiff(frames[3].pixels, reference) <= 1)
    }

    @Test("non-square pixels are reported, inverted for sideways clips")
    func pixelAspectRatio() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("anamorphic.mp4", seconds: 0.2, filter: ["-vf", "setsar=4/3"])
        let sideways = dir.path("sideways.mp4")
        try FFmpegCLI.run(["-i", clip, "-c", "copy", "-metadata:s:v:0", "rotate=90", sideways])
        #expect(abs(try VideoReader(path: clip).info.pixelAspectRatio - 4.0 / 3) < 1e-9)
        #expect(abs(try VideoReader(path: sideways).info.pixelAspectRatio - 3.0 / 4) < 1e-9)
        #expect(try VideoReader(path: try dir.testPattern("square.mp4", seconds: 0.2)).info.pixelAspectRatio == 1)
    }

    @Test("the rotation helper turns pictures the right way")
    func rotateHelper() {
        // A 3x2 picture whose pixels are numbered 0...5 row by row (red channel = number).
        let picture: [UInt8] = (0..<6).flatMap { n -> [UInt8] in [UInt8(n), 0, 0] }
        func turned(_ degrees: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 18)
            rotate(picture, width: 3, height: 2, clockwise: degrees, into: &out)
            return stride(from: 0, to: 18, by: 3).map { out[$0] }
        }
        // 0 1 2        clockwise:  3 0     counter-clockwise:  2 5     180:  5 4 3
        // 3 4 5                    4 1                         1 4           2 1 0
        //                          5 2                         0 3
        #expect(turned(90) == [3, 0, 4, 1, 5, 2])
        #expect(turned(270) == [2, 5, 1, 4, 0, 3])
        #expect(turned(180) == [5, 4, 3, 2, 1, 0])
        #expect(clockwiseRotation(displayMatrixDegrees: 90) == 270)
        #expect(clockwiseRotation(displayMatrixDegrees: -90) == 90)
        #expect(clockwiseRotation(displayMatrixDegrees: 180) == 180)
        #expect(clockwiseRotation(displayMatrixDegrees: -180) == 180)
        #expect(clockwiseRotation(displayMatrixDegrees: 0) == 0)
        #expect(clockwiseRotation(displayMatrixDegrees: .nan) == 0)
    }

    /// Variable frame rate: 30 frames at 30 fps, then 30 at 10 fps; times from each frame's timestamp.
    @Test("variable frame rate timestamps follow the clip's setpts expression")
    func variableFrameRate() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("vfr.mp4", rate: 30, seconds: 2,
                                       filter: ["-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", "-fps_mode", "vfr"])
        let (info, frames, summary) = try decodeAll(clip)
        #expect(summary.framesDecoded == 60 && summary.estimatedTimestamps == 0, "\(summary)")
        for f in frames {
            let expected = f.index < 30 ? Double(f.index) / 30 : 1 + Double(f.index - 30) / 10
            #expect(abs(f.time - expected) < 1e-3, "frame \(f.index): \(f.time) s, expected \(expected) s")
            #expect(f.pts.map { Double($0) * info.timeBase.seconds } == f.time)
        }
        // The container's average rate is neither 30 nor 10: a reader that used it would drift.
        #expect(info.frameRate.map { abs($0 - 30) > 1 && abs($0 - 10) > 1 } ?? true)
    }

    /// A raw H.264 stream has no timestamps at all: times are estimated at the coded frame rate.
    @Test("frames without timestamps get estimated times")
    func missingTimestamps() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("clip.mp4", rate: 30, seconds: 1)
        let raw = dir.path("clip.h264")
        try FFmpegCLI.run(["-i", clip, "-c", "copy", raw])
        let (_, frames, summary) = try decodeAll(raw)
        #expect(summary.framesDecoded == 30 && summary.estimatedTimestamps == 30 && !summary.hasProblems, "\(summary)")
        for f in frames {
            #expect(f.timeIsEstimated && f.pts == nil)
            #expect(abs(f.time - Double(f.index) / 30) < 1e-6, "frame \(f.index): \(f.time) s")
        }
    }

    /// Two MPEG-TS files of different sizes joined byte by byte (as some cameras and streams do):
    /// each frame carries its own size. TS timestamps start at the muxer's offset, not 0.
    @Test("a mid-stream size change gives frames of the new size")
    func sizeChange() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let small = try dir.testPattern("small.ts", size: "320x240", seconds: 1)
        let large = try dir.testPattern("large.ts", size: "640x360", seconds: 1)
        let joined = dir.path("joined.ts")
        try (Data(contentsOf: URL(fileURLWithPath: small)) + Data(contentsOf: URL(fileURLWithPath: large)))
            .write(to: URL(fileURLWithPath: joined))
        let (info, frames, summary) = try decodeAll(joined)
        #expect(summary.framesDecoded == 50, "\(summary)")
        #expect(frames.prefix(25).allSatisfy { $0.width == 320 && $0.height == 240 && $0.pixels.count == 320 * 240 * 3 })
        #expect(frames.suffix(25).allSatisfy { $0.width == 640 && $0.height == 360 && $0.pixels.count == 640 * 360 * 3 })
        let start = try #require(info.startTime)
        #expect(start > 0 && abs(frames[0].time - start) < 1e-6)
    }

    /// Colour matrix and range come from the stream (BT.709 here), as in ffmpeg's scale filter.
    @Test("BT.709 and full-range clips have ffmpeg's colours")
    func colourMatrices() throws {
        let dir = ClipDir(); defer { dir.remove() }
        for (name, range) in [("bt709-tv.mp4", "tv"), ("bt709-pc.mp4", "pc")] {
            let clip = try dir.testPattern(name, seconds: 0.2, encoder: [
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-colorspace", "bt709",
                "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", range])
            let (_, frames, _) = try decodeAll(clip)
            let reference = try FFmpegCLI.referenceRGB(clip, frame: 2, in: dir.url)
            #expect(maxByteDiff(frames[2].pixels, reference) == 0, "\(name)")
        }
    }

    /// A file cut in half: the first half decodes, the summary says something is missing, no crash.
    @Test("a truncated file decodes its first half and reports the rest", arguments: ["mp4", "mkv"])
    func truncated(container: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        // faststart: the MP4 index comes first, so half a file is still an MP4 (without it, see below).
        let whole = try dir.testPattern("whole.\(container)", seconds: 4, encoder: [
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let half = dir.path("half.\(container)")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
        let (_, frames, summary) = try decodeAll(half)
        #expect(frames.count > 20 && frames.count < 100, "\(summary)")
        #expect(summary.hasProblems, "\(summary)")
        #expect(summary.missingSeconds.map { $0 > 1 } == true, "\(summary)")
        #expect(frames.map(\.index) == Array(0..<frames.count))
    }

    @Test("half an MP4 whose index is at the end is a clear error")
    func truncatedWithoutIndex() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let whole = try dir.testPattern("whole.mp4", seconds: 2)
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let half = dir.path("half.mp4")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
        let message = errorMessage { _ = try VideoReader(path: half) }
        #expect(message.hasPrefix(half + ": ") && !message.contains("\n"), "\(message)")
    }

    /// Bytes flipped all over the stream: whatever decodes is delivered, damage is counted.
    @Test("a corrupted stream decodes what it can without crashing", arguments: ["mp4", "mkv"])
    func corrupted(container: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("clip.\(container)", seconds: 4, encoder: [
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        var data = try Data(contentsOf: URL(fileURLWithPath: clip))
        var generator = SplitMix64(seed: 7)
        for _ in 0..<200 {   // leave the first 4 kB (headers, MP4 index) intact
            let position = 4096 + Int(generator.next() % UInt64(data.count - 4096))
            data[position] ^= 0xFF
        }
        let damaged = dir.path("damaged.\(container)")
        try data.write(to: URL(fileURLWithPath: damaged))
        let (_, frames, summary) = try decodeAll(damaged)
        #expect(frames.count > 0 && summary.hasProblems, "\(summary)")
    }

    /// An MP4 whose index is intact but whose media data is all zeros: nothing decodes.
    @Test("a video stream with no decodable frame is a clear error")
    func nothingDecodable() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try dir.testPattern("clip.mp4", seconds: 1, encoder: [
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        var data = try Data(contentsOf: URL(fileURLWithPath: clip))
        let mdat = try #require(data.range(of: Data("mdat".utf8)))
        data.replaceSubrange(mdat.upperBound..<data.count, with: Data(count: data.count - mdat.upperBound))
        let zeroed = dir.path("zeroed.mp4")
        try data.write(to: URL(fileURLWithPath: zeroed))
        let message = errorMessage { _ = try VideoReader(path: zeroed).forEachFrame { _ in true } }
        #expect(message.hasPrefix(zeroed + ": no video frame could be decoded"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("an audio-only file is a clear error")
    func audioOnly() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let audio = dir.path("sound.m4a")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", audio])
        let message = errorMessage { _ = try VideoReader(path: audio) }
        #expect(message == "\(audio): no video stream (the file has: audio aac)")
    }

    /// FFmpeg reads a relative "take:2.mp4" as a URL of protocol "take" unless told it is a file.
    /// Run in its own process to give it a working directory.
    @Test("a relative file name with a colon is a file, not a URL")
    func colonInName() throws {
        let dir = ClipDir(); defer { dir.remove() }
        try dir.testPattern("take:2.mp4", seconds: 0.2)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.tool)
        process.arguments = ["decode-video", "take:2.mp4"]
        process.currentDirectoryURL = dir.url
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && text.contains("decoded: 5 frames"), "\(text)")
    }

    /// Music files carry cover art as a one-picture video stream: not a video to track.
    @Test("an audio file with cover art is a clear error", arguments: ["mp3", "m4a"])
    func coverArt(container: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let cover = dir.path("cover.png"), song = dir.path("song.\(container)")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", cover])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=duration=1", "-i", cover, "-map", "0", "-map", "1",
                           "-c:a", container == "mp3" ? "libmp3lame" : "aac", "-c:v", "png",
                           "-disposition:v", "attached_pic", song])
        let message = errorMessage { _ = try VideoReader(path: song) }
        #expect(message.hasPrefix("\(song): no video stream, only a cover picture"), "\(message)")
    }

    @Test("the callback can stop early, and a reader can decode again")
    func stopEarlyAndRepeat() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let reader = try VideoReader(path: try dir.testPattern("clip.mp4", seconds: 1))
        let first = try reader.forEachFrame { $0.index < 9 }
        #expect(first.framesDecoded == 10 && first.stoppedEarly && !first.hasProblems)
        var count = 0
        let second = try reader.forEachFrame { _ in count += 1; return true }
        #expect(second.framesDecoded == 25 && count == 25 && !second.stoppedEarly)
        struct Stop: Error {}
        #expect(throws: Stop.self) { try reader.forEachFrame { _ in throw Stop() } }
    }

    /// The reader writes each frame into the same buffer when the caller does not keep the frame.
    @Test("frames reuse one pixel buffer")
    func reusesBuffer() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let reader = try VideoReader(path: try dir.testPattern("clip.mp4", seconds: 1))
        var addresses = Set<UInt>()
        try reader.forEachFrame { frame in
            frame.pixels.withUnsafeBufferPointer { addresses.insert(UInt(bitPattern: $0.baseAddress)); return }
            return true
        }
        #expect(addresses.count == 1)
    }

    /// Memory must not grow with the video's length: 60 s and 6 s of small frames, decoded in their
    /// own processes (the hidden `decode-video` command, which prints its VmHWM) so parallel tests
    /// do not disturb the peak.
    @Test("peak memory does not grow with the video's length")
    func boundedMemory() throws {
        guard FileManager.default.isExecutableFile(atPath: Paths.tool) else {
            Issue.record("\(Paths.tool) not built (run swift build first)"); return
        }
        let dir = ClipDir(); defer { dir.remove() }
        let encoder = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        func peakKilobytes(seconds: Double) throws -> (Int, String) {
            let clip = try dir.testPattern("long\(Int(seconds)).mp4", size: "320x240", rate: 30, seconds: seconds, encoder: encoder)
            let r = try run(Paths.tool, ["decode-video", clip])
            #expect(r.status == 0, "\(r.stderr)")
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("peak memory: ") } ?? ""
            return (Int(line.split(separator: " ")[2]) ?? -1, r.stdout)
        }
        let (short, shortOut) = try peakKilobytes(seconds: 6)
        let (long, longOut) = try peakKilobytes(seconds: 60)
        #expect(shortOut.contains("decoded: 180 frames") && longOut.contains("decoded: 1800 frames"), "\(longOut)")
        // Leaking each RGB frame would add 1620 × 225 kB ≈ 360 MB, each packet ≈ 6 MB (checked by
        // removing av_packet_unref); runs vary by about 0.5 MB.
        #expect(short > 0 && long - short < 4_000, "peak RSS \(short) kB for 6 s, \(long) kB for 60 s")
    }

    /// The shared real video: an edit list hides 22 of its 207 packets; FFmpeg's decoder drops them.
    @Test("the real test video decodes to 185 frames", .enabled(if: Paths.sharedAvailable, "../shared is absent"))
    func realVideo() throws {
        let video = Paths.shared.appendingPathComponent("videos/skater.mp4").path
        let dir = ClipDir(); defer { dir.remove() }
        let reader = try VideoReader(path: video)
        var first: VideoFrame?
        var times: [Double] = []
        let summary = try reader.forEachFrame { frame in
            if frame.index == 0 { first = frame }
            times.append(frame.time)
            return true
        }
        #expect(summary.framesDecoded == 185 && !summary.hasProblems, "\(summary)")
        #expect(reader.info.width == 1280 && reader.info.height == 720)
        #expect(abs(times[0]) < 1e-6 && abs(times[184] - 184 * 0.04) < 1e-3)
        let reference = try FFmpegCLI.referenceRGB(video, frame: 0, in: dir.url)
        #expect(maxByteDiff(try #require(first).pixels, reference) == 0)
    }
}

/// Errors that need no ffmpeg to set up: each one line, naming the file.
@Suite("Video reader errors")
struct VideoReaderErrorTests {
    @Test("missing file")
    func missing() {
        let message = errorMessage { _ = try VideoReader(path: "/nonexistent/clip.mp4") }
        #expect(message == "/nonexistent/clip.mp4: no such video file")
    }

    @Test("zero-byte file")
    func empty() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let path = dir.path("empty.mp4")
        try Data().write(to: URL(fileURLWithPath: path))
        let message = errorMessage { _ = try VideoReader(path: path) }
        #expect(message == "\(path): empty file (0 bytes), not a video")
    }

    @Test("a text file named .mp4")
    func textFile() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let path = dir.path("notes.mp4")
        try "These are my notes, not a video.\nSecond line.\n".write(toFile: path, atomically: true, encoding: .utf8)
        let message = errorMessage { _ = try VideoReader(path: path) }
        #expect(message.hasPrefix("\(path): not a video file FFmpeg can read"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("a directory")
    func directory() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let message = errorMessage { _ = try VideoReader(path: dir.url.path) }
        #expect(message == "\(dir.url.path): is a directory, not a video file")
    }
}

/// A tiny deterministic random generator, so damaged files are the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
