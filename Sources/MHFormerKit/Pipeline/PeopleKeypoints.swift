// Video → every person's 2D Human3.6M keypoints, by identity, handed over person by person as
// each one is finished: decode frames (streaming), PeopleEstimator on each, and when the tracker
// closes an ID for good (lost for longer than --max-gap; an ID is never reused) that person's
// PersonTrack2D is built and given to the caller, who lifts and writes it while the video goes on.
// Whoever is still tracked when the video ends is handed over then. A track covers the person's
// span only (a row per decoded frame from the first to the last frame they were found in, with the
// video's frame numbers and times; `present` where they were found or a short gap was filled).
// So what is held grows with the people on screen now, not with the people seen so far or the
// length of the video.

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

    public var rank: PersonRank { PersonRank(id: id, meanBoxArea: meanBoxArea, meanCenterDistance: meanCenterDistance, firstRow: firstRow) }
}

/// What `--person-order` ranks a person by (PersonTrack2D's keys without the rows): small enough to
/// keep for everyone who was seen.
public struct PersonRank: Sendable, Equatable {
    public var id: Int
    public var meanBoxArea: Double
    public var meanCenterDistance: Double
    public var firstRow: Int
}

/// What the 2D pass saw in all (the people themselves went to the caller as they finished).
public struct PeopleVideoSummary: Sendable {
    /// IDs found in all (tracks shorter than `minimumFrames` not counted).
    public var peopleFound: Int
    public var info: VideoInfo
    public var decode: DecodeSummary
    public var frames: Int
}

public enum PeopleKeypointExtractor {
    /// Tracks this short (frames found) are dropped as spurious detections.
    public static let minimumFrames = 5

    /// Runs the 2D pass; `finished` gets each person (tracks of at least `minimumFrames`) once their
    /// track has closed, in order of closing (IDs closed on the same frame, and those left at the
    /// end, by ID). An error thrown by `finished` ends the pass and is rethrown.
    public static func extract(videoPath: String, estimator: PeopleEstimator, maxGapSeconds: Double = 0.5,
                               fallbackFrameRate: Double = 30, progress: ((Int, VideoInfo) -> Void)? = nil,
                               finished: (PersonTrack2D) throws -> Void) throws -> PeopleVideoSummary {
        let reader = try VideoReader(path: videoPath, fallbackFrameRate: fallbackFrameRate)
        let info = reader.info
        let fps = info.frameRate ?? fallbackFrameRate
        // Identities last through gaps up to the same time as the interpolation, in frames at this
        // video's rate.
        estimator.tracker.options.maxGapFrames = max(1, Int((maxGapSeconds * fps).rounded()))
        // Frame numbers and times of the decoded frames from row `firstKeptRow` on (rows: decoded
        // frames counted from 0); the rows before every open track's first are dropped as we go.
        var frames: [Int] = [], times: [Double?] = [], firstKeptRow = 0, rowCount = 0
        // Per open ID: the rows it was seen in and what was seen.
        var seen: [Int: [(row: Int, person: PersonInFrame)]] = [:]
        var peopleFound = 0
        var poseError: Error?, failure: Error?      // failure: thrown by `finished`
        let diagonal = (Double(info.width * info.width + info.height * info.height)).squareRoot()

        /// Builds the closed track `id` and hands it over (unless it is too short to be a person).
        func finish(_ id: Int) throws {
            guard let rows = seen.removeValue(forKey: id), rows.count >= minimumFrames else { return }
            // The span: rows come in decoding order, so the first and last are its ends.
            let first = rows[0].row, span = rows[rows.count - 1].row - first + 1
            let kept = (first - firstKeptRow)..<(first - firstKeptRow + span)
            var kp = Keypoints2D(frames: Array(frames[kept]), times: Array(times[kept]), width: info.width, height: info.height,
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
            let filled = kp.fillGaps(maxSeconds: maxGapSeconds, fps: fps)
            peopleFound += 1
            try finished(PersonTrack2D(id: id, keypoints: kp, detectedFrames: rows.count, interpolatedFrames: filled,
                                       meanBoxArea: area / Double(rows.count), meanCenterDistance: distance / Double(rows.count),
                                       firstRow: first))
        }

        let summary = try reader.forEachFramePrefetched { frame in
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)
            let found: [PersonInFrame]
            do { found = try estimator.estimate(image, frameIndex: frame.index) } catch { poseError = error; return false }
            do {
                for person in found { seen[person.id, default: []].append((rowCount, person)) }
                frames.append(frame.index)
                times.append(frame.time)
                rowCount += 1
                progress?(rowCount, info)
                for id in estimator.tracker.closedIDs { try finish(id) }
                // Frame numbers before every open track's first row are needed no more.
                let oldest = seen.values.map { $0[0].row }.min() ?? rowCount
                if oldest - firstKeptRow >= 1024 {
                    frames.removeFirst(oldest - firstKeptRow)
                    times.removeFirst(oldest - firstKeptRow)
                    firstKeptRow = oldest
                }
            } catch { failure = error; return false }
            return true
        }
        if let poseError { throw MHFormerError("\(videoPath): 2D pose failed: \(poseError)") }
        if let failure { throw failure }
        guard rowCount > 0 else { throw MHFormerError("\(videoPath): no video frame could be decoded") }
        for id in seen.keys.sorted() { try finish(id) }
        guard peopleFound > 0 else { throw MHFormerError("\(videoPath): no person found in any of the \(rowCount) frames") }
        return PeopleVideoSummary(peopleFound: peopleFound, info: info, decode: summary, frames: rowCount)
    }

    /// Whether `a` comes before `b` in `order` (ties: the lower ID first): the rule by which the
    /// people `--people N` keeps are picked.
    public static func ranksBefore(_ a: PersonRank, _ b: PersonRank, order: PersonOrder) -> Bool {
        switch order {
        case .largest: return (a.meanBoxArea, -a.id) > (b.meanBoxArea, -b.id)
        case .first: return (a.firstRow, a.id) < (b.firstRow, b.id)
        case .center: return (a.meanCenterDistance, a.id) < (b.meanCenterDistance, b.id)
        }
    }
}
