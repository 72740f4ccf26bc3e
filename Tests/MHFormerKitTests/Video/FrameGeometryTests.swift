// The frame-geometry matrix: the frame shapes, rotations, pixel formats and codecs people film and
// export go through the whole video path (VideoReader, the RGB conversion, BlazePose's detector
// letterbox and landmark crop) and through `mhformer run`. The reference for every frame is ffmpeg's
// own `-pix_fmt rgb24` of the same file (same libraries, auto-rotated).
//
// Why: swscale's SIMD converters write whole vectors; converting into tightly packed rows overran
// the heap for widths 8 more than a multiple of 16 (1080x1920 portrait, 1080x1080 square, 1000, 360,
// 40, ...) and for some padded ones (33-39), and the process aborted with no message (see
// RGBConverter.swift). Nothing decoded frames of many shapes then.
//
// MHFORMER_GEOMETRY=full also runs `mhformer run` on every clip of the width sweep (a few minutes);
// by default it runs on a sample of it. MHFORMER_GEOMETRY=short sweeps that sample's widths alone
// (CI's AddressSanitizer run). Scripts/video-asan.sh runs this suite under AddressSanitizer.

import Foundation
import Testing
@testable import MHFormerKit

/// Clips of exact sizes, rotations, pixel formats and codecs for the matrix.
enum GeometryClips {
    /// A YUV4MPEG2 file of raw yuv420p frames, any size down to 1x1 (no encoder rounds it), holding
    /// deterministic noise: each byte differs from its neighbours, so a column or row converted from
    /// the wrong place shows, and values outside the video range exercise clamping.
    static func y4m(width: Int, height: Int, frames: Int, to path: String) throws {
        var data = Data("YUV4MPEG2 W\(width) H\(height) F25:1 Ip A1:1 C420jpeg\n".utf8)
        var random = SplitMix64(seed: UInt64(width * 100_003 + height))
        let bytesPerFrame = width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
        for _ in 0..<frames {
            data.append(Data("FRAME\n".utf8))
            data.append(contentsOf: (0..<bytesPerFrame).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// ffmpeg's moving test picture scaled to exactly `width` x `height` (square pixels), encoded
    /// with `encoder`; with `rotate`, the stream is then copied with ffmpeg's `rotate` tag (a display
    /// matrix, as phones write).
    @discardableResult
    static func pattern(_ path: String, width: Int, height: Int, frames: Int, encoder: [String], rotate: Int = 0,
                        in dir: ClipDir) throws -> String {
        let encoded = rotate == 0 ? path : dir.path("unrotated-" + (path as NSString).lastPathComponent)
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=\((width + 1) / 2 * 2 + 2)x\((height + 1) / 2 * 2 + 2):rate=25",
                           "-vf", "scale=\(width):\(height),setsar=1", "-frames:v", "\(frames)"] + encoder + [encoded])
        if rotate != 0 {
            try FFmpegCLI.run(["-i", encoded, "-c", "copy", "-metadata:s:v:0", "rotate=\(rotate)", path])
        }
        return path
    }
}

extension FFmpegCLI {
    /// Every frame of each clip as the ffmpeg command line decodes it (auto-rotated), packed RGB24,
    /// from one ffmpeg process for all the clips; frames passed through as decoded (no rate change).
    static func rgb24(_ clips: [String], in dir: ClipDir) throws -> [[UInt8]] {
        var args: [String] = []
        for clip in clips { args += ["-i", clip] }
        let outputs = clips.indices.map { dir.path("reference-\($0).rgb") }
        for (i, output) in outputs.enumerated() {
            args += ["-map", "\(i):v:0", "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", output]
        }
        try run(args)
        return try outputs.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
    }
}

/// One clip of the matrix and what it must decode to.
struct GeometryCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Upright size of the decoded frames.
    let width: Int, height: Int
    let frames: Int
    /// Encoder options (after `-frames:v`), the file's extension, and a display rotation.
    let encoder: [String]
    let container: String
    var rotate = 0
    /// Largest difference from ffmpeg's RGB24 allowed in any byte. 0 where our conversion runs the
    /// same swscale path on the same picture; 1 for rotated YUV clips (the command line turns the
    /// YUV planes before converting, we turn the RGB after, so chroma is interpolated at other places).
    var tolerance = 0
    /// The encoder this case needs, from `ffmpeg -encoders` (nil: always there).
    var needs: String? = nil
    var testDescription: String { name }

