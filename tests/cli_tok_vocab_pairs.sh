#!/usr/bin/env bash
# xuan's tokenizers against llama.cpp's own tokenizer tests (the
# models/ggml-vocab-*.gguf + .inp/.out pairs of the reference's source tree,
# unpacked by scripts/peer.sh): the ids must be identical for every
# vocabulary xuan runs; those it requires (below) must run.  Heavy: needs the
# reference's source tree.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_SRC:?}" "${XUAN_PEER_DIR:?}"
bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" >/dev/null; rc=$?
[ $rc -eq 3 ] && { echo "SKIP: npm registry unreachable"; exit 77; }
[ $rc -ne 0 ] && exit $rc
models="$XUAN_PEER_DIR/llama.cpp/models"
if [ ! -d "$models" ]; then
  BUNDLE="$XUAN_PEER_DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  [ -f "$BUNDLE" ] || { echo "SKIP: no llama.cpp source tree ($BUNDLE)"; exit 77; }
  git -c advice.detachedHead=false clone -q "$BUNDLE" "$XUAN_PEER_DIR/llama.cpp" || exit 1
fi
python3 "$XUAN_SRC/tests/tok/vocab_pairs.py" "$XUAN_BIN" "$models" \
  --require command-r,deepseek-coder,deepseek-llm,gemma-4,gpt-2,llama-bpe,llama-spm,mpt,phi-3,qwen2,qwen35,refact,starcoder
