// The body layouts 2D pose tools write (docs/keypoint-layouts.md has the table of tools):
//   body25        OpenPose BODY_25 (its default model): nose, neck, arms, mid hip, legs, eyes, ears, feet
//   body25b       OpenPose BODY_25B (experimental, Pose2Sim's recommendation): COCO-17's order, then neck,
//                 head top and the feet
//   coco18        OpenPose COCO (--model_pose COCO): BODY_25's first points without the mid hip
//   coco17        COCO-17 (mmpose, detectron2, YOLO-pose, ViTPose, RTMPose body models)
//   halpe26       HALPE_26 (AlphaPose, RTMPose through rtmlib: Sports2D's and Pose2Sim's default):
//                 COCO-17, then head top, neck, mid hip and the feet
//   wholebody133  COCO-WholeBody (MMPose/RTMPose wholebody): COCO-17, the feet, 68 face and 42 hand points
//   mediapipe33   MediaPipe Pose's 33 landmarks
// Each is read as COCO-17 (the points the lifter's converter takes) plus, where the layout has them,
// the heels and big toes (Keypoints2D.feet, for the motion stage's foot contacts).
//
// Two layouts have 25 points. Where a file's point count does not name the layout, the data decide
// (`KeypointLayout.resolve`): in the right reading the eyes and ears lie around the nose; in the
// wrong one those indices are knees and ankles, or the neck and an arm. When both or neither fit
// (no face points detected), the reader refuses and asks for --keypoints-layout.

import Foundation

public enum KeypointLayout: String, CaseIterable, Sendable, Codable {
    case body25, body25b, coco18, coco17, halpe26, wholebody133, mediapipe33

    /// The name the tools use.
    public var displayName: String {
        switch self {
        case .body25: "BODY_25"
        case .body25b: "BODY_25B"
        case .coco18: "COCO-18"
        case .coco17: "COCO-17"
        case .halpe26: "HALPE_26"
        case .wholebody133: "COCO-WholeBody"
        case .mediapipe33: "MediaPipe-33"
        }
    }

    public var pointCount: Int {
        switch self {
        case .body25, .body25b: 25
        case .coco18: 18
        case .coco17: 17
        case .halpe26: 26
        case .wholebody133: 133
        case .mediapipe33: 33
        }
    }

    /// COCO-17 index → this layout's index (COCO-17: nose, left/right eye, left/right ear, left/right
    /// shoulder, elbow, wrist, hip, knee, ankle).
    public var cocoIndices: [Int] {
        switch self {
        case .body25: OpenPoseJSON.cocoFromBody25
        case .coco18: OpenPoseJSON.cocoFromCOCO18
        // These three begin with COCO-17 in COCO's order.
        case .body25b, .coco17, .halpe26, .wholebody133: Array(0..<17)
        case .mediapipe33: KeypointConversion.cocoFromBlazePose
        }
    }

    /// The layout's left heel, right heel, left big toe, right big toe (Keypoints2D.feet's order), or
    /// nil when it has no feet.
    public var footIndices: [Int]? {
        switch self {
        // BODY_25 and BODY_25B: 19 left big toe, 20 left small toe, 21 left heel, 22-24 the right's.
        case .body25, .body25b: [21, 24, 19, 22]
        // HALPE_26: 20 left big toe, 21 right big toe, 22/23 small toes, 24 left heel, 25 right heel.
        case .halpe26: [24, 25, 20, 21]
        // COCO-WholeBody: 17 left big toe, 18 left small toe, 19 left heel, 20-22 the right's.
        case .wholebody133: [19, 22, 17, 20]
        // MediaPipe: 29/30 heels, 31/32 foot index (the toes).
        case .mediapipe33: FootLandmark.blazePoseIndices
        case .coco18, .coco17: nil
        }
    }

    /// The layouts with `count` points.
    public static func candidates(pointCount count: Int) -> [KeypointLayout] {
        allCases.filter { $0.pointCount == count }
    }

    /// The accepted names, for messages and --help.
    public static var names: String { allCases.map(\.rawValue).joined(separator: "|") }

    /// One person's points in this layout → COCO-17 (17 x, y pairs and 17 confidences) and the feet
    /// (8 values, nil when the layout has none). `values`: x, y, confidence per point.
    func read(_ values: [Double]) -> (points: [Float], scores: [Float], feet: [Float]?) {
        var points = [Float](repeating: 0, count: 34), scores = [Float](repeating: 0, count: 17)
        for (c, o) in cocoIndices.enumerated() {
            points[2 * c] = Float(values[3 * o]); points[2 * c + 1] = Float(values[3 * o + 1])
            scores[c] = Float(values[3 * o + 2])
        }
        // A foot point the detector missed (confidence 0, written 0, 0) is put at its ankle, not left
        // at the image's corner, where the motion stage would take it for a foot standing still.
        let feet = footIndices.map { indices in
            indices.enumerated().flatMap { k, i -> [Float] in
                let ankle = k % 2 == 0 ? 15 : 16                    // feet's order: left, right, left, right
                return values[3 * i + 2] > 0 ? [Float(values[3 * i]), Float(values[3 * i + 1])] : [points[2 * ankle], points[2 * ankle + 1]]
            }
        }
        return (points, scores, feet)
    }

