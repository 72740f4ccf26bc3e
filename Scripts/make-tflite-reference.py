#!/usr/bin/env python3
"""Makes the reference fixtures of the native TFLite reader (Tests/Fixtures/blazepose/).

    python3 Scripts/make-tflite-reference.py [IMAGE]

Runs BlazePose's two models (Models/blazepose/*.tflite, from Scripts/fetch-blazepose.sh) with Google's
own runtime, ai-edge-litert from PyPI (installed into .venv-litert/ on first use), on one image:

  IMAGE (default: ../shared/docs/synthetic-video/frame.png, a synthetic render of the project's own
  mannequin, so no third-party footage ends up in the repository) is decoded to RGB with the ffmpeg CLI,
  then
  1. letterboxed into the detector's 224x224 input (zero border; the pipeline's [-1,1] range is applied
     by the test: x * 2/255 - 1),
  2. the best-scoring anchor's keypoints 0 (mid-hip) and 1 (above the head) give a rotated square ROI
     (size 2.5 x their distance), which is cut out bilinearly into the landmark model's 256x256 input
     (replicated border; range [0,1]: x / 255).
The two inputs are stored as uint8 .npy (what the pipeline produces before scaling) and every output
tensor of each model as float32 .npy, named <model>_<output name>.npy. Inputs and outputs are tiny
next to the models and fully determined by the image and the models.
"""
import os, subprocess, sys, math

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv-litert")
OUT = os.path.join(REPO, "Tests", "Fixtures", "blazepose")
MODELS = os.path.join(REPO, "Models", "blazepose")

try:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    # Not in this interpreter: run again inside a venv that has it.
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        sys.exit("make-tflite-reference: ai-edge-litert is not importable even in .venv-litert")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", "ai-edge-litert==2.3.0", "numpy"])
    os.execv(py, [py] + sys.argv)


def decode_rgb(path):
    """RGB uint8 (H, W, 3) of an image file, via the ffmpeg CLI."""
    probe = subprocess.check_output(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                     "stream=width,height", "-of", "csv=p=0", path], text=True)
    w, h = map(int, probe.strip().split(",")[:2])
    raw = subprocess.check_output(["ffmpeg", "-v", "error", "-i", path, "-frames:v", "1",
                                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def warp(img, cx, cy, w, h, rot, size, border):
    """Bilinear crop of the rotated rect (centre, size in pixels, rotation in radians) into size x size.
    Tensor pixel centre (u+0.5, v+0.5) maps to image point c + R(rot) [((u+0.5)/size - 1/2) w, ...];
    image pixel (i, j) has its centre at (j+0.5, i+0.5)."""
    H, W, _ = img.shape
    u = (np.arange(size) + 0.5) / size - 0.5
    a, b = np.meshgrid(u * w, u * h)                       # (size, size): x offset, y offset
    c, s = math.cos(rot), math.sin(rot)
    x = cx + c * a - s * b - 0.5
    y = cy + s * a + c * b - 0.5
    x0 = np.floor(x).astype(int); y0 = np.floor(y).astype(int); fx = x - x0; fy = y - y0
    src = img.astype(np.float64)

    def at(yy, xx):
        if border == "replicate":
            return src[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        inside = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        v = src[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        return v * inside[..., None]

    out = (at(y0, x0) * ((1 - fx) * (1 - fy))[..., None] + at(y0, x0 + 1) * (fx * (1 - fy))[..., None]
           + at(y0 + 1, x0) * ((1 - fx) * fy)[..., None] + at(y0 + 1, x0 + 1) * (fx * fy)[..., None])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def run(model, x):
    it = Interpreter(model_path=os.path.join(MODELS, model), num_threads=1)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x[None].astype(np.float32))
    it.invoke()
    return [(d["name"], it.get_tensor(d["index"]).astype(np.float32)) for d in it.get_output_details()]


def anchors224():
    """SSD anchor centres of the detector: strides 8, 16, 32 with 2, 2, 6 anchors per cell."""
    out = []
    for fm, n in ((28, 2), (14, 2), (7, 6)):
        for y in range(fm):
            for x in range(fm):
                out += [((x + 0.5) / fm, (y + 0.5) / fm)] * n
    return np.array(out, np.float32)


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "docs", "synthetic-video", "frame.png")
    img = decode_rgb(image)
    H, W, _ = img.shape
    os.makedirs(OUT, exist_ok=True)

    # 1. detector: letterbox the whole image into a square, 224x224, zero border
    side = max(W, H)
    det_u8 = warp(img, W / 2, H / 2, side, side, 0.0, 224, "zero")
    det = run("pose_detection.tflite", det_u8.astype(np.float32) * (2 / 255) - 1)
    np.save(os.path.join(OUT, "det_input_u8.npy"), det_u8)
    for name, v in det:
        np.save(os.path.join(OUT, f"det_{name}.npy"), v)

    # 2. ROI from the best anchor (letterbox-normalised units -> image pixels)
    boxes = dict(det)["Identity"][0]; scores = dict(det)["Identity_1"][0, :, 0]
    i = int(np.argmax(scores)); a = anchors224()[i]
    kp = boxes[i, 4:8].reshape(2, 2) / 224 + a
    px = (kp - 0.5) * side + np.array([W / 2, H / 2])
    (x0, y0), (x1, y1) = px
    size = 2 * math.hypot(x1 - x0, y1 - y0) * 1.25
    rot = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rot = rot - 2 * math.pi * math.floor((rot + math.pi) / (2 * math.pi))
    print(f"detector: best anchor {i} score {1 / (1 + math.exp(-scores[i])):.3f}, "
          f"ROI centre ({x0:.1f}, {y0:.1f}) size {size:.1f} px rotation {math.degrees(rot):.1f} deg")

    # 3. landmark model on the 256x256 crop, replicate border, [0,1]
    lm_u8 = warp(img, x0, y0, size, size, rot, 256, "replicate")
    lm = run("pose_landmark_full.tflite", lm_u8.astype(np.float32) / 255)
    np.save(os.path.join(OUT, "lm_input_u8.npy"), lm_u8)
    for name, v in lm:
        np.save(os.path.join(OUT, f"lm_{name}.npy"), v)
    print("presence", float(dict(lm)["Identity_1"].ravel()[0]))
    for f in sorted(os.listdir(OUT)):
        if f.endswith(".npy"):
            v = np.load(os.path.join(OUT, f))
            print(f"  {f:28s} {str(v.shape):20s} {v.dtype}  max|x| {float(np.abs(v.astype(np.float64)).max()):.4g}")


if __name__ == "__main__":
    main()
