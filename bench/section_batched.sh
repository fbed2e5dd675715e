#!/usr/bin/env bash
# make bench, section "batched": many sequences decoded together, xuan bench
# --npl against llama.cpp's llama-batched-bench on the same synthetic files.
# Each of N sequences gets its own prompt of NPP tokens (evaluated together),
# then NTG steps decode one token of every sequence in one batch; S_PP and
# S_TG are the aggregate tokens/s of the two phases.  2 threads, -b 2048
# (llama-batched-bench's default), F16 cache, llama.cpp's flash attention as
# it chooses by default (auto).  One run per engine: the figures are of the
# same run order every time (xuan first).
# XUAN_BATCHED_SHAPES (default "qwen2.5-0.5b qwen2.5-7b"), XUAN_BATCHED_TYPES
# (default Q4_K_M), XUAN_BATCHED_NPL (default 1,4,16) narrow the run.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
PEER="${XUAN_PEER_DIR:-$XUAN_BENCH_DIR/peer}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
LBB="$PEER/llama.cpp/build/bin/llama-batched-bench"
[ -x "$LBB" ] || bash "$SRC/scripts/peer.sh" "$PEER" tools >/dev/null 2>&1 || true
T=2; NPP=128; NTG=128; NPL="${XUAN_BATCHED_NPL:-1,4,16}"
echo "## batched — xuan bench --npl vs llama-batched-bench, $T threads, npp $NPP, ntg $NTG"
echo
echo "| model | type | sequences | xuan S_PP t/s | llama S_PP t/s | pp ratio | xuan S_TG t/s | llama S_TG t/s | tg ratio | load |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
max=$(tr ',' '\n' <<<"$NPL" | sort -n | tail -1)
for shape in ${XUAN_BATCHED_SHAPES:-qwen2.5-0.5b qwen2.5-7b}; do
  for type in ${XUAN_BATCHED_TYPES:-Q4_K_M}; do
    f="$XUAN_BENCH_DIR/$shape-$type.gguf"
    [ -f "$f" ] || "$XUAN_BIN" synth --preset "$shape" --ftype "$type" -o "$f" -q >/dev/null 2>&1
    load=$(cut -d' ' -f1 /proc/loadavg)
    "$XUAN_BIN" bench -m "$f" --npl "$NPL" --npp $NPP --ntg $NTG -t $T --json >"$XUAN_BENCH_DIR/xb.jsonl" \
      2>"$XUAN_BENCH_DIR/xb.err"
    lrc=1
    if [ -x "$LBB" ]; then
      "$LBB" -m "$f" -c $((max * (NPP + NTG))) -b 2048 -npp $NPP -ntg $NTG -npl "$NPL" -t $T \
        --output-format jsonl >"$XUAN_BENCH_DIR/lb.jsonl" 2>"$XUAN_BENCH_DIR/lb.err"; lrc=$?
    fi
    python3 - "$shape" "$type" "$XUAN_BENCH_DIR" "$lrc" "$load" <<'PY'
import json, sys
shape, typ, d, lrc, load = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def rows(name, key):
    out = {}
    try:
        for line in open(f"{d}/{name}"):
            line = line.strip()
            if line.startswith("{"):
                j = json.loads(line); out[j[key]] = j
    except Exception: pass
    return out
x, l = rows("xb.jsonl", "npl"), (rows("lb.jsonl", "pl") if lrc == 0 else {})
f = lambda v: "–" if v is None else f"{v:.2f}"
r = lambda a, b: "–" if a is None or not b else f"{a/b:.2f}x"
for n in sorted(set(x) | set(l)):
    xs, ls = x.get(n, {}), l.get(n, {})
    print(f"| {shape} | {typ} | {n} | {f(xs.get('speed_pp'))} | {f(ls.get('speed_pp'))} | "
          f"{r(xs.get('speed_pp'), ls.get('speed_pp'))} | {f(xs.get('speed_tg'))} | {f(ls.get('speed_tg'))} | "
          f"{r(xs.get('speed_tg'), ls.get('speed_tg'))} | {load} |")
if not x: print(f"| {shape} | {typ} | xuan failed: see xb.err | | | | | | | {load} |")
PY
  done
done
echo
echo "Target: tg ratio >= 1.0 at every point.  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
