#!/usr/bin/env bash
# Comments and docs cite paths that exist (scripts/check_paths.py), and the
# check itself finds a path that does not.
set -uo pipefail
: "${XUAN_SRC:?}" "${XUAN_TMP:?}"
fail=0
if out=$(python3 "$XUAN_SRC/scripts/check_paths.py" "$XUAN_SRC" 2>&1); then echo "ok: ${out##*$'\n'}"
else echo "FAIL: cited paths that do not exist:"; echo "$out"; fail=1; fi

# a scratch repository with one good and one stale citation
d="$XUAN_TMP/cited_paths/repo"; rm -rf "$d"; mkdir -p "$d/src" "$d/docs"
printf '/* see docs/real.md and docs/gone.md */\n' >"$d/src/a.c"
printf '# real\nllama.cpp'"'"'s src/llama-vocab.cpp is not ours; tests/golden/tok/NAME.jsonl is a template\n' >"$d/docs/real.md"
git -C "$d" init -q && git -C "$d" add . >/dev/null
out=$(python3 "$XUAN_SRC/scripts/check_paths.py" "$d" 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "src/a.c:1: cites docs/gone.md" <<<"$out" && ! grep -q "real.md\|llama-vocab\|NAME" <<<"${out%check_paths:*}"; then
  echo "ok: a stale path is found, the others pass"
else echo "FAIL: check on a stale path: rc $rc: $out"; fail=1; fi
exit $fail
