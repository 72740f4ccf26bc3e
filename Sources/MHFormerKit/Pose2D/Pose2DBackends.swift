// The 2D models `--pose2d NAME` can choose, by name. The one table to extend when a model is added.

import Foundation

/// What building a 2D model may need.
public struct Pose2DModelOptions: Sendable {
    /// Folders searched, in order, for BlazePose's two .tflite files (every backend uses BlazePose to
    /// find the person).
    public var blazePoseFolders: [String]
    /// The weights of a second model (a ViTPose folder, a TransPose .safetensors).
    public var weights: String?
    /// Run the mirrored crop too and average (top-down models); nil: the model's default.
    public var flipTest: Bool?
    /// Keep per-frame attention maps (models that have them: TransPose).
    public var keepAttention: Bool

    func requireWeights(_ backend: String) throws -> String {
        guard let weights else { throw MHFormerError("--pose2d \(backend) needs --pose2d-weights") }
        return weights
    }

    public init(blazePoseFolders: [String], weights: String? = nil, flipTest: Bool? = nil, keepAttention: Bool = false) {
        self.blazePoseFolders = blazePoseFolders; self.weights = weights; self.flipTest = flipTest; self.keepAttention = keepAttention
    }
}

/// A model that records attention maps per frame and can write them (TransPose).
public protocol AttentionRecorder: AnyObject {
    /// (frames, 17, h, w) float32 .npy, one entry per frame number of `frames`.
    func writeAttention(frames: [Int], to path: String) throws
}

public enum Pose2DBackends {
    public struct Backend: Sendable {
        public var name: String
        /// Needs `weights`, described for the error message when they are missing.
        public var weightsHelp: String?
        /// Whether the model runs a flip test when not told (nil: it has none to run).
        public var flipTestDefault: Bool?
        /// Whether it records attention maps (AttentionRecorder).
        public var recordsAttention = false
        /// The model that places the joints in BlazePose's person box; nil: BlazePose's own landmarks.
        public var topDown: (@Sendable (Pose2DModelOptions) throws -> TopDownPoseModel)?

        /// One person, as MediaPipe tracks them.
        public func make(_ o: Pose2DModelOptions) throws -> PoseEstimator2D {
            let finder = try BlazePoseEstimator(searching: o.blazePoseFolders)
            guard let topDown else { return finder }
            return TopDownEstimator(finder: finder, model: try topDown(o), flipTest: o.flipTest ?? flipTestDefault ?? false)
        }

        /// Everyone, each with an identity (PeopleTracker).
        /// `workers`: threads tracking people side by side (each with its own copy of BlazePose).
        public func makePeople(_ o: Pose2DModelOptions, tracking: PeopleTracker.Options, workers: Int = 1) throws -> PeopleEstimator {
            let folder = try BlazePoseEstimator.modelFolder(searching: o.blazePoseFolders)
            let copies = try (0..<max(1, workers)).map { _ in try BlazePose(modelDirectory: folder) }
            return PeopleEstimator(tracker: PeopleTracker(pose: copies[0], options: tracking, workers: Array(copies.dropFirst())), model: try topDown?(o),
                                   flipTest: o.flipTest ?? flipTestDefault ?? false)
        }
    }

    public static let all: [Backend] = [
        Backend(name: "blazepose", weightsHelp: nil, flipTestDefault: nil, topDown: nil),
        // ViTPose's flip test doubles its time for a small gain: off unless asked for.
        Backend(name: "vitpose", weightsHelp: "FOLDER (config.json + model.safetensors, see docs/models.md: ViTPose backend)",
                flipTestDefault: false) { o in
            try ViTPose(directory: try o.requireWeights("vitpose"))
        },
        // TransPose's reference (its official inference) always flip-tests: on unless turned off.
        Backend(name: "transpose", weightsHelp: "FILE.safetensors (see docs/models.md: TransPose)", flipTestDefault: true,
                recordsAttention: true) { o in
            TransPoseVideoEstimator(model: try TransPoseModel(path: try o.requireWeights("transpose")), keepAttention: o.keepAttention)
        },
    ]

    public static var names: [String] { all.map(\.name) }

    public static func backend(named name: String) throws -> Backend {
        guard let b = all.first(where: { $0.name == name }) else {
            throw MHFormerError("--pose2d \(name): unknown 2D model (\(names.dropLast().joined(separator: ", ")) or \(names.last!))")
        }
        return b
    }
}
