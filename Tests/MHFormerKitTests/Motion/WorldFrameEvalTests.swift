// The world frame on the sample video's exact ground truth (Samples/cmu131_walk_*: CMU mocap seen by
// a known camera): how far the recovered root trajectory and the world-frame joints are from the
// truth, (a) from the true root-relative 3D (the geometry alone), (b) from MHFormer's 3D on the exact
// 2D, (c) from MHFormer's 3D on BlazePose's 2D (the whole pipeline). Prints docs/accuracy.md's table.

import Foundation
import Testing
@testable import MHFormerKit

private struct SampleTruth {
    let kp: Keypoints2D                 // exact 2D projections
    let rootRelative: [Float]           // (N, 17, 3) camera frame
    let pelvisCamera: [Double]          // (N, 3)
    let worldJoints: [Double]           // (N, 17, 3) mocap world: Y up, floor at 0
    let camera: PinholeCamera

    static func load() throws -> SampleTruth {
        let kp = try Keypoints2DCSV.read(path: SampleVideo.gt2D.path)
        let (_, rel) = try read3DCSV(SampleVideo.gt3D.path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Paths.repo.appendingPathComponent("Samples/cmu131_walk_camera.json"))) as! [String: Any]
        let K = json["K"] as! [[Double]], R = json["R"] as! [[Double]], t = json["t_m"] as! [Double]
        let pelvis = (json["pelvis_camera_m"] as! [[Double]]).flatMap { $0 }
        var world = [Double](repeating: 0, count: rel.count)
        for i in 0..<kp.count { for j in 0..<17 {
            let c = (0..<3).map { Double(rel[i * 51 + 3 * j + $0]) + pelvis[i * 3 + $0] - t[$0] }
            for r in 0..<3 { world[i * 51 + 3 * j + r] = R[0][r] * c[0] + R[1][r] * c[1] + R[2][r] * c[2] }   // Rᵀ(x - t)
        } }
        return SampleTruth(kp: kp, rootRelative: rel, pelvisCamera: pelvis, worldJoints: world,
                           camera: PinholeCamera(focalPx: K[0][0], cx: K[0][2], cy: K[1][2]))
    }
}

/// Mean joint error (mm) after the best rotation about the vertical and horizontal shift (the world
/// frame's heading and origin are conventions), and the mean error of heights above the ground (mm).
private func worldErrors(_ mine: [Float], _ truth: [Double], frames n: Int) -> (mpjpe: Double, height: Double) {
    var sx = 0.0, sz = 0.0, tx = 0.0, tz = 0.0
    let m = Double(n * 17)
    for k in stride(from: 0, to: n * 51, by: 3) { sx += Double(mine[k]); sz += Double(mine[k + 2]); tx += truth[k]; tz += truth[k + 2] }
    sx /= m; sz /= m; tx /= m; tz /= m
    var a = 0.0, b = 0.0           // best yaw from the 2D cross-covariance of the XZ coordinates
    for k in stride(from: 0, to: n * 51, by: 3) {
        let px = Double(mine[k]) - sx, pz = Double(mine[k + 2]) - sz, qx = truth[k] - tx, qz = truth[k + 2] - tz
        a += px * qx + pz * qz; b += px * qz - pz * qx
    }
    let yaw = atan2(b, a), c = cos(yaw), s = sin(yaw)
    var err = 0.0, herr = 0.0
    for k in stride(from: 0, to: n * 51, by: 3) {
        let px = Double(mine[k]) - sx, pz = Double(mine[k + 2]) - sz
        let dx = c * px - s * pz + tx - truth[k], dz = s * px + c * pz + tz - truth[k + 2], dy = Double(mine[k + 1]) - truth[k + 1]
        err += (dx * dx + dy * dy + dz * dz).squareRoot()
        herr += abs(dy)
    }
    return (err / m * 1000, herr / m * 1000)
}

private func rootError(_ root: [Double], _ truth: [Double]) -> Double {
    var e = 0.0
    for i in 0..<(root.count / 3) {
        let d = (0..<3).map { root[i * 3 + $0] - truth[i * 3 + $0] }
        e += dot(d, d).squareRoot()
    }
    return e / Double(root.count / 3) * 1000
}

@Suite("world frame on the sample's ground truth")
struct WorldFrameEvalTests {
    @Test("true 3D: root trajectory and ground recovered from the 2D alone")
    func geometry() throws {
        let gt = try SampleTruth.load()
        let pose = Pose3DSequence(frames: gt.kp.frames, times: gt.kp.times, joints: gt.rootRelative, present: gt.kp.present)
        let w = WorldMotion.make(keypoints: gt.kp, cameraPose: pose, camera: gt.camera, rootFilter: .gaussian(seconds: 0), fps: 25)
        let root = rootError(w.rootInCamera, gt.pelvisCamera)
        let (mpjpe, height) = worldErrors(w.joints, gt.worldJoints, frames: gt.kp.count)
        print("world table | true 3D, exact 2D, true focal | root \(root) mm | world joints \(mpjpe) mm | heights \(height) mm | up from \(w.frame.upSource)")
        #expect(root < 2, "root error \(root) mm from exact data")
        #expect(mpjpe < 60 && height < 60)
    }

    @Test("MHFormer's 3D (the project's weights) on exact and on BlazePose 2D",
          .enabled(if: DefaultWeights.find() != nil && SampleVideo.ready, "needs Models/mhformer-cmu-T*.safetensors and BlazePose's models"))
    func model() throws {
        let gt = try SampleTruth.load()
        let lifter = Lifter(model: try MHFormerModel(path: DefaultWeights.find()!))
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blaze2D = dir.appendingPathComponent("k.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", dir.appendingPathComponent("o.csv").path, "--keypoints-2d", blaze2D])
        try #require(r.status == 0, "\(r.stderr)")
        for (label, kp, focal) in [("exact 2D, true focal", gt.kp, gt.camera.focalPx),
                                   ("BlazePose 2D, default 60° focal", try Keypoints2DCSV.read(path: blaze2D), PinholeCamera.assumed(width: 640, height: 480).focalPx),
                                   ("exact 2D, focal +25 %", gt.kp, gt.camera.focalPx * 1.25)] {
            let pose = lifter.lift(kp)
            let camera = PinholeCamera(focalPx: focal, cx: 320, cy: 240)
            let w = WorldMotion.make(keypoints: kp, cameraPose: pose, camera: camera, fps: 25)
            let root = rootError(w.rootInCamera, gt.pelvisCamera)
            let (mpjpe, height) = worldErrors(w.joints, gt.worldJoints, frames: kp.count)
            print("world table | MHFormer 3D, \(label) | root \(root) mm | world joints \(mpjpe) mm | heights \(height) mm | up from \(w.frame.upSource)")
            if label.contains("+25 %") {
                // a wrong focal length scales the depth: the trajectory is off by about a quarter of the distance
                #expect(root > 500, "a 25 % focal error should show in the root depth")
            } else {
                #expect(root < 600 && mpjpe < 400, "root \(root) mm, world joints \(mpjpe) mm")
            }
        }
    }
}
