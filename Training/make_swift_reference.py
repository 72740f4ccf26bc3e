"""Reference output of the PyTorch model for the Swift test of `mhformer lift`.

  python3 Training/make_swift_reference.py [--weights Models/mhformer-cmu-T27.safetensors]

Writes Tests/Fixtures/cmu-val-clip/:
  keypoints_2d.csv        120 frames of validation subject CMU 131 (trial 131_01, "Start Walk Stop",
                          frames 150-269 at 50 fps), projected by the sample camera (1280x720,
                          Training/sample_io.py), 2D CSV format
  reference_3d_torch.csv  demo_predict (flip TTA on) of the shipped weights on exactly those
                          float32 values, 3D CSV format (camera frame, root-relative, metres)
  README.md               weights sha256, command
"""
import argparse
import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Training"))
import data  # noqa: E402
import mhformer as mh  # noqa: E402
import safetensors_np  # noqa: E402
import sample_io  # noqa: E402

torch.set_num_threads(1)
SEQUENCE, FIRST, COUNT = "cmu_131_01", 150, 120


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=None, help="default: the one Models/mhformer-cmu-T*.safetensors")
    p.add_argument("--data", default=str(ROOT / ".." / "shared" / "data" / "mocap"))
    p.add_argument("--out", default=str(ROOT / "Tests" / "Fixtures" / "cmu-val-clip"))
    args = p.parse_args()
    weights = Path(args.weights or sorted((ROOT / "Models").glob("mhformer-cmu-T*.safetensors"))[0])

    seq = next(s for s in data.load_sequences(args.data, "val") if s.name == SEQUENCE)
    pos = seq.pos[FIRST:FIRST + COUNT]
    kp, _ = sample_io.project_sequence(pos, sample_io.sample_camera(pos))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sample_io.write_2d_csv(out / "keypoints_2d.csv", kp, data.MOCAP_FPS, sample_io.SAMPLE_WIDTH,
                           sample_io.SAMPLE_HEIGHT)
    # Lift what the CSV holds (float32 round trip), exactly what the Swift tool will read.
    kp_csv, w, h = sample_io.read_2d_csv(out / "keypoints_2d.csv")
    assert (kp_csv == kp).all()
    sd = {k: torch.from_numpy(v) for k, v in safetensors_np.load(weights).items()}
    model = mh.build_from_state_dict(sd)
    pred = mh.demo_predict(model, kp_csv, w, h, flip=True)
    sample_io.write_3d_csv(out / "reference_3d_torch.csv", pred, data.MOCAP_FPS)

    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    rel = weights.resolve().relative_to(ROOT)
    (out / "README.md").write_text(f"""# cmu-val-clip: reference output of the PyTorch MHFormer

- `keypoints_2d.csv`: {COUNT} frames (50 fps) of CMU trial 131_01 "Start Walk Stop" (frames {FIRST}-{FIRST + COUNT - 1}),
  a **validation** subject, projected exactly (no noise) by the sample camera of `Training/sample_io.py`
  (1280x720, 60 deg horizontal FOV, 4.5 m away, 1.5 m high).
- `reference_3d_torch.csv`: `Training/mhformer.py:demo_predict` (official demo pipeline: edge-padded windows,
  x/w*2-1 and y/w*2-h/w, flip TTA, middle frame, root zeroed) with `{rel}`
  (sha256 `{digest}`), PyTorch {torch.__version__}, float32, CPU, 1 thread, on exactly the float32 values of
  `keypoints_2d.csv`. Camera frame, root-relative, metres.

`mhformer lift` with the default weights must reproduce `reference_3d_torch.csv` within 1e-4 (max abs).
If the weights change, regenerate with:

    OMP_NUM_THREADS=1 python3 Training/make_swift_reference.py

Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu). "The data used in this project was
obtained from mocap.cs.cmu.edu. The database was created with funding from NSF EIA-0196217."
""")
    print(f"wrote {out} ({len(pred)} frames) with {rel} sha256 {digest}")


if __name__ == "__main__":
    main()
