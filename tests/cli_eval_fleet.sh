#!/usr/bin/env bash
# xuan eval --endpoint URL --endpoint URL ...: a fleet of servers of one model (tests/fake_openai.py
# on 127.0.0.1, each answering the same rules).  The items equal a one-endpoint run's; every item is
# asked once (the servers' request counts add up to the items); a server killed with SIGKILL mid-run,
# one that answers 503 to everything, and one that is not there at all lose nothing: their items go
# to the others.  Servers that name different models are refused; when every server is down the run
# stops in bounded time, names the resume and stores nothing twice; a resume uses every endpoint.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] || { echo "skip: no datasets in $SH"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/eval_fleet.XXXXXX")
export XUAN_PROGRESS=0 XUAN_EVAL_RETRY_BASE_S=0.05 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

# gsm8k and medqa items 0..19: gold for even items, wrong for odd ones; DELAY seconds a request
mkrules() { # mkrules FILE DELAY [rules first...]
  local f=$1 delay=$2; shift 2
  : >"$f"
  for r in "$@"; do echo "$r" >>"$f"; done
  python3 - "$SH/datasets" "$delay" >>"$f" <<'EOF'
import json, sys
d, delay = sys.argv[1], float(sys.argv[2])
for i, l in enumerate(open(d + "/gsm8k/test.jsonl", encoding="utf-8")):
    if i == 20: break
    r = json.loads(l); gold = int(r["answer"].split("####")[-1].strip().replace(",", ""))
    print(json.dumps({"match": r["question"], "delay": delay, "reply": "#### %d" % (gold + i % 2)}))
for i, l in enumerate(open(d + "/medqa_us/phrases_no_exclude_test.jsonl", encoding="utf-8")):
    if i == 20: break
    r = json.loads(l); g = r["answer_idx"]
    letter = g if i % 2 == 0 else "ABCD"[("ABCD".index(g) + 1) % 4]
    print(json.dumps({"match": r["question"], "delay": delay, "reply": "The answer is (%s)." % letter}))
EOF
}
serve() { # serve NAME RULES -> PORT, SPID
  python3 "$SRC/tests/fake_openai.py" "$T/$1.port" "$2" 120 & SPID=$!; PIDS+=("$SPID")
  for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
  PORT=$(cat "$T/$1.port")
}
count() { python3 -c "import json,urllib.request;print(json.load(urllib.request.urlopen('http://127.0.0.1:$1/count'))['count'])"; }
q() { python3 - "$@" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]): print("|".join(str(x) for x in row))
EOF
}
items() { q "$1" "select task, idx, output, extracted, correct from items where run=${2:-1} order by task, idx" | sha256sum; }
U() { echo "http://127.0.0.1:$1"; }
RUN=(--tasks "gsm8k,medqa" --limit 20 -j 2)

mkrules "$T/r0" 0.02; mkrules "$T/r1" 0.05; mkrules "$T/r2" 0.1
serve ref "$T/r0"; PR=$PORT
"$X" eval --endpoint "$(U "$PR")" "${RUN[@]}" --db "$T/ref.db" >/dev/null 2>"$T/err" || bad "reference run: $(cat "$T/err")"
REF=$(items "$T/ref.db")
[ "$(q "$T/ref.db" "select count(*), sum(first_correct) from items")" = "40|20" ] && ok "one endpoint: 40 items, 20 right" || bad "reference: $(q "$T/ref.db" "select count(*) from items")"

# 1. two servers: the same items, each asked once, both servers used, both recorded
serve a "$T/r1"; PA=$PORT; serve b "$T/r1"; PB=$PORT
"$X" eval --endpoint "$(U "$PA")" --endpoint "$(U "$PB")" "${RUN[@]}" --db "$T/f.db" >/dev/null 2>"$T/err"; rc=$?
ca=$(count "$PA"); cb=$(count "$PB")
if [ $rc = 0 ] && [ "$(items "$T/f.db")" = "$REF" ] && [ $((ca + cb)) = 40 ] && [ "$ca" -gt 0 ] && [ "$cb" -gt 0 ]; then
  ok "two endpoints: the items of one endpoint's run, 40 requests ($ca + $cb)"
else bad "fleet: rc=$rc $ca $cb $(cat "$T/err")"; fi
cfg=$(q "$T/f.db" "select config from runs")
python3 -c "
import json, sys
c = json.loads(sys.argv[1]); a, b = sys.argv[2:4]
assert c['backend'] == {'backend': 'endpoint', 'urls': [a + '/v1', b + '/v1'], 'model': None}, c['backend']
assert c['endpoints'] == [{'url': a + '/v1', 'model_id': 'fake'}, {'url': b + '/v1', 'model_id': 'fake'}], c['endpoints']
assert c['jobs'] == 2" "$cfg" "$(U "$PA")" "$(U "$PB")" && ok "config: both URLs and the model each serves" || bad "config: $cfg"

# 2. one server killed with SIGKILL mid-run: the run completes, nothing lost or doubled
serve c "$T/r2"; PC=$PORT; serve d "$T/r2"; PD=$PORT; DPID=$SPID
"$X" eval --endpoint "$(U "$PC")" --endpoint "$(U "$PD")" "${RUN[@]}" --db "$T/k.db" --json >"$T/k.json" 2>"$T/err" & EP=$!
for _ in $(seq 200); do
  n=$(q "$T/k.db" "select count(*) from items" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 10 ] && break; sleep 0.05
