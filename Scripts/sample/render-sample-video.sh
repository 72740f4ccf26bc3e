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

command -v blender >/dev/null || { echo "render-sample-video: blender not found (apt-get install -y blender python3-numpy)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "render-sample-video: ffmpeg not found (apt-get install -y ffmpeg)" >&2; exit 1; }
MOCAP_DIR=${MOCAP_DIR:-../shared/data/mocap}
test -f "$MOCAP_DIR/index.json" || { echo "render-sample-video: no mocap at $MOCAP_DIR (set MOCAP_DIR)" >&2; exit 1; }

frames=$(mktemp -d /tmp/sample-video-frames.XXXXXX)
[ "${KEEP_FRAMES:-0}" = 1 ] && echo "render-sample-video: frames kept in $frames" >&2 || trap 'rm -rf "$frames"' EXIT

# Blender prints a line per render ("Fra:...", "Saved:", "Time:"); keep only the script's own lines.
nice -n 15 blender -b --factory-startup --python-exit-code 1 -P Scripts/sample/video/render_blender.py -- \
    --seq cmu_131_01 --start 0 --seconds 8 --fps 25 --res 640x480 --engine WORKBENCH \
    --name cmu131_walk --out-dir Samples --mocap "$MOCAP_DIR" --frames-dir "$frames" "$@" 2>&1 \
    | sed -E '/^(Fra:| Time:|Saved:|$)/d'
