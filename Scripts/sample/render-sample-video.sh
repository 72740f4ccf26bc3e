#!/usr/bin/env bash
# Renders the project's own sample video with exact ground truth into Samples/:
#   cmu131_walk.mp4             640x480, 25 fps, 8 s, H.264 yuv420p: a human-like figure driven by
#                               CMU mocap trial 131_01 (validation subject), seen by a known camera
#   cmu131_walk_gt_2d.csv       the 17 joints projected into the video (pixels)
#   cmu131_walk_gt_3d_camera.csv  the 17 joints in the camera frame, root-relative, metres
#   cmu131_walk_camera.json     K, R, t, conventions, source sequence and frame indices
#
# Usage: Scripts/sample/render-sample-video.sh [render_blender.py options, which override the defaults]
#   e.g. Scripts/sample/render-sample-video.sh --seq cmu_02_05 --name cmu02_punch_video --engine EEVEE
# Needs: blender and python3-numpy from Debian (apt-get install -y blender python3-numpy), ffmpeg,
# and the CMU mocap in ../shared/data/mocap (or set MOCAP_DIR). Blender runs at nice 15 so that
# it does not starve other jobs. Frames go to a temporary folder that is deleted afterwards
# (KEEP_FRAMES=1 keeps it). The python pieces are in Scripts/sample/video/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/sample/video/blender-render.sh

render_in_blender render-sample-video Scripts/sample/video/render_blender.py \
    --seq cmu_131_01 --start 0 --seconds 8 --fps 25 --res 640x480 --engine WORKBENCH \
    --name cmu131_walk --out-dir Samples "$@"
