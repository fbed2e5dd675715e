#!/usr/bin/env python3
"""Does `xuan eval score` reach the reference harnesses' own verdicts on real models' outputs?

    python3 tests/ref_agreement.py --xuan BIN --refdata DIR [--data DIR] [--out DIR] [--min 99.5]

DIR holds per-sample logs that the reference harnesses wrote for real models (fetched from
public repositories, never committed here; docs/eval.md lists them):

  DIR/lm-eval/**/samples_gsm8k_*.jsonl     lm-evaluation-harness --log_samples, task gsm8k: one
                                           row per doc and filter, with resps, filtered_resps
                                           and exact_match ("strict-match", "flexible-extract")
  DIR/lm-eval/**/samples_hendrycks_math_*.jsonl  the same, task hendrycks_math (0.4.9.x): the
                                           equivalence of the answer it read (math-boxed)
  DIR/mmlu-pro/**/model_outputs_*.json     TIGER-Lab MMLU-Pro evaluate_from_*.py: a list of
                                           questions with options, answer, the model's text
                                           (generated_text or model_outputs) and pred
  DIR/humaneval/**/*_results.jsonl         openai/human-eval evaluate_functional_correctness:
                                           task_id, completion, result, passed

Each log becomes `xuan eval score` input (output, target, options / task_id, completion), is
scored, and every item's verdict (correct or not) and extracted answer are compared with the
reference's.  Prints, per source file and per extractor, how many items agree, then every
disagreement (the reference's and xuan's answers and the end of the output); writes them all
to --out.  Exit 1 when an extractor's verdict agreement is under --min percent, 77 when DIR
holds none of the logs above.

Every differing verdict is counted under a cause (CAUSES below); the headline figure is not
adjusted for them.  The --min gate leaves out the items whose logged verdict the log itself shows
did not come from today's reference code reading this text (ref-no-answer, ref-letter-not-in-output).
"""
import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys


def first_resp(resps):
    """The model's text: [["text"]] (lm-eval <= 0.4.8) or ["text"] (later, flattened)."""
    r = resps[0]
    return r[0] if isinstance(r, list) else r


def lm_eval_gsm8k(path):
    """Items from an lm-evaluation-harness samples_gsm8k_*.jsonl."""
    docs = collections.OrderedDict()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                docs.setdefault(row["doc_id"], {})[row.get("filter", "none")] = row
    names = {"strict-match": "gsm8k-strict", "flexible-extract": "gsm8k-flexible"}
    for doc_id, by_filter in docs.items():
        any_row = next(iter(by_filter.values()))
        ref = {}
        for flt, row in by_filter.items():
            if flt not in names:
                continue
            got = first_resp(row["filtered_resps"])
            ref[names[flt]] = (None if got == "[invalid]" else got, bool(row["exact_match"]))
        target = any_row.get("target") or any_row["doc"]["answer"]
        yield {"id": doc_id, "output": first_resp(any_row["resps"]), "target": target}, ref, {}


def lm_eval_hendrycks_math(path):
    """Items from an lm-evaluation-harness samples_hendrycks_math_*.jsonl (0.4.9.x).

    That version's process_results reads the answer between the response's first and last "$"
    (all of it when there are fewer than two), not its last \\boxed{}, and compares it with
    is_equiv.  xuan's math-boxed extractor reads \\boxed{}, so the answer the reference read
    is handed to it as "\\boxed{ANSWER}", or where that cannot carry it (ANSWER holds a
    \\boxed or \\fbox of its own, or its braces do not balance) as "\\boxed ANSWER", which
    hendrycks' last_boxed_only_string reads up to the first "$": this checks the equivalence,
    not the extraction.  An answer neither form carries is counted under not-expressible and
    left out.  Fields may be stored as Python reprs (a later script rewrote the rows): both
    forms are read."""
    import ast

    def lit(v):
        return ast.literal_eval(v) if isinstance(v, str) else v

    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            resp = first_resp(lit(row["resps"]))
            dollars = [i for i, ch in enumerate(resp) if ch == "$"]
            answer = resp if len(dollars) <= 1 else resp[dollars[0] + 1:dollars[-1]]
            ok = bool(float(row["exact_match"]))
            extra = {}
            depth, bad = 0, False
            for ch in answer:
                depth += (ch == "{") - (ch == "}")
                bad |= depth < 0
            if not (bad or depth or "\\boxed" in answer or "\\fbox" in answer):
                output = "\\boxed{%s}" % answer
            elif "$" not in answer and "\\boxed " not in answer:
                output = "\\boxed " + answer
            else:
                output, extra["not_expressible"] = "", True
            unwrap = lambda t: re.sub(r"^\\text\{(.*)\}$", r"\1", t.strip())
            if unwrap(answer) == unwrap(row["target"]) and answer.strip() != row["target"].strip():
                extra["text_unwrap"] = True  # equal once a whole \text{...} is unwrapped
            line = {"id": row["doc_id"], "output": output, "target": row["target"]}
            yield line, {"math-boxed": (answer, ok)}, extra


