// COCO keypoints in JSON, in either of COCO's two shapes:
//   results (what mmpose, detectron2, ViTPose's and AlphaPose's tools write):
//     [{"image_id": 0, "category_id": 1, "keypoints": [x, y, score] * 17, "score": 0.93}, ...]
//   a dataset (ground truth, or results written in its shape):
//     {"images": [{"id": 0, "width": 1920, "height": 1080, ...}, ...],
//      "annotations": [{"image_id": 0, "category_id": 1, "keypoints": [x, y, v] * 17, ...}, ...]}
// The points are COCO-17 in COCO's order (51 values), or HALPE_26 (78) or COCO-WholeBody (399), which begin
// with COCO-17 and add the feet (KeypointLayout), in pixels.
//
// Rules (docs/lift-and-2d-formats.md, "2D keypoint files from other tools"):
// - Frame number = image_id: an integer, or (AlphaPose) a file name whose stem ends in digits,
//   "000123.jpg" → 123. Missing numbers become frames without a person, as does an image of the
//   dataset's "images" without an annotation.
// - Entries with a category_id other than 1 (person) are skipped.
// - Several entries for one image: the highest "score" (ties: the first); an entry without a score
//   counts with the mean of its 17 point confidences.
// - Point confidences: results' third values are kept as they are; a dataset's are COCO's
//   visibility flags (0 not labelled, 1 labelled but hidden, 2 visible), read as min(v, 1), so a
//   labelled point scores 1. An unlabelled point (v = 0, COCO writes 0, 0 for it) keeps its
//   coordinates with score 0, as OpenPose's undetected points.
// - Image size: a dataset's images' width and height (the same for all), else it must be given.

import Foundation

public enum COCOKeypointsJSON {
    /// Reads a COCO keypoint results array or dataset; `imageSize` is required unless the dataset's
    /// images have width and height.
    public static func read(path: String, imageSize: (width: Int, height: Int)?, layout: KeypointLayout? = nil) throws -> Keypoints2D {
        try load(path: path, imageSize: imageSize, layout: layout).keypoints
    }

    /// `layout`: the points' layout (--keypoints-layout); nil: told by their number (17 COCO-17,
    /// 26 HALPE_26, 133 COCO-WholeBody; 25 are told by the data, KeypointLayout.resolve).
    static func load(path: String, imageSize: (width: Int, height: Int)?, layout given: KeypointLayout? = nil) throws -> KeypointFileContents {
        let data = try KeypointFiles.readFile(path)
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }

        let entries: [Entry]
        let isDataset: Bool
        var images: [Image] = []
        if first == UInt8(ascii: "[") {
            entries = try KeypointFiles.decodeJSON([Entry].self, data: data, path: path)
            isDataset = false
        } else if first == UInt8(ascii: "{") {
            let dataset = try KeypointFiles.decodeJSON(Dataset.self, data: data, path: path)
            guard let annotations = dataset.annotations else {
                if dataset.people != nil {
                    throw MHFormerError("\(path): an OpenPose frame file, not COCO keypoints; give the folder of OpenPose files")
                }
                throw MHFormerError("\(path): no 'annotations' key (COCO keypoints are an array of results, or an object with 'images' and 'annotations')")
            }
            entries = annotations
            images = dataset.images ?? []
            isDataset = true
        } else {
            throw MHFormerError("\(path): not a JSON array or object (COCO keypoints are an array of results, or an object with 'images' and 'annotations')")
        }
        let what = isDataset ? "annotations" : "entry"

        // The person entries with their frames, checked; then the layout, from the first entry's length.
        var people: [(frame: Int, values: [Double], score: Double?)] = []
        for (i, entry) in entries.enumerated() {
            let name = isDataset ? "annotations[\(i)]" : "entry \(i)"
            if let category = entry.categoryID, category != 1 { continue }
            let frame = try entry.imageID.frameNumber(path: path, where: name)
            let count = entry.keypoints.count
            let expected = given.map { 3 * $0.pointCount } ?? people.first?.values.count
            guard count % 3 == 0, expected.map({ count == $0 }) ?? !KeypointLayout.candidates(pointCount: count / 3).isEmpty else {
                let what = given.map { "\(3 * $0.pointCount) (\($0.displayName), --keypoints-layout)" }
                    ?? people.first.map { "\($0.values.count), as the first person entry" }
                    ?? "51 (17 COCO points), 78 (HALPE_26), 399 (COCO-WholeBody) or 75 (BODY_25/BODY_25B)"
                throw MHFormerError("\(path): \(name): keypoints has \(count) values; expected \(what), each point x, y, \(isDataset ? "v" : "score")")
            }
            for (k, v) in entry.keypoints.enumerated() where !(abs(v) <= Double(Keypoints2DCSV.maxCoordinate)) {
                throw MHFormerError("\(path): \(name): keypoints[\(k)]: \(v) is out of range (at most \(Keypoints2DCSV.maxCoordinate) in magnitude)")
            }
            if let s = entry.score, !(abs(s) <= Double(Float.greatestFiniteMagnitude)) {
                throw MHFormerError("\(path): \(name): score \(s) is not a finite 32-bit number")
            }
            // A dataset's third values are visibility flags (0, 1, 2): a labelled point scores 1.
            var values = entry.keypoints
            if isDataset { for c in stride(from: 2, to: values.count, by: 3) { values[c] = min(values[c], 1) } }
            people.append((frame, values, entry.score))
        }
        let personEntries = people.count
        let layout = try people.first.map { first in
            try given ?? KeypointLayout.resolve(KeypointLayout.candidates(pointCount: first.values.count / 3), samples: people.map(\.values), source: path)
        }

