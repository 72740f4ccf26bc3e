// BlazePose in Swift against MediaPipe's own Python solution on a real video: all frames of
// ../shared/videos/skater.mp4 (decoded with the ffmpeg CLI, never stored in the repository) versus
// ../shared/videos/skater_mediapipe.npz (mp.solutions.pose, model_complexity 1, video mode).
// Both run video mode: the detector on the first frame, then the ROI tracked from the smoothed
// auxiliary landmarks, One-Euro smoothing of the output.

import Foundation
import Testing
@testable import MHFormerKit

enum SkaterFiles {
    static let video = Paths.shared.appendingPathComponent("videos/skater.mp4")
    static let reference = Paths.shared.appendingPathComponent("videos/skater_mediapipe.npz")
    static var available: Bool {
        BlazePoseFiles.available && FileManager.default.fileExists(atPath: video.path)
            && FileManager.default.fileExists(atPath: reference.path)
    }
}

/// Calls `body` with each frame of a video as RGB, decoded by the ffmpeg CLI (streamed: a 720p
/// frame is 2.7 MB).
func forEachFrame(_ url: URL, width: Int, height: Int, _ body: (Int, RGBImage) throws -> Void) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["ffmpeg", "-v", "error", "-i", url.path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    defer { p.waitUntilExit() }
    let frameBytes = width * height * 3
    var buffer = Data()
    var index = 0
    while true {
        let chunk = out.fileHandleForReading.readData(ofLength: frameBytes - buffer.count)
        if chunk.isEmpty { break }
        buffer.append(chunk)
        if buffer.count == frameBytes {
            try body(index, RGBImage(width: width, height: height, pixels: [UInt8](buffer)))
            index += 1
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

/// Per-landmark pixel distances between `out` and frame `f` of the reference.
private func pixelErrors(_ out: PoseLandmarks, _ ref: NpyArray, frame f: Int, width W: Int, height H: Int) -> [Float] {
    (0..<33).map { j in
        let dx = out.landmarks[j].x * Float(W) - ref.values[(f * 33 + j) * 3]
        let dy = out.landmarks[j].y * Float(H) - ref.values[(f * 33 + j) * 3 + 1]
        return (dx * dx + dy * dy).squareRoot()
    }
}

@Suite("BlazePose on a real video") struct BlazePoseVideoTests {
    @Test("video mode (tracking + One-Euro smoothing) vs mp.solutions.pose on all 185 frames of skater.mp4",
          .enabled(if: SkaterFiles.available, "needs ../shared/videos and Models/blazepose"))
    func skater() throws {
        let ref = try #require(try Npy.readArchive(SkaterFiles.reference)["landmarks_px"])
        let (W, H) = (1280, 720)
        let options = BlazePose.Options()          // heatmap kernel 9, as mp.solutions.pose runs
        let tracker = BlazePoseTracker(pose: try BlazePose(modelDirectory: BlazePoseFiles.models.path, options: options))
        let still = try BlazePose(modelDirectory: BlazePoseFiles.models.path, options: options)
        var errors: [Float] = [], frameMeans: [Float] = [], detectorRuns = 0, frames = 0
        var milliseconds = 0.0
        try forEachFrame(SkaterFiles.video, width: W, height: H) { f, img in
            frames += 1
            if f == 0 {
                // the first frame is the detector path with nothing to smooth: static mode must agree too
                let s = pixelErrors(try #require(try still.processStatic(img)), ref, frame: 0, width: W, height: H)
                print("skater frame 0 static: mean \(s.reduce(0, +) / 33) px, max \(s.max()!) px")
                #expect(s.reduce(0, +) / 33 < 0.5)      // measured 0.012 px
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = try tracker.process(img)
            milliseconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            guard let out = result else { Issue.record("no pose in frame \(f)"); return }
            if tracker.lastFrameUsedDetector { detectorRuns += 1 }
            let e = pixelErrors(out, ref, frame: f, width: W, height: H)
            errors += e
            frameMeans.append(e.reduce(0, +) / 33)
        }
        #expect(frames == 185)
        let sorted = errors.sorted()
        let mean = errors.reduce(0, +) / Float(errors.count)
        print("skater video mode: \(frames) frames, \(Int(milliseconds / Double(frames))) ms per frame (crop + model + decoding), detector ran \(detectorRuns)x, mean \(mean) px, median \(sorted[sorted.count / 2]) px, p95 \(sorted[sorted.count * 95 / 100]) px, worst frame mean \(frameMeans.max() ?? 0) px")
        // Measured: median 0.37 px, mean 1.46 px, p95 4.4 px; a few fast frames drift by up to ~29 px
        // (the frames here come from the ffmpeg CLI, MediaPipe's from OpenCV's decoder: one grey level
        // of difference is enough to move a tracked ROI).
        #expect(detectorRuns == 1)
        #expect(sorted[sorted.count / 2] < 1 && mean < 3 && sorted[sorted.count * 95 / 100] < 10)
        print("skater per-frame mean px: " + frameMeans.map { String(format: "%.1f", $0) }.joined(separator: " "))
    }
}
