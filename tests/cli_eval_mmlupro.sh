#!/usr/bin/env bash
# tasks/mmlu-pro.yaml end to end on the MMLU-Pro-shaped parquet fixture
# (tests/data/mmlu-pro, seed 2026 of tests/parquet_gen.mjs; cli_parquet
# checks it reads as hyparquet reads it):
#  1. in process on a tiny synthetic model (--completions, as the reference
#     prompts raw text): every stored prompt equals the one
#     TIGER-AI-Lab/MMLU-Pro evaluate_from_local.py's generate_cot_prompt
#     builds over the same rows (written out again in Python below: "N/A"
#     options dropped, the first 5 validation rows of the item's category,
#     "A: Let's think" turned into "Answer: Let's think", its header, letters
#     A-J), including fewer shots, none, and a one-option question;
#  2. against tests/fake_openai.py: letters read per item, exact accuracy;
#  3. `xuan eval score --task mmlu-pro`;
#  4. the format's refusals: a list field that is no list, no options left
#     after `drop`, a missing match field, a `options: {}` without `list`;
#  5. `xuan data pull mmlu-pro` from a local hub (tests/static_server.py)
#     into a folder `xuan eval` then reads, and the shipped pins' form.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}
T=$(mktemp -d "${XUAN_TMP:-/tmp}/mmlupro.XXXXXX")
export XUAN_PROGRESS=0 XUAN_EVAL_RETRY_BASE_S=0.05 XUAN_TASKS=$SRC/tasks XUAN_CACHE=$T/cache
unset XUAN_DATA HF_ENDPOINT
FX=$SRC/tests/data
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
"$X" data show "$FX/mmlu-pro/test-00000-of-00001.parquet" >"$T/test.jsonl" || bad "data show test"
"$X" data show "$FX/mmlu-pro/validation-00000-of-00001.parquet" >"$T/val.jsonl" || bad "data show validation"

# 1. the prompts, in process
"$X" synth --preset tiny256 --type Q8_0 --force -o "$T/tiny.gguf" >/dev/null 2>&1 || bad "synth"
out=$("$X" eval -m "$T/tiny.gguf" --tasks mmlu-pro --data "$FX" --completions --limit 12 --max-tokens 4 -t 1 -c 4096 \
      --db "$T/a.db" --json 2>"$T/err"); rc=$?
res=$(python3 - "$T/a.db" "$T/test.jsonl" "$T/val.jsonl" <<'PY'
import json, sqlite3, sys
# generate_cot_prompt / format_cot_example of evaluate_from_local.py (f418b116), rewritten
HEAD = ('The following are multiple choice questions (with answers) about {$}. Think step by step and then '
        'finish your answer with "the answer is (X)" where X is the correct letter choice.\n\n\n')
L = "ABCDEFGHIJKLMNOP"
def pre(r):
    r = dict(r); r["options"] = [o for o in r["options"] if o != "N/A"]; return r
def example(r, with_answer):
    s = "Question:\n" + r["question"] + "\n" + "Options:\n"
    for i, o in enumerate(r["options"]): s += "%s. %s\n" % (L[i], o)
    if with_answer:
        return s + r["cot_content"].replace("A: Let's think step by step.", "Answer: Let's think step by step.") + "\n\n"
    return s + "Answer: Let's think step by step."
test = [pre(json.loads(l)) for l in open(sys.argv[2])]
val = [pre(json.loads(l)) for l in open(sys.argv[3])]
db = sqlite3.connect(sys.argv[1])
rows = list(db.execute("select idx, prompt from items where task='mmlu-pro' order by idx"))
same = 0; shots = set()
for idx, prompt in rows:
    cur = test[idx]
    pool = [v for v in val if v["category"] == cur["category"]][:5]
    shots.add(len(pool))
    want = HEAD.replace("{$}", cur["category"]) + "\n" + "".join(example(v, True) for v in pool) + example(cur, False)
    if want == prompt: same += 1
    else:
        import difflib
        print("item %d differs:" % idx, "".join(list(difflib.unified_diff(want.splitlines(1), prompt.splitlines(1)))[:12]), file=sys.stderr)
print(len(rows), same, ",".join(str(s) for s in sorted(shots)))
PY
)
[ $rc = 0 ] && [ "$res" = "12 12 0,3,5" ] && ok "in process: 12 prompts equal generate_cot_prompt's (5, 3 and 0 shots)" \
  || bad "prompts: rc=$rc $res $(tail -3 "$T/err")"