    /// Which of `candidates` the people in `samples` (each x, y, confidence per point) are written in:
    /// the one whose own points agree (`fit`), when exactly one does. `source` names the file for
    /// the error.
    static func resolve(_ candidates: [KeypointLayout], samples: [[Double]], source: String) throws -> KeypointLayout {
        guard candidates.count > 1 else { return candidates[0] }
        let fitting = candidates.filter { $0.fits(samples) }
        if fitting.count == 1 { return fitting[0] }
        let names = candidates.map(\.displayName)
        throw MHFormerError("\(source): \(candidates[0].pointCount) points could be \(names.dropLast().joined(separator: ", ")) or \(names.last!); give --keypoints-layout")
    }

    /// Whether the people in `samples` look like this layout: what it calls the eyes and ears lie
    /// near what it calls the nose (within a fifth of the person's size, the larger side of the box
    /// around their points), in most people. Read in another layout, these indices are other body
    /// parts: BODY_25B's knees and ankles are BODY_25's eyes and ears, BODY_25's neck and right arm
    /// BODY_25B's eyes and ears, half a body or more from the nose.
    func fits(_ samples: [[Double]]) -> Bool { headAroundNose(samples) == true }

    /// `fits`'s test; nil when no person has the nose, two of the eyes and ears and six points.
    func headAroundNose(_ samples: [[Double]]) -> Bool? {
        let nose = cocoIndices[0], head = cocoIndices[1...4]
        var ratios: [Double] = []
        for v in samples where v.count == 3 * pointCount {
            func p(_ i: Int) -> SIMD2<Double>? { v[3 * i + 2] > 0 ? SIMD2(v[3 * i], v[3 * i + 1]) : nil }
            let confident = (0..<pointCount).compactMap(p)
            let around = head.compactMap(p)
            guard let n = p(nose), around.count >= 2, confident.count >= 6 else { continue }
            let xs = confident.map(\.x), ys = confident.map(\.y)
            let size = max(xs.max()! - xs.min()!, ys.max()! - ys.min()!)
            guard size > 0 else { continue }
            ratios.append(around.map { (($0 - n) * ($0 - n)).sum().squareRoot() }.max()! / size)
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        return ratios[ratios.count / 2] < 0.2
    }
}

/// Whether COCO-17 keypoints look like a body: the eyes and ears around the nose (KeypointLayout.fits);
/// in most frames with both shoulders and both hips, the left-to-right direction of the shoulders
/// and of the hips agree; upper arm and forearm, thigh and shin within 3x of each other. A layout
/// misread (points of one body part taken for another's) fails it. Returns what is wrong, or nil.
func implausibleBody(_ people: [(points: [Float], scores: [Float])]) -> String? {
    let samples = people.map { person in (0..<17).flatMap { [Double(person.points[2 * $0]), Double(person.points[2 * $0 + 1]), Double(person.scores[$0])] } }
    if KeypointLayout.coco17.headAroundNose(samples) == false { return "the eyes and ears are not around the nose" }
    var checked = 0, crossed = 0, stretched = 0
    for person in people {
        func p(_ i: Int) -> SIMD2<Float>? { person.scores[i] > 0 ? SIMD2(person.points[2 * i], person.points[2 * i + 1]) : nil }
        func length(_ i: Int, _ j: Int) -> Float? { guard let a = p(i), let b = p(j) else { return nil }; return ((a - b) * (a - b)).sum().squareRoot() }
        guard let ls = p(5), let rs = p(6), let lh = p(11), let rh = p(12) else { continue }
        checked += 1
        if ((ls - rs) * (lh - rh)).sum() < 0 { crossed += 1 }
        // (proximal, distal) bone pairs: left/right upper arm and forearm, thigh and shin.
        for (a, b) in [((5, 7), (7, 9)), ((6, 8), (8, 10)), ((11, 13), (13, 15)), ((12, 14), (14, 16))] {
            if let u = length(a.0, a.1), let f = length(b.0, b.1), u > 0, f > 0, max(u / f, f / u) > 3 { stretched += 1; break }
        }
    }
    guard checked > 0 else { return nil }
    if 2 * crossed > checked { return "in \(crossed) of \(checked) frames the left and right shoulders are the other way round from the hips" }
    if 2 * stretched > checked { return "in \(stretched) of \(checked) frames a limb's two bones differ in length more than 3x" }
    return nil
}
