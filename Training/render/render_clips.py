#!/usr/bin/env python3
"""Render mocap clips as the project's mannequin, run our BlazePose on them, keep the pairs.

    python3 Training/render/render_clips.py --plan val     --out Training/runs/render-val
    python3 Training/render/render_clips.py --plan closeup --out Training/runs/render-val
    python3 Training/render/render_clips.py --plan train   --out Training/runs/render-train --n 48 [--deadline 15:30]

Plans:
  val      fixed clips of the VALIDATION subjects (cmu02, CMU 94 Indian dance, cmu131) for the video benchmark
           (Training/evaluate_video.py). Never train on them.
  closeup  validation clips seen from so close that the lower body leaves the image (partial views).
  train    a seeded random plan over the TRAINING subjects only (camera azimuth all round, 3-9 m, field of view
           40-80 degrees, 640x480 / 960x540 / portrait 480x640, shirt and trouser colours, sleeves, body bulk,
           and 15 % close-ups), as ../shared/data/detector2d was made: detector-realistic 2D for fitting the
           corruption model (Training/detector_error.py) or for training directly.

Per clip, in --out:
  <name>.mp4, <name>_gt_2d.csv, <name>_gt_3d_camera.csv, <name>_camera.json   the render and its exact truth
  <name>_2d.csv                                        `mhformer run --keypoints-2d` (our BlazePose, with scores)
  <name>.npz   the same record as ../shared/data/detector2d: det_2d_px, det_score, det_present, gt_2d_px,
               gt_cam_m (camera frame, metres, absolute), K, R, t_m, width, height, fps, sequence, ...
index.json lists every clip with its render and detector time; the log prints frames per hour.
Needs: Debian's `blender` and `python3-numpy` (apt-get install -y blender python3-numpy), the release build
(`swift build -c release`) and Models/blazepose (Scripts/setup/fetch-blazepose.sh). Renders are deterministic.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "Scripts" / "sample" / "video"
sys.path.insert(0, str(TOOLS))
import synth_gt  # noqa: E402

FPS = 25
J17 = synth_gt.JOINT_NAMES

# The validation clips of the video benchmark: (name, sequence, start s, seconds, resolution, azimuth offset from
# the facing direction in degrees, distance m, hfov deg, shirt, trousers, style, extra camera options).
VAL_PLAN = [
    ("val_indian07_dance", "cmu_indian_07", 2.0, 4.0, "640x480", 30, 4.0, 60, "38,105,165", "48,52,70", "", {}),
    ("val_indian13_dance_back", "cmu_indian_13", 6.0, 4.0, "960x540", 160, 5.0, 55, "180,60,60", "40,40,40", "sleeves=long", {}),
    ("val_cmu02_05_punch", "cmu_02_05", 3.0, 4.0, "640x480", -60, 4.5, 65, "220,200,80", "60,60,120", "bulk=1.05", {}),
    ("val_cmu02_07_sword", "cmu_02_07", 5.0, 4.0, "480x640", 90, 4.0, 50, "90,160,90", "70,50,40", "", {}),
    ("val_cmu131_09_walk", "cmu_131_09", 4.0, 4.0, "960x540", -30, 5.5, 70, "200,120,160", "30,30,60", "bulk=0.95", {}),
    ("val_cmu02_10_wash", "cmu_02_10", 8.0, 4.0, "640x480", 210, 4.0, 60, "120,120,200", "100,80,60", "", {}),
]
# Close-ups: the camera at chest height, aimed at the chest, close enough that the knees and feet leave the image.
CLOSEUP_PLAN = [
    ("closeup_cmu02_05_punch", "cmu_02_05", 3.0, 4.0, "640x480", 20, 1.9, 60, "38,105,165", "48,52,70", "",
     dict(cam_height=1.35, target_height=1.25, no_fit=True)),
    ("closeup_indian07_dance", "cmu_indian_07", 2.0, 4.0, "640x480", 30, 2.0, 55, "180,60,60", "40,40,40", "",
     dict(cam_height=1.4, target_height=1.2, no_fit=True)),
]


def train_plan(n, seed, mocap):
    """Seeded random clips of the training subjects (the same rules as ../shared/data/detector2d's
    make_dataset.py, plus 15 % close-ups)."""
    rng = np.random.default_rng(seed)
    idx = json.load(open(os.path.join(mocap, "index.json")))
    seqs = [e for e in idx["sequences"] if e["split"] == "train"]
    w = np.array([e["frames"] for e in seqs], float)
    plan = []
    for i in range(n):
        e = seqs[rng.choice(len(seqs), p=w / w.sum())]
        dur = e["frames"] / float(e["fps"])
        secs = float(rng.choice([4.0, 4.0, 4.5, 5.0]))
        start = 0.0 if dur <= secs + 0.1 else float(np.round(rng.uniform(0, dur - secs) * 50) / 50)
        secs = min(secs, float(np.floor(dur * FPS) / FPS))
        u = rng.uniform()
        res = "640x480" if u < 0.70 else ("480x640" if u < 0.85 else "960x540")
        style = (["sleeves=long"] if rng.uniform() < 0.25 else []) + ["bulk=%.2f" % rng.uniform(0.9, 1.15)]
        closeup = rng.uniform() < 0.15
        extra = dict(cam_height=float(np.round(rng.uniform(1.2, 1.6), 2)),
                     target_height=float(np.round(rng.uniform(1.0, 1.4), 2)), no_fit=True) if closeup else {}
        plan.append(("t%03d_%s%s" % (i, e["sequence"], "_closeup" if closeup else ""), e["sequence"], start, secs, res,
                     float(np.round(rng.uniform(0, 360), 1)), float(np.round(rng.uniform(1.6, 2.4) if closeup else rng.uniform(3, 9), 2)),
                     float(np.round(rng.uniform(40, 80), 1)), "%d,%d,%d" % tuple(rng.integers(20, 236, 3)),
                     "%d,%d,%d" % tuple(rng.integers(15, 200, 3)), ",".join(style), extra))
    return plan


def read_keypoints_csv(path, T):
    """mhformer's 2D CSV -> (xy (T,17,2) NaN where no person, score (T,17), present (T,))."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != T:
        raise RuntimeError(f"{path}: {len(rows)} rows, the clip has {T} frames")
    xy = np.full((T, 17, 2), np.nan, np.float32)
    sc = np.full((T, 17), np.nan, np.float32)
    for t, r in enumerate(rows):
        for k, j in enumerate(J17):
            if r[j + "_x"] != "" and r[j + "_y"] != "":
                xy[t, k] = float(r[j + "_x"]), float(r[j + "_y"])
            if r.get(j + "_score", "") != "":
                sc[t, k] = float(r[j + "_score"])
    present = np.isfinite(xy).all(axis=(1, 2))
    return xy, sc, present


