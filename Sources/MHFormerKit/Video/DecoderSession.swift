// One decoding pass over a video file: owns every FFmpeg object of the pass and frees them in deinit.

import CFFmpeg
import Foundation

/// Opens a file, picks its video stream and decodes it once. Not shared between threads.
final class DecoderSession {
    let info: VideoInfo
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private let converter = RGBConverter()
    private let streamIndex: Int32
    /// Where the decoder's logged errors are counted (see cff_counting_log_callback); allocated with
    /// the decoder, freed after it.
    private var errorCounter: UnsafeMutablePointer<cff_error_counter>?
    /// Rate used when the stream gives none: for estimated and repaired timestamps.
    private let fallbackFrameRate: Double

    // Decoding state of the pass.
    private var summary = DecodeSummary()
    private var lastTime: Double?         // of the most recent frame, in seconds
    private var lastDuration: Double?     // of the most recent frame, if the stream says
    // Where the frames decoded and the packets read end in time: the latest timestamp plus one frame
    // at the nominal rate. Not plus the stream's own duration: the demuxer stretches the last packet
    // an MP4 index lists to the end of the track, which would hide the frames the index lost.
    private var lastFrameEnd: Double?
    private var lastPacketEnd: Double?
    // Packets the container marks as not to be shown: their time stamps (nil where they have none),
    // and the earliest time stamp of a packet that is shown, to tell an encoder's pre-roll (before the
    // first shown frame: normal) from frames dropped later on (a damaged edit list) at the end.
    private var discardedTicks: [Int64?] = []
    private var firstShownTicks: Int64?
    private lazy var clock = TimestampRepair(frameInterval: TimestampRepair.frameInterval(
        nominalRate: info.frameRate, fallbackRate: fallbackFrameRate))

    private static let eagain = cff_averror_eagain(), eof = cff_averror_eof()

    init(path: String, threads: Int, fallbackFrameRate: Double = 25) throws {
        self.fallbackFrameRate = fallbackFrameRate
        try DecoderSession.checkReadableFile(path)
        var format: UnsafeMutablePointer<AVFormatContext>? = nil
        // "file:" makes FFmpeg read a local file even when the name contains a colon ("take:2.mp4"
        // would otherwise be a URL of protocol "take"), and never a network URL.
        let opened = avformat_open_input(&format, "file:" + path, nil, nil)
        guard opened >= 0, let fmt = format else {
            throw MHFormerError("\(path): not a video file FFmpeg can read, or a damaged one (\(ffmpegErrorText(opened)))")
        }
        self.format = fmt       // from here on deinit closes it, also when init throws below
        let found = avformat_find_stream_info(fmt, nil)
        guard found >= 0 else {
            self.streamIndex = -1; self.info = DecoderSession.placeholderInfo(path)
            throw MHFormerError("\(path): cannot read the stream parameters (\(ffmpegErrorText(found)))")
        }
        var codec: UnsafePointer<AVCodec>? = nil
        let index = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        self.streamIndex = index
        guard index >= 0, let codec else {
            self.info = DecoderSession.placeholderInfo(path)
            throw DecoderSession.noVideoError(path, fmt, code: index)
        }
        let stream = fmt.pointee.streams[Int(index)]!
        // An audio file's cover art is a one-picture "video" stream: not something to track.
        guard stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 else {
            self.info = DecoderSession.placeholderInfo(path)
            throw DecoderSession.noVideoError(path, fmt, code: index)
        }
        info = DecoderSession.describe(path: path, format: fmt, stream: stream, index: Int(index))
        DecoderSession.discardOtherStreams(fmt, keeping: index)
        try openDecoder(codec, stream: stream, threads: threads)
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        guard packet != nil, frame != nil else { throw MHFormerError("\(path): out of memory") }
    }

