// The `mhformer` command line: subcommands over MHFormerKit.

import ArgumentParser
import Foundation
import MHFormerKit

struct MHFormerCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mhformer",
        abstract: "Markerless motion capture: 3D positions of 17 body joints from video or 2D keypoints.",
        version: MHFormerVersion.tool,
        subcommands: [Run.self, Lift.self, Batch.self, DecodeVideo.self])
}

/// Prints "error: <message>" on one line and exits with status 1 (no stack trace, no partial output).
func fail(_ error: Error) -> ExitCode {
    let message = (error as? MHFormerError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
}

func printError(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

// Ctrl-C or SIGTERM: remove temporary files, say which outputs were completed, exit 130 / 143.
TemporaryFiles.installInterruptHandlers()
MHFormerCLI.main()