def render_clip(c, out, mocap, split):
    name, seq, start, secs, res, azimuth, dist, hfov, shirt, trousers, style, extra = c
    frames_dir = os.path.join(out, name + "_frames")
    cmd = ["blender", "-b", "--factory-startup", "--python-exit-code", "1", "-P", str(TOOLS / "render_blender.py"), "--",
           "--seq", seq, "--start", str(start), "--seconds", str(secs), "--fps", str(FPS), "--res", res,
           "--engine", "WORKBENCH", "--name", name, "--out-dir", out, "--mocap", mocap, "--frames-dir", frames_dir,
           "--dist", str(dist), "--hfov", str(hfov), "--shirt", shirt, "--trousers", trousers, "--style", style]
    cmd += ["--az-offset", str(azimuth)] if split != "train" else ["--azimuth", str(azimuth)]
    if extra:
        cmd += ["--cam-height", str(extra["cam_height"]), "--target-height", str(extra["target_height"]), "--no-fit"]
    # Debian's Blender finds its Python through PATH: keep pyenv's python out of it, or numpy is missing.
    env = dict(os.environ, PATH=":".join(d for d in os.environ["PATH"].split(":") if ".pyenv" not in d))
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    subprocess.run(["rm", "-rf", frames_dir])
    if p.returncode != 0 or not os.path.exists(os.path.join(out, name + ".mp4")):
        raise RuntimeError("blender failed (exit %d): %s" % (p.returncode, (p.stdout + p.stderr)[-1200:]))
    return time.time() - t0