    /// The turn that shows the stored picture upright: ffmpeg's `rotate` tag writes a display matrix
    /// that turns the picture `rotate` degrees counter-clockwise (ffprobe: "rotation=90").
    var clockwiseRotation: Int { (360 - rotate) % 360 }
    var storedWidth: Int { rotate == 90 || rotate == 270 ? height : width }
    var storedHeight: Int { rotate == 90 || rotate == 270 ? width : height }

    static let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
}

/// What this ffmpeg can encode (`ffmpeg -encoders`), to skip codecs a build lacks, saying so.
enum FFmpegEncoders {
    static let names: Set<String> = {
        guard let path = FFmpegCLI.path, let r = try? run(path, ["-hide_banner", "-encoders"]) else { return [] }
        return Set(r.stdout.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count >= 2 && words[0].count == 6 ? String(words[1]) : nil
        })
    }()
}

@Suite("Frame geometry matrix", .enabled(if: FFmpegCLI.available, "ffmpeg is not on PATH: the video tests need it to make their clips"))
struct FrameGeometryTests {
    // MARK: - The width sweep (raw yuv420p: the format and path that overran)

    static let sweepWidths = mode == "short" ? runWidths.sorted() : Array(1...64) + Array(1000...1100)
    static var mode: String? { ProcessInfo.processInfo.environment["MHFORMER_GEOMETRY"] }
    /// Heights 1, 2, 3 and an odd and an even one.
    static let sweepHeights = [1, 2, 3, 17, 18]
    /// Where `mhformer run` goes over the sweep by default (every clip with MHFORMER_GEOMETRY=full):
    /// the smallest widths, both sides of 8 and 16, the widths that overran (40, 1000, 1080, 1096),
    /// and the ends.
    static let runWidths: Set<Int> = [1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 36, 40, 56, 64, 1000, 1001, 1080, 1096, 1100]
    static var runEverySweepClip: Bool { mode == "full" }

