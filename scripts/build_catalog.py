#!/usr/bin/env python3
"""Regenerates xuan's own catalog (data/) from the project's shared catalog.

    python3 scripts/build_catalog.py [--shared ../shared/catalog] [--check]

Inputs (read-only): ../shared/catalog/{models.json, scores.json, SEED_ERRATA.md,
VERIFICATION.md, memory.md, chat_templates.md, tokenizers.md, models_2026.md}, and
data/additions_2026.json (kept in this repository: the 2025-2026 models, their
score tables with one source per table, thinking modes and supersessions).
Outputs (committed, because ../shared is not shipped to users):
  data/catalog.json          the catalog xuan reads (models, scores, errata)
  data/sources/*             verbatim copies of every input, so no source is lost
  src/pick/catalog_data.c    data/catalog.json as a C string, so the binary
                             works without data/ installed
--check exits 1 when the committed outputs differ from what the inputs give.

What the derivation does (docs/catalog.md has the why):
  * every score keeps its source, setting and verification; `kind` becomes one
    of official / third-party / seed-estimate (measured rows come from the
    user's own `xuan bench` results at run time, never from this file);
  * seed rows that disagree with a published value stay visible with the
    correction attached (SEED_ERRATA.md);
  * proprietary and >14B models become reference rows (`runnable: false` or
    out of the <=14B scope) with the reason;
  * sizes shown as "4.68 GB" become approximate byte counts (decimal units),
    flagged `size_exact: false`;
  * a score without a source, a supersession naming an unknown model, or a
    hybrid model whose shapes do not add up to its published parameter count
    stops the build (exit 1): nothing unsourced reaches the binary.
"""
import argparse
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ["models.json", "scores.json", "SEED_ERRATA.md", "VERIFICATION.md", "memory.md",
           "chat_templates.md", "tokenizers.md", "models_2026.md"]
ADDITIONS = os.path.join(ROOT, "data", "additions_2026.json")

# Which task a benchmark informs.  Codeforces ratings are not percentages and
# are kept for display only.
TASK_OF = {
    "GSM8K": "math", "MATH": "math", "MATH-500": "math", "MATH-500 pass@1": "math",
    "AIME 2024 pass@1": "math", "MGSM": "math",
    "HumanEval": "code", "HumanEval+": "code", "MBPP": "code", "MBPP+": "code",
    "EvalPlus": "code", "LiveCodeBench": "code", "LiveCodeBench pass@1": "code",
    "MultiPL-E": "code", "Codeforces rating": "display",
    "MedQA": "med", "MedMCQA": "med", "PubMedQA": "med", "MMLU Med": "med", "HealthBench": "med",
    "AIME 2025": "math", "AIME 2026": "math", "HMMT 2025": "math", "HMMT Feb 2025": "math",
    "LiveCodeBench v6": "code", "LiveCodeBench v5-v6 (TII)": "code", "LiveCodeBench (2407-2409)": "code",
    "LiveCodeBench (8/24-2/25)": "code", "LiveCodeBench (Gemma 3 card)": "code",
    "LiveCodeBench (Hunyuan README)": "code", "SuperGPQA": "general",
    # Not a knowledge or skill axis of xuan pick: kept for display only.
    "IFEval": "display", "MMMLU": "display", "Global-MMLU-Lite": "display", "OmniMath": "display",
    "AIME (year not stated)": "display", "SLAKE (medical VQA)": "display",
    "PMC-VQA (medical VQA)": "display", "MedXpertQA-MM (medical VQA)": "display",
    "MMLU": "general", "MMLU-Pro": "general", "MMLU-redux": "general", "MMLU-Redux": "general",
    "GPQA": "general", "GPQA-Diamond": "general", "GPQA Diamond pass@1": "general",
    "BBH": "general", "Arena-Hard": "general",
    "C-Eval": "zh", "CMMLU": "zh",
    # C-Eval val subject subsets, the subjects of xuan eval's ceval-med / ceval-it
    "C-Eval medical subjects (val, 5-shot)": "med", "C-Eval IT/AI subjects (val, 5-shot)": "it",
}
# xuan pick's task columns (include/xuan/pick.h, xuan_task).
PICK_TASKS = ["general", "math", "code", "med", "it", "zh"]
# One spelling per benchmark.
CANON = {"MMLU-Redux": "MMLU-redux", "GPQA-Diamond": "GPQA Diamond pass@1",
         "MATH-500 pass@1": "MATH-500", "LiveCodeBench": "LiveCodeBench pass@1",
         # The Qwen3.5 card's "HMMT Feb 25" is the contest the Qwen3-2507 cards
         # and TII's table call "HMMT25" (HMMT February 2025; the card lists
         # HMMT Nov 25 apart): one benchmark.
         "HMMT Feb 2025": "HMMT 2025"}

