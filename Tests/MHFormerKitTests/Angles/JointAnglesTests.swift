// Joint angles (`--angles`): the definitions on constructed poses (upright = 0, a bent knee reads
// its bend, signs as docs/joint-angles.md's table says), the files (.csv like the 3D CSV, OpenSim's .mot
// header), bad paths refused, and the sample walk against the angles of its ground truth 3D.

import Foundation
import Testing
@testable import MHFormerKit

/// A pose built in body coordinates (X anterior, Y up, Z the person's right, metres), facing an
/// upright camera: body (a, u, r) is camera (-r, -u, -a).
private struct BodyPose {
    var joints: [SIMD3<Double>] = [
        SIMD3(0, 0, 0),                                                  // pelvis
        SIMD3(0, 0, 0.1), SIMD3(0, -0.45, 0.1), SIMD3(0, -0.9, 0.1),     // right hip, knee, ankle
        SIMD3(0, 0, -0.1), SIMD3(0, -0.45, -0.1), SIMD3(0, -0.9, -0.1),  // left hip, knee, ankle
        SIMD3(0, 0.25, 0), SIMD3(0, 0.5, 0), SIMD3(0, 0.6, 0), SIMD3(0, 0.7, 0),  // spine, thorax, nose, head
        SIMD3(0, 0.5, -0.18), SIMD3(0, 0.2, -0.18), SIMD3(0, -0.05, -0.18),       // left shoulder, elbow, wrist
        SIMD3(0, 0.5, 0.18), SIMD3(0, 0.2, 0.18), SIMD3(0, -0.05, 0.18),          // right shoulder, elbow, wrist
    ]

    subscript(_ j: H36MJoint) -> SIMD3<Double> {
        get { joints[j.rawValue] }
        set { joints[j.rawValue] = newValue }
    }

    /// Turns `moved` about `pivot` by `rotation` (a function of the offset from the pivot).
    mutating func turn(_ moved: [H36MJoint], about pivot: SIMD3<Double>, _ rotation: (SIMD3<Double>) -> SIMD3<Double>) {
        for j in moved { self[j] = pivot + rotation(self[j] - pivot) }
    }

    /// The angles by name, with the camera upright (up = -y) unless `cameraPitch` (degrees, about
    /// the camera's x) tilts it.
    func angles(cameraPitch: Double = 0) -> [String: Double] {
        let c = cos(cameraPitch * .pi / 180), s = sin(cameraPitch * .pi / 180)
        func camera(_ p: SIMD3<Double>) -> SIMD3<Double> {
            let v = SIMD3(-p.z, -p.y, -p.x)
            return SIMD3(v.x, c * v.y - s * v.z, s * v.y + c * v.z)
        }
        let pelvis = joints[0]
        let values = joints.flatMap { p -> [Float] in let q = camera(p - pelvis); return [Float(q.x), Float(q.y), Float(q.z)] }
        let pose = Pose3DSequence(frames: [0], times: [0], joints: values, present: [true])
        let a = JointAngles.compute(pose, up: camera(SIMD3(0, 1, 0)))
        return Dictionary(uniqueKeysWithValues: JointAngles.names.enumerated().map { ($0.element, a.value(0, $0.offset)) })
    }
}

private func rotX(_ deg: Double) -> (SIMD3<Double>) -> SIMD3<Double> {
    let c = cos(deg * .pi / 180), s = sin(deg * .pi / 180)
    return { v in SIMD3(v.x, c * v.y - s * v.z, s * v.y + c * v.z) }
}
private func rotY(_ deg: Double) -> (SIMD3<Double>) -> SIMD3<Double> {
    let c = cos(deg * .pi / 180), s = sin(deg * .pi / 180)
    return { v in SIMD3(c * v.x + s * v.z, v.y, -s * v.x + c * v.z) }
}
private func rotZ(_ deg: Double) -> (SIMD3<Double>) -> SIMD3<Double> {
    let c = cos(deg * .pi / 180), s = sin(deg * .pi / 180)
    return { v in SIMD3(c * v.x - s * v.y, s * v.x + c * v.y, v.z) }
}

private let upperBody: [H36MJoint] = [.thorax, .nose, .head, .leftShoulder, .leftElbow, .leftWrist, .rightShoulder, .rightElbow, .rightWrist]

