"""CSV formats shared with the Swift tool (`mhformer lift` input / reference output) and the fixed
sample camera used by Scripts/sample/make-sample-2d.py and Training/make_swift_reference.py.

2D CSV:  frame,time_s,width,height,<joint>_x,<joint>_y ...   (pixels, x right, y down)
3D CSV:  frame,time_s,<joint>_x,<joint>_y,<joint>_z ...      (root-relative camera frame, metres)
Numbers are written as repr(float(np.float32(v))) so a float32 reader gets the exact value back.
"""
import csv

import numpy as np

import data

JOINT_NAMES = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
               "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
               "right_shoulder", "right_elbow", "right_wrist"]


def f32(v):
    return repr(float(np.float32(v)))


def write_2d_csv(path, kp_px, fps, width, height):
    """kp_px (N, 17, 2) pixels -> 2D CSV."""
    header = ["frame", "time_s", "width", "height"] + [f"{j}_{a}" for j in JOINT_NAMES for a in "xy"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i, pose in enumerate(np.asarray(kp_px, dtype=np.float32)):
            w.writerow([i, f32(i / fps), width, height] + [f32(v) for v in pose.reshape(-1)])


def write_3d_csv(path, pose_3d, fps=None):
    """pose_3d (N, 17, 3) metres -> 3D CSV (time_s left empty when fps is None)."""
    header = ["frame", "time_s"] + [f"{j}_{a}" for j in JOINT_NAMES for a in "xyz"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i, pose in enumerate(np.asarray(pose_3d, dtype=np.float32)):
            t = "" if fps is None else f32(i / fps)
            w.writerow([i, t] + [f32(v) for v in pose.reshape(-1)])


def read_2d_csv(path):
    """2D CSV -> (kp_px (N, 17, 2) float32, width, height)."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    kp = np.array([[[float(r[f"{j}_x"]), float(r[f"{j}_y"])] for j in JOINT_NAMES] for r in rows],
                  dtype=np.float32)
    return kp, int(rows[0]["width"]), int(rows[0]["height"])


# The fixed sample camera: 1280x720, 60 deg horizontal FOV, principal point at the image centre,
# 4.5 m (horizontal) from the sequence's mean pelvis position, 1.5 m high, 30 deg to the performer's
# right of their initial facing direction, aimed at the mean pelvis position at 1.0 m height.
SAMPLE_WIDTH, SAMPLE_HEIGHT, SAMPLE_HFOV_DEG = 1280, 720, 60.0
SAMPLE_DISTANCE_M, SAMPLE_HEIGHT_M, SAMPLE_YAW_DEG, SAMPLE_AIM_HEIGHT_M = 4.5, 1.5, 30.0, 1.0


def sample_camera(pos):
    """pos (N, 17, 3) world metres (Y-up) -> data.Camera as documented above."""
    root = pos[:, 0].mean(axis=0)
    left = pos[0, 4] - pos[0, 1]
    forward = np.cross(left, [0.0, 1.0, 0.0])  # performer's facing direction (left x up)
    forward[1] = 0
    forward /= np.linalg.norm(forward)
    a = np.radians(-SAMPLE_YAW_DEG)  # rotate about +Y towards the performer's right
    c, s = np.cos(a), np.sin(a)
    direction = np.array([c * forward[0] + s * forward[2], 0.0, -s * forward[0] + c * forward[2]])
    center = np.array([root[0], SAMPLE_HEIGHT_M, root[2]]) + SAMPLE_DISTANCE_M * direction
    aim = np.array([root[0], SAMPLE_AIM_HEIGHT_M, root[2]])
    R = data.look_rotation(aim - center)
    f = (SAMPLE_WIDTH / 2) / np.tan(np.radians(SAMPLE_HFOV_DEG) / 2)
    return data.Camera(R, center, f, SAMPLE_WIDTH / 2, SAMPLE_HEIGHT / 2, SAMPLE_WIDTH, SAMPLE_HEIGHT)


def project_sequence(pos, cam):
    """-> (kp_px (N,17,2) float32 exact projection, gt (N,17,3) float32 root-relative camera metres)."""
    cam_pos = cam.to_camera(pos)
    return cam.project(cam_pos).astype(np.float32), (cam_pos - cam_pos[:, :1]).astype(np.float32)
