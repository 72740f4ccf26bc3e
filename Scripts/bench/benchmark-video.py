#!/usr/bin/env python3
"""Frames per second of `mhformer run` (2D stage and whole pipeline) against MediaPipe's own
Python BlazePose on the same video, in one run.

    python3 Scripts/bench/benchmark-video.py [--video Samples/cmu131_walk.mp4] [--threads 1,2]
                                             [--mediapipe-python /tmp/mpvenv/bin/python] [--install-mediapipe]
                                             [--tool BIN] [--baseline-tool OLD_BIN] [--repeat 3]

For each BLAS thread count, `mhformer run` (release build) processes the video; its summary line
gives the 2D time (decoding + BlazePose) and the 3D time (MHFormer with flip augmentation).
The reference is mp.solutions.pose (model_complexity=1, video mode, the same models) run over the
same frames, decoded by OpenCV, in a Python that has mediapipe==0.10.14 (--install-mediapipe makes
one in /tmp/mpvenv from PyPI). Ratios > 1 mean mhformer is faster. The machine's load from other
processes is printed before and after: two BLAS threads collapse when another process is busy.
--repeat N measures everything N times in turn (reference, then each thread count) and prints the spread
(min / median / max) of each figure: docs/speed.md quotes the median of three runs and their range.
--baseline-tool runs another build (e.g. the previous commit's release binary) right after each
run and prints the ratio of total frames/s (> 1: this build is faster).
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # Scripts/bench/ -> repository root
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # benchutil, beside this script
from benchutil import cpu_busy_fraction as busy  # noqa: E402

MEDIAPIPE_TIMER = r"""
import sys, time, cv2, mediapipe as mp
cap = cv2.VideoCapture(sys.argv[1])
frames = []
while True:
    ok, f = cap.read()
    if not ok: break
    frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
    pose.process(frames[0])                      # warm-up (graph start)
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
    t0 = time.perf_counter()
    found = sum(pose.process(f).pose_landmarks is not None for f in frames)
    dt = time.perf_counter() - t0
print(f"MP {len(frames)} {found} {dt}")
"""


def run_mhformer(tool, video, threads, weights):
    out = f"/tmp/mhformer-bench-{os.getpid()}.csv"
    cmd = [tool, "run", video, "-o", out, "--threads", str(threads)] + (["--weights", weights] if weights else [])
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)}: {r.stderr.strip()}")
    m = re.search(r"(\d+) frames, .* 2D ([0-9.]+) s \(([0-9.]+) frames/s\), 3D ([0-9.]+) s, total ([0-9.]+) s", r.stderr)
    frames, t2d, _, t3d, total = int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)), float(m.group(5))
    os.remove(out)
    return frames, t2d, t3d, total, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default=os.path.join(ROOT, "Samples", "cmu131_walk.mp4"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--mediapipe-python", default="/tmp/mpvenv/bin/python")
    ap.add_argument("--install-mediapipe", action="store_true")
    ap.add_argument("--tool", default=os.path.join(ROOT, ".build", "release", "mhformer"), help="the mhformer binary to time")
    ap.add_argument("--baseline-tool", default=None, help="another mhformer binary to time right after it, for a ratio")
    ap.add_argument("--repeat", type=int, default=1, help="runs of the whole measurement, for the spread")
    args = ap.parse_args()

    if args.install_mediapipe and not os.path.exists(args.mediapipe_python):
        subprocess.run([sys.executable, "-m", "venv", "/tmp/mpvenv"], check=True)
        subprocess.run(["/tmp/mpvenv/bin/pip", "install", "-q", "mediapipe==0.10.14"], check=True)
        args.mediapipe_python = "/tmp/mpvenv/bin/python"

    print(f"video {os.path.relpath(args.video, ROOT)}; machine busy before: {busy():.0%}")
    threads = [int(x) for x in args.threads.split(",")]
    figures = {}                                    # name -> one value per run, for the spread
    for run in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"run {run} of {args.repeat}")
        reference = None
        if os.path.exists(args.mediapipe_python):
            r = subprocess.run([args.mediapipe_python, "-c", MEDIAPIPE_TIMER, args.video], capture_output=True, text=True,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
            m = re.search(r"MP (\d+) (\d+) ([0-9.]+)", r.stdout)
            if m:
                n, found, dt = int(m.group(1)), int(m.group(2)), float(m.group(3))
                reference = n / dt
                figures.setdefault("mediapipe 2D f/s", []).append(reference)
                print(f"reference  mediapipe 0.10.14 mp.solutions.pose: {reference:.1f} frames/s "
                      f"(BlazePose only, frames pre-decoded; person found on {found}/{n})")
            else:
                print(f"reference failed: {r.stderr.strip().splitlines()[-1:]}")
        else:
            print("reference skipped: no mediapipe Python (use --install-mediapipe)")

        print(f"{'threads':>7} {'frames':>6} {'2D f/s':>8} {'3D f/s':>8} {'total f/s':>9} {'2D vs mediapipe':>16}"
              + (f" {'total vs baseline':>18}" if args.baseline_tool else ""))
        for t in threads:
            frames, t2d, t3d, total, wall = run_mhformer(args.tool, args.video, t, args.weights)
            ratio = f"{(frames / t2d) / reference:.2f}x" if reference else "-"
            line = f"{t:>7} {frames:>6} {frames / t2d:>8.1f} {frames / max(t3d, 1e-9):>8.1f} {frames / total:>9.1f} {ratio:>16}"
            for name, value in [("2D f/s", frames / t2d), ("3D f/s", frames / max(t3d, 1e-9)), ("total f/s", frames / total)] + \
                    ([("2D vs mediapipe", (frames / t2d) / reference)] if reference else []):
                figures.setdefault(f"{t} thread{'s' if t > 1 else ''}: {name}", []).append(value)
            if args.baseline_tool:
                _, b2d, b3d, btotal, _ = run_mhformer(args.baseline_tool, args.video, t, args.weights)
                line += f" {btotal / total:>17.3f}x (baseline 2D {frames / b2d:.1f}, 3D {frames / max(b3d, 1e-9):.1f}, total {frames / btotal:.1f} f/s)"
            print(line + f"   (process wall {wall:.1f} s incl. loading)")
    if args.repeat > 1:
        print(f"spread over {args.repeat} runs (median, min-max):")
        for name, values in figures.items():
            v = sorted(values)
            print(f"  {name:<32} {v[len(v) // 2]:8.2f}   {v[0]:.2f}-{v[-1]:.2f}")
    print(f"machine busy after: {busy():.0%}")


if __name__ == "__main__":
    main()
