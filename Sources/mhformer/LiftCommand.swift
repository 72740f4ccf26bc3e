// `mhformer lift`: 2D keypoints (CSV) → 3D joints.

import ArgumentParser
import Foundation
import MHFormerKit

struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift 2D keypoints (CSV) to 3D joints with MHFormer.",
        discussion: """
        Input: a CSV with columns frame, width, height, <joint>_x, <joint>_y for the 17 Human3.6M joints
        (\(Skeleton.jointNames.joined(separator: ", "))), optional time_s and <joint>_score.
        Output (.csv): frame, time_s, <joint>_x, <joint>_y, <joint>_z in metres; also .json, .trc, .bvh.
        --scores adds <joint>_score columns to the CSV.
        The joints are refitted to a rigid skeleton unless --no-rigid-skeleton is given.
        """)

    @Option(name: .long, help: "2D keypoints CSV.")
    var keypoints: String

    @Option(name: [.short, .long], help: "3D output file: .csv, .json, .trc (OpenSim markers, Y up) or .bvh (skeleton with rotations, Y up).")
    var output: String

    @OptionGroup var lifting: LiftingOptions

    func run() throws {
        do {
            var job = PoseJob(input: .keypointsFile(keypoints))
            try lifting.apply(to: &job, output: output)
            let r = try PosePipeline(job).run()
            let c = r.modelConfig
            printError(String(format: "lifted %d frames (%d with a person) in %.2f s (%.1f frames/s), MHFormer T=%d C=%d from %@ -> %@",
                              r.frames, r.detectedFrames, r.secondsLift, Double(r.detectedFrames) / max(r.secondsLift, 1e-9), c.frames, c.channel,
                              (r.weightsPath as NSString).lastPathComponent, output))
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }
}
