// The values the video reader hands out: what a file holds (VideoInfo), one decoded picture
// (VideoFrame) and what happened during a decoding pass (DecodeSummary). Plain Swift values, no
// FFmpeg types, so the rest of the pipeline never imports CFFmpeg.

import Foundation

/// A stream time base: timestamps are integer multiples of `numerator / denominator` seconds.
public struct TimeBase: Sendable, Equatable, CustomStringConvertible {
    public let numerator: Int
    public let denominator: Int
    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }
    /// The length of one tick in seconds (0 for a degenerate time base).
    public var seconds: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var description: String { "\(numerator)/\(denominator)" }
}

/// What the container and the codec parameters say about the chosen video stream, before decoding.
/// Counts and rates here are metadata and may be wrong or missing; `DecodeSummary.framesDecoded`
/// is the real frame count.
public struct VideoInfo: Sendable, Equatable {
    public let path: String
    /// Index of the chosen stream in the container (FFmpeg's "best" video stream).
    public let streamIndex: Int
    /// FFmpeg's short codec name, e.g. "h264", "mpeg4", "vp9", "mjpeg".
    public let codecName: String
    /// Size of the frames handed out, i.e. after `rotation` (a portrait phone video is taller than wide).
    public let width: Int
    public let height: Int
    /// Size of the pictures as stored in the stream, before rotation.
    public let storedWidth: Int
    public let storedHeight: Int
    /// Degrees clockwise (0, 90, 180 or 270) each stored picture is turned to show it upright,
    /// taken from the stream's display matrix (phones record sideways and set this instead).
    public let rotation: Int
    /// Width / height of one pixel of the upright frames: 1 for square pixels (nearly all files);
    /// DV and some broadcast recordings differ. Frames are not resampled to square pixels.
    public let pixelAspectRatio: Double
    public let timeBase: TimeBase
    /// Frame count written in the container, if any (`nb_frames`). Not trusted: decode to count.
    public let containerFrameCount: Int?
    /// Average frame rate from the container (or the codec's base rate), if known. For variable
    /// frame rate videos use each frame's timestamp instead.
    public let frameRate: Double?
    /// Stream (or else container) duration in seconds, if known.
    public let duration: Double?
    /// Timestamp of the first frame in seconds, if known (e.g. 1.4 for many MPEG-TS files).
    public let startTime: Double?
}

/// One decoded picture, upright, as packed RGB24.
public struct VideoFrame: Sendable {
    /// 0-based position among the frames delivered in this pass.
    public let index: Int
    /// Presentation time in seconds: best-effort timestamp × time base. When the stream carries no
    /// timestamp for this frame it is estimated from the previous frame (see `timeIsEstimated`).
    /// Always later than the previous frame's time (see `timeIsRepaired`).
    public let time: Double
    /// The raw best-effort timestamp in time-base units, nil when the stream had none.
    public let pts: Int64?
    public let timeIsEstimated: Bool
    /// True when the stream's timestamp repeated or went back in time and `time` was moved to one
    /// frame (at the nominal rate) after the previous frame, so that times always increase.
    public let timeIsRepaired: Bool
    public let width: Int
    public let height: Int
    /// `height` rows of `width * 3` bytes (R, G, B), top row first, no padding.
    /// The reader reuses this storage for the next frame when the caller has not kept the array,
    /// so keeping a frame is safe (copy-on-write) but costs a copy.
    public let pixels: [UInt8]
}

