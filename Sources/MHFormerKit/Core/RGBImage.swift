// The frame type the 2D detectors read.

/// An 8-bit RGB image, rows top to bottom, 3 bytes per pixel.
public struct RGBImage: Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]           // height · width · 3
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width; self.height = height; self.pixels = pixels
    }
}
