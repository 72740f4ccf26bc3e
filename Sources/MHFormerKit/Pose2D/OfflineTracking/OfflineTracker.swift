// One person through a video, offline (`mhformer run` without --people). MediaPipe's streaming
// tracker runs first on every frame, untouched; then, because we have the whole video, the frames it
// missed are looked at again:
//   1. Tracked on: from the last frame with the person, the landmark model at the place the person
//      was heading (within --max-gap), as the people tracker re-finds people; then frame to frame.
//   2. Re-detection: the detector on tiles and an enlarged centre crop (PersonSearch, shared with the
//      people tracker); the person nearest where the lost one was heading, or else the one
//      --person-order picks (default: the largest); then tracked on as in 1.
//   3. Backwards in time: frames still missed are kept (up to a memory budget), and when the person
//      is found again a tracker seeded with that frame's region of interest goes back through them
//      (the ROI of frame t+1 seeds frame t) until it loses the person. BlazePose's tracking works the
//      same either way in time, so this costs only the missed frames. 1-2 and 3 meet in the middle.
// MediaPipe's tracker is never reset or steered by any of this, so the frames it found are the same
// pixels as without offline tracking.

import Foundation

/// How many frames offline tracking gave a person that MediaPipe's streaming tracker missed.
public struct OfflineRecovery: Sendable, Equatable, Codable {
    /// Tracked backwards from a later frame with the person.
    public var backward = 0
    /// Tracked on from an earlier frame with the person (the gap's start or a re-detection).
    public var forward = 0
    /// Found by re-detection (tiles, centre crop) itself.
    public var redetected = 0
    /// Seconds spent on the missed frames (the cost of offline tracking).
    public var seconds = 0.0

    public init() {}
    public var frames: Int { backward + forward + redetected }
}

public final class OfflineTracker {
    public struct Options: Sendable {
        /// Which person re-detection picks when it finds several and none is where the lost person
        /// was heading.
        public var order = PersonOrder.largest
        /// A lost person is looked for where they were heading for this many frames (--max-gap).
        public var maxGapFrames = 15
        public var redetect = true
        public var backward = true
        /// Missed frames kept for the backward pass; the oldest are let go beyond it (they stay
        /// missed). 512 MiB: 190 frames of 720p, 80 of 1080p.
        public var maxBufferedBytes = 512 << 20
        public init() {}
    }

    /// Where a frame's person came from.
    public enum Source: Sendable { case mediaPipe, forward, redetected, backward }

    /// A frame's person, as the extractor stores it: the row of the frame (its position in the video,
    /// possibly earlier than the frame just given), its keypoints and how it was found.
    public struct Found {
        public var row: Int
        public var keypoints: PersonKeypoints2D
        public var source: Source
    }

    public let estimator: BlazePoseFinding
    public let options: Options
    public private(set) var recovery = OfflineRecovery()
    private var pose: BlazePose { estimator.finder.tracker.pose }
    /// Following the person through frames MediaPipe's tracker missed.
    private var ahead: BlazePoseTracker?
    /// The last frame with the person: its row, the ROI for the next frame, the ROI centre's speed
    /// (pixels per frame) and the keypoints' box.
    private var last: (row: Int, roi: NormalizedRect, velocity: SIMD2<Double>, box: PersonBox)?
    /// Frames without the person since `last`, oldest first (contiguous, ending at the latest frame).
    private var missed: [(row: Int, frameIndex: Int, image: RGBImage)] = []
    private var missedBytes = 0
    /// The region re-detection looks at next (PersonSearch.regions), one per missed frame.
    private var nextRegion = 0

    public init(estimator: BlazePoseFinding, options: Options = Options()) {
        self.estimator = estimator; self.options = options
    }

    /// The next decoded frame (`row` counts frames from 0). Returns the person in it, if any, and
    /// the people the backward pass found in earlier frames.
    public func process(_ image: RGBImage, row: Int, frameIndex: Int) throws -> [Found] {
        let person = try estimator.estimate(image, frameIndex: frameIndex)
        let start = Date()
        defer { recovery.seconds += Date().timeIntervalSince(start) }
        if let keypoints = person {
            ahead = nil
            return try found(Found(row: row, keypoints: keypoints, source: .mediaPipe), by: estimator.finder.tracker, image)
        }
        var recovered = try trackOn(image, row: row).map { ($0, Source.forward) }
        if recovered == nil, options.redetect, let again = try redetect(image, row: row) { recovered = (again, .redetected) }
        guard let (landmarks, source) = recovered, let tracker = ahead else {
            keep(image, row: row, frameIndex: frameIndex)
            return []
        }
        if source == .forward { recovery.forward += 1 } else { recovery.redetected += 1 }
        let keypoints = try estimator.keypoints(image, landmarks: landmarks, frameIndex: frameIndex)
        return try found(Found(row: row, keypoints: keypoints, source: source), by: tracker, image)
    }

