// BlazePose on everyone in a video, each person with an identity that lasts. Detections are
// confirmed and duplicates told apart with PersonSearch (shared with the single-person run).
//
// MediaPipe tracks one person: the detector runs until it finds someone, then the landmark model
// follows that person's ROI from frame to frame. Here every person gets such a track (a
// BlazePoseTracker of its own, sharing the models), and the detector runs again
//   - every `detectEveryFrames` frames, to catch people who walk in;
//   - on every frame while a track is lost (for up to `maxGapFrames`), to find that person again.
// A detection whose box overlaps a tracked person is that person, not a new one. Two tracks that
// end on one person (a ROI slides onto whoever passes in front) are merged: the track whose colours
// no longer match its own history lets go.
//
// Identities: a person found again within `maxGapFrames` (an occlusion, a short exit) gets the ID
// of the lost track that best explains it: where that track was heading (constant velocity), its
// size, and its clothes (mean colours of the torso and thighs). IDs are 1, 2, ... in order of first
// appearance and are never reused.

import Foundation

/// One person in one frame.
public struct TrackedPerson: Sendable {
    public var id: Int
    public var landmarks: PoseLandmarks
    /// The bounding box of the 33 landmarks, pixels.
    public var box: PersonBox
}

public final class PeopleTracker {
    public struct Options: Sendable {
        /// Run one detector pass every this many frames to find people who enter: the whole image
        /// every other pass, one tile (BlazePose.detectionTiles) in turn between, so a newcomer is
        /// looked for in the whole image every 2 × this many frames and in each tile every
        /// 2 × tiles × this many frames.
        public var detectEveryFrames = 4
        /// A lost person found again within this many frames keeps their ID.
        public var maxGapFrames = 15
        /// A detection whose mid-hip lies within this fraction of a tracked person's height from
        /// their hips is that person.
        public var sameDetectionHipDistance = 0.25
        /// Two tracks whose landmark boxes overlap this much (intersection over union) follow one person.
        public var duplicateIoU = 0.6
        /// A tracked person whose clothes colours (Appearance, RMS over 0..1) differ this much from
        /// their history is taken to be someone else.
        public var maxAppearanceChange = 0.15
        /// At most this many people at once (each costs a landmark run per frame).
        public var maxPeople = 16
        public init() {}
    }

    public let pose: BlazePose
    /// Copies of the models for the worker threads (the first is `pose`): the tracked people's
    /// landmark models run side by side, one OpenBLAS thread each, which uses two cores better than
    /// one model on two BLAS threads.
    let workers: [BlazePose]
    public var options: Options
    private var tracks: [Track] = []
    private var nextID = 1
    private var frame = -1
    /// The detector's tiles for this video's frame size (BlazePose.detectionTiles) and the next pass
    /// of the cycle (the whole image, then each tile).
    private var tiles: [PersonBox]?
    private var nextPass = 0
    /// Detector runs so far and frames processed (for the speed summary).
    public private(set) var detectorRuns = 0
    public var framesSeen: Int { frame + 1 }
    /// Landmark runs on detections that were not a tracked person (new people, or rejected).
    public private(set) var candidateRuns = 0
    /// The IDs whose tracks the last `process` closed for good (lost for longer than
    /// `maxGapFrames`): they will not be seen again, so their owners can finish those people now
    /// instead of holding them until the video ends.
    public private(set) var closedIDs: [Int] = []

    /// `workers`: more copies of the models (same files) to track people in parallel.
    public init(pose: BlazePose, options: Options = Options(), workers: [BlazePose] = []) {
        self.pose = pose
        self.options = options
        self.workers = [pose] + workers
    }

