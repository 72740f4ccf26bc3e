// Rig exports through the command line: the sample walk as GLB on every preset, checked against
// `run --coords world`'s CSV by forward kinematics of the file, by a glTF validator (pygltflib) and by
// Blender's own importer (Debian's Blender 3.4, headless): bone names and count, frame count, and the
// world positions of the hips, knees, ankles and wrists at the first, middle and last frame within
// 1 mm. Skipped with a message without BlazePose's models, Blender or pygltflib.

import Foundation
import Testing
@testable import MHFormerKit

/// The sample walk captured once for all tests here: the world-frame CSV and a GLB per preset.
enum WalkRigs {
    struct Files: Sendable { let dir: String; let csv: [Float]; let frames: Int; let failure: String? }

    static let files: Files = {
        let dir = try! Paths.tempDir().path
        func capture(_ args: [String]) -> String? {
            guard let r = try? run(Paths.tool, ["run", SampleVideo.video.path] + args), r.status == 0 else { return "mhformer run \(args) failed" }
            return nil
        }
        var failure = capture(["--coords", "world", "-o", "\(dir)/walk.csv"])
        for preset in RigPreset.allCases where failure == nil {
            // No --coords: a .glb is written in the world frame.
            failure = capture(["--rig", preset.rawValue, "-o", "\(dir)/walk.\(preset.rawValue).glb"])
        }
        let csv = (try? read3DCSV("\(dir)/walk.csv").values) ?? []
        return Files(dir: dir, csv: csv, frames: csv.count / 51, failure: failure)
    }()

    /// The CSV's joint `h` in frame `i`.
    static func csvJoint(_ i: Int, _ h: Int) -> [Double] { (0..<3).map { Double(files.csv[i * 51 + 3 * h + $0]) } }

    /// The joints the issue names: hips (the pelvis), knees, ankles, wrists.
    static let checkedJoints = [RigPreset.pelvis, RigPreset.lKnee, RigPreset.rKnee, RigPreset.lAnkle, RigPreset.rAnkle, RigPreset.lWrist, RigPreset.rWrist]
}

private var pygltflibAvailable: Bool { ((try? run("/usr/bin/env", ["python3", "-c", "import pygltflib"]))?.status ?? 1) == 0 }

@Suite("Rig exports of the sample walk (GLB, BVH) against run --coords world", .serialized,
       .enabled(if: SampleVideo.ready && DefaultWeights.find() != nil, "no BlazePose models or weights: the walk cannot be captured"))
struct RigExportTests {
    @Test("the GLB's joints by forward kinematics equal the CSV's within 1 mm on every frame, at the video's times", arguments: RigPreset.allCases)
    func glbMatchesCSV(preset: RigPreset) throws {
        let walk = WalkRigs.files
        try #require(walk.failure == nil, "\(walk.failure!)")
        #expect(walk.frames == 200)
        let file = try GLBFile(Data(contentsOf: URL(fileURLWithPath: "\(walk.dir)/walk.\(preset.rawValue).glb")))
        let (names, times, positions) = file.jointPositions()
        #expect(names == preset.jointNames)
        #expect(times.count == walk.frames && zip(times, (0..<walk.frames).map { Double($0) * 0.04 }).allSatisfy { abs($0 - $1) < 1e-5 })
        var worst = 0.0
        for h in jointsInRig(preset) {
            let r = rigJoint(for: h, in: preset)
            for i in 0..<walk.frames { worst = max(worst, zip(positions[i][r], WalkRigs.csvJoint(i, h)).map { abs($0 - $1) }.max()!) }
        }
        print("--rig \(preset): GLB joints vs run --coords world CSV, all 17 joints × 200 frames: max \(worst * 1000) mm")
        #expect(worst < 0.001)
    }

