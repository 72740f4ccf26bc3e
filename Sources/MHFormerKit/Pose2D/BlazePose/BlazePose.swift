// MediaPipe Pose ("full" model) on our TFLite reader: person detection → ROI → landmarks.
//
//   let pose = try BlazePose(modelDirectory: "Models/blazepose")
//   if let result = try pose.processStatic(image) { ... result.landmarks[0].x ... }
//
// `processStatic` is MediaPipe's static_image_mode: the detector runs on every image. Video mode
// (tracking the ROI from frame to frame, One-Euro smoothing) is BlazePoseTracker, on top of this.

import Foundation

public final class BlazePose {
    public struct Options: Sendable {
        public var minDetectionScore: Float = 0.5       // min_detection_confidence
        public var minPresence: Float = 0.5             // min_tracking_confidence (presence must exceed it)
        /// Heatmap refinement window. MediaPipe's graph asks for 7, but mp.solutions.pose (Python)
        /// drops that option and runs with the default 9 (pose2d-backends.md §5); 9 reproduces it.
        public var heatmapKernel: Int = 9
        public init() {}
    }

    public var options: Options
    let detector: TFLiteInterpreter
    let landmarkModel: TFLiteInterpreter

    public init(detectorPath: String, landmarkPath: String, options: Options = Options()) throws {
        detector = try TFLiteInterpreter(path: detectorPath)
        // the segmentation mask (Identity_2) is not used: its branch is not computed
        landmarkModel = try TFLiteInterpreter(path: landmarkPath, skipping: ["Identity_2"])
        self.options = options
        guard detector.input.shape == [1, PoseDetectorSpec.inputSize, PoseDetectorSpec.inputSize, 3],
              detector.outputs.map(\.count) == [PoseDetectorSpec.anchorCount * PoseDetectorSpec.valuesPerAnchor, PoseDetectorSpec.anchorCount] else {
            throw MHFormerError("\(detectorPath): not BlazePose's pose_detection model (input \(detector.input.shape))")
        }
        guard landmarkModel.input.shape == [1, PoseLandmarkSpec.inputSize, PoseLandmarkSpec.inputSize, 3],
              landmarkModel.outputs.map(\.name) == ["Identity", "Identity_1", "Identity_3", "Identity_4"],
              landmarkModel.outputs.map(\.count) == [195, 1, 64 * 64 * 39, 117] else {
            throw MHFormerError("\(landmarkPath): not BlazePose's pose_landmark_full model (input \(landmarkModel.input.shape))")
        }
    }

    public convenience init(modelDirectory dir: String, options: Options = Options()) throws {
        try self.init(detectorPath: (dir as NSString).appendingPathComponent("pose_detection.tflite"),
                      landmarkPath: (dir as NSString).appendingPathComponent("pose_landmark_full.tflite"), options: options)
    }

    /// PoseDetectionCpu + PoseDetectionToRoi: the best person and its landmark ROI, or nil.
    public func detect(_ image: RGBImage) throws -> (detection: PoseDetection, roi: NormalizedRect)? {
        try detectAll(image).first
    }

