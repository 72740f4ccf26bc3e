// ViTPose against Hugging Face transformers on our random-weight models (Tests/Fixtures/vitpose, made
// by Scripts/fixtures/make-vitpose-fixtures.py): the crop, the heatmaps (with and without flip test) and the
// keypoints, for the simple decoder (float32 weights, output after the last block) and the classic
// one (float16 weights, output after block 2 of 3). Plus clear errors for mismatched files.

import Foundation
import Testing
@testable import MHFormerKit

private let fixtures = Paths.repo.appendingPathComponent("Tests/Fixtures/vitpose")

private func load(_ name: String) throws -> NpyArray { try Npy.read(fixtures.appendingPathComponent(name)) }

private func fixtureImage() throws -> (RGBImage, SIMD4<Double>) {
    let img = try load("image.npy"), box = try load("box.npy")
    let image = RGBImage(width: img.shape[1], height: img.shape[0], pixels: img.values.map { UInt8($0) })
    return (image, SIMD4(box.values.map(Double.init)))
}

@Suite struct ViTPoseTests {
    @Test func cropMatchesTransformers() throws {
        let (image, box) = try fixtureImage()
        let (center, scale) = ViTPoseProcessing.centerAndScale(box: box, inputWidth: 192, inputHeight: 256)
        let mine = ViTPoseProcessing.crop(image, center: center, scale: scale, inputWidth: 192, inputHeight: 256)
        let ref = try load("pixel_values.npy").values
        // identical up to float rounding; a sample point on a rounding tie may differ by one grey level
        let lsb: Float = 1 / 255 / 0.224 + 1e-5
        var off = 0
        for i in ref.indices where abs(mine[i] - ref[i]) > 1e-5 {
            #expect(abs(mine[i] - ref[i]) <= lsb)
            off += 1
        }
        #expect(off <= 3, "\(off) crop values differ from transformers")
    }

    @Test(arguments: ["simple", "classic"])
    func heatmapsAndKeypointsMatchTransformers(name: String) throws {
        let dir = fixtures.appendingPathComponent(name)
        let vitpose = try ViTPose(directory: dir.path)
        let c = vitpose.config
        #expect(c.hiddenSize == 32 && c.layers == 3 && c.layerNormEps == 1e-6)
        #expect(c.simpleDecoder == (name == "simple") && c.outputStage == (name == "simple" ? 3 : 2))
        let pixels = try load("pixel_values.npy").values
        func read(_ f: String) throws -> [Float] { try Npy.read(dir.appendingPathComponent(f + ".npy")).values }

        let plain = vitpose.heatmaps(pixels: pixels, flipTest: false)
        let dPlain = maxAbsDiff(plain, try read("heatmaps"))
        let flip = vitpose.heatmaps(pixels: pixels, flipTest: true)
        let dFlip = maxAbsDiff(flip, try read("heatmaps_flip"))
        #expect(dPlain < 1e-4 && dFlip < 1e-4, "\(name): heatmaps differ by \(dPlain) (flip test \(dFlip))")

        let (image, box) = try fixtureImage()
        for (flipTest, suffix) in [(false, ""), (true, "_flip")] {
            let r = vitpose.estimate(image, box: box, flipTest: flipTest)
            let dK = maxAbsDiff(r.points, try read("keypoints" + suffix))
            let dS = maxAbsDiff(r.scores, try read("scores" + suffix))
            #expect(dK < 0.01, "\(name)\(suffix): keypoints differ by \(dK) px")
            #expect(dS < 1e-4, "\(name)\(suffix): scores differ by \(dS)")
            print("ViTPose \(name)\(suffix): heatmaps max |d| \(flipTest ? dFlip : dPlain), keypoints max |d| \(dK) px, scores \(dS)")
        }
    }

