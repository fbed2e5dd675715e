#!/usr/bin/env bash
# xuan eval against a deterministic OpenAI-compatible server (tests/fake_openai.py on 127.0.0.1):
# exact scores (the server answers gold for some items and wrong for the others), the results
# store (items, no duplicates, schema version), the request cache (a second run sends nothing),
# SIGKILL mid-run + --resume ending with exactly the items of an uninterrupted run, -j parallel
# requests, retries on 500 / 429, and one-line errors for garbage, hangs and bad stores.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] || { echo "skip: no datasets in $SH"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/eval_run.XXXXXX")
export XUAN_PROGRESS=0 XUAN_EVAL_RETRY_BASE_S=0.05 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

# rules: gsm8k items 0..19 (even: the gold number, odd: gold + 1) and medqa 0..9 (i % 3 != 0: the
# gold letter, else the next one): strict 10/20, medqa 6/10 (items 1,2,4,5,7,8).
mkrules() { # mkrules FILE DELAY [extra rules first...]
  local f=$1 delay=$2; shift 2
  : >"$f"
  for r in "$@"; do echo "$r" >>"$f"; done
  python3 - "$SH/datasets" "$delay" >>"$f" <<'EOF'
import json, sys
d, delay = sys.argv[1], float(sys.argv[2])
for i, l in enumerate(open(d + "/gsm8k/test.jsonl", encoding="utf-8")):
    if i == 20: break
    r = json.loads(l); gold = int(r["answer"].split("####")[-1].strip().replace(",", ""))
    think = "<think>It might be #### 999.</think>" if i == 0 else ""  # stripped before extraction
    print(json.dumps({"match": r["question"], "delay": delay,
                      "reply": think + "Let me think.\n#### %d" % (gold if i % 2 == 0 else gold + 1)}))
for i, l in enumerate(open(d + "/medqa_us/phrases_no_exclude_test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); g = r["answer_idx"]
    letter = g if i % 3 else "ABCD"[("ABCD".index(g) + 1) % 4]
    print(json.dumps({"match": r["question"], "delay": delay, "reply": "The answer is (%s)." % letter}))
EOF
}
serve() { # serve NAME RULES -> sets PORT
  python3 "$SRC/tests/fake_openai.py" "$T/$1.port" "$2" 120 & PIDS+=($!)
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
jget() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(eval(sys.argv[1]))" "$1"; }

mkrules "$T/rules" 0
serve main "$T/rules"; P1=$PORT
E="--endpoint http://127.0.0.1:$P1 --model fake"

# 1. exact scores, the store's rows
out=$("$X" eval $E --tasks gsm8k,medqa --limit 20 --db "$T/a.db" --json 2>"$T/err"); rc=$?
s=$(jget 'd["tasks"][0]["metrics"]["gsm8k-strict"]["correct"], d["tasks"][0]["metrics"]["gsm8k-flexible"]["correct"], d["tasks"][1]["n"], d["requests"]' <<<"$out")
if [ $rc = 0 ] && [ "$s" = "(10, 10, 20, 40)" ]; then ok "exact scores: strict 10/20, flexible 10/20, 40 requests"; else bad "scores: rc=$rc $s $(cat "$T/err")"; fi
m=$(jget 'd["tasks"][1]["metrics"]' <<<"$out")
case "$m" in *"'correct': 6"*) ok "medqa letters: 6/20 (6 right among the 10 answered)";; *) bad "medqa: $m";; esac
r=$(q "$T/a.db" "select count(*), count(distinct task||idx), sum(first_correct) from items where run=1")
[ "$r" = "40|40|16" ] && ok "store: 40 items, no duplicates, 16 right" || bad "store rows: $r"
se=$(jget 'round(d["tasks"][0]["metrics"]["gsm8k-strict"]["stderr"], 6)' <<<"$out")
[ "$se" = "0.114708" ] && ok "stderr sqrt(p(1-p)/(n-1)) = 0.114708" || bad "stderr $se"
v=$(q "$T/a.db" "pragma user_version"); jm=$(q "$T/a.db" "pragma journal_mode")
[ "$v" = 1 ] && [ "$jm" = wal ] && ok "schema user_version 1, WAL" || bad "pragma: $v $jm"
cfg=$(q "$T/a.db" "select config from runs where id=1")
python3 -c "import json,sys; c=json.loads(sys.argv[1]); assert c['backend']=={'backend':'endpoint','url':'http://127.0.0.1:$P1/v1','model':'fake'}; assert c['tasks'][0]['name']=='gsm8k' and len(c['tasks'][0]['sha256'])==64; assert c['limit']==20 and c['seed']==0" "$cfg" \
  && ok "run config: backend, task sha256, limit, seed" || bad "config: $cfg"
tbl=$("$X" eval $E --tasks gsm8k --limit 20 --db "$T/a.db" 2>/dev/null)
grep -q "^gsm8k  *20  gsm8k-strict  *50.00%  ±  11.47" <<<"$tbl" && ok "table row" || bad "table: $tbl"

# 2. the cache: the same requests again send nothing
before=$(count "$P1")
out=$("$X" eval $E --tasks gsm8k,medqa --limit 20 --db "$T/a.db" --json 2>/dev/null); rc=$?
after=$(count "$P1")
s=$(jget 'd["cached"], d["generated"], d["requests"], d["tasks"][0]["metrics"]["gsm8k-strict"]["correct"]' <<<"$out")
[ $rc = 0 ] && [ "$before" = "$after" ] && [ "$s" = "(40, 0, 0, 10)" ] && ok "second run: 40 cached, zero HTTP requests" || bad "cache: $before $after $s"
out=$("$X" eval $E --tasks gsm8k --limit 3 --db "$T/a.db" --json --no-cache 2>/dev/null)
[ "$(jget 'd["requests"]' <<<"$out")" = 3 ] && ok "--no-cache sends the requests" || bad "no-cache: $out"

# 3. -j 4 gives the same items as -j 1 (and is faster against a server taking 50 ms a request)
mkrules "$T/slow" 0.05
serve slow "$T/slow"; PS=$PORT
o1=$("$X" eval --endpoint "http://127.0.0.1:$PS" --tasks gsm8k --limit 20 --db "$T/j1.db" --json 2>/dev/null)
o4=$("$X" eval --endpoint "http://127.0.0.1:$PS" --tasks gsm8k --limit 20 --db "$T/j4.db" --json -j 4 2>/dev/null)
a=$(q "$T/j1.db" "select idx, output, correct from items order by idx" | sha256sum)
b=$(q "$T/j4.db" "select idx, output, correct from items order by idx" | sha256sum)
r1=$(jget 'round(d["items_per_s"], 1)' <<<"$o1"); r4=$(jget 'round(d["items_per_s"], 1)' <<<"$o4")
if [ "$a" = "$b" ] && python3 -c "import sys; sys.exit(not float(sys.argv[2]) > 2 * float(sys.argv[1]))" "$r1" "$r4"; then
  ok "-j 4 stores the same items as -j 1, $r4 vs $r1 items/s"; else bad "-j: $r1 $r4 $a $b"; fi

# 4. SIGKILL mid-run, then --resume: exactly the items of the uninterrupted run
mkrules "$T/kill" 0.1
serve kill "$T/kill"; PK=$PORT
"$X" eval --endpoint "http://127.0.0.1:$PK" --tasks gsm8k,medqa --limit 20 --db "$T/k.db" --json >/dev/null 2>&1 & KP=$!
PIDS+=($KP)
for _ in $(seq 200); do
  n=$(q "$T/k.db" "select count(*) from items" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 12 ] && break; sleep 0.05
done
kill -9 $KP; wait $KP 2>/dev/null
at_kill=$(q "$T/k.db" "select count(*) from items")
sent=$(count "$PK")
out=$("$X" eval --resume 1 --db "$T/k.db" --json 2>"$T/err"); rc=$?
resent=$(( $(count "$PK") - sent ))
r=$(q "$T/k.db" "select count(*), count(distinct task||'/'||idx) from items where run=1")
a=$(q "$T/a.db" "select task, idx, output, extracted, correct from items where run=1 order by task, idx" | sha256sum)
b=$(q "$T/k.db" "select task, idx, output, extracted, correct from items where run=1 order by task, idx" | sha256sum)
s1=$(jget 'd["tasks"][0]["metrics"], d["tasks"][1]["metrics"], d["skipped"]' <<<"$out")
if [ $rc = 0 ] && [ "$r" = "40|40" ] && [ "$a" = "$b" ] && [ "$at_kill" -ge 12 ] && [ "$at_kill" -lt 40 ]; then
  ok "killed at $at_kill/40 items, resumed: 40 items, no duplicates, same items and scores as run 1 ($resent requests after the kill)"
else bad "resume: rc=$rc at_kill=$at_kill rows=$r $s1 $(cat "$T/err")"; fi
s=$(jget 'd["skipped"]' <<<"$out")
[ "$s" = "$at_kill" ] && ok "resume skipped the $at_kill stored items" || bad "skipped $s vs $at_kill"

# 5. transient errors are retried: 500 twice, 429 once with Retry-After, then the answer
J=$(python3 -c "import json;print(json.loads(open('$SH/datasets/gsm8k/test.jsonl').readline())['question'])")
mkrules "$T/flaky" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'status':500,'times':2}))" "$J")"
serve flaky "$T/flaky"; PF=$PORT
out=$("$X" eval --endpoint "http://127.0.0.1:$PF" --tasks gsm8k --limit 2 --db "$T/f.db" --json 2>"$T/err"); rc=$?
s=$(jget 'd["requests"], d["tasks"][0]["metrics"]["gsm8k-strict"]["correct"]' <<<"$out")
[ $rc = 0 ] && [ "$s" = "(4, 1)" ] && ok "HTTP 500 twice: retried, 4 requests, item scored" || bad "500 retry: rc=$rc $s $(cat "$T/err")"
mkrules "$T/r429" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'status':429,'times':1,'retry_after':0.3}))" "$J")"
serve r429 "$T/r429"; PR=$PORT
t0=$(date +%s.%N)
out=$("$X" eval --endpoint "http://127.0.0.1:$PR" --tasks gsm8k --limit 1 --db "$T/r.db" --json 2>"$T/err"); rc=$?
dt=$(python3 -c "print($(date +%s.%N) - $t0)")
s=$(jget 'd["requests"]' <<<"$out")
[ $rc = 0 ] && [ "$s" = 2 ] && python3 -c "import sys; sys.exit(not float(sys.argv[1]) >= 0.3)" "$dt" \
  && ok "HTTP 429: waited its Retry-After, then answered" || bad "429: rc=$rc $s $dt $(cat "$T/err")"

