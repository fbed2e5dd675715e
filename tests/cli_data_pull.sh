#!/usr/bin/env bash
# xuan data pull against a local HTTP server (tests/static_server.py,
# 127.0.0.1) that serves copies of a few ../shared/datasets files under
# Hugging Face's dataset path: a pull that verifies the pins, a second pull
# that downloads nothing, a corrupted file refused and removed (both digests
# named), a 404 that names the URL and falls through to the next source,
# HF_ENDPOINT honoured, --force, and the shipped tasks/sources.json checked
# against ../shared/datasets.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}/datasets
T=$(mktemp -d "${XUAN_TMP:-/tmp}/datapull.XXXXXX")
export XUAN_CACHE=$T/cache XUAN_PROGRESS=0
unset XUAN_DATA HF_ENDPOINT
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }

# The hub: datasets/<repo>/resolve/<rev>/<path>, a good copy and a corrupted one.
H=$T/hub/datasets/acme/bench/resolve/0123abc
mkdir -p "$H/gsm8k" "$H/mgsm" "$T/hub/datasets/acme/broken/resolve/0123abc/gsm8k"
cp "$SH/gsm8k/test.jsonl" "$H/gsm8k/test.jsonl"
cp "$SH/mgsm/mgsm_zh.tsv" "$SH/mgsm/mgsm_en.tsv" "$H/mgsm/"
{ head -c 1000 "$SH/gsm8k/test.jsonl"; echo tampered; } > "$T/hub/datasets/acme/broken/resolve/0123abc/gsm8k/test.jsonl"
python3 "$SRC/tests/static_server.py" "$T/hub" "$T/port" 60 & SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 300); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port"); B=http://127.0.0.1:$PORT
gs=$(sha256sum "$SH/gsm8k/test.jsonl" | cut -d' ' -f1)
zh=$(sha256sum "$SH/mgsm/mgsm_zh.tsv" | cut -d' ' -f1)
en=$(sha256sum "$SH/mgsm/mgsm_en.tsv" | cut -d' ' -f1)
cat > "$T/sources.json" <<JSON
{"version": 1, "sets": {
 "gsm8k": {"licence": "MIT", "source": "acme/bench @ 0123abc", "tasks": ["gsm8k"], "seed": true,
   "files": [{"path": "gsm8k/test.jsonl", "sha256": "$gs", "from": ["hf:acme/bench@0123abc:gsm8k/test.jsonl"]}]},
 "mgsm": {"licence": "CC BY 4.0", "source": "acme/bench @ 0123abc", "tasks": ["mgsm-zh"], "seed": true,
   "files": [{"path": "mgsm/mgsm_zh.tsv", "sha256": "$zh", "from": ["hf:acme/missing@0123abc:mgsm/mgsm_zh.tsv", "hf:acme/bench@0123abc:mgsm/mgsm_zh.tsv"]},
             {"path": "mgsm/mgsm_en.tsv", "from": ["hf:acme/bench@0123abc:mgsm/mgsm_en.tsv"]}]},
 "broken": {"licence": "MIT", "source": "acme/broken", "tasks": ["broken"],
   "files": [{"path": "gsm8k/test.jsonl", "sha256": "$gs", "from": ["hf:acme/broken@0123abc:gsm8k/test.jsonl"]}]},
 "gone": {"licence": "MIT", "source": "acme/gone", "tasks": ["gone"],
   "files": [{"path": "gone/x.jsonl", "sha256": "$gs", "from": ["hf:acme/gone@0123abc:x.jsonl"]}]}
}}
JSON
D=$T/data
n_req() { grep -c "^GET " "$T/port.log"; }

