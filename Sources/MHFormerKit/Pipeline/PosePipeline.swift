// The whole job, in the library: input → 2D keypoints → MHFormer → post-processing → files.
//
//   video ──decode + PoseEstimator2D──▶ Keypoints2D (H36M-17 px) ─┐
//   keypoint file ────────────────────▶ Keypoints2D ──────────────┴▶ Lifter (root-relative camera
//   frame) ─▶ One Euro (optional) ─▶ zero-phase low-pass (motion stage) ─▶ rigid skeleton (default)
//   ─▶ motion stage: world frame, foot contacts, feet planted (default) ─▶ camera / demo / world frame ─▶ files
//
// Nothing is written until the 3D result is known to be finite; the outputs are staged beside their
// targets and moved into place together at the end (OutputBatch), so a failure or an interrupt
// leaves none of them, half-written or not; outputs may not overwrite any input.

import Foundation

public final class PosePipeline {
    public let job: PoseJob

    public init(_ job: PoseJob) { self.job = job }

    /// Runs the job. `progress` is called from this thread as frames are decoded.
    public func run(progress: ((PoseJobProgress) -> Void)? = nil) throws -> PoseJobResult {
        let start = Date()
        let format = try validate()
        let liftingWeights = job.lifting.weights ?? DefaultWeights.find(in: job.modelFolders)
        try checkPaths(liftingWeights: liftingWeights)
        if let threads = job.lifting.threads { setBLASThreads(threads) }

        // 2D keypoints: read first from a file (the cheap checks before loading a model), after
        // loading the lifter from a video (the long part, not to be wasted on a bad weights file).
        var keypoints: Keypoints2D
        var video: VideoKeypoints?
        var estimator: PoseEstimator2D?
        var undetected = 0
        var input: (layout: KeypointLayout?, warnings: [String]) = (nil, [])
        var scoreColumns = "<joint>_score"
        switch job.input {
        case .video(let path):
            guard FileManager.default.fileExists(atPath: path) else { throw MHFormerError("\(path): no such file") }
            estimator = try makeEstimator()
            keypoints = Keypoints2D(frames: [], times: [], width: 0, height: 0, points: [], present: [])
        case .keypointsFile(let path, let format, let imageSize, let layout):
            let contents = try KeypointFiles.load(path: path, format: format, imageSize: imageSize, layout: layout)
            keypoints = contents.keypoints
            undetected = contents.framesWithUndetectedPoints
            input = (contents.layout, contents.warnings)
            scoreColumns = contents.format == .mediapipe ? "<landmark>_visibility" : "<joint>_score"
        case .keypoints(let kp, _):
            keypoints = kp
        }
        if job.outputs.scoreColumns, estimator == nil, keypoints.scores == nil {
            throw MHFormerError("--scores: \(inputName) has no \(scoreColumns) columns (no 2D scores to write)")
        }
        guard let weightsPath = liftingWeights else {
            throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
        }
        let model = try MHFormerModel(path: weightsPath)
        if case .video(let path) = job.input, let estimator {
            var offline: OfflineTracker.Options?
            if job.pose2D.offlineTracking {
                offline = OfflineTracker.Options()
                offline!.order = job.pose2D.personOrder
            }
            let v = try VideoKeypointExtractor.extract(videoPath: path, estimator: estimator, maxGapSeconds: job.pose2D.maxGapSeconds,
                                                       fallbackFrameRate: job.post.fps, offline: offline) { done, info in
                progress?(.pose2D(done: done, expected: PosePipeline.expectedFrames(info)))
            }
            try checkDamage(path, v.decode)
            keypoints = v.keypoints
            video = v
        }
        let seconds2D = Date().timeIntervalSince(start)
        // Every output is staged beside its target and all are moved into place together at the end.
        let batch = OutputBatch()
        if let path = job.pose2D.attentionOutput, let recorder = (estimator as? TopDownEstimator)?.model as? AttentionRecorder {
            try batch.write(path) { try recorder.writeAttention(frames: keypoints.frames, to: $0) }
        }

        // 3D.
        let liftStart = Date()
        let lifted = Lifter(model: model).lift(keypoints, flip: job.lifting.flip)
        let secondsLift = Date().timeIntervalSince(liftStart)
        try PosePipeline.checkFinite(lifted, weightsPath: weightsPath)
        let (fitted, rate) = try fitSkeleton(keypoints, pose: lifted)
        let (pose, final, world) = try inJobFrame(keypoints, cameraPose: fitted, rate: rate)
        var source: String? = nil
        if case .video(let v) = job.input { source = v }
        try write(keypoints, pose: pose, final: final, world: world, rate: rate, outputs: job.outputs, format: format, video: source, into: batch)
        let written = try batch.commit()
        let segments = keypoints.segments.count
        let firstPresent = keypoints.present.firstIndex(of: true) ?? 0, lastPresent = keypoints.present.lastIndex(of: true) ?? 0
        return PoseJobResult(keypoints2D: keypoints, cameraPose: pose, pose: final, video: video?.info, decode: video?.decode,
                             frames: keypoints.count, detectedFrames: video?.detectedFrames ?? keypoints.framesWithPerson,
                             interpolatedFrames: video?.interpolatedFrames ?? 0, recovery: video?.recovery ?? OfflineRecovery(), segments: segments,
                             gaps: runsOfTrue(Array(keypoints.present[firstPresent...lastPresent]).map { !$0 }).count,
                             seconds2D: seconds2D, secondsLift: secondsLift, secondsTotal: Date().timeIntervalSince(start),
                             framesWithUndetectedPoints: undetected, keypointLayout: input.layout, inputWarnings: input.warnings, pose2DSummary: estimator?.summary, weightsPath: weightsPath, modelConfig: model.config, written: written)
    }

