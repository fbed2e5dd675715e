#!/usr/bin/env bash
# Black-box tests of `xuan sandbox run`: output passes through, the verdict
# line, exit codes (0 all passed, 1 any did not, 2 usage), several files, --json.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}"
[ -x /usr/bin/python3 ] || { echo "skip: no /usr/bin/python3 (apt-get install python3)"; exit 77; }
D="$XUAN_TMP/cli_sandbox"; rm -rf "$D"; mkdir -p "$D"
fail=0
# where the kernel or the container forbids the namespaces: a visible skip with the sandbox's own line
printf 'pass\n' >"$D/probe.py"
if ! probe=$("$XUAN_BIN" sandbox run "$D/probe.py" 2>&1) && grep -q 'cannot create a\|without capabilities?' <<<"$probe"; then
  echo "skip: ${probe##*xuan: }"; exit 77
fi
rm -f "$D/probe.py"
check() { # name, condition...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}
printf 'print("hi from the sandbox")\n' >"$D/ok.py"
printf 'import sys\nprint("to stderr", file=sys.stderr)\nsys.exit(5)\n' >"$D/bad.py"
printf 'while True: pass\n' >"$D/loop.py"

out=$("$XUAN_BIN" sandbox run "$D/ok.py" 2>"$D/err"); rc=$?
check "one file: output and exit 0" test "$out" = "hi from the sandbox" -a $rc = 0
check "one file: verdict line" grep -q '^xuan sandbox: passed (exit 0, ' "$D/err"
"$XUAN_BIN" sandbox run "$D/bad.py" >/dev/null 2>"$D/err"; rc=$?
check "failing program: exit 1" test $rc = 1
check "failing program: its stderr and the verdict" grep -q 'to stderr' "$D/err"
check "failing program: verdict line" grep -q '^xuan sandbox: failed (exit 5, ' "$D/err"
"$XUAN_BIN" sandbox run --timeout 0.5 "$D/loop.py" >/dev/null 2>"$D/err"; rc=$?
check "timeout: exit 1 and the verdict" test $rc = 1 -a -n "$(grep '^xuan sandbox: timeout' "$D/err")"

out=$("$XUAN_BIN" sandbox run -j 2 --timeout 0.5 "$D/ok.py" "$D/bad.py" "$D/loop.py"); rc=$?
check "three files: exit 1" test $rc = 1
check "three files: totals" grep -q '^3 programs: 1 passed, 1 failed, 1 timeout, 0 limit, 0 sandbox-error' <<<"$out"
check "three files: one line each" test "$(grep -c 'cli_sandbox/' <<<"$out")" = 3
json=$("$XUAN_BIN" sandbox run --json "$D/ok.py")
check "--json" test "$(python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r["verdict"], r["stdout"].strip(), r["exit_code"])' <<<"$json")" = "passed hi from the sandbox 0"
out=$("$XUAN_BIN" sandbox run --sandbox=none "$D/ok.py" 2>/dev/null); rc=$?
check "--sandbox=none runs it" test "$out" = "hi from the sandbox" -a $rc = 0

"$XUAN_BIN" sandbox run --sandbox=off "$D/ok.py" 2>/dev/null; check "bad --sandbox: exit 2" test $? = 2
"$XUAN_BIN" sandbox run 2>/dev/null; check "no file: exit 2" test $? = 2
"$XUAN_BIN" sandbox frobnicate 2>/dev/null; check "unknown subcommand: exit 2" test $? = 2
"$XUAN_BIN" sandbox run --timeout -1 "$D/ok.py" 2>/dev/null; check "bad --timeout: exit 2" test $? = 2
err=$("$XUAN_BIN" sandbox run --python /opt/nowhere/python3 "$D/ok.py" 2>&1); rc=$?
check "missing interpreter: exit 1, named" test $rc = 1 -a -n "$(grep '/opt/nowhere/python3' <<<"$err")"
rm -rf "$D"
exit $fail
