"""Evaluate a 2D->3D lifter on mocap sequences seen by fixed, seeded virtual cameras.

  python3 Training/evaluate.py --data ../shared/data/mocap --weights Models/mhformer-cmu-T27.safetensors
  python3 Training/evaluate.py --data DIR --weights Training/runs/mlp/final.pt     (MLP baseline checkpoint)
  python3 Training/evaluate.py --data DIR --weights mean                            (training mean pose)

DIR holds index.json + <subject>.npz as ../shared/data/mocap. Every sequence of --split is
projected through --cameras random cameras (seeded by --seed, sequence and camera number; same
placement rules as training), once exactly and once with detector-like 2D noise (data.NoiseLevel()
defaults: jitter 1% of person size, slow drift, outliers, drop-outs, hip offset 0.5). Each frame is
lifted by the official demo pipeline (window edge-padded, normalised by the width, flip TTA, middle
frame, root zeroed) at the mocap's 50 fps.

MPJPE: mean joint distance (17 joints, root-relative) in mm. P-MPJPE: after a per-frame similarity
(Procrustes) alignment. Printed per action (subject: description) and overall; the last line is
  MPJPE <clean> P-MPJPE <clean> MPJPE_noisy <noisy> P-MPJPE_noisy <noisy>
"""
import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
import mhformer as mh  # noqa: E402
import safetensors_np  # noqa: E402
import sample_io  # noqa: E402
from baselines import MeanPose, MLPLifter  # noqa: E402

torch.set_num_threads(1)


def load_model(weights, train_data):
    """MHFormer safetensors (official names), a train.py checkpoint (.pt), or 'mean'."""
    if weights == "mean":
        return MeanPose(mean_training_pose(train_data))
    if weights.endswith(".safetensors"):
        sd = {k: torch.from_numpy(v) for k, v in safetensors_np.load(weights).items()}
        for k in list(sd):  # BatchNorm counters may be dropped by a converter; they do not matter in eval
            if k.endswith(".running_var"):
                sd.setdefault(k.replace("running_var", "num_batches_tracked"), torch.tensor(0))
        return mh.build_from_state_dict(sd)
    ck = torch.load(weights, map_location="cpu", weights_only=False)
    a = ck["args"]
    if a["model"] == "mlp":
        model = MLPLifter()
    else:
        model = mh.MHFormer(frames=a["frames"], channel=a["channel"], d_hid=a["d_hid"], layers=a["layers"])
    model.load_state_dict(ck["model"])
    return model.eval()


def mean_training_pose(train_data, n=20000, seed=0):
    """Mean root-relative camera-frame pose over random training frames and cameras (17, 3)."""
    sampler = data.WindowSampler(data.load_sequences(train_data, "train"), 1, noise=None)
    _, y = sampler.sample(np.random.default_rng(seed), n)
    return y[:, 0].mean(axis=0)


def eval_camera(rng, pos):
    """A seeded camera that keeps the whole sequence in front of it (retry if a joint gets within
    0.5 m of the image plane, e.g. a long walk passing the camera)."""
    root = pos[:, 0]
    centre = np.array([np.median(root[:, 0]), np.median(root[:, 1]), np.median(root[:, 2])])
    spread = float(np.max(np.linalg.norm((root - centre)[:, [0, 2]], axis=-1)))
    height = float(np.percentile(pos[:, 10, 1] - np.minimum(pos[:, 3, 1], pos[:, 6, 1]), 90)) + 0.1
    for _ in range(50):
        cam = data.random_camera(rng, centre, body_height=max(height, 1.0), min_distance=2.5 + spread)
        if cam.to_camera(pos)[..., 2].min() > 0.5:
            return cam
    raise RuntimeError("no valid camera found")


def p_mpjpe(pred, gt):
    """Per-frame Procrustes-aligned (scale, rotation, translation) joint error, (N, J, 3) -> (N,)."""
    mu_p, mu_g = pred.mean(1, keepdims=True), gt.mean(1, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    norm_p = np.linalg.norm(p, axis=(1, 2), keepdims=True) + 1e-12
    norm_g = np.linalg.norm(g, axis=(1, 2), keepdims=True) + 1e-12
    p, g = p / norm_p, g / norm_g
    u, s, vt = np.linalg.svd(np.einsum("nji,njk->nik", g, p))  # (N, 3, 3)
    v = vt.transpose(0, 2, 1)
    r = v @ u.transpose(0, 2, 1)
    # Keep a proper rotation: flip the last singular direction where det < 0.
    sign = np.sign(np.linalg.det(r))
    v[:, :, -1] *= sign[:, None]
    s[:, -1] *= sign
    r = v @ u.transpose(0, 2, 1)
    scale = s.sum(-1)[:, None, None] * norm_g / norm_p
    aligned = scale * (p * norm_p) @ r + mu_g
    return np.linalg.norm(aligned - gt, axis=-1).mean(-1)


def mpjpe(pred, gt):
    return np.linalg.norm(pred - gt, axis=-1).mean(-1)  # (N, J, 3) -> (N,)


# Joint angles (degrees) whose bias the cgspeed Daz conversions carry (see the mocap README): elbows and knees,
# as the angle between the two bones at the joint (180 = straight).
FLEXION_JOINTS = {"elbow": [(11, 12, 13), (14, 15, 16)], "knee": [(1, 2, 3), (4, 5, 6)]}


def flexion_deg(pose, triples):
    """pose (N, 17, 3) -> (N, len(triples)) inner angle at the middle joint, degrees."""
    out = []
    for a, b, c in triples:
        u, v = pose[:, a] - pose[:, b], pose[:, c] - pose[:, b]
        cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1) + 1e-12)
        out.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.stack(out, -1)