    /// Smoothing (One Euro when asked, then the motion stage's zero-phase low-pass) and the rigid
    /// skeleton: root-relative camera-frame joints, and the frame rate. `lifted` has been checked
    /// finite (checkFinite).
    func fitSkeleton(_ keypoints: Keypoints2D, pose lifted: Pose3DSequence) throws -> (Pose3DSequence, Double) {
        var pose = lifted
        let post = job.post
        let rate = MotionWriter.frameRate(times: keypoints.times, fallback: post.fps)
        if let smoothing = post.smoothing { pose = pose.smoothed(fps: rate, parameters: smoothing) }
        if post.refine.enabled {
            pose = MotionRefinement.smoothJoints(pose, scores: keypoints.scores, rate: rate, cutoffHz: post.refine.jointCutoffHz)
        }
        if post.rigidSkeleton {
            pose.joints = BVH.fit(positions: pose.joints.map(Double.init), present: pose.present, scores: keypoints.scores).positions.map(Float.init)
        }
        if let height = post.height { pose = PerformerHeight.scaled(pose, toHeight: height) }
        return (pose, rate)
    }

    /// The fitted camera-frame joints in the job's coordinate frame; with the motion stage on, first
    /// placed in the world, their feet planted (contacts in `footContacts`), and brought back.
    /// Returns the root-relative camera-frame joints after all that (for the overlay and the plot),
    /// the joints to write and the world frame when one was found on the way (nil: the camera or
    /// demo frame without the motion stage; `worldFrame` finds it when needed). `scene`: the world
    /// frame shared by several people (nil: this person's own).
    func inJobFrame(_ keypoints: Keypoints2D, cameraPose fitted: Pose3DSequence, rate: Double,
                    scene: WorldFrame? = nil) throws -> (cameraPose: Pose3DSequence, final: Pose3DSequence, world: WorldFrame?) {
        let post = job.post
        var pose = fitted
        var final = fitted
        var frame: WorldFrame?
        if post.refine.enabled {
            let (refined, world, worldFrame) = refine(keypoints, cameraPose: fitted, rate: rate, scene: scene)
            pose = refined
            final = refined
            frame = worldFrame
            switch post.coordinates {
            case .camera: break
            case .demo: final.joints = Lifter.cameraToWorld(refined.joints)
            case .world: final.joints = (post.zUp ? WorldFrame.zUp(world) : world).map(Float.init)
            }
        } else {
            switch post.coordinates {
            case .camera: break
            case .demo: final.joints = Lifter.cameraToWorld(pose.joints)
            case .world:
                let motion = WorldMotion.make(keypoints: keypoints, cameraPose: pose, camera: camera(keypoints), zUp: post.zUp, fps: rate, scene: scene)
                final.joints = motion.joints
                frame = motion.frame
            }
        }
        // And again on the final joints: the world frame's trajectory fit divides by fitted quantities.
        if let bad = final.firstNonFiniteFrame {
            throw MHFormerError("\(job.outputs.motion ?? inputName): the \(post.coordinates.rawValue)-frame 3D joints are not finite (NaN or infinite) at frame \(bad); nothing written")
        }
        return (pose, final, frame)
    }

    /// The world frame of `inJobFrame` when it found one, else the one `--coords world` would use
    /// without the motion stage: the joint angles take their vertical from it, so they do not
    /// depend on `--coords`.
    func worldFrame(_ found: WorldFrame?, keypoints: Keypoints2D, cameraPose pose: Pose3DSequence, rate: Double) -> WorldFrame {
        found ?? WorldMotion.make(keypoints: keypoints, cameraPose: pose, camera: camera(keypoints), fps: rate).frame
    }