# 1. pull by task names through HF_ENDPOINT: files land with the pinned bytes.
out=$(HF_ENDPOINT=$B "$X" data pull gsm8k mgsm-zh --sources "$T/sources.json" --data "$D" 2>&1); rc=$?
if [ $rc -eq 0 ] && cmp -s "$D/gsm8k/test.jsonl" "$SH/gsm8k/test.jsonl" && cmp -s "$D/mgsm/mgsm_zh.tsv" "$SH/mgsm/mgsm_zh.tsv" \
   && cmp -s "$D/mgsm/mgsm_en.tsv" "$SH/mgsm/mgsm_en.tsv" && grep -q "gsm8k: acme/bench @ 0123abc; licence MIT" <<<"$out" \
   && grep -q "licence CC BY 4.0" <<<"$out" && grep -q "3 downloaded, 0 already there, 0 failed" <<<"$out" \
   && grep -q "GET /datasets/acme/bench/resolve/0123abc/gsm8k/test.jsonl" "$T/port.log"; then
  ok "pull via HF_ENDPOINT: 3 files, pinned bytes, licence and source printed"; else bad "pull: rc=$rc $out"; fi
# the 404 of the first mgsm source named its URL and fell through to the next
grep -q "$B/datasets/acme/missing/resolve/0123abc/mgsm/mgsm_zh.tsv: not found (404)" <<<"$out" && grep -q "trying the next source" <<<"$out" \
  && ok "404 names the URL, next source used" || bad "fallthrough: $out"
# the unpinned file warns with its digest (trust on first use)
grep -q "mgsm/mgsm_en.tsv has no pinned sha256 (trust on first use).*sha256 $en" <<<"$out" && ok "unpinned file warned with its sha256" || bad "tofu: $out"
[ ! -e "$D/gsm8k/test.jsonl.part" ] && [ ! -e "$D/mgsm/mgsm_zh.tsv.part" ] && ok "no partial files left" || bad "part files left"

# 2. a second pull downloads nothing (pinned files are hashed, not fetched).
before=$(n_req)
out=$(HF_ENDPOINT=$B "$X" data pull seed --sources "$T/sources.json" --data "$D" 2>&1); rc=$?
after=$(n_req)
# mgsm_en has no pin, so it is fetched again; the two pinned files are not
if [ $rc -eq 0 ] && grep -q "2 already there" <<<"$out" && [ $((after - before)) -eq 1 ]; then
  ok "second pull: pinned files skipped, 1 request (the unpinned file)"; else bad "second: rc=$rc req=$((after-before)) $out"; fi
# --force fetches the pinned ones again
before=$(n_req)
out=$(HF_ENDPOINT=$B "$X" data pull gsm8k --force --sources "$T/sources.json" --data "$D" 2>&1); rc=$?
[ $rc -eq 0 ] && [ $(( $(n_req) - before )) -eq 1 ] && cmp -s "$D/gsm8k/test.jsonl" "$SH/gsm8k/test.jsonl" \
  && ok "--force downloads again" || bad "--force: rc=$rc $out"
