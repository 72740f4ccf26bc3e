// The motion stage end to end, against exact truth: the sample walk (a rendered video of CMU motion
// capture), a standing clip and a jumping clip (our BlazePose's 2D on mannequin renders of training
// mocap, Training/render/sample). Metrics as Scripts/bench/motion-quality.py computes them.

import Foundation
import Testing
@testable import MHFormerKit

/// A motion as (N, 17, 3) metres, world frame (Y up, the ground at 0), with foot contacts when given.
struct WorldMotionFile {
    var joints: [[Double]]          // per frame, 51 values (empty when no person)
    var contacts: [[Bool]]?         // per frame, [left, right]
    var count: Int { joints.count }

    /// `mhformer ... --coords world -o OUT.json`.
    static func read(json path: String) throws -> WorldMotionFile {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        let frames = root["frames"] as! [[String: Any]]
        let joints = frames.map { f in ((f["joints"] as? [[Double]]) ?? []).flatMap { $0 } }
        let hasContacts = frames.contains { $0["left_foot_contact"] != nil }
        let contacts = hasContacts ? frames.map { f in [(f["left_foot_contact"] as? Int) == 1, (f["right_foot_contact"] as? Int) == 1] } : nil
        return WorldMotionFile(joints: joints, contacts: contacts)
    }

    /// A truth CSV of Scripts/fixtures/render-record-to-csv.py (frame, time_s, 51 values).
    static func read(truthCSV path: String) throws -> WorldMotionFile {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        return WorldMotionFile(joints: lines.map { $0.split(separator: ",").dropFirst(2).map { Double($0)! } }, contacts: nil)
    }

    func joint(_ i: Int, _ j: Int) -> [Double] { Array(joints[i][(3 * j)..<(3 * j + 3)]) }
}

/// The measures of motion-quality.py on one clip (ours scaled to the truth's leg length).
struct MotionQuality {
    static let ankles = [6, 3]          // left, right: the contacts' order

    /// Planted truth: the ankle slower than 0.2 m/s and within 5 cm of its standing height.
    static func planted(_ truth: WorldMotionFile, rate: Double) -> [[Bool]] {
        let n = truth.count
        return ankles.map { a in
            let heights = (0..<n).map { truth.joint($0, a)[1] }.sorted()
            let standing = heights[Int(Double(n - 1) * 0.05)]
            return (0..<n).map { i in
                let p = truth.joint(max(i - 1, 0), a), q = truth.joint(min(i + 1, n - 1), a)
                let speed = norm(sub(q, p)) * rate / Double(min(i + 1, n - 1) - max(i - 1, 0))
                return speed < 0.2 && truth.joint(i, a)[1] < standing + 0.05
            }
        }
    }

    static func legLength(_ m: WorldMotionFile) -> Double {
        var total = 0.0
        for i in 0..<m.count { for (h, k, a) in [(1, 2, 3), (4, 5, 6)] {
            total += norm(sub(m.joint(i, h), m.joint(i, k))) + norm(sub(m.joint(i, k), m.joint(i, a)))
        } }
        return total / Double(2 * m.count)
    }

    /// Mean ankle step (mm/frame) on planted frames, mean height of planted ankles above standing
    /// (float, mm), mean depth of any ankle below standing (penetration, mm), contact recall and precision.
    static func feet(_ ours: WorldMotionFile, truth: WorldMotionFile, rate: Double) -> (slide: Double, float: Double, penetration: Double, recall: Double, precision: Double) {
        let plant = planted(truth, rate: rate)
        let scale = legLength(truth) / legLength(ours)
        var slide: [Double] = [], float: [Double] = [], below: [Double] = []
        var hits = 0, plantedCount = 0, claimed = 0
        for (side, a) in ankles.enumerated() {
            for i in 0..<ours.count {
                let height = ours.joint(i, a)[1] * scale - WorldFrame.ankleHeight
                below.append(max(-height, 0))
                if plant[side][i] { float.append(max(height, 0)); plantedCount += 1 }
                if i > 0 && plant[side][i] && plant[side][i - 1] { slide.append(norm(sub(ours.joint(i, a), ours.joint(i - 1, a))) * scale) }
                if let c = ours.contacts?[i][side], c { claimed += 1; if plant[side][i] { hits += 1 } }
            }
        }
        func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) * 1000 }
        return (mean(slide), mean(float), mean(below), Double(hits) / Double(max(plantedCount, 1)), Double(hits) / Double(max(claimed, 1)))
    }

    /// Mean norm of the third difference of the mid-hip-relative limb joints × rate³ / 10.
    static func jitter(_ m: WorldMotionFile, rate: Double) -> Double {
        let limbs = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]
        func rel(_ i: Int, _ j: Int) -> [Double] {
            let hip = add(m.joint(i, 1), m.joint(i, 4)).map { $0 / 2 }
            return sub(m.joint(i, j), hip)
        }
        var total = 0.0, count = 0
        for i in 3..<m.count {
            for j in limbs {
                let d = (0..<3).map { c in rel(i, j)[c] - 3 * rel(i - 1, j)[c] + 3 * rel(i - 2, j)[c] - rel(i - 3, j)[c] }
                total += norm(d); count += 1
            }
        }
        return total / Double(count) * rate * rate * rate / 10
    }
}

