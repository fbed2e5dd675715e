#!/usr/bin/env bash
# make bench, section "residency" (root only: it drops the page cache and
# pages out another process's mappings): the decode row of one model with the
# page cache warm, cold, and reclaimed while it runs (bench/evict.py, what a
# VM's host or memory pressure does), for xuan with and without --mlock /
# --no-mmap, beside llama-bench on the same file.
#   XUAN_BIN; LLAMA_BENCH (default: the peer build's llama-bench); MODEL
#   (default: the engine section's synthetic Qwen2.5-7B Q4_K_M in
#   XUAN_BENCH_DIR, written if absent); T threads (2), N tokens (64), R reps (2)
set -uo pipefail
: "${XUAN_BIN:?}"
here=$(cd "$(dirname "$0")" && pwd)
LLAMA_BENCH=${LLAMA_BENCH:-${XUAN_PEER_DIR:-${XUAN_BENCH_DIR:-.}/peer}/llama.cpp/build/bin/llama-bench}
T=${T:-2} N=${N:-64} R=${R:-2}
if [ "$(id -u)" != 0 ]; then echo "## residency — skipped (needs root to drop the page cache)"; exit 0; fi
if [ -z "${MODEL:-}" ]; then
  MODEL="${XUAN_BENCH_DIR:?}/qwen2.5-7b-Q4_K_M.gguf"
  [ -f "$MODEL" ] || "$XUAN_BIN" synth --preset qwen2.5-7b --ftype Q4_K_M -o "$MODEL" -q >/dev/null 2>&1
fi
[ -x "$LLAMA_BENCH" ] || { echo "## residency — skipped (no llama-bench at $LLAMA_BENCH)"; exit 0; }
tmp=$(mktemp -d)
warm() { cat "$MODEL" >/dev/null; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# run CONDITION NAME CMD... : prints "| condition | name | tg t/s | wall s | major faults |"
run() {
  local cond=$1 name=$2; shift 2
  case $cond in warm|reclaimed) warm ;; cold) cold ;; esac
  local t0 t1 pid
  t0=$(date +%s.%N)
  /usr/bin/time -f "%F" -o "$tmp/flt" "$@" >"$tmp/out" 2>"$tmp/err" & pid=$!
  if [ "$cond" = reclaimed ]; then
    sleep 0.5
    # /usr/bin/time's child is the benchmark
    child=$(pgrep -P "$pid" | head -n 1)
    [ -n "$child" ] && python3 "$here/evict.py" "$child" "$MODEL" 0.2 2>/dev/null
  fi
  wait "$pid"; local rc=$?
  t1=$(date +%s.%N)
  local tg
  if [ $rc -ne 0 ]; then tg="failed ($rc)"
  elif grep -q '"tg_mean"' "$tmp/out"; then tg=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["tg_mean"])' "$tmp/out")
  else tg=$(python3 -c '
import json,sys
for r in json.load(open(sys.argv[1])):
    if r.get("n_gen",0)>0 and r.get("n_prompt",0)==0: print("%.2f" % r["avg_ts"])' "$tmp/out"); fi
  printf "| %-9s | %-26s | %10s | %7.1f | %12s |\n" "$cond" "$name" "$tg" "$(echo "$t1 - $t0" | bc)" "$(tail -n 1 "$tmp/flt")"
}
echo "## residency — $(basename "$MODEL"), tg$N, $T threads, $R reps; wall = load + warm-up + runs"
echo
echo "| page cache | program | tg t/s | wall s | major faults |"
echo "|-----------|----------------------------|-----------:|--------:|-------------:|"
for cond in warm cold reclaimed; do
  run $cond "xuan (mmap)"            "$XUAN_BIN" bench -m "$MODEL" -p 0 -n $N -r $R -t $T --json
  run $cond "xuan --mlock"           "$XUAN_BIN" bench -m "$MODEL" -p 0 -n $N -r $R -t $T --mlock --json
  run $cond "xuan --no-mmap"         "$XUAN_BIN" bench -m "$MODEL" -p 0 -n $N -r $R -t $T --no-mmap --json
  run $cond "llama-bench -lm mmap"       "$LLAMA_BENCH" -m "$MODEL" -p 0 -n $N -r $R -t $T -lm mmap -o json
  run $cond "llama-bench -lm mmap+mlock" "$LLAMA_BENCH" -m "$MODEL" -p 0 -n $N -r $R -t $T -lm mmap+mlock -o json
  run $cond "llama-bench -lm none"       "$LLAMA_BENCH" -m "$MODEL" -p 0 -n $N -r $R -t $T -lm none -o json
done
rm -rf "$tmp"
