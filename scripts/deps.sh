#!/usr/bin/env bash
# Installs the Debian packages xuan needs to build, test and benchmark.
# Idempotent: installs only what is missing and says what it installs.
# Works as root or through sudo.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git clang llvm libclang-rt-14-dev cppcheck
  libpcre2-dev          # tokenizer pre-split regexes (UTF + UCP + JIT)
  libjansson-dev        # JSON in and out
  libcurl4-openssl-dev  # xuan pull, remote eval endpoints
  libsqlite3-dev        # eval results
  libmicrohttpd-dev     # xuan serve
  libseccomp-dev        # sandbox for generated code
  libedit-dev           # line editing in xuan chat
  libyaml-dev           # eval task files (tasks/*.yaml), with line numbers for errors
  zlib1g-dev            # gzipped datasets (HumanEval.jsonl.gz)
  libsnappy-dev libzstd-dev  # parquet datasets (MMLU-Pro): SNAPPY and ZSTD pages
  zstd                  # the parquet test's ZSTD pages (tests/parquet_gen.mjs)
  python3               # the peer's synthetic GGUF generator; Debian's /usr/bin/python3 runs generated code in the sandbox (docs/sandbox.md)
  nodejs npm            # the peer (node-llama-cpp) and template oracle
  hyperfine             # whole-command timings in make bench
  chromium              # headless screenshots of the chat page and the report in the tests (skipped where absent)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The base image may carry its own node/npm outside dpkg: accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
# python3 counts only as Debian's /usr/bin/python3 (the sandbox mounts only /usr; a
# pyenv or conda python3 on PATH does not do)
if [ -x /usr/bin/python3 ]; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == python3 ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
