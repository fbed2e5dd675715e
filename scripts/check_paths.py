#!/usr/bin/env python3
"""Checks that the comments and docs cite paths that exist.

Every tracked text file is searched for paths into this repository
(src/..., include/..., tests/..., docs/..., bench/..., fuzz/..., scripts/...,
data/..., .ci/...) and into ../shared (../shared/...).  Each one must name a
file or folder that exists; ../shared paths are checked only where ../shared
is there.  Not checked, because they are not ours: paths right after another
project's name (llama.cpp's src/llama-vocab.cpp, `owner/repo:path`,
`owner/repo` @ commit), C++ sources, globs and templates (tests/golden/tok/NAME.jsonl,
tests/test_*).

Usage: scripts/check_paths.py [REPO]   (exit 1 with one line per bad path)
"""
import os
import re
import subprocess
import sys

ROOTS = ("src", "include", "tests", "docs", "bench", "fuzz", "scripts", "data", ".ci")
TEXT = (".c", ".h", ".md", ".sh", ".py", ".mjs", ".txt", ".cmake", ".jinja")
SKIP_DIRS = ("tests/golden/", "fuzz/corpus/",
             "tests/cli_cited_paths.sh")  # its stale paths are the test's own input

# a path starts after a space, a quote, a bracket or the line's start
PATH = re.compile(r"(?:(?<=^)|(?<=[\s`'\"(<\[,;=]))((?:\.\./shared/|(?:%s)/)[A-Za-z0-9_./<>*-]*[A-Za-z0-9_/*>-])"
                  % "|".join(re.escape(r) for r in ROOTS))
# another project's path: "llama.cpp's src/...", "(llama.cpp src/...)", "repo:path", "repo@commit:path",
# "repo` @ `c`, `path`"
FOREIGN = re.compile(r"(llama\.cpp|ggml|transformers|vllm|ollama|lm-evaluation-harness|opencompass|github|"
                     r"@ `?[0-9a-f]{7}|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:@[0-9a-f]{7,40})?:)[^.\n]{0,60}$", re.I)


def tracked(repo):
    try:
        out = subprocess.run(["git", "-C", repo, "ls-files"], check=True, capture_output=True, text=True).stdout
        return out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, _, names in os.walk(repo):
            if "/build" in d or "/.git" in d:
                continue
            files += [os.path.relpath(os.path.join(d, n), repo) for n in names]
        return files


def placeholder(p):
    # NAME, N, <arch>, a glob or a prefix such as tests/test_
    return ("*" in p or "<" in p or p.endswith("_") or
            any(re.fullmatch(r"[A-Z][A-Z0-9_]*(\.[a-z0-9]+)?", seg) for seg in p.split("/")[1:]))


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    shared = os.path.join(os.path.dirname(repo), "shared")
    bad = checked = 0
    for rel in tracked(repo):
        if not rel.endswith(TEXT) and os.path.basename(rel) not in ("Makefile", "CMakeLists.txt", "run"):
            continue
        if rel.startswith(SKIP_DIRS):
            continue
        try:
            with open(os.path.join(repo, rel), encoding="utf-8") as f:
                lines = f.readlines()
        except (OSError, UnicodeDecodeError):
            continue
        for no, line in enumerate(lines, 1):
            for m in PATH.finditer(line):
                p = m.group(1).rstrip("./")
                if placeholder(p) or p.endswith((".cpp", ".hpp", ".cu")):
                    continue
                if FOREIGN.search(line[:m.start()]):
                    continue
                if p.startswith("../shared/"):
                    if not os.path.isdir(shared):
                        continue
                    full = os.path.join(shared, p[len("../shared/"):])
                else:
                    full = os.path.join(repo, p)
                checked += 1
                if not os.path.exists(full):
                    print(f"{rel}:{no}: cites {p}, which does not exist")
                    bad += 1
    print(f"check_paths: {checked} cited paths, {bad} missing", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