    /// The person in a frame MediaPipe missed, followed from the last frame with them: by the tracker
    /// already following them, else at the place they were heading (within the gap).
    private func trackOn(_ image: RGBImage, row: Int) throws -> PoseLandmarks? {
        if let tracker = ahead {
            if let landmarks = try tracker.process(image, detectWhenLost: false) { return landmarks }
            ahead = nil
        }
        // The ROI of the last frame is where the tracker that found it looked in the next one; from
        // the second frame of the gap on, it is moved on by the person's speed.
        guard let last, row - last.row >= 2, row - last.row <= options.maxGapFrames else { return nil }
        var roi = last.roi
        let gap = Double(row - last.row - 1)
        roi.xCenter += Float(last.velocity.x * gap / Double(image.width))
        roi.yCenter += Float(last.velocity.y * gap / Double(image.height))
        guard roi.xCenter > 0, roi.xCenter < 1, roi.yCenter > 0, roi.yCenter < 1,
              let person = try PersonSearch.confirm(roi, in: image, pose: pose) else { return nil }
        ahead = person.tracker
        return person.landmarks
    }

    /// Everyone the detector finds in tiles and the centre crop; the one nearest where the lost person
    /// was heading (within the gap, less than their height away), else the one `order` picks.
    /// Each region costs a detector run (as much as the landmark model), so all of them are searched
    /// on the first frame of a gap only; after that one region per frame, in turn, and all of them
    /// again on a frame where that one finds someone (to compare everyone before picking). A person
    /// found a few frames late loses nothing: the backward pass gives them the frames before.
    private func redetect(_ image: RGBImage, row: Int) throws -> PoseLandmarks? {
        let regions = PersonSearch.regions(width: image.width, height: image.height)
        let firstOfGap = row == (last.map { $0.row + 1 } ?? 0)
        var people = try PersonSearch.search(image, pose: pose, regions: firstOfGap ? regions : [regions[nextRegion % regions.count]])
        if !firstOfGap {
            nextRegion += 1
            if !people.isEmpty { people = try PersonSearch.search(image, pose: pose, regions: regions) }
        }
        guard !people.isEmpty else { return nil }
        var chosen: FoundPerson?
        if let last, row - last.row <= options.maxGapFrames {
            let heading = last.box.center + last.velocity * Double(row - last.row)
            let nearest = people.min { distance($0.box.center, heading) < distance($1.box.center, heading) }!
            if distance(nearest.box.center, heading) < last.box.height { chosen = nearest }
        }
        if chosen == nil {
            let centre = SIMD2(Double(image.width), Double(image.height)) / 2
            switch options.order {
            case .largest: chosen = people.max { $0.box.area < $1.box.area }
            case .center: chosen = people.min { distance($0.box.center, centre) < distance($1.box.center, centre) }
            // Within one frame nobody came first: the detector's most confident.
            case .first: chosen = people.max { $0.score < $1.score }
            }
        }
        ahead = chosen!.tracker
        return chosen!.landmarks
    }

    /// A frame with the person (`person.row`), found by `tracker`: the frames missed just before it
    /// are tracked backwards from it, and it becomes the last frame with the person.
    private func found(_ person: Found, by tracker: BlazePoseTracker, _ image: RGBImage) throws -> [Found] {
        var out = [person]
        guard let roi = tracker.nextRoi else { return out }
        if options.backward, let latest = missed.last, latest.row == person.row - 1 { out += try trackBackward(from: roi) }
        missed = []
        missedBytes = 0
        let centre = SIMD2(Double(roi.xCenter) * Double(image.width), Double(roi.yCenter) * Double(image.height))
        var velocity = SIMD2<Double>(0, 0)
        if let last, last.row == person.row - 1 {
            velocity = centre - SIMD2(Double(last.roi.xCenter) * Double(image.width), Double(last.roi.yCenter) * Double(image.height))
        }
        last = (person.row, roi, velocity, PersonBox.keypointBounds(person.keypoints))
        return out
    }

    /// Back through the missed frames, newest first, from `roi` (the region of interest the frame
    /// after them gives), until the person is lost.
    private func trackBackward(from roi: NormalizedRect) throws -> [Found] {
        let tracker = BlazePoseTracker(pose: pose)
        tracker.start(from: roi)
        var out: [Found] = []
        for frame in missed.reversed() {
            guard let landmarks = try tracker.process(frame.image, detectWhenLost: false) else { break }
            let keypoints = try estimator.keypoints(frame.image, landmarks: landmarks, frameIndex: frame.frameIndex)
            out.append(Found(row: frame.row, keypoints: keypoints, source: .backward))
            recovery.backward += 1
        }
        return out
    }

    /// Keeps a missed frame for the backward pass, letting the oldest go beyond the memory budget.
    private func keep(_ image: RGBImage, row: Int, frameIndex: Int) {
        guard options.backward else { return }
        missed.append((row, frameIndex, image))
        missedBytes += image.pixels.count
        while missedBytes > options.maxBufferedBytes, !missed.isEmpty {
            missedBytes -= missed.removeFirst().image.pixels.count
        }
    }
}

private func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { ((a - b) * (a - b)).sum().squareRoot() }

extension PersonBox {
    /// The bounding box of the 17 keypoints, at least 1 pixel each way.
    static func keypointBounds(_ person: PersonKeypoints2D) -> PersonBox {
        let xs = stride(from: 0, to: 34, by: 2).map { Double(person.points[$0]) }
        let ys = stride(from: 1, to: 34, by: 2).map { Double(person.points[$0]) }
        let x0 = xs.min()!, x1 = xs.max()!, y0 = ys.min()!, y1 = ys.max()!
        return PersonBox(x: x0, y: y0, width: max(x1 - x0, 1), height: max(y1 - y0, 1))
    }
}
