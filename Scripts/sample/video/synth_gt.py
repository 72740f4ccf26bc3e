#!/usr/bin/env python3
"""Clip selection, floor alignment, camera placement, projection and the ground-truth files of the
sample video (numpy only; render_blender.py imports it, and it also runs on its own).

    python3 Scripts/sample/video/synth_gt.py --seq cmu_131_01 --start 0 --seconds 8 \
        --name cmu131_walk --out-dir Samples [--mocap ../shared/data/mocap]

writes the ground truth only (no video), exactly as the render does:
  <name>_gt_2d.csv         frame,time_s,width,height,<joint>_x,<joint>_y ...  pixels
  <name>_gt_3d_camera.csv  frame,time_s,<joint>_x,<joint>_y,<joint>_z ...     metres, root-relative
  <name>_camera.json       K, R, t, camera centre, source sequence and frame indices, conventions

Conventions (also written into the JSON):
- World: the mocap frame in metres, +Y up, shifted (no rotation) so that the floor is Y = 0 and
  the clip's mean pelvis position is above X = Z = 0.
- Camera: OpenCV pinhole, no distortion. x_cam = R @ X_world + t (metres), x right, y down,
  z forward. Pixels u = fx * x/z + cx, v = fy * y/z + cy, with the origin at the top-left
  *corner* of the image (pixel i covers [i, i+1]; the image centre is (W/2, H/2)).
- 3D CSV: camera frame minus the pelvis (joint 0) of the same frame, as MHFormer outputs.
- Frames: every 2nd frame of the 50 fps mocap gives 25 fps, so no interpolation is involved.
"""
import argparse
import csv
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MOCAP = os.environ.get("MOCAP_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "mocap"))

# Human3.6M order, the names of the project's CSV formats (Training/sample_io.py)
JOINT_NAMES = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
               "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
               "right_shoulder", "right_elbow", "right_wrist"]
ANKLE_HEIGHT_M = 0.088   # ankle joint above the sole of the shoe, used to find the floor


def load_clip(seq, start_s=0.0, seconds=8.0, fps=25, mocap_dir=DEFAULT_MOCAP):
    """-> (J (T,17,3) world metres, meta dict). Takes every (50/fps)-th mocap frame."""
    idx = json.load(open(os.path.join(mocap_dir, "index.json")))
    ent = next(s for s in idx["sequences"] if s["sequence"] == seq)
    X = np.load(os.path.join(mocap_dir, ent["file"]))[seq].astype(np.float64) / 1000.0   # mm -> m
    src_fps = float(ent["fps"])
    step = src_fps / fps
    assert abs(step - round(step)) < 1e-9, "fps must divide the mocap rate (no interpolation)"
    step = int(round(step))
    i0 = int(round(start_s * src_fps))
    src_idx = i0 + step * np.arange(int(round(seconds * fps)))
    src_idx = src_idx[src_idx < len(X)]
    clip = X[src_idx]
    # floor: the lower ankle of each frame is mostly the stance foot; its median ignores jumps
    low = np.minimum(clip[:, 3, 1], clip[:, 6, 1])
    floor_y = np.median(low) - ANKLE_HEIGHT_M
    offset = np.array([clip[:, 0, 0].mean(), floor_y, clip[:, 0, 2].mean()])
    meta = dict(sequence=seq, cmu_trial=ent.get("cmu_trial"), subject=ent["subject"], split=ent["split"],
                description=ent["description"], source_skeleton=ent.get("source_skeleton"),
                source_file=ent["file"], source_fps=src_fps, source_frames=src_idx.tolist(),
                world_offset_m=offset.tolist())
    return clip - offset, meta


def facing(J):
    """Unit horizontal facing direction per frame (T,3), from the hip and shoulder lines."""
    lr = (J[:, 4] - J[:, 1]) + (J[:, 11] - J[:, 14])          # performer's right -> left
    f = np.cross(lr, np.array([0.0, 1.0, 0.0]))
    f[:, 1] = 0
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def look_at(cam_pos, target):
    """OpenCV R (rows: right, down, forward) and t for a camera at cam_pos aimed at target, no roll."""
    z = target - cam_pos
    z = z / np.linalg.norm(z)
    x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ cam_pos


