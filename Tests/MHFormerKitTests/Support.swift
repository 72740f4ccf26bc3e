// Test support: where the shared fixtures and the built tool are, .npy/.npz readers, running a
// command, comparing arrays.

import Foundation
import Testing
@testable import MHFormerKit

enum Paths {
    /// The repository root (this file is Tests/MHFormerKitTests/Support.swift).
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// ../shared beside the repository (or $MHFORMER_SHARED).
    static let shared: URL = {
        if let env = ProcessInfo.processInfo.environment["MHFORMER_SHARED"] { return URL(fileURLWithPath: env) }
        return repo.deletingLastPathComponent().appendingPathComponent("shared")
    }()
    static let mhformerFixtures = shared.appendingPathComponent("fixtures/mhformer")
    static var sharedAvailable: Bool { FileManager.default.fileExists(atPath: mhformerFixtures.appendingPathComponent("README.md").path) }

    /// The `mhformer` executable built beside this test bundle (`swift build` before `swift test`).
    static var tool: String {
        let bundleDir = Bundle.main.bundleURL.deletingLastPathComponent()   // .build/<triple>/debug
        for dir in [Bundle.main.bundleURL, bundleDir, repo.appendingPathComponent(".build/debug"), repo.appendingPathComponent(".build/release")] {
            let p = dir.appendingPathComponent("mhformer").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return repo.appendingPathComponent(".build/debug/mhformer").path
    }

    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mhformer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Result of running a command.
struct RunResult {
    /// The exit status, or the signal number when the process was killed by a signal.
    let status: Int32
    let stdout: String
    let stderr: String
    /// True when a signal ended the process (a crash: SIGABRT, SIGSEGV, SIGILL from a Swift trap).
    var signaled = false
}

func run(_ executable: String, _ args: [String]) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_NUM_THREADS"] = "1"
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    // stderr is drained on another thread while stdout is read here: a child that fills the stderr
    // pipe (64 KB, e.g. an error line quoting a whole junk file) while we wait on stdout would block
    // both processes for ever, and the test would hang instead of failing.
    let errReader = PipeDrain(err.fileHandleForReading)
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = errReader.wait()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self),
                     signaled: p.terminationReason == .uncaughtSignal)
}

/// Reads a pipe to its end on a thread of its own; `wait()` returns what it read.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }
    func wait() -> Data {
        done.wait()
        return data
    }
}

/// Runs a Python script with the python3 on PATH (the one with numpy), as a user would.
func runPython(_ args: [String]) throws -> RunResult { try run("/usr/bin/env", ["python3"] + args) }

/// Converts an official-format .pth with the project's converter; returns the .safetensors path.
func convertCheckpoint(_ pth: URL, into dir: URL) throws -> String {
    let out = dir.appendingPathComponent(pth.deletingPathExtension().lastPathComponent + ".safetensors").path
    let r = try runPython([Paths.repo.appendingPathComponent("Scripts/convert/convert-mhformer.py").path, pth.path, out])
    #expect(r.status == 0, "converter failed: \(r.stderr)")
    return out
}

// MARK: - NumPy files

struct NpyArray {
    let shape: [Int]
    let values: [Float]     // float32 or float64 data as Float; int64, uint8 and bool as Float
}

enum Npy {
    static func read(_ url: URL) throws -> NpyArray { try parse(try Data(contentsOf: url), name: url.path) }

