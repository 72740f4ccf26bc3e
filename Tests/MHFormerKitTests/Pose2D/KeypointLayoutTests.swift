// Keypoint files in every body layout other tools write (KeypointLayout): files made here from the walk
// sample's exact 2D, in each layout's point order, with points missing (OpenPose's 0, 0, 0) in some
// frames and extra points (face, hands, small toes) the reader must skip. Each is read and lifted,
// and must equal lifting the same 2D given in memory; a BODY_25B folder with free file names is told
// from BODY_25 without options; where the data cannot tell them apart, a one-line error.

import Foundation
import Testing
@testable import MHFormerKit

/// The walk sample's first 60 frames as one person of every layout: COCO-17 from the exact Human3.6M
/// joints (eyes and ears placed around the nose and head), a neck, a mid hip, a head top and feet.
struct LayoutSource {
    static let frames = 60
    /// Per frame, every named point (pixels) of the person.
    var named: [[String: SIMD2<Double>]] = []

    init() throws {
        let truth = try Keypoints2DCSV.read(path: SampleVideo.gt2D.path)
        for f in 0..<Self.frames {
            func h(_ joint: String) -> SIMD2<Double> {
                let j = Skeleton.jointNames.firstIndex(of: joint)!
                return SIMD2(Double(truth.points[f * 34 + 2 * j]), Double(truth.points[f * 34 + 2 * j + 1]))
            }
            var p: [String: SIMD2<Double>] = [:]
            for side in ["left", "right"] {
                for joint in ["shoulder", "elbow", "wrist", "hip", "knee", "ankle"] { p["\(side)_\(joint)"] = h("\(side)_\(joint)") }
                let s: Double = side == "left" ? 1 : -1
                p["\(side)_eye"] = h("nose") + SIMD2(5 * s, -5)
                p["\(side)_ear"] = (h("nose") + h("head")) / 2 + SIMD2(9 * s, 0)
                p["\(side)_heel"] = h("\(side)_ankle") + SIMD2(-6, 9)
                p["\(side)_big_toe"] = h("\(side)_ankle") + SIMD2(15, 12)
                p["\(side)_small_toe"] = h("\(side)_ankle") + SIMD2(12, 14)
            }
            p["nose"] = h("nose")
            p["neck"] = (p["left_shoulder"]! + p["right_shoulder"]!) / 2 + SIMD2(0, -4)
            p["mid_hip"] = (p["left_hip"]! + p["right_hip"]!) / 2
            p["head_top"] = h("head")
            named.append(p)
        }
    }

    /// Whether a point is missing (0, 0, 0) in frame `f`: the left wrist every 7th frame, the right
    /// heel every 11th.
    static func missing(_ name: String, _ f: Int) -> Bool {
        (name == "left_wrist" && f % 7 == 3) || (name == "right_heel" && f % 11 == 5)
    }

    /// Frame `f` in `layout`: x, y, confidence per point (0.9 for known points; points this source
    /// has no place for, such as the face and hands, at the nose with confidence 0.3).
    func values(_ layout: KeypointLayout, frame f: Int) -> [Double] {
        LayoutSource.names(layout).flatMap { name -> [Double] in
            if Self.missing(name, f) { return [0, 0, 0] }
            guard let q = named[f][name] else { let n = named[f]["nose"]!; return [n.x, n.y, 0.3] }
            return [q.x, q.y, 0.9]
        }
    }

    /// The reference: COCO-17 (from the layout-free names) and feet as Keypoints2D, exactly as the
    /// readers must give them (a missing heel at its ankle).
    func keypoints(withFeet: Bool) -> Keypoints2D {
        let coco = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
                    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
        var kp = Keypoints2D(frames: Array(0..<Self.frames), times: Array(repeating: nil, count: Self.frames), width: 640, height: 480,
                             points: [], present: Array(repeating: true, count: Self.frames), scores: [])
        if withFeet { kp.feet = [] }
        for f in 0..<Self.frames {
            var points: [Float] = [], scores: [Float] = []
            for name in coco {
                let gone = Self.missing(name, f)
                points += gone ? [0, 0] : [Float(named[f][name]!.x), Float(named[f][name]!.y)]
                scores.append(gone ? 0 : 0.9)
            }
            kp.points += KeypointConversion.h36m(fromCOCO: points)
            kp.scores! += KeypointConversion.h36mScores(fromCOCO: scores)
            if withFeet {
                for (name, ankle) in [("left_heel", "left_ankle"), ("right_heel", "right_ankle"), ("left_big_toe", "left_ankle"), ("right_big_toe", "right_ankle")] {
                    let q = named[f][Self.missing(name, f) ? ankle : name]!
                    kp.feet! += [Float(q.x), Float(q.y)]
                }
            }
        }
        return kp
    }

