// Everyone's 2D keypoints, frame by frame: PeopleTracker finds and follows the people; their COCO-17
// keypoints come from BlazePose's own landmarks or, for a top-down model (ViTPose, TransPose), from
// that model run in each tracked person's box.

import Foundation

/// One person's keypoints in one frame.
public struct PersonInFrame: Sendable {
    public var id: Int
    public var keypoints: PersonKeypoints2D
    public var box: PersonBox
}

public final class PeopleEstimator {
    public let tracker: PeopleTracker
    /// nil: BlazePose's landmarks are the keypoints.
    public let model: TopDownPoseModel?
    public let flipTest: Bool
    public private(set) var crops = 0
    public private(set) var seconds = 0.0

    public init(tracker: PeopleTracker, model: TopDownPoseModel? = nil, flipTest: Bool = false) {
        self.tracker = tracker; self.model = model; self.flipTest = flipTest
    }

    public func estimate(_ image: RGBImage, frameIndex: Int) throws -> [PersonInFrame] {
        try tracker.process(image).map { person in
            guard let model else {
                let (points, scores) = KeypointConversion.coco(from: person.landmarks, width: image.width, height: image.height)
                return PersonInFrame(id: person.id, keypoints: PersonKeypoints2D(points: points, scores: scores), box: person.box)
            }
            let start = Date()
            let detection = PersonDetection2D(landmarks: person.landmarks, imageWidth: image.width, imageHeight: image.height)
            let keypoints = try model.keypoints(image, person: detection, frameIndex: frameIndex, flipTest: flipTest)
            seconds += Date().timeIntervalSince(start)
            crops += 1
            return PersonInFrame(id: person.id, keypoints: keypoints, box: person.box)
        }
    }

    public var summary: String? {
        var parts = ["person detector \(tracker.detectorRuns) runs in \(tracker.framesSeen) frames, \(tracker.candidateRuns) new-person checks"]
        if let model, crops > 0 {
            parts.append(String(format: "%@ %.0f ms per person%@", model.name, 1000 * seconds / Double(crops), flipTest ? ", flip test" : ""))
        }
        return parts.joined(separator: "; ")
    }
}