# Reference rows that the scores mention but models.json does not describe.
EXTRA_REFERENCES = {
    "llama-3.1-405b-instruct": ("Llama 3.1", "Llama 3.1 Community License", 405.0,
                                "405B dense: far outside a <=14B local budget; score reference only"),
    "llama-3.1-70b-instruct": ("Llama 3.1", "Llama 3.1 Community License", 70.6,
                               "70B dense: outside a <=14B local budget; score reference only"),
    "gpt-4-0125": ("GPT-4", "proprietary API", None, "proprietary API model; score reference only"),
}

# Sizes whose unit was misread in the shared catalog, with the basis.
SIZE_CORRECTIONS = {
    ("qwen2-7b-instruct", "Q8_0"): (
        2 ** 30,
        "the mirror listing (ai.gitee.com) shows binary units: 7.54 GiB = 8.10 GB, the same size "
        "as every other Qwen2/2.5-7B Q8_0 file (same tensor shapes); xuan's tensor-by-tensor "
        "estimate gives 8.09 GB"),
}

SCOPE_MAX_B = 16.0  # the project's question is <=14B; Coder-V2-Lite (15.7B) is in the seed's list


def num_b(text):
    """'7.61B (6.53B non-embedding)' -> 7.61; None when absent."""
    if text is None:
        return None
    m = re.match(r"\s*([0-9.]+)\s*B", str(text))
    return float(m.group(1)) if m else None


def size_bytes(display):
    """'4.68 GB' -> 4680000000, '398 MB' -> 398000000 (decimal, as HF shows)."""
    if not display:
        return None
    m = re.match(r"\s*([0-9.]+)\s*(GB|MB)", display)
    if not m:
        return None
    return int(round(float(m.group(1)) * (1e9 if m.group(2) == "GB" else 1e6)))


def license_class(lic):
    l = (lic or "").lower()
    if "proprietary" in l:
        return "proprietary"
    if l.startswith("apache") or l.startswith("mit"):
        # "Apache-2.0 code; weights under ..." is not open weights.
        if "weights" in l and ("registration" in l or "application" in l or "research" in l):
            return "restricted"
        return "open"
    return "restricted"


def license_short(lic):
    l = lic or "?"
    for key, short in (("proprietary", "proprietary"), ("Qwen Research", "qwen-research"),
                       ("Llama 3.1", "llama3.1"), ("Llama 3.2", "llama3.2"),
                       ("Gemma", "gemma"), ("GLM-4", "glm-4"), ("DeepSeek Model", "deepseek"),
                       ("MiniCPM", "minicpm"), ("commercial use after application", "internlm"),
                       ("MIT", "mit"), ("Apache-2.0", "apache-2.0")):
        if key in l:
            return short
    return l.split()[0].lower()


def chinese(value):
    v = (value or "").split()[0] if value else None
    return v if v in ("native", "supported", "weak") else None


def gguf_block(model_id, g):
    if not g:
        return None
    files = {}
    for quant, f in (g.get("files") or {}).items():
        disp = f.get("size_display")
        exact = f.get("size_bytes")
        files[quant] = {
            "file": f.get("file"),
            "size_bytes": exact if exact else size_bytes(disp),
            "size_exact": bool(exact),
            "size_display": disp,
        }
        fix = SIZE_CORRECTIONS.get((model_id, quant))
        if fix and not exact:
            unit, basis = fix
            files[quant]["size_bytes"] = int(round(float(disp.split()[0]) * unit))
            files[quant]["size_correction"] = basis
    repo = g.get("repo") or ""
    repo_id = repo.split()[0] if repo else None
    # The ollama listing is not a Hugging Face repository: nothing to pull.
    pullable = bool(repo_id) and "/" in repo_id and not repo.startswith("ollama")
    return {"repo": repo_id if pullable else None, "repo_display": repo, "files": files,
            "note": g.get("note"), "base_model_gguf": g.get("base_model_gguf")}


