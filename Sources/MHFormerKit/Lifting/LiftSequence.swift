// From a 2D keypoint file's contents to the 3D sequence: the lifter runs on each contiguous run of
// frames with a person; frames without one stay empty.

import Foundation

public enum CoordinateFrame: String, CaseIterable, Sendable {
    /// Root-relative camera frame in metres: x right, y down, z away from the camera (the model's own).
    case camera
    /// The scene: the root's trajectory recovered from the 2D keypoints, Y up (or Z up), the ground
    /// from the feet at 0, metres (WorldMotion).
    case world
    /// The official demo's display frame: camera_to_world with Human3.6M's camera rotation, lowest
    /// joint at z = 0, root-relative.
    case demo
}

extension Lifter {
    /// Root-relative camera-frame joints for every row of `kp` (other frames: Lifter.cameraToWorld
    /// for the demo's frame, WorldMotion for the world frame).
    public func lift(_ kp: Keypoints2D, flip: Bool = true, progress: ((Int) -> Void)? = nil) -> Pose3DSequence {
        var joints = [Float](repeating: 0, count: kp.count * 51)
        var done = 0
        for seg in kp.segments {
            let pts = Array(kp.points[(seg.lowerBound * 34)..<(seg.upperBound * 34)])
            let y = lift(pts, frames: seg.count, width: kp.width, height: kp.height, flip: flip,
                         progress: { progress?(done + $0) })
            joints.replaceSubrange((seg.lowerBound * 51)..<(seg.upperBound * 51), with: y)
            done += seg.count
        }
        return Pose3DSequence(frames: kp.frames, times: kp.times, joints: joints, present: kp.present)
    }
}

/// Where the tool looks for its model files: $MHFORMER_MODELS, then `Models/` beside the executable
/// and its parent folders (a build tree inside the repository), then ./Models.
public enum ModelFolders {
    public static func candidates(_ subfolder: String? = nil) -> [URL] {
        var dirs: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MHFORMER_MODELS"] { dirs.append(URL(fileURLWithPath: env)) }
        var exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            dirs.append(exe.appendingPathComponent("Models"))
            exe = exe.deletingLastPathComponent()
        }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Models"))
        return subfolder.map { sub in dirs.map { $0.appendingPathComponent(sub) } } ?? dirs
    }
}

public enum DefaultWeights {
    /// The project's own weights: `mhformer-cmu-T*.safetensors` in the first of ModelFolders that has one.
    public static func find() -> String? {
        for dir in ModelFolders.candidates() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            if let name = names.filter({ $0.hasPrefix("mhformer-cmu-T") && $0.hasSuffix(".safetensors") }).sorted().first {
                return dir.appendingPathComponent(name).path
            }
        }
        return nil
    }
}
