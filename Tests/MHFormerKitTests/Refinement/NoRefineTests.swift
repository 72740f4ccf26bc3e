// `--no-refine` turns the motion stage off and gives exactly what the tool wrote before the stage
// existed: the outputs of commit b3a91b2's binary (Tests/Fixtures/no-refine/README.md says how they
// were made), byte for byte, in every format and coordinate frame.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("--no-refine gives the output from before the motion stage", .enabled(if: DefaultWeights.find() != nil, "no default weights in Models/"))
struct NoRefineTests {
    static let fixtures = Paths.repo.appendingPathComponent("Tests/Fixtures/no-refine")

    /// (file name, extra options) of `mhformer lift --keypoints Tests/Fixtures/cmu-val-clip/keypoints_2d.csv`.
    static let liftCases: [(String, [String])] = [
        ("lift.csv", []), ("lift.json", []), ("lift.trc", []), ("lift.bvh", []),
        ("lift_world.json", ["--coords", "world"]), ("lift_world.bvh", ["--coords", "world"]),
        ("lift_demo.csv", ["--coords", "demo"]), ("lift_smooth.csv", ["--smooth"]),
    ]

    @Test("lift --no-refine: every format and frame byte for byte", arguments: liftCases.map(\.0))
    func lift(name: String) throws {
        let extra = Self.liftCases.first { $0.0 == name }!.1
        let dir = ClipDir(); defer { dir.remove() }
        let out = dir.path(name)
        let r = try run(Paths.tool, ["lift", "--keypoints", Paths.repo.appendingPathComponent("Tests/Fixtures/cmu-val-clip/keypoints_2d.csv").path,
                                     "-o", out, "--no-refine", "--weights", DefaultWeights.find()!] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == expected, "\(name) differs from the output before the motion stage")
    }

    @Test("run --no-refine on the sample walk: the CSV byte for byte", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
    func runSample() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let out = dir.path("run.csv")
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", out, "--no-refine", "--weights", DefaultWeights.find()!])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: Self.fixtures.appendingPathComponent("run.csv")))
    }

    /// And the stage does change them: the default differs from the fixture.
    @Test("without --no-refine the output is not the old one")
    func defaultDiffers() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let out = dir.path("lift.csv")
        let r = try run(Paths.tool, ["lift", "--keypoints", Paths.repo.appendingPathComponent("Tests/Fixtures/cmu-val-clip/keypoints_2d.csv").path,
                                     "-o", out, "--weights", DefaultWeights.find()!])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) != Data(contentsOf: Self.fixtures.appendingPathComponent("lift.csv")))
    }
}
