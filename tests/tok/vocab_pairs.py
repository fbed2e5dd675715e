#!/usr/bin/env python3
"""xuan tokenize against llama.cpp's own tokenizer tests: every
models/ggml-vocab-NAME.gguf of the reference's source tree that comes with
.inp/.out (the texts and the ids llama.cpp's test-tokenizer-0 expects, no
BOS, special text as text).  Vocabularies whose tokenizer xuan does not run
yet are listed with their one-line refusal, not counted as failures, unless
named in --require.  Prints one line per vocabulary; exit 1 on any mismatch.

    vocab_pairs.py XUAN MODELS_DIR [--require name,name...]
"""
import glob, json, os, subprocess, sys

xuan, models = sys.argv[1], sys.argv[2]
require = set(sys.argv[4].split(",")) if len(sys.argv) > 4 and sys.argv[3] == "--require" else set()
bad = total = matched = 0
for g in sorted(glob.glob(os.path.join(models, "ggml-vocab-*.gguf"))):
    name = os.path.basename(g)[len("ggml-vocab-"):-len(".gguf")]
    if not os.path.exists(g + ".inp") or not os.path.exists(g + ".out"):
        continue
    texts = open(g + ".inp", "rb").read().decode("utf-8").split("\n__ggml_vocab_test__\n")
    if texts and texts[-1] == "":
        texts.pop()
    want_all = open(g + ".out").read().split("\n")
    ok = n = 0
    first = refusal = None
    for i, text in enumerate(texts):
        if i >= len(want_all):
            break
        want = [int(v) for v in want_all[i].split()]
        r = subprocess.run([xuan, "tokenize", "-m", g, "--json", "--no-bos", "-"], input=text.encode("utf-8"),
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            refusal = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            break
        got = json.loads(r.stdout)["ids"]
        n += 1
        if got == want:
            ok += 1
        elif first is None:
            first = (text[:40], want[:10], got[:10])
    if refusal is not None and n == 0:
        status = "FAIL" if name in require else "not run"
        bad += name in require
        print(f"{status:8s} {name:18s} {refusal[0] if refusal else ''}")
        continue
    total += n
    matched += ok
    status = "ok" if ok == n else "FAIL"
    bad += ok != n
    print(f"{status:8s} {name:18s} {ok}/{n}" + (f"  first difference: {first!r}" if first else ""))
print(f"vocab pairs: {matched}/{total} texts identical to llama.cpp's expected ids")
sys.exit(1 if bad else 0)
