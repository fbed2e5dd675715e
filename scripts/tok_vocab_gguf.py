#!/usr/bin/env python3
"""Writes a tiny GGUF model whose vocabulary comes from a Hugging Face
tokenizer.json, with the `tokenizer.ggml.pre` we ask for.

    python3 scripts/tok_vocab_gguf.py --peer PEER_DIR --from SRC --pre NAME --out F.gguf

It reuses the peer's gen_gguf.py (../shared/peer, copied into PEER_DIR by
scripts/peer.sh) and only overrides the pre-tokenizer name, which
gen_gguf.py guesses as qwen2 or llama-bpe: DeepSeek-V3 needs deepseek-v3 and
the cl100k vocabulary (gpt-3.5-turbo, Phi-4) dbrx, as llama.cpp's converter
names them.  SRC is what gen_gguf.py takes for --vocab-from (qwen, llama3 or a
tokenizer.json path).  Used by scripts/tok_vocabs.sh.
"""
import argparse
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--peer", required=True)
ap.add_argument("--from", dest="src", required=True)
ap.add_argument("--pre")
ap.add_argument("--out", required=True)
a = ap.parse_args()

sys.path.insert(0, a.peer)
import gen_gguf  # noqa: E402

_load = gen_gguf.load_vocab


def load_vocab(*args, **kw):
    kv, n, kind = _load(*args, **kw)
    if a.pre:
        kv["tokenizer.ggml.pre"] = a.pre
    return kv, n, kind


gen_gguf.load_vocab = load_vocab
sys.argv = ["gen_gguf.py", "--preset", "tiny", "--vocab-from", a.src, "--type", "Q8_0", "--out", a.out]
gen_gguf.main()