def build_models(models):
    out = []
    for m in models:
        params = num_b(m.get("params_total"))
        active = num_b(m.get("params_active"))
        lic = m.get("license")
        runnable = license_class(lic) != "proprietary" and (m.get("n_layers") is not None or
                                                              bool(m.get("shapes_missing")))
        scope = "in-scope"
        reason = m.get("shapes_missing")
        if not runnable:
            scope, reason = "reference", "proprietary API model: no weights to run locally; score reference only"
        elif params is not None and params > SCOPE_MAX_B and m.get("in_scope_reason"):
            reason = m["in_scope_reason"]  # over the line by total size only (gpt-oss-20b: MoE, MXFP4)
        elif params is not None and params > SCOPE_MAX_B:
            scope = "out-of-scope"
            reason = "%.1fB total parameters: all must be in memory, far over the <=14B budget" % params
        mla = m.get("mla") or None
        head_dim = m.get("head_dim")
        if head_dim is None and m.get("d_model") and m.get("n_heads"):
            head_dim = m["d_model"] // m["n_heads"]
        e = {
            "id": m["id"], "family": m.get("family"), "hf_repo": m.get("hf_repo"),
            "license": lic, "license_short": license_short(lic), "license_class": license_class(lic),
            "params_b": params, "params_active_b": active, "params_text": m.get("params_total"),
            "arch": m.get("architecture_gguf"), "n_layers": m.get("n_layers"),
            "d_model": m.get("d_model"), "n_heads": m.get("n_heads"),
            "n_kv_heads": m.get("n_kv_heads"), "head_dim": head_dim, "d_ffn": m.get("d_ffn"),
            "n_vocab": m.get("vocab_size"), "tied_embeddings": m.get("tied_embeddings"),
            "context_native": m.get("context_native"),
            "context_extended": m.get("context_extended") if isinstance(m.get("context_extended"), int) else None,
            "sliding_window": m.get("sliding_window") if isinstance(m.get("sliding_window"), int) else None,
            "moe": m.get("moe"), "mla": mla,
            "chinese": chinese(m.get("chinese_support")), "chinese_text": m.get("chinese_support"),
            "chinese_basis": m.get("chinese_basis"),
            "chat_template": m.get("chat_template"), "release_date": m.get("release_date"),
            "addition": bool(m.get("addition")),
            "runnable": runnable, "scope": scope, "scope_reason": reason,
            "notes": m.get("notes"), "confidence": m.get("confidence"),
            "sources": m.get("sources") or [], "verified_fields": m.get("verified_fields") or [],
            "corrections": m.get("corrections") or [],
            "gguf": gguf_block(m["id"], m.get("gguf")),
            # 2025-2026 fields (additions_2026.json): how the model thinks, what
            # replaced it, and the layer layout of hybrid (DeltaNet) models.
            "thinking": m.get("thinking"), "thinking_default": m.get("thinking_default"),
            "thinking_switch": m.get("thinking_switch"), "sampling": m.get("sampling"),
            "sampling_source": m.get("sampling_source"), "superseded_by": m.get("superseded_by") or [],
            "hybrid": m.get("hybrid"), "shapes_missing": m.get("shapes_missing"),
            # per-layer attention facts (gemma4): sliding/global pattern, the
            # layers that reuse earlier KV, the global layers' head size,
            # per-layer embeddings, the shared layers' double-wide FFN
            "swa_pattern": m.get("swa_pattern"), "kv_shared_layers": m.get("kv_shared_layers"),
            "head_dim_global": m.get("head_dim_global"), "per_layer_embd": m.get("per_layer_embd"),
            "ffn_double_shared": m.get("ffn_double_shared"),
            "shape_source": m.get("shape_source"),
        }
        out.append(e)
    for mid, (fam, lic, params, reason) in EXTRA_REFERENCES.items():
        out.append({"id": mid, "family": fam, "hf_repo": None, "license": lic,
                    "license_short": license_short(lic), "license_class": license_class(lic),
                    "params_b": params, "params_active_b": None, "params_text": None,
                    "arch": None, "runnable": False, "scope": "reference", "scope_reason": reason,
                    "chinese": None, "sources": ["named in scores.json rows (Meta's Llama 3.1 table)"],
                    "gguf": None, "addition": False})
    return out


def build_scores(records):
    out = []
    for r in records:
        bench = CANON.get(r["benchmark"], r["benchmark"])
        kind = r["kind"]
        if kind == "seed":
            kind = "seed-estimate"
        setting = r.get("setting") or ""
        e = {
            "model": r["model"], "benchmark": bench, "benchmark_as_published": r["benchmark"],
            "task": TASK_OF.get(r["benchmark"], "general"),
            "value": r["value"], "kind": kind, "setting": setting,
            "base_model": setting.upper().startswith("BASE"),
            "verification": r.get("verification") or ("seed" if kind == "seed-estimate" else "recalled"),
            "source": r.get("source"),
        }
        for k in ("note", "verification_note", "source_as_recalled", "added_in"):
            if r.get(k):
                e[k] = r[k]
        c = r.get("comparison")
        if c:
            e["published_value"] = c.get("official_value")
            e["errata"] = c.get("flag")
            e["disagrees"] = str(c.get("flag", "")).upper().startswith("DISAGREES")
        out.append(e)
    return out


