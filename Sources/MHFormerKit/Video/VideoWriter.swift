// Encoding RGB24 frames to a video file with libavcodec/libavformat: H.264 (libx264) when FFmpeg
// has it, otherwise MPEG-4 part 2; yuv420p; the container from the file's extension. The file is
// written under a temporary name beside the target and renamed when finished, so a failure never
// leaves a half-written video.

import CFFmpeg
import Foundation

public final class VideoWriter {
    public let path: String
    public let width: Int, height: Int
    /// Time stamps are in milliseconds, so variable frame rates are kept.
    private let timeBase = AVRational(num: 1, den: 1000)
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var sws: OpaquePointer?
    private let tempPath: String
    /// The file that gets the video: `path`, or the file a symlink there points to.
    private let target: String
    private var lastPts: Int64 = -1
    private var finished = false
    public let codecName: String
    /// One frame's duration in milliseconds: the last frame needs one, or MP4's edit list drops it.
    private let frameDurationMs: Int64

    /// `width` and `height` are rounded up to even numbers (yuv420p); frames are padded with black.
    public init(path: String, width inWidth: Int, height inHeight: Int, fps: Double) throws {
        self.path = path
        frameDurationMs = max(1, Int64((1000 / max(fps, 1e-3)).rounded()))
        width = (inWidth + 1) / 2 * 2
        height = (inHeight + 1) / 2 * 2
        FFmpegLog.quietOnce
        target = try AtomicFile.destination(path)
        tempPath = AtomicFile.temporaryPath(for: target)

        // The container is chosen from the final name's extension.
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        guard avformat_alloc_output_context2(&fmt, nil, nil, target) >= 0, let fmt else {
            throw MHFormerError("\(path): no video container for this extension (use .mp4, .mkv or .avi)")
        }
        format = fmt
        guard let enc = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4) else {
            throw MHFormerError("\(path): FFmpeg has neither an H.264 nor an MPEG-4 encoder")
        }
        codecName = String(cString: enc.pointee.name)
        guard let st = avformat_new_stream(fmt, nil), let ctx = avcodec_alloc_context3(enc) else {
            throw MHFormerError("\(path): out of memory setting up the encoder")
        }
        stream = st; codec = ctx
        ctx.pointee.width = Int32(width)
        ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        ctx.pointee.time_base = timeBase
        ctx.pointee.framerate = av_d2q(fps, 100_000)
        ctx.pointee.gop_size = 50
        if codecName == "libx264" {
            av_opt_set(ctx.pointee.priv_data, "preset", "veryfast", 0)
            av_opt_set(ctx.pointee.priv_data, "crf", "20", 0)
        } else {
            ctx.pointee.bit_rate = Int64(width * height) * 4       // MPEG-4: ~4 bits per pixel per second
        }
        if fmt.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            ctx.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        try check(avcodec_open2(ctx, enc, nil), "open the \(codecName) encoder")
        try check(avcodec_parameters_from_context(st.pointee.codecpar, ctx), "set stream parameters")
        st.pointee.time_base = timeBase
        TemporaryFiles.register(tempPath)
        try check(avio_open(&fmt.pointee.pb, tempPath, AVIO_FLAG_WRITE), "create the file")
        try check(avformat_write_header(fmt, nil), "write the header")

        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frame, packet != nil else { throw MHFormerError("\(path): out of memory") }
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        try check(av_frame_get_buffer(frame, 0), "allocate a frame")
        sws = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
                             SWS_BILINEAR, nil, nil, nil)
    }

    deinit {
        if !finished {
            if let fmt = format, fmt.pointee.pb != nil { avio_closep(&fmt.pointee.pb) }
            unlink(tempPath)
            TemporaryFiles.unregister(tempPath)
        }
        sws_freeContext(sws)
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_free_context(format)
    }

    /// Adds one frame: `rgb` holds rgbWidth·rgbHeight·3 bytes (at most the writer's size), shown at
    /// `time` seconds. Times must increase.
    public func append(rgb: [UInt8], width rgbWidth: Int, height rgbHeight: Int, time: Double) throws {
        guard let frame, let codec else { return }
        var padded = rgb
        if rgbWidth != width || rgbHeight != height {
            padded = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<min(rgbHeight, height) {
                for x in 0..<(min(rgbWidth, width) * 3) { padded[(y * width) * 3 + x] = rgb[(y * rgbWidth) * 3 + x] }
            }
        }
        try check(av_frame_make_writable(frame), "prepare a frame")
        padded.withUnsafeBufferPointer { src in
            let srcData: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
            let srcStride: [Int32] = [Int32(width * 3), 0, 0, 0]
            withUnsafeMutablePointer(to: &frame.pointee.data) { d in
                d.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                    withUnsafeMutablePointer(to: &frame.pointee.linesize) { l in
                        l.withMemoryRebound(to: Int32.self, capacity: 8) { ls in
                            _ = sws_scale(sws, srcData, srcStride, 0, Int32(height), dst, ls)
                        }
                    }
                }
            }
        }
        var pts = Int64((time * 1000).rounded())
        if pts <= lastPts { pts = lastPts + 1 }
        lastPts = pts
        frame.pointee.pts = pts
        try check(avcodec_send_frame(codec, frame), "encode a frame")
        try drainPackets()
    }

    /// Flushes the encoder, writes the trailer and moves the file into place.
    public func finish() throws {
        guard !finished, let codec, let format else { return }
        try check(avcodec_send_frame(codec, nil), "flush the encoder")
        try drainPackets()
        try check(av_write_trailer(format), "write the trailer")
        avio_closep(&format.pointee.pb)
        finished = true
        try AtomicFile.moveIntoPlace(tempPath, as: target, reportingAs: path)
    }

    private func drainPackets() throws {
        guard let codec, let packet, let format, let stream else { return }
        while true {
            let r = avcodec_receive_packet(codec, packet)
            if r == cff_averror_eagain() || r == cff_averror_eof() { return }
            try check(r, "encode")
            if packet.pointee.duration == 0 { packet.pointee.duration = frameDurationMs }
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            try check(av_interleaved_write_frame(format, packet), "write a packet")
        }
    }

    private func check(_ code: Int32, _ what: String) throws {
        guard code < 0 else { return }
        throw MHFormerError("\(path): cannot \(what) (\(ffmpegErrorText(code)))")
    }
}
