#!/usr/bin/env bash
# Re-renders every chat-template golden with @huggingface/jinja (npm,
# pinned, installed into $XUAN_BUILD/jinja) from tests/golden/chat/cases.json
# and the template files, and diffs against the stored
# tests/golden/chat/rendered.json — so a golden can never drift from what
# the real template renders.  (tests/test_chat.c then checks xuan's
# renderers against the same file.)  Heavy: needs node and the npm registry.
set -euo pipefail
: "${XUAN_SRC:?}" "${XUAN_BUILD:?}" "${XUAN_TMP:?}"
JINJA_VERSION=0.5.11
dir="$XUAN_BUILD/jinja"
mkdir -p "$dir"
if [ "$(node -p "try{require('$dir/node_modules/@huggingface/jinja/package.json').version}catch(e){''}" 2>/dev/null)" != "$JINJA_VERSION" ]; then
  [ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
  if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
          "@huggingface/jinja@$JINJA_VERSION" >"$dir/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$dir/npm.log"; then
      echo "SKIP: npm registry unreachable, @huggingface/jinja not installed (see $dir/npm.log)"
      exit 0
    fi
    cat "$dir/npm.log" >&2
    exit 1
  fi
fi
out="$XUAN_TMP/chat_rendered.json"
node "$XUAN_SRC/scripts/render_template.mjs" --jinja "$dir" "$XUAN_SRC/tests/golden/chat/cases.json" > "$out"
if ! diff -u "$XUAN_SRC/tests/golden/chat/rendered.json" "$out" > "$XUAN_TMP/chat_rendered.diff"; then
  head -n 40 "$XUAN_TMP/chat_rendered.diff"
  echo "FAIL: goldens differ from @huggingface/jinja's rendering (full diff: $XUAN_TMP/chat_rendered.diff)"
  exit 1
fi
n=$(grep -c '"format":' "$out")
echo "ok: $n chat-template cases re-rendered by @huggingface/jinja $JINJA_VERSION, identical to the goldens"

# The one-template mode renders the same text as the batch mode.
printf '[{"role":"system","content":"S"},{"role":"user","content":"你好"}]' > "$XUAN_TMP/chat_msgs.json"
got=$(BOS_TOKEN='<s>' node "$XUAN_SRC/scripts/render_template.mjs" --jinja "$dir" \
        "$XUAN_SRC/tests/golden/chat/templates/phi4.jinja" "$XUAN_TMP/chat_msgs.json")
want='<|im_start|>system<|im_sep|>S<|im_end|><|im_start|>user<|im_sep|>你好<|im_end|><|im_start|>assistant<|im_sep|>'
[ "$got" = "$want" ] || { echo "FAIL: single mode rendered '$got'"; exit 1; }
echo "ok: single-template mode"
