// 2D keypoint files from other tools (OpenPose JSON folders, COCO keypoint JSON, MediaPipe landmark
// CSVs): fixtures written here, in a temporary folder, from COCO-17 poses whose expected Human3.6M
// joints are KeypointConversion's of the same poses. The OpenPose layouts are written by joint name
// from OpenPose's documented orders, so the reader's index tables are checked, not repeated. Then
// format detection, every class of bad input (a one-line error naming the file), and the command
// line: lifting an OpenPose folder gives the same 3D file as lifting the equivalent 2D CSV, and the
// official demo's COCO-17 input in each format lifts to the demo's 3D output (with ../shared).

import Foundation
import Testing
@testable import MHFormerKit

// MARK: - Fixtures

/// COCO-17's joints in COCO's order.
private let coco17Names = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]
/// OpenPose BODY_25's points in OpenPose's order (doc/02_output.md).
private let body25Names = [
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
]
/// OpenPose COCO-18's points in OpenPose's order.
private let coco18Names = [
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
]

/// A COCO-17 pose for frame `i`: (17, 2) pixels and (17) confidences, all exact in binary (quarter
/// pixels, 64ths), so that writing them as JSON or CSV text and reading back loses nothing.
private func cocoPose(_ i: Int, shift: Float = 0) -> (points: [Float], scores: [Float]) {
    // A standing person about 400 px tall around x = 600, moving right by 3 px a frame.
    let base: [(Float, Float)] = [
        (600, 200), (610, 190), (590, 190), (620, 195), (580, 195), (640, 250), (560, 250),
        (660, 320), (540, 320), (670, 390), (530, 390), (625, 400), (575, 400),
        (630, 500), (570, 500), (632, 590), (568, 590),
    ]
    var points: [Float] = []
    for (k, (x, y)) in base.enumerated() {
        points += [x + Float(3 * i) + shift + 0.25 * Float(k % 4), y + 0.5 * Float(k % 3)]
    }
    let scores = (0..<17).map { 0.5 + Float(($0 + i) % 30) / 64 }
    return (points, scores)
}

/// `pose` in an OpenPose layout given by its point names: x, y, c per point; the points COCO-17
/// lacks (neck, mid hip, feet) get values a wrong index table would show.
private func openPoseValues(_ pose: (points: [Float], scores: [Float]), layout names: [String]) -> [Double] {
    var values: [Double] = []
    for (i, name) in names.enumerated() {
        if let c = coco17Names.firstIndex(of: name) {
            values += [Double(pose.points[2 * c]), Double(pose.points[2 * c + 1]), Double(pose.scores[c])]
        } else {
            values += [Double(9000 + i), Double(8000 + i), 0.125]
        }
    }
    return values
}

private func json(_ object: Any) throws -> Data {
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

/// Writes one OpenPose frame file `<clip>_<12-digit frame>_keypoints.json` with these people.
private func writeOpenPoseFrame(_ dir: URL, frame: Int, people: [[Double]], clip: String = "clip") throws {
    let name = "\(clip)_\(String(format: "%012d", frame))_keypoints.json"
    let object: [String: Any] = ["version": 1.3, "people": people.map {
        ["person_id": [-1], "pose_keypoints_2d": $0, "face_keypoints_2d": [], "hand_left_keypoints_2d": []]
    }]
    try json(object).write(to: dir.appendingPathComponent(name))
}

/// Expected Human3.6M rows of frames with a person (frame → COCO-17 pose).
private func expectRows(_ kp: Keypoints2D, row: Int, coco pose: (points: [Float], scores: [Float]),
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(kp.present[row], "row \(row) should have a person", sourceLocation: sourceLocation)
    #expect(Array(kp.points[(row * 34)..<((row + 1) * 34)]) == KeypointConversion.h36m(fromCOCO: pose.points),
            "row \(row): joints", sourceLocation: sourceLocation)
    if let scores = kp.scores {
        #expect(Array(scores[(row * 17)..<((row + 1) * 17)]) == KeypointConversion.h36mScores(fromCOCO: pose.scores),
                "row \(row): scores", sourceLocation: sourceLocation)
    }
}

private func expectEmptyRow(_ kp: Keypoints2D, row: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!kp.present[row], "row \(row) should have no person", sourceLocation: sourceLocation)
    #expect(kp.points[(row * 34)..<((row + 1) * 34)].allSatisfy { $0 == 0 }, sourceLocation: sourceLocation)
}

