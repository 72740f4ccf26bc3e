"""Export a train.py checkpoint as Models/mhformer-cmu-T<T>.safetensors (float32, official names).

  python3 Training/export.py Training/runs/main/final.pt [--out Models/mhformer-cmu-T27.safetensors]

The state dict is written with torch.save to a temporary .pth (the format of the released official
checkpoints) and converted by Scripts/convert/convert-mhformer.py, the same path an official checkpoint
takes. The result is read back and compared with the checkpoint, and its sha256 printed.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Training"))
import mhformer as mh  # noqa: E402
import safetensors_np  # noqa: E402

torch.set_num_threads(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--out", default=None)
    args = p.parse_args()

    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    a = ck["args"]
    assert a["model"] == "mhformer", "only MHFormer checkpoints are exported"
    model = mh.MHFormer(frames=a["frames"], channel=a["channel"], d_hid=a["d_hid"], layers=a["layers"])
    model.load_state_dict(ck["model"])
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    out = Path(args.out or ROOT / "Models" / f"mhformer-cmu-T{a['frames']}.safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pth = Path(tmp) / "model.pth"
        torch.save(sd, pth)
        subprocess.run([sys.executable, str(ROOT / "Scripts" / "convert" / "convert-mhformer.py"), str(pth), str(out)],
                       check=True)
    back = safetensors_np.load(out)
    assert sorted(back) == sorted(sd), "tensor names changed in conversion"
    for k, v in sd.items():
        assert np.array_equal(back[k], v.numpy()), k
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{out} {len(back)} tensors, {sum(v.size for v in back.values())} values, step {ck['step']}")
    print(f"sha256 {digest}")


if __name__ == "__main__":
    main()
