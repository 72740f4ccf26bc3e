// libFuzzer's entry point for every fuzz target. Scripts/fuzz.sh compiles this folder together with
// the library's sources into one binary (so the targets reach internal readers, such as
// TFLiteModel(bytes:path:)) and picks the target with MHFORMER_FUZZ_TARGET.
//
// Contract of each target: any input may be refused with an MHFormerError; anything else (a trap, a
// sanitizer report, another error type, an accepted result that breaks its own invariants) is a
// finding, and libFuzzer saves the input that caused it.

import Foundation

let fuzzTargets: [String: @Sendable (Data) -> Void] = [
    "keypoints2d-csv": fuzzKeypoints2DCSV,
    "safetensors": fuzzSafeTensors,
    "tflite": fuzzTFLite,
    "keypoint-files": fuzzKeypointFiles,
    "video-geometry": fuzzVideoGeometry,
]

let selectedTarget: @Sendable (Data) -> Void = {
    let name = ProcessInfo.processInfo.environment["MHFORMER_FUZZ_TARGET"] ?? ""
    guard let target = fuzzTargets[name] else {
        fatalError("MHFORMER_FUZZ_TARGET='\(name)': set it to one of \(fuzzTargets.keys.sorted().joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selectedTarget(Data(bytes: data, count: size))
    return 0
}

let verbose = ProcessInfo.processInfo.environment["MHFORMER_FUZZ_VERBOSE"] == "1"

/// Runs `body`; an MHFormerError is the expected answer to bad input, any other error a finding.
/// MHFORMER_FUZZ_VERBOSE=1 prints each refusal (to see what a seed input gets to).
func expectingMHFormerErrors(_ body: () throws -> Void) {
    do { try body() } catch let error as MHFormerError {
        if verbose { print("refused: \(error.message)") }
    } catch {
        fatalError("not an MHFormerError: \(type(of: error)): \(error)")
    }
}

/// A finding when `condition` is false: an accepted input gave an inconsistent result.
func invariant(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(what())") }
}

/// A folder of this process's own for targets whose readers take paths, removed at exit.
let scratchFolder: String = {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("mhformer-fuzz-\(ProcessInfo.processInfo.processIdentifier)").path
    try? FileManager.default.removeItem(atPath: dir)
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchFolder) }
    return dir
}()

/// Checks what every Keypoints2D reader promises about its result.
func checkKeypoints(_ kp: Keypoints2D) {
    let n = kp.count
    invariant(n > 0, "no frames")
    invariant(kp.times.count == n && kp.present.count == n && kp.points.count == n * 34, "array sizes for \(n) frames")
    invariant(kp.scores.map { $0.count == n * 17 } ?? true, "scores size")
    invariant(kp.feet.map { $0.count == n * 8 && $0.allSatisfy { $0.isFinite } } ?? true, "feet size or value")
    invariant((1...Keypoints2DCSV.maxImageSide).contains(kp.width) && (1...Keypoints2DCSV.maxImageSide).contains(kp.height),
              "image size \(kp.width)x\(kp.height)")
    invariant(zip(kp.frames, kp.frames.dropFirst()).allSatisfy { $0 < $1 }, "frames not increasing")
    invariant(kp.present.contains(true), "no frame with a person")
    invariant(kp.points.allSatisfy { $0.isFinite && abs($0) <= Keypoints2DCSV.maxCoordinate }, "coordinate out of range")
    invariant(kp.scores?.allSatisfy(\.isFinite) ?? true, "score not finite")
    invariant(kp.times.allSatisfy { $0?.isFinite ?? true }, "time not finite")
}