# 6. permanent errors: the item is named, not stored, the others are; a resume retries it
mkrules "$T/down" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'status':503}))" "$J")"
serve down "$T/down"; PD=$PORT
out=$("$X" eval --endpoint "http://127.0.0.1:$PD" --tasks gsm8k --limit 3 --db "$T/d.db" --retries 2 --json 2>"$T/err"); rc=$?
r=$(q "$T/d.db" "select group_concat(idx) from items")
if [ $rc = 1 ] && grep -q "gsm8k item 0: after 3 attempts: endpoint .*HTTP 503" "$T/err" && [ "$r" = "1,2" ] \
   && grep -q "1 items failed .* --resume 1" "$T/err"; then ok "503 for good: item 0 named, not stored, items 1 and 2 are"
else bad "503: rc=$rc rows=$r $(cat "$T/err")"; fi
out=$("$X" eval --resume 1 --db "$T/d.db" --retries 0 --json 2>"$T/err"); rc=$?
[ $rc = 1 ] && [ "$(count "$PD")" = 6 ] && ok "resume retries only the failed item (3 + 2 requests, then 1)" || bad "resume failed item: rc=$rc $(count "$PD")"

# 7. garbage, missing content, a hang
mkrules "$T/junk" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'garbage':True}))" "$J")"
serve junk "$T/junk"; PJ=$PORT
"$X" eval --endpoint "http://127.0.0.1:$PJ" --tasks gsm8k --limit 2 --db "$T/g.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "gsm8k item 0: endpoint: the reply is no JSON" "$T/err" && ok "garbage reply named" || bad "garbage: $rc $(cat "$T/err")"
mkrules "$T/nocontent" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'no_content':True}))" "$J")"
serve noc "$T/nocontent"; PN=$PORT
"$X" eval --endpoint "http://127.0.0.1:$PN" --tasks gsm8k --limit 1 --db "$T/n.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "choices\[0\].message.content is missing" "$T/err" && ok "reply without content named" || bad "no content: $(cat "$T/err")"
mkrules "$T/hang" 0 "$(python3 -c "import json,sys;print(json.dumps({'match':sys.argv[1],'delay':30}))" "$J")"
serve hang "$T/hang"; PH=$PORT
t0=$(date +%s)
"$X" eval --endpoint "http://127.0.0.1:$PH" --tasks gsm8k --limit 1 --db "$T/h.db" --timeout 0.5 --retries 1 >/dev/null 2>"$T/err"; rc=$?
dt=$(( $(date +%s) - t0 ))
[ $rc = 1 ] && [ $dt -lt 10 ] && grep -q "gsm8k item 0: after 2 attempts: .*[Tt]imeout\|timed out" "$T/err" && ok "a hang times out (${dt}s), retried once, named" || bad "hang: rc=$rc ${dt}s $(cat "$T/err")"
"$X" eval --endpoint "http://127.0.0.1:1" --tasks gsm8k --limit 1 --db "$T/c.db" --retries 1 >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "gsm8k item 0: after 2 attempts: endpoint .*onnect" "$T/err" && ok "connection refused: retried, named" || bad "refused: $(cat "$T/err")"