    /// One person's track: the landmark tracker and what identifies the person.
    final class Track {
        let id: Int
        var tracker: BlazePoseTracker
        var box: PersonBox
        /// Box centre velocity, pixels per frame (smoothed).
        var velocity = SIMD2<Double>(0, 0)
        var lastFrame: Int
        var appearance: Appearance
        var framesSeen = 0
        /// The region of interest of the last frame the person was seen in.
        var lastRoi: NormalizedRect?
        init(id: Int, tracker: BlazePoseTracker, box: PersonBox, frame: Int, appearance: Appearance) {
            self.id = id; self.tracker = tracker; self.box = box; self.lastFrame = frame; self.appearance = appearance
        }
    }

    /// The people in the next frame of the video, by ID.
    public func process(_ image: RGBImage) throws -> [TrackedPerson] {
        frame += 1
        closedIDs = []
        var seen: [(track: Track, person: TrackedPerson, appearance: Appearance)] = []
        var lostNow = false
        let tracked = tracks.filter { $0.tracker.isTracking }
        let passes = detectorPasses(image, nobodyTracked: tracked.isEmpty)
        // The tracked people's landmark models and this frame's detector passes, side by side.
        let (landmarks, detections) = try runInParallel(tracked, passes, image)
        for (track, lm) in zip(tracked, landmarks) {
            guard let lm else { lostNow = true; continue }
            let box = PersonBox.landmarkBounds(lm, width: image.width, height: image.height)
            let appearance = Appearance(lm, image)
            // A track whose person suddenly wears other clothes has slid onto someone passing in
            // front: it lets go, and the detector finds both people again.
            if track.framesSeen >= 3, appearance.distance(track.appearance) > options.maxAppearanceChange {
                track.tracker.reset()
                lostNow = true
                continue
            }
            seen.append((track, TrackedPerson(id: track.id, landmarks: lm, box: box), appearance))
        }
        seen = mergeDuplicates(seen, lost: &lostNow)
        try reacquireLost(image, into: &seen)

        for (detection, roi) in detections.sorted(by: { $0.detection.score > $1.detection.score }) where seen.count < options.maxPeople {
            // The detector's first keypoint is the person's mid-hip: near a tracked person's hips,
            // it is that person.
            let hip = SIMD2(Double(detection.keypoints[0].x) * Double(image.width), Double(detection.keypoints[0].y) * Double(image.height))
            if seen.contains(where: { distance(hip, $0.person.hipCentre(image)) < options.sameDetectionHipDistance * $0.person.box.height }) { continue }
            candidateRuns += 1
            guard let found = try PersonSearch.confirm(roi, in: image, pose: pose, score: detection.score),
                  !isTracked(found.box, seen) else { continue }
            let appearance = Appearance(found.landmarks, image)
            let track = reidentify(box: found.box, appearance: appearance, excluding: seen.map(\.track.id)) ?? newTrack(found.box, appearance)
            track.tracker = found.tracker
            seen.append((track, TrackedPerson(id: track.id, landmarks: found.landmarks, box: found.box), appearance))
        }

        for s in seen {
            let t = s.track
            let gap = Double(max(1, frame - t.lastFrame))
            let step = (s.person.box.center - t.box.center) / gap
            t.velocity = t.lastFrame == frame ? t.velocity : (frame - t.lastFrame == 1 ? 0.7 * t.velocity + 0.3 * step : step)
            t.box = s.person.box
            t.lastFrame = frame
            t.appearance = t.appearance.blended(with: s.appearance, weight: 0.1)
            t.framesSeen += 1
            t.lastRoi = s.person.landmarks.roi
        }
        // Tracks lost for longer than the gap are closed for good.
        closedIDs = tracks.filter { !$0.tracker.isTracking && frame - $0.lastFrame > options.maxGapFrames }.map(\.id).sorted()
        tracks.removeAll { closedIDs.contains($0.id) }
        return seen.map(\.person).sorted { $0.id < $1.id }
    }

