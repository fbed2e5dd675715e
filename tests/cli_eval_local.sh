#!/usr/bin/env bash
# xuan eval -m MODEL: the in-process backend on a small synthetic model with a real vocabulary
# and chat template (phi-3's): the run completes, the store holds the items, each stored output
# equals `xuan run` greedy on the same prompt (chat template, and raw with --completions), a
# second run is answered from the cache, --resume of a finished run adds nothing, and a resume
# with another model file is refused.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] && [ -f "$SH/vocab/ggml-vocab-phi-3.gguf" ] || { echo "skip: no shared data"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/eval_local.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XUAN_PROGRESS=0 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
q() { python3 - "$@" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]): print("|".join(str(x) for x in row))
EOF
}
m=$T/tiny.gguf
"$X" synth --preset tiny256 --vocab-from "$SH/vocab/ggml-vocab-phi-3.gguf" --type F16 -o "$m" --force >/dev/null 2>&1 || { echo "synth failed"; exit 1; }

# the stored outputs against `xuan run` on the stored prompts (the task's stop strings as --stop)
same_as_run() { # same_as_run DB RUN [xuan run flags...]
  local db=$1 run=$2; shift 2
  python3 - "$X" "$m" "$db" "$run" "$SRC/tasks" "$@" <<'EOF'
import json, sqlite3, subprocess, sys
x, m, db, run, tasks, extra = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
c = sqlite3.connect(db)
cfg = json.loads(c.execute("select config from runs where id=?", (run,)).fetchone()[0])
stops = {"gsm8k": ["Question:", "</s>", "<|im_end|>"], "cmath": []}
n = 0
for task, idx, prompt, output, n_gen in c.execute("select task, idx, prompt, output, n_gen from items where run=? order by task, idx", (run,)):
    args = [x, "run", "-m", m, "-p", prompt, "--temp", "0", "-n", str(cfg["max_tokens"])] + extra
    for s in stops[task]: args += ["--stop", s]
    got = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert got.endswith("\n"), repr(got)
    if got[:-1] != output:
        print("%s item %d: eval stored %r, xuan run gives %r" % (task, idx, output, got[:-1])); sys.exit(1)
    n += 1
print(n)
EOF
}

out=$("$X" eval -m "$m" --tasks gsm8k,cmath --limit 3 --max-tokens 24 --db "$T/a.db" --json 2>"$T/err"); rc=$?
r=$(q "$T/a.db" "select count(*), count(distinct task||idx), sum(n_gen > 0), sum(n_prompt > 20), sum(output glob '*[a-z]*') >= 3 from items")
if [ $rc = 0 ] && [ "$r" = "6|6|6|6|1" ]; then ok "in-process run: 6 items stored, tokens counted"; else bad "run: rc=$rc $r $(cat "$T/err")"; fi
n=$(same_as_run "$T/a.db" 1) && [ "$n" = 6 ] && ok "each output equals xuan run greedy on its prompt (chat template)" || bad "vs xuan run: $n"
cfg=$(q "$T/a.db" "select config from runs where id=1")
python3 -c "
import json,sys,hashlib
c=json.loads(sys.argv[1]); sha=hashlib.sha256(open(sys.argv[2],'rb').read()).hexdigest()
assert c['model']['sha256']==sha and c['backend']['model_sha256']==sha, c
assert c['model']['quant']=='F16' and c['backend']['template']=='jinja (model)' and len(c['backend']['template_sha256'])==64
assert c['max_tokens']==24 and c['temperature']==0" "$cfg" "$m" && ok "config: model sha256, quant, template hash" || bad "config: $cfg"

out=$("$X" eval -m "$m" --tasks gsm8k,cmath --limit 3 --max-tokens 24 --db "$T/a.db" --json 2>/dev/null)
s=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['cached'], d['generated'])" "$out")
[ "$s" = "6 0" ] && ok "second run: all 6 from the cache" || bad "cache: $s"
a=$(q "$T/a.db" "select task, idx, output, correct from items where run=1 order by task, idx" | sha256sum)
b=$(q "$T/a.db" "select task, idx, output, correct from items where run=2 order by task, idx" | sha256sum)
[ "$a" = "$b" ] && ok "cached run stores the same items" || bad "cached items differ"

