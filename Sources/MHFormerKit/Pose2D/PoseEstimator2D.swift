// The one interface every 2D model of a video implements, so that the pipeline never names a model:
//   PoseEstimator2D   frame by frame (in order, so a model may track): the person's COCO-17 keypoints
//   TopDownPoseModel  a model that only places joints inside a person box another model found;
//                     TopDownEstimator pairs it with BlazePose, which finds and tracks the person.
// Adding a 2D model: one folder under Pose2D/ with a type conforming to one of the two protocols,
// and one line in Pose2DBackends. Keypoints read from files need no model: PoseJob.Input.keypoints.

import Foundation

/// One person's 2D keypoints in one frame, COCO-17 order.
public struct PersonKeypoints2D: Sendable, Equatable {
    /// (17, 2) image pixels, x right, y down.
    public var points: [Float]
    /// (17) the model's per-keypoint confidence (0..1 for BlazePose's visibility; a heatmap maximum
    /// for ViTPose and TransPose).
    public var scores: [Float]
    /// (4, 2) image pixels of the heels and toes (FootLandmark's order), from BlazePose; nil for
    /// models without them.
    public var feet: [Float]?

    public init(points: [Float], scores: [Float], feet: [Float]? = nil) {
        precondition(points.count == 34 && scores.count == 17, "PersonKeypoints2D: (17, 2) points and 17 scores")
        precondition(feet == nil || feet!.count == 8, "PersonKeypoints2D: (4, 2) foot points")
        self.points = points; self.scores = scores; self.feet = feet
    }
}

/// A 2D pose model run over a video's decoded frames.
public protocol PoseEstimator2D: AnyObject {
    /// The person's keypoints in `image`, or nil when there is none. Called once per decoded frame, in
    /// frame order (`frameIndex` counts from 0).
    func estimate(_ image: RGBImage, frameIndex: Int) throws -> PersonKeypoints2D?
    /// One phrase for the run's summary line (e.g. "ViTPose 48 ms per person, flip test"), or nil.
    var summary: String? { get }
}

/// A 2D estimator whose person BlazePose finds and tracks (every backend here): offline tracking
/// (OfflineTracker) runs BlazePose itself on the frames the estimator missed and asks the estimator
/// for the keypoints of the person it finds there.
public protocol BlazePoseFinding: PoseEstimator2D {
    /// MediaPipe's video-mode tracker behind `estimate`.
    var finder: BlazePoseEstimator { get }
    /// The keypoints of the person BlazePose found at `landmarks` in `image`: the landmarks read as
    /// COCO-17, or the top-down model run in their box.
    func keypoints(_ image: RGBImage, landmarks: PoseLandmarks, frameIndex: Int) throws -> PersonKeypoints2D
}

/// Where BlazePose found the person in one frame: what top-down models need to place a box.
public struct PersonDetection2D {
    /// BlazePose's 33 landmarks (normalised to the image) and its region of interest.
    public var landmarks: PoseLandmarks
    public var imageWidth: Int
    public var imageHeight: Int
}

/// A 2D model that places the joints inside the person another model found (ViTPose, TransPose).
public protocol TopDownPoseModel: AnyObject {
    /// COCO-17 keypoints of `person` in `image`; `flipTest`: also run the mirrored crop and average.
    func keypoints(_ image: RGBImage, person: PersonDetection2D, frameIndex: Int, flipTest: Bool) throws -> PersonKeypoints2D
    /// The model's name in summaries ("ViTPose").
    var name: String { get }
}

/// BlazePose finds and tracks the person; `model` places the joints in it.
public final class TopDownEstimator: BlazePoseFinding {
    public let finder: BlazePoseEstimator
    public let model: TopDownPoseModel
    public let flipTest: Bool
    /// Crops run, and the seconds `model` took on them.
    public private(set) var crops = 0
    public private(set) var seconds = 0.0

    public init(finder: BlazePoseEstimator, model: TopDownPoseModel, flipTest: Bool) {
        self.finder = finder; self.model = model; self.flipTest = flipTest
    }

    public func estimate(_ image: RGBImage, frameIndex: Int) throws -> PersonKeypoints2D? {
        guard let landmarks = try finder.track(image) else { return nil }
        return try keypoints(image, landmarks: landmarks, frameIndex: frameIndex)
    }

    public func keypoints(_ image: RGBImage, landmarks: PoseLandmarks, frameIndex: Int) throws -> PersonKeypoints2D {
        let person = PersonDetection2D(landmarks: landmarks, imageWidth: image.width, imageHeight: image.height)
        let start = Date()
        var result = try model.keypoints(image, person: person, frameIndex: frameIndex, flipTest: flipTest)
        result.feet = KeypointConversion.feet(from: landmarks, width: image.width, height: image.height)
        seconds += Date().timeIntervalSince(start)
        crops += 1
        return result
    }

    public var summary: String? {
        guard crops > 0 else { return nil }
        return String(format: "%@ %.0f ms per person%@", model.name, 1000 * seconds / Double(crops), flipTest ? ", flip test" : "")
    }
}