    /// Every width 1...64 and 1000...1100, each at heights 1, 2, 3, 17 and 18, two frames each: every
    /// frame decodes, has the right size and ffmpeg's exact bytes, and BlazePose's crops of it are sound.
    @Test("every width 1...64 and 1000...1100 at heights 1, 2, 3, 17, 18 decodes to ffmpeg's pixels", arguments: sweepWidths)
    func widthSweep(width: Int) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clips = try Self.sweepHeights.map { height -> String in
            let clip = dir.path("w\(width)h\(height).y4m")
            try GeometryClips.y4m(width: width, height: height, frames: 2, to: clip)
            return clip
        }
        let references = try FFmpegCLI.rgb24(clips, in: dir)
        for (clip, (height, reference)) in zip(clips, zip(Self.sweepHeights, references)) {
            try expectFrames(of: clip, width: width, height: height, count: 2, reference: reference, tolerance: 0)
            if Self.runEverySweepClip || (Self.runWidths.contains(width) && [1, 18].contains(height)) {
                try expectRunEndsCleanly(clip, in: dir)
            }
        }
    }

    // MARK: - Sizes, rotations, pixel formats, codecs

    static let sizeCases = [
        GeometryCase(name: "1080x1920 portrait h264", width: 1080, height: 1920, frames: 2, encoder: GeometryCase.x264, container: "mp4"),
        GeometryCase(name: "1080x1080 square h264", width: 1080, height: 1080, frames: 2, encoder: GeometryCase.x264, container: "mp4"),
        GeometryCase(name: "1920x1080 h264", width: 1920, height: 1080, frames: 2, encoder: GeometryCase.x264, container: "mp4"),
        GeometryCase(name: "3840x2160 h264", width: 3840, height: 2160, frames: 2, encoder: GeometryCase.x264, container: "mp4"),
        GeometryCase(name: "2160x3840 h264", width: 2160, height: 3840, frames: 2, encoder: GeometryCase.x264, container: "mp4"),
        GeometryCase(name: "7680x4320 h264, one frame", width: 7680, height: 4320, frames: 1, encoder: GeometryCase.x264, container: "mp4"),
    ]

    /// Rotation metadata on an odd width (PNG in MOV: any size) and on widths 8 more than a
    /// multiple of 16 (H.264 yuv420p), upright sizes swapped for 90 and 270.
    static let rotationCases: [GeometryCase] = [90, 180, 270].flatMap { degrees -> [GeometryCase] in
        let sideways = degrees != 180
        return [
            GeometryCase(name: "333x251 PNG in MOV, rotate=\(degrees)", width: sideways ? 251 : 333, height: sideways ? 333 : 251,
                         frames: 3, encoder: ["-c:v", "png"], container: "mov", rotate: degrees),
            GeometryCase(name: "1080x608 h264, rotate=\(degrees)", width: sideways ? 608 : 1080, height: sideways ? 1080 : 608,
                         frames: 3, encoder: GeometryCase.x264, container: "mp4", rotate: degrees, tolerance: 1),
            GeometryCase(name: "360x200 h264, rotate=\(degrees)", width: sideways ? 200 : 360, height: sideways ? 360 : 200,
                         frames: 3, encoder: GeometryCase.x264, container: "mp4", rotate: degrees, tolerance: 1),
        ]
    }

    /// Raw frames of each pixel format (NUT holds any of them), at an odd size.
    static let pixelFormatCases = ["yuv420p", "yuvj420p", "yuv422p", "yuv444p", "yuv420p10le", "nv12", "gray", "rgb24", "rgba", "pal8"].map {
        GeometryCase(name: "\($0) 1001x563 raw", width: 1001, height: 563, frames: 3, encoder: ["-c:v", "rawvideo", "-pix_fmt", $0], container: "nut")
    }

    /// The codecs phones, cameras, editors and the web write, at a portrait size 8 more than a
    /// multiple of 16 wide (an odd size where the codec allows one).
    static let codecCases = [
        GeometryCase(name: "h264 360x640", width: 360, height: 640, frames: 4, encoder: GeometryCase.x264, container: "mp4", needs: "libx264"),
        GeometryCase(name: "hevc 10-bit 360x640", width: 360, height: 640, frames: 4,
                     encoder: ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error"],
                     container: "mp4", needs: "libx265"),
        GeometryCase(name: "vp9 360x640", width: 360, height: 640, frames: 4,
                     encoder: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "300k"], container: "webm", needs: "libvpx-vp9"),
        GeometryCase(name: "av1 360x640", width: 360, height: 640, frames: 4,
                     encoder: ["-c:v", "libaom-av1", "-cpu-used", "8", "-b:v", "300k"], container: "mkv", needs: "libaom-av1"),
        GeometryCase(name: "mjpeg 333x251", width: 333, height: 251, frames: 4, encoder: ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", "3"], container: "avi"),
        GeometryCase(name: "prores 360x640", width: 360, height: 640, frames: 4, encoder: ["-c:v", "prores_ks"], container: "mov"),
        GeometryCase(name: "ffv1 333x251", width: 333, height: 251, frames: 4, encoder: ["-c:v", "ffv1", "-pix_fmt", "yuv420p"], container: "mkv"),
        GeometryCase(name: "png in mov 333x251", width: 333, height: 251, frames: 4, encoder: ["-c:v", "png"], container: "mov"),
        GeometryCase(name: "gif 333x251", width: 333, height: 251, frames: 4, encoder: ["-c:v", "gif"], container: "gif"),
    ]

    static let allCases = sizeCases + rotationCases + pixelFormatCases + codecCases

    /// Every frame decodes upright at the right size with ffmpeg's colours (within the case's
    /// tolerance); BlazePose's crops are sound; `mhformer run` exits 0 or with a one-line error.
    @Test("sizes, rotations, pixel formats and codecs decode to ffmpeg's pixels", arguments: allCases)
    func geometryCase(_ c: GeometryCase) throws {
        if let encoder = c.needs, !FFmpegEncoders.names.contains(encoder) {
            print("skipped \(c.name): this ffmpeg has no \(encoder) encoder")
            return
        }
        let dir = ClipDir(); defer { dir.remove() }
        let clip = try GeometryClips.pattern(dir.path("clip.\(c.container)"), width: c.storedWidth, height: c.storedHeight,
                                             frames: c.frames, encoder: c.encoder, rotate: c.rotate, in: dir)
        let reader = try VideoReader(path: clip)
        #expect(reader.info.rotation == c.clockwiseRotation && reader.info.width == c.width && reader.info.height == c.height,
                "\(reader.info)")
        let reference = try FFmpegCLI.rgb24([clip], in: dir)[0]
        try expectFrames(of: clip, width: c.width, height: c.height, count: c.frames, reference: reference, tolerance: c.tolerance)
        try expectRunEndsCleanly(clip, in: dir)
    }

    // MARK: - Checks

    /// Decodes `clip`: `count` frames of `width` x `height`, each within `tolerance` of ffmpeg's bytes,
    /// and BlazePose's detector letterbox and landmark crop of each are sound.
    private func expectFrames(of clip: String, width: Int, height: Int, count: Int, reference: [UInt8], tolerance: Int) throws {
        let name = (clip as NSString).lastPathComponent
        let frameBytes = width * height * 3
        #expect(reference.count == count * frameBytes, "\(name): ffmpeg gave \(reference.count) bytes, not \(count) frames of \(width)x\(height)")
        var delivered = 0
        let summary = try VideoReader(path: clip).forEachFrame { frame in
            defer { delivered += 1 }
            guard frame.width == width && frame.height == height && frame.pixels.count == frameBytes else {
                Issue.record("\(name) frame \(frame.index): \(frame.width)x\(frame.height), \(frame.pixels.count) bytes; expected \(width)x\(height)")
                return true
            }
            if reference.count >= (frame.index + 1) * frameBytes {
                let expected = Array(reference[(frame.index * frameBytes)..<((frame.index + 1) * frameBytes)])
                let diff = maxByteDiff(frame.pixels, expected)
                #expect(diff <= tolerance, "\(name) frame \(frame.index): bytes differ from ffmpeg's by up to \(diff)")
            }
            if frame.index == 0 {
                expectSoundCrops(RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels), name: "\(name) frame 0")
            }
            return true
        }
        #expect(delivered == count && summary.framesDecoded == count && !summary.hasProblems, "\(name): \(summary)")
    }

    /// The smallest and largest value of each channel (R, G, B) of packed RGB bytes.
    private func channelRange(_ bytes: [UInt8]) -> (lo: [UInt8], hi: [UInt8]) {
        var lo: [UInt8] = [255, 255, 255], hi: [UInt8] = [0, 0, 0]
        bytes.withUnsafeBufferPointer { b in
            for i in stride(from: 0, to: b.count, by: 3) {
                for c in 0..<3 { lo[c] = min(lo[c], b[i + c]); hi[c] = max(hi[c], b[i + c]) }
            }
        }
        return (lo, hi)
    }

    /// BlazePose's two crops of a frame, checked against what bilinear sampling can give: the
    /// detector's letterboxed whole frame (zero border) and a rotated landmark ROI larger than the
    /// frame (edge pixels replicated). Every value is a weighted mean of image pixels (and, for the
    /// zero border, of zeros), so no channel goes above the image's largest value in it, and with
    /// replication none goes below its smallest; where the letterbox band lies wholly outside the
    /// image (more than a pixel away), the detector's input is 0.
    private func expectSoundCrops(_ image: RGBImage, name: String) {
        let (lo, hi) = channelRange(image.pixels)
        let W = Double(image.width), H = Double(image.height)
        let size = PoseDetectorSpec.inputSize
        let whole = PixelRect(cx: W / 2, cy: H / 2, width: W, height: H, rotation: 0)
        let (rect, letterbox) = padToAspect(whole, tensorWidth: size, tensorHeight: size)
        let detectorInput = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .zero)
        #expect(detectorInput.count == size * size * 3)
        let detectorRange = channelRange(detectorInput)
        #expect((0..<3).allSatisfy { detectorRange.hi[$0] <= hi[$0] }, "\(name): detector input \(detectorRange) brighter than the image \((lo, hi))")
        // The first tensor row samples y = H/2 - rect.height/2; below -1 it has no tap in the image.
        if letterbox.top > 0, H / 2 - rect.height / 2 < -1 {
            #expect(detectorInput[0..<(size * 3)].allSatisfy { $0 == 0 }, "\(name): letterbox band not zero")
        }
        if letterbox.left > 0, W / 2 - rect.width / 2 < -1 {
            #expect(stride(from: 0, to: size * size * 3, by: size * 3).allSatisfy { detectorInput[$0] == 0 }, "\(name): letterbox band not zero")
        }
        let landmarkSize = PoseLandmarkSpec.inputSize
        let side = max(W, H) * 1.25
        let roi = PixelRect(cx: W * 0.4, cy: H * 0.6, width: side, height: side, rotation: 0.4)
        let landmarkInput = cropRotatedRect(image, roi, tensorWidth: landmarkSize, tensorHeight: landmarkSize, border: .replicate)
        #expect(landmarkInput.count == landmarkSize * landmarkSize * 3)
        let landmarkRange = channelRange(landmarkInput)
        #expect((0..<3).allSatisfy { landmarkRange.lo[$0] >= lo[$0] && landmarkRange.hi[$0] <= hi[$0] },
                "\(name): landmark crop \(landmarkRange) outside the image's range of values \((lo, hi))")
    }

    /// `mhformer run CLIP`: exit 0, or exit 1 with one line `error: CLIP: ...`; never a signal.
    private func expectRunEndsCleanly(_ clip: String, in dir: ClipDir) throws {
        guard BlazePoseFiles.available, let weights = DefaultWeights.find() else { return }
        let out = dir.path("out-\(UUID().uuidString).csv")
        let r = try run(Paths.tool, ["run", clip, "-o", out, "--weights", weights])
        let name = (clip as NSString).lastPathComponent
        #expect(!r.signaled, "\(name): mhformer run died with signal \(r.status): \(r.stderr)")
        if r.status != 0 {
            let lines = r.stderr.split(separator: "\n")
            #expect(r.status == 1 && lines.count == 1 && lines[0].hasPrefix("error: \(clip): "), "\(name): exit \(r.status): \(r.stderr)")
        }
    }
}