/// Expects `body` to throw an MHFormerError of one line containing every string in `mentions`.
private func expectError(_ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error mentioning \(mentions)", sourceLocation: sourceLocation)
    } catch let error as MHFormerError {
        #expect(!error.message.contains("\n"), "not one line: \(error.message)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(error.message.contains(m), "'\(error.message)' should mention '\(m)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected an MHFormerError, got \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: - Reading

@Suite("2D keypoint files: OpenPose, COCO and MediaPipe to the 17 Human3.6M joints")
struct KeypointFilesTests {
    @Test("the OpenPose tables are the documented orders, matched by joint name")
    func openPoseTables() {
        #expect(OpenPoseJSON.cocoFromBody25 == coco17Names.map { body25Names.firstIndex(of: $0)! })
        #expect(OpenPoseJSON.cocoFromCOCO18 == coco17Names.map { coco18Names.firstIndex(of: $0)! })
        #expect(OpenPoseJSON.cocoFromBody25 == [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11])
        // MediaPipe's names and KeypointConversion's BlazePose → COCO-17 table agree.
        #expect(KeypointConversion.cocoFromBlazePose.map { MediaPipeCSV.landmarkNames[$0] } == coco17Names)
        #expect(MediaPipeCSV.landmarkNames.count == 33)
    }

    @Test("OpenPose folder (BODY_25, COCO-18): COCO points converted as the video path does; missing and empty frames stay empty",
          arguments: [("BODY_25", body25Names), ("COCO-18", coco18Names)])
    func openPoseFolder(layout: String, names: [String]) throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Frames 5, 6, 8 (7 has no file), 9 (nobody), 10; the files are listed in no useful order.
        for f in [10, 5, 8, 6] { try writeOpenPoseFrame(dir, frame: f, people: [openPoseValues(cocoPose(f), layout: names)]) }
        try writeOpenPoseFrame(dir, frame: 9, people: [])
        try Data("not a frame".utf8).write(to: dir.appendingPathComponent("notes.txt"))

        let contents = try KeypointFiles.load(path: dir.path, imageSize: (1280, 720))
        let kp = contents.keypoints
        #expect(contents.format == .openpose)
        #expect(contents.framesWithUndetectedPoints == 0)
        #expect(kp.frames == [5, 6, 7, 8, 9, 10])
        #expect(kp.width == 1280 && kp.height == 720)
        #expect(kp.times.allSatisfy { $0 == nil })
        #expect(kp.points.count == 6 * 34 && kp.scores?.count == 6 * 17)
        for (row, frame) in [(0, 5), (1, 6), (3, 8), (5, 10)] { expectRows(kp, row: row, coco: cocoPose(frame)) }
        expectEmptyRow(kp, row: 2)
        expectEmptyRow(kp, row: 4)
        #expect(kp.segments == [0..<2, 3..<4, 5..<6])
        // A real value, by hand: frame 5's pelvis x is the hips' centre, left hip 625 + 3·5 + 0.75,
        // right hip 575 + 3·5.
        let leftHipX: Float = 640.75, rightHipX: Float = 590
        #expect(kp.points[0] == (leftHipX + rightHipX) / 2)
    }

    @Test("OpenPose: several people → the highest mean confidence; a point at 0,0,0 keeps 0,0 with score 0")
    func openPosePeopleAndUndetected() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sure = cocoPose(0, shift: 100)
        var unsure = cocoPose(0)
        unsure.scores = unsure.scores.map { $0 / 2 }
        try writeOpenPoseFrame(dir, frame: 0, people: [openPoseValues(unsure, layout: body25Names), openPoseValues(sure, layout: body25Names)])
        // Frame 1: the left ear (COCO 3) not found, as OpenPose writes it.
        var missingEar = cocoPose(1)
        missingEar.points[6] = 0; missingEar.points[7] = 0; missingEar.scores[3] = 0
        try writeOpenPoseFrame(dir, frame: 1, people: [openPoseValues(missingEar, layout: body25Names)])

        let contents = try KeypointFiles.load(path: dir.path, format: .openpose, imageSize: (1920, 1080))
        expectRows(contents.keypoints, row: 0, coco: sure)
        expectRows(contents.keypoints, row: 1, coco: missingEar)
        #expect(contents.framesWithUndetectedPoints == 1)
        // The head's score is the mean of the eyes and ears: one of four missing.
        let s = missingEar.scores
        #expect(contents.keypoints.scores![17 + 10] == (s[1] + s[2] + 0 + s[4]) / 4)
    }

    @Test("OpenPose before 1.3 (pose_keypoints) reads the same")
    func openPoseOldKey() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let object: [String: Any] = ["version": 1.0, "people": [["pose_keypoints": openPoseValues(cocoPose(2), layout: coco18Names)]]]
        try json(object).write(to: dir.appendingPathComponent("old_000000000002_keypoints.json"))
        let kp = try OpenPoseJSON.read(folder: dir.path, imageSize: (640, 480))
        #expect(kp.frames == [2])
        expectRows(kp, row: 0, coco: cocoPose(2))
    }

    @Test("COCO results: frames from image_id, the highest score per image, other categories skipped")
    func cocoResults() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func entry(_ image: Any, _ pose: (points: [Float], scores: [Float]), score: Double?, category: Int = 1) -> [String: Any] {
            var keypoints: [Double] = []
            for c in 0..<17 { keypoints += [Double(pose.points[2 * c]), Double(pose.points[2 * c + 1]), Double(pose.scores[c])] }
            var e: [String: Any] = ["image_id": image, "category_id": category, "keypoints": keypoints, "bbox": [1, 2, 3, 4]]
            if let score { e["score"] = score }
            return e
        }
        let entries: [[String: Any]] = [
            entry(3, cocoPose(3), score: 0.9),
            entry(1, cocoPose(1, shift: 50), score: 0.4),
            entry(1, cocoPose(1), score: 0.8),          // image 1: this one (higher score)
            entry(1, cocoPose(1, shift: -50), score: 0.7),
            entry(4, cocoPose(4, shift: 9), score: 0.99, category: 2),   // not a person: skipped
            entry(4, cocoPose(4), score: nil),          // no score: the mean of its point scores
        ]
        let path = dir.appendingPathComponent("results.json").path
        try json(entries).write(to: URL(fileURLWithPath: path))

        #expect(try KeypointFiles.detectFormat(path: path) == .coco)
        let kp = try KeypointFiles.read(path: path, imageSize: (1280, 720))
        #expect(kp.frames == [1, 2, 3, 4])
        expectRows(kp, row: 0, coco: cocoPose(1))
        expectEmptyRow(kp, row: 1)
        expectRows(kp, row: 2, coco: cocoPose(3))
        expectRows(kp, row: 3, coco: cocoPose(4))
    }

    @Test("COCO results with file names as image ids (AlphaPose)")
    func cocoFileNameIDs() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var entries: [[String: Any]] = []
        for f in [12, 11] {
            var keypoints: [Double] = []
            let pose = cocoPose(f)
            for c in 0..<17 { keypoints += [Double(pose.points[2 * c]), Double(pose.points[2 * c + 1]), Double(pose.scores[c])] }
            entries.append(["image_id": String(format: "frames/%06d.jpg", f), "category_id": 1, "keypoints": keypoints, "score": 2.5])
        }
        let path = dir.appendingPathComponent("alphapose-results.json").path
        try json(entries).write(to: URL(fileURLWithPath: path))
        let kp = try KeypointFiles.read(path: path, imageSize: (1280, 720))
        #expect(kp.frames == [11, 12])
        expectRows(kp, row: 0, coco: cocoPose(11))
        expectRows(kp, row: 1, coco: cocoPose(12))
    }

    @Test("COCO dataset: image size from images, an image without annotation is a frame without a person, v flags → 0/1")
    func cocoDataset() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pose = cocoPose(0)
        var keypoints: [Double] = []
        let flags = (0..<17).map { $0 == 4 ? 0.0 : ($0 % 2 == 0 ? 2.0 : 1.0) }    // right ear unlabelled
        for c in 0..<17 {
            keypoints += c == 4 ? [0, 0, 0] : [Double(pose.points[2 * c]), Double(pose.points[2 * c + 1]), flags[c]]
        }
        let dataset: [String: Any] = [
            "info": ["description": "test"],
            "images": [["id": 7, "width": 1920, "height": 1080, "file_name": "a.jpg"],
                       ["id": 8, "width": 1920, "height": 1080, "file_name": "b.jpg"]],
            "annotations": [["id": 1, "image_id": 7, "category_id": 1, "keypoints": keypoints, "num_keypoints": 16]],
            "categories": [["id": 1, "name": "person"]],
        ]
        let path = dir.appendingPathComponent("dataset.json").path
        try json(dataset).write(to: URL(fileURLWithPath: path))

        let contents = try KeypointFiles.load(path: path)
        let kp = contents.keypoints
        #expect(contents.format == .coco)
        #expect(kp.width == 1920 && kp.height == 1080)
        #expect(kp.frames == [7, 8])
        var expected = pose
        expected.points[8] = 0; expected.points[9] = 0
        expected.scores = flags.map { Float(min($0, 1)) }
        expectRows(kp, row: 0, coco: expected)
        expectEmptyRow(kp, row: 1)
        #expect(contents.framesWithUndetectedPoints == 1)
        // The same size given: fine; another: an error naming both.
        #expect(try KeypointFiles.read(path: path, imageSize: (1920, 1080)).width == 1920)
        expectError(["dataset.json", "1920x1080", "1280x720"]) { _ = try KeypointFiles.read(path: path, imageSize: (1280, 720)) }
    }

    /// A MediaPipe landmark CSV: header and rows with landmark `i` of frame `f` at ((f + i + 8) / 256,
    /// (2i + 16) / 256), visibility (32 + i) / 64 (all exact in binary).
    private static func mediaPipeCSV(frames: [Int], emptyFrames: Set<Int> = [], size: (Int, Int)?, visibility: Bool = true) -> String {
        var header = ["frame"]
        if size != nil { header += ["width", "height"] }
        for l in MediaPipeCSV.landmarkNames { header += ["\(l)_x", "\(l)_y", "\(l)_z"] + (visibility ? ["\(l)_visibility"] : []) }
        var lines = [header.joined(separator: ",")]
        for f in frames {
            var cells = ["\(f)"]
            if let size { cells += ["\(size.0)", "\(size.1)"] }
            for i in 0..<33 {
                if emptyFrames.contains(f) { cells += Array(repeating: "", count: visibility ? 4 : 3); continue }
                cells += ["\(Double(f + i + 8) / 256)", "\(Double(2 * i + 16) / 256)", "-0.125"]
                if visibility { cells.append("\(Double(32 + i) / 64)") }
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The COCO-17 pose `mediaPipeCSV` describes for frame `f` in a `width` x `height` image.
    private static func mediaPipeCOCO(frame f: Int, width: Int, height: Int) -> (points: [Float], scores: [Float]) {
        var points: [Float] = [], scores: [Float] = []
        for b in KeypointConversion.cocoFromBlazePose {
            points += [Float(f + b + 8) / 256 * Float(width), Float(2 * b + 16) / 256 * Float(height)]
            scores.append(Float(32 + b) / 64)
        }
        return (points, scores)
    }

    @Test("MediaPipe CSV: normalised landmarks × the image size from width/height columns; visibility as score")
    func mediaPipeWithSizeColumns() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("landmarks.csv").path
        try Self.mediaPipeCSV(frames: [0, 1, 2, 4], emptyFrames: [2], size: (1280, 720)).write(toFile: path, atomically: true, encoding: .utf8)

        #expect(try KeypointFiles.detectFormat(path: path) == .mediapipe)
        let kp = try KeypointFiles.read(path: path)
        #expect(kp.width == 1280 && kp.height == 720)
        #expect(kp.frames == [0, 1, 2, 3, 4])
        for (row, f) in [(0, 0), (1, 1), (4, 4)] { expectRows(kp, row: row, coco: Self.mediaPipeCOCO(frame: f, width: 1280, height: 720)) }
        expectEmptyRow(kp, row: 2)
        expectEmptyRow(kp, row: 3)
        // By hand: frame 0's nose (landmark 0) at (8/256, 16/256) of 1280 x 720 is (40, 45) px; the
        // Human3.6M nose (joint 9) is pulled a quarter towards the shoulder centre.
        let coco = Self.mediaPipeCOCO(frame: 0, width: 1280, height: 720)
        #expect(coco.points[0] == 40 && coco.points[1] == 45)
        #expect(kp.points[18] == 40 - (40 - (coco.points[10] + coco.points[12]) / 2) / 4)
    }

    @Test("MediaPipe CSV without size columns: the given size; without visibility: no scores")
    func mediaPipeGivenSize() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("landmarks.csv").path
        try Self.mediaPipeCSV(frames: [3, 4], size: nil, visibility: false).write(toFile: path, atomically: true, encoding: .utf8)
        let kp = try KeypointFiles.read(path: path, imageSize: (640, 480))
        #expect(kp.scores == nil)
        #expect(kp.frames == [3, 4])
        expectRows(kp, row: 1, coco: Self.mediaPipeCOCO(frame: 4, width: 640, height: 480))
        expectError(["landmarks.csv", "--image-size"]) { _ = try KeypointFiles.read(path: path) }
    }

    @Test("our CSV through KeypointFiles is Keypoints2DCSV's reading, unchanged")
    func ourCSV() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("k.txt").path       // any name: detection reads the content
        let pose = KeypointConversion.h36m(fromCOCO: cocoPose(0).points)
        try write2DCSV(pose + pose, width: 800, height: 600, to: path)
        #expect(try KeypointFiles.detectFormat(path: path) == .csv)
        let direct = try Keypoints2DCSV.read(path: path)
        let viaFiles = try KeypointFiles.read(path: path)
        #expect(viaFiles.frames == direct.frames && viaFiles.points == direct.points && viaFiles.present == direct.present)
        #expect(viaFiles.width == 800 && viaFiles.height == 600 && viaFiles.scores == nil)
        expectError(["k.txt", "800x600", "1920x1080"]) { _ = try KeypointFiles.read(path: path, imageSize: (1920, 1080)) }
    }

    @Test("format detection: folder, JSON array or object, MediaPipe header, anything else")
    func detection() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        #expect(try KeypointFiles.detectFormat(path: dir.path) == .openpose)
        #expect(try KeypointFiles.detectFormat(path: file("a.json", "\u{FEFF}\n  [ ]")) == .coco)
        #expect(try KeypointFiles.detectFormat(path: file("b.dat", "{\"annotations\": []}")) == .coco)
        #expect(try KeypointFiles.detectFormat(path: file("c.csv", "frame,nose_x,nose_y,left_eye_inner_x\n")) == .mediapipe)
        #expect(try KeypointFiles.detectFormat(path: file("d.csv", "frame,width,height,pelvis_x\n")) == .csv)
        #expect(try KeypointFiles.detectFormat(path: file("e.csv", "")) == .csv)
        #expect(try KeypointFiles.detectFormat(path: dir.appendingPathComponent("missing.csv").path) == .csv)
        #expect(KeypointFileFormat.allCases.map(\.rawValue) == ["csv", "openpose", "coco", "mediapipe"])
    }

    @Test("--image-size text: WIDTHxHEIGHT")
    func imageSizeText() throws {
        let hd = try KeypointFiles.parseImageSize("1920x1080"), vga = try KeypointFiles.parseImageSize("640X480")
        #expect(hd.width == 1920 && hd.height == 1080)
        #expect(vga.width == 640 && vga.height == 480)
        for bad in ["1920", "1920x", "x1080", "0x480", "640x-480", "1e3x5", "640x480x2", " 640x480", "99999999999x1", "100001x5"] {
            expectError(["image size", bad]) { _ = try KeypointFiles.parseImageSize(bad) }
        }
    }
}

