#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS — runs every libFuzzer target BUILD_DIR/fuzz_<name>
# for SECONDS each, starting from the seeds in fuzz/corpus/<name>.
#
# The seeds are copied into a scratch folder inside the build folder
# (BUILD_DIR/fuzz-work/<name>/corpus): the fuzzer adds what it finds there,
# never to the committed corpus.  Crash inputs land in
# BUILD_DIR/fuzz-work/<name>/artifacts.  Prints the executions and the last
# coverage line of each target; exits 1 if any target crashed (or found a
# leak, a timeout or an UBSan error), 2 on a usage problem.
#
# Build the targets first:  CC=clang cmake -S . -B build-fuzz -DXUAN_FUZZ=ON
# (`make fuzz` does both; FUZZ_SECONDS=600 make fuzz for a longer run.)
set -u
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || { echo "fuzz/run.sh: no build folder $1" >&2; exit 2; }
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# UBSan errors are recoverable in the fuzz build: make them fatal so that
# libFuzzer reports them as crashes with the input that caused them.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"

# fuzz_tok's vocabularies: ../shared/vocab and the reference's models/
# folder (scripts/peer.sh unpacks it into the main build tree), where there.
if [ -z "${XUAN_FUZZ_VOCABS:-}" ]; then
    root=$(cd "$here/.." && pwd)
    XUAN_FUZZ_VOCABS="${XUAN_SHARED:-$root/../shared}/vocab:$root/build/peer/llama.cpp/models"
fi
export XUAN_FUZZ_VOCABS
export XUAN_FUZZ_TEMPLATES="${XUAN_FUZZ_TEMPLATES:-${XUAN_SHARED:-$(cd "$here/.." && pwd)/../shared}/templates:$(cd "$here/.." && pwd)/build/peer/llama.cpp/models/templates}"
have_vocab() {
    local d
    IFS=: read -ra dirs <<<"$XUAN_FUZZ_VOCABS"
    for d in "${dirs[@]}"; do compgen -G "$d/*.gguf" >/dev/null && return 0; done
    return 1
}

status=0
found=0
for bin in "$build"/fuzz_*; do
    [[ -f $bin && -x $bin ]] || continue
    found=1
    name=$(basename "$bin")
    target=${name#fuzz_}
    # a target may be named alone: FUZZ_TARGETS="tok jinja" make fuzz
    if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $target "* ]]; then continue; fi
    if [ "$target" = request ] && ! compgen -G "${XUAN_FUZZ_TEMPLATES%%:*}/*.jinja" >/dev/null; then
        echo "$name: skipped: no template in $XUAN_FUZZ_TEMPLATES (set XUAN_FUZZ_TEMPLATES)"
        continue
    fi
    if [ "$target" = tok ] && ! have_vocab; then
        echo "$name: skipped: no vocabulary in $XUAN_FUZZ_VOCABS (set XUAN_FUZZ_VOCABS)"
        continue
    fi
    work="$build/fuzz-work/$target"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    if [ -d "$here/corpus/$target" ]; then
        cp "$here/corpus/$target"/* "$work/corpus/"
    fi
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
          -print_final_stats=1 -artifact_prefix="$work/artifacts/")
    [ -f "$here/$target.dict" ] && args+=(-dict="$here/$target.dict")
    seeds=$(find "$work/corpus" -type f | wc -l)
    echo "$name: fuzzing for ${seconds}s from $seeds seeds (log: $work/log)"
    start=$(date +%s)
    "$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -n 1)
    cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$work/log" | tail -n 1)
    echo "$name: ${execs:-?} executions in ${took}s; corpus now $(find "$work/corpus" -type f | wc -l) files"
    echo "$name: ${cov:-no coverage line}"
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "$name: FAILED (exit $rc). Last lines of the log:"
        tail -n 40 "$work/log" | sed 's/^/    /'
        for a in "$work/artifacts"/*; do
            [ -f "$a" ] && echo "$name: reproduce with: $bin $a"
        done
    fi
done
if [ "$found" -eq 0 ]; then
    echo "fuzz/run.sh: no fuzz_* targets in $build (configure with CC=clang -DXUAN_FUZZ=ON)" >&2
    exit 2
fi
exit "$status"
