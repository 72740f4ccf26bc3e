"""Check that MediaPipe BlazePose finds the rendered figure, and how far its joints are from the
ground truth. Not part of the tool: a one-off check run in a throwaway venv.

    python3.11 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14
    nice -n 15 /tmp/mpvenv/bin/python Scripts/sample/video/eval_mediapipe.py Samples/cmu131_walk \
        [--static] [--overlay 30,100,160 --overlay-dir /tmp]

Reads <prefix>.mp4 and <prefix>_gt_2d.csv. BlazePose runs through the legacy solution
mp.solutions.pose, model_complexity=1 ("full"), video mode with tracking and landmark smoothing
(--static: the detector runs on every frame instead).

Scored joints: the 12 joints both skeletons share: shoulders, elbows, wrists, hips, knees, ankles
(BlazePose 11-16 and 23-28 vs. Human3.6M 11-16 and 1-6). Error = pixel distance between
BlazePose's landmark (normalised x * width, y * height) and the projected mocap joint. The
two skeletons define some joints differently (BlazePose's hips sit lower than the mocap hip
joints, for one), so part of the error is a constant per-joint offset, reported as "bias" and
removed in mean_err_debiased_px. Torso size per frame = mean of the GT diagonals
|l_shoulder - r_hip| and |r_shoulder - l_hip|; PCK@a = share of (frame, joint) pairs with error
< a * torso size, over the frames with a detection. A frame counts as left/right swapped when
swapping BlazePose's left and right labels cuts its mean error below 0.6x.
"""
import argparse
import csv
import json

import cv2
import mediapipe as mp
import numpy as np

H36M = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
        "right_shoulder", "right_elbow", "right_wrist"]
# (name, BlazePose index, Human3.6M index)
PAIRS = [("l_shoulder", 11, 11), ("r_shoulder", 12, 14), ("l_elbow", 13, 12), ("r_elbow", 14, 15),
         ("l_wrist", 15, 13), ("r_wrist", 16, 16), ("l_hip", 23, 4), ("r_hip", 24, 1),
         ("l_knee", 25, 5), ("r_knee", 26, 2), ("l_ankle", 27, 6), ("r_ankle", 28, 3)]
SWAP = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]
BP_BONES = [(11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
            (23, 25), (25, 27), (24, 26), (26, 28)]
H36M_BONES = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10),
              (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)]


def read_gt_2d(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return np.array([[[float(r[j + "_x"]), float(r[j + "_y"])] for j in H36M] for r in rows])


def draw_overlay(bgr, gt, det, k, path):
    im = bgr.copy()
    pt = lambda p: tuple(int(round(v)) for v in p)  # noqa: E731
    for a, b in H36M_BONES:
        cv2.line(im, pt(gt[a]), pt(gt[b]), (0, 200, 0), 1, cv2.LINE_AA)
    for j in range(17):
        cv2.circle(im, pt(gt[j]), 3, (0, 255, 0), -1, cv2.LINE_AA)
    if det is not None:
        for a, b in BP_BONES:
            cv2.line(im, pt(det[a]), pt(det[b]), (0, 0, 255), 1, cv2.LINE_AA)
        for j in range(33):
            cv2.circle(im, pt(det[j]), 2, (255, 0, 255) if j in (11, 13, 15, 23, 25, 27) else (0, 0, 255), -1, cv2.LINE_AA)
    cv2.putText(im, "frame %d  green=GT  red=BlazePose (magenta=left)%s" % (k, "" if det is not None else "  NOT FOUND"),
                (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(path, im)


def run(prefix, complexity=1, static=False, overlay=(), overlay_dir="/tmp"):
    uv_gt = read_gt_2d(prefix + "_gt_2d.csv")
    cap = cv2.VideoCapture(prefix + ".mp4")
    pose = mp.solutions.pose.Pose(static_image_mode=static, model_complexity=complexity, smooth_landmarks=True,
                                  min_detection_confidence=0.5, min_tracking_confidence=0.5)
    dets, k = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        H, W = bgr.shape[:2]
        res = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        det = None if res.pose_landmarks is None else np.array([[l.x * W, l.y * H] for l in res.pose_landmarks.landmark])
        dets.append(det)
        if k in overlay and k < len(uv_gt):
            draw_overlay(bgr, uv_gt[k], det, k, "%s/%s_overlay_%03d.png" % (overlay_dir, prefix.split("/")[-1], k))
        k += 1
    n = min(k, len(uv_gt))
    assert k == len(uv_gt), "video has %d frames, ground truth %d" % (k, len(uv_gt))
    found = np.array([d is not None for d in dets[:n]])
    bp = [p[1] for p in PAIRS]
    hm = [p[2] for p in PAIRS]
    G = uv_gt[:n][:, hm]
    P = np.full((n, 12, 2), np.nan)
    for i in range(n):
        if dets[i] is not None:
            P[i] = dets[i][bp]
    torso = 0.5 * (np.linalg.norm(uv_gt[:n, 11] - uv_gt[:n, 1], axis=1) + np.linalg.norm(uv_gt[:n, 14] - uv_gt[:n, 4], axis=1))
    D = (P - G)[found]                       # (frames found, 12, 2)
    e = np.linalg.norm(D, axis=-1)
    rel = e / torso[found][:, None]
    bias = D.mean(0)
    e_sw = np.linalg.norm((P[:, SWAP] - G)[found], axis=-1)
    return dict(clip=prefix, frames=int(n), model_complexity=complexity, static_image_mode=static,
                mediapipe=mp.__version__, detection_rate=float(found.mean()), frames_found=int(found.sum()),
                mean_err_px=float(e.mean()), median_err_px=float(np.median(e)), p95_err_px=float(np.percentile(e, 95)),
                max_err_px=float(e.max()), pck_0_1=float((rel < 0.1).mean()), pck_0_2=float((rel < 0.2).mean()),
                mean_torso_px=float(torso.mean()),
                mean_err_debiased_px=float(np.linalg.norm(D - bias, axis=-1).mean()),
                frames_lr_swapped=float((e_sw.mean(1) < 0.6 * e.mean(1)).mean()),
                frames_mean_err_over_10px=np.flatnonzero(found)[e.mean(1) > 10].tolist(),
                per_joint={PAIRS[j][0]: dict(mean_px=round(float(e[:, j].mean()), 2), median_px=round(float(np.median(e[:, j])), 2),
                                             pck_0_1=round(float((rel[:, j] < 0.1).mean()), 3),
                                             bias_px=bias[j].round(1).tolist()) for j in range(12)})


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", help="e.g. Samples/cmu131_walk")
    ap.add_argument("--complexity", type=int, default=1)
    ap.add_argument("--static", action="store_true", help="static_image_mode: the detector on every frame")
    ap.add_argument("--overlay", default="", help="frame indices to draw, e.g. 30,100,160")
    ap.add_argument("--overlay-dir", default="/tmp")
    ap.add_argument("--json", default="", help="also write the results here")
    a = ap.parse_args()
    r = run(a.prefix, a.complexity, a.static, [int(x) for x in a.overlay.split(",") if x], a.overlay_dir)
    if a.json:
        json.dump(r, open(a.json, "w"), indent=1)
    pj = r.pop("per_joint")
    print(json.dumps(r, indent=1))
    for name, v in pj.items():
        print("  %-10s mean %5.1f px  median %5.1f px  pck@0.1 %.2f  bias %s" % (name, v["mean_px"], v["median_px"], v["pck_0_1"], v["bias_px"]))
