#!/usr/bin/env bash
# make bench, section "eval": items/s of `xuan eval` in process (-m, N items
# per forward pass: -j N) against the same run through llama-server with N
# slots (-np N, `xuan eval --endpoint -j N`), and through `xuan serve -np N`
# (the same engine behind HTTP, which tells the engine's share of the ratio
# from the in-process backend's).  One synthetic file for all three, Qwen2's
# real vocabulary and chat template (as section_serve's), greedy, the same
# task, limit and --max-tokens, no request cache, F16 cache, 2 threads, the
# same context per slot.  The servers run one at a time; the figure is items
# over the run's own wall time (model load and /health excluded), the median
# of ROUNDS runs with their range (the machine may be shared).  Random
# weights: an answer ends at max_tokens or where the model writes a stop
# string or its end of turn, so the generated tokens are printed beside it.
# XUAN_EVAL_SHAPE (default qwen2.5-0.5b), XUAN_EVAL_TYPE (Q4_K_M),
# XUAN_EVAL_TASK (gsm8k), XUAN_EVAL_LIMIT (16), XUAN_EVAL_MAX (32 tokens),
# XUAN_EVAL_J (4), XUAN_EVAL_ROUNDS (3) narrow the run; XUAN_LLAMA_SERVER points at another
# llama-server, XUAN_EVAL_MODEL at another GGUF.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
PEER="${XUAN_PEER_DIR:-$XUAN_BENCH_DIR/peer}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
LS="${XUAN_LLAMA_SERVER:-$PEER/llama.cpp/build/bin/llama-server}"
[ -x "$LS" ] || bash "$SRC/scripts/peer.sh" "$PEER" tools >/dev/null 2>&1 || true
T=2; N="${XUAN_EVAL_J:-4}"; CTX_SLOT=1024
SHAPE="${XUAN_EVAL_SHAPE:-qwen2.5-0.5b}"; TYPE="${XUAN_EVAL_TYPE:-Q4_K_M}"
TASK="${XUAN_EVAL_TASK:-gsm8k}"; LIMIT="${XUAN_EVAL_LIMIT:-16}"; MAX="${XUAN_EVAL_MAX:-32}"
ROUNDS="${XUAN_EVAL_ROUNDS:-3}"
export XUAN_PROGRESS=0 XUAN_TASKS="$SRC/tasks" XUAN_DATA="${XUAN_DATA:-${XUAN_SHARED:-$SRC/../shared}/datasets}"
VOCAB="$PEER/llama.cpp/models/ggml-vocab-qwen2.gguf"
if [ -n "${XUAN_EVAL_MODEL:-}" ]; then f=$XUAN_EVAL_MODEL
elif [ -f "$VOCAB" ]; then f="$XUAN_BENCH_DIR/$SHAPE-$TYPE-qwen2vocab.gguf"
  [ -f "$f" ] || "$XUAN_BIN" synth --preset "$SHAPE" --ftype "$TYPE" --vocab-from "$VOCAB" -o "$f" >/dev/null 2>&1
else f="$XUAN_BENCH_DIR/$SHAPE-$TYPE.gguf"
  [ -f "$f" ] || "$XUAN_BIN" synth --preset "$SHAPE" --ftype "$TYPE" -o "$f" >/dev/null 2>&1
fi
d="$XUAN_BENCH_DIR/eval"; mkdir -p "$d"; rm -f "$d"/*.db "$d"/*.json
RUN=(--tasks "$TASK" --limit "$LIMIT" --max-tokens "$MAX" -j "$N" --no-cache --json)

echo "## eval — xuan eval in process vs through llama-server, $(basename "$f" .gguf), $TASK --limit $LIMIT --max-tokens $MAX, -j $N / -np $N, $T threads, $CTX_SLOT tokens per slot, median of $ROUNDS runs"
echo
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# shellcheck source=bench/server.sh
. "$SRC/bench/server.sh"

# through NAME CMD...: starts the server (its argv holds $port), waits for
# /health 200 (up to 300 s), runs the eval against it, stops it
through() {
  local name=$1; shift
  if server_up "$name" "$d" "$@"; then
    for r in $(seq "$ROUNDS"); do
      "$XUAN_BIN" eval --endpoint "http://127.0.0.1:$port" "${RUN[@]}" --db "$d/$name.db" >"$d/$name.$r.json" 2>>"$d/$name.err"
    done
  fi
  server_down
}

for r in $(seq "$ROUNDS"); do
  "$XUAN_BIN" eval -m "$f" "${RUN[@]}" -t $T -c $((N * CTX_SLOT)) --db "$d/engine.db" >"$d/engine.$r.json" 2>>"$d/engine.err"
done
if [ -x "$LS" ]; then
  port=$(free_port)
  through llama "$LS" -m "$f" --host 127.0.0.1 --port "$port" -np "$N" -c $((N * CTX_SLOT)) --no-kv-unified \
    --cont-batching -t $T -ctk f16 -ctv f16 --no-webui
fi
port=$(free_port)
through serve "$XUAN_BIN" serve -m "$f" --port "$port" -np "$N" -c $((N * CTX_SLOT)) -t $T --cache-type f16
load1=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$d" "$N" "$ROUNDS" "$load0" "$load1" <<'PY'
import json, sqlite3, statistics, sys
d, n, rounds, load0, load1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = []
for name, label in (("engine", "xuan eval -m (in process)"), ("llama", "llama-server"), ("serve", "xuan serve")):
    try:
        js = [json.load(open(f"{d}/{name}.{r}.json")) for r in range(1, rounds + 1)]
        # the tokens of the first run (greedy: every run asks and gets the same)
        p, g = sqlite3.connect(f"{d}/{name}.db").execute(
            "select sum(n_prompt), sum(n_gen) from items where run = 1").fetchone()
        ips = [j["items_per_s"] for j in js]
        rows.append((label, js[0]["generated"], p, g, statistics.median(j["wall_s"] for j in js),
                     statistics.median(ips), min(ips), max(ips)))
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
        rows.append((label, None, None, None, None, None, None, None))
base = rows[0][5]
print("| backend | slots | items | prompt tokens | generated tokens | wall s | items/s | range | in process ÷ this |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for label, items, p, g, wall, ips, lo, hi in rows:
    if items is None:
        print(f"| {label} | {n} | – | – | – | – | – | – | – |"); continue
    ratio = f"{base / ips:.2f}x" if base and ips else "–"
    print(f"| {label} | {n} | {items} | {p} | {g} | {wall:.1f} | {ips:.3f} | {lo:.3f}-{hi:.3f} | {ratio} |")
print()
print(f"load average (1, 5, 15 min): {load0} before, {load1} after")
PY
