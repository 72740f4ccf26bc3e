#!/usr/bin/env python3
"""Memory of `mhformer run --people all` on long crowded videos: peak RSS and frames/s by video length.

    python3 Scripts/bench/people-memory.py [--minutes 3,6,12] [--threads 2] [--tool .build/release/mhformer]

The clip is the project's crowd sample (Samples/crowd3_cross.mp4, three mannequins crossing, 6 s at
25 fps) looped to each length and scaled onto a 1280x720 frame with ffmpeg. Each loop starts with the
people back where they began, a jump no tracker bridges, so each loop brings three new identities, as
a cut in a real video would: people come and go, and the number of identities grows with the length.

For each length it prints the frames, the identities found, the peak resident memory of the mhformer
process (ru_maxrss from wait4), the frames per second of the whole run, and the size of the per-person
CSVs; then the ratio of the largest to the smallest peak (flat memory: within 1.10) and whether every
peak is under 400 MB. The machine's load is printed before and after (frames/s needs a quiet machine;
memory does not).

What it checks (issue 27): each person is lifted, fitted and staged to disk as their track closes,
so the peak is set by the 2D stage and the people on screen at once, not by the length of the video
or the identities seen. `--extra '--coords world'` measures the path that puts people aside on disk
until the scene is known; `--overlay` holds every kept person (it draws everyone on every frame).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Scripts" / "bench"))
from benchutil import cpu_busy_fraction  # noqa: E402

SAMPLE = REPO / "Samples" / "crowd3_cross.mp4"


def make_clip(minutes, path):
    """The crowd sample looped to `minutes`, 1280x720 (scaled to 960x720 and padded), H.264."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(SAMPLE), "-t", f"{minutes * 60:g}",
                    "-vf", "scale=960:720,pad=1280:720:160:0:color=0x9a9e9c", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "23", "-pix_fmt", "yuv420p", str(path)], check=True)


def run_measured(cmd):
    """Runs cmd; returns (exit status, stderr, peak RSS in MB, seconds)."""
    start = time.time()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.time() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
    return os.waitstatus_to_exitcode(status), text, usage.ru_maxrss / 1024.0, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", default="3,6,12", help="video lengths, comma-separated")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tool", default=str(REPO / ".build" / "release" / "mhformer"))
    ap.add_argument("--extra", default="", help="more options for mhformer run, e.g. '--coords world'")
    a = ap.parse_args()
    if not os.path.exists(a.tool):
        sys.exit(f"error: {a.tool}: no such file (swift build -c release)")
    lengths = [float(m) for m in a.minutes.split(",")]
    print(f"machine busy before: {cpu_busy_fraction():.0%}; threads {a.threads}; tool {os.path.relpath(a.tool, REPO)}")
    print(f"{'minutes':>7s} {'frames':>7s} {'people':>6s} {'peak MB':>8s} {'frames/s':>8s} {'CSV MB':>7s} {'rows/person':>11s}")
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in lengths:
            clip = os.path.join(tmp, f"crowd-{minutes:g}min.mp4")
            make_clip(minutes, clip)
            out = os.path.join(tmp, f"out-{minutes:g}")
            os.makedirs(out)
            cmd = [a.tool, "run", clip, "-o", os.path.join(out, "o.csv"), "--people", "all", "--threads", str(a.threads)]
            cmd += a.extra.split()
            status, err, peak, seconds = run_measured(cmd)
            if status != 0:
                sys.exit(f"error: {' '.join(cmd)}: exit {status}: {err.strip()[-400:]}")
            m = re.search(r"(\d+) frames, (\d+) people found", err)
            frames, people = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
            csvs = [os.path.join(out, f) for f in os.listdir(out) if f.endswith(".csv")]
            size = sum(os.path.getsize(f) for f in csvs) / 1e6
            rows = sum(sum(1 for _ in open(f)) - 1 for f in csvs) / max(len(csvs), 1)
            peaks.append(peak)
            print(f"{minutes:7g} {frames:7d} {people:6d} {peak:8.0f} {frames / seconds:8.1f} {size:7.1f} {rows:11.0f}", flush=True)
            os.remove(clip)
    print(f"peak memory, largest / smallest: {max(peaks) / min(peaks):.2f} (flat: <= 1.10); "
          f"all under 400 MB: {'yes' if max(peaks) < 400 else 'no'}")
    print(f"machine busy after: {cpu_busy_fraction():.0%}")


if __name__ == "__main__":
    main()
