"""The detector's 2D error, measured on rendered training mocap, and the corruption model fitted to it.

    python3 Training/detector_error.py [--data ../shared/data/detector2d] [--out Training/detector_error.json]

Input: `../shared/data/detector2d/*.npz` (see its README): our BlazePose's 17 Human3.6M joints on mannequin
renders of training-split mocap, beside the exact projections and the 3D truth in the camera frame.

What is fitted, per joint j (all lengths in units of the person's 3D torso length L = |shoulder mid - hip mid|,
so the model transfers to any image size and distance):
  bias   b_j (3,): a fixed offset in the body's own frame (x: the body's left, y: up, z: forward), added to the
         3D joint before projection. The detector's hips, head and elbows are not where the mocap joints are
         (different joint definitions); a 3D offset in the body frame reproduces how that 2D offset changes
         with the view. Solved by linear least squares through the projection's Jacobian at the true joint.
  sigma_j: robust spread of what is left after the bias (1.4826 x median absolute residual per image axis),
         in units of the torso's projected length f*L/z_pelvis.
  outlier rate: share of residuals beyond 0.5 torso (gross errors), and their typical size.
Also: lag-1 autocorrelation of the residual in time (how smooth the error is), the left/right swap share
per limb pair with its mean run length, and a per-view table (body yaw relative to the camera).

The printed table goes into Models/README.md; the JSON is what Training/data.py's detector corruption uses.
"""
import argparse
import glob
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import body_axes  # noqa: E402  (the same body frame the training corruption uses)

JOINT_NAMES = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
               "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
               "right_shoulder", "right_elbow", "right_wrist"]
LEFT = [4, 5, 6, 11, 12, 13]
RIGHT = [1, 2, 3, 14, 15, 16]
OUTLIER_TORSO = 0.5
VIEWS = [("front", -45, 45), ("left side", 45, 135), ("back", 135, 225), ("right side", 225, 315)]


def view_yaw_deg(X):
    """Body yaw relative to the camera in degrees [0, 360): 0 = facing the camera, 90 = the body's left
    side towards the camera... X is in the OpenCV camera frame (z forward), so facing the camera
    means the body's forward axis points along -z."""
    R, _ = body_axes(X)
    fwd = R[..., :, 2]
    return np.degrees(np.arctan2(-fwd[..., 0], -fwd[..., 2])) % 360


def load(data_dir):
    """All detected frames of all clips, float64: det (N,17,2), gt2d (N,17,2), X (N,17,3), K per frame,
    clip id per frame, frame index within the clip."""
    det, gt, X, Ks, clip, t = [], [], [], [], [], []
    for ci, f in enumerate(sorted(glob.glob(os.path.join(data_dir, "c*.npz")))):
        z = np.load(f)
        p = z["det_present"]
        det.append(z["det_2d_px"][p]); gt.append(z["gt_2d_px"][p]); X.append(z["gt_cam_m"][p])
        Ks.append(np.repeat(z["K"][None], p.sum(), 0)); clip.append(np.full(p.sum(), ci)); t.append(np.nonzero(p)[0])
    cat = lambda a: np.concatenate(a).astype(np.float64)  # noqa: E731
    return cat(det), cat(gt), cat(X), cat(Ks), np.concatenate(clip), np.concatenate(t)


def unswap(det, gt):
    """Exchange left/right labels where that fits the truth better (per limb pair: arms, legs), and
    say which frames were swapped. Swaps are counted, then removed before the bias fit."""
    det = det.copy()
    swapped = {}
    for name, (l_idx, r_idx) in {"legs": ([4, 5, 6], [1, 2, 3]), "arms": ([11, 12, 13], [14, 15, 16])}.items():
        e = np.linalg.norm(det[:, l_idx] - gt[:, l_idx], axis=-1).sum(1) + \
            np.linalg.norm(det[:, r_idx] - gt[:, r_idx], axis=-1).sum(1)
        es = np.linalg.norm(det[:, r_idx] - gt[:, l_idx], axis=-1).sum(1) + \
            np.linalg.norm(det[:, l_idx] - gt[:, r_idx], axis=-1).sum(1)
        s = es < 0.7 * e   # clearly better exchanged
        det[np.ix_(s, l_idx + r_idx)] = det[np.ix_(s, r_idx + l_idx)]
        swapped[name] = s
    return det, swapped


def run_lengths(mask, clip, t):
    """Mean length of runs of True in consecutive frames of the same clip."""
    runs, cur = [], 0
    for i in range(len(mask)):
        contiguous = i > 0 and clip[i] == clip[i - 1] and t[i] == t[i - 1] + 1
        if mask[i] and (cur == 0 or contiguous):
            cur += 1
        elif mask[i]:
            runs.append(cur); cur = 1
        else:
            if cur:
                runs.append(cur)
            cur = 0
    if cur:
        runs.append(cur)
    return float(np.mean(runs)) if runs else 0.0


