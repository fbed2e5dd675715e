#!/usr/bin/env bash
# xuan pick reads xuan eval's results store: a store written against tests/fake_openai.py (runs of
# "qwen2.5-7b-instruct" at Q4_K_M and Q8_0, named as a served model would be, and one of a model the
# catalog does not know) becomes m cells for that model and quant, with the run as the source:
# GSM8K and MedQA replace the published results in the fit, MMLU's IT/AI subjects (published by
# nobody) give the IT/AI cell its accuracy; a later run wins; the quant the row runs decides which
# runs count; --no-measured, --db, the default <cache>/results.db, --explain, --json, --seed-table.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] || { echo "skip: no datasets in $SH"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/pick_measured.XXXXXX")
export XUAN_PROGRESS=0 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks XUAN_CACHE=$T/cache
unset XUAN_CATALOG
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# gsm8k: items 0 1 2 5 7 right (10 items: 50%; the first 4: 75%); medqa: 8 of 10 right (items 0 and
# 5 wrong); mmlu-it (college_computer_science first): 7 of 10 right (items 1, 4, 8 wrong).
python3 - "$SH/datasets" >"$T/rules" <<'EOF'
import csv, json, sys
d = sys.argv[1]
for i, l in enumerate(open(d + "/gsm8k/test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); gold = int(r["answer"].split("####")[-1].strip().replace(",", ""))
    print(json.dumps({"match": r["question"], "reply": "#### %d" % (gold if i in (0, 1, 2, 5, 7) else gold + 1)}))
for i, l in enumerate(open(d + "/medqa_us/phrases_no_exclude_test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); g = r["answer_idx"]
    letter = g if i not in (0, 5) else "ABCD"[("ABCD".index(g) + 1) % 4]
    print(json.dumps({"match": r["question"], "reply": "The answer is (%s)." % letter}))
rows = csv.reader(open(d + "/mmlu/test/college_computer_science_test.csv", encoding="utf-8"))
for i, r in enumerate(rows):
    if i == 10: break
    g = r[5]; letter = g if i not in (1, 4, 8) else "ABCD"[("ABCD".index(g) + 1) % 4]
    print(json.dumps({"match": r[0], "reply": "The answer is (%s)." % letter}))
EOF
python3 "$SRC/tests/fake_openai.py" "$T/port" "$T/rules" 120 & PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
U=http://127.0.0.1:$(cat "$T/port")
DB=$T/r.db
ev() { "$X" eval --endpoint "$U" --db "$DB" "$@" >/dev/null 2>>"$T/eval.err"; }
ev --model qwen2.5-7b-instruct-Q4_K_M --tasks gsm8k,medqa,mmlu-it --limit 10 \
  && ev --model Qwen2.5-7B-Instruct-Q8_0.gguf --tasks gsm8k --limit 10 \
  && ev --model no-such-model-Q4_K_M --tasks gsm8k --limit 2 \
  && ok "three runs stored" || bad "eval: $(cat "$T/eval.err")"

# the store's own numbers, so the test does not trust the fake server's arithmetic
acc() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); n,r=c.execute('select count(*), sum(first_correct) from items where run=? and task=?', (int(sys.argv[2]), sys.argv[3])).fetchone(); print('%.4f' % (100.0*r/n))" "$DB" "$1" "$2"; }
[ "$(acc 1 gsm8k)" = 50.0000 ] && [ "$(acc 1 medqa)" = 80.0000 ] && [ "$(acc 1 mmlu-it)" = 70.0000 ] \
  && ok "store: gsm8k 50%, medqa 80%, mmlu-it 70%" || bad "store: $(acc 1 gsm8k) $(acc 1 medqa) $(acc 1 mmlu-it)"

SMALL="--ram 8G --cores 2 --bandwidth 17"     # the 7B row runs Q4_K_M
BIG="--ram 32G --cores 8 --bandwidth 200"    # the 7B row runs Q8_0
"$X" pick $SMALL --runtime any --include-superseded --top 80 --json --db "$DB" >"$T/small.json" 2>"$T/err" || bad "pick --json: $(cat "$T/err")"
"$X" pick $SMALL --runtime any --include-superseded --top 80 --json --no-measured >"$T/pub.json" 2>"$T/err" || bad "pick --no-measured: $(cat "$T/err")"

# 1. the Q4_K_M row: m cells from run 1, the published cells of every other model unchanged
python3 - "$T/small.json" "$T/pub.json" <<'EOF' && ok "Q4_K_M row: math, med, IT/AI are m cells from run 1; others unchanged" || bad "m cells"
import json, sys
got, pub = (json.load(open(p)) for p in sys.argv[1:3])
row = {r["id"]: r for r in got["ranked"]}
before = {r["id"]: r for r in pub["ranked"]}
q = row["qwen2.5-7b-instruct"]
assert q["quant"] == "Q4_K_M", q["quant"]
t = q["tasks"]
for col, bench, val in (("math", "GSM8K", 50.0), ("med", "MedQA", 80.0), ("it", "MMLU IT/AI subjects (xuan eval)", 70.0)):
    c = t[col]
    assert c["mark"] == "m" and c["benchmark"] == bench and abs(c["headline"] - val) < 1e-9, (col, c)
    assert c["source"].startswith("xuan eval run 1 ("), c
    assert c["quant"] == "Q4_K_M" and c["published"] is False, c
# MMLU IT/AI subjects are published for no catalog model: the cell is the accuracy itself
assert abs(t["it"]["score"] - 70.0) < 1e-9 and "accuracy" in t["it"]["score_is"], t["it"]
# GSM8K 50 (published 91.6) plays the other GSM8K reporters: the math cell falls
b = before["qwen2.5-7b-instruct"]["tasks"]
assert t["math"]["score"] < b["math"]["score"] - 5, (t["math"], b["math"])
# published only: C-Eval's medical and computer subjects (vllm-ascend, third party) stand alone: t
assert b["math"]["mark"] == "o" and b["med"]["mark"] == "t" and b["it"]["mark"] == "t", b
# the general column had nothing measured: published, as before
assert t["general"] == b["general"], (t["general"], b["general"])
assert got["measured"]["records"] == 4 and "run 3" in got["measured"]["left_out"], got["measured"]
for rid, r in row.items():
    if rid == "qwen2.5-7b-instruct": continue
    for col, c in r["tasks"].items():
        assert c["mark"] != "m", (rid, col)
        if col != "math":   # GSM8K's field moved by one result
            assert c["mark"] == before[rid]["tasks"][col]["mark"], (rid, col)
EOF

# 2. the Q8_0 row takes run 2 (GSM8K only), not run 1's Q4_K_M results
"$X" pick $BIG --runtime any --include-superseded --top 80 --json --db "$DB" >"$T/big.json" 2>"$T/err" || bad "pick big: $(cat "$T/err")"
python3 - "$T/big.json" <<'EOF' && ok "Q8_0 row: only run 2 (Q8_0) counts" || bad "quant decides"
import json, sys
q = {r["id"]: r for r in json.load(open(sys.argv[1]))["ranked"]}["qwen2.5-7b-instruct"]
assert q["quant"] == "Q8_0", q["quant"]
m = q["tasks"]["math"]
assert m["mark"] == "m" and m["source"].startswith("xuan eval run 2 (") and m["quant"] == "Q8_0", m
# the published C-Eval subject subsets (vllm-ascend, third party) stand in for the Q4_K_M runs
assert q["tasks"]["med"]["mark"] == "t" and q["tasks"]["it"]["mark"] == "t", q["tasks"]
assert "published accuracy" in q["tasks"]["it"]["score_is"], q["tasks"]["it"]
EOF

# 3. a later run of the same model, quant and task wins (the first 4 gsm8k items: 75%)
ev --model qwen2.5-7b-instruct-Q4_K_M --tasks gsm8k --limit 4 || bad "run 4: $(cat "$T/eval.err")"
kill "$PID" 2>/dev/null; PID=
# (--include-superseded: Qwen3.5 replaces Qwen2.5-7B in the default ranking)
"$X" pick $SMALL --include-superseded --json --db "$DB" >"$T/later.json" 2>"$T/err"
python3 - "$T/later.json" <<'EOF' && ok "a later run wins" || bad "later run"
import json, sys
q = {r["id"]: r for r in json.load(open(sys.argv[1]))["ranked"]}["qwen2.5-7b-instruct"]["tasks"]["math"]
assert q["mark"] == "m" and abs(q["headline"] - 75.0) < 1e-9 and " run 4 (" in " " + q["source"], q
EOF

# 4. the text table: the m mark, where the results come from, what was left out
out=$("$X" pick $SMALL --db "$DB" --runtime any --include-superseded --top 80 2>&1)
grep -E '^ *[0-9]+  qwen2.5-7b-instruct ' <<<"$out" | grep -Eq ' [0-9]+m +[0-9]+o +[0-9]+m +70m ' \
  && ok "table: qwen2.5-7b-instruct shows m in math, med and IT/AI (70), o in code" || bad "table row: $(grep qwen2.5-7b-instruct <<<"$out" | head -2)"
grep -q "^Measured results: 5 task scores from $DB" <<<"$out" && grep -q "run 3 (no-such-model-Q4_K_M): no catalog model" <<<"$out" \
  && ok "table: the store, the count, the run left out" || bad "measured note: $(grep -A2 Measured <<<"$out")"

# 5. --explain lists the measured records with quant and run; the cell says where it comes from
out=$("$X" pick --explain qwen2.5-7b-instruct --db "$DB" $SMALL 2>&1)
grep -q "measured Q4_K_M.*gsm8k v1.*xuan eval run 4 (" <<<"$out" && grep -q "measured Q8_0.*xuan eval run 2 (" <<<"$out" \
  && grep -Eq "^  it +task score +70.0 m \(measured at Q4_K_M: xuan eval run 1 .*the score is the accuracy" <<<"$out" \
  && ok "--explain: measured records and m cells with their runs" || bad "explain: $(grep -E 'measured|task score' <<<"$out")"

# 6. the default store is <cache>/results.db; --no-measured and a missing --db
mkdir -p "$T/cache" && cp "$DB" "$T/cache/results.db"
"$X" pick $SMALL --include-superseded | grep -E '^ *[0-9]+  qwen2.5-7b-instruct ' | grep -q '70m' && ok "default store: <cache>/results.db" || bad "default store"
"$X" pick $SMALL --include-superseded --no-measured | grep -E '^ *[0-9]+  qwen2.5-7b-instruct ' | grep -q 'm ' \
  && bad "--no-measured still shows m cells" || ok "--no-measured: published only"
err=$("$X" pick $SMALL --db "$T/none.db" 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && grep -q "no such results store" <<<"$err" && [ "$(wc -l <<<"$err")" = 1 ] \
  && ok "--db missing file: one usage error" || bad "--db missing: rc=$rc $err"
[ ! -e "$T/none.db" ] && ok "a missing store is not created" || bad "pick created $T/none.db"

# 7. --seed-table has the measured column
"$X" pick --seed-table --db "$DB" | grep -q "seed  *published  *measured" && ok "--seed-table: measured column" || bad "seed table"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
