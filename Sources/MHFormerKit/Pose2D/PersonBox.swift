// The person box a top-down 2D model crops, from where BlazePose found the person. Two conventions,
// kept because each model's parity with its reference was measured with its own:
//   landmarkBounds  the bounding box of BlazePose's 33 landmarks (ViTPose adds its 25 % margin);
//   roiBounds       the axis-aligned bounds of BlazePose's rotated ROI, shrunk by BlazePose's 1.25
//                   margin (TransPose adds its own 1.25).

import Foundation

/// An axis-aligned box in image pixels: top-left corner (x, y), width, height (COCO's xywh).
public struct PersonBox: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// The bounding box of the landmarks, at least 1 pixel each way.
    public static func landmarkBounds(_ landmarks: PoseLandmarks, width: Int, height: Int) -> PersonBox {
        let xs = landmarks.landmarks.map { Double($0.x) * Double(width) }
        let ys = landmarks.landmarks.map { Double($0.y) * Double(height) }
        let x0 = xs.min() ?? 0, x1 = xs.max() ?? 0, y0 = ys.min() ?? 0, y1 = ys.max() ?? 0
        return PersonBox(x: x0, y: y0, width: max(x1 - x0, 1), height: max(y1 - y0, 1))
    }

    /// The bounds of the rotated ROI (normalised to the image), without BlazePose's 1.25 margin.
    public static func roiBounds(_ roi: NormalizedRect, width: Int, height: Int) -> PersonBox {
        let cx = Double(roi.xCenter) * Double(width), cy = Double(roi.yCenter) * Double(height)
        let w = Double(roi.width) * Double(width) / 1.25, h = Double(roi.height) * Double(height) / 1.25
        let c = abs(cos(Double(roi.rotation))), s = abs(sin(Double(roi.rotation)))
        let bw = w * c + h * s, bh = w * s + h * c
        return PersonBox(x: cx - bw / 2, y: cy - bh / 2, width: bw, height: bh)
    }

    /// (x, y, width, height) as ViTPose takes it.
    public var xywh: SIMD4<Double> { SIMD4(x, y, width, height) }
}