// MARK: - Bad input

extension KeypointFilesTests {
    @Suite("bad keypoint files: one line naming the file")
    struct BadInput {
        /// A folder with two good BODY_25 frames and the file `name` holding `text`.
        private func openPoseFolder(_ dir: URL, badFile name: String = "clip_000000000002_keypoints.json", _ text: String) throws -> String {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for f in [0, 1] { try writeOpenPoseFrame(dir, frame: f, people: [openPoseValues(cocoPose(f), layout: body25Names)]) }
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            return dir.path
        }

        @Test("OpenPose frame files", arguments: [
            ("{\"people\": [{\"pose_keypoints_2d\": [NaN]}]}", ["not valid JSON"]),
            ("{\"people\": [{\"pose_keypoints_2d\": [1, 2", ["not valid JSON"]),
            ("{\"people\": [{\"pose_keypoints_2d\": [1e400]}]}", ["not valid JSON", "1e400"]),
            ("{\"version\": 1.3}", ["missing key 'people'"]),
            ("{\"people\": [{}]}", ["people[0]", "pose_keypoints_2d"]),
            ("{\"people\": [{\"pose_keypoints_2d\": [1, 2, 0.5]}]}", ["people[0].pose_keypoints_2d has 3 values", "75 (BODY_25, BODY_25B), 54 (COCO-18)"]),
            ("{\"people\": [{\"pose_keypoints_2d\": [true]}]}", ["people[0].pose_keypoints_2d[0]", "bool"]),
            ("{\"people\": [{\"pose_keypoints_2d\": \"x\"}]}", ["people[0].pose_keypoints_2d"]),
            ("[1, 2]", ["top level"]),
            ("", ["not valid JSON"]),
        ])
        func openPoseFrameFile(text: String, mentions: [String]) throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let folder = try openPoseFolder(dir, text)
            expectError(["clip_000000000002_keypoints.json"] + mentions) { _ = try KeypointFiles.read(path: folder, imageSize: (640, 480)) }
        }

