#!/usr/bin/env python3
"""Speed of `mhformer lift` (Swift on OpenBLAS) against the PyTorch reference, in one run.

    python3 Scripts/bench/benchmark-lift.py [--threads 1] [--frames 48] [--configs official81,official351,cmu] [--repeat 3]

For each configuration, the same random-weight model (official tensor names) runs the demo
pipeline (windows, flip test-time augmentation, middle frame) on the same 2D keypoints, in PyTorch
(Training/mhformer.py, torch.set_num_threads) and through the Swift command line (--threads).
It prints frames per second of both, their ratio, and the max abs difference of the outputs.
Timing excludes loading weights in both. --repeat N times each configuration N times in turn
(PyTorch, Swift, PyTorch, Swift...) and prints the median and the range of each figure; the torch
version is printed with the machine's load. Needs torch (Training/requirements.txt) and a release
build (bash Scripts/setup.sh). Run it on a quiet machine: the script reports the CPU load of other
processes during the run, and two BLAS threads collapse when another process is busy.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # Scripts/bench/ -> repository root
sys.path.insert(0, os.path.join(ROOT, "Training"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # benchutil, beside this script
from benchutil import cpu_busy_fraction  # noqa: E402

CONFIGS = {  # name: (frames, channel, d_hid, layers)
    "official27": (27, 512, 1024, 3),
    "official81": (81, 512, 1024, 3),
    "official243": (243, 512, 1024, 3),
    "official351": (351, 512, 1024, 3),
}


def random_model(frames, channel, d_hid, layers, seed=0):
    import torch
    from mhformer import MHFormer
    torch.manual_seed(seed)
    model = MHFormer(frames=frames, channel=channel, d_hid=d_hid, layers=layers).eval()
    with torch.no_grad():   # non-trivial positional embeddings and BN statistics
        for name, p in model.named_parameters():
            if "pos_embed" in name:
                p.normal_(0, 0.02)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.normal_(0, 0.1)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    return model


def write_safetensors(model, path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("convert", os.path.join(ROOT, "Scripts", "convert", "convert-mhformer.py"))
    convert = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(convert)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    with open(path, "wb") as f:
        f.write(convert.safetensors_bytes(sd))


def sample_keypoints(n):
    """The first n frames of the sample 2D CSV (1280x720)."""
    path = os.path.join(ROOT, "Samples", "cmu02_punch_2d.csv")
    rows = np.genfromtxt(path, delimiter=",", names=True, max_rows=n)
    names = rows.dtype.names
    cols = [c for c in names if c.endswith("_x") or c.endswith("_y")]
    kp = np.stack([rows[c] for c in cols], axis=1).astype(np.float32).reshape(n, 17, 2)
    return kp, path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frames", type=int, default=48, help="frames of 2D input to lift")
    ap.add_argument("--configs", default="official81,official351")
    ap.add_argument("--tool", default=os.path.join(ROOT, ".build", "release", "mhformer"), help="the mhformer binary to time")
    ap.add_argument("--baseline-tool", default=None, help="another mhformer binary (e.g. the previous commit's) to time too, for a ratio")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs of each configuration, for the spread")
    args = ap.parse_args()

    import torch
    from mhformer import demo_predict
    torch.set_num_threads(args.threads)
    tool = args.tool
    if not os.access(tool, os.X_OK):
        sys.exit("error: build first: bash Scripts/setup.sh")
    busy_before = cpu_busy_fraction()
    kp, _ = sample_keypoints(args.frames)
    n = len(kp)
    print(f"torch {torch.__version__}, threads {args.threads}, {n} frames, flip on, machine busy before start: {busy_before:.0%}")
    print(f"{'config':<12} {'params':>10} {'swift f/s':>10} {'torch f/s':>10} {'swift/torch':>11} {'max|diff|':>10}"
          + (f" {'vs baseline':>12}" if args.baseline_tool else ""))
    with tempfile.TemporaryDirectory() as tmp:
        csv_in = os.path.join(tmp, "in.csv")
        # the sample rows as they are (lift reads columns by name)
        with open(os.path.join(ROOT, "Samples", "cmu02_punch_2d.csv")) as f:
            lines = f.readlines()[: n + 1]
        open(csv_in, "w").writelines(lines)
        for name in args.configs.split(","):
            if name == "cmu":
                import glob
                found = sorted(glob.glob(os.path.join(ROOT, "Models", "mhformer-cmu-T*.safetensors")))
                if not found:
                    print("cmu: no Models/mhformer-cmu-T*.safetensors, skipped")
                    continue
                from mhformer import build_from_state_dict
                from safetensors_np import load
                weights = found[0]
                model = build_from_state_dict(load(weights))
            else:
                model = random_model(*CONFIGS[name])
                weights = os.path.join(tmp, f"{name}.safetensors")
                write_safetensors(model, weights)
            params = sum(p.numel() for p in model.parameters())
            # PyTorch: warm-up on a few frames, then the timed runs.
            demo_predict(model, kp[:4], 1280, 720)
            out = os.path.join(tmp, f"{name}.csv")

            def lift_seconds(binary):
                # --no-rigid-skeleton --no-refine: the model's own output, to compare with PyTorch's.
                r = subprocess.run([binary, "lift", "--keypoints", csv_in, "--weights", weights, "-o", out,
                                    "--threads", str(args.threads), "--no-rigid-skeleton", "--no-refine"], capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"error: {binary} lift failed: {r.stderr.strip()}")
                return float(re.search(r" in ([0-9.]+) s", r.stderr).group(1))

            swift_fps, torch_fps, ratios = [], [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                ref = demo_predict(model, kp, 1280, 720)
                torch_s = time.perf_counter() - t0
                swift_s = lift_seconds(tool)
                got = np.genfromtxt(out, delimiter=",", skip_header=1)[:, 2:].reshape(n, 17, 3)
                diff = float(np.abs(got - ref).max())
                swift_fps.append(n / swift_s)
                torch_fps.append(n / torch_s)
                ratios.append(torch_s / swift_s)
                line = (f"{name:<12} {params:>10,} {n / swift_s:>10.1f} {n / torch_s:>10.1f} "
                        f"{torch_s / swift_s:>10.2f}x {diff:>10.1e}")
                if args.baseline_tool:
                    base_s = lift_seconds(args.baseline_tool)
                    line += f" {base_s / swift_s:>11.3f}x"
                print(line, flush=True)
            if args.repeat > 1:
                def spread(v):
                    v = sorted(v)
                    return f"{v[len(v) // 2]:.2f} ({v[0]:.2f}-{v[-1]:.2f})"
                print(f"{name:<12} median (range) of {args.repeat}: swift {spread(swift_fps)} f/s, torch {spread(torch_fps)} f/s, "
                      f"swift/torch {spread(ratios)}x")
    print(f"machine busy after: {cpu_busy_fraction():.0%} (this script's own processes had stopped)")


if __name__ == "__main__":
    main()
