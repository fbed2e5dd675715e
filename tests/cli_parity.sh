#!/usr/bin/env bash
# Parity of the engine with llama.cpp (node-llama-cpp, pinned) on synthetic
# GGUFs with real vocabularies: llama (Llama-3 BPE), qwen2 (Qwen BPE) and phi3
# (SentencePiece), and qwen3, gemma2, gemma3 (written by `xuan synth` with
# the Qwen BPE vocabulary; gemma's 5 local : 1 global layers with a window of
# 8, so every run crosses it; gemma2's softcapping; mistral3's YaRN and
# attention temperature, which an original context of 16 brings in; glm4's
# half-head RoPE, q/k/v biases, sandwich norms and fused gate|up; qwen3moe's
# 8 experts, 2 used per token; gpt-oss's attention sinks, biases, window of 8
# on even layers, YaRN, biased router with a softmax over the chosen experts
# and clamped SwiGLU, in F16, BF16, Q8_0 and the MXFP4_MOE mix; qwen35's Gated
# DeltaNet hybrid: 3 recurrent layers, then gated attention with imrope, also
# checked after the 64 decoded tokens, and within 1e-3 in every type, and
# qwen35moe's, the same with a MoE FFN and a gated shared expert; gemma4's
# sliding and full layers with their own head sizes, shared-KV layers,
# per-layer embeddings, proportional RoPE, V = K, also after 64 tokens) in F32,
# F16, Q8_0 and Q4_K_M (`xuan quantize` of an F16
# file).  For 10 prompts (Chinese, English, code) tests/peer/parity.mjs checks
# the next-token log-probabilities of llama.cpp's top 10 (<= 1e-3 for
# F32/F16, <= 2e-2 for quantized), 64-token greedy continuations (identical
# on >= 9 of 10; a divergence prints llama.cpp's probability gap), and that
# xuan's tokenizer gives llama.cpp's ids for every prompt.
#
# The reference is llama.cpp's plain CPU path, not AMX.  node-llama-cpp ships
# one libggml-cpu-<variant>.so per x86 level and ggml loads the best scoring
# one; on CPUs with AMX that is "sapphirerapids", whose AMX kernels repack
# weights and quantize activations their own way (llama Q8_0 moved by 0.07 in
# log p).  The machines xuan targets are AVX2 / AVX-512 without AMX, so we
# run node-llama-cpp from a hard-linked copy of its node_modules that lacks
# that one library: ggml then picks the next variant (zen4 = AVX-512 VNNI
# BF16, or haswell on AVX2).  Checked: its logits equal those of a native
# llama.cpp build with GGML_NATIVE=OFF, AVX-512 on, AMX off, bit for bit.
# Heavy: needs node and the npm registry (skips visibly when unreachable).
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_PEER_DIR:?}"
rc=0; bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" || rc=$?
if [ $rc -eq 3 ]; then echo "SKIP: npm registry unreachable, llama.cpp reference not installed"; exit 77; fi
[ $rc -eq 0 ] || exit $rc
# XUAN_CPU=avx2 on an AVX-512 CPU: xuan runs its AVX2 level and the
# reference its AVX2 build ("haswell"), from a second copy that also lacks
# every variant above it, so the AVX2 steps are checked on any x86-64 CPU.
ref="$XUAN_PEER_DIR/noamx"; drop="sapphirerapids"
if [ "${XUAN_CPU:-}" = avx2 ]; then
  ref="$XUAN_PEER_DIR/avx2ref"; drop="sapphirerapids zen4 skylakex cannonlake cascadelake cooperlake icelake alderlake"