# a local file with the wrong bytes is replaced
echo junk > "$D/gsm8k/test.jsonl"
out=$(HF_ENDPOINT=$B "$X" data pull gsm8k --sources "$T/sources.json" --data "$D" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "is not the pinned $gs; downloading it again" <<<"$out" && cmp -s "$D/gsm8k/test.jsonl" "$SH/gsm8k/test.jsonl" \
  && ok "a damaged local copy is downloaded again" || bad "damaged: rc=$rc $out"

# 3. a corrupted download is refused, named with both digests, and removed.
D2=$T/data2
bad_sha=$(sha256sum "$T/hub/datasets/acme/broken/resolve/0123abc/gsm8k/test.jsonl" | cut -d' ' -f1)
out=$("$X" data pull broken --endpoint "$B" --sources "$T/sources.json" --data "$D2" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "checksum mismatch for gsm8k/test.jsonl: expected sha256 $gs, got $bad_sha" <<<"$out" \
   && [ ! -e "$D2/gsm8k/test.jsonl" ] && [ ! -e "$D2/gsm8k/test.jsonl.part" ]; then
  ok "corrupted file refused (both digests), removed; --endpoint honoured"; else bad "corrupt: rc=$rc $out"; fi

# 4. a 404 with no other source fails naming the URL.
out=$("$X" data pull gone --endpoint "$B" --sources "$T/sources.json" --data "$D2" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "set gone: $B/datasets/acme/gone/resolve/0123abc/x.jsonl: not found (404)" <<<"$out" \
  && grep -q "1 failed" <<<"$out" && ok "404 fails naming the URL" || bad "404: rc=$rc $out"

# 5. default folder: <cache>/datasets; unknown names and bad pin files.
out=$(HF_ENDPOINT=$B "$X" data pull gsm8k -q --sources "$T/sources.json" 2>&1); rc=$?
[ $rc -eq 0 ] && cmp -s "$XUAN_CACHE/datasets/gsm8k/test.jsonl" "$SH/gsm8k/test.jsonl" && ok "default folder <cache>/datasets" || bad "default: $out"
out=$("$X" data pull gsm8kk --sources "$T/sources.json" 2>&1); [ $? -eq 2 ] && grep -q "no set or task 'gsm8kk'" <<<"$out" && ok "unknown name refused" || bad "unknown: $out"
out=$("$X" data pul 2>&1); [ $? -eq 2 ] && ok "unknown subcommand" || bad "subcommand: $out"
printf '{"sets": {"x": {"licence": "MIT", "source": "s", "files": [{"path": "../etc/passwd", "from": ["hf:a/b@c:d"]}]}}}' > "$T/evil.json"
out=$("$X" data pull x --sources "$T/evil.json" --data "$D2" 2>&1); [ $? -eq 1 ] && grep -q "set 'x': a file without a safe relative 'path'" <<<"$out" \
  && ok "a path that climbs out of the data folder is refused" || bad "evil: $out"
printf '{"sets": {"x": {"licence": "MIT", "source": "s", "files": [{"path": "a", "from": ["http://evil/x"]}]}}}' > "$T/evil2.json"
out=$("$X" data pull x --sources "$T/evil2.json" 2>&1); [ $? -eq 1 ] && grep -q "a location that is not hf:" <<<"$out" && ok "bad location refused" || bad "evil2: $out"
printf '{"sets": ' > "$T/trunc.json"
out=$("$X" data pull x --sources "$T/trunc.json" 2>&1); [ $? -eq 1 ] && grep -q "trunc.json:1:" <<<"$out" && ok "broken JSON named" || bad "trunc: $out"

# 6. the shipped pins: every file's sha256 is that of its ../shared/datasets copy, every set listed
# (mmlu-pro comes from the hub and has no shared copy: cli_eval_mmlupro checks its entry).
bad_pins=$(python3 - "$SRC/tasks/sources.json" "$SH" <<'PY'
import hashlib, json, os, sys
doc = json.load(open(sys.argv[1])); n = 0; bad = []
for name, s in doc["sets"].items():
    if name == "mmlu-pro": continue
    for f in s["files"]:
        n += 1
        p = os.path.join(sys.argv[2], f["path"])
        if hashlib.sha256(open(p, "rb").read()).hexdigest() != f["sha256"]: bad.append(f["path"])
        if not f["from"][0].startswith("github:"): bad.append(f["path"] + " (not github)")
print(n, len(bad), " ".join(bad[:5]))
PY
)
[ "$bad_pins" = "356 0 " ] && ok "tasks/sources.json: 356 files pinned to the shared copies" || bad "pins: $bad_pins"
out=$(XUAN_TASKS=$SRC/tasks "$X" data pull --list 2>&1); [ $? -eq 0 ] && [ "$(wc -l <<<"$out")" -eq 10 ] && grep -q "^cmmlu .*cmmlu-it cmmlu-med" <<<"$out" \
  && grep -q "^mmlu-pro .*tasks: mmlu-pro" <<<"$out" && ok "--list: 10 sets" || bad "list: $out"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
