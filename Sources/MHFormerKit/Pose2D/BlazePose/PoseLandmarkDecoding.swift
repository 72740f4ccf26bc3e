// Turning the landmark model's outputs into image landmarks (pose2d-backends.md §4.5):
//   Identity   [195] = 39 × (x, y, z, visibility logit, presence logit), x y z in 256-px crop units
//   Identity_1 [1]   pose presence, already a probability
//   Identity_3 [64 × 64 × 39] heatmap logits, used to refine x, y
//   Identity_4 [117] = 39 × (x, y, z) world landmarks in metres, hip-centred, in the ROI's rotation
// Landmarks 0–32 are the documented pose landmarks, 33–34 the auxiliary ones that give the next
// frame's ROI, 35–38 are dropped (MediaPipe drops them too).

import Foundation

public struct PoseLandmark: Equatable, Sendable {
    /// x, y normalized to the image; z in the same scale as x (about 0 at the hips, smaller = nearer)
    public var x: Float, y: Float, z: Float
    public var visibility: Float, presence: Float
}

public struct PoseLandmarks: Sendable {
    public var landmarks: [PoseLandmark]          // 33
    public var auxiliary: [PoseLandmark]          // 2: mid-hip and the full-body scale/rotation point
    public var world: [SIMD3<Float>]              // 33, metres, rotated back to the image's axes
    public var presence: Float
    public var roi: NormalizedRect
}

enum PoseLandmarkSpec {
    static let inputSize = 256
    static let count = 39
    static let heatmapSize = 64
}

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

/// Raw rows → crop-normalized landmarks: x, y, z / 256, visibility and presence through a sigmoid.
func decodeLandmarkRows(_ raw: [Float]) -> [PoseLandmark] {
    let s = Float(PoseLandmarkSpec.inputSize)
    return (0..<PoseLandmarkSpec.count).map { i in
        PoseLandmark(x: raw[5 * i] / s, y: raw[5 * i + 1] / s, z: raw[5 * i + 2] / s,
                     visibility: sigmoid(raw[5 * i + 3]), presence: sigmoid(raw[5 * i + 4]))
    }
}

/// RefineLandmarksFromHeatmapCalculator: moves x, y to the confidence-weighted mean position of a
/// kernel × kernel window of the heatmap (64 × 64 × 39 logits) around each landmark, when the
/// window's best confidence reaches minConfidence. Window cells are weighted at their integer index
/// (no +½), and the centre cell is found by truncation, exactly as MediaPipe does. MediaPipe's graph
/// asks for kernel 7; mp.solutions.pose (Python) ends up with the default 9 (see the notes).
func refineFromHeatmap(_ lms: [PoseLandmark], heatmap: [Float], kernel: Int, minConfidence: Float = 0.5) -> [PoseLandmark] {
    let n = PoseLandmarkSpec.heatmapSize, C = PoseLandmarkSpec.count, off = (kernel - 1) / 2
    var out = lms
    for i in 0..<min(C, lms.count) {
        let xs = lms[i].x * Float(n), ys = lms[i].y * Float(n)
        guard xs.isFinite, ys.isFinite, xs > -1, ys > -1, xs < Float(n), ys < Float(n) else { continue }
        let cc = Int(xs), cr = Int(ys)                        // truncation toward zero, like C++
        guard cc >= 0, cc < n, cr >= 0, cr < n else { continue }
        var sum: Float = 0, best: Float = 0, sx: Float = 0, sy: Float = 0
        for r in max(0, cr - off)..<min(n, cr + off + 1) {
            for c in max(0, cc - off)..<min(n, cc + off + 1) {
                let conf = sigmoid(heatmap[(r * n + c) * C + i])
                sum += conf; best = max(best, conf)
                sx += Float(c) * conf; sy += Float(r) * conf
            }
        }
        if best >= minConfidence && sum > 0 {
            out[i].x = sx / Float(n) / sum
            out[i].y = sy / Float(n) / sum
        }
    }
    return out
}

/// Crop-normalized → image-normalized: undo the letterbox, then rotate and scale by the ROI.
func projectLandmarks(_ lms: [PoseLandmark], roi: NormalizedRect, letterbox p: Letterbox = .none) -> [PoseLandmark] {
    let c = cos(roi.rotation), s = sin(roi.rotation)
    return lms.map { l in
        var o = l
        let x = (l.x - p.left) / (1 - p.left - p.right), y = (l.y - p.top) / (1 - p.top - p.bottom)
        let z = l.z / (1 - p.left - p.right)
        let dx = x - 0.5, dy = y - 0.5
        o.x = (c * dx - s * dy) * roi.width + roi.xCenter
        o.y = (s * dx + c * dy) * roi.height + roi.yCenter
        o.z = z * roi.width
        return o
    }
}

/// World landmarks 0–32, rotated about z by the ROI's rotation (the model sees an upright person).
func worldLandmarks(_ raw: [Float], roi: NormalizedRect) -> [SIMD3<Float>] {
    let c = cos(roi.rotation), s = sin(roi.rotation)
    return (0..<33).map { i in
        let x = raw[3 * i], y = raw[3 * i + 1], z = raw[3 * i + 2]
        return SIMD3(c * x - s * y, s * x + c * y, z)
    }
}

/// Everything after the network in PoseLandmarkByRoiCpu: presence threshold, decoding, heatmap
/// refinement, projection into the image, world landmarks. nil = no pose (presence ≤ minPresence).
func decodePoseLandmarks(rows: [Float], presence: Float, heatmap: [Float], world: [Float],
                         roi: NormalizedRect, letterbox: Letterbox, options: BlazePose.Options) -> PoseLandmarks? {
    guard presence > options.minPresence else { return nil }
    let refined = refineFromHeatmap(decodeLandmarkRows(rows), heatmap: heatmap, kernel: options.heatmapKernel)
    let projected = projectLandmarks(refined, roi: roi, letterbox: letterbox)
    return PoseLandmarks(landmarks: Array(projected[0..<33]), auxiliary: Array(projected[33..<35]),
                         world: worldLandmarks(world, roi: roi), presence: presence, roi: roi)
}

/// PoseLandmarksToRoi: the next frame's ROI from the auxiliary landmarks (tracking).
public func poseRoi(fromAuxiliary aux: [PoseLandmark], imageWidth W: Int, imageHeight H: Int) -> NormalizedRect {
    squareLong(alignmentRect(SIMD2(aux[0].x, aux[0].y), SIMD2(aux[1].x, aux[1].y), width: W, height: H), width: W, height: H)
}
