// BVH export: forward kinematics of the written file gives back the positions.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("BVH export")
struct BVHTests {
    /// Ground-truth motion capture of the sample (camera frame) as Y-up positions.
    static func sampleMotion() throws -> (positions: [Double], frames: Int) {
        let (_, values) = try read3DCSV(Paths.repo.appendingPathComponent("Samples/cmu02_punch_3d_camera.csv").path)
        var p = values.map(Double.init)
        for k in stride(from: 0, to: p.count, by: 3) { p[k + 1] = -p[k + 1]; p[k + 2] = -p[k + 2] }
        return (p, values.count / 51)
    }

    @Test("round trip on real motion capture: FK of the written BVH gives the fitted skeleton's positions")
    func roundTrip() throws {
        let (p, n) = try BVHTests.sampleMotion()
        let fit = BVH.fit(positions: p, present: Array(repeating: true, count: n))
        let text = BVH.render(fit, fps: 50)
        let (names, frameTime, fk) = try BVH.forwardKinematics(text)
        #expect(names == Skeleton.jointNames)
        #expect(abs(frameTime - 0.02) < 1e-9)
        #expect(fk.count == n)
        func errors(_ a: [Double]) -> (mean: Double, max: Double, joint: Int) {
            var worst = 0.0, sum = 0.0, worstJoint = 0
            for i in 0..<n { for j in 0..<17 {
                let e = (0..<3).map { fk[i][3 * j + $0] - a[i * 51 + 3 * j + $0] }
                let d = dot(e, e).squareRoot()
                sum += d
                if d > worst { worst = d; worstJoint = j }
            } }
            return (sum / Double(n * 17), worst, worstJoint)
        }
        let toFit = errors(fit.positions), toRaw = errors(p)
        print("BVH on Samples/cmu02_punch_3d_camera.csv: FK vs fitted skeleton max \(toFit.max * 1000) mm; " +
              "FK vs raw positions mean \(toRaw.mean * 1000) mm, max \(toRaw.max * 1000) mm (\(Skeleton.jointNames[toRaw.joint]))")
        #expect(toFit.max < 0.0001, "FK of the file differs from the fit by \(toFit.max * 1000) mm")
        // The rigid skeleton itself stays close to the motion capture (its torso is not rigid).
        #expect(toRaw.mean < 0.006 && toRaw.max < 0.03, "fit vs raw: mean \(toRaw.mean * 1000) mm, max \(toRaw.max * 1000) mm")
        // Limbs keep their exact directions: the elbow→wrist vector of the fit is parallel to the raw one.
        for i in stride(from: 0, to: n, by: 37) {
            let raw = normalised(sub(Array(p[(i * 51 + 39)..<(i * 51 + 42)]), Array(p[(i * 51 + 36)..<(i * 51 + 39)])))
            let got = normalised(sub(Array(fk[i][39..<42]), Array(fk[i][36..<39])))
            #expect(dot(raw, got) > 0.99999)
        }
    }

    @Test("bone lengths come from the frames where both joints are seen (2D score >= 0.5)")
    func boneLengthsFromSeenFrames() throws {
        let (p0, n) = try BVHTests.sampleMotion()
        try #require(n >= 100)
        // The right shin (knee 2 → ankle 3) is 0.40 m in the frames where the ankle is seen and 20 %
        // too long in the (more numerous) frames where the detector only guessed it.
        let seen = Set(stride(from: 0, to: n, by: 3))
        var p = p0
        var scores = [Float](repeating: 0.9, count: n * 17)
        for i in 0..<n {
            let knee = Array(p[(i * 51 + 6)..<(i * 51 + 9)]), ankle = Array(p[(i * 51 + 9)..<(i * 51 + 12)])
            let length = seen.contains(i) ? 0.40 : 0.48
            let moved = add(knee, normalised(sub(ankle, knee)).map { $0 * length })
            p.replaceSubrange((i * 51 + 9)..<(i * 51 + 12), with: moved)
            if !seen.contains(i) { scores[i * 17 + 3] = 0.3 }
        }
        let present = Array(repeating: true, count: n)
        func shin(_ fit: BVH.Fit) -> Double { dot(fit.offsets[3], fit.offsets[3]).squareRoot() }

        let withScores = BVH.fit(positions: p, present: present, scores: scores)
        #expect(abs(shin(withScores) - 0.40) < 1e-9, "shin \(shin(withScores)) m")
        for i in 0..<n {   // every frame of the fitted skeleton has that length
            let d = sub(Array(withScores.positions[(i * 51 + 9)..<(i * 51 + 12)]), Array(withScores.positions[(i * 51 + 6)..<(i * 51 + 9)]))
            #expect(abs(dot(d, d).squareRoot() - 0.40) < 1e-9)
        }
        // The other bones keep the lengths of a fit without scores (the ankle's score only touches the shin).
        let plain = BVH.fit(positions: p, present: present)
        #expect(abs(shin(plain) - 0.48) < 1e-9, "without scores the guessed frames win: \(shin(plain)) m")
        for j in 1..<17 where j != 3 {
            #expect(maxAbs(withScores.offsets[j], plain.offsets[j]) < 1e-12, "joint \(Skeleton.jointNames[j])")
        }
        // Too few seen frames (4 < 5): all frames are used.
        var rare = [Float](repeating: 0.9, count: n * 17)
        for i in 0..<n where i % 3 != 0 || i >= 12 { rare[i * 17 + 3] = 0.3 }
        #expect(abs(shin(BVH.fit(positions: p, present: present, scores: rare)) - 0.48) < 1e-9)
        // The threshold scales with the frames with a person: 10 % of them.
        var tenth = [Float](repeating: 0.3, count: n * 17)
        let needed = max(5, Int((0.1 * Double(n)).rounded(.up)))
        for i in 0..<n where i % 3 == 0 { tenth[i * 17 + 3] = 0.9; tenth[i * 17 + 2] = 0.9 }
        var fewer = tenth
        var kept = 0
        for i in 0..<n where i % 3 == 0 { kept += 1; if kept >= needed { fewer[i * 17 + 3] = 0.3 } }   // needed - 1 seen
        #expect(abs(shin(BVH.fit(positions: p, present: present, scores: tenth)) - 0.40) < 1e-9)
        #expect(abs(shin(BVH.fit(positions: p, present: present, scores: fewer)) - 0.48) < 1e-9)
    }
}

