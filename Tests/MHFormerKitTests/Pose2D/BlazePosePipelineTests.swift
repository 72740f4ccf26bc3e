// MediaPipe Pose's pre- and post-processing in Swift against the numpy reference
// (../shared/docs/pose2d-ref/blazepose_ref.py, itself checked against MediaPipe), through
// Tests/Fixtures/blazepose/pipeline_ref.npz (Scripts/fixtures/make-blazepose-reference.py). These tests need
// no model: they start from the stored model outputs.

import Foundation
import Testing
@testable import MHFormerKit

private let pipelineRef: [String: NpyArray] = {
    (try? Npy.readArchive(BlazePoseFiles.fixtures.appendingPathComponent("pipeline_ref.npz"))) ?? [:]
}()

private func ref(_ key: String) throws -> NpyArray {
    try #require(pipelineRef[key], "pipeline_ref.npz has no \(key)")
}

/// Detections flattened like the reference: scores, boxes (n·4), keypoints (n·4·2).
private func flatten(_ ds: [PoseDetection]) -> (scores: [Float], boxes: [Float], kps: [Float]) {
    (ds.map(\.score), ds.flatMap { [$0.box[0], $0.box[1], $0.box[2], $0.box[3]] },
     ds.flatMap { $0.keypoints.flatMap { [$0.x, $0.y] } })
}

private func rect(_ v: [Float]) -> NormalizedRect {
    NormalizedRect(xCenter: v[0], yCenter: v[1], width: v[2], height: v[3], rotation: v[4])
}

private func rectValues(_ r: NormalizedRect) -> [Float] { [r.xCenter, r.yCenter, r.width, r.height, r.rotation] }

@Suite("BlazePose pipeline math") struct BlazePosePipelineTests {
    @Test("anchors: 2254 centres in the model's order")
    func anchors() throws {
        let a = try ref("anchors")
        #expect(a.shape == [2254, 2])
        #expect(maxAbsDiff(poseDetectorAnchors.flatMap { [$0.x, $0.y] }, a.values) < 1e-7)
    }

