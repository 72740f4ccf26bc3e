// Damage the reader must report instead of passing over: an MP4 index that lists fewer frames than
// the file holds, a file cut in the middle, packet bytes overwritten with garbage, and time stamps
// that are all zero or run backwards (repaired from the frame rate). The damaged clips are made at
// test time from the sample video, in a temporary directory.

import Foundation
import Testing
@testable import MHFormerKit

/// Damaged copies of a 52-frame clip of the sample video (2.08 s at 25 fps).
enum DamagedClips {
    static let sample = Paths.repo.appendingPathComponent("Samples/cmu131_walk.mp4").path
    static var ready: Bool { FFmpegCLI.available && FileManager.default.fileExists(atPath: sample) }

    /// The first 52 frames of the sample, re-encoded without B-frames (so packets come in
    /// presentation order and `setts` below can pick frames by packet number), index first.
    static func intact(in dir: ClipDir) throws -> String {
        let clip = dir.path("walk52.mp4")
        try FFmpegCLI.run(["-i", sample, "-frames:v", "52", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0",
                           "-pix_fmt", "yuv420p", "-movflags", "+faststart", clip])
        return clip
    }

    /// The intact clip with one 32-bit field of an index box changed from `old` to `new`, as `name`.
    /// The index (moov) comes first (faststart), so the first match of `box` is the box, not media
    /// data; `offset` counts from the end of the box's type.
    static func patched(_ box: String, offset: Int, from old: Int, to new: UInt8, as name: String, in dir: ClipDir) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: try intact(in: dir)))
        let at = try #require(data.range(of: Data(box.utf8))).upperBound + offset
        #expect(data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } == old)
        data.replaceSubrange(at..<(at + 4), with: [0, 0, 0, new])
        let damaged = dir.path(name)
        try data.write(to: URL(fileURLWithPath: damaged))
        return damaged
    }

    /// The MP4 index's sample size table (stsz) says the clip has 5 frames; the time table and the
    /// duration still say 52. The demuxer reads 5 packets and stops without an error.
    /// Box layout: size(4) "stsz" version+flags(4) sample_size(4) sample_count(4).
    static func damagedIndex(in dir: ClipDir) throws -> String {
        try patched("stsz", offset: 8, from: 52, to: 5, as: "damaged-index.mp4", in: dir)
    }

    /// The MP4 edit list (elst) says the clip shows 0.2 s (5 frames) instead of 2.08 s: the demuxer
    /// reads all 52 packets but marks 47 of them as not to be shown, and the decoder drops them
    /// without a word (ffprobe counts 52 packets, ffmpeg decodes 5). A damaged media header (mdhd)
    /// does the same through the edit list FFmpeg derives from it.
    /// Box layout: size(4) "elst" version+flags(4) entry_count(4), then per entry (version 0)
    /// segment_duration(4, movie time scale: ms for ffmpeg's MP4s) media_time(4) rate(4).
    static func damagedEditList(in dir: ClipDir) throws -> String {
        try patched("elst", offset: 8, from: 2080, to: 200, as: "damaged-edit-list.mp4", in: dir)
    }

    /// 2000 bytes in the middle of the media data replaced by (deterministic) random bytes.
    static func garbage(in dir: ClipDir) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: try intact(in: dir)))
        let mdat = try #require(data.range(of: Data("mdat".utf8)))
        let start = (mdat.upperBound + data.count) / 2
        var generator = SplitMix64(seed: 13)
        for i in start..<(start + 2000) { data[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let damaged = dir.path("garbage.mp4")
        try data.write(to: URL(fileURLWithPath: damaged))
        return damaged
    }

    /// Every packet's time stamp set to 0 (Matroska accepts that; MP4 would not).
    static func zeroTimestamps(in dir: ClipDir) throws -> String {
        let clip = dir.path("zero-ts.mkv")
        try FFmpegCLI.run(["-i", try intact(in: dir), "-c", "copy", "-bsf:v", "setts=ts=0", clip])
        return clip
    }

    /// Frames 20...29 moved 0.48 s (12 frames) back: 0.32 ... 0.68 s after frame 19 at 0.76 s.
    /// The decode time stamps are set to 0 so that the muxer keeps the presentation ones as given.
    static func backwardsTimestamps(in dir: ClipDir) throws -> String {
        let clip = dir.path("backwards-ts.mkv")
        try FFmpegCLI.run(["-i", try intact(in: dir), "-c", "copy", "-bsf:v",
                           "setts=pts=PTS-gte(N\\,20)*lt(N\\,30)*12*DURATION:dts=0", clip])
        return clip
    }
}

