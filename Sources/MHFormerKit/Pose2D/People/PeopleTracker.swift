// BlazePose on everyone in a video, each person with an identity that lasts.
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
        public var detectEveryFrames = 2
        /// A lost person found again within this many frames keeps their ID.
        public var maxGapFrames = 15
        /// A detection whose box overlaps a tracked person's by more than this (intersection over the
        /// smaller box) is that person.
        public var sameDetectionOverlap = 0.5
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
        init(id: Int, tracker: BlazePoseTracker, box: PersonBox, frame: Int, appearance: Appearance) {
            self.id = id; self.tracker = tracker; self.box = box; self.lastFrame = frame; self.appearance = appearance
        }
    }

    /// The people in the next frame of the video, by ID.
    public func process(_ image: RGBImage) throws -> [TrackedPerson] {
        frame += 1
        var seen: [(track: Track, person: TrackedPerson, appearance: Appearance)] = []
        var lostNow = false
        let tracked = tracks.filter { $0.tracker.isTracking }
        for (track, lm) in zip(tracked, try trackInParallel(tracked, image)) {
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

        // Detector passes this frame (nil: the whole image; a box: one tile of it).
        var passes: [PersonBox?] = []
        if tiles == nil { tiles = BlazePose.detectionTiles(width: image.width, height: image.height) }
        if frame == 0 {
            passes = [nil] + tiles!                         // everyone there from the start, at once
        } else if seen.isEmpty || frame % options.detectEveryFrames == 0 {
            // Newcomers: every other pass the whole image (people of some size, found at once), and
            // in between the next tile (people small in the frame, found within a second or two).
            passes.append(nextPass % 2 == 0 || tiles!.isEmpty ? nil : tiles![(nextPass / 2) % tiles!.count])
            nextPass += 1
        }
        // Someone lost (this frame or recently) where they should still be in view: the tile where
        // they were heading (the whole image when there are no tiles). People who walked out of the
        // image are left to the cycle above.
        let inView = PersonBox(x: 0, y: 0, width: Double(image.width), height: Double(image.height))
        for t in tracks where !t.tracker.isTracking && frame - t.lastFrame <= options.maxGapFrames {
            let predicted = t.box.center + t.velocity * Double(frame - t.lastFrame)
            guard predicted.x > inView.x, predicted.x < inView.width, predicted.y > 0, predicted.y < inView.height else { continue }
            let pass = tiles!.min(by: { distance($0.center, predicted) < distance($1.center, predicted) })
            if !passes.contains(pass) { passes.append(pass) }
        }
        var detections: [(detection: PoseDetection, roi: NormalizedRect)] = []
        for pass in passes {
            detectorRuns += 1
            detections += try pass.map { try pose.detectAll(image, tile: $0) } ?? pose.detectAll(image)
        }
        for (detection, roi) in detections.sorted(by: { $0.detection.score > $1.detection.score }) where seen.count < options.maxPeople {
            let b = detection.box
            let box = PersonBox(x: Double(b.x) * Double(image.width), y: Double(b.y) * Double(image.height),
                                width: Double(b.z - b.x) * Double(image.width), height: Double(b.w - b.y) * Double(image.height))
            if seen.contains(where: { box.overlapOfSmaller($0.person.box) > options.sameDetectionOverlap }) { continue }
            let tracker = BlazePoseTracker(pose: pose)
            tracker.start(from: roi)
            guard let lm = try tracker.process(image, detectWhenLost: false) else { continue }
            let lmBox = PersonBox.landmarkBounds(lm, width: image.width, height: image.height)
            if seen.contains(where: { lmBox.iou($0.person.box) > options.duplicateIoU || lmBox.overlapOfSmaller($0.person.box) > 0.8 }) { continue }
            let appearance = Appearance(lm, image)
            let track = reidentify(box: lmBox, appearance: appearance, excluding: seen.map(\.track.id)) ?? newTrack(lmBox, appearance)
            track.tracker = tracker
            seen.append((track, TrackedPerson(id: track.id, landmarks: lm, box: lmBox), appearance))
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
        }
        // Tracks lost for longer than the gap are closed for good.
        tracks.removeAll { !$0.tracker.isTracking && frame - $0.lastFrame > options.maxGapFrames }
        return seen.map(\.person).sorted { $0.id < $1.id }
    }

    /// Each tracked person's landmarks in `image` (nil: lost), the people spread over the workers.
    private func trackInParallel(_ tracked: [Track], _ image: RGBImage) throws -> [PoseLandmarks?] {
        let workerCount = min(workers.count, tracked.count)
        guard workerCount > 1 else { return try tracked.map { try $0.tracker.process(image, detectWhenLost: false) } }
        final class Results: @unchecked Sendable {
            var landmarks: [PoseLandmarks?]
            var error: Error?
            let lock = NSLock()
            init(_ n: Int) { landmarks = Array(repeating: nil, count: n) }
        }
        let results = Results(tracked.count)
        let work = UnsafeSendable((tracked, workers, image))
        DispatchQueue.concurrentPerform(iterations: workerCount) { w in
            let (tracked, workers, image) = work.value
            for k in stride(from: w, to: tracked.count, by: workerCount) {
                do {
                    let lm = try tracked[k].tracker.process(image, detectWhenLost: false, model: workers[w])
                    results.lock.lock(); results.landmarks[k] = lm; results.lock.unlock()
                } catch {
                    results.lock.lock(); results.error = error; results.lock.unlock()
                }
            }
        }
        if let error = results.error { throw error }
        return results.landmarks
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

/// Hands values to worker threads that only read them (or, like the tracks, are touched by one
/// worker each).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