    @Test("detections: decoding and weighted NMS", arguments: ["det50", "det5", "rand"])
    func detections(tag: String) throws {
        let boxes: [Float], scores: [Float]
        if tag == "rand" {
            boxes = try ref("rand_boxes").values; scores = try ref("rand_scores").values
        } else {
            boxes = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("det_Identity.npy")).values
            scores = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("det_Identity_1.npy")).values
        }
        let threshold: Float = tag == "det5" ? 0.05 : 0.5
        let got = flatten(weightedNonMaxSuppression(decodePoseDetections(boxes: boxes, scores: scores, minScore: threshold)))
        let count = Int(try ref("\(tag)_count").values[0])
        #expect(got.scores.count == count)
        guard got.scores.count == count else { return }
        #expect(maxAbsDiff(got.scores, try ref("\(tag)_score").values) < 1e-6)
        #expect(maxAbsDiff(got.boxes, try ref("\(tag)_box").values) < 1e-5)
        #expect(maxAbsDiff(got.kps, try ref("\(tag)_kps").values) < 1e-5)
    }

    @Test("the best detection in image coordinates and its ROI")
    func detectionRoi() throws {
        let boxes = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("det_Identity.npy")).values
        let scores = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("det_Identity_1.npy")).values
        let whole = PixelRect(cx: 320, cy: 240, width: 640, height: 480, rotation: 0)
        let (_, pad) = padToAspect(whole, tensorWidth: 224, tensorHeight: 224)
        #expect(maxAbsDiff([pad.left, pad.top, pad.right, pad.bottom], try ref("det_image_pad").values) < 1e-7)
        let best = try #require(weightedNonMaxSuppression(decodePoseDetections(boxes: boxes, scores: scores)).first)
        let d = removeLetterbox(best, pad)
        #expect(maxAbsDiff([d.box[0], d.box[1], d.box[2], d.box[3]], try ref("det_image_box").values) < 1e-5)
        #expect(maxAbsDiff(d.keypoints.flatMap { [$0.x, $0.y] }, try ref("det_image_kps").values) < 1e-5)
        let roi = poseRoi(from: d, imageWidth: 640, imageHeight: 480)
        #expect(maxAbsDiff(rectValues(roi), try ref("det_image_roi").values) < 1e-5)
    }

    @Test("landmark decoding: heatmap refinement, projection, world rotation", arguments: [7, 9])
    func landmarks(kernel: Int) throws {
        func fixture(_ name: String) throws -> [Float] {
            try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("lm_\(name).npy")).values
        }
        let roi = rect(try ref("det_image_roi").values)
        var opts = BlazePose.Options()
        opts.heatmapKernel = kernel
        let out = try #require(decodePoseLandmarks(rows: try fixture("Identity"), presence: try fixture("Identity_1")[0],
                                             heatmap: try fixture("Identity_3"), world: try fixture("Identity_4"),
                                             roi: roi, letterbox: .none, options: opts))
        func values(_ l: [PoseLandmark]) -> [Float] { l.flatMap { [$0.x, $0.y, $0.z, $0.visibility, $0.presence] } }
        let e1 = maxAbsDiff(values(out.landmarks), try ref("lm_k\(kernel)_landmarks").values)
        let e2 = maxAbsDiff(values(out.auxiliary), try ref("lm_k\(kernel)_aux").values)
        let e3 = maxAbsDiff(out.world.flatMap { [$0.x, $0.y, $0.z] }, try ref("lm_k\(kernel)_world").values)
        #expect(e1 < 2e-6 && e2 < 2e-6 && e3 < 2e-6, "landmarks \(e1), aux \(e2), world \(e3)")
        if kernel == 7 {
            let next = poseRoi(fromAuxiliary: out.auxiliary, imageWidth: 640, imageHeight: 480)
            #expect(maxAbsDiff(rectValues(next), try ref("lm_next_roi").values) < 1e-5)
        }
        // presence at or below the threshold: no pose
        opts.minPresence = 0.999
        #expect(decodePoseLandmarks(rows: try fixture("Identity"), presence: try fixture("Identity_1")[0], heatmap: try fixture("Identity_3"),
                              world: try fixture("Identity_4"), roi: roi, letterbox: .none, options: opts) == nil)
    }

    @Test("rotated crop matches OpenCV 3.4/4.10's warpPerspective (MediaPipe's) within one grey level", arguments: [CropBorder.zero, .replicate])
    func crop(border: CropBorder) throws {
        // the same pattern as make-blazepose-reference.py
        let (h, w) = (61, 97)
        var px = [UInt8](repeating: 0, count: h * w * 3)
        for y in 0..<h {
            for x in 0..<w {
                px[(y * w + x) * 3] = UInt8((x * 7 + y * 13) % 256)
                px[(y * w + x) * 3 + 1] = UInt8((x * y) % 251)
                px[(y * w + x) * 3 + 2] = UInt8(((255 - x * 3 + (y / 8) * 40) % 256 + 256) % 256)
            }
        }
        #expect(px.map(Float.init) == (try ref("pattern")).values)
        let r = try ref("roi_px").values.map(Double.init)
        let got = cropRotatedRect(RGBImage(width: w, height: h, pixels: px),
                                  PixelRect(cx: r[0], cy: r[1], width: r[2], height: r[3], rotation: r[4]),
                                  tensorWidth: 64, tensorHeight: 64, border: border)
        let want = try ref(border == .zero ? "crop_zero" : "crop_replicate").values
        let diffs = zip(got, want).map { abs(Float($0) - $1) }
        let exact = diffs.filter { $0 == 0 }.count
        #expect(diffs.max()! <= 1, "max difference \(diffs.max()!)")
        // OpenCV builds its matrix from float32 corners; rounding to 1/32 pixel rarely lands differently
        #expect(Double(exact) / Double(diffs.count) > 0.999, "\(exact) of \(diffs.count) values equal")
    }
}