/// `angles` equal `expected` for the named ones and 0 for the rest, within `tolerance` degrees: the
/// joints pass through float32 (as Pose3DSequence holds them), which moves an angle by up to 5e-6°.
private func expectAngles(_ angles: [String: Double], _ expected: [String: Double], tolerance: Double = 1e-4,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    for name in JointAngles.names {
        let want = expected[name] ?? 0, got = angles[name]!
        #expect(abs(got - want) <= tolerance, "\(name): \(got), expected \(want)", sourceLocation: sourceLocation)
    }
}

@Suite("Joint angles on constructed poses")
struct JointAngleDefinitionTests {
    @Test("standing upright facing the camera, arms down: every angle 0")
    func upright() {
        expectAngles(BodyPose().angles(), [:])
        // A camera pitched down 20° sees the same body: the vertical comes from `up`, not the image.
        expectAngles(BodyPose().angles(cameraPitch: 20), [:])
    }

    @Test("knee and elbow bent 90°; hip flexed 30° and extended 20°")
    func bends() {
        var p = BodyPose()
        p[.rightAnkle] = p[.rightKnee] + SIMD3(-0.45, 0, 0)                         // shank backwards
        p[.leftWrist] = p[.leftElbow] + SIMD3(0.25, 0, 0)                           // forearm forwards
        expectAngles(p.angles(), ["right_knee_flexion": 90, "left_elbow_flexion": 90])

        var q = BodyPose()
        q.turn([.rightKnee, .rightAnkle], about: q[.rightHip], rotZ(30))            // knee forwards
        q.turn([.leftKnee, .leftAnkle], about: q[.leftHip], rotZ(-20))              // knee backwards
        expectAngles(q.angles(), ["right_hip_flexion": 30, "left_hip_flexion": -20])
    }

    @Test("hips and arms out sideways read abduction on both sides; flexion and abduction together")
    func abduction() {
        var p = BodyPose()
        p.turn([.rightKnee, .rightAnkle], about: p[.rightHip], rotX(-20))           // right leg out to the right
        p.turn([.leftKnee, .leftAnkle], about: p[.leftHip], rotX(15))               // left leg out to the left
        p.turn([.rightElbow, .rightWrist], about: p[.rightShoulder], rotX(-90))     // right arm raised sideways
        p.turn([.leftElbow, .leftWrist], about: p[.leftShoulder], rotZ(90))         // left arm raised forwards
        expectAngles(p.angles(), ["right_hip_abduction": 20, "left_hip_abduction": 15,
                                  "right_shoulder_abduction": 90, "left_shoulder_flexion": 90])

        var q = BodyPose()
        // Flexion then abduction (the decomposition's order): both read back.
        q.turn([.rightKnee, .rightAnkle], about: q[.rightHip]) { rotZ(30)(rotX(-20)($0)) }
        expectAngles(q.angles(), ["right_hip_flexion": 30, "right_hip_abduction": 20])
    }

    @Test("the trunk bends, leans and turns relative to the pelvis")
    func trunk() {
        var p = BodyPose()
        p.turn(upperBody, about: p[.spine], rotZ(-30))                              // forwards
        expectAngles(p.angles(), ["trunk_flexion": 30])
        p = BodyPose()
        p.turn(upperBody, about: p[.spine], rotX(15))                               // to the right
        expectAngles(p.angles(), ["trunk_lateral_bending": 15])
        p = BodyPose()
        p.turn(upperBody, about: p[.spine], rotY(25))                               // to the left
        expectAngles(p.angles(), ["trunk_rotation": 25])
    }

    @Test("the whole body tilted, tipped or turned moves the pelvis angles only")
    func pelvis() {
        let all = H36MJoint.allCases
        var p = BodyPose()
        p.turn(all, about: p[.pelvis], rotZ(-10))                                   // leaning forwards
        expectAngles(p.angles(), ["pelvis_tilt": 10])
        p = BodyPose()
        p.turn(all, about: p[.pelvis], rotX(8))                                     // right side down
        expectAngles(p.angles(), ["pelvis_obliquity": 8])
        p = BodyPose()
        p.turn(all, about: p[.pelvis], rotY(40))                                    // turned to their left
        expectAngles(p.angles(), ["pelvis_rotation": 40])
        expectAngles(p.angles(cameraPitch: -15), ["pelvis_rotation": 40])
        // Turned and leaning: the tilt does not leak into the obliquity (rotation first).
        p = BodyPose()
        p.turn(all, about: p[.pelvis]) { rotY(90)(rotZ(-10)($0)) }
        expectAngles(p.angles(), ["pelvis_rotation": 90, "pelvis_tilt": 10])
    }

