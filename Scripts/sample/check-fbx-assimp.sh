#!/usr/bin/env bash
# Converts a GLB to binary FBX with an Assimp command line (default: Debian's `assimp`, assimp-utils)
# and imports the FBX in Blender headless: prints Blender's bones, action frame range, scene fps and
# armature scale, or the importer's error. The evidence behind docs/fbx-export.md: with Debian 12's
# Assimp 5.2.5 Blender 3.4 refuses the file ("failed to read nested block sentinel").
#   bash Scripts/sample/check-fbx-assimp.sh FILE.glb [ASSIMP]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
glb="$1"; assimp="${2:-assimp}"
fbx="$(mktemp -d)/$(basename "${glb%.*}").fbx"
"$assimp" version 2>/dev/null | grep -m1 -i "version" || true
"$assimp" export "$glb" "$fbx" >/dev/null
echo "wrote $fbx ($(stat -c %s "$fbx") bytes)"
out=$(blender -b --factory-startup --python "$here/import_rig.py" -- "$fbx" 1 2>&1 || true)
if grep -q '^MHFORMER_RIG' <<<"$out"; then
    grep '^MHFORMER_RIG' <<<"$out" | cut -c14- | python3 -c 'import json,sys; d=json.load(sys.stdin)
print("blender:", d["bone_count"], "bones", d["bones"]); print("action frames", d["frame_range"], "scene fps", d["scene_fps"], "armature scale", round(d["scale"][0], 5))'
else
    grep -m1 '^Error' <<<"$out" || echo "blender: no armature and no error line"
    exit 1
fi