out=$("$X" eval -m "$m" --tasks gsm8k --limit 2 --max-tokens 24 --completions --db "$T/a.db" --json 2>/dev/null); rc=$?
n=$(same_as_run "$T/a.db" 3 --no-template) && [ $rc = 0 ] && [ "$n" = 2 ] && ok "--completions equals xuan run --no-template" || bad "raw: $rc $n"

# log-likelihood multiple choice: each letter's log-probability equals log softmax of the
# logits xuan run dumps after the prompt (loglik is always over the raw prompt)
out=$("$X" eval -m "$m" --tasks mmlu-it,medqa --limit 2 --mode loglik --db "$T/ll.db" --json 2>"$T/err"); rc=$?
chk=$(python3 - "$X" "$m" "$T/ll.db" "$T" <<'EOF2'
import json, math, sqlite3, struct, subprocess, sys
x, m, db, tmp = sys.argv[1:5]
c = sqlite3.connect(db)
n = 0
for task, idx, prompt, ex, out in c.execute("select task, idx, prompt, extracted, output from items order by task, idx"):
    ex = json.loads(ex)
    lp = ex["logprobs"]
    open(tmp + "/p.txt", "w").write(prompt)
    subprocess.run([x, "run", "-m", m, "--no-template", "-f", tmp + "/p.txt", "--dump-logits", tmp + "/l.f32", "-n", "1",
                    "--temp", "0"], check=True, capture_output=True)
    raw = open(tmp + "/l.f32", "rb").read()
    logits = struct.unpack("%df" % (len(raw) // 4), raw)
    mx = max(logits); lse = mx + math.log(sum(math.exp(v - mx) for v in logits))
    tok = lambda t: json.loads(subprocess.run([x, "tokenize", "-m", m, "--json", "--special", "-"], input=t, text=True,
                                             capture_output=True, check=True).stdout)["ids"]
    ctx = tok(prompt)
    for letter, v in lp.items():
        whole = tok(prompt + " " + letter)
        assert whole[:len(ctx)] == ctx and len(whole) == len(ctx) + 1, (letter, whole[len(ctx) - 2:])
        want = logits[whole[-1]] - lse
        assert abs(want - v) < 1e-6, (task, idx, letter, want, v)
        n += 1
    assert out == max(lp, key=lambda k: (lp[k], -ord(k))), (out, lp)
print(n)
EOF2
)
[ $rc = 0 ] && [ "$chk" = 16 ] && ok "loglik: 16 letter log-probabilities equal log softmax of xuan run's logits" || bad "loglik: rc=$rc $chk $(cat "$T/err")"
r=$(q "$T/ll.db" "select count(*), sum(correct = '{\"loglik\":true}') = sum(first_correct) from items")
[ "$r" = "4|1" ] && ok "loglik items stored with their verdict" || bad "loglik rows: $r"

# several items per forward pass: Q8_0 weights with a Q8_0 cache give the same bits at any batch
# composition (docs/design.md), so -j 4 must store exactly the items of one at a time
m8=$T/q8.gguf
"$X" synth --preset tiny256 --vocab-from "$SH/vocab/ggml-vocab-phi-3.gguf" --ftype Q8_0 --seed 2 -o "$m8" --force >/dev/null 2>&1
"$X" eval -m "$m8" --cache-type q8_0 --tasks gsm8k,cmath --limit 6 --max-tokens 24 --db "$T/b1.db" >/dev/null 2>&1
out=$("$X" eval -m "$m8" --cache-type q8_0 --tasks gsm8k,cmath --limit 6 --max-tokens 24 --db "$T/b4.db" -j 4 --json 2>"$T/err"); rc=$?
a=$(q "$T/b1.db" "select task, idx, output, n_gen, finish, correct from items order by task, idx" | sha256sum)
b=$(q "$T/b4.db" "select task, idx, output, n_gen, finish, correct from items order by task, idx" | sha256sum)
nt=$(q "$T/b4.db" "select count(*), sum(output glob '*[a-z]*') >= 6 from items")
[ $rc = 0 ] && [ "$a" = "$b" ] && [ "$nt" = "12|1" ] && ok "-j 4 (4 sequences a pass) stores the same 12 items as one at a time (Q8_0, q8_0 cache)" || bad "batch: rc=$rc $nt $(cat "$T/err")"
cfg=$(q "$T/b4.db" "select config from runs")
python3 -c "import json,sys; assert json.loads(sys.argv[1])['backend']['batch'] == 4" "$cfg" && ok "the batch is part of the backend's identity" || bad "batch identity"
# a resume takes the cache types from the run (they are part of the identity): no --cache-type needed
out=$("$X" eval --resume 1 --db "$T/b4.db" --json 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ "$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['skipped'])" "$out")" = 12 ] \
  && ok "resume of a q8_0-cache run without --cache-type: accepted, 12 skipped" || bad "resume cache type: rc=$rc $(cat "$T/err")"
# a prompt longer than a sequence's share of the context fails alone, the others are stored
out=$("$X" eval -m "$m8" --tasks gsm8k --limit 4 --max-tokens 8 -j 2 -c 160 --db "$T/b2.db" --json 2>"$T/err"); rc=$?
nf=$(grep -c "gsm8k item [0-9]*: the prompt has [0-9]* tokens but a sequence's share of the context is 80" "$T/err")
ns=$(q "$T/b2.db" "select count(*) from items")
[ $rc = 1 ] && [ "$nf" -ge 1 ] && [ $((nf + ns)) = 4 ] && [ "$ns" -ge 1 ] && ok "batch: $nf too-long prompts named and not stored, $ns stored" || bad "batch ctx: rc=$rc nf=$nf ns=$ns $(cat "$T/err")"

# --suite seed against the engine: SIGKILL midway, --resume, the same items as an uninterrupted run
"$X" eval -m "$m" --suite seed --limit 2 --max-tokens 16 --db "$T/u.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 0 ] && [ "$(q "$T/u.db" "select count(*), count(distinct task) from items")" = "24|12" ] \
  && ok "--suite seed --limit 2 in process: 12 tasks, 24 items" || bad "suite: rc=$rc $(cat "$T/err")"
"$X" eval -m "$m" --suite seed --limit 2 --max-tokens 16 --db "$T/k.db" >/dev/null 2>&1 & KP=$!
for _ in $(seq 400); do
  n=$(q "$T/k.db" "select count(*) from items" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 8 ] && break; sleep 0.02
done
kill -9 $KP 2>/dev/null; wait $KP 2>/dev/null
at_kill=$(q "$T/k.db" "select count(*) from items")
"$X" eval --resume 1 --db "$T/k.db" >/dev/null 2>"$T/err"; rc=$?
a=$(q "$T/u.db" "select task, idx, output, extracted, correct, n_gen from items order by task, idx" | sha256sum)
b=$(q "$T/k.db" "select task, idx, output, extracted, correct, n_gen from items order by task, idx" | sha256sum)
if [ $rc = 0 ] && [ "$a" = "$b" ] && [ "$at_kill" -lt 24 ]; then
  ok "in process: killed at $at_kill/24 items, resumed, the same 24 items as the uninterrupted run"
else bad "local resume: rc=$rc at_kill=$at_kill $(cat "$T/err")"; fi

out=$("$X" eval --resume 1 --db "$T/a.db" --json 2>/dev/null); rc=$?
s=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['skipped'], d['generated'], d['cached'])" "$out")
[ $rc = 0 ] && [ "$s" = "6 0 0" ] && ok "resume of a finished run: nothing to do" || bad "resume: $rc $s"
"$X" synth --preset tiny256 --vocab-from "$SH/vocab/ggml-vocab-phi-3.gguf" --type F16 --seed 7 -o "$m" --force >/dev/null 2>&1
"$X" eval --resume 1 --db "$T/a.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "run 1 was made with another backend" "$T/err" && ok "resume with another model file is refused" || bad "other model: $rc $(cat "$T/err")"
"$X" eval -m "$T/none.gguf" --tasks gsm8k --db "$T/b.db" >/dev/null 2>"$T/err"; [ $? = 1 ] && ok "missing model: exit 1" || bad "missing model"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