    @Test("pygltflib loads each GLB and Scripts/check-gltf.py finds its accessors, views, skin and animation consistent",
          .enabled(if: pygltflibAvailable, "pygltflib is not installed (pip install pygltflib): glTF validation not run"))
    func validator() throws {
        let walk = WalkRigs.files
        try #require(walk.failure == nil, "\(walk.failure!)")
        for preset in RigPreset.allCases {
            let r = try run("/usr/bin/env", ["python3", Paths.repo.appendingPathComponent("Scripts/check-gltf.py").path, "\(walk.dir)/walk.\(preset.rawValue).glb"])
            print(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(r.status == 0, "\(preset): \(r.stdout) \(r.stderr)")
        }
        // The check can fail: a file whose animation has one time too few is refused.
        let broken = "\(walk.dir)/broken.glb"
        var data = try Data(contentsOf: URL(fileURLWithPath: "\(walk.dir)/walk.mixamo.glb"))
        let text = String(decoding: data, as: UTF8.self)
        let count = try #require(text.range(of: "\"count\":200,"))
        data.replaceSubrange(text.utf8.distance(from: text.startIndex, to: count.lowerBound)..<text.utf8.distance(from: text.startIndex, to: count.upperBound),
                             with: Data("\"count\":199,".utf8))
        try data.write(to: URL(fileURLWithPath: broken))
        let bad = try run("/usr/bin/env", ["python3", Paths.repo.appendingPathComponent("Scripts/check-gltf.py").path, broken])
        #expect(bad.status != 0, "the validator accepted a broken file: \(bad.stdout)")
    }

    @Test("Blender imports each GLB: the preset's bones, 200 frames, joints within 1 mm of the CSV at the first, middle and last frame",
          .enabled(if: Blender.path != nil, "blender is not installed (apt-get install -y blender): Blender import not checked"),
          arguments: RigPreset.allCases)
    func blenderImportsGLB(preset: RigPreset) throws {
        let walk = WalkRigs.files
        try #require(walk.failure == nil, "\(walk.failure!)")
        let last = walk.frames - 1
        // glTF keys land on Blender frame = time × fps: video frame i is Blender frame i.
        let rig = try Blender.importRig("\(walk.dir)/walk.\(preset.rawValue).glb", fps: 25, frames: [0, last / 2, last])
        try checkBlender(rig, preset: preset, firstFrame: 0)
    }

    func checkBlender(_ rig: [String: Any], preset: RigPreset, firstFrame: Int) throws {
        let walk = WalkRigs.files
        let last = walk.frames - 1
        let bones = try #require(rig["bones"] as? [String])
        #expect(Set(bones) == Set(preset.jointNames) && bones.count == preset.jointNames.count, "\(bones)")
        // (to a thousandth: the last key's time is a float32, e.g. 7.96 s × 25 = 198.99998)
        #expect((rig["frame_range"] as? [Double])?.map { ($0 * 1000).rounded() / 1000 } == [Double(firstFrame), Double(firstFrame + last)])
        #expect(rig["skinned"] as? Bool == true, "the mannequin is not bound to the armature")
        let heads = try #require(rig["heads"] as? [String: [String: [Double]]])
        var worst = 0.0
        for i in [0, last / 2, last] {
            let frame = try #require(heads.first { Double($0.key) == Double(i + firstFrame) }?.value, "no frame \(i + firstFrame) in \(heads.keys)")
            for h in WalkRigs.checkedJoints {
                let name = preset.jointNames[rigJoint(for: h, in: preset)]
                let b = try #require(frame[name])
                // Blender is Z up: (x, y, z) there is (x, z, -y) in glTF's and the CSV's Y-up world.
                worst = max(worst, zip([b[0], b[2], -b[1]], WalkRigs.csvJoint(i, h)).map { abs($0 - $1) }.max()!)
            }
        }
        print("--rig \(preset): Blender's \(rig["format"] ?? "") import, hips/knees/ankles/wrists at 3 frames vs the CSV: max \(worst * 1000) mm")
        #expect(worst < 0.001)
    }

    @Test("--rig h36m is today's BVH byte for byte; a rig preset on a BVH has its names; --rig refused where no rig is written; .fbx refused")
    func bvhAndRefusals() throws {
        let dir = ClipDir(); defer { dir.remove() }
        let input = SampleVideo.gt2D.path
        for (name, extra) in [("default.bvh", [String]()), ("h36m.bvh", ["--rig", "h36m"]), ("mixamo.bvh", ["--rig", "mixamo"])] {
            let r = try run(Paths.tool, ["lift", "--keypoints", input, "-o", dir.path(name)] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("default.bvh"))) == Data(contentsOf: URL(fileURLWithPath: dir.path("h36m.bvh"))))
        let (names, _, _) = try BVH.forwardKinematics(try String(contentsOfFile: dir.path("mixamo.bvh"), encoding: .utf8))
        #expect(Set(names) == Set(RigPreset.mixamo.jointNames))

        let unknown = try run(Paths.tool, ["lift", "--keypoints", input, "-o", dir.path("u.glb"), "--rig", "maya"])
        #expect(unknown.status != 0 && unknown.stderr == "error: --rig: unknown preset 'maya' (h36m, mixamo, unreal, rigify)\n", "\(unknown.stderr)")
        let fbx = try run(Paths.tool, ["lift", "--keypoints", input, "-o", dir.path("f.fbx")])
        #expect(fbx.status != 0 && fbx.stderr.hasPrefix("error: \(dir.path("f.fbx")): FBX is not written") && !FileManager.default.fileExists(atPath: dir.path("f.fbx")))
        let csv = try run(Paths.tool, ["lift", "--keypoints", input, "-o", dir.path("c.csv"), "--rig", "mixamo"])
        #expect(csv.status != 0 && csv.stderr.contains("--rig mixamo names the skeleton of a .bvh or .glb output") && csv.stderr.split(separator: "\n").count == 1,
                "\(csv.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("u.glb")) && !FileManager.default.fileExists(atPath: dir.path("c.csv")))
    }
}

