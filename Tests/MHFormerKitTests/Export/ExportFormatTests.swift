// JSON and TRC outputs against their documented layouts, and smoothing on the command line.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("export formats", .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent: export cases skipped (they need a model)"))
struct ExportFormatTests {
    /// Lifts the fixture input with the small27 model into each requested file; returns the folder.
    static func lift(_ outputs: [String], extra: [String] = []) throws -> URL {
        let dir = try Paths.tempDir()
        let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small27/small_model.pth"), into: dir)
        let input = try Npy.read(Paths.mhformerFixtures.appendingPathComponent("input_h36m17_px.npy"))
        var kp = Keypoints2D(frames: Array(0..<60), times: (0..<60).map { Double($0) / 25 }, width: 1280, height: 720,
                             points: input.values, present: Array(repeating: true, count: 60),
                             scores: (0..<(60 * 17)).map { Float($0 % 10) / 10 })
        kp.present[30] = false
        try Keypoints2DCSV.write(kp, to: dir.appendingPathComponent("in.csv").path)
        for o in outputs {
            let r = try run(Paths.tool, ["lift", "--keypoints", dir.appendingPathComponent("in.csv").path, "--weights", weights,
                                         "-o", dir.appendingPathComponent(o).path] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        return dir
    }

    @Test("JSON: metadata, joint names, parents, per-frame joints equal to the CSV, scores, null for no person")
    func json() throws {
        let dir = try ExportFormatTests.lift(["out.csv", "out.json"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, csv) = try read3DCSV(dir.appendingPathComponent("out.csv").path)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("out.json"))) as? [String: Any])
        #expect(obj["format"] as? String == "mhformer-motion")
        #expect(obj["units"] as? String == "m")
        #expect(abs((obj["fps"] as? Double ?? 0) - 25) < 1e-6)
        #expect(obj["joint_names"] as? [String] == Skeleton.jointNames)
        #expect(obj["parents"] as? [Int] == Skeleton.parents)
        let coords = try #require(obj["coordinates"] as? [String: Any])
        #expect(coords["frame"] as? String == "camera")
        let frames = try #require(obj["frames"] as? [[String: Any]])
        #expect(frames.count == 60)
        for (i, f) in frames.enumerated() {
            #expect(f["frame"] as? Int == i)
            #expect(abs((f["time_s"] as? Double ?? -1) - Double(i) / 25) < 1e-9)
            if i == 30 {
                #expect(f["joints"] is NSNull && f["scores"] is NSNull)
                continue
            }
            let joints = try #require(f["joints"] as? [[Double]])
            #expect(joints.count == 17 && joints.allSatisfy { $0.count == 3 })
            for j in 0..<17 { for c in 0..<3 { #expect(Float(joints[j][c]) == csv[i * 51 + 3 * j + c]) } }
            let scores = try #require(f["scores"] as? [Double])
            #expect(scores.count == 17 && abs(scores[1] - Double((i * 17 + 1) % 10) / 10) < 1e-6)
        }
    }

    @Test("TRC: OpenSim header, 17 markers, Y-up values, frames from 1, empty cells for no person")
    func trc() throws {
        let dir = try ExportFormatTests.lift(["out.csv", "out.trc"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, csv) = try read3DCSV(dir.appendingPathComponent("out.csv").path)
        let lines = try String(contentsOf: dir.appendingPathComponent("out.trc"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "PathFileType\t4\t(X/Y/Z)\tout.trc")
        #expect(lines[1].split(separator: "\t").count == 8)
        #expect(lines[2].split(separator: "\t").map(String.init) == ["25", "25", "60", "17", "m", "25", "1", "60"])
        let names = lines[3].split(separator: "\t").map(String.init)
        #expect(names == ["Frame#", "Time"] + Skeleton.jointNames)
        #expect(lines[4].split(separator: "\t").count == 51)
        #expect(lines[5].isEmpty)
        let rows = lines.dropFirst(6).filter { !$0.isEmpty }
        #expect(rows.count == 60)
        for (i, row) in rows.enumerated() {
            let cells = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(cells.count == 53)
            #expect(Int(cells[0]) == i + 1)
            #expect(abs(Double(cells[1])! - Double(i) / 25) < 1e-6)
            if i == 30 { #expect(cells[2...].allSatisfy { $0.isEmpty }); continue }
            for j in 0..<17 {   // camera (x, y down, z forward) → Y up (x, -y, -z)
                #expect(Float(cells[2 + 3 * j])! == csv[i * 51 + 3 * j])
                #expect(Float(cells[3 + 3 * j])! == -csv[i * 51 + 3 * j + 1])
                #expect(Float(cells[4 + 3 * j])! == -csv[i * 51 + 3 * j + 2])
            }
        }
    }

    @Test("--scores: 17 <joint>_score columns after the coordinates, the input's scores; empty without a person; the rest unchanged")
    func scoreColumns() throws {
        let dir = try ExportFormatTests.lift(["out.csv"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("small_model.safetensors").path
        let input = dir.appendingPathComponent("in.csv").path
        let r = try run(Paths.tool, ["lift", "--keypoints", input, "--weights", weights, "-o", dir.appendingPathComponent("scores.csv").path, "--scores"])
        #expect(r.status == 0, "\(r.stderr)")
        let plain = try String(contentsOf: dir.appendingPathComponent("out.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let lines = try String(contentsOf: dir.appendingPathComponent("scores.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(plain[0] == Pose3DCSV.header && plain[0].split(separator: ",").count == 53)
        #expect(lines[0] == plain[0] + "," + Skeleton.jointNames.map { "\($0)_score" }.joined(separator: ","))
        #expect(lines.count == 61 && plain.count == 61)
        for i in 0..<60 {
            let cells = lines[i + 1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(cells.count == 70)
            #expect(cells[0..<53].joined(separator: ",") == plain[i + 1])    // the coordinates as without --scores
            for j in 0..<17 {
                if i == 30 { #expect(cells[53 + j].isEmpty); continue }
                #expect(Float(cells[53 + j]) == Float((i * 17 + j) % 10) / 10)
            }
        }
    }

    @Test("BVH forward kinematics equals the rigid CSV (the default), also when the BVH is written from the raw joints")
    func bvhMatchesRigidCSV() throws {
        // Without the motion stage on either side: this is the skeleton fit's property alone.
        let dir = try ExportFormatTests.lift(["rigid.csv", "rigid.bvh"], extra: ["--no-refine"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("small_model.safetensors").path
        let input = dir.appendingPathComponent("in.csv").path
        for out in ["raw.csv", "raw.bvh"] {
            let r = try run(Paths.tool, ["lift", "--keypoints", input, "--weights", weights, "-o", dir.appendingPathComponent(out).path, "--no-rigid-skeleton", "--no-refine"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let (_, rigid) = try read3DCSV(dir.appendingPathComponent("rigid.csv").path)
        let (_, raw) = try read3DCSV(dir.appendingPathComponent("raw.csv").path)
        func length(_ v: [Float], _ i: Int, _ j: Int) -> Double {
            let d = (0..<3).map { Double(v[i * 51 + 3 * j + $0] - v[i * 51 + 3 * Skeleton.parents[j] + $0]) }
            return dot(d, d).squareRoot()
        }
        // Rigid: every bone has one length; raw: the lengths vary.
        var rigidSpread = 0.0, rawSpread = 0.0
        for j in 1..<17 {
            let a = (0..<60).filter { $0 != 30 }.map { length(rigid, $0, j) }, b = (0..<60).filter { $0 != 30 }.map { length(raw, $0, j) }
            rigidSpread = max(rigidSpread, a.max()! - a.min()!); rawSpread = max(rawSpread, b.max()! - b.min()!)
        }
        #expect(rigidSpread < 1e-5 && rawSpread > 1e-3, "bone length spread: rigid \(rigidSpread) m, raw \(rawSpread) m")
        for name in ["rigid.bvh", "raw.bvh"] {
            let (_, _, fk) = try BVH.forwardKinematics(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))
            #expect(fk.count == 60)
            var worst = 0.0
            for i in 0..<60 where i != 30 { for k in 0..<51 {
                let camera = k % 3 == 0 ? fk[i][k] : -fk[i][k]    // BVH is Y up: (x, -y, -z) of the camera frame
                worst = max(worst, abs(camera - Double(rigid[i * 51 + k])))
            } }
            #expect(worst < 1e-4, "\(name): forward kinematics differs from the rigid CSV by \(worst * 1000) mm")
        }
    }

    @Test("--smooth lowers frame-to-frame jitter; --format overrides the extension; bad format is an error")
    func smoothingAndFormat() throws {
        let dir = try ExportFormatTests.lift(["raw.csv"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("small_model.safetensors").path
        let input = dir.appendingPathComponent("in.csv").path
        let r1 = try run(Paths.tool, ["lift", "--keypoints", input, "--weights", weights, "-o", dir.appendingPathComponent("smooth.txt").path,
                                      "--format", "csv", "--smooth", "--smooth-min-cutoff", "0.5"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let (_, raw) = try read3DCSV(dir.appendingPathComponent("raw.csv").path)
        let (_, smooth) = try read3DCSV(dir.appendingPathComponent("smooth.txt").path)
        func jitter(_ v: [Float]) -> Float {
            var s: Float = 0
            for i in 1..<30 { for c in 3..<51 { s += abs(v[i * 51 + c] - v[(i - 1) * 51 + c]) } }
            return s
        }
        #expect(jitter(smooth) < 0.8 * jitter(raw), "jitter \(jitter(smooth)) vs \(jitter(raw))")
        let r2 = try run(Paths.tool, ["lift", "--keypoints", input, "--weights", weights, "-o", dir.appendingPathComponent("x.bin").path])
        #expect(r2.status != 0 && r2.stderr.contains("x.bin") && r2.stderr.contains("unknown output extension"), "\(r2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.bin").path))
    }
}
