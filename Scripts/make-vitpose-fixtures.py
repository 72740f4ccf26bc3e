#!/usr/bin/env python3
"""Random-weight ViTPose models and what Hugging Face transformers computes with them, for the Swift
parity tests (Sources/MHFormerKit/Pose2D/ViTPose).

    python3 Scripts/make-vitpose-fixtures.py                 the committed fixtures (Tests/Fixtures/vitpose)
    python3 Scripts/make-vitpose-fixtures.py --base DIR      a ViT-B-sized random model in DIR (speed runs)

transformers is installed into .venv-vitpose/ (pip, --system-site-packages for torch) when it is missing.
The models are our own (random weights, fixed seeds), so the fixtures can be committed.

Tests/Fixtures/vitpose/
  image.npy            (150, 200, 3) uint8 synthetic image; box.npy (4,) COCO x, y, w, h (partly outside)
  <name>/config.json, model.safetensors      VitPoseForPoseEstimation.save_pretrained()
  pixel_values.npy     (1, 3, 256, 192) VitPoseImageProcessor(image, boxes=[[box]]) (the PIL backend's class
                       in transformers 5; the torchvision one runs the same scipy code)
  <name>/heatmaps.npy       (1, 17, 64, 48)  model(pixel_values)
  <name>/heatmaps_flip.npy  (1, 17, 64, 48)  (model(x) + model(flip(x), flip_pairs)) / 2
  <name>/keypoints.npy, scores.npy, keypoints_flip.npy, scores_flip.npy   post_process_pose_estimation
Models: "simple" (simple decoder, float32), "classic" (classic decoder, float16 weights: the decoder's
fixed 256-channel deconvolutions would be 4 MB in float32), both hidden 32, 4 heads, 256x192 input.
"""
import os, subprocess, sys, json

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv-vitpose")

try:
    import transformers  # noqa: F401
except ImportError:
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        sys.exit("make-vitpose-fixtures: transformers did not install into .venv-vitpose")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", VENV])
    subprocess.check_call([py, "-m", "pip", "install", "-q", "transformers>=4.48", "safetensors", "scipy", "pillow"])
    os.execv(py, [py] + sys.argv)

import numpy as np
import torch
from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation
try:   # transformers 5: the PIL/numpy backend (same scipy warp and DARK code as the torchvision one, no torchvision needed)
    from transformers import VitPoseImageProcessorPil as VitPoseImageProcessor
except ImportError:
    from transformers import VitPoseImageProcessor

FLIP_PAIRS = torch.tensor([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]])
COCO = ["Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow",
        "L_Wrist", "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle"]


def make_model(hidden, layers, heads, simple, out_index, eps=1e-6, seed=0, randomize=True):
    torch.manual_seed(seed)
    bb = VitPoseBackboneConfig(image_size=[256, 192], patch_size=[16, 16], hidden_size=hidden,
                               num_hidden_layers=layers, num_attention_heads=heads, mlp_ratio=4,
                               layer_norm_eps=eps, out_indices=[out_index])
    cfg = VitPoseConfig(backbone_config=bb, use_simple_decoder=simple, scale_factor=4,
                        id2label=dict(enumerate(COCO)), label2id={n: i for i, n in enumerate(COCO)})
    model = VitPoseForPoseEstimation(cfg).eval()
    if randomize:
        # every tensor random (biases, norms and BatchNorm statistics included), so that the test
        # sees each one; the head is scaled so the heatmaps have clear peaks of about 0.1..1
        with torch.no_grad():
            for name, t in model.state_dict().items():
                if not t.is_floating_point():
                    continue
                if name.endswith("running_var"):
                    t.copy_(torch.rand_like(t) + 0.5)
                elif "layernorm" in name and name.endswith("weight") or "batchnorm" in name and name.endswith("weight"):
                    t.copy_(1 + 0.2 * torch.randn_like(t))
                elif name.startswith("head.conv.weight"):
                    t.copy_(torch.randn_like(t) * (3.0 / (t[0].numel() ** 0.5)))
                elif name.endswith("weight") and t.ndim >= 2:
                    t.copy_(torch.randn_like(t) / (t[0].numel() ** 0.5))
                else:
                    t.copy_(0.1 * torch.randn_like(t))
    return model


