"""Training / evaluation data: CMU mocap (17 Human3.6M joints) seen through random virtual cameras.

Mocap (see ../shared/data/mocap/README.md): mm, world Y-up, 50 fps, global positions.
A training sample is one window of T video frames:
  input  x: (T, 17, 2) float32  2D keypoints normalised exactly as the demo does (divide by the width)
  target y: (T, 17, 3) float32  root-relative camera-frame metres, x right, y down, z forward
which is what the official MHFormer is trained on (Human3.6M camera space).

Augmentation (all drawn from a numpy Generator so runs are reproducible):
  playback speed 0.5x-2x and video rate 24-60 fps (the 50 fps data resampled by interpolation),
  bone-length scaling + global scale, left/right mirroring, random camera (placement, FOV, image size),
  and 2D input corruption (inputs only, targets stay the mocap joints), one of:
    "detector": the corruption model fitted to our BlazePose on rendered mocap (detector_error.json, made by
                detector_error.py): per-joint 3D body-frame offsets, temporally correlated spread, gross errors,
                left/right swaps; joints outside the image get a larger, slowly drifting error (BlazePose guesses
                them); close-up cameras put part of the body outside the image;
    "random":   the earlier hand-set noise (NoiseLevel), kept for evaluate.py's noisy column and old runs.
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
    source_skeleton: str = ""  # cmu_asf, cmu_expmap, cmu_daz, cmu_max (see the mocap README)


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
        out.append(Sequence(s["sequence"], s["subject"], s.get("description", ""), pos, s.get("source_skeleton", "")))
    if not out:
        raise ValueError(f"no sequences with split {split!r} in {root}")
    return out


SPIKE_MM = 150.0  # a joint this far from the midpoint of its neighbours' positions is a capture glitch


def spike_frames(pos, threshold_mm=SPIKE_MM):
    """Frames where some joint jumps away and back (a one-frame glitch): |x[t] - (x[t-1] + x[t+1]) / 2| above
    threshold_mm. At 50 fps 150 mm would need an acceleration of 750 m/s^2, far above any human limb; the mocap
    README lists such glitches in cmu_60_10, cmu8_directing_traffic_train1 and cmu8_walking_extra_train26/50,
    and this test also finds some in other old files (the exp-map walks, the salsa)."""
    if len(pos) < 3:
        return np.zeros(0, dtype=int)
    d = np.linalg.norm(pos[1:-1] - 0.5 * (pos[:-2] + pos[2:]), axis=-1).max(axis=-1)  # (N-2,) metres
    return np.flatnonzero(d * 1000.0 > threshold_mm) + 1


def drop_spikes(sequences, threshold_mm=SPIKE_MM, min_frames=10):
    """Cuts every sequence at its glitch frames (each spike frame and its two neighbours are dropped) and keeps
    the pieces of at least min_frames frames, named NAME#k. Returns (pieces, frames dropped)."""
    out, dropped = [], 0
    for s in sequences:
        bad = np.zeros(len(s.pos), dtype=bool)
        for t in spike_frames(s.pos, threshold_mm):
            bad[max(0, t - 1):t + 2] = True
        if not bad.any():
            out.append(s)
            continue
        starts = np.flatnonzero(np.diff(np.concatenate([[1], bad.astype(int)])) == -1)
        stops = np.flatnonzero(np.diff(np.concatenate([bad.astype(int), [1]])) == 1) + 1
        kept = 0
        for k, (a, b) in enumerate(zip(starts, stops)):
            if b - a >= min_frames:
                out.append(Sequence(f"{s.name}#{k}", s.subject, s.description, s.pos[a:b], s.source_skeleton))
                kept += b - a
        dropped += len(s.pos) - kept
    return out, dropped


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


# Limb chains (root, middle, end): the hips and shoulders, knees and elbows, ankles and wrists.
LIMB_CHAINS = [(1, 2, 3), (4, 5, 6), (11, 12, 13), (14, 15, 16)]


