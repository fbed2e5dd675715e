#!/usr/bin/env bash
# xuan pull against a local HTTP server (tests/pull_server.py, 127.0.0.1):
# a clean download with sha256, a dropped connection that resumes, a wrong
# checksum that deletes the partial file, a full disk refused up front,
# a 404, and bad names.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}
T=$(mktemp -d "${XUAN_TMP:-/tmp}/pull.XXXXXX")
export XUAN_MODELS=$T/models XUAN_CACHE=$T/cache XUAN_PROGRESS=0
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
python3 "$SRC/tests/pull_server.py" "$T/port" 3145728 60 & SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 300); do [ -s "$T/port" ] && break; sleep 0.1; done
read -r PORT SHA < "$T/port"
B=http://127.0.0.1:$PORT
M=qwen2.5-0.5b-instruct:Q4_K_M

# 1. clean download through the hub URL scheme; checksum from X-Linked-Etag.
out=$(XUAN_HF_ENDPOINT=$B/good "$X" pull $M 2>&1); rc=$?
f=$XUAN_MODELS/Qwen2.5-0.5B-Instruct.Q4_K_M.gguf
if [ $rc -eq 0 ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$SHA" ] && grep -q "sha256 verified" <<<"$out" \
   && grep -q "/good/QuantFactory/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/Qwen2.5-0.5B-Instruct.Q4_K_M.gguf" "$T/port.log"; then
  ok "download via endpoint, sha256 verified"; else bad "download: rc=$rc $out"; fi
# again: already there, no request
out=$(XUAN_HF_ENDPOINT=$B/good "$X" pull $M 2>&1) && grep -q "already there" <<<"$out" && ok "second pull is a no-op" || bad "no-op: $out"

# 2. dropped connection -> resume with Range.
out=$("$X" pull $M --url "$B/drop/x" --file drop.gguf 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(sha256sum "$XUAN_MODELS/drop.gguf" | cut -d' ' -f1)" = "$SHA" ] \
   && grep -q "connection dropped" <<<"$out" && grep -q "GET /drop/x range=bytes=1048576-" "$T/port.log" \
   && [ ! -e "$XUAN_MODELS/drop.gguf.part" ]; then
  ok "dropped connection resumed from byte 1048576"; else bad "resume: rc=$rc $out"; cat "$T/port.log"; fi

# 3. wrong checksum -> partial file deleted, message says so.
out=$("$X" pull $M --url "$B/badsum/x" --file bad.gguf 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "checksum mismatch" <<<"$out" && grep -q "deleted the partial file" <<<"$out" \
   && [ ! -e "$XUAN_MODELS/bad.gguf.part" ] && [ ! -e "$XUAN_MODELS/bad.gguf" ]; then
  ok "wrong checksum deletes the partial file"; else bad "badsum: rc=$rc $out"; fi
# --sha256 given by the user wins over no header
out=$("$X" pull $M --url "$B/plain/x" --file user.gguf --sha256 "$(printf '1%.0s' $(seq 64))" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "checksum mismatch" <<<"$out" && ok "--sha256 checked" || bad "--sha256: $out"

# 4. full disk detected before any GET (test-only override of free space).
n_get=$(grep -c "^GET /plain/y" "$T/port.log")
out=$(XUAN_TEST_DISK_FREE=1000000 "$X" pull $M --url "$B/plain/y" --file full.gguf 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "not enough disk space" <<<"$out" && [ "$(grep -c '^GET /plain/y' "$T/port.log")" = "$n_get" ] \
   && [ ! -e "$XUAN_MODELS/full.gguf.part" ]; then
  ok "full disk refused before downloading"; else bad "disk: rc=$rc $out"; fi

# 5. 404, unknown names, API-only model, no recorded file.
out=$("$X" pull $M --url "$B/missing/x" --file m.gguf 2>&1); [ $? -eq 1 ] && grep -q "not found (404)" <<<"$out" && ok "404 named" || bad "404: $out"
out=$("$X" pull qwen2.5-7b-instruc 2>&1); [ $? -eq 2 ] && grep -q "did you mean 'qwen2.5-7b-instruct'" <<<"$out" && ok "unknown model suggests" || bad "model: $out"
out=$("$X" pull qwen2.5-7b-instruct:Q4_K_N 2>&1); [ $? -eq 2 ] && grep -q "did you mean 'Q4_K_M'" <<<"$out" && ok "unknown quant suggests" || bad "quant: $out"
out=$("$X" pull gpt-4o 2>&1); [ $? -eq 1 ] && grep -q "no weights" <<<"$out" && ok "API model refused" || bad "gpt-4o: $out"
out=$("$X" pull qwen3-4b 2>&1); [ $? -eq 1 ] && grep -q "records no Q4_K_M file" <<<"$out" && ok "no recorded file explained" || bad "qwen3-4b: $out"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
