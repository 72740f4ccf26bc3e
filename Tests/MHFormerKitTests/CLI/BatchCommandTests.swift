// `mhformer batch`: the issue's folder (a good video, one in a subfolder, a truncated file, a text
// file named .mp4), resuming (a second run touches nothing; a changed input or option runs again),
// an interrupt that leaves no partial output, a crashing video that does not stop the others,
// sharding and list files. The videos are one-second cuts of the sample clip, lifted without flip.

import Foundation
import Testing
@testable import MHFormerKit

/// Every file under `dir` (relative path → modification time), batch-summary files left out.
private func outputTimes(_ dir: String) -> [String: Double] {
    var times: [String: Double] = [:]
    let walker = FileManager.default.enumerator(atPath: dir)
    while let relative = walker?.nextObject() as? String {
        let path = (dir as NSString).appendingPathComponent(relative)
        guard !relative.hasPrefix("batch-summary"), let (_, modified) = FileFingerprint.sizeAndTime(path) else { continue }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue { times[relative] = modified }
    }
    return times
}

/// Hidden staged files anywhere under `dir`.
private func stagedFiles(_ dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter {
        let name = ($0 as NSString).lastPathComponent
        return name.hasPrefix(".partial-") || name.hasPrefix(".tmp-")
    }
}

private func summary(_ outdir: String, _ name: String = "batch-summary.json") throws -> BatchSummary {
    try #require(BatchSummary.load((outdir as NSString).appendingPathComponent(name)), "no \(name) in \(outdir)")
}

private func status(_ s: BatchSummary, _ input: String) -> BatchVideoResult.Status? {
    s.videos.first { $0.input == input }?.status
}

@Suite("mhformer batch", .enabled(if: SampleVideo.ready && FFmpegCLI.available, BlazePoseFiles.skipReason))
struct BatchCommandTests {
    /// A one-second cut of the sample clip (25 frames), re-encoded so that it decodes on its own.
    static func shortClip(_ path: String, seconds: Double = 1) throws {
        try FFmpegCLI.run(["-i", SampleVideo.video.path, "-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", path])
    }

    func batch(_ args: [String], weights: String) throws -> RunResult {
        try run(Paths.tool, ["batch"] + args + ["--weights", weights, "--no-flip", "--threads", "1"])
    }

