// Drawing skeletons into RGB24 images, for checking results by eye:
//   - the 2D keypoints over the video frame,
//   - the 3D joints seen from a fixed viewpoint,
// side by side in an overlay video frame, or several frames' 3D poses in a grid (a PNG).
// Colours: the person's left side blue, right side red, the centre line green.

import Foundation

/// A packed RGB24 image with anti-aliased line and disc drawing.
public struct Canvas: Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.0; pixels[3 * i + 1] = background.1; pixels[3 * i + 2] = background.2
        }
    }

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// Blends `color` into pixel (x, y) with coverage `a` in [0, 1].
    @inline(__always) mutating func blend(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8), _ a: Float) {
        guard x >= 0, y >= 0, x < width, y < height, a > 0 else { return }
        let i = (y * width + x) * 3
        let k = min(a, 1)
        pixels[i] = UInt8(Float(pixels[i]) * (1 - k) + Float(color.0) * k)
        pixels[i + 1] = UInt8(Float(pixels[i + 1]) * (1 - k) + Float(color.1) * k)
        pixels[i + 2] = UInt8(Float(pixels[i + 2]) * (1 - k) + Float(color.2) * k)
    }

    /// A segment of the given thickness: every pixel in its bounding box is covered by how far it is
    /// from the segment (a one-pixel soft edge).
    public mutating func line(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, thickness: Float, color: (UInt8, UInt8, UInt8)) {
        guard [x0, y0, x1, y1].allSatisfy({ $0.isFinite }) else { return }
        let r = thickness / 2
        let minX = max(0, Int((min(x0, x1) - r - 1).rounded(.down))), maxX = min(width - 1, Int((max(x0, x1) + r + 1).rounded(.up)))
        let minY = max(0, Int((min(y0, y1) - r - 1).rounded(.down))), maxY = min(height - 1, Int((max(y0, y1) + r + 1).rounded(.up)))
        guard minX <= maxX, minY <= maxY else { return }
        let dx = x1 - x0, dy = y1 - y0
        let len2 = max(dx * dx + dy * dy, 1e-6)
        for y in minY...maxY {
            for x in minX...maxX {
                let px = Float(x) + 0.5 - x0, py = Float(y) + 0.5 - y0
                let t = max(0, min(1, (px * dx + py * dy) / len2))
                let ex = px - t * dx, ey = py - t * dy
                let d = (ex * ex + ey * ey).squareRoot()
                blend(x, y, color, r + 0.5 - d)
            }
        }
    }

    public mutating func disc(_ cx: Float, _ cy: Float, radius: Float, color: (UInt8, UInt8, UInt8)) {
        line(cx, cy, cx, cy, thickness: 2 * radius, color: color)
    }

    /// Copies `other` into this canvas with its top-left corner at (x, y).
    public mutating func paste(_ other: Canvas, x: Int, y: Int) {
        for row in 0..<other.height where y + row >= 0 && y + row < height {
            for col in 0..<other.width where x + col >= 0 && x + col < width {
                let d = ((y + row) * width + x + col) * 3, s = (row * other.width + col) * 3
                pixels[d] = other.pixels[s]; pixels[d + 1] = other.pixels[s + 1]; pixels[d + 2] = other.pixels[s + 2]
            }
        }
    }
}

public enum SkeletonDrawing {
    static let left: (UInt8, UInt8, UInt8) = (60, 140, 255)
    static let right: (UInt8, UInt8, UInt8) = (255, 70, 60)
    static let centre: (UInt8, UInt8, UInt8) = (60, 220, 90)

    static func color(_ j: Int) -> (UInt8, UInt8, UInt8) {
        Skeleton.leftJoints.contains(j) ? left : Skeleton.rightJoints.contains(j) ? right : centre
    }

