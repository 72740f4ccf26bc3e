// The library example of docs/library.md, compiled and run: the code between the markers below must
// be that page's swift block, line for line, and its result must be what `mhformer run` writes for the
// same video and options.

import Foundation
import MHFormerKit
import Testing

/// The docs/library.md example as a function (the lines between the markers are compared with that page).
func readmeExample() throws -> PoseJobResult {
    // docs/library.md example begin
    var job = PoseJob(input: .video("Samples/cmu131_walk.mp4"))
    job.post.coordinates = .world                  // the scene, Y up, ground at 0 (default: .camera)
    // job.outputs.motion = "walk.bvh"             // also write a file: .csv, .json, .trc or .bvh
    let result = try PosePipeline(job).run()
    let wrist = result.pose.joint(0, .leftWrist)   // metres, frame 0
    print("\(result.frames) frames, \(result.detectedFrames) with a person; left wrist at \(wrist)")
    // docs/library.md example end
    return result
}

@Suite("docs/library.md library example")
struct ReadmeExampleTests {
    @Test("docs/library.md's swift block is the code this test runs")
    func sameCode() throws {
        let page = try String(contentsOf: Paths.repo.appendingPathComponent("docs/library.md"), encoding: .utf8)
        let afterMarker = try #require(page.range(of: "<!-- library-example:")).upperBound
        let fence = try #require(page.range(of: "```swift\n", range: afterMarker..<page.endIndex))
        let end = try #require(page.range(of: "```", range: fence.upperBound..<page.endIndex))
        let pageLines = page[fence.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("import ") && !$0.isEmpty }

        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// docs/library.md example begin\n"))
        let stop = try #require(source.range(of: "    // docs/library.md example end"))
        let testLines = source[begin.upperBound..<stop.lowerBound].split(separator: "\n")
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }
        #expect(pageLines == testLines)
    }

    @Test("runs, and gives what `mhformer run --coords world` writes",
          .enabled(if: DefaultWeights.find() != nil && SampleVideo.ready, "needs Models/mhformer-cmu-T*.safetensors and BlazePose's models"))
    func runsLikeTheCommandLine() throws {
        // The example's relative paths are the repository's, as in docs/library.md.
        // One OpenBLAS thread here and in the command: BlazePose's keypoints move by up to 8 px on this
        // clip between 1 and 2 threads (sgemm's summation order, amplified by tracking). The parity
        // suites set 1 too, so a parallel test cannot change it under this one.
        setBLASThreads(1)
        let saved = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(Paths.repo.path)
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        let result = try readmeExample()
        #expect(result.frames > 100 && result.detectedFrames == result.frames)
        #expect(result.written.isEmpty)

        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("walk.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "--coords", "world", "-o", csv, "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let cli = try read3DCSV(csv)
        #expect(cli.frames == result.pose.frames)
        // The CSV prints float32 values so that they read back exactly: bit-identical.
        let diff = maxAbsDiff(cli.values, result.pose.joints)
        #expect(diff == 0, "largest difference \(diff) m")
    }
}