    @Test("a pose with its hips on top of each other gives NaN, which the sequence reports")
    func degenerate() {
        var p = BodyPose()
        p[.leftHip] = p[.rightHip]
        let values = p.joints.flatMap { [Float($0.x), Float($0.y), Float($0.z)] }
        let angles = JointAngles.compute(Pose3DSequence(frames: [7], times: [nil], joints: values, present: [true]), up: SIMD3(0, -1, 0))
        #expect(angles.firstNonFiniteFrame == 7)
    }
}

@Suite("Joint angle files")
struct JointAngleFileTests {
    /// Three rows, the middle one without a person.
    func sample() -> JointAngleSequence {
        let n = JointAngles.names.count
        var degrees = (0..<(3 * n)).map { Double($0) / 7 }
        for k in 0..<n { degrees[n + k] = .nan }
        return JointAngleSequence(frames: [10, 11, 12], times: [0.4, 0.44, 0.48], present: [true, false, true], degrees: degrees)
    }

    @Test(".csv: frame,time_s,<angles>; the row without a person has empty cells")
    func csv() {
        let lines = JointAngleFiles.csv(sample()).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == (["frame", "time_s"] + JointAngles.names).joined(separator: ","))
        #expect(lines.count == 5 && lines[4].isEmpty)
        #expect(lines[2] == "11,0.44" + String(repeating: ",", count: JointAngles.names.count))
        #expect(lines[3].split(separator: ",")[2] == String(format: "%.3f", Double(2 * JointAngles.names.count) / 7))
    }

    @Test(".mot: OpenSim's header; nRows and nColumns are the table's; time from the first frame")
    func mot() throws {
        let text = JointAngleFiles.mot(sample(), fps: 25, name: "walk.mot")
        let (header, labels, rows) = try parseMot(text)
        #expect(header == ["walk.mot", "version=1", "nRows=2", "nColumns=19", "inDegrees=yes", "endheader"])
        #expect(labels == ["time"] + JointAngles.names)
        #expect(rows.count == 2 && rows.allSatisfy { $0.count == labels.count })
        #expect(abs(rows[1][0] - 0.08) < 1e-9)
    }
}

/// Reads an OpenSim .mot as OpenSim does: header lines up to `endheader`, the labels, then rows
/// of numbers; checks that nRows and nColumns match what follows.
func parseMot(_ text: String) throws -> (header: [String], labels: [String], rows: [[Double]]) {
    let lines = text.split(separator: "\n").map(String.init)
    let end = try #require(lines.firstIndex(of: "endheader"))
    let header = Array(lines[...end])
    func field(_ key: String) -> Int? { header.first { $0.hasPrefix(key + "=") }.flatMap { Int($0.dropFirst(key.count + 1)) } }
    let labels = lines[end + 1].split(separator: "\t").map(String.init)
    let rows = lines[(end + 2)...].map { $0.split(separator: "\t").map { Double($0)! } }
    #expect(field("nRows") == rows.count)
    #expect(field("nColumns") == labels.count)
    return (header, labels, rows)
}

/// Reads a joint angle CSV: frame numbers and (N, angles) values, empty cells as NaN.
func readAngleCSV(_ path: String) throws -> (header: [String], frames: [Int], values: [[Double]]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    let header = lines[0].split(separator: ",").map(String.init)
    var frames: [Int] = [], values: [[Double]] = []
    for line in lines.dropFirst() {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false)
        frames.append(Int(cells[0])!)
        values.append(cells.dropFirst(2).map { Double($0) ?? .nan })
    }
    return (header, frames, values)
}