fi
stamp="$(cat "$XUAN_PEER_DIR/package-lock.json.installed" 2>/dev/null | cksum)"
if [ "$(cat "$ref/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$ref"; mkdir -p "$ref"
  cp -al "$XUAN_PEER_DIR/node_modules" "$ref/node_modules" 2>/dev/null ||
    cp -r "$XUAN_PEER_DIR/node_modules" "$ref/node_modules"
  for v in $drop; do rm -f "$ref"/node_modules/@node-llama-cpp/linux-x64/bins/*/libggml-cpu-"$v".so; done
  echo "$stamp" >"$ref/.stamp"
fi
cp "$XUAN_SRC/tests/peer/parity.mjs" "$ref/xuan_parity.mjs"
dir="$XUAN_TMP/parity"; mkdir -p "$dir"
# arch | vocabulary | preset | type | tolerance | greedy prompts that must match (of 10)
# (Q4_K_M: xuan quantize of the F16 file)
#
# tiny256 (every row length a multiple of 256, 64-wide heads) takes the
# SIMD and K-quant paths that tiny's 64-wide rows do not.
# Every row must be within the issue's tolerance; in practice F16, Q8_0 and
# Q4_K_M are bit-identical to llama.cpp (max |d log p| = 0) because xuan
# reproduces its CPU backend's arithmetic: the summation orders of its
# tinyBLAS / vec_dot / repacked q4_K_8x8 kernels, its vectorized expf, its
# FMA contractions (docs/design.md, "Parity").  On these random models a
# single differently rounded activation can flip a later F16 or Q8_K
# rounding, which is how "close" kernels ended up 0.1 apart.
cases=(
  "llama|llama3|tiny|F32|1e-3"
  "llama|llama3|tiny|F16|1e-3"
  "llama|llama3|tiny|Q8_0|2e-2"
  "llama|llama3|tiny256|F16|1e-3"
  "llama|llama3|tiny256|Q8_0|2e-2"
  "llama|llama3|tiny256|Q4_K_M|2e-2"
  "qwen2|qwen|tiny|F32|1e-3"
  "qwen2|qwen|tiny|F16|1e-3"
  "qwen2|qwen|tiny|Q8_0|2e-2"
  "qwen2|qwen|tiny256|F16|1e-3"
  "qwen2|qwen|tiny256|Q8_0|2e-2"
  "qwen2|qwen|tiny256|Q4_K_M|2e-2"
  "phi3|llama2|tiny|F32|1e-3"
  "phi3|llama2|tiny|F16|1e-3"
  "phi3|llama2|tiny|Q8_0|2e-2"
  "phi3|llama2|tiny256|F16|1e-3"
  "phi3|llama2|tiny256|Q8_0|2e-2"
  "phi3|llama2|tiny256|Q4_K_M|2e-2"
  "qwen3|qwen|qwen3-tiny|F32|1e-3"
  "qwen3|qwen|qwen3-tiny|F16|1e-3"
  "qwen3|qwen|qwen3-tiny|Q8_0|2e-2"
  "qwen3|qwen|qwen3-tiny256|F16|1e-3"
  "qwen3|qwen|qwen3-tiny256|Q8_0|2e-2"
  "qwen3|qwen|qwen3-tiny256|Q4_K_M|2e-2"
  "gemma2|qwen|gemma2-tiny|F32|1e-3"
  "gemma2|qwen|gemma2-tiny|F16|1e-3"
  "gemma2|qwen|gemma2-tiny|Q8_0|2e-2"
  "gemma3|qwen|gemma3-tiny|F32|1e-3"
  "gemma3|qwen|gemma3-tiny|F16|1e-3"
  "gemma3|qwen|gemma3-tiny|Q8_0|2e-2"
  "gemma3|qwen|gemma3-tiny256|F16|1e-3"
  "gemma3|qwen|gemma3-tiny256|Q8_0|2e-2"
  "gemma3|qwen|gemma3-tiny256|Q4_K_M|2e-2"
  "mistral3|qwen|mistral3-tiny|F16|1e-3"
  "mistral3|qwen|mistral3-tiny|Q8_0|2e-2"
  "mistral3|qwen|mistral3-tiny256|F16|1e-3"
  "mistral3|qwen|mistral3-tiny256|Q4_K_M|2e-2"
  "qwen3moe|qwen|qwen3moe-tiny|F32|1e-3"
  "qwen3moe|qwen|qwen3moe-tiny|F16|1e-3"
  "qwen3moe|qwen|qwen3moe-tiny|Q8_0|2e-2"
  "qwen3moe|qwen|qwen3moe-tiny256|F16|1e-3"
  "qwen3moe|qwen|qwen3moe-tiny256|Q8_0|2e-2"
  "qwen3moe|qwen|qwen3moe-tiny256|Q4_K_M|2e-2"
  "glm4|qwen|glm4-tiny|F16|1e-3"
  "glm4|qwen|glm4-tiny|Q8_0|2e-2"
  "glm4|qwen|glm4-tiny256|F16|1e-3"
  "glm4|qwen|glm4-tiny256|Q4_K_M|2e-2"
  "deepseek2|qwen|deepseek2-tiny|F32|1e-3"
  "deepseek2|qwen|deepseek2-tiny|F16|1e-3"
  "deepseek2|qwen|deepseek2-tiny|Q8_0|2e-2"
  "deepseek2|qwen|deepseek2-tiny256|F16|1e-3"
  "deepseek2|qwen|deepseek2-tiny256|Q8_0|2e-2"
  "deepseek2|qwen|deepseek2-tiny256|Q4_K_M|2e-2"
  # gpt-oss: also compared after the 64 greedy tokens (--after).  BF16's dot order is not
  # llama.cpp's (as F32's is not): 1e-6 apart after the prompt, and after 64 tokens a flip
  # of a near-tied expert choice moves 2 of 10 prompts by up to 4.3e-3.  tiny256 in the
  # MXFP4 mix: logits identical after the prompt and after 64 tokens; 1 of 10 greedy runs
  # parts where llama.cpp's own batch distribution prefers xuan's token (gap 1.1e-3).
  "gpt-oss|qwen|gptoss-tiny|F16|1e-3"
  "gpt-oss|qwen|gptoss-tiny|BF16|5e-3"
  "gpt-oss|qwen|gptoss-tiny|Q8_0|1e-3"
  "gpt-oss|qwen|gptoss-tiny|MXFP4_MOE|1e-3"
  "gpt-oss|qwen|gptoss-tiny256|F16|1e-3"
  "gpt-oss|qwen|gptoss-tiny256|Q8_0|1e-3"
  "gpt-oss|qwen|gptoss-tiny256|MXFP4_MOE|1e-3"
  "qwen35|qwen|qwen35-tiny|F16|1e-3"
  "qwen35|qwen|qwen35-tiny|Q8_0|1e-3"
  "qwen35|qwen|qwen35-tiny256|F16|1e-3"
  "qwen35|qwen|qwen35-tiny256|Q8_0|1e-3"
  "qwen35|qwen|qwen35-tiny256|Q4_K_M|1e-3"
  # qwen35moe: qwen35's layers with a MoE FFN in each (8 experts, 2 used, a shared expert of 512 rows
  # scaled by its sigmoid gate); also compared after the 64 decoded tokens, as qwen35
  "qwen35moe|qwen|qwen35moe-tiny256|F16|1e-3"
  "qwen35moe|qwen|qwen35moe-tiny256|Q8_0|1e-3"
  "qwen35moe|qwen|qwen35moe-tiny256|Q4_K_M|1e-3"
  # gemma4: sliding (window 8, 16/64-wide heads) and full (32/128-wide heads, proportional RoPE, V = K)
  # layers (tiny 2 : 1 over 9 layers, tiny256 alternating over 4), the last 3 / 2 reading earlier
  # layers' KV, per-layer embeddings (16 / 256 wide), final softcap; also compared after the 64 greedy
  # tokens (--after).  No Q4_K_M of the 64-wide tiny: its rows fall back to Q5_0, whose float order is
  # not llama.cpp's (as for the other families)
  "gemma4|qwen|gemma4-tiny|F16|1e-3"
  "gemma4|qwen|gemma4-tiny|Q8_0|1e-3"
  "gemma4|qwen|gemma4-tiny256|F16|1e-3"
  "gemma4|qwen|gemma4-tiny256|Q8_0|1e-3"
  "gemma4|qwen|gemma4-tiny256|Q4_K_M|1e-3"
)
# The reference is the llama.cpp build for this CPU's level, and xuan's
# level reproduces its float steps (docs/design.md, "Parity per CPU"): on a
# CPU without AVX-512, or with XUAN_CPU=avx2 on any CPU, the AVX2 build.
pass=0; fail=0
for c in "${cases[@]}"; do
  IFS='|' read -r arch vocab preset type tol min_greedy <<<"$c"
  min_greedy=${min_greedy:-9}
  name="$arch-$vocab-$preset-$type"
  case "$name" in *"${XUAN_PARITY_ONLY:-}"*) ;; *) continue ;; esac # XUAN_PARITY_ONLY=qwen3 for one family
  f="$dir/$name.gguf"
  if [ ! -f "$f" ]; then
    gt=$type; case "$type" in Q4_K_M|MXFP4_MOE) gt=F16 ;; esac
    src="$dir/$arch-$vocab-$preset-$gt.gguf"
    case "$arch" in
    llama|qwen2|phi3) # the reference's generator writes these three
      [ -f "$src" ] || (cd "$XUAN_PEER_DIR" && python3 gen_gguf.py --preset "$preset" --arch "$arch" \
                          --vocab-from "$vocab" --type "$gt" --out "$src" >/dev/null) ;;
    *) # the others by `xuan synth` from the architecture table, with the
       # vocabulary of a generated carrier: llama.cpp loading them is part of the test
      carrier="$dir/carrier-$vocab.gguf"
      [ -f "$carrier" ] || (cd "$XUAN_PEER_DIR" && python3 gen_gguf.py --preset tiny --arch qwen2 \
                              --vocab-from "$vocab" --type F32 --out "$carrier" >/dev/null)
      [ -f "$src" ] || "$XUAN_BIN" synth --preset "$preset" --vocab-from "$carrier" --type "$gt" -o "$src" -q ;;
    esac
    case "$type" in Q4_K_M|MXFP4_MOE) "$XUAN_BIN" quantize "$src" "$f" "$type" --threads 2 >/dev/null ;; esac
  fi
  echo "== $name (tol $tol, greedy >= $min_greedy/10)"
  # gpt-oss: also compared after the prompt and llama.cpp's 64 greedy tokens (--after);
  # qwen35, a recurrent state: after the 64 decoded tokens where the continuations agree
  extra=(); [ "$arch" = gpt-oss ] || [ "$arch" = gemma4 ] && extra=(--after 1); case "$arch" in qwen35|qwen35moe) extra=(--after-decode 1) ;; esac
  if (cd "$ref" && node xuan_parity.mjs "$f" --xuan "$XUAN_BIN" "${extra[@]}" \
        --prompts "$XUAN_SRC/tests/peer/parity_prompts.json" --tol "$tol" --min-greedy "$min_greedy" --n 64 --tmp "$dir"); then
    pass=$((pass + 1))
  else
    echo "FAIL: $name"; fail=$((fail + 1))
  fi
done
echo "parity: $pass passed, $fail failed"
[ $fail -eq 0 ]
