#!/usr/bin/env bash
# The frame-geometry matrix (Tests/MHFormerKitTests/Video/FrameGeometryTests.swift) under
# AddressSanitizer: the library, the tests and the `mhformer` they run are built with
# `swift build --sanitize=address` into .build/asan (its own build folder, so the normal build stays
# as it is) and the matrix runs there: every frame shape, rotation, pixel format and codec through
# VideoReader, the RGB conversion and BlazePose's crops, and `mhformer run` on them.
#
#   bash Scripts/video-asan.sh           the whole matrix (build about 4 min the first time, run 2 min)
#   bash Scripts/video-asan.sh --short   CI's version: the width sweep on 19 widths, the rest whole
#
# ASan instruments Swift code only, not FFmpeg's assembly. An overrun there shows only when it
# tramples the allocator's chunk headers ("CHECK failed: asan_allocator.cpp ... kAllocBegMagic", seen
# with the RGB converter before its fix), and not when it lands in a redzone (the fuzz target missed
# it so). So the whole run also decodes the width sweep's shapes under valgrind's memcheck, which
# sees every write (before the fix: "Invalid write of size 8 ... sws_scale" on 40x18), when valgrind
# is installed (apt-get install -y valgrind). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
[ "${1:-}" = "--short" ] && mode=short
# Leak checking is off: XCTest's own runner leaks a few objects at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export SWIFT_BACKTRACE=enable=no
export OPENBLAS_NUM_THREADS=1
swift build --build-tests --sanitize=address --scratch-path .build/asan 2>&1 | grep -E "error|Build complete" >&2 || true
# "full": `mhformer run` on every clip of the sweep too.
set +e
MHFORMER_GEOMETRY=$mode swift test --skip-build --sanitize=address --scratch-path .build/asan \
    --filter "FrameGeometryTests|PortraitVideoTests" > .build/video-asan.log 2>&1
status=$?
set -e
grep -E "AddressSanitizer|✘|Test run with" .build/video-asan.log | grep -v "^◇" || true
if grep -q "AddressSanitizer" .build/video-asan.log; then
    echo "video-asan: AddressSanitizer reported a finding (.build/video-asan.log)"
    [ "$status" -ne 0 ] || status=1
fi
[ "$status" -eq 0 ] || echo "video-asan ($mode): failed, exit $status (.build/video-asan.log)"

# memcheck over the release binary (stripped: valgrind 3.19 cannot read Swift 6.3's DWARF 5) decoding
# raw yuv420p clips of every width 1-64 and the overrunning widths near 1080, 17 rows, 2 frames.
if [ "$mode" = full ] && command -v valgrind > /dev/null; then
    [ -x .build/release/mhformer ] || swift build -c release --product mhformer 2>&1 | grep -E "error" >&2 || true
    scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
    strip -o "$scratch/mhformer" .build/release/mhformer
    python3 - "$scratch" <<'PY'
import random, sys
for w in list(range(1, 65)) + [1000, 1080, 1096, 1100]:
    h, r = 17, random.Random(w)
    with open(f"{sys.argv[1]}/w{w}.y4m", "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n" % (w, h))
        for _ in range(2):
            f.write(b"FRAME\n" + bytes(r.randrange(256) for _ in range(w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2))))
PY
    bad=0
    for clip in "$scratch"/w*.y4m; do
        if ! valgrind -q --error-exitcode=9 "$scratch/mhformer" decode-video "$clip" > "$scratch/log" 2>&1 ||
           ! grep -q "decoded: 2 frames" "$scratch/log"; then
            echo "video-asan: valgrind: $(basename "$clip"):"; grep -E "Invalid|at 0x|by 0x|decoded" "$scratch/log" | head -n 5
            bad=1
        fi
    done
    echo "video-asan: valgrind memcheck on $(ls "$scratch"/w*.y4m | wc -l) widths: $([ $bad -eq 0 ] && echo clean || echo FINDINGS)"
    [ $bad -eq 0 ] || status=1
fi
exit "$status"
