// BlazePose against MediaPipe's own Python solution (mediapipe 0.10.14, mp.solutions.pose, model
// complexity 1, video mode) on close-ups: the person larger than the frame, so BlazePose's region of
// interest reaches far outside the image (up to 3x the frame) and the landmark crop is mostly the
// image's replicated edge pixels.
//
// 1. ../shared/videos/closeups/: two single 900x540 frames of figure skating, face and hands filling
//    the frame, with MediaPipe's output (closeup_N_mediapipe.npz).
// 2. A clip of our own cut from ../shared/videos/skater.mp4 (53 frames, 500x282: two close-up windows and
//    a small, blurry stretch), remade by ffmpeg from Tests/Fixtures/closeup/skater_closeup.filter (the
//    footage is third-party and never committed), with MediaPipe's outputs stage by stage in
//    Tests/Fixtures/closeup/skater_closeup_mediapipe.npz (Scripts/fixtures/make-closeup-reference.py).
// 3. ../shared/videos/closeups/track_0_15.mkv: 16 close-up frames in video mode, with MediaPipe's stages
//    and its own frame-to-frame reproducibility in Tests/Fixtures/closeup/track_0_15_stages.npz
//    (Scripts/fixtures/make-track-reference.py).
//
// Frames are decoded by VideoReader, as `mhformer run` decodes them. That is where these close-ups went
// wrong (102 and 149 px from MediaPipe were reported, 76 and 82 px measured with `mhformer run`): frames
// whose width is not a multiple of 8 came out with black last columns (VideoWidthTests.swift), and the
// landmark crop replicated that black edge over everything right of the frame.
//
// Video mode feeds each frame's landmarks back into the next frame's ROI, and on these crops that loop
// magnifies differences in the 5th digit: MediaPipe against itself, with one grey level changed in one
// pixel per frame, disagrees on whether a person is present on 3 of the 53 frames and its worst frame
// moves 27 px. So the free-running comparison has a clip-wide bound, and each stage is also checked
// alone, from MediaPipe's own inputs to that stage, where agreement is exact to a few hundredths of a pixel.

import Foundation
import Testing
@testable import MHFormerKit

/// Every frame of `url` as VideoReader decodes it.
private func decodeFrames(_ url: URL) throws -> [RGBImage] {
    var frames: [RGBImage] = []
    _ = try VideoReader(path: url.path).forEachFrame { f in
        frames.append(RGBImage(width: f.width, height: f.height, pixels: f.pixels))
        return true
    }
    return frames
}

/// The joints of reference frame `f` of `ref` ([N, 33, 3]: x, y in pixels, visibility) that it calls
/// visible (> 0.5) and places inside the W x H frame: the joints every comparison here counts.
private func visibleJoints(_ ref: NpyArray, frame f: Int, width W: Int, height H: Int) -> [Int] {
    (0..<33).filter { j in
        let rx = ref.values[(f * 33 + j) * 3], ry = ref.values[(f * 33 + j) * 3 + 1], vis = ref.values[(f * 33 + j) * 3 + 2]
        return vis > 0.5 && rx >= 0 && rx <= Float(W) && ry >= 0 && ry <= Float(H)
    }
}

