#!/usr/bin/env bash
# Parity of the engine with llama.cpp (node-llama-cpp, pinned) on synthetic
# GGUFs with real vocabularies: llama (Llama-3 BPE), qwen2 (Qwen BPE) and phi3
# (SentencePiece) in F32, F16, Q8_0 and Q4_K (+Q6_K output).  For 10 prompts
# (Chinese, English, code) tests/peer/parity.mjs checks the next-token
# log-probabilities of llama.cpp's top 10 (<= 1e-3 for F32/F16, <= 2e-2 for
# quantized) and 64-token greedy continuations (identical on >= 9 of 10).
# Heavy: needs node and the npm registry (skips visibly when unreachable).
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_PEER_DIR:?}"
rc=0; bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" || rc=$?
if [ $rc -eq 3 ]; then echo "SKIP: npm registry unreachable, llama.cpp reference not installed"; exit 0; fi
[ $rc -eq 0 ] || exit $rc
cp "$XUAN_SRC/tests/peer/parity.mjs" "$XUAN_PEER_DIR/xuan_parity.mjs"
dir="$XUAN_TMP/parity"; mkdir -p "$dir"
# arch | vocabulary | preset | type arguments | tolerance
cases=(
  "llama|llama3|tiny|--type F32|1e-3"
  "llama|llama3|tiny|--type F16|1e-3"
  "llama|llama3|tiny|--type Q8_0|2e-2"
  "llama|llama3|tiny256|--type Q4_K --output-type Q6_K|2e-2"
  "qwen2|qwen|tiny|--type F32|1e-3"
  "qwen2|qwen|tiny|--type F16|1e-3"
  "qwen2|qwen|tiny|--type Q8_0|2e-2"
  "qwen2|qwen|tiny256|--type Q4_K --output-type Q6_K|2e-2"
  "phi3|llama2|tiny|--type F32|1e-3"
  "phi3|llama2|tiny|--type F16|1e-3"
  "phi3|llama2|tiny|--type Q8_0|2e-2"
  "phi3|llama2|tiny256|--type Q4_K --output-type Q6_K|2e-2"
)
pass=0; fail=0
for c in "${cases[@]}"; do
  IFS='|' read -r arch vocab preset types tol <<<"$c"
  name="$arch-$vocab-$preset-$(echo "$types" | awk '{print $2}')"
  f="$dir/$name.gguf"
  [ -f "$f" ] || (cd "$XUAN_PEER_DIR" && python3 gen_gguf.py --preset "$preset" --arch "$arch" \
                    --vocab-from "$vocab" $types --out "$f" >/dev/null)
  echo "== $name (tol $tol)"
  if (cd "$XUAN_PEER_DIR" && node xuan_parity.mjs "$f" --xuan "$XUAN_BIN" \
        --prompts "$XUAN_SRC/tests/peer/parity_prompts.json" --tol "$tol" --n 64 --tmp "$dir"); then
    pass=$((pass + 1))
  else
    echo "FAIL: $name"; fail=$((fail + 1))
  fi
done
echo "parity: $pass passed, $fail failed"
[ $fail -eq 0 ]
