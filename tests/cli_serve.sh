#!/usr/bin/env bash
# xuan serve on tiny synthetic models (tests/serve_client.py does the HTTP):
# health, models, API key, chat and completions streamed and not, stop,
# seed, logit_bias, logprobs; echo logprobs equal to token-by-token `xuan
# run` evaluation; 32 concurrent clients each getting the lone greedy answer;
# malformed, mistyped, oversized and invalid-UTF-8 bodies; disconnects free
# the slot; queue full -> 503; slowloris; SIGTERM drains and exits 0.
# Every server listens on a free loopback port and is killed on exit.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}"
dir="$XUAN_TMP/cli_serve"; rm -rf "$dir"; mkdir -p "$dir"
client="$XUAN_SRC/tests/serve_client.py"
fail=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT

# Q8_0 weights and a Q8_0 cache: the same bits at any batch composition
# (include/xuan/model.h), so concurrent greedy answers must equal lone ones.
"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
# ~10x slower per token, for the tests that need a request to last a while
"$XUAN_BIN" synth --preset tiny256 --layers 8 --dim 512 --ffn 2048 --heads 8 --kv-heads 4 --type Q8_0 --force \
  -o "$dir/slow.gguf" >/dev/null 2>&1 || { echo "FAIL: synth slow"; exit 1; }

# start NAME ARGS...: starts a server on port 0, waits until it is ready, sets $base and $pid
start() {
  local name=$1; shift
  "$XUAN_BIN" serve --port 0 --cache-type q8_0 -t 1 "$@" >"$dir/$name.log" 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do
    grep -q "ready:" "$dir/$name.log" && break
    sleep 0.1
  done
  grep -q "ready:" "$dir/$name.log" || { echo "FAIL: $name did not start"; cat "$dir/$name.log"; exit 1; }
  local port
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/$name.log")
  base="http://127.0.0.1:$port"
}
run() { # run CHECK ARGS...: one client check, bounded in time
  timeout 180 python3 "$client" "$@" || { echo "FAIL: check $1"; fail=1; }
}

start main -m "$dir/tiny.gguf" -np 8 -c 4096 --api-key test-key-123 --max-body 64K --idle-timeout 2 --max-conn 64
run basic "$base"
run bad "$base"
run untrimmed "$base"

# The chat page: served without the key (it asks for it), HTML with a CSP,
# and its script parses (node --check), so a syntax slip cannot ship.
page_h=$(curl -s -D - -o "$dir/page.html" "$base/" | tr -d '\r')
grep -qi '^content-type: text/html; charset=utf-8' <<<"$page_h" || { echo "FAIL: / content type"; fail=1; }
grep -qi "^content-security-policy: default-src 'none'" <<<"$page_h" || { echo "FAIL: / CSP"; fail=1; }
grep -q '<title>xuan chat</title>' "$dir/page.html" || { echo "FAIL: / is not the chat page"; fail=1; }
cmp -s "$dir/page.html" "$XUAN_SRC/src/serve/chat_page.html" || { echo "FAIL: / differs from src/serve/chat_page.html"; fail=1; }
if command -v node >/dev/null; then
  sed -n '/<script>/,/<\/script>/p' "$dir/page.html" | sed '1d;$d' >"$dir/page.js"
  node --check "$dir/page.js" || { echo "FAIL: the chat page's script does not parse"; fail=1; }
fi
main_base=$base main_pid=$pid
start cold -m "$dir/tiny.gguf" -np 8 -c 4096 --api-key test-key-123
run concurrency "$main_base" 32 "$base"
kill -TERM "$pid"; wait "$pid"
base=$main_base pid=$main_pid
run slowloris "$base" 2