/// Pixel distances between `landmarks` (normalized) and reference frame `f` of `ref`, over its visible joints.
private func visibleErrors(_ landmarks: [PoseLandmark], _ ref: NpyArray, frame f: Int, width W: Int, height H: Int) -> [Float] {
    visibleJoints(ref, frame: f, width: W, height: H).map { j in
        let dx = landmarks[j].x * Float(W) - ref.values[(f * 33 + j) * 3], dy = landmarks[j].y * Float(H) - ref.values[(f * 33 + j) * 3 + 1]
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// The largest difference of two rects' centres and sizes in pixels of a W x H image (`b`: x, y, w, h, rotation).
private func rectPixelDistance(_ a: NormalizedRect, _ b: [Float], width W: Int, height H: Int) -> Float {
    max(abs(a.xCenter - b[0]) * Float(W), abs(a.yCenter - b[1]) * Float(H),
        abs(a.width - b[2]) * Float(W), abs(a.height - b[3]) * Float(H))
}

private func median(_ v: [Float]) -> Float {
    let s = v.sorted()
    return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

private func fmt(_ x: Float, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

// MARK: - 1. The two shared close-up frames

enum SharedCloseups {
    static let folder = Paths.shared.appendingPathComponent("videos/closeups")
    static var available: Bool {
        BlazePoseFiles.available && FFmpegCLI.available
            && FileManager.default.fileExists(atPath: folder.appendingPathComponent("closeup_0_mediapipe.npz").path)
    }
}

@Suite("BlazePose close-ups vs MediaPipe")
struct CloseupParityTests {
    /// closeup_0: ROI centre 1.8 frame heights down, 3.1 x 5.2 frames large; closeup_200 likewise.
    @Test("a close-up frame decoded as mhformer run decodes it: the landmarks MediaPipe sees as visible within 1 px",
          .enabled(if: SharedCloseups.available, "needs ../shared/videos/closeups, the ffmpeg CLI and Models/blazepose"),
          arguments: ["closeup_0", "closeup_200"])
    func sharedFrame(name: String) throws {
        let video = SharedCloseups.folder.appendingPathComponent("\(name).mkv")
        let ref = try #require(try Npy.readArchive(SharedCloseups.folder.appendingPathComponent("\(name)_mediapipe.npz"))["landmarks_px"])
        // One video frame (closeup_200's sits at 8 s beside 8 s of audio: `ffmpeg -f rawvideo` would
        // repeat it 201 times from 0 s; OpenCV and VideoReader give it once, as MediaPipe saw it).
        let frames = try decodeFrames(video)
        #expect(frames.count == 1)
        let image = try #require(frames.first)
        #expect(image.width == 900 && image.height == 540)
        // the pixels MediaPipe saw (OpenCV's decoding is the ffmpeg CLI's, byte for byte)
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(maxByteDiff(image.pixels, try FFmpegCLI.referenceRGB(video.path, frame: 0, in: dir)) == 0)

        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let tracked = try #require(try BlazePoseTracker(pose: pose).process(image))
        let still = try #require(try pose.processStatic(image))
        let videoErrors = visibleErrors(tracked.landmarks, ref, frame: 0, width: 900, height: 540)
        let staticErrors = visibleErrors(still.landmarks, ref, frame: 0, width: 900, height: 540)
        print("\(name): ROI \(tracked.roi); \(videoErrors.count) visible joints inside the frame: video mode median \(fmt(median(videoErrors), 3)) px, max \(fmt(videoErrors.max() ?? 0, 3)) px; static median \(fmt(median(staticErrors), 3)) px")
        // Measured: median 0.003 px (closeup_0) and 0.039 px (closeup_200), max 0.07 and 0.38 px; with the
        // black-edged frames 8.5 and 3.7 px, max 88 and 309 px.
        #expect(videoErrors.count >= 15)             // 19 and 20
        #expect(median(videoErrors) <= 1 && (videoErrors.max() ?? .infinity) <= 2)
        #expect(median(staticErrors) <= 1)
    }
}

// MARK: - 2. Our own close-up clip cut from skater.mp4

/// The clip, made again from skater.mp4 with the committed filter graph, and MediaPipe's reference.
enum OwnCloseupClip {
    static let fixtures = Paths.repo.appendingPathComponent("Tests/Fixtures/closeup")
    static let filter = fixtures.appendingPathComponent("skater_closeup.filter")
    static let skater = Paths.shared.appendingPathComponent("videos/skater.mp4")
    static let ref: [String: NpyArray] = (try? Npy.readArchive(fixtures.appendingPathComponent("skater_closeup_mediapipe.npz"))) ?? [:]
    static let width = 500, height = 282, frameCount = 53

    /// The clip's frames decoded by VideoReader, and the ffmpeg CLI's decoding of the same file; nil
    /// (with the reason printed) when the clip cannot be made or ffmpeg makes other pixels than the
    /// reference was made on.
    static let frames: (reader: [RGBImage], cli: [[UInt8]])? = {
        guard BlazePoseFiles.available, FFmpegCLI.available, FileManager.default.fileExists(atPath: skater.path), !ref.isEmpty else {
            return nil
        }
        do {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let clip = dir.appendingPathComponent("clip.mkv").path, raw = dir.appendingPathComponent("clip.rgb").path
            // the arguments of make-closeup-reference.py's clip_args (-hide_banner etc. added by run)
            try FFmpegCLI.run(["-i", skater.path, "-filter_complex_script", filter.path, "-map", "[out]",
                               "-sws_flags", "bicubic+accurate_rnd+bitexact", "-c:v", "ffv1", clip])
            try FFmpegCLI.run(["-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
            let size = width * height * 3
            let cli = stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
            guard cli.count == frameCount, cli.map(checksums) == referenceChecksums else {
                print("OwnCloseupClip: this ffmpeg makes a clip other than the one the reference was made on (\(cli.count) frames); remake it with Scripts/fixtures/make-closeup-reference.py")
                return nil
            }
            return (try decodeFrames(URL(fileURLWithPath: clip)), cli)
        } catch {
            print("OwnCloseupClip: \(error)")
            return nil
        }
    }()
    static var ready: Bool { frames != nil }
    static let skipReason: Comment = "needs ../shared/videos/skater.mp4, the ffmpeg CLI, Models/blazepose and an ffmpeg that remakes the reference's clip"

    /// make-closeup-reference.py's checksums of one frame's bytes b_k: Σ b_k and Σ (k + 1)·b_k, mod a prime below 2^24.
    static func checksums(_ bytes: [UInt8]) -> [Int] {
        let p = 16_777_213
        var plain = 0, weighted = 0
        for (k, b) in bytes.enumerated() {
            plain += Int(b)
            weighted = (weighted + (k + 1) * Int(b) % p) % p
        }
        return [plain % p, weighted]
    }
    static var referenceChecksums: [[Int]] {
        let c = ref["frame_checksums"]!.values.map { Int($0) }
        return stride(from: 0, to: c.count, by: 2).map { [c[$0], c[$0 + 1]] }
    }

    static func array(_ key: String) throws -> NpyArray { try #require(ref[key], "skater_closeup_mediapipe.npz has no \(key)") }
    /// Row `f` of a per-frame array, `n` values wide.
    static func row(_ a: NpyArray, _ f: Int, _ n: Int) -> [Float] { Array(a.values[(f * n)..<(f * n + n)]) }
    static func rect(_ v: [Float]) -> NormalizedRect { NormalizedRect(xCenter: v[0], yCenter: v[1], width: v[2], height: v[3], rotation: v[4]) }
    static func pixelDistance(_ a: NormalizedRect, _ b: [Float]) -> Float { rectPixelDistance(a, b, width: width, height: height) }
}

@Suite("BlazePose on a close-up clip vs MediaPipe", .enabled(if: OwnCloseupClip.ready, OwnCloseupClip.skipReason))
struct CloseupClipTests {
    typealias Clip = OwnCloseupClip

    @Test("VideoReader decodes the 500-px-wide clip to the pixels MediaPipe saw")
    func decoding() throws {
        let (reader, cli) = try #require(Clip.frames)
        #expect(reader.count == Clip.frameCount)
        // before the odd-width fix every frame's last 4 columns were black
        let differing = zip(reader, cli).filter { $0.0.pixels != $0.1 }.count
        #expect(differing == 0, "\(differing) frames differ from the ffmpeg CLI's")
    }

    /// Video mode end to end, as `mhformer run` runs it.
    @Test("video mode: same frames with a person, landmarks within 1 px (median over the visible joints)")
    func videoMode() throws {
        let frames = try #require(Clip.frames).reader
        let ref = try Clip.array("landmarks_px"), found = try Clip.array("found"), ranDetector = try Clip.array("ran_detector")
        let tracker = BlazePoseTracker(pose: try BlazePose(modelDirectory: BlazePoseFiles.models.path))
        var agree = 0, detectorAgree = 0, all: [Float] = [], perFrame: [String] = []
        for (f, image) in frames.enumerated() {
            let out = try tracker.process(image)
            if (out != nil) == (found.values[f] == 1) { agree += 1 }
            if tracker.lastFrameUsedDetector == (ranDetector.values[f] == 1) { detectorAgree += 1 }
            guard let out, found.values[f] == 1 else { perFrame.append(out == nil && found.values[f] == 0 ? "-" : "x"); continue }
            let e = visibleErrors(out.landmarks, ref, frame: f, width: Clip.width, height: Clip.height)
            all += e
            perFrame.append(fmt(median(e)))
        }
        let sorted = all.sorted()
        print("close-up clip, video mode: person present in the same \(agree) of \(frames.count) frames, detector on the same \(detectorAgree); median \(fmt(median(all), 3)) px, p90 \(fmt(sorted[sorted.count * 9 / 10])) px over \(all.count) visible joints")
        print("close-up clip, per-frame median px (- no person in either, x only in one): " + perFrame.joined(separator: " "))
        // Measured: 53 of 53, median 0.50 px, p90 4.5 px (frames 40-45, where the tracker carries the
        // head-and-shoulders ROI into the small blurry cut, drift to 36 px as MediaPipe's own do).
        // With the black-edged frames: 49 of 53, median 2.6 px, p90 45 px.
        #expect(agree >= Clip.frameCount - 1)
        #expect(median(all) <= 1)
    }

    @Test("detector: on the frames where MediaPipe ran it, the same detection")
    func detector() throws {
        let frames = try #require(Clip.frames).reader
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let ran = try Clip.array("ran_detector"), score = try Clip.array("det_score")
        let keypoints = try Clip.array("det_keypoints"), roi = try Clip.array("roi")
        var worstScore: Float = 0, worstPixels: Float = 0, runs = 0
        for f in frames.indices where ran.values[f] == 1 {
            runs += 1
            let got = try pose.detect(frames[f])
            #expect((got != nil) == !score.values[f].isNaN, "frame \(f)")
            guard let (d, r) = got, !score.values[f].isNaN else { continue }
            worstScore = max(worstScore, abs(d.score - score.values[f]))
            let k = Clip.row(keypoints, f, 8)
            for j in 0..<4 {
                worstPixels = max(worstPixels, abs(d.keypoints[j].x - k[2 * j]) * Float(Clip.width), abs(d.keypoints[j].y - k[2 * j + 1]) * Float(Clip.height))
            }
            // the ROI the landmark model then ran on
            worstPixels = max(worstPixels, Clip.pixelDistance(r, Clip.row(roi, f, 5)))
            #expect(abs(r.rotation - Clip.row(roi, f, 5)[4]) < 1e-4, "frame \(f)")
        }
        print("close-up clip, detector on \(runs) frames: score within \(worstScore), keypoints and ROI within \(worstPixels) px")
        // Measured: 3.6e-7 and 0.001 px (with the black-edged frames: 6.7e-3 and 3.4 px).
        #expect(runs == 4)
        #expect(worstScore < 1e-4 && worstPixels < 0.05)
    }

    @Test("landmark model on MediaPipe's own ROI of every frame: same presence decision, landmarks within 0.2 px")
    func landmarkStage() throws {
        let frames = try #require(Clip.frames).reader
        var options = BlazePose.Options()
        options.minPresence = -1                 // always decode, to compare the presence itself
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path, options: options)
        let roi = try Clip.array("roi"), presence = try Clip.array("presence"), raw = try Clip.array("raw_landmarks_px")
        var worstPresence: Float = 0, worstMedian: Float = 0, runs = 0
        for f in frames.indices where !presence.values[f].isNaN {
            runs += 1
            let out = try #require(try pose.landmarks(in: frames[f], roi: Clip.rect(Clip.row(roi, f, 5))))
            let p = presence.values[f]
            #expect((out.presence > 0.5) == (p > 0.5), "frame \(f): presence \(out.presence), MediaPipe's \(p)")
            worstPresence = max(worstPresence, abs(out.presence - p))
            guard p > 0.5 else { continue }
            worstMedian = max(worstMedian, median(visibleErrors(out.landmarks, raw, frame: f, width: Clip.width, height: Clip.height)))
        }
        print("close-up clip, landmark model on MediaPipe's ROIs (\(runs) frames): presence within \(worstPresence), worst per-frame median \(fmt(worstMedian, 3)) px")
        // Measured: presence within 1.3e-3, worst frame median 0.029 px (black-edged frames: 0.14 and 20 px).
        #expect(runs == 53)
        #expect(worstPresence < 0.01 && worstMedian < 0.2)
    }

    @Test("tracking: MediaPipe's unsmoothed auxiliary landmarks give MediaPipe's next ROI")
    func tracking() throws {
        let aux = try Clip.array("raw_aux"), next = try Clip.array("next_roi"), found = try Clip.array("found")
        var filter = LandmarkSmoother(minCutoff: 0.01, beta: 10)        // BlazePoseTracker's auxFilter
        var worst: Float = 0, worstRotation: Float = 0, frames = 0
        for f in 0..<Clip.frameCount {
            guard found.values[f] == 1 else { filter.reset(); continue }
            let a = Clip.row(aux, f, 10)
            let lms = (0..<2).map { PoseLandmark(x: a[5 * $0], y: a[5 * $0 + 1], z: a[5 * $0 + 2], visibility: a[5 * $0 + 3], presence: a[5 * $0 + 4]) }
            let scale = bodySize(auxiliary: lms, width: Clip.width, height: Clip.height)
            // time as the tracker counts it: frame number (from 1) x 33,333 µs; only differences matter
            let smoothed = filter.apply(lms, time: Int64(f + 1) * 33_333_000, width: Clip.width, height: Clip.height, objectScale: scale)
            let r = poseRoi(fromAuxiliary: smoothed, imageWidth: Clip.width, imageHeight: Clip.height)
            let want = Clip.row(next, f, 5)
            worst = max(worst, Clip.pixelDistance(r, want))
            worstRotation = max(worstRotation, abs(r.rotation - want[4]))
            frames += 1
        }
        print("close-up clip, tracking ROI from MediaPipe's auxiliary landmarks (\(frames) frames): within \(worst) px, \(worstRotation) rad")
        // Measured: 0.0002 px.
        #expect(frames == 50)
        #expect(worst < 0.01 && worstRotation < 1e-4)
    }
}

// MARK: - 3. Tracking over ../shared/videos/closeups/track_0_15.mkv

/// The 16 shared close-up frames and MediaPipe's stages on them (Tests/Fixtures/closeup/track_0_15_stages.npz,
/// Scripts/fixtures/make-track-reference.py).
enum SharedTrackClip {
    static let video = SharedCloseups.folder.appendingPathComponent("track_0_15.mkv")
    static let ref: [String: NpyArray] = (try? Npy.readArchive(OwnCloseupClip.fixtures.appendingPathComponent("track_0_15_stages.npz"))) ?? [:]
    static let width = 900, height = 540, frameCount = 16
    static let frames: [RGBImage]? = {
        guard SharedCloseups.available, FileManager.default.fileExists(atPath: video.path), !ref.isEmpty,
              let frames = try? decodeFrames(video), frames.count == frameCount else { return nil }
        // the pixels MediaPipe saw (OpenCV decoded them), by the reference's checksums
        let c = ref["frame_checksums"]!.values.map { Int($0) }
        guard frames.enumerated().allSatisfy({ OwnCloseupClip.checksums($0.element.pixels) == [c[2 * $0.offset], c[2 * $0.offset + 1]] }) else {
            print("SharedTrackClip: VideoReader's pixels are not the ones MediaPipe saw")
            return nil
        }
        return frames
    }()
    static func array(_ key: String) throws -> NpyArray { try #require(ref[key], "track_0_15_stages.npz has no \(key)") }
    static func pixelDistance(_ a: NormalizedRect, _ b: [Float]) -> Float { rectPixelDistance(a, b, width: width, height: height) }
}

@Suite("BlazePose tracking on track_0_15 vs MediaPipe", .enabled(if: SharedTrackClip.frames != nil, "needs ../shared/videos/closeups/track_0_15.mkv, the ffmpeg CLI and Models/blazepose"))
struct SharedTrackClipTests {
    typealias Clip = SharedTrackClip

    /// Visible joints as the issue counts them: MediaPipe's visibility > 0.5, inside the frame.
    static func errors(_ lms: [PoseLandmark], frame f: Int) throws -> [Float] {
        visibleErrors(lms, try Clip.array("landmarks_px"), frame: f, width: Clip.width, height: Clip.height)
    }

    @Test("each stage from MediaPipe's own inputs on all 16 frames: landmarks within 0.2 px, the next ROI within 0.001 px")
    func stages() throws {
        let frames = try #require(Clip.frames)
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let raw = try Clip.array("raw_landmarks_px"), roi = try Clip.array("roi"), aux = try Clip.array("raw_aux"), next = try Clip.array("next_roi")
        let W = Clip.width, H = Clip.height
        var auxFilter = LandmarkSmoother(minCutoff: 0.01, beta: 10)          // BlazePoseTracker's
        var landmarkWorst: [Float] = [], roiWorst: [Float] = []
        for f in 0..<Clip.frameCount {
            // the landmark model (crop, model, heatmap refinement, projection) on MediaPipe's ROI
            let out = try #require(try pose.landmarks(in: frames[f], roi: OwnCloseupClip.rect(OwnCloseupClip.row(roi, f, 5))))
            landmarkWorst.append(visibleErrors(out.landmarks, raw, frame: f, width: W, height: H).max() ?? 0)
            // MediaPipe's unsmoothed auxiliary landmarks -> smoothing -> the next frame's ROI
            let a = OwnCloseupClip.row(aux, f, 10)
            let lms = (0..<2).map { PoseLandmark(x: a[5 * $0], y: a[5 * $0 + 1], z: a[5 * $0 + 2], visibility: a[5 * $0 + 3], presence: a[5 * $0 + 4]) }
            let smoothed = auxFilter.apply(lms, time: Int64(f + 1) * 33_333_000, width: W, height: H,
                                           objectScale: bodySize(auxiliary: lms, width: W, height: H))
            roiWorst.append(Clip.pixelDistance(poseRoi(fromAuxiliary: smoothed, imageWidth: W, imageHeight: H), OwnCloseupClip.row(next, f, 5)))
        }
        print("track_0_15, landmark model on MediaPipe's ROI, worst visible joint per frame (px): " + landmarkWorst.map { fmt($0, 3) }.joined(separator: " "))
        print("track_0_15, next ROI from MediaPipe's auxiliary landmarks (px): " + roiWorst.map { fmt($0, 4) }.joined(separator: " "))
        // Measured: landmarks 0.002-0.144 px, ROI <= 0.0008 px.
        #expect(landmarkWorst.allSatisfy { $0 < 0.2 })
        #expect(roiWorst.allSatisfy { $0 < 0.001 })
    }

    /// Why the free-running loop has no sub-pixel bound here: on these crops the landmark model's output
    /// jumps by a pixel when its ROI moves by a thousandth of a pixel (a float32 ROI rounds at ~5e-5 px), so
    /// a difference in the last bits of any stage grows to tens of pixels within a few frames.
    @Test("the loop magnifies a ten-thousandth of a pixel in the ROI to more than a pixel within 5 frames, tens later")
    func conditioning() throws {
        let frames = try #require(Clip.frames)
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        func run(nudge: Float) throws -> [[PoseLandmark]] {
            let tracker = BlazePoseTracker(pose: pose)
            return try frames.indices.map { f in
                if f == 1 { tracker.previousRoi!.xCenter += nudge / Float(Clip.width) }   // after frame 0
                return try #require(try tracker.process(frames[f])).landmarks
            }
        }
        let plain = try run(nudge: 0), nudged = try run(nudge: 1e-4)
        let ref = try Clip.array("landmarks_px")
        let moved: [Float] = (0..<Clip.frameCount).map { f in
            visibleJoints(ref, frame: f, width: Clip.width, height: Clip.height).map { (j: Int) -> Float in
                let dx = (plain[f][j].x - nudged[f][j].x) * Float(Clip.width), dy = (plain[f][j].y - nudged[f][j].y) * Float(Clip.height)
                return (dx * dx + dy * dy).squareRoot()
            }.max() ?? 0
        }
        print("track_0_15, our loop against itself with frame 1's ROI moved 1e-4 px, worst visible joint per frame (px): " + moved.map { fmt($0) }.joined(separator: " "))
        // Measured: 0 on frame 0, then 0.05, 0.08, 0.67, 1.13, 2.84, 4.1, 5.0, 36 px ... If this ever stays small, the loop became
        // well-conditioned and the free-running test below can be made as tight as the stages test.
        #expect(moved[0] == 0)
        #expect(moved[1...5].max()! > 1)
        #expect(moved.max()! > 10)
    }

    @Test("free-running video mode: as close to MediaPipe as MediaPipe is to itself with one grey level changed")
    func videoMode() throws {
        let frames = try #require(Clip.frames)
        let tracker = BlazePoseTracker(pose: try BlazePose(modelDirectory: BlazePoseFiles.models.path))
        var all: [Float] = [], perFrame: [String] = []
        for f in 0..<Clip.frameCount {
            let out = try #require(try tracker.process(frames[f]), "frame \(f): MediaPipe finds a pose in all 16")
            let e = try Self.errors(out.landmarks, frame: f)
            all += e
            perFrame.append(fmt(e.max() ?? 0, 1))
        }
        // MediaPipe against itself (make-track-reference.py): six runs, each with one value of one
        // bottom-row pixel one grey level higher on every frame; the same joints counted.
        let noise = try Clip.array("self_noise_px"), ref = try Clip.array("landmarks_px")
        let runs = noise.values.count / (Clip.frameCount * 33)
        let selfNoise: [(median: Float, p90: Float)] = (0..<runs).map { r in
            var v: [Float] = []
            for f in 0..<Clip.frameCount {
                for j in visibleJoints(ref, frame: f, width: Clip.width, height: Clip.height) { v.append(noise.values[(r * Clip.frameCount + f) * 33 + j]) }
            }
            v.sort()
            return (median(v), v[v.count * 9 / 10])
        }
        let sorted = all.sorted()
        let ours = (median: median(all), p90: sorted[sorted.count * 9 / 10])
        print("track_0_15, video mode vs MediaPipe over \(all.count) visible joints: median \(fmt(ours.median)) px, p90 \(fmt(ours.p90)) px; worst per frame: " + perFrame.joined(separator: " "))
        print("track_0_15, MediaPipe vs itself with one grey level changed (\(runs) runs): median " + selfNoise.map { fmt($0.median) }.joined(separator: "/") + " px, p90 " + selfNoise.map { fmt($0.p90) }.joined(separator: "/") + " px")
        // Measured: ours median 2.52 px, p90 13.15 px; MediaPipe against itself median 2.61-4.56, p90 14.1-19.0.
        #expect(all.count == 275)
        #expect(ours.median <= selfNoise.map(\.median).max()!)
        #expect(ours.p90 <= 1.25 * selfNoise.map(\.p90).max()!)
    }
}
