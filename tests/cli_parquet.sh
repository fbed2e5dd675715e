#!/usr/bin/env bash
# The parquet reader (src/eval/parquet.c) against hyparquet, the pure-JS
# reader, on files hyparquet-writer and tests/parquet_gen.mjs write in
# MMLU-Pro's schema: data pages v2 (SNAPPY and UNCOMPRESSED, dictionary and
# PLAIN, several row groups and pages) and v1 (SNAPPY, UNCOMPRESSED, ZSTD,
# dictionary pages), nulls, empty and null lists, three seeds.  `xuan data
# show` must print exactly what hyparquet reads.  Then refusals: features
# outside the subset (named with their column), and every truncation and
# many byte flips of a real file (a one-line error or the same rows, never
# a crash).  Heavy: needs node and the npm registry (a visible skip when it
# is unreachable); the packages are pinned and installed into
# $XUAN_BUILD/hyparquet.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_BUILD:?}"
HYPARQUET=1.33.0
WRITER=0.17.0
npmdir="$XUAN_BUILD/hyparquet"
mkdir -p "$npmdir"
ver() { node -p "try{require('$npmdir/node_modules/$1/package.json').version}catch(e){''}" 2>/dev/null; }
if [ "$(ver hyparquet)" != "$HYPARQUET" ] || [ "$(ver hyparquet-writer)" != "$WRITER" ]; then
  [ -f "$npmdir/package.json" ] || echo '{"private": true}' > "$npmdir/package.json"
  if ! (cd "$npmdir" && npm install --no-audit --no-fund --loglevel=error \
          "hyparquet@$HYPARQUET" "hyparquet-writer@$WRITER" >"$npmdir/npm.log" 2>&1); then
    if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$npmdir/npm.log"; then
      echo "SKIP: npm registry unreachable, hyparquet not installed (see $npmdir/npm.log)"
      exit 77
    fi
    cat "$npmdir/npm.log" >&2
    exit 1
  fi
fi
X=$XUAN_BIN
T="$XUAN_TMP/cli_parquet"; rm -rf "$T"; mkdir -p "$T"
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }

# 1. the same rows as hyparquet
for seed in 1 7 1234; do
  d="$T/s$seed"
  node "$XUAN_SRC/tests/parquet_gen.mjs" "$npmdir" "$d" "$seed" >"$d.log" 2>&1 || { bad "generate seed $seed"; cat "$d.log"; continue; }
  for f in "$d"/*.oracle.jsonl; do
    p=${f%.oracle.jsonl}.parquet; n=$(basename "$p")
    if "$X" data show "$p" >"${p%.parquet}.xuan.jsonl" 2>"$T/err"; then
      if cmp -s "${p%.parquet}.xuan.jsonl" "$f"; then ok "seed $seed $n: $(wc -l <"$f") rows as hyparquet reads them"
      else bad "seed $seed $n differs from hyparquet"; diff <(head -c 2000 "${p%.parquet}.xuan.jsonl") <(head -c 2000 "$f") | head -5; fi
    else bad "seed $seed $n refused: $(cat "$T/err")"; fi
  done
done
d="$T/s7"
# the variants really are what they say (the writer's choices, read back from the footer by hyparquet)
[ "$(wc -l <"$d/groups-pages.oracle.jsonl")" -eq 120 ] && ok "groups-pages: 120 rows" || bad "groups-pages rows"
grep -q '"options":""' "$d/snappy-dict.oracle.jsonl" && grep -q '"options":\[\]' "$d/snappy-dict.oracle.jsonl" &&
  grep -q '"options":\["only",null,"three"\]' "$d/snappy-dict.oracle.jsonl" && ok "null list, empty list, null element" || bad "null and empty lists"
node -e "
const r=require('$npmdir/node_modules/hyparquet/package.json');
" && node --input-type=module -e "
import {createRequire} from 'node:module'; import fs from 'node:fs';
const require=createRequire('$npmdir/package.json'); const h=await import(require.resolve('hyparquet'));
const want={'snappy-dict':['SNAPPY','RLE_DICTIONARY','DATA_PAGE_V2'],'plain-uncompressed':['UNCOMPRESSED','PLAIN','DATA_PAGE_V2'],
  'v1-snappy':['SNAPPY','RLE_DICTIONARY',null],'v1-zstd':['ZSTD','RLE_DICTIONARY',null],'groups-pages':['SNAPPY',null,null]};
let bad=0;
for (const [n,[codec,enc]] of Object.entries(want)) {
  const f=fs.readFileSync('$d/'+n+'.parquet'); const m=h.parquetMetadata(f.buffer.slice(f.byteOffset,f.byteOffset+f.length));
  const cs=m.row_groups.flatMap(g=>g.columns.map(c=>c.meta_data));
  if (!cs.every(c=>c.codec===codec)) { console.log(n+': codec '+cs[0].codec); bad++ }
  if (enc && !cs.some(c=>c.encodings.includes(enc))) { console.log(n+': no '+enc); bad++ }
  if (n==='groups-pages' && m.row_groups.length<3) { console.log(n+': '+m.row_groups.length+' row groups'); bad++ }
}
process.exit(bad?1:0)" && ok "variants: codecs, encodings and row groups as named" || bad "variants are not what they say"

# 2. refusals: one line naming the column and the feature
want_err() { # FILE PATTERN
  if "$X" data show "$1" >/dev/null 2>"$T/err"; then bad "$(basename "$1") was read"; return; fi
  if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qE "$2" "$T/err"; then ok "$(basename "$1"): $(cat "$T/err")"
  else bad "$(basename "$1"): $(cat "$T/err")"; fi
}
want_err "$d/refuse-double.parquet" "column 'score': physical type DOUBLE"
want_err "$d/refuse-delta.parquet" "column 'n': value encoding DELTA_BINARY_PACKED"
want_err "$d/refuse-struct.parquet" "column 's': .*only LIST"
printf 'PAR1 not really' >"$T/fake.parquet"; want_err "$T/fake.parquet" "not a parquet file"
: >"$T/zero.parquet"; want_err "$T/zero.parquet" "not a parquet file"

# 3. every truncation and byte flips of a real file: an error line or rows, never a crash
f="$d/v1-snappy.parquet"; size=$(stat -c %s "$f"); crashes=0; refused=0; read_=0
for ((i = 0; i < size; i += 97)); do
  head -c "$i" "$f" >"$T/cut.parquet"
  "$X" data show "$T/cut.parquet" >/dev/null 2>"$T/err"; rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then refused=$((refused+1)); else crashes=$((crashes+1)); echo "  cut at $i: rc $rc $(head -c 200 "$T/err")"; fi
done
[ $crashes -eq 0 ] && ok "truncations: $refused refused in one line, 0 crashes" || bad "truncations: $crashes bad exits"
crashes=0; refused=0
for ((k = 1; k <= 300; k++)); do
  cp "$f" "$T/flip.parquet"
  off=$(( (k * 7919) % size ))
  printf "\\x$(printf %02x $(( (k * 31) % 256 )))" | dd of="$T/flip.parquet" bs=1 seek="$off" conv=notrunc status=none
  "$X" data show "$T/flip.parquet" >/dev/null 2>"$T/err"; rc=$?
  if [ $rc -eq 0 ]; then read_=$((read_+1))
  elif [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then refused=$((refused+1))
  else crashes=$((crashes+1)); echo "  flip at $off: rc $rc $(head -c 200 "$T/err")"; fi
done
[ $crashes -eq 0 ] && ok "300 byte flips: $refused refused, $read_ read, 0 crashes" || bad "byte flips: $crashes bad exits"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
