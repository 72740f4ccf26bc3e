// A CSV of MediaPipe Pose's 33 landmarks per frame, as people write them from MediaPipe's Python
// solution (`results.pose_landmarks.landmark[i].x` ...). The accepted dialect:
//   header row, columns matched by name in any order, ignoring case:
//     frame                                   integer, strictly increasing
//     <landmark>_x, <landmark>_y              for all 33 landmarks, normalised to the image as
//                                             MediaPipe returns them: x / width, y / height
//     <landmark>_z, <landmark>_visibility,
//     <landmark>_presence                     optional, any landmarks
//     width, height                           optional, image size in pixels (the same every row)
//     time_s                                  optional, seconds
//   with MediaPipe's landmark names (`MediaPipeCSV.landmarkNames`: nose, left_eye_inner, ...,
//   right_foot_index). A row whose 66 x/y cells are all empty is a frame without a person.
// Coordinates are always normalised: pixels = x * width, y * height, with the size from the width
// and height columns or, without them, the image size given (one of the two is required). The
// 17 landmarks COCO-17 has (KeypointConversion.cocoFromBlazePose) are used, their visibility as the
// score, exactly as `mhformer run` converts BlazePose's output, and the heels and toes (29-32) as
// Keypoints2D.feet; z and presence are not used.
// Numbers follow the 2D CSV's rules (plain decimal, finite), and so does the CSV dialect (quoting,
// line endings, blank lines: CSVTokenizer).

import Foundation

public enum MediaPipeCSV {
    /// MediaPipe Pose's 33 landmarks, in MediaPipe's order (the index is BlazePose's landmark index).
    public static let landmarkNames = [
        "nose",
        "left_eye_inner", "left_eye", "left_eye_outer",
        "right_eye_inner", "right_eye", "right_eye_outer",
        "left_ear", "right_ear",
        "mouth_left", "mouth_right",
        "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow",
        "left_wrist", "right_wrist",
        "left_pinky", "right_pinky",
        "left_index", "right_index",
        "left_thumb", "right_thumb",
        "left_hip", "right_hip",
        "left_knee", "right_knee",
        "left_ankle", "right_ankle",
        "left_heel", "right_heel",
        "left_foot_index", "right_foot_index",
    ]

    /// Reads a MediaPipe landmark CSV; `imageSize` is required unless it has width and height columns.
    public static func read(path: String, imageSize: (width: Int, height: Int)?) throws -> Keypoints2D {
        try load(path: path, imageSize: imageSize).0
    }