    @Test("a folder with a good video, one in a subfolder, a truncated file and a text file named .mp4: outputs for the good ones, errors for the others, exit 1; a second run changes nothing")
    func issueFolder() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in"), outdir = dir.path("out")
        try FileManager.default.createDirectory(atPath: input + "/sub", withIntermediateDirectories: true)
        try Self.shortClip(input + "/walk.mp4")
        try Self.shortClip(input + "/sub/walk.mp4")
        let bytes = try Data(contentsOf: SampleVideo.video)
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: input + "/truncated.mp4"))
        try Data("these are my notes, not a video\n".utf8).write(to: URL(fileURLWithPath: input + "/notes.mp4"))

        let first = try batch([input, "-o", outdir, "--format", "csv", "--format", "bvh"], weights: weights)
        #expect(first.status == 1, "\(first.stderr)")
        let s = try summary(outdir)
        #expect(s.totals.videos == 4 && s.totals.ok == 2 && s.totals.failed == 2 && s.totals.skipped == 0, "\(s.totals)")
        for good in ["walk", "sub/walk"] {
            #expect(status(s, input + "/\(good).mp4") == .ok)
            #expect(try read3DCSV(outdir + "/\(good).csv").frames == Array(0..<25))
            #expect(FileManager.default.fileExists(atPath: outdir + "/\(good).bvh"))
            let record = try #require(BatchRecord.load(outdir + "/\(good).record.json"))
            #expect(record.status == .ok && record.frames == 25 && record.tool == MHFormerVersion.tool)
            #expect(record.input.sha256 == (try FileFingerprint.sha256(input + "/\(good).mp4")))
            #expect(record.settings.formats == ["csv", "bvh"])
        }
        let truncated = try #require(s.videos.first { $0.input == input + "/truncated.mp4" })
        #expect(truncated.status == .failed && truncated.error?.contains("damaged video") == true, "\(truncated)")
        let notes = try #require(s.videos.first { $0.input == input + "/notes.mp4" })
        #expect(notes.status == .failed && notes.error?.hasPrefix(input + "/notes.mp4: not a video file") == true, "\(notes)")
        for broken in ["truncated", "notes"] { #expect(!FileManager.default.fileExists(atPath: outdir + "/\(broken).csv")) }
        #expect(stagedFiles(outdir).isEmpty)

        let before = outputTimes(outdir)
        let second = try batch([input, "-o", outdir, "--format", "csv", "--format", "bvh"], weights: weights)
        #expect(second.status == 1, "\(second.stderr)")
        #expect(outputTimes(outdir) == before, "the second run changed files")
        let s2 = try summary(outdir)
        #expect(s2.totals.skipped == 2 && s2.totals.failed == 2 && s2.totals.ok == 0, "\(s2.totals)")
    }

    @Test("a changed input or changed options run again; a touched but unchanged input is skipped")
    func changes() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in"), outdir = dir.path("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try Self.shortClip(input + "/a.mp4")
        try Self.shortClip(input + "/b.mp4")
        #expect(try batch([input, "-o", outdir], weights: weights).status == 0)

        // a.mp4 touched (same bytes, new time): skipped on its hash. b.mp4 replaced by a longer cut: runs.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: input + "/a.mp4")
        try FileManager.default.removeItem(atPath: input + "/b.mp4")
        try Self.shortClip(input + "/b.mp4", seconds: 1.2)
        let r = try batch([input, "-o", outdir, "--json-lines"], weights: weights)
        #expect(r.status == 0, "\(r.stderr)")
        let s = try summary(outdir)
        #expect(status(s, input + "/a.mp4") == .skipped && status(s, input + "/b.mp4") == .ok, "\(s.videos)")
        #expect(try read3DCSV(outdir + "/b.csv").frames.count == 30)
        // One JSON line per video on stdout.
        let lines = r.stdout.split(separator: "\n").map { try? JSONDecoder().decode(BatchVideoResult.self, from: Data($0.utf8)) }
        #expect(lines.count == 2 && lines.allSatisfy { $0 != nil }, "\(r.stdout)")

        // Other options (the world frame): both run again.
        #expect(try batch([input, "-o", outdir, "--coords", "world"], weights: weights).status == 0)
        #expect(try summary(outdir).totals.ok == 2)
        // The performer's height is a setting too: both run again, and the skeleton has it.
        #expect(try batch([input, "-o", outdir, "--coords", "world", "--height", "1.8"], weights: weights).status == 0)
        #expect(try summary(outdir).totals.ok == 2)
        let (frames, values) = try read3DCSV(outdir + "/a.csv")
        let pose = Pose3DSequence(frames: frames, times: frames.map { _ in nil }, joints: values, present: frames.map { _ in true })
        #expect(abs(try #require(PerformerHeight.height(of: pose)) - 1.8) < 0.005)
    }

    @Test("SIGTERM during a video: exit 143, no partial output and no record; the next run does only that video")
    func interrupted() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in"), outdir = dir.path("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try Self.shortClip(input + "/a.mp4")
        try FileManager.default.copyItem(atPath: SampleVideo.video.path, toPath: input + "/long.mp4")   // 8 s
        #expect(try batch([input + "/a.mp4", "-o", outdir, "--input-root", input], weights: weights).status == 0)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.tool)
        p.arguments = ["batch", input, "-o", outdir, "--weights", weights, "--no-flip", "--threads", "1"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the child works on long.mp4, then stop the batch.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try run("/usr/bin/pgrep", ["-f", "child-video.*\(input)/long.mp4"]).status != 0 { usleep(100_000) }
        usleep(1_500_000)
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        usleep(300_000)   // the child removes its staged files as it exits
        #expect(stagedFiles(outdir).isEmpty, "\(stagedFiles(outdir))")
        #expect(!FileManager.default.fileExists(atPath: outdir + "/long.csv") && !FileManager.default.fileExists(atPath: outdir + "/long.record.json"))

        let aTime = outputTimes(outdir)["a.csv"]
        let r = try batch([input, "-o", outdir, "--json-lines"], weights: weights)
        #expect(r.status == 0, "\(r.stderr)")
        let s = try summary(outdir)
        #expect(status(s, input + "/a.mp4") == .skipped && status(s, input + "/long.mp4") == .ok, "\(s.videos)")
        #expect(outputTimes(outdir)["a.csv"] == aTime)
    }

    @Test("SIGKILL of the batch: its child stops too (no orphan finishes the video), leaving no staged file")
    func parentKilled() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in"), outdir = dir.path("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SampleVideo.video.path, toPath: input + "/long.mp4")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.tool)
        p.arguments = ["batch", input, "-o", outdir, "--weights", weights, "--no-flip", "--threads", "1"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pattern = "child-video.*\(input)/long.mp4"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try run("/usr/bin/pgrep", ["-f", pattern]).status != 0 { usleep(100_000) }
        usleep(1_000_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        var childGone = false
        for _ in 0..<30 where !childGone { usleep(100_000); childGone = try run("/usr/bin/pgrep", ["-f", pattern]).status != 0 }
        #expect(childGone, "the child outlived its killed parent")
        #expect(stagedFiles(outdir).isEmpty, "\(stagedFiles(outdir))")
        #expect(!FileManager.default.fileExists(atPath: outdir + "/long.csv") && !FileManager.default.fileExists(atPath: outdir + "/long.record.json"))
    }

    @Test("a video whose process is killed is recorded as failed with the signal, and the batch goes on")
    func killedChild() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in"), outdir = dir.path("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SampleVideo.video.path, toPath: input + "/a_long.mp4")
        try Self.shortClip(input + "/b.mp4")
        let killer = Thread {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if let r = try? run("/usr/bin/pkill", ["-KILL", "-f", "child-video.*\(input)/a_long.mp4"]), r.status == 0 { return }
                usleep(200_000)
            }
        }
        killer.start()
        let r = try batch([input, "-o", outdir], weights: weights)
        #expect(r.status == 1, "\(r.stderr)")
        let s = try summary(outdir)
        let killed = try #require(s.videos.first { $0.input == input + "/a_long.mp4" })
        #expect(killed.status == .failed && killed.error?.contains("stopped by signal 9") == true, "\(killed)")
        #expect(status(s, input + "/b.mp4") == .ok)
        // SIGKILL may leave the child's staged files; the next run of that video removes them.
        let again = try batch([input, "-o", outdir, "--retry-failed"], weights: weights)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(stagedFiles(outdir).isEmpty, "\(stagedFiles(outdir))")
        #expect(try read3DCSV(outdir + "/a_long.csv").frames.count == 200)
    }

    @Test("--shard I/N splits the videos without overlap; --plan prints them; a list file names videos relative to itself")
    func shardsPlanAndLists() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let input = dir.path("in")
        try FileManager.default.createDirectory(atPath: input + "/x", withIntermediateDirectories: true)
        for name in ["a.mp4", "b.mov", "x/c.mkv", "x/d.avi", "e.webm"] { try Data().write(to: URL(fileURLWithPath: input + "/" + name)) }
        try Data("# my clips\na.mp4\n\nx/c.mkv\nmissing.mp4\n".utf8).write(to: URL(fileURLWithPath: input + "/list.txt"))
        struct Plan: Decodable { struct V: Decodable { var input: String; var record: String; var outputs: [String] }; var outdir: String; var input_root: String; var videos: [V] }
        func plan(_ extra: [String]) throws -> Plan {
            let r = try batch(extra + ["-o", dir.path("out"), "--plan"], weights: weights)
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONDecoder().decode(Plan.self, from: Data(r.stdout.utf8))
        }
        let all = try plan([input]).videos.map(\.input)
        #expect(all == ["a.mp4", "b.mov", "e.webm", "x/c.mkv", "x/d.avi"].map { input + "/" + $0 })
        let one = try plan([input, "--shard", "1/2"]).videos.map(\.input), two = try plan([input, "--shard", "2/2"]).videos.map(\.input)
        #expect(Set(one).isDisjoint(with: two) && (one + two).sorted() == all)
        let listed = try plan([input + "/list.txt"])
        #expect(listed.videos.map(\.input) == ["a.mp4", "missing.mp4", "x/c.mkv"].map { input + "/" + $0 })
        #expect(listed.videos.last?.outputs == [dir.path("out") + "/x/c.csv"] && listed.input_root == input)
        #expect(!FileManager.default.fileExists(atPath: dir.path("out")), "--plan created the output folder")
        // Bad shards and empty inputs stop the batch before it starts: exit 2.
        #expect(try batch([input, "-o", dir.path("out"), "--shard", "3/2"], weights: weights).status == 2)
        try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: true)
        let empty = try batch([dir.path("empty"), "-o", dir.path("out")], weights: weights)
        #expect(empty.status == 2 && empty.stderr.hasPrefix("error: \(dir.path("empty")): no video files found"), "\(empty.stderr)")
    }
}