    static func parse(_ data: Data, name: String) throws -> NpyArray {
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1..<6], as: UTF8.self) == "NUMPY" else {
            throw MHFormerError("\(name): not a .npy file")
        }
        let major = bytes[6]
        let hlen = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
                              : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: bytes[start..<(start + hlen)], as: UTF8.self)
        guard !header.contains("'fortran_order': True") else { throw MHFormerError("\(name): Fortran order") }
        let descr = header.components(separatedBy: "'descr': '")[1].components(separatedBy: "'")[0]
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = start + hlen
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                switch descr {
                case "<f4": values[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: body + 4 * i, as: UInt32.self))
                case "<f8": values[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: body + 8 * i, as: UInt64.self)))
                case "<i8": values[i] = Float(raw.loadUnaligned(fromByteOffset: body + 8 * i, as: Int64.self))
                case "|u1", "|b1": values[i] = Float(raw.load(fromByteOffset: body + i, as: UInt8.self))
                default: break
                }
            }
        }
        guard ["<f4", "<f8", "<i8", "|u1", "|b1"].contains(descr) else { throw MHFormerError("\(name): dtype \(descr) not supported") }
        return NpyArray(shape: shape, values: values)
    }

    /// An .npz written by np.savez (a zip of stored, uncompressed .npy members).
    static func readArchive(_ url: URL) throws -> [String: NpyArray] {
        let bytes = [UInt8](try Data(contentsOf: url))
        var out: [String: NpyArray] = [:]
        var p = 0
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        while p + 30 <= bytes.count, u32(p) == 0x0403_4b50 {
            let method = u16(p + 8)
            var size = u32(p + 18)
            let nameLen = u16(p + 26), extraLen = u16(p + 28)
            let name = String(decoding: bytes[(p + 30)..<(p + 30 + nameLen)], as: UTF8.self)
            let dataStart = p + 30 + nameLen + extraLen
            if size == 0xFFFF_FFFF {    // zip64: sizes in the extra field
                size = u32(p + 30 + nameLen + 4 + 8) | u32(p + 30 + nameLen + 4 + 12) << 32
            }
            guard method == 0 else { throw MHFormerError("\(url.path): member \(name) is compressed") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out[key] = try parse(Data(bytes[dataStart..<(dataStart + size)]), name: "\(url.path):\(name)")
            p = dataStart + size
        }
        return out
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .nan }
        m = max(m, d)
    }
    return m
}

/// (B, R, C) → (B, C, R)
func transposeLast2(_ x: [Float], batch: Int, rows: Int, cols: Int) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    for b in 0..<batch { for r in 0..<rows { for c in 0..<cols {
        y[(b * cols + c) * rows + r] = x[(b * rows + r) * cols + c]
    } } }
    return y
}

/// Reads a 3D CSV written by the tool: (frames, 51) values, empty cells as NaN.
func read3DCSV(_ path: String) throws -> (frames: [Int], values: [Float]) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var frames: [Int] = []
    var values: [Float] = []
    for line in text.split(separator: "\n").dropFirst() {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false)
        frames.append(Int(cells[0])!)
        for c in cells.dropFirst(2) { values.append(Float(c) ?? .nan) }
    }
    return (frames, values)
}

/// Writes (N, 17, 2) pixel keypoints as the 2D CSV `lift` reads.
func write2DCSV(_ points: [Float], width: Int, height: Int, to path: String, extraHeader: [String] = []) throws {
    let kp = Keypoints2D(frames: Array(0..<(points.count / 34)), times: Array(repeating: nil, count: points.count / 34),
                         width: width, height: height, points: points, present: Array(repeating: true, count: points.count / 34))
    try Keypoints2DCSV.write(kp, to: path)
}

/// Debian's blender on PATH, for the import checks of BVH and GLB files (BVHTests, MotionStageTests,
/// RigExportTests); nil when it is not installed.
enum Blender {
    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return dirs.map { "\($0)/blender" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// What Blender's importer makes of `file` (Scripts/sample/import_rig.py's JSON line).
    static func importRig(_ file: String, fps: Double, frames: [Int]) throws -> [String: Any] {
        let r = try run(path!, ["-b", "--factory-startup", "--python", Paths.repo.appendingPathComponent("Scripts/sample/import_rig.py").path,
                                "--", file, "--fps", String(fps)] + frames.map(String.init))
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("MHFORMER_RIG ") }, "Blender printed no result: \(r.stderr.suffix(800))")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(13).utf8)) as? [String: Any])
    }
}