    static func load(path: String, imageSize: (width: Int, height: Int)?) throws -> (Keypoints2D, Int) {
        var csv = try CSVTokenizer(path: path)
        guard let header = try csv.next() else { throw MHFormerError("\(path): empty file, expected a header row") }
        let names = header.strings

        // Columns by name, ignoring case (`NOSE_X` is `nose_x`).
        var column: [String: Int] = [:]
        var accepted: Set<String> = ["frame", "time_s", "width", "height"]
        for l in landmarkNames { for part in ["x", "y", "z", "visibility", "presence"] { accepted.insert("\(l)_\(part)") } }
        for (i, name) in names.enumerated() {
            let n = name.lowercased()
            guard accepted.contains(n) else {
                if n.isEmpty { throw MHFormerError("\(path): header column \(i + 1) is empty") }
                throw MHFormerError("\(path): unknown column '\(Keypoints2DCSV.printable(name))' (a MediaPipe landmark CSV has frame, <landmark>_x/_y[/_z/_visibility/_presence] for MediaPipe's 33 landmarks, optional width, height, time_s)")
            }
            guard column[n] == nil else { throw MHFormerError("\(path): duplicate column '\(Keypoints2DCSV.printable(name))'") }
            column[n] = i
        }
        func required(_ name: String) throws -> Int {
            guard let c = column[name] else { throw MHFormerError("\(path): missing column '\(name)'") }
            return c
        }
        let frameColumn = try required("frame")
        let xyColumns = try landmarkNames.flatMap { [try required("\($0)_x"), try required("\($0)_y")] }
        // Columns only checked for being numbers (or empty): z, presence, visibility.
        let otherNumberColumns = landmarkNames.flatMap { l in ["z", "visibility", "presence"].compactMap { column["\(l)_\($0)"] } }
        let visibilityColumns = landmarkNames.map { column["\($0)_visibility"] }
        // Scores only when the file has visibilities for the landmarks used (as Keypoints2DCSV: an
        // empty cell or a missing column of one of them reads as 1).
        let hasScores = KeypointConversion.cocoFromBlazePose.contains { visibilityColumns[$0] != nil }
        let timeColumn = column["time_s"]
        let sizeColumns: (width: Int, height: Int)?
        switch (column["width"], column["height"]) {
        case let (w?, h?): sizeColumns = (w, h)
        case (nil, nil): sizeColumns = nil
        case (nil, _?): throw MHFormerError("\(path): missing column 'width' (the file has 'height')")
        case (_?, nil): throw MHFormerError("\(path): missing column 'height' (the file has 'width')")
        }

        // Without width and height columns the size must be given; with them, the first row's.
        var size: (width: Int, height: Int)?
        if sizeColumns == nil {
            size = try KeypointFiles.imageSize(inFile: nil, given: imageSize, path: path,
                                               why: "no width and height columns, and its x, y are normalised to the image")
        }
        var frames: [KeypointFiles.COCOFrame] = []
        while let cells = try csv.next() {
            let lineNumber = cells.line          // the file's line, header = line 1 (blank lines count)
            guard cells.count == names.count else {
                throw MHFormerError("\(path): line \(lineNumber) has \(cells.count) columns, the header has \(names.count)")
            }
            /// Cell `c` as a finite Double in plain decimal notation (the 2D CSV's rule).
            func number(_ c: Int) throws -> Double {
                guard let v = cells.withField(c, Keypoints2DCSV.parseDecimal), v.isFinite else {
                    if cells.isEmpty(c) { throw MHFormerError("\(path): line \(lineNumber), column '\(Keypoints2DCSV.printable(names[c]))': empty value") }
                    throw MHFormerError("\(path): line \(lineNumber), column '\(Keypoints2DCSV.printable(names[c]))': '\(Keypoints2DCSV.printable(cells.string(c)))' is not a finite number")
                }
                return v
            }
            /// Cell `c` as a Float32 that is finite (1e39 is not).
            func float(_ c: Int) throws -> Float {
                let v = Float(try number(c))
                guard v.isFinite else {
                    throw MHFormerError("\(path): line \(lineNumber), column '\(Keypoints2DCSV.printable(names[c]))': '\(Keypoints2DCSV.printable(cells.string(c)))' is out of range (not finite as a 32-bit number)")
                }
                return v
            }

            let frameValue = try number(frameColumn)
            guard frameValue == frameValue.rounded(), abs(frameValue) < Double(KeypointFiles.frameNumberLimit) else {
                throw MHFormerError("\(path): line \(lineNumber), column 'frame': '\(Keypoints2DCSV.printable(cells.string(frameColumn)))' is not an integer")
            }
            let frame = Int(frameValue)
            if let previous = frames.last?.frame {
                if frame == previous { throw MHFormerError("\(path): line \(lineNumber): duplicate frame number \(frame)") }
                if frame < previous { throw MHFormerError("\(path): line \(lineNumber): frame \(frame) comes after frame \(previous) (frames must increase)") }
            }
            if let sizeColumns {
                let rowSize = try Keypoints2DCSV.rowImageSize(
                    width: try number(sizeColumns.width), height: try number(sizeColumns.height),
                    widthText: cells.string(sizeColumns.width), heightText: cells.string(sizeColumns.height), path: path, line: lineNumber)
                if let known = size {
                    guard known == rowSize else {
                        throw MHFormerError("\(path): line \(lineNumber): image size \(rowSize.width)x\(rowSize.height) differs from \(known.width)x\(known.height) of the first row")
                    }
                } else {
                    // The first row's size, checked against the given one (`why` is for a missing size).
                    size = try KeypointFiles.imageSize(inFile: rowSize, given: imageSize, path: path, why: "")
                }
            }
            // Set above: from the given size before the loop, or from this row's columns.
            guard let size else { throw MHFormerError("\(path): no image size") }
            var time: Double?
            if let timeColumn, !cells.isEmpty(timeColumn) { time = try number(timeColumn) }
            // Every number cell is checked, also those not used, so that a damaged file is refused
            // whichever landmarks it damaged.
            for c in otherNumberColumns where !cells.isEmpty(c) { _ = try float(c) }
            if xyColumns.allSatisfy({ cells.isEmpty($0) }) {
                frames.append(KeypointFiles.COCOFrame(frame: frame, time: time, person: nil))
                continue
            }
            for c in xyColumns { _ = try float(c) }

            var points = [Float](repeating: 0, count: 34), scores = [Float](repeating: 1, count: 17)
            for (c, b) in KeypointConversion.cocoFromBlazePose.enumerated() {
                // As KeypointConversion.coco(from:width:height:): the Float32 landmark times the size.
                for (axis, scale) in [(0, size.width), (1, size.height)] {
                    let col = xyColumns[2 * b + axis]
                    let pixels = try float(col) * Float(scale)
                    guard abs(pixels) <= Keypoints2DCSV.maxCoordinate else {
                        throw MHFormerError("\(path): line \(lineNumber), column '\(Keypoints2DCSV.printable(names[col]))': '\(Keypoints2DCSV.printable(cells.string(col)))' is out of range (\(pixels) pixels; at most \(Keypoints2DCSV.maxCoordinate) in magnitude)")
                    }
                    points[2 * c + axis] = pixels
                }
                if let vc = visibilityColumns[b], !cells.isEmpty(vc) { scores[c] = try float(vc) }
            }
            // The heels and toes, as `mhformer run` keeps them for the motion stage (KeypointConversion.feet).
            let feet = try FootLandmark.blazePoseIndices.flatMap { b in
                try [float(xyColumns[2 * b]) * Float(size.width), float(xyColumns[2 * b + 1]) * Float(size.height)]
            }
            guard feet.allSatisfy({ abs($0) <= Keypoints2DCSV.maxCoordinate }) else {
                throw MHFormerError("\(path): line \(lineNumber): a heel or toe is out of range (at most \(Keypoints2DCSV.maxCoordinate) pixels in magnitude)")
            }
            frames.append(KeypointFiles.COCOFrame(frame: frame, time: time, person: (points, scores), feet: feet))
        }
        guard let size, !frames.isEmpty else { throw MHFormerError("\(path): no data rows after the header") }
        return try KeypointFiles.assemble(frames, size: size, hasScores: hasScores, path: path)
    }
}