    /// The motion stage after the skeleton fit: the world frame with the stage's root filter, feet
    /// planted there (MotionRefinement.plantFeet), then back to root-relative camera-frame joints.
    /// Returns those (with `footContacts`), the world-frame joints (N, 17, 3), Y up, and the frame.
    func refine(_ keypoints: Keypoints2D, cameraPose fitted: Pose3DSequence, rate: Double, scene: WorldFrame?) -> (Pose3DSequence, [Double], WorldFrame) {
        let settings = job.post.refine
        let camera = self.camera(keypoints)
        let motion = WorldMotion.make(keypoints: keypoints, cameraPose: fitted, camera: camera,
                                      rootFilter: .lowPass(acrossHz: settings.rootCutoffHz, depthHz: settings.rootDepthCutoffHz),
                                      fps: rate, scene: scene)
        let n = fitted.count
        let (world, contacts) = MotionRefinement.plantFeet(world: motion.joints.map(Double.init), present: fitted.present, keypoints: keypoints,
                                                           rootDepth: (0..<n).map { motion.rootInCamera[3 * $0 + 2] },
                                                           focalPx: camera.focalPx, rate: rate, settings: settings)
        let absolute = motion.frame.cameraPoints(world)
        var refined = fitted
        refined.footContacts = contacts
        for i in 0..<n where fitted.present[i] {
            for j in 0..<17 { for c in 0..<3 { refined.joints[i * 51 + 3 * j + c] = Float(absolute[i * 51 + 3 * j + c] - absolute[i * 51 + c]) } }
        }
        return (refined, world, motion.frame)
    }

    /// The camera the world frame assumes for keypoints of this image size.
    func camera(_ keypoints: Keypoints2D) -> PinholeCamera {
        PinholeCamera.assumed(width: keypoints.width, height: keypoints.height, fovDegrees: job.post.fovDegrees, focalPx: job.post.focalPx)
    }

    /// Stages one person's files (`outputs`' paths) in `batch`. `world`: inJobFrame's world frame.
    func write(_ keypoints: Keypoints2D, pose: Pose3DSequence, final: Pose3DSequence, world: WorldFrame?, rate: Double,
               outputs out: PoseJob.Outputs, format: MotionFormat?, video: String?, into batch: OutputBatch) throws {
        let post = job.post
        if let path = out.angles {
            // The angles are checked before anything is staged: a degenerate pose is refused whole.
            let frame = worldFrame(world, keypoints: keypoints, cameraPose: pose, rate: rate)
            let up = SIMD3(frame.axes[1][0], frame.axes[1][1], frame.axes[1][2])
            let angles = JointAngles.compute(pose, up: up)
            if let bad = angles.firstNonFiniteFrame {
                throw MHFormerError("\(path): the joint angles are not finite at frame \(bad) (joints on top of each other); nothing written")
            }
            let format = JointAngleFormat(path: path)!        // checked by validate()
            try batch.write(path) {
                try JointAngleFiles.write(angles, format: format, fps: rate, to: $0, fileName: (path as NSString).lastPathComponent)
            }
        }
        if let path = out.keypoints2D { try batch.write(path) { try Keypoints2DCSV.write(keypoints, to: $0) } }
        if let path = out.motion, let format {
            try batch.write(path) {
                try MotionWriter.write(final, scores: keypoints.scores, scoreColumns: out.scoreColumns, contactColumns: out.contactColumns,
                                       coordinates: post.coordinates, zUp: post.zUp, fps: rate, format: format, rig: out.rig, to: $0,
                                       fileName: (path as NSString).lastPathComponent)
            }
        }
        for path in out.moreMotion {
            let format = MotionFormat(path: path)!        // checked by validate()
            try batch.write(path) {
                try MotionWriter.write(final, scores: keypoints.scores, scoreColumns: out.scoreColumns && format == .csv,
                                       contactColumns: out.contactColumns && format == .csv, coordinates: post.coordinates,
                                       zUp: post.zUp, fps: rate, format: format, rig: out.rig, to: $0, fileName: (path as NSString).lastPathComponent)
            }
        }
        if let path = out.plot {
            let grid = SkeletonDrawing.plotGrid(pose)
            try batch.write(path) { try PNGWriter.write(rgb: grid.pixels, width: grid.width, height: grid.height, to: $0) }
        }
        if let path = out.overlay {
            try batch.write(path) { try OverlayVideo.render(video: video, keypoints: keypoints, cameraPose: pose, fps: rate, to: $0) }
        }
        if let path = out.viewer {
            let motion = viewerMotion(keypoints, cameraPose: pose, final: final, rate: rate, scene: nil)
            try writeViewer([ViewerPage.Person(id: nil, motionJSON: motion)], to: path, overlay: out.overlay, video: video, into: batch)
        }
    }

