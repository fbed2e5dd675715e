#!/usr/bin/env bash
# `make run`: the main job on this machine — xuan pick recommends a model.
set -euo pipefail
XUAN=${1:-build/xuan}
"$XUAN" --version
"$XUAN" pick
