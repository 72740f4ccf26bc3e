// `mhformer run --people`: several people tracked with identities. The clips are made here with
// ffmpeg from the project's sample renders, side by side (each panel one mannequin), so where each
// person is and when they are visible is known exactly:
//   - a person who enters late (their panel black for the first second) gets a new ID, after the
//     person already there;
//   - a person who leaves for 0.3 s (panel black) keeps their ID within --max-gap, and gets a new
//     one when the absence is longer than --max-gap;
//   - --people 2 of three keeps the two that --person-order names.
//   - a person who leaves for good is finished while the video goes on (issue 27): their files hold
//     exactly their span; a run that fails or is interrupted after that leaves no output at all.

import Foundation
import Testing
@testable import MHFormerKit

/// The columns `<joint>_x` of the pelvis in a 2D keypoint CSV (`--keypoints-2d`), rows with a person.
private func pelvisX(_ path: String) throws -> [Double] {
    let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    let x = try #require(rows.first?.firstIndex(of: "pelvis_x"))
    return rows.dropFirst().compactMap { Double($0[x]) }.filter { $0 > 0 }
}

private func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }

@Suite("mhformer run --people", .enabled(if: SampleVideo.ready && FFmpegCLI.available, BlazePoseFiles.skipReason))
struct PeopleRunTests {
    static let punch = Paths.repo.appendingPathComponent("Samples/cmu02_punch_closeup.mp4").path

