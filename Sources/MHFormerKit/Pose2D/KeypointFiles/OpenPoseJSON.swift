// OpenPose's `--write_json` output: a folder with one file per frame,
//   <name>_000000000000_keypoints.json, <name>_000000000001_keypoints.json, ...
//   {"version": 1.3, "people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...], ...}, ...]}
// in pixels (OpenPose's default --keypoint_scale 0). The layout is told by the array's length:
// 75 values = BODY_25 (the default model), 54 = COCO-18 (--model_pose COCO). OpenPose writes
// 0, 0, 0 for a point it did not find.
//
// Rules (README, "2D keypoint files"):
// - Frame number: the digits at the end of the name before `_keypoints.json` (OpenPose writes 12);
//   files are sorted by it. Other files in the folder are ignored. Missing numbers become frames
//   without a person, as does a file whose `people` is empty.
// - Several people: the one with the highest mean confidence over the 17 points used (ties: the
//   first); tracking a chosen person across frames is left to a later multi-person reader.
// - A point with confidence 0 keeps its coordinates (0, 0 as OpenPose writes them) with score 0:
//   nothing is filled in from other points; `KeypointFileContents.framesWithUndetectedPoints`
//   counts such frames so the caller can warn.
// - No image size in the files: it must be given.

import Foundation

public enum OpenPoseJSON {
    /// The body layouts OpenPose writes, told apart by the number of values per person.
    public enum Layout: String, Sendable {
        case body25 = "BODY_25", coco18 = "COCO-18"

        /// Points per person (each x, y, confidence).
        public var pointCount: Int { self == .body25 ? 25 : 18 }

        /// COCO-17 index → this layout's index: the same body points under OpenPose's numbering.
        public var cocoIndices: [Int] { self == .body25 ? OpenPoseJSON.cocoFromBody25 : OpenPoseJSON.cocoFromCOCO18 }
    }

    /// COCO-17 index → BODY_25 index. BODY_25: 0 nose, 1 neck, 2 right shoulder, 3 right elbow,
    /// 4 right wrist, 5 left shoulder, 6 left elbow, 7 left wrist, 8 mid hip, 9 right hip,
    /// 10 right knee, 11 right ankle, 12 left hip, 13 left knee, 14 left ankle, 15 right eye,
    /// 16 left eye, 17 right ear, 18 left ear, 19–24 toes and heels (unused, as are the neck and
    /// the mid hip).
    public static let cocoFromBody25 = [
        0,          // nose
        16, 15,     // left eye, right eye
        18, 17,     // left ear, right ear
        5, 2,       // left shoulder, right shoulder
        6, 3,       // left elbow, right elbow
        7, 4,       // left wrist, right wrist
        12, 9,      // left hip, right hip
        13, 10,     // left knee, right knee
        14, 11,     // left ankle, right ankle
    ]

    /// COCO-17 index → OpenPose COCO-18 index. COCO-18: 0 nose, 1 neck, 2 right shoulder,
    /// 3 right elbow, 4 right wrist, 5 left shoulder, 6 left elbow, 7 left wrist, 8 right hip,
    /// 9 right knee, 10 right ankle, 11 left hip, 12 left knee, 13 left ankle, 14 right eye,
    /// 15 left eye, 16 right ear, 17 left ear (the neck is unused).
    public static let cocoFromCOCO18 = [
        0,          // nose
        15, 14,     // left eye, right eye
        17, 16,     // left ear, right ear
        5, 2,       // left shoulder, right shoulder
        6, 3,       // left elbow, right elbow
        7, 4,       // left wrist, right wrist
        11, 8,      // left hip, right hip
        12, 9,      // left knee, right knee
        13, 10,     // left ankle, right ankle
    ]

    /// The file name ending OpenPose gives every frame file.
    public static let fileSuffix = "_keypoints.json"

    /// Reads an OpenPose JSON folder; `imageSize` is required (the files do not store it).
    public static func read(folder: String, imageSize: (width: Int, height: Int)?) throws -> Keypoints2D {
        try load(folder: folder, imageSize: imageSize).0
    }

