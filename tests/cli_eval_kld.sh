#!/usr/bin/env bash
# xuan eval kld on synthetic models with phi-3's vocabulary: the base against itself gives KLD 0
# exactly and equal PPLs; Q8_0 is closer to the base than Q4_K_M; another vocabulary, a short text
# and a missing flag are refused in one line.
set -u
X=${XUAN_BIN:?}; SH=${XUAN_SHARED:?}
V=$SH/vocab/ggml-vocab-phi-3.gguf; V2=$SH/vocab/ggml-vocab-gpt-2.gguf
[ -f "$V" ] && [ -f "$V2" ] && [ -f "$SH/datasets/gsm8k/test.jsonl" ] || { echo "skip: no vocab/datasets in $SH"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/eval_kld.XXXXXX"); trap 'rm -rf "$T"' EXIT
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
"$X" synth --preset tiny256 --vocab-from "$V" --type F16 -o "$T/base.gguf" --force >/dev/null 2>&1 &&
  "$X" quantize "$T/base.gguf" "$T/q8.gguf" Q8_0 >/dev/null 2>&1 &&
  "$X" quantize "$T/base.gguf" "$T/q4.gguf" Q4_K_M >/dev/null 2>&1 &&
  "$X" synth --preset tiny256 --vocab-from "$V2" --type F16 -o "$T/other.gguf" --force >/dev/null 2>&1 ||
  { echo "FAIL synth/quantize"; exit 1; }
head -c 12000 "$SH/datasets/gsm8k/test.jsonl" >"$T/text"
K="$X eval kld --base $T/base.gguf --text $T/text -c 64 -t 2 --json"
j() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read()); print(eval(sys.argv[2]))" "$@"; }

$K -m "$T/base.gguf" >"$T/self" 2>"$T/err"; rc=$?
r=$(j "$T/self" 'd["kld"] == 0 and d["kld_pct"]["max"] == 0 and d["ppl_q"] == d["ppl_base"] and d["same_top"] == 1 and d["dp_rms"] == 0 and d["tokens"] == d["chunks"] * 31 and d["chunks"] >= 2' 2>&1)
[ $rc = 0 ] && [ "$r" = True ] && ok "base vs base: KLD 0, PPL equal, same top 100%, 31 scored per chunk" || bad "self rc=$rc $r $(cat "$T/err")"

$K -m "$T/q8.gguf" >"$T/q8" 2>/dev/null && $K -m "$T/q4.gguf" >"$T/q4" 2>/dev/null
a=$(j "$T/q8" 'd["kld"]'); b=$(j "$T/q4" 'd["kld"]')
r=$(python3 -c "print(0 < $a < $b)")
[ "$r" = True ] && ok "KLD(Q8_0) $a < KLD(Q4_K_M) $b" || bad "KLD q8 $a q4 $b"
r=$(j "$T/q4" 'd["kld_pct"]["min"] <= d["kld_pct"]["median"] <= d["kld_pct"]["max"] and 0 < d["same_top"] < 1 and d["dp_rms"] > 0 and d["ppl_base"] == '"$(j "$T/self" 'd["ppl_base"]')")
[ "$r" = True ] && ok "Q4_K_M: percentiles ordered, same top in (0, 1), the base PPL unchanged" || bad "q4 stats $r"

$K -m "$T/other.gguf" >/dev/null 2>"$T/err"; rc=$?
[ $rc != 0 ] && grep -q "not one vocabulary" "$T/err" && [ "$(wc -l <"$T/err")" = 1 ] && ok "another vocabulary refused: $(cat "$T/err")" || bad "vocab rc=$rc $(cat "$T/err")"
head -c 200 "$T/text" >"$T/short"
"$X" eval kld -m "$T/q8.gguf" --base "$T/base.gguf" --text "$T/short" -c 64 >/dev/null 2>"$T/err"; rc=$?
[ $rc != 0 ] && grep -q "needs at least 128" "$T/err" && ok "short text refused" || bad "short rc=$rc $(cat "$T/err")"
"$X" eval kld -m "$T/q8.gguf" --text "$T/text" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && ok "no --base: usage error (2)" || bad "usage rc=$rc $(cat "$T/err")"
echo "$passes passed, $fails failed"
[ $fails = 0 ]