def _rotate(v, axis, angle):
    """Rodrigues: rotate vectors v (..., 3) about unit axes (..., 3) by angles (...) (radians)."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return v * c + np.cross(axis, v) * s + axis * (axis * v).sum(-1, keepdims=True) * (1 - c)


def perturb_limbs(rng, pos, limb_p=0.5, swing_deg=(25.0, 35.0), bend_scale=(0.7, 1.3), max_bend_deg=160.0):
    """Limb poses the mocap does not have (in the spirit of PoseAug, Gong et al. 2021): each limb of the
    window, with probability limb_p, is swung about its hip or shoulder by one fixed rotation in the body's
    own frame (a random axis, up to swing_deg (legs, arms)) and its knee or elbow bend (0 = straight) is
    scaled by a factor from bend_scale, at most max_bend_deg. The same change on every frame, so the motion
    stays smooth; bone lengths are unchanged; a straight limb stays straight (no hyperextension).
    Why: the validation dances (deep knee bends turned out, raised arms) are poses the 0.7 h of training
    mocap barely has, and the lifter is worst on them even with exact 2D.  pos (T, 17, 3) -> (T, 17, 3)."""
    out = pos.copy()
    body, _ = body_axes(pos)                               # (T, 3, 3) columns: left, up, forward
    for k, (root, mid, end) in enumerate(LIMB_CHAINS):
        if rng.random() >= limb_p:
            continue
        axis_body = rng.normal(size=3)
        axis_body /= np.linalg.norm(axis_body)
        swing = np.full(len(pos), np.radians(rng.uniform(-1, 1) * swing_deg[0 if k < 2 else 1]))
        axis = body @ axis_body                            # (T, 3) the same axis in each frame's body frame
        upper = _rotate(out[:, mid] - out[:, root], axis, swing)
        lower = _rotate(out[:, end] - out[:, mid], axis, swing)
        normal = np.cross(upper, lower)                    # rotating `lower` about it bends the limb more
        normal_len = np.linalg.norm(normal, axis=-1)
        bend = np.arctan2(normal_len, (upper * lower).sum(-1))
        new_bend = np.minimum(bend * rng.uniform(*bend_scale), np.radians(max_bend_deg))
        bent = _rotate(lower, normal / (normal_len[:, None] + 1e-12), new_bend - bend)
        lower = np.where(normal_len[:, None] > 1e-9, bent, lower)
        out[:, mid] = out[:, root] + upper
        out[:, end] = out[:, mid] + lower
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


def _random_lens(rng):
    """Image size and horizontal field of view (40-90 degrees) of a random camera ->
    (width, height, hfov radians, tan(hfov/2), tan(vfov/2))."""
    width, height = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    hfov = np.radians(rng.uniform(40, 90))
    tan_h = np.tan(hfov / 2)
    return width, height, hfov, tan_h, tan_h * height / width


def random_camera(rng, target, body_height=1.8, min_distance=2.5):
    """A camera around `target` (3,) (person's pelvis in the middle frame): horizontal distance
    2.5-10 m (at least far enough for the whole body to fit vertically), height 0.3-2.5 m, yaw all
    round, looking at the person with some pitch/yaw jitter so the person is not always centred.
    min_distance lets a caller keep a whole walking trajectory in front of the camera."""
    width, height, hfov, tan_h, tan_v = _random_lens(rng)
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
    return Camera(R, center, (width / 2) / tan_h, width / 2, height / 2, width, height)


def closeup_camera(rng, mid):
    """A camera so close that part of the body leaves the image (close-ups, people at the edge of the frame).
    mid (17, 3): the window's middle pose. The body's height spans 1.1-1.6 image heights, the camera aims
    somewhere between the hips and the head (so mostly the legs are cut), yaw all round, FOV 40-90 degrees,
    and it stays at least 0.6 m (horizontally) beyond the pose's horizontal extent around the pelvis, so every
    joint is in front of it (looking down, the feet may come within about 0.3 m of the image plane)."""
    width, height, hfov, tan_h, tan_v = _random_lens(rng)
    body = max(1.0, float(mid[:, 1].max() - mid[:, 1].min()) + 0.1)
    dist = max(0.6 + float(np.linalg.norm(mid[:, [0, 2]] - mid[0, [0, 2]], axis=-1).max()),
               body / rng.uniform(1.1, 1.6) / (2 * tan_v))
    yaw = rng.uniform(0, 2 * np.pi)
    aim_y = mid[0, 1] + rng.uniform(0.0, 1.0) * (mid[10, 1] - mid[0, 1])
    center = np.array([mid[0, 0] + dist * np.sin(yaw), aim_y + rng.uniform(-0.3, 0.3), mid[0, 2] + dist * np.cos(yaw)])
    look = np.array([mid[0, 0], aim_y, mid[0, 2]])
    R = look_rotation(look - center, roll=np.radians(rng.uniform(-3, 3)))
    R = _rot_y(rng.uniform(-0.2, 0.2) * hfov / 2) @ R
    return Camera(R, center, (width / 2) / tan_h, width / 2, height / 2, width, height)


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


TAIL_LOG_SD = 0.6  # chosen so the corrupted renders' error percentiles match the detector's (see Models/README.md)


class DetectorModel:
    """Our BlazePose's 2D error, fitted on rendered training mocap by detector_error.py (detector_error.json).

    corrupt(rng, cam_pos (T,17,3) camera metres, cam, strength, video_fps) -> (T,17,2) pixels:
      1. each joint moves by its fitted 3D offset in the body's own frame (left, up, forward), in torso lengths,
         times `strength`, then everything is projected (the joint-definition differences: BlazePose's hips are
         lower than the mocap hip centres, its head point sits in the face, ...);
      2. temporally correlated 2D error per joint: AR(1) with the fitted lag-1 correlation (at 25 frames/s,
         converted to the window's rate) and the fitted spread x strength, in projected torso lengths;
      3. gross errors at the fitted rate per joint (x strength), in runs of 1-5 frames;
      4. left/right swaps of the legs or the arms at the fitted share and run length (x strength);
      5. joints outside the image (close-ups): BlazePose still returns them, as guesses. They get an extra slowly
         drifting error of 0.25 torso lengths (a guess of ours, not fitted: the renders keep the body in view).
    """

    def __init__(self, path):
        m = json.loads(Path(path).read_text())
        self.bias = np.array(m["bias"], dtype=np.float64)              # (17, 3) torso lengths, body frame
        self.sigma = np.array(m["sigma"], dtype=np.float64)            # (17,) projected torso lengths
        self.rho25 = np.clip(np.array(m["lag1_autocorr"], dtype=np.float64), 0.0, 0.99)  # at 25 frames/s
        self.outlier_rate = np.array(m["outlier_rate"], dtype=np.float64)
        self.outlier_size = np.maximum(np.array(m["outlier_size"], dtype=np.float64), m["outlier_threshold"])
        self.swap = m["lr_swap"]

    def corrupt(self, rng, cam_pos, cam, strength=1.0, video_fps=25.0):
        t = len(cam_pos)
        R, L = body_axes(cam_pos)                                          # (T,3,3), (T,)
        moved = cam_pos + np.einsum("tij,kj->tki", R, self.bias) * (strength * L)[:, None, None]
        uv = cam.project(moved)
        torso_px = cam.f * L / np.maximum(cam_pos[:, 0, 2], 0.3)          # (T,) projected torso length
        rho = self.rho25 ** (25.0 / video_fps)                             # (17,)
        noise = np.empty((t, 17, 2))
        noise[0] = rng.standard_normal((17, 2))
        for i in range(1, t):
            noise[i] = rho[:, None] * noise[i - 1] + np.sqrt(1 - rho[:, None] ** 2) * rng.standard_normal((17, 2))
        # Heavy tails: the measured error is not Gaussian (p95 is 3x the median), so each joint's spread
        # is scaled per window by a log-normal factor (median 1).
        spread = self.sigma * strength * np.exp(TAIL_LOG_SD * rng.standard_normal(17))
        err = noise * spread[None, :, None]
        # Gross errors: runs of 1-5 frames, random direction, size around the fitted median.
        starts = rng.random((t, 17)) < self.outlier_rate * strength / 3.0
        for i, j in zip(*np.nonzero(starts)):
            n = int(rng.integers(1, 6))
            err[i:i + n, j] += rng.standard_normal(2) / np.sqrt(2) * self.outlier_size[j]
        # Joints outside the image: a slowly drifting guess.
        outside = (uv[..., 0] < 0) | (uv[..., 0] >= cam.width) | (uv[..., 1] < 0) | (uv[..., 1] >= cam.height)
        if outside.any():
            drift = _smooth_noise(rng, (t, 17, 2), width=9)
            err += outside[..., None] * drift * 0.25 * strength
        uv = uv + err * torso_px[:, None, None]
        # Left/right swaps (labels exchanged for a run of frames).
        for group, (left, right) in (("legs", ([4, 5, 6], [1, 2, 3])), ("arms", ([11, 12, 13], [14, 15, 16]))):
            share, run = self.swap[group]["share"] * strength, max(1.0, self.swap[group]["mean_run_frames"])
            for i in np.nonzero(rng.random(t) < share / run)[0]:
                n = int(rng.integers(1, int(2 * run) + 1))
                uv[i:i + n, left + right] = uv[i:i + n, right + left]
        return uv


def body_axes(X):
    """X (..., 17, 3) -> (R (..., 3, 3) with columns = the body's left, up, forward axes; torso length (...)).
    The same construction as detector_error.body_frame (it must match the fit)."""
    left = X[..., 4, :] - X[..., 1, :]
    left = left / (np.linalg.norm(left, axis=-1, keepdims=True) + 1e-9)
    torso_vec = (X[..., 11, :] + X[..., 14, :]) / 2 - (X[..., 1, :] + X[..., 4, :]) / 2
    torso = np.linalg.norm(torso_vec, axis=-1)
    up = torso_vec - (torso_vec * left).sum(-1, keepdims=True) * left
    up = up / (np.linalg.norm(up, axis=-1, keepdims=True) + 1e-9)
    return np.stack([left, up, np.cross(left, up)], axis=-1), torso


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

    def __init__(self, sequences, frames, augment=True, noise="random", detector=None, closeup_p=0.0,
                 daz_weight=1.0, limb_aug_p=0.0):
        """noise: "random" (training mix, see random_noise_level), "detector" (the fitted detector model
        `detector`, a DetectorModel, on 85 % of windows at a random strength; 15 % clean), "detector-fixed"
        (that model at strength 1 on every window: validation), None (exact 2D) or a fixed NoiseLevel.
        closeup_p: share of windows seen by a close-up camera (part of the body outside the image).
        daz_weight: sampling weight of the cgspeed Daz-converted sequences (bent-elbow/knee rest pose bias,
        see the mocap README) relative to the others.
        limb_aug_p: share of windows whose limbs get new poses (perturb_limbs); 0 = off, as before."""
        self.seqs = sequences
        self.frames = frames
        self.augment = augment
        self.noise = noise
        self.detector = detector
        self.closeup_p = closeup_p
        self.limb_aug_p = limb_aug_p
        if noise in ("detector", "detector-fixed") and detector is None:
            raise ValueError("noise='detector' needs a DetectorModel")
        weight = np.array([len(s.pos) * (daz_weight if s.source_skeleton == "cmu_daz" else 1.0)
                           for s in sequences], dtype=np.float64)
        self.p = weight / weight.sum()  # every mocap frame equally likely as a window centre (Daz reweighted)

    def sample(self, rng, batch):
        xs, ys = zip(*(self.sample_one(rng) for _ in range(batch)))
        return np.stack(xs), np.stack(ys)

    def sample_one(self, rng):
        seq = self.seqs[rng.choice(len(self.seqs), p=self.p)]
        speed = np.exp(rng.uniform(np.log(0.5), np.log(2.0))) if self.augment else 1.0
        fps = rng.uniform(24, 60) if self.augment else MOCAP_FPS
        times, lo, hi = window_times(rng, len(seq.pos), self.frames, speed, fps)
        pos = resample(seq.pos, times)
        if self.augment and self.limb_aug_p and rng.random() < self.limb_aug_p:
            pos = perturb_limbs(rng, pos)
        if self.augment:
            group, glob = random_bone_scales(rng)
            pos = scale_bones(pos, group, glob)
            if rng.random() < 0.5:
                pos = mirror(pos)
        mid = pos[(self.frames - 1) // 2]
        if self.closeup_p and rng.random() < self.closeup_p:
            cam = closeup_camera(rng, mid)
        else:
            cam = random_camera(rng, mid[0], body_height=_body_height(pos))
        if self.noise in ("detector", "detector-fixed"):
            strength = 1.0 if self.noise == "detector-fixed" else (0.0 if rng.random() < 0.15 else rng.uniform(0.5, 1.5))
            cam_pos = cam.to_camera(pos)
            y = (cam_pos - cam_pos[:, :1]).astype(np.float32)
            if strength == 0.0:
                return normalize_screen(cam.project(cam_pos), cam.width, cam.height), y
            uv = self.detector.corrupt(rng, cam_pos, cam, strength, video_fps=fps if self.augment else MOCAP_FPS)
            return repeat_padded(normalize_screen(uv, cam.width, cam.height), lo, hi), y
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