def project(Xw, K, R, t):
    """-> (camera-frame points, pixels)."""
    Xc = Xw @ R.T + t
    uv = Xc[..., :2] / Xc[..., 2:3] * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])
    return Xc, uv


def place_camera(J, W, H, azimuth_deg=None, az_offset_deg=30.0, dist_m=4.0, cam_h_m=1.6, target_h_m=0.95,
                 hfov_deg=60.0, margin=0.06, pad_m=0.15, fit=True):
    """Camera at eye height cam_h_m, dist_m (horizontally) from the clip centre, aimed at the clip
    centre at target_h_m. azimuth = direction from the centre to the camera, degrees from +Z towards
    +X; default: the mean facing direction + az_offset_deg (front-oblique view). The distance (never
    the focal length) grows in 0.25 m steps until every joint, padded by pad_m for the flesh, the
    head top and the shoes, stays `margin` of the image size away from the border. fit=False keeps
    dist_m as it is (close-ups: part of the body may leave the image)."""
    if azimuth_deg is None:
        f = facing(J).mean(0)
        azimuth_deg = float(np.degrees(np.arctan2(f[0], f[2])) + az_offset_deg)
    a = np.radians(azimuth_deg)
    dirv = np.array([np.sin(a), 0.0, np.cos(a)])
    fx = 0.5 * W / np.tan(np.radians(hfov_deg) / 2)
    K = np.array([[fx, 0, W / 2.0], [0, fx, H / 2.0], [0, 0, 1.0]])
    target = np.array([0.0, target_h_m, 0.0])
    pts = np.concatenate([J.reshape(-1, 3), J[:, 10] + [0, pad_m, 0], J[:, [3, 6]].reshape(-1, 3) - [0, 0.09, 0]])
    d = dist_m
    for _ in range(60 if fit else 1):
        pos = np.array([0.0, cam_h_m, 0.0]) + dirv * d
        R, t = look_at(pos, target)
        Xc, uv = project(pts, K, R, t)
        padpx = fx * pad_m / Xc[:, 2]
        if ((uv[:, 0] - padpx > margin * W) & (uv[:, 0] + padpx < (1 - margin) * W) &
                (uv[:, 1] > margin * H) & (uv[:, 1] < (1 - margin) * H)).all():
            break
        d += 0.25
    return dict(K=K, R=R, t=t, center=pos, target=target, azimuth_deg=float(azimuth_deg), distance_m=float(d),
                height_m=cam_h_m, width=W, height=H, hfov_deg=hfov_deg)


def f32(v):
    """The project's CSV number format: a float32 value printed so that it round-trips exactly."""
    return repr(float(np.float32(v)))


