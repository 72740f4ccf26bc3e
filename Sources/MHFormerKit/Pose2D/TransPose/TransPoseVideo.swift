// TransPose inside the video pipeline: BlazePose finds and tracks the person (its landmark ROI is
// the person box), TransPose gives the 17 COCO keypoints in that box. Optionally keeps, per frame,
// the last encoder layer's attention for each keypoint (what the keypoint's feature cell attends to,
// the paper's "dependency" maps).

import Foundation

/// The person box (COCO x, y, w, h in pixels) of a BlazePose ROI: the axis-aligned bounds of the
/// rotated ROI, shrunk by BlazePose's 1.25 margin (TransPose adds its own 1.25).
public func personBox(roi: NormalizedRect, width: Int, height: Int) -> (Float, Float, Float, Float) {
    let cx = Double(roi.xCenter) * Double(width), cy = Double(roi.yCenter) * Double(height)
    let w = Double(roi.width) * Double(width) / 1.25, h = Double(roi.height) * Double(height) / 1.25
    let c = abs(cos(Double(roi.rotation))), s = abs(sin(Double(roi.rotation)))
    let bw = w * c + h * s, bh = w * s + h * c
    return (Float(cx - bw / 2), Float(cy - bh / 2), Float(bw), Float(bh))
}

public final class TransPoseVideoEstimator {
    public let model: TransPoseModel
    public let keepAttention: Bool
    /// Frame index → attention maps [17, tokensH, tokensW] (row of the last layer's map at each
    /// keypoint's query cell, mean over heads).
    public private(set) var attention: [Int: [Float]] = [:]

    public init(model: TransPoseModel, keepAttention: Bool) {
        self.model = model
        self.keepAttention = keepAttention
    }

    /// COCO-17 keypoints (x, y interleaved, image pixels) and scores of the person BlazePose found.
    public func keypoints(frame: Int, image: RGBImage, landmarks: PoseLandmarks) -> (points: [Float], scores: [Float]) {
        let box = personBox(roi: landmarks.roi, width: image.width, height: image.height)
        let r = model.estimate(rgb: image.pixels, width: image.width, height: image.height, box: box,
                               withAttention: keepAttention)
        if keepAttention, let a = r.attention {
            let L = model.config.tokensH * model.config.tokensW
            attention[frame] = r.attentionQuery.flatMap { q in a[(q * L)..<((q + 1) * L)] }
        }
        return (r.keypoints.flatMap { [$0.x, $0.y] }, r.scores)
    }

    /// Writes the kept attention as a float32 .npy of shape (frames, 17, tokensH, tokensW), one entry
    /// per frame index of `frames` (zeros where no person was found).
    public func writeAttention(frames: [Int], to path: String) throws {
        let per = model.config.joints * model.config.tokensH * model.config.tokensW
        var values = [Float]()
        values.reserveCapacity(frames.count * per)
        for f in frames { values += attention[f] ?? [Float](repeating: 0, count: per) }
        try writeNpy(values, shape: [frames.count, model.config.joints, model.config.tokensH, model.config.tokensW], to: path)
    }
}

/// A little-endian float32 C-order .npy file (format 1.0).
public func writeNpy(_ values: [Float], shape: [Int], to path: String) throws {
    precondition(values.count == shape.reduce(1, *))
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let n = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
    data.append(contentsOf: Array(header.utf8))
    values.withUnsafeBytes { data.append(contentsOf: $0) }   // little-endian hosts (x86-64, arm64)
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw MHFormerError("\(path): cannot write (\(error.localizedDescription))")
    }
}
