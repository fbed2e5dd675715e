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
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT
url() { # url NAME: waits for the server, prints its URL
  for _ in $(seq 1 100); do grep -q "ready:" "$dir/$1.log" && break; sleep 0.1; done
  grep -q "ready:" "$dir/$1.log" || { echo "FAIL: $1 did not start" >&2; cat "$dir/$1.log" >&2; return 1; }
  echo "http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/$1.log")"
}
tmpl="${XUAN_SHARED:-$XUAN_SRC/../shared}/templates/Qwen-Qwen2.5-7B-Instruct.jinja"
"$XUAN_BIN" serve -m "$dir/tiny.gguf" --port 0 -np 4 -c 2048 -t 1 --api-key test-key-123 >"$dir/serve.log" 2>&1 &
pids+=($!)
"$XUAN_BIN" serve -m "$dir/tiny.gguf" --port 0 -np 2 -c 8192 -t 1 --api-key test-key-123 --template-file "$tmpl" \
  >"$dir/tools.log" 2>&1 &
pids+=($!)
# auto mode needs <tool_call> as one token: the peer's Qwen vocabulary
auto=
if [ -f "${XUAN_PEER_DIR:-/nonexistent}/gen_gguf.py" ] && python3 "$XUAN_SRC/scripts/tok_vocab_gguf.py" \
     --peer "$XUAN_PEER_DIR" --from qwen --pre qwen2 --out "$dir/qwen.gguf" >"$dir/qwen.txt" 2>&1; then
  "$XUAN_BIN" serve -m "$dir/qwen.gguf" --port 0 -np 1 -c 2048 -t 1 --api-key test-key-123 --template-file "$tmpl" \
    >"$dir/auto.log" 2>&1 &
  pids+=($!)
  auto=$(url auto) || exit 1
else
  echo "skip: tool_choice auto (no peer Qwen vocabulary)"
fi
main=$(url serve) && tools=$(url tools) || exit 1
timeout 300 node "$XUAN_SRC/tests/serve_openai.mjs" "$npmdir" "$main" "$tools" $auto
rc=$?
for p in "${pids[@]}"; do
  kill -TERM "$p"; wait "$p"; src=$?
  [ "$src" = 0 ] || { echo "FAIL: server exit $src"; rc=1; }
done
exit $rc