/// Mean absolute error per angle of a file's rows against the truth's, each difference taken round
/// the circle (-180...180), and the table the tests print (MAE, mean error, the truth's range).
func angleErrors(_ values: [[Double]], truth: JointAngleSequence) -> (mae: [String: Double], table: String) {
    var mae: [String: Double] = [:]
    var table = "angle | MAE (deg) | mean error (deg) | ground truth range (deg)\n"
    for (k, name) in JointAngles.names.enumerated() {
        let errors = values.indices.map { i -> Double in
            let d = (values[i][k] - truth.value(i, k) + 180).truncatingRemainder(dividingBy: 360)
            return (d < 0 ? d + 360 : d) - 180
        }
        mae[name] = errors.map(abs).reduce(0, +) / Double(errors.count)
        let column = values.indices.map { truth.value($0, k) }
        table += String(format: "%@ | %.1f | %+.1f | %.0f to %.0f\n", name, mae[name]!, errors.reduce(0, +) / Double(errors.count), column.min()!, column.max()!)
    }
    return (mae, table)
}

enum WalkGroundTruth {
    /// The true vertical in the sample's camera coordinates: R · (0, 1, 0), R from the camera file.
    static func up() throws -> SIMD3<Double> {
        let data = try Data(contentsOf: Paths.repo.appendingPathComponent("Samples/cmu131_walk_camera.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let r = try #require(json["R"] as? [[Double]])
        return SIMD3(r[0][1], r[1][1], r[2][1])
    }

    /// The ground truth's angles (root-relative camera-frame joints, the true vertical).
    static func angles() throws -> JointAngleSequence {
        let (frames, values) = try read3DCSV(SampleVideo.gt3D.path)
        let pose = Pose3DSequence(frames: frames, times: frames.map { Double($0) / 25 }, joints: values,
                                  present: Array(repeating: true, count: frames.count))
        return JointAngles.compute(pose, up: try up())
    }
}

@Suite("--angles on the sample walk", .enabled(if: SampleVideo.ready, BlazePoseFiles.skipReason))
struct JointAngleSampleTests {
    @Test("mhformer run --angles: within a few degrees of the ground truth's angles (MAE per angle printed)")
    func walk() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let out3D = dir.appendingPathComponent("walk_3d.csv").path, outAngles = dir.appendingPathComponent("walk_angles.csv").path
        let r = try run(Paths.tool, ["run", SampleVideo.video.path, "-o", out3D, "--angles", outAngles, "--weights", weights])
        #expect(r.status == 0, "\(r.stderr)")
        let (header, frames, values) = try readAngleCSV(outAngles)
        #expect(header == ["frame", "time_s"] + JointAngles.names)
        #expect(frames == Array(0..<200))
        let truth = try WalkGroundTruth.angles()
        #expect(truth.firstNonFiniteFrame == nil)

        let (mae, table) = angleErrors(values, truth: truth)
        print("joint angles on the sample walk vs ground truth:\n" + table)
        // Bounds a little above what was measured (docs/joint-angles.md's table: 5 to 22 degrees, the arms worst).
        let bounds: [String: Double] = [
            "pelvis_tilt": 7, "pelvis_obliquity": 7, "pelvis_rotation": 8,
            "trunk_flexion": 6.5, "trunk_lateral_bending": 7.5, "trunk_rotation": 10,
            "right_hip_flexion": 10.5, "right_hip_abduction": 7, "right_knee_flexion": 12,
            "left_hip_flexion": 15, "left_hip_abduction": 9.5, "left_knee_flexion": 14,
            "right_shoulder_flexion": 19, "right_shoulder_abduction": 13.5, "right_elbow_flexion": 26,
            "left_shoulder_flexion": 15.5, "left_shoulder_abduction": 10, "left_elbow_flexion": 17.5,
        ]
        for name in JointAngles.names { #expect(mae[name]! < bounds[name]!, "\(name): MAE \(mae[name]!)°") }
    }
}

@Suite("--angles with lift", .enabled(if: FileManager.default.fileExists(atPath: SampleVideo.gt2D.path)))
struct JointAngleLiftTests {
    @Test(".mot and .csv hold the same angles, whatever --coords the motion file uses")
    func motAndCoords() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let mot = dir.appendingPathComponent("walk.mot").path, csv = dir.appendingPathComponent("walk_angles.csv").path
        let a = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "--weights", weights, "-o", dir.appendingPathComponent("a.csv").path,
                                     "--coords", "camera", "--angles", mot])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "--weights", weights, "-o", dir.appendingPathComponent("b.trc").path,
                                     "--coords", "world", "--z-up", "--angles", csv])
        #expect(b.status == 0, "\(b.stderr)")
        let (header, labels, rows) = try parseMot(try String(contentsOfFile: mot, encoding: .utf8))
        #expect(header.first == "walk.mot" && header.contains("inDegrees=yes"))
        #expect(labels == ["time"] + JointAngles.names)
        let (_, frames, values) = try readAngleCSV(csv)
        #expect(rows.count == 200 && frames.count == 200)
        for i in 0..<min(rows.count, values.count) {
            #expect(abs(rows[i][0] - Double(i) * 0.04) < 1e-4)
            #expect(Array(rows[i].dropFirst()) == values[i], "row \(i)")
        }
    }

    @Test("mhformer lift --angles on the punch sample (its exact 2D; a validation subject): within a few degrees of the ground truth's angles")
    func punch() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try #require(try anyWeights(in: dir), "no weights: neither Models/ nor ../shared fixtures")
        let outAngles = dir.appendingPathComponent("punch_angles.csv").path
        let r = try run(Paths.tool, ["lift", "--keypoints", Paths.repo.appendingPathComponent("Samples/cmu02_punch_2d.csv").path, "--weights", weights,
                                     "-o", dir.appendingPathComponent("punch.csv").path, "--angles", outAngles])
        #expect(r.status == 0, "\(r.stderr)")
        let (_, frames, values) = try readAngleCSV(outAngles)
        // The truth: root-relative camera-frame joints; the camera (Samples/README.md) is 1.5 m high,
        // aimed 4.5 m away at 1.0 m height, no roll: the vertical is (0, -cos a, -sin a), a = atan(0.5 / 4.5).
        let (truthFrames, truthValues) = try read3DCSV(Paths.repo.appendingPathComponent("Samples/cmu02_punch_3d_camera.csv").path)
        #expect(frames == truthFrames && frames.count == 500)
        let a = atan2(0.5, 4.5)
        let truth = JointAngles.compute(Pose3DSequence(frames: truthFrames, times: truthFrames.map { Double($0) / 50 }, joints: truthValues,
                                                       present: Array(repeating: true, count: truthFrames.count)),
                                        up: SIMD3(0, -cos(a), -sin(a)))
        let (mae, table) = angleErrors(values, truth: truth)
        print("joint angles on the punch sample (lift from its exact 2D) vs ground truth:\n" + table)
        for name in JointAngles.names { #expect(mae[name]! < PunchAngleBounds.mae[name]!, "\(name): MAE \(mae[name]!)°") }
    }

    @Test("a bad --angles path is refused before any work: unknown extension, the input itself")
    func refusals() throws {
        let dir = try Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.csv").path
        try FileManager.default.copyItem(atPath: SampleVideo.gt2D.path, toPath: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let out = dir.appendingPathComponent("out.csv").path, txt = dir.appendingPathComponent("angles.txt").path
        let r = try run(Paths.tool, ["lift", "--keypoints", input, "-o", out, "--angles", txt])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(txt): unknown joint angle extension"), "\(r.stderr)")
        let s = try run(Paths.tool, ["lift", "--keypoints", input, "-o", out, "--angles", input])
        #expect(s.status != 0)
        #expect(s.stderr.contains("(--angles) is the input file"), "\(s.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: txt))
    }
}

/// Bounds a little above what was measured on the punch sample (docs/joint-angles.md's table).
enum PunchAngleBounds {
    static let mae: [String: Double] = [
        "pelvis_tilt": 4.5, "pelvis_obliquity": 3, "pelvis_rotation": 6.5,
        "trunk_flexion": 3.5, "trunk_lateral_bending": 4, "trunk_rotation": 6.5,
        "right_hip_flexion": 6, "right_hip_abduction": 3.5, "right_knee_flexion": 6.5,
        "left_hip_flexion": 4.5, "left_hip_abduction": 2, "left_knee_flexion": 4.5,
        "right_shoulder_flexion": 11.5, "right_shoulder_abduction": 5, "right_elbow_flexion": 13.5,
        "left_shoulder_flexion": 7.5, "left_shoulder_abduction": 8, "left_elbow_flexion": 9.5,
    ]
}