python3 - "$T/a.db" <<'PY' && ok "N/A options dropped, one-option question kept (letters A only)" || bad "options"
import sqlite3, sys
p = dict(sqlite3.connect(sys.argv[1]).execute("select idx, prompt from items where task='mmlu-pro'"))
q0 = p[0][p[0].rindex("Question:"):]
assert q0.endswith("Options:\nA. one\nB. two\nC. three\nAnswer: Let's think step by step."), q0
q2 = p[2][p[2].rindex("Question:"):]
assert "Options:\nA. the only one\nAnswer:" in q2, q2
PY

# 2. scoring per item against a fake endpoint: right, wrong, no letter, E on a 3-option item
python3 - "$T/test.jsonl" >"$T/rules" <<'PY'
import json, sys
for i, l in enumerate(open(sys.argv[1])):
    r = json.loads(l)
    if i >= 20: break
    m = "\n" + r["question"] + "\nOptions:"  # only the item's own question (shots are validation rows)
    g = r["answer"]
    if i % 4 == 0: reply = "Let me see. The answer is (%s)." % g                    # right
    elif i % 4 == 1: reply = "The answer is (%s)." % ("A" if g != "A" else "B")     # wrong
    elif i % 4 == 2: reply = "no idea, sorry."                                      # no letter: wrong
    else: reply = "Step 1 ... Answer: %s" % g                                      # right, by extract_again
    print(json.dumps({"match": m, "reply": reply}))
PY
python3 "$SRC/tests/fake_openai.py" "$T/f.port" "$T/rules" 120 & PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/f.port" ] && break; sleep 0.1; done
out=$("$X" eval --endpoint "http://127.0.0.1:$(cat "$T/f.port")" --model fake --tasks mmlu-pro --data "$FX" --limit 20 \
      --db "$T/b.db" --json 2>"$T/err"); rc=$?
s=$(python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); m=d['tasks'][0]['metrics']['mmlu-pro']; print(d['tasks'][0]['n'], m['correct'])" <<<"$out" 2>&1)
[ $rc = 0 ] && [ "$s" = "20 10" ] && ok "endpoint: 20 items, 10 right (answer is / Answer: right, wrong letter and none wrong)" \
  || bad "endpoint: rc=$rc $s $(tail -3 "$T/err")"