def evaluate(model, seqs, cameras, seed):
    """-> dict group -> dict metric -> list of per-frame errors (metres), plus per source skeleton
    (group "angles <skeleton>") the predicted minus true elbow and knee angles (degrees, exact 2D)."""
    results = defaultdict(lambda: defaultdict(list))
    for si, seq in enumerate(seqs):
        for ci in range(cameras):
            rng = np.random.default_rng([seed, si, ci])
            cam = eval_camera(rng, seq.pos)
            clean, gt = sample_io.project_sequence(seq.pos, cam)  # exact 2D pixels, root-relative 3D
            noisy = data.add_detector_noise(rng, cam.project(cam.to_camera(
                data.detector_hip_offset(seq.pos, data.NoiseLevel().hip_offset))), data.NoiseLevel())
            for tag, uv in (("", clean), ("_noisy", noisy)):
                pred = mh.demo_predict(model, uv.astype(np.float32), cam.width, cam.height).astype(np.float64)
                for group in (f"{seq.subject}: {seq.description}", f"SUBJECT {seq.subject}", "ALL"):
                    results[group]["MPJPE" + tag] += list(mpjpe(pred, gt))
                    results[group]["P-MPJPE" + tag] += list(p_mpjpe(pred, gt))
                if tag == "":
                    for joint, triples in FLEXION_JOINTS.items():
                        diff = flexion_deg(pred, triples) - flexion_deg(gt.astype(np.float64), triples)
                        results[f"angles {seq.source_skeleton}"][joint] += list(diff.reshape(-1))
    return results


METRICS = ["MPJPE", "P-MPJPE", "MPJPE_noisy", "P-MPJPE_noisy"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with index.json + npz (mocap format)")
    p.add_argument("--weights", required=True, help=".safetensors (MHFormer), train.py .pt checkpoint, or 'mean'")
    p.add_argument("--split", default="val", help="split name in index.json, or 'all'")
    p.add_argument("--cameras", type=int, default=2, help="virtual cameras per sequence")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-data", default=None, help="where the mean pose comes from (default: --data)")
    args = p.parse_args()

    model = load_model(args.weights, args.train_data or args.data)
    seqs = data.load_sequences(args.data, args.split)
    res = evaluate(model, seqs, args.cameras, args.seed)
    n_frames = sum(len(s.pos) for s in seqs)
    print(f"weights {args.weights}  split {args.split}  {len(seqs)} sequences  {n_frames} frames  "
          f"x {args.cameras} cameras (seed {args.seed}), flip TTA, errors in mm")
    print(f"{'action':48s} {'frames':>7s} " + " ".join(f"{m:>13s}" for m in METRICS))
    for group in sorted(g for g in res if g.startswith("angles ")):
        r = res[group]
        print(f"{group[7:]:>10s} skeleton, exact 2D: predicted minus true angle, mean (deg; < 0 = more bent): " +
              ", ".join(f"{j} {np.mean(r[j]):+.1f}" for j in FLEXION_JOINTS))
    actions = sorted(g for g in res if g != "ALL" and not g.startswith(("angles ", "SUBJECT ")))
    for group in actions + sorted(g for g in res if g.startswith("SUBJECT ")) + ["ALL"]:
        r = res[group]
        print(f"{group[:48]:48s} {len(r['MPJPE']):7d} " + " ".join(f"{np.mean(r[m]) * 1000:13.1f}" for m in METRICS))
    a = {m: np.mean(res["ALL"][m]) * 1000 for m in METRICS}
    print(f"MPJPE {a['MPJPE']:.1f} P-MPJPE {a['P-MPJPE']:.1f} MPJPE_noisy {a['MPJPE_noisy']:.1f} "
          f"P-MPJPE_noisy {a['P-MPJPE_noisy']:.1f}")


if __name__ == "__main__":
    main()
