// 2D keypoint files that other tools write, read into `Keypoints2D` so that `mhformer lift` takes
// them as they are:
//   csv        this project's 2D CSV (Keypoints2DCSV), already the 17 Human3.6M joints
//   openpose   a folder of OpenPose-style per-frame JSON files, any layout KeypointLayout knows
//              (OpenPoseJSON.swift)
//   coco       COCO keypoint results JSON (mmpose, detectron2, ViTPose, AlphaPose) or a COCO-style
//              dataset with "images" and "annotations"; COCO-17, HALPE_26 or COCO-WholeBody points
//              (COCOKeypointsJSON.swift)
//   mediapipe  a CSV of MediaPipe's 33 pose landmarks, normalised to the image (MediaPipeCSV.swift)
// Every format other than ours is mapped to COCO-17 first (KeypointLayout.swift) and then to the 17 Human3.6M joints with
// KeypointConversion.h36m(fromCOCO:) and h36mScores(fromCOCO:), exactly as the video path does.

import Foundation

/// The 2D keypoint file formats `KeypointFiles.read` understands. The raw values are what
/// `mhformer lift --keypoints-format` accepts.
public enum KeypointFileFormat: String, CaseIterable, Sendable {
    case csv, openpose, coco, mediapipe
}

/// What `KeypointFiles.load` read: the keypoints, the format they were read as, and how many frames
/// with a person miss some of the 17 COCO points (confidence 0), for the caller to warn about.
public struct KeypointFileContents: Sendable {
    public var keypoints: Keypoints2D
    public var format: KeypointFileFormat
    /// Frames with a person in which at least one of the 17 COCO-17 points has confidence exactly 0
    /// (OpenPose writes 0,0,0 for a point it did not find; a COCO dataset's v = 0 is an unlabelled
    /// point). Those points keep the coordinates the file gives and score 0. Always 0 for `csv`.
    public var framesWithUndetectedPoints: Int
    /// The body layout the file was read as (nil for `csv`, already Human3.6M-17).
    public var layout: KeypointLayout? = nil
    /// What the caller should tell the user: a layout whose points do not look like a body.
    public var warnings: [String] = []
}

public enum KeypointFiles {
    /// The most frames a file's numbering may span (last frame - first frame + 1). Missing numbers
    /// become rows without a person, so this bounds the memory a file with sparse numbers (image_id
    /// 1 and 10^9) can ask for: about 250 bytes a row, 250 MB at the limit (9 hours at 30 frames/s).
    public static let maxFrameSpan = 1_000_000

    /// Frame numbers (file names, image ids) must be below this in magnitude, as in the 2D CSV.
    static let frameNumberLimit = 1_000_000_000_000

    /// Reads 2D keypoints from `path` in `format` (nil: detected, see `detectFormat`). `imageSize`
    /// is the image size in pixels for formats that do not store it (OpenPose, COCO results, a
    /// MediaPipe CSV without width/height columns); a file that does store it must agree with it.
    public static func read(path: String, format: KeypointFileFormat? = nil,
                            imageSize: (width: Int, height: Int)? = nil, layout: KeypointLayout? = nil) throws -> Keypoints2D {
        try load(path: path, format: format, imageSize: imageSize, layout: layout).keypoints
    }

    /// `read`, also saying which format was read and how many frames miss some points.
    /// `layout`: the body layout of OpenPose and COCO files (--keypoints-layout); nil: told from the
    /// number of points and, for 25, from the data.
    public static func load(path: String, format: KeypointFileFormat? = nil,
                            imageSize: (width: Int, height: Int)? = nil, layout: KeypointLayout? = nil) throws -> KeypointFileContents {
        if let imageSize { try checkImageSize(imageSize, source: "image size") }
        let format = try format ?? detectFormat(path: path)
        // Our CSV is Human3.6M-17 and a MediaPipe CSV names its landmarks: a layout given for them is a mistake.
        if let layout, format == .csv || (format == .mediapipe && layout != .mediapipe33) {
            throw MHFormerError("\(path): --keypoints-layout \(layout.rawValue) does not apply to a \(format == .csv ? "2D CSV of the 17 Human3.6M joints" : "MediaPipe landmark CSV"); it names the layout of OpenPose and COCO files")
        }
        switch format {
        case .csv:
            let kp = try Keypoints2DCSV.read(path: path)
            if let imageSize, imageSize.width != kp.width || imageSize.height != kp.height {
                throw MHFormerError("\(path): the file's image size \(kp.width)x\(kp.height) differs from the given \(imageSize.width)x\(imageSize.height)")
            }
            return KeypointFileContents(keypoints: kp, format: .csv, framesWithUndetectedPoints: 0)
        case .openpose:
            return try OpenPoseJSON.load(folder: path, imageSize: imageSize, layout: layout)
        case .coco:
            return try COCOKeypointsJSON.load(path: path, imageSize: imageSize, layout: layout)
        case .mediapipe:
            let (kp, undetected) = try MediaPipeCSV.load(path: path, imageSize: imageSize)
            return KeypointFileContents(keypoints: kp, format: .mediapipe, framesWithUndetectedPoints: undetected)
        }
    }