    /// One colour per person ID (several people in one overlay), cycling after eight.
    public static func personColour(_ id: Int) -> (UInt8, UInt8, UInt8) {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 200, 0), (0, 210, 255), (255, 90, 200), (130, 255, 90),
                                                (255, 140, 40), (170, 130, 255), (255, 255, 255), (0, 255, 170)]
        return palette[(max(id, 1) - 1) % palette.count]
    }

    /// Text of digits and capital P (person labels) centred at (x, y), in a 3×5 pixel font scaled by `size`.
    public static func label(_ c: inout Canvas, _ text: String, x: Float, y: Float, colour: (UInt8, UInt8, UInt8), size: Float) {
        let glyphs: [Character: [String]] = [
            "P": ["111", "101", "111", "100", "100"], "0": ["111", "101", "101", "101", "111"], "1": ["010", "110", "010", "010", "111"],
            "2": ["111", "001", "111", "100", "111"], "3": ["111", "001", "111", "001", "111"], "4": ["101", "101", "111", "001", "001"],
            "5": ["111", "100", "111", "001", "111"], "6": ["111", "100", "111", "101", "111"], "7": ["111", "001", "010", "010", "010"],
            "8": ["111", "101", "111", "101", "111"], "9": ["111", "101", "111", "001", "111"],
        ]
        let s = size.rounded()
        let left = x - Float(text.count) * 4 * s / 2, top = y - 2.5 * s
        for (k, ch) in text.enumerated() {
            guard let rows = glyphs[ch] else { continue }
            for (r, row) in rows.enumerated() {
                for (col, bit) in row.enumerated() where bit == "1" {
                    let x0 = Int(left + (Float(k * 4 + col)) * s), y0 = Int(top + Float(r) * s)
                    for yy in y0..<(y0 + Int(s)) { for xx in x0..<(x0 + Int(s)) where xx >= 0 && yy >= 0 && xx < c.width && yy < c.height {
                        c.blend(xx, yy, colour, 1)
                    } }
                }
            }
        }
    }

    /// Bones and joints of 2D keypoints (17·2 pixels) drawn over the canvas; `jointColour` tells
    /// people apart when several are drawn (default white).
    public static func draw2D(_ c: inout Canvas, points p: ArraySlice<Float>, scale: Float = 1, jointColour: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        let b = p.startIndex
        let thickness = max(2, Float(min(c.width, c.height)) / 180)
        for j in 1..<17 {
            let q = Skeleton.parents[j]
            c.line(p[b + 2 * q] * scale, p[b + 2 * q + 1] * scale, p[b + 2 * j] * scale, p[b + 2 * j + 1] * scale,
                   thickness: thickness, color: color(j))
        }
        for j in 0..<17 { c.disc(p[b + 2 * j] * scale, p[b + 2 * j + 1] * scale, radius: thickness, color: jointColour) }
    }

    /// Root-relative camera-frame joints (17·3, metres; x right, y down, z forward) seen from a camera
    /// turned `azimuth` degrees around the vertical and looking down `elevation` degrees, orthographic,
    /// 2 m of height filling the panel; a floor grid under the lowest joint.
    public static func draw3D(_ c: inout Canvas, joints p: ArraySlice<Float>, azimuth: Float = 45, elevation: Float = 15) {
        let b = p.startIndex
        let az = azimuth * .pi / 180, el = elevation * .pi / 180
        // camera axes → a viewer frame: rotate about the vertical (y) by azimuth, then tilt by elevation.
        func view(_ x: Float, _ y: Float, _ z: Float) -> (Float, Float) {
            let x1 = cos(az) * x + sin(az) * z, z1 = -sin(az) * x + cos(az) * z
            let y2 = cos(el) * y - sin(el) * z1
            let s = Float(c.height) / 2.2
            return (Float(c.width) / 2 + x1 * s, Float(c.height) * 0.45 + y2 * s)
        }
        var lowest: Float = 0
        for j in 0..<17 { lowest = max(lowest, p[b + 3 * j + 1]) }
        // floor grid, 0.5 m squares over 3 m
        for k in -3...3 {
            let v = Float(k) * 0.5
            let (ax, ay) = view(v, lowest, -1.5), (bx, by) = view(v, lowest, 1.5)
            c.line(ax, ay, bx, by, thickness: 1, color: (70, 70, 80))
            let (cx, cy) = view(-1.5, lowest, v), (dx, dy) = view(1.5, lowest, v)
            c.line(cx, cy, dx, dy, thickness: 1, color: (70, 70, 80))
        }
        let thickness = max(2, Float(c.height) / 140)
        for j in 1..<17 {
            let q = Skeleton.parents[j]
            let (x0, y0) = view(p[b + 3 * q], p[b + 3 * q + 1], p[b + 3 * q + 2])
            let (x1, y1) = view(p[b + 3 * j], p[b + 3 * j + 1], p[b + 3 * j + 2])
            c.line(x0, y0, x1, y1, thickness: thickness, color: color(j))
        }
        for j in 0..<17 {
            let (x, y) = view(p[b + 3 * j], p[b + 3 * j + 1], p[b + 3 * j + 2])
            c.disc(x, y, radius: thickness * 0.8, color: (240, 240, 240))
        }
    }

    /// A grid of up to `count` evenly spaced frames' 3D poses (root-relative camera frame), as RGB24.
    public static func plotGrid(_ pose: Pose3DSequence, count: Int = 6, panel: Int = 320) -> Canvas {
        let frames = pose.present.indices.filter { pose.present[$0] }
        let picks = frames.isEmpty ? [] : (0..<min(count, frames.count)).map { frames[$0 * (frames.count - 1) / max(1, min(count, frames.count) - 1)] }
        let cols = min(3, max(1, picks.count)), rows = max(1, (picks.count + cols - 1) / cols)
        var canvas = Canvas(width: cols * panel, height: rows * panel, background: (24, 24, 30))
        for (k, i) in picks.enumerated() {
            var cell = Canvas(width: panel - 4, height: panel - 4, background: (34, 34, 42))
            draw3D(&cell, joints: pose.row(i))
            canvas.paste(cell, x: (k % cols) * panel + 2, y: (k / cols) * panel + 2)
        }
        return canvas
    }
}
