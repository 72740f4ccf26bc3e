#!/usr/bin/env bash
# Fuzzes the library's file readers with libFuzzer.
#   bash Scripts/fuzz.sh TARGET SECONDS     one target (keypoints2d-csv, safetensors, tflite, keypoint-files,
#                                           video-geometry)
#   bash Scripts/fuzz.sh all SECONDS        each target in turn, SECONDS each
#   bash Scripts/fuzz.sh TARGET FILE ...    runs the target once on each FILE (a crash input, a seed)
#
# Fuzz/*.swift (one file per target, Fuzz/Main.swift the entry point) is compiled together with the
# library's sources into one binary, instrumented for coverage and AddressSanitizer
# (swiftc -sanitize=fuzzer,address -O), kept under .build/fuzz/ until a source changes. `swift build`
# and `swift test` never see Fuzz/. Each run starts from a copy of the committed seeds,
# Fuzz/Corpus/TARGET/ (python3 Fuzz/make-corpus.py writes them); new inputs libFuzzer finds go
# to .build/fuzz/corpus/TARGET/, crashing ones to .build/fuzz/crashes/TARGET/.
# Prints each target's executions, corpus size and crashes; exits 1 when an input crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(keypoints2d-csv safetensors tflite keypoint-files video-geometry)
usage() { (IFS='|'; echo "usage: bash Scripts/fuzz.sh {${targets[*]}|all} SECONDS  or  bash Scripts/fuzz.sh TARGET FILE..." >&2); exit 2; }
[ $# -ge 2 ] || usage
target=$1; shift
if [ "$target" = all ]; then run=("${targets[@]}"); else
    [[ " ${targets[*]} " == *" $target "* ]] || usage
    run=("$target")
fi

# --- build (cached by a hash of everything that goes into the binary) ---
# Batch/ (mhformer batch) is left out: it needs swift-crypto, which a bare swiftc cannot import, and
# no file reader the targets fuzz uses it.
sources=$(find Sources/MHFormerKit Fuzz -name '*.swift' -not -path 'Sources/MHFormerKit/Batch/*' | LC_ALL=C sort)
flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -swift-version 6 -module-name MHFormerFuzz
       -I Sources/CFFmpeg -I Sources/COpenBLAS)
libs="libavformat libavcodec libswscale libavutil openblas"
for f in $(pkg-config --cflags $libs); do flags+=(-Xcc "$f"); done
key=$( (swiftc --version 2>&1; echo "${flags[*]}"; cat Sources/CFFmpeg/* Sources/COpenBLAS/* $sources) | sha256sum | cut -c1-16)
binary=.build/fuzz/mhformer-fuzz-$key
if [ ! -x "$binary" ]; then
    mkdir -p .build/fuzz
    echo "fuzz: building $binary (library + Fuzz/, ASan, about 2 minutes)" >&2
    start=$SECONDS
    # shellcheck disable=SC2086
    swiftc "${flags[@]}" $sources -o "$binary.tmp" $(pkg-config --libs $libs) 2>&1 \
        | grep -v "Cannot export local symbol" >&2 || true
    [ -x "$binary.tmp" ] || { echo "fuzz: build failed" >&2; exit 1; }
    find .build/fuzz -maxdepth 1 -name 'mhformer-fuzz-*' ! -name "mhformer-fuzz-$key.tmp" -delete
    mv "$binary.tmp" "$binary"
    echo "fuzz: built in $((SECONDS - start)) s" >&2
fi

# The Swift runtime's own crash backtracer must stay out of the way: libFuzzer reports the crash
# and saves the input. Leak checking is off: Foundation's file reading leaks a buffer on empty files.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export OPENBLAS_NUM_THREADS=1

if ! [[ $1 =~ ^[0-9]+$ ]]; then           # files to run once each
    [ "$target" != all ] || usage
    MHFORMER_FUZZ_TARGET=$target MHFORMER_FUZZ_VERBOSE=1 "$binary" -detect_leaks=0 "$@"
    exit
fi
seconds=$1
[ "$seconds" -gt 0 ] || usage               # libFuzzer reads -max_total_time=0 as "no limit"

failed=0
for t in "${run[@]}"; do
    corpus=.build/fuzz/corpus/$t crashes=.build/fuzz/crashes/$t
    rm -rf "$corpus"; mkdir -p "$corpus" "$crashes"
    cp Fuzz/Corpus/"$t"/* "$corpus"/
    seeds=$(ls "$corpus" | wc -l)
    log=.build/fuzz/$t.log
    stamp=.build/fuzz/$t.started; touch "$stamp"
    set +e
    MHFORMER_FUZZ_TARGET=$t "$binary" "$corpus" -max_total_time="$seconds" -timeout="${MHFORMER_FUZZ_TIMEOUT:-30}" -rss_limit_mb=4096 \
        -max_len=16384 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$crashes/" > "$log" 2>&1
    status=$?
    set -e
    # A timeout (exit 70) whose input then runs at once was the machine stalling (seen here: a 2 ms
    # input "timed out after 253 s" on a shared 2-core box), not a hang in a reader: said, not counted.
    found=() stalled=0
    # A slow unit (over 10 s once, libFuzzer's report) is said, not counted either.
    for f in $(find "$crashes" -type f -newer "$stamp" | LC_ALL=C sort); do
        if [[ $(basename "$f") == slow-unit-* ]]; then
            echo "fuzz $t: $f took over 10 s once (a stall, or worth a look: bash Scripts/fuzz.sh $t $f)"
        elif [[ $(basename "$f") == timeout-* ]] &&
           MHFORMER_FUZZ_TARGET=$t timeout 20 "$binary" -detect_leaks=0 "$f" > /dev/null 2>&1; then
            echo "fuzz $t: $f timed out but reruns in under 20 s: the machine stalled; not counted"
            stalled=$((stalled + 1))
        else
            found+=("$f")
        fi
    done
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    echo "fuzz $t: ${execs:-?} executions in ${seconds} s, corpus $seeds seeds -> $(ls "$corpus" | wc -l) inputs, ${#found[@]} crash(es)"
    if [ ${#found[@]} -ne 0 ] || { [ "$status" -ne 0 ] && ! { [ "$status" -eq 70 ] && [ "$stalled" -gt 0 ]; }; }; then
        failed=1
        { grep -E "ERROR|Fatal error|invariant|SUMMARY|Test unit written" "$log" || true; } | head -n 8 | sed 's/^/  /'
        echo "  full log: $log; rerun one input: bash Scripts/fuzz.sh $t ${found[0]:-$crashes/<file>}"
    fi
done
exit "$failed"
