// The COCO-17 keypoints, the order the 2D models here output (ViTPose and TransPose directly,
// BlazePose through KeypointConversion.cocoFromBlazePose), and the left-right mirror of the flip test:
// a model runs on the crop and on its mirror image, and the mirror's heatmaps are mirrored back and
// each left joint's map swapped with its right twin before the two are averaged.

public enum COCOSkeleton {
    public static let jointNames = [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ]

    /// Left/right pairs (eyes, ears, shoulders, elbows, wrists, hips, knees, ankles).
    public static let flipPairs: [(Int, Int)] = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]

    /// mirrorIndex[k]: the joint that joint k is in the mirror image ([17]; the nose stays itself).
    public static let mirrorIndex: [Int] = {
        var index = Array(0..<jointNames.count)
        for (l, r) in flipPairs { index[l] = r; index[r] = l }
        return index
    }()

    /// Planes [P, H, W] (crops [B, 3, H, W] or heatmaps [K, H, W]) mirrored left-right: out[p, y, x] =
    /// planes[p, y, W − 1 − x]; P = planes.count / (H·W).
    public static func mirror(_ planes: [Float], height: Int, width: Int) -> [Float] {
        var out = planes
        let count = planes.count / (height * width)
        for p in 0..<count { for y in 0..<height {
            let row = (p * height + y) * width
            for x in 0..<width { out[row + x] = planes[row + width - 1 - x] }
        } }
        return out
    }

    /// flip_back: heatmaps [K, H, W] of a mirrored crop → the un-mirrored crop's: each map mirrored
    /// left-right and moved to its twin's channel, out[k] = mirror(maps[mirrorIndex[k]]). With fewer
    /// than 17 maps a pair is swapped only when both are there; maps past the 17th stay in place.
    public static func flipBack(_ maps: [Float], keypoints K: Int, height: Int, width: Int) -> [Float] {
        let source = (0..<K).map { k in k < mirrorIndex.count && mirrorIndex[k] < K ? mirrorIndex[k] : k }
        var out = maps
        let hw = height * width
        for k in 0..<K { for y in 0..<height { for x in 0..<width {
            out[k * hw + y * width + x] = maps[source[k] * hw + y * width + width - 1 - x]
        } } }
        return out
    }
}
