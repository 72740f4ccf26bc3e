#!/usr/bin/env python3
"""Motion quality over time: jitter, acceleration error, foot sliding, ground contact, root motion, per-frame
accuracy and foot-contact labels, of `mhformer run` with and without its motion stage, on rendered clips with
exact truth, beside `--smooth`, MediaPipe's world landmarks and the truth itself.

    python3 Scripts/bench/motion-quality.py [--clips DIR ...] [--samples] [--mediapipe-python /tmp/mpvenv/bin/python]
                                            [--markdown] [--mhformer .build/release/mhformer]

Clips: every <name>.mp4 with <name>_gt_3d_camera.csv and <name>_camera.json in the --clips folders (default:
Training/runs/render-val, made by `python3 Training/render/render_clips.py --plan val` and `--plan closeup`), and
with --samples (default when no clip folder exists) the sample videos in Samples/ that have ground truth.

Rows (each `mhformer run CLIP`, once with --coords camera for the root-relative metrics, once with --coords world):
  raw        --no-refine (the lifter and the rigid skeleton, as before the motion stage)
  refined    the defaults (the motion stage: zero-phase filtering, foot contacts, foot locking)
  no lock    --no-foot-lock (the motion stage without planting the feet)
  smooth     --no-refine --smooth (the causal One Euro filter)
  MediaPipe  mp.solutions.pose pose_world_landmarks (mediapipe==0.10.14, video mode), where a metric applies
  truth      the render's own motion capture (the floor of every metric)
Metrics (all on frames where every method found the person; ours scaled so its mean leg length is the truth's):
  jitter     mean norm of the third finite difference of the root-relative limb joints x fps^3 / 10 (in 10 m/s^3,
             as WHAM and GVHMR report it); root = mid-hip for every method, the 12 limb joints (hips, knees, ankles,
             shoulders, elbows, wrists)
  accel      mean norm of the difference of second finite differences, ours vs truth, same joints (mm/frame^2)
  MPJPE, P-MPJPE  17 joints root-relative in the camera frame, and after a per-frame similarity alignment (mm)
  slide      on frames where the true ankle is planted (moves < 0.2 m/s and is within 5 cm of its standing height),
             how far our ankle moves per frame in the world frame (mm/frame)
  float      on those frames, how far our planted foot is above the ground (ankle height minus 0.08 m, mm)
  penetr.    over all frames and both feet, how far our foot is below the ground (mm)
  root step  mean norm of the difference between our and the true pelvis step per frame, after the best rotation
             about the vertical (mm/frame)
  contact P/R  precision and recall of our foot-contact labels against the planted frames of the truth
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Training"))
from evaluate import p_mpjpe  # noqa: E402
from evaluate_video import LIMB_H36M, LIMB_MP, MEDIAPIPE_WORLD, read_3d_csv  # noqa: E402

ANKLE_HEIGHT = 0.08          # WorldFrame.ankleHeight: the ankle joint above the sole, metres
PLANT_SPEED = 0.2            # m/s: slower than this, a foot is planted
PLANT_HEIGHT = 0.05          # m above the foot's standing height
RIGHT_ANKLE, LEFT_ANKLE = 3, 6
VARIANTS = {"raw": ["--no-refine"], "refined": [], "no lock": ["--no-foot-lock"], "smooth": ["--no-refine", "--smooth"]}


def clip_list(folders, samples):
    clips = []
    for folder in folders:
        for mp4 in sorted(Path(folder).glob("*.mp4")):
            gt = mp4.with_name(mp4.stem + "_gt_3d_camera.csv")
            cam = mp4.with_name(mp4.stem + "_camera.json")
            if gt.exists() and cam.exists():
                clips.append((mp4.stem, mp4, gt, cam))
    if samples:
        truths = {c[2].read_bytes() for c in clips}
        for name in ["cmu131_walk", "cmu02_punch_closeup"]:
            mp4 = REPO / "Samples" / f"{name}.mp4"
            gt = REPO / "Samples" / f"{name}_gt_3d_camera.csv"
            # The sample close-up is the render plan's closeup_cmu02_05_punch: counted once.
            if gt.read_bytes() not in truths:
                clips.append((name, mp4, gt, REPO / "Samples" / f"{name}_camera.json"))
    return clips


def truth(gt_csv, cam_json):
    """Root-relative camera-frame joints (N, 17, 3), world joints (N, 17, 3; the mocap's frame: Y up, floor 0), fps."""
    rel = read_3d_csv(gt_csv)
    cam = json.load(open(cam_json))
    R, t = np.array(cam["R"]), np.array(cam["t_m"])
    pelvis = np.array(cam["pelvis_camera_m"])
    world = np.einsum("ij,nkj->nki", R.T, rel + pelvis[:, None, :] - t)      # R^T (x - t)
    return rel, world, float(cam["fps"])


def run_tool(tool, video, extra, out):
    p = subprocess.run([tool, "run", str(video), "-o", out] + extra, capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        sys.exit(f"error: mhformer run {video} {' '.join(extra)}: {p.stderr.strip()}")


def read_world_json(path):
    """--coords world JSON -> joints (N, 17, 3) NaN where absent, contacts (N, 2) [left, right] or None."""
    d = json.load(open(path))
    n = len(d["frames"])
    joints = np.full((n, 17, 3), np.nan)
    contacts = np.zeros((n, 2), bool) if any("left_foot_contact" in f for f in d["frames"]) else None
    for i, f in enumerate(d["frames"]):
        if f["joints"] is not None:
            joints[i] = f["joints"]
        if contacts is not None and f.get("left_foot_contact") is not None:
            contacts[i] = [f["left_foot_contact"] == 1, f["right_foot_contact"] == 1]
    return joints, contacts


def leg_length(p, legs=((1, 2, 3), (4, 5, 6))):
    """Mean thigh + shin length over frames and both legs; `legs`: (hip, knee, ankle) indices (17 joints; for
    the 12 limb joints of LIMB_H36M / LIMB_MP: (0, 1, 2), (3, 4, 5))."""
    return float(np.mean([np.linalg.norm(p[:, h] - p[:, k], axis=-1) + np.linalg.norm(p[:, k] - p[:, a], axis=-1)
                          for h, k, a in legs]))


def mid_hip_relative(limb):
    """(N, 12, 3) limb joints (hips first: right hip 0, left hip 3) -> relative to the mid-hip."""
    return limb - (limb[:, 0:1] + limb[:, 3:4]) / 2


def jitter(limb, fps):
    d3 = np.diff(mid_hip_relative(limb), n=3, axis=0)
    return float(np.linalg.norm(d3, axis=-1).mean() * fps ** 3 / 10)


def accel_error(limb, limb_gt):
    a = np.diff(mid_hip_relative(limb), n=2, axis=0) - np.diff(mid_hip_relative(limb_gt), n=2, axis=0)
    return float(np.linalg.norm(a, axis=-1).mean() * 1000)


def planted(world, fps):
    """(N, 2) [left, right]: the true ankle slower than PLANT_SPEED and within PLANT_HEIGHT of its standing height."""
    out = np.zeros((len(world), 2), bool)
    for k, a in enumerate([LEFT_ANKLE, RIGHT_ANKLE]):
        p = world[:, a]
        v = np.zeros(len(p))
        v[1:-1] = np.linalg.norm(p[2:] - p[:-2], axis=-1) * fps / 2
        v[0], v[-1] = v[1], v[-2]
        standing = np.percentile(p[:, 1], 5)
        out[:, k] = (v < PLANT_SPEED) & (p[:, 1] < standing + PLANT_HEIGHT)
    return out


def yaw_align(steps, steps_gt):
    """Rotation about Y that best maps our XZ steps onto the truth's."""
    a = np.sum(steps[:, 0] * steps_gt[:, 0] + steps[:, 2] * steps_gt[:, 2])
    b = np.sum(steps[:, 0] * steps_gt[:, 2] - steps[:, 2] * steps_gt[:, 0])
    yaw = np.arctan2(b, a)
    c, s = np.cos(yaw), np.sin(yaw)
    out = steps.copy()
    out[:, 0] = c * steps[:, 0] - s * steps[:, 2]
    out[:, 2] = s * steps[:, 0] + c * steps[:, 2]
    return out


def world_metrics(world, world_gt, plant, fps):
    """Slide, float, penetration, root step (mm). `world` already scaled; both Y up with the ground at 0."""
    m = {}
    slide, flt = [], []
    for k, a in enumerate([LEFT_ANKLE, RIGHT_ANKLE]):
        step = np.linalg.norm(np.diff(world[:, a], axis=0), axis=-1)
        both = plant[1:, k] & plant[:-1, k]
        slide += list(step[both])
        flt += list(np.maximum(world[plant[:, k], a, 1] - ANKLE_HEIGHT, 0))
    m["slide"] = float(np.mean(slide) * 1000) if slide else float("nan")
    m["float"] = float(np.mean(flt) * 1000) if flt else float("nan")
    soles = world[:, [LEFT_ANKLE, RIGHT_ANKLE], 1] - ANKLE_HEIGHT
    m["penetr."] = float(np.maximum(-soles, 0).mean() * 1000)
    steps, steps_gt = np.diff(world[:, 0], axis=0), np.diff(world_gt[:, 0], axis=0)
    m["root step"] = float(np.linalg.norm(yaw_align(steps, steps_gt) - steps_gt, axis=-1).mean() * 1000)
    return m


def truth_world_metrics(world_gt, plant, fps):
    """The truth's own slide, float and penetration, its standing ankle height taken as the ground offset."""
    m = {}
    slide, flt, pen = [], [], []
    for k, a in enumerate([LEFT_ANKLE, RIGHT_ANKLE]):
        p = world_gt[:, a]
        standing = np.percentile(p[:, 1], 5)
        step = np.linalg.norm(np.diff(p, axis=0), axis=-1)
        slide += list(step[plant[1:, k] & plant[:-1, k]])
        flt += list(np.maximum(p[plant[:, k], 1] - standing, 0))
        pen += list(np.maximum(standing - p[:, 1], 0))
    m["slide"] = float(np.mean(slide) * 1000) if slide else float("nan")
    m["float"] = float(np.mean(flt) * 1000) if flt else float("nan")
    m["penetr."] = float(np.mean(pen) * 1000)
    m["root step"] = 0.0
    return m


def evaluate_clip(a, name, mp4, gt_csv, cam_json, tmp):
    rel_gt, world_gt, fps = truth(gt_csv, cam_json)
    preds = {}
    for row, extra in VARIANTS.items():
        cam_out, world_out = os.path.join(tmp, f"{row}.csv"), os.path.join(tmp, f"{row}.json")
        run_tool(a.mhformer, mp4, extra, cam_out)
        run_tool(a.mhformer, mp4, extra + ["--coords", "world"], world_out)
        joints_world, contacts = read_world_json(world_out)
        preds[row] = (read_3d_csv(cam_out), joints_world, contacts)
    mp_world = None
    if a.mediapipe_python:
        cache = os.path.join(tempfile.gettempdir(), f"motion_quality_{name}_mediapipe.npz")
        if not os.path.exists(cache):
            p = subprocess.run([a.mediapipe_python, "-c", MEDIAPIPE_WORLD, str(mp4), cache], capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"error: MediaPipe on {mp4}: {p.stderr.strip()[-400:]}")
        z = np.load(cache)
        mp_world = (z["world"], z["present"])
    n = min([len(rel_gt)] + [len(p[0]) for p in preds.values()] + ([len(mp_world[1])] if mp_world else []))
    ok = np.isfinite(rel_gt[:n]).all(axis=(1, 2))
    for cam, world, _ in preds.values():
        ok &= np.isfinite(cam[:n]).all(axis=(1, 2)) & np.isfinite(world[:n]).all(axis=(1, 2))
    if mp_world:
        ok &= mp_world[1][:n].astype(bool)
    # The metrics over time need consecutive frames: the longest run of frames every method has.
    runs, start = [], None
    for i, v in enumerate(list(ok) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            runs.append((start, i))
            start = None
    s, e = max(runs, key=lambda r: r[1] - r[0])
    rel_gt, world_gt = rel_gt[s:e], world_gt[s:e]
    plant = planted(world_gt, fps)
    rows = {}
    true_leg = leg_length(rel_gt)
    for row, (cam, world, contacts) in preds.items():
        cam, world = cam[s:e], world[s:e]
        scale = true_leg / leg_length(cam)
        cam, world = cam * scale, world * scale
        m = {"jitter": jitter(cam[:, LIMB_H36M], fps), "accel": accel_error(cam[:, LIMB_H36M], rel_gt[:, LIMB_H36M]),
             "MPJPE": float(np.linalg.norm((cam - cam[:, :1]) - (rel_gt - rel_gt[:, :1]), axis=-1).mean() * 1000),
             "P-MPJPE": float(p_mpjpe(cam, rel_gt).mean() * 1000)}
        m.update(world_metrics(world, world_gt, plant, fps))
        if contacts is not None:
            c = contacts[s:e]
            tp = (c & plant).sum()
            m["contact P"] = float(tp / max(c.sum(), 1))
            m["contact R"] = float(tp / max(plant.sum(), 1))
        rows[row] = m
    if mp_world:
        limb = mp_world[0][s:e][:, LIMB_MP]
        limb = limb * (true_leg / leg_length(limb, legs=((0, 1, 2), (3, 4, 5))))
        rows["MediaPipe"] = {"jitter": jitter(limb, fps), "accel": accel_error(limb, rel_gt[:, LIMB_H36M])}
    rows["truth"] = {"jitter": jitter(rel_gt[:, LIMB_H36M], fps), "accel": 0.0, "MPJPE": 0.0, "P-MPJPE": 0.0}
    rows["truth"].update(truth_world_metrics(world_gt, plant, fps))
    return e - s, rows


COLUMNS = ["jitter", "accel", "MPJPE", "P-MPJPE", "slide", "float", "penetr.", "root step", "contact P", "contact R"]


def fmt(m, c):
    if c not in m or not np.isfinite(m[c]):
        return "-"
    return f"{m[c]:.2f}" if c.startswith("contact") else f"{m[c]:.1f}"


def print_rows(title, rows, markdown):
    if markdown:
        print(f"\n**{title}**\n\n| method | " + " | ".join(COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS))
        for k, m in rows.items():
            print(f"| {k} | " + " | ".join(fmt(m, c) for c in COLUMNS) + " |")
    else:
        print(f"\n{title}\n{'method':10s} " + " ".join(f"{c:>9s}" for c in COLUMNS))
        for k, m in rows.items():
            print(f"{k:10s} " + " ".join(f"{fmt(m, c):>9s}" for c in COLUMNS))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", nargs="*", default=[str(REPO / "Training" / "runs" / "render-val")])
    ap.add_argument("--samples", action="store_true", help="also the sample videos in Samples/")
    ap.add_argument("--mhformer", default=str(REPO / ".build" / "release" / "mhformer"))
    ap.add_argument("--mediapipe-python", default="/tmp/mpvenv/bin/python" if os.path.exists("/tmp/mpvenv/bin/python") else None,
                    help="a Python with mediapipe==0.10.14 (Scripts/bench/benchmark-video.py makes /tmp/mpvenv); none: no MediaPipe row")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated clip names")
    a = ap.parse_args()
    folders = [f for f in a.clips if os.path.isdir(f)]
    clips = clip_list(folders, a.samples or not folders)
    if a.only:
        clips = [c for c in clips if c[0] in a.only.split(",")]
    if not clips:
        sys.exit("error: no clips (render them: python3 Training/render/render_clips.py --plan val --out Training/runs/render-val)")
    pooled, frames = {}, 0
    for name, mp4, gt, cam in clips:
        with tempfile.TemporaryDirectory() as tmp:
            n, rows = evaluate_clip(a, name, mp4, gt, cam, tmp)
        frames += n
        print_rows(f"{name} ({n} frames)", rows, a.markdown)
        for k, m in rows.items():
            for c, v in m.items():
                pooled.setdefault(k, {}).setdefault(c, []).append((v, n))
    mean = {k: {c: float(np.average([v for v, _ in vals], weights=[n for _, n in vals])) for c, vals in cols.items()}
            for k, cols in pooled.items()}
    print_rows(f"all clips ({frames} frames, frame-weighted mean)", mean, a.markdown)


if __name__ == "__main__":
    main()
