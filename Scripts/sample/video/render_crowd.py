"""Render the multi-person sample clip: 2-4 mannequins (figure.py) walking past each other in front of one fixed
camera, driven by CMU mocap walks (the paths, gait cycles and ground truth are in crowd.py; the scene in scene.py).

Run through Scripts/sample/render-crowd-video.sh, or directly with Blender:

    blender -b --factory-startup --python-exit-code 1 -P Scripts/sample/video/render_crowd.py -- \\
        --people 3 --res 640x480 --seconds 6 --name crowd3_cross --out-dir Samples --frames-dir /tmp/frames \\
        [--engine WORKBENCH|EEVEE|CYCLES] [--preview-frames 0,65,100] [--solo K --name crowd3_cross_soloK]

Writes <name>_gt_2d.csv, <name>_gt_3d_camera.csv, <name>_camera.json (crowd.py formats: a `person` column after
`frame`, one row per person per frame with the pelvis in the image, `in_image` and `occluded` at the end), renders
one PNG per frame into --frames-dir and encodes <name>.mp4 (H.264, yuv420p). The same inputs give the same pixels.
--solo K renders the same scene, camera and frames with only person K (the same walk, clothes and path), the other
mannequins left out, and writes only person K's ground-truth rows (still numbered K; see crowd.py).
"""
import argparse
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crowd  # noqa: E402
import scene  # noqa: E402

argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
ap = argparse.ArgumentParser(prog="render_crowd.py")
crowd.add_args(ap)
scene.add_render_args(ap)
ap.add_argument("--style", default="", help="figure.py style overrides for everyone, e.g. sleeves=long")
ap.add_argument("--preview-frames", default="", help="e.g. 0,65,100: render only these frames, no mp4 (quick look)")
args = ap.parse_args(argv)
crowd.check_args(ap, args)

# ---------------------------------------------------------------- people, camera, ground truth
W, H = [int(x) for x in args.res.split("x")]
Js, infos, cam = crowd.build(args.people, args.seconds, args.fps, W, H, args.mocap, args.hfov)
os.makedirs(args.out_dir, exist_ok=True)
prefix = os.path.join(args.out_dir, args.name)
style = scene.parse_style(args.style)
render_info = dict(engine=args.engine, blender=bpy.app.version_string, style=style,
                   studio_light=args.studio_light if args.engine == "WORKBENCH" else None)
numbers, extra = None, dict(render=render_info)
if args.solo:      # person K alone: its walk from the full build, the others left out of the truth and the scene
    Js, infos, numbers, solo_info = crowd.solo(Js, infos, cam, args.solo)
    extra.update(solo_info)
res = crowd.write_crowd_gt(prefix, Js, cam, infos, args.fps, extra=extra, numbers=numbers)
crowd.print_summary(res, infos, args.fps)

# ---------------------------------------------------------------- scene
workbench = args.engine == "WORKBENCH"
sc = scene.setup_render(W, H, args.fps, args.engine, args.samples, args.studio_light)
scene.add_stage(sc, cam["center"], workbench)      # floor, back wall 4.5 m behind the crossing point, sun
scene.add_camera(sc, cam, W)
meshes = []
for n, J, inf in zip(numbers or range(1, len(Js) + 1), Js, infos):
    mats = scene.figure_materials(inf["shirt_srgb"], inf["trousers_srgb"], workbench, suffix="_p%d" % n)
    meshes.append(scene.add_figure(sc, J[0], style, mats, name="person%d" % n))


def pose_frame(i):
    for me, J in zip(meshes, Js):
        scene.update_figure(me, J[i], style)


# ---------------------------------------------------------------- render, encode
frames_dir = args.frames_dir or prefix + "_frames"
T = len(Js[0])
todo = [int(x) for x in args.preview_frames.split(",") if x] or list(range(T))
scene.render_frames(sc, todo, pose_frame, frames_dir, T, verbose_all=bool(args.preview_frames))
if args.preview_frames:
    print("preview: PNGs in %s, no mp4" % frames_dir)
    sys.exit(0)
scene.encode_mp4(frames_dir, args.fps, args.crf, prefix + ".mp4")
