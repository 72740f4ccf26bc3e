#!/usr/bin/env python3
"""Several mocap walkers on straight paths that cross in front of one fixed camera, and their ground truth
(numpy only; render_crowd.py imports it, and it also runs on its own to write the ground truth without a video).

    python3 Scripts/sample/video/crowd.py --people 3 --res 640x480 --seconds 6 --name crowd3_cross --out-dir /tmp/x

Each walker is one gait cycle of a CMU walking take, repeated: the cycle [a, b) (source frames at 50 fps, found
automatically as the pair of frames with the most similar pose and velocity) is played again and again, and each
repeat continues from where the previous one ended (the cycle's own root displacement is added), so the feet keep
their contacts. The sequence's own heading and root drift are removed by one rotation about the vertical axis per
walker, which turns the cycle's displacement into the wanted walking direction, and one floor-plane shift, which
puts the pelvis at a chosen point at a chosen time. Each output pose is therefore a rigid (rotation about +Y plus
translation) copy of one real mocap frame: bone lengths and the legs' motion are the mocap's own. Every 2nd mocap
frame gives 25 fps (no interpolation); the pose jump at each cycle seam is about the mismatch printed as `seam`
(mean joint distance plus mean joint-velocity difference between frames a and b, metres).

World: metres, +Y up, floor Y = 0, world origin on the floor where the paths cross. The camera (synth_gt.place_camera:
eye height 1.6 m, hfov 60 deg) stands 5 m in front of the origin at +Z, aimed at (0, 0.95, 0), so image right = +X
and a point at world Z is about 5 - Z m deep.

Outputs (<name> = --name):
  <name>_gt_2d.csv         frame,person,time_s,width,height,<joint>_x,<joint>_y,...,in_image,occluded   pixels
  <name>_gt_3d_camera.csv  frame,person,time_s,<joint>_x,<joint>_y,<joint>_z,...,in_image,occluded      metres,
                           camera frame minus that person's pelvis (as the single-person files)
  <name>_camera.json       K, R, t, conventions, and per person: sequence, cycle, source frame per video frame,
                           path, colours, pelvis position in the camera frame per frame
One row per person per frame in which that person's pelvis projects inside the image, sorted by frame then person.
in_image = fraction of the 17 joints inside the image; occluded = 1 when the 2D joint box of a person nearer to the
camera (pelvis depth) covers more than 50 % of this person's joint box. Persons are numbered 1.. in order of first
appearance (first frame with the pelvis in the image); the plan asserts that.

--solo K (1-based): person K alone, for running the single-person pipeline on one person of the clip. The walks
are built exactly as without it (all --people of them), then only person K is kept: same path, motion, clothes,
camera and frames. The files hold only person K's rows, still numbered K; they equal the full clip's rows of
person K except `occluded`, which is 0 throughout (nobody else is there). The JSON gets a `solo` entry with the
full clip's occluded frames of person K. Give it its own --name (default crowd<people>_cross_solo<K>); the full
clip's name is refused so that a solo run cannot overwrite it.
"""
import argparse
import csv
import json
import os

import numpy as np

import synth_gt

CAM_DIST_M = 5.0   # camera centre 5 m in front of the crossing point

# The people, in order of first appearance. seq: walking take; search: source-frame window for the gait cycle;
# at: (t s, x m, z m) the pelvis is above floor point (x, z) at time t; heading: walking direction in degrees in the
# floor plane, from +X (image right) towards +Z (towards the camera); shirt/trousers: sRGB.
PLAN = [
    dict(seq="cmu_02_01", search=(0, 143), at=(2.4, 0.35, 0.45), heading=22.0,
         shirt="38,105,165", trousers="48,52,70",
         note="CMU 02_01 walk (validation subject 02), ~1.2 m/s, left to right in front (~4.5 m deep)"),
    dict(seq="cmu_02_02", search=(0, 124), at=(3.3, -0.45, -0.55), heading=158.0,
         shirt="196,62,52", trousers="205,190,150",
         note="CMU 02_02 walk (validation subject 02), ~1.6 m/s, right to left behind person 1 (~5.5 m deep)"),
    dict(seq="cmu_08_04", search=(0, 199), at=(4.4, -1.55, -1.2), heading=8.0,
         shirt="240,190,60", trousers="40,40,40",
         note="CMU 08_04 slow walk (TRAINING subject 08), ~1.05 m/s, enters from the left after ~2 s (~6.6 m deep)"),
    dict(seq="cmu_131_14", search=(290, 420), at=(5.0, 3.0, -2.5), heading=195.0,
         shirt="90,160,90", trousers="60,60,120",
         note="CMU 131_14 backward 'moonwalk' (validation subject 131), ~0.65 m/s, enters from the right late, "
              "far back (~7.5 m deep); only in the 4-person benchmark variant"),
]