    /// One person's motion for the viewer page, as the JSON output: the written joints when they are
    /// the world frame; else the world placement of the camera-frame result (`cameraPose`, with its
    /// foot contacts), made for the page only (`scene`: everyone's, nil: this person's own).
    func viewerMotion(_ keypoints: Keypoints2D, cameraPose pose: Pose3DSequence, final: Pose3DSequence, rate: Double, scene: WorldFrame?) -> String {
        let post = job.post
        var world = final
        if post.coordinates != .world {
            let refine = post.refine
            world.joints = WorldMotion.make(keypoints: keypoints, cameraPose: pose, camera: camera(keypoints),
                                            rootFilter: refine.enabled ? .lowPass(acrossHz: refine.rootCutoffHz, depthHz: refine.rootDepthCutoffHz) : .gaussian(seconds: 0.1),
                                            fps: rate, scene: scene).joints
        }
        let zUp = post.coordinates == .world && post.zUp
        let axes = zUp ? "x right (level), y away from the camera, z up" : "x right (level), y up, z towards the camera"
        return MotionWriter.json(world, scores: keypoints.scores, description: MotionDescription(coordinates: "world", axes: axes, rootRelative: false, fps: rate))
    }

    /// Stages the viewer page; beside it the overlay when one is written, else the source video.
    func writeViewer(_ people: [ViewerPage.Person], to path: String, overlay: String?, video: String?, into batch: OutputBatch) throws {
        let beside = (overlay ?? video).map { ViewerPage.relativePath(of: $0, fromPage: path) }
        let page = try ViewerPage.html(people: people, title: (inputName as NSString).lastPathComponent, video: beside)
        try batch.write(path) { try AtomicFile.write(page, to: $0) }
    }

    /// Strict: a damaged video is refused before anything is written (the lifting is not done).
    func checkDamage(_ videoPath: String, _ decode: DecodeSummary) throws {
        if job.pose2D.strict, let damage = decode.damage {
            throw MHFormerError("\(videoPath): damaged video: \(damage); nothing written (--strict)")
        }
    }

    /// NaN from the model (e.g. weights holding NaN) is refused before the post-processing, which
    /// would otherwise carry it into the files as "nan".
    static func checkFinite(_ lifted: Pose3DSequence, weightsPath: String) throws {
        if let bad = lifted.firstNonFiniteFrame {
            throw MHFormerError("\(weightsPath): the model's 3D output is not finite (NaN or infinite) at frame \(bad); corrupt weights? Nothing written")
        }
    }

    /// The input's name in messages.
    var inputName: String {
        switch job.input {
        case .video(let p), .keypointsFile(let p, _, _, _): return p
        case .keypoints(_, let name): return name
        }
    }

