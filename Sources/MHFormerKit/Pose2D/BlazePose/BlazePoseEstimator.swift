// BlazePose as a PoseEstimator2D: MediaPipe's video mode (BlazePoseTracker: detector on the first
// frame and after a loss, then tracking), the 33 landmarks read as COCO-17 (the same body points).
// It is also the person finder of the top-down models (TopDownEstimator).

import Foundation

public final class BlazePoseEstimator: BlazePoseFinding {
    public let tracker: BlazePoseTracker
    public var finder: BlazePoseEstimator { self }

    public init(pose: BlazePose) { tracker = BlazePoseTracker(pose: pose) }

    /// Loads pose_detection.tflite and pose_landmark_full.tflite from the first of `folders` that has
    /// both.
    public convenience init(searching folders: [String]) throws {
        self.init(pose: try BlazePose(modelDirectory: try BlazePoseEstimator.modelFolder(searching: folders)))
    }

    /// The first of `folders` that has both .tflite files.
    public static func modelFolder(searching folders: [String]) throws -> String {
        let fm = FileManager.default
        guard let folder = folders.first(where: { fm.fileExists(atPath: $0 + "/pose_detection.tflite") && fm.fileExists(atPath: $0 + "/pose_landmark_full.tflite") }) else {
            throw MHFormerError("\(folders.first ?? "Models/blazepose"): BlazePose models not found (run bash Scripts/setup/fetch-blazepose.sh)")
        }
        return folder
    }

    /// The tracked person's landmarks in the next frame, or nil.
    public func track(_ image: RGBImage) throws -> PoseLandmarks? { try tracker.process(image) }

    public func estimate(_ image: RGBImage, frameIndex: Int) throws -> PersonKeypoints2D? {
        guard let landmarks = try track(image) else { return nil }
        return keypoints(image, landmarks: landmarks, frameIndex: frameIndex)
    }

    public func keypoints(_ image: RGBImage, landmarks: PoseLandmarks, frameIndex: Int) -> PersonKeypoints2D {
        let (points, scores) = KeypointConversion.coco(from: landmarks, width: image.width, height: image.height)
        return PersonKeypoints2D(points: points, scores: scores, feet: KeypointConversion.feet(from: landmarks, width: image.width, height: image.height))
    }

    public var summary: String? { nil }
}
