#!/usr/bin/env bash
# make bench, section "serve": `xuan serve` against llama.cpp's llama-server
# under streaming load (bench/loadgen.py), on the same synthetic file, one
# server at a time (never both at once).  Same settings on both sides: 16
# slots, the same context per slot (llama-server's -c is the total, split over
# -np slots, --no-kv-unified so each slot has its own), continuous batching
# (llama-server's default, xuan's only mode), F16 cache, 2 threads, greedy,
# ignore_eos so every request generates max_tokens.  /v1/completions with a
# raw prompt: no chat template can make one side's prompt longer.
# Each stream count runs 2 requests per stream; the figures are aggregate
# completion tok/s (all tokens / wall time) and TTFT p50 / p99.
# XUAN_SERVE_SHAPE (default qwen2.5-0.5b), XUAN_SERVE_TYPE (Q4_K_M),
# XUAN_SERVE_STREAMS (default "1 4 16"), XUAN_SERVE_PROMPT (128 tokens),
# XUAN_SERVE_MAX (128 tokens), XUAN_SERVE_ROUNDS (2) narrow the run;
# XUAN_LLAMA_SERVER points at another llama-server binary; XUAN_SERVE_MODEL at
# another GGUF.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
PEER="${XUAN_PEER_DIR:-$XUAN_BENCH_DIR/peer}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
LS="${XUAN_LLAMA_SERVER:-$PEER/llama.cpp/build/bin/llama-server}"
[ -x "$LS" ] || bash "$SRC/scripts/peer.sh" "$PEER" tools >/dev/null 2>&1 || true
T=2; NP=16
SHAPE="${XUAN_SERVE_SHAPE:-qwen2.5-0.5b}"; TYPE="${XUAN_SERVE_TYPE:-Q4_K_M}"
STREAMS="${XUAN_SERVE_STREAMS:-1 4 16}"; PP="${XUAN_SERVE_PROMPT:-128}"; MAX="${XUAN_SERVE_MAX:-128}"
ROUNDS="${XUAN_SERVE_ROUNDS:-2}"
CTX_SLOT=$(( (PP + MAX + 64 + 255) / 256 * 256 ))  # prompt + answer + slack for the tokenizer's count
# The synthetic file takes Qwen2's real vocabulary (from the peer's llama.cpp
# tree) so its random tokens render as text and the first content delta, where
# TTFT is taken, comes with the first token on both sides.
VOCAB="$PEER/llama.cpp/models/ggml-vocab-qwen2.gguf"
if [ -n "${XUAN_SERVE_MODEL:-}" ]; then f=$XUAN_SERVE_MODEL
elif [ -f "$VOCAB" ]; then f="$XUAN_BENCH_DIR/$SHAPE-$TYPE-qwen2vocab.gguf"
  [ -f "$f" ] || "$XUAN_BIN" synth --preset "$SHAPE" --ftype "$TYPE" --vocab-from "$VOCAB" -o "$f" >/dev/null 2>&1
else f="$XUAN_BENCH_DIR/$SHAPE-$TYPE.gguf"
  [ -f "$f" ] || "$XUAN_BIN" synth --preset "$SHAPE" --ftype "$TYPE" -o "$f" >/dev/null 2>&1
fi
d="$XUAN_BENCH_DIR/serve"; mkdir -p "$d"

echo "## serve — xuan serve vs llama-server, $(basename "$f" .gguf), $T threads, -np $NP, $CTX_SLOT tokens per slot, prompt ~$PP, max_tokens $MAX, $ROUNDS requests per stream"
echo

# shellcheck source=bench/server.sh
. "$SRC/bench/server.sh"

# measure NAME CMD...: starts the server (its argv, with $port in it already),
# waits for /health 200 (up to 300 s), runs the load at each stream count,
# stops the server
measure() {
  local name=$1; shift
  : >"$d/$name.jsonl"
  if server_up "$name" "$d" "$@"; then
    for n in $STREAMS; do
      python3 "$SRC/bench/loadgen.py" --url "http://127.0.0.1:$port" --endpoint completions -c "$n" \
        -n $((n * ROUNDS)) --prompt-tokens "$PP" --max-tokens "$MAX" --limit 900 --json \
        >>"$d/$name.jsonl" 2>>"$d/$name.err"
    done
  fi
  server_down
}

port=$(free_port)
measure xuan "$XUAN_BIN" serve -m "$f" --port "$port" -np $NP -c $((NP * CTX_SLOT)) -t $T --cache-type f16
if [ -x "$LS" ]; then
  port=$(free_port)
  measure llama "$LS" -m "$f" --host 127.0.0.1 --port "$port" -np $NP -c $((NP * CTX_SLOT)) --no-kv-unified \
    --cont-batching -t $T -ctk f16 -ctv f16 --no-webui
else
  : >"$d/llama.jsonl"
fi

python3 - "$d" <<'PY'
import json, sys
d = sys.argv[1]
def rows(name):
    out = {}
    try:
        for line in open(f"{d}/{name}.jsonl"):
            if line.startswith("{"):
                j = json.loads(line); out[j["clients"]] = j
    except OSError:
        pass
    return out
x, l = rows("xuan"), rows("llama")
f = lambda v: "–" if v is None else f"{v:.1f}"
r = lambda a, b: "–" if a is None or not b else f"{a / b:.2f}x"
print("| streams | xuan tok/s | llama tok/s | ratio | xuan TTFT p50 ms | llama TTFT p50 ms | xuan TTFT p99 ms | llama TTFT p99 ms | errors x / l |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in sorted(set(x) | set(l)):
    a, b = x.get(n, {}), l.get(n, {})
    print(f"| {n} | {f(a.get('tok_s'))} | {f(b.get('tok_s'))} | {r(a.get('tok_s'), b.get('tok_s'))} | "
          f"{f(a.get('ttft_p50_ms'))} | {f(b.get('ttft_p50_ms'))} | {f(a.get('ttft_p99_ms'))} | "
          f"{f(b.get('ttft_p99_ms'))} | {a.get('errors', '–')} / {b.get('errors', '–')} |")
if not x: print("| xuan failed: see serve/xuan.log, serve/xuan.err | | | | | | | | |")
if not l: print("| llama-server missing or failed: see serve/llama.log, serve/llama.err | | | | | | | | |")
PY
echo
echo "Target (issue 12): ratio >= 1.2 at 16 streams, TTFT p50 <= llama-server's.  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
