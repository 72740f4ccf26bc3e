// Fuzz target video-geometry: a small video of fuzzed size, pixel format, codec and display
// rotation is made in-process (libavcodec encodes, libavformat muxes it into this process's scratch
// folder), then read back through the whole video path: VideoReader (demuxing, decoding, the RGB
// conversion and rotation) and BlazePose's two crops of every frame (the detector's letterbox, a
// rotated landmark ROI). Every input is a valid video, so the fuzzer explores frame geometry rather
// than FFmpeg's parsers (OSS-Fuzz covers those).
//
// Input layout (little-endian; Fuzz/make-corpus.py writes the seeds):
//   bytes 0-1  stored width - 1 (taken modulo 4096)      bytes 2-3  stored height - 1 (modulo 4096)
//   byte  4    the encoding (index into `encodings`)     byte  5    display rotation: (b & 3) · 90° clockwise;
//                                                                   bit 2: packets without durations
//   byte  6    frames: 1 + b % 3                          bytes 7... pixel bytes, repeated to fill the planes
// The picture is capped at 2^18 pixels (the height shrinks): geometry, not size, is what is fuzzed.

import CFFmpeg
import Foundation

/// A codec, pixel format and container the generator can write.
private struct FuzzEncoding {
    let codec: String, pixelFormat: AVPixelFormat, container: String
    /// MOV carries the display matrix; NUT (raw frames of any pixel format) does not.
    var rotates: Bool { container == "mov" }
}

private let encodings: [FuzzEncoding] = [
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_YUV420P, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_YUVJ420P, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_YUV422P, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_YUV444P, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_YUV420P10LE, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_NV12, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_GRAY8, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_RGB24, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_RGBA, container: "nut"),
    FuzzEncoding(codec: "rawvideo", pixelFormat: AV_PIX_FMT_PAL8, container: "nut"),
    FuzzEncoding(codec: "ffv1", pixelFormat: AV_PIX_FMT_YUV420P, container: "mov"),
    FuzzEncoding(codec: "ffv1", pixelFormat: AV_PIX_FMT_YUV444P, container: "mov"),
    FuzzEncoding(codec: "ffv1", pixelFormat: AV_PIX_FMT_YUV420P10LE, container: "mov"),
    FuzzEncoding(codec: "ffv1", pixelFormat: AV_PIX_FMT_GRAY8, container: "mov"),
    FuzzEncoding(codec: "png", pixelFormat: AV_PIX_FMT_RGB24, container: "mov"),
    FuzzEncoding(codec: "png", pixelFormat: AV_PIX_FMT_RGBA, container: "mov"),
    FuzzEncoding(codec: "png", pixelFormat: AV_PIX_FMT_PAL8, container: "mov"),
    FuzzEncoding(codec: "mjpeg", pixelFormat: AV_PIX_FMT_YUVJ420P, container: "mov"),
    FuzzEncoding(codec: "mjpeg", pixelFormat: AV_PIX_FMT_YUVJ422P, container: "mov"),
    FuzzEncoding(codec: "mjpeg", pixelFormat: AV_PIX_FMT_YUVJ444P, container: "mov"),
]

/// What one input asks for.
private struct FuzzVideoSpec {
    let width: Int, height: Int, frames: Int
    let encoding: FuzzEncoding
    /// Degrees the display matrix turns the stored picture clockwise to show it upright, as a phone
    /// writes it (0 for containers without a display matrix).
    let clockwiseRotation: Int
    /// Packets written without a duration: MOV's edit list then ends at the last frame's start and
    /// hides that frame (the reader must say so), and a one-frame MOV hides its only packet, which
    /// some decoders still decode (the reader must not call that damage).
    let noDurations: Bool
    let payload: [UInt8]

    init?(_ data: Data) {
        let b = [UInt8](data)
        guard b.count >= 7 else { return nil }
        width = (Int(b[0]) | Int(b[1]) << 8) % 4096 + 1
        height = min((Int(b[2]) | Int(b[3]) << 8) % 4096 + 1, max(1, (1 << 18) / width))
        encoding = encodings[Int(b[4]) % encodings.count]
        clockwiseRotation = encoding.rotates ? Int(b[5] & 3) * 90 : 0
        noDurations = b[5] & 4 != 0
        frames = 1 + Int(b[6]) % 3
        payload = b.count > 7 ? Array(b[7...]) : [0x80, 0x10, 0xEB, 0x40]
    }
}

private let videoFile = (scratchFolder as NSString).appendingPathComponent("video")