@Suite("Rig presets on BVH through Blender's BVH importer", .enabled(if: DefaultWeights.find() != nil && Blender.path != nil,
                                                                      "no default weights or no blender: the BVH presets' Blender import not checked"))
struct RigBVHBlenderTests {
    @Test("Blender imports the preset's BVH with its bone names, 200 frames and our forward kinematics' joints within 1 mm",
          arguments: [RigPreset.mixamo, .unreal, .rigify])
    func blenderImportsBVH(preset: RigPreset) throws {
        let dir = ClipDir(); defer { dir.remove() }
        let bvh = dir.path("walk.\(preset.rawValue).bvh")
        let r = try run(Paths.tool, ["lift", "--keypoints", SampleVideo.gt2D.path, "--coords", "world", "--rig", preset.rawValue, "-o", bvh])
        #expect(r.status == 0, "\(r.stderr)")
        let (names, _, fk) = try BVH.forwardKinematics(try String(contentsOfFile: bvh, encoding: .utf8))
        // BVH frame i (0-based) is Blender frame i + 1.
        let rig = try Blender.importRig(bvh, fps: 25, frames: [1, 100, 200])
        let bones = try #require(rig["bones"] as? [String])
        #expect(Set(bones) == Set(preset.jointNames) && bones.count == preset.jointNames.count)
        #expect(rig["frame_range"] as? [Double] == [1, 200])
        let heads = try #require(rig["heads"] as? [String: [String: [Double]]])
        var worst = 0.0
        for (frame, bones) in heads {
            let i = Int(Double(frame)!) - 1
            for (k, name) in names.enumerated() {
                let b = try #require(bones[name])
                worst = max(worst, zip([b[0], b[2], -b[1]], fk[i][(3 * k)..<(3 * k + 3)]).map { abs($0 - $1) }.max()!)
            }
        }
        #expect(heads.count == 3)
        print("--rig \(preset) BVH: Blender's joints vs the file's forward kinematics at 3 frames: max \(worst * 1000) mm")
        #expect(worst < 0.001)
    }
}

@Suite("Rig exports in three.js (GLTFLoader in headless Chromium)", .enabled(if: SampleVideo.ready && DefaultWeights.find() != nil && Chromium.path != nil
                                                                           && (try? ViewerPage.checkAvailable()) != nil,
                                                                           "no BlazePose models, weights, Chromium or three.js (apt-get install -y chromium libjs-three)"))