    /// People lost behind someone else come back where they were heading: for each track lost
    /// within the gap, the landmark model on its last region of interest moved on by its velocity.
    /// A person found there in that track's clothes, and not one already tracked, is that track again
    /// (no detector needed, no new ID).
    private func reacquireLost(_ image: RGBImage, into seen: inout [(track: Track, person: TrackedPerson, appearance: Appearance)]) throws {
        for t in tracks where !t.tracker.isTracking && frame - t.lastFrame <= options.maxGapFrames && !seen.contains(where: { $0.track === t }) {
            guard let last = t.lastRoi else { continue }
            let gap = Double(frame - t.lastFrame)
            var roi = last
            roi.xCenter += Float(t.velocity.x * gap / Double(image.width))
            roi.yCenter += Float(t.velocity.y * gap / Double(image.height))
            guard roi.xCenter > 0, roi.xCenter < 1, roi.yCenter > 0, roi.yCenter < 1 else { continue }
            guard let found = try PersonSearch.confirm(roi, in: image, pose: pose) else { continue }
            let appearance = Appearance(found.landmarks, image)
            guard appearance.distance(t.appearance) <= options.maxAppearanceChange,
                  !isTracked(found.box, seen) else { continue }
            t.tracker = found.tracker
            seen.append((t, TrackedPerson(id: t.id, landmarks: found.landmarks, box: found.box), appearance))
        }
    }

    /// Whether landmarks with bounds `box` are a person already in `seen`: the boxes overlap as
    /// much as duplicate tracks do, or one holds the other nearly whole.
    private func isTracked(_ box: PersonBox, _ seen: [(track: Track, person: TrackedPerson, appearance: Appearance)]) -> Bool {
        PersonSearch.isSamePerson(box, asOneOf: seen.map(\.person.box), iou: options.duplicateIoU)
    }

    /// The detector passes of this frame (nil: the whole image; a box: one tile of it), decided
    /// before the frame is tracked so that they run beside the landmark models.
    private func detectorPasses(_ image: RGBImage, nobodyTracked: Bool) -> [PersonBox?] {
        if tiles == nil { tiles = BlazePose.detectionTiles(width: image.width, height: image.height) }
        let tiles = self.tiles!
        if frame == 0 { return [nil] + tiles }             // everyone there from the start, at once
        var passes: [PersonBox?] = []
        if nobodyTracked || frame % options.detectEveryFrames == 0 {
            // Newcomers: every other pass the whole image (people of some size, found at once), and
            // in between the next tile (people small in the frame, found within a second or two).
            passes.append(nextPass % 2 == 0 || tiles.isEmpty ? nil : tiles[(nextPass / 2) % tiles.count])
            nextPass += 1
        }
        // Someone lost where they should still be in view: the tile where they were heading (the
        // whole image when there are no tiles). People who walked out of the image are left to the
        // cycle above.
        for t in tracks where !t.tracker.isTracking && frame - t.lastFrame <= options.maxGapFrames {
            let predicted = t.box.center + t.velocity * Double(frame - t.lastFrame)
            guard predicted.x > 0, predicted.x < Double(image.width), predicted.y > 0, predicted.y < Double(image.height) else { continue }
            let pass = tiles.min(by: { distance($0.center, predicted) < distance($1.center, predicted) })
            if !passes.contains(pass) { passes.append(pass) }
        }
        return passes
    }

