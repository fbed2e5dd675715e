#!/usr/bin/env bash
# xuan synth + xuan inspect: the summary agrees with the shape written,
# flags are checked, errors are one line with the right exit code.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}"
d="$XUAN_TMP/cli_inspect"; mkdir -p "$d"
pass=0; fail=0
ok()   { echo "ok   $1"; pass=$((pass+1)); }
bad()  { echo "FAIL $1"; fail=$((fail+1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

"$XUAN_BIN" synth --preset tiny --layers 3 --dim 128 --heads 8 --kv-heads 2 --ffn 320 --type Q8_0 \
  --embd-type F16 -o "$d/m.gguf" --force -q
"$XUAN_BIN" inspect --json --tensors -c 2048 "$d/m.gguf" >"$d/m.json"
check "layers"      '[ "$(field "$d/m.json" "[\"n_layers\"]")" = 3 ]'
check "dim"         '[ "$(field "$d/m.json" "[\"embedding_length\"]")" = 128 ]'
check "heads"       '[ "$(field "$d/m.json" "[\"n_heads\"]")" = 8 ]'
check "kv heads"    '[ "$(field "$d/m.json" "[\"n_kv_heads\"]")" = 2 ]'
check "head dim"    '[ "$(field "$d/m.json" "[\"head_dim\"]")" = 16 ]'
check "tensors"     '[ "$(field "$d/m.json" "[\"tensors\"].__len__()")" = $((1 + 3*12 + 1)) ]'
check "type mix"    '[ "$(field "$d/m.json" "[\"tensor_types\"][0][\"type\"]")" = Q8_0 ]'
# KV cache = layers 3 x kv 2 x (16+16) x 2 B x ctx 2048
check "kv cache"    '[ "$(field "$d/m.json" "[\"memory\"][\"kv_cache\"]")" = $((3*2*32*2*2048)) ]'
check "params"      '[ "$(field "$d/m.json" "[\"n_params\"]")" -gt 0 ]'
"$XUAN_BIN" inspect "$d/m.gguf" >"$d/m.txt"
check "text summary" 'grep -q "3 layers, 8 heads, 2 KV heads, head dim 16" "$d/m.txt"'
check "text memory"  'grep -q "^  memory .* at context" "$d/m.txt"'

# usage errors exit 2, runtime errors exit 1, each one line on stderr
"$XUAN_BIN" inspect >/dev/null 2>"$d/e1"; r=$?
check "no file: exit 2"      '[ $r -eq 2 ] && [ $(wc -l <"$d/e1") -eq 1 ]'
"$XUAN_BIN" inspect -c abc "$d/m.gguf" >/dev/null 2>"$d/e2"; r=$?
check "bad ctx: exit 2"      '[ $r -eq 2 ] && grep -q -- "--ctx" "$d/e2"'
"$XUAN_BIN" inspect "$d/missing.gguf" >/dev/null 2>"$d/e3"; r=$?
check "missing: exit 1"      '[ $r -eq 1 ] && [ $(wc -l <"$d/e3") -eq 1 ] && grep -q "missing.gguf" "$d/e3"'
head -c 100 "$d/m.gguf" >"$d/cut.gguf"
"$XUAN_BIN" inspect "$d/cut.gguf" >/dev/null 2>"$d/e4"; r=$?
check "truncated: exit 1"    '[ $r -eq 1 ] && grep -q "truncated" "$d/e4"'
"$XUAN_BIN" synth --preset nope -o "$d/x.gguf" 2>"$d/e5"; r=$?
check "unknown preset: exit 2" '[ $r -eq 2 ] && grep -q "unknown preset" "$d/e5"'
"$XUAN_BIN" synth --preset tinny -o "$d/x.gguf" 2>"$d/e6"; r=$?
check "preset suggestion"    '[ $r -eq 2 ] && grep -q "did you mean .tiny." "$d/e6"'
"$XUAN_BIN" synth --preset tiny -o "$d/m.gguf" 2>"$d/e7"; r=$?
check "no overwrite"         '[ $r -eq 1 ] && grep -q "already exists" "$d/e7"'
"$XUAN_BIN" synth --preset tiny --heads 5 --kv-heads 2 -o "$d/y.gguf" 2>"$d/e8"; r=$?
check "bad shape refused"    '[ $r -eq 2 ] && grep -q "bad shape" "$d/e8" && [ ! -e "$d/y.gguf" ]'
# synth is deterministic
"$XUAN_BIN" synth --preset tiny --seed 7 -o "$d/s1.gguf" --force -q
"$XUAN_BIN" synth --preset tiny --seed 7 -o "$d/s2.gguf" --force -q
"$XUAN_BIN" synth --preset tiny --seed 8 -o "$d/s3.gguf" --force -q
check "same seed same bytes" 'cmp -s "$d/s1.gguf" "$d/s2.gguf" && ! cmp -s "$d/s1.gguf" "$d/s3.gguf"'
# qwen35 (hybrid): KV only in the attention layers, a fixed state per sequence.
# qwen35-tiny: 4 layers, every 4th attends (2 KV heads x 32); 3 DeltaNet layers
# of 4 value heads x 64^2 + conv 3 x (256 + 2 x 2 x 64) channels, F32
"$XUAN_BIN" synth --preset qwen35-tiny -o "$d/h.gguf" --force -q
"$XUAN_BIN" inspect --json -c 2048 "$d/h.gguf" >"$d/h.json"
check "hybrid kv cache"  '[ "$(field "$d/h.json" "[\"memory\"][\"kv_cache\"]")" = $((1*2*64*2*2048)) ]'
check "hybrid state"     '[ "$(field "$d/h.json" "[\"memory\"][\"state\"]")" = $((3*(4*64*64 + 3*512)*4)) ]'
check "hybrid layers"    '[ "$(field "$d/h.json" "[\"memory\"][\"recurrent_layers\"]")" = 3 ]'
"$XUAN_BIN" inspect "$d/h.gguf" >"$d/h.txt"
check "hybrid pattern"   'grep -q "3 Gated DeltaNet + 1 gated attention (every 4th); per token 256 B of KV" "$d/h.txt"'
# gemma4 (per-layer kinds): gemma4-tiny's 9 layers, 6 sliding (window 8, 2 KV heads x 16) and
# 3 full (2 x 32); the last 3 read earlier layers' KV, so 2 full and 4 sliding layers store it:
# per token 2 x 2 x 2 x 32 x 2 B; the sliding ones 4 x 2 x 2 x 16 x 2 B for each of 8 cells
"$XUAN_BIN" synth --preset gemma4-tiny -o "$d/g4.gguf" --force -q
"$XUAN_BIN" inspect --json -c 2048 "$d/g4.gguf" >"$d/g4.json"
check "gemma4 kv per token" '[ "$(field "$d/g4.json" "[\"memory\"][\"kv_bytes_per_token\"]")" = $((2*2*2*32*2)) ]'
check "gemma4 kv cache"     '[ "$(field "$d/g4.json" "[\"memory\"][\"kv_cache\"]")" = $((2*2*2*32*2*2048 + 4*2*2*16*2*8)) ]'
check "gemma4 kinds"        '[ "$(field "$d/g4.json" "[\"layer_pattern\"][\"sliding\"]")" = 6 ] &&
                             [ "$(field "$d/g4.json" "[\"layer_pattern\"][\"head_dim_sliding\"]")" = 16 ] &&
                             [ "$(field "$d/g4.json" "[\"layer_pattern\"][\"shared_kv_layers\"]")" = 3 ]'
"$XUAN_BIN" inspect "$d/g4.gguf" >"$d/g4.txt"
check "gemma4 pattern"      'grep -q "6 sliding (window 8, heads 16, 2 KV heads) + 3 full (heads 32, 2 KV heads); the last 3 share KV" "$d/g4.txt"'
check "gemma4 kv line"      'grep -q "512 B per token (2 full layers) + 4.00 KiB fixed (4 sliding layers x 8 cells)" "$d/g4.txt"'
# gpt-oss (one layer shape, window on even layers): gptoss-tiny's 4 layers, 2 sliding (window 8),
# 2 full; per token 2 full x 2 KV heads x (16 + 16) x 2 B; the sliding layers hold llama.cpp's
# iSWA cells, 8 x 1 sequence + 512 (n_batch) rounded up to 256 = 768, whatever the context
"$XUAN_BIN" synth --preset gptoss-tiny -o "$d/go.gguf" --force -q
"$XUAN_BIN" inspect --json -c 2048 "$d/go.gguf" >"$d/go.json"
check "swa kv per token"    '[ "$(field "$d/go.json" "[\"memory\"][\"kv_bytes_per_token\"]")" = $((2*2*2*16*2)) ]'
check "swa kv cache"        '[ "$(field "$d/go.json" "[\"memory\"][\"kv_cache\"]")" = $((2*2*2*16*2*2048 + 2*2*2*16*2*768)) ]'
check "swa layers"          '[ "$(field "$d/go.json" "[\"layer_pattern\"][\"sliding\"]")" = 2 ] &&
                             [ "$(field "$d/go.json" "[\"layer_pattern\"][\"window\"]")" = 8 ]'
"$XUAN_BIN" inspect "$d/go.gguf" >"$d/go.txt"
check "swa pattern"         'grep -q "2 sliding (window 8) + 2 full (every 2nd full)" "$d/go.txt"'
"$XUAN_BIN" --version >"$d/v"
check "version line"         'grep -Eq "^xuan [0-9.]+ \(commit [0-9a-f]+|unknown" "$d/v"'
"$XUAN_BIN" inpsect 2>"$d/e9"; r=$?
check "verb suggestion"      '[ $r -eq 2 ] && grep -q "did you mean .inspect." "$d/e9"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