done
at=$(q "$T/k.db" "select count(*) from items")
kill -9 "$DPID"
wait $EP; rc=$?
r=$(q "$T/k.db" "select count(*), count(distinct task||'/'||idx) from items")
if [ $rc = 0 ] && [ "$r" = "40|40" ] && [ "$(items "$T/k.db")" = "$REF" ] && [ "$at" -lt 40 ]; then
  ok "one of two servers killed at $at/40 items: the run completes, the same 40 items, none twice"
else bad "kill one: rc=$rc at=$at $r $(cat "$T/err")"; fi

# 3. a server that answers 503 to everything: its items go to the other
serve e "$T/r1"; PE=$PORT
mkrules "$T/r503" 0 '{"match": "", "status": 503}'
serve f "$T/r503"; PF=$PORT
t0=$(date +%s)
"$X" eval --endpoint "$(U "$PF")" --endpoint "$(U "$PE")" "${RUN[@]}" --db "$T/s.db" >/dev/null 2>"$T/err"; rc=$?
dt=$(( $(date +%s) - t0 )); cf=$(count "$PF")
if [ $rc = 0 ] && [ "$(items "$T/s.db")" = "$REF" ] && [ "$cf" -gt 0 ] && [ $dt -lt 30 ]; then
  ok "a server answering 503: its $cf requests retried on the other, the same 40 items (${dt}s)"
else bad "503 server: rc=$rc $cf ${dt}s $(cat "$T/err")"; fi

# 4. a server that is not there at the start: a warning, the other does the run
"$X" eval --endpoint http://127.0.0.1:1 --endpoint "$(U "$PE")" "${RUN[@]}" --db "$T/n.db" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 0 ] && [ "$(items "$T/n.db")" = "$REF" ] && grep -q "warning: http://127.0.0.1:1/v1/models: .*its items go to the other endpoints" "$T/err"; then
  ok "an endpoint refusing connections: warned, the same 40 items from the other"
else bad "absent server: rc=$rc $(cat "$T/err")"; fi

# 5. servers of different models are refused before a run is made
FAKE_OPENAI_MODEL=other serve g "$T/r0"; PG=$PORT
"$X" eval --endpoint "$(U "$PE")" --endpoint "$(U "$PG")" "${RUN[@]}" --db "$T/m.db" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 1 ] && grep -q "the endpoints serve different models: $(U "$PE")/v1 serves 'fake', $(U "$PG")/v1 serves 'other'" "$T/err" \
   && [ "$(q "$T/m.db" "select count(*) from runs" 2>/dev/null || echo 0)" = 0 ]; then
  ok "different models refused, naming both, no run made"
else bad "models: rc=$rc $(cat "$T/err")"; fi

# 6. every server down: the run stops in bounded time, names the resume, stores nothing
t0=$(date +%s)
"$X" eval --endpoint http://127.0.0.1:1 --endpoint http://127.0.0.1:2 "${RUN[@]}" --retries 1 --db "$T/z.db" >/dev/null 2>"$T/err"; rc=$?
dt=$(( $(date +%s) - t0 ))
if [ $rc = 1 ] && [ $dt -lt 10 ] && grep -q "every endpoint is down, 2 attempts in a row without an answer" "$T/err" \
   && grep -q "xuan eval --resume 1 --db" "$T/err" && [ "$(q "$T/z.db" "select count(*) from items")" = 0 ]; then
  ok "every endpoint down: stopped in ${dt}s, the resume named, nothing stored"
else bad "all down: rc=$rc ${dt}s $(cat "$T/err")"; fi

# 7. xuan eval killed mid-run over two servers, then --resume: both servers again, the same items
# (0.3 s an answer: the run takes ~6 s, so a poll slowed by a loaded machine still sees it midway)
mkrules "$T/r3" 0.3
serve h "$T/r3"; PH=$PORT; serve i "$T/r3"; PI=$PORT
"$X" eval --endpoint "$(U "$PH")" --endpoint "$(U "$PI")" "${RUN[@]}" --db "$T/r.db" >/dev/null 2>&1 & EP=$!
for _ in $(seq 200); do
  n=$(q "$T/r.db" "select count(*) from items" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 10 ] && break; sleep 0.05
done
kill -9 $EP; wait $EP 2>/dev/null
at=$(q "$T/r.db" "select count(*) from items"); h0=$(count "$PH"); i0=$(count "$PI")
"$X" eval --resume 1 --db "$T/r.db" >/dev/null 2>"$T/err"; rc=$?
dh=$(( $(count "$PH") - h0 )); di=$(( $(count "$PI") - i0 ))
if [ $rc = 0 ] && [ "$(items "$T/r.db")" = "$REF" ] && [ "$at" -lt 40 ] && [ $dh -gt 0 ] && [ $di -gt 0 ]; then
  ok "killed at $at/40, resumed over both endpoints ($dh + $di requests): the same 40 items"
else bad "fleet resume: rc=$rc at=$at $dh $di $(cat "$T/err")"; fi

# 8. usage: one URL twice
"$X" eval --endpoint "$(U "$PE")" --endpoint "$(U "$PE")/v1/" "${RUN[@]}" --db "$T/u.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "endpoint $(U "$PE")/v1 is given twice" "$T/err" && ok "one endpoint given twice: exit 2" || bad "twice: rc=$rc $(cat "$T/err")"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