        @Test("OpenPose values out of range, mixed layouts, names without numbers, duplicates")
        func openPoseFolderProblems() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            var values = openPoseValues(cocoPose(2), layout: body25Names)
            values[70] = 1e8
            let far = try openPoseFolder(dir.appendingPathComponent("far"), "{\"people\": [{\"pose_keypoints_2d\": \(values)}]}")
            expectError(["clip_000000000002_keypoints.json", "pose_keypoints_2d[70]", "out of range"]) {
                _ = try KeypointFiles.read(path: far, imageSize: (640, 480))
            }
            let coco18 = openPoseValues(cocoPose(2), layout: coco18Names)
            let mixed = try openPoseFolder(dir.appendingPathComponent("mixed"), "{\"people\": [{\"pose_keypoints_2d\": \(coco18)}]}")
            expectError(["clip_000000000002_keypoints.json", "COCO-18", "BODY_25", "clip_000000000000_keypoints.json"]) {
                _ = try KeypointFiles.read(path: mixed, imageSize: (640, 480))
            }
            let unnumbered = try openPoseFolder(dir.appendingPathComponent("unnumbered"), badFile: "image_keypoints.json", "{\"people\": []}")
            expectError(["image_keypoints.json", "no frame number"]) { _ = try KeypointFiles.read(path: unnumbered, imageSize: (640, 480)) }
            let twice = try openPoseFolder(dir.appendingPathComponent("twice"), badFile: "other_000000000001_keypoints.json", "{\"people\": []}")
            expectError(["_000000000001_keypoints.json", "frame number 1 again"]) { _ = try KeypointFiles.read(path: twice, imageSize: (640, 480)) }
        }

        @Test("OpenPose folders: empty, nobody in any frame, no image size, a file given as a folder")
        func openPoseFolderLevel() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let empty = dir.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            expectError([empty.path, "no frame files (*.json)"]) { _ = try KeypointFiles.read(path: empty.path, imageSize: (640, 480)) }

            let nobody = dir.appendingPathComponent("nobody")
            try FileManager.default.createDirectory(at: nobody, withIntermediateDirectories: true)
            for f in 0..<3 { try writeOpenPoseFrame(nobody, frame: f, people: []) }
            expectError([nobody.path, "no frame has a person"]) { _ = try KeypointFiles.read(path: nobody.path, imageSize: (640, 480)) }
            expectError([nobody.path, "image size", "--image-size"]) { _ = try KeypointFiles.read(path: nobody.path) }
            expectError(["image size 0x480"]) { _ = try KeypointFiles.read(path: nobody.path, imageSize: (0, 480)) }

            let file = dir.appendingPathComponent("frame.json").path
            try "{}".write(toFile: file, atomically: true, encoding: .utf8)
            expectError(["frame.json", "not a folder"]) { _ = try KeypointFiles.read(path: file, format: .openpose, imageSize: (640, 480)) }
            expectError([dir.path, "is a folder"]) { _ = try KeypointFiles.read(path: dir.path, format: .coco, imageSize: (640, 480)) }
        }

        @Test("COCO JSON", arguments: [
            ("[]", ["no person entry"]),
            ("[{\"image_id\": 1, \"category_id\": 2, \"keypoints\": []}]", ["no person entry"]),
            ("[{\"image_id\": 1, \"keypoints\": [1, 2, 3]}]", ["entry 0", "keypoints has 3 values", "51"]),
            ("[{\"image_id\": 1.5, \"keypoints\": []}]", ["entry 0", "image id 1.5 is not an integer"]),
            ("[{\"image_id\": 1e13, \"keypoints\": []}]", ["entry 0", "not an integer below 10^12"]),
            ("[{\"image_id\": true, \"keypoints\": []}]", ["[0].image_id", "an integer or a file name"]),
            ("[{\"image_id\": \"cat.jpg\", \"keypoints\": []}]", ["entry 0", "'cat.jpg' has no frame number"]),
            ("[{\"keypoints\": []}]", ["[0]", "missing key 'image_id'"]),
            ("[{\"image_id\": 0, \"keypoints\": [\(Array(repeating: "1", count: 50).joined(separator: ",")), 1e39]}]", ["keypoints[50]", "out of range"]),
            ("[{\"image_id\": 0, \"keypoints\": [\(Array(repeating: "1", count: 51).joined(separator: ","))], \"score\": NaN}]", ["not valid JSON"]),
            ("[{\"image_id\": 0, \"keypoints\": [\(Array(repeating: "1", count: 51).joined(separator: ","))]}, {\"image_id\": 2000000, \"keypoints\": [\(Array(repeating: "1", count: 51).joined(separator: ","))]}]", ["frame numbers run from 0 to 2000000", "more than 1000000"]),
            ("{\"people\": []}", ["OpenPose frame file"]),
            ("{\"images\": []}", ["no 'annotations' key"]),
            ("{\"images\": [{\"id\": 1, \"width\": 640, \"height\": 480}, {\"id\": 2, \"width\": 320, \"height\": 240}], \"annotations\": []}", ["images[1] is 320x240", "images[0] is 640x480"]),
            ("{\"images\": [{\"id\": 1, \"width\": 1e300, \"height\": 480}], \"annotations\": []}", ["images[0]", "width and height"]),
            ("{\"images\": [{\"id\": 1}], \"annotations\": [{\"image_id\": 1, \"keypoints\": [\(Array(repeating: "1", count: 51).joined(separator: ","))]}]}", ["no width and height", "--image-size"]),
            ("{\"images\": [{\"id\": 1, \"width\": 640, \"height\": 480}], \"annotations\": []}", ["no person annotations"]),
            ("\"text\"", ["not a JSON array or object"]),
        ])
        func cocoFile(text: String, mentions: [String]) throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("results.json").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let needsSize = !text.contains("\"width\"") && !mentions.contains("--image-size")
            expectError(["results.json"] + mentions) {
                _ = try KeypointFiles.read(path: path, format: .coco, imageSize: needsSize ? (640, 480) : nil)
            }
        }

        @Test("COCO results without an image size")
        func cocoNoSize() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("results.json").path
            try "[{\"image_id\": 0, \"keypoints\": [\(Array(repeating: "1", count: 51).joined(separator: ","))]}]"
                .write(toFile: path, atomically: true, encoding: .utf8)
            expectError(["results.json", "do not store the image size", "--image-size"]) { _ = try KeypointFiles.read(path: path) }
        }

        /// The MediaPipe CSV of `KeypointFilesTests.mediaPipeCSV` for frames 0...2, as lines.
        private func mediaPipeLines() -> [String] {
            KeypointFilesTests.mediaPipeCSV(frames: [0, 1, 2], size: (640, 480)).split(separator: "\n").map(String.init)
        }

        private func replacing(_ line: String, column name: String, in header: String, with value: String) -> String {
            let index = header.split(separator: ",").firstIndex(of: Substring(name))!
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[index] = value
            return cells.joined(separator: ",")
        }

        @Test("MediaPipe CSV", arguments: [
            ("missing", ["missing column 'right_foot_index_y'"]),
            ("unknown", ["unknown column 'neck_x'"]),
            ("nan", ["line 3", "column 'left_knee_x'", "'nan' is not a finite number"]),
            ("partly empty", ["line 3", "column 'left_knee_x'", "empty value"]),
            ("unused landmark", ["line 3", "column 'left_pinky_y'", "'abc' is not a finite number"]),
            ("visibility 1e39", ["line 3", "column 'nose_visibility'", "out of range"]),
            ("far", ["line 3", "column 'nose_x'", "out of range"]),
            ("decreasing", ["line 4", "frame 0 comes after frame 1"]),
            ("size changes", ["line 3", "image size 641x480 differs from 640x480"]),
            ("width only", ["missing column 'height'"]),
            ("header only", ["no data rows"]),
            ("nobody", ["no frame has a person"]),
            ("columns", ["line 2 has"]),
        ])
        func mediaPipeFile(problem: String, mentions: [String]) throws {
            var lines = mediaPipeLines()
            let header = lines[0]
            switch problem {
            case "missing": lines = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast(3).joined(separator: ",") }
            case "unknown": lines[0] = lines[0].replacingOccurrences(of: "mouth_left_z", with: "neck_x")
            case "nan": lines[2] = replacing(lines[2], column: "left_knee_x", in: header, with: "nan")
            case "partly empty": lines[2] = replacing(lines[2], column: "left_knee_x", in: header, with: "")
            case "unused landmark": lines[2] = replacing(lines[2], column: "left_pinky_y", in: header, with: "abc")
            case "visibility 1e39": lines[2] = replacing(lines[2], column: "nose_visibility", in: header, with: "1e39")
            case "far": lines[2] = replacing(lines[2], column: "nose_x", in: header, with: "1e5")
            case "decreasing": lines[3] = "0" + lines[3].drop { $0 != "," }
            case "size changes": lines[2] = replacing(lines[2], column: "width", in: header, with: "641")
            case "width only": lines = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: ",") }
            case "header only": lines = [lines[0]]
            case "nobody":
                for i in 1..<lines.count {
                    lines[i] = lines[i].split(separator: ",", omittingEmptySubsequences: false).enumerated()
                        .map { $0.offset < 3 ? String($0.element) : "" }.joined(separator: ",")
                }
            case "columns": lines[1] += ",1"
            default: Issue.record("unknown case \(problem)")
            }
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("landmarks.csv").path
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            expectError(["landmarks.csv"] + mentions) { _ = try KeypointFiles.read(path: path, format: .mediapipe) }
        }
    }
}