@Suite("BlazePose end to end") struct BlazePoseEndToEndTests {
    /// A stored model input as an image: with the whole image as ROI the crop is the identity.
    private func image(_ prefix: String) throws -> RGBImage {
        let a = try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("\(prefix)_input_u8.npy"))
        return RGBImage(width: a.shape[1], height: a.shape[0], pixels: a.values.map { UInt8($0) })
    }

    @Test("detect() on the stored detector input finds the reference detection", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func detect() throws {
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let img = try image("det")
        // a square image: no letterbox, and the crop reproduces the stored input exactly
        let whole = PixelRect(cx: 112, cy: 112, width: 224, height: 224, rotation: 0)
        let bytes = cropRotatedRect(img, whole, tensorWidth: 224, tensorHeight: 224, border: .zero)
        #expect(bytes == img.pixels)
        let (d, roi) = try #require(try pose.detect(img))
        #expect(abs(d.score - (try ref("det50_score")).values[0]) < 1e-4)
        #expect(maxAbsDiff([d.box[0], d.box[1], d.box[2], d.box[3]], try ref("det50_box").values) < 1e-4)
        #expect(maxAbsDiff(d.keypoints.flatMap { [$0.x, $0.y] }, try ref("det50_kps").values) < 1e-4)
        #expect(roi == poseRoi(from: d, imageWidth: 224, imageHeight: 224))
    }

    @Test("landmarks(in:roi:) on the stored landmark input equals decoding litert's outputs", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func landmarks() throws {
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let identity = NormalizedRect(xCenter: 0.5, yCenter: 0.5, width: 1, height: 1, rotation: 0)
        let got = try #require(try pose.landmarks(in: try image("lm"), roi: identity))
        func fixture(_ name: String) throws -> [Float] {
            try Npy.read(BlazePoseFiles.fixtures.appendingPathComponent("lm_\(name).npy")).values
        }
        let want = try #require(decodePoseLandmarks(rows: try fixture("Identity"), presence: try fixture("Identity_1")[0],
                                                    heatmap: try fixture("Identity_3"), world: try fixture("Identity_4"),
                                                    roi: identity, letterbox: .none, options: pose.options))
        func values(_ l: [PoseLandmark]) -> [Float] { l.flatMap { [$0.x, $0.y, $0.z, $0.visibility] } }
        // model outputs differ from litert's by ~1e-3 px; a heatmap-refinement window can shift by a cell
        // only if a landmark sits on a cell edge, which these do not
        #expect(maxAbsDiff(values(got.landmarks), values(want.landmarks)) < 1e-4)
        #expect(maxAbsDiff(got.world.flatMap { [$0.x, $0.y, $0.z] }, want.world.flatMap { [$0.x, $0.y, $0.z] }) < 1e-4)
        #expect(got.presence > 0.99)
    }

    @Test("processStatic finds the mannequin: hips near the detector's mid-hip", .enabled(if: BlazePoseFiles.available, BlazePoseFiles.skipReason))
    func processStatic() throws {
        let pose = try BlazePose(modelDirectory: BlazePoseFiles.models.path)
        let img = try image("det")
        let (d, _) = try #require(try pose.detect(img))
        let out = try #require(try pose.processStatic(img))
        let hip = SIMD2((out.landmarks[23].x + out.landmarks[24].x) / 2, (out.landmarks[23].y + out.landmarks[24].y) / 2)
        #expect(abs(hip.x - d.keypoints[0].x) < 0.03 && abs(hip.y - d.keypoints[0].y) < 0.03, "hip \(hip) vs \(d.keypoints[0])")
        #expect(out.landmarks[0].y < hip.y)       // the nose above the hips
    }
}