    /// Checks what needs no file; returns the motion output's format (nil when none is written).
    /// The messages name the command line's options, which mirror the job's fields.
    public func validate() throws -> MotionFormat? {
        var format: MotionFormat?
        if let motion = job.outputs.motion {
            if job.outputs.format == nil, (motion as NSString).pathExtension.lowercased() == "fbx" {
                throw MHFormerError("\(motion): FBX is not written (no FBX writer in reach imports correctly in Blender: docs/fbx-export.md); write .glb, which Blender, Unity and Unreal import")
            }
            guard let f = job.outputs.format ?? MotionFormat(path: motion) else {
                throw MHFormerError("\(motion): unknown output extension (use .csv, .json, .trc, .bvh or .glb, or --format)")
            }
            format = f
        }
        for path in job.outputs.moreMotion where MotionFormat(path: path) == nil {
            throw MHFormerError("\(path): unknown output extension (use .csv, .json, .trc, .bvh or .glb)")
        }
        if job.outputs.rig != .h36m {
            let formats = [format].compactMap { $0 } + job.outputs.moreMotion.compactMap { MotionFormat(path: $0) }
            if !formats.contains(where: \.isRig) {
                throw MHFormerError("--rig \(job.outputs.rig.rawValue) names the skeleton of a .bvh or .glb output; the motion is written as \(formats.isEmpty ? "nothing" : formats.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let angles = job.outputs.angles, JointAngleFormat(path: angles) == nil {
            throw MHFormerError("\(angles): unknown joint angle extension (use .csv, or .mot for OpenSim)")
        }
        if job.outputs.scoreColumns, let format, format != .csv {
            throw MHFormerError("--scores adds columns to the CSV output only, not to \(format.rawValue) (the JSON output always has the scores)")
        }
        if job.outputs.contactColumns {
            if let format, format != .csv {
                throw MHFormerError("--contacts adds columns to the CSV output only, not to \(format.rawValue) (the JSON output always has the contacts)")
            }
            guard job.post.refine.enabled else { throw MHFormerError("--contacts needs the motion stage, which --no-refine turns off") }
        }
        let post = job.post
        if let viewer = job.outputs.viewer {
            guard ["html", "htm"].contains((viewer as NSString).pathExtension.lowercased()) else {
                throw MHFormerError("\(viewer): the viewer is a web page: give it the extension .html")
            }
            try ViewerPage.checkAvailable()
        }
        guard post.fps > 0, post.fps.isFinite else { throw MHFormerError("--fps must be positive") }
        guard post.fovDegrees > 1, post.fovDegrees < 179 else { throw MHFormerError("--fov-deg must be between 1 and 179") }
        if let f = post.focalPx { guard f > 0, f.isFinite else { throw MHFormerError("--focal-px must be positive") } }
        if let h = post.height {
            let r = PerformerHeight.accepted
            guard r.contains(h) else {
                throw MHFormerError("--height \(formatDouble(h)): the performer's standing height in metres, between \(formatDouble(r.lowerBound)) and \(formatDouble(r.upperBound))")
            }
            if job.pose2D.people != .count(1), case .video = job.input {
                throw MHFormerError("--height is one performer's height: it cannot be given with more than one person (--people)")
            }
        }
        if case .video = job.input {
            let p = job.pose2D
            guard p.maxGapSeconds >= 0, p.maxGapSeconds.isFinite else { throw MHFormerError("--max-gap must be >= 0") }
            let backend = try Pose2DBackends.backend(named: p.model)
            let withAttention = Pose2DBackends.all.filter(\.recordsAttention).map(\.name)
            if p.attentionOutput != nil && !backend.recordsAttention {
                throw MHFormerError("--attention-out needs --pose2d \(withAttention.joined(separator: " or "))")
            }
            if p.flipTest != nil && backend.flipTestDefault == nil {
                throw MHFormerError("--pose2d-flip needs --pose2d \(Pose2DBackends.all.filter { $0.flipTestDefault != nil }.map(\.name).joined(separator: " or "))")
            }
            if let help = backend.weightsHelp {
                if p.weights == nil { throw MHFormerError("--pose2d \(backend.name) needs --pose2d-weights \(help)") }
            } else if p.weights != nil {
                throw MHFormerError("--pose2d-weights need --pose2d \(Pose2DBackends.all.filter { $0.weightsHelp != nil }.map(\.name).joined(separator: " or "))")
            }
        }
        return format
    }

    /// Refuses, before any work starts, an output path that is one of the inputs (the video or 2D
    /// keypoints, the weights) or another output of the same job, through symlinks and hard links:
    /// outputs are renamed into place, so the input would be replaced by the result without a word.
    func checkPaths(liftingWeights: String?) throws {
        var inputs: [(option: String, path: String?)] = []
        switch job.input {
        case .video(let p): inputs += [("VIDEO", p), ("--pose2d-weights", job.pose2D.weights)]
        case .keypointsFile(let p, _, _, _): inputs.append(("--keypoints", p))
        case .keypoints: break
        }
        inputs.append(("--weights", liftingWeights))
        let o = job.outputs
        try OutputPaths.checkDistinct(outputs: [("-o", o.motion)] + o.moreMotion.map { ("--format", $0) } + [("--keypoints-2d", o.keypoints2D), ("--attention-out", job.pose2D.attentionOutput),
                                                ("--plot", o.plot), ("--overlay", o.overlay), ("--viewer", o.viewer),
                                                ("--angles", o.angles)],
                                      inputs: inputs)
    }

    func makeEstimator() throws -> PoseEstimator2D {
        let p = job.pose2D
        let options = Pose2DModelOptions(blazePoseFolders: job.blazePoseFolders, weights: p.weights, flipTest: p.flipTest,
                                         keepAttention: p.attentionOutput != nil)
        return try Pose2DBackends.backend(named: p.model).make(options)
    }

    /// The number of frames the container announces, for progress bars.
    public static func expectedFrames(_ info: VideoInfo) -> Int? {
        if let n = info.containerFrameCount, n > 0 { return n }
        if let d = info.duration, let f = info.frameRate { return Int((d * f).rounded()) }
        return nil
    }
}
