#!/usr/bin/env bash
# Chat-template table for `make bench` (bench/run.sh): microseconds per
# render of a 10-message chat with two tools, a tool call and its result,
# for real templates, xuan's Jinja engine (bench_jinja, in-process, best of
# 5 batches of 200) beside @huggingface/jinja on node (the reference the
# renders are checked against, same conversation, same batches) when it is
# installed in $XUAN_BUILD/jinja (tests/cli_template.sh installs it).
# See docs/perf.md "## Chat templates".
set -euo pipefail
SRC="${XUAN_SRC:?}"
B="${XUAN_BUILD:?}"
S="${XUAN_SHARED:?}/templates"
P="${XUAN_PEER_DIR:-$B/peer}/llama.cpp/models/templates"
files=("$S/Qwen-Qwen2.5-7B-Instruct.jinja" "$S/Qwen-Qwen3-0.6B.jinja" "$S/meta-llama-Llama-3.1-8B-Instruct.jinja"
       "$S/microsoft-Phi-3.5-mini-instruct.jinja")
for f in openai-gpt-oss-120b Qwen3-Coder ibm-granite-granite-3.3-2B-Instruct google-gemma-4-31B-it; do
  [ -f "$P/$f.jinja" ] && files+=("$P/$f.jinja")
done
"$B/bench_jinja" --reps 200 "${files[@]}" >"$XUAN_BENCH_DIR/chat_xuan.tsv"
node_ok=0
if command -v node >/dev/null && [ -f "$B/jinja/node_modules/@huggingface/jinja/package.json" ]; then
  node "$SRC/scripts/jinja_bench.mjs" --jinja "$B/jinja" "${files[@]}" >"$XUAN_BENCH_DIR/chat_node.tsv" && node_ok=1
fi
echo "Chat templates: us per render of a 10-message chat with 2 tools (lower is better), 1 thread:"
echo
echo "| template | prompt bytes | xuan parse us | xuan render us | @huggingface/jinja render us | node / xuan |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
while IFS=$'\t' read -r name bytes parse render; do
  [ "$name" = template ] && continue
  ref="-"; ratio="-"
  if [ "$node_ok" = 1 ]; then
    ref=$(awk -F'\t' -v n="$name" '$1 == n { print $4 }' "$XUAN_BENCH_DIR/chat_node.tsv")
    ratio=$(awk -v a="$ref" -v b="$render" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "-" }')
  fi
  echo "| ${name%.jinja} | $bytes | $parse | $render | $ref | $ratio |"
done <"$XUAN_BENCH_DIR/chat_xuan.tsv"
[ "$node_ok" = 1 ] || echo "(@huggingface/jinja not installed in $B/jinja: run tests/cli_template.sh once)"
