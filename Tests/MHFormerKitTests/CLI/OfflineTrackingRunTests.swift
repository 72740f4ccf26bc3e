// Offline tracking in `mhformer run` (one person, OfflineTracker): the frames MediaPipe's streaming
// tracker misses are looked at again. The clips are made here with ffmpeg from the walk sample, so
// where the person is in every frame is known exactly (the sample's ground truth, moved as the clip
// moves it). Each case runs the clip with `--no-offline-tracking` (MediaPipe's streaming logic alone)
// and without (the default):
//   - the walker zooming in from 0.3 of their size: MediaPipe's whole-frame detector misses the
//     first frames; offline tracking gives every frame from frame 0 (re-detected, tracked on,
//     tracked backwards from the first frame MediaPipe finds);
//   - a box hiding the walker's head and chest for 15 frames: the loss is bridged from both sides,
//     and the frames MediaPipe found are the same numbers in both runs;
//   - two walkers side by side in a 1280x480 frame, the right one at 0.8 size: MediaPipe finds no
//     one; offline tracking gives the larger in every frame, as accurate as MediaPipe on the sample.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("mhformer run: offline tracking", .enabled(if: SampleVideo.ready && FFmpegCLI.available, BlazePoseFiles.skipReason))
struct OfflineTrackingRunTests {
    /// The limb joints (hips, knees, ankles, shoulders, elbows, wrists) in Human3.6M order.
    static let limbs = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]

    static func encode(_ filter: [String], _ path: String, inputs: [String] = [SampleVideo.video.path]) throws {
        try FFmpegCLI.run(inputs.flatMap { ["-i", $0] } + filter + ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", path])
    }

    /// `run` with the 2D keypoints written; `offline: false` adds --no-offline-tracking and
    /// --max-gap 0 (no interpolation: a row is present exactly when MediaPipe found the person).
    func run2D(_ video: String, _ dir: ClipDir, _ name: String, offline: Bool, weights: String) throws -> (result: RunResult, keypoints: Keypoints2D?) {
        let extra = offline ? [] : ["--no-offline-tracking", "--max-gap", "0"]
        let r = try run(Paths.tool, ["run", video, "-o", dir.path(name + ".csv"), "--keypoints-2d", dir.path(name + "_2d.csv"),
                                     "--weights", weights, "--no-flip", "--threads", "1"] + extra)
        return (r, r.status == 0 ? try Keypoints2DCSV.read(path: dir.path(name + "_2d.csv")) : nil)
    }

    /// Mean limb-joint distance (pixels) of row `i` from the truth moved by `place` (a truth point of
    /// the sample → where the clip shows it).
    static func limbError(_ kp: Keypoints2D, _ truth: Keypoints2D, row i: Int, place: (SIMD2<Float>) -> SIMD2<Float> = { $0 }) -> Float {
        limbs.map { j in
            let t = place(SIMD2(truth.points[i * 34 + 2 * j], truth.points[i * 34 + 2 * j + 1]))
            let d = SIMD2(kp.points[i * 34 + 2 * j], kp.points[i * 34 + 2 * j + 1]) - t
            return (d * d).sum().squareRoot()
        }.reduce(0, +) / Float(limbs.count)
    }

    static func median(_ v: [Float]) -> Float { v.sorted()[v.count / 2] }

    @Test("a person in view from frame 0 whom the whole-frame detector misses at first gets 2D and 3D from frame 0")
    func missedAtFirst() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        // Two seconds; the walker's frame scaled by s = min(1, 0.3 + 0.7 t) (width even), feet on the
        // bottom edge, centred, over the render's background grey.
        let video = dir.path("zoom.mp4")
        try Self.encode(["-f", "lavfi", "-i", "color=c=0x9a9e9c:s=640x480:r=25:d=2", "-filter_complex",
                         "[0:v]scale=w='trunc(640*min(1,0.3+0.7*t)/2)*2':h=-2:eval=frame[s];[1:v][s]overlay=x='(W-w)/2':y='H-h':eval=frame",
                         "-t", "2"], video)
        func place(_ row: Int) -> (SIMD2<Float>) -> SIMD2<Float> {
            let w = Float(Int(640 * min(1, 0.3 + 0.7 * Double(row) / 25) / 2) * 2), h = (480 * w / 640 / 2).rounded() * 2
            return { p in SIMD2(p.x * w / 640 + (640 - w) / 2, p.y * h / 480 + 480 - h) }
        }
        let truth = try Keypoints2DCSV.read(path: SampleVideo.gt2D.path)

        let streaming = try run2D(video, dir, "mp", offline: false, weights: weights)
        #expect(streaming.result.status == 0, "\(streaming.result.stderr)")
        let firstFound = try #require(streaming.keypoints?.present.firstIndex(of: true))
        #expect(firstFound >= 5, "MediaPipe's detector found the small walker at frame \(firstFound): the clip tests nothing")

        let offline = try run2D(video, dir, "off", offline: true, weights: weights)
        #expect(offline.result.status == 0, "\(offline.result.stderr)")
        #expect(offline.result.stderr.contains("50 frames, 50 with a person (") && offline.result.stderr.contains("0 interpolated)"), "\(offline.result.stderr)")
        let (frames, values) = try read3DCSV(dir.path("off.csv"))
        #expect(frames.count == 50 && values.allSatisfy(\.isFinite), "every frame has 3D")
        let kp = try #require(offline.keypoints)
        // Errors in the sample's own pixels (divided by the scale), so the small early frames count alike.
        func scaledError(_ i: Int) -> Float {
            Self.limbError(kp, truth, row: i, place: place(i)) * 640 / Float(Int(640 * min(1, 0.3 + 0.7 * Double(i) / 25) / 2) * 2)
        }
        let recovered = Self.median((0..<firstFound).map(scaledError)), found = Self.median((firstFound..<50).map(scaledError))
        print("zoom clip: MediaPipe from frame \(firstFound); limb error (sample pixels) recovered \(recovered), MediaPipe's \(found)")
        // Recovered frames are the smallest person; a wrong place or person would be tens of pixels off.
        #expect(recovered < 2 * found, "recovered frames' median limb error \(recovered) px vs \(found) px")
    }

    @Test("a loss mid-clip (head and chest hidden for 15 frames) is bridged from both sides; MediaPipe's frames are unchanged")
    func midClipLoss() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = dir.path("cover.mp4")
        try Self.encode(["-vf", "drawbox=x=330:y=140:w=110:h=130:color=0x282828:t=fill:enable='between(n,20,34)'", "-frames:v", "60"], video)

        let streaming = try run2D(video, dir, "mp", offline: false, weights: weights)
        #expect(streaming.result.status == 0, "\(streaming.result.stderr)")
        let mp = try #require(streaming.keypoints)
        let lost = (0..<60).filter { !mp.present[$0] }
        #expect(lost.count >= 8 && lost.allSatisfy { (20...34).contains($0) }, "MediaPipe lost frames \(lost)")

        let offline = try run2D(video, dir, "off", offline: true, weights: weights)
        #expect(offline.result.status == 0, "\(offline.result.stderr)")
        let stderr = offline.result.stderr
        #expect(stderr.contains("tracked backwards") && stderr.contains("tracked on after a loss"), "\(stderr)")
        let (_, values) = try read3DCSV(dir.path("off.csv"))
        #expect(values.count == 60 * 51 && values.allSatisfy(\.isFinite), "the loss is bridged: every frame has 3D")
        let kp = try #require(offline.keypoints)
        for i in 0..<60 where mp.present[i] {
            #expect(Array(kp.points[(i * 34)..<((i + 1) * 34)]) == Array(mp.points[(i * 34)..<((i + 1) * 34)]), "frame \(i) differs")
        }
    }

    @Test("two people about 150-200 px tall in a 1280x480 frame, MediaPipe finds no one: run gives the larger in every frame")
    func twoPeople() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        // Left: the walker as rendered; right: the same walk mirrored at 0.8 size.
        let video = dir.path("two.mp4")
        try Self.encode(["-filter_complex", "[0:v]split[a][b];[b]scale=512:384,hflip,pad=640:480:64:96:color=0x9a9e9c[c];[a][c]hstack=inputs=2", "-t", "2"], video)
        let streaming = try run2D(video, dir, "mp", offline: false, weights: weights)
        #expect(streaming.result.status == 1 && streaming.result.stderr.contains("no person found in any of the 50 frames"), "\(streaming.result.stderr)")

        let offline = try run2D(video, dir, "off", offline: true, weights: weights)
        #expect(offline.result.status == 0 && offline.result.stderr.contains("50 frames, 50 with a person ("), "\(offline.result.stderr)")
        let kp = try #require(offline.keypoints)
        let truth = try Keypoints2DCSV.read(path: SampleVideo.gt2D.path)
        #expect((0..<50).allSatisfy { kp.points[$0 * 34] < 640 }, "the pelvis is in the left panel (the larger walker) in every frame")
        let twoError = Self.median((0..<50).map { Self.limbError(kp, truth, row: $0) })

        // The reference: MediaPipe's streaming tracker on the same 50 frames of the sample alone.
        let alone = dir.path("alone.mp4")
        try Self.encode(["-frames:v", "50"], alone)
        let sample = try #require(try run2D(alone, dir, "alone", offline: false, weights: weights).keypoints)
        #expect(sample.present.allSatisfy { $0 })
        let sampleError = Self.median((0..<50).map { Self.limbError(sample, truth, row: $0) })
        print("two-person clip: limb error \(twoError) px; the sample alone through MediaPipe's tracker: \(sampleError) px")
        #expect(twoError < 1.5 * sampleError, "\(twoError) px vs \(sampleError) px")
    }
}