def synthetic_image():
    # smooth colour gradients, a few discs and noise; 150 rows x 200 columns
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:150, 0:200].astype(np.float64)
    img = np.stack([128 + 100 * np.sin(xx / 17), 128 + 100 * np.cos(yy / 13), 128 + 80 * np.sin((xx + yy) / 23)], -1)
    for cx, cy, r, col in [(60, 50, 20, (250, 30, 30)), (130, 90, 28, (20, 220, 40)), (100, 120, 15, (10, 10, 240))]:
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = col
    img += rng.normal(0, 12, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def run_reference(model, image, box):
    proc = VitPoseImageProcessor()
    pv = proc(images=image, boxes=[[box]], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model(pv)
        plain = out.heatmaps.clone()
        kp = proc.post_process_pose_estimation(out, boxes=[[box]])[0][0]
        flipped = model(torch.flip(pv, [3]), flip_pairs=FLIP_PAIRS)
        out.heatmaps = (plain + flipped.heatmaps) * 0.5
        kpf = proc.post_process_pose_estimation(out, boxes=[[box]])[0][0]
    return dict(pixel_values=pv.numpy(), heatmaps=plain.numpy(), heatmaps_flip=out.heatmaps.numpy(),
                keypoints=kp["keypoints"].numpy(), scores=kp["scores"].numpy(),
                keypoints_flip=kpf["keypoints"].numpy(), scores_flip=kpf["scores"].numpy())


def peak_margin(h):
    # smallest gap between a heatmap's maximum and its second value: argmax must not be a near-tie
    flat = np.sort(h.reshape(h.shape[1], -1), axis=1)
    return float((flat[:, -1] - flat[:, -2]).min()), float(flat[:, -1].min())


def fixtures():
    fix = os.path.join(REPO, "Tests", "Fixtures", "vitpose")
    os.makedirs(fix, exist_ok=True)
    image = synthetic_image()
    box = np.array([40.5, -10.25, 90.0, 140.0], dtype=np.float32)   # COCO x, y, w, h; the top leaves the image
    np.save(os.path.join(fix, "image.npy"), image)
    np.save(os.path.join(fix, "box.npy"), box)
    specs = [("simple", True, 3, torch.float32), ("classic", False, 2, torch.float16)]   # out index 2 of 3 layers
    for name, simple, out_index, dtype in specs:
        model = make_model(hidden=32, layers=3, heads=4, simple=simple, out_index=out_index, seed=1 if simple else 2)
        if dtype != torch.float32:   # the reference runs in float32 on the float16-rounded weights
            model = model.to(dtype).to(torch.float32)
        ref = run_reference(model, image, box.tolist())
        d = os.path.join(fix, name)
        model.to(dtype).save_pretrained(d)
        for k, v in ref.items():
            if k == "pixel_values":   # the same crop for every model: stored once
                np.save(os.path.join(fix, k + ".npy"), v.astype(np.float32))
            else:
                np.save(os.path.join(d, k + ".npy"), v.astype(np.float32))
        m1, lo1 = peak_margin(ref["heatmaps"]); m2, lo2 = peak_margin(ref["heatmaps_flip"])
        size = os.path.getsize(os.path.join(d, "model.safetensors"))
        print(f"{name}: model.safetensors {size / 1e6:.2f} MB, heatmap peak margin {m1:.2e} / {m2:.2e}, "
              f"smallest peak {lo1:.3f} / {lo2:.3f}")
        print("  keypoints", ref["keypoints"][:3].tolist(), "scores", ref["scores"][:3].tolist())


def base_model(out_dir):
    # ViT-B with the simple decoder, as usyd-community/vitpose-base-simple (random weights)
    model = make_model(hidden=768, layers=12, heads=12, simple=True, out_index=12, randomize=False)
    model.save_pretrained(out_dir)
    print("wrote", out_dir)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--base":
        base_model(sys.argv[2])
    elif len(sys.argv) == 1:
        fixtures()
    else:
        sys.exit(__doc__)
