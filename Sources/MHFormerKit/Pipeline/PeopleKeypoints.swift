// Video → every person's 2D Human3.6M keypoints, by identity: decode frames (streaming),
// PeopleEstimator on each, one Keypoints2D per ID covering that person's span only (a row per decoded
// frame from the first to the last frame they were found in, with the video's frame numbers and
// times; `present` where they were found or a short gap was filled), then the people the job asks
// for chosen. Spans keep memory and the per-person files in proportion to what was seen: in a long
// video where people come and go, a row for every person on every frame would grow as
// people x frames.

import Foundation

/// Which people count when there are more than `--people N`.
public enum PersonOrder: String, CaseIterable, Sendable {
    /// The biggest on screen (mean box area over the frames they are in).
    case largest
    /// The first to appear.
    case first
    /// The closest to the image centre on average.
    case center
}

/// How many people a job follows.
public enum PeopleCount: Sendable, Equatable {
    case count(Int)
    case all

    /// "1", "3", "all" as the command line writes it.
    public init?(_ text: String) {
        if text == "all" { self = .all } else if let n = Int(text), n >= 1 { self = .count(n) } else { return nil }
    }
}

/// One person through the video.
public struct PersonTrack2D: Sendable {
    public var id: Int
    /// A row per decoded frame of the person's span (first to last frame found; `frames` and
    /// `times` are the video's); `present` where the person was found or a short gap was filled.
    public var keypoints: Keypoints2D
    public var detectedFrames: Int
    public var interpolatedFrames: Int
    /// Mean box area in pixels² and mean distance of the box centre from the image centre (in image
    /// diagonals), over the frames the person was found in: the orders' keys.
    public var meanBoxArea: Double
    public var meanCenterDistance: Double
    /// The first row (decoded frame, counted from 0) the person was found in: the span's first row.
    public var firstRow: Int
}

public struct PeopleVideoKeypoints: Sendable {
    /// The people chosen, by ID.
    public var people: [PersonTrack2D]
    /// IDs found in all (tracks shorter than `minimumFrames` not counted).
    public var peopleFound: Int
    public var info: VideoInfo
    public var decode: DecodeSummary
    public var frames: Int
}

public enum PeopleKeypointExtractor {
    /// Tracks this short (frames found) are dropped as spurious detections.
    public static let minimumFrames = 5

    public static func extract(videoPath: String, estimator: PeopleEstimator, maxGapSeconds: Double = 0.5,
                               fallbackFrameRate: Double = 30, people: PeopleCount, order: PersonOrder,
                               progress: ((Int, VideoInfo) -> Void)? = nil) throws -> PeopleVideoKeypoints {
        let reader = try VideoReader(path: videoPath, fallbackFrameRate: fallbackFrameRate)
        let info = reader.info
        // Identities last through gaps up to the same time as the interpolation, in frames at this
        // video's rate.
        estimator.tracker.options.maxGapFrames = max(1, Int((maxGapSeconds * (info.frameRate ?? fallbackFrameRate)).rounded()))
        var frames: [Int] = [], times: [Double?] = []
        // Per ID: the rows it was seen in and what was seen (sparse until the video ends).
        var seen: [Int: [(row: Int, person: PersonInFrame)]] = [:]
        var poseError: Error?
        let summary = try reader.forEachFramePrefetched { frame in
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)
            let found: [PersonInFrame]
            do { found = try estimator.estimate(image, frameIndex: frame.index) } catch { poseError = error; return false }
            for person in found { seen[person.id, default: []].append((frames.count, person)) }
            frames.append(frame.index)
            times.append(frame.time)
            progress?(frames.count, info)
            return true
        }
        if let poseError { throw MHFormerError("\(videoPath): 2D pose failed: \(poseError)") }
        guard !frames.isEmpty else { throw MHFormerError("\(videoPath): no video frame could be decoded") }
        let n = frames.count
        let diagonal = (Double(info.width * info.width + info.height * info.height)).squareRoot()
        var tracks: [PersonTrack2D] = []
        for (id, rows) in seen where rows.count >= minimumFrames {
            // The span: rows come in decoding order, so the first and last are its ends.
            let first = rows[0].row, span = rows[rows.count - 1].row - first + 1
            var kp = Keypoints2D(frames: Array(frames[first..<(first + span)]), times: Array(times[first..<(first + span)]),
                                 width: info.width, height: info.height,
                                 points: [Float](repeating: 0, count: span * 34), present: [Bool](repeating: false, count: span),
                                 scores: [Float](repeating: 0, count: span * 17))
            var area = 0.0, distance = 0.0
            for (videoRow, person) in rows {
                let row = videoRow - first
                kp.points.replaceSubrange((row * 34)..<((row + 1) * 34), with: KeypointConversion.h36m(fromCOCO: person.keypoints.points))
                kp.scores!.replaceSubrange((row * 17)..<((row + 1) * 17), with: KeypointConversion.h36mScores(fromCOCO: person.keypoints.scores))
                kp.present[row] = true
                area += person.box.area
                let c = person.box.center
                distance += ((c.x - Double(info.width) / 2) * (c.x - Double(info.width) / 2) + (c.y - Double(info.height) / 2) * (c.y - Double(info.height) / 2)).squareRoot() / diagonal
            }
            let filled = kp.fillGaps(maxSeconds: maxGapSeconds, fps: info.frameRate ?? fallbackFrameRate)
            tracks.append(PersonTrack2D(id: id, keypoints: kp, detectedFrames: rows.count, interpolatedFrames: filled,
                                        meanBoxArea: area / Double(rows.count), meanCenterDistance: distance / Double(rows.count),
                                        firstRow: first))
        }
        guard !tracks.isEmpty else { throw MHFormerError("\(videoPath): no person found in any of the \(n) frames") }
        let chosen = choose(tracks, people: people, order: order)
        return PeopleVideoKeypoints(people: chosen, peopleFound: tracks.count, info: info, decode: summary, frames: n)
    }

    /// The people `people` and `order` pick, returned by ID.
    public static func choose(_ tracks: [PersonTrack2D], people: PeopleCount, order: PersonOrder) -> [PersonTrack2D] {
        let ranked: [PersonTrack2D]
        switch order {
        case .largest: ranked = tracks.sorted { ($0.meanBoxArea, -$0.id) > ($1.meanBoxArea, -$1.id) }
        case .first: ranked = tracks.sorted { ($0.firstRow, $0.id) < ($1.firstRow, $1.id) }
        case .center: ranked = tracks.sorted { ($0.meanCenterDistance, $0.id) < ($1.meanCenterDistance, $1.id) }
        }
        let n: Int
        switch people { case .all: n = ranked.count; case .count(let k): n = min(k, ranked.count) }
        return ranked.prefix(n).sorted { $0.id < $1.id }
    }
}
