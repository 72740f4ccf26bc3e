// `mhformer run` on the project's own sample video (a rendered figure driven by CMU motion capture,
// with exact ground truth), the 2D conversion, gap filling, and bad video inputs.

import Foundation
import Testing
@testable import MHFormerKit

enum SampleVideo {
    static let video = Paths.repo.appendingPathComponent("Samples/cmu131_walk.mp4")
    static let gt2D = Paths.repo.appendingPathComponent("Samples/cmu131_walk_gt_2d.csv")
    static let gt3D = Paths.repo.appendingPathComponent("Samples/cmu131_walk_gt_3d_camera.csv")
    static var ready: Bool { BlazePoseFiles.available && FileManager.default.fileExists(atPath: video.path) }
}

/// Weights for end-to-end runs: the project's own when present, else a converted fixture model.
func anyWeights(in dir: URL) throws -> String? {
    if let own = DefaultWeights.find() { return own }
    guard Paths.sharedAvailable else { return nil }
    return try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small81/small_model.pth"), into: dir)
}

@Suite("mhformer run on the sample video", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
struct RunCommandTests {
    @Test("one 3D row per decoded frame; 2D keypoints close to the rendered ground truth")
    func sampleVideo() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let out3D = dir.appendingPathComponent("walk_3d.csv").path, out2D = dir.appendingPathComponent("walk_2d.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", out3D, "--keypoints-2d", out2D, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("200 frames, 200 with a person"), "\(r.stderr)")
        let (frames, values) = try read3DCSV(out3D)
        #expect(frames == Array(0..<200))                         // the clip decodes to 200 frames
        #expect(values.allSatisfy { $0.isFinite })
        let lines = try String(contentsOfFile: out3D, encoding: .utf8).split(separator: "\n")
        #expect(lines[2].split(separator: ",")[1] == "0.04")      // time_s from the 25 fps time stamps

        // The 2D CSV is what `lift` reads; compare its limb joints with the ground truth projection.
        let mine = try Keypoints2DCSV.read(path: out2D), truth = try Keypoints2DCSV.read(path: SampleVideo.gt2D.path)
        #expect(mine.count == 200 && mine.width == 640 && mine.height == 480)
        let limbs = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]
        var errors: [Float] = []
        for i in 0..<200 { for j in limbs {
            let dx = mine.points[i * 34 + 2 * j] - truth.points[i * 34 + 2 * j]
            let dy = mine.points[i * 34 + 2 * j + 1] - truth.points[i * 34 + 2 * j + 1]
            errors.append((dx * dx + dy * dy).squareRoot())
        } }
        errors.sort()
        let median = errors[errors.count / 2]
        print("sample video 2D limb error vs ground truth: median \(median) px, p95 \(errors[errors.count * 95 / 100]) px")
        #expect(median < 4, "median limb error \(median) px (MediaPipe's own: 2.5 px)")
    }

    @Test("--scores: the 3D CSV's <joint>_score columns are the 2D CSV's scores, in [0, 1]")
    func scoreColumns() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let out3D = dir.appendingPathComponent("walk_3d.csv").path, out2D = dir.appendingPathComponent("walk_2d.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", out3D, "--keypoints-2d", out2D, "--weights", weights, "--scores"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows3D = try String(contentsOfFile: out3D, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let rows2D = try String(contentsOfFile: out2D, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let scoreNames = Skeleton.jointNames.map { "\($0)_score" }
        #expect(rows3D[0] == Pose3DCSV.header.split(separator: ",").map(String.init) + scoreNames)
        let columns2D = try scoreNames.map { name in try #require(rows2D[0].firstIndex(of: name), "2D CSV lacks \(name)") }
        #expect(rows3D.count == 201 && rows2D.count == 201)
        var checked = 0
        for i in 1..<min(rows3D.count, rows2D.count) {
            #expect(rows3D[i].count == 70 && rows3D[i][0] == rows2D[i][0])
            for j in 0..<17 {
                let cell = rows3D[i][53 + j]
                #expect(cell == rows2D[i][columns2D[j]], "frame \(i - 1) \(scoreNames[j])")
                if let v = Float(cell) { #expect(v >= 0 && v <= 1, "frame \(i - 1) \(scoreNames[j]) = \(v)"); checked += 1 }
            }
        }
        #expect(checked == 200 * 17)
    }

    @Test("a video whose first second shows nobody: those rows empty, the rest lifted")
    func nobodyFirst() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let clip = dir.appendingPathComponent("late.mp4").path
        let ff = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:size=640x480:rate=25:duration=1",
                                          "-i", SampleVideo.video.path, "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
                                          "-c:v", "libx264", "-pix_fmt", "yuv420p", clip])
        try #require(ff.status == 0, "ffmpeg: \(ff.stderr)")
        let out = dir.appendingPathComponent("o.csv").path
        let r = try run(Paths.tool, ["run", clip, "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let (frames, values) = try read3DCSV(out)
        #expect(frames.count == 225)
        #expect(values[0..<(25 * 51)].allSatisfy { $0.isNaN })          // the grey second: empty rows
        #expect(values[(30 * 51)...].allSatisfy { $0.isFinite })        // the walk: lifted
    }

    @Test("a video with nobody in it: one-line error, no output")
    func noPerson() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let clip = dir.appendingPathComponent("empty.mp4").path
        let ff = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1",
                                          "-c:v", "libx264", "-pix_fmt", "yuv420p", clip])
        try #require(ff.status == 0, "ffmpeg: \(ff.stderr)")
        let out = dir.appendingPathComponent("o.csv").path
        let r = try run(Paths.tool, ["run", clip, "-o", out, "--weights", weights])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("empty.mp4") && r.stderr.contains("no person found in any of the 10 frames"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite("mhformer run: bad inputs")
struct RunBadInputTests {
    @Test(arguments: ["missing", "text", "empty"])
    func badVideo(kind: String) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = dir.appendingPathComponent("clip.mp4").path
        if kind == "text" { try "not a video".write(toFile: video, atomically: true, encoding: .utf8) }
        if kind == "empty" { _ = FileManager.default.createFile(atPath: video, contents: Data()) }
        guard let weights = try anyWeights(in: dir), BlazePoseFiles.available else {
            // Without a model or BlazePose the command must still fail cleanly.
            let r = try run(Paths.tool, ["run", video, "-o", dir.appendingPathComponent("o.csv").path])
            #expect(r.status == 1 && r.stderr.hasPrefix("error: "))
            return
        }
        let out = dir.appendingPathComponent("o.csv").path
        let r = try run(Paths.tool, ["run", video, "-o", out, "--weights", weights])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("clip.mp4"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite("2D keypoint conversion and gaps")
struct KeypointConversionTests {
    @Test("COCO-17 → Human3.6M-17 equals the official demo's converter", .enabled(if: Paths.sharedAvailable, "../shared absent"))
    func cocoToH36M() throws {
        let coco = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_coco17_px.npy"))
        let ref = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        var worst: Float = 0
        for i in 0..<coco.shape[0] {
            let h = KeypointConversion.h36m(fromCOCO: Array(coco.values[(i * 34)..<(i * 34 + 34)]))
            worst = max(worst, maxAbsDiff(h, Array(ref.values[(i * 34)..<(i * 34 + 34)])))
        }
        #expect(worst < 1e-3, "max difference \(worst) px")
        // and not the other copy of the converter in the official tree (spine factor 0.3)
        let variant = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("coco_h36m_hrnet_utils_variant.npy"))
        #expect(maxAbsDiff(KeypointConversion.h36m(fromCOCO: Array(coco.values[0..<34])), Array(variant.values[0..<34])) > 1e-2)
    }

    @Test("short gaps are interpolated in time, long ones stay empty")
    func gaps() {
        let n = 40
        var kp = Keypoints2D(frames: Array(0..<n), times: (0..<n).map { Double($0) / 10 }, width: 100, height: 100,
                             points: (0..<(n * 34)).map { Float($0 / 34) }, present: Array(repeating: true, count: n),
                             scores: Array(repeating: 1, count: n * 17))
        for i in 3..<6 { kp.present[i] = false }      // 0.4 s between frames 2 and 6: filled
        for i in 10..<20 { kp.present[i] = false }    // 1.1 s between 9 and 20: kept empty
        kp.present[0] = false                         // leading: nothing to interpolate from
        let filled = kp.fillGaps(maxSeconds: 0.5, fps: 10)
        #expect(filled == 3)
        #expect(kp.present[3] && kp.present[5] && !kp.present[10] && !kp.present[19] && !kp.present[0])
        #expect(abs(kp.points[4 * 34] - 4) < 1e-6)    // linear between frame 2 (value 2) and 6 (value 6)
        #expect(kp.scores![4 * 17] == 0)
        #expect(kp.segments == [1..<10, 20..<40])
    }
}

@Suite("overlay video and plot", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
struct OverlayTests {
    /// (codec, width, height, frames, frame rate) of a video, from ffprobe.
    static func probe(_ path: String) throws -> [String: String] {
        let r = try run("/usr/bin/env", ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                         "stream=codec_name,width,height,nb_read_frames,r_frame_rate", "-of", "default=nw=1", path])
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
        }
        return out
    }

    @Test("run --overlay: the frames side by side with the 3D panel, same count and rate; --plot writes a PNG")
    func overlayAndPlot() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let overlay = dir.appendingPathComponent("overlay.mp4").path, plot = dir.appendingPathComponent("plot.png").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", dir.appendingPathComponent("o.csv").path,
                                     "--weights", weights, "--overlay", overlay, "--plot", plot])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try OverlayTests.probe(overlay)
        #expect(v["codec_name"] == "h264" || v["codec_name"] == "mpeg4")
        #expect(v["width"] == "1120" && v["height"] == "480")      // 640 video + 480 square 3D panel
        #expect(v["nb_read_frames"] == "200")
        #expect(v["r_frame_rate"] == "25/1")
        let p = try OverlayTests.probe(plot)
        #expect(p["codec_name"] == "png" && p["width"] == "960" && p["height"] == "640")   // 3 x 2 panels of 320
        // The left half of a frame is the source frame (with a skeleton drawn on it): compare a corner.
        let frame = dir.appendingPathComponent("f.rgb").path
        _ = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-i", overlay, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", frame])
        let src = dir.appendingPathComponent("s.rgb").path
        _ = try run("/usr/bin/env", ["ffmpeg", "-v", "error", "-i", SampleVideo.video.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", src])
        let a = [UInt8](try Data(contentsOf: URL(fileURLWithPath: frame))), b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        var diff = 0.0
        for y in 0..<40 { for x in 0..<40 { for c in 0..<3 { diff += abs(Double(a[(y * 1120 + x) * 3 + c]) - Double(b[(y * 640 + x) * 3 + c])) } } }
        #expect(diff / (40 * 40 * 3) < 6, "top-left corner differs from the source by \(diff / 4800) per byte")
    }

    @Test("lift --overlay without a video draws on a blank canvas")
    func liftOverlay() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let overlay = dir.appendingPathComponent("o.mp4").path
        let r = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "-o", dir.appendingPathComponent("o.csv").path,
                                     "--weights", weights, "--overlay", overlay])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try OverlayTests.probe(overlay)
        #expect(v["nb_read_frames"] == "200" && v["width"] == "1120" && v["r_frame_rate"] == "25/1")
    }
}
