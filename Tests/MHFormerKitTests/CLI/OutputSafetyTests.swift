// What happens to output files when a run fails half-way or is interrupted, and to existing
// targets: all outputs of a run appear together or none do, an interrupt removes every temporary
// file and says what was completed, an existing target keeps its permission bits, a read-only one
// is refused, and a symlink is followed (its file replaced, the link kept).

import Foundation
import MHFormerKit
import Testing

@Suite("outputs: all or nothing, interrupts, modes and symlinks",
       .enabled(if: DefaultWeights.find() != nil, "Models/mhformer-cmu-T*.safetensors absent"))
struct OutputSafetyTests {
    let sample2D = Paths.repo.appendingPathComponent("Samples/cmu02_punch_2d.csv").path

    func leftovers(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter(isTemporaryName)
    }

    @Test("an output that fails late (the overlay) leaves none of the run's outputs, not even finished ones")
    func allOrNothing() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.csv").path, plot = dir.appendingPathComponent("plot.png").path
        // .xyz is no video container: the overlay fails after the CSV and the plot were written.
        let r = try run(Paths.tool, ["lift", "--keypoints", sample2D, "-o", out, "--plot", plot,
                                     "--overlay", dir.appendingPathComponent("o.xyz").path])
        #expect(r.status == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains("o.xyz"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: plot))
        #expect(try leftovers(dir).isEmpty)
    }

    @Test("Ctrl-C while the overlay is encoded: exit 130, no output, no temporary file, one message")
    func interrupt() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.csv").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.tool)
        p.arguments = ["lift", "--keypoints", sample2D, "-o", out, "--overlay", dir.appendingPathComponent("o.mp4").path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        // Wait until the overlay's temporary file exists (the 3D CSV is staged by then), then interrupt.
        var sawTemporary = false
        for _ in 0..<6000 where p.isRunning {       // up to 2 minutes on a busy machine
            if (try leftovers(dir)).contains(where: { $0.hasSuffix("o.mp4") }) { sawTemporary = true; break }
            usleep(20_000)
        }
        p.interrupt()                                           // SIGINT, as Ctrl-C
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(sawTemporary, "the overlay never started")
        #expect(p.terminationStatus == 130, "\(p.terminationStatus): \(message)")
        #expect(message.contains("error: interrupted; no output written (temporary files removed)"), "\(message)")
        #expect(try leftovers(dir).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("an existing target keeps its mode; a read-only one is refused and left as it was")
    func modes() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.csv").path
        try "old".write(toFile: out, atomically: false, encoding: .utf8)
        chmod(out, 0o640)
        let r = try run(Paths.tool, ["lift", "--keypoints", sample2D, "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        var st = stat()
        #expect(stat(out, &st) == 0 && st.st_mode & 0o777 == 0o640)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("frame,time_s,"))

        let locked = dir.appendingPathComponent("locked.csv").path
        try "keep me".write(toFile: locked, atomically: false, encoding: .utf8)
        chmod(locked, 0o444)
        guard access(locked, W_OK) != 0 else { return }        // root ignores permission bits
        let refused = try run(Paths.tool, ["lift", "--keypoints", sample2D, "-o", locked])
        #expect(refused.status == 1 && refused.stderr.contains("locked.csv: exists and is read-only"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: locked, encoding: .utf8) == "keep me")
    }

    @Test("-o through a symlink writes the file it points to and keeps the link")
    func symlinkFollowed() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = dir.appendingPathComponent("real.csv").path, link = dir.appendingPathComponent("link.csv").path
        try "old".write(toFile: real, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let r = try run(Paths.tool, ["lift", "--keypoints", sample2D, "-o", link])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == real)
        #expect(try String(contentsOfFile: real, encoding: .utf8).hasPrefix("frame,time_s,"))
        #expect(try leftovers(dir).isEmpty)
    }
}
