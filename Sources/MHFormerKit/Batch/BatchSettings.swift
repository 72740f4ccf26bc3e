// Everything about a batch that decides its outputs, as one value: the 2D model, the lifter and its
// weights (path and SHA-256), the post-processing and which files each video gets. It is stored in
// every video's record; a later batch with other settings runs the video again. The CPU threads are
// not part of it (they change the timing, not what the tool is asked to do).

import Foundation

public struct BatchSettings: Codable, Equatable, Sendable {
    // 2D (PoseJob.Pose2D).
    public var pose2dModel = "blazepose"
    /// Absolute path of the second 2D model's weights (vitpose, transpose) and the SHA-256 of the file
    /// (of model.safetensors for a ViTPose folder).
    public var pose2dWeights: String?
    public var pose2dWeightsSha256: String?
    /// The folder BlazePose's .tflite files were found in (absolute).
    public var blazePoseFolder = ""
    public var pose2dFlip: Bool?
    public var maxGapSeconds = 0.5
    public var strict = false
    /// PeopleCount as the command line writes it ("1", "3", "all") and PersonOrder's name.
    public var people = "1"
    public var personOrder = PersonOrder.largest.rawValue
    public var offlineTracking = true
    // Lifting (PoseJob.Lifting).
    public var weights = ""
    public var weightsSha256 = ""
    public var flip = true
    // Post-processing (PoseJob.PostProcessing).
    public var smoothingMinCutoff: Double?
    public var smoothingBeta: Double?
    public var rigidSkeleton = true
    /// The performer's standing height (metres), the same for every video; nil: none given.
    public var height: Double?
    public var coordinates = CoordinateFrame.camera.rawValue
    public var zUp = false
    public var focalPx: Double?
    public var fovDegrees = 60.0
    public var fps = 30.0
    /// The motion stage's settings, as one value (PoseJob.post.refine).
    public var refine = RefinementSettings()
    // What each video gets (BatchOutputs).
    /// Motion formats, one file each; csv first when present (only the CSV takes --scores).
    public var formats: [String] = ["csv"]
    public var scoreColumns = false
    public var contactColumns = false
    public var keypoints2d = false
    public var overlay = false
    public var plot = false
    public var viewer = false
    /// Each video's joint angles (NAME.angles.csv): true, or nil for none. Optional so that records
    /// written before the option existed still read, and a batch without it still matches them.
    public var angles: Bool?
    /// The rig preset of BVH and GLB files (RigPreset's name), nil for h36m: optional for the same reason.
    public var rig: String?

