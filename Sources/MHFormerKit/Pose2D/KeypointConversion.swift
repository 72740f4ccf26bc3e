// From a 2D detector's keypoints to the 17 Human3.6M joints MHFormer reads:
//   BlazePose's 33 landmarks → COCO-17 (the same body points under COCO's names)
//   COCO-17 → Human3.6M-17 with the official MHFormer demo's converter (demo/lib/preprocess.py,
//   spine factor 2; ../shared/docs/mhformer-reference.md §5), in float32 as the demo computes it.

import Foundation

public enum KeypointConversion {
    /// COCO-17 index → BlazePose landmark index (nose, eyes, ears, shoulders, elbows, wrists, hips,
    /// knees, ankles).
    public static let cocoFromBlazePose = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]

    /// BlazePose landmarks (normalised to the image) → COCO-17 pixels (17·2) and visibilities (17).
    public static func coco(from landmarks: PoseLandmarks, width: Int, height: Int) -> (points: [Float], scores: [Float]) {
        var points = [Float](repeating: 0, count: 34), scores = [Float](repeating: 0, count: 17)
        for (c, b) in cocoFromBlazePose.enumerated() {
            let l = landmarks.landmarks[b]
            points[2 * c] = l.x * Float(width)
            points[2 * c + 1] = l.y * Float(height)
            scores[c] = l.visibility
        }
        return (points, scores)
    }

    /// BlazePose's heels and toes (landmarks 29-32) in pixels, (4, 2) in FootLandmark's order.
    public static func feet(from landmarks: PoseLandmarks, width: Int, height: Int) -> [Float] {
        FootLandmark.blazePoseIndices.flatMap { b in [landmarks.landmarks[b].x * Float(width), landmarks.landmarks[b].y * Float(height)] }
    }

    /// COCO-17 (17·2) → Human3.6M-17 (17·2), the official demo's `coco_h36m`, step by step.
    public static func h36m(fromCOCO k: [Float]) -> [Float] {
        func x(_ i: Int) -> Float { k[2 * i] }
        func y(_ i: Int) -> Float { k[2 * i + 1] }
        func mean2(_ a: Float, _ b: Float) -> Float { (a + b) / 2 }
        var h = [Float](repeating: 0, count: 34)
        func set(_ j: Int, _ px: Float, _ py: Float) { h[2 * j] = px; h[2 * j + 1] = py }
        let shoulderX = mean2(x(5), x(6)), shoulderY = mean2(y(5), y(6))
        // 1. head top: x from the eyes and ears, y mirrored about the nose from the eyes
        set(10, (((x(1) + x(2)) + x(3)) + x(4)) / 4, (y(1) + y(2)) - y(0))
        // 2. thorax: a third of the way from the shoulder centre to the nose
        set(8, shoulderX + (x(0) - shoulderX) / 3, shoulderY + (y(0) - shoulderY) / 3)
        // 3. pelvis: hip centre; 4. spine: centre of shoulders and hips
        set(0, mean2(x(11), x(12)), mean2(y(11), y(12)))
        set(7, (((x(5) + x(6)) + x(11)) + x(12)) / 4, (((y(5) + y(6)) + y(11)) + y(12)) / 4)
        // 5. joints COCO has under other names
        for (hj, cj) in [(9, 0), (11, 5), (14, 6), (12, 7), (15, 8), (13, 9), (16, 10), (4, 11), (1, 12), (5, 13), (2, 14), (6, 15), (3, 16)] {
            set(hj, x(cj), y(cj))
        }
        // 6. nose pulled a quarter of the way towards the shoulder centre
        set(9, h[18] - (h[18] - shoulderX) / 4, h[19] - (h[19] - shoulderY) / 4)
        // 7. spine x pushed away from the pelvis–thorax midline (factor 2, preprocess.py)
        h[14] += 2 * (h[14] - mean2(h[0], h[16]))
        // 8. thorax raised by two thirds of the eyes-to-nose offset
        h[17] -= (mean2(y(1), y(2)) - y(0)) * 2 / 3
        return h
    }

    /// Per-joint Human3.6M confidences from COCO scores (the demo's mapping): copied joints keep
    /// theirs; pelvis = mean of the hips, thorax = mean of the shoulders, spine = mean of those two,
    /// head = mean of eyes and ears.
    public static func h36mScores(fromCOCO s: [Float]) -> [Float] {
        var h = [Float](repeating: 0, count: 17)
        for (hj, cj) in [(9, 0), (11, 5), (14, 6), (12, 7), (15, 8), (13, 9), (16, 10), (4, 11), (1, 12), (5, 13), (2, 14), (6, 15), (3, 16)] {
            h[hj] = s[cj]
        }
        h[0] = (s[11] + s[12]) / 2
        h[8] = (s[5] + s[6]) / 2
        h[7] = (h[0] + h[8]) / 2
        h[10] = (s[1] + s[2] + s[3] + s[4]) / 4
        return h
    }
}
