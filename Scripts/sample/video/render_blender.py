"""Render the sample video: a human-like figure (figure.py) driven by CMU mocap, seen by a known camera.

Run through Scripts/sample/render-sample-video.sh, or directly with Blender (Debian: apt-get install
blender python3-numpy; Blender's Python must be able to import numpy):

    blender -b --factory-startup --python-exit-code 1 -P Scripts/sample/video/render_blender.py -- \
        --seq cmu_131_01 --start 0 --seconds 8 --name cmu131_walk --out-dir Samples \
        --frames-dir /tmp/frames [--engine WORKBENCH|EEVEE|CYCLES] [--preview-frames 0,150]

Steps: load the clip and place the camera (synth_gt.py), write the ground truth
(<name>_gt_2d.csv, <name>_gt_3d_camera.csv, <name>_camera.json), build the scene (floor, back wall,
light, camera = the OpenCV camera of the ground truth), render one PNG per frame into --frames-dir,
then encode <name>.mp4 (H.264, yuv420p) with the ffmpeg CLI. The same inputs give the same pixels.
The Blender scene pieces are in scene.py (shared with render_crowd.py, the multi-person clip).

Engines: WORKBENCH (default; ~0.35 s/frame on 2 idle CPU cores; 'outdoor.sl' studio light, flat
material colours, the floor bricks painted into an image because Workbench cannot show procedural
textures) and EEVEE (~2.9 s/frame, sun light, soft shadows, procedural brick floor). In our tests
MediaPipe scored the two the same. Both run headless on a CPU-only machine through Mesa's
surfaceless EGL (Blender prints a few "EGL Error" lines first; they are harmless). CYCLES works too
but is slow (the Debian build has no denoiser, so it is off).
"""
import argparse
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scene  # noqa: E402
import synth_gt  # noqa: E402

argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
ap = argparse.ArgumentParser(prog="render_blender.py")
synth_gt.add_clip_args(ap)
scene.add_render_args(ap)
ap.add_argument("--style", default="", help="figure.py style overrides, e.g. face=0,hair=0,sleeves=long")
ap.add_argument("--shirt", default="38,105,165", help="sRGB 0-255")
ap.add_argument("--trousers", default="48,52,70", help="sRGB 0-255")
ap.add_argument("--preview-frames", default="", help="e.g. 0,150: render only these frames, no mp4 (quick look)")
args = ap.parse_args(argv)

# ---------------------------------------------------------------- clip, camera, ground truth
W, H = [int(x) for x in args.res.split("x")]
J, meta = synth_gt.load_clip(args.seq, args.start, args.seconds, args.fps, args.mocap)
cam = synth_gt.place_camera_from_args(J, W, H, args)
os.makedirs(args.out_dir, exist_ok=True)
prefix = os.path.join(args.out_dir, args.name)
style = scene.parse_style(args.style)
render_info = dict(engine=args.engine, blender=bpy.app.version_string, style=style,
                   studio_light=args.studio_light if args.engine == "WORKBENCH" else None,
                   shirt_srgb=args.shirt, trousers_srgb=args.trousers)
synth_gt.write_gt(prefix, J, cam, meta, args.fps, extra=dict(render=render_info))
print("camera %.2f m away, azimuth %.1f deg" % (cam["distance_m"], cam["azimuth_deg"]), flush=True)

workbench = args.engine == "WORKBENCH"
sc = scene.setup_render(W, H, args.fps, args.engine, args.samples, args.studio_light)
scene.add_stage(sc, cam["center"], workbench)      # floor, back wall, sun
scene.add_camera(sc, cam, W)
mats = scene.figure_materials(args.shirt, args.trousers, workbench)
me = scene.add_figure(sc, J[0], style, mats)

# ---------------------------------------------------------------- render, encode
frames_dir = args.frames_dir or prefix + "_frames"
todo = [int(x) for x in args.preview_frames.split(",") if x] or list(range(len(J)))
scene.render_frames(sc, todo, lambda i: scene.update_figure(me, J[i], style), frames_dir, len(J),
                    verbose_all=bool(args.preview_frames))
if args.preview_frames:
    print("preview: PNGs in %s, no mp4" % frames_dir)
    sys.exit(0)
scene.encode_mp4(frames_dir, args.fps, args.crf, prefix + ".mp4")
