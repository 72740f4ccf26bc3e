#!/usr/bin/env bash
# Renders the project's multi-person sample clip with exact per-person ground truth into Samples/:
#   crowd3_cross.mp4             640x480, 25 fps, 6 s, H.264 yuv420p: three mannequins driven by CMU mocap walks
#                                that walk past each other in front of a fixed camera (person 1 passes in front
#                                of person 2 around 2.5 s, person 2 in front of person 3 around 4 s; person 3
#                                walks in from the left at about 2.2 s)
#   crowd3_cross_gt_2d.csv       the 17 joints of each person projected into the video (pixels), with a
#                                `person` column after `frame` and `in_image`, `occluded` at the end
#   crowd3_cross_gt_3d_camera.csv  the same people in the camera frame, root-relative, metres
#   crowd3_cross_camera.json     K, R, t, conventions, per person: sequence, gait cycle, source frame per frame
#
# Usage: Scripts/sample/render-crowd-video.sh [render_crowd.py options, which override the defaults]
#   --people 2|3|4 (4 = benchmark variant), --res 640x480|1280x720, --seconds 6, --name NAME, --out-dir DIR,
#   --solo K (only person K, the other mannequins left out; needs its own --name), e.g. person 2 alone:
#   Scripts/sample/render-crowd-video.sh --solo 2 --name crowd3_cross_solo2 --out-dir /tmp/crowd-solo
#   e.g. the 4-person speed benchmark clip (not committed):
#   Scripts/sample/render-crowd-video.sh --people 4 --res 1280x720 --name crowd4_bench --out-dir /tmp/crowd-bench
# Needs: blender and python3-numpy (apt-get install -y blender python3-numpy), ffmpeg, and the CMU mocap in
# ../shared/data/mocap (or set MOCAP_DIR). Blender runs at nice 15. Frames go to a temporary folder that is
# deleted afterwards (KEEP_FRAMES=1 keeps it). The python pieces are in Scripts/sample/video/ (render_crowd.py,
# crowd.py for the paths and ground truth, scene.py for the Blender scene, figure.py for the mannequin).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Scripts/sample/video/blender-render.sh

render_in_blender render-crowd-video Scripts/sample/video/render_crowd.py \
    --people 3 --res 640x480 --seconds 6 --fps 25 --engine WORKBENCH \
    --name crowd3_cross --out-dir Samples "$@"