        // The chosen person of each frame, with the score that chose it.
        var best: [Int: (score: Double, person: (points: [Float], scores: [Float], feet: [Float]?))] = [:]
        for (frame, values, entryScore) in people {
            let person = layout!.read(values)
            let score = entryScore ?? Double(person.scores.reduce(0, +) / 17)
            if best[frame].map({ score > $0.score }) ?? true { best[frame] = (score, person) }
        }

        // The dataset's images: frames of their own (with or without a person) and the image size.
        var frameNumbers = Set(best.keys)
        var sizeInFile: (width: Int, height: Int, image: Int)?
        for (i, image) in images.enumerated() {
            let frame = try image.id.frameNumber(path: path, where: "images[\(i)]")
            frameNumbers.insert(frame)
            guard let w = image.width, let h = image.height else { continue }
            guard w == w.rounded(), h == h.rounded(), w >= 1, h >= 1,
                  w <= Double(Keypoints2DCSV.maxImageSide), h <= Double(Keypoints2DCSV.maxImageSide) else {
                throw MHFormerError("\(path): images[\(i)]: width and height must be integers from 1 to \(Keypoints2DCSV.maxImageSide) (got \(w) x \(h))")
            }
            let size = (width: Int(w), height: Int(h))
            if let known = sizeInFile, known.width != size.width || known.height != size.height {
                throw MHFormerError("\(path): images[\(i)] is \(size.width)x\(size.height) but images[\(known.image)] is \(known.width)x\(known.height); one video's frames share one size")
            }
            sizeInFile = sizeInFile ?? (size.width, size.height, i)
        }
        guard personEntries > 0 else {
            throw MHFormerError("\(path): no person \(what) (category_id 1)")
        }
        let size = try KeypointFiles.imageSize(
            inFile: sizeInFile.map { ($0.width, $0.height) }, given: imageSize, path: path,
            why: isDataset ? "its images have no width and height" : "COCO keypoint results do not store the image size")

        let frames = frameNumbers.sorted().map { frame in
            KeypointFiles.COCOFrame(frame: frame, person: best[frame].map { ($0.person.points, $0.person.scores) }, feet: best[frame]?.person.feet)
        }
        return try KeypointFiles.contents(frames, size: size, format: .coco, layout: layout, path: path)
    }

    /// An image id: a number, or a file name (AlphaPose writes "000123.jpg").
    enum ImageID: Decodable {
        case number(Double)
        case name(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Double.self) { self = .number(n); return }
            if let s = try? container.decode(String.self) { self = .name(s); return }
            throw DecodingError.typeMismatch(ImageID.self, .init(codingPath: decoder.codingPath,
                debugDescription: "expected an integer or a file name"))
        }

        func frameNumber(path: String, where name: String) throws -> Int {
            switch self {
            case let .number(n):
                guard n == n.rounded(), abs(n) < Double(KeypointFiles.frameNumberLimit) else {
                    throw MHFormerError("\(path): \(name): image id \(n) is not an integer below 10^12")
                }
                return Int(n)
            case let .name(file):
                // The digits at the end of the file name's stem: "clip/000123.jpg" → 123.
                let last = file.split(separator: "/").last ?? Substring(file)
                let stem = last.lastIndex(of: ".").map { last[..<$0] } ?? last
                guard let n = KeypointFiles.trailingNumber(stem) else {
                    throw MHFormerError("\(path): \(name): image id '\(Keypoints2DCSV.printable(file))' has no frame number (digits at the end of the name)")
                }
                return n
            }
        }
    }

    /// One detection (results) or annotation (dataset). Other keys (bbox, area, ...) are ignored.
    struct Entry: Decodable {
        var imageID: ImageID
        var categoryID: Double?
        var keypoints: [Double]
        var score: Double?
        enum CodingKeys: String, CodingKey {
            case imageID = "image_id", categoryID = "category_id", keypoints, score
        }
    }

    struct Image: Decodable {
        var id: ImageID
        var width: Double?
        var height: Double?
    }

    struct Dataset: Decodable {
        var images: [Image]?
        var annotations: [Entry]?
        /// Only looked at to tell an OpenPose frame file given by mistake.
        var people: [IgnoredValue]?
    }

    /// Any JSON value, not kept.
    struct IgnoredValue: Decodable {
        init(from decoder: Decoder) throws {}
    }
}
