#!/usr/bin/env bash
# The official `openai` npm client (pinned, installed into $XUAN_BUILD/openai)
# against `xuan serve` on a tiny model: tests/serve_openai.mjs.  Heavy: needs
# node and the npm registry (a visible skip when the registry is unreachable).
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_BUILD:?}"
OPENAI_VERSION=7.60.0
npmdir="$XUAN_BUILD/openai"
mkdir -p "$npmdir"
if [ "$(node -p "try{require('$npmdir/node_modules/openai/package.json').version}catch(e){''}" 2>/dev/null)" != "$OPENAI_VERSION" ]; then
  [ -f "$npmdir/package.json" ] || echo '{"private": true}' > "$npmdir/package.json"
  if ! (cd "$npmdir" && npm install --no-audit --no-fund --loglevel=error "openai@$OPENAI_VERSION" >"$npmdir/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$npmdir/npm.log"; then
      echo "SKIP: npm registry unreachable, openai not installed (see $npmdir/npm.log)"
      exit 77
    fi
    cat "$npmdir/npm.log" >&2
    exit 1
  fi
fi
dir="$XUAN_TMP/cli_serve_openai"; rm -rf "$dir"; mkdir -p "$dir"
"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
"$XUAN_BIN" serve -m "$dir/tiny.gguf" --port 0 -np 2 -c 1024 -t 1 --api-key test-key-123 >"$dir/serve.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q "ready:" "$dir/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/serve.log")
[ -n "$port" ] && grep -q "ready:" "$dir/serve.log" || { echo "FAIL: the server did not start"; cat "$dir/serve.log"; exit 1; }
timeout 120 node "$XUAN_SRC/tests/serve_openai.mjs" "$npmdir" "http://127.0.0.1:$port"
rc=$?
kill -TERM $pid; wait $pid; src=$?
[ "$src" = 0 ] || { echo "FAIL: server exit $src"; rc=1; }
exit $rc