/// What one decoding pass did, including what it had to skip in a damaged file.
public struct DecodeSummary: Sendable, Equatable, CustomStringConvertible {
    /// Frames delivered to the callback (the real frame count when the pass ran to the end).
    public var framesDecoded = 0
    /// Packets of the chosen stream read from the container.
    public var packetsRead = 0
    /// Of those, packets the container marks as not to be shown (an MP4 edit list hides the frames
    /// before the clip's start this way): the decoder drops them, so they are not missing frames.
    public var packetsDiscarded = 0
    /// Of the discarded packets, those after the first shown one that gave no frame: frames the
    /// container drops from the middle or the end of the clip (a damaged edit list or media
    /// header), not an encoder's pre-roll. Damage: what the file holds is not shown.
    public var packetsDropped = 0
    /// Packets the decoder rejected (their data is lost).
    public var packetErrors = 0
    /// Frames the decoder or the RGB conversion failed on (not delivered).
    public var frameErrors = 0
    /// Packets the demuxer flagged as corrupt (e.g. cut short by the end of a truncated file).
    public var corruptPackets = 0
    /// Frames delivered although the decoder reported damage in them (concealed errors).
    public var damagedFrames = 0
    /// Frames whose timestamp was missing and had to be estimated.
    public var estimatedTimestamps = 0
    /// Frames whose timestamp repeated or went back in time and was repaired from the frame rate.
    public var repairedTimestamps = 0
    /// Error messages the decoder logged. FFmpeg reports most damage in the data (a broken slice,
    /// concealed macroblocks, a missing reference frame) only this way.
    public var decoderErrors = 0
    /// Why reading the container stopped before its normal end (e.g. a truncated file), if it did.
    public var readError: String?
    /// The first decoder error message, to show the user what went wrong.
    public var firstDecodeError: String?
    /// True when the callback asked to stop.
    public var stoppedEarly = false
    /// Seconds between the end of the last packet read (or frame decoded) and the end the container
    /// announces, when more than half a second (or 3 frames) is missing: the tail of a truncated
    /// file, or frames a damaged index no longer lists, that the demuxer dropped without an error.
    public var missingSeconds: Double?
    /// The frames of the missing tail (`missingSeconds` at the frame rate, or what the container's
    /// frame count lists beyond the packets read, whichever is more); 0 without a missing tail.
    public var missingFrames = 0

    public init() {}

    /// Frames the file should have given but did not: packets read that decoded to no frame, plus
    /// the frames of the missing tail. 0 when the caller stopped the pass early.
    public var framesNotDecoded: Int {
        guard !stoppedEarly else { return 0 }
        return max(0, packetsRead - packetsDiscarded - framesDecoded) + missingFrames
    }

    /// The frames the file holds as far as its packets and its announced duration tell:
    /// `framesDecoded + framesNotDecoded`.
    public var expectedFrames: Int { framesDecoded + framesNotDecoded }

    /// True when anything was skipped, damaged or repaired.
    public var hasProblems: Bool { damage != nil }

    /// What was damaged, in one line for the user, nil for an intact file, e.g.
    /// "47 of 52 frames could not be decoded; 148 decoder errors; 12 time stamps repaired".
    /// Estimated timestamps are not damage: some formats (raw H.264) carry none.
    public var damage: String? {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        var parts: [String] = []
        if framesNotDecoded > 0 { parts.append("\(framesNotDecoded) of \(count(expectedFrames, "frame")) could not be decoded") }
        if packetsDropped > 0 {
            let shownOrDropped = packetsRead - packetsDiscarded + packetsDropped
            parts.append("\(packetsDropped) of \(count(shownOrDropped, "packet")) dropped by the container (its edit list hides them)")
        }
        if damagedFrames > 0 { parts.append(count(damagedFrames, "frame") + " decoded with concealed damage") }
        if decoderErrors > 0 { parts.append(count(decoderErrors, "decoder error")) }
        if packetErrors > 0 { parts.append(count(packetErrors, "packet") + " rejected by the decoder") }
        if frameErrors > 0 { parts.append(count(frameErrors, "frame") + " failed to decode") }
        if corruptPackets > 0 { parts.append(count(corruptPackets, "corrupt packet")) }
        if let readError { parts.append("reading stopped early: \(readError)") }
        if repairedTimestamps > 0 { parts.append(count(repairedTimestamps, "time stamp") + " repaired") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// One line for logs, e.g. "90 frames from 90 packets" or
    /// "5 frames from 5 packets; 47 of 52 frames could not be decoded; the last 1.88 s announced by
    /// the container are missing (truncated file?)".
    public var description: String {
        var parts = ["\(framesDecoded) frames from \(packetsRead) packets"]
        if packetsDiscarded > 0 { parts.append("\(packetsDiscarded) packets hidden by the container") }
        if let damage { parts.append(damage) }
        if estimatedTimestamps > 0 { parts.append("\(estimatedTimestamps) timestamps estimated") }
        if let firstDecodeError { parts.append("first decoder error: \(firstDecodeError)") }
        if let missingSeconds {
            parts.append(String(format: "the last %.2f s announced by the container are missing (truncated file?)", missingSeconds))
        }
        if stoppedEarly { parts.append("stopped by the caller") }
        return parts.joined(separator: "; ")
    }
}
