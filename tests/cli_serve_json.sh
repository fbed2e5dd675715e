#!/usr/bin/env bash
# response_format (json_object, json_schema) on a random-weight synthetic
# model sampled at temperature 1: tests/serve_json_client.py checks that every
# answer parses and validates, that unconstrained answers do not, the 400s
# for bad schemas and the "length" cut.  The server listens on a free
# loopback port and is killed on exit.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}"
dir="$XUAN_TMP/cli_serve_json"; rm -rf "$dir"; mkdir -p "$dir"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null' EXIT
"$XUAN_BIN" synth --preset tiny256 --type Q8_0 --force -o "$dir/tiny.gguf" >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }
"$XUAN_BIN" serve --port 0 -t 1 -m "$dir/tiny.gguf" -np 4 -c 4096 >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "ready:" "$dir/serve.log" && break; sleep 0.1; done
grep -q "ready:" "$dir/serve.log" || { echo "FAIL: the server did not start"; cat "$dir/serve.log"; exit 1; }
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/serve.log")
timeout 300 python3 "$XUAN_SRC/tests/serve_json_client.py" "http://127.0.0.1:$port"
rc=$?
[ $rc = 0 ] && echo "ok: cli_serve_json" || echo "FAIL: cli_serve_json (rc $rc)"
exit $rc
