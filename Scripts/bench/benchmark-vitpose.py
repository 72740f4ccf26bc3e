#!/usr/bin/env python3
"""ViTPose speed, ms per 256x192 person crop: our Swift ViTPose (`mhformer run --pose2d vitpose`,
release build) against Hugging Face transformers' PyTorch VitPoseForPoseEstimation, on the same
random-weight ViT-B model (simple decoder, as usyd-community/vitpose-base-simple), in one run.

    python3 Scripts/bench/benchmark-vitpose.py [--model /tmp/vitpose-b-random] [--frames 20] [--threads 1]
                                               [--flip]

The model is made with Scripts/fixtures/make-vitpose-fixtures.py --base DIR when DIR is missing (that script
installs transformers into .venv-vitpose/ when needed; this one then runs in that Python).
Swift: `mhformer run` on the first --frames frames of Samples/cmu131_walk.mp4 (cut with ffmpeg);
its summary line reports ViTPose's ms per person (crop + model + heatmap decoding; BlazePose, which
supplies the box, is not counted). PyTorch: the model's forward on a 1x3x256x192 tensor
(median of --frames runs after a warm-up), torch.set_num_threads(--threads), no pre/post-processing.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # Scripts/bench/ -> repository root
VENV_PY = os.path.join(ROOT, ".venv-vitpose", "bin", "python")

try:
    import torch
    import transformers  # noqa: F401
except ImportError:
    if os.path.exists(VENV_PY) and os.path.abspath(sys.executable) != os.path.abspath(VENV_PY):
        os.execv(VENV_PY, [VENV_PY] + sys.argv)
    sys.exit("benchmark-vitpose: needs transformers (run Scripts/fixtures/make-vitpose-fixtures.py once: it makes .venv-vitpose)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/tmp/vitpose-b-random")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--flip", action="store_true", help="flip test on both sides (two crops per person)")
    ap.add_argument("--video", default=os.path.join(ROOT, "Samples", "cmu131_walk.mp4"))
    ap.add_argument("--tool", default=os.path.join(ROOT, ".build", "release", "mhformer"), help="the release mhformer binary")
    ap.add_argument("--weights", help="MHFormer weights for `mhformer run` (default: its own search)")
    a = ap.parse_args()

    if not os.path.exists(os.path.join(a.model, "model.safetensors")):
        subprocess.check_call([sys.executable, os.path.join(ROOT, "Scripts", "fixtures", "make-vitpose-fixtures.py"), "--base", a.model])
    tool = a.tool
    if not os.access(tool, os.X_OK):
        sys.exit(f"benchmark-vitpose: {tool} missing (swift build -c release)")
    print("load before:", os.getloadavg())

    # Swift
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        subprocess.check_call(["ffmpeg", "-loglevel", "error", "-i", a.video, "-frames:v", str(a.frames), "-c:v", "libx264",
                               "-pix_fmt", "yuv420p", clip])
        cmd = [tool, "run", clip, "-o", os.path.join(tmp, "out.csv"), "--pose2d", "vitpose", "--pose2d-weights", a.model]
        if a.weights:
            cmd += ["--weights", a.weights]
        if a.flip:
            cmd.append("--pose2d-flip")
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads))
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        m = re.search(r"ViTPose (\d+) ms per person", r.stderr)
        if r.returncode != 0 or not m:
            sys.exit(f"benchmark-vitpose: mhformer run failed: {r.stderr.strip()}")
        swift_ms = float(m.group(1))

    # PyTorch
    from transformers import VitPoseForPoseEstimation
    torch.set_num_threads(a.threads)
    model = VitPoseForPoseEstimation.from_pretrained(a.model).eval()
    x = torch.randn(2 if a.flip else 1, 3, 256, 192)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(a.frames):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    times.sort()
    torch_ms = 1000 * times[len(times) // 2]

    label = "flip test (2 crops)" if a.flip else "1 crop"
    print(f"ViTPose-B 256x192, {label}, {a.threads} thread(s): Swift {swift_ms:.0f} ms per person (with crop and decoding), "
          f"PyTorch {torch_ms:.0f} ms per forward; PyTorch/Swift = {torch_ms / swift_ms:.2f}")
    print("load after:", os.getloadavg())


if __name__ == "__main__":
    main()