    /// Each tracked person's landmarks in `image` (nil: lost) and every detection of `passes`,
    /// the jobs spread over the workers (each with its own copy of the models).
    private func runInParallel(_ tracked: [Track], _ passes: [PersonBox?], _ image: RGBImage) throws
        -> ([PoseLandmarks?], [(detection: PoseDetection, roi: NormalizedRect)]) {
        detectorRuns += passes.count
        let jobs = tracked.count + passes.count
        let workerCount = min(workers.count, jobs)
        var landmarks = [PoseLandmarks?](repeating: nil, count: tracked.count)
        var detections: [(detection: PoseDetection, roi: NormalizedRect)] = []
        guard workerCount > 1 else {
            for k in 0..<jobs {
                let (lm, found) = try PeopleTracker.job(k, pose, tracked, passes, image)
                if k < tracked.count { landmarks[k] = lm } else { detections += found }
            }
            return (landmarks, detections)
        }
        final class Shared: @unchecked Sendable {
            var next = 0
            var landmarks: [PoseLandmarks?]
            var detections: [[(detection: PoseDetection, roi: NormalizedRect)]]
            var error: Error?
            let lock = NSLock()
            init(_ people: Int, _ passes: Int) { landmarks = Array(repeating: nil, count: people); detections = Array(repeating: [], count: passes) }
        }
        let shared = Shared(tracked.count, passes.count)
        let work = UnsafeSendable((tracked, passes, workers, image))
        // Each worker takes the next job until none is left (people first, then the detector passes).
        DispatchQueue.concurrentPerform(iterations: workerCount) { w in
            let (tracked, passes, workers, image) = work.value
            let people = tracked.count
            while true {
                shared.lock.lock()
                let k = shared.next
                shared.next += 1
                shared.lock.unlock()
                guard k < jobs else { return }
                do {
                    let (lm, found) = try PeopleTracker.job(k, workers[w], tracked, passes, image)
                    shared.lock.lock()
                    if k < people { shared.landmarks[k] = lm } else { shared.detections[k - people] = found }
                    shared.lock.unlock()
                } catch {
                    shared.lock.lock(); shared.error = error; shared.lock.unlock()
                }
            }
        }
        if let error = shared.error { throw error }
        return (shared.landmarks, shared.detections.flatMap { $0 })
    }

    /// Job `k` of a frame: a tracked person's landmarks (k < people), else a detector pass.
    private static func job(_ k: Int, _ model: BlazePose, _ tracked: [Track], _ passes: [PersonBox?], _ image: RGBImage) throws
        -> (PoseLandmarks?, [(detection: PoseDetection, roi: NormalizedRect)]) {
        if k < tracked.count { return (try tracked[k].tracker.process(image, detectWhenLost: false, model: model), []) }
        let pass = passes[k - tracked.count]
        return (nil, try pass.map { try model.detectAll(image, tile: $0) } ?? model.detectAll(image))
    }

    private func newTrack(_ box: PersonBox, _ appearance: Appearance) -> Track {
        let track = Track(id: nextID, tracker: BlazePoseTracker(pose: pose), box: box, frame: frame, appearance: appearance)
        nextID += 1
        tracks.append(track)
        return track
    }

    /// The lost track (within the gap) that best explains a person found at `box`: near where it
    /// was heading, of its size, in its clothes. nil when none is close enough.
    private func reidentify(box: PersonBox, appearance: Appearance, excluding: [Int]) -> Track? {
        var best: (track: Track, cost: Double)?
        for t in tracks where !t.tracker.isTracking && !excluding.contains(t.id) && frame - t.lastFrame <= options.maxGapFrames {
            let gap = Double(frame - t.lastFrame)
            let predicted = t.box.center + t.velocity * gap
            let size = max(t.box.height, 1)
            let distance = ((box.center - predicted) * (box.center - predicted)).sum().squareRoot() / size
            let scale = abs(log(max(box.height, 1) / size))
            let colours = appearance.distance(t.appearance)
            // Within about a body height of the prediction, a similar size, similar clothes.
            guard distance < 1.0, scale < 0.5, colours < 0.25 else { continue }
            let cost = distance + scale + 4 * colours
            if best == nil || cost < best!.cost { best = (t, cost) }
        }
        return best?.track
    }

