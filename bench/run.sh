#!/usr/bin/env bash
# `make bench`: runs every bench/section_*.sh in order, each printing its own
# table (xuan beside llama.cpp on the same files, with ratios), and keeps the
# whole report in $BUILD/bench/report.md for docs/perf.md.
set -euo pipefail
BUILD="$(cd "${1:-build}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
export XUAN_BIN="$BUILD/xuan" XUAN_BUILD="$BUILD" XUAN_SRC="$(dirname "$HERE")"
export XUAN_SHARED="${XUAN_SHARED:-$XUAN_SRC/../shared}"
export XUAN_PEER_DIR="${XUAN_PEER_DIR:-$BUILD/peer}"
export XUAN_BENCH_DIR="${XUAN_BENCH_DIR:-$BUILD/bench}"
mkdir -p "$XUAN_BENCH_DIR"
report="$XUAN_BENCH_DIR/report.md"
{
  echo "# xuan bench — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- xuan: $("$XUAN_BIN" --version)"
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
  echo "- RAM: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo
} | tee "$report"
for s in "$HERE"/section_*.sh; do
  [ -e "$s" ] || continue
  bash "$s" 2>&1 | tee -a "$report"
  echo | tee -a "$report"
done
echo "report: $report"
