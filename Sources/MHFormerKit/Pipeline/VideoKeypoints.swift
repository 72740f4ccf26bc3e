// Video → per-frame 2D Human3.6M keypoints: decode frames (streaming), BlazePose in video mode
// (detector, then tracking), 33 landmarks → COCO-17 → Human3.6M-17, short gaps interpolated.
// With a ViTPose model, BlazePose only finds and tracks the person: the box around its landmarks
// goes to ViTPose (top-down), whose COCO-17 keypoints replace BlazePose's.
// Memory holds only the keypoints (N × 17 × 2 floats), whatever the video's length.

import Foundation

public struct VideoKeypoints: Sendable {
    public var keypoints: Keypoints2D
    public var info: VideoInfo
    public var decode: DecodeSummary
    /// Frames where BlazePose found a person (before gap filling).
    public var detectedFrames: Int
    /// Frames filled by interpolation.
    public var interpolatedFrames: Int
    /// ViTPose crops run and the seconds they took (0 with BlazePose alone).
    public var vitPoseCrops: Int = 0
    public var vitPoseSeconds: Double = 0
}

extension VideoKeypointExtractor {
    /// The person box ViTPose crops (COCO x, y, width, height, pixels): the bounding box of BlazePose's
    /// 33 landmarks. ViTPose adds its own 25 % margin around it.
    public static func personBox(_ landmarks: PoseLandmarks, width: Int, height: Int) -> SIMD4<Double> {
        let xs = landmarks.landmarks.map { Double($0.x) * Double(width) }
        let ys = landmarks.landmarks.map { Double($0.y) * Double(height) }
        let x0 = xs.min() ?? 0, x1 = xs.max() ?? 0, y0 = ys.min() ?? 0, y1 = ys.max() ?? 0
        return SIMD4(x0, y0, max(x1 - x0, 1), max(y1 - y0, 1))
    }
}

extension Keypoints2D {
    /// Linearly interpolates (in time) runs of frames without a person whose neighbours on both sides
    /// are at most `maxSeconds` apart; longer gaps stay empty. Interpolated joints get score 0.
    /// Returns how many frames were filled.
    @discardableResult
    public mutating func fillGaps(maxSeconds: Double, fps: Double) -> Int {
        func time(_ i: Int) -> Double { times[i] ?? Double(frames[i]) / fps }
        var filled = 0
        var i = 0
        while i < count {
            guard !present[i] else { i += 1; continue }
            var j = i
            while j < count && !present[j] { j += 1 }
            // missing run [i, j): neighbours i-1 and j
            if i > 0, j < count, time(j) - time(i - 1) <= maxSeconds + 1e-9 {
                let t0 = time(i - 1), t1 = time(j)
                for k in i..<j {
                    let a = Float((time(k) - t0) / (t1 - t0))
                    for c in 0..<34 { points[k * 34 + c] = (1 - a) * points[(i - 1) * 34 + c] + a * points[j * 34 + c] }
                    if scores != nil { for c in 0..<17 { scores![k * 17 + c] = 0 } }
                    present[k] = true
                    filled += 1
                }
            }
            i = j
        }
        return filled
    }
}

public enum VideoKeypointExtractor {
    /// Runs BlazePose over every decoded frame. `progress(framesDone, info)` is called per frame.
    /// With `vitPose`, BlazePose supplies the person box of each frame and ViTPose the keypoints
    /// (`flipTest`: ViTPose also on the mirrored crop). `cocoKeypoints(frameIndex, image, landmarks)`,
    /// if given, replaces the COCO-17 keypoints (x, y interleaved, pixels) and scores by another 2D
    /// model's, run in the person BlazePose found.
    public static func extract(videoPath: String, pose: BlazePose, maxGapSeconds: Double = 0.5,
                               vitPose: ViTPose? = nil, flipTest: Bool = false,
                               cocoKeypoints: ((Int, RGBImage, PoseLandmarks) throws -> (points: [Float], scores: [Float]))? = nil,
                               progress: ((Int, VideoInfo) -> Void)? = nil) throws -> VideoKeypoints {
        let reader = try VideoReader(path: videoPath)
        let info = reader.info
        let tracker = BlazePoseTracker(pose: pose)
        var kp = Keypoints2D(frames: [], times: [], width: info.width, height: info.height, points: [], present: [], scores: [])
        var detected = 0
        var vitPoseCrops = 0
        var vitPoseSeconds = 0.0
        var poseError: Error?
        let summary = try reader.forEachFrame { frame in
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)
            let landmarks: PoseLandmarks?
            do { landmarks = try tracker.process(image) } catch { poseError = error; return false }
            kp.frames.append(frame.index)
            kp.times.append(frame.time)
            if let landmarks {
                var (coco, cocoScores) = KeypointConversion.coco(from: landmarks, width: frame.width, height: frame.height)
                if let vitPose {
                    let start = Date()
                    let r = vitPose.estimate(image, box: personBox(landmarks, width: frame.width, height: frame.height), flipTest: flipTest)
                    vitPoseSeconds += Date().timeIntervalSince(start)
                    vitPoseCrops += 1
                    (coco, cocoScores) = (r.points, r.scores)
                } else if let cocoKeypoints {
                    do { (coco, cocoScores) = try cocoKeypoints(frame.index, image, landmarks) } catch { poseError = error; return false }
                }
                kp.points += KeypointConversion.h36m(fromCOCO: coco)
                kp.scores! += KeypointConversion.h36mScores(fromCOCO: cocoScores)
                kp.present.append(true)
                detected += 1
            } else {
                kp.points += [Float](repeating: 0, count: 34)
                kp.scores! += [Float](repeating: 0, count: 17)
                kp.present.append(false)
            }
            progress?(kp.count, info)
            return true
        }
        if let poseError { throw MHFormerError("\(videoPath): 2D pose failed: \(poseError)") }
        guard kp.count > 0 else { throw MHFormerError("\(videoPath): no video frame could be decoded") }
        guard detected > 0 else { throw MHFormerError("\(videoPath): no person found in any of the \(kp.count) frames") }
        let filled = kp.fillGaps(maxSeconds: maxGapSeconds, fps: info.frameRate ?? 30)
        return VideoKeypoints(keypoints: kp, info: info, decode: summary, detectedFrames: detected, interpolatedFrames: filled,
                              vitPoseCrops: vitPoseCrops, vitPoseSeconds: vitPoseSeconds)
    }
}