    deinit {
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&decoder)     // joins the decoder's threads: nothing logs to the counter after this
        errorCounter?.deallocate()
        avformat_close_input(&format)
    }

    // MARK: - Opening

    /// The errors FFmpeg would report vaguely (or not at all) for a missing, unreadable or empty path.
    private static func checkReadableFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MHFormerError("\(path): no such video file")
        }
        guard !isDirectory.boolValue else { throw MHFormerError("\(path): is a directory, not a video file") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MHFormerError("\(path): cannot read the video file (permission denied)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if size == 0 { throw MHFormerError("\(path): empty file (0 bytes), not a video") }
    }

    /// Names what the file holds instead, e.g. "no video stream (the file has: audio aac)".
    private static func noVideoError(_ path: String, _ fmt: UnsafeMutablePointer<AVFormatContext>,
                                     code: Int32) -> MHFormerError {
        let streams = (0..<Int(fmt.pointee.nb_streams)).map { i -> String in
            let par = fmt.pointee.streams[i]!.pointee.codecpar!.pointee
            let type = av_get_media_type_string(par.codec_type).map { String(cString: $0) } ?? "unknown"
            return "\(type) \(String(cString: avcodec_get_name(par.codec_id)))"
        }
        let has = streams.isEmpty ? "no streams" : "the file has: " + streams.joined(separator: ", ")
        if code >= 0 {
            return MHFormerError("\(path): no video stream, only a cover picture (\(has))")
        }
        if code == cff_averror_decoder_not_found() {
            return MHFormerError("\(path): no decoder in this FFmpeg for the video stream (\(has))")
        }
        return MHFormerError("\(path): no video stream (\(has))")
    }

    /// Demuxing skips packets of streams marked discard: audio and subtitles are not even read.
    private static func discardOtherStreams(_ fmt: UnsafeMutablePointer<AVFormatContext>, keeping index: Int32) {
        for i in 0..<Int(fmt.pointee.nb_streams) where i != Int(index) {
            fmt.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
        }
    }

    private func openDecoder(_ codec: UnsafePointer<AVCodec>, stream: UnsafeMutablePointer<AVStream>, threads: Int) throws {
        decoder = avcodec_alloc_context3(codec)
        guard let dec = decoder else { throw MHFormerError("\(info.path): out of memory") }
        var status = avcodec_parameters_to_context(dec, stream.pointee.codecpar)
        if status >= 0 {
            dec.pointee.thread_count = Int32(max(0, threads))
            // Without it the decoder cannot compute best_effort_timestamp in stream units.
            dec.pointee.pkt_timebase = stream.pointee.time_base
            // Set before opening: the decoder's threads copy `opaque` when they start.
            let counter = UnsafeMutablePointer<cff_error_counter>.allocate(capacity: 1)
            cff_error_counter_init(counter)
            errorCounter = counter
            dec.pointee.opaque = UnsafeMutableRawPointer(counter)
            status = avcodec_open2(dec, codec, nil)
        }
        guard status >= 0 else {
            throw MHFormerError("\(info.path): cannot open the \(info.codecName) decoder (\(ffmpegErrorText(status)))")
        }
    }

    /// Reads the stream's metadata into plain Swift values.
    private static func describe(path: String, format fmt: UnsafeMutablePointer<AVFormatContext>,
                                 stream: UnsafeMutablePointer<AVStream>, index: Int) -> VideoInfo {
        let st = stream.pointee, par = st.codecpar.pointee
        let tb = TimeBase(Int(st.time_base.num), Int(st.time_base.den))
        let rotation = clockwiseRotation(displayMatrixDegrees: cff_stream_rotation(stream))
        let swapped = rotation == 90 || rotation == 270
        let noPTS = cff_nopts_value()
        var duration: Double? = nil
        if st.duration != noPTS, st.duration > 0 {
            duration = Double(st.duration) * tb.seconds
        } else if fmt.pointee.duration != noPTS, fmt.pointee.duration > 0 {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
        }
        return VideoInfo(
            path: path, streamIndex: index,
            codecName: String(cString: avcodec_get_name(par.codec_id)),
            width: Int(swapped ? par.height : par.width), height: Int(swapped ? par.width : par.height),
            storedWidth: Int(par.width), storedHeight: Int(par.height),
            rotation: rotation, pixelAspectRatio: pixelAspectRatio(fmt, stream, swapped: swapped), timeBase: tb,
            containerFrameCount: st.nb_frames > 0 ? Int(st.nb_frames) : nil,
            frameRate: rate(st.avg_frame_rate) ?? rate(st.r_frame_rate),
            duration: duration,
            startTime: st.start_time != noPTS ? Double(st.start_time) * tb.seconds : nil)
    }

    /// The stream's (or codec's) sample aspect ratio, inverted when the picture is turned sideways.
    private static func pixelAspectRatio(_ fmt: UnsafeMutablePointer<AVFormatContext>,
                                         _ stream: UnsafeMutablePointer<AVStream>, swapped: Bool) -> Double {
        guard let sar = rate(av_guess_sample_aspect_ratio(fmt, stream, nil)) else { return 1 }   // 0/1: unknown
        return swapped ? 1 / sar : sar
    }

    private static func rate(_ r: AVRational) -> Double? {
        r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil
    }

    /// Only used to fill `info` when init throws before the stream is known.
    private static func placeholderInfo(_ path: String) -> VideoInfo {
        VideoInfo(path: path, streamIndex: -1, codecName: "", width: 0, height: 0, storedWidth: 0,
                  storedHeight: 0, rotation: 0, pixelAspectRatio: 1, timeBase: TimeBase(0, 1), containerFrameCount: nil,
                  frameRate: nil, duration: nil, startTime: nil)
    }

    // MARK: - Decoding

    /// Reads every packet of the stream, decodes it and hands each frame to `body`.
    func decodeAll(_ body: (VideoFrame) throws -> Bool) throws -> DecodeSummary {
        guard let fmt = format, let pkt = packet else { return summary }
        var keepGoing = true
        while keepGoing {
            let status = av_read_frame(fmt, pkt)
            if status < 0 {
                // A truncated or damaged file ends here too: decode what was read, report why it stopped.
                if status != DecoderSession.eof { summary.readError = ffmpegErrorText(status) }
                break
            }
            defer { av_packet_unref(pkt) }
            guard pkt.pointee.stream_index == streamIndex else { continue }
            count(pkt)
            keepGoing = try send(pkt, body)
        }
        if keepGoing {
            // A nil packet tells the decoder to return the frames it still holds (B-frames, threads).
            _ = avcodec_send_packet(decoder, nil)
            _ = try receiveFrames(flushing: true, body)
            summary.missingSeconds = missingTail()
            summary.missingFrames = missingFrames()
            summary.packetsDropped = droppedPackets()
        } else {
            summary.stoppedEarly = true
        }
        if let errorCounter { summary.decoderErrors = Int(cff_error_counter_value(errorCounter)) }
        return summary
    }

    /// Counts one packet of the stream and notes where it ends in time.
    private func count(_ pkt: UnsafeMutablePointer<AVPacket>) {
        let p = pkt.pointee
        summary.packetsRead += 1
        if p.flags & AV_PKT_FLAG_CORRUPT != 0 { summary.corruptPackets += 1 }
        let ticks = p.pts != cff_nopts_value() ? p.pts : p.dts
        if p.flags & AV_PKT_FLAG_DISCARD != 0 {
            summary.packetsDiscarded += 1
            discardedTicks.append(ticks != cff_nopts_value() ? ticks : nil)
        } else if ticks != cff_nopts_value() {
            firstShownTicks = min(firstShownTicks ?? ticks, ticks)
        }
        if ticks != cff_nopts_value(), info.timeBase.seconds > 0 {
            let end = Double(ticks) * info.timeBase.seconds + clock.frameInterval
            lastPacketEnd = max(lastPacketEnd ?? end, end)
        }
    }

    /// Some demuxers (Matroska, MP4 with its index first) end a cut-off file without any error, and
    /// an MP4 whose index lists fewer frames than its duration stops early the same way: compare
    /// where the packets (or, without packet timestamps, the frames) ended with the duration the
    /// container announced. Packets, not frames: a packet that was read but failed to decode is
    /// counted as such, not again as missing.
    private func missingTail() -> Double? {
        guard let end = [lastPacketEnd, lastFrameEnd].compactMap({ $0 }).max(), let duration = info.duration else { return nil }
        let expectedEnd = (info.startTime ?? 0) + duration
        let tolerance = max(0.5, 3 * clock.frameInterval)
        let missing = expectedEnd - end
        return missing > tolerance ? missing : nil
    }

    /// The frames of the missing tail: its seconds at the frame rate, or, when the container's frame
    /// count says more (B-frames make the last packets' times uneven), the frames it lists that were
    /// not read. The count alone is not trusted without a missing tail: an edit list can trim the
    /// end of an intact MP4 below it.
    private func missingFrames() -> Int {
        guard let seconds = summary.missingSeconds else { return 0 }
        let byTime = Int((seconds / clock.frameInterval).rounded())
        let shown = summary.packetsRead - summary.packetsDiscarded
        let byCount = (info.containerFrameCount ?? 0) - summary.packetsDiscarded - shown
        return max(byTime, byCount)
    }

    /// Frames the container hid that are not an encoder's pre-roll. An MP4 edit list may hide the
    /// frames before the clip's start (their packets lie before the first shown one), but one that
    /// hides frames after it drops part of the video (a damaged `elst` or `mdhd` can leave 5 of 52
    /// frames shown). Counted by outcome: the frames missing when only the pre-roll is excused,
    /// beyond those missing anyway (packets shown but not decoded), since a decoder may still
    /// return a frame for a hidden packet (seen with a one-frame MJPEG MOV whose edit list is empty).
    /// Hidden packets without a time stamp, or when no shown packet has one, are not pre-roll.
    private func droppedPackets() -> Int {
        let preRoll = discardedTicks.filter { ticks in
            guard let ticks, let firstShownTicks else { return false }
            return ticks < firstShownTicks
        }.count
        let missingExcusingPreRoll = max(0, summary.packetsRead - preRoll - summary.framesDecoded)
        let missingShown = max(0, summary.packetsRead - summary.packetsDiscarded - summary.framesDecoded)
        return max(0, missingExcusingPreRoll - missingShown)
    }

    /// Feeds one packet to the decoder and delivers the frames it returns. False: the caller stopped.
    private func send(_ pkt: UnsafeMutablePointer<AVPacket>, _ body: (VideoFrame) throws -> Bool) throws -> Bool {
        var status = avcodec_send_packet(decoder, pkt)
        // EAGAIN: the decoder's output is full; take its frames, then the same packet is accepted.
        // Bounded so that a misbehaving decoder cannot spin forever.
        var retries = 0
        while status == DecoderSession.eagain && retries < 8 {
            guard try receiveFrames(flushing: false, body) else { return false }
            status = avcodec_send_packet(decoder, pkt)
            retries += 1
        }
        if status < 0 { noteDecodeError(status, isPacket: true) }
        return try receiveFrames(flushing: false, body)
    }

    /// Takes all frames the decoder has ready. False: the caller stopped.
    private func receiveFrames(flushing: Bool, _ body: (VideoFrame) throws -> Bool) throws -> Bool {
        guard let dec = decoder, let frame else { return false }
        var consecutiveErrors = 0
        while true {
            let status = avcodec_receive_frame(dec, frame)
            if status == DecoderSession.eagain || status == DecoderSession.eof { return true }
            if status < 0 {
                noteDecodeError(status, isPacket: false)
                consecutiveErrors += 1
                // While streaming, the next packet may decode again; while flushing, each call
                // returns the next held frame, but give up if the decoder keeps failing.
                if !flushing || consecutiveErrors > 64 { return true }
                continue
            }
            consecutiveErrors = 0
            defer { av_frame_unref(frame) }
            guard try deliver(frame, body) else { return false }
        }
    }

    /// Converts one decoded frame and calls `body`. False: the caller stopped.
    private func deliver(_ frame: UnsafeMutablePointer<AVFrame>, _ body: (VideoFrame) throws -> Bool) throws -> Bool {
        guard let size = converter.convert(frame, rotation: info.rotation) else {
            summary.frameErrors += 1
            if summary.firstDecodeError == nil {
                let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: frame.pointee.format)).map { String(cString: $0) }
                summary.firstDecodeError = "cannot convert pixel format \(name ?? "none") to RGB"
            }
            return true
        }
        if frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frame.pointee.decode_error_flags != 0 {
            summary.damagedFrames += 1
        }
        let (pts, time, estimated, repaired) = timestamp(of: frame)
        lastFrameEnd = time + clock.frameInterval
        let videoFrame = VideoFrame(index: summary.framesDecoded, time: time, pts: pts, timeIsEstimated: estimated,
                                    timeIsRepaired: repaired, width: size.width, height: size.height, pixels: converter.output)
        summary.framesDecoded += 1
        return try body(videoFrame)
    }

    /// best_effort_timestamp × time base (correct for variable frame rates). When a frame has no
    /// timestamp: the previous frame's time plus its duration (or one frame at the nominal rate).
    /// A timestamp that repeats or goes back is repaired (TimestampRepair).
    /// Returns (raw timestamp, seconds, estimated?, repaired?) and records this frame's time and duration.
    private func timestamp(of frame: UnsafeMutablePointer<AVFrame>) -> (Int64?, Double, Bool, Bool) {
        let ticks = frame.pointee.best_effort_timestamp
        let tick = info.timeBase.seconds
        let hasTimestamp = ticks != cff_nopts_value() && tick > 0
        var time: Double
        if hasTimestamp {
            time = Double(ticks) * tick
        } else {
            summary.estimatedTimestamps += 1
            let step = lastDuration ?? info.frameRate.map { 1 / $0 } ?? clock.frameInterval
            time = lastTime.map { $0 + step } ?? (info.startTime ?? 0)
        }
        let repaired: Bool
        (time, repaired) = clock.next(time)
        if repaired { summary.repairedTimestamps += 1 }
        let duration = cff_frame_duration(frame)
        lastDuration = duration > 0 && tick > 0 ? Double(duration) * tick : nil
        lastTime = time
        return (hasTimestamp ? ticks : nil, time, !hasTimestamp, repaired)
    }

    private func noteDecodeError(_ status: Int32, isPacket: Bool) {
        if isPacket { summary.packetErrors += 1 } else { summary.frameErrors += 1 }
        if summary.firstDecodeError == nil { summary.firstDecodeError = ffmpegErrorText(status) }
    }
}

