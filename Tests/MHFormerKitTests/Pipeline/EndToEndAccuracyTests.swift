// End-to-end accuracy on the project's sample video (a figure rendered from CMU motion capture of a
// validation subject, so the model never saw this motion or body): MPJPE and P-MPJPE of the 3D
// joints against the exact ground truth, from the video (BlazePose 2D) and from the exact 2D, and
// what One Euro smoothing does to error and jitter. Prints docs/accuracy.md's table rows.

import Foundation
import Testing
@testable import MHFormerKit

/// Mean per-joint position error (mm) over frames, root-relative camera frame.
func mpjpe(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for k in stride(from: 0, to: a.count, by: 3) {
        let d = (0..<3).map { Double(a[k + $0] - b[k + $0]) }
        s += dot(d, d).squareRoot()
    }
    return s / Double(a.count / 3) * 1000
}

/// MPJPE after the best similarity transform per frame (Procrustes), mm.
func pmpjpe(_ a: [Float], _ b: [Float]) -> Double {
    var total = 0.0
    let n = a.count / 51
    for i in 0..<n {
        let p = (0..<17).map { j in (0..<3).map { Double(a[i * 51 + 3 * j + $0]) } }
        let q = (0..<17).map { j in (0..<3).map { Double(b[i * 51 + 3 * j + $0]) } }
        let mp = (0..<3).map { c in p.map { $0[c] }.reduce(0, +) / 17 }, mq = (0..<3).map { c in q.map { $0[c] }.reduce(0, +) / 17 }
        let pc = p.map { sub($0, mp) }, qc = q.map { sub($0, mq) }
        // H = Σ p qᵀ; R from the polar decomposition of H (via the eigen-decomposition of HᵀH)
        var h = [Double](repeating: 0, count: 9)
        for j in 0..<17 { for r in 0..<3 { for c in 0..<3 { h[r * 3 + c] += pc[j][r] * qc[j][c] } } }
        let hm = Mat3(m: h)
        let hth = (hm.transposed * hm).m
        let (vals, vecs) = symmetricEigen3(hth)
        // (HᵀH)^(-1/2)
        var inv = [Double](repeating: 0, count: 9)
        for k in 0..<3 where vals[k] > 1e-18 { for r in 0..<3 { for c in 0..<3 { inv[r * 3 + c] += vecs[k][r] * vecs[k][c] / vals[k].squareRoot() } } }
        var rot = hm * Mat3(m: inv)              // maps p onto q directions: q ≈ s · Rᵀ p ... use as Rᵀ
        let det = rot.m[0] * (rot.m[4] * rot.m[8] - rot.m[5] * rot.m[7]) - rot.m[1] * (rot.m[3] * rot.m[8] - rot.m[5] * rot.m[6]) + rot.m[2] * (rot.m[3] * rot.m[7] - rot.m[4] * rot.m[6])
        if det < 0 {   // reflection: flip the axis of the smallest singular value
            var inv2 = [Double](repeating: 0, count: 9)
            for k in 0..<3 where vals[k] > 1e-18 {
                let sgn = k == 0 ? -1.0 : 1.0
                for r in 0..<3 { for c in 0..<3 { inv2[r * 3 + c] += sgn * vecs[k][r] * vecs[k][c] / vals[k].squareRoot() } }
            }
            rot = hm * Mat3(m: inv2)
        }
        let rt = rot.transposed                    // q ≈ s · rt · p
        let rp = pc.map { rt.apply($0) }
        let num = (0..<17).map { dot(rp[$0], qc[$0]) }.reduce(0, +), den = pc.map { dot($0, $0) }.reduce(0, +)
        let s = num / max(den, 1e-18)
        for j in 0..<17 { let d = sub(rp[j].map { $0 * s }, qc[j]); total += dot(d, d).squareRoot() }
    }
    return total / Double(n * 17) * 1000
}

/// Mean frame-to-frame joint displacement (mm per frame): jitter plus real motion.
func meanStep(_ a: [Float]) -> Double {
    let n = a.count / 51
    var s = 0.0
    for i in 1..<n { for k in stride(from: 0, to: 51, by: 3) {
        let d = (0..<3).map { Double(a[i * 51 + k + $0] - a[(i - 1) * 51 + k + $0]) }
        s += dot(d, d).squareRoot()
    } }
    return s / Double((n - 1) * 17) * 1000
}

