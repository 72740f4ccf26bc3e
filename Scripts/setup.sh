#!/usr/bin/env bash
# Installs what mhformer needs on Debian 12 (as root, or with sudo) and builds the release binary.
#   FFmpeg's libraries (video decoding), OpenBLAS (matrix products), pkg-config, the ffmpeg CLI
#   (tests make their clips with it), three.js (libjs-three, copied into --viewer pages), numpy (the
#   checkpoint converter), BlazePose's models.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopenblas-dev pkg-config ffmpeg libjs-three; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -c "import numpy" 2>/dev/null || pip install -q numpy

# BlazePose's models (from the mediapipe wheel on PyPI). Exit 2 = registry unreachable: carry on
# (the video path then says how to get them; their tests skip themselves).
fetch=0; bash Scripts/setup/fetch-blazepose.sh || fetch=$?
if [ "$fetch" -eq 2 ]; then
    echo "setup: BlazePose models not fetched (network down): mhformer run needs them" >&2
elif [ "$fetch" -ne 0 ]; then
    echo "setup: Scripts/setup/fetch-blazepose.sh failed (exit $fetch)" >&2; exit "$fetch"
fi

swift build -c release 2>&1 | grep -E "error|warning: unre|Compiling mhformer|Build complete" >&2 || true
test -x .build/release/mhformer || { echo "setup: release build failed" >&2; exit 1; }
echo "setup: built .build/release/mhformer" >&2
