#!/usr/bin/env bash
# make bench, section "engine": xuan bench against llama.cpp's own llama-bench
# (native build from the source node-llama-cpp ships, scripts/peer.sh tools:
# AVX-512 on, AMX off)
# on the same synthetic Qwen2.5-0.5B- and 7B-shaped files (Q8_0 and Q4_K_M),
# 2 threads, pp512 / tg128, 3 repetitions, peak RSS of each process.
# The machine may be shared: each engine's figure is its best repetition
# (load only ever slows a run down; the mean ± sd is shown beside it) and
# the ratios compare best with best.  The last column is the 1-minute load
# average just before the row's runs.
# XUAN_ENGINE_SHAPES (default "qwen2.5-0.5b qwen2.5-7b") and
# XUAN_ENGINE_TYPES (default "Q8_0 Q4_K_M") narrow the run.  The MoE rows
# (XUAN_ENGINE_MOE, default "qwen3-30b-a3b@12 deepseek-coder-v2-lite",
# Q4_K_M only) are real shapes; SHAPE@LAYERS keeps the first LAYERS layers:
# a whole Qwen3-30B-A3B Q4_K_M (17 GiB) mapped by xuan and repacked by
# llama.cpp does not fit this machine's 24 GiB twice; per-token work scales
# with the layers, so the ratios are those of the whole model.  Coder-V2-Lite
# stays whole (9.7 GiB; llama.cpp takes only 26- or 27-layer files for its
# lite form).  An MoE row may name its file type as SHAPE[@LAYERS]:TYPE:
# gpt-oss-20b:MXFP4_MOE is gpt-oss-20b as ggml-org ships it (experts MXFP4,
# every other matrix Q8_0; 11.3 GiB, whole).  XUAN_ENGINE_REPS (default 3)
# sets the repetitions.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
PEER="${XUAN_PEER_DIR:-$XUAN_BENCH_DIR/peer}"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
LB="$PEER/llama.cpp/build/bin/llama-bench"
[ -x "$LB" ] || bash "$SRC/scripts/peer.sh" "$PEER" tools >/dev/null 2>&1 || true
T=2; P=512; N=128; R=${XUAN_ENGINE_REPS:-3}
echo "## engine — xuan bench vs llama-bench, $T threads, pp$P / tg$N, $R reps"
echo
echo "| model | type | xuan pp t/s best (mean ± sd) | llama pp t/s best | pp ratio | xuan tg t/s best (mean ± sd) | llama tg t/s best | tg ratio | xuan RSS MiB | llama RSS MiB | RSS ratio | load |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
rows=()
for shape in ${XUAN_ENGINE_SHAPES-qwen2.5-0.5b qwen2.5-7b}; do
  for type in ${XUAN_ENGINE_TYPES:-Q8_0 Q4_K_M}; do rows+=("$shape $type"); done
done
for shape in ${XUAN_ENGINE_MOE-qwen3-30b-a3b@12 deepseek-coder-v2-lite gpt-oss-20b:MXFP4_MOE}; do
  if [[ "$shape" == *:* ]]; then rows+=("${shape%%:*} ${shape#*:}"); else rows+=("$shape Q4_K_M"); fi
done
for row in "${rows[@]}"; do
    read -r shape type <<<"$row"
    layers=""; [[ "$shape" == *@* ]] && layers="${shape#*@}"
    f="$XUAN_BENCH_DIR/${shape/@/-L}-$type.gguf"
    if [ ! -f "$f" ]; then
      # llama-quantize's per-tensor mix for the file type (Q4_K_M: Q4_K with Q6_K
      # attn_v/ffn_down in some layers and a Q6_K output).
      "$XUAN_BIN" synth --preset "${shape%@*}" ${layers:+--layers "$layers"} --ftype "$type" -o "$f" -q >/dev/null 2>&1
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%M" -o "$XUAN_BENCH_DIR/x.rss" "$XUAN_BIN" bench -m "$f" -p $P -n $N -r $R -t $T --json \
      >"$XUAN_BENCH_DIR/x.json" 2>"$XUAN_BENCH_DIR/x.err"
    lrc=1
    if [ -x "$LB" ]; then
      /usr/bin/time -f "%M" -o "$XUAN_BENCH_DIR/l.rss" "$LB" -m "$f" -p $P -n $N -r $R -t $T -fa 0 -o json \
        >"$XUAN_BENCH_DIR/l.json" 2>"$XUAN_BENCH_DIR/l.err"; lrc=$?
    fi
    python3 - "$shape" "$type" "$XUAN_BENCH_DIR" "$lrc" "$load" <<'PY'
import json, sys
shape, typ, d, lrc, load = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def rss(n):
    try: return int(open(f"{d}/{n}.rss").read().split()[-1]) / 1024
    except Exception: return None
try: x = json.loads(open(f"{d}/x.json").read().strip().splitlines()[-1])
except Exception: x = None
lp = lt = None
if lrc == 0:
    try:
        for t in json.load(open(f"{d}/l.json")):
            best = max(t.get("samples_ts") or [t["avg_ts"]])
            if t.get("n_prompt", 0) > 0 and t.get("n_gen", 0) == 0: lp = best
            if t.get("n_gen", 0) > 0 and t.get("n_prompt", 0) == 0: lt = best
    except Exception: pass
f = lambda v: "–" if v is None else f"{v:.2f}"
r = lambda a, b: "–" if a is None or b is None or b == 0 else f"{a/b:.2f}x"
xp = x and f"{x['pp_best']:.2f} ({x['pp_mean']:.2f} ± {x['pp_sd']:.2f})"
xt = x and f"{x['tg_best']:.2f} ({x['tg_mean']:.2f} ± {x['tg_sd']:.2f})"
xr, lr = rss("x"), (rss("l") if lrc == 0 else None)
note = "" if lrc == 0 else " (llama-bench failed: see l.err)"
print(f"| {shape}{note} | {typ} | {xp or 'failed'} | {f(lp)} | {r(x and x['pp_best'], lp)} | {xt or 'failed'} | "
      f"{f(lt)} | {r(x and x['tg_best'], lt)} | {f(xr)} | {f(lr)} | {r(xr, lr)} | {load} |")
PY
done
echo
echo "Targets: tg ratio >= 1.0, pp ratio >= 0.8, RSS ratio <= 1.1.  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
