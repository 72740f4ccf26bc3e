#!/usr/bin/env bash
# Configuration sweep (5 minutes of one CPU thread each, same seed and data), then the MLP baseline.
# Runs one torch job at a time. Results: Training/runs/sweep-*/log.txt (last "val" line).
set -eu
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
run() { name=$1; shift; python3 Training/train.py --run-dir "Training/runs/$name" --max-minutes 5.5 --val-every 100000 "$@"; }
# Step budgets = what each config does in ~5 min on one core (measured 0.19 / 0.55 / 0.43 s per step).
run sweep-T27-C128-D256 --frames 27 --channel 128 --d-hid 256 --steps 1500
run sweep-T81-C128-D256 --frames 81 --channel 128 --d-hid 256 --steps 540
run sweep-T27-C256-D512 --frames 27 --channel 256 --d-hid 512 --steps 700
# Same as the first, without Dropout / DropPath (a short budget underfits).
run sweep-T27-C128-D256-nodrop --frames 27 --channel 128 --d-hid 256 --steps 1500 --dropout off
# Baseline: Martinez-style single-frame MLP, ~8 minutes.
python3 Training/train.py --model mlp --batch 256 --steps 2800 --max-minutes 9 --val-every 700 --run-dir Training/runs/mlp
