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
}
