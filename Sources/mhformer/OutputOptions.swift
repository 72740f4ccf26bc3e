// Options shared by `run` and `lift`: the model, where the 3D joints go and in which form.

import ArgumentParser
import Foundation
import MHFormerKit

struct LiftingOptions: ParsableArguments {
    @Option(name: .long, help: "MHFormer weights (.safetensors). Default: the project's Models/mhformer-cmu-T*.safetensors.")
    var weights: String?

    @Option(name: .long, help: "camera: root-relative camera frame (x right, y down, z forward); world: the scene, with the root's trajectory, Y up, the ground at 0; demo: the official MHFormer demo's upright frame (root-relative, z up).")
    var coords: String = "camera"

    @Flag(name: .long, help: "World frame with Z up (X right, Y away from the camera) instead of Y up.")
    var zUp = false

    @Option(name: .long, help: "Camera focal length in pixels, for the world frame's root trajectory.")
    var focalPx: Double?

    @Option(name: .long, help: "Camera field of view across the image's longer side, degrees (used when --focal-px is not given).")
    var fovDeg: Double = 60

    @Flag(name: .long, help: "Turn off flip test-time augmentation (faster, less accurate).")
    var noFlip = false

    @Option(name: .long, help: "OpenBLAS threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Output format (csv, json, trc, bvh); default: from the output file's extension.")
    var format: String?

    @Option(name: .long, help: "Frame rate for inputs without time stamps (JSON/TRC/BVH metadata, smoothing).")
    var fps: Double = 30

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Refit the joints to a rigid skeleton (on by default): constant bone lengths, each the median over the frames where both of its joints have a 2D score >= 0.5; exactly what a BVH export encodes. --no-rigid-skeleton writes the model's raw output.")
    var rigidSkeleton = true

    @Flag(name: .long, help: "CSV output only: add 17 columns <joint>_score after the coordinates, the 2D detector's per-joint score (0..1) that the lifter received.")
    var scores = false

    @Option(name: .long, help: "Also write a video to check the result by eye: the frames with the 2D skeleton beside the 3D skeleton (.mp4).")
    var overlay: String?

    @Option(name: .long, help: "Also write a PNG with a few frames' 3D poses in a grid.")
    var plot: String?

    @Flag(name: .long, help: "Smooth the 3D joints with a One Euro filter (off by default).")
    var smooth = false

    @Option(name: .long, help: "One Euro filter: cut-off frequency at rest, Hz (lower = smoother).")
    var smoothMinCutoff: Double = 1.0

    @Option(name: .long, help: "One Euro filter: speed coefficient (higher = less lag in fast motion).")
    var smoothBeta: Double = 0.5

    /// Checks the options that do not need any file; returns the coordinate frame and output format.
    func validated(output: String) throws -> (CoordinateFrame, MotionFormat) {
        guard let frame = CoordinateFrame(rawValue: coords) else {
            throw MHFormerError("--coords: unknown value '\(coords)' (camera, world or demo)")
        }
        let outputFormat: MotionFormat
        if let format {
            guard let f = MotionFormat(rawValue: format.lowercased()) else {
                throw MHFormerError("--format: unknown format '\(format)' (csv, json, trc or bvh)")
            }
            outputFormat = f
        } else {
            guard let f = MotionFormat(path: output) else {
                throw MHFormerError("\(output): unknown output extension (use .csv, .json, .trc or .bvh, or --format)")
            }
            outputFormat = f
        }
        if scores, outputFormat != .csv {
            throw MHFormerError("--scores adds columns to the CSV output only, not to \(outputFormat.rawValue) (the JSON output always has the scores)")
        }
        guard fps > 0, fps.isFinite else { throw MHFormerError("--fps must be positive") }
        guard fovDeg > 1, fovDeg < 179 else { throw MHFormerError("--fov-deg must be between 1 and 179") }
        if let focalPx { guard focalPx > 0, focalPx.isFinite else { throw MHFormerError("--focal-px must be positive") } }
        if let threads { setBLASThreads(threads) }
        return (frame, outputFormat)
    }

    func loadModel() throws -> (MHFormerModel, String) {
        guard let path = weights ?? DefaultWeights.find() else {
            throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
        }
        return (try MHFormerModel(path: path), path)
    }

    /// Refuses, before any work starts, an output path that is one of the inputs (the 2D keypoints or
    /// video, the weights) or another output of the same run, through symlinks and hard links: outputs
    /// are renamed into place, so the input would be replaced by the result without a word.
    func checkOutputPaths(outputs: [(option: String, path: String?)], inputs: [(option: String, path: String?)]) throws {
        try OutputPaths.checkDistinct(outputs: outputs + [("--plot", plot), ("--overlay", overlay)],
                                      inputs: inputs + [("--weights", weights ?? DefaultWeights.find())])
    }