/// Keeps frame times increasing. A damaged or badly muxed file can give every frame the same
/// timestamp (often 0) or jump back in time; such times would go into time_s as they are and make
/// the measured frame rate 0 or negative. A time that is not later than the previous one is
/// replaced by the previous time plus one frame interval, so a run of bad timestamps becomes evenly
/// spaced at the stream's rate; the first later timestamp is taken as it is again.
struct TimestampRepair {
    /// Seconds per frame used for repairs.
    let frameInterval: Double
    private var last: Double?

    init(frameInterval: Double) { self.frameInterval = frameInterval }

    /// The stream's nominal rate when it is plausible (a damaged header can say 0 or 90000 fps),
    /// else `fallbackRate` (the job's --fps), else FFmpeg's usual guess of 25.
    static func frameInterval(nominalRate: Double?, fallbackRate: Double) -> Double {
        if let rate = nominalRate, rate >= 1, rate <= 1000 { return 1 / rate }
        return fallbackRate > 0 && fallbackRate.isFinite ? 1 / fallbackRate : 1.0 / 25
    }

    /// The time to use for a frame whose stream time is `time`, and whether it was repaired.
    mutating func next(_ time: Double) -> (time: Double, repaired: Bool) {
        var result = (time: time, repaired: false)
        if let last, !(time > last) { result = (last + frameInterval, true) }
        last = result.time
        return result
    }
}

/// Clockwise degrees (0, 90, 180, 270) that turn a stored picture upright, from the display matrix
/// angle (av_display_rotation_get: counter-clockwise degrees the matrix turns the picture by, NaN
/// when there is no usable matrix). Angles between right angles are rounded to the nearest one.
func clockwiseRotation(displayMatrixDegrees angle: Double) -> Int {
    guard angle.isFinite else { return 0 }
    let quarterTurns = Int((-angle / 90).rounded())
    return ((quarterTurns % 4) + 4) % 4 * 90
}
