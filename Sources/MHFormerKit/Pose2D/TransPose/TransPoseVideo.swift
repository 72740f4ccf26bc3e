// TransPose inside the video pipeline: BlazePose finds and tracks the person (its landmark ROI is
// the person box), TransPose gives the 17 COCO keypoints in that box. Optionally keeps, per frame,
// the last encoder layer's attention for each keypoint (what the keypoint's feature cell attends to,
// the paper's "dependency" maps).

import Foundation

public final class TransPoseVideoEstimator: TopDownPoseModel, AttentionRecorder {
    public var name: String { "TransPose" }
    public let model: TransPoseModel
    public let keepAttention: Bool
    /// Frame index → attention maps [17, tokensH, tokensW] (row of the last layer's map at each
    /// keypoint's query cell, mean over heads).
    public private(set) var attention: [Int: [Float]] = [:]

    public init(model: TransPoseModel, keepAttention: Bool) {
        self.model = model
        self.keepAttention = keepAttention
    }

    /// COCO-17 keypoints of the person BlazePose found, in the box of its ROI (PersonBox.roiBounds).
    public func keypoints(_ image: RGBImage, person: PersonDetection2D, frameIndex frame: Int, flipTest: Bool) throws -> PersonKeypoints2D {
        let b = PersonBox.roiBounds(person.landmarks.roi, width: person.imageWidth, height: person.imageHeight)
        let box = (Float(b.x), Float(b.y), Float(b.width), Float(b.height))
        let r = model.estimate(rgb: image.pixels, width: image.width, height: image.height, box: box,
                               flipTest: flipTest, withAttention: keepAttention)
        if keepAttention, let a = r.attention {
            let L = model.config.tokensH * model.config.tokensW
            attention[frame] = r.attentionQuery.flatMap { q in a[(q * L)..<((q + 1) * L)] }
        }
        return PersonKeypoints2D(points: r.keypoints.flatMap { [$0.x, $0.y] }, scores: r.scores)
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
    try AtomicFile.write(data, to: path)
}
