#!/usr/bin/env bash
# Checks that the motion stage's planted feet survive a BVH export: runs the sample walk with
# --coords world to BVH and JSON (the JSON gives the foot contacts), imports the BVH with Blender's
# own importer headless, and prints, for each stance (a run of contact frames), how far Blender's
# ankle bone moves over it. Installs Debian's blender when missing (as root).
#   bash Scripts/sample/check-foot-lock-blender.sh [VIDEO]      exit 1 when a planted ankle moves 1 cm or more
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v blender >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq blender >/dev/null
fi
test -x .build/release/mhformer || bash Scripts/setup.sh
video=${1:-Samples/cmu131_walk.mp4}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
.build/release/mhformer run "$video" --coords world -o "$out/walk.bvh" 2>/dev/null
.build/release/mhformer run "$video" --coords world -o "$out/walk.json" 2>/dev/null
frames=$(python3 -c 'import json,sys; print(" ".join(str(i + 1) for i in range(len(json.load(open(sys.argv[1]))["frames"]))))' "$out/walk.json")
# shellcheck disable=SC2086
blender -b --factory-startup --python Scripts/sample/import_bvh.py -- "$out/walk.bvh" $frames 2>/dev/null | grep '^MHFORMER_BVH' | cut -c14- > "$out/blender.json"
python3 Scripts/sample/foot_lock_stances.py "$out/walk.json" "$out/blender.json"
