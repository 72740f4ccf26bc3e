// Parity with the official PyTorch MHFormer: outputs of the official code with random weights
// (../shared/fixtures/mhformer, see its README) reproduced by converter + Swift, max abs error <= 1e-4.
// The intermediates of one window are compared stage by stage, so a failure names the first layer
// that differs.

import Foundation
import Testing
@testable import MHFormerKit

private let tolerance: Float = 1e-4
private let configs = ["small27", "small81"]

/// One converted fixture model, shared by the tests of a config.
private func loadFixtureModel(_ config: String) throws -> MHFormerModel {
    let dir = try Paths.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let st = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("\(config)/small_model.pth"), into: dir)
    return try MHFormerModel(path: st)
}

private func fixture(_ config: String, _ name: String) throws -> NpyArray {
    try Npy.read(Paths.mhformerFixtures.appendingPathComponent("\(config)/\(name).npy"))
}

@Suite("MHFormer parity with the official implementation", .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent: parity cases skipped"))
struct MHFormerParityTests {
    init() { setBLASThreads(1) }

    @Test("config inferred from tensor shapes", arguments: configs)
    func configInferred(config: String) throws {
        let model = try loadFixtureModel(config)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Paths.mhformerFixtures.appendingPathComponent("\(config)/config.json"))) as! [String: Any]
        #expect(model.config.frames == json["frames"] as? Int)
        #expect(model.config.channel == json["channel"] as? Int)
        #expect(model.config.dHid == json["d_hid"] as? Int)
        #expect(model.config.layers == json["layers"] as? Int)
        #expect(model.config.embeddingHasBatchNorm == (json["embedding_variant"] as? String == "conv+bn+relu"))
    }

    @Test("one window: every intermediate and the raw output", arguments: configs)
    func windowIntermediates(config: String) throws {
        let model = try loadFixtureModel(config)
        let T = model.config.frames, C = model.config.channel
        var mine: [String: [Float]] = [:]
        model.trace = { name, values, _ in mine[name] = values }
        let input = try fixture(config, "window_input")
        let y = model.forward(input.values, batch: 1)
        let reference = try Npy.readArchive(Paths.mhformerFixtures.appendingPathComponent("\(config)/window_intermediates.npz"))
        #expect(reference.count >= 20)
        // In pipeline order, so the first failure is the stage where the mismatch starts.
        let order = ["mhg_in", "mhg_norm_1", "mhg_encoder_1_out", "mhg_x1", "embedding_1_out", "mhg_norm_2",
                     "mhg_encoder_2_out", "mhg_x2", "embedding_2_out", "mhg_norm_3", "mhg_encoder_3_out", "mhg_x3",
                     "embedding_3_out", "shr0_out_x1", "shr0_out_x2", "shr0_out_x3", "shr1_out_x1", "shr1_out_x2",
                     "shr1_out_x3", "chi_out_x1", "chi_out_x2", "chi_out_x3", "hypothesis_out", "regression_out", "output"]
        #expect(Set(order) == Set(reference.keys), "fixture stages changed: \(reference.keys.sorted())")
        for name in order {
            let ref = try #require(reference[name], "fixture lacks \(name)")
            var got = try #require(mine[name], "the Swift model did not record \(name)")
            // The fixtures keep PyTorch's (B, C, T) layouts where this implementation is (B, T, C).
            if name.hasPrefix("embedding_") { got = transposeLast2(got, batch: 1, rows: T, cols: C) }
            if name == "regression_out" { got = transposeLast2(got, batch: 1, rows: T, cols: 51) }
            let err = maxAbsDiff(got, ref.values)
            #expect(err <= tolerance, "\(config): stage \(name) differs from PyTorch by \(err)")
        }
        let raw = try fixture(config, "window_raw_output")
        #expect(maxAbsDiff(y, raw.values) <= tolerance)
    }

    @Test("window of frame 0 (edge padded)", arguments: configs)
    func window0(config: String) throws {
        let model = try loadFixtureModel(config)
        let y = model.forward(try fixture(config, "window0_input").values, batch: 1)
        let err = maxAbsDiff(y, try fixture(config, "window0_raw_output").values)
        #expect(err <= tolerance, "\(config): window0_raw_output differs by \(err)")
    }

    @Test("demo pipeline: camera, world, 1920x1080 and a sequence shorter than the window", arguments: configs)
    func demoOutputs(config: String) throws {
        let lifter = Lifter(model: try loadFixtureModel(config))
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        let n = input.shape[0]
        let camera = lifter.lift(input.values, frames: n, width: 1280, height: 720)
        let e1 = maxAbsDiff(camera, try fixture(config, "demo_output_3d").values)
        #expect(e1 <= tolerance, "\(config): demo_output_3d differs by \(e1)")
        let e2 = maxAbsDiff(Lifter.cameraToWorld(camera), try fixture(config, "demo_world_3d").values)
        #expect(e2 <= tolerance, "\(config): demo_world_3d differs by \(e2)")

        let wide = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px_1920x1080.npy"))
        let e3 = maxAbsDiff(lifter.lift(wide.values, frames: n, width: 1920, height: 1080), try fixture(config, "wide_demo_output_3d").values)
        #expect(e3 <= tolerance, "\(config): wide_demo_output_3d differs by \(e3)")

        let shortRef = try fixture(config, "short_demo_output_3d")
        let m = shortRef.shape[0]
        #expect(m < lifter.model.config.frames)
        let short = lifter.lift(Array(input.values[0..<(m * 34)]), frames: m, width: 1280, height: 720)
        let e4 = maxAbsDiff(short, shortRef.values)
        #expect(e4 <= tolerance, "\(config): short_demo_output_3d differs by \(e4)")
        let e5 = maxAbsDiff(Lifter.cameraToWorld(short), try fixture(config, "short_demo_world_3d").values)
        #expect(e5 <= tolerance, "\(config): short_demo_world_3d differs by \(e5)")
    }

    @Test("batching does not change results", arguments: configs)
    func batchingInvariant(config: String) throws {
        let model = try loadFixtureModel(config)
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        let one = Lifter(model: model, windowsPerBatch: 1).lift(input.values, frames: 60, width: 1280, height: 720)
        let many = Lifter(model: model, windowsPerBatch: 7).lift(input.values, frames: 60, width: 1280, height: 720)
        #expect(maxAbsDiff(one, many) <= 1e-5)
    }

    @Test("turning flip off changes the output (flip TTA is really applied)")
    func flipMatters() throws {
        let lifter = Lifter(model: try loadFixtureModel("small27"))
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        let noFlip = lifter.lift(input.values, frames: 60, width: 1280, height: 720, flip: false)
        #expect(maxAbsDiff(noFlip, try fixture("small27", "demo_output_3d").values) > 0.1)
    }
}