/// The issue's report, as a user would meet it: a portrait phone clip made with ffmpeg's test
/// source aborted `mhformer run` (exit 134, no message); and portrait, square and sideways-stored
/// clips of a real person give the same 2D as the landscape original.
@Suite("Portrait and square video end to end", .enabled(if: FFmpegCLI.available && SampleVideo.ready, BlazePoseFiles.skipReason))
struct PortraitVideoTests {
    @Test("the report: a 1080x1920 portrait test pattern ends with a one-line error, not a crash")
    func portraitTestPattern() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let clip = dir.path("p.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc=size=1080x1920:rate=30", "-t", "0.5", "-pix_fmt", "yuv420p", clip])
        let weights = try #require(DefaultWeights.find())
        let r = try run(Paths.tool, ["run", clip, "-o", dir.path("p.csv"), "--weights", weights])
        #expect(!r.signaled && r.status == 1, "exit \(r.status), signal \(r.signaled): \(r.stderr)")
        #expect(r.stderr == "error: \(clip): no person found in any of the 15 frames\n", "\(r.stderr)")
    }

    /// The sample walk (640x480) scaled by 1.6875 into a 1080x1920 portrait frame (padded above and
    /// below), into a 1080x1080 square (padded likewise), and the portrait stored sideways with
    /// a 90° display rotation as phones record it. BlazePose's 2D on each, mapped back to the
    /// original's pixels, agrees with its 2D on the original.
    @Test("portrait, square and rotated copies of the sample walk give the original's 2D", arguments: ["portrait", "square", "rotated"])
    func samplePortrait(kind: String) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(DefaultWeights.find())
        let scale = 1080.0 / 640, scaledHeight = 810.0
        let (filter, dx, dy): (String, Double, Double)
        switch kind {
        case "square": (filter, dx, dy) = ("scale=1080:810,pad=1080:1080:0:135", 0, 135)
        default: (filter, dx, dy) = ("scale=1080:810,pad=1080:1920:0:555", 0, (1920 - scaledHeight) / 2)
        }
        let clip = dir.path("\(kind).mp4")
        // 2 s of the walk; "rotated" is stored turned a quarter clockwise (1920x1080) and tagged to
        // be shown turned a quarter counter-clockwise (ffmpeg's rotate=90), upright again.
        let vf = kind == "rotated" ? filter + ",transpose=clock" : filter
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-t", "2", "-vf", vf, "-c:v", "libx264", "-preset", "veryfast",
                           "-pix_fmt", "yuv420p", kind == "rotated" ? dir.path("stored.mp4") : clip])
        if kind == "rotated" {
            try FFmpegCLI.run(["-i", dir.path("stored.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", clip])
        }
        let original = dir.path("original.mp4")
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", original])
        if kind == "rotated" { #expect(try VideoReader(path: clip).info.rotation == 270) }

        func keypoints(_ video: String) throws -> Keypoints2D {
            let out2D = dir.path(((video as NSString).lastPathComponent as NSString).deletingPathExtension + "_2d.csv")
            let r = try run(Paths.tool, ["run", video, "-o", dir.path("o.csv"), "--keypoints-2d", out2D, "--weights", weights])
            #expect(r.status == 0 && !r.signaled, "\(video): \(r.stderr)")
            return try Keypoints2DCSV.read(path: out2D)
        }
        let reference = try keypoints(original), copy = try keypoints(clip)
        #expect(copy.width == 1080 && copy.height == (kind == "square" ? 1080 : 1920))
        #expect(copy.count == 50 && reference.count == 50)
        // Joint errors in the original's pixels, over frames where both found the person.
        var errors: [Double] = []
        for f in 0..<min(copy.count, reference.count) where copy.present[f] && reference.present[f] {
            for j in 0..<17 {
                let x = (Double(copy.points[f * 34 + 2 * j]) - dx) / scale, y = (Double(copy.points[f * 34 + 2 * j + 1]) - dy) / scale
                errors.append(hypot(x - Double(reference.points[f * 34 + 2 * j]), y - Double(reference.points[f * 34 + 2 * j + 1])))
            }
        }
        #expect(errors.count >= 45 * 17, "\(kind): the person found in \(errors.count / 17) of 50 frames")
        let median = errors.sorted()[errors.count / 2]
        #expect(median < 3, "\(kind): median 2D difference \(median) px from the original's")
    }
}
