#!/usr/bin/env bash
# make bench, section "inspect": `xuan inspect` on a Qwen2.5-7B-shaped Q4_K
# file (~4.4 GB) must answer in well under a second with a small RSS, since
# the reader maps the file and copies nothing.
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_BENCH_DIR:?}"
f="$XUAN_BENCH_DIR/qwen2.5-7b-Q4_K.gguf"
if [ ! -f "$f" ]; then
  "$XUAN_BIN" synth --preset qwen2.5-7b --type Q4_K --output-type Q6_K -o "$f" -q
fi
size=$(stat -c %s "$f")
echo "## inspect — $(basename "$f") ($(numfmt --to=iec --suffix=B "$size"))"
echo
hyperfine -N --warmup 2 --runs 20 --export-json "$XUAN_BENCH_DIR/inspect.json" \
  "$XUAN_BIN inspect $f" >/dev/null 2>&1
/usr/bin/time -f "%M" -o "$XUAN_BENCH_DIR/rss.txt" "$XUAN_BIN" inspect "$f" >/dev/null
python3 - "$XUAN_BENCH_DIR/inspect.json" "$(cat "$XUAN_BENCH_DIR/rss.txt")" "$size" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
rss_kib, size = int(sys.argv[2]), int(sys.argv[3])
print("| file | runs | wall mean ± sd (ms) | max RSS (MiB) | RSS / file |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| {size/2**30:.2f} GiB | {len(r['times'])} | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} | "
      f"{rss_kib/1024:.1f} | {rss_kib*1024/size*100:.2f}% |")
PY