def _canon(X):
    """Poses root-relative in the floor plane and rotated so that the body faces +Z (for comparing frames)."""
    f = synth_gt.facing(X)
    a = np.arctan2(f[:, 0], f[:, 2])
    Y = X.copy()
    Y[:, :, [0, 2]] -= X[:, :1, [0, 2]]
    c, s = np.cos(-a)[:, None], np.sin(-a)[:, None]
    x = Y[:, :, 0] * c + Y[:, :, 2] * s
    z = -Y[:, :, 0] * s + Y[:, :, 2] * c
    Y[:, :, 0], Y[:, :, 2] = x, z
    return Y


def find_cycle(X, lo, hi, step=2, min_len=40):
    """-> (a, b, mismatch m): the source frames a < b (b - a a multiple of step, at least min_len) in [lo, hi) whose
    poses and velocities match best, so that frame b can be replaced by frame a (mean joint distance, metres)."""
    C = _canon(X)
    best = None
    for a in range(max(lo, step), hi):
        for b in range(a + min_len, hi, step):
            e = (np.linalg.norm(C[b] - C[a], axis=1).mean()
                 + np.linalg.norm((C[b] - C[b - step]) - (C[a] - C[a - step]), axis=1).mean())
            if best is None or e < best[2] - 1e-12:
                best = (a, b, float(e))
    return best


def load_seq(seq, mocap_dir):
    idx = json.load(open(os.path.join(mocap_dir, "index.json")))
    ent = next(s for s in idx["sequences"] if s["sequence"] == seq)
    X = np.load(os.path.join(mocap_dir, ent["file"]))[seq].astype(np.float64) / 1000.0   # mm -> m
    return X, ent


