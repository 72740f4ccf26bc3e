// `mhformer run` on damaged videos (DamagedClips): the damage is reported after the summary, --strict
// turns it into a one-line error with nothing written, and repaired time stamps reach time_s and the
// frame rate the outputs declare.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("mhformer run: damaged videos are reported", .enabled(if: DamagedClips.ready && SampleVideo.ready, BlazePoseFiles.skipReason))
struct DamageReportRunTests {
    /// The column `name` of a CSV as numbers.
    private func column(_ name: String, of path: String) throws -> [Double] {
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let index = try #require(rows.first?.firstIndex(of: Substring(name)), "\(path) has no \(name) column")
        return rows.dropFirst().map { Double($0[index]) ?? .nan }
    }

    /// True when `times` are 0, 0.04, 0.08, ... (25 fps from the first frame).
    private func evenlySpaced(_ times: [Double]) -> Bool {
        times.enumerated().allSatisfy { abs($1 - Double($0) * 0.04) < 1e-6 }
    }

    @Test("a damaged index: the rows that decode, and a warning saying 47 of 52 frames could not be decoded")
    func damagedIndex() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.damagedIndex(in: dir), out = dir.path("o.csv")
        let r = try run(Paths.tool, ["run", video, "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("5 frames, 5 with a person") == true, "\(r.stderr)")
        #expect(lines.last == "warning: \(video): 47 of 52 frames could not be decoded", "\(r.stderr)")
        #expect(try read3DCSV(out).frames == Array(0..<5))
    }

    @Test("--strict: a damaged video is a one-line error, exit 1, nothing written")
    func strictRefuses() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.damagedIndex(in: dir), out = dir.path("o.csv"), out2D = dir.path("o_2d.csv")
        let r = try run(Paths.tool, ["run", video, "--strict", "-o", out, "--keypoints-2d", out2D, "--weights", weights])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(video): damaged video: 47 of 52 frames could not be decoded; nothing written (--strict)\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out2D))
    }

    /// The container hid 47 of the 52 frames (a damaged edit list): said, and refused by --strict.
    @Test("a damaged edit list: a warning, and --strict refuses it")
    func damagedEditList() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.damagedEditList(in: dir), out = dir.path("o.csv"), strictOut = dir.path("s.csv")
        let r = try run(Paths.tool, ["run", video, "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let warning = "\(video): 47 of 52 packets dropped by the container (its edit list hides them)"
        #expect(r.stderr.split(separator: "\n").last.map(String.init) == "warning: \(warning)", "\(r.stderr)")
        #expect(try read3DCSV(out).frames == Array(0..<5))
        let strict = try run(Paths.tool, ["run", video, "--strict", "-o", strictOut, "--weights", weights])
        #expect(strict.status == 1 && strict.stderr == "error: \(video): damaged video: \(warning.dropFirst(video.count + 2)); nothing written (--strict)\n", "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: strictOut))
    }

    @Test("--strict on an intact clip runs as usual, without a warning")
    func strictAcceptsIntact() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.intact(in: dir), out = dir.path("o.csv")
        let r = try run(Paths.tool, ["run", video, "--strict", "-o", out, "--weights", weights])
        #expect(r.status == 0 && !r.stderr.contains("warning"), "\(r.stderr)")
        #expect(try read3DCSV(out).frames == Array(0..<52))
        #expect(evenlySpaced(try column("time_s", of: out)))
    }

    /// The audit's second finding: a file with many decoder errors said nothing.
    @Test("garbage in the packets: the warning gives the frames lost and the decoder errors, as the reader counts them")
    func decoderErrors() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.garbage(in: dir), out = dir.path("o.csv")
        let expected = try decodeAll(video).summary
        try #require(expected.decoderErrors > 0 && expected.framesNotDecoded > 0, "\(expected)")
        let r = try run(Paths.tool, ["run", video, "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let warning = try #require(r.stderr.split(separator: "\n").last.map(String.init))
        #expect(warning.hasPrefix("warning: \(video): \(expected.framesNotDecoded) of 52 frames could not be decoded; "), "\(warning)")
        #expect(warning.contains("; \(expected.decoderErrors) decoder errors"), "\(warning)")
        #expect(try read3DCSV(out).frames.count == 52 - expected.framesNotDecoded)
    }

    /// time_s used to be 0 on every row, and the JSON's fps the --fps fallback (30) as the median
    /// step was 0; now the rows are 0.04 s apart and the declared rate is the measured 25.
    @Test("all-zero time stamps: repaired time_s in the 2D CSV and the JSON, which declares the measured 25 fps")
    func zeroTimestamps() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.zeroTimestamps(in: dir), out = dir.path("o.json"), out2D = dir.path("o_2d.csv")
        let r = try run(Paths.tool, ["run", video, "-o", out, "--keypoints-2d", out2D, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").last == "warning: \(video): 51 time stamps repaired", "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(abs((json["fps"] as? Double ?? 0) - 25) < 1e-6, "\(json["fps"] ?? "no fps")")   // 1 / the median step
        let frames = try #require(json["frames"] as? [[String: Any]])
        #expect(frames.count == 52 && evenlySpaced(frames.compactMap { $0["time_s"] as? Double }))
        #expect(evenlySpaced(try column("time_s", of: out2D)))
    }

    @Test("time stamps that run backwards: time_s in the 3D CSV increases again")
    func backwardsTimestamps() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let video = try DamagedClips.backwardsTimestamps(in: dir), out = dir.path("o.csv")
        let r = try run(Paths.tool, ["run", video, "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").last == "warning: \(video): 10 time stamps repaired", "\(r.stderr)")
        let times = try column("time_s", of: out)
        #expect(times.count == 52 && evenlySpaced(times), "\(times)")
    }
}