n=$(python3 -c "
import sqlite3; c = sqlite3.connect('$T/b.db')
print(sum(1 for (e,) in c.execute(\"select extracted from items where idx % 4 = 2\") if 'null' in e))")
[ "$n" = 5 ] && ok "no letter stored as null (5 items)" || bad "null extractions: $n"

# 3. eval score --task mmlu-pro (options per line set the letters; A-J as the reference)
cat >"$T/out.jsonl" <<'EOF'
{"output": "so the answer is (C).", "target": "C", "options": ["a", "b", "c", "d"]}
{"output": "The answer is (E)", "target": "B", "options": ["a", "b", "c", "d"]}
{"output": "Answer: J", "target": "J", "options": ["0","1","2","3","4","5","6","7","8","9"]}
{"output": "nothing", "target": "A", "options": ["x"]}
EOF
out=$("$X" eval score --task mmlu-pro --outputs "$T/out.jsonl" --json 2>&1); rc=$?
got=$(python3 -c "
import json,sys
ls=[json.loads(l) for l in sys.stdin.read().splitlines()]
print(' '.join(str(l['extracted']['mmlu-pro'])+':'+str(l['correct']['mmlu-pro']) for l in ls[:-1]), ls[-1]['totals']['task'])" <<<"$out")
[ $rc = 0 ] && [ "$got" = "C:True E:False J:True None:False mmlu-pro" ] && ok "eval score --task mmlu-pro: $got" || bad "score: rc=$rc $got $out"

# 4. the format's refusals (a JSONL task with the same keys)
mkdir -p "$T/d"
printf '%s\n' '{"q": "x", "opts": ["a", "b"], "cat": "c", "answer": "A"}' '{"q": "y", "opts": "ab", "cat": "c", "answer": "A"}' >"$T/d/nolist.jsonl"
printf '%s\n' '{"q": "x", "opts": ["N/A"], "cat": "c", "answer": "A"}' >"$T/d/empty.jsonl"
printf '%s\n' '{"q": "x", "opts": ["a"], "answer": "A"}' >"$T/d/nocat.jsonl"
printf '%s\n' '{"q": "s", "opts": ["a", "N/A"], "cat": "c", "answer": "A"}' >"$T/d/shots.jsonl"
task() { # FILE -> a task over it
  cat >"$T/t.yaml" <<EOF
name: t
version: 1
dataset: {format: jsonl, files: $1}
fewshot: {files: shots.jsonl, count: 2, match: cat}
prompt: "{% for s in shots %}{{ s.q }} {{ s.opts | join('|') }}; {% endfor %}{{ q }} {{ opts | join('|') }}"
target: answer
options: {list: opts, drop: ["N/A"]}
max_tokens: 8
extractors: [mmlu-pro]
answer: letter
EOF
}
refuse() { # FILE PATTERN
  task "$1"
  if "$X" eval score --task "$T/t.yaml" --data "$T/d" --outputs /dev/null >/dev/null 2>&1 &&
     "$X" eval --endpoint "http://127.0.0.1:$(cat "$T/f.port")" --tasks "$T/t.yaml" --data "$T/d" --db "$T/c.db" >/dev/null 2>"$T/err"; then
    bad "$1 accepted"; return; fi
  grep -qE "$2" "$T/err" && [ "$(grep -c . "$T/err")" -le 2 ] && ok "refused: $(grep -E "$2" "$T/err" | head -1)" || bad "$1: $(cat "$T/err")"
}
refuse nolist.jsonl "nolist.jsonl:2: item 2: field 'opts' is no list"
refuse empty.jsonl "empty.jsonl:1: item 1: 0 options in 'opts', expected 1 to 26"
refuse nocat.jsonl "nocat.jsonl:1: item 1 has no field 'cat'"
printf '%s\n' '{"q": "x", "opts": ["a", "N/A", "b"], "cat": "c", "answer": "A"}' >"$T/d/good.jsonl"
task good.jsonl
out=$("$X" eval --endpoint "http://127.0.0.1:$(cat "$T/f.port")" --tasks "$T/t.yaml" --data "$T/d" --db "$T/c.db" 2>&1); rc=$?
p=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/c.db').execute('select prompt from items').fetchone()[0])")
[ $rc = 0 ] && [ "$p" = "s a; x a|b" ] && ok "a JSONL task with options {list, drop} and fewshot match: '$p'" || bad "good: rc=$rc '$p' $out"
sed -i 's/^options: .*/options: {drop: ["N\/A"]}/' "$T/t.yaml"
out=$("$X" eval score --task "$T/t.yaml" --outputs /dev/null 2>&1)
grep -q "t.yaml:[0-9]*: key 'list' in options: required key missing" <<<"$out" && ok "options: {} without list refused" || bad "no list: $out"

# 5. xuan data pull mmlu-pro from a local hub, then eval reads the pulled folder
rev=$(python3 -c "import json; print(json.load(open('$SRC/tasks/sources.json'))['sets']['mmlu-pro']['files'][0]['from'][0].split('@')[1].split(':')[0])")
H=$T/hub/datasets/TIGER-Lab/MMLU-Pro/resolve/$rev/data
mkdir -p "$H"
cp "$FX/mmlu-pro/test-00000-of-00001.parquet" "$FX/mmlu-pro/validation-00000-of-00001.parquet" "$H/"
python3 - "$SRC/tasks/sources.json" "$FX/mmlu-pro" >"$T/sources.json" <<'PY'
import hashlib, json, os, sys
d = json.load(open(sys.argv[1]))
s = {"mmlu-pro": d["sets"]["mmlu-pro"]}
for f in s["mmlu-pro"]["files"]:  # the fixture's digests in place of the real files'
    f["sha256"] = hashlib.sha256(open(os.path.join(sys.argv[2], os.path.basename(f["path"])), "rb").read()).hexdigest()
print(json.dumps({"version": 1, "sets": s}))
PY
python3 "$SRC/tests/static_server.py" "$T/hub" "$T/h.port" 60 & PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/h.port" ] && break; sleep 0.1; done
out=$(HF_ENDPOINT=http://127.0.0.1:$(cat "$T/h.port") "$X" data pull mmlu-pro -q --sources "$T/sources.json" --data "$T/pulled" 2>&1); rc=$?
[ $rc = 0 ] && cmp -s "$T/pulled/mmlu-pro/test-00000-of-00001.parquet" "$FX/mmlu-pro/test-00000-of-00001.parquet" \
  && grep -q "mmlu-pro: huggingface.co/datasets/TIGER-Lab/MMLU-Pro @ $rev; licence MIT; 2 files" <<<"$out" \
  && grep -q "GET /datasets/TIGER-Lab/MMLU-Pro/resolve/$rev/data/validation-00000-of-00001.parquet" "$T/h.port.log" \
  && ok "data pull mmlu-pro: 2 parquet files from TIGER-Lab/MMLU-Pro@${rev:0:8} via HF_ENDPOINT" || bad "pull: rc=$rc $out"
out=$("$X" eval --endpoint "http://127.0.0.1:$(cat "$T/f.port")" --tasks mmlu-pro --data "$T/pulled" --limit 4 --db "$T/d.db" --json 2>&1); rc=$?
[ $rc = 0 ] && grep -q '"n": *4\|"n":4' <<<"$out" && ok "eval reads the pulled folder" || bad "eval on pulled: rc=$rc $out"
# without --data: pulled into <cache>/datasets, and eval finds it there (it is not in ../shared/datasets)
HF_ENDPOINT=http://127.0.0.1:$(cat "$T/h.port") "$X" data pull mmlu-pro -q --sources "$T/sources.json" >/dev/null 2>&1
out=$("$X" eval --endpoint "http://127.0.0.1:$(cat "$T/f.port")" --tasks mmlu-pro --limit 4 --db "$T/e.db" --json 2>&1); rc=$?
[ $rc = 0 ] && [ -f "$XUAN_CACHE/datasets/mmlu-pro/test-00000-of-00001.parquet" ] && grep -q '"n": *4\|"n":4' <<<"$out" \
  && ok "no --data: eval falls back to <cache>/datasets, where data pull put it" || bad "cache fallback: rc=$rc $out"
v=$(python3 - "$SRC/tasks/sources.json" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))["sets"]["mmlu-pro"]
ok = s["tasks"] == ["mmlu-pro"] and len(s["files"]) == 2
for f, split in zip(s["files"], ["test", "validation"]):
    ok = ok and re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) is not None
    ok = ok and f["path"] == "mmlu-pro/%s-00000-of-00001.parquet" % split
    ok = ok and re.fullmatch(r"hf:TIGER-Lab/MMLU-Pro@[0-9a-f]{40}:data/%s-00000-of-00001\.parquet" % split, f["from"][0]) is not None
print(ok)
PY
)
[ "$v" = True ] && ok "tasks/sources.json: mmlu-pro pinned by revision and sha256, paths the task reads" || bad "sources entry: $v"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
