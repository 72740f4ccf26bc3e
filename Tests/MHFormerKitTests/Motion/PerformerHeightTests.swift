// `--height METRES`: the standing-height rule (PerformerHeight) on a skeleton of known bones, the
// scaling it does, and the command line: the written skeleton has the given height, the world
// frame's distances follow it, and bad values or several people are refused with one line.

import Foundation
import Testing
@testable import MHFormerKit

@Suite("performer height (--height)")
struct PerformerHeightTests {
    /// One frame of a skeleton with chosen bone lengths (metres): legs along -Y, trunk along +Y, arms out.
    static func skeleton(shin: Float, thigh: Float, trunk: [Float], frames: Int = 3) -> Pose3DSequence {
        var p = [SIMD3<Float>](repeating: .zero, count: 17)
        p[1] = [-0.1, 0, 0]; p[4] = [0.1, 0, 0]
        p[2] = p[1] - [0, thigh, 0]; p[5] = p[4] - [0, thigh, 0]
        p[3] = p[2] - [0, shin, 0]; p[6] = p[5] - [0, shin, 0]
        p[7] = [0, trunk[0], 0]; p[8] = p[7] + [0, trunk[1], 0]; p[9] = p[8] + [0, trunk[2], 0]; p[10] = p[9] + [0, trunk[3], 0]
        p[11] = p[8] + [0.2, 0, 0]; p[12] = p[11] + [0.3, 0, 0]; p[13] = p[12] + [0.25, 0, 0]
        p[14] = p[8] - [0.2, 0, 0]; p[15] = p[14] - [0.3, 0, 0]; p[16] = p[15] - [0.25, 0, 0]
        let row = p.flatMap { [$0.x, $0.y, $0.z] }
        return Pose3DSequence(frames: Array(0..<frames), times: Array(repeating: nil, count: frames),
                              joints: Array((0..<frames).map { _ in row }.joined()), present: Array(repeating: true, count: frames))
    }

    static func bone(_ pose: Pose3DSequence, _ i: Int, _ a: Int, _ b: Int) -> Float {
        let d = pose.joint(i, a) - pose.joint(i, b)
        return (d * d).sum().squareRoot()
    }

    @Test("height = shin + thigh + trunk bones + 0.10 m; scaling reaches the asked height and keeps the proportions")
    func rule() throws {
        let pose = Self.skeleton(shin: 0.42, thigh: 0.44, trunk: [0.24, 0.26, 0.1, 0.15])
        let h = try #require(PerformerHeight.height(of: pose))
        #expect(abs(h - (0.42 + 0.44 + 0.24 + 0.26 + 0.1 + 0.15 + 0.10)) < 1e-6)
        let tall = PerformerHeight.scaled(pose, toHeight: 1.92)
        #expect(abs(try #require(PerformerHeight.height(of: tall)) - 1.92) < 1e-5)
        let factor = Self.bone(tall, 1, 13, 12) / Self.bone(pose, 1, 13, 12)
        #expect(abs(factor - Float((1.92 - 0.10) / (h - 0.10))) < 1e-5)
        for (a, b) in [(3, 2), (0, 7), (11, 12), (1, 4)] {
            #expect(abs(Self.bone(tall, 2, a, b) / Self.bone(pose, 2, a, b) - factor) < 1e-5, "bone \(a)-\(b)")
        }
        #expect(tall.joint(0, 0) == pose.joint(0, 0))
        // Frames without a person neither count nor change.
        var gap = pose
        gap.present[1] = false
        for k in 0..<51 { gap.joints[51 + k] = 100 }
        #expect(abs(try #require(PerformerHeight.height(of: gap)) - h) < 1e-6)
        #expect(PerformerHeight.scaled(gap, toHeight: 1.5).row(1).allSatisfy { $0 == 100 })
    }

    static let gt2D = Paths.repo.appendingPathComponent("Samples/cmu131_walk_gt_2d.csv").path

    @Test("lift --height: the written skeleton (camera and world frame) has that height; the root's distance and height above the ground scale with it")
    func cli() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func lift(_ extra: [String]) throws -> Pose3DSequence {
            let out = dir.appendingPathComponent("out\(extra.joined()).csv").path
            let r = try run(Paths.tool, ["lift", "--keypoints", Self.gt2D, "-o", out] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let (frames, values) = try read3DCSV(out)
            return Pose3DSequence(frames: frames, times: Array(repeating: nil, count: frames.count), joints: values,
                                  present: Array(repeating: true, count: frames.count))
        }
        let own = try #require(PerformerHeight.height(of: try lift([])))
        for h in [1.55, 1.9] {
            let camera = try lift(["--height", "\(h)"])
            let got = try #require(PerformerHeight.height(of: camera))
            #expect(abs(got - h) < 0.002, "camera frame: \(got) m for --height \(h) (own \(own))")
        }
        // World frame: the skeleton has the height; the pelvis's height above the ground scales with
        // the skeleton (the feet stand on it) and its mean distance from the camera does too (the
        // same picture made by a bigger body further away).
        let small = try lift(["--coords", "world", "--height", "1.55"]), big = try lift(["--coords", "world", "--height", "1.9"])
        #expect(abs(try #require(PerformerHeight.height(of: big)) - 1.9) < 0.005)
        let factor = Float((1.9 - 0.10) / (1.55 - 0.10))
        let meanPelvisY = { (p: Pose3DSequence) in (0..<p.count).map { p.joint($0, 0).y }.reduce(0, +) / Float(p.count) }
        #expect(abs(meanPelvisY(big) / meanPelvisY(small) - factor) < 0.03, "\(meanPelvisY(big)) / \(meanPelvisY(small))")
        // The walk across the picture: the same 2D path at a larger distance is a longer path.
        let walked = { (p: Pose3DSequence) -> Float in
            let d = p.joint(p.count - 1, 0) - p.joint(0, 0)
            return (d.x * d.x + d.z * d.z).squareRoot()
        }
        #expect(walked(small) > 0.5)
        #expect(abs(walked(big) / walked(small) - factor) < 0.05, "\(walked(big)) / \(walked(small)) vs \(factor)")
    }

    @Test("a height out of range, or with several people, is refused with one line and nothing written")
    func refused() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.csv").path
        for (args, phrase) in [(["lift", "--keypoints", Self.gt2D, "-o", out, "--height", "175"], "between 0.5 and 2.6"),
                               (["lift", "--keypoints", Self.gt2D, "-o", out, "--height", "0.2"], "between 0.5 and 2.6"),
                               (["run", Paths.repo.appendingPathComponent("Samples/crowd3_cross.mp4").path, "-o", out, "--people", "all", "--height", "1.8"], "one performer")] {
            let r = try run(Paths.tool, args)
            #expect(r.status != 0)
            #expect(r.stderr.contains(phrase), "\(args): \(r.stderr)")
            #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
