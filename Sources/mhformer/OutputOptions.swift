// Options shared by `run`, `lift` and `batch`: the models, the coordinates and the post-processing
// (LiftingOptions, Pose2DOptions), and where one job's files go (FileOutputOptions: `run` and `lift`;
// `batch` names its files itself). They only fill in a PoseJob; the library does the work.

import ArgumentParser
import Foundation
import MHFormerKit

struct LiftingOptions: ParsableArguments {
    @Option(name: .long, help: "MHFormer weights (.safetensors). Default: the project's Models/mhformer-cmu-T*.safetensors.")
    var weights: String?

    @Option(name: .long, help: "camera: root-relative camera frame (x right, y down, z forward); world: the scene, with the root's trajectory, Y up, the ground at 0; demo: the official MHFormer demo's upright frame (root-relative, z up). Default: camera; world for a .glb output.")
    var coords: String?

    @Option(name: .long, help: "The skeleton of .bvh and .glb outputs: h36m (the 17 joints, default), mixamo (mixamorig:Hips, Spine..., T-pose), unreal (UE mannequin: root, pelvis, spine_01..., A-pose) or rigify (Blender's metarig: spine, spine.001..., T-pose). Extra spine joints, clavicles and feet are placed from the 17 joints (docs/rigs.md).")
    var rig: String = "h36m"

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

    @Option(name: .long, help: "The performer's standing height in metres (e.g. 1.72): fixes the skeleton's size and so its distance from the camera in the world frame. Default: the model's own estimate of an average body. One person only.")
    var height: Double?

    @Option(name: .long, help: "Frame rate for inputs without time stamps (JSON/TRC/BVH metadata, smoothing).")
    var fps: Double = 30

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Refit the joints to a rigid skeleton (on by default): constant bone lengths, each the median over the frames where both of its joints have a 2D score >= 0.5; exactly what a BVH export encodes. --no-rigid-skeleton --no-refine writes the model's raw output.")
    var rigidSkeleton = true

    @Flag(name: .long, help: "CSV output only: add 17 columns <joint>_score after the coordinates, the 2D detector's per-joint score (0..1) that the lifter received.")
    var scores = false

    @Flag(name: .long, help: "CSV output only: add the columns left_foot_contact,right_foot_contact (1: the foot is planted on the ground), from the motion stage. The JSON output always has them.")
    var contacts = false

    @Flag(name: .long, help: "Turn off the motion stage (on by default): the zero-phase filtering of the joints and the root's path, the foot contacts and the planting of the feet. Gives the lifter's frames as before it.")
    var noRefine = false

    @Flag(name: .long, help: "Motion stage: do not plant the feet in contact nor keep the feet above the ground (the filtering and the contacts stay).")
    var noFootLock = false

    @Flag(name: .long, help: "Smooth the 3D joints with a One Euro filter (off by default; causal, so it lags: the motion stage needs none).")
    var smooth = false

    @Option(name: .long, help: "One Euro filter: cut-off frequency at rest, Hz (lower = smoother).")
    var smoothMinCutoff: Double = 1.0

    @Option(name: .long, help: "One Euro filter: speed coefficient (higher = less lag in fast motion).")
    var smoothBeta: Double = 0.5