def build_errata(seed_names):
    er = []
    for s in seed_names:
        er.append({"seed_name": s["seed_name"], "fact": s["fact"], "source": "SEED_ERRATA.md"})
    # Sizes the seed got wrong (SEED_ERRATA.md, "Wrong sizes").
    er.append({"seed_name": "Mixtral 8x22B (22B)", "model": "mixtral-8x22b-instruct-v0.1",
               "fact": "141B total / 39B active parameters (8 experts, 2 used); all 141B must be in memory",
               "source": "SEED_ERRATA.md"})
    er.append({"seed_name": "Mixtral 8x7B", "model": "mixtral-8x7b-instruct-v0.1",
               "fact": "46.7B total / 12.9B active (not 56B, not 7B)", "source": "SEED_ERRATA.md"})
    er.append({"seed_name": "DeepSeek-Coder-V2-Lite (16B / 2.4B)", "model": "deepseek-coder-v2-lite-instruct",
               "fact": "15.7B total / 2.4B active: memory must hold all 15.7B, only speed scales with 2.4B",
               "source": "SEED_ERRATA.md"})
    er.append({"seed_name": "Llama 3.1 Chinese support", "model": "llama-3.1-8b-instruct",
               "fact": "Llama 3.1 officially supports 8 languages, not Chinese: treated as weak for --lang zh",
               "source": "SEED_ERRATA.md"})
    return er


SHAPE_FIELDS = ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ffn", "vocab_size",
                "tied_embeddings", "sliding_window", "context_native", "context_extended")


def hybrid_params(m):
    """Parameters of a qwen35 (Gated DeltaNet + gated attention) text model from
    its shapes, in billions: the check that the recorded layout is the real one."""
    h = m["hybrid"]
    d, f, L, V = m["d_model"], m["d_ffn"], m["n_layers"], m["vocab_size"]
    hd, H, Hkv = m["head_dim"], m["n_heads"], m["n_kv_heads"]
    kd, vd = h["gdn_k_heads"] * h["gdn_head_dim"], h["gdn_v_heads"] * h["gdn_head_dim"]
    attn = d * 2 * H * hd + 2 * d * Hkv * hd + H * hd * d  # Q with its output gate, K, V, O
    gdn = d * (2 * kd + vd) + d * vd + vd * d + 2 * d * h["gdn_v_heads"]  # qkv, z gate, out, alpha/beta
    ffn = 3 * d * f
    n_attn = h["attn_layers"]
    emb = V * d * (1 if m.get("tied_embeddings") else 2)
    return (n_attn * (attn + ffn) + (L - n_attn) * (gdn + ffn) + emb) / 1e9


def merge_additions(models, scores, add):
    """The repository's 2025-2026 additions on top of the shared catalog."""
    problems = []
    by_id = {m["id"]: m for m in models}
    for mid, extra in add.get("overlay", {}).items():
        if mid not in by_id:
            problems.append("overlay names unknown model %s" % mid)
            continue
        by_id[mid].update(extra)
    for m in models:
        m.setdefault("thinking", add["thinking_defaults"]["default"])
    for m in add["models"]:
        m = dict(m)
        src = m.pop("shape_from", None)
        m.pop("shape_from_synth", None)
        if src:
            if src not in by_id:
                problems.append("%s: shape_from names unknown model %s" % (m["id"], src))
                continue
            for k in SHAPE_FIELDS:
                if m.get(k) is None and k not in m and by_id[src].get(k) is not None:
                    m[k] = by_id[src][k]
            m["shape_source"] = "tensor shapes of %s (same architecture, same sizes)" % src
        m["addition"] = True
        if m.get("hybrid") and m.get("d_ffn"):
            got, want = hybrid_params(m), num_b(m.get("params_total"))
            if want and abs(got - want) / want > 0.01:
                problems.append("%s: shapes give %.3fB parameters, the card says %.2fB" % (m["id"], got, want))
        models.append(m)
        by_id[m["id"]] = m
    for m in models:
        for s in m.get("superseded_by") or []:
            if s not in by_id:
                problems.append("%s: superseded_by names unknown model %s" % (m["id"], s))
    for t in add["score_tables"]:
        for model, bench, value in t["rows"]:
            if model not in by_id:
                problems.append("score table '%s...': unknown model %s" % (t["source"][:40], model))
            scores["records"].append({"model": model, "benchmark": bench, "setting": t["setting"],
                                      "value": value, "source": t["source"], "kind": t["kind"],
                                      "verification": t["verification"], "added_in": "additions_2026"})
    for r in scores["records"]:
        if not (r.get("source") or "").strip():
            problems.append("score %s %s %s has no source" % (r["model"], r["benchmark"], r["value"]))
    if problems:
        for p in problems:
            print("build_catalog: %s" % p, file=sys.stderr)
        sys.exit(1)


