// MediaPipe Pose's video mode (pose2d-backends.md §4.1 and §4.6): the detector runs only when no
// pose is being tracked; otherwise the ROI comes from the previous frame's auxiliary landmarks.
// Landmarks are smoothed with One-Euro filters whose speed is measured in body sizes.
//
// Time: mp.solutions.pose ignores real time and advances 33,333 µs per frame (30 fps), and so do we,
// so the smoothing matches it frame for frame whatever the video's frame rate.

import Foundation

// LowPassFilter and OneEuroFilter: Core/OneEuroFilter.swift (shared with the 3D smoothing).

/// VisibilitySmoothingCalculator + LandmarksSmoothingCalculator (one_euro_filter) for a fixed number
/// of landmarks: visibility low-passed with α 0.1, then x, y, z One-Euro filtered in pixels
/// (x·W, y·H, z·W) or, for world landmarks, as they are.
struct LandmarkSmoother {
    let minCutoff: Double, beta: Double
    private var filters: [OneEuroFilter] = []
    private var visibility: [LowPassFilter] = []

    init(minCutoff: Double, beta: Double) { self.minCutoff = minCutoff; self.beta = beta }

    mutating func reset() { filters = []; visibility = [] }

    /// Image landmarks (normalized). `objectScale` is the body size in pixels (values scaled by 1/it);
    /// nil disables value scaling.
    mutating func apply(_ lms: [PoseLandmark], time: Int64, width W: Int, height H: Int, objectScale: Double) -> [PoseLandmark] {
        if filters.count != 3 * lms.count { start(lms.count) }
        var out = lms
        for i in out.indices { out[i].visibility = Float(visibility[i].apply(Double(lms[i].visibility), alpha: 0.1)) }
        guard objectScale >= 1e-6 else { return out }           // min_allowed_object_scale: pass through
        let scale = 1 / objectScale, w = Double(W), h = Double(H)
        for i in out.indices {
            out[i].x = Float(filters[3 * i].apply(timeNanoseconds: time, valueScale: scale, Double(lms[i].x) * w) / w)
            out[i].y = Float(filters[3 * i + 1].apply(timeNanoseconds: time, valueScale: scale, Double(lms[i].y) * h) / h)
            out[i].z = Float(filters[3 * i + 2].apply(timeNanoseconds: time, valueScale: scale, Double(lms[i].z) * w) / w)
        }
        return out
    }

    /// World landmarks (metres), no value scaling.
    mutating func apply(world: [SIMD3<Float>], time: Int64) -> [SIMD3<Float>] {
        if filters.count != 3 * world.count { start(world.count) }
        return world.indices.map { i in
            SIMD3((0..<3).map { c in Float(filters[3 * i + c].apply(timeNanoseconds: time, valueScale: 1, Double(world[i][c]))) })
        }
    }

    private mutating func start(_ n: Int) {
        filters = Array(repeating: OneEuroFilter(minCutoff: minCutoff, beta: beta, derivativeCutoff: 1), count: 3 * n)
        visibility = Array(repeating: LowPassFilter(), count: n)
    }
}

/// The body size in pixels that the smoothing measures speed in (PoseLandmarkFiltering's object scale):
/// the mean side of the alignment rect of the unfiltered auxiliary landmarks (no 1.25 margin).
func bodySize(auxiliary aux: [PoseLandmark], width W: Int, height H: Int) -> Double {
    let a = alignmentRect(SIMD2(aux[0].x, aux[0].y), SIMD2(aux[1].x, aux[1].y), width: W, height: H)
    return (Double(a.width) * Double(W) + Double(a.height) * Double(H)) / 2
}

/// BlazePose on a video, frame by frame, as mp.solutions.pose(static_image_mode=False) runs it.
public final class BlazePoseTracker {
    public let pose: BlazePose
    /// smooth_landmarks: filter the output landmarks (the tracking ROI is always filtered).
    public var smoothLandmarks: Bool
    /// The ROI the next frame is looked at in (internal: the close-up tests nudge it to measure how
    /// much the loop magnifies a tiny difference).
    var previousRoi: NormalizedRect?
    private var frame: Int64 = 0
    private var landmarkFilter = LandmarkSmoother(minCutoff: 0.05, beta: 80)
    private var worldFilter = LandmarkSmoother(minCutoff: 0.1, beta: 40)
    private var auxFilter = LandmarkSmoother(minCutoff: 0.01, beta: 10)
    /// Whether the last processed frame ran the detector (false = tracked from the previous frame).
    public private(set) var lastFrameUsedDetector = false

    public init(pose: BlazePose, smoothLandmarks: Bool = true) {
        self.pose = pose
        self.smoothLandmarks = smoothLandmarks
    }

    /// Forgets the tracked person and the filters' state.
    public func reset() {
        previousRoi = nil
        landmarkFilter.reset(); worldFilter.reset(); auxFilter.reset()
    }

    /// Whether a person is being tracked (the next frame's ROI is known).
    public var isTracking: Bool { previousRoi != nil }

    /// The region of interest the next frame will be looked at in (from the last frame's filtered
    /// auxiliary landmarks); nil when no person is tracked. Offline tracking seeds a tracker going
    /// backwards in time with it: the person is in nearly the same place one frame earlier.
    public var nextRoi: NormalizedRect? { previousRoi }

    /// Starts tracking the person in `roi` (a detection's ROI) from the next frame, forgetting the
    /// previous person: how the multi-person tracker hands a new detection to a track.
    public func start(from roi: NormalizedRect) {
        reset()
        previousRoi = roi
    }

    /// The next frame. nil = no pose in it (tracking and filters start over on the next frame).
    /// `detectWhenLost`: run the detector when no person is tracked (MediaPipe's video mode); false
    /// (the multi-person tracker, which runs the detector itself): nil.
    /// `model`: another copy of the models to run the landmark model with (several people tracked
    /// on several threads at once, each thread with its own copy); nil: `pose`.
    public func process(_ image: RGBImage, detectWhenLost: Bool = true, model: BlazePose? = nil) throws -> PoseLandmarks? {
        frame += 1
        let time = frame * 33_333_000                          // ns; 33,333 µs per frame like mp.solutions
        let roi: NormalizedRect
        if let previousRoi {
            roi = previousRoi
            lastFrameUsedDetector = false
        } else {
            guard detectWhenLost else { return nil }
            lastFrameUsedDetector = true
            guard let (_, detected) = try pose.detect(image) else { reset(); return nil }
            roi = detected
        }
        guard var out = try (model ?? pose).landmarks(in: image, roi: roi) else { reset(); return nil }
        let W = image.width, H = image.height
        let objectScale = bodySize(auxiliary: out.auxiliary, width: W, height: H)
        let aux = auxFilter.apply(out.auxiliary, time: time, width: W, height: H, objectScale: objectScale)
        previousRoi = poseRoi(fromAuxiliary: aux, imageWidth: W, imageHeight: H)
        if smoothLandmarks {
            out.landmarks = landmarkFilter.apply(out.landmarks, time: time, width: W, height: H, objectScale: objectScale)
            out.world = worldFilter.apply(world: out.world, time: time)
        }
        out.auxiliary = aux
        return out
    }
}
