// Turning the detector's raw outputs into person detections (pose2d-backends.md §4.3):
//   anchors (SsdAnchorsCalculator) → box/keypoint decoding and score threshold
//   (TensorsToDetectionsCalculator) → weighted non-maximum suppression (NonMaxSuppressionCalculator)
//   → letterbox removal (DetectionLetterboxRemovalCalculator) → ROI (PoseDetectionToRoi).

import Foundation

/// One detected person, normalized image coordinates.
public struct PoseDetection: Sendable {
    public var score: Float
    /// xmin, ymin, xmax, ymax
    public var box: SIMD4<Float>
    /// 0 mid-hip, 1 a point above the head (|k1 − k0| = radius of the whole body), 2 mid-shoulder,
    /// 3 upper-body circle point
    public var keypoints: [SIMD2<Float>]
}

enum PoseDetectorSpec {
    static let inputSize = 224
    static let anchorCount = 2254
    static let valuesPerAnchor = 12       // dx, dy, w, h, then 4 keypoints (x, y)
    static let keypointCount = 4
}

/// SSD anchor centres of the detector, normalized, in the model's output order (row, column,
/// anchor). SsdAnchorsCalculator with strides [8, 16, 32, 32, 32], aspect ratio 1 plus the
/// interpolated scale: every layer gives 2 anchors per cell and layers of equal stride share the
/// grid, so 28×28×2 (stride 8), 14×14×2 (16), 7×7×6 (32). With fixed_anchor_size every anchor is
/// 1 × 1, so only the centres matter.
let poseDetectorAnchors: [SIMD2<Float>] = {
    let strides = [8, 16, 32, 32, 32]
    var anchors: [SIMD2<Float>] = []
    var i = 0
    while i < strides.count {
        var perCell = 0, j = i
        while j < strides.count && strides[j] == strides[i] { perCell += 2; j += 1 }
        let fm = (PoseDetectorSpec.inputSize + strides[i] - 1) / strides[i]
        for y in 0..<fm {
            for x in 0..<fm {
                let centre = SIMD2<Float>((Float(x) + 0.5) / Float(fm), (Float(y) + 0.5) / Float(fm))
                anchors += Array(repeating: centre, count: perCell)
            }
        }
        i = j
    }
    return anchors
}()

/// Decodes boxes [2254 × 12] and score logits [2254] (tensor-relative: 0..1 over the 224 × 224
/// letterboxed input). Keeps anchors with sigmoid(score) ≥ minScore and non-negative size.
func decodePoseDetections(boxes: [Float], scores: [Float], minScore: Float = 0.5) -> [PoseDetection] {
    let n = PoseDetectorSpec.anchorCount, k = PoseDetectorSpec.valuesPerAnchor
    precondition(boxes.count == n * k && scores.count == n, "decodePoseDetections: wrong tensor sizes")
    let scale = Float(PoseDetectorSpec.inputSize)
    var out: [PoseDetection] = []
    for i in 0..<n {
        let logit = min(max(scores[i], -100), 100)          // score_clipping_thresh
        let score = 1 / (1 + exp(-logit))
        guard score >= minScore else { continue }
        let b = Array(boxes[(i * k)..<(i * k + k)])
        let a = poseDetectorAnchors[i]
        // reverse_output_order: x, y, w, h
        let xc = b[0] / scale + a.x, yc = b[1] / scale + a.y
        let w = b[2] / scale, h = b[3] / scale
        guard w >= 0, h >= 0 else { continue }
        let kps = (0..<PoseDetectorSpec.keypointCount).map { j in
            SIMD2<Float>(b[4 + 2 * j] / scale + a.x, b[5 + 2 * j] / scale + a.y)
        }
        out.append(PoseDetection(score: score, box: SIMD4(xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2), keypoints: kps))
    }
    return out
}

/// Intersection over union of two (xmin, ymin, xmax, ymax) boxes; 0 when they do not overlap.
func intersectionOverUnion(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> Float {
    let ix = max(0, min(a[2], b[2]) - max(a[0], b[0])), iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    let inter = ix * iy
    guard inter > 0 else { return 0 }
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return union > 0 ? inter / union : 0
}

/// MediaPipe's WEIGHTED non-maximum suppression: take the best remaining detection, gather every
/// remaining one with IoU > threshold to it (itself included), and output the best score with the
/// score-weighted mean of the cluster's boxes and keypoints; repeat on what is left.
func weightedNonMaxSuppression(_ detections: [PoseDetection], threshold: Float = 0.3) -> [PoseDetection] {
    // by score, best first; ties keep the anchor order
    var remaining = detections.indices.sorted {
        detections[$0].score != detections[$1].score ? detections[$0].score > detections[$1].score : $0 < $1
    }.map { detections[$0] }
    var out: [PoseDetection] = []
    while let top = remaining.first {
        var cluster: [PoseDetection] = [], rest: [PoseDetection] = []
        for d in remaining {
            if intersectionOverUnion(d.box, top.box) > threshold { cluster.append(d) } else { rest.append(d) }
        }
        if cluster.isEmpty {       // a zero-area or NaN box overlaps nothing, not even itself: pass it through
            out.append(top)
            remaining = Array(rest.dropFirst())
            continue
        }
        var total: Float = 0
        var box = SIMD4<Float>()
        var kps = [SIMD2<Float>](repeating: .zero, count: top.keypoints.count)
        for d in cluster {
            total += d.score
            box += d.box * d.score
            for j in kps.indices { kps[j] += d.keypoints[j] * d.score }
        }
        out.append(PoseDetection(score: top.score, box: box / total, keypoints: kps.map { $0 / total }))
        remaining = rest
    }
    return out
}

/// Maps a detection from the letterboxed tensor back to the image (x' = (x − left) / (1 − left − right)).
func removeLetterbox(_ d: PoseDetection, _ p: Letterbox) -> PoseDetection {
    let sx = 1 - p.left - p.right, sy = 1 - p.top - p.bottom
    func map(_ q: SIMD2<Float>) -> SIMD2<Float> { SIMD2((q.x - p.left) / sx, (q.y - p.top) / sy) }
    let lo = map(SIMD2(d.box[0], d.box[1])), hi = map(SIMD2(d.box[2], d.box[3]))
    return PoseDetection(score: d.score, box: SIMD4(lo.x, lo.y, hi.x, hi.y), keypoints: d.keypoints.map(map))
}

/// PoseDetectionToRoi: the landmark model's ROI from a detection's keypoints 0 (mid-hip) and 1.
public func poseRoi(from d: PoseDetection, imageWidth W: Int, imageHeight H: Int) -> NormalizedRect {
    squareLong(alignmentRect(d.keypoints[0], d.keypoints[1], width: W, height: H), width: W, height: H)
}
