// MediaPipe Pose ("full" model) on our TFLite reader: person detection → ROI → landmarks.
//
//   let pose = try BlazePose(modelDirectory: "Models/blazepose")
//   if let result = try pose.processStatic(image) { ... result.landmarks[0].x ... }
//
// `processStatic` is MediaPipe's static_image_mode: the detector runs on every image. For video,
// `landmarks(in:roi:)` can be fed the previous frame's `poseRoi(fromAuxiliary:)` (tracking); the
// One-Euro smoothing of MediaPipe's video mode is not part of this file.

import Foundation

public final class BlazePose {
    public struct Options: Sendable {
        public var minDetectionScore: Float = 0.5       // min_detection_confidence
        public var minPresence: Float = 0.5             // min_tracking_confidence (presence must exceed it)
        public var heatmapKernel: Int = 7               // 7 = MediaPipe's graph, 9 = mp.solutions.pose
        public init() {}
    }

    public var options: Options
    let detector: TFLiteInterpreter
    let landmarkModel: TFLiteInterpreter

    public init(detectorPath: String, landmarkPath: String, options: Options = Options()) throws {
        detector = try TFLiteInterpreter(path: detectorPath)
        landmarkModel = try TFLiteInterpreter(path: landmarkPath)
        self.options = options
        guard detector.input.shape == [1, PoseDetectorSpec.inputSize, PoseDetectorSpec.inputSize, 3],
              detector.outputs.map(\.count) == [PoseDetectorSpec.anchorCount * PoseDetectorSpec.valuesPerAnchor, PoseDetectorSpec.anchorCount] else {
            throw MHFormerError("\(detectorPath): not BlazePose's pose_detection model (input \(detector.input.shape))")
        }
        guard landmarkModel.input.shape == [1, PoseLandmarkSpec.inputSize, PoseLandmarkSpec.inputSize, 3],
              landmarkModel.outputs.map(\.count) == [195, 1, 256 * 256, 64 * 64 * 39, 117] else {
            throw MHFormerError("\(landmarkPath): not BlazePose's pose_landmark_full model (input \(landmarkModel.input.shape))")
        }
    }

    public convenience init(modelDirectory dir: String, options: Options = Options()) throws {
        try self.init(detectorPath: (dir as NSString).appendingPathComponent("pose_detection.tflite"),
                      landmarkPath: (dir as NSString).appendingPathComponent("pose_landmark_full.tflite"), options: options)
    }

    /// PoseDetectionCpu + PoseDetectionToRoi: the best person and its landmark ROI, or nil.
    public func detect(_ image: RGBImage) throws -> (detection: PoseDetection, roi: NormalizedRect)? {
        let size = PoseDetectorSpec.inputSize
        // the whole image, letterboxed into the square input (zero border, range [-1, 1])
        let whole = PixelRect(cx: Double(image.width) / 2, cy: Double(image.height) / 2,
                              width: Double(image.width), height: Double(image.height), rotation: 0)
        let (rect, letterbox) = padToAspect(whole, tensorWidth: size, tensorHeight: size)
        let bytes = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .zero)
        try detector.run(tensorFromBytes(bytes, lo: -1, hi: 1))
        let found = weightedNonMaxSuppression(decodePoseDetections(boxes: detector.output(0), scores: detector.output(1),
                                                                   minScore: options.minDetectionScore))
        guard let best = found.first else { return nil }
        let d = removeLetterbox(best, letterbox)
        return (d, poseRoi(from: d, imageWidth: image.width, imageHeight: image.height))
    }

    /// PoseLandmarkByRoiCpu: landmarks of the person inside `roi`, or nil when the model's presence
    /// is not above options.minPresence.
    public func landmarks(in image: RGBImage, roi: NormalizedRect) throws -> PoseLandmarks? {
        let size = PoseLandmarkSpec.inputSize
        let (rect, letterbox) = padToAspect(PixelRect(roi, width: image.width, height: image.height), tensorWidth: size, tensorHeight: size)
        let bytes = cropRotatedRect(image, rect, tensorWidth: size, tensorHeight: size, border: .replicate)
        try landmarkModel.run(tensorFromBytes(bytes, lo: 0, hi: 1))
        return decodePoseLandmarks(rows: landmarkModel.output(0), presence: landmarkModel.output(1)[0],
                                   heatmap: landmarkModel.output(3), world: landmarkModel.output(4),
                                   roi: roi, letterbox: letterbox, options: options)
    }

    /// static_image_mode: detect, then landmarks in the detection's ROI.
    public func processStatic(_ image: RGBImage) throws -> PoseLandmarks? {
        guard let (_, roi) = try detect(image) else { return nil }
        return try landmarks(in: image, roi: roi)
    }
}