# Echo logprobs == log-softmax of `xuan run` logits, one prefix at a time
ids="5,17,99,3,120,64,200,31"
run echo "$base" "$ids" "$dir/echo.txt"
IFS=, read -ra a <<<"$ids"
for ((k = 1; k < ${#a[@]}; k++)); do
  pre=$(IFS=,; echo "${a[*]:0:k}")
  "$XUAN_BIN" run -m "$dir/tiny.gguf" --ids "$pre" --dump-logits "$dir/l$k.f32" -n 1 --temp 0 -b 1 -t 1 \
    --cache-type q8_0 >/dev/null 2>&1 || { echo "FAIL: xuan run prefix $k"; fail=1; }
done
python3 - "$dir" "$ids" <<'PY' || fail=1
import math, struct, sys
d, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
got = [float(x) for x in open(f"{d}/echo.txt")]
worst = 0.0
for k in range(1, len(ids)):
    b = open(f"{d}/l{k}.f32", "rb").read()
    l = struct.unpack(f"<{len(b)//4}f", b)
    m = max(l); lse = m + math.log(sum(math.exp(v - m) for v in l))
    worst = max(worst, abs((l[ids[k]] - lse) - got[k - 1]))
print(f"echo logprobs vs one-prefix-at-a-time xuan run: max |dlogp| {worst:.2e} over {len(ids) - 1} tokens")
assert worst < 1e-4, "the server's prompt logprobs differ from token-by-token evaluation"
PY

# SIGTERM with nothing running: exit 0
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 0 ] && echo "ok: SIGTERM idle: exit 0" || { echo "FAIL: SIGTERM idle: exit $rc"; fail=1; }

# Reasoning and template kwargs, with real templates on the byte-vocabulary model
tdir="${XUAN_SHARED:-$XUAN_SRC/../shared}/templates"
if [ -f "$tdir/Qwen-QwQ-32B.jinja" ] && [ -f "$tdir/Qwen-Qwen3-0.6B.jinja" ]; then
  start qwq -m "$dir/tiny.gguf" -np 2 -c 1024 --api-key test-key-123 \
    --template-file "$tdir/Qwen-QwQ-32B.jinja"
  run reasoning "$base" 1
  kill -TERM "$pid"; wait "$pid"
  start qwen3 -m "$dir/tiny.gguf" -np 2 -c 1024 --api-key test-key-123 --template-file "$tdir/Qwen-Qwen3-0.6B.jinja"
  run reasoning "$base" 0
  kill -TERM "$pid"; wait "$pid"
else
  echo "skip: reasoning checks (no templates in $tdir)"
fi

start slow -m "$dir/slow.gguf" -np 2 -c 8192
run disconnect "$base"
run shared_prefix "$base"
run choices_queue "$base"
kill -TERM "$pid"; wait "$pid"

start timeout -m "$dir/slow.gguf" -np 1 -c 4096 --timeout 3
run timeout "$base"
kill -TERM "$pid"; wait "$pid"

start queue -m "$dir/slow.gguf" -np 1 -c 1024 --queue 1
run queue "$base"
run queue_disconnect "$base"
# SIGTERM while a request runs: it finishes (200, all its tokens), then exit 0
: >"$dir/drain.txt"
timeout 60 python3 "$client" drain_start "$base" "$dir/drain.txt" &
cpid=$!
for _ in $(seq 1 50); do grep -q started "$dir/drain.txt" && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid"; rc=$?
wait "$cpid"
grep -q "^200 200$" "$dir/drain.txt" && [ "$rc" = 0 ] && echo "ok: SIGTERM while busy: the request finished (200, 200 tokens), exit 0" ||
  { echo "FAIL: drain: exit $rc, client: $(tr '\n' ' ' <"$dir/drain.txt")"; tail -3 "$dir/queue.log"; fail=1; }

# bad flags
"$XUAN_BIN" serve -m "$dir/tiny.gguf" -np 0 >/dev/null 2>&1; [ $? = 2 ] && echo "ok: -np 0 is a usage error" || { echo "FAIL: -np 0"; fail=1; }
"$XUAN_BIN" serve -m "$dir/tiny.gguf" --host nowhere >/dev/null 2>&1; [ $? = 2 ] && echo "ok: --host nowhere is a usage error" || { echo "FAIL: --host"; fail=1; }
"$XUAN_BIN" serve --port 0 -m "$dir/nope.gguf" >/dev/null 2>&1; [ $? = 1 ] && echo "ok: a missing model exits 1" || { echo "FAIL: missing model"; fail=1; }
exit $fail