// MARK: - Command line

extension KeypointFilesTests {
    @Suite("mhformer lift --keypoints with other tools' files")
    struct CLI {
        static let weights = Paths.repo.appendingPathComponent("Models/mhformer-cmu-T27.safetensors").path
        static var weightsAvailable: Bool { FileManager.default.fileExists(atPath: weights) }

        /// 40 frames of a COCO-17 pose, written as an OpenPose BODY_25 folder (frame 20 without a
        /// file) and as the equivalent 2D CSV (frame 20 empty); returns (folder, csv).
        private func writeInputs(_ dir: URL) throws -> (folder: String, csv: String) {
            let folder = dir.appendingPathComponent("openpose")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var kp = Keypoints2D(frames: Array(0..<40), times: Array(repeating: nil, count: 40), width: 1280, height: 720,
                                 points: [], present: [], scores: [])
            for f in 0..<40 {
                let pose = cocoPose(f)
                if f == 20 {
                    kp.points += [Float](repeating: 0, count: 34); kp.present.append(false)
                    kp.scores! += [Float](repeating: 0, count: 17)
                    continue
                }
                try writeOpenPoseFrame(folder, frame: f, people: [openPoseValues(pose, layout: body25Names)])
                kp.points += KeypointConversion.h36m(fromCOCO: pose.points); kp.present.append(true)
                kp.scores! += KeypointConversion.h36mScores(fromCOCO: pose.scores)
            }
            let csv = dir.appendingPathComponent("equivalent.csv").path
            try Keypoints2DCSV.write(kp, to: csv)
            return (folder.path, csv)
        }