    /// The settings of `template` (a job with every option filled in but the input and output paths)
    /// with the defaults resolved to concrete files and hashed: the lifter's weights from
    /// `template.modelFolders`, BlazePose's folder likewise.
    public init(template: PoseJob, formats: [MotionFormat], keypoints2D: Bool, overlay: Bool, plot: Bool, viewer: Bool = false,
                angles: Bool = false) throws {
        let p = template.pose2D
        pose2dModel = p.model
        blazePoseFolder = BatchSettings.absolute(try BlazePoseEstimator.modelFolder(searching: template.blazePoseFolders))
        if let w = p.weights {
            pose2dWeights = BatchSettings.absolute(w)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: w, isDirectory: &isFolder) else { throw MHFormerError("\(w): no such file (--pose2d-weights)") }
            let file = isFolder.boolValue ? (w as NSString).appendingPathComponent("model.safetensors") : w
            pose2dWeightsSha256 = FileManager.default.fileExists(atPath: file) ? try FileFingerprint.sha256(file) : nil
        }
        pose2dFlip = p.flipTest
        maxGapSeconds = p.maxGapSeconds
        strict = p.strict
        switch p.people { case .all: people = "all"; case .count(let n): people = String(n) }
        personOrder = p.personOrder.rawValue
        offlineTracking = p.offlineTracking
        guard let lifter = template.lifting.weights ?? DefaultWeights.find(in: template.modelFolders) else {
            throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
        }
        guard FileManager.default.fileExists(atPath: lifter) else { throw MHFormerError("\(lifter): no such file (--weights)") }
        weights = BatchSettings.absolute(lifter)
        weightsSha256 = try FileFingerprint.sha256(lifter)
        flip = template.lifting.flip
        let post = template.post
        smoothingMinCutoff = post.smoothing?.minCutoff
        smoothingBeta = post.smoothing?.beta
        rigidSkeleton = post.rigidSkeleton
        height = post.height
        coordinates = post.coordinates.rawValue
        zUp = post.zUp
        focalPx = post.focalPx
        fovDegrees = post.fovDegrees
        fps = post.fps
        refine = post.refine
        var unique: [MotionFormat] = []
        for f in formats where !unique.contains(f) { unique.append(f) }
        if unique.isEmpty { unique = [.csv] }
        if let csv = unique.firstIndex(of: .csv) { unique.insert(unique.remove(at: csv), at: 0) }
        self.formats = unique.map(\.rawValue)
        scoreColumns = template.outputs.scoreColumns
        contactColumns = template.outputs.contactColumns
        self.keypoints2d = keypoints2D
        self.overlay = overlay
        self.plot = plot
        self.viewer = viewer
        self.angles = angles ? true : nil
        self.rig = template.outputs.rig == .h36m ? nil : template.outputs.rig.rawValue
        if template.outputs.rig != .h36m && !unique.contains(where: \.isRig) {
            throw MHFormerError("--rig \(template.outputs.rig.rawValue) names the skeleton of the bvh or glb files: add --format bvh or --format glb")
        }
        if scoreColumns && !unique.contains(.csv) {
            throw MHFormerError("--scores adds columns to the CSV output only: add --format csv")
        }
        if contactColumns && !unique.contains(.csv) {
            throw MHFormerError("--contacts adds columns to the CSV output only: add --format csv")
        }
    }

    /// The job for one video of the batch.
    public func job(video: String, outputs: BatchOutputs, threads: Int?) -> PoseJob {
        var job = PoseJob(input: .video(video))
        job.pose2D.model = pose2dModel
        job.pose2D.weights = pose2dWeights
        job.pose2D.blazePoseFolder = blazePoseFolder
        job.pose2D.flipTest = pose2dFlip
        job.pose2D.maxGapSeconds = maxGapSeconds
        job.pose2D.strict = strict
        job.pose2D.people = PeopleCount(people) ?? .count(1)
        job.pose2D.personOrder = PersonOrder(rawValue: personOrder) ?? .largest
        job.pose2D.offlineTracking = offlineTracking
        job.lifting.weights = weights
        job.lifting.flip = flip
        job.lifting.threads = threads
        if let minCutoff = smoothingMinCutoff, let beta = smoothingBeta {
            job.post.smoothing = OneEuroParameters(minCutoff: minCutoff, beta: beta)
        }
        job.post.rigidSkeleton = rigidSkeleton
        job.post.height = height
        job.post.coordinates = CoordinateFrame(rawValue: coordinates) ?? .camera
        job.post.zUp = zUp
        job.post.focalPx = focalPx
        job.post.fovDegrees = fovDegrees
        job.post.fps = fps
        job.post.refine = refine
        job.outputs.motion = outputs.motion.first
        job.outputs.moreMotion = Array(outputs.motion.dropFirst())
        job.outputs.scoreColumns = scoreColumns
        job.outputs.contactColumns = contactColumns
        job.outputs.keypoints2D = outputs.keypoints2d
        job.outputs.overlay = outputs.overlay
        job.outputs.plot = outputs.plot
        job.outputs.viewer = outputs.viewer
        job.outputs.angles = outputs.angles
        job.outputs.rig = rig.flatMap(RigPreset.init(rawValue:)) ?? .h36m
        return job
    }

    /// Whether runs with `other` make the same outputs: equal but for where the model files lie (the
    /// weights are compared by their SHA-256), so moving the models or running on another machine
    /// that has them elsewhere does not redo a batch.
    public func makesSameOutputs(as other: BatchSettings) -> Bool {
        var a = self, b = other
        a.weights = ""; b.weights = ""
        a.blazePoseFolder = ""; b.blazePoseFolder = ""
        a.pose2dWeights = nil; b.pose2dWeights = nil
        return a == b
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