func fuzzVideoGeometry(_ data: Data) {
    guard let spec = FuzzVideoSpec(data) else { return }
    let path = videoFile + "." + spec.encoding.container
    defer { unlink(path) }
    // An encoder that refuses a geometry (MJPEG, for one, has limits) is the generator's problem,
    // not a finding: only videos that were written are read.
    guard let written = writeVideo(spec, to: path) else {
        if verbose { print("not written: \(spec.width)x\(spec.height) \(spec.encoding)") }
        return
    }
    // MHFORMER_FUZZ_KEEP=FOLDER keeps the video made from the input, to look at with ffprobe.
    if let keep = ProcessInfo.processInfo.environment["MHFORMER_FUZZ_KEEP"] {
        try? FileManager.default.copyItem(atPath: path, toPath: (keep as NSString).appendingPathComponent("fuzz-\(UUID().uuidString).\(spec.encoding.container)"))
    }
    let sideways = spec.clockwiseRotation == 90 || spec.clockwiseRotation == 270
    let (uprightWidth, uprightHeight) = sideways ? (spec.height, spec.width) : (spec.width, spec.height)
    expectingMHFormerErrors {
        let reader = try VideoReader(path: path)
        invariant(reader.info.width == uprightWidth && reader.info.height == uprightHeight && reader.info.rotation == spec.clockwiseRotation,
                  "\(spec.encoding) \(spec.width)x\(spec.height) turned \(spec.clockwiseRotation)°: info says \(reader.info.width)x\(reader.info.height), \(reader.info.rotation)°")
        var delivered = 0
        let summary = try reader.forEachFrame { frame in
            invariant(frame.width == uprightWidth && frame.height == uprightHeight && frame.pixels.count == uprightWidth * uprightHeight * 3,
                      "frame \(frame.index): \(frame.width)x\(frame.height), \(frame.pixels.count) bytes; expected \(uprightWidth)x\(uprightHeight)")
            // Lossless RGB in, the same RGB out, turned upright as the display matrix says.
            if let source = written.rgb {
                var upright = source
                if spec.clockwiseRotation != 0 {
                    rotate(source, width: spec.width, height: spec.height, clockwise: spec.clockwiseRotation, into: &upright)
                }
                invariant(frame.pixels == upright, "frame \(frame.index): RGB differs from the RGB encoded (\(spec.encoding), turned \(spec.clockwiseRotation)°)")
            }
            checkCrops(RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels))
            delivered += 1
            return true
        }
        // Every frame written is delivered, or said to be dropped by the container, or is a sample the
        // index lists that the demuxer leaves out (a MOV edit list ending before a last sample of no
        // duration: ffmpeg shows it neither, and an intentionally trimmed file looks the same);
        // nothing else is damage.
        let leftOut = max(0, (reader.info.containerFrameCount ?? 0) - summary.packetsRead)
        invariant(delivered + summary.packetsDropped + leftOut == spec.frames && summary.hasProblems == (summary.packetsDropped > 0),
                  "\(delivered) of \(spec.frames) frames: \(summary)")
        if verbose { print("decoded: \(delivered) frames of \(uprightWidth)x\(uprightHeight), \(spec.encoding.codec)") }
    }
}

/// BlazePose's detector letterbox (zero border) and a rotated landmark ROI larger than the frame
/// (replicated border): the right sizes, and every value a weighted mean of the image's values.
private func checkCrops(_ image: RGBImage) {
    let hi = image.pixels.max() ?? 0, lo = image.pixels.min() ?? 0
    let W = Double(image.width), H = Double(image.height)
    let size = PoseDetectorSpec.inputSize
    let (rect, _) = padToAspect(PixelRect(cx: W / 2, cy: H / 2, width: W, height: H, rotation: 0), tensorWidth: size, tensorHeight: size)
    let detectorInput = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .zero)
    invariant(detectorInput.count == size * size * 3 && (detectorInput.max() ?? 0) <= hi, "detector crop of \(image.width)x\(image.height)")
    let side = max(W, H) * 1.25, landmarkSize = PoseLandmarkSpec.inputSize
    let roi = PixelRect(cx: W * 0.4, cy: H * 0.6, width: side, height: side, rotation: 0.4)
    let landmarkInput = cropRotatedRect(image, roi, tensorWidth: landmarkSize, tensorHeight: landmarkSize, border: .replicate)
    invariant(landmarkInput.count == landmarkSize * landmarkSize * 3 && (landmarkInput.max() ?? 0) <= hi && (landmarkInput.min() ?? 0) >= lo,
              "landmark crop of \(image.width)x\(image.height)")
}