    /// Fills the job's lifting and post-processing settings from these options (the checks of their
    /// values are PosePipeline.validate's, so library users get the same).
    func apply(to job: inout PoseJob) throws {
        guard let frame = CoordinateFrame(rawValue: coords ?? "camera") else {
            throw MHFormerError("--coords: unknown value '\(coords!)' (camera, world or demo)")
        }
        guard let preset = RigPreset(rawValue: rig.lowercased()) else {
            throw MHFormerError("--rig: unknown preset '\(rig)' (\(RigPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        job.outputs.rig = preset
        job.lifting.weights = weights
        job.lifting.flip = !noFlip
        job.lifting.threads = threads
        job.post.coordinates = frame
        job.post.zUp = zUp
        job.post.focalPx = focalPx
        job.post.fovDegrees = fovDeg
        job.post.fps = fps
        job.post.rigidSkeleton = rigidSkeleton
        job.post.height = height
        job.post.smoothing = smooth ? OneEuroParameters(minCutoff: smoothMinCutoff, beta: smoothBeta) : nil
        job.post.refine.enabled = !noRefine
        job.post.refine.footLock = !noFootLock
        job.outputs.scoreColumns = scores
        job.outputs.contactColumns = contacts
        job.modelFolders = ModelFolders.candidates(executable: CommandLine.arguments[0])
    }

    /// A character animation (.glb) is written in the world frame unless --coords says otherwise:
    /// standing on the ground and walking through the scene, as glTF viewers and game engines expect.
    /// (BVH keeps the camera frame by default, as before.) Call after the outputs are set.
    func applyDefaultCoordinates(to job: inout PoseJob) {
        guard coords == nil, let motion = job.outputs.motion, (job.outputs.format ?? MotionFormat(path: motion)) == .glb else { return }
        job.post.coordinates = .world
    }
}

/// One job's extra files and the motion file's format (`run`, `lift`).
struct FileOutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format (csv, json, trc, bvh, glb); default: from the output file's extension.")
    var format: String?

    @Option(name: .long, help: "Also write a video to check the result by eye: the frames with the 2D skeleton beside the 3D skeleton (.mp4).")
    var overlay: String?

    @Option(name: .long, help: "Also write a PNG with a few frames' 3D poses in a grid.")
    var plot: String?

    @Option(name: .long, help: "Also write the joint angles in degrees, per frame: pelvis and trunk tilt, obliquity/bending and rotation, hip and shoulder flexion and abduction, knee and elbow flexion (no ankles: the 17 joints have no foot). .csv (frame,time_s,<angle>...) or .mot (OpenSim's motion file); the conventions are in docs/joint-angles.md. The vertical is the world frame's whatever --coords says.")
    var angles: String?

    @Option(name: .long, help: "Also write one HTML page to look at the capture in 3D: turn it with the mouse, play it at the video's times, scrub frames; the overlay (or the video) beside it. Opens from disk in a browser; needs three.js (apt-get install -y libjs-three).")
    var viewer: String?

    func apply(to job: inout PoseJob, output: String) throws {
        if let format { job.outputs.format = try parseMotionFormat(format) }
        job.outputs.motion = output
        job.outputs.overlay = overlay
        job.outputs.plot = plot
        job.outputs.angles = angles
        job.outputs.viewer = viewer
    }
}

func parseMotionFormat(_ text: String) throws -> MotionFormat {
    guard let f = MotionFormat(rawValue: text.lowercased()) else {
        throw MHFormerError("--format: unknown format '\(text)' (csv, json, trc, bvh or glb)")
    }
    return f
}

/// The 2D model of a video (`run`, `batch`).
struct Pose2DOptions: ParsableArguments {
    @Option(name: .long, help: "Folder with BlazePose's pose_detection.tflite and pose_landmark_full.tflite (default: Models/blazepose; bash Scripts/setup/fetch-blazepose.sh gets them).")
    var pose2dModels: String?

    @Option(name: .long, help: "2D keypoints: \(Pose2DBackends.names.joined(separator: ", ")). blazepose (default); vitpose or transpose: BlazePose finds the person, the other model places the joints (needs --pose2d-weights).")
    var pose2d: String = "blazepose"

    @Option(name: .long, help: "vitpose: model folder with config.json + model.safetensors as Hugging Face transformers saves them (e.g. usyd-community/vitpose-base-simple); transpose: a .safetensors converted by Scripts/convert/convert-transpose.py.")
    var pose2dWeights: String?

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Flip test of the 2D model placing the joints: also run the mirrored crop and average (twice the 2D time). Default: off for vitpose, on for transpose (as its reference runs).")
    var pose2dFlip: Bool?

    @Option(name: .long, help: "Longest gap without a person (seconds) that is interpolated; with several people also the longest occlusion or exit through which a person keeps their ID.")
    var maxGap: Double = 0.5

    @Option(name: .long, help: "How many people to follow: a number or all. 1 (default): the one person BlazePose tracks, as MediaPipe does. More: everyone is tracked with an ID (1, 2, ... in order of appearance) and each output path gets the ID before its extension (OUT.p1.csv, OUT.p2.csv); one overlay video shows everyone.")
    var people: String = "1"

    @Option(name: .long, help: "Which people count when more are found than --people: largest (biggest on screen, default), first (first to appear) or center (closest to the image centre). With one person: whom re-detection picks when it finds several (first: the detector's most confident).")
    var personOrder: String = "largest"

    @Flag(name: .long, help: "One person: only the frames MediaPipe's streaming tracker finds, as it gives them. By default the frames it misses are looked at again: tracked on from the last frame with the person, re-detected in tiles and an enlarged centre crop, and tracked backwards from the next frame with the person.")
    var noOfflineTracking = false

    @Flag(name: .long, help: "Refuse a damaged video: frames that could not be decoded, decoder errors or repaired time stamps end the run with an error, and nothing is written.")
    var strict = false

    func apply(to job: inout PoseJob) throws {
        guard let count = PeopleCount(people) else { throw MHFormerError("--people \(people): expected a number from 1 or all") }
        guard let order = PersonOrder(rawValue: personOrder) else {
            throw MHFormerError("--person-order \(personOrder): expected largest, first or center")
        }
        job.pose2D.people = count
        job.pose2D.personOrder = order
        job.pose2D.offlineTracking = !noOfflineTracking
        job.pose2D.model = pose2d
        job.pose2D.weights = pose2dWeights
        job.pose2D.blazePoseFolder = pose2dModels
        job.pose2D.flipTest = pose2dFlip
        job.pose2D.maxGapSeconds = maxGap
        job.pose2D.strict = strict
    }
}