@Suite("Damaged videos: what the reader reports", .enabled(if: DamagedClips.ready, "ffmpeg or Samples/cmu131_walk.mp4 missing"))
struct DamagedVideoReaderTests {
    @Test("an intact clip reports no damage")
    func intact() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (_, frames, summary) = try decodeAll(try DamagedClips.intact(in: dir))
        #expect(frames.count == 52 && summary.expectedFrames == 52 && summary.framesNotDecoded == 0, "\(summary)")
        #expect(summary.damage == nil && summary.decoderErrors == 0 && summary.repairedTimestamps == 0, "\(summary)")
    }

    /// The audit's finding: 5 of 52 frames decoded, and nothing said.
    @Test("a damaged MP4 index: 47 of 52 frames could not be decoded")
    func damagedIndex() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (info, frames, summary) = try decodeAll(try DamagedClips.damagedIndex(in: dir))
        #expect(info.containerFrameCount == 52 && frames.count == 5, "\(summary)")
        #expect(summary.packetsRead == 5 && summary.missingFrames == 47, "\(summary)")
        #expect(summary.expectedFrames == 52 && summary.framesNotDecoded == 47)
        #expect(summary.damage == "47 of 52 frames could not be decoded")
    }

    /// Packets the container read but hides after the first shown frame are dropped frames, unlike
    /// an encoder's pre-roll before it (the real skater clip's 22 hidden packets, no damage).
    @Test("a damaged edit list: 47 of 52 packets dropped by the container")
    func damagedEditList() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (_, frames, summary) = try decodeAll(try DamagedClips.damagedEditList(in: dir))
        #expect(frames.count == 5 && summary.packetsRead == 52, "\(summary)")
        #expect(summary.packetsDiscarded == 47 && summary.packetsDropped == 47, "\(summary)")
        #expect(summary.damage == "47 of 52 packets dropped by the container (its edit list hides them)", "\(summary)")
    }

    /// Cut in the middle: the frames of the lost half are counted against the announced 8 s.
    @Test("a file cut in the middle: the frames of the lost half could not be decoded", arguments: ["mp4", "mkv"])
    func cutInTheMiddle(container: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        var whole = DamagedClips.sample
        if container != "mp4" {
            whole = dir.path("walk.\(container)")
            try FFmpegCLI.run(["-i", DamagedClips.sample, "-c", "copy", whole])
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let half = dir.path("half.\(container)")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
        let (_, frames, summary) = try decodeAll(half)
        #expect(summary.expectedFrames == 200, "\(summary)")      // 8 s at 25 fps
        #expect(frames.count > 80 && frames.count < 120, "\(summary)")
        #expect(summary.framesNotDecoded == 200 - frames.count)
        #expect(summary.damage?.hasPrefix("\(200 - frames.count) of 200 frames could not be decoded") == true, "\(summary)")
    }

    @Test("garbage in the packets: frames lost and decoder errors are counted")
    func garbage() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (_, frames, summary) = try decodeAll(try DamagedClips.garbage(in: dir))
        #expect(summary.packetsRead == 52 && summary.expectedFrames == 52, "\(summary)")
        #expect(summary.framesNotDecoded == 52 - frames.count && summary.framesNotDecoded > 0, "\(summary)")
        #expect(summary.decoderErrors > 0, "\(summary)")
        let damage = try #require(summary.damage)
        #expect(damage.hasPrefix("\(summary.framesNotDecoded) of 52 frames could not be decoded"), "\(damage)")
        #expect(damage.contains("; \(summary.decoderErrors) decoder errors"), "\(damage)")
    }

    @Test("time stamps that are all zero are spaced at the stream's 25 fps")
    func zeroTimestamps() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (info, frames, summary) = try decodeAll(try DamagedClips.zeroTimestamps(in: dir))
        #expect(info.frameRate == 25)
        #expect(frames.count == 52 && frames.allSatisfy { $0.pts == 0 }, "the clip's time stamps are not all 0")
        #expect(summary.repairedTimestamps == 51 && summary.damage == "51 time stamps repaired", "\(summary)")
        #expect(frames.map(\.timeIsRepaired) == [false] + Array(repeating: true, count: 51))
        for f in frames { #expect(abs(f.time - Double(f.index) * 0.04) < 1e-9, "frame \(f.index) at \(f.time) s") }
    }

    @Test("time stamps that run backwards are repaired, the later good ones kept")
    func backwardsTimestamps() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (info, frames, summary) = try decodeAll(try DamagedClips.backwardsTimestamps(in: dir))
        let raw = frames.map { Double($0.pts ?? -1) * info.timeBase.seconds }
        #expect(abs(raw[19] - 0.76) < 1e-9 && abs(raw[20] - 0.32) < 1e-9, "the clip does not jump back at frame 20")
        #expect(summary.repairedTimestamps == 10 && summary.damage == "10 time stamps repaired", "\(summary)")
        #expect(frames.filter(\.timeIsRepaired).map(\.index) == Array(20..<30))
        for f in frames { #expect(abs(f.time - Double(f.index) * 0.04) < 1e-9, "frame \(f.index) at \(f.time) s") }
    }
}

