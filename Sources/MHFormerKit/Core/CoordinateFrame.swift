// The coordinate frames 3D joints can be written in.

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