def rot_y(theta):
    """Rotation about +Y taking the floor direction angle(x, z) = atan2(z, x) to angle + theta."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])


def make_walker(p, n_frames, fps, mocap_dir):
    """-> (J (T,17,3) world metres, info dict) for one PLAN entry."""
    X, ent = load_seq(p["seq"], mocap_dir)
    src_fps = float(ent["fps"])
    step = int(round(src_fps / fps))
    assert abs(src_fps / fps - step) < 1e-9, "fps must divide the mocap rate (no interpolation)"
    a, b, seam = find_cycle(X, *p["search"], step=step)
    L = b - a
    cyc = X[a:b]
    low = np.minimum(cyc[:, 3, 1], cyc[:, 6, 1])
    floor_y = float(np.median(low) - synth_gt.ANKLE_HEIGHT_M)
    D = X[b, 0] - X[a, 0]
    D[1] = 0.0
    q = step * np.arange(n_frames)                 # position along the repeated cycle, in source frames
    src = a + q % L
    k = q // L
    base = np.array([X[a, 0, 0], floor_y, X[a, 0, 2]])
    J = X[src] - base + k[:, None, None] * D       # continuous walk, starting above the origin
    theta = np.radians(p["heading"]) - np.arctan2(D[2], D[0])
    J = J @ rot_y(theta).T
    t_ref, x_ref, z_ref = p["at"]
    i_ref = int(round(t_ref * fps))
    J += np.array([x_ref - J[i_ref, 0, 0], 0.0, z_ref - J[i_ref, 0, 2]])
    speed = float(np.linalg.norm(D) / (L / src_fps))
    info = dict(sequence=p["seq"], cmu_trial=ent.get("cmu_trial"), subject=ent["subject"], split=ent["split"],
                description=ent["description"], source_skeleton=ent.get("source_skeleton"), source_file=ent["file"],
                source_fps=src_fps, cycle_source_frames=[int(a), int(b)], cycle_seam_mismatch_m=round(seam, 4),
                speed_m_s=round(speed, 3), heading_deg=p["heading"], pelvis_at=dict(t_s=t_ref, x_m=x_ref, z_m=z_ref),
                rotation_about_y_rad=float(theta), floor_y_source_m=floor_y,
                source_frames=src.tolist(), cycle_repeat=k.tolist(),
                shirt_srgb=p["shirt"], trousers_srgb=p["trousers"], note=p["note"])
    return J, info


def crowd_camera(W, H, hfov=60.0, cam_h=1.6, target_h=0.95):
    pts = np.zeros((1, 17, 3))   # unused with fit=False
    return synth_gt.place_camera(pts, W, H, azimuth_deg=0.0, dist_m=CAM_DIST_M, cam_h_m=cam_h, target_h_m=target_h,
                                 hfov_deg=hfov, fit=False)


def visibility(uv, Xc, W, H):
    """uv (P,T,17,2), Xc (P,T,17,3) -> (pelvis_in (P,T) bool, in_image (P,T) fraction, occluded (P,T) bool,
    cover (P,T) the largest fraction of the joint box covered by a nearer person's joint box)."""
    inside = (uv[..., 0] >= 0) & (uv[..., 0] < W) & (uv[..., 1] >= 0) & (uv[..., 1] < H) & (Xc[..., 2] > 0)
    pelvis_in = inside[..., 0]
    in_image = inside.mean(-1)
    lo, hi = uv.min(2), uv.max(2)                  # (P,T,2) joint boxes
    area = np.prod(hi - lo, -1)
    depth = Xc[..., 0, 2]
    P, T = depth.shape
    cover = np.zeros((P, T))
    for p in range(P):
        for q in range(P):
            if q == p:
                continue
            w = np.clip(np.minimum(hi[p], hi[q]) - np.maximum(lo[p], lo[q]), 0, None)
            c = np.prod(w, -1) / np.maximum(area[p], 1e-9)
            cover[p] = np.where(depth[q] < depth[p], np.maximum(cover[p], c), cover[p])
    return pelvis_in, in_image, cover > 0.5, cover


def write_crowd_gt(prefix, Js, cam, infos, fps, extra=None, numbers=None):
    """Js: list of (T,17,3) world joints, person 1 first. numbers: the person number written for each entry of Js
    (default 1, 2, ...; solo() gives [K]). Writes the CSVs and the JSON; returns a summary dict."""
    K, R, t, W, H = cam["K"], cam["R"], cam["t"], cam["width"], cam["height"]
    numbers = numbers or list(range(1, len(Js) + 1))
    Xc, uv = synth_gt.project(np.stack(Js), K, R, t)          # (P,T,17,3), (P,T,17,2)
    assert (Xc[..., 2] > 0.5).all(), "every joint must stay in front of the camera"
    pelvis_in, in_image, occluded, cover = visibility(uv, Xc, W, H)
    P, T = pelvis_in.shape
    first = [int(np.argmax(pelvis_in[p])) if pelvis_in[p].any() else T for p in range(P)]
    assert all(first[p] < first[p + 1] for p in range(P - 1)), \
        "persons must be numbered in order of first appearance, got first frames %s" % first
    f32 = synth_gt.f32
    names = synth_gt.JOINT_NAMES
    h2 = ["frame", "person", "time_s", "width", "height"] + [f"{j}_{a}" for j in names for a in "xy"] + ["in_image", "occluded"]
    h3 = ["frame", "person", "time_s"] + [f"{j}_{a}" for j in names for a in "xyz"] + ["in_image", "occluded"]
    rel = Xc - Xc[:, :, :1]
    with open(prefix + "_gt_2d.csv", "w", newline="") as f2, open(prefix + "_gt_3d_camera.csv", "w", newline="") as f3:
        w2, w3 = csv.writer(f2, lineterminator="\n"), csv.writer(f3, lineterminator="\n")
        w2.writerow(h2)
        w3.writerow(h3)
        for i in range(T):
            for p in range(P):
                if not pelvis_in[p, i]:
                    continue
                vis = [f32(in_image[p, i]), int(occluded[p, i])]
                w2.writerow([i, numbers[p], f32(i / fps), W, H] + [f32(v) for v in uv[p, i].reshape(-1)] + vis)
                w3.writerow([i, numbers[p], f32(i / fps)] + [f32(v) for v in rel[p, i].reshape(-1)] + vis)
    summary = []
    for p in range(P):
        full = pelvis_in[p] & (in_image[p] == 1.0)
        occ = np.nonzero(occluded[p] & pelvis_in[p])[0]
        summary.append(dict(person=numbers[p], rows=int(pelvis_in[p].sum()), first_frame=first[p],
                            last_frame=int(T - 1 - np.argmax(pelvis_in[p][::-1])) if pelvis_in[p].any() else None,
                            frames_all_joints_in=int(full.sum()), frames_occluded=int(len(occ)),
                            occluded_frames=_ranges(occ)))
    conv = dict(synth_gt.CONVENTIONS)
    conv.update(world="metres, +Y up, floor Y=0, origin on the floor where the paths cross; each person is a rigid "
                      "copy (rotation about +Y, floor-plane shift) of its mocap frames",
                frames="frame i of the video = for person p, mocap frame persons[p].source_frames[i] (50 fps), "
                       "in cycle repeat persons[p].cycle_repeat[i]; time_s = i / fps",
                rows="one row per person per frame in which that person's pelvis projects inside the image",
                person="1.. in order of first appearance in the image (first frame with the pelvis inside)",
                in_image="fraction of the 17 joints that project inside the image (0 <= u < width, 0 <= v < height)",
                occluded="1 when the 2D joint box (min/max of the 17 projected joints) of a person whose pelvis is "
                         "nearer to the camera covers more than 50 % of this person's joint box",
                gt_3d_camera_csv="camera frame minus this person's pelvis (joint 0) in the same frame; add "
                                 "persons[p].pelvis_camera_m[frame] for absolute camera coordinates")
    persons = []
    for p, inf in enumerate(infos):
        d = dict(person=numbers[p], **inf)
        d["pelvis_camera_m"] = np.round(Xc[p, :, 0], 6).tolist()
        d["visibility"] = summary[p]
        persons.append(d)
    info = dict(name=os.path.basename(prefix), fps=fps, frames=int(T), people=P, width=W, height=H,
                K=K.tolist(), R=R.tolist(), t_m=t.tolist(), camera_center_m=cam["center"].tolist(),
                camera_target_m=cam["target"].tolist(), camera_height_m=cam["height_m"], hfov_deg=cam["hfov_deg"],
                conventions=conv, joint_names=names, persons=persons)
    if extra:
        info.update(extra)
    with open(prefix + "_camera.json", "w") as fh:
        json.dump(info, fh, indent=1)
        fh.write("\n")
    return dict(summary=summary, cover=cover, occluded=occluded, pelvis_in=pelvis_in, in_image=in_image, uv=uv, Xc=Xc)


def _ranges(idx):
    """[3,4,5,9] -> '3-5,9'."""
    out = []
    for i in idx:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in out)


