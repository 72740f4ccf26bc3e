"""Check that MediaPipe BlazePose finds each mannequin of a multi-person clip (render_crowd.py), per person and
frame, on a crop around that person's ground-truth box. Not part of the tool: a one-off check in a throwaway venv
(see eval_mediapipe.py for the venv).

    nice -n 15 /tmp/mpvenv/bin/python Scripts/sample/video/eval_crowd_mediapipe.py Samples/crowd3_cross \
        [--overlay 64,101 --overlay-dir /tmp]

MediaPipe's legacy pose solution finds one person per image, so each row of <prefix>_gt_2d.csv (one person in
one frame) gets its own crop: the square around the person's 17-joint box, 1.6x its longer side, clipped to the
image, scaled to 256 px, in static-image mode (detector every time, no tracking across frames). Scored as in
eval_mediapipe.py: the 12 shared joints, pixel error in the full image, PCK@0.1 of the torso size, over the rows
with all 17 joints in the image (mean_err_occluded_px: over the occluded rows). "wrong person": the detection's mean joint error is lower against another person
in the same frame than against its own truth (the crop's detector latched onto the occluder).
"""
import argparse
import csv
import json

import cv2
import mediapipe as mp
import numpy as np

from eval_mediapipe import H36M, PAIRS


def read_rows(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        uv = np.array([[float(r[j + "_x"]), float(r[j + "_y"])] for j in H36M])
        out.append(dict(frame=int(r["frame"]), person=int(r["person"]), uv=uv, in_image=float(r["in_image"]),
                        occluded=int(r["occluded"])))
    return out


def crop_box(uv, W, H, scale=1.6):
    lo, hi = uv.min(0), uv.max(0)
    c = (lo + hi) / 2
    s = max(hi - lo) * scale
    x0, y0 = int(max(0, c[0] - s / 2)), int(max(0, c[1] - s / 2))
    x1, y1 = int(min(W, c[0] + s / 2)), int(min(H, c[1] + s / 2))
    return x0, y0, x1, y1


def run(prefix, overlay=(), overlay_dir="/tmp"):
    rows = read_rows(prefix + "_gt_2d.csv")
    by_frame = {}
    for r in rows:
        by_frame.setdefault(r["frame"], []).append(r)
    cap = cv2.VideoCapture(prefix + ".mp4")
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5)
    bp = [p[1] for p in PAIRS]
    hm = [p[2] for p in PAIRS]
    k = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        H, W = bgr.shape[:2]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        for r in by_frame.get(k, []):
            x0, y0, x1, y1 = crop_box(r["uv"], W, H)
            crop = rgb[y0:y1, x0:x1]
            sc = 256.0 / max(crop.shape[:2])
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * sc)), max(1, round(crop.shape[0] * sc))),
                              interpolation=cv2.INTER_LINEAR)
            res = pose.process(np.ascontiguousarray(crop))
            r["det"] = None
            if res.pose_landmarks is not None:
                lm = np.array([[l.x * crop.shape[1], l.y * crop.shape[0]] for l in res.pose_landmarks.landmark])
                r["det"] = lm / sc + np.array([x0, y0])
        if k in overlay:
            im = bgr.copy()
            for r in by_frame.get(k, []):
                for p in r["uv"]:
                    cv2.circle(im, tuple(int(round(v)) for v in p), 2, (0, 255, 0), -1, cv2.LINE_AA)
                if r.get("det") is not None:
                    for p in r["det"][bp]:
                        cv2.circle(im, tuple(int(round(v)) for v in p), 2, (0, 0, 255), -1, cv2.LINE_AA)
                cv2.putText(im, str(r["person"]), tuple(int(v) for v in r["uv"][10] - [0, 12]),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
            cv2.imwrite("%s/%s_mp_%03d.png" % (overlay_dir, prefix.split("/")[-1], k), im)
        k += 1
    out = {}
    for pid in sorted({r["person"] for r in rows}):
        mine = [r for r in rows if r["person"] == pid]
        full = [r for r in mine if r["in_image"] == 1.0]
        errs, pck, wrong, found_occ, n_occ, e_occ = [], [], 0, 0, 0, []
        for r in mine:
            if r["occluded"]:
                n_occ += 1
                found_occ += r["det"] is not None
            if r["det"] is None:
                continue
            e_own = np.linalg.norm(r["det"][bp] - r["uv"][hm], axis=1)
            others = [o for o in by_frame[r["frame"]] if o["person"] != pid]
            if any(np.linalg.norm(r["det"][bp] - o["uv"][hm], axis=1).mean() < e_own.mean() for o in others):
                wrong += 1
            if r["occluded"]:
                e_occ.append(e_own.mean())
            if r["in_image"] == 1.0:
                torso = 0.5 * (np.linalg.norm(r["uv"][11] - r["uv"][1]) + np.linalg.norm(r["uv"][14] - r["uv"][4]))
                errs.append(e_own)
                pck.append(e_own / torso < 0.1)
        det_full = sum(r["det"] is not None for r in full)
        out[pid] = dict(rows=len(mine), rows_all_joints_in=len(full), found_all_joints_in=int(det_full),
                        rows_occluded=n_occ, found_occluded=int(found_occ), wrong_person=int(wrong),
                        mean_err_px=round(float(np.mean(errs)), 2) if errs else None,
                        median_err_px=round(float(np.median(errs)), 2) if errs else None,
                        pck_0_1=round(float(np.mean(pck)), 3) if pck else None,
                        mean_err_occluded_px=round(float(np.mean(e_occ)), 2) if e_occ else None)
    return dict(clip=prefix, mediapipe=mp.__version__, frames=k, persons=out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix", help="e.g. Samples/crowd3_cross")
    ap.add_argument("--overlay", default="", help="frame indices to draw (green = truth, red = BlazePose)")
    ap.add_argument("--overlay-dir", default="/tmp")
    a = ap.parse_args()
    print(json.dumps(run(a.prefix, [int(x) for x in a.overlay.split(",") if x], a.overlay_dir), indent=1))