    /// Each layout's points by name, in its order (the layouts' documented orders, docs/keypoint-layouts.md).
    static func names(_ layout: KeypointLayout) -> [String] {
        let coco17 = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
                      "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
        switch layout {
        case .coco17: return coco17
        case .coco18:
            return ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist", "right_hip",
                    "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear"]
        case .body25:
            return ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist", "mid_hip",
                    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear",
                    "left_ear", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
        case .body25b:
            return coco17 + ["neck", "head_top", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
        case .halpe26:
            return coco17 + ["head_top", "neck", "mid_hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe", "left_heel", "right_heel"]
        case .wholebody133:
            return coco17 + ["left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
                + (0..<110).map { "face_or_hand_\($0)" }
        case .mediapipe33:
            return ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer", "left_ear",
                    "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                    "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
                    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel", "left_big_toe", "right_big_toe"]
        }
    }

    /// An OpenPose-style folder: one `<prefix><frame><suffix>` file per frame.
    func writeOpenPose(_ layout: KeypointLayout, to folder: URL, name: (Int) -> String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for f in 0..<Self.frames {
            let person: [String: Any] = ["person_id": [-1], "pose_keypoints_2d": values(layout, frame: f), "face_keypoints_2d": [Double]()]
            let data = try JSONSerialization.data(withJSONObject: ["version": 1.3, "people": [person]])
            try data.write(to: folder.appendingPathComponent(name(f)))
        }
    }

    /// COCO keypoint results (one entry per frame, image_id = frame).
    func writeCOCO(_ layout: KeypointLayout, to file: URL) throws {
        let entries = (0..<Self.frames).map { f in ["image_id": f, "category_id": 1, "keypoints": values(layout, frame: f), "score": 0.9] as [String: Any] }
        try JSONSerialization.data(withJSONObject: entries).write(to: file)
    }
}

@Suite("Keypoint layouts: every layout read and lifted as the same 2D in memory", .enabled(if: DefaultWeights.find() != nil && FileManager.default.fileExists(atPath: SampleVideo.gt2D.path), "Models/mhformer-cmu-T*.safetensors or the sample's truth absent"))
struct KeypointLayoutTests {
    /// Reads `input` (a layout's file) and lifts it; the same for `reference` in memory: the 2D rows,
    /// scores and feet must be equal and the 3D within 1e-4.
    func expectSameLift(_ input: PoseJob.Input, _ reference: Keypoints2D, _ what: String) throws -> PoseJobResult {
        setBLASThreads(1)
        let read = try PosePipeline(PoseJob(input: input)).run()
        let expected = try PosePipeline(PoseJob(input: .keypoints(reference, name: "reference"))).run()
        #expect(read.keypoints2D.points == reference.points, "\(what): 2D points")
        #expect(read.keypoints2D.scores == reference.scores, "\(what): scores")
        #expect(read.keypoints2D.feet == reference.feet, "\(what): feet")
        let diff = zip(read.pose.joints, expected.pose.joints).map { abs($0 - $1) }.max() ?? .infinity
        #expect(read.pose.count == LayoutSource.frames && diff <= 1e-4, "\(what): 3D differs by \(diff) m")
        return read
    }

    @Test("OpenPose-style folders in each layout, told by point count (25: by the data)", arguments: KeypointLayout.allCases)
    func openPoseFolders(layout: KeypointLayout) throws {
        let dir = try Paths.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = try LayoutSource()
        let folder = dir.appendingPathComponent("json")
        try source.writeOpenPose(layout, to: folder) { String(format: "clip_%012d_keypoints.json", $0) }
        let r = try expectSameLift(.keypointsFile(folder.path, format: .openpose, imageSize: (640, 480)),
                                   source.keypoints(withFeet: layout.footIndices != nil), layout.rawValue)
        #expect(r.keypointLayout == layout && r.inputWarnings.isEmpty, "\(String(describing: r.keypointLayout)) \(r.inputWarnings)")
        // Undetected points are counted for the warning (the left wrist in every 7th frame).
        #expect(r.framesWithUndetectedPoints == 9)
    }

