#!/usr/bin/env bash
# HumanEval's 164 canonical solutions, each assembled as the reference
# harness does (prompt + canonical_solution + "\n" + test + "\n" +
# "check(entry_point)") plus the sandbox's done mark, all pass in
# `xuan sandbox run`; with the body replaced by `return None` nearly all
# fail.  Prints the time per program in the sandbox beside plain python3 and
# --sandbox=none, and the total at -j 2 (docs/sandbox.md).
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_SHARED:?}" "${XUAN_TMP:?}"
DATA="$XUAN_SHARED/datasets/humaneval/HumanEval.jsonl.gz"
[ -f "$DATA" ] || { echo "skip: no $DATA (../shared)"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: no /usr/bin/python3 (apt-get install python3)"; exit 77; }
D="$XUAN_TMP/sandbox_humaneval"
rm -rf "$D"; mkdir -p "$D/good" "$D/bad"
fail=0
# where the kernel or the container forbids the namespaces: a visible skip with the sandbox's own line
printf 'pass\n' >"$D/probe.py"
if ! probe=$("$XUAN_BIN" sandbox run "$D/probe.py" 2>&1) && grep -q 'cannot create a\|without capabilities?' <<<"$probe"; then
  echo "skip: ${probe##*xuan: }"; exit 77
fi
rm -f "$D/probe.py"

/usr/bin/python3 - "$DATA" "$D" <<'EOF'
import gzip, json, sys
data, out = sys.argv[1], sys.argv[2]
done = "\nimport os as _xuan_os\n_xuan_os.write(3, b'xuan-sandbox-done')\n"   # XUAN_SANDBOX_DONE_PY
n = 0
with gzip.open(data, "rt", encoding="utf-8") as f:
    for line in f:
        p = json.loads(line)
        name = p["task_id"].replace("/", "_") + ".py"
        tail = "\n" + p["test"] + "\n" + f"check({p['entry_point']})" + "\n" + done
        open(f"{out}/good/{name}", "w").write(p["prompt"] + p["canonical_solution"] + tail)
        open(f"{out}/bad/{name}", "w").write(p["prompt"] + "    return None\n" + tail)
        n += 1
print(f"assembled {n} programs")
EOF

# one JSON line per program -> "passed failed timeout limit error max_wall mean_wall"
summary() {
  /usr/bin/python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
c = {k: sum(r["verdict"] == k for r in rs) for k in ("passed", "failed", "timeout", "limit", "sandbox-error")}
w = [r["wall_s"] for r in rs] or [0]
print(len(rs), c["passed"], c["failed"], c["timeout"], c["limit"], c["sandbox-error"], "%.3f" % max(w), "%.4f" % (sum(w) / len(w)))'
}
now() { date +%s.%N; }

t0=$(now)
read -r n pass failed tmo lim err maxw meanw < <("$XUAN_BIN" sandbox run -j 2 --require-done --json "$D"/good/*.py | summary)
t1=$(now)
total2=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")
echo "canonical solutions: $pass/$n passed ($failed failed, $tmo timeout, $lim limit, $err sandbox-error); slowest $maxw s; all 164 at -j 2: $total2 s"
if [ "$n" = 164 ] && [ "$pass" = 164 ]; then echo "ok   164/164 canonical solutions pass"
else echo "FAIL canonical solutions: $pass/$n passed"; "$XUAN_BIN" sandbox run -j 2 --require-done "$D"/good/*.py | grep -v '^.*passed ' | head -20; fail=1; fi
# the wall-clock limit eval uses is max(4 s, 4 x the canonical time): 4 s when every canonical run takes under 1 s
if awk "BEGIN{exit !($maxw < 1.0)}"; then echo "ok   every canonical solution under 1 s (limit max(4, 4t) = 4 s)"
else echo "note: slowest canonical solution took $maxw s"; fi

read -r n pass failed tmo lim err maxw meanw_bad < <("$XUAN_BIN" sandbox run -j 2 --require-done --timeout 4 --json "$D"/bad/*.py | summary)
echo "'return None' bodies: $pass/$n passed, $failed failed, $tmo timeout, $lim limit, $err sandbox-error"
if [ "$n" = 164 ] && [ "$pass" -le 3 ] && [ "$err" = 0 ]; then echo "ok   nearly all 'return None' bodies fail"
else echo "FAIL 'return None' bodies: $pass passed, $err sandbox errors"; fail=1; fi

# time per program, one at a time: the sandbox, --sandbox=none, plain python3
t0=$(now); "$XUAN_BIN" sandbox run -j 1 --require-done --json "$D"/good/*.py >/dev/null; t1=$(now)
t_full=$(awk "BEGIN{print ($t1 - $t0) / 164}")
t0=$(now); "$XUAN_BIN" sandbox run -j 1 --require-done --sandbox=none --json "$D"/good/*.py >/dev/null; t1=$(now)
t_none=$(awk "BEGIN{print ($t1 - $t0) / 164}")
t0=$(now); for f in "$D"/good/*.py; do (cd "$D" && /usr/bin/python3 -B -s "$f" 3>/dev/null >/dev/null) || true; done; t1=$(now)
t_plain=$(awk "BEGIN{print ($t1 - $t0) / 164}")
awk "BEGIN{printf \"per program at -j 1: sandbox %.1f ms, --sandbox=none %.1f ms, plain python3 %.1f ms (sandbox overhead %.1f ms)\\n\", \
  $t_full * 1000, $t_none * 1000, $t_plain * 1000, ($t_full - $t_plain) * 1000}"

leftover=$(ps -eo args | grep -c '[H]umanEval_[0-9]*\.py' || true)
if [ "$leftover" = 0 ]; then echo "ok   no program left running"; else echo "FAIL $leftover programs still running"; fail=1; fi
rm -rf "$D"
exit $fail
