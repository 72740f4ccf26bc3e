// The overlay video: each source frame with its 2D skeleton, beside the 3D skeleton from a fixed
// viewpoint, at the source's time stamps. The video is decoded a second time (streaming), so memory
// stays bounded whatever its length. Without a video (lift from a CSV) the left side is a dark
// canvas of the keypoints' image size.

import Foundation

public enum OverlayVideo {
    /// `cameraPose`: root-relative camera-frame joints, one row per keypoint frame.
    public static func render(video: String?, keypoints kp: Keypoints2D, cameraPose pose: Pose3DSequence,
                              fps: Double, to path: String) throws {
        let panel = (kp.height + 1) / 2 * 2
        let writer = try VideoWriter(path: path, width: kp.width + panel, height: kp.height, fps: fps)

        func compose(_ background: Canvas, row i: Int?) -> Canvas {
            var frame = Canvas(width: writer.width, height: writer.height, background: (20, 20, 26))
            var left = background
            var right = Canvas(width: panel, height: kp.height, background: (34, 34, 42))
            if let i, kp.present[i] {
                SkeletonDrawing.draw2D(&left, points: kp.row(i))
                SkeletonDrawing.draw3D(&right, joints: pose.row(i))
            }
            frame.paste(left, x: 0, y: 0)
            frame.paste(right, x: kp.width, y: 0)
            return frame
        }

        if let video {
            let rowOfFrame = Dictionary(uniqueKeysWithValues: kp.frames.enumerated().map { ($0.element, $0.offset) })
            let reader = try VideoReader(path: video)
            _ = try reader.forEachFrame { frame in
                let out = compose(Canvas(width: frame.width, height: frame.height, pixels: frame.pixels), row: rowOfFrame[frame.index])
                try writer.append(rgb: out.pixels, width: out.width, height: out.height, time: frame.time)
                return true
            }
        } else {
            for i in 0..<kp.count {
                let out = compose(Canvas(width: kp.width, height: kp.height, background: (16, 16, 20)), row: i)
                try writer.append(rgb: out.pixels, width: out.width, height: out.height, time: kp.times[i] ?? Double(kp.frames[i]) / fps)
            }
        }
        try writer.finish()
    }

    /// One person of a multi-person overlay.
    public struct Person: Sendable {
        public var id: Int
        public var keypoints: Keypoints2D
        public var cameraPose: Pose3DSequence
        public init(id: Int, keypoints: Keypoints2D, cameraPose: Pose3DSequence) {
            self.id = id; self.keypoints = keypoints; self.cameraPose = cameraPose
        }
    }

    /// Everyone in one video: each person's 2D skeleton over the frame with their ID in their
    /// colour, and beside it a grid of 3D panels, one per person, labelled the same way. Each person's
    /// rows cover their own span of frames (PeopleKeypointExtractor): rows are found by frame number.
    public static func render(video: String, people: [Person], fps: Double, to path: String) throws {
        guard let first = people.first else { throw MHFormerError("\(path): no person to draw") }
        let width = first.keypoints.width, height = first.keypoints.height
        let panel = (height + 1) / 2 * 2
        let columns = people.count <= 1 ? 1 : 2, rows = (people.count + columns - 1) / columns
        let cellWidth = panel / columns, cellHeight = height / rows
        let writer = try VideoWriter(path: path, width: width + panel, height: height, fps: fps)
        // Per person: frame number → row of their span.
        let rowOfFrame = people.map { p in Dictionary(uniqueKeysWithValues: p.keypoints.frames.enumerated().map { ($0.element, $0.offset) }) }
        let reader = try VideoReader(path: video)
        _ = try reader.forEachFrame { frame in
            var out = Canvas(width: writer.width, height: writer.height, background: (20, 20, 26))
            var left = Canvas(width: frame.width, height: frame.height, pixels: frame.pixels)
            var right = Canvas(width: panel, height: height, background: (34, 34, 42))
            for (k, person) in people.enumerated() {
                let colour = SkeletonDrawing.personColour(person.id)
                var cell = Canvas(width: cellWidth, height: cellHeight, background: (34, 34, 42))
                if let i = rowOfFrame[k][frame.index], person.keypoints.present[i] {
                    SkeletonDrawing.draw2D(&left, points: person.keypoints.row(i), jointColour: colour)
                    let head = person.keypoints.point(i, 10)
                    SkeletonDrawing.label(&left, "P\(person.id)", x: head.x, y: head.y - Float(height) / 40, colour: colour, size: max(2, Float(height) / 160))
                    SkeletonDrawing.draw3D(&cell, joints: person.cameraPose.row(i))
                }
                SkeletonDrawing.label(&cell, "P\(person.id)", x: Float(cellWidth) / 2, y: 14, colour: colour, size: 2)
                right.paste(cell, x: (k % columns) * cellWidth, y: (k / columns) * cellHeight)
            }
            out.paste(left, x: 0, y: 0)
            out.paste(right, x: width, y: 0)
            try writer.append(rgb: out.pixels, width: out.width, height: out.height, time: frame.time)
            return true
        }
        try writer.finish()
    }
}