    @Test("COCO results JSON with COCO-17, HALPE_26 and COCO-WholeBody points", arguments: [KeypointLayout.coco17, .halpe26, .wholebody133])
    func cocoResults(layout: KeypointLayout) throws {
        let dir = try Paths.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = try LayoutSource()
        let file = dir.appendingPathComponent("results.json")
        try source.writeCOCO(layout, to: file)
        let r = try expectSameLift(.keypointsFile(file.path, imageSize: (640, 480)), source.keypoints(withFeet: layout.footIndices != nil), layout.rawValue)
        #expect(r.keypointLayout == layout)
    }

    @Test("a BODY_25B folder named cam03.0000.json ... lifts without options; `lift` says how it read it")
    func body25bFreeNames() throws {
        let dir = try Paths.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let source = try LayoutSource()
        let folder = dir.appendingPathComponent("cam03_json")
        try source.writeOpenPose(.body25b, to: folder) { String(format: "cam03.%04d.json", $0) }
        _ = try expectSameLift(.keypointsFile(folder.path, imageSize: (640, 480)), source.keypoints(withFeet: true), "BODY_25B")
        let weights = try #require(DefaultWeights.find())
        let r = try run(Paths.tool, ["lift", "--keypoints", folder.path, "--image-size", "640x480", "-o", dir.appendingPathComponent("o.csv").path, "--weights", weights])
        #expect(r.status == 0 && r.stderr.contains("(60 with a person, read as BODY_25B)"), "\(r.stderr)")
        // Given the other 25-point layout, the reader does as told and says the points are no body.
        let forced = try run(Paths.tool, ["lift", "--keypoints", folder.path, "--image-size", "640x480", "--keypoints-layout", "body25",
                                          "-o", dir.appendingPathComponent("f.csv").path, "--weights", weights])
        #expect(forced.status == 0 && forced.stderr.contains("warning: \(folder.path): read as BODY_25, the points do not look like a body"), "\(forced.stderr)")
    }

    @Test("25 points the data cannot tell apart: a one-line error asking for --keypoints-layout; a bad layout name, or one given for our CSV, too")
    func ambiguous() throws {
        let dir = try Paths.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        // Only the limbs are detected: no face points to tell BODY_25 from BODY_25B.
        let folder = dir.appendingPathComponent("limbs")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = try LayoutSource()
        for f in 0..<5 {
            var v = source.values(.body25b, frame: f)
            for i in [0, 1, 2, 3, 4, 17, 18] { v[3 * i] = 0; v[3 * i + 1] = 0; v[3 * i + 2] = 0 }
            try JSONSerialization.data(withJSONObject: ["people": [["pose_keypoints_2d": v]]]).write(to: folder.appendingPathComponent("f\(f).json"))
        }
        let weights = try #require(DefaultWeights.find())
        let r = try run(Paths.tool, ["lift", "--keypoints", folder.path, "--image-size", "640x480", "-o", dir.appendingPathComponent("o.csv").path, "--weights", weights])
        #expect(r.status == 1 && r.stderr == "error: \(folder.path): 25 points could be BODY_25 or BODY_25B; give --keypoints-layout\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.csv").path))
        let given = try run(Paths.tool, ["lift", "--keypoints", folder.path, "--image-size", "640x480", "--keypoints-layout", "body25b",
                                         "-o", dir.appendingPathComponent("o.csv").path, "--weights", weights])
        #expect(given.status == 0, "\(given.stderr)")
        let csv = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "--keypoints-layout", "body25", "-o", dir.appendingPathComponent("c.csv").path])
        #expect(csv.status == 1 && csv.stderr.contains("--keypoints-layout body25 does not apply to a 2D CSV"), "\(csv.stderr)")
        let bad = try run(Paths.tool, ["lift", "--keypoints", folder.path, "--keypoints-layout", "body26", "-o", dir.appendingPathComponent("b.csv").path])
        #expect(bad.status == 1 && bad.stderr.hasPrefix("error: --keypoints-layout: unknown layout 'body26'"), "\(bad.stderr)")
    }
}
