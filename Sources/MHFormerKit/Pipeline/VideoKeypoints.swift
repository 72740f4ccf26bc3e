// Video → per-frame 2D Human3.6M keypoints: decode frames (streaming), a PoseEstimator2D on each
// (in order, so it may track), offline tracking on the frames it missed (OfflineTracker: tracked on,
// re-detected, tracked backwards), COCO-17 → Human3.6M-17, short gaps interpolated.
// Memory holds the keypoints (N × 17 × 2 floats), whatever the video's length, and the frames of the
// current gap for the backward pass (OfflineTracker.Options.maxBufferedBytes at most).

import Foundation

public struct VideoKeypoints: Sendable {
    public var keypoints: Keypoints2D
    public var info: VideoInfo
    public var decode: DecodeSummary
    /// Frames with a person (before gap filling), offline tracking's included.
    public var detectedFrames: Int
    /// Frames filled by interpolation.
    public var interpolatedFrames: Int
    /// Frames offline tracking gave a person that the streaming tracker missed.
    public var recovery = OfflineRecovery()
}

public enum VideoKeypointExtractor {
    /// Runs `estimator` over every decoded frame of the video; gaps up to `maxGapSeconds` are filled.
    /// `offline`: the frames the estimator misses are looked at again (OfflineTracker; the estimator
    /// must find its person with BlazePose, as every backend does); nil: MediaPipe's streaming
    /// tracking only. `fallbackFrameRate` spaces repaired timestamps when the video has no frame rate
    /// of its own. `progress(framesDone, info)` is called per frame.
    public static func extract(videoPath: String, estimator: PoseEstimator2D, maxGapSeconds: Double = 0.5,
                               fallbackFrameRate: Double = 30, offline: OfflineTracker.Options? = nil,
                               progress: ((Int, VideoInfo) -> Void)? = nil) throws -> VideoKeypoints {
        let reader = try VideoReader(path: videoPath, fallbackFrameRate: fallbackFrameRate)
        let info = reader.info
        var tracker: OfflineTracker?
        if var options = offline, let finding = estimator as? BlazePoseFinding {
            options.maxGapFrames = max(1, Int((maxGapSeconds * (info.frameRate ?? fallbackFrameRate)).rounded()))
            tracker = OfflineTracker(estimator: finding, options: options)
        }
        var kp = Keypoints2D(frames: [], times: [], width: info.width, height: info.height, points: [], present: [], scores: [])
        var poseError: Error?
        let summary = try reader.forEachFrame { frame in
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)
            let row = kp.count
            kp.appendEmptyRow(frame: frame.index, time: frame.time)
            do {
                if let tracker {
                    for found in try tracker.process(image, row: row, frameIndex: frame.index) { kp.set(row: found.row, found.keypoints) }
                } else if let person = try estimator.estimate(image, frameIndex: frame.index) {
                    kp.set(row: row, person)
                }
            } catch { poseError = error; return false }
            progress?(kp.count, info)
            return true
        }
        if let poseError { throw MHFormerError("\(videoPath): 2D pose failed: \(poseError)") }
        guard kp.count > 0 else { throw MHFormerError("\(videoPath): no video frame could be decoded") }
        let detected = kp.framesWithPerson
        guard detected > 0 else { throw MHFormerError("\(videoPath): no person found in any of the \(kp.count) frames") }
        let filled = kp.fillGaps(maxSeconds: maxGapSeconds, fps: info.frameRate ?? 30)
        return VideoKeypoints(keypoints: kp, info: info, decode: summary, detectedFrames: detected, interpolatedFrames: filled,
                              recovery: tracker?.recovery ?? OfflineRecovery())
    }
}

extension Keypoints2D {
    /// A row with no person at the end (the video's next frame).
    mutating func appendEmptyRow(frame: Int, time: Double?) {
        frames.append(frame)
        times.append(time)
        points += [Float](repeating: 0, count: 34)
        if scores == nil { scores = [] }
        scores! += [Float](repeating: 0, count: 17)
        present.append(false)
        if feet != nil { feet! += [Float](repeating: 0, count: 8) }
    }

    /// Row `row` holds `person` (COCO-17 read as Human3.6M-17); the feet when the model gives them
    /// (rows without them stay 0).
    mutating func set(row: Int, _ person: PersonKeypoints2D) {
        points.replaceSubrange((row * 34)..<((row + 1) * 34), with: KeypointConversion.h36m(fromCOCO: person.points))
        scores!.replaceSubrange((row * 17)..<((row + 1) * 17), with: KeypointConversion.h36mScores(fromCOCO: person.scores))
        present[row] = true
        if let personFeet = person.feet {
            if feet == nil { feet = [Float](repeating: 0, count: count * 8) }
            feet!.replaceSubrange((row * 8)..<((row + 1) * 8), with: personFeet)
        }
    }
}