        @Test("an OpenPose folder lifts to the same 3D CSV as the equivalent 2D CSV",
              .enabled(if: CLI.weightsAvailable, "Models/mhformer-cmu-T27.safetensors is absent"))
        func openPoseMatchesCSV() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let (folder, csv) = try writeInputs(dir)
            let fromCSV = dir.appendingPathComponent("from-csv.csv").path
            let fromOpenPose = dir.appendingPathComponent("from-openpose.csv").path
            let a = try run(Paths.tool, ["lift", "--keypoints", csv, "--weights", Self.weights, "-o", fromCSV, "--scores", "--threads", "1"])
            #expect(a.status == 0, "\(a.stderr)")
            let b = try run(Paths.tool, ["lift", "--keypoints", folder, "--image-size", "1280x720", "--weights", Self.weights,
                                         "-o", fromOpenPose, "--scores", "--threads", "1"])
            #expect(b.status == 0, "\(b.stderr)")
            #expect(!b.stderr.contains("warning"), "\(b.stderr)")
            let expected = try String(contentsOfFile: fromCSV, encoding: .utf8)
            let got = try String(contentsOfFile: fromOpenPose, encoding: .utf8)
            #expect(got == expected)
            let (frames, values) = try read3DCSV(fromOpenPose)
            #expect(frames == Array(0..<40))
            let perRow = 51 + 17        // x, y, z and the score of each joint (--scores)
            #expect(values.count == 40 * perRow)
            #expect(values[(20 * perRow)..<(21 * perRow)].allSatisfy { $0.isNaN })     // the missing file: an empty row
            #expect(values[0..<(20 * perRow)].allSatisfy { $0.isFinite })
            // --keypoints-format csv on our CSV: the same file again.
            let c = try run(Paths.tool, ["lift", "--keypoints", csv, "--keypoints-format", "csv", "--weights", Self.weights,
                                         "-o", dir.appendingPathComponent("again.csv").path, "--scores", "--threads", "1"])
            #expect(c.status == 0, "\(c.stderr)")
            #expect(try String(contentsOfFile: dir.appendingPathComponent("again.csv").path, encoding: .utf8) == expected)
        }

