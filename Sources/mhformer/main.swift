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

    @Option(name: [.short, .long], help: "3D output CSV.")
    var output: String

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
            let kp = try Keypoints2DCSV.read(path: keypoints)
            guard let weightsPath = weights ?? DefaultWeights.find() else {
                throw MHFormerError("no weights given and no Models/mhformer-cmu-T*.safetensors found (use --weights FILE)")
            }
            let model = try MHFormerModel(path: weightsPath)
            let lifter = Lifter(model: model)
            let pose = lifter.lift(kp, coordinates: frame, flip: !noFlip)
            try Pose3DCSV.write(pose, to: output)
        } catch let error as MHFormerError {
            throw fail(error)
        }
    }
}

MHFormerCLI.main()
