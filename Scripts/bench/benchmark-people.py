#!/usr/bin/env python3
"""Speed of `mhformer run --people` with 1, 2 and 4 people at 720p, against the single-person run.

    python3 Scripts/bench/benchmark-people.py [--mhformer .build/release/mhformer] [--threads 2] [--repeat 2]

The clips are made here with ffmpeg from the project's sample renders (Samples/), 1280x720, 8 s at
25 fps: one mannequin; two side by side; four in a 2x2 grid (two of them mirrored). Each is run
through `mhformer run --people N` (the default BlazePose 2D, flip test on, as a user runs it) and
timed from the tool's own summary line (2D frames per second, and frames per second of the whole
run). The reference in the same script is today's single-person pipeline (`--people 1`) on the
one-person clip. Prints a table with the ratios. Run it on a quiet machine: it reports the share of
CPU busy before and after.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchutil import cpu_busy_fraction  # noqa: E402

WALK = os.path.join(ROOT, "Samples", "cmu131_walk.mp4")
PUNCH = os.path.join(ROOT, "Samples", "cmu02_punch_closeup.mp4")
GREY = "0x9a9e9c"
# ffmpeg filter graphs: inputs [0] the walker (8 s), [1] the boxer (4 s, its last frame held).
CLIPS = {
    1: "[0:v]pad=1280:720:320:120:color=%s" % GREY,
    2: "[1:v]tpad=stop_mode=clone:stop_duration=4[b];[0:v][b]hstack=inputs=2,pad=1280:720:0:120:color=%s" % GREY,
    4: ("[1:v]tpad=stop_mode=clone:stop_duration=4,split[b][d];[0:v]split[a][c];[a]scale=640:360[a1];[b]scale=640:360[b1];"
        "[c]hflip,scale=640:360[c1];[d]hflip,scale=640:360[d1];[a1][b1]hstack[top];[d1][c1]hstack[bot];[top][bot]vstack"),
}


def make_clip(people, folder):
    path = os.path.join(folder, "people%d_720p.mp4" % people)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", WALK, "-i", PUNCH, "-filter_complex", CLIPS[people], "-t", "8",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", path], check=True)
    return path


def run(tool, video, people, threads, folder):
    out = os.path.join(folder, "out.csv")
    p = subprocess.run([tool, "run", video, "-o", out, "--people", str(people), "--threads", str(threads)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("benchmark-people: %s failed: %s" % (video, p.stderr.strip()))
    line = p.stderr.strip().splitlines()[0]
    m = re.match(r"(\d+) frames, .*?2D ([\d.]+) s \(([\d.]+) frames/s\), 3D ([\d.]+) s, total ([\d.]+) s", line)
    frames, total = int(m.group(1)), float(m.group(5))
    found = re.search(r"(\d+) people found", line)
    return {"frames": frames, "fps2d": float(m.group(3)), "fps": frames / total, "found": int(found.group(1)) if found else 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mhformer", default=os.path.join(ROOT, ".build", "release", "mhformer"))
    ap.add_argument("--threads", type=int, default=2, help="OpenBLAS threads (and people tracked side by side)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per clip; the best is kept")
    args = ap.parse_args()
    print("CPU busy before: %.0f %%" % (100 * cpu_busy_fraction()))
    with tempfile.TemporaryDirectory() as folder:
        clips = {n: make_clip(n, folder) for n in CLIPS}
        best = lambda video, people: max((run(args.mhformer, video, people, args.threads, folder) for _ in range(args.repeat)),
                                         key=lambda r: r["fps"])
        reference = best(clips[1], 1)
        rows = [("1 person, --people 1 (reference)", reference)]
        for n in CLIPS:
            rows.append(("%d %s, --people all" % (n, "person" if n == 1 else "people"), best(clips[n], "all")))
    print("CPU busy after: %.0f %%" % (100 * cpu_busy_fraction()))
    print("\n1280x720, 200 frames, %d threads, %s" % (args.threads, args.mhformer))
    print("| clip | people found | 2D frames/s | frames/s (whole run) | vs reference |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print("| %s | %d | %.1f | %.1f | %.2f |" % (name, r["found"], r["fps2d"], r["fps"], r["fps"] / reference["fps"]))


if __name__ == "__main__":
    main()
