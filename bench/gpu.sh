#!/usr/bin/env bash
# One command on a GPU machine: W1-W6 and the large transformer (W5L), every way (kerax,
# the hand-written floor, Keras 3) in the same process, absolute examples/s, MFU against
# the card's bf16 matmul peak (measured in the run), appended to bench/RESULTS.md under a
# heading naming the card (nvidia-smi).
#
#     bench/gpu.sh                 # the full run (run it from anywhere)
#     bench/gpu.sh --tiny          # a dry run (two batches, tiny transformers): checks
#                                  # that every way runs, on a CPU too; numbers mean nothing
# Extra arguments go to `python -m bench` (e.g. --repeats 5, --workload W5L).
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=jax
card=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
       2>/dev/null | head -1 || true)
card=${card:-"no NVIDIA GPU (nvidia-smi found none): $(python -c 'import jax; print(jax.devices()[0].device_kind)')"}
results=${BENCH_RESULTS:-bench/RESULTS.md}  # BENCH_RESULTS=/tmp/x.md for a dry run
{
  echo
  echo "## $(date -u +%F): GPU script (bench/gpu.sh $*) on ${card}"
  echo
  echo "Absolute examples/s on this card; MFU against the bf16 peak measured in the run."
} >> "$results"
python -m bench --workload W1,W2,W3,W4,W5,W6,W5L --peak-dtype bfloat16 \
    --results "$results" "$@"
python -m bench.memory --budget-mib 8192 --dim 1024 --length 1024 --heads 16 \
    $( [[ " $* " == *" --tiny "* ]] && echo "--budget-mib 64 --dim 64 --heads 2 --length 64 --max-blocks 4" ) \
    | tee -a "$results"
echo "Appended to $results"
