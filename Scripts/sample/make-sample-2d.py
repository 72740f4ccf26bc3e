#!/usr/bin/env python3
"""Write a sample 2D keypoint CSV (input of `mhformer lift`) and its 3D ground truth from CMU mocap.

One validation sequence of ../shared/data/mocap (CMU subject 02, not used for training) is
projected through a fixed virtual camera (Training/sample_io.py: 1280x720, 60 deg horizontal FOV,
4.5 m away, 1.5 m high). Exact projection, no detector noise; 50 fps like the mocap.

Usage: python3 Scripts/sample/make-sample-2d.py [--data ../shared/data/mocap] [--out Samples]
       [--sequence cmu_02_05] [--action punch] [--seconds 10]
Needs numpy only.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]   # Scripts/sample/ -> repository root
sys.path.insert(0, str(ROOT / "Training"))
import data  # noqa: E402
import sample_io  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT / ".." / "shared" / "data" / "mocap"))
    p.add_argument("--out", default=str(ROOT / "Samples"))
    p.add_argument("--sequence", default="cmu_02_05", help="CMU 02_05 'punch/strike' (cmu02 walks last ~3 s only)")
    p.add_argument("--action", default="punch")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()

    seq = next(s for s in data.load_sequences(args.data, "all") if s.name == args.sequence)
    pos = seq.pos[: int(round(args.seconds * data.MOCAP_FPS))]  # (N, 17, 3) metres, 50 fps
    cam = sample_io.sample_camera(pos)
    kp, gt = sample_io.project_sequence(pos, cam)
    assert (cam.to_camera(pos)[..., 2] > 0.5).all(), "the person must stay in front of the camera"

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"cmu02_{args.action}"
    sample_io.write_2d_csv(out / f"{stem}_2d.csv", kp, data.MOCAP_FPS, cam.width, cam.height)
    sample_io.write_3d_csv(out / f"{stem}_3d_camera.csv", gt, data.MOCAP_FPS)
    inside = ((kp[..., 0] >= 0) & (kp[..., 0] < cam.width) & (kp[..., 1] >= 0) & (kp[..., 1] < cam.height)).mean()
    print(f"{seq.name} '{seq.description}': {len(pos)} frames, {inside * 100:.1f}% of keypoints inside the image")
    print(f"focal {float(cam.f)!r} px, principal point ({cam.cx}, {cam.cy})")
    print(f"camera centre (world m) {cam.center.tolist()}")
    print(f"R world->camera rows (right, down, forward) {cam.R.tolist()}")


if __name__ == "__main__":
    main()