struct RigThreeJSTests {
    /// A page that loads GLBs (inlined) with three.js's own GLTFLoader (Debian's r111), plays each
    /// animation with an AnimationMixer at the given times and writes every bone's world position into
    /// the body's data-result attribute, one entry per file (one browser start for all presets).
    static func page(glbs: [Data], times: [Double]) throws -> String {
        let three = try ["build/three.min.js", "examples/js/loaders/GLTFLoader.js"].map {
            try String(contentsOfFile: (ViewerPage.threeFolder as NSString).appendingPathComponent($0), encoding: .utf8)
        }
        let files = glbs.map { "\"" + $0.base64EncodedString() + "\"" }.joined(separator: ",")
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>glb</title></head><body>
        <script>\(three[0])</script><script>\(three[1])</script>
        <script>
        const load = b64 => new Promise((resolve, reject) => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          new THREE.GLTFLoader().parse(bytes.buffer, "", resolve, reject);
        });
        Promise.all([\(files)].map(load)).then(all => {
          document.body.setAttribute("data-result", JSON.stringify(all.map(gltf => {
            const scene = gltf.scene, clip = gltf.animations[0], mixer = new THREE.AnimationMixer(scene);
            mixer.clipAction(clip).play();
            const bones = [], out = {names: [], positions: [], duration: clip.duration, skinned: 0};
            scene.traverse(o => { if (o.isBone) bones.push(o); if (o.isSkinnedMesh) out.skinned++; });
            out.names = bones.map(b => b.name);
            for (const t of \(times)) {
              mixer.setTime(t); scene.updateMatrixWorld(true);
              out.positions.push(bones.map(b => { const v = new THREE.Vector3(); b.getWorldPosition(v); return [v.x, v.y, v.z]; }));
            }
            return out;
          })));
        }, e => document.body.setAttribute("data-error", String(e)));
        </script></body></html>
        """
    }

    @Test("three.js loads each preset's GLB: its bones (names as three.js sanitizes them), a skinned mesh, joints within 1 mm of the CSV at the first, middle and last frame")
    func threeJSLoadsGLB() throws {
        let walk = WalkRigs.files
        try #require(walk.failure == nil, "\(walk.failure!)")
        let frames = [0, (walk.frames - 1) / 2, walk.frames - 1]
        let dir = ClipDir(); defer { dir.remove() }
        let html = dir.path("glb.html")
        let presets = RigPreset.allCases
        try Self.page(glbs: try presets.map { try Data(contentsOf: URL(fileURLWithPath: "\(walk.dir)/walk.\($0.rawValue).glb")) },
                      times: frames.map { Double($0) * 0.04 }).write(toFile: html, atomically: true, encoding: .utf8)
        let dom = try Chromium.open(URL(fileURLWithPath: html).absoluteString, "--dump-dom", profile: dir.path("profile"))
        let body = try #require(dom.stdout.range(of: "<body[^>]*>", options: .regularExpression).map { String(dom.stdout[$0]) }, "\(dom.stderr.suffix(500))")
        #expect(!body.contains("data-error"), "\(body.prefix(500))")
        let attribute = try #require(body.range(of: "data-result=\"[^\"]*\"", options: .regularExpression).map { String(body[$0].dropFirst(13).dropLast()) })
        let results = try #require(try JSONSerialization.jsonObject(with: Data(attribute.replacingOccurrences(of: "&quot;", with: "\"").utf8)) as? [[String: Any]])
        try #require(results.count == presets.count)
        for (preset, result) in zip(presets, results) {
            // three.js drops the characters its animation paths reserve ("[]:./") from node names:
            // mixamorig:Hips is mixamorigHips there, spine.001 spine001 (as in three.js's own Mixamo examples).
            let sanitized = preset.jointNames.map { $0.filter { !"[]:./".contains($0) } }
            let names = try #require(result["names"] as? [String])
            #expect(Set(names) == Set(sanitized) && names.count == sanitized.count, "\(preset): \(names)")
            #expect(result["skinned"] as? Int == 1)
            #expect(abs((result["duration"] as? Double ?? 0) - Double(walk.frames - 1) * 0.04) < 1e-5)
            let positions = try #require(result["positions"] as? [[[Double]]])
            var worst = 0.0
            for (k, i) in frames.enumerated() {
                for h in WalkRigs.checkedJoints {
                    let b = try #require(names.firstIndex(of: sanitized[rigJoint(for: h, in: preset)]))
                    worst = max(worst, zip(positions[k][b], WalkRigs.csvJoint(i, h)).map { abs($0 - $1) }.max()!)
                }
            }
            print("--rig \(preset): three.js r111 GLTFLoader + AnimationMixer, hips/knees/ankles/wrists at 3 frames vs the CSV: max \(worst * 1000) mm")
            #expect(worst < 0.001, "\(preset)")
        }
    }
}