/// The sample walk's truth in the world frame (Samples/cmu131_walk_camera.json: Rᵀ(x − t)).
func sampleWalkTruth() throws -> WorldMotionFile {
    let (_, rel) = try read3DCSV(SampleVideo.gt3D.path)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Paths.repo.appendingPathComponent("Samples/cmu131_walk_camera.json"))) as! [String: Any]
    let R = json["R"] as! [[Double]], t = json["t_m"] as! [Double]
    let pelvis = json["pelvis_camera_m"] as! [[Double]]
    let n = pelvis.count
    return WorldMotionFile(joints: (0..<n).map { i in
        (0..<17).flatMap { j -> [Double] in
            let c = (0..<3).map { Double(rel[i * 51 + 3 * j + $0]) + pelvis[i][$0] - t[$0] }
            return (0..<3).map { r in R[0][r] * c[0] + R[1][r] * c[1] + R[2][r] * c[2] }
        }
    }, contacts: nil)
}

@Suite("Motion stage on the sample walk", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
struct MotionStageWalkTests {
    /// The issue's goals on the walk: feet that stay planted (≤ 5 mm a frame on true contact frames,
    /// 22 without the stage), on the ground (float and penetration ≤ 20 mm), contacts found (recall
    /// ≥ 0.9), jitter near the truth's (≤ 1.5×).
    @Test("the sample walk: planted feet stay put and on the ground, contacts recall >= 0.9, jitter <= 1.5x the truth's")
    func walk() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let out = dir.path("walk.json"), raw = dir.path("raw.json")
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "--coords", "world", "-o", out, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let truth = try sampleWalkTruth()
        let ours = try WorldMotionFile.read(json: out)
        #expect(ours.count == truth.count && ours.joints.allSatisfy { $0.count == 51 && $0.allSatisfy { $0.isFinite } })
        let feet = MotionQuality.feet(ours, truth: truth, rate: 25)
        #expect(feet.slide <= 5, "foot sliding \(feet.slide) mm/frame on true contact frames")
        #expect(feet.float <= 20 && feet.penetration <= 20, "float \(feet.float) mm, penetration \(feet.penetration) mm")
        #expect(feet.recall >= 0.9, "contact recall \(feet.recall) (precision \(feet.precision))")
        let jitter = MotionQuality.jitter(ours, rate: 25), truthJitter = MotionQuality.jitter(truth, rate: 25)
        #expect(jitter <= 1.5 * truthJitter, "jitter \(jitter), truth \(truthJitter)")
        // Without the stage the same measures are far off: what the stage is for.
        let r2 = try run(Paths.tool, ["run", SampleVideo.video.path, "--coords", "world", "--no-refine", "-o", raw, "--weights", weights])
        #expect(r2.status == 0, "\(r2.stderr)")
        let before = try WorldMotionFile.read(json: raw)
        #expect(before.contacts == nil)
        #expect(MotionQuality.feet(before, truth: truth, rate: 25).slide > 3 * feet.slide)
        #expect(MotionQuality.jitter(before, rate: 25) > 1.5 * jitter)
    }

    @Test("--contacts adds left_foot_contact,right_foot_contact to the CSV, the same as the JSON's")
    func contactColumns() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let kp2D = dir.path("walk_2d.csv"), csv = dir.path("walk.csv"), json = dir.path("walk.json")
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", csv, "--contacts", "--keypoints-2d", kp2D, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows[0].hasSuffix(",left_foot_contact,right_foot_contact"))
        let csvContacts = rows.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).suffix(2).map { $0 == "1" } }
        let r2 = try run(Paths.tool, ["lift", "--keypoints", kp2D, "-o", json, "--weights", weights])
        #expect(r2.status == 0, "\(r2.stderr)")
        // lift reads the 2D CSV, which has no heels and toes: its contacts may differ a little.
        let jsonContacts = try #require(try WorldMotionFile.read(json: json).contacts)
        let agree = zip(csvContacts, jsonContacts).filter { $0 == $1 }.count
        #expect(csvContacts.count == 200 && Double(agree) / 200 > 0.9, "\(agree) of 200 frames agree")
        let json2 = dir.path("walk2.json")
        #expect(try run(Paths.tool, ["run", SampleVideo.video.path, "-o", json2, "--weights", weights]).status == 0)
        #expect(try WorldMotionFile.read(json: json2).contacts! == csvContacts)
        // --contacts: the CSV only, and the stage must be on.
        let e = try run(Paths.tool, ["lift", "--keypoints", kp2D, "-o", dir.path("x.json"), "--contacts"])
        #expect(e.status == 1 && e.stderr.hasPrefix("error: --contacts adds columns to the CSV output only"), "\(e.stderr)")
        let e2 = try run(Paths.tool, ["lift", "--keypoints", kp2D, "-o", dir.path("x.csv"), "--contacts", "--no-refine"])
        #expect(e2.status == 1 && e2.stderr == "error: --contacts needs the motion stage, which --no-refine turns off\n", "\(e2.stderr)")
    }
}

