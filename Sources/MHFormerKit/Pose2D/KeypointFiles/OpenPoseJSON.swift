// OpenPose's `--write_json` output, and the same per-frame JSON other tools write (Pose2Sim,
// Sports2D and rtmlib write OpenPose-style files for RTMPose's HALPE_26 and COCO-WholeBody): a folder
// with one file per frame,
//   <name>_000000000000_keypoints.json, cam03.0001.json, frame_7.json, ...
//   {"version": 1.3, "people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...], ...}, ...]}
// in pixels (OpenPose's default --keypoint_scale 0). OpenPose writes 0, 0, 0 for a point it did not
// find. The layout (KeypointLayout) is told by the number of points where only one has that many:
// 18 COCO-18, 17 COCO-17, 26 HALPE_26, 133 COCO-WholeBody, 33 MediaPipe; 25 points are BODY_25 or
// BODY_25B, told apart by the data (KeypointLayout.resolve) or given (--keypoints-layout).
//
// Rules (docs/lift-and-2d-formats.md, "2D keypoint files from other tools"):
// - Frame files: every `*.json` in the folder (not hidden ones), whatever the prefix; the frame number
//   is the last number in the name (`cam03.0012.json` → 12, `x_000000000012_keypoints.json` → 12);
//   files are sorted by it. A name without a number, or a number twice, is an error. Missing
//   numbers become frames without a person, as does a file whose `people` is empty.
// - Several people: the one with the highest mean confidence over the 17 COCO points (ties: the
//   first); tracking a chosen person across frames is left to a later multi-person reader.
// - A point with confidence 0 keeps its coordinates (0, 0 as OpenPose writes them) with score 0:
//   nothing is filled in from other points; `KeypointFileContents.framesWithUndetectedPoints`
//   counts such frames so the caller can warn. The feet (heels, big toes), where the layout has
//   them, go to Keypoints2D.feet; an undetected foot point is put at its ankle.
// - No image size in the files: it must be given.

import Foundation

public enum OpenPoseJSON {
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

    /// The file name ending OpenPose gives every frame file (others end in `.json` only).
    public static let fileSuffix = "_keypoints.json"

    /// Reads an OpenPose JSON folder; `imageSize` is required (the files do not store it). `layout`:
    /// the body layout, nil to tell it from the files.
    public static func read(folder: String, imageSize: (width: Int, height: Int)?, layout: KeypointLayout? = nil) throws -> Keypoints2D {
        try load(folder: folder, imageSize: imageSize, layout: layout).keypoints
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
        for name in names where name.lowercased().hasSuffix(".json") && !name.hasPrefix(".") {
            guard let frame = lastNumber(name.dropLast(5)) else {
                throw MHFormerError("\(path(folder, name)): no frame number in the file name (the last number in the name is the frame: <name>_<frame>\(fileSuffix), <name>.<frame>.json)")
            }
            files.append((frame, name))
        }
        guard !files.isEmpty else {
            throw MHFormerError("\(folder): no frame files (*.json) in the folder")
        }
        files.sort { $0.frame < $1.frame || ($0.frame == $1.frame && $0.name < $1.name) }
        for (a, b) in zip(files, files.dropFirst()) where a.frame == b.frame {
            throw MHFormerError("\(path(folder, b.name)): frame number \(b.frame) again (also \(a.name)); one video's files per folder")
        }
        return files
    }

    static func load(folder: String, imageSize: (width: Int, height: Int)?, layout given: KeypointLayout? = nil) throws -> KeypointFileContents {
        let files = try frameFiles(folder: folder)
        let size = try KeypointFiles.imageSize(inFile: nil, given: imageSize, path: folder,
                                               why: "OpenPose JSON files do not store the image size")
        // Every file's people (x, y, confidence per point), all of one length: the first person's.
        var people: [[[Double]]] = []
        people.reserveCapacity(files.count)
        var first: (count: Int, file: String)?
        for (_, name) in files {
            let file = path(folder, name)
            let json = try KeypointFiles.decodeJSON(FrameFile.self, path: file)
            var frame: [[Double]] = []
            for (p, person) in json.people.enumerated() {
                guard let values = person.poseKeypoints2D ?? person.poseKeypoints else {
                    throw MHFormerError("\(file): people[\(p)]: missing key 'pose_keypoints_2d'")
                }
                let key = person.poseKeypoints2D != nil ? "pose_keypoints_2d" : "pose_keypoints"
                let layouts = given.map { [$0] } ?? KeypointLayout.candidates(pointCount: values.count / 3)
                guard values.count % 3 == 0, let layout = layouts.first, values.count == 3 * layout.pointCount else {
                    let expected = given.map { "\(3 * $0.pointCount) (\($0.displayName), --keypoints-layout)" }
                        ?? "75 (BODY_25, BODY_25B), 54 (COCO-18), 51 (COCO-17), 78 (HALPE_26), 399 (COCO-WholeBody) or 99 (MediaPipe)"
                    throw MHFormerError("\(file): people[\(p)].\(key) has \(values.count) values; expected \(expected), each point x, y, confidence")
                }
                if let first, first.count != values.count {
                    func named(_ count: Int) -> String { "\(count / 3) (\(KeypointLayout.candidates(pointCount: count / 3).map(\.displayName).joined(separator: " or ")))" }
                    throw MHFormerError("\(file): people[\(p)] has \(named(values.count)) points but \(first.file) has \(named(first.count)); one model's files per folder")
                }
                first = first ?? (values.count, name)
                // Every value, used or not, must be a number a detector could write; then Float32
                // holds it exactly enough and never overflows.
                for (i, v) in values.enumerated() where !(abs(v) <= Double(Keypoints2DCSV.maxCoordinate)) {
                    throw MHFormerError("\(file): people[\(p)].\(key)[\(i)]: \(v) is out of range (at most \(Keypoints2DCSV.maxCoordinate) in magnitude)")
                }
                frame.append(values)
            }
            people.append(frame)
        }
        let layout = try first.map { first in
            try given ?? KeypointLayout.resolve(KeypointLayout.candidates(pointCount: first.count / 3), samples: people.flatMap { $0 }, source: folder)
        }
        var frames: [KeypointFiles.COCOFrame] = []
        frames.reserveCapacity(files.count)
        for ((frame, _), candidates) in zip(files, people) {
            var best: (person: (points: [Float], scores: [Float], feet: [Float]?), meanScore: Float)?
            for values in candidates {
                let person = layout!.read(values)
                let meanScore = person.scores.reduce(0, +) / 17
                if best.map({ meanScore > $0.meanScore }) ?? true { best = (person, meanScore) }
            }
            frames.append(KeypointFiles.COCOFrame(frame: frame, person: best.map { ($0.person.points, $0.person.scores) }, feet: best?.person.feet))
        }
        return try KeypointFiles.contents(frames, size: size, format: .openpose, layout: layout, path: folder)
    }

    /// The last run of digits in a file name's stem: "cam03.0012" → 12, "x_000000000012_keypoints"
    /// → 12; nil when there is none or it has more than 12 digits (OpenPose writes 12).
    static func lastNumber(_ stem: Substring) -> Int? {
        guard let end = stem.lastIndex(where: { $0 >= "0" && $0 <= "9" }) else { return nil }
        let upTo = stem[...end]
        return KeypointFiles.trailingNumber(upTo)
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
