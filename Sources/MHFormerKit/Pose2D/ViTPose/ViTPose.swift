// ViTPose top-down: one person box in an image → COCO-17 keypoints in image pixels.
//
//   let vitpose = try ViTPose(directory: "vitpose-base-simple")   // config.json + model.safetensors
//   let r = vitpose.estimate(image, box: SIMD4(x, y, w, h), flipTest: true)
//   r.points[2·k], r.points[2·k + 1]: keypoint k (COCO order), r.scores[k]: its heatmap maximum
//
// The model is ViTPoseModel.swift; the crop and the heatmap decoding are ViTPoseProcessing.swift.

import Foundation

public struct ViTPoseResult: Sendable {
    /// COCO-17 keypoints in image pixels, (x, y) per keypoint: 34 values.
    public var points: [Float]
    /// Per keypoint: the heatmap's maximum (not a probability; about 0.9 on a clear joint).
    public var scores: [Float]
    /// The heatmaps the keypoints were read from [17, Hh, Wh] (averaged with the flipped crop's when
    /// flip-testing).
    public var heatmaps: [Float]
}

public final class ViTPose {
    public let model: ViTPoseModel
    public var config: ViTPoseConfig { model.config }

    public init(directory: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw MHFormerError("\(directory): not a folder (ViTPose weights are a folder with config.json and model.safetensors)")
        }
        model = try ViTPoseModel(directory: directory)
    }

    public init(model: ViTPoseModel) { self.model = model }

    /// Keypoints of the person in `box` (COCO x, y, width, height in pixels). `flipTest` also runs the
    /// mirrored crop and averages the heatmaps (twice the time, usually a little more accurate).
    public func estimate(_ image: RGBImage, box: SIMD4<Double>, flipTest: Bool = false) -> ViTPoseResult {
        let c = config
        let (center, scale) = ViTPoseProcessing.centerAndScale(box: box, inputWidth: c.imageWidth, inputHeight: c.imageHeight)
        let pixels = ViTPoseProcessing.crop(image, center: center, scale: scale, inputWidth: c.imageWidth, inputHeight: c.imageHeight)
        let maps = heatmaps(pixels: pixels, flipTest: flipTest)
        let (points, scores) = ViTPoseProcessing.keypoints(heatmaps: maps, keypoints: c.keypoints, height: c.heatmapHeight,
                                                           width: c.heatmapWidth, center: center, scale: scale)
        return ViTPoseResult(points: points, scores: scores, heatmaps: maps)
    }

    /// Heatmaps [K, Hh, Wh] of one normalised crop [3, H, W]; with `flipTest`, the average of the crop's
    /// and the mirrored crop's flipped-back heatmaps (both crops in one batch).
    public func heatmaps(pixels: [Float], flipTest: Bool) -> [Float] {
        let c = config
        guard flipTest else { return model.heatmaps(pixels: pixels, batch: 1) }
        let flipped = COCOSkeleton.mirror(pixels, height: c.imageHeight, width: c.imageWidth)
        let both = model.heatmaps(pixels: pixels + flipped, batch: 2)
        let n = c.keypoints * c.heatmapHeight * c.heatmapWidth
        let back = COCOSkeleton.flipBack(Array(both[n...]), keypoints: c.keypoints, height: c.heatmapHeight, width: c.heatmapWidth)
        return (0..<n).map { (both[$0] + back[$0]) * 0.5 }
    }
}

/// ViTPose as a top-down model: the box around BlazePose's landmarks.
extension ViTPose: TopDownPoseModel {
    public var name: String { "ViTPose" }

    public func keypoints(_ image: RGBImage, person: PersonDetection2D, frameIndex: Int, flipTest: Bool) throws -> PersonKeypoints2D {
        let box = PersonBox.landmarkBounds(person.landmarks, width: person.imageWidth, height: person.imageHeight)
        let r = estimate(image, box: box.xywh, flipTest: flipTest)
        return PersonKeypoints2D(points: r.points, scores: r.scores)
    }
}
