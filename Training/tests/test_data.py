"""Checks of the numpy-only data pipeline (no PyTorch, no shared data needed).

Run: python3 -m pytest -q Training/tests/test_data.py
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import data  # noqa: E402
import safetensors_np  # noqa: E402


def toy_pose(frames=5):
    """A standing skeleton (metres, Y up) walking along +Z, facing +Z."""
    base = np.array([[0, 1.0, 0], [-0.1, 1.0, 0], [-0.1, 0.55, 0], [-0.1, 0.1, 0], [0.1, 1.0, 0], [0.1, 0.55, 0],
                     [0.1, 0.1, 0], [0, 1.25, 0], [0, 1.5, 0], [0, 1.6, 0], [0, 1.75, 0], [0.18, 1.45, 0],
                     [0.2, 1.2, 0], [0.2, 0.95, 0], [-0.18, 1.45, 0], [-0.2, 1.2, 0], [-0.2, 0.95, 0]])
    return np.stack([base + [0, 0, 0.02 * t] for t in range(frames)]).astype(np.float32)


def test_camera_frame_convention():
    """A camera on +Z looking back at the person: x right, y down, z forward, person upright."""
    pos = toy_pose()
    cam = data.Camera(data.look_rotation(np.array([0.0, 0.0, -1.0])), np.array([0.0, 1.0, 5.0]), 1000.0,
                      640, 360, 1280, 720)
    p = cam.to_camera(pos)
    assert np.all(p[..., 2] > 4)  # in front of the camera
    assert p[0, 10, 1] < p[0, 0, 1] < p[0, 3, 1]  # head above pelvis above ankle (y down)
    # The person faces the camera, so their left side (x=+0.1 in the world) is on the image right.
    assert p[0, 4, 0] > p[0, 1, 0]
    uv = cam.project(p)
    np.testing.assert_allclose(uv[0, 0], [640, 360], atol=1e-6)  # pelvis at the camera's height, centred


def test_normalize_screen_divides_both_axes_by_width():
    uv = np.array([[[1920 / 2, 1080 / 2]]], dtype=np.float32)
    np.testing.assert_allclose(data.normalize_screen(uv, 1920, 1080), [[[0.0, 0.0]]], atol=1e-7)
    uv = np.array([[[0.0, 0.0]]], dtype=np.float32)
    np.testing.assert_allclose(data.normalize_screen(uv, 1920, 1080), [[[-1.0, -1080 / 1920]]], atol=1e-7)


def test_mirror_swaps_sides_and_keeps_skeleton():
    pos = toy_pose()
    m = data.mirror(pos)
    assert m[0, 4, 0] == -pos[0, 1, 0]  # new left hip = mirrored right hip
    bones = lambda q: np.linalg.norm(q[:, 1:] - q[:, data.JOINT_PARENTS[1:]], axis=-1)  # noqa: E731
    np.testing.assert_allclose(np.sort(bones(m)), np.sort(bones(pos)), atol=1e-6)


def test_scale_bones_scales_lengths():
    pos = toy_pose()
    groups = {g: 1.0 for g in set(data.BONE_GROUP.values())}
    groups["shin"] = 1.1
    out = data.scale_bones(pos, groups, 0.9)
    shin = lambda q: np.linalg.norm(q[:, 3] - q[:, 2], axis=-1)  # noqa: E731
    thigh = lambda q: np.linalg.norm(q[:, 2] - q[:, 1], axis=-1)  # noqa: E731
    np.testing.assert_allclose(shin(out), shin(pos) * 1.1 * 0.9, rtol=1e-5)
    np.testing.assert_allclose(thigh(out), thigh(pos) * 0.9, rtol=1e-5)


def test_window_edges_repeat_like_demo():
    rng = np.random.default_rng(0)
    for _ in range(50):
        times, lo, hi = data.window_times(rng, 30, 27, speed=2.0, video_fps=25.0)
        assert np.all(np.diff(times) >= 0) and times.min() >= 0 and times.max() <= 29
        assert np.all(times[:lo] == times[lo]) and np.all(times[hi + 1:] == times[hi])
        x = rng.normal(size=(27, 17, 2))
        y = data.repeat_padded(x, lo, hi)
        assert np.all(y[:lo] == x[lo]) and np.all(y[hi + 1:] == x[hi]) and np.all(y[lo:hi + 1] == x[lo:hi + 1])


def test_interpolated_dropout():
    track = np.arange(10, dtype=np.float64)[:, None].repeat(2, axis=1) ** 2
    data._interpolate_gap(track, 3, 6)
    np.testing.assert_allclose(track[3:6, 0], [4 + (36 - 4) * k / 4 for k in (1, 2, 3)])


def test_noise_scales_with_person_size():
    rng = np.random.default_rng(1)
    uv = np.stack([toy_pose(40)[..., :2] * 100 + 300])[0]
    level = data.NoiseLevel(jitter=0.01, outlier_p=0.0, dropout_p=0.0)
    small = np.abs(data.add_detector_noise(rng, uv, level) - uv).mean()
    large = np.abs(data.add_detector_noise(rng, uv * 3, level) - uv * 3).mean()
    assert 2 < large / small < 4


def test_safetensors_reader(tmp_path):
    tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a.num_batches_tracked": np.array(7, np.int64)}
    header, blob = {}, b""
    for name in sorted(tensors):
        raw = tensors[name].tobytes()
        header[name] = {"dtype": "F32" if tensors[name].dtype == np.float32 else "I64",
                        "shape": list(tensors[name].shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(h)) + h + blob)
    back = safetensors_np.load(path)
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v)


# ------------------------------------------------------------------ the fitted detector corruption
DETECTOR_MODEL = Path(__file__).resolve().parents[1] / "detector_error.json"


def facing_camera(width=1280, height=720, f=1000.0):
    """A camera on +Z, 5 m from toy_pose, looking back at it (the person faces the camera)."""
    return data.Camera(data.look_rotation(np.array([0.0, 0.0, -1.0])), np.array([0.0, 1.0, 5.0]), f,
                       width / 2, height / 2, width, height)


def test_body_axes_are_a_right_handed_rotation():
    R, torso = data.body_axes(toy_pose(3).astype(np.float64))
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (3, 3, 3)), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    np.testing.assert_allclose(R[0, :, 0], [1, 0, 0], atol=1e-9)   # toy_pose's left is +X
    np.testing.assert_allclose(R[0, :, 1], [0, 1, 0], atol=1e-9)   # up is +Y
    np.testing.assert_allclose(torso, 0.45, atol=1e-6)             # shoulder mid 1.45, hip mid 1.0


def test_detector_corruption_at_strength_zero_is_the_exact_projection():
    model = data.DetectorModel(DETECTOR_MODEL)
    cam = facing_camera()
    cam_pos = cam.to_camera(toy_pose(30).astype(np.float64))
    uv = model.corrupt(np.random.default_rng(0), cam_pos, cam, strength=0.0)
    np.testing.assert_allclose(uv, cam.project(cam_pos), atol=1e-9)


def test_detector_corruption_moves_the_hips_down_like_blazepose():
    """The fitted hips sit below the mocap hip centres (detector_error.json): on average over many draws the
    corrupted hips are lower in the image (y down) by roughly the fitted offset, and the spread is non-zero."""
    model = data.DetectorModel(DETECTOR_MODEL)
    cam = facing_camera()
    cam_pos = cam.to_camera(toy_pose(30).astype(np.float64))
    exact = cam.project(cam_pos)
    torso_px = cam.f * 0.45 / cam_pos[0, 0, 2]
    rng = np.random.default_rng(3)
    dy = np.mean([model.corrupt(rng, cam_pos, cam)[:, [1, 4], 1] - exact[:, [1, 4], 1] for _ in range(200)])
    expected = -np.mean(model.bias[[1, 4], 1]) * torso_px          # bias 'up' < 0 -> lower -> larger y
    assert expected > 0 and abs(dy - expected) < 0.3 * expected


def test_closeup_camera_cuts_the_legs_and_keeps_the_head():
    rng = np.random.default_rng(0)
    pose = toy_pose(1)[0].astype(np.float64)
    cut = 0
    for _ in range(50):
        cam = data.closeup_camera(rng, pose)
        cam_pos = cam.to_camera(pose)
        assert (cam_pos[:, 2] > 0.2).all()   # every joint in front of the camera
        uv = cam.project(cam_pos)
        inside = (uv[:, 0] >= 0) & (uv[:, 0] < cam.width) & (uv[:, 1] >= 0) & (uv[:, 1] < cam.height)
        cut += not inside.all()
    # The body is 1.1-1.6 image heights tall, except where the camera may come no closer (0.6 m from every
    # joint) and a wide portrait view still holds it all.
    assert cut >= 30


def test_detector_sampler_targets_stay_clean():
    """The corruption touches the 2D input only: targets equal the exact root-relative camera-frame pose."""
    seqs = [data.Sequence("toy", "toy", "", toy_pose(60), "cmu_asf")]
    model = data.DetectorModel(DETECTOR_MODEL)
    noisy = data.WindowSampler(seqs, 9, augment=False, noise="detector-fixed", detector=model)
    clean = data.WindowSampler(seqs, 9, augment=False, noise=None)
    for seed in range(5):   # the same seed draws the same window and camera; only the noisy one draws noise after
        xn, yn = noisy.sample_one(np.random.default_rng(seed))
        xc, yc = clean.sample_one(np.random.default_rng(seed))
        assert np.isfinite(xn).all() and xn.shape == xc.shape
        assert not np.allclose(xn, xc)
        np.testing.assert_array_equal(yn, yc)


def bent_toy_pose(frames=5):
    """toy_pose with the right knee and left elbow bent (so each limb has a bend to scale) and the right arm
    straight."""
    pos = toy_pose(frames).astype(np.float64)
    pos[:, 16] = 2 * pos[:, 15] - pos[:, 14]
    pos[:, 3] = pos[:, 2] + [0, -0.3, -0.3]      # right shin bent back 45 degrees
    pos[:, 13] = pos[:, 12] + [0, 0.0, 0.25]     # left forearm forward: a 90 degree elbow
    return pos


def limb_bend_deg(pos, chain):
    root, mid, end = chain
    u, v = pos[:, mid] - pos[:, root], pos[:, end] - pos[:, mid]
    cos = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def test_perturb_limbs_keeps_bones_and_torso_and_moves_limbs():
    pos = bent_toy_pose()
    bones = lambda q: np.linalg.norm(q[:, 1:] - q[:, data.JOINT_PARENTS[1:]], axis=-1)  # noqa: E731
    rng = np.random.default_rng(0)
    moved = 0
    for _ in range(50):
        out = data.perturb_limbs(rng, pos, limb_p=1.0)
        np.testing.assert_allclose(bones(out), bones(pos), atol=1e-9)
        np.testing.assert_array_equal(out[:, [0, 1, 4, 7, 8, 9, 10, 11, 14]], pos[:, [0, 1, 4, 7, 8, 9, 10, 11, 14]])
        for chain in data.LIMB_CHAINS:
            assert (limb_bend_deg(out, chain) <= 160.0 + 1e-6).all()
        # the same change on every frame: the toy walks without turning, so each limb moves as one
        np.testing.assert_allclose(out - out[:1] - (pos - pos[:1]), 0, atol=1e-9)
        moved += np.linalg.norm(out[0, 13] - pos[0, 13]) > 0.02
    assert moved >= 40
    # limb_p=0 changes nothing; the straight right arm stays straight (no hyperextension, no bend invented)
    np.testing.assert_array_equal(data.perturb_limbs(rng, pos, limb_p=0.0), pos)
    straight = [limb_bend_deg(data.perturb_limbs(rng, pos, limb_p=1.0), (14, 15, 16)) for _ in range(20)]
    np.testing.assert_allclose(straight, 0, atol=1e-3)


def test_perturb_limbs_scales_the_bend():
    pos = bent_toy_pose()
    rng = np.random.default_rng(1)
    bends = [limb_bend_deg(data.perturb_limbs(rng, pos, limb_p=1.0, swing_deg=(0, 0)), (11, 12, 13))[0]
             for _ in range(200)]
    assert 0.7 * 90 - 1e-6 <= min(bends) < 70 and 110 < max(bends) <= 1.3 * 90 + 1e-6


def test_drop_spikes_cuts_at_a_one_frame_glitch_and_keeps_fast_motion():
    pos = toy_pose(60)
    pos[:, 13] += np.sin(np.arange(60) / 3.0)[:, None] * 0.3   # a wrist swinging 0.3 m: not a glitch
    glitched = pos.copy()
    glitched[30, 6] += [0.0, 0.0, 0.4]                         # the left ankle 0.4 m off for one frame
    seqs = [data.Sequence("clean", "s", "", pos), data.Sequence("glitch", "s", "", glitched)]
    assert list(data.spike_frames(pos)) == []
    # The frame itself and its neighbours (each 0.2 m off the midpoint of theirs) are flagged.
    assert list(data.spike_frames(glitched)) == [29, 30, 31]
    out, dropped = data.drop_spikes(seqs)
    assert [s.name for s in out] == ["clean", "glitch#0", "glitch#1"]
    assert dropped == 5                                          # frames 28 to 32
    np.testing.assert_array_equal(out[1].pos, glitched[:28])
    np.testing.assert_array_equal(out[2].pos, glitched[33:])


def test_drop_spikes_finds_the_glitches_the_mocap_readme_lists():
    root = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mocap"
    if not (root / "index.json").exists():
        import pytest
        pytest.skip(f"{root}: the mocap data is absent")
    listed = {"cmu_60_10": 301, "cmu8_directing_traffic_train1": 380, "cmu8_walking_extra_train26": 166,
              "cmu8_walking_extra_train50": 125}   # README, "Glitches found in older files"
    seqs = [s for s in data.load_sequences(root, "train") if s.name in listed]
    assert len(seqs) == 4
    for s in seqs:
        frames = set(data.spike_frames(s.pos).tolist())
        assert frames & {listed[s.name] - 1, listed[s.name], listed[s.name] + 1}, (s.name, sorted(frames)[:20])