def build_eval_tasks(table):
    """xuan eval's tasks -> the benchmark and column their measured results take."""
    out, problems = {}, []
    for name, v in table.items():
        if name == "note":
            continue
        if v.get("task") not in PICK_TASKS:
            problems.append("eval task %s: task %r is not one of %s" % (name, v.get("task"), ", ".join(PICK_TASKS)))
        if v.get("benchmark") in TASK_OF and TASK_OF[v["benchmark"]] != v.get("task"):
            problems.append("eval task %s: %s is a %s benchmark" % (name, v["benchmark"], TASK_OF[v["benchmark"]]))
        out[name] = {"benchmark": v.get("benchmark"), "task": v.get("task")}
    if problems:
        for p in problems:
            print("build_catalog: %s" % p, file=sys.stderr)
        sys.exit(1)
    return out


def render(shared):
    models = json.load(open(os.path.join(shared, "models.json"), encoding="utf-8"))
    scores = json.load(open(os.path.join(shared, "scores.json"), encoding="utf-8"))
    add = json.load(open(ADDITIONS, encoding="utf-8"))
    merge_additions(models["models"], scores, add)
    cat = {
        "checked": add["checked"],
        "left_out": add.get("left_out", []),
        "rec_checks": add.get("rec_checks", []),
        "schema": "xuan catalog v1: generated by scripts/build_catalog.py from ../shared/catalog; "
                  "do not edit by hand (docs/catalog.md)",
        "caveats": scores.get("caveats", []),
        "models": build_models(models["models"]),
        "scores": build_scores(scores["records"]),
        "errata": build_errata(models.get("seed_names_without_a_real_model", [])),
        "eval_tasks": build_eval_tasks(add.get("eval_tasks", {})),
    }
    return json.dumps(cat, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def c_source(text):
    """The catalog as a C string, one literal per line of JSON."""
    lines = ["/* Generated by scripts/build_catalog.py from data/catalog.json: do not edit.",
             " * The embedded copy lets `xuan pick` work with no data/ folder installed;",
             " * tests/test_pick_rank.c checks that it equals data/catalog.json. */",
             "#include \"pick_internal.h\"", "",
             "const char xuan_pick_catalog_json[] ="]
    for line in text.splitlines(True):
        esc = line.encode("utf-8")
        s = []
        for b in esc:
            ch = chr(b)
            if ch == "\\":
                s.append("\\\\")
            elif ch == '"':
                s.append('\\"')
            elif ch == "\n":
                s.append("\\n")
            elif 32 <= b < 127:
                s.append(ch)
            else:
                s.append("\\%03o" % b)
        lines.append('    "' + "".join(s) + '"')
    lines.append("    ;")
    lines.append("const unsigned long xuan_pick_catalog_json_len = sizeof xuan_pick_catalog_json - 1;")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "catalog"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    text = render(a.shared)
    outputs = {os.path.join(ROOT, "data", "catalog.json"): text,
               os.path.join(ROOT, "src", "pick", "catalog_data.c"): c_source(text)}
    if a.check:
        bad = [p for p, t in outputs.items()
               if not os.path.exists(p) or open(p, encoding="utf-8").read() != t]
        for s in SOURCES:
            p = os.path.join(ROOT, "data", "sources", s)
            if not os.path.exists(p) or open(p, "rb").read() != open(os.path.join(a.shared, s), "rb").read():
                bad.append(p)
        for p in bad:
            print("out of date: %s (run scripts/build_catalog.py)" % os.path.relpath(p, ROOT))
        return 1 if bad else 0
    os.makedirs(os.path.join(ROOT, "data", "sources"), exist_ok=True)
    for s in SOURCES:
        shutil.copyfile(os.path.join(a.shared, s), os.path.join(ROOT, "data", "sources", s))
    for p, t in outputs.items():
        with open(p, "w", encoding="utf-8") as f:
            f.write(t)
    print("wrote data/catalog.json (%d bytes), src/pick/catalog_data.c, data/sources/ (%d files)"
          % (len(text.encode()), len(SOURCES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