/// Renders of training mocap with our BlazePose's 2D (Training/render/sample), lifted from that 2D.
enum RenderRecords {
    static let folder = Paths.repo.appendingPathComponent("Training/render/sample")
    static var ready: Bool { FileManager.default.fileExists(atPath: folder.appendingPathComponent("t005_cmu8_jumping_test1.npz").path) }

    /// `mhformer lift --coords world` of a record's 2D, and its truth.
    static func lift(_ name: String, in dir: ClipDir) throws -> (ours: WorldMotionFile, truth: WorldMotionFile) {
        let kp = dir.path("\(name)_2d.csv"), truth = dir.path("\(name)_truth.csv"), out = dir.path("\(name).json")
        let c = try runPython([Paths.repo.appendingPathComponent("Scripts/fixtures/render-record-to-csv.py").path,
                               folder.appendingPathComponent("\(name).npz").path, kp, truth])
        guard c.status == 0 else { throw MHFormerError("render-record-to-csv.py: \(c.stderr)") }
        let weights = try #require(try anyWeights(in: dir.url))
        let r = try run(Paths.tool, ["lift", "--keypoints", kp, "--coords", "world", "-o", out, "--weights", weights])
        guard r.status == 0 else { throw MHFormerError("lift: \(r.stderr)") }
        return (try WorldMotionFile.read(json: out), try WorldMotionFile.read(truthCSV: truth))
    }
}

@Suite("Motion stage on rendered standing and jumping clips", .enabled(if: RenderRecords.ready, "Training/render/sample absent"))
struct MotionStageRenderTests {
    /// CMU "directing traffic": standing in place, arms moving, a few small steps.
    @Test("a standing clip stays still: jitter within 1.5x the truth's, the feet on the ground")
    func standing() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (ours, truth) = try RenderRecords.lift("t000_cmu8_directing_traffic_train1", in: dir)
        let jitter = MotionQuality.jitter(ours, rate: 25), truthJitter = MotionQuality.jitter(truth, rate: 25)
        #expect(jitter <= 1.5 * truthJitter, "jitter \(jitter), truth \(truthJitter)")
        let feet = MotionQuality.feet(ours, truth: truth, rate: 25)
        #expect(feet.slide <= 5 && feet.float <= 20 && feet.penetration <= 20, "\(feet)")
    }

    /// CMU jumps of about 80 cm: in the frames where both true ankles are more than 30 cm up, neither
    /// of ours is in contact and both are clear of the ground.
    @Test("a jump keeps both feet off the ground in the air")
    func jump() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let (ours, truth) = try RenderRecords.lift("t005_cmu8_jumping_test1", in: dir)
        let standing = MotionQuality.ankles.map { a in (0..<truth.count).map { truth.joint($0, a)[1] }.sorted()[truth.count / 20] }
        let air = (0..<truth.count).filter { i in MotionQuality.ankles.enumerated().allSatisfy { truth.joint(i, $1)[1] > standing[$0] + 0.3 } }
        #expect(air.count >= 10, "\(air.count) frames in the air")
        let contacts = try #require(ours.contacts)
        for i in air where !ours.joints[i].isEmpty {
            #expect(contacts[i] == [false, false], "frame \(i): a foot in contact in the air")
            for a in MotionQuality.ankles { #expect(ours.joint(i, a)[1] - WorldFrame.ankleHeight > 0.1, "frame \(i): ankle \(a) at \(ours.joint(i, a)[1]) m") }
        }
    }
}

@Suite("Motion stage through Blender", .enabled(if: SampleVideo.ready && Blender.path != nil, "blender is not installed (bash Scripts/sample/check-foot-lock-blender.sh installs it): not checked"))
struct MotionStageBlenderTests {
    /// What Scripts/sample/check-foot-lock-blender.sh does: the sample walk's BVH (world frame)
    /// imported by Blender's own importer; over each stance its ankle bone moves less than 1 cm.
    @Test("Blender's import of the walk's BVH keeps each planted ankle within 1 cm over its stance")
    func plantedFeetInBlender() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let weights = try #require(try anyWeights(in: dir.url))
        let bvh = dir.path("walk.bvh"), json = dir.path("walk.json"), imported = dir.path("blender.json")
        for out in [bvh, json] {
            let r = try run(Paths.tool, ["run", SampleVideo.video.path, "--coords", "world", "-o", out, "--weights", weights])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let b = try run(Blender.path!, ["-b", "--factory-startup", "--python", Paths.repo.appendingPathComponent("Scripts/sample/import_bvh.py").path,
                                       "--", bvh] + (1...200).map(String.init))
        let line = try #require(b.stdout.split(separator: "\n").first { $0.hasPrefix("MHFORMER_BVH ") }, "Blender printed no result: \(b.stderr.suffix(500))")
        try String(line.dropFirst(13)).write(toFile: imported, atomically: true, encoding: .utf8)
        let check = try runPython([Paths.repo.appendingPathComponent("Scripts/sample/foot_lock_stances.py").path, json, imported])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains(" stances; the planted ankle moves at most "), "\(check.stdout)")
    }
}
