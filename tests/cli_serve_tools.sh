#!/usr/bin/env bash
# Tool calls and n > 1 in xuan serve (tests/serve_client.py does the HTTP):
# Qwen2.5's template (Hermes syntax) on the random-weight tiny model:
# required and named calls whose arguments validate, streamed deltas equal
# to the whole answer, a tool result round trip rendered as `xuan template`
# renders it, tool_choice none; forced calls in the Llama 3, Mistral and
# Harmony syntaxes; a template without tool calls (400); n choices; and,
# where the peer's Qwen vocabulary can be built, auto mode
# with <tool_call> forced by logit_bias.  Servers listen on free loopback
# ports and are killed on exit.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}"
dir="$XUAN_TMP/cli_serve_tools"; rm -rf "$dir"; mkdir -p "$dir"
client="$XUAN_SRC/tests/serve_client.py"
tmpl="${XUAN_SHARED:-$XUAN_SRC/../shared}/templates/Qwen-Qwen2.5-7B-Instruct.jinja"
[ -f "$tmpl" ] || { echo "SKIP: no $tmpl"; exit 77; }
fail=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT

start() { # start NAME ARGS...: a server on port 0; sets $base and $pid
  local name=$1; shift
  "$XUAN_BIN" serve --port 0 --cache-type q8_0 -t 1 --api-key test-key-123 "$@" >"$dir/$name.log" 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do grep -q "ready:" "$dir/$name.log" && break; sleep 0.1; done
  grep -q "ready:" "$dir/$name.log" || { echo "FAIL: $name did not start"; cat "$dir/$name.log"; exit 1; }
  base="http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/$name.log")"
}
run() { XUAN_TMP="$dir" timeout 300 python3 "$client" "$@" || { echo "FAIL: check $1"; fail=1; }; }
stop() { # SIGTERM drains: exit 0 (under ASan also: nothing leaked)
  kill -TERM "$pid"; wait "$pid"; local rc=$?
  [ "$rc" = 0 ] || { echo "FAIL: the server exited $rc"; tail -5 "$dir"/*.log; fail=1; }
}

"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
start hermes -m "$dir/tiny.gguf" -np 4 -c 8192 --template-file "$tmpl"
grep -q "output syntax hermes" "$dir/hermes.log" || { echo "FAIL: Qwen2.5's template is not read as hermes"; fail=1; }
run tools "$base" "$XUAN_BIN" "$tmpl"
run choices "$base" 1
stop
# the other families: Llama 3.1, Mistral Nemo, gpt-oss (Harmony; from the peer's llama.cpp tree)
shared_t="${XUAN_SHARED:-$XUAN_SRC/../shared}/templates"
for t in "$shared_t/meta-llama-Llama-3.1-8B-Instruct.jinja:llama3" "$shared_t/mistralai-Mistral-Nemo-Instruct-2407.jinja:mistral" \
         "${XUAN_PEER_DIR:-/nonexistent}/llama.cpp/models/templates/openai-gpt-oss-120b.jinja:harmony"; do
  f=${t%:*} syn=${t##*:}
  [ -f "$f" ] || { echo "skip: $syn forced calls (no $f)"; continue; }
  start "$syn" -m "$dir/tiny.gguf" -np 2 -c 8192 --template-file "$f"
  grep -q "output syntax $syn" "$dir/$syn.log" || { echo "FAIL: $f is not read as $syn"; fail=1; }
  run tools_forced "$base" "$syn"
  stop
done
start plain -m "$dir/tiny.gguf" -np 4 -c 4096
run tools_plain "$base"
run choices "$base" 0
stop

# auto: needs a vocabulary where <tool_call> is one token (the peer's Qwen one)
peer="${XUAN_PEER_DIR:-}"
if [ -n "$peer" ] && [ -f "$peer/gen_gguf.py" ] &&
   python3 "$XUAN_SRC/scripts/tok_vocab_gguf.py" --peer "$peer" --from qwen --pre qwen2 --out "$dir/qwen.gguf" \
     >"$dir/qwen.log" 2>&1; then
  start auto -m "$dir/qwen.gguf" -np 2 -c 4096 --cache-type f16 --template-file "$tmpl"
  run tools_auto "$base"
  stop
else
  echo "skip: tool_choice auto (no peer Qwen vocabulary: $peer)"
fi
exit $fail
