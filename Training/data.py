"""Training / evaluation data: CMU mocap (17 Human3.6M joints) seen through random virtual cameras.

Mocap (see /work/shared/data/mocap/README.md): mm, world Y-up, 50 fps, global positions.
A training sample is one window of T video frames:
  input  x: (T, 17, 2) float32  2D keypoints normalised exactly as the demo does (divide by the width)
  target y: (T, 17, 3) float32  root-relative camera-frame metres, x right, y down, z forward
which is what the official MHFormer is trained on (Human3.6M camera space).

Augmentation (all drawn from a numpy Generator so runs are reproducible):
  playback speed 0.5x-2x and video rate 24-60 fps (the 50 fps data resampled by interpolation),
  bone-length scaling + global scale, left/right mirroring, random camera (placement, FOV, image size),
  detector-like 2D noise and the systematic mocap-vs-detector hip offset (inputs only).
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MOCAP_FPS = 50.0
JOINT_PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
JOINTS_LEFT = [4, 5, 6, 11, 12, 13]
JOINTS_RIGHT = [1, 2, 3, 14, 15, 16]
IMAGE_SIZES = [(1920, 1080), (1280, 720), (1080, 1920), (640, 480)]  # (width, height)

# Bone groups for length augmentation: child joint -> group (left/right share a group, so the
# body stays symmetric; asymmetry comes from the data itself).
BONE_GROUP = {1: "hip", 4: "hip", 2: "thigh", 5: "thigh", 3: "shin", 6: "shin", 7: "torso", 8: "torso",
              9: "neck", 10: "head", 11: "shoulder", 14: "shoulder", 12: "upper_arm", 15: "upper_arm",
              13: "forearm", 16: "forearm"}

# Relative 2D noise per joint (detectors are worst at wrists, ankles and the head top).
JOINT_NOISE = np.array([1.0, 1.2, 1.0, 1.2, 1.2, 1.0, 1.2, 1.0, 1.0, 0.8, 1.3, 0.9, 1.1, 1.5, 0.9, 1.1, 1.5],
                       dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
@dataclass
class Sequence:
    name: str
    subject: str
    description: str
    pos: np.ndarray  # (N, 17, 3) float32 metres, world Y-up, 50 fps


def load_sequences(root, split="train"):
    """Sequences of one split ('train', 'val', ... or 'all') from a folder with index.json + npz files."""
    root = Path(root)
    index = json.loads((root / "index.json").read_text())
    files = {}
    out = []
    for s in index["sequences"]:
        if split != "all" and s["split"] != split:
            continue
        if s["file"] not in files:
            files[s["file"]] = np.load(root / s["file"])
        pos = files[s["file"]][s["sequence"]].astype(np.float32) / 1000.0  # mm -> m
        fps = float(s.get("fps", index.get("fps", MOCAP_FPS)))
        if abs(fps - MOCAP_FPS) > 1e-6:
            pos = resample(pos, np.arange(0, len(pos) - 1 + 1e-9, fps / MOCAP_FPS))
        out.append(Sequence(s["sequence"], s["subject"], s.get("description", ""), pos))
    if not out:
        raise ValueError(f"no sequences with split {split!r} in {root}")
    return out


def resample(pos, times):
    """Linear interpolation of (N, 17, 3) at fractional frame indices times (M,) in [0, N-1]."""
    i0 = np.floor(times).astype(np.int64)
    i1 = np.minimum(i0 + 1, len(pos) - 1)
    a = (times - i0).astype(np.float32)[:, None, None]
    return pos[i0] * (1 - a) + pos[i1] * a


# --------------------------------------------------------------------------------------------
# Skeleton augmentation
# --------------------------------------------------------------------------------------------
def scale_bones(pos, group_scale, global_scale):
    """Rebuild (T, 17, 3) with every bone vector scaled by its group's factor; the root trajectory
    is scaled by global_scale (a smaller person also walks shorter steps)."""
    out = np.empty_like(pos)
    out[:, 0] = pos[:, 0] * global_scale
    for j in range(1, 17):  # parents come before children in the H36M order
        p = JOINT_PARENTS[j]
        out[:, j] = out[:, p] + (pos[:, j] - pos[:, p]) * (group_scale[BONE_GROUP[j]] * global_scale)
    return out


def random_bone_scales(rng):
    groups = sorted(set(BONE_GROUP.values()))
    return {g: float(rng.uniform(0.88, 1.12)) for g in groups}, float(rng.uniform(0.8, 1.15))


def mirror(pos):
    """Mirror the world about x=0 and swap the left/right labels: a valid, mirrored performance."""
    out = pos.copy()
    out[..., 0] *= -1
    out[:, JOINTS_LEFT + JOINTS_RIGHT] = out[:, JOINTS_RIGHT + JOINTS_LEFT]
    return out


def detector_hip_offset(pos, strength):
    """Detector (COCO) hips sit higher and wider than mocap hip-joint centres. Move the two hips
    outward (pelvis->hip vector lengthened) and up along the pelvis->spine direction."""
    out = pos.copy()
    pelvis = pos[:, 0]
    up = pos[:, 7] - pelvis
    up /= np.linalg.norm(up, axis=-1, keepdims=True) + 1e-9
    for j in (1, 4):
        out[:, j] = pelvis + (pos[:, j] - pelvis) * (1 + 0.4 * strength) + up * (0.06 * strength)
    return out


# --------------------------------------------------------------------------------------------
# Cameras
# --------------------------------------------------------------------------------------------
@dataclass
class Camera:
    R: np.ndarray       # (3, 3) world -> camera rows: right, down, forward
    center: np.ndarray  # (3,) camera position in world metres
    f: float            # focal length in pixels (square pixels)
    cx: float
    cy: float
    width: int
    height: int

    def to_camera(self, pos):
        return (pos - self.center) @ self.R.T  # (..., 3) camera frame

    def project(self, pos_cam):
        z = np.maximum(pos_cam[..., 2:3], 1e-3)
        uv = pos_cam[..., :2] / z * self.f
        return uv + np.array([self.cx, self.cy], dtype=np.float64)


def look_rotation(forward, roll=0.0):
    """Rows (right, down, forward) for a camera looking along `forward` with world up = +Y."""
    f = forward / np.linalg.norm(forward)
    r = np.cross(f, [0.0, 1.0, 0.0])
    r /= np.linalg.norm(r)
    d = np.cross(f, r)
    if roll:
        c, s = np.cos(roll), np.sin(roll)
        r, d = c * r + s * d, -s * r + c * d
    return np.stack([r, d, f])


def random_camera(rng, target, body_height=1.8, min_distance=2.5):
    """A camera around `target` (3,) (person's pelvis in the middle frame): horizontal distance
    2.5-10 m (at least far enough for the whole body to fit vertically), height 0.3-2.5 m, yaw all
    round, looking at the person with some pitch/yaw jitter so the person is not always centred.
    min_distance lets a caller keep a whole walking trajectory in front of the camera."""
    width, height = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    hfov = np.radians(rng.uniform(40, 90))
    tan_h = np.tan(hfov / 2)
    tan_v = tan_h * height / width
    d_min = 1.1 * body_height / (2 * tan_v)
    low = max(min_distance, min(d_min, 9.0))
    dist = rng.uniform(low, max(low, 10.0))
    yaw = rng.uniform(0, 2 * np.pi)
    center = np.array([target[0] + dist * np.sin(yaw), rng.uniform(0.3, 2.5), target[2] + dist * np.cos(yaw)])
    look = np.array([target[0], target[1] + rng.uniform(-0.3, 0.3), target[2]])
    R = look_rotation(look - center, roll=np.radians(rng.uniform(-3, 3)))
    # Re-aim by a fraction of the half-FOV so the person drifts off-centre.
    jitter_yaw = rng.uniform(-0.3, 0.3) * hfov / 2
    jitter_pitch = rng.uniform(-0.3, 0.3) * np.arctan(tan_v)
    R = _rot_y(jitter_yaw) @ _rot_x(jitter_pitch) @ R
    f = (width / 2) / tan_h
    return Camera(R, center, f, width / 2, height / 2, width, height)


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


# --------------------------------------------------------------------------------------------
# 2D detector noise
# --------------------------------------------------------------------------------------------
@dataclass
class NoiseLevel:
    jitter: float = 0.01       # per-joint std as a fraction of the person's size in pixels
    smooth: float = 0.5        # share of the jitter that is temporally correlated (slow drift)
    outlier_p: float = 0.005   # probability per joint and frame of a gross error
    outlier_size: float = 0.15  # outlier std as a fraction of person size
    dropout_p: float = 0.03    # probability per joint and window of a short drop-out (interpolated)
    hip_offset: float = 0.5    # strength of the detector-vs-mocap hip offset (0..1), applied in 3D


def random_noise_level(rng):
    """Training noise: a mix of clean and noisy windows, strength varying per window."""
    if rng.random() < 0.2:
        return None
    return NoiseLevel(jitter=rng.uniform(0.0, 0.02), smooth=rng.uniform(0, 1),
                      outlier_p=rng.uniform(0, 0.01), outlier_size=rng.uniform(0.05, 0.25),
                      dropout_p=rng.uniform(0, 0.08), hip_offset=rng.uniform(0, 1))


def person_size(uv):
    """Median over frames of the 2D bounding-box diagonal / sqrt(2) (pixels), uv: (T, 17, 2)."""
    ext = uv.max(axis=1) - uv.min(axis=1)
    return float(np.median(np.linalg.norm(ext, axis=-1))) / np.sqrt(2)


def add_detector_noise(rng, uv, level):
    """uv (T, 17, 2) pixels -> noisy copy: jitter (white + smooth), outliers, interpolated drop-outs."""
    t = len(uv)
    size = max(person_size(uv), 10.0)
    sigma = level.jitter * size * JOINT_NOISE[None, :, None]
    white = rng.standard_normal(uv.shape)
    slow = _smooth_noise(rng, uv.shape)
    out = uv + sigma * (np.sqrt(1 - level.smooth) * white + np.sqrt(level.smooth) * slow)
    outliers = rng.random((t, 17)) < level.outlier_p
    out[outliers] += rng.standard_normal((int(outliers.sum()), 2)) * level.outlier_size * size
    for j in np.nonzero(rng.random(17) < level.dropout_p)[0]:
        length = int(rng.integers(2, 9))
        start = int(rng.integers(0, max(1, t - length)))
        _interpolate_gap(out[:, j], start, min(t, start + length))
    return out


def _smooth_noise(rng, shape, width=7):
    """Unit-variance temporally correlated noise: white noise through a moving average."""
    t = shape[0]
    raw = rng.standard_normal((t + width - 1,) + shape[1:])
    c = np.cumsum(raw, axis=0)
    c = np.concatenate([np.zeros((1,) + shape[1:]), c])
    return (c[width:] - c[:-width]) / np.sqrt(width)


def _interpolate_gap(track, start, stop):
    """Fill track[start:stop] (frames, 2) by linear interpolation from its neighbours (held at ends)."""
    t = len(track)
    left = track[start - 1] if start > 0 else None
    right = track[stop] if stop < t else None
    if left is None and right is None:
        return
    left = right if left is None else left
    right = left if right is None else right
    a = (np.arange(start, stop) - (start - 1)) / (stop - start + 1)
    track[start:stop] = left + (right - left) * a[:, None]


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------
def normalize_screen(uv, width, height):
    """Pixels -> the demo's normalised coordinates: x/w*2-1, y/w*2-h/w (both axes divided by the
    WIDTH). Official rounding: u/w*2 in float32, the offset subtracted in double, rounded to float32."""
    x = np.asarray(uv, dtype=np.float32) / np.float32(width) * np.float32(2)
    return (x.astype(np.float64) - np.array([1.0, height / width])).astype(np.float32)


def window_times(rng, n, frames, speed, video_fps):
    """Fractional mocap frame index of each window position, plus the clip bounds [lo, hi] of
    positions that fall inside the sequence (others repeat the edge frame, like the demo)."""
    step = MOCAP_FPS * speed / video_fps  # mocap frames per video frame
    pad = (frames - 1) // 2
    centre = rng.uniform(0, n - 1)
    times = centre + (np.arange(frames) - pad) * step
    inside = np.nonzero((times >= 0) & (times <= n - 1))[0]
    lo, hi = int(inside[0]), int(inside[-1])
    times[:lo] = times[lo]
    times[hi + 1:] = times[hi]
    return times, lo, hi


def render_window(pos, cam, noise_rng=None, level=None):
    """pos (T, 17, 3) world metres -> (x (T,17,2) normalised input, y (T,17,3) root-relative camera m).

    The hip offset and the noise touch the 2D input only; the target stays the mocap skeleton."""
    cam_pos = cam.to_camera(pos)
    target = (cam_pos - cam_pos[:, :1]).astype(np.float32)
    pos_2d = pos if level is None else detector_hip_offset(pos, level.hip_offset)
    uv = cam.project(cam.to_camera(pos_2d))
    if level is not None:
        uv = add_detector_noise(noise_rng, uv, level)
    return normalize_screen(uv, cam.width, cam.height), target


class WindowSampler:
    """Draws random training windows: sample(rng, batch) -> x (B,T,17,2), y (B,T,17,3) float32."""

    def __init__(self, sequences, frames, augment=True, noise="random"):
        """noise: "random" (training mix, see random_noise_level), None (exact 2D) or a fixed NoiseLevel."""
        self.seqs = sequences
        self.frames = frames
        self.augment = augment
        self.noise = noise
        lengths = np.array([len(s.pos) for s in sequences], dtype=np.float64)
        self.p = lengths / lengths.sum()  # every mocap frame equally likely as a window centre

    def sample(self, rng, batch):
        xs, ys = zip(*(self.sample_one(rng) for _ in range(batch)))
        return np.stack(xs), np.stack(ys)

    def sample_one(self, rng):
        seq = self.seqs[rng.choice(len(self.seqs), p=self.p)]
        speed = np.exp(rng.uniform(np.log(0.5), np.log(2.0))) if self.augment else 1.0
        fps = rng.uniform(24, 60) if self.augment else MOCAP_FPS
        times, lo, hi = window_times(rng, len(seq.pos), self.frames, speed, fps)
        pos = resample(seq.pos, times)
        if self.augment:
            group, glob = random_bone_scales(rng)
            pos = scale_bones(pos, group, glob)
            if rng.random() < 0.5:
                pos = mirror(pos)
        mid = pos[(self.frames - 1) // 2, 0]
        cam = random_camera(rng, mid, body_height=_body_height(pos))
        level = random_noise_level(rng) if self.noise == "random" else self.noise
        x, y = render_window(pos, cam, rng, level)
        if level is not None:
            x = repeat_padded(x, lo, hi)
        return x, y


def repeat_padded(x, lo, hi):
    """Window positions outside [lo, hi] repeat the edge frame (edge padding), so they must carry the
    same (noisy) detection as the frame they repeat, not fresh noise."""
    x = x.copy()
    x[:lo] = x[lo]
    x[hi + 1:] = x[hi]
    return x


def _body_height(pos):
    """Rough standing height (m) of the skeleton: head top to lower ankle in the middle frame."""
    mid = pos[len(pos) // 2]
    return float(max(1.0, mid[10, 1] - min(mid[3, 1], mid[6, 1]) + 0.1))
