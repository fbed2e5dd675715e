#!/usr/bin/env bash
# Installs the reference implementation (llama.cpp through the npm package
# node-llama-cpp, pinned by ../shared/peer/package-lock.json) into a folder of
# the build tree, and optionally builds llama.cpp's own tools from the source
# that package ships.  ../shared is read-only: the scripts are copied out.
#
#   scripts/peer.sh DIR            npm install into DIR (idempotent)
#   scripts/peer.sh DIR tools      also build llama-bench/-tokenize/-quantize/-server/-batched-bench/-perplexity
#   scripts/peer.sh DIR test-tools only the two the tests run: llama-tokenize, llama-quantize
#                                  (a third of the build time; `tools` adds the rest later)
#
# Prints nothing but errors when DIR is already set up.  Exit 3 when the npm
# registry cannot be reached or ../shared/peer is not there (tests turn that
# into a visible skip).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${XUAN_SHARED:-$HERE/../shared}"
DIR="${1:?usage: peer.sh DIR [tools|test-tools]}"
if [ ! -f "$SHARED/peer/package-lock.json" ]; then
  echo "peer: no $SHARED/peer (the reference's pinned package comes from ../shared)" >&2
  exit 3
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
LOCK="$DIR/.install.lock"

exec 9>"$LOCK"
flock 9   # one installer at a time (parallel ctest)

if [ ! -f "$DIR/node_modules/node-llama-cpp/package.json" ] || \
   ! cmp -s "$SHARED/peer/package-lock.json" "$DIR/package-lock.json.installed"; then
  cp "$SHARED/peer/package.json" "$SHARED/peer/package-lock.json" "$DIR/"
  chmod u+w "$DIR/package.json" "$DIR/package-lock.json"
  echo "peer: npm install node-llama-cpp into $DIR" >&2
  if ! (cd "$DIR" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit \
          --no-fund --loglevel=error >"$DIR/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$DIR/npm.log"; then
      echo "peer: npm registry unreachable (see $DIR/npm.log)" >&2
      exit 3
    fi
    cat "$DIR/npm.log" >&2
    exit 1
  fi
  cp "$SHARED/peer/package-lock.json" "$DIR/package-lock.json.installed"
fi
for f in peer.mjs tokcheck.mjs gen_gguf.py; do
  cmp -s "$SHARED/peer/$f" "$DIR/$f" 2>/dev/null || { cp "$SHARED/peer/$f" "$DIR/$f"; chmod u+wx "$DIR/$f"; }
done

# llama.cpp's tools are built with our own CMake line rather than the
# peer's build_llama_bench.sh: GGML_NATIVE=ON enables AMX on CPUs that
# advertise it, and on this project's machines that build segfaults in
# ggml_backend_amx_mul_mat on every Q8_0 model.  So: the x86 features this
# CPU has of those xuan's kernels use (AVX2, FMA, F16C, BMI2, and AVX-512
# F/BW/VL/DQ, VBMI, VNNI, BF16 where /proc/cpuinfo lists them), AMX off.
# Machines of one kind differ (an AVX-512 Zen 5 one day, an AVX2-only Zen 3
# the next): a build made for other flags is thrown away, not run (SIGILL).
cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { case " ${cpu_flags#*:} " in *" $1 "*) echo ON ;; *) echo OFF ;; esac; }
avx512=OFF
[ "$(has avx512f)$(has avx512bw)$(has avx512vl)$(has avx512dq)" = ONONONON ] && avx512=ON
if [ $avx512 = ON ]; then
  ISA="-DGGML_AVX512=ON -DGGML_AVX512_VBMI=$(has avx512vbmi) -DGGML_AVX512_VNNI=$(has avx512_vnni) -DGGML_AVX512_BF16=$(has avx512_bf16)"
else
  ISA="-DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
fi
# The npm install is done: let other tests through while the tools build
# (they take their own lock, so two builds never run at once).
flock -u 9
case "${2:-}" in
tools) TARGETS="llama-bench llama-tokenize llama-quantize llama-server llama-batched-bench llama-perplexity" ;;
test-tools) TARGETS="llama-tokenize llama-quantize" ;;
"") TARGETS="" ;;
*) echo "usage: peer.sh DIR [tools|test-tools]" >&2; exit 2 ;;
esac
if [ -n "$TARGETS" ]; then
  exec 8>"$DIR/.tools.lock"
  flock 8
fi
STAMP="$DIR/llama.cpp/build/xuan-isa"
if [ -n "$TARGETS" ] && [ -d "$DIR/llama.cpp/build" ] && [ "$(cat "$STAMP" 2>/dev/null)" != "$ISA" ]; then
  echo "peer: llama.cpp was built for other CPU flags; rebuilding for this CPU ($ISA)" >&2
  rm -rf "$DIR/llama.cpp/build"
fi
missing=""
for t in $TARGETS; do [ -x "$DIR/llama.cpp/build/bin/$t" ] || missing="$missing $t"; done
if [ -n "$missing" ]; then
  echo "peer: building llama.cpp's$missing (minutes on 2 cores)" >&2
  BUNDLE="$DIR/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  [ -f "$BUNDLE" ] || { echo "peer: missing $BUNDLE" >&2; exit 1; }
  [ -d "$DIR/llama.cpp/.git" ] || git -c advice.detachedHead=false clone -q "$BUNDLE" "$DIR/llama.cpp"
  ( cd "$DIR/llama.cpp" &&
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
      -DGGML_F16C=ON -DGGML_BMI2=ON $ISA -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF &&
    cmake --build build --target $missing -j"$(nproc)" &&
    printf '%s\n' "$ISA" >build/xuan-isa ) >"$DIR/build.log" 2>&1 || { tail -n 20 "$DIR/build.log" >&2; exit 1; }
  git -C "$DIR/llama.cpp" log -1 --format='peer: llama.cpp %H' >&2
fi
exit 0