def mmlu_pro(path):
    """Items from a TIGER-Lab MMLU-Pro model_outputs_*.json."""
    import random
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    for row in rows:
        text = row.get("model_outputs", row.get("generated_text"))
        if text is None:
            continue
        pred = row.get("pred") or None
        extra = {}
        if pred is None:  # evaluate_from_local.py save_res: random.seed(12345); randint(0, n - 1)
            random.seed(12345)
            extra["ref_guess_hit"] = random.randint(0, len(row["options"]) - 1) == row["answer_index"]
            extra["ref_none"] = True
        elif not re.search(r"\b%s\b" % pred, text):
            extra["ref_not_in_output"] = True  # no extractor can read this letter from this text
        line = {"id": row["question_id"], "output": text, "target": row["answer"], "options": row["options"]}
        yield line, {"mmlu-pro": (pred, pred == row["answer"])}, extra


def humaneval(path):
    """Items from a human-eval *_results.jsonl."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if line.strip():
                row = json.loads(line)
                yield ({"id": i, "task_id": row["task_id"], "completion": row["completion"]},
                       {"humaneval": (None, bool(row["passed"]))}, {"result": row.get("result", "")})


# Why a verdict differs, as the checker can tell from the log alone:
#   ref-no-answer             MMLU-Pro's log has no letter (pred null) where xuan reads one: the logs
#                             written by evaluate_from_local.py before 2024-07-09 stop after the
#                             first regex, xuan runs today's extract_answer -> extract_again ->
#                             extract_final chain
#   ref-letter-not-in-output  the log's letter is nowhere in the output as a word: it did not come
#                             from this text
#   ref-guess                 the reference scored a missing answer by its seeded random guess
#   ref-no-text-unwrap        MATH: the answers differ by a whole \text{...} around one of them;
#                             lm-eval's copy of is_equiv compares them as they are, xuan follows
#                             openai/prm800k's normalize_answer, which unwraps it first (MATH-500's
#                             grader)
#   unexplained               none of the above: a bug on one side, to read in the reference's code
CAUSES = ["ref-no-answer", "ref-letter-not-in-output", "ref-guess", "ref-no-text-unwrap", "unexplained"]

SOURCES = [
    ("lm-eval", "samples_gsm8k_*.jsonl", "gsm8k", lm_eval_gsm8k),
    ("lm-eval", "samples_hendrycks_math_*.jsonl", "math500", lm_eval_hendrycks_math),
    ("mmlu-pro", "model_outputs_*.json", "mmlu-it", mmlu_pro),  # any task with the mmlu-pro extractor
    ("humaneval", "*_results.jsonl", "humaneval", humaneval),
]


def score(args, task, lines, work):
    """Runs xuan eval score --json on lines; {input line number: result object}."""
    inp = os.path.join(work, "input.jsonl")
    with open(inp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    cmd = [args.xuan, "eval", "score", "--task", task, "--outputs", inp, "--json"]
    if task == "humaneval":
        cmd += ["-j", str(args.jobs)]
        if args.data:
            cmd += ["--data", args.data]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if p.returncode not in (0, 1):
        sys.exit("xuan eval score failed (exit %d): %s" % (p.returncode, p.stderr.strip()))
    out = {}
    for text in p.stdout.splitlines():
        obj = json.loads(text)
        if "line" in obj:
            out[obj["line"]] = obj
    return out, p.stderr


def tail(s, n=160):
    s = s if len(s) <= n else "..." + s[-n:]
    return json.dumps(s, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xuan", required=True)
    ap.add_argument("--refdata", required=True)
    ap.add_argument("--data", help="datasets folder for HumanEval's prompts and tests")
    ap.add_argument("--out", default=".", help="folder for the converted input and disagreements.txt")
    ap.add_argument("--min", type=float, default=99.5, help="least verdict agreement per extractor, percent")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", type=int, default=20, help="disagreements printed per extractor")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    totals = collections.OrderedDict()  # extractor -> Counter
    disagreements = collections.defaultdict(list)
    found = 0
    for sub, pattern, task, reader in SOURCES:
        for path in sorted(glob.glob(os.path.join(args.refdata, sub, "**", pattern), recursive=True)):
            found += 1
            items = list(reader(path))
            skipped = [it for it in items if it[2].get("not_expressible")]
            items = [it for it in items if not it[2].get("not_expressible")]
            for _, ref, _ in skipped:
                for ex in ref:
                    totals.setdefault(ex, collections.Counter())["not-expressible"] += 1
            work = os.path.join(args.out, sub)
            os.makedirs(work, exist_ok=True)
            results, errors = score(args, task, [it[0] for it in items], work)
            per = collections.OrderedDict()
            for n, (line, ref, extra) in enumerate(items, 1):
                got = results.get(n)
                for ex, (ref_ans, ref_ok) in ref.items():
                    c = per.setdefault(ex, collections.Counter())
                    c["items"] += 1
                    if got is None:
                        c["error"] += 1
                        disagreements[ex].append((path, line, ref_ans, ref_ok, None, None, "error", errors))
                        continue
                    if ex == "humaneval":  # one extractor: correct is a bool, verdict the sandbox's
                        x_ans, x_ok = got.get("verdict"), got.get("correct")
                    else:
                        x_ans = (got.get("extracted") or {}).get(ex)
                        x_ok = (got.get("correct") or {}).get(ex)
                        c["extract_same"] += x_ans == ref_ans
                    if x_ok == ref_ok:
                        c["verdict_same"] += 1
                        continue
                    why = ""
                    if extra.get("ref_not_in_output"):
                        why = "ref-letter-not-in-output"
                    elif extra.get("ref_none") and x_ans is not None:
                        why = "ref-no-answer"
                    elif extra.get("ref_guess_hit"):
                        why = "ref-guess"
                    elif extra.get("text_unwrap") and x_ok:
                        why = "ref-no-text-unwrap"
                    c[why or "unexplained"] += 1
                    disagreements[ex].append((path, line, ref_ans, ref_ok, x_ans, x_ok, why, extra.get("result")))
            for ex, c in per.items():
                t = totals.setdefault(ex, collections.Counter())
                t.update(c)
                t["files"] += 1
                ext = "" if ex == "humaneval" else ", extracted answer same %d" % c["extract_same"]
                print("%-15s %s: %d items, verdict same %d (%.2f%%)%s" % (
                    ex, os.path.relpath(path, args.refdata), c["items"], c["verdict_same"],
                    100.0 * c["verdict_same"] / c["items"], ext))
    if not found:
        print("no reference logs under %s (lm-eval/, mmlu-pro/, humaneval/)" % args.refdata)
        return 77

    print("\nper extractor (all files):")
    low = []
    for ex, t in totals.items():
        pct = 100.0 * t["verdict_same"] / t["items"]
        explained = t["ref-no-answer"] + t["ref-letter-not-in-output"]
        # the gate: items whose logged verdict came from this text by the harness's current code
        gate = 100.0 * t["verdict_same"] / (t["items"] - explained)
        ext = "" if ex == "humaneval" else "; extracted answer same %d (%.2f%%)" % (
            t["extract_same"], 100.0 * t["extract_same"] / t["items"])
        why = ", ".join("%s %d" % (k, t[k]) for k in CAUSES if t[k])
        if t["not-expressible"]:
            print("  %-15s %d items left out: the reference's answer cannot be handed over in a \\boxed" % (
                ex, t["not-expressible"]))
        print("  %-15s %d files, %d items: verdict same %d (%.2f%%)%s%s" % (
            ex, t["files"], t["items"], t["verdict_same"], pct, ext, "\n      differing: " + why if why else ""))
        if explained:
            print("      without the items the log's own script version explains: %d of %d same (%.2f%%)" % (
                t["verdict_same"], t["items"] - explained, gate))
        if gate < args.min:
            low.append(ex)

    with open(os.path.join(args.out, "disagreements.txt"), "w", encoding="utf-8") as f:
        for ex, rows in disagreements.items():
            print("\ndisagreements, %s: %d" % (ex, len(rows)))
            for k, (path, line, ref_ans, ref_ok, x_ans, x_ok, why, note) in enumerate(rows):
                text = line.get("output", line.get("completion", ""))
                desc = "%s id=%s ref=%s/%s xuan=%s/%s %s target=%s output=%s%s" % (
                    os.path.relpath(path, args.refdata), line["id"], json.dumps(ref_ans), ref_ok,
                    json.dumps(x_ans), x_ok, why, json.dumps(line.get("target", line.get("task_id"))),
                    tail(text), " note=" + tail(note or "", 80) if note else "")
                f.write(desc + "\n")
                if k < args.list:
                    print("  " + desc)
    if low:
        print("\nunder %.1f%%: %s" % (args.min, ", ".join(low)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
