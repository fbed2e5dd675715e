#!/usr/bin/env bash
# The chat page at / in headless Chromium (tests/chat_page.mjs, playwright-core
# pinned and installed into $XUAN_BUILD/playwright, pointed at Debian's
# chromium): the streamed reply equals the greedy /v1/chat/completions answer,
# a tok/s figure is shown, a screenshot lands in $XUAN_TMP.  Heavy: needs
# chromium, node and the npm registry (visible skips when they are absent).
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_BUILD:?}"
PW_VERSION=1.65.2
CHROMIUM="${XUAN_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || { echo "SKIP: no chromium at $CHROMIUM (scripts/deps.sh installs it)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }
npmdir="$XUAN_BUILD/playwright"
mkdir -p "$npmdir"
if [ "$(node -p "try{require('$npmdir/node_modules/playwright-core/package.json').version}catch(e){''}" 2>/dev/null)" != "$PW_VERSION" ]; then
  [ -f "$npmdir/package.json" ] || echo '{"private": true}' > "$npmdir/package.json"
  if ! (cd "$npmdir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error \
        "playwright-core@$PW_VERSION" >"$npmdir/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$npmdir/npm.log"; then
      echo "SKIP: npm registry unreachable, playwright-core not installed (see $npmdir/npm.log)"
      exit 77
    fi
    cat "$npmdir/npm.log" >&2
    exit 1
  fi
fi
dir="$XUAN_TMP/cli_chat_page"; rm -rf "$dir"; mkdir -p "$dir"
# seed 6: a greedy reply of printable text (the default seed's is only
# newlines, which the page shows as nothing to compare)
"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --seed 6 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
# Q8_0 weights and cache: the streamed and the reference answer are the same bits
"$XUAN_BIN" serve -m "$dir/tiny.gguf" --port 0 -np 2 -c 1024 -t 1 --cache-type q8_0 >"$dir/serve.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q "ready:" "$dir/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/serve.log")
[ -n "$port" ] && grep -q "ready:" "$dir/serve.log" || { echo "FAIL: the server did not start"; cat "$dir/serve.log"; exit 1; }
HOME="$dir" timeout 120 node "$XUAN_SRC/tests/chat_page.mjs" "$npmdir" "http://127.0.0.1:$port" "$CHROMIUM" "$dir/chat_page.png"
rc=$?
kill -TERM $pid; wait $pid; src=$?
[ "$src" = 0 ] || { echo "FAIL: server exit $src"; rc=1; }
exit $rc
