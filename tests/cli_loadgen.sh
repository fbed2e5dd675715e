#!/usr/bin/env bash
# bench/loadgen.py against `xuan serve` on a tiny synthetic model: the counts
# of requests and tokens it reports (4 clients x 2 requests, chat and
# completions), HTTP errors counted with exit 1 (a server with a key the
# client lacks), and a clear one-line error with exit 2 for a closed port, a
# host that is not loopback and bad arguments.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}"
dir="$XUAN_TMP/cli_loadgen"; rm -rf "$dir"; mkdir -p "$dir"
lg="$XUAN_SRC/bench/loadgen.py"
fail=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT
"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }

start() { # start NAME ARGS...: sets $base
  local name=$1; shift
  "$XUAN_BIN" serve -m "$dir/tiny.gguf" --port 0 -t 1 "$@" >"$dir/$name.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do grep -q "ready:" "$dir/$name.log" && break; sleep 0.1; done
  grep -q "ready:" "$dir/$name.log" || { echo "FAIL: $name did not start"; cat "$dir/$name.log"; exit 1; }
  base="http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/$name.log")"
}
# check NAME EXPECTED_RC FILE ARGS...: runs loadgen, keeps stdout in FILE
check() {
  local name=$1 want=$2 out=$3; shift 3
  timeout 120 python3 "$lg" "$@" >"$out" 2>"$out.err"; local rc=$?
  if [ "$rc" = "$want" ]; then echo "ok: $name: exit $rc"; else echo "FAIL: $name: exit $rc, expected $want"; cat "$out" "$out.err"; fail=1; fi
}

start open -np 4 -c 2048
for ep in chat completions; do
  check "$ep 4x2" 0 "$dir/$ep.json" --url "$base" --endpoint "$ep" -c 4 -n 8 --prompt-tokens 24 --max-tokens 6 --json
  python3 - "$dir/$ep.json" "$ep" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
want = {"requests": 8, "ok": 8, "errors": 0, "completion_tokens": 48, "clients": 4, "max_tokens": 6}
bad = {k: (j.get(k), v) for k, v in want.items() if j.get(k) != v}
assert not bad, f"{sys.argv[2]}: got/expected {bad}"
assert j["tok_s"] > 0 and j["wall_s"] > 0, j
# tiny256 has a byte vocabulary: its pieces are text, so every request has a TTFT
assert j["no_content"] == 0 and j["ttft_p50_ms"] is not None and j["ttft_p50_ms"] <= j["ttft_p99_ms"], j
assert abs(j["tok_s"] - j["completion_tokens"] / j["wall_s"]) <= 0.01 * j["tok_s"] + 0.01, j
print(f"ok: {sys.argv[2]}: 8 requests, 48 tokens, {j['tok_s']} tok/s, TTFT p50 {j['ttft_p50_ms']} ms")
PY
done
# the text form says the same
check "text 2x1" 0 "$dir/text.txt" --url "$base/v1" -c 2 --max-tokens 3
grep -q '^2/2 requests ok, 0 errors, 6 completion tokens' "$dir/text.txt" || { echo "FAIL: text summary"; cat "$dir/text.txt"; fail=1; }

# HTTP errors: a server with a key, a client without it: every request fails, exit 1
start keyed -np 2 -c 1024 --api-key k-123
check "401s" 1 "$dir/keyed.json" --url "$base" -c 2 -n 3 --max-tokens 4 --json
python3 - "$dir/keyed.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
assert j["requests"] == 3 and j["ok"] == 0 and j["errors"] == 3 and j["completion_tokens"] == 0, j
assert any(m.startswith("HTTP 401") for m in j["error_messages"]), j["error_messages"]
print("ok: 401s: 3 errors reported:", j["error_messages"][0][:60])
PY
check "with the key" 0 "$dir/keyok.json" --url "$base" -c 2 -n 3 --max-tokens 4 --api-key k-123 --json

# a closed port: one clear line, exit 2
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
check "closed port" 2 "$dir/closed.txt" --url "http://127.0.0.1:$closed" -c 4
grep -q "^loadgen: cannot connect to 127.0.0.1:$closed" "$dir/closed.txt.err" || { echo "FAIL: closed port message"; cat "$dir/closed.txt.err"; fail=1; }
check "not loopback" 2 "$dir/remote.txt" --url "http://192.0.2.1:8080"
grep -q "not a loopback address" "$dir/remote.txt.err" || { echo "FAIL: remote host message"; fail=1; }
check "bad clients" 2 "$dir/badc.txt" --url "$base" -c 0
check "bad scheme" 2 "$dir/https.txt" --url "https://127.0.0.1:1"
exit $fail