@Suite("Batch plan, records and settings")
struct BatchPlanTests {
    func settings(formats: [String] = ["csv"]) -> BatchSettings {
        var s = try! JSONDecoder().decode(BatchSettings.self, from: Data(#"{"pose2dModel":"blazepose","blazePoseFolder":"/m","maxGapSeconds":0.5,"strict":true,"people":"1","personOrder":"largest","offlineTracking":true,"weights":"/m/w.safetensors","weightsSha256":"ab","flip":true,"rigidSkeleton":true,"coordinates":"camera","zUp":false,"fovDegrees":60,"fps":30,"refine":{"enabled":true,"jointCutoffHz":6,"rootCutoffHz":2,"rootDepthCutoffHz":0.5,"footLock":true},"formats":["csv"],"scoreColumns":false,"contactColumns":false,"keypoints2d":false,"overlay":false,"plot":false,"viewer":false}"#.utf8))
        s.formats = formats
        return s
    }

    @Test("outputs mirror the folders under the deepest common folder; OUTDIR inside the input is not searched")
    func mirroring() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let root = dir.path("clips")
        try FileManager.default.createDirectory(atPath: root + "/day1/cam", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/out/old", withIntermediateDirectories: true)
        for name in ["day1/cam/a.mp4", "day1/a.mp4", "out/old/z.mp4", ".hidden.mp4", "readme.md"] {
            try Data().write(to: URL(fileURLWithPath: root + "/" + name))
        }
        var s = settings(formats: ["csv", "bvh"])
        s.keypoints2d = true
        let plan = try BatchPlan.make(inputs: [root], outdir: root + "/out", settings: s)
        #expect(plan.inputRoot == root + "/day1")
        #expect(plan.videos.map(\.input) == [root + "/day1/a.mp4", root + "/day1/cam/a.mp4"])
        #expect(plan.videos[1].outputs.files == [root + "/out/cam/a.csv", root + "/out/cam/a.bvh", root + "/out/cam/a.2d.csv"])
        #expect(plan.videos[1].outputs.record == root + "/out/cam/a.record.json")
        // --angles adds NAME.angles.csv, and the video's job writes it there.
        s.angles = true
        let withAngles = try BatchPlan.make(inputs: [root], outdir: root + "/out", settings: s)
        #expect(withAngles.videos[1].outputs.files.last == root + "/out/cam/a.angles.csv")
        #expect(s.job(video: withAngles.videos[1].input, outputs: withAngles.videos[1].outputs, threads: nil).outputs.angles == root + "/out/cam/a.angles.csv")
    }

    @Test("two videos of one folder differing only in extension keep it; outputs that would collide are refused")
    func clashes() throws {
        let dir = ClipDir(); defer { dir.remove() }
        for name in ["a.mp4", "a.mov", "b.mp4"] { try Data().write(to: URL(fileURLWithPath: dir.path(name))) }
        let plan = try BatchPlan.make(inputs: [dir.url.path], outdir: dir.path("out"), settings: settings())
        #expect(plan.videos.map { $0.outputs.motion } == [[dir.path("out/a.mov.csv")], [dir.path("out/a.mp4.csv")], [dir.path("out/b.csv")]])
        // b.mp4 (--keypoints-2d: b.2d.csv) and b.2d.mp4 (motion: b.2d.csv) would write one file.
        try Data().write(to: URL(fileURLWithPath: dir.path("b.2d.mp4")))
        var s = settings()
        s.keypoints2d = true
        #expect(throws: MHFormerError.self) { try BatchPlan.make(inputs: [dir.url.path], outdir: dir.path("out"), settings: s) }
    }

    @Test("settings compare by weights hash, not by where the files lie")
    func settingsIdentity() {
        let a = settings()
        var b = a
        b.weights = "/elsewhere/w.safetensors"
        b.blazePoseFolder = "/elsewhere"
        #expect(a.makesSameOutputs(as: b))
        b.weightsSha256 = "cd"
        #expect(!a.makesSameOutputs(as: b))
        var c = a
        c.formats = ["csv", "json"]
        #expect(!a.makesSameOutputs(as: c))
        var d = a
        d.height = 1.8
        #expect(!a.makesSameOutputs(as: d))
    }

    @Test("a fingerprint matches a touched copy with the same bytes and not a changed file of the same size")
    func fingerprints() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let path = dir.path("f.bin")
        try Data("abcdef".utf8).write(to: URL(fileURLWithPath: path))
        let f = try FileFingerprint.make(path)
        #expect(f.sha256 == "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 100)], ofItemAtPath: path)
        #expect(f.matches(path))
        try Data("abcdeg".utf8).write(to: URL(fileURLWithPath: path))
        #expect(!f.matches(path))
    }
}