def fit(det, gt, X, K):
    """Per-joint 3D body-frame bias (in torso units) by linear least squares through the projection
    Jacobian; returns bias (17,3), residuals (N,17,2) in units of the projected torso, scale (N,)."""
    R, L = body_axes(X)                      # (N,3,3), (N,)
    f = K[:, 0, 0]
    z = X[..., 2]                             # (N,17)
    scale = f * L / X[:, 0, 2]                # projected torso length in px at the pelvis depth
    bias = np.zeros((17, 3))
    resid = np.zeros(det.shape)
    for j in range(17):
        x, y, zz = X[:, j, 0], X[:, j, 1], z[:, j]
        J = np.zeros((len(X), 2, 3))          # d(u,v)/dX in the camera frame
        J[:, 0, 0] = f / zz; J[:, 0, 2] = -f * x / zz ** 2
        J[:, 1, 1] = f / zz; J[:, 1, 2] = -f * y / zz ** 2
        A = np.einsum("nij,njk->nik", J, R) * L[:, None, None]     # (N,2,3): d(u,v)/d(bias in torso units)
        r = det[:, j] - gt[:, j]                                    # (N,2) px
        w = 1.0 / scale                                             # each frame in torso units
        # Robust: two passes, the second without gross errors.
        keep = np.ones(len(X), bool)
        for _ in range(2):
            Aw = (A * w[:, None, None])[keep].reshape(-1, 3)
            rw = (r * w[:, None])[keep].reshape(-1)
            b = np.linalg.lstsq(Aw, rw, rcond=None)[0]
            res = (r - A @ b) * w[:, None]
            keep = np.linalg.norm(res, axis=-1) < OUTLIER_TORSO
        # Exact residual with the bias applied in 3D and projected (not linearised).
        Xb = X[:, j] + np.einsum("nij,j->ni", R, b) * L[:, None]
        resid[:, j] = (det[:, j] - project_each(Xb, K)) / scale[:, None]
        bias[j] = b
    return bias, resid, scale


def project_each(X, K):
    """X (N,3) camera-frame points, K (N,3,3) -> (N,2) pixels."""
    return X[:, :2] / X[:, 2:3] * np.stack([K[:, 0, 0], K[:, 1, 1]], -1) + np.stack([K[:, 0, 2], K[:, 1, 2]], -1)


def lag1_autocorr(resid, clip, t):
    """Lag-1 autocorrelation of the (inlier) residual per joint, over consecutive frames of a clip."""
    ok = (clip[1:] == clip[:-1]) & (t[1:] == t[:-1] + 1)
    a, b = resid[1:][ok], resid[:-1][ok]               # (M,17,2)
    inl = (np.linalg.norm(a, axis=-1) < OUTLIER_TORSO) & (np.linalg.norm(b, axis=-1) < OUTLIER_TORSO)
    out = []
    for j in range(17):
        x, y = a[inl[:, j], j].reshape(-1), b[inl[:, j], j].reshape(-1)
        out.append(float(np.corrcoef(x, y)[0, 1]))
    return np.array(out)


def main():
    root = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(root / ".." / "shared" / "data" / "detector2d"))
    p.add_argument("--out", default=str(root / "Training" / "detector_error.json"))
    p.add_argument("--closeups", nargs="*", default=[],
                   help="folders of Training/render/render_clips.py output: report the error of joints outside the "
                        "image on their *closeup* clips (not used in the fit)")
    a = p.parse_args()

    det, gt, X, K, clip, t = load(a.data)
    det, swapped = unswap(det, gt)
    bias, resid, scale = fit(det, gt, X, K)
    rnorm = np.linalg.norm(resid, axis=-1)                                   # (N,17) torso units
    raw = np.linalg.norm(det - gt, axis=-1) / scale[:, None]
    inlier = rnorm < OUTLIER_TORSO
    sigma = np.array([1.4826 * np.median(np.abs(resid[inlier[:, j], j])) for j in range(17)])
    outlier_rate = 1 - inlier.mean(0)
    outlier_size = np.array([float(np.median(rnorm[~inlier[:, j], j])) if (~inlier[:, j]).any() else 0.0
                             for j in range(17)])
    rho = lag1_autocorr(resid, clip, t)
    yaw = view_yaw_deg(X)

    views = {}
    for name, lo, hi in VIEWS:
        m = ((yaw - lo) % 360) < (hi - lo)
        views[name] = dict(frames=int(m.sum()),
                           median_err_torso=[float(np.median(raw[m, j])) for j in range(17)],
                           median_resid_torso=[float(np.median(rnorm[m, j])) for j in range(17)],
                           outlier_rate=[float(1 - inlier[m, j].mean()) for j in range(17)])
    model = dict(
        source=os.path.relpath(a.data, root), clips=int(clip.max() + 1), detected_frames=int(len(X)),
        units="bias: 3D body frame (left, up, forward) in torso lengths; sigma/outliers: 2D, projected torso lengths",
        joint_names=JOINT_NAMES, bias=bias.round(4).tolist(), sigma=sigma.round(4).tolist(),
        outlier_threshold=OUTLIER_TORSO, outlier_rate=outlier_rate.round(5).tolist(),
        outlier_size=np.round(outlier_size, 4).tolist(), lag1_autocorr=rho.round(3).tolist(),
        lr_swap={k: dict(share=float(v.mean()), mean_run_frames=run_lengths(v, clip, t)) for k, v in swapped.items()},
        median_projected_torso_px=float(np.median(scale)), views=views)
    Path(a.out).write_text(json.dumps(model, indent=1) + "\n")

    print(f"{model['clips']} clips, {len(X)} detected frames, median projected torso {np.median(scale):.0f} px; "
          f"errors in torso lengths (shoulder mid to hip mid)")
    print("L/R swapped: " + ", ".join(f"{k} {100 * v['share']:.2f} % of frames (runs of {v['mean_run_frames']:.1f})"
                                     for k, v in model["lr_swap"].items()))
    print(f"{'joint':15s} {'median':>7s} {'bias left/up/fwd':>20s} {'after bias':>10s} {'sigma':>6s} "
          f"{'>0.5 %':>7s} {'lag1':>5s} | median by view: " + " / ".join(v[0] for v in VIEWS))
    for j, n in enumerate(JOINT_NAMES):
        b = bias[j]
        by_view = " / ".join(f"{views[v[0]]['median_err_torso'][j]:.3f}" for v in VIEWS)
        print(f"{n:15s} {np.median(raw[:, j]):7.3f} {b[0]:+6.3f} {b[1]:+6.3f} {b[2]:+6.3f} "
              f"{np.median(rnorm[:, j]):10.3f} {sigma[j]:6.3f} {100 * outlier_rate[j]:7.2f} {rho[j]:5.2f} | {by_view}")
    print("frames per view: " + ", ".join(f"{v[0]} {views[v[0]]['frames']}" for v in VIEWS))
    print(f"wrote {a.out}")
    check_corruption(a.data, a.out)
    if a.closeups:
        report_outside(a.closeups)