    /// The format of `path`, from what it is, not from its name:
    ///   a folder → openpose;
    ///   a file whose first character (after a byte order mark and white space) is `[` or `{`, i.e.
    ///   JSON → coco;
    ///   otherwise a CSV: mediapipe when its header has the columns `nose_x` and `left_eye_inner_x`
    ///   (any case, read as the CSV readers read it), else this project's CSV (which also covers a
    ///   missing or unreadable file, or a header that does not tokenize: its reader says why).
    public static func detectFormat(path: String) throws -> KeypointFileFormat {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return .openpose
        }
        // The start of the file is enough: the first character for JSON, the header for a CSV.
        guard let handle = FileHandle(forReadingAtPath: path) else { return .csv }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 1 << 16)) ?? Data()
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let firstCharacter = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if firstCharacter == UInt8(ascii: "[") || firstCharacter == UInt8(ascii: "{") { return .coco }
        var csv = CSVTokenizer(bytes: head, path: path)
        guard let header = try? csv.next() else { return .csv }
        let columns = Set(header.strings.map { $0.lowercased() })
        return columns.contains("nose_x") && columns.contains("left_eye_inner_x") ? .mediapipe : .csv
    }

    /// `WIDTHxHEIGHT` (e.g. `1920x1080`) as positive integers up to `Keypoints2DCSV.maxImageSide`.
    public static func parseImageSize(_ text: String) throws -> (width: Int, height: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let isDigits = { (s: Substring) in !s.isEmpty && s.count <= 9 && s.allSatisfy { $0 >= "0" && $0 <= "9" } }
        guard parts.count == 2, isDigits(parts[0]), isDigits(parts[1]), let w = Int(parts[0]), let h = Int(parts[1]) else {
            throw MHFormerError("image size '\(Keypoints2DCSV.printable(text))' is not WIDTHxHEIGHT in pixels (e.g. 1920x1080)")
        }
        let size = (width: w, height: h)
        try checkImageSize(size, source: "image size")
        return size
    }

    static func checkImageSize(_ size: (width: Int, height: Int), source: String) throws {
        let range = 1...Keypoints2DCSV.maxImageSide
        guard range.contains(size.width), range.contains(size.height) else {
            throw MHFormerError("\(source) \(size.width)x\(size.height): width and height must be from 1 to \(Keypoints2DCSV.maxImageSide) pixels")
        }
    }

    /// The image size to use when a file may or may not store one: the file's (then `given` must
    /// agree), else `given`, else an error saying how to give it.
    static func imageSize(inFile: (width: Int, height: Int)?, given: (width: Int, height: Int)?,
                          path: String, why: String) throws -> (width: Int, height: Int) {
        switch (inFile, given) {
        case let (file?, given?):
            guard file == given else {
                throw MHFormerError("\(path): the file's image size \(file.width)x\(file.height) differs from the given \(given.width)x\(given.height)")
            }
            return file
        case let (file?, nil): return file
        case let (nil, given?): return given
        case (nil, nil):
            throw MHFormerError("\(path): \(why); give the video's image size (mhformer lift --image-size WIDTHxHEIGHT)")
        }
    }

    // MARK: - From COCO-17 frames to Keypoints2D

    /// One frame as a reader found it, before the conversion to the 17 Human3.6M joints.
    struct COCOFrame {
        var frame: Int
        var time: Double? = nil
        /// The chosen person: (17, 2) COCO-17 pixels and (17) confidences; nil: nobody in this frame.
        var person: (points: [Float], scores: [Float])?
        /// The person's heels and big toes (Keypoints2D.feet's order), when the layout has them.
        var feet: [Float]? = nil
    }

    /// `assemble`, then what the reader tells the caller: a layout whose points do not look like a
    /// body (implausibleBody) is lifted, but with a warning.
    static func contents(_ frames: [COCOFrame], size: (width: Int, height: Int), format: KeypointFileFormat,
                         layout: KeypointLayout?, path: String) throws -> KeypointFileContents {
        let (kp, undetected) = try assemble(frames, size: size, hasScores: true, path: path)
        var contents = KeypointFileContents(keypoints: kp, format: format, framesWithUndetectedPoints: undetected, layout: layout)
        if let problem = implausibleBody(frames.compactMap(\.person)) {
            contents.warnings.append("\(path): read as \(layout?.displayName ?? "COCO-17"), the points do not look like a body (\(problem)); if the file has another layout, give --keypoints-layout")
        }
        return contents
    }

    /// Converts frames (sorted by `frame`, no duplicates) to `Keypoints2D`, inserting a row without a
    /// person for each frame number missing in between: the lifter runs on contiguous runs of rows
    /// with a person, and a missing frame must break a run, not join its neighbours. Returns the
    /// keypoints and the number of frames with a person that miss some points (a confidence of 0).
    static func assemble(_ frames: [COCOFrame], size: (width: Int, height: Int), hasScores: Bool,
                         path: String) throws -> (Keypoints2D, framesWithUndetectedPoints: Int) {
        guard let first = frames.first?.frame, let last = frames.last?.frame else {
            throw MHFormerError("\(path): no frames")
        }
        guard frames.contains(where: { $0.person != nil }) else {
            throw MHFormerError("\(path): no frame has a person")
        }
        // Readers bound frame numbers below 10^12 in magnitude, so the subtraction cannot overflow.
        let span = last - first + 1
        guard span <= maxFrameSpan else {
            throw MHFormerError("\(path): frame numbers run from \(first) to \(last), more than \(maxFrameSpan) frames")
        }
        var kp = Keypoints2D(frames: [], times: [], width: size.width, height: size.height, points: [], present: [],
                             scores: hasScores ? [] : nil)
        kp.frames.reserveCapacity(span); kp.times.reserveCapacity(span)
        kp.points.reserveCapacity(span * 34); kp.present.reserveCapacity(span)
        kp.scores?.reserveCapacity(span * 17)
        var undetected = 0
        func appendEmpty(_ frame: Int, time: Double?) {
            if kp.feet != nil { kp.feet! += [Float](repeating: 0, count: 8) }
            kp.frames.append(frame); kp.times.append(time); kp.present.append(false)
            kp.points += [Float](repeating: 0, count: 34)
            kp.scores? += [Float](repeating: 0, count: 17)
        }
        var next = first
        for f in frames {
            while next < f.frame { appendEmpty(next, time: nil); next += 1 }
            if let person = f.person {
                if let feet = f.feet {
                    if kp.feet == nil { kp.feet = [Float](repeating: 0, count: kp.frames.count * 8) }
                    kp.feet! += feet
                } else if kp.feet != nil {
                    kp.feet! += [Float](repeating: 0, count: 8)
                }
                kp.frames.append(f.frame); kp.times.append(f.time); kp.present.append(true)
                kp.points += KeypointConversion.h36m(fromCOCO: person.points)
                kp.scores? += KeypointConversion.h36mScores(fromCOCO: person.scores)
                if person.scores.contains(0) { undetected += 1 }
            } else {
                appendEmpty(f.frame, time: f.time)
            }
            next = f.frame + 1
        }
        return (kp, undetected)
    }

    /// The frame number at the end of a file name's stem: "run_000000000012" → 12, "frame7" → 7;
    /// nil when the stem does not end in digits or has more than 12 of them (OpenPose writes 12).
    static func trailingNumber(_ stem: Substring) -> Int? {
        let digits = stem.reversed().prefix { $0 >= "0" && $0 <= "9" }
        guard !digits.isEmpty, digits.count <= 12 else { return nil }
        return Int(String(digits.reversed()))
    }

    // MARK: - JSON

    /// Decodes `T` from the JSON file at `path`, every failure as one line naming the file and, when
    /// known, where in the file (`people[0].pose_keypoints_2d[7]`).
    static func decodeJSON<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        try decodeJSON(type, data: readFile(path), path: path)
    }

    /// `decodeJSON` of a file already read.
    static func decodeJSON<T: Decodable>(_ type: T.Type, data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw MHFormerError("\(path): \(describe(error, data: data))")
        }
    }

    static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MHFormerError("\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw MHFormerError("\(path): is a folder, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MHFormerError("\(path): cannot read the file")
        }
        return data
    }

    private static func describe(_ error: DecodingError, data: Data) -> String {
        func location(_ codingPath: [CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let i = key.intValue { text += "[\(i)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "top level" : text
        }
        // Foundation's descriptions are sentences, not the file's bytes: a longer limit than for quoted
        // input, so that they are not cut, while still one bounded line.
        func oneLine(_ s: String) -> String { Keypoints2DCSV.printable(s, limit: 300) }
        switch error {
        case let .typeMismatch(type, context):
            // JSONDecoder's text names Swift types ("Expected to decode Double but found bool
            // instead."); say it in JSON's words, keeping what it found.
            let expected: String
            switch type {
            case is Double.Type, is Int.Type: expected = "a number"
            case is String.Type: expected = "a string"
            case is [String: Any].Type: expected = "an object"
            default: expected = type is any Collection.Type ? "an array" : ""
            }
            let text = context.debugDescription
            if !expected.isEmpty, let found = text.range(of: "but found ")?.upperBound {
                let what = text[found...].replacingOccurrences(of: " instead.", with: "")
                    .replacingOccurrences(of: "a dictionary", with: "an object")
                return "\(location(context.codingPath)): expected \(expected), found \(oneLine(what))"
            }
            return "\(location(context.codingPath)): \(oneLine(text))"
        case let .valueNotFound(_, context):
            return "\(location(context.codingPath)): null where a value is needed"
        case let .keyNotFound(key, context):
            return "\(location(context.codingPath)): missing key '\(key.stringValue)'"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                // JSONDecoder says only "not valid JSON"; JSONSerialization says where and why (a NaN,
                // a number too large for a Double, the file ending early).
                var reason = ""
                do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) }
                catch { reason = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map { ": \(oneLine($0))" } ?? "" }
                return "not valid JSON\(reason)"
            }
            return "\(location(context.codingPath)): \(oneLine(context.debugDescription))"
        @unknown default:
            return oneLine("\(error)")
        }
    }
}
