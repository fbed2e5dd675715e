#!/usr/bin/env bash
# `make run`: the main job on this machine — xuan pick recommends a model for
# this hardware (RAM, cores, SIMD, measured bandwidth), then we say how to get
# and run it.  The first run measures memory bandwidth for ~1 s and caches it
# in ~/.cache/xuan/hardware.json (XUAN_CACHE to move it).
set -euo pipefail
XUAN=${1:-build/xuan}
"$XUAN" --version
echo
"$XUAN" pick
echo
echo "Next steps:"
echo "  $XUAN pick --preset math        # or code, medical, light; --lang zh for native Chinese models"
echo "  $XUAN pick --ram 8G --task code # plan for another machine"
echo "  $XUAN models                    # the whole catalog; details: $XUAN pick --explain MODEL"
echo "  The pull commands above download into \${XUAN_MODELS:-~/.cache/xuan/models};"
echo "  behind a slow or blocked link use --endpoint https://hf-mirror.com (or HF_ENDPOINT) or --modelscope."
