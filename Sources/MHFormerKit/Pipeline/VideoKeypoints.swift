// Video → per-frame 2D Human3.6M keypoints: decode frames (streaming), a PoseEstimator2D on each
// (in order, so it may track), COCO-17 → Human3.6M-17, short gaps interpolated.
// Memory holds only the keypoints (N × 17 × 2 floats), whatever the video's length.

import Foundation

public struct VideoKeypoints: Sendable {
    public var keypoints: Keypoints2D
    public var info: VideoInfo
    public var decode: DecodeSummary
    /// Frames where the 2D model found a person (before gap filling).
    public var detectedFrames: Int
    /// Frames filled by interpolation.
    public var interpolatedFrames: Int
}

public enum VideoKeypointExtractor {
    /// Runs `estimator` over every decoded frame of the video; gaps up to `maxGapSeconds` are filled.
    /// `fallbackFrameRate` spaces repaired timestamps when the video has no frame rate of its own.
    /// `progress(framesDone, info)` is called per frame.
    public static func extract(videoPath: String, estimator: PoseEstimator2D, maxGapSeconds: Double = 0.5,
                               fallbackFrameRate: Double = 30,
                               progress: ((Int, VideoInfo) -> Void)? = nil) throws -> VideoKeypoints {
        let reader = try VideoReader(path: videoPath, fallbackFrameRate: fallbackFrameRate)
        let info = reader.info
        var kp = Keypoints2D(frames: [], times: [], width: info.width, height: info.height, points: [], present: [], scores: [])
        var detected = 0
        var poseError: Error?
        let summary = try reader.forEachFrame { frame in
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)
            let person: PersonKeypoints2D?
            do { person = try estimator.estimate(image, frameIndex: frame.index) } catch { poseError = error; return false }
            kp.frames.append(frame.index)
            kp.times.append(frame.time)
            if let person {
                kp.points += KeypointConversion.h36m(fromCOCO: person.points)
                kp.scores! += KeypointConversion.h36mScores(fromCOCO: person.scores)
                kp.present.append(true)
                detected += 1
                // The feet, when the model gives them (from its first frame with a person on).
                if let feet = person.feet {
                    if kp.feet == nil { kp.feet = [Float](repeating: 0, count: (kp.count - 1) * 8) }
                    kp.feet! += feet
                } else if kp.feet != nil {
                    kp.feet! += [Float](repeating: 0, count: 8)
                }
            } else {
                kp.points += [Float](repeating: 0, count: 34)
                kp.scores! += [Float](repeating: 0, count: 17)
                kp.present.append(false)
                if kp.feet != nil { kp.feet! += [Float](repeating: 0, count: 8) }
            }
            progress?(kp.count, info)
            return true
        }
        if let poseError { throw MHFormerError("\(videoPath): 2D pose failed: \(poseError)") }
        guard kp.count > 0 else { throw MHFormerError("\(videoPath): no video frame could be decoded") }
        guard detected > 0 else { throw MHFormerError("\(videoPath): no person found in any of the \(kp.count) frames") }
        let filled = kp.fillGaps(maxSeconds: maxGapSeconds, fps: info.frameRate ?? 30)
        return VideoKeypoints(keypoints: kp, info: info, decode: summary, detectedFrames: detected, interpolatedFrames: filled)
    }
}
