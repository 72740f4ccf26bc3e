"""train.py resumes exactly: a run interrupted at a checkpoint and resumed with --resume ends with the same
weights as the same run without the interruption (model, optimiser, step, numpy and torch RNG states are all
restored). A tiny MHFormer on a toy mocap folder, detector corruption and close-ups on, one thread.

Run: python3 -m pytest -q Training/tests/test_train.py   (skips without torch)
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import train  # noqa: E402
from test_data import toy_pose  # noqa: E402


def toy_mocap(folder):
    """index.json + one npz: three walking toy sequences (mm), two for training and one for validation."""
    seqs, entries = {}, []
    for k, split in enumerate(["train", "train", "val"]):
        pos = toy_pose(80) * 1000.0
        pos[..., 0] += 50.0 * np.sin(np.arange(80) / (5.0 + k))[:, None]   # some arm/leg motion
        pos[:, [13, 16], 1] += 200.0 * np.cos(np.arange(80) / 7.0)[:, None]
        name = f"toy_{k}"
        seqs[name] = pos.astype(np.float32)
        entries.append(dict(sequence=name, subject=f"toy{k}", description="toy walk", frames=80, fps=50,
                            split=split, file="toy.npz", source_skeleton="cmu_daz" if k == 1 else "cmu_asf"))
    np.savez(folder / "toy.npz", **seqs)
    (folder / "index.json").write_text(json.dumps({"fps": 50, "sequences": entries}))


def run_args(data, run_dir, *extra):
    return ["--data", str(data), "--run-dir", str(run_dir), "--frames", "9", "--channel", "16", "--d-hid", "32",
            "--layers", "2", "--batch", "4", "--steps", "6", "--warmup", "2", "--val-every", "100", "--log-every", "1",
            "--noise", "detector", "--closeup-p", "0.3", "--daz-weight", "0.5", "--seed", "3", *extra]


def test_resume_gives_the_same_weights(tmp_path):
    data = tmp_path / "mocap"
    data.mkdir()
    toy_mocap(data)
    train.VAL_WINDOWS = 8   # a quick validation monitor
    train.main(run_args(data, tmp_path / "straight"))
    train.main(run_args(data, tmp_path / "interrupted", "--stop-at-step", "3"))
    assert torch.load(tmp_path / "interrupted" / "last.pt", weights_only=False)["step"] == 3
    assert not (tmp_path / "interrupted" / "final.pt").exists()
    at_step_3 = torch.load(tmp_path / "interrupted" / "last.pt", weights_only=False)["model"]
    train.main(run_args(data, tmp_path / "interrupted", "--resume"))
    a = torch.load(tmp_path / "straight" / "final.pt", weights_only=False)
    b = torch.load(tmp_path / "interrupted" / "final.pt", weights_only=False)
    assert a["step"] == b["step"] == 6
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert any(not torch.equal(v, at_step_3[k]) for k, v in a["model"].items()), "steps 4-6 changed nothing"
