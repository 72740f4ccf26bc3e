#!/usr/bin/env bash
# Checks a BVH export in Blender: installs Debian's blender when missing (as root), lifts the sample
# to BVH with the given weights (default: the project's), imports it headless and prints what Blender
# reports (bones, frame range, fps, joint positions at frames 1 and 100).
#   bash Scripts/sample/check-bvh-blender.sh [WEIGHTS.safetensors]
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v blender >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq blender >/dev/null
fi
test -x .build/release/mhformer || bash Scripts/setup.sh
out=$(mktemp -d)/sample.bvh
.build/release/mhformer lift --keypoints Samples/cmu02_punch_2d.csv ${1:+--weights "$1"} -o "$out"
blender -b --factory-startup --python Scripts/sample/import_bvh.py -- "$out" 1 100 2>/dev/null | grep '^MHFORMER_BVH' | cut -c14- \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print("bones:", " ".join(d["bones"])); print("frames:", d["frame_range"], "fps:", d["fps"])'