def min_distance(Js):
    """Smallest horizontal pelvis distance between any two people over the clip (m): a crude collision check."""
    best = np.inf
    for p in range(len(Js)):
        for q in range(p + 1, len(Js)):
            d = np.linalg.norm(Js[p][:, 0, [0, 2]] - Js[q][:, 0, [0, 2]], axis=1).min()
            best = min(best, d)
    return float(best)


def build(people, seconds, fps, W, H, mocap_dir, hfov=60.0):
    n = int(round(seconds * fps))
    Js, infos = [], []
    for p in PLAN[:people]:
        J, inf = make_walker(p, n, fps, mocap_dir)
        Js.append(J)
        infos.append(inf)
    return Js, infos, crowd_camera(W, H, hfov)


def solo(Js, infos, cam, k):
    """Person k (1-based) of the clip alone. -> (Js, infos, numbers, extra) for write_crowd_gt: the same walk of
    person k (not rebuilt), number k, and a `solo` JSON entry with the full clip's occluded frames of person k."""
    P = len(Js)
    assert 1 <= k <= P, "--solo must be a person of the clip, 1..%d" % P
    Xc, uv = synth_gt.project(np.stack(Js), cam["K"], cam["R"], cam["t"])
    pelvis_in, _, occluded, _ = visibility(uv, Xc, cam["width"], cam["height"])
    first = [int(np.argmax(pelvis_in[p])) if pelvis_in[p].any() else len(pelvis_in[p]) for p in range(P)]
    assert all(first[p] < first[p + 1] for p in range(P - 1)), \
        "persons must be numbered in order of first appearance, got first frames %s" % first
    occ = np.nonzero(occluded[k - 1] & pelvis_in[k - 1])[0]
    entry = dict(person=k, of_people=P, full_clip_occluded_frames=_ranges(occ),
                 note="person %d of the %d-person clip alone: the same path, motion, clothes, camera and frames, the "
                      "other people left out; the rows equal the full clip's rows of person %d except `occluded` "
                      "(0 here; the full clip's are in full_clip_occluded_frames)" % (k, P, k))
    return [Js[k - 1]], [infos[k - 1]], [k], dict(solo=entry)