        @Test("the official demo's COCO-17 input as COCO results, an OpenPose folder and MediaPipe landmarks lifts to the demo's 3D output",
              .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent"))
        func officialDemoFromCOCO() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small27/small_model.pth"), into: dir)
            let coco = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_coco17_px.npy"))   // (60, 17, 2), 1280 x 720
            let reference = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("small27/demo_output_3d.npy"))
            #expect(coco.shape == [60, 17, 2])
            let folder = dir.appendingPathComponent("openpose")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var results: [[String: Any]] = []
            for f in 0..<60 {
                let pose = (points: Array(coco.values[(f * 34)..<((f + 1) * 34)]), scores: [Float](repeating: 1, count: 17))
                var keypoints: [Double] = []
                for c in 0..<17 { keypoints += [Double(pose.points[2 * c]), Double(pose.points[2 * c + 1]), 1] }
                results.append(["image_id": f, "category_id": 1, "keypoints": keypoints, "score": 1])
                try writeOpenPoseFrame(folder, frame: f, people: [openPoseValues(pose, layout: body25Names)])
            }
            let resultsPath = dir.appendingPathComponent("results.json").path
            try json(results).write(to: URL(fileURLWithPath: resultsPath))
            // And as MediaPipe landmarks, normalised (so only to rounding: the tolerance covers it).
            var lines = [(["frame", "width", "height"] + MediaPipeCSV.landmarkNames.flatMap { ["\($0)_x", "\($0)_y"] }).joined(separator: ",")]
            for f in 0..<60 {
                var cells = ["\(f)", "1280", "720"] + [String](repeating: "0.5", count: 66)
                for (c, b) in KeypointConversion.cocoFromBlazePose.enumerated() {
                    cells[3 + 2 * b] = "\(Double(coco.values[f * 34 + 2 * c]) / 1280)"
                    cells[3 + 2 * b + 1] = "\(Double(coco.values[f * 34 + 2 * c + 1]) / 720)"
                }
                lines.append(cells.joined(separator: ","))
            }
            let mediaPipePath = dir.appendingPathComponent("landmarks.csv").path
            try lines.joined(separator: "\n").write(toFile: mediaPipePath, atomically: true, encoding: .utf8)
            for input in [resultsPath, folder.path, mediaPipePath] {
                let out = dir.appendingPathComponent("out.csv").path
                let r = try run(Paths.tool, ["lift", "--keypoints", input, "--image-size", "1280x720", "--weights", weights, "-o", out,
                                             "--no-rigid-skeleton", "--no-refine"])
                #expect(r.status == 0, "\(r.stderr)")
                let (frames, values) = try read3DCSV(out)
                #expect(frames == Array(0..<60))
                let err = maxAbsDiff(values, reference.values)
                #expect(err <= 1e-4, "\(input): differs from the official demo's output by \(err)")
            }
        }

        @Test("undetected OpenPose points: a warning line before the summary",
              .enabled(if: CLI.weightsAvailable, "Models/mhformer-cmu-T27.safetensors is absent"))
        func undetectedWarning() throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            for f in 0..<5 {
                var values = openPoseValues(cocoPose(f), layout: body25Names)
                if f == 3 { values[3 * 4] = 0; values[3 * 4 + 1] = 0; values[3 * 4 + 2] = 0 }     // right wrist not found
                try writeOpenPoseFrame(dir, frame: f, people: [values])
            }
            let out = dir.appendingPathComponent("out.csv").path
            let r = try run(Paths.tool, ["lift", "--keypoints", dir.path, "--image-size", "640x480", "--weights", Self.weights, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 2, "\(r.stderr)")
            #expect(lines.first?.hasPrefix("warning: \(dir.path): in 1 of 5 frames with a person") == true, "\(r.stderr)")
            #expect(lines.last?.hasPrefix("lifted 5 frames") == true, "\(r.stderr)")
        }

        @Test("bad options and inputs: one line, exit 1, nothing written", arguments: [
            (["--keypoints-format", "yaml"], ["--keypoints-format", "'yaml'", "csv, openpose, coco or mediapipe"]),
            (["--image-size", "1280"], ["--image-size", "'1280' is not WIDTHxHEIGHT"]),
            (["--image-size", "0x720"], ["--image-size", "0x720"]),
            ([], ["openpose", "--image-size"]),
            (["--image-size", "640x480", "--keypoints-format", "coco"], ["openpose", "is a folder"]),
        ])
        func badOptions(extra: [String], mentions: [String]) throws {
            let dir = try Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let folder = dir.appendingPathComponent("openpose")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try writeOpenPoseFrame(folder, frame: 0, people: [openPoseValues(cocoPose(0), layout: coco18Names)])
            let out = dir.appendingPathComponent("out.csv").path
            let r = try run(Paths.tool, ["lift", "--keypoints", folder.path, "-o", out, "--weights", "/nonexistent.safetensors"] + extra)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            for m in mentions { #expect(r.stderr.contains(m), "'\(r.stderr)' should mention '\(m)'") }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
