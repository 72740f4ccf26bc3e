// Looking for people the whole-image detector did not find, shared by the people tracker and the
// single-person offline tracking (OfflineTracker):
//   - the detector on square tiles of the image (BlazePose.detectionTiles) and on an enlarged centre
//     crop (BlazePose.centreCrop): people small in the frame;
//   - each detection confirmed by the landmark model at its region of interest (a fresh
//     BlazePoseTracker started there, ready to follow the person from the next frame on);
//   - one person found by two overlapping tiles counted once.

import Foundation

/// A person the landmark model confirmed at a detection or a predicted region.
public struct FoundPerson {
    /// Tracking this person from the next frame on (its ROI comes from these landmarks).
    public var tracker: BlazePoseTracker
    public var landmarks: PoseLandmarks
    /// The bounding box of the 33 landmarks, pixels.
    public var box: PersonBox
    /// The detector's score (0 when found at a predicted region, without the detector).
    public var score: Float
}

public enum PersonSearch {
    /// Two landmark boxes this much alike (intersection over union) are one person.
    public static let samePersonIoU = 0.6

    /// The landmark model at `roi` in `image` (a new tracker started there), or nil when it sees no
    /// person there.
    public static func confirm(_ roi: NormalizedRect, in image: RGBImage, pose: BlazePose, score: Float = 0) throws -> FoundPerson? {
        let tracker = BlazePoseTracker(pose: pose)
        tracker.start(from: roi)
        guard let landmarks = try tracker.process(image, detectWhenLost: false) else { return nil }
        return FoundPerson(tracker: tracker, landmarks: landmarks,
                           box: PersonBox.landmarkBounds(landmarks, width: image.width, height: image.height), score: score)
    }

    /// Whether landmarks with bounds `box` are a person already in `boxes`: the boxes overlap as much
    /// as `iou`, or one holds the other nearly whole.
    public static func isSamePerson(_ box: PersonBox, asOneOf boxes: [PersonBox], iou: Double = samePersonIoU) -> Bool {
        boxes.contains { box.iou($0) > iou || box.overlapOfSmaller($0) > 0.8 }
    }

    /// The detector's regions for a frame of this size when the whole-image pass found no one: the
    /// tiles and the centre crop.
    public static func regions(width: Int, height: Int) -> [PersonBox] {
        BlazePose.detectionTiles(width: width, height: height) + [BlazePose.centreCrop(width: width, height: height)]
    }

    /// Everyone the detector finds in `regions` of `image`, each confirmed by the landmark model,
    /// each person once (best detection score first). Returns the people and the detector runs made.
    public static func search(_ image: RGBImage, pose: BlazePose, regions: [PersonBox]) throws -> [FoundPerson] {
        var detections: [(detection: PoseDetection, roi: NormalizedRect)] = []
        for region in regions { detections += try pose.detectAll(image, tile: region) }
        var found: [FoundPerson] = []
        for (detection, roi) in detections.sorted(by: { $0.detection.score > $1.detection.score }) {
            // A detection whose mid-hip (its first keypoint) lies inside a person already confirmed
            // is that person: no landmark run for it.
            let hip = SIMD2(Double(detection.keypoints[0].x) * Double(image.width), Double(detection.keypoints[0].y) * Double(image.height))
            if found.contains(where: { $0.box.contains(hip) }) { continue }
            guard let person = try confirm(roi, in: image, pose: pose, score: detection.score),
                  !isSamePerson(person.box, asOneOf: found.map(\.box)) else { continue }
            found.append(person)
        }
        return found
    }
}

extension PersonBox {
    func contains(_ p: SIMD2<Double>) -> Bool { p.x >= x && p.x <= x + width && p.y >= y && p.y <= y + height }
}