    /// Two seconds of the two samples side by side (1280x480): the walker left, the boxer right.
    /// `rightHidden`: time ranges (seconds) where the right panel is black.
    static func sideBySide(_ path: String, rightHidden: [(Double, Double)]) throws {
        let hide = rightHidden.map { "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,\($0.0),\($0.1))'" }
        let right = hide.isEmpty ? "null" : hide.joined(separator: ",")
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-i", punch, "-filter_complex", "[1:v]\(right)[b];[0:v][b]hstack=inputs=2",
                           "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", path])
    }

    func people(_ video: String, _ out: String, _ extra: [String], weights: String) throws -> RunResult {
        try run(Paths.tool, ["run", video, "-o", out, "--weights", weights, "--no-flip", "--threads", "1"] + extra)
    }

    @Test("a person who enters late gets a new ID after the one already there; the summary lists both with their frames")
    func lateEntry() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = dir.path("late.mp4")
        try Self.sideBySide(video, rightHidden: [(0, 1)])
        let r = try people(video, dir.path("o.csv"), ["--people", "all", "--keypoints-2d", dir.path("o_2d.csv"),
                                                      "--angles", dir.path("o_angles.mot")], weights: weights)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("2 people found"), "\(r.stderr)")
        // Person 1 is the walker (left panel, x < 640) from frame 0; person 2 the boxer from about frame 25.
        let walkerX = mean(try pelvisX(dir.path("o_2d.p1.csv"))), boxerX = mean(try pelvisX(dir.path("o_2d.p2.csv")))
        #expect(walkerX < 640 && boxerX > 640, "\(walkerX) \(boxerX)")
        #expect(r.stderr.contains("person 1: frames 0-49"), "\(r.stderr)")
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("person 2: frames ") })
        let first = try #require(Int(line.split(separator: " ")[3].split(separator: "-")[0]))
        // Visible from frame 26; the detector looks for newcomers every 10 frames (PeopleTracker.Options).
        #expect((26...36).contains(first), "\(line)")
        // Each file in the one-person format over the person's own span: a row per frame from the first
        // to the last frame they were found in, numbered as the video's frames (and timed as them).
        #expect(try read3DCSV(dir.path("o.p1.csv")).frames == Array(0..<50))
        let late = try read3DCSV(dir.path("o.p2.csv"))
        #expect(late.frames == Array(first..<50), "\(late.frames)")
        #expect(late.values.allSatisfy { $0.isFinite }, "rows of the span are all found or filled")
        // The joint angles likewise, per person: a .mot row per frame with the person.
        #expect(try parseMot(try String(contentsOfFile: dir.path("o_angles.p1.mot"), encoding: .utf8)).rows.count == 50)
        #expect(try parseMot(try String(contentsOfFile: dir.path("o_angles.p2.mot"), encoding: .utf8)).rows.count == 50 - first)
        let late2D = try String(contentsOfFile: dir.path("o_2d.p2.csv"), encoding: .utf8).split(separator: "\n")
        #expect(late2D.count == 1 + 50 - first && late2D[1].hasPrefix("\(first),"), "\(late2D.prefix(2))")
        let times3D = try String(contentsOfFile: dir.path("o.p2.csv"), encoding: .utf8).split(separator: "\n")[1].split(separator: ",")
        let firstTime = try #require(Double(times3D[1]))
        #expect(abs(firstTime - Double(first) / 25) < 1e-6, "time_s of frame \(first): \(firstTime)")
        // The world frame's one scene and the overlay with everyone work on spans: both people stand on
        // one ground, and the overlay has every frame of the video.
        let w = try people(video, dir.path("w.csv"), ["--people", "all", "--coords", "world", "--overlay", dir.path("w.mp4")], weights: weights)
        #expect(w.status == 0, "\(w.stderr)")
        let walker = try read3DCSV(dir.path("w.p1.csv")), boxer = try read3DCSV(dir.path("w.p2.csv"))
        #expect(boxer.frames == late.frames)
        func lowestAnkle(_ v: [Float]) -> Float { stride(from: 0, to: v.count, by: 51).map { min(v[$0 + 10], v[$0 + 19]) }.sorted()[v.count / 51 / 10] }
        #expect(abs(lowestAnkle(walker.values)) < 0.15 && abs(lowestAnkle(boxer.values)) < 0.15, "\(lowestAnkle(walker.values)) \(lowestAnkle(boxer.values))")
        var overlayFrames = 0
        _ = try VideoReader(path: dir.path("w.mp4")).forEachFrame { _ in overlayFrames += 1; return true }
        #expect(overlayFrames == 50)
        #expect(!FileManager.default.fileExists(atPath: dir.path("o.csv")) && !FileManager.default.fileExists(atPath: dir.path("o.p3.csv")))
    }

    @Test("a person away for 0.3 s keeps their ID with --max-gap 0.5, and gets a new one with --max-gap 0.1")
    func shortExit() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = dir.path("exit.mp4")
        try Self.sideBySide(video, rightHidden: [(0.8, 1.1)])
        let kept = try people(video, dir.path("a.csv"), ["--people", "all", "--max-gap", "0.5"], weights: weights)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stderr.contains("2 people found") && !FileManager.default.fileExists(atPath: dir.path("a.p3.csv")), "\(kept.stderr)")
        let boxer = try #require(kept.stderr.split(separator: "\n").first { $0.contains("frames 0-49") && $0.contains("interpolated") && !$0.contains("(0 interpolated)") })
        #expect(boxer.contains("no gaps"), "the absence is filled: \(boxer)")

        let split = try people(video, dir.path("b.csv"), ["--people", "all", "--max-gap", "0.1"], weights: weights)
        #expect(split.status == 0, "\(split.stderr)")
        #expect(split.stderr.contains("3 people found") && FileManager.default.fileExists(atPath: dir.path("b.p3.csv")), "\(split.stderr)")
    }

    @Test("--people 2 of three keeps the two --person-order names: the largest, or the first to appear")
    func choosing() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        // Left: the walker (small); middle: the boxer (large), walking in after 1 s; right: the boxer
        // at 0.6 size (medium), there from the start.
        let video = dir.path("three.mp4")
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-i", Self.punch, "-filter_complex",
                           "[1:v]split[p][q];[p]drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='lt(t,1)'[b];[q]scale=384:288,pad=640:480:128:192:color=0x9a9e9c[s];[0:v][b][s]hstack=inputs=3",
                           "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", video])
        func kept(_ prefix: String) throws -> [Double] {
            try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(prefix) }.sorted()
                .map { mean(try pelvisX(dir.path($0))) }.sorted()
        }
        let largest = try people(video, dir.path("l.csv"), ["--people", "2", "--person-order", "largest", "--keypoints-2d", dir.path("l_2d.csv")], weights: weights)
        #expect(largest.status == 0 && largest.stderr.contains("3 people found, 2 written"), "\(largest.stderr)")
        let big = try kept("l_2d.p")
        // The big boxer (640..1280) and the medium one (1280..1920); not the walker.
        #expect(big.count == 2 && (640...1280).contains(big[0]) && big[1] > 1280, "\(big)")

        let first = try people(video, dir.path("f.csv"), ["--people", "2", "--person-order", "first", "--keypoints-2d", dir.path("f_2d.csv")], weights: weights)
        #expect(first.status == 0, "\(first.stderr)")
        let early = try kept("f_2d.p")
        // The two there from frame 0: the walker and the medium boxer.
        #expect(early.count == 2 && early[0] < 640 && early[1] > 1280, "\(early)")
    }

    @Test("--people 1 is the single-person run; bad values are one-line errors")
    func singleAndErrors() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let short = dir.path("s.mp4")
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-t", "1", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", short])
        #expect(try people(short, dir.path("a.csv"), [], weights: weights).status == 0)
        #expect(try people(short, dir.path("b.csv"), ["--people", "1"], weights: weights).status == 0)
        #expect(try String(contentsOfFile: dir.path("a.csv"), encoding: .utf8) == (try String(contentsOfFile: dir.path("b.csv"), encoding: .utf8)))
        let zero = try people(short, dir.path("c.csv"), ["--people", "0"], weights: weights)
        #expect(zero.status == 1 && zero.stderr == "error: --people 0: expected a number from 1 or all\n", "\(zero.stderr)")
        let order = try people(short, dir.path("c.csv"), ["--people", "2", "--person-order", "tallest"], weights: weights)
        #expect(order.status == 1 && order.stderr == "error: --person-order tallest: expected largest, first or center\n", "\(order.stderr)")
    }

    /// The temporary files of runs in `dir` (staged outputs) and in the temporary folder (people put
    /// aside by process `pid`).
    static func leftovers(_ dir: ClipDir, pid: Int32? = nil) throws -> [String] {
        var names = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter(isTemporaryName)
        if let pid {
            names += try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix(".mhformer-\(pid)-") }
        }
        return names
    }

    @Test("a person who leaves for good is written with exactly their span, finished while the video goes on")
    func earlyExit() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = dir.path("gone.mp4")
        // The boxer (right) is there for the first second only; --max-gap 0.1 closes their track a
        // few frames later, half-way through the video.
        try Self.sideBySide(video, rightHidden: [(1, 2)])
        let r = try people(video, dir.path("o.csv"), ["--people", "all", "--max-gap", "0.1", "--keypoints-2d", dir.path("k.csv")], weights: weights)
        #expect(r.status == 0 && r.stderr.contains("2 people found"), "\(r.stderr)")
        let boxerID = try mean(pelvisX(dir.path("k.p1.csv"))) > 640 ? 1 : 2
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("person \(boxerID): frames 0-") }, "\(r.stderr)")
        let last = try #require(Int(line.split(separator: " ")[3].split(separator: "-")[1].trimmingCharacters(in: .punctuationCharacters)))
        #expect((22...26).contains(last), "\(line)")
        // Every file of theirs: a row per frame from 0 to their last, the video's numbers and times.
        let motion = try read3DCSV(dir.path("o.p\(boxerID).csv"))
        #expect(motion.frames == Array(0...last), "\(motion.frames)")
        let rows2D = try String(contentsOfFile: dir.path("k.p\(boxerID).csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows2D.count == last + 1 && rows2D.compactMap { Int($0.split(separator: ",")[0]) } == Array(0...last), "\(rows2D.count)")
        let lastTime = try #require(Double(String(contentsOfFile: dir.path("o.p\(boxerID).csv"), encoding: .utf8).split(separator: "\n")[last + 1].split(separator: ",")[1]))
        #expect(abs(lastTime - Double(last) / 25) < 1e-6)
        // The walker, there throughout, covers the video.
        #expect(try read3DCSV(dir.path("o.p\(3 - boxerID).csv")).frames == Array(0..<50))
        #expect(try Self.leftovers(dir).isEmpty)
    }

    @Test("a run that fails at the end, or is interrupted, after people were staged leaves no output and no temporary file")
    func failedAndInterrupted() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = dir.path("gone.mp4")
        try Self.sideBySide(video, rightHidden: [(1, 2)])
        // .xyz is no video container: the overlay fails at the end, after both people's files were staged.
        let failed = try people(video, dir.path("o.csv"), ["--people", "all", "--max-gap", "0.1", "--overlay", dir.path("o.xyz")], weights: weights)
        #expect(failed.status == 1 && failed.stderr.hasPrefix("error: ") && failed.stderr.contains("o.xyz"), "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix("o.") }.isEmpty)
        #expect(try Self.leftovers(dir).isEmpty)

        // Ctrl-C once the person who left was put aside (world frame: finished at the end, on disk till then).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.tool)
        p.arguments = ["run", video, "-o", dir.path("w.csv"), "--weights", weights, "--no-flip", "--threads", "1",
                       "--people", "all", "--max-gap", "0.1", "--coords", "world"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        var putAside = false
        for _ in 0..<6000 where p.isRunning {           // up to 2 minutes on a busy machine
            if try !Self.leftovers(dir, pid: p.processIdentifier).isEmpty { putAside = true; break }
            usleep(20_000)
        }
        p.interrupt()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(putAside, "no person was put aside before the end: \(message)")
        #expect(p.terminationStatus == 130, "\(p.terminationStatus): \(message)")
        #expect(try Self.leftovers(dir, pid: p.processIdentifier).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix("w.") }.isEmpty)
    }
}
