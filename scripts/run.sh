#!/usr/bin/env bash
# `make run`: the main job on this machine — xuan pick recommends a model for
# this hardware (RAM, cores, SIMD, measured bandwidth) among the models xuan's
# own engine runs with a published GGUF, and prints how to pull and run #1.
# The first run measures memory bandwidth for ~1 s and caches it in
# ~/.cache/xuan/hardware.json (XUAN_CACHE to move it); the best probe of the
# last 7 days is used, `xuan pick --probe` measures again.
set -euo pipefail
XUAN=${1:-build/xuan}
"$XUAN" --version
echo
"$XUAN" pick
echo
echo "Next steps:"
echo "  $XUAN pick --preset math        # or code, medical, light; --lang zh for native Chinese models"
echo "  $XUAN pick --ram 8G --task code # plan for another machine"
echo "  $XUAN pick --runtime any        # also models only llama.cpp runs (qwen3, gemma2, glm4 ...)"
echo "  $XUAN pick --probe              # measure the memory bandwidth again (if the machine was busy)"
echo "  $XUAN models                    # the whole catalog; details: $XUAN pick --explain MODEL"
echo "  The pull commands above download into \${XUAN_MODELS:-~/.cache/xuan/models};"
echo "  behind a slow or blocked link use --endpoint https://hf-mirror.com (or HF_ENDPOINT) or --modelscope."