# 8. log-likelihood multiple choice through /v1/completions echo + logprobs: the server prefers the
# gold letter for i % 3 != 0, 4 requests an item; item 9's reply has no logprobs
python3 - "$SH/datasets" >"$T/ll" <<'EOF'
import json, sys
for i, l in enumerate(open(sys.argv[1] + "/medqa_us/phrases_no_exclude_test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); g = r["answer_idx"]
    if i == 9: print(json.dumps({"match": r["question"], "bad_logprobs": True})); continue
    print(json.dumps({"match": r["question"], "choice": g if i % 3 else "ABCD"[("ABCD".index(g) + 1) % 4]}))
EOF
serve ll "$T/ll"; PL=$PORT
out=$("$X" eval --endpoint "http://127.0.0.1:$PL" --tasks medqa --limit 10 --mode loglik --db "$T/ll.db" --json 2>"$T/err"); rc=$?
s=$(jget 'd["tasks"][0]["metrics"]["loglik"]["correct"], d["tasks"][0]["n"], d["requests"]' <<<"$out")
if [ $rc = 1 ] && [ "$s" = "(6, 9, 37)" ] && grep -q "medqa item 9: endpoint: the reply has no choices\[0\].logprobs" "$T/err"; then
  ok "loglik via echo + logprobs: 6/9 right, 4 requests an item, a reply without logprobs named"
else bad "loglik endpoint: rc=$rc $s $(cat "$T/err")"; fi
lp=$(q "$T/ll.db" "select extracted from items where idx = 1")
python3 -c "import json,sys; e=json.loads(sys.argv[1]); v=sorted(e['logprobs'].values()); assert v[-1] - v[0] == 2.5, e" "$lp" \
  && ok "loglik sums the continuation's tokens only" || bad "loglik sums: $lp"

# 9. bad stores and bad resumes
python3 -c "import sqlite3; c=sqlite3.connect('$T/new.db'); c.execute('pragma user_version=7'); c.execute('create table x(a)'); c.commit()"
"$X" eval $E --tasks gsm8k --limit 1 --db "$T/new.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "results schema 7 is newer than this xuan's (1)" "$T/err" && ok "a newer schema is refused by name" || bad "newer: $(cat "$T/err")"
python3 -c "import sqlite3; c=sqlite3.connect('$T/other.db'); c.execute('create table x(a)'); c.commit()"
"$X" eval $E --tasks gsm8k --limit 1 --db "$T/other.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "not a xuan results store" "$T/err" && ok "a foreign database is refused" || bad "foreign: $(cat "$T/err")"
head -c 5000 /dev/urandom >"$T/junk.db"
"$X" eval $E --tasks gsm8k --limit 1 --db "$T/junk.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "junk.db" "$T/err" && ok "a file that is no database: $(head -c 90 "$T/err")" || bad "junk db: $rc $(cat "$T/err")"
"$X" eval --resume 42 --db "$T/a.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "no run 42" "$T/err" && ok "resume of a missing run" || bad "resume 42: $(cat "$T/err")"
mkdir -p "$T/tasks"; sed 's/^version: 1/version: 2/' "$SRC/tasks/gsm8k.yaml" >"$T/tasks/gsm8k.yaml"
"$X" eval --endpoint "http://127.0.0.1:$P1" --tasks "$T/tasks/gsm8k.yaml" --limit 2 --db "$T/t.db" >/dev/null 2>&1
echo "# changed" >>"$T/tasks/gsm8k.yaml"
"$X" eval --resume 1 --db "$T/t.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "task file .*gsm8k.yaml changed since the run began" "$T/err" && ok "resume refuses a changed task file" || bad "changed task: $(cat "$T/err")"
"$X" eval --resume 1 --db "$T/a.db" --tasks gsm8k >/dev/null 2>"$T/err"; [ $? = 2 ] && ok "resume with --tasks is a usage error" || bad "resume+tasks"

# 10. HumanEval through the sandbox: canonical solutions for items 0 and 1, a wrong body for 2
python3 - "$SH/datasets" >"$T/he" <<'EOF'
import gzip, json, sys
for i, l in enumerate(gzip.open(sys.argv[1] + "/humaneval/HumanEval.jsonl.gz", "rt", encoding="utf-8")):
    if i == 3: break
    r = json.loads(l)
    print(json.dumps({"match": r["prompt"], "reply": r["canonical_solution"] if i < 2 else "    return None\n"}))
EOF
serve he "$T/he"; PE=$PORT
out=$("$X" eval --endpoint "http://127.0.0.1:$PE" --tasks humaneval --limit 3 --completions --db "$T/he.db" --json 2>"$T/err"); rc=$?
s=$(jget 'd["tasks"][0]["metrics"]["humaneval"]["correct"], d["tasks"][0]["n"]' <<<"$out")
v=$(q "$T/he.db" "select group_concat(json_extract(extracted, '$.verdict')) from items")
if [ $rc = 0 ] && [ "$s" = "(2, 3)" ] && [ "$v" = "passed,passed,failed" ]; then ok "humaneval in the sandbox: 2 of 3 pass (pass@1 66.7%)"
elif grep -q "namespace" "$T/err"; then echo "skip humaneval: no sandbox here: $(head -c 200 "$T/err")"
else bad "humaneval: rc=$rc $s $v $(cat "$T/err")"; fi

# pass@k over samples: item 0 answers right, wrong, right for seeds 0, 1, 2; item 1 always wrong
python3 - "$SH/datasets" >"$T/hs" <<'EOF'
import gzip, json, sys
for i, l in enumerate(gzip.open(sys.argv[1] + "/humaneval/HumanEval.jsonl.gz", "rt", encoding="utf-8")):
    if i == 2: break
    r = json.loads(l); bad = "    return None\n"
    print(json.dumps({"match": r["prompt"], "replies": [r["canonical_solution"], bad, r["canonical_solution"]] if i == 0 else [bad]}))
EOF
serve hs "$T/hs"; PHS=$PORT
out=$("$X" eval --endpoint "http://127.0.0.1:$PHS" --tasks humaneval --limit 2 --samples 3 --temp 0.8 --completions --db "$T/hs.db" --json 2>"$T/err"); rc=$?
s=$(jget 'd["tasks"][0]["n"], d["tasks"][0]["metrics"]["humaneval"]["correct"], round(d["tasks"][0]["metrics"]["humaneval"]["pass@1"], 6), d["requests"]' <<<"$out")
r=$(q "$T/hs.db" "select group_concat(idx || '.' || sample || '=' || first_correct, ' ') from items")
if [ $rc = 0 ] && [ "$s" = "(6, 2, 0.333333, 6)" ] && [ "$r" = "0.0=1 0.1=0 0.2=1 1.0=0 1.1=0 1.2=0" ]; then
  ok "--samples 3: 6 samples stored by (item, sample), pass@1 = (2/3 + 0) / 2"
elif grep -q "namespace" "$T/err"; then echo "skip samples: no sandbox here"
else bad "samples: rc=$rc $s $r $(cat "$T/err")"; fi
det=$("$X" report --db "$T/hs.db" --run 1)
grep -q "pass@1  *33.33%" <<<"$det" && ok "report --run shows pass@1 over the samples" || bad "report pass@k: $det"

# 11. xuan report: runs side by side, one run in detail, a damaged config
rep=$("$X" report --db "$T/a.db" 2>"$T/err"); rc=$?
row=$(grep "^    1  fake @ http://127.0.0.1:$P1" <<<"$rep")
if [ $rc = 0 ] && grep -q "gsm8k  *medqa" <<<"$rep" && grep -q "50.0 ±11.5 (20)  *30.0 ±10.5 (20)$" <<<"$row"; then
  ok "report: models x tasks, score ± stderr (n)"; else bad "report: rc=$rc $rep $(cat "$T/err")"; fi
n=$("$X" report --db "$T/a.db" --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['runs']), d['runs'][0]['tasks']['medqa']['metrics']['mmlu-pro']['correct'])")
[ "$n" = "4 6" ] && ok "report --json: 4 runs" || bad "report json: $n"
det=$("$X" report --db "$T/a.db" --run 1)
grep -q "gsm8k-flexible  *50.00%  ±  11.47" <<<"$det" && grep -q "settings  limit 20, shots the task's, seed 0" <<<"$det" \
  && ok "report --run 1: every metric, the settings" || bad "report --run: $det"
python3 -c "import sqlite3; c=sqlite3.connect('$T/a.db'); c.execute(\"update runs set config='oops' where id=2\"); c.commit()"
rep=$("$X" report --db "$T/a.db" 2>"$T/err"); rc=$?
[ $rc = 1 ] && grep -q "run 2: its config is not a JSON object; skipped" "$T/err" && grep -q "^    3 " <<<"$rep" \
  && ok "report: a damaged run is named, the others shown" || bad "damaged: rc=$rc $(cat "$T/err")"
"$X" report --db "$T/a.db" 77 >/dev/null 2>"$T/err"; [ $? = 1 ] && grep -q "no run 77" "$T/err" && ok "report of a missing run" || bad "report 77"
# xuan report --compare: the same questions, a server that answers every gsm8k item right and no
# medqa item: +50% on gsm8k (10 items only B got right, p = 2/2^10), -30% on medqa (p = 2/2^6)
python3 - "$SH/datasets" >"$T/gold" <<'EOF'
import json, sys
for i, l in enumerate(open(sys.argv[1] + "/gsm8k/test.jsonl", encoding="utf-8")):
    if i == 20: break
    r = json.loads(l)
    print(json.dumps({"match": r["question"], "reply": "#### " + r["answer"].split("####")[-1].strip()}))
EOF
serve gold "$T/gold"; PG=$PORT
rb=$("$X" eval --endpoint "http://127.0.0.1:$PG" --model fake --tasks gsm8k,medqa --limit 20 --db "$T/a.db" --json 2>/dev/null | jget 'd["run"]')
cmp=$("$X" report --db "$T/a.db" --compare 1 "$rb" 2>"$T/err"); rc=$?
if [ $rc = 0 ] && grep -q "^gsm8k  *gsm8k-strict  *20  *50.00%  *100.00%  *+50.00%  *0  *10  *0.00195  B better" <<<"$cmp" \
   && grep -q "^medqa  *mmlu-pro  *20  *30.00%  *0.00%  *-30.00%  *6  *0  *0.0313  A better" <<<"$cmp"; then
  ok "report --compare: paired difference and exact McNemar p (0.00195, 0.0313)"
else bad "compare: rc=$rc $cmp $(cat "$T/err")"; fi
cmp=$("$X" report --db "$T/a.db" --compare 1 3 --json)
python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert all(t['p'] == 1.0 and t['verdict'] == 'no real difference' for t in d['tasks']), d" "$cmp" \
  && ok "report --compare of two equal runs: no real difference" || bad "compare equal: $cmp"
"$X" report --db "$T/a.db" --compare 1 >/dev/null 2>&1; [ $? = 2 ] && ok "--compare needs two runs" || bad "compare usage"
XUAN_CACHE=$T/cache/xuan "$X" eval $E --tasks gsm8k --limit 1 >/dev/null 2>&1
rep=$(XUAN_CACHE=$T/cache/xuan "$X" report 2>&1)
[ -f "$T/cache/xuan/results.db" ] && grep -q "^    1  fake" <<<"$rep" && ok "default store: <cache>/results.db, made by eval, read by report" || bad "default db: $rep"
"$X" report --db "$T/none.db" >/dev/null 2>"$T/err"; [ $? = 1 ] && grep -q "no results store" "$T/err" && ok "report without a store" || bad "report none"

# 12. usage errors
"$X" eval --tasks gsm8k >/dev/null 2>&1; [ $? = 2 ] && ok "no model or endpoint: exit 2" || bad "no backend"
"$X" eval $E >/dev/null 2>&1; [ $? = 2 ] && ok "no tasks: exit 2" || bad "no tasks"
"$X" eval $E --suite all >/dev/null 2>&1; [ $? = 2 ] && ok "unknown suite: exit 2" || bad "suite"
"$X" eval $E --tasks nope >/dev/null 2>"$T/err"; [ $? = 2 ] && grep -q "no task 'nope'" "$T/err" && ok "unknown task: exit 2" || bad "nope"
"$X" eval --endpoint ftp://x --tasks gsm8k --db "$T/u.db" >/dev/null 2>"$T/err"; [ $? = 2 ] && grep -q "expected an http" "$T/err" && ok "bad URL: exit 2" || bad "url: $(cat "$T/err")"
"$X" eval score --help >/dev/null 2>&1 && ok "eval score still answers" || bad "eval score"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
