#!/usr/bin/env bash
# make bench, section "depth": pp512 and tg128 with the cache already holding
# 4096 and 16384 tokens, xuan bench -d against llama-bench -d with flash
# attention on (llama.cpp's fastest long-context path on CPU), 2 threads,
# F16 cache, one repetition each (a 16384-token prefill takes minutes).
# xuan evaluates the depth once and cuts the cache back to it before each
# test; llama-bench evaluates it again before each: neither is timed.
# XUAN_DEPTH_SHAPES (default qwen2.5-0.5b), XUAN_DEPTH_TYPES (default
# Q4_K_M) and XUAN_DEPTHS (default "4096 16384") narrow the run.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
PEER="${XUAN_PEER_DIR:-$XUAN_BENCH_DIR/peer}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
LB="$PEER/llama.cpp/build/bin/llama-bench"
[ -x "$LB" ] || bash "$SRC/scripts/peer.sh" "$PEER" tools >/dev/null 2>&1 || true
T=2; P=512; N=128
echo "## depth — xuan bench -d vs llama-bench -d -fa 1, $T threads, pp$P / tg$N, 1 rep"
echo
echo "| model | type | depth | xuan pp t/s | llama pp t/s | pp ratio | xuan tg t/s | llama tg t/s | tg ratio | load |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for shape in ${XUAN_DEPTH_SHAPES:-qwen2.5-0.5b}; do
  for type in ${XUAN_DEPTH_TYPES:-Q4_K_M}; do
    f="$XUAN_BENCH_DIR/$shape-$type.gguf"
    [ -f "$f" ] || "$XUAN_BIN" synth --preset "$shape" --ftype "$type" -o "$f" -q >/dev/null 2>&1
    for d in ${XUAN_DEPTHS:-4096 16384}; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      "$XUAN_BIN" bench -m "$f" -p $P -n $N -d "$d" -r 1 -t $T --json >"$XUAN_BENCH_DIR/xd.json" \
        2>"$XUAN_BENCH_DIR/xd.err"
      lrc=1
      if [ -x "$LB" ]; then
        "$LB" -m "$f" -p $P -n $N -d "$d" -r 1 -t $T -fa 1 -o json >"$XUAN_BENCH_DIR/ld.json" \
          2>"$XUAN_BENCH_DIR/ld.err"; lrc=$?
      fi
      python3 - "$shape" "$type" "$d" "$XUAN_BENCH_DIR" "$lrc" "$load" <<'PY'
import json, sys
shape, typ, depth, d, lrc, load = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
try: x = json.loads(open(f"{d}/xd.json").read().strip().splitlines()[-1])
except Exception: x = None
lp = lt = None
if lrc == 0:
    try:
        for t in json.load(open(f"{d}/ld.json")):
            if t.get("n_prompt", 0) > 0 and t.get("n_gen", 0) == 0: lp = t["avg_ts"]
            if t.get("n_gen", 0) > 0 and t.get("n_prompt", 0) == 0: lt = t["avg_ts"]
    except Exception: pass
f = lambda v: "–" if v is None else f"{v:.2f}"
r = lambda a, b: "–" if a is None or not b else f"{a/b:.2f}x"
xp, xt = (x["pp_best"], x["tg_best"]) if x else (None, None)
print(f"| {shape} | {typ} | {depth} | {f(xp)} | {f(lp)} | {r(xp, lp)} | {f(xt)} | {f(lt)} | {r(xt, lt)} | {load} |")
PY
    done
  done
done
echo
echo "Target: ratios >= 1.0.  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
