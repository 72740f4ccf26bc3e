// One motion-capture job, described as a value: the input, the 2D model, the lifter, the
// post-processing and the outputs. `PosePipeline(job).run()` does it; the command line only fills
// this in from its arguments. Every field has the command line's default.
//
//   var job = PoseJob(input: .video("Samples/dance.mp4"))
//   job.outputs.motion = "dance_3d.bvh"
//   let result = try PosePipeline(job).run()

import Foundation

public struct PoseJob: Sendable {
    public enum Input: Sendable {
        /// A video file: decoded and run through the 2D model.
        case video(String)
        /// 2D keypoints from a file: the CSV `mhformer run --keypoints-2d` writes, an OpenPose JSON
        /// folder, COCO keypoint JSON or a MediaPipe landmark CSV (KeypointFiles). `format` nil:
        /// detected; `imageSize` for formats that do not store it; `layout` the body layout of
        /// OpenPose and COCO files (nil: told by the point count and the data, KeypointLayout).
        case keypointsFile(String, format: KeypointFileFormat? = nil, imageSize: (width: Int, height: Int)? = nil, layout: KeypointLayout? = nil)
        /// 2D keypoints already in memory; `name` stands for them in messages.
        case keypoints(Keypoints2D, name: String)
    }

    /// The 2D model run on a video (ignored for keypoint inputs).
    public struct Pose2D: Sendable {
        /// A name from Pose2DBackends: blazepose, vitpose, transpose.
        public var model = "blazepose"
        /// The weights of the model when it needs them (ViTPose folder, TransPose .safetensors).
        public var weights: String?
        /// The folder holding BlazePose's .tflite files; nil: searched in `PoseJob.modelFolders`.
        public var blazePoseFolder: String?
        /// Flip test of top-down models; nil: the model's default (ViTPose off, TransPose on).
        public var flipTest: Bool?
        /// Gaps without a person up to this long are interpolated; longer ones stay empty.
        public var maxGapSeconds = 0.5
        /// Where to write the models' attention maps (.npy), for models that record them (TransPose).
        public var attentionOutput: String?
        /// How many people to follow: `.count(1)` (default) is MediaPipe's one tracked person; more (or
        /// `.all`) runs PeopleTracker and PosePipeline.runPeople, one set of outputs per person.
        public var people = PeopleCount.count(1)
        /// Which people count when more are found than `people` asks for; with one person, which one
        /// offline tracking's re-detection picks when it finds several.
        public var personOrder = PersonOrder.largest
        /// One person: the frames MediaPipe's streaming tracker misses are looked at again
        /// (OfflineTracker: tracked on, re-detected in tiles and a centre crop, tracked backwards);
        /// false: its frames only, as MediaPipe gives them.
        public var offlineTracking = true
        /// Refuse a damaged video (frames that could not be decoded, decoder errors, repaired time
        /// stamps: `DecodeSummary.damage`) with an error, writing nothing; false: run on what decodes
        /// and report the damage in `PoseJobResult.decode`.
        public var strict = false
        public init() {}
    }

    public struct Lifting: Sendable {
        /// MHFormer weights; nil: the project's Models/mhformer-cmu-T*.safetensors.
        public var weights: String?
        /// Flip test-time augmentation (the official demo's; about twice the lifting time).
        public var flip = true
        /// OpenBLAS threads; nil: as configured (all cores).
        public var threads: Int?
        public init() {}
    }

    public struct PostProcessing: Sendable {
        /// One Euro smoothing of the 3D joints; nil: none.
        public var smoothing: OneEuroParameters?
        /// Refit each person to one skeleton with constant bone lengths (BVH.fit); false: raw output.
        public var rigidSkeleton = true
        /// The performer's standing height in metres: scales the skeleton (and so the world frame's root
        /// depth) to it (PerformerHeight); nil: the lifter's own scale. One person only.
        public var height: Double?
        public var coordinates = CoordinateFrame.camera
        /// The world frame with Z up instead of Y up.
        public var zUp = false
        /// Camera focal length in pixels for the world frame; nil: from `fovDegrees`.
        public var focalPx: Double?
        /// Field of view across the image's longer side, degrees.
        public var fovDegrees = 60.0
        /// Frame rate for inputs without time stamps.
        public var fps = 30.0
        /// The motion stage (zero-phase filtering, foot contacts, feet planted); `.enabled = false`
        /// gives the lifter's frames as before it.
        public var refine = RefinementSettings()
        public init() {}
    }

