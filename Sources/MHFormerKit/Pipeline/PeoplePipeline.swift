// Several people in one video (PoseJob.Pose2D.people other than 1): PeopleTracker gives every
// person an ID; each chosen person is lifted on their own (the gap rules of one person),
// post-processed and written to the job's paths with the ID before the extension (OUT.p1.csv,
// OUT.p2.csv ...), each file in the single-person format. One overlay video shows everyone. The
// world frame is one scene: the same camera and ground for everybody.
//
// Memory: a person is finished as soon as their track closes (PeopleKeypointExtractor), while the
// video goes on: lifted, fitted and their files staged on disk (OutputBatch), then let go. What is
// held grows with the people on screen at once, not with the length of the video or the people
// who came and went. Two things need everyone: the scene (--coords world, and the viewer's world)
// is found from all people's feet, so with it each fitted person is put aside on disk
// (StagedPerson) and written at the end, read back one at a time; the overlay video draws
// everyone on every frame, so it keeps every kept person's 2D keypoints and camera-frame pose (the
// viewer page, holding every person's motion, is as large as its file). All outputs are still
// committed together at the end: all or none.

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
        // The 2D stage's BLAS setting; each finished person is lifted on all threads meanwhile.
        let threads2D = workers > 1 ? 1 : threads
        setBLASThreads(threads2D)
        defer { setBLASThreads(threads) }
        let lifter = Lifter(model: model)
        // The scene (world frame, viewer) needs everyone's fitted poses before anyone's world joints.
        let needsScene = job.post.coordinates == .world || job.outputs.viewer != nil
        let batch = OutputBatch()
        var kept: [FinishedPerson] = []             // the people kept so far (all, or the best N)
        var secondsLift = 0.0, secondsPeople = 0.0

        // A person whose track closed: kept or not (--people N), lifted, fitted, written or put aside.
        func finished(_ track: PersonTrack2D) throws {
            let personStart = Date()
            defer { secondsPeople += Date().timeIntervalSince(personStart) }
            if case .count(let n) = p.people, kept.count >= n {
                // The worst kept so far makes way if this one ranks before them; else this one is not kept.
                let worst = kept.indices.max { PeopleKeypointExtractor.ranksBefore(kept[$0].rank, kept[$1].rank, order: p.personOrder) }!
                guard PeopleKeypointExtractor.ranksBefore(track.rank, kept[worst].rank, order: p.personOrder) else { return }
                kept.remove(at: worst).drop(from: batch)
            }
            let liftStart = Date()
            setBLASThreads(threads)
            let lifted = lifter.lift(people: [track.keypoints], flip: job.lifting.flip)[0]
            secondsLift += Date().timeIntervalSince(liftStart)
            try PosePipeline.checkFinite(lifted, weightsPath: weightsPath)
            let (fitted, rate) = try fitSkeleton(track.keypoints, pose: lifted)
            setBLASThreads(threads2D)
            var person = FinishedPerson(rank: track.rank, detectedFrames: track.detectedFrames, interpolatedFrames: track.interpolatedFrames)
            if needsScene {
                person.staged = try StagedPerson.stage(id: track.id, keypoints: track.keypoints, pose: fitted)
            } else {
                let done = try finish(track.keypoints, person, fitted: fitted, rate: rate, scene: nil, viewerScene: nil,
                                      video: videoPath, weightsPath: weightsPath, format: format, into: batch)
                person.result = done.result
                person.overlay = done.overlay
            }
            kept.append(person)
            // The lifter's batches are freed now: give their pages back before the 2D stage goes on,
            // or the heap grows person after person (FreedMemory).
            FreedMemory.release()
        }

        // People put aside are removed however the run ends (their staged outputs: by the batch,
        // unless committed).
        defer { for person in kept { person.staged?.remove() } }
        let summary = try PeopleKeypointExtractor.extract(videoPath: videoPath, estimator: estimator, maxGapSeconds: p.maxGapSeconds,
                                                          fallbackFrameRate: job.post.fps, progress: { done, info in
            progress?(.pose2D(done: done, expected: PosePipeline.expectedFrames(info)))
        }, finished: finished)
        try checkDamage(videoPath, summary.decode)
        let seconds2D = Date().timeIntervalSince(start) - secondsPeople
        kept.sort { $0.rank.id < $1.rank.id }

        var viewerPeople: [ViewerPage.Person] = []
        if needsScene {
            // The scene from everyone's feet, as WorldMotion.sceneFrame finds it (people by ID, the
            // first one's camera and frame rate), each person read back on their own.
            let first = try kept[0].staged!.load().keypoints
            let refine = job.post.refine
            let rootFilter: RootFilter = refine.enabled ? .lowPass(acrossHz: refine.rootCutoffHz, depthHz: refine.rootDepthCutoffHz)
                                                                    : .gaussian(seconds: 0.1)
            var ground = WorldFrame.GroundJoints()
            for person in kept {
                let (keypoints, fitted) = try person.staged!.load()
                WorldMotion.addGroundJoints(of: keypoints, cameraPose: fitted, to: &ground, camera: camera(first), rootFilter: rootFilter,
                                            fps: MotionWriter.frameRate(times: first.times, fallback: job.post.fps))
            }
            let shared = WorldFrame.estimate(ground)
            for k in kept.indices {
                let (keypoints, fitted) = try kept[k].staged!.load()
                let done = try finish(keypoints, kept[k], fitted: fitted, rate: MotionWriter.frameRate(times: keypoints.times, fallback: job.post.fps),
                                      scene: job.post.coordinates == .world ? shared : nil, viewerScene: shared,
                                      video: videoPath, weightsPath: weightsPath, format: format, into: batch)
                kept[k].result = done.result
                kept[k].overlay = done.overlay
                if let viewer = done.viewer { viewerPeople.append(viewer) }
                kept[k].staged!.remove()
                kept[k].staged = nil
            }
        }
        if let path = job.outputs.overlay {
            let overlayPeople = kept.compactMap(\.overlay)
            let fps = MotionWriter.frameRate(times: overlayPeople[0].keypoints.times, fallback: job.post.fps)
            try batch.write(path) { try OverlayVideo.render(video: videoPath, people: overlayPeople, fps: fps, to: $0) }
        }
        if let path = job.outputs.viewer {
            try writeViewer(viewerPeople, to: path, overlay: job.outputs.overlay, video: videoPath, into: batch)
        }
        _ = try batch.commit()
        let people = kept.compactMap(\.result)
        // Every file written: the people's by ID, then the overlay and the viewer.
        let written = people.flatMap(\.written) + [job.outputs.overlay, job.outputs.viewer].compactMap { $0 }
        return PeopleJobResult(people: people, peopleFound: summary.peopleFound, video: summary.info, decode: summary.decode, frames: summary.frames,
                               seconds2D: seconds2D, secondsLift: secondsLift, secondsTotal: Date().timeIntervalSince(start),
                               pose2DSummary: estimator.summary, weightsPath: weightsPath, written: written)
    }

    /// One person's motion stage (with `scene` shared by everyone, or their own) and files staged in
    /// `batch`; what the overlay and the viewer page need of them when those are written.
    private func finish(_ keypoints: Keypoints2D, _ person: FinishedPerson, fitted: Pose3DSequence, rate: Double, scene: WorldFrame?,
                        viewerScene: WorldFrame?, video videoPath: String, weightsPath: String, format: MotionFormat?,
                        into batch: OutputBatch) throws -> (result: PersonResult, overlay: OverlayVideo.Person?, viewer: ViewerPage.Person?) {
        let id = person.rank.id
        let (cameraPose, final, world) = try inJobFrame(keypoints, cameraPose: fitted, rate: rate, scene: scene)
        var outputs = job.outputs
        outputs.motion = outputs.motion.map { PosePipeline.personPath($0, id: id) }
        outputs.moreMotion = outputs.moreMotion.map { PosePipeline.personPath($0, id: id) }
        outputs.keypoints2D = outputs.keypoints2D.map { PosePipeline.personPath($0, id: id) }
        outputs.plot = outputs.plot.map { PosePipeline.personPath($0, id: id) }
        outputs.angles = outputs.angles.map { PosePipeline.personPath($0, id: id) }
        outputs.overlay = nil
        outputs.viewer = nil
        // The IDs make new names: none of them may be an input (a video named clip.p1.mp4...).
        try OutputPaths.checkDistinct(outputs: ([outputs.motion, outputs.keypoints2D, outputs.plot, outputs.angles] + outputs.moreMotion.map { $0 }).map { ("-o", $0) },
                                      inputs: [("VIDEO", videoPath), ("--weights", weightsPath), ("--pose2d-weights", job.pose2D.weights)])
        let before = batch.stagedCount
        try write(keypoints, pose: cameraPose, final: final, world: world, rate: rate, outputs: outputs, format: format, video: videoPath, into: batch)
        let present = keypoints.present
        let first = present.firstIndex(of: true) ?? 0, last = present.lastIndex(of: true) ?? 0
        let gaps = runsOfTrue(Array(present[first...last]).map { !$0 }).map {
            keypoints.frames[first + $0.lowerBound]...keypoints.frames[first + $0.upperBound - 1]
        }
        let result = PersonResult(id: id, detectedFrames: person.detectedFrames, interpolatedFrames: person.interpolatedFrames,
                                  firstFrame: keypoints.frames[first], lastFrame: keypoints.frames[last], gaps: gaps,
                                  written: Array(batch.stagedPaths[before...]))
        let overlay = job.outputs.overlay == nil ? nil : OverlayVideo.Person(id: id, keypoints: keypoints, cameraPose: cameraPose)
        let viewer = job.outputs.viewer == nil ? nil
            : ViewerPage.Person(id: id, motionJSON: viewerMotion(keypoints, cameraPose: cameraPose, final: final, rate: rate, scene: viewerScene))
        return (result, overlay, viewer)
    }
}

/// A finished person the job keeps (so far): their rank, and either their files staged (`result`)
/// or their fitted pose put aside until the scene is known (`staged`).
private struct FinishedPerson {
    var rank: PersonRank
    var detectedFrames: Int
    var interpolatedFrames: Int
    var result: PersonResult?
    var staged: StagedPerson?
    /// Kept for the overlay video only when one is written.
    var overlay: OverlayVideo.Person?

    /// Forgets the person: their staged outputs and put-aside pose are removed.
    func drop(from batch: OutputBatch) {
        if let result { batch.discard(paths: result.written) }
        staged?.remove()
    }
}

