#!/usr/bin/env python3
"""Multi-person accuracy on the project's rendered crowd clip: identities, 2D and 3D per person.

    python3 Scripts/bench/evaluate-people.py [--mhformer .build/release/mhformer] [--clip Samples/crowd3_cross.mp4]
                                             [--solo-dir /tmp/crowd-solo] [--max-gap 0.5] [--threads 2]

Runs `mhformer run CLIP --people all` (defaults otherwise) and compares every output ID with the clip's exact
per-person ground truth (CLIP_gt_2d.csv, CLIP_gt_3d_camera.csv: a `person` column, one row per person per frame
with the pelvis in the image). In each frame the output people are matched to the true people by the mean 2D
distance of their joints (best assignment; a match needs a mean distance under a third of the true person's
height), then per true person:
  frames      frames in the truth / frames matched to some output ID (coverage)
  IDs         the output IDs matched to them, in order
  switches    how often the matched ID changes from one matched frame to the next (ID switches; goal 0)
  2D px       mean joint error of the matched output, pixels
  P-MPJPE     17 joints after a per-frame similarity alignment, mm, on the matched frames
The reference in the same run is the single-person pipeline on the same person: with --solo-dir holding
CLIP_solo<K>.mp4 (the same scene rendered with person K alone: render-crowd-video.sh --solo K), `mhformer run`
(--people 1) on it, P-MPJPE on the frames both have; the ratio multi / solo says what the crowd costs. Exit status
1 when any true person has an ID switch.
"""
import argparse
import csv
import itertools
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Training"))
from evaluate import p_mpjpe  # noqa: E402


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def truth(path, coords):
    """{person: {frame: (17, coords) array}} and the image height for 2D."""
    header, rows = read_rows(path)
    axes = "xy" if coords == 2 else "xyz"
    start = header.index("pelvis_x")
    cols = list(range(start, start + 17 * coords))
    out = {}
    for r in rows:
        out.setdefault(int(r[1]), {})[int(r[0])] = np.array([float(r[c]) for c in cols]).reshape(17, coords)
    return out


def ours(path, coords):
    """{frame: (17, coords)} of one output file, rows with a person only."""
    header, rows = read_rows(path)
    start = header.index("pelvis_x")
    out = {}
    for r in rows:
        cells = r[start:start + 17 * coords]
        if cells and all(c != "" for c in cells):
            out[int(r[0])] = np.array([float(c) for c in cells]).reshape(17, coords)
    return out


def run(tool, video, out, extra, threads):
    p = subprocess.run([tool, "run", video, "-o", out, "--threads", str(threads)] + extra, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("evaluate-people: %s failed: %s" % (video, p.stderr.strip()))
    return p.stderr


def match_frames(gt2d, out2d, frames):
    """{frame: {true person: output ID}} by the best assignment of mean joint distances."""
    matches = {}
    for f in frames:
        people = [k for k in gt2d if f in gt2d[k]]
        ids = [i for i in out2d if f in out2d[i]]
        best, best_cost = {}, float("inf")
        # All assignments (a handful of people): each true person gets one output ID or none.
        for perm in itertools.permutations(ids + [None] * len(people), len(people)):
            cost, pairs = 0.0, {}
            for k, i in zip(people, perm):
                if i is None:
                    cost += 1e6
                    continue
                g = gt2d[k][f]
                d = np.linalg.norm(out2d[i][f] - g, axis=-1).mean()
                height = g[:, 1].max() - g[:, 1].min()
                if d > height / 3:
                    cost += 1e6
                    continue
                cost += d
                pairs[k] = i
            if cost < best_cost:
                best, best_cost = pairs, cost
        matches[f] = best
    return matches


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mhformer", default=os.path.join(ROOT, ".build", "release", "mhformer"))
    ap.add_argument("--clip", default=os.path.join(ROOT, "Samples", "crowd3_cross.mp4"))
    ap.add_argument("--solo-dir", default=None, help="folder with CLIP_solo<K>.mp4 renders (person K alone)")
    ap.add_argument("--max-gap", default="0.5")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    stem = os.path.splitext(args.clip)[0]
    gt2d, gt3d = truth(stem + "_gt_2d.csv", 2), truth(stem + "_gt_3d_camera.csv", 3)
    with tempfile.TemporaryDirectory() as tmp:
        summary = run(args.mhformer, args.clip, os.path.join(tmp, "o.csv"),
                      ["--people", "all", "--max-gap", args.max_gap, "--keypoints-2d", os.path.join(tmp, "k.csv")], args.threads)
        print(summary.strip())
        out2d, out3d = {}, {}
        for name in sorted(os.listdir(tmp)):
            if name.startswith("k.p"):
                i = int(name[3:].split(".")[0])
                out2d[i] = ours(os.path.join(tmp, name), 2)
                out3d[i] = ours(os.path.join(tmp, "o.p%d.csv" % i), 3)
        frames = sorted({f for k in gt2d for f in gt2d[k]})
        matches = match_frames(gt2d, out2d, frames)
        solo = {}
        if args.solo_dir:
            for k in gt3d:
                video = os.path.join(args.solo_dir, "%s_solo%d.mp4" % (os.path.basename(stem), k))
                if os.path.exists(video):
                    path = os.path.join(tmp, "solo%d.csv" % k)
                    run(args.mhformer, video, path, [], args.threads)
                    solo[k] = ours(path, 3)
    switches_total = 0
    print("\n| true person | frames (truth / matched) | output IDs | ID switches | 2D px | P-MPJPE mm | single-person P-MPJPE mm | multi / single |")
    print("|---|---|---|---|---|---|---|---|")
    for k in sorted(gt2d):
        seq = [(f, matches[f][k]) for f in frames if k in matches.get(f, {})]
        ids = [i for _, i in seq]
        switches = sum(1 for a, b in zip(ids, ids[1:]) if a != b)
        switches_total += switches
        order = [i for n, i in enumerate(ids) if n == 0 or ids[n - 1] != i]
        err2d = np.mean([np.linalg.norm(out2d[i][f] - gt2d[k][f], axis=-1).mean() for f, i in seq]) if seq else float("nan")
        both = [(f, i) for f, i in seq if f in gt3d[k] and f in out3d[i]]
        pm = 1000 * p_mpjpe(np.stack([out3d[i][f] for f, i in both]), np.stack([gt3d[k][f] for f, _ in both])).mean() if both else float("nan")
        solo_cell, ratio = "-", "-"
        if k in solo:
            common = [(f, i) for f, i in both if f in solo[k]]
            if common:
                s = 1000 * p_mpjpe(np.stack([solo[k][f] for f, _ in common]), np.stack([gt3d[k][f] for f, _ in common])).mean()
                m = 1000 * p_mpjpe(np.stack([out3d[i][f] for f, i in common]), np.stack([gt3d[k][f] for f, _ in common])).mean()
                solo_cell, ratio = "%.1f (multi %.1f on the same %d frames)" % (s, m, len(common)), "%.2f" % (m / s)
        print("| %d | %d / %d | %s | %d | %.1f | %.1f | %s | %s |" % (k, len(gt2d[k]), len(seq), " → ".join(map(str, order)) or "-",
                                                                switches, err2d, pm, solo_cell, ratio))
    print("\nID switches in all: %d (goal 0)" % switches_total)
    sys.exit(1 if switches_total else 0)


if __name__ == "__main__":
    main()
