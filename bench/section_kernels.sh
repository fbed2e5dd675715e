#!/usr/bin/env bash
# Kernel table for `make bench` (bench/run.sh): memory bandwidth, decode
# weight GB/s at 1 and 2 threads, prompt-processing GFLOP/s; then
# llama.cpp's prompt rate on a synthetic Qwen2.5-0.5B of the same types,
# for the pp512 comparison (see docs/perf.md, "## Kernels").
set -euo pipefail
"$XUAN_BUILD/bench_kernels" ${XUAN_BENCH_KERNELS_ARGS:-}
bench="$XUAN_PEER_DIR/llama.cpp/build/bin/llama-bench"
gen="$XUAN_PEER_DIR/gen_gguf.py"
if [ -x "$bench" ] && [ -f "$gen" ]; then
  echo
  echo "llama.cpp on a synthetic Qwen2.5-0.5B (about 1 GFLOP per token in matrix products), 2 threads:"
  echo
  for t in Q8_0 Q4_K Q6_K; do
    f="$XUAN_BENCH_DIR/q05b-$t.gguf"
    [ -f "$f" ] || python3 "$gen" --preset qwen2.5-0.5b --type "$t" --out "$f" >/dev/null
    "$bench" -m "$f" -t 2 -p 512 -n 0 -r 2 -o md 2>/dev/null | tail -n +3 | sed "s/^/$t: /"
  done
else
  echo "(llama-bench not built: run scripts/peer.sh \"$XUAN_PEER_DIR\" tools for the llama.cpp comparison)"
fi
