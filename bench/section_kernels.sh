#!/usr/bin/env bash
# Kernel table for `make bench` (bench/run.sh): memory bandwidth, decode
# weight GB/s at 1 and 2 threads, prompt-processing GFLOP/s; then
# llama.cpp's pp512 on 7B-shaped files of the same types, as GFLOP/s of
# matrix products, beside ours (see docs/perf.md, "## Kernels").
#
# The llama.cpp files are Qwen2.5-7B shaped with 2 layers (xuan synth
# --layers 2 --vocab 4096): every matrix has 3584 or 18944 columns, so
# K-quants apply to all of them (a Qwen2.5-0.5B file falls back to Q8_0 in
# most matrices, 896 is not a multiple of 256).  llama-bench computes the
# output head for the last token only, so its matrix work per token is the
# two layers' 2 * 233,046,016 weights: GFLOP/s = 2 * 466,092,032 * tok/s / 1e9
# (an upper bound of its kernel rate: pp512 time also covers attention and
# norms, about 2% here).  XUAN_LLAMA_BENCH overrides the llama-bench binary;
# XUAN_KERNEL_LLAMA_TYPES (default "Q4_K Q6_K Q8_0") the types compared.
set -euo pipefail
: "${XUAN_BUILD:?}" "${XUAN_BENCH_DIR:?}"
out="$XUAN_BENCH_DIR/kernels.md"
"$XUAN_BUILD/bench_kernels" ${XUAN_BENCH_KERNELS_ARGS:-} | tee "$out"
bench="${XUAN_LLAMA_BENCH:-${XUAN_PEER_DIR:-}/llama.cpp/build/bin/llama-bench}"
if [ ! -x "$bench" ]; then
  echo "(llama-bench not built: run scripts/peer.sh \"\$XUAN_PEER_DIR\" tools for the llama.cpp comparison)"
  exit 0
fi
echo
echo "llama.cpp pp512 (llama-bench -t 2 -p 512 -n 0 -r 3 -fa 0) on 2-layer Qwen2.5-7B-shaped files, against the"
echo "\"pp512 7B layer\" column above (same matrices, batch 512, 2 threads):"
echo
echo "| type | llama pp512 tok/s | llama GFLOP/s | xuan GFLOP/s | xuan / llama |"
echo "|---|---:|---:|---:|---:|"
set +e # a failing peer run prints a row of zeros, it does not end the report
for t in ${XUAN_KERNEL_LLAMA_TYPES:-Q4_K Q6_K Q8_0}; do
  f="$XUAN_BENCH_DIR/q7b-2layer-$t.gguf"
  [ -f "$f" ] || "$XUAN_BUILD/xuan" synth --preset qwen2.5-7b --layers 2 --vocab 4096 --type "$t" -o "$f" -q \
    >/dev/null || echo "(xuan synth $t failed)"
  tps=$("$bench" -m "$f" -t 2 -p 512 -n 0 -r 3 -fa 0 -o json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["avg_ts"])' 2>/dev/null || echo 0)
  ours=$(awk -F'|' -v t="$t" '$2 ~ "^ "t" $" {gsub(/ /, "", $14); print $14}' "$out")
  awk -v t="$t" -v tps="$tps" -v ours="${ours:-0}" 'BEGIN {
    g = 2 * 466092032 * tps / 1e9;
    ratio = (g > 0) ? sprintf("%.2f", ours / g) : "-"
    printf "| %s | %.1f | %.1f | %.1f | %s |\n", t, tps, g, ours, ratio }'
done
