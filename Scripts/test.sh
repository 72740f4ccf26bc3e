#!/usr/bin/env bash
# The test command: installs what is missing (Scripts/setup.sh), builds, and runs the whole suite.
# Tests that need ../shared (reference fixtures) say so and are skipped when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
export OPENBLAS_NUM_THREADS=1      # tests run in parallel: one BLAS thread each

# Headless Chromium opens the --viewer page in a test (ViewerPageTests); the test skips without it.
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
        || echo "test: Chromium not installed: the viewer's browser test will skip" >&2
fi

# Blender (Debian's 3.4, about 30 s to install) imports the BVH and GLB exports in tests (BVHTests,
# RigExportTests); its glTF importer needs numpy. pygltflib validates the GLBs (Scripts/check-gltf.py).
# The tests skip without them.
if ! command -v blender >/dev/null 2>&1 || ! python3 -c "import numpy" 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    install_blender() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq blender python3-numpy >/dev/null 2>&1; }
    install_blender || { $SUDO apt-get update -qq >/dev/null 2>&1 && install_blender; } \
        || echo "test: Blender not installed: the Blender import tests will skip" >&2
fi
python3 -c "import pygltflib" 2>/dev/null || pip install -q pygltflib || echo "test: pygltflib not installed: the glTF validation test will skip" >&2

# The training code's tests (PyTorch model parity with the official fixtures, data pipeline).
python3 -c "import torch" 2>/dev/null || pip install -q -r Training/requirements.txt
set +e
OMP_NUM_THREADS=1 python3 -m pytest -q -p no:cacheprovider Training/tests 2>&1 | tail -n 5
py_status=${PIPESTATUS[0]}

# The Ray driver's test (Scripts/tests): a local Ray cluster (head and two worker nodes) running the
# release binary that setup.sh built. It skips itself when Ray cannot be installed.
python3 -c "import ray" 2>/dev/null || pip install -q -r Scripts/requirements-ray.txt || echo "Ray not installed: Scripts/tests will skip"
MHFORMER_BIN=.build/release/mhformer python3 -m pytest -q -p no:cacheprovider Scripts/tests 2>&1 | tail -n 5
ray_status=${PIPESTATUS[0]}
set -e

swift build
# Swift Testing's summary ("Test run with N tests ... passed/failed") is the last line printed
# (printed again after the fuzzing below).
set +e
swift test 2>&1 | grep --line-buffered -vE "^(◇|↳|✔ Test \"|✔ Test [a-zA-Z]+\(|✔ Suite)" | tee .build/swift-test.log
status=${PIPESTATUS[0]}

# The frame-geometry matrix under AddressSanitizer, short (Scripts/video-asan.sh; its own build in
# .build/asan): every frame shape, rotation, pixel format and codec through the video path.
bash Scripts/video-asan.sh --short
asan_status=$?

# The fuzz targets (Fuzz/, Scripts/fuzz.sh: the file readers and the video path), 60 s each: an
# input that crashes one fails the run. MHFORMER_FUZZ_SECONDS=0 skips them.
fuzz_seconds=${MHFORMER_FUZZ_SECONDS:-60}
fuzz_status=0
[ "$fuzz_seconds" -gt 0 ] && { bash Scripts/fuzz.sh all "$fuzz_seconds"; fuzz_status=$?; }
set -e
[ "$asan_status" -ne 0 ] && { echo "Video path under AddressSanitizer failed (Scripts/video-asan.sh exit $asan_status)"; [ "$status" -eq 0 ] && status=$asan_status; }
[ "$fuzz_status" -ne 0 ] && { echo "Fuzzing failed (Scripts/fuzz.sh exit $fuzz_status)"; [ "$status" -eq 0 ] && status=$fuzz_status; }
[ "$py_status" -ne 0 ] && { echo "Training tests failed (pytest exit $py_status)"; [ "$status" -eq 0 ] && status=$py_status; }
[ "$ray_status" -ne 0 ] && { echo "Ray driver tests failed (pytest exit $ray_status)"; [ "$status" -eq 0 ] && status=$ray_status; }
tail -n 1 .build/swift-test.log
exit "$status"