    @Test func mismatchedConfigAndWeightsFailClearly() throws {
        let tmp = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let fm = FileManager.default
        // the simple model's config with the classic model's weights
        try fm.copyItem(at: fixtures.appendingPathComponent("simple/config.json"), to: tmp.appendingPathComponent("config.json"))
        try fm.copyItem(at: fixtures.appendingPathComponent("classic/model.safetensors"), to: tmp.appendingPathComponent("model.safetensors"))
        #expect { try ViTPose(directory: tmp.path) } throws: { error in
            let m = "\(error)"
            return m.contains("model.safetensors") && m.contains("tensor '")
        }
        // a config.json with a different hidden size: a misshaped tensor, named
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("simple/config.json"))) as! [String: Any]
        var bb = json["backbone_config"] as! [String: Any]
        bb["hidden_size"] = 64
        json["backbone_config"] = bb
        try JSONSerialization.data(withJSONObject: json).write(to: tmp.appendingPathComponent("config.json"))
        try fm.removeItem(at: tmp.appendingPathComponent("model.safetensors"))
        try fm.copyItem(at: fixtures.appendingPathComponent("simple/model.safetensors"), to: tmp.appendingPathComponent("model.safetensors"))
        #expect { try ViTPose(directory: tmp.path) } throws: { error in
            "\(error)".contains("has shape [32, 3, 16, 16], config.json expects [64, 3, 16, 16]")
        }
        // no folder / not a ViTPose config
        #expect(throws: MHFormerError.self) { try ViTPose(directory: tmp.appendingPathComponent("nope").path) }
        try Data(#"{"model_type": "bert"}"#.utf8).write(to: tmp.appendingPathComponent("config.json"))
        #expect { try ViTPose(directory: tmp.path) } throws: { "\($0)".contains("config.json: model_type is \"bert\"") }
    }

    @Test func configReadsCheckpointQuirks() throws {
        // the real ViT-B config (../shared): eps 1e-6 and out_indices [12], not transformers' defaults
        let json: [String: Any] = ["model_type": "vitpose", "id2label": Dictionary(uniqueKeysWithValues: (0..<17).map { ("\($0)", "k\($0)") }),
                                   "backbone_config": ["hidden_size": 768, "layer_norm_eps": 1e-6, "out_indices": [-1], "num_hidden_layers": 12]]
        let c = try ViTPoseConfig.parse(json, path: "config.json")
        #expect(c.layerNormEps == 1e-6 && c.outputStage == 12 && c.tokens == 192 && c.heatmapHeight == 64 && c.heatmapWidth == 48)
        var moe = json
        moe["backbone_config"] = ["num_experts": 6]
        #expect { try ViTPoseConfig.parse(moe, path: "config.json") } throws: { "\($0)".contains("num_experts") }
    }
}

@Suite("mhformer run --pose2d vitpose", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
struct ViTPoseRunTests {
    @Test("the sample video through ViTPose (the tiny random model): every frame, one row each")
    func sampleVideo() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let out3D = dir.appendingPathComponent("walk_3d.csv").path, out2D = dir.appendingPathComponent("walk_2d.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", out3D, "--keypoints-2d", out2D, "--weights", weights,
                                     "--pose2d", "vitpose", "--pose2d-weights", fixtures.appendingPathComponent("simple").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("200 frames, 200 with a person") && r.stderr.contains("ms per person"), "\(r.stderr)")
        let kp = try Keypoints2DCSV.read(path: out2D)
        #expect(kp.count == 200 && kp.points.allSatisfy { $0.isFinite })
        let (frames, values) = try read3DCSV(out3D)
        #expect(frames == Array(0..<200) && values.allSatisfy { $0.isFinite })
    }

    @Test("option errors are one line")
    func optionErrors() throws {
        let video = SampleVideo.video.path
        let noWeights = try run(Paths.tool, ["run", video, "--pose2d", "vitpose"])
        #expect(noWeights.status != 0 && noWeights.stderr.contains("--pose2d vitpose needs --pose2d-weights"), "\(noWeights.stderr)")
        let wrongBackend = try run(Paths.tool, ["run", video, "--pose2d-weights", "/tmp"])
        #expect(wrongBackend.status != 0 && wrongBackend.stderr.contains("need --pose2d vitpose"), "\(wrongBackend.stderr)")
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir))
        let notAModel = try run(Paths.tool, ["run", video, "--weights", weights, "--pose2d", "vitpose", "--pose2d-weights", dir.path])
        #expect(notAModel.status != 0 && notAModel.stderr.contains("config.json: no such file"), "\(notAModel.stderr)")
    }
}