def write_csvs(prefix, uv, Xc, fps, W, H):
    rows2 = ["frame", "time_s", "width", "height"] + [f"{j}_{a}" for j in JOINT_NAMES for a in "xy"]
    rows3 = ["frame", "time_s"] + [f"{j}_{a}" for j in JOINT_NAMES for a in "xyz"]
    rel = Xc - Xc[:, :1]
    with open(prefix + "_gt_2d.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(rows2)
        for i, p in enumerate(uv):
            w.writerow([i, f32(i / fps), W, H] + [f32(v) for v in p.reshape(-1)])
    with open(prefix + "_gt_3d_camera.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(rows3)
        for i, p in enumerate(rel):
            w.writerow([i, f32(i / fps)] + [f32(v) for v in p.reshape(-1)])


CONVENTIONS = {
    "units": "metres (3D), pixels (2D)",
    "world": "mocap frame, +Y up, shifted so that the floor is Y=0 and the clip's mean pelvis is above X=Z=0",
    "camera": "OpenCV pinhole, no distortion: x_cam = R @ X_world + t; x right, y down, z forward",
    "pixels": "u = K[0][0]*x/z + K[0][2], v = K[1][1]*y/z + K[1][2]; origin at the top-left corner of the "
              "image (pixel i covers [i, i+1]); subtract 0.5 for pixel-centre indexing",
    "gt_3d_camera_csv": "camera frame minus the pelvis (joint 0) of the same frame (MHFormer's output convention); "
                        "add pelvis_camera_m[frame] for absolute camera coordinates",
    "left_right": "the performer's own sides",
    "nose_head": "'nose' is the mocap head joint at the skull base, 'head' a point 150 mm above it "
                 "(see the mocap README); neither is the rendered nose or the top of the rendered hair",
    "frames": "frame i of the video = mocap frame source_frames[i] (50 fps), time_s = i / fps",
}


def write_gt(prefix, J, cam, meta, fps, extra=None):
    """Writes the two CSVs and the camera JSON; returns (Xc, uv)."""
    Xc, uv = project(J, cam["K"], cam["R"], cam["t"])
    assert (Xc[..., 2] > 0.5).all(), "every joint must stay in front of the camera"
    write_csvs(prefix, uv, Xc, fps, cam["width"], cam["height"])
    info = dict(name=os.path.basename(prefix), fps=fps, frames=int(len(J)), width=cam["width"], height=cam["height"],
                K=cam["K"].tolist(), R=cam["R"].tolist(), t_m=cam["t"].tolist(),
                camera_center_m=cam["center"].tolist(), camera_target_m=cam["target"].tolist(),
                camera_azimuth_deg=cam["azimuth_deg"], camera_distance_m=cam["distance_m"],
                camera_height_m=cam["height_m"], hfov_deg=cam["hfov_deg"],
                conventions=CONVENTIONS, joint_names=JOINT_NAMES, source=meta,
                pelvis_camera_m=np.round(Xc[:, 0], 6).tolist())
    if extra:
        info.update(extra)
    with open(prefix + "_camera.json", "w") as fh:
        json.dump(info, fh, indent=1)
        fh.write("\n")
    return Xc, uv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_clip_args(ap)
    a = ap.parse_args()
    J, meta = load_clip(a.seq, a.start, a.seconds, a.fps, a.mocap)
    W, H = [int(x) for x in a.res.split("x")]
    cam = place_camera_from_args(J, W, H, a)
    os.makedirs(a.out_dir, exist_ok=True)
    write_gt(os.path.join(a.out_dir, a.name), J, cam, meta, a.fps)
    print("camera %.2f m away, azimuth %.1f deg" % (cam["distance_m"], cam["azimuth_deg"]))


def place_camera_from_args(J, W, H, a):
    return place_camera(J, W, H, a.azimuth, a.az_offset, a.dist, cam_h_m=a.cam_height, target_h_m=a.target_height,
                        hfov_deg=a.hfov, fit=not a.no_fit)


def add_clip_args(ap):
    """Options shared by this script and render_blender.py."""
    ap.add_argument("--seq", default="cmu_131_01", help="sequence name in the mocap index.json")
    ap.add_argument("--start", type=float, default=0.0, help="seconds into the sequence")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=int, default=25, help="must divide 50")
    ap.add_argument("--res", default="640x480")
    ap.add_argument("--name", default="cmu131_walk", help="file name stem of the outputs")
    ap.add_argument("--out-dir", default="Samples")
    ap.add_argument("--mocap", default=DEFAULT_MOCAP, help="folder with index.json (env MOCAP_DIR)")
    ap.add_argument("--azimuth", type=float, default=None, help="deg, camera direction from +Z towards +X")
    ap.add_argument("--az-offset", type=float, default=30.0, help="deg added to the mean facing direction")
    ap.add_argument("--dist", type=float, default=4.0, help="m, horizontal; grown until the motion fits")
    ap.add_argument("--hfov", type=float, default=60.0, help="horizontal field of view, deg")
    ap.add_argument("--cam-height", type=float, default=1.6, help="camera height above the floor, m")
    ap.add_argument("--target-height", type=float, default=0.95, help="height of the aim point, m")
    ap.add_argument("--no-fit", action="store_true",
                    help="keep --dist as given: the body may leave the image (close-ups)")


if __name__ == "__main__":
    main()