    /// Two tracks on one person: keep the one whose clothes match its history better (the other
    /// track's ROI slid onto this person), and mark the other lost.
    private func mergeDuplicates(_ seen: [(track: Track, person: TrackedPerson, appearance: Appearance)], lost: inout Bool)
        -> [(track: Track, person: TrackedPerson, appearance: Appearance)] {
        var keep = [Bool](repeating: true, count: seen.count)
        for i in seen.indices { for j in seen.indices where j > i && keep[i] && keep[j] {
            guard seen[i].person.box.iou(seen[j].person.box) > options.duplicateIoU else { continue }
            let di = seen[i].appearance.distance(seen[i].track.appearance), dj = seen[j].appearance.distance(seen[j].track.appearance)
            let drop = di > dj ? i : j
            keep[drop] = false
            seen[drop].track.tracker.reset()
            lost = true
        } }
        return seen.indices.filter { keep[$0] }.map { seen[$0] }
    }
}

extension TrackedPerson {
    /// The middle of the two hip landmarks, pixels.
    func hipCentre(_ image: RGBImage) -> SIMD2<Double> {
        let l = landmarks.landmarks[23], r = landmarks.landmarks[24]
        return SIMD2(Double(l.x + r.x) / 2 * Double(image.width), Double(l.y + r.y) / 2 * Double(image.height))
    }
}

/// A person's clothes as mean colours (0..1) of the torso (shoulders to hips) and of the thighs
/// (hips to knees), sampled on a small grid between the landmarks.
struct Appearance: Sendable {
    var values: [Float]

    init(values: [Float]) { self.values = values }

    init(_ lm: PoseLandmarks, _ image: RGBImage) {
        func point(_ i: Int) -> SIMD2<Float> { SIMD2(lm.landmarks[i].x * Float(image.width), lm.landmarks[i].y * Float(image.height)) }
        // Quads: (top-left, top-right, bottom-left, bottom-right) in the person's own frame.
        let torso = (point(11), point(12), point(23), point(24))
        let thighs = (point(23), point(24), point(25), point(26))
        values = Appearance.meanColour(torso, image) + Appearance.meanColour(thighs, image)
    }

    static func meanColour(_ q: (SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>), _ image: RGBImage) -> [Float] {
        var sum = SIMD3<Float>(0, 0, 0), n: Float = 0
        for a in 1...4 { for b in 1...4 {
            let u = Float(a) / 5, v = Float(b) / 5
            let top = q.0 + (q.1 - q.0) * u, bottom = q.2 + (q.3 - q.2) * u
            let p = top + (bottom - top) * v
            let x = Int(p.x), y = Int(p.y)
            guard x >= 0, y >= 0, x < image.width, y < image.height else { continue }
            let k = (y * image.width + x) * 3
            sum += SIMD3(Float(image.pixels[k]), Float(image.pixels[k + 1]), Float(image.pixels[k + 2])) / 255
            n += 1
        } }
        return n > 0 ? [sum.x / n, sum.y / n, sum.z / n] : [0.5, 0.5, 0.5]
    }

    /// Root-mean-square difference of the colours (0 same, about 0.5 black against white).
    func distance(_ other: Appearance) -> Double {
        Double(zip(values, other.values).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(values.count)).squareRoot()
    }

    func blended(with other: Appearance, weight: Float) -> Appearance {
        Appearance(values: zip(values, other.values).map { $0 * (1 - weight) + $1 * weight })
    }
}

private func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { ((a - b) * (a - b)).sum().squareRoot() }

extension PersonBox {
    var center: SIMD2<Double> { SIMD2(x + width / 2, y + height / 2) }
    var area: Double { max(width, 0) * max(height, 0) }

    func intersection(_ o: PersonBox) -> Double {
        let w = min(x + width, o.x + o.width) - max(x, o.x), h = min(y + height, o.y + o.height) - max(y, o.y)
        return max(w, 0) * max(h, 0)
    }

    /// Intersection over union.
    public func iou(_ o: PersonBox) -> Double {
        let i = intersection(o)
        return i / max(area + o.area - i, 1e-9)
    }

    /// Intersection over the smaller box's area (1 when one box holds the other).
    public func overlapOfSmaller(_ o: PersonBox) -> Double { intersection(o) / max(min(area, o.area), 1e-9) }
}
