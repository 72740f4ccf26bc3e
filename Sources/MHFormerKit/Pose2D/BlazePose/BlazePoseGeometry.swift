// Rectangles and points of MediaPipe Pose (../shared/docs/pose2d-backends.md §4), in MediaPipe's
// conventions:
//   * normalized coordinates: x / image width, y / image height, origin at the top-left corner, y down
//   * a NormalizedRect is (centre, size, rotation); rotation in radians, clockwise on the screen
//     (because y points down), 0 = upright
// Geometry is computed in Double and stored as Float, as MediaPipe stores it.

import Foundation

/// A rotated rectangle in normalized image coordinates (MediaPipe's NormalizedRect).
public struct NormalizedRect: Equatable, Sendable {
    public var xCenter: Float, yCenter: Float, width: Float, height: Float, rotation: Float
    public init(xCenter: Float, yCenter: Float, width: Float, height: Float, rotation: Float) {
        self.xCenter = xCenter; self.yCenter = yCenter; self.width = width; self.height = height; self.rotation = rotation
    }
}

/// An angle wrapped into [-π, π).
func normalizeRadians(_ a: Double) -> Double {
    a - 2 * Double.pi * ((a + Double.pi) / (2 * Double.pi)).rounded(.down)
}

/// AlignmentPointsRectsCalculator: the rect centred on p0 whose size is twice |p1 − p0| (in pixels)
/// and whose rotation turns the p0 → p1 direction to "up" (target angle 90°).
/// p0, p1 are normalized; width, height are the image's pixel size.
func alignmentRect(_ p0: SIMD2<Float>, _ p1: SIMD2<Float>, width W: Int, height H: Int) -> NormalizedRect {
    let x0 = Double(p0.x) * Double(W), y0 = Double(p0.y) * Double(H)
    let x1 = Double(p1.x) * Double(W), y1 = Double(p1.y) * Double(H)
    let size = 2 * ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
    let rotation = normalizeRadians(Double.pi / 2 - atan2(-(y1 - y0), x1 - x0))
    return NormalizedRect(xCenter: Float(x0 / Double(W)), yCenter: Float(y0 / Double(H)),
                          width: Float(size / Double(W)), height: Float(size / Double(H)), rotation: Float(rotation))
}

/// RectTransformationCalculator with square_long: a square (in pixels) of side scale × the longer
/// side, same centre and rotation.
func squareLong(_ r: NormalizedRect, width W: Int, height H: Int, scale: Float = 1.25) -> NormalizedRect {
    let long = max(Double(r.width) * Double(W), Double(r.height) * Double(H))
    var out = r
    out.width = Float(long / Double(W) * Double(scale))
    out.height = Float(long / Double(H) * Double(scale))
    return out
}

/// A rotated rect in pixels (ImageToTensorCalculator's RotatedRect).
struct PixelRect {
    var cx: Double, cy: Double, width: Double, height: Double, rotation: Double

    init(_ r: NormalizedRect, width W: Int, height H: Int) {
        cx = Double(r.xCenter) * Double(W); cy = Double(r.yCenter) * Double(H)
        width = Double(r.width) * Double(W); height = Double(r.height) * Double(H)
        rotation = Double(r.rotation)
    }
    init(cx: Double, cy: Double, width: Double, height: Double, rotation: Double) {
        self.cx = cx; self.cy = cy; self.width = width; self.height = height; self.rotation = rotation
    }
}

/// Letterbox padding of a crop, as fractions of the tensor: (left, top, right, bottom).
public struct Letterbox: Equatable, Sendable {
    public var left: Float, top: Float, right: Float, bottom: Float
    public static let none = Letterbox(left: 0, top: 0, right: 0, bottom: 0)
}

/// PadRoi (keep_aspect_ratio): grows the rect to the tensor's aspect ratio and says how much of the
/// tensor is padding. With a square tensor and a landscape image the padding is top and bottom.
func padToAspect(_ r: PixelRect, tensorWidth tw: Int, tensorHeight th: Int) -> (PixelRect, Letterbox) {
    let tensorAspect = Double(th) / Double(tw), roiAspect = r.height / r.width
    var out = r
    if tensorAspect > roiAspect {
        out.height = r.width * tensorAspect
        let v = Float((1 - roiAspect / tensorAspect) / 2)
        return (out, Letterbox(left: 0, top: v, right: 0, bottom: v))
    }
    out.width = r.height / tensorAspect
    let h = Float((1 - tensorAspect / roiAspect) / 2)
    return (out, Letterbox(left: h, top: 0, right: h, bottom: 0))
}
