// The `mhformer` command line: subcommands over MHFormerKit.

import ArgumentParser
import Foundation
import MHFormerKit

struct MHFormerCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mhformer",
        abstract: "Markerless motion capture: 3D positions of 17 body joints from video or 2D keypoints.",
        subcommands: [Lift.self, DecodeVideo.self])
}

/// Prints "error: <message>" on one line and exits with status 1 (no stack trace, no partial output).
func fail(_ error: Error) -> ExitCode {
    let message = (error as? MHFormerError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
}

struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift 2D keypoints (CSV) to 3D joints (CSV) with MHFormer.",
        discussion: """
        Input: a CSV with columns frame, width, height, <joint>_x, <joint>_y for the 17 Human3.6M joints
        (\(Skeleton.jointNames.joined(separator: ", "))), optional time_s and <joint>_score.
        Output: frame, time_s, <joint>_x, <joint>_y, <joint>_z in metres.
        """)

    @Option(name: .long, help: "2D keypoints CSV.")
    var keypoints: String

    @Option(name: .long, help: "MHFormer weights (.safetensors). Default: the project's Models/mhformer-cmu-T*.safetensors.")
    var weights: String?

    @Option(name: [.short, .long], help: "3D output file: .csv, .json, .trc (OpenSim markers, Y up) or .bvh (skeleton with rotations, Y up).")
    var output: String

    @Option(name: .long, help: "Output format (csv, json, trc, bvh); default: from the output file's extension.")
    var format: String?

    @Option(name: .long, help: "Frame rate for files without time_s (JSON/TRC metadata, smoothing).")
    var fps: Double = 30

    @Flag(name: .long, help: "Refit the joints to a rigid skeleton (constant bone lengths), exactly what a BVH export encodes.")
    var rigidSkeleton = false

    @Flag(name: .long, help: "Smooth the 3D joints with a One Euro filter (off by default).")
    var smooth = false

    @Option(name: .long, help: "One Euro filter: cut-off frequency at rest, Hz (lower = smoother).")
    var smoothMinCutoff: Double = 1.0

    @Option(name: .long, help: "One Euro filter: speed coefficient (higher = less lag in fast motion).")
    var smoothBeta: Double = 0.5

    @Option(name: .long, help: "camera: root-relative camera frame (x right, y down, z forward); world: the official demo's upright frame, lowest joint at z = 0.")
    var coords: String = "camera"

    @Flag(name: .long, help: "Turn off flip test-time augmentation (faster, less accurate).")
    var noFlip = false

    @Option(name: .long, help: "OpenBLAS threads (default: all cores).")
    var threads: Int?

    func run() throws {
        do {
            guard let frame = CoordinateFrame(rawValue: coords) else {
                throw MHFormerError("--coords: unknown value '\(coords)' (camera or world)")
            }
            if let threads { setBLASThreads(threads) }
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
            guard fps > 0, fps.isFinite else { throw MHFormerError("--fps must be positive") }
            let kp = try Keypoints2DCSV.read(path: keypoints)
            guard let weightsPath = weights ?? DefaultWeights.find() else {
                throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
            }
            let model = try MHFormerModel(path: weightsPath)
            let lifter = Lifter(model: model)
            let start = Date()
            var pose = lifter.lift(kp, coordinates: frame, flip: !noFlip)
            let rate = MotionWriter.frameRate(times: kp.times, fallback: fps)
            if smooth {
                pose = smoothed(pose, fps: rate, parameters: OneEuroParameters(minCutoff: smoothMinCutoff, beta: smoothBeta))
            }
            if rigidSkeleton {
                pose.joints = BVH.fit(positions: pose.joints.map(Double.init), present: pose.present).positions.map(Float.init)
            }
            try writeMotion(pose, scores: kp.scores, coordinates: frame, fps: rate, format: outputFormat, to: output)
            let c = model.config
            let withPerson = kp.present.filter { $0 }.count
            let seconds = Date().timeIntervalSince(start)
            FileHandle.standardError.write(Data(String(
                format: "lifted %d frames (%d with a person) in %.2f s (%.1f frames/s), MHFormer T=%d C=%d from %@ -> %@\n",
                kp.count, withPerson, seconds, Double(withPerson) / max(seconds, 1e-9), c.frames, c.channel,
                (weightsPath as NSString).lastPathComponent, output).utf8))
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }
}

/// One Euro smoothing of each contiguous run of frames with a person.
func smoothed(_ pose: Pose3DSequence, fps: Double, parameters: OneEuroParameters) -> Pose3DSequence {
    var out = pose
    let times = pose.times.enumerated().map { $0.element ?? Double(pose.frames[$0.offset]) / fps }
    let kp = Keypoints2D(frames: pose.frames, times: pose.times, width: 1, height: 1, points: [], present: pose.present)
    for seg in kp.segments {
        let x = Array(pose.joints[(seg.lowerBound * 51)..<(seg.upperBound * 51)])
        let y = OneEuroFilter.filter(x, channels: 51, times: Array(times[seg]), parameters: parameters)
        out.joints.replaceSubrange((seg.lowerBound * 51)..<(seg.upperBound * 51), with: y)
    }
    return out
}

/// Writes in the chosen format; TRC and BVH are converted to Y-up axes.
func writeMotion(_ pose: Pose3DSequence, scores: [Float]?, coordinates: CoordinateFrame, fps: Double,
                 format: MotionFormat, to path: String) throws {
    var pose = pose
    var axes = coordinates == .camera ? "x right, y down, z away from the camera" : "x, y horizontal, z up (the official demo's frame)"
    if format == .trc || format == .bvh {
        for k in stride(from: 0, to: pose.joints.count, by: 3) {
            let (y, z) = (pose.joints[k + 1], pose.joints[k + 2])
            // camera (y down, z forward) → (x, -y, -z); demo world (z up) → (x, z, -y): both Y up, right-handed
            if coordinates == .camera { pose.joints[k + 1] = -y; pose.joints[k + 2] = -z }
            else { pose.joints[k + 1] = z; pose.joints[k + 2] = -y }
        }
        axes = "Y up"
    }
    let description = MotionDescription(coordinates: coordinates.rawValue, axes: axes, rootRelative: true, fps: fps)
    try MotionWriter.write(pose, scores: scores, description: description, format: format, to: path)
}

MHFormerCLI.main()
