// The sizes of a ViTPose model, read from the `config.json` that Hugging Face transformers'
// `VitPoseForPoseEstimation.save_pretrained()` writes beside `model.safetensors`:
//
//   { "model_type": "vitpose", "use_simple_decoder": true, "scale_factor": 4, "id2label": {...17...},
//     "backbone_config": { "image_size": [256, 192], "patch_size": [16, 16], "hidden_size": 768,
//                          "num_hidden_layers": 12, "num_attention_heads": 12, "mlp_ratio": 4,
//                          "layer_norm_eps": 1e-06, "qkv_bias": true, "out_indices": [12], ... } }
//
// Keys that are absent take transformers' defaults. Two of those defaults differ from the real
// checkpoints (../shared/docs/pose2d-backends.md §6): layer_norm_eps (1e-12 vs 1e-6) and the output
// layer (out_indices [4] when backbone_config is absent), so both are always read from the file.

import Foundation

public struct ViTPoseConfig: Sendable, Equatable {
    /// Model input, pixels (rows, columns): 256 x 192 for every published checkpoint.
    public var imageHeight = 256, imageWidth = 192
    public var patchHeight = 16, patchWidth = 16
    public var hiddenSize = 768
    public var layers = 12
    public var heads = 12
    /// MLP width = Int(hiddenSize * mlpRatio).
    public var mlpRatio = 4.0
    public var layerNormEps: Float = 1e-12
    public var qkvBias = true
    /// The backbone stage whose tokens feed the decoder: 0 = the embeddings, k = after block k
    /// (transformers' out_indices / out_features "stage<k>"; the last one listed is used).
    public var outputStage = 12
    /// Simple decoder (ReLU, bilinear upsample, 3x3 conv) or classic (two deconvs, 1x1 conv).
    public var simpleDecoder = true
    /// The simple decoder's upsampling factor.
    public var scaleFactor = 4
    /// Heatmap channels (17 for COCO).
    public var keypoints = 17

    public init() {}

    /// Token grid: (imageHeight / patchHeight) x (imageWidth / patchWidth).
    public var gridHeight: Int { imageHeight / patchHeight }
    public var gridWidth: Int { imageWidth / patchWidth }
    public var tokens: Int { gridHeight * gridWidth }
    public var mlpHidden: Int { Int(Double(hiddenSize) * mlpRatio) }
    /// Heatmap size: the grid upsampled 4x (simple: scaleFactor, classic: two stride-2 deconvs).
    public var heatmapHeight: Int { gridHeight * (simpleDecoder ? scaleFactor : 4) }
    public var heatmapWidth: Int { gridWidth * (simpleDecoder ? scaleFactor : 4) }

    /// Reads and checks `config.json`. Errors name the file and the key.
    public static func load(path: String) throws -> ViTPoseConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MHFormerError("\(path): no such file (a ViTPose model folder needs config.json and model.safetensors)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw MHFormerError("\(path): not a JSON object")
        }
        return try parse(json, path: path)
    }

    static func parse(_ json: [String: Any], path: String) throws -> ViTPoseConfig {
        func fail(_ message: String) -> MHFormerError { MHFormerError("\(path): \(message)") }
        if let type = json["model_type"] as? String, type != "vitpose" {
            throw fail("model_type is \"\(type)\", not \"vitpose\" (VitPoseForPoseEstimation's config.json expected)")
        }
        guard let bb = json["backbone_config"] as? [String: Any] else {
            throw fail("no backbone_config (VitPoseForPoseEstimation's config.json expected)")
        }
        func int(_ d: [String: Any], _ key: String, _ def: Int) throws -> Int {
            guard let v = d[key] else { return def }
            guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else { throw fail("\(key) is not an integer") }
            return n.intValue
        }
        func pair(_ key: String, _ def: (Int, Int)) throws -> (Int, Int) {
            guard let v = bb[key] else { return def }
            if let n = v as? NSNumber { return (n.intValue, n.intValue) }
            guard let a = v as? [NSNumber], a.count == 2 else { throw fail("backbone_config.\(key) is not a number or a pair") }
            return (a[0].intValue, a[1].intValue)
        }
        var c = ViTPoseConfig()
        (c.imageHeight, c.imageWidth) = try pair("image_size", (256, 192))
        (c.patchHeight, c.patchWidth) = try pair("patch_size", (16, 16))
        c.hiddenSize = try int(bb, "hidden_size", 768)
        c.layers = try int(bb, "num_hidden_layers", 12)
        c.heads = try int(bb, "num_attention_heads", 12)
        c.mlpRatio = (bb["mlp_ratio"] as? NSNumber)?.doubleValue ?? 4
        c.layerNormEps = (bb["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12
        c.qkvBias = (bb["qkv_bias"] as? Bool) ?? true
        let channels = try int(bb, "num_channels", 3)
        let experts = try int(bb, "num_experts", 1)
        let act = bb["hidden_act"] as? String ?? "gelu"
        // the output stage: out_indices (negative counts from the end of [stem, stage1 ... stageN]),
        // else out_features ["stageK"], else the last stage
        if let idx = bb["out_indices"] as? [NSNumber], let last = idx.last {
            c.outputStage = last.intValue < 0 ? last.intValue + c.layers + 1 : last.intValue
        } else if let names = bb["out_features"] as? [String], let last = names.last {
            guard last == "stem" || (last.hasPrefix("stage") && Int(last.dropFirst(5)) != nil) else {
                throw fail("backbone_config.out_features \"\(last)\" is not stem or stage<k>")
            }
            c.outputStage = last == "stem" ? 0 : Int(last.dropFirst(5))!
        } else {
            c.outputStage = c.layers
        }
        c.simpleDecoder = (json["use_simple_decoder"] as? Bool) ?? true
        c.scaleFactor = try int(json, "scale_factor", 4)
        if let labels = json["id2label"] as? [String: Any] {
            c.keypoints = labels.count
        } else {
            c.keypoints = try int(json, "num_labels", 2)
        }

        guard act == "gelu" else { throw fail("backbone_config.hidden_act \"\(act)\" is not supported (only gelu)") }
        guard experts == 1 else { throw fail("backbone_config.num_experts is \(experts): ViTPose+ mixture-of-experts models are not supported") }
        guard channels == 3 else { throw fail("backbone_config.num_channels is \(channels), not 3 (RGB)") }
        guard c.hiddenSize > 0, c.layers > 0, c.heads > 0, c.hiddenSize % c.heads == 0 else {
            throw fail("hidden_size \(c.hiddenSize) is not a multiple of num_attention_heads \(c.heads)")
        }
        guard c.patchHeight > 0, c.patchWidth > 0, c.imageHeight % c.patchHeight == 0, c.imageWidth % c.patchWidth == 0,
              c.patchHeight > 4, c.patchWidth > 4 else {
            throw fail("image_size \(c.imageHeight)x\(c.imageWidth) is not a multiple of patch_size \(c.patchHeight)x\(c.patchWidth)")
        }
        guard (0...c.layers).contains(c.outputStage) else {
            throw fail("backbone_config.out_indices selects stage \(c.outputStage) of a \(c.layers)-layer backbone")
        }
        guard c.scaleFactor > 0, c.mlpHidden > 0 else { throw fail("scale_factor or mlp_ratio is not positive") }
        guard c.keypoints == 17 else {
            throw fail("\(c.keypoints) keypoints (id2label): only COCO-17 ViTPose models are supported")
        }
        return c
    }
}
