"""Parity of Training/mhformer.py with the official MHFormer, via the shared reference fixtures.

The fixtures (../shared/fixtures/mhformer beside the repository, or $MHFORMER_SHARED/fixtures/mhformer) were made by the
official code with small random models. Every comparison uses max abs error <= 1e-4.

Run: OMP_NUM_THREADS=1 python3 -m pytest -q Training/tests
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install -r Training/requirements.txt)")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mhformer as mh  # noqa: E402

torch.set_num_threads(1)

SHARED = Path(os.environ.get("MHFORMER_SHARED", Path(__file__).resolve().parents[2] / ".." / "shared"))
FIXTURES = SHARED / "fixtures" / "mhformer"
ATOL = 1e-4
CONFIGS = ["small27", "small81"]

if not FIXTURES.is_dir():
    pytest.skip(f"shared fixtures not found at {FIXTURES} (set MHFORMER_SHARED); parity tests skipped",
                allow_module_level=True)


def assert_close(name, got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    err = float(np.abs(got - want).max())
    assert err <= ATOL, f"{name}: max abs error {err:.3g} > {ATOL}"


@pytest.fixture(scope="module", params=CONFIGS)
def case(request):
    folder = FIXTURES / request.param
    sd = torch.load(folder / "small_model.pth", map_location="cpu", weights_only=True)
    model = mh.build_from_state_dict(sd)  # strict load: every official key, nothing extra
    return folder, model


def test_state_dict_keys_and_shapes(case):
    folder, model = case
    sd = torch.load(folder / "small_model.pth", map_location="cpu", weights_only=True)
    ours = model.state_dict()
    assert list(ours.keys()) == list(sd.keys()), "state_dict key order differs from the official model"
    for k, v in sd.items():
        assert tuple(ours[k].shape) == tuple(v.shape), k


def test_window_raw_output(case):
    folder, model = case
    for stem in ("window", "window0"):
        x = torch.from_numpy(np.load(folder / f"{stem}_input.npy"))
        with torch.no_grad():
            y = model(x)
        assert_close(f"{folder.name}/{stem}_raw_output", y, np.load(folder / f"{stem}_raw_output.npy"))


@pytest.mark.parametrize("stage", [
    "mhg_in", "mhg_norm_1", "mhg_encoder_1_out", "mhg_x1", "embedding_1_out",
    "mhg_norm_2", "mhg_encoder_2_out", "mhg_x2", "embedding_2_out",
    "mhg_norm_3", "mhg_encoder_3_out", "mhg_x3", "embedding_3_out",
    "shr0_out_x1", "shr0_out_x2", "shr0_out_x3", "shr1_out_x1", "shr1_out_x2", "shr1_out_x3",
    "chi_out_x1", "chi_out_x2", "chi_out_x3", "hypothesis_out", "regression_out", "output",
])
def test_window_intermediates(case, stage):
    folder, model = case
    want = np.load(folder / "window_intermediates.npz")
    trace = {}
    with torch.no_grad():
        model(torch.from_numpy(np.load(folder / "window_input.npy")), trace=trace)
    assert stage in want.files, f"fixture has no {stage}"
    assert_close(f"{folder.name}/{stage}", trace[stage], want[stage])


def test_no_unchecked_intermediates(case):
    """Every array of window_intermediates.npz is covered by test_window_intermediates."""
    folder, _ = case
    names = set(np.load(folder / "window_intermediates.npz").files)
    checked = set(test_window_intermediates.pytestmark[0].args[1])
    assert names <= checked, f"unchecked fixture stages: {sorted(names - checked)}"


def test_demo_outputs(case):
    folder, model = case
    kp = np.load(FIXTURES / "input_h36m17_px.npy")  # (60, 17, 2) on 1280x720
    out = mh.demo_predict(model, kp, 1280, 720)
    assert_close(f"{folder.name}/demo_output_3d", out, np.load(folder / "demo_output_3d.npy"))
    assert_close(f"{folder.name}/demo_world_3d", mh.camera_to_world_demo(out),
                 np.load(folder / "demo_world_3d.npy"))


def test_demo_window_table(case):
    folder, model = case
    table = np.load(folder / "demo_window_table.npy")  # [i, first_src, last_src, left_pad, right_pad]
    idx = mh.window_indices(60, model.frames)
    pad = (model.frames - 1) // 2
    for i, first, last, left, right in table:
        expect = [first] * left + list(range(first, last + 1)) + [last] * right
        assert list(idx[i]) == expect, f"window of frame {i}"
        assert idx[i][pad] == i


def test_wide_demo(case):
    folder, model = case
    kp = np.load(FIXTURES / "input_h36m17_px_1920x1080.npy")
    assert_close(f"{folder.name}/wide_demo_output_3d", mh.demo_predict(model, kp, 1920, 1080),
                 np.load(folder / "wide_demo_output_3d.npy"))


def test_short_demo(case):
    """A 10-frame clip, shorter than the window: both sides edge-padded."""
    folder, model = case
    want = np.load(folder / "short_demo_output_3d.npy")
    kp = np.load(FIXTURES / "input_h36m17_px.npy")[: len(want)]
    out = mh.demo_predict(model, kp, 1280, 720)
    assert_close(f"{folder.name}/short_demo_output_3d", out, want)
    assert_close(f"{folder.name}/short_demo_world_3d", mh.camera_to_world_demo(out),
                 np.load(folder / "short_demo_world_3d.npy"))


def test_batched_equals_single(case):
    """Batching windows (and flip pairs) must not change the demo result beyond float noise."""
    _, model = case
    kp = np.load(FIXTURES / "input_h36m17_px.npy")[:12]
    assert_close("batch vs single", mh.demo_predict(model, kp, 1280, 720, batch=1),
                 mh.demo_predict(model, kp, 1280, 720, batch=64))