/// The repair and the damage line on their own, without ffmpeg.
@Suite("Damage report: time stamp repair and the damage line")
struct DamageSummaryTests {
    @Test("repeated and backward times become one frame after the previous; later good times are kept")
    func repair() {
        var clock = TimestampRepair(frameInterval: 0.04)
        let times = [0, 0.04, 0.04, 0.0, 0.2, 0.1, 0.28].map { clock.next($0) }
        #expect(times.map(\.repaired) == [false, false, true, true, false, true, false])
        let expected = [0, 0.04, 0.08, 0.12, 0.2, 0.24, 0.28]
        #expect(zip(times.map(\.time), expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(times)")
    }

    @Test("the stream's rate when plausible, else the fallback (--fps)")
    func repairInterval() {
        #expect(TimestampRepair.frameInterval(nominalRate: 25, fallbackRate: 30) == 1.0 / 25)
        #expect(TimestampRepair.frameInterval(nominalRate: nil, fallbackRate: 30) == 1.0 / 30)
        #expect(TimestampRepair.frameInterval(nominalRate: 90000, fallbackRate: 30) == 1.0 / 30)   // a tick rate, not a frame rate
        #expect(TimestampRepair.frameInterval(nominalRate: 0.01, fallbackRate: 12) == 1.0 / 12)
    }

    @Test("the damage line counts frames not decoded against packets and the missing tail")
    func damageLine() {
        var s = DecodeSummary()
        s.framesDecoded = 40; s.packetsRead = 45
        #expect(s.damage == "5 of 45 frames could not be decoded" && s.hasProblems)
        s.missingFrames = 7; s.decoderErrors = 1; s.repairedTimestamps = 12; s.damagedFrames = 2
        #expect(s.damage == "12 of 52 frames could not be decoded; 2 frames decoded with concealed damage; 1 decoder error; 12 time stamps repaired")

        // Packets an edit list hides are not lost frames; estimated time stamps are not damage.
        var hidden = DecodeSummary()
        hidden.framesDecoded = 185; hidden.packetsRead = 207; hidden.packetsDiscarded = 22; hidden.estimatedTimestamps = 185
        #expect(hidden.framesNotDecoded == 0 && hidden.expectedFrames == 185 && hidden.damage == nil && !hidden.hasProblems)
        // ... but those it hides after the first shown frame are dropped frames.
        var dropped = DecodeSummary()
        dropped.framesDecoded = 5; dropped.packetsRead = 60; dropped.packetsDiscarded = 55; dropped.packetsDropped = 47
        #expect(dropped.damage == "47 of 52 packets dropped by the container (its edit list hides them)" && dropped.hasProblems)

        // A caller that stops early leaves packets in the decoder: not damage.
        var stopped = DecodeSummary()
        stopped.framesDecoded = 10; stopped.packetsRead = 12; stopped.stoppedEarly = true
        #expect(stopped.damage == nil)
    }
}
