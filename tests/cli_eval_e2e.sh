#!/usr/bin/env bash
# Issue 13, must-show 3: `xuan eval --suite seed --limit 20` end to end on one synthetic model
# (tiny256, Q8_0, phi-3's vocabulary and chat template, --max-tokens 16 to keep it short)
# against (a) the engine in process, (b) llama-server (the peer) and (c) `xuan serve` on
# the same file, greedy, 4 at a time (-j 4; 4 slots on the servers).  For each: an
# uninterrupted run, and a run killed with SIGKILL midway and resumed, which must end
# with the same 240 items and the same numbers.  (a) and (c) are one engine: every item
# must agree (the served chat answer is trimmed at both ends by the template's output
# parser, as llama-server's is, so outputs compare trimmed; tokens and finish exactly).
# (b) is another engine on random weights: the share of items that agree is printed and
# must be above half (a different model agrees on almost none).  `xuan report --md --html`
# renders the three resumed runs.  (d) two `xuan serve` as one fleet (--endpoint twice), one of
# them killed midway: the run completes with the items of (c).  Q8_0 weights with a Q8_0 cache give the same bits
# whatever the batch (docs/design.md), so the server's batching cannot change a token.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
LS=${XUAN_LLAMA_SERVER:-${XUAN_PEER_DIR:-}/llama.cpp/build/bin/llama-server}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] && [ -f "$SH/vocab/ggml-vocab-phi-3.gguf" ] || { echo "skip: no shared data"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/eval_e2e.XXXXXX")
export XUAN_PROGRESS=0 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
SPID=""; S1=""
cleanup() { for p in $SPID $S1; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
q() { python3 - "$@" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]): print("|".join(str(x) for x in row))
EOF
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
t_start=$(date +%s)

m=$T/tiny.gguf
# seed 2: its greedy answers differ from item to item (many seeds repeat one token throughout)
"$X" synth --preset tiny256 --vocab-from "$SH/vocab/ggml-vocab-phi-3.gguf" --ftype Q8_0 --seed 2 -o "$m" --force \
  >/dev/null 2>&1 || { echo "synth failed"; exit 1; }
RUN=(--suite seed --limit 20 --max-tokens 16 -j 4)
ITEMS="select task, idx, output, extracted, correct, n_gen, finish from items where run=%d order by task, idx"

# e2e NAME RUN BACKEND-FLAGS...: an uninterrupted run (u.db), a killed and resumed one (k.db);
# RUN is the run id both get in their store (one run per backend, in order)
e2e() {
  local name=$1 run=$2; shift 2
  "$X" eval "$@" "${RUN[@]}" --db "$T/u.db" --json >"$T/$name.u.json" 2>"$T/err"; local rc=$?
  local r; r=$(q "$T/u.db" "select count(*), count(distinct task) from items where run=$run")
  [ $rc = 0 ] && [ "$r" = "240|12" ] && ok "$name: --suite seed --limit 20: 240 items, 12 tasks" \
    || { bad "$name: rc=$rc $r $(tail -3 "$T/err")"; return; }
  "$X" eval "$@" "${RUN[@]}" --db "$T/k.db" >/dev/null 2>&1 & local kp=$!
  local n=0
  for _ in $(seq 1500); do
    n=$(q "$T/k.db" "select count(*) from items where run=$run" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 80 ] && break; sleep 0.02
  done
  kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null
  local at; at=$(q "$T/k.db" "select count(*) from items where run=$run")
  "$X" eval --resume "$run" --db "$T/k.db" --json >"$T/$name.k.json" 2>"$T/err"; rc=$?
  local a b
  # shellcheck disable=SC2059
  a=$(q "$T/u.db" "$(printf "$ITEMS" "$run")" | sha256sum)
  # shellcheck disable=SC2059
  b=$(q "$T/k.db" "$(printf "$ITEMS" "$run")" | sha256sum)
  r=$(q "$T/k.db" "select count(*), count(distinct task||'/'||idx) from items where run=$run")
  if [ $rc = 0 ] && [ "$a" = "$b" ] && [ "$r" = "240|240" ] && [ "$at" -ge 1 ] && [ "$at" -lt 240 ]; then
    ok "$name: killed at $at/240 items, resumed: the same 240 items, none twice"
  else bad "$name: resume rc=$rc at=$at rows=$r $(tail -3 "$T/err")"; fi
  # the numbers: every task's every metric (score, stderr, correct) of the resume's totals
  python3 - "$T/$name.u.json" "$T/$name.k.json" <<'EOF' && ok "$name: the resumed run's numbers equal the uninterrupted run's" || bad "$name: numbers differ"
import json, sys
u, k = (json.load(open(f)) for f in sys.argv[1:3])
num = lambda d: {t["task"]: (t["n"], t["metrics"]) for t in d["tasks"]}
assert len(u["tasks"]) == 12 and num(u) == num(k), (num(u), num(k))
assert k["skipped"] > 0 and k["generated"] + k["skipped"] == 240, k
EOF
}

# wait_up PORT: /health 200 within 60 s
wait_up() {
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health")" = 200 ] && return 0
    kill -0 "$SPID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# (a) in process
e2e engine 1 -m "$m" --cache-type q8_0 -t 2

# (b) llama-server
if [ -x "$LS" ]; then
  p=$(free_port)
  "$LS" -m "$m" --host 127.0.0.1 --port "$p" -np 4 -c 16384 --no-kv-unified -t 2 -ctk q8_0 -ctv q8_0 --no-webui \
    >"$T/llama.log" 2>&1 & SPID=$!
  if wait_up "$p"; then e2e llama-server 2 --endpoint "http://127.0.0.1:$p"
  else bad "llama-server did not come up: $(tail -3 "$T/llama.log")"; fi
  kill -9 "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=""
  LRUN=2; SRUN=3
else
  echo "skip (b): no llama-server at $LS"
  LRUN=0; SRUN=2
fi

# (c) xuan serve
p=$(free_port)
"$X" serve -m "$m" --port "$p" -np 4 -c 16384 -t 2 --cache-type q8_0 >"$T/serve.log" 2>&1 & SPID=$!
if wait_up "$p"; then e2e "xuan serve" "$SRUN" --endpoint "http://127.0.0.1:$p"
else bad "xuan serve did not come up: $(tail -3 "$T/serve.log")"; fi
kill -9 "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=""

# (d) a fleet of two `xuan serve -np 2`, one killed with SIGKILL midway: the run completes with
# exactly the items of (c)'s one-endpoint run (the same engine; Q8_0 bits at any batch)
p1=$(free_port); p2=$(free_port)
"$X" serve -m "$m" --port "$p1" -np 2 -c 8192 -t 1 --cache-type q8_0 >"$T/s1.log" 2>&1 & S1=$!
"$X" serve -m "$m" --port "$p2" -np 2 -c 8192 -t 1 --cache-type q8_0 >"$T/s2.log" 2>&1 & SPID=$!
if SPID=$S1 wait_up "$p1" && wait_up "$p2"; then
  "$X" eval --endpoint "http://127.0.0.1:$p1" --endpoint "http://127.0.0.1:$p2" --suite seed --limit 20 --max-tokens 16 \
    -j 2 --db "$T/fleet.db" >/dev/null 2>"$T/err" & EP=$!
  for _ in $(seq 1500); do
    n=$(q "$T/fleet.db" "select count(*) from items" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 60 ] && break; sleep 0.02
  done
  at=$(q "$T/fleet.db" "select count(*) from items")
  kill -9 "$SPID"; wait "$SPID" 2>/dev/null; SPID=$S1
  wait $EP; rc=$?
  # shellcheck disable=SC2059
  a=$(q "$T/u.db" "$(printf "$ITEMS" "$SRUN")" | sha256sum)
  # shellcheck disable=SC2059
  b=$(q "$T/fleet.db" "$(printf "$ITEMS" 1)" | sha256sum)
  r=$(q "$T/fleet.db" "select count(*), count(distinct task||'/'||idx) from items")
  if [ $rc = 0 ] && [ "$a" = "$b" ] && [ "$r" = "240|240" ] && [ "$at" -lt 240 ]; then
    ok "two xuan serve, one killed at $at/240 items: the run completes with the 240 items of one endpoint's run"
  else bad "fleet: rc=$rc at=$at rows=$r $(tail -3 "$T/err")"; fi
else bad "the two xuan serve did not come up: $(tail -2 "$T/s1.log" "$T/s2.log")"; fi
kill -9 "$S1" "$SPID" 2>/dev/null; wait "$S1" 2>/dev/null; SPID=""; S1=""

# item by item: (a) against (c) all, (a) against (b) counted
agree=$(python3 - "$T/u.db" 1 "$SRUN" "$LRUN" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
def items(run):
    return {(t, i): (o, n, f) for t, i, o, n, f in
            c.execute("select task, idx, output, n_gen, finish from items where run=?", (int(run),))}
a, s = items(sys.argv[2]), items(sys.argv[3])
trim = lambda v: (v[0].strip(), v[1], v[2])
same = sum(trim(a[k]) == trim(s.get(k, ("", 0, ""))) for k in a)
exact = sum(a[k] == s.get(k) for k in a)
words = sum(bool(v[0].strip()) for v in a.values())
line = "%d %d %d %d" % (len(a), same, exact, words)
if sys.argv[4] != "0":
    b = items(sys.argv[4])
    line += " %d %d" % (sum(trim(a[k]) == trim(b.get(k, ("", 0, ""))) for k in a),
                        sum(a[k][1] == b.get(k, ("", -1))[1] for k in a))
print(line)
EOF
)
read -r n same exact words lsame ltok <<<"$agree"
if [ "${n:-0}" = 240 ] && [ "$same" = 240 ] && [ "$words" -ge 120 ]; then
  ok "engine vs xuan serve: all 240 items agree (tokens, finish, trimmed output; $exact byte for byte; $words with text)"
else bad "engine vs xuan serve: $agree"; fi
if [ "$LRUN" != 0 ]; then
  if [ "${lsame:-0}" -gt 120 ]; then ok "engine vs llama-server: $lsame/240 items agree (trimmed output, tokens, finish), $ltok/240 the same token count"
  else bad "engine vs llama-server: only ${lsame:-?}/240 agree"; fi
fi

# xuan report renders the three resumed runs
runs=$(seq 1 "$SRUN")
# shellcheck disable=SC2086
"$X" report --db "$T/k.db" $runs --md "$T/r.md" --html "$T/r.html" >/dev/null 2>"$T/err"; rc=$?
python3 - "$T/r.md" "$T/r.html" "$SRUN" <<'EOF' && [ $rc = 0 ] && ok "report --md --html: $SRUN runs x 12 tasks, the HTML well formed with its 3 charts (one quant: no score-vs-quant)" || bad "report: rc=$rc $(cat "$T/err")"
import html.parser, sys
md, page, runs = open(sys.argv[1]).read(), open(sys.argv[2]).read(), int(sys.argv[3])
tasks = "gsm8k math500 humaneval medqa mmlu-it mmlu-med cmmlu-it cmmlu-med ceval-it ceval-med cmath mgsm-zh".split()
rows = [l for l in md.splitlines() if l.startswith("|") and any(("| %s " % t) in l for t in tasks)]
assert len(rows) == runs * 12, len(rows)
class P(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}
    def __init__(self):
        super().__init__(); self.stack = []; self.svg = 0
    def handle_starttag(self, tag, a):
        self.svg += tag == "svg"
        if tag not in self.VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, a): pass
    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag
p = P(); p.feed(page); p.close()
assert not p.stack and p.svg == 3, (p.stack[-3:], p.svg)  # no score-vs-quant chart: one quant
EOF

echo "wall time: $(( $(date +%s) - t_start )) s"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
