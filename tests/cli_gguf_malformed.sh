#!/usr/bin/env bash
# Every malformed GGUF of tests/test_gguf_malformed.c through the CLI:
# `xuan inspect FILE` (and `--json`) must exit 1, print nothing on stdout and
# exactly one line on stderr, starting with "xuan: " and naming the file.
#
# The files are made here, by the test binary itself (--write-corpus), so this
# test does not depend on the order in which ctest runs the two.
set -u
: "${XUAN_BIN:?set by ctest}" "${XUAN_BUILD:?set by ctest}" "${XUAN_TMP:?set by ctest}"

gen="$XUAN_BUILD/test_gguf_malformed"
dir="$XUAN_TMP/malformed"
rm -rf "$dir"
mkdir -p "$dir"
if ! "$gen" --write-corpus "$dir" >/dev/null; then
    echo "FAIL: $gen --write-corpus $dir"
    exit 1
fi

out="$XUAN_TMP/cli_gguf_malformed.out"
err="$XUAN_TMP/cli_gguf_malformed.err"
n=0
failed=0

fail() {
    echo "FAIL $*"
    failed=$((failed + 1))
}

# check FILE STEM [FLAGS...]: one run of `xuan inspect`.
check() {
    local file=$1 stem=$2
    shift 2
    n=$((n + 1))
    "$XUAN_BIN" inspect "$@" "$file" >"$out" 2>"$err"
    local rc=$?
    local lines first
    lines=$(grep -c '' "$err")
    first=$(head -n 1 "$err")
    if [ "$rc" -ne 1 ]; then
        fail "$stem $*: exit status $rc, expected 1 (stderr: $first)"
    elif [ "$lines" -ne 1 ]; then
        fail "$stem $*: $lines lines on stderr, expected 1:"
        sed 's/^/    | /' "$err" | head -n 20
    elif [[ "$first" != "xuan: "* ]]; then
        fail "$stem $*: stderr does not start with 'xuan: ': $first"
    elif [[ "$first" != *"$stem"* ]]; then
        fail "$stem $*: the message does not name the file: $first"
    elif [ -s "$out" ]; then
        fail "$stem $*: printed on stdout: $(head -c 200 "$out")"
    fi
}

for f in "$dir"/*.gguf; do
    case "$f" in
    *-0000[2-9]-of-0000[2-9].gguf) continue ;; # later parts are opened through part 1
    esac
    stem=$(basename "$f" .gguf)
    stem=${stem%-00001-of-0000[2-9]}
    check "$f" "$stem"
    check "$f" "$stem" --json
done
check "$dir/no-such-file.gguf" no-such-file

files=$(( (n - 1) / 2 ))
if [ "$files" -lt 30 ]; then
    fail "only $files malformed files were written (the issue asks for at least 30)"
fi
echo "$files malformed files, $n runs of xuan inspect, $failed failed"
[ "$failed" -eq 0 ]
