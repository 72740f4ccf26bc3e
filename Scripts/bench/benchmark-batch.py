#!/usr/bin/env python3
"""Videos per hour of `mhformer batch --jobs 1` against `--jobs 2`, and of Scripts/batch-ray.py with one
Ray worker node against two, on the same files (N copies of one sample video), in one run.

    python3 Scripts/bench/benchmark-batch.py [--video Samples/cmu131_walk.mp4] [--copies 4]
                                             [--tool BIN] [--skip-ray] [-- mhformer options, e.g. --no-flip]

Every setup starts from an empty output folder (otherwise the records make it skip everything).
`mhformer batch --jobs J` uses its own default of cores/J OpenBLAS threads per video; each Ray task uses
one thread and one Ray CPU, and every worker node has one CPU. The Ray runs use a local cluster that
this script starts (a head without CPUs, then one worker node, then a second) and stops
(Scripts/local_ray_cluster.py). The machine's load from other processes is printed before and after:
a busy machine makes the parallel setups look worse than they are.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # Scripts/bench/ -> repository root
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))                          # benchutil, beside this script
sys.path.insert(0, os.path.join(ROOT, "Scripts"))                                       # local_ray_cluster
from benchutil import cpu_busy_fraction as busy  # noqa: E402


def timed(cmd, outdir, env=None):
    """Runs one batch into a fresh outdir; returns (wall seconds, summary totals)."""
    shutil.rmtree(outdir, ignore_errors=True)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
    with open(os.path.join(outdir, "batch-summary.json")) as f:
        totals = json.load(f)["totals"]
    if totals["ok"] != totals["videos"]:
        sys.exit(f"error: {' '.join(cmd)}: {totals['failed']} videos failed, {totals['skipped']} skipped")
    return wall, totals


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default=os.path.join(ROOT, "Samples", "cmu131_walk.mp4"))
    ap.add_argument("--copies", type=int, default=4, help="copies of the video in the batch (default 4)")
    ap.add_argument("--tool", default=os.path.join(ROOT, ".build", "release", "mhformer"), help="the mhformer binary")
    ap.add_argument("--skip-ray", action="store_true", help="only the two `mhformer batch` setups")
    args, options = ap.parse_known_args()
    options = [o for o in options if o != "--"]
    tool = os.path.abspath(args.tool)
    if not os.access(tool, os.X_OK):
        sys.exit(f"error: {tool}: no mhformer binary (bash Scripts/setup.sh builds it, or give --tool)")

    work = tempfile.mkdtemp(prefix="mhformer-bench-batch-")
    try:
        inputs = os.path.join(work, "in")
        os.makedirs(inputs)
        ext = os.path.splitext(args.video)[1]
        for i in range(args.copies):
            shutil.copy(args.video, os.path.join(inputs, f"clip{i:03d}{ext}"))
        out = os.path.join(work, "out")
        print(f"{args.copies} copies of {os.path.relpath(os.path.abspath(args.video), ROOT)}, options {' '.join(options) or '(none)'}; "
              f"{os.cpu_count()} cores; machine busy before: {busy():.0%}", flush=True)

        rows = []   # (setup, threads per video, wall, totals)
        cores = os.cpu_count() or 1
        for jobs in (1, 2):
            wall, totals = timed([tool, "batch", inputs, "-o", out, "--jobs", str(jobs)] + options, out)
            rows.append((f"mhformer batch --jobs {jobs}", max(1, cores // jobs), wall, totals))
            print(f"  {rows[-1][0]}: {wall:.1f} s", flush=True)

        if not args.skip_ray:
            try:
                from local_ray_cluster import LocalRayCluster
            except ImportError as e:
                sys.exit(f"error: {e}: pip install -r Scripts/requirements-ray.txt (or --skip-ray)")
            cluster = LocalRayCluster(workers=1, cpus_per_worker=1)
            try:
                driver = [sys.executable, os.path.join(ROOT, "Scripts", "batch-ray.py"), "--address", cluster.address,
                          "--mhformer", tool, "-o", out, inputs] + options
                for workers in (1, 2):
                    if workers == 2:
                        cluster.add_worker(cpus=1)
                    wall, totals = timed(driver, out, env=cluster.env)
                    rows.append((f"Ray, {workers} worker node{'s' if workers > 1 else ''}", 1, wall, totals))
                    print(f"  {rows[-1][0]}: {wall:.1f} s", flush=True)
            finally:
                cluster.stop()

        print(f"machine busy after: {busy():.0%}\n")
        print("| setup | threads per video | frames | wall s | videos/hour |")
        print("|---|---|---|---|---|")
        rate = {}
        for name, threads, wall, totals in rows:
            rate[name] = args.copies / wall * 3600
            print(f"| {name} | {threads} | {totals['frames']} | {wall:.1f} | {rate[name]:.0f} |")
        print()
        pairs = [("mhformer batch --jobs 2", "mhformer batch --jobs 1"), ("Ray, 2 worker nodes", "Ray, 1 worker node"),
                 ("Ray, 1 worker node", "mhformer batch --jobs 1"), ("Ray, 2 worker nodes", "mhformer batch --jobs 2")]
        for a, b in pairs:
            if a in rate and b in rate:
                print(f"{a} / {b}: {rate[a] / rate[b]:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
