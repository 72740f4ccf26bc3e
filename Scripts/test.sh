#!/usr/bin/env bash
# The test command: installs what is missing (Scripts/setup.sh), builds, and runs the whole suite.
# Tests that need ../shared (reference fixtures) say so and are skipped when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
export OPENBLAS_NUM_THREADS=1      # tests run in parallel: one BLAS thread each
swift build
# Swift Testing's summary ("Test run with N tests ... passed/failed") is the last line printed.
set +e
swift test 2>&1 | grep --line-buffered -vE "^(◇|↳|✔ Test \"|✔ Test [a-zA-Z]+\(|✔ Suite)"
status=${PIPESTATUS[0]}
exit "$status"