    public struct Outputs: Sendable {
        /// The 3D joints (.csv, .json, .trc, .bvh, .glb); nil: nothing written, the result holds them.
        public var motion: String?
        /// The format of `motion`; nil: from its extension.
        public var format: MotionFormat?
        /// Further 3D outputs, each in the format its extension names (`mhformer batch --format csv
        /// --format bvh`): the same joints as `motion`, written and committed with it.
        public var moreMotion: [String] = []
        /// The skeleton BVH and GLB files carry: bone names, parent chain and rest pose (RigPreset);
        /// h36m: the 17 joints.
        public var rig = RigPreset.h36m
        /// CSV only: 17 `<joint>_score` columns after the coordinates.
        public var scoreColumns = false
        /// CSV only: `left_foot_contact,right_foot_contact` (0/1) from the motion stage, last.
        public var contactColumns = false
        /// The 2D keypoints as the CSV `lift` reads (written only once the 3D result is good).
        public var keypoints2D: String?
        /// A video of the frames with the 2D skeleton beside the 3D one (.mp4).
        public var overlay: String?
        /// A PNG with a few frames' 3D poses in a grid.
        public var plot: String?
        /// Joint angles in degrees (JointAngles: hips, knees, shoulders, elbows, pelvis, trunk), as a
        /// CSV or an OpenSim .mot by the extension; from the world frame's vertical whatever
        /// `coordinates` says.
        public var angles: String?
        /// One HTML page to look at the capture in 3D (ViewerPage): the world frame, played at the
        /// video's times, the overlay or the video beside it. With several people, one page for all.
        public var viewer: String?
        public init() {}
    }

    public var input: Input
    public var pose2D = Pose2D()
    public var lifting = Lifting()
    public var post = PostProcessing()
    public var outputs = Outputs()
    /// Where model files are looked for when no path is given.
    public var modelFolders = ModelFolders.candidates()

    /// The folders searched, in order, for BlazePose's .tflite files: the one given, else
    /// `blazepose/` in each model folder.
    public var blazePoseFolders: [String] {
        pose2D.blazePoseFolder.map { [$0] } ?? modelFolders.map { ($0 as NSString).appendingPathComponent("blazepose") }
    }

    public init(input: Input) { self.input = input }
}

/// What a job did.
public struct PoseJobResult: Sendable {
    /// The 2D keypoints lifted (after gap filling).
    public var keypoints2D: Keypoints2D
    /// Root-relative camera-frame joints after smoothing and the skeleton fit.
    public var cameraPose: Pose3DSequence
    /// The joints in the job's coordinate frame: what was written.
    public var pose: Pose3DSequence
    /// The video's stream and what decoding met (nil for keypoint inputs).
    public var video: VideoInfo?
    /// Frames not decoded of those expected, decoder errors, repaired time stamps (`damage` in one line).
    public var decode: DecodeSummary?
    /// What was damaged in the video, e.g. "47 of 52 frames could not be decoded"; nil when intact.
    public var damage: String? { decode?.damage }
    /// Rows, rows where the 2D model found a person, and rows filled by interpolation.
    public var frames: Int
    public var detectedFrames: Int
    public var interpolatedFrames: Int
    /// Of `detectedFrames`, those offline tracking found after the streaming tracker missed them.
    public var recovery = OfflineRecovery()
    /// Contiguous runs of frames with a person (each lifted on its own) and the runs without one
    /// left between them.
    public var segments: Int
    public var gaps: Int
    /// Seconds: decoding and 2D, lifting, the whole job.
    public var seconds2D: Double
    public var secondsLift: Double
    public var secondsTotal: Double
    /// Keypoint files: frames where the detector missed some of the 17 points (confidence 0; OpenPose
    /// and COCO write 0, 0 for them), lifted from those coordinates with score 0.
    public var framesWithUndetectedPoints = 0
    /// Keypoint files: the body layout they were read as (OpenPose and COCO files; nil otherwise), and
    /// what the reader warns about (a layout whose points do not look like a body).
    public var keypointLayout: KeypointLayout?
    public var inputWarnings: [String] = []
    /// The 2D model's own summary (e.g. "ViTPose 48 ms per person"), if any.
    public var pose2DSummary: String?
    /// The lifter's weights and shape.
    public var weightsPath: String
    public var modelConfig: MHFormerConfig
    /// The files written, in order.
    public var written: [String]
}

/// Progress of a running job.
public enum PoseJobProgress: Sendable {
    /// Frames decoded and run through the 2D model; `expected` from the container when it says.
    case pose2D(done: Int, expected: Int?)
}

/// One person of a multi-person job (PosePipeline.runPeople).
public struct PersonResult: Sendable {
    /// 1, 2, ... in order of first appearance in the video.
    public var id: Int
    // No keypoints nor poses: those are in the files, and holding everyone's here would grow with
    // the video (issue 27).
    /// Frames where the tracker found this person, and gaps filled by interpolation.
    public var detectedFrames: Int
    public var interpolatedFrames: Int
    /// The video frames covered (first to last with the person) and the runs inside that without
    /// them (left empty: longer than the gap rule), as frame ranges.
    public var firstFrame: Int
    public var lastFrame: Int
    public var gaps: [ClosedRange<Int>]
    /// This person's files, in order.
    public var written: [String]
}

/// What a multi-person job did.
public struct PeopleJobResult: Sendable {
    /// The people chosen (`people`, `personOrder`), by ID.
    public var people: [PersonResult]
    /// People the tracker found in all.
    public var peopleFound: Int
    public var video: VideoInfo
    public var decode: DecodeSummary
    public var damage: String? { decode.damage }
    public var frames: Int
    public var seconds2D: Double
    public var secondsLift: Double
    public var secondsTotal: Double
    public var pose2DSummary: String?
    public var weightsPath: String
    /// Every file written (the overlay last).
    public var written: [String]
}