    /// Every person the detector finds after non-maximum suppression, best first, each with its
    /// landmark ROI (MediaPipe keeps only the first; the multi-person tracker uses them all).
    public func detectAll(_ image: RGBImage) throws -> [(detection: PoseDetection, roi: NormalizedRect)] {
        let size = PoseDetectorSpec.inputSize
        // the whole image, letterboxed into the square input (zero border, range [-1, 1])
        let whole = PixelRect(cx: Double(image.width) / 2, cy: Double(image.height) / 2,
                              width: Double(image.width), height: Double(image.height), rotation: 0)
        let (rect, letterbox) = padToAspect(whole, tensorWidth: size, tensorHeight: size)
        let bytes = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .zero)
        try detector.run(tensorFromBytes(bytes, lo: -1, hi: 1))
        let found = weightedNonMaxSuppression(decodePoseDetections(boxes: detector.output(0), scores: detector.output(1),
                                                                   minScore: options.minDetectionScore))
        return found.map { person in
            let d = removeLetterbox(person, letterbox)
            return (d, poseRoi(from: d, imageWidth: image.width, imageHeight: image.height))
        }
    }

    /// Square tiles over the image for finding people too small for the whole-image pass (the
    /// detector sees the whole image letterboxed to 224 px, where a person a quarter of a frame's
    /// height is about 50 px and often missed): side two thirds of the shorter image side, a third
    /// overlapping. Empty for images too small to gain from them.
    public static func detectionTiles(width W: Int, height H: Int) -> [PersonBox] {
        let side = Double(min(W, H)) * 2 / 3
        guard side >= Double(PoseDetectorSpec.inputSize) else { return [] }
        func offsets(_ length: Double) -> [Double] {
            let n = Int(((length - side) / (side * 2 / 3)).rounded(.up)) + 1
            return n <= 1 ? [0] : (0..<n).map { (length - side) * Double($0) / Double(n - 1) }
        }
        return offsets(Double(H)).flatMap { y in offsets(Double(W)).map { x in PersonBox(x: x, y: y, width: side, height: side) } }
    }

    /// A square in the middle of the image, half its shorter side: the detector sees it enlarged
    /// (about 2x for a 480-line video, more for larger ones), so a person small in the frame's
    /// centre, whom the whole-image pass sees at a few dozen pixels, is found.
    public static func centreCrop(width W: Int, height H: Int) -> PersonBox {
        let side = Double(min(W, H)) / 2
        return PersonBox(x: (Double(W) - side) / 2, y: (Double(H) - side) / 2, width: side, height: side)
    }

    /// The detector on one square tile of the image (detectionTiles, centreCrop), results in image coordinates
    /// with their ROIs, best first.
    public func detectAll(_ image: RGBImage, tile: PersonBox) throws -> [(detection: PoseDetection, roi: NormalizedRect)] {
        let size = PoseDetectorSpec.inputSize
        let W = Double(image.width), H = Double(image.height)
        let rect = PixelRect(cx: tile.x + tile.width / 2, cy: tile.y + tile.height / 2, width: tile.width, height: tile.height, rotation: 0)
        let bytes = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .zero)
        try detector.run(tensorFromBytes(bytes, lo: -1, hi: 1))
        // Tile-normalised → image-normalised.
        func map(_ q: SIMD2<Float>) -> SIMD2<Float> {
            SIMD2(Float((tile.x + Double(q.x) * tile.width) / W), Float((tile.y + Double(q.y) * tile.height) / H))
        }
        return weightedNonMaxSuppression(decodePoseDetections(boxes: detector.output(0), scores: detector.output(1), minScore: options.minDetectionScore)).map { d in
            let lo = map(SIMD2(d.box[0], d.box[1])), hi = map(SIMD2(d.box[2], d.box[3]))
            let mapped = PoseDetection(score: d.score, box: SIMD4(lo.x, lo.y, hi.x, hi.y), keypoints: d.keypoints.map(map))
            return (mapped, poseRoi(from: mapped, imageWidth: image.width, imageHeight: image.height))
        }
    }

    /// PoseLandmarkByRoiCpu: landmarks of the person inside `roi`, or nil when the model's presence
    /// is not above options.minPresence.
    public func landmarks(in image: RGBImage, roi: NormalizedRect) throws -> PoseLandmarks? {
        let size = PoseLandmarkSpec.inputSize
        let (rect, letterbox) = padToAspect(PixelRect(roi, width: image.width, height: image.height), tensorWidth: size, tensorHeight: size)
        let bytes = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .replicate)
        try landmarkModel.run(tensorFromBytes(bytes, lo: 0, hi: 1))
        // outputs: Identity (landmark rows), Identity_1 (presence), Identity_3 (heatmap), Identity_4 (world)
        return decodePoseLandmarks(rows: landmarkModel.output(0), presence: landmarkModel.output(1)[0],
                                   heatmap: landmarkModel.output(2), world: landmarkModel.output(3),
                                   roi: roi, letterbox: letterbox, options: options)
    }

    /// static_image_mode: detect, then landmarks in the detection's ROI.
    public func processStatic(_ image: RGBImage) throws -> PoseLandmarks? {
        guard let (_, roi) = try detect(image) else { return nil }
        return try landmarks(in: image, roi: roi)
    }
}
