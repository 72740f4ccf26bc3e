// Several people in one video (PoseJob.Pose2D.people other than 1): PeopleTracker gives every
// person an ID; each chosen person is lifted on their own (the gap rules of one person, windows
// batched across people), post-processed and written to the job's paths with the ID before the
// extension (OUT.p1.csv, OUT.p2.csv ...), each file in the single-person format. One overlay video
// shows everyone. The world frame is one scene: the same camera and ground for everybody.

import Foundation

extension PosePipeline {
    /// `OUT.csv` → `OUT.p2.csv` (a path without an extension gets `.p2` at its end).
    public static func personPath(_ path: String, id: Int) -> String {
        let ext = (path as NSString).pathExtension
        guard !ext.isEmpty else { return path + ".p\(id)" }
        return (path as NSString).deletingPathExtension + ".p\(id)." + ext
    }

    /// Runs a multi-person job on a video. `progress` as for `run`.
    public func runPeople(progress: ((PoseJobProgress) -> Void)? = nil) throws -> PeopleJobResult {
        let start = Date()
        let format = try validate()
        guard case .video(let videoPath) = job.input else {
            throw MHFormerError("--people: several people need a video input (a keypoint file holds one person)")
        }
        if job.pose2D.attentionOutput != nil { throw MHFormerError("--attention-out records one person: use it with --people 1") }
        let liftingWeights = job.lifting.weights ?? DefaultWeights.find(in: job.modelFolders)
        try checkPaths(liftingWeights: liftingWeights)
        if let threads = job.lifting.threads { setBLASThreads(threads) }
        guard FileManager.default.fileExists(atPath: videoPath) else { throw MHFormerError("\(videoPath): no such file") }
        let p = job.pose2D
        let options = Pose2DModelOptions(blazePoseFolders: job.blazePoseFolders, weights: p.weights, flipTest: p.flipTest)
        guard let weightsPath = liftingWeights else {
            throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
        }
        let model = try MHFormerModel(path: weightsPath)
        // BlazePose on the people side by side, one BLAS thread each (top-down models run per person
        // after it, on every BLAS thread); the lifter gets the threads back afterwards.
        let threads = blasThreads()
        let backend = try Pose2DBackends.backend(named: p.model)
        let workers = backend.topDown == nil ? threads : 1
        let estimator = try backend.makePeople(options, tracking: PeopleTracker.Options(), workers: workers)
        if workers > 1 { setBLASThreads(1) }
        let extracted = Result {
            try PeopleKeypointExtractor.extract(videoPath: videoPath, estimator: estimator, maxGapSeconds: p.maxGapSeconds,
                                                fallbackFrameRate: job.post.fps, people: p.people, order: p.personOrder) { done, info in
                progress?(.pose2D(done: done, expected: PosePipeline.expectedFrames(info)))
            }
        }
        setBLASThreads(threads)
        let video = try extracted.get()
        try checkDamage(videoPath, video.decode)
        let seconds2D = Date().timeIntervalSince(start)

        // 3D: everyone's windows batched together, then each person post-processed on their own.
        let liftStart = Date()
        // People lifted side by side, one BLAS thread each, when there are several and cores to spare.
        let liftWorkers = min(threads, video.people.count)
        if liftWorkers > 1 { setBLASThreads(1) }
        let lifted = Lifter(model: model).lift(people: video.people.map(\.keypoints), flip: job.lifting.flip, workers: liftWorkers)
        setBLASThreads(threads)
        let secondsLift = Date().timeIntervalSince(liftStart)
        for pose in lifted { try PosePipeline.checkFinite(pose, weightsPath: weightsPath) }
        // Smoothing and the skeleton fit per person, then the scene's ground from everyone's feet.
        let fitted = try zip(video.people, lifted).map { try fitSkeleton($0.keypoints, pose: $1) }
        var scene: WorldFrame?
        if job.post.coordinates == .world {
            let first = video.people[0].keypoints
            let refine = job.post.refine
            scene = WorldMotion.sceneFrame(people: zip(video.people, fitted).map { ($0.keypoints, $1.0) }, camera: camera(first),
                                           rootFilter: refine.enabled ? .lowPass(acrossHz: refine.rootCutoffHz, depthHz: refine.rootDepthCutoffHz)
                                                                      : .gaussian(seconds: 0.1),
                                           fps: MotionWriter.frameRate(times: first.times, fallback: job.post.fps))
        }

        // The viewer shows everyone in one world: the scene above, or one made for the page alone.
        var viewerScene = scene
        if job.outputs.viewer != nil, viewerScene == nil {
            let first = video.people[0].keypoints
            let refine = job.post.refine
            viewerScene = WorldMotion.sceneFrame(people: zip(video.people, fitted).map { ($0.keypoints, $1.0) }, camera: camera(first),
                                                 rootFilter: refine.enabled ? .lowPass(acrossHz: refine.rootCutoffHz, depthHz: refine.rootDepthCutoffHz)
                                                                            : .gaussian(seconds: 0.1),
                                                 fps: MotionWriter.frameRate(times: first.times, fallback: job.post.fps))
        }
        var viewerPeople: [ViewerPage.Person] = []

        let batch = OutputBatch()
        var people: [PersonResult] = []
        var overlayPeople: [OverlayVideo.Person] = []
        for (track, (fittedPose, frameRate)) in zip(video.people, fitted) {
            let (cameraPose, final) = try inJobFrame(track.keypoints, cameraPose: fittedPose, rate: frameRate, scene: scene)
            var outputs = job.outputs
            outputs.motion = outputs.motion.map { PosePipeline.personPath($0, id: track.id) }
            outputs.moreMotion = outputs.moreMotion.map { PosePipeline.personPath($0, id: track.id) }
            outputs.keypoints2D = outputs.keypoints2D.map { PosePipeline.personPath($0, id: track.id) }
            outputs.plot = outputs.plot.map { PosePipeline.personPath($0, id: track.id) }
            outputs.overlay = nil
            outputs.viewer = nil
            // The IDs make new names: none of them may be an input (a video named clip.p1.mp4...).
            try OutputPaths.checkDistinct(outputs: ([outputs.motion, outputs.keypoints2D, outputs.plot] + outputs.moreMotion.map { $0 }).map { ("-o", $0) },
                                          inputs: [("VIDEO", videoPath), ("--weights", weightsPath), ("--pose2d-weights", p.weights)])
            let before = batch.stagedCount
            try write(track.keypoints, pose: cameraPose, final: final, rate: frameRate, outputs: outputs, format: format, video: videoPath, into: batch)
            let present = track.keypoints.present
            let first = present.firstIndex(of: true) ?? 0, last = present.lastIndex(of: true) ?? 0
            let gaps = runsOfTrue(Array(present[first...last]).map { !$0 }).map {
                track.keypoints.frames[first + $0.lowerBound]...track.keypoints.frames[first + $0.upperBound - 1]
            }
            people.append(PersonResult(id: track.id, keypoints2D: track.keypoints, cameraPose: cameraPose, pose: final,
                                       detectedFrames: track.detectedFrames, interpolatedFrames: track.interpolatedFrames,
                                       firstFrame: track.keypoints.frames[first], lastFrame: track.keypoints.frames[last], gaps: gaps,
                                       written: Array(batch.stagedPaths[before...])))
            overlayPeople.append(OverlayVideo.Person(id: track.id, keypoints: track.keypoints, cameraPose: cameraPose))
            if job.outputs.viewer != nil {
                viewerPeople.append(ViewerPage.Person(id: track.id, motionJSON: viewerMotion(track.keypoints, cameraPose: cameraPose, final: final,
                                                                                             rate: frameRate, scene: viewerScene)))
            }
        }
        if let path = job.outputs.overlay {
            let fps = MotionWriter.frameRate(times: video.people[0].keypoints.times, fallback: job.post.fps)
            try batch.write(path) { try OverlayVideo.render(video: videoPath, people: overlayPeople, fps: fps, to: $0) }
        }
        if let path = job.outputs.viewer {
            try writeViewer(viewerPeople, to: path, overlay: job.outputs.overlay, video: videoPath, into: batch)
        }
        let written = try batch.commit()
        return PeopleJobResult(people: people, peopleFound: video.peopleFound, video: video.info, decode: video.decode, frames: video.frames,
                               seconds2D: seconds2D, secondsLift: secondsLift, secondsTotal: Date().timeIntervalSince(start),
                               pose2DSummary: estimator.summary, weightsPath: weightsPath, written: written)
    }
}