def detect(name, out, mhformer):
    """Our BlazePose on the render; frames without a person stay empty (--max-gap 0)."""
    t0 = time.time()
    q = subprocess.run([mhformer, "run", os.path.join(out, name + ".mp4"), "-o", os.path.join(out, name + "_det3d.csv"),
                        "--keypoints-2d", os.path.join(out, name + "_2d.csv"), "--max-gap", "0"],
                       capture_output=True, text=True, cwd=REPO)
    if q.returncode != 0 and "no person" not in q.stderr:
        raise RuntimeError("mhformer run failed: " + q.stderr.strip()[-600:])
    return time.time() - t0, q.returncode == 0


def record(c, out, mocap, found):
    name, seq, start, secs = c[:4]
    cam = json.load(open(os.path.join(out, name + "_camera.json")))
    T, W, H = cam["frames"], cam["width"], cam["height"]
    J, meta = synth_gt.load_clip(seq, start, secs, FPS, mocap)
    K, R, t = np.array(cam["K"]), np.array(cam["R"]), np.array(cam["t_m"])
    Xc, uv = synth_gt.project(J, K, R, t)
    if found:
        det, score, present = read_keypoints_csv(os.path.join(out, name + "_2d.csv"), T)
    else:
        det, score, present = np.full((T, 17, 2), np.nan, np.float32), np.full((T, 17), np.nan, np.float32), np.zeros(T, bool)
    np.savez_compressed(os.path.join(out, name + ".npz"), det_2d_px=det, det_score=score, det_present=present,
                        gt_2d_px=uv.astype(np.float32), gt_cam_m=Xc.astype(np.float32), K=K, R=R, t_m=t, width=W,
                        height=H, fps=FPS, sequence=seq, subject=meta["subject"], split=meta["split"], start_s=start,
                        seconds=secs, source_frames=np.array(meta["source_frames"]), joint_names=np.array(J17))
    return T, int(present.sum()), meta["split"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", choices=["val", "closeup", "train"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mocap", default=str(REPO / ".." / "shared" / "data" / "mocap"))
    ap.add_argument("--mhformer", default=str(REPO / ".build" / "release" / "mhformer"))
    ap.add_argument("--n", type=int, default=48, help="train plan: clips planned")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--deadline", default=None, help="UTC HH:MM: start no clip after this")
    ap.add_argument("--only", default=None, help="comma-separated clip names of the plan")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    plan = {"val": VAL_PLAN, "closeup": CLOSEUP_PLAN}.get(a.plan) or train_plan(a.n, a.seed, a.mocap)
    if a.only:
        plan = [c for c in plan if c[0] in a.only.split(",")]
    index_path = os.path.join(a.out, "index.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {"clips": []}
    done = {c["name"] for c in index["clips"]}
    t_all, frames_all = 0.0, 0
    for c in plan:
        name = c[0]
        if name in done and os.path.exists(os.path.join(a.out, name + ".npz")):
            continue  # resumable: a finished clip is kept
        if a.deadline:
            hh, mm = map(int, a.deadline.split(":"))
            now = datetime.now(timezone.utc)
            if now >= now.replace(hour=hh, minute=mm, second=0, microsecond=0):
                print(f"deadline {a.deadline} reached: stopping before {name}", flush=True)
                break
        t_render = render_clip(c, a.out, a.mocap, a.plan)
        t_det, found = detect(name, a.out, a.mhformer)
        T, detected, split = record(c, a.out, a.mocap, found)
        if (a.plan == "train") != (split == "train"):
            raise RuntimeError(f"{name}: split {split} in plan {a.plan}")
        t_all += t_render + t_det
        frames_all += T
        index["clips"] = [x for x in index["clips"] if x["name"] != name] + [dict(
            name=name, sequence=c[1], split=split, start_s=c[2], seconds=c[3], res=c[4], azimuth=c[5], dist=c[6],
            hfov=c[7], shirt=c[8], trousers=c[9], style=c[10], camera=c[11], frames=T, detected_frames=detected,
            render_s=round(t_render, 1), detector_s=round(t_det, 1))]
        Path(index_path).write_text(json.dumps(index, indent=1) + "\n")
        print(f"{time.strftime('%H:%M:%S')} {name} {c[4]}: {T} frames, person in {detected}, render {t_render:.0f} s, "
              f"detector {t_det:.1f} s; so far {frames_all / max(t_all, 1e-9) * 3600:.0f} frames/hour", flush=True)


if __name__ == "__main__":
    main()
