#!/usr/bin/env bash
# Every chat template of llama.cpp's models/templates/ (the reference's
# source tree) and of ../shared/templates renders byte-identically in xuan
# (`xuan template --file`) and in @huggingface/jinja (npm, pinned) on the
# matrix of tests/golden/jinja/cases.json: 7 conversations (with/without
# system, multi-turn, a tool definition, a tool call and its result,
# reasoning_content, content parts) x add_generation_prompt on/off x
# enable_thinking absent/true/false.  Where @huggingface/jinja throws, xuan
# must fail too (that counts as agreement).  A template that cannot match is
# listed in tests/golden/jinja/known_mismatch.txt with the construct; any
# other difference fails the test.  Heavy: needs node and the npm registry.
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_SRC:?}" "${XUAN_BUILD:?}" "${XUAN_TMP:?}" "${XUAN_SHARED:?}"
JINJA_VERSION=0.5.11
export XUAN_JINJA_NOW=1767225600 TZ=UTC   # 2026-01-01 00:00 UTC for strftime_now
dir="$XUAN_BUILD/jinja"
mkdir -p "$dir"
if [ "$(node -p "try{require('$dir/node_modules/@huggingface/jinja/package.json').version}catch(e){''}" 2>/dev/null)" != "$JINJA_VERSION" ]; then
  [ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
  if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
          "@huggingface/jinja@$JINJA_VERSION" >"$dir/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$dir/npm.log"; then
      echo "SKIP: npm registry unreachable, @huggingface/jinja not installed (see $dir/npm.log)"
      exit 77
    fi
    cat "$dir/npm.log" >&2
    exit 1
  fi
fi
tdir="${XUAN_PEER_DIR:-$XUAN_BUILD/peer}/llama.cpp/models/templates"
if ! ls "$tdir"/*.jinja >/dev/null 2>&1; then
  rc=0
  bash "$XUAN_SRC/scripts/peer.sh" "${XUAN_PEER_DIR:-$XUAN_BUILD/peer}" >/dev/null || rc=$?
  [ "$rc" -eq 3 ] && { echo "SKIP: npm registry unreachable, llama.cpp source not installed"; exit 77; }
  [ "$rc" -eq 0 ] || exit 1
fi
templates=("$tdir"/*.jinja "$XUAN_SHARED"/templates/*.jinja)
out="$XUAN_TMP/jinja_matrix"
rm -rf "$out"
node "$XUAN_SRC/scripts/jinja_matrix.mjs" --jinja "$dir" --out "$out" \
  "$XUAN_SRC/tests/golden/jinja/cases.json" "${templates[@]}"
known="$XUAN_SRC/tests/golden/jinja/known_mismatch.txt"
n_t=0 n_same=0 n_cases=0 n_agree=0 n_both_err=0 unexpected=0
listed=()
for t in "${templates[@]}"; do
  name=$(basename "$t" .jinja)
  n_t=$((n_t + 1))
  bad=0 first=""
  while IFS=$'\t' read -r id mfile tfile gen kwargs; do
    n_cases=$((n_cases + 1))
    args=(template --file "$t" --messages "$mfile" --kwargs "$kwargs" --bos '<s>' --eos '</s>')
    [ "$tfile" != "-" ] && args+=(--tools "$tfile")
    [ "$gen" = 0 ] && args+=(--no-generation-prompt)
    got="$out/$name/$id.xuan"
    if "$XUAN_BIN" "${args[@]}" >"$got" 2>"$got.err"; then
      if [ -f "$out/$name/$id.txt" ] && cmp -s "$got" "$out/$name/$id.txt"; then
        n_agree=$((n_agree + 1)); continue
      fi
    elif [ -f "$out/$name/$id.err" ]; then
      n_agree=$((n_agree + 1)); n_both_err=$((n_both_err + 1)); continue
    fi
    bad=$((bad + 1))
    [ -n "$first" ] || first="$id"
  done <"$out/cases.tsv"
  if [ "$bad" -eq 0 ]; then
    n_same=$((n_same + 1))
    continue
  fi
  why=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$known" 2>/dev/null || true)
  if [ -n "$why" ]; then
    listed+=("$name: $why ($bad cases differ)")
  else
    unexpected=$((unexpected + 1))
    echo "FAIL: $name: $bad cases differ, first $first"
    if [ -f "$out/$name/$first.err" ]; then echo "  @huggingface/jinja threw: $(head -c 300 "$out/$name/$first.err")"; fi
    if [ -s "$out/$name/$first.xuan.err" ]; then echo "  xuan: $(head -c 300 "$out/$name/$first.xuan.err")"; fi
    if [ -f "$out/$name/$first.txt" ] && [ -f "$out/$name/$first.xuan" ]; then
      diff <(cat "$out/$name/$first.txt") <(cat "$out/$name/$first.xuan") | head -n 10 | sed 's/^/  /' || true
    fi
  fi
done
echo "templates identical on every case: $n_same/$n_t"
echo "cases in agreement: $n_agree/$n_cases ($n_both_err of them: both engines refuse)"
for l in ${listed[@]+"${listed[@]}"}; do echo "known mismatch: $l"; done
[ "$unexpected" -eq 0 ] || { echo "FAIL: $unexpected templates differ and are not in $known"; exit 1; }
echo "ok"