def print_summary(res, infos, fps):
    for s, inf in zip(res["summary"], infos):
        print("person %d %-10s cycle %s seam %.3f m, %.2f m/s: pelvis in image frames %d-%s (%d rows), all 17 joints "
              "in %d frames, occluded %d frames [%s]"
              % (s["person"], inf["sequence"], inf["cycle_source_frames"], inf["cycle_seam_mismatch_m"],
                 inf["speed_m_s"], s["first_frame"], s["last_frame"], s["rows"], s["frames_all_joints_in"],
                 s["frames_occluded"], s["occluded_frames"]), flush=True)


def add_args(ap):
    ap.add_argument("--people", type=int, default=3, choices=[2, 3, 4], help="4 = the benchmark variant")
    ap.add_argument("--res", default="640x480", help="e.g. 640x480 or 1280x720")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--fps", type=int, default=25, help="must divide 50")
    ap.add_argument("--hfov", type=float, default=60.0)
    ap.add_argument("--solo", type=int, default=None, metavar="K",
                    help="only person K (1-based) of the clip, the others left out (same path, motion, camera)")
    ap.add_argument("--name", default=None,
                    help="file name stem of the outputs (default crowd<people>_cross, with --solo K "
                         "crowd<people>_cross_solo<K>)")
    ap.add_argument("--out-dir", default="Samples")
    ap.add_argument("--mocap", default=synth_gt.DEFAULT_MOCAP, help="folder with index.json (env MOCAP_DIR)")


def check_args(ap, a):
    """Fills in the default --name and checks --solo (ap.error exits with a message)."""
    full = "crowd%d_cross" % a.people
    if a.solo is not None:
        if not 1 <= a.solo <= a.people:
            ap.error("--solo %d: the clip has persons 1..%d" % (a.solo, a.people))
        if a.name == full:
            ap.error("--solo would overwrite the full clip %s: give it its own --name, e.g. %s_solo%d"
                     % (full, full, a.solo))
        a.name = a.name or "%s_solo%d" % (full, a.solo)
    a.name = a.name or full


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_args(ap)
    a = ap.parse_args()
    check_args(ap, a)
    W, H = [int(x) for x in a.res.split("x")]
    Js, infos, cam = build(a.people, a.seconds, a.fps, W, H, a.mocap, a.hfov)
    os.makedirs(a.out_dir, exist_ok=True)
    Jw, iw, numbers, extra = solo(Js, infos, cam, a.solo) if a.solo else (Js, infos, None, None)
    res = write_crowd_gt(os.path.join(a.out_dir, a.name), Jw, cam, iw, a.fps, extra=extra, numbers=numbers)
    print_summary(res, iw, a.fps)
    print("closest pelvis-to-pelvis distance %.2f m" % min_distance(Js))


if __name__ == "__main__":
    main()
