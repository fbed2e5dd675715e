#!/usr/bin/env bash
# xuan inspect --json against (a) the parameters ../shared/peer/gen_gguf.py
# wrote each model with and (b) what llama.cpp (node-llama-cpp) reports after
# loading the same file.  Heavy: needs node and the npm registry.
set -euo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}" "${XUAN_PEER_DIR:?}"
rc=0; bash "$XUAN_SRC/scripts/peer.sh" "$XUAN_PEER_DIR" || rc=$?
if [ $rc -eq 3 ]; then echo "SKIP: npm registry unreachable, llama.cpp reference not installed"; exit 77; fi
[ $rc -eq 0 ] || exit $rc
cp "$XUAN_SRC/tests/peer/inspect.mjs" "$XUAN_PEER_DIR/xuan_inspect.mjs"
dir="$XUAN_TMP/inspect_peer"; mkdir -p "$dir"
pass=0; fail=0
# name | gen_gguf.py arguments | expected layers dim ffn heads kv_heads
cases=(
  "qwen-q8|--preset tiny --arch qwen2 --type Q8_0|2 64 128 4 2"
  "qwen-q4k|--preset tiny256 --arch qwen2 --type Q4_K|2 256 512 4 2"
  "llama3-f16|--preset tiny --arch llama --vocab-from llama3 --type F16|2 64 128 4 2"
  "spm-q40|--preset tiny --arch llama --vocab-from llama2 --type Q4_0|2 64 128 4 2"
  "phi3-f16|--preset tiny --arch phi3 --type F16|2 64 128 4 2"
  "custom-f32|--preset tiny --arch qwen2 --layers 3 --dim 96 --ffn 160 --heads 6 --kv-heads 3 --type F32 --tied no|3 96 160 6 3"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name args expect <<<"$c"
  f="$dir/$name.gguf"
  [ -f "$f" ] || (cd "$XUAN_PEER_DIR" && python3 gen_gguf.py $args --out "$f" >/dev/null)
  "$XUAN_BIN" inspect --json "$f" >"$dir/$name.xuan.json"
  (cd "$XUAN_PEER_DIR" && node xuan_inspect.mjs "$f") >"$dir/$name.peer.json"
  if python3 - "$dir/$name.xuan.json" "$dir/$name.peer.json" $expect <<'PY'
import json, sys
x = json.load(open(sys.argv[1])); p = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
layers, dim, ffn, heads, kv = map(int, sys.argv[3:8])
bad = []
def eq(what, a, b):
    if a != b: bad.append(f"{what}: xuan {a!r} vs {b!r}")
# (a) the parameters the file was written with
eq("n_layers/gen", x["n_layers"], layers); eq("dim/gen", x["embedding_length"], dim)
eq("ffn/gen", x["feed_forward_length"], ffn); eq("heads/gen", x["n_heads"], heads)
eq("kv_heads/gen", x["n_kv_heads"], kv)
# (b) what llama.cpp reports after loading
eq("architecture", x["architecture"], p["architecture"]); eq("name", x["name"], p["name"])
eq("n_layers", x["n_layers"], p["block_count"]); eq("n_heads", x["n_heads"], p["n_heads"])
eq("n_kv_heads", x["n_kv_heads"], p["n_kv_heads"]); eq("ffn", x["feed_forward_length"], p["feed_forward_length"])
eq("context", x["context_length"], p["context_length"]); eq("embedding", x["embedding_length"], p["embedding_length"])
eq("n_tokens", x["tokenizer"]["n_tokens"], p["n_vocab"]); eq("tok model", x["tokenizer"]["model"], p["tokenizer_model"])
eq("tok pre", x["tokenizer"]["pre"] or None, p.get("tokenizer_pre"))
eq("bos", x["tokenizer"]["bos"], p["bos"]); eq("eos", x["tokenizer"]["eos"], p["eos"])
eq("n_params", x["n_params"], p["n_params"]); eq("tensor bytes", x["tensor_bytes"], p["tensor_bytes"])
eq("n_tensors", sum(t["tensors"] for t in x["tensor_types"]), p["n_tensors"])
if bad:
    print("  " + "\n  ".join(bad)); sys.exit(1)
PY
  then echo "ok   $name"; pass=$((pass+1)); else echo "FAIL $name"; fail=$((fail+1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