/// A video `writeVideo` wrote.
private struct WrittenVideo {
    /// The packed RGB24 picture every frame holds, when the frames were encoded losslessly from
    /// RGB24 (raw or PNG): what must decode.
    let rgb: [UInt8]?
}

/// Encodes `spec.frames` identical frames into `path`. Nil when FFmpeg refuses (no such encoder, a
/// size the codec cannot take).
private func writeVideo(_ spec: FuzzVideoSpec, to path: String) -> WrittenVideo? {
    var format: UnsafeMutablePointer<AVFormatContext>?
    guard avformat_alloc_output_context2(&format, nil, spec.encoding.container, path) >= 0, let format else { return nil }
    var codec = avcodec_alloc_context3(nil)
    var frame = av_frame_alloc(), packet = av_packet_alloc()
    defer {
        av_frame_free(&frame); av_packet_free(&packet); avcodec_free_context(&codec)
        if format.pointee.pb != nil { avio_closep(&format.pointee.pb) }
        avformat_free_context(format)
    }
    guard let encoder = avcodec_find_encoder_by_name(spec.encoding.codec), let stream = avformat_new_stream(format, nil),
          let frame, let packet else { return nil }
    avcodec_free_context(&codec)
    codec = avcodec_alloc_context3(encoder)
    guard let ctx = codec else { return nil }
    ctx.pointee.width = Int32(spec.width)
    ctx.pointee.height = Int32(spec.height)
    ctx.pointee.pix_fmt = spec.encoding.pixelFormat
    ctx.pointee.time_base = AVRational(num: 1, den: 25)
    ctx.pointee.framerate = AVRational(num: 25, den: 1)
    if format.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 { ctx.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
    guard avcodec_open2(ctx, encoder, nil) >= 0, avcodec_parameters_from_context(stream.pointee.codecpar, ctx) >= 0 else { return nil }
    stream.pointee.time_base = ctx.pointee.time_base
    if spec.clockwiseRotation != 0 { guard cff_stream_set_rotation(stream, Double(spec.clockwiseRotation)) >= 0 else { return nil } }
    guard avio_open(&format.pointee.pb, "file:" + path, AVIO_FLAG_WRITE) >= 0, avformat_write_header(format, nil) >= 0 else { return nil }

    frame.pointee.format = spec.encoding.pixelFormat.rawValue
    frame.pointee.width = Int32(spec.width)
    frame.pointee.height = Int32(spec.height)
    guard av_frame_get_buffer(frame, 0) >= 0 else { return nil }
    var rgb: [UInt8]?
    func drain() -> Bool {
        while true {
            let r = avcodec_receive_packet(ctx, packet)
            if r == cff_averror_eagain() || r == cff_averror_eof() { return true }
            guard r >= 0 else { return false }
            if packet.pointee.duration == 0 && !spec.noDurations { packet.pointee.duration = 1 }
            av_packet_rescale_ts(packet, ctx.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            guard av_interleaved_write_frame(format, packet) >= 0 else { return false }
        }
    }
    for index in 0..<spec.frames {
        guard av_frame_make_writable(frame) >= 0 else { return nil }
        // Every plane's visible bytes (and PAL8's palette) from the payload, the same in every frame.
        var next = 0
        for plane in 0..<4 {
            guard let base = cff_frame_plane(frame, Int32(plane)) else { break }
            let isPalette = spec.encoding.pixelFormat == AV_PIX_FMT_PAL8 && plane == 1
            let rowBytes = isPalette ? 1024 : Int(av_image_get_linesize(spec.encoding.pixelFormat, Int32(spec.width), Int32(plane)))
            let rows = isPalette ? 1 : Int(cff_plane_height(spec.encoding.pixelFormat, Int32(spec.height), Int32(plane)))
            let stride = Int(cff_frame_linesize(frame, Int32(plane)))
            for row in 0..<rows {
                for x in 0..<rowBytes {
                    base[row * stride + x] = spec.payload[next % spec.payload.count]
                    next += 1
                }
            }
            if plane == 0, index == 0, spec.encoding.pixelFormat == AV_PIX_FMT_RGB24 {
                rgb = (0..<rows).flatMap { row in (0..<rowBytes).map { base[row * stride + $0] } }
            }
        }
        frame.pointee.pts = Int64(index)
        guard avcodec_send_frame(ctx, frame) >= 0, drain() else { return nil }
    }
    guard avcodec_send_frame(ctx, nil) >= 0, drain(), av_write_trailer(format) >= 0 else { return nil }
    return WrittenVideo(rgb: rgb)
}