    /// Lifts, post-processes and writes the 3D joints of `kp` (and the overlay video and plot when
    /// asked; `video` is the source for the overlay; `keypoints2D` also gets the 2D keypoints, written
    /// only once the 3D result is known to be good). Returns the lifting time in seconds.
    func liftAndWrite(_ kp: Keypoints2D, model: MHFormerModel, weightsPath: String, frame: CoordinateFrame, format: MotionFormat,
                      output: String, video: String? = nil, keypoints2D: String? = nil) throws -> Double {
        let start = Date()
        var pose = Lifter(model: model).lift(kp, flip: !noFlip)
        let seconds = Date().timeIntervalSince(start)
        // Checked before the post-processing: NaN from the model (e.g. weights holding NaN) would
        // otherwise run through the skeleton fit and be written out as "nan" with exit status 0.
        if let bad = firstNonFiniteFrame(pose) {
            throw MHFormerError("\(weightsPath): the model's 3D output is not finite (NaN or infinite) at frame \(bad); corrupt weights? Nothing written")
        }
        let rate = MotionWriter.frameRate(times: kp.times, fallback: fps)
        if smooth {
            pose = smoothed(pose, fps: rate, parameters: OneEuroParameters(minCutoff: smoothMinCutoff, beta: smoothBeta))
        }
        if rigidSkeleton {
            pose.joints = BVH.fit(positions: pose.joints.map(Double.init), present: pose.present, scores: kp.scores).positions.map(Float.init)
        }
        var written = pose
        switch frame {
        case .camera: break
        case .demo: written.joints = Lifter.cameraToWorld(pose.joints)
        case .world:
            let camera = PinholeCamera.assumed(width: kp.width, height: kp.height, fovDegrees: fovDeg, focalPx: focalPx)
            written.joints = WorldMotion.make(keypoints: kp, cameraPose: pose, camera: camera, zUp: zUp, fps: rate).joints
        }
        // And again on what is written: the world frame's trajectory fit divides by fitted quantities.
        if let bad = firstNonFiniteFrame(written) {
            throw MHFormerError("\(output): the \(frame.rawValue)-frame 3D joints are not finite (NaN or infinite) at frame \(bad); nothing written")
        }
        if let keypoints2D { try Keypoints2DCSV.write(kp, to: keypoints2D) }
        try writeMotion(written, scores: kp.scores, scoreColumns: scores, coordinates: frame, zUp: zUp, fps: rate, format: format, to: output)
        if let plot {
            let grid = SkeletonDrawing.plotGrid(pose)
            try PNGWriter.write(rgb: grid.pixels, width: grid.width, height: grid.height, to: plot)
        }
        if let overlay {
            try OverlayVideo.render(video: video, keypoints: kp, cameraPose: pose, fps: rate, to: overlay)
        }
        return seconds
    }
}

/// The frame number of the first frame with a person whose joints hold NaN or an infinity, or nil.
/// (Frames without a person are not written as numbers, so their contents do not matter.)
func firstNonFiniteFrame(_ pose: Pose3DSequence) -> Int? {
    for i in pose.present.indices where pose.present[i] {
        if pose.joints[(i * 51)..<((i + 1) * 51)].contains(where: { !$0.isFinite }) { return pose.frames[i] }
    }
    return nil
}

/// One Euro smoothing of each contiguous run of frames with a person.
func smoothed(_ pose: Pose3DSequence, fps: Double, parameters: OneEuroParameters) -> Pose3DSequence {
    var out = pose
    let times = pose.times.enumerated().map { $0.element ?? Double(pose.frames[$0.offset]) / fps }
    for seg in runsOfTrue(pose.present) {
        let x = Array(pose.joints[(seg.lowerBound * 51)..<(seg.upperBound * 51)])
        let y = OneEuroFilter.filter(x, channels: 51, times: Array(times[seg]), parameters: parameters)
        out.joints.replaceSubrange((seg.lowerBound * 51)..<(seg.upperBound * 51), with: y)
    }
    return out
}

/// Writes in the chosen format; TRC and BVH are converted to Y-up axes.
func writeMotion(_ pose: Pose3DSequence, scores: [Float]?, scoreColumns: Bool = false, coordinates: CoordinateFrame, zUp: Bool,
                 fps: Double, format: MotionFormat, to path: String) throws {
    var pose = pose
    var axes: String
    switch coordinates {
    case .camera: axes = "x right, y down, z away from the camera"
    case .world: axes = zUp ? "x right (level), y away from the camera, z up" : "x right (level), y up, z towards the camera"
    case .demo: axes = "x, y horizontal, z up (the official MHFormer demo's frame)"
    }
    let isZUp = coordinates == .demo || (coordinates == .world && zUp)
    if format == .trc || format == .bvh, coordinates == .camera || isZUp {
        for k in stride(from: 0, to: pose.joints.count, by: 3) {
            let (y, z) = (pose.joints[k + 1], pose.joints[k + 2])
            // camera (y down, z forward) → (x, -y, -z); z-up frames → (x, z, -y): both Y up, right-handed
            if coordinates == .camera { pose.joints[k + 1] = -y; pose.joints[k + 2] = -z }
            else { pose.joints[k + 1] = z; pose.joints[k + 2] = -y }
        }
        axes = "Y up"
    }
    let description = MotionDescription(coordinates: coordinates.rawValue, axes: axes, rootRelative: coordinates != .world, fps: fps)
    try MotionWriter.write(pose, scores: scores, description: description, format: format, scoreColumns: scoreColumns, to: path)
}
