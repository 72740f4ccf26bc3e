#!/usr/bin/env python3
"""Video-level accuracy benchmark: `mhformer run` with its defaults on rendered clips of the VALIDATION subjects,
against their exact 3D truth, beside the previous model and MediaPipe's own `pose_world_landmarks`.

    python3 Training/evaluate_video.py [--clips Training/runs/render-val] [--previous-weights FILE]
                                       [--mediapipe-python /tmp/mpvenv/bin/python] [--install-mediapipe]

Clips: made by `Training/render/render_clips.py --plan val` and `--plan closeup` (mannequin renders of cmu02,
CMU 94 Indian dance and cmu131, which no model was trained on). Each has <name>.mp4 and <name>_gt_3d_camera.csv.

Rows, per clip:
  shipped          `mhformer run CLIP -o OUT.csv` with every default (the default weights, rigid skeleton)
  shipped raw      the same with --no-rigid-skeleton --no-refine (the model's own output; this and "previous" lift the 2D
                   keypoints of the "shipped" run with `mhformer lift`, which gives what `run` would)
  shipped, true height  the same with --height H, H the truth's own standing height by the tool's rule (see
                   performer_height: the bones head top to ankle + 0.10 m, as Sources/MHFormerKit/Motion/PerformerHeight.swift):
                   the scale error that knowing the performer's height removes (MPJPE; P-MPJPE is scale-free)
  shipped, best scale   "shipped" scaled by the one factor per clip that fits the truth best (no run): the bound on
                   what any height could remove from MPJPE
  previous         --weights PREVIOUS (default: Models/mhformer-cmu-T27.safetensors as of commit 7a1e91b, read
                   from git), defaults otherwise
  MediaPipe world  mp.solutions.pose (mediapipe==0.10.14, model_complexity=1, video mode) pose_world_landmarks
                   from the same frames (decoded by OpenCV), run in a Python that has mediapipe
Columns (mm; frames where every method found the person):
  MPJPE      17 joints, root-relative (pelvis at the origin) - our models only: MediaPipe has no H36M skeleton
  P-MPJPE    17 joints after a per-frame similarity (Procrustes) alignment - our models only
  limb P-MPJPE  the 12 limb joints (hips, knees, ankles, shoulders, elbows, wrists), each method aligned per frame
             on those 12 joints alone: the comparison with MediaPipe
  bone CV    coefficient of variation over the clip of each limb bone (thigh, shin, upper arm, forearm),
             mean of the 8 bones (0 = constant lengths)
With --real-video (default: ../shared/videos/skater.mp4 when present; real footage with close-ups, no ground
truth) it also prints the limb-bone CV of each method there.
The last table pools the full-body clips (the issue's goals: P-MPJPE <= 70, limb P-MPJPE <= 0.7 x MediaPipe's,
bone CV <= 0.05) and then the close-ups.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "Training"))
sys.path.insert(0, str(REPO / "Scripts" / "bench"))
from benchutil import cpu_busy_fraction  # noqa: E402
from evaluate import mpjpe, p_mpjpe  # noqa: E402

PREVIOUS_COMMIT = "7a1e91b"   # the last commit with the first shipped weights (trained on exact 2D only)
JOINTS = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
          "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
          "right_wrist"]
LIMB_H36M = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]
# The same 12 joints in MediaPipe's 33-landmark order.
LIMB_MP = [24, 26, 28, 23, 25, 27, 11, 13, 15, 12, 14, 16]
# Limb bones as pairs of positions in the 12-joint limb lists above.
LIMB_BONES = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (9, 10), (10, 11)]

MEDIAPIPE_WORLD = r"""
import sys, cv2, numpy as np, mediapipe as mp
cap = cv2.VideoCapture(sys.argv[1])
world, vis, present = [], [], []
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
    while True:
        ok, f = cap.read()
        if not ok: break
        r = pose.process(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
        if r.pose_world_landmarks is None:
            world.append(np.full((33, 3), np.nan)); vis.append(np.zeros(33)); present.append(False)
        else:
            lm = r.pose_world_landmarks.landmark
            world.append([[p.x, p.y, p.z] for p in lm]); vis.append([p.visibility for p in lm]); present.append(True)
np.savez(sys.argv[2], world=np.array(world, np.float64), visibility=np.array(vis), present=np.array(present))
"""


def read_3d_csv(path):
    """mhformer's 3D CSV (or a ground-truth one) -> (N, 17, 3) metres, NaN where empty."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    out = np.full((len(rows), 17, 3), np.nan)
    for i, r in enumerate(rows):
        if r["pelvis_x"] != "":
            out[i] = [[float(r[f"{j}_{a}"]) for a in "xyz"] for j in JOINTS]
    return out


def run_mhformer(tool, video, variants):
    """variants: {row name: extra options}. The first row is `mhformer run VIDEO` with its options; the
    others lift that run's own 2D keypoints (`--keypoints-2d`, exact float32) with `mhformer lift`, which
    gives what `run` would with those options, without running BlazePose again. -> {row name: (N, 17, 3)}."""
    (first, first_extra), *rest = variants.items()
    with tempfile.TemporaryDirectory() as tmp:
        out, kp = os.path.join(tmp, "out.csv"), os.path.join(tmp, "2d.csv")
        commands = [(first, ["run", video, "-o", out, "--keypoints-2d", kp] + first_extra)]
        commands += [(name, ["lift", "--keypoints", kp, "-o", out] + extra) for name, extra in rest]
        preds = {}
        for name, cmd in commands:
            p = subprocess.run([tool] + cmd, capture_output=True, text=True, cwd=REPO)
            if p.returncode != 0:
                sys.exit(f"error: mhformer {' '.join(cmd)}: {p.stderr.strip()}")
            preds[name] = read_3d_csv(out)
        return preds


def run_mediapipe(python, video, cache):
    if not os.path.exists(cache):
        p = subprocess.run([python, "-c", MEDIAPIPE_WORLD, video, cache], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"error: MediaPipe on {video}: {p.stderr.strip()[-400:]}")
    z = np.load(cache)
    return z["world"], z["present"]


def previous_weights(path):
    """The weights shipped before this benchmark existed, taken from git (so no second copy is committed)."""
    if path:
        return path
    out = REPO / "Training" / "runs" / f"mhformer-cmu-T27-{PREVIOUS_COMMIT}.safetensors"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        blob = subprocess.run(["git", "show", f"{PREVIOUS_COMMIT}:Models/mhformer-cmu-T27.safetensors"],
                              capture_output=True, cwd=REPO, check=True).stdout
        out.write_bytes(blob)
    return str(out)


def performer_height(pos17):
    """The standing height (m) of a (N, 17, 3) skeleton by mhformer's --height rule (PerformerHeight.swift):
    median bone lengths, mean of both legs' shin + thigh, plus pelvis-spine-thorax-neck-head top, plus 0.10 m."""
    ok = np.isfinite(pos17).all(axis=(1, 2))
    length = lambda a, b: float(np.median(np.linalg.norm(pos17[ok, a] - pos17[ok, b], axis=-1)))  # noqa: E731
    legs = (length(3, 2) + length(2, 1) + length(6, 5) + length(5, 4)) / 2
    return legs + length(0, 7) + length(7, 8) + length(8, 9) + length(9, 10) + 0.10


def best_scaled(pred17, gt17):
    """pred17 scaled about its pelvis by the one factor over the clip that minimises the root-relative error:
    the most any height, known or guessed, could remove from MPJPE (the rest is pose and orientation)."""
    p, g = pred17 - pred17[:, :1], gt17 - gt17[:, :1]
    return pred17[:, :1] + p * ((p * g).sum() / (p * p).sum())


def bone_cv(limb):
    """limb (N, 12, 3) -> mean over the 8 limb bones of std/mean of the bone's length over frames."""
    cvs = []
    for a, b in LIMB_BONES:
        length = np.linalg.norm(limb[:, a] - limb[:, b], axis=-1)
        cvs.append(length.std() / length.mean())
    return float(np.mean(cvs))


def metrics(pred17, gt17, limb_pred=None):
    """Per-frame errors (metres) and the clip's bone CV. pred17 None: MediaPipe (limb joints only)."""
    limb_gt = gt17[:, LIMB_H36M]
    m = {}
    if pred17 is not None:
        m["MPJPE"] = mpjpe(pred17 - pred17[:, :1], gt17 - gt17[:, :1])
        m["P-MPJPE"] = p_mpjpe(pred17, gt17)
        limb_pred = pred17[:, LIMB_H36M]
    m["limb P-MPJPE"] = p_mpjpe(limb_pred, limb_gt)
    m["bone CV"] = bone_cv(limb_pred)
    return m


COLUMNS = ["MPJPE", "P-MPJPE", "limb P-MPJPE", "bone CV"]


def print_table(title, rows, frames):
    print(f"\n{title} ({frames} frames)")
    print(f"{'method':18s} " + " ".join(f"{c:>13s}" for c in COLUMNS))
    for name, m in rows.items():
        cells = []
        for c in COLUMNS:
            if c not in m:
                cells.append(f"{'-':>13s}")
            elif c == "bone CV":
                cells.append(f"{m[c]:13.3f}")
            else:
                cells.append(f"{np.mean(m[c]) * 1000:13.1f}")
        print(f"{name:18s} " + " ".join(cells))


def print_markdown(summary, per_clip):
    """docs/accuracy.md's tables: pooled per group, then one line per clip."""
    mm = lambda m, c: f"{np.mean(m[c]) * 1000:.1f}" if c in m else "-"  # noqa: E731
    print("\n| clips | method | MPJPE | P-MPJPE | limb P-MPJPE | limb-bone CV |\n|---|---|---|---|---|---|")
    for gname, rows in summary.items():
        for k, m in rows.items():
            cells = [f"{m[c]:.1f}" if c in m else "-" for c in COLUMNS[:3]] + [f"{m['bone CV']:.3f}"]
            print(f"| {gname} | {k} | " + " | ".join(cells) + " |")
    print("\n| clip | frames | P-MPJPE shipped / previous | limb P-MPJPE shipped / previous / MediaPipe | "
          "bone CV shipped raw / MediaPipe | MPJPE shipped / previous / true height / best scale |\n|---|---|---|---|---|---|")
    for name, n, rows in per_clip:
        s, r, p, mp = rows["shipped"], rows["shipped raw"], rows["previous"], rows["MediaPipe world"]
        h, b = rows["shipped, true height"], rows["shipped, best scale"]
        print(f"| {name} | {n} | {mm(s, 'P-MPJPE')} / {mm(p, 'P-MPJPE')} | {mm(s, 'limb P-MPJPE')} / "
              f"{mm(p, 'limb P-MPJPE')} / {mm(mp, 'limb P-MPJPE')} | {r['bone CV']:.3f} / {mp['bone CV']:.3f} | "
              f"{mm(s, 'MPJPE')} / {mm(p, 'MPJPE')} / {mm(h, 'MPJPE')} / {mm(b, 'MPJPE')} |")


def real_bone_cv(a, shipped, prev):
    """Limb-bone CV on real footage (no ground truth), frames where every method found the person."""
    video = a.real_video
    preds = run_mhformer(a.mhformer, video, {"shipped": shipped, "shipped raw": shipped + ["--no-rigid-skeleton", "--no-refine"],
                                             "previous": ["--weights", prev],
                                             "previous raw": ["--weights", prev, "--no-rigid-skeleton", "--no-refine"]})
    cache = os.path.join(tempfile.gettempdir(), "evaluate_video_" + Path(video).stem + "_mediapipe.npz")
    mp_world, mp_present = run_mediapipe(a.mediapipe_python, video, cache)
    n = min(len(mp_present), *(len(p) for p in preds.values()))
    ok = mp_present[:n] & np.all([np.isfinite(p[:n]).all(axis=(1, 2)) for p in preds.values()], axis=0)
    print(f"\n{os.path.basename(video)} (real footage, {ok.sum()} frames): limb-bone CV " +
          ", ".join(f"{k} {bone_cv(p[:n][ok][:, LIMB_H36M]):.3f}" for k, p in preds.items()) +
          f", MediaPipe world {bone_cv(mp_world[:n][ok][:, LIMB_MP]):.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default=str(REPO / "Training" / "runs" / "render-val"))
    ap.add_argument("--mhformer", default=str(REPO / ".build" / "release" / "mhformer"))
    ap.add_argument("--weights", default=None, help="the 'shipped' row's weights (default: mhformer's default)")
    ap.add_argument("--previous-weights", default=None)
    ap.add_argument("--mediapipe-python", default="/tmp/mpvenv/bin/python")
    ap.add_argument("--install-mediapipe", action="store_true", help="make /tmp/mpvenv with mediapipe==0.10.14")
    ap.add_argument("--json", default=None, help="also write the pooled numbers here")
    ap.add_argument("--markdown", action="store_true", help="also print docs/accuracy.md's tables (markdown)")
    ap.add_argument("--real-video", default=str(REPO / ".." / "shared" / "videos" / "skater.mp4"),
                    help="real footage without ground truth: bone CV only ('' to skip)")
    a = ap.parse_args()
    if a.install_mediapipe and not os.path.exists(a.mediapipe_python):
        subprocess.run([sys.executable, "-m", "venv", "/tmp/mpvenv"], check=True)
        subprocess.run(["/tmp/mpvenv/bin/pip", "install", "-q", "mediapipe==0.10.14"], check=True)
        a.mediapipe_python = "/tmp/mpvenv/bin/python"
    if not os.path.exists(a.mediapipe_python):
        sys.exit(f"error: {a.mediapipe_python}: no Python with mediapipe (use --install-mediapipe)")
    clips = sorted(p.stem for p in Path(a.clips).glob("*.mp4") if not p.stem.endswith("_overlay"))
    if not clips:
        sys.exit(f"error: {a.clips}: no rendered clips (Training/render/render_clips.py --plan val / closeup)")
    prev = previous_weights(a.previous_weights)
    shipped = ["--weights", a.weights] if a.weights else []
    print(f"machine busy before: {cpu_busy_fraction():.0%}; shipped weights: {a.weights or 'default'}; "
          f"previous: {os.path.relpath(prev, REPO)}")
    pooled = {"full body": {}, "close-up": {}}
    per_clip = []
    for name in clips:
        video = os.path.join(a.clips, name + ".mp4")
        gt = read_3d_csv(os.path.join(a.clips, name + "_gt_3d_camera.csv"))
        height = performer_height(gt)
        preds = run_mhformer(a.mhformer, video, {"shipped": shipped, "shipped raw": shipped + ["--no-rigid-skeleton", "--no-refine"],
                                                 "shipped, true height": shipped + ["--height", f"{height:.3f}"],
                                                 "previous": ["--weights", prev]})
        mp_world, mp_present = run_mediapipe(a.mediapipe_python, video, os.path.join(a.clips, name + "_mediapipe.npz"))
        ok = np.isfinite(gt).all(axis=(1, 2)) & mp_present & np.all([np.isfinite(p).all(axis=(1, 2)) for p in preds.values()], axis=0)
        if ok.sum() < 10:
            print(f"\n{name}: only {ok.sum()} frames with a person for every method; skipped")
            continue
        rows = {k: metrics(p[ok], gt[ok]) for k, p in preds.items()}
        rows["shipped, best scale"] = metrics(best_scaled(preds["shipped"][ok], gt[ok]), gt[ok])
        rows["MediaPipe world"] = metrics(None, gt[ok], limb_pred=mp_world[ok][:, LIMB_MP])
        print_table(f"{name}, true height {height:.3f} m", rows, int(ok.sum()))
        per_clip.append((name, int(ok.sum()), rows))
        group = pooled["close-up" if name.startswith("closeup") else "full body"]
        for k, m in rows.items():
            g = group.setdefault(k, {c: [] for c in COLUMNS})
            for c in COLUMNS:
                if c in m:
                    g[c].append(m[c] if c != "bone CV" else np.full(int(ok.sum()), m[c]))
    summary = {}
    for gname, group in pooled.items():
        if not group:
            continue
        rows = {k: {c: np.concatenate(v) for c, v in m.items() if v} for k, m in group.items()}
        rows = {k: {c: (float(np.mean(v)) if c == "bone CV" else v) for c, v in m.items()} for k, m in rows.items()}
        frames = len(next(iter(rows.values()))["limb P-MPJPE"])
        print_table(f"ALL {gname} clips (bone CV: frame-weighted mean over clips)", rows, frames)
        summary[gname] = {k: {c: (v if c == "bone CV" else float(np.mean(v)) * 1000) for c, v in m.items()}
                          for k, m in rows.items()}
        s, mp = summary[gname]["shipped"], summary[gname]["MediaPipe world"]
        print(f"goals ({gname}): P-MPJPE {s['P-MPJPE']:.1f} mm (<= 70), limb P-MPJPE / MediaPipe's "
              f"{s['limb P-MPJPE'] / mp['limb P-MPJPE']:.2f} (<= 0.70), bone CV {s['bone CV']:.3f} (<= 0.05)")
    if a.markdown:
        print_markdown(summary, per_clip)
    if a.real_video and os.path.exists(a.real_video):
        real_bone_cv(a, shipped, prev)
    print(f"machine busy after: {cpu_busy_fraction():.0%}")
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