def report_outside(folders):
    """Error of joints whose exact projection lies outside the image (BlazePose guesses them), on close-up
    renders, in projected torso lengths, beside the error of the joints inside the image of the same frames."""
    outside_err, inside_err, clips = [], [], 0
    for folder in folders:
        for f in sorted(glob.glob(os.path.join(folder, "*closeup*.npz"))):
            z = np.load(f)
            if "det_present" not in z.files:
                continue
            p = z["det_present"]
            w, h = int(z["width"]), int(z["height"])
            g, d, X = (z[k][p].astype(np.float64) for k in ("gt_2d_px", "det_2d_px", "gt_cam_m"))
            _, L = body_axes(X)
            scale = z["K"][0, 0] * L / X[:, 0, 2]
            out = (g[..., 0] < 0) | (g[..., 0] >= w) | (g[..., 1] < 0) | (g[..., 1] >= h)
            e = np.linalg.norm(d - g, axis=-1) / scale[:, None]
            outside_err.append(e[out]); inside_err.append(e[~out]); clips += 1
    if not clips:
        print("no close-up clips found in " + ", ".join(folders))
        return
    o, i = np.concatenate(outside_err), np.concatenate(inside_err)
    print(f"close-ups ({clips} clips): joints outside the image ({len(o)}): median {np.median(o):.3f}, "
          f"p90 {np.percentile(o, 90):.3f} torso; inside ({len(i)}): median {np.median(i):.3f}, p90 {np.percentile(i, 90):.3f}")


def check_corruption(data_dir, model_path, repeats=3, seed=0):
    """The fitted corruption (data.DetectorModel) applied to the renders' exact 3D must give the same error
    distribution as the detector itself: print the percentiles of both (torso units, mean over joints)."""
    import data
    model = data.DetectorModel(model_path)
    rng = np.random.default_rng(seed)
    real, sim = [], []
    for f in sorted(glob.glob(os.path.join(data_dir, "c*.npz"))):
        z = np.load(f)
        p = z["det_present"]
        if p.sum() < 10:
            continue
        K, g = z["K"], z["gt_2d_px"].astype(np.float64)
        cam = data.Camera(np.eye(3), np.zeros(3), K[0, 0], K[0, 2], K[1, 2], int(z["width"]), int(z["height"]))
        torso = np.linalg.norm((g[:, 11] + g[:, 14]) / 2 - (g[:, 1] + g[:, 4]) / 2, axis=-1)[:, None]
        real.append((np.linalg.norm(z["det_2d_px"] - g, axis=-1) / torso)[p])
        for _ in range(repeats):
            uv = model.corrupt(rng, z["gt_cam_m"].astype(np.float64), cam, 1.0, float(z["fps"]))
            sim.append((np.linalg.norm(uv - g, axis=-1) / torso)[p])
    real, sim = np.concatenate(real), np.concatenate(sim)
    print("check: error / 2D torso, percentiles 50/90/95/99 (mean over joints): detector " +
          " / ".join(f"{np.percentile(real, q, axis=0).mean():.3f}" for q in (50, 90, 95, 99)) + ", fitted model " +
          " / ".join(f"{np.percentile(sim, q, axis=0).mean():.3f}" for q in (50, 90, 95, 99)))


if __name__ == "__main__":
    main()