    /// The frame files of `folder`, sorted by frame number: (frame number, file name).
    public static func frameFiles(folder: String) throws -> [(frame: Int, name: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw MHFormerError("\(folder): no such folder")
        }
        guard isDirectory.boolValue else {
            throw MHFormerError("\(folder): not a folder (OpenPose writes one <name>_<frame>\(fileSuffix) file per frame into a folder)")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) }
        catch { throw MHFormerError("\(folder): cannot list the folder") }
        var files: [(frame: Int, name: String)] = []
        for name in names where name.hasSuffix(fileSuffix) && !name.hasPrefix(".") {
            let stem = name.dropLast(fileSuffix.count)
            guard let frame = KeypointFiles.trailingNumber(stem) else {
                throw MHFormerError("\(path(folder, name)): no frame number in the file name (expected <name>_<frame number>\(fileSuffix), as OpenPose writes)")
            }
            files.append((frame, name))
        }
        guard !files.isEmpty else {
            throw MHFormerError("\(folder): no OpenPose frame files (*\(fileSuffix)) in the folder")
        }
        files.sort { $0.frame < $1.frame || ($0.frame == $1.frame && $0.name < $1.name) }
        for (a, b) in zip(files, files.dropFirst()) where a.frame == b.frame {
            throw MHFormerError("\(path(folder, b.name)): frame number \(b.frame) again (also \(a.name)); one video's files per folder")
        }
        return files
    }

    static func load(folder: String, imageSize: (width: Int, height: Int)?) throws -> (Keypoints2D, Int) {
        let files = try frameFiles(folder: folder)
        let size = try KeypointFiles.imageSize(inFile: nil, given: imageSize, path: folder,
                                               why: "OpenPose JSON files do not store the image size")
        var layout: (layout: Layout, file: String)?        // the first frame's, which every other must match
        var frames: [KeypointFiles.COCOFrame] = []
        frames.reserveCapacity(files.count)
        for (frame, name) in files {
            let file = path(folder, name)
            let json = try KeypointFiles.decodeJSON(FrameFile.self, path: file)
            var best: (points: [Float], scores: [Float], meanScore: Float)?
            for (p, person) in json.people.enumerated() {
                guard let values = person.poseKeypoints2D ?? person.poseKeypoints else {
                    throw MHFormerError("\(file): people[\(p)]: missing key 'pose_keypoints_2d'")
                }
                let key = person.poseKeypoints2D != nil ? "pose_keypoints_2d" : "pose_keypoints"
                let thisLayout: Layout
                switch values.count {
                case 3 * Layout.body25.pointCount: thisLayout = .body25
                case 3 * Layout.coco18.pointCount: thisLayout = .coco18
                default:
                    throw MHFormerError("\(file): people[\(p)].\(key) has \(values.count) values; expected 75 (BODY_25) or 54 (COCO-18), each point x, y, confidence")
                }
                if let first = layout, first.layout != thisLayout {
                    throw MHFormerError("\(file): people[\(p)] is \(thisLayout.rawValue) (\(values.count) values) but \(first.file) is \(first.layout.rawValue); one model's files per folder")
                }
                layout = layout ?? (thisLayout, name)
                // Every value, used or not, must be a number a detector could write; then Float32
                // holds it exactly enough and never overflows.
                for (i, v) in values.enumerated() where !(abs(v) <= Double(Keypoints2DCSV.maxCoordinate)) {
                    throw MHFormerError("\(file): people[\(p)].\(key)[\(i)]: \(v) is out of range (at most \(Keypoints2DCSV.maxCoordinate) in magnitude)")
                }
                var points = [Float](repeating: 0, count: 34), scores = [Float](repeating: 0, count: 17)
                for (c, o) in thisLayout.cocoIndices.enumerated() {
                    points[2 * c] = Float(values[3 * o])
                    points[2 * c + 1] = Float(values[3 * o + 1])
                    scores[c] = Float(values[3 * o + 2])
                }
                let meanScore = scores.reduce(0, +) / 17
                if best.map({ meanScore > $0.meanScore }) ?? true { best = (points, scores, meanScore) }
            }
            frames.append(KeypointFiles.COCOFrame(frame: frame, person: best.map { ($0.points, $0.scores) }))
        }
        return try KeypointFiles.assemble(frames, size: size, hasScores: true, path: folder)
    }

    private static func path(_ folder: String, _ name: String) -> String {
        (folder as NSString).appendingPathComponent(name)
    }

    /// One frame file. Other keys (version, face and hand keypoints, 3D) are ignored.
    private struct FrameFile: Decodable {
        var people: [Person]
        struct Person: Decodable {
            var poseKeypoints2D: [Double]?
            /// What OpenPose before 1.3 called the same array.
            var poseKeypoints: [Double]?
            enum CodingKeys: String, CodingKey {
                case poseKeypoints2D = "pose_keypoints_2d", poseKeypoints = "pose_keypoints"
            }
        }
    }
}
