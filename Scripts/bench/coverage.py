#!/usr/bin/env python3
"""Frames with a person: `mhformer run` with offline tracking (the default) against MediaPipe's streaming
logic alone (`--no-offline-tracking`) and MediaPipe's own Python, with the 2D error of the frames offline
tracking recovered against the exact projection, and what it costs in time.

    python3 Scripts/bench/coverage.py [--clips DIR ...] [--skater ../shared/videos/skater.mp4]
                                      [--mediapipe-python /tmp/mpvenv/bin/python] [--mhformer .build/release/mhformer]
                                      [--repeat 2] [--markdown]

Clips:
  rendered  every <name>.mp4 with <name>_gt_2d.csv in the --clips folders (default: Training/runs/render-val, made
            by `python3 Training/render/render_clips.py --plan val` and `--plan closeup`) and the one-person samples
            in Samples/ (walk, punch close-up)
  made      from Samples/cmu131_walk.mp4 with ffmpeg, as Tests/.../OfflineTrackingRunTests.swift makes them, the
            truth moved as the clip moves the picture:
              zoom   the walker scaled from 0.3 to full size over the first second (missed at first by the
                     whole-frame detector), 2 s
              cover  a dark box over head and chest for frames 20-34 (a loss mid-clip), 60 frames
              two    1280x480: the walker left, the same walk mirrored at 0.8 size right, 2 s (the truth is the
                     left, larger one)
  skater    ../shared/videos/skater.mp4, real footage (no truth: frames only)
Columns:
  frames          decoded frames
  MP py           frames where MediaPipe's Python (mediapipe==0.10.14, mp.solutions.pose, video mode) has landmarks
  stream          ours with --no-offline-tracking (MediaPipe's streaming logic, ported): frames with a person
  offline         ours, the default: frames with a person (before interpolation) and how they were recovered
                  (b backwards, r re-detected, f tracked on after a loss)
  err MP py       MediaPipe Python's median 2D limb error on its frames (pixels; 12 limb joints, mean per frame)
  err stream      ours on the frames the streaming logic found
  err recovered   ours on the frames offline tracking recovered (not interpolated ones); ratio to err stream
  2D fps          the tool's 2D frames per second (its summary line), streaming / offline, best of --repeat runs
Run it on a quiet machine (it prints the share of CPU busy before and after); --threads 1 by default.
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Training"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import cpu_busy_fraction  # noqa: E402
from evaluate_video import JOINTS, LIMB_H36M, LIMB_MP  # noqa: E402

WALK = REPO / "Samples" / "cmu131_walk.mp4"
WALK_GT = REPO / "Samples" / "cmu131_walk_gt_2d.csv"
SUMMARY = re.compile(r"(\d+) frames, (\d+) with a person(?: \(([^;)]*)(?:;|\)))?.*?2D [\d.]+ s \(([\d.]+) frames/s\)")

# MediaPipe's Python on a video: the 33 image landmarks in pixels per frame, NaN where it found no one.
MEDIAPIPE_2D = r"""
import sys, cv2, numpy as np, mediapipe as mp
cap = cv2.VideoCapture(sys.argv[1])
out = []
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
    while True:
        ok, f = cap.read()
        if not ok: break
        h, w = f.shape[:2]
        r = pose.process(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
        out.append(np.full((33, 2), np.nan) if r.pose_landmarks is None else [[p.x * w, p.y * h] for p in r.pose_landmarks.landmark])
np.save(sys.argv[2], np.array(out, np.float64))
"""


def zoom_width(n):
    return int(640 * min(1, 0.3 + 0.7 * n / 25) / 2) * 2


def zoom_place(n, p):
    w = zoom_width(n)
    h = round(480 * w / 640 / 2) * 2
    return np.stack([p[..., 0] * w / 640 + (640 - w) / 2, p[..., 1] * h / 480 + 480 - h], -1)


# name: (ffmpeg arguments before the output, frame n's truth point -> where the clip shows it)
# The box `cover` draws (frames, x0, y0, x1, y1): the joints under it are hidden, not lost track of.
COVER_BOX = (range(20, 35), 330, 140, 440, 270)
MADE = {
    "zoom": (["-f", "lavfi", "-i", "color=c=0x9a9e9c:s=640x480:r=25:d=2", "-i", str(WALK), "-filter_complex",
              "[1:v]scale=w='trunc(640*min(1,0.3+0.7*t)/2)*2':h=-2:eval=frame[s];[0:v][s]overlay=x='(W-w)/2':y='H-h':eval=frame",
              "-t", "2"], zoom_place),
    "cover": (["-i", str(WALK), "-vf", "drawbox=x=330:y=140:w=110:h=130:color=0x282828:t=fill:enable='between(n,20,34)'",
               "-frames:v", "60"], lambda n, p: p),
    "two": (["-i", str(WALK), "-filter_complex",
             "[0:v]split[a][b];[b]scale=512:384,hflip,pad=640:480:64:96:color=0x9a9e9c[c];[a][c]hstack=inputs=2", "-t", "2"],
            lambda n, p: p),
}


def read_2d(path):
    """mhformer's or a truth 2D CSV -> (N, 17, 2) pixels with NaN where empty, and whether each row was detected
    (a row with every score 0 was interpolated)."""
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    pts = np.full((len(rows), 17, 2), np.nan)
    detected = np.zeros(len(rows), bool)
    for i, r in enumerate(rows):
        if r["pelvis_x"] == "":
            continue
        pts[i] = [[float(r[f"{j}_x"]), float(r[f"{j}_y"])] for j in JOINTS]
        scores = [float(r[f"{j}_score"]) for j in JOINTS if r.get(f"{j}_score", "") != ""]
        detected[i] = not scores or max(scores) > 0
    return pts, detected


def limb_error(limbs, truth):
    """(N, 12, 2) against (N, 12, 2) -> (N,) mean distance per frame, NaN where either is missing."""
    return np.linalg.norm(limbs - truth, axis=-1).mean(-1)


def run_tool(tool, video, extra, tmp, threads):
    out, kp = os.path.join(tmp, "out.csv"), os.path.join(tmp, "out_2d.csv")
    p = subprocess.run([tool, "run", str(video), "-o", out, "--keypoints-2d", kp, "--threads", str(threads)] + extra,
                       capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        none = re.search(r"no person found in any of the (\d+) frames", p.stderr)
        if none:
            return {"frames": int(none.group(1)), "found": 0, "fps": 0.0, "how": ""}, None, None
        return None, None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"
    m = SUMMARY.search(p.stderr)
    counts = {"frames": int(m.group(1)), "found": int(m.group(2)), "fps": float(m.group(4)), "how": ""}
    parts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (tracked backwards|re-detected|tracked on after a loss)", m.group(3) or ""))
    counts["how"] = " ".join(f"{parts[k]}{s}" for k, s in
                             (("tracked backwards", "b"), ("re-detected", "r"), ("tracked on after a loss", "f")) if k in parts)
    return counts, read_2d(kp), None


def mediapipe_2d(python, video, tmp):
    if not python:
        return None
    out = os.path.join(tmp, "mp.npy")
    p = subprocess.run([python, "-c", MEDIAPIPE_2D, str(video), out], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"  MediaPipe Python failed on {video}: {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return np.load(out)


def clip_list(folders):
    clips = []
    for folder in folders:
        for mp4 in sorted(Path(folder).glob("*.mp4")):
            gt = mp4.with_name(mp4.stem + "_gt_2d.csv")
            if gt.exists():
                clips.append((mp4.stem, mp4, gt, lambda n, p: p))
    for name in ("cmu131_walk", "cmu02_punch_closeup"):
        mp4 = REPO / "Samples" / (name + ".mp4")
        clips.append((name, mp4, mp4.with_name(name + "_gt_2d.csv"), lambda n, p: p))
    return clips


def evaluate(a, name, mp4, gt_csv, place, tmp):
    row = {"clip": name}
    stream = offline = None
    for r in range(a.repeat):
        for mode, extra in (("stream", ["--no-offline-tracking", "--max-gap", "0"]), ("offline", [])):
            counts, kp, err = run_tool(a.mhformer, mp4, extra, tmp, a.threads)
            if err:
                row[mode] = err
                continue
            if mode == "stream":
                stream = (counts, kp) if stream is None or counts["fps"] > stream[0]["fps"] else stream
            else:
                offline = (counts, kp) if offline is None or counts["fps"] > offline[0]["fps"] else offline
    mp = mediapipe_2d(a.mediapipe_python, mp4, tmp)
    truth = None
    if gt_csv is not None:
        gt, _ = read_2d(gt_csv)
        truth = np.stack([place(n, gt[n]) for n in range(len(gt))])[:, LIMB_H36M]
    frames = (offline or stream)[0]["frames"] if (offline or stream) else (len(mp) if mp is not None else 0)
    row["frames"] = frames
    row["MP py"] = int(np.isfinite(mp[:, 0, 0]).sum()) if mp is not None else None
    row["stream"] = stream[0]["found"] if stream else row.get("stream", "failed")
    row["offline"] = f"{offline[0]['found']} ({offline[0]['how'] or 'none'})" if offline else row.get("offline", "failed")
    row["fps"] = f"{stream[0]['fps']:.1f} / {offline[0]['fps']:.1f}" if stream and offline else (
        f"- / {offline[0]['fps']:.1f}" if offline else "")
    if truth is not None:
        n = min(frames, len(truth))
        if mp is not None:
            e = limb_error(mp[:n, LIMB_MP], truth[:n])
            row["err MP py"] = np.nanmedian(e) if np.isfinite(e).any() else None
        found_stream = np.zeros(n, bool)
        if stream and stream[1]:
            pts, det = stream[1]
            found_stream = det[:n] & np.isfinite(pts[:n, 0, 0])
            e = limb_error(pts[:n, LIMB_H36M], truth[:n])
            row["err stream"] = np.median(e[found_stream]) if found_stream.any() else None
        if offline and offline[1]:
            pts, det = offline[1]
            recovered = det[:n] & ~found_stream & np.isfinite(pts[:n, 0, 0])
            e = limb_error(pts[:n, LIMB_H36M], truth[:n])
            row["err recovered"] = np.median(e[recovered]) if recovered.any() else None
            if name == "made: cover" and recovered.any():
                frames_hidden, x0, y0, x1, y1 = COVER_BOX
                t = truth[:n]
                under = (t[..., 0] >= x0) & (t[..., 0] <= x1) & (t[..., 1] >= y0) & (t[..., 1] <= y1)
                under &= np.isin(np.arange(n), list(frames_hidden))[:, None]
                d = np.where(under, np.nan, np.linalg.norm(pts[:n, LIMB_H36M] - t, axis=-1))
                row["note"] = (f"made: cover, recovered frames, only the limb joints outside the box: median "
                               f"{np.nanmedian(np.nanmean(d[recovered], -1)):.2f} px "
                               f"({int(under[recovered].sum())} of {12 * int(recovered.sum())} joints hidden)")
    return row


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", nargs="*", default=[str(REPO / "Training" / "runs" / "render-val")])
    ap.add_argument("--skater", default=str(REPO.parent / "shared" / "videos" / "skater.mp4"))
    ap.add_argument("--mediapipe-python", default="/tmp/mpvenv/bin/python" if os.path.exists("/tmp/mpvenv/bin/python") else None,
                    help="a Python with mediapipe==0.10.14 (Scripts/bench/benchmark-video.py makes /tmp/mpvenv); none: no MP py column")
    ap.add_argument("--mhformer", default=str(REPO / ".build" / "release" / "mhformer"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="runs per mode; the fastest is reported")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    print(f"CPU busy before: {cpu_busy_fraction():.0%}; --threads {a.threads}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(n, m, g, p) for n, m, g, p in clip_list(a.clips)]
        for name, (args, place) in MADE.items():
            mp4 = os.path.join(tmp, f"made_{name}.mp4")
            subprocess.run(["ffmpeg", "-v", "error", "-y"] + args + ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", mp4],
                           check=True)
            jobs.append((f"made: {name}", mp4, WALK_GT, place))
        if a.skater and os.path.exists(a.skater):
            jobs.append(("skater (real)", a.skater, None, None))
        for name, mp4, gt, place in jobs:
            print(f"  {name} ...", file=sys.stderr)
            rows.append(evaluate(a, name, mp4, gt, place, tmp))
    print(f"CPU busy after: {cpu_busy_fraction():.0%}", file=sys.stderr)
    cols = ["clip", "frames", "MP py", "stream", "offline", "err MP py", "err stream", "err recovered", "ratio", "fps"]
    for r in rows:
        s, rec = r.get("err stream"), r.get("err recovered")
        r["ratio"] = rec / s if s and rec else None
    head = ["clip", "frames", "MP py", "stream", "offline (how)", "err MP py", "err stream", "err recovered", "recovered/stream",
            "2D fps stream / offline"]
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |")
    else:
        widths = [max(len(h), *(len(fmt(r.get(c))) for r in rows)) for h, c in zip(head, cols)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for r in rows:
            print("  ".join(fmt(r.get(c)).ljust(w) for c, w in zip(cols, widths)))
    total = lambda key: sum(r[key] for r in rows if isinstance(r.get(key), int))  # noqa: E731
    found = sum(int(str(r["offline"]).split()[0]) for r in rows if str(r.get("offline", "")).split()[0].isdigit())
    for r in rows:
        if r.get("note"):
            print(r["note"])
    print(f"\nframes with a person, all clips: MediaPipe Python {total('MP py')}, streaming {total('stream')}, offline {found}"
          f" of {total('frames')}")


if __name__ == "__main__":
    main()
