// The project's own weights (Models/mhformer-cmu-T27.safetensors, trained by Training/): the Swift
// command line with its default weights gives the same 3D as the PyTorch model that was trained, on
// a clip of a validation subject (Tests/Fixtures/cmu-val-clip, made by Training/make_swift_reference.py).

import Foundation
import Testing
@testable import MHFormerKit

@Suite("shipped weights", .enabled(if: DefaultWeights.find() != nil, "Models/mhformer-cmu-T*.safetensors absent"))
struct ShippedWeightsTests {
    @Test("mhformer lift with the default weights reproduces the PyTorch model within 1e-4")
    func matchesPyTorch() throws {
        let fixtures = Paths.repo.appendingPathComponent("Tests/Fixtures/cmu-val-clip")
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.csv").path
        // no --weights: the default lookup must find Models/ beside the build tree
        let r = try run(Paths.tool, ["lift", "--keypoints", fixtures.appendingPathComponent("keypoints_2d.csv").path, "-o", out,
                                     "--no-rigid-skeleton", "--no-refine"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("mhformer-cmu-T27.safetensors"), "\(r.stderr)")
        let (frames, mine) = try read3DCSV(out)
        let (refFrames, reference) = try read3DCSV(fixtures.appendingPathComponent("reference_3d_torch.csv").path)
        #expect(frames == refFrames && frames.count == 120)
        let err = maxAbsDiff(mine, reference)
        #expect(err <= 1e-4, "max abs difference from PyTorch \(err) m")
    }

    @Test("the weights load strictly with the documented configuration")
    func configuration() throws {
        let model = try MHFormerModel(path: try #require(DefaultWeights.find()))
        #expect(model.config == MHFormerConfig(frames: 27, channel: 128, dHid: 256, layers: 3, embeddingHasBatchNorm: true))
    }
}