@Suite("end-to-end accuracy on the sample video", .enabled(if: DefaultWeights.find() != nil && SampleVideo.ready,
                                                         "needs Models/mhformer-cmu-T*.safetensors and BlazePose's models"))
struct EndToEndAccuracyTests {
    @Test("MPJPE of mhformer run against the rendered motion; smoothing's effect")
    func sampleVideoMPJPE() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, truth) = try read3DCSV(SampleVideo.gt3D.path)
        var rows: [(String, [Float])] = []
        let blaze2D = dir.appendingPathComponent("k.csv").path
        // The model's raw output (--no-rigid-skeleton --no-refine), then the rigid skeleton.
        for (label, args) in [("video → BlazePose 2D, raw", ["run", SampleVideo.video.path, "--keypoints-2d", blaze2D]),
                              ("video → BlazePose 2D, raw, --smooth", ["run", SampleVideo.video.path, "--smooth"]),
                              ("exact 2D (lift), raw", ["lift", "--keypoints", SampleVideo.gt2D.path])] {
            let out = dir.appendingPathComponent("o.csv").path
            let r = try run(Paths.tool, args + ["-o", out, "--no-rigid-skeleton", "--no-refine"])
            try #require(r.status == 0, "\(r.stderr)")
            let (frames, values) = try read3DCSV(out)
            try #require(frames.count == 200)
            rows.append((label, values))
        }
        // The default (rigid skeleton, bone lengths from the frames where the joints are seen) is the
        // same fit applied to the raw output: computed here rather than by another BlazePose run.
        let kp = try Keypoints2DCSV.read(path: blaze2D)
        let rigid = BVH.fit(positions: rows[0].1.map(Double.init), present: kp.present, scores: kp.scores).positions.map(Float.init)
        rows.append(("video → BlazePose 2D, rigid skeleton (default)", rigid))
        print("e2e table | ground truth | - | - | mean step \(meanStep(truth)) mm/frame")
        for (label, v) in rows {
            print("e2e table | \(label) | MPJPE \(mpjpe(v, truth)) mm | P-MPJPE \(pmpjpe(v, truth)) mm | mean step \(meanStep(v)) mm/frame")
        }
        #expect(mpjpe(rows[0].1, truth) < 200, "end-to-end MPJPE \(mpjpe(rows[0].1, truth)) mm")
        #expect(mpjpe(rows[3].1, truth) < 200, "end-to-end MPJPE, rigid skeleton \(mpjpe(rows[3].1, truth)) mm")
        #expect(meanStep(rows[1].1) < meanStep(rows[0].1), "smoothing should reduce frame-to-frame motion")
        // Procrustes sanity: a pose against itself is 0, a scaled copy too.
        #expect(pmpjpe(truth, truth) < 1e-6)
        #expect(pmpjpe(truth.map { $0 * 1.3 }, truth) < 1e-3)
    }
}

@Suite("accuracy metrics")
struct MetricTests {
    @Test("P-MPJPE removes rotation, scale and translation; MPJPE does not")
    func procrustes() throws {
        let (_, truth) = try read3DCSV(SampleVideo.gt3D.path)
        let rot = Mat3.rotation(from: [0, 0, 1], to: normalised([0.3, -0.4, 0.8]))
        var moved = truth
        for k in stride(from: 0, to: truth.count, by: 3) {
            let v = rot.apply([Double(truth[k]), Double(truth[k + 1]), Double(truth[k + 2])])
            for c in 0..<3 { moved[k + c] = Float(0.8 * v[c] + [0.1, -0.2, 0.3][c]) }
        }
        #expect(pmpjpe(moved, truth) < 0.01)
        #expect(mpjpe(moved, truth) > 50)
        var noisy = truth
        noisy[3 * 13] += 0.05                      // one wrist 5 cm off in one frame
        #expect(abs(mpjpe(noisy, truth) - 50.0 / Double(truth.count / 3)) < 1e-3)
    }
}