private func maxAbs(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

@Suite("BVH through the command line and Blender", .enabled(if: Paths.sharedAvailable, "../shared/fixtures/mhformer is absent: needs a model"))
struct BVHCommandTests {
    /// lift → .csv (rigid skeleton) and .bvh; returns (folder, FK positions in camera axes, CSV values).
    static func liftBoth() throws -> (URL, [[Double]], [Float], Int) {
        let dir = try Paths.tempDir()
        let weights = try convertCheckpoint(Paths.mhformerFixtures.appendingPathComponent("small81/small_model.pth"), into: dir)
        let input = Paths.repo.appendingPathComponent("Samples/cmu02_punch_2d.csv").path
        for out in ["rigid.csv", "motion.bvh"] {
            let r = try run(Paths.tool, ["lift", "--keypoints", input, "--weights", weights, "-o", dir.appendingPathComponent(out).path, "--rigid-skeleton"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let (_, csv) = try read3DCSV(dir.appendingPathComponent("rigid.csv").path)
        let (_, _, fk) = try BVH.forwardKinematics(try String(contentsOf: dir.appendingPathComponent("motion.bvh"), encoding: .utf8))
        // BVH is Y up: (x, -y, -z) of the camera frame.
        let camera = fk.map { row in row.enumerated().map { $0.offset % 3 == 0 ? $0.element : -$0.element } }
        return (dir, camera, csv, csv.count / 51)
    }

    @Test("positions rebuilt from the BVH by forward kinematics match the 3D CSV within 5 mm")
    func cliRoundTrip() throws {
        let (dir, fk, csv, n) = try BVHCommandTests.liftBoth()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(fk.count == n && n == 500)
        var worst = 0.0
        for i in 0..<n { for k in 0..<51 { worst = max(worst, abs(fk[i][k] - Double(csv[i * 51 + k]))) } }
        #expect(worst < 0.005, "max coordinate difference \(worst * 1000) mm")
    }

    @Test("Blender imports the BVH: frame count, joint names, joint positions", .enabled(if: Blender.path != nil, "blender is not installed (bash Scripts/sample/check-bvh-blender.sh installs it): Blender import not checked"))
    func blenderImport() throws {
        let (dir, fk, _, n) = try BVHCommandTests.liftBoth()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try run(Blender.path!, ["-b", "--factory-startup", "--python", Paths.repo.appendingPathComponent("Scripts/sample/import_bvh.py").path,
                                       "--", dir.appendingPathComponent("motion.bvh").path, "1", "250"])
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("MHFORMER_BVH ") }, "Blender printed no result: \(r.stderr.suffix(500))")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(13).utf8)) as? [String: Any])
        #expect(obj["type"] as? String == "ARMATURE")
        #expect(obj["bones"] as? [String] == Skeleton.jointNames)
        #expect(obj["frame_range"] as? [Double] == [1, Double(n)])
        #expect(obj["fps"] as? Int == 50)
        // Blender's importer turns Y-up into Z-up: (x, y, z)_bvh → (x, -z, y). In camera axes that is (x, z, -y).
        let heads = try #require(obj["heads"] as? [String: [String: [Double]]])
        var worst = 0.0
        for (frameText, bones) in heads {
            let i = Int(frameText)! - 1
            for (j, name) in Skeleton.jointNames.enumerated() {
                let h = try #require(bones[name])
                let cam = [h[0], -h[2], h[1]]
                for c in 0..<3 { worst = max(worst, abs(cam[c] - fk[i][3 * j + c])) }
            }
        }
        #expect(heads.count == 2)
        #expect(worst < 0.005, "Blender's joint positions differ from ours by \(worst * 1000) mm")
    }
}
