// `mhformer lift`: 2D keypoints (this project's CSV, an OpenPose JSON folder, COCO keypoint JSON or
// a MediaPipe landmark CSV) → 3D joints.

import ArgumentParser
import Foundation
import MHFormerKit

struct Lift: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lift 2D keypoints to 3D joints with MHFormer.",
        discussion: """
        Input (--keypoints; format from --keypoints-format, else detected):
        csv: columns frame, width, height, <joint>_x, <joint>_y for the 17 Human3.6M joints (\(Skeleton.jointNames.joined(separator: ", "))), optional time_s and <joint>_score.
        openpose: a folder of OpenPose-style per-frame *.json files (the frame number is the last number in each name): BODY_25, BODY_25B, COCO-18, COCO-17, HALPE_26, COCO-WholeBody or MediaPipe-33 points.
        coco: COCO keypoint results JSON, or a COCO dataset with images and annotations: COCO-17, HALPE_26 or COCO-WholeBody points.
        --keypoints-layout names the layout where the point count does not (25: body25 or body25b).
        mediapipe: a CSV with frame and <landmark>_x, <landmark>_y for MediaPipe's 33 landmarks, normalised to the image.
        OpenPose and COCO results store no image size: give --image-size WIDTHxHEIGHT.
        Output (.csv): frame, time_s, <joint>_x, <joint>_y, <joint>_z in metres; also .json, .trc, .bvh, .glb.
        --scores adds <joint>_score columns to the CSV.
        The joints are refitted to a rigid skeleton unless --no-rigid-skeleton is given.
        """)

    @Option(name: .long, help: "2D keypoints: this project's CSV, an OpenPose JSON folder, a COCO keypoint JSON file or a MediaPipe landmark CSV.")
    var keypoints: String

    @Option(name: .long, help: "Format of --keypoints: csv, openpose, coco or mediapipe. Default: detected (a folder: openpose; JSON: coco; a CSV with nose_x and left_eye_inner_x columns: mediapipe; else csv).")
    var keypointsFormat: String?

    @Option(name: .long, help: "Body layout of OpenPose and COCO keypoint files: \(KeypointLayout.names). Default: told by the number of points (17 coco17, 18 coco18, 26 halpe26, 33 mediapipe33, 133 wholebody133); 25 points (body25 or body25b) by which reading looks like a body, else an error asks for this option.")
    var keypointsLayout: String?

    @Option(name: .long, help: "Image size in pixels, WIDTHxHEIGHT (e.g. 1920x1080), for keypoint files that do not store it (OpenPose, COCO results, a MediaPipe CSV without width/height columns).")
    var imageSize: String?

    @Option(name: [.short, .long], help: "3D output file: .csv, .json, .trc (OpenSim markers, Y up), .bvh (skeleton with rotations, Y up) or .glb (glTF: skinned rig and animation, world frame).")
    var output: String

    @OptionGroup var lifting: LiftingOptions

    @OptionGroup var files: FileOutputOptions

    func run() throws {
        do {
            let inputFormat = try keypointsFormat.map { name in
                guard let f = KeypointFileFormat(rawValue: name.lowercased()) else {
                    throw MHFormerError("--keypoints-format: unknown format '\(name)' (csv, openpose, coco or mediapipe)")
                }
                return f
            }
            let layout = try keypointsLayout.map { name in
                guard let l = KeypointLayout(rawValue: name.lowercased()) else {
                    throw MHFormerError("--keypoints-layout: unknown layout '\(name)' (\(KeypointLayout.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return l
            }
            let size = try imageSize.map { text in
                do { return try KeypointFiles.parseImageSize(text) }
                catch let error as MHFormerError { throw MHFormerError("--image-size: \(error.message)") }
            }
            var job = PoseJob(input: .keypointsFile(keypoints, format: inputFormat, imageSize: size, layout: layout))
            try lifting.apply(to: &job)
            try files.apply(to: &job, output: output)
            lifting.applyDefaultCoordinates(to: &job)
            let r = try PosePipeline(job).run()
            for warning in r.inputWarnings { printError("warning: \(warning)") }
            if r.framesWithUndetectedPoints > 0 {
                printError("warning: \(keypoints): in \(r.framesWithUndetectedPoints) of \(r.detectedFrames) frames with a person the detector missed some of the 17 points used (confidence 0); they were lifted from the coordinates in the file (OpenPose and COCO write 0, 0) with score 0")
            }
            let c = r.modelConfig
            let read = r.keypointLayout.map { ", read as \($0.displayName)" } ?? ""
            printError(String(format: "lifted %d frames (%d with a person%@) in %.2f s (%.1f frames/s), MHFormer T=%d C=%d from %@ -> %@",
                              r.frames, r.detectedFrames, read, r.secondsLift, Double(r.detectedFrames) / max(r.secondsLift, 1e-9), c.frames, c.channel,
                              (r.weightsPath as NSString).lastPathComponent, output))
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }
}
