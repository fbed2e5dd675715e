#!/usr/bin/env bash
# xuan quantize: bad input (exit codes and messages), then, with the
# llama.cpp peer, the per-tensor types of Q4_K_M against llama-quantize for
# the Qwen2.5-0.5B shape (real), a Qwen2.5-7B and a Llama-3-8B shape (real
# layer counts, widths shrunk to multiples of 256 like the real 3584/18944/
# 14336, so every type rule and fallback takes the same branch), the bytes
# of every quantized tensor, and node-llama-cpp loading the result.
# Listed in tests/heavy.txt.
set -euo pipefail
T="$XUAN_TMP/cli_quantize"; rm -rf "$T"; mkdir -p "$T"
fail() { echo "FAIL: $*"; exit 1; }

# ---- bad input -------------------------------------------------------------
set +e
out=$("$XUAN_BIN" quantize a.gguf b.gguf Q3_XL 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "unsupported type: exit $rc"
echo "$out" | grep -q "supported types: Q4_0, Q4_K_S, Q4_K_M, Q5_K_M, Q6_K, Q8_0" || fail "no type list: $out"

peer_rc=0
bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" test-tools >"$T/peer.log" 2>&1 || peer_rc=$?
if [ $peer_rc -eq 3 ]; then echo "SKIP: registry unreachable, peer not installed"; exit 77; fi
[ $peer_rc -eq 0 ] || fail "scripts/peer.sh failed (see $T/peer.log)"
LQ="$XUAN_PEER_DIR/llama.cpp/build/bin/llama-quantize"
GEN="$XUAN_PEER_DIR/gen_gguf.py"

python3 "$GEN" --preset tiny --type F16 --out "$T/tiny.gguf" >/dev/null
set +e
out=$("$XUAN_BIN" quantize "$T/tiny.gguf" "$T/tiny.gguf" Q8_0 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && echo "$out" | grep -q "refusing to overwrite" || fail "overwrote input: $rc $out"

# ---- types and bytes against llama-quantize ------------------------------------
compare() { # name gen-args...
  local name=$1; shift
  python3 "$GEN" "$@" --type F16 --out "$T/$name-f16.gguf" >/dev/null
  "$XUAN_BIN" quantize "$T/$name-f16.gguf" "$T/$name-x.gguf" Q4_K_M 2>/dev/null
  "$LQ" "$T/$name-f16.gguf" "$T/$name-l.gguf" Q4_K_M >/dev/null 2>&1
  python3 - "$T/$name-x.gguf" "$T/$name-l.gguf" "$name" <<'PY'
import os, sys
sys.path.insert(0, os.environ["XUAN_SRC"] + "/tests/golden/quant")
from make_fixtures import gguf_tensors, BLOCK
from collections import Counter
a, b = gguf_tensors(sys.argv[1]), gguf_tensors(sys.argv[2])
assert set(a) == set(b), "tensor sets differ"
fa, fb = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
bad = []
for n, (t, ne, off) in a.items():
    if t != b[n][0]:
        bad.append(f"{n}: xuan {t}, llama {b[n][0]}")
        continue
    bs, ts = BLOCK[t]
    size = min(ne[0] // bs * ts * (ne[1] if len(ne) > 1 else 1), 1 << 20)
    fa.seek(off); fb.seek(b[n][2])
    if fa.read(size) != fb.read(size):
        bad.append(f"{n}: {t} bytes differ")
print(f"{sys.argv[3]}: {len(a)} tensors, types {dict(Counter(t for t, _, _ in a.values()))}, {len(bad)} differences")
for x in bad[:10]: print("  ", x)
sys.exit(1 if bad else 0)
PY
}
compare qwen05b --preset qwen2.5-0.5b
compare qwen7b --preset qwen2.5-7b --dim 512 --ffn 1024 --heads 4 --kv-heads 1
compare llama3 --preset llama3-8b --vocab-from llama3 --dim 512 --ffn 1024 --heads 4 --kv-heads 1

# ---- node-llama-cpp loads and runs the result ------------------------------------
node "$XUAN_PEER_DIR/peer.mjs" probs "$T/qwen05b-x.gguf" "hello" >"$T/probs.json"
grep -q '"all_finite":true' "$T/probs.json" || fail "node-llama-cpp: $(head -c 300 "$T/probs.json")"
echo "cli_quantize: ok"
