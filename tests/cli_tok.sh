#!/usr/bin/env bash
# Black-box tests of `xuan tokenize` on the vocabularies in ../shared/vocab:
# ids, --pieces, --json, --special, BOS rules, standard input, errors.
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_SHARED:?}" "${XUAN_TMP:?}"
V="$XUAN_SHARED/vocab"
[ -d "$XUAN_SHARED/vocab" ] || { echo "skip: no $XUAN_SHARED/vocab (../shared)"; exit 77; }
fail=0
expect() { # name, expected, actual
  if [ "$2" != "$3" ]; then echo "FAIL $1: expected [$2], got [$3]"; fail=1; else echo "ok   $1"; fi
}

expect "gpt-2 ids" "15496 995" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-gpt-2.gguf" "Hello world")"
# SentencePiece adds BOS (id 1) as the vocabulary asks, unless --no-bos
expect "llama-spm bos" "1 15043 3186" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-llama-spm.gguf" "Hello world")"
expect "llama-spm no-bos" "15043 3186" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-llama-spm.gguf" --no-bos "Hello world")"
# special-token text is text unless --special
expect "special off" "1533 29879 29958" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-llama-spm.gguf" --no-bos "</s>" | sed 's/^29871 //')"
expect "special on" "2" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-llama-spm.gguf" --no-bos --special "</s>")"
# standard input, Chinese, byte tokens in --pieces
printf '你好\n' > "$XUAN_TMP/tok_in.txt"
expect "stdin" "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-deepseek-llm.gguf" "$(printf '你好\nx')" | cut -d' ' -f1)" \
  "$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-deepseek-llm.gguf" - < "$XUAN_TMP/tok_in.txt" | cut -d' ' -f1)"
pieces="$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-gpt-2.gguf" --pieces $'a\tb\n')"
expect "pieces escape" "$(printf '%s\t%s\n' 64 a 197 '\t' 65 b 198 '\n')" "$pieces"
json="$("$XUAN_BIN" tokenize -m "$V/ggml-vocab-gpt-2.gguf" --json "Hello world")"
expect "json" '{"ids": [15496, 995], "pieces": ["Hello", "\u0120world"], "n": 2}' \
  "$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')"
# invalid UTF-8 is tokenized, not refused (llama.cpp's ids)
expect "invalid utf8" "15496 4210 10603" "$(printf 'Hello\xffWorld' | "$XUAN_BIN" tokenize -m "$V/ggml-vocab-gpt-2.gguf" -)"
# errors: usage -> 2, bad file -> 1 with the path named
set +e
"$XUAN_BIN" tokenize "x" >/dev/null 2>&1; expect "no model exit" 2 $?
msg="$("$XUAN_BIN" tokenize -m "$XUAN_TMP/nope.gguf" x 2>&1)"; rc=$?
set -e
expect "missing file exit" 1 $rc
case "$msg" in *nope.gguf*) echo "ok   missing file message";; *) echo "FAIL missing file message: $msg"; fail=1;; esac
exit $fail
