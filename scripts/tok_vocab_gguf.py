#!/usr/bin/env python3
"""Writes a tiny GGUF model whose vocabulary comes from a Hugging Face
tokenizer.json, with the `tokenizer.ggml.pre` and special ids we ask for.

    python3 scripts/tok_vocab_gguf.py --peer PEER_DIR --from SRC --pre NAME --out F.gguf
        [--spm] [--no-space-prefix] [--add-bos] [--bos TEXT] [--eos TEXT]

It reuses the peer's gen_gguf.py (../shared/peer, copied into PEER_DIR by
scripts/peer.sh) and only overrides what gen_gguf.py guesses: the
pre-tokenizer name (it knows qwen2 and llama-bpe; DeepSeek-V3 needs
deepseek-v3, the cl100k vocabulary dbrx, Mistral's Tekken tekken, as
llama.cpp's converter names them), the BOS/EOS tokens, and two things of
SentencePiece vocabularies written as byte-fallback BPE:
  --spm              read the tokenizer.json as SentencePiece even though it
                     has a pre-tokenizer (Gemma's splits on " " after its
                     normalizer turned every space into U+2581: a no-op)
  --no-space-prefix  tokenizer.ggml.add_space_prefix = false (Gemma's
                     normalizer has no Prepend, convert_hf_to_gguf says so)
--add-bos sets tokenizer.ggml.add_bos_token (Mistral's files have it; the
guess for a vocabulary without <|begin_of_text|> is Qwen's, which has not).
SRC is what gen_gguf.py takes for --vocab-from (qwen, llama3 or a
tokenizer.json path).  Used by scripts/tok_vocabs.sh.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--peer", required=True)
ap.add_argument("--from", dest="src", required=True)
ap.add_argument("--pre")
ap.add_argument("--spm", action="store_true")
ap.add_argument("--no-space-prefix", action="store_true")
ap.add_argument("--add-bos", action="store_true")
ap.add_argument("--bos")
ap.add_argument("--eos")
ap.add_argument("--out", required=True)
a = ap.parse_args()

sys.path.insert(0, a.peer)
import gen_gguf  # noqa: E402

src = a.src
tmp = None
if a.spm:
    tj = src if src.endswith(".json") else os.path.join(src, "tokenizer.json")
    with open(tj, encoding="utf-8") as f:
        tok = json.load(f)
    tok["pre_tokenizer"] = None
    tmp = tempfile.mkdtemp(prefix="tokvocab-")
    with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    cfg = os.path.join(os.path.dirname(tj), "tokenizer_config.json")
    if os.path.exists(cfg):
        shutil.copy(cfg, os.path.join(tmp, "tokenizer_config.json"))
    src = tmp

_load = gen_gguf.load_vocab


def token_id(kv, text):
    ids = [i for i, t in enumerate(kv["tokenizer.ggml.tokens"]) if t == text]
    if not ids:
        sys.exit(f"tok_vocab_gguf: no token {text!r} in the vocabulary")
    return ids[0]


def load_vocab(*args, **kw):
    kv, n, kind = _load(*args, **kw)
    if a.pre:
        kv["tokenizer.ggml.pre"] = a.pre
    if a.no_space_prefix:
        kv["tokenizer.ggml.add_space_prefix"] = False
    if a.add_bos:
        kv["tokenizer.ggml.add_bos_token"] = True
    if a.bos:
        kv["tokenizer.ggml.bos_token_id"] = token_id(kv, a.bos)
    if a.eos:
        kv["tokenizer.ggml.eos_token_id"] = token_id(kv, a.eos)
    return kv, n, kind


gen_gguf.load_vocab = load_vocab
sys.argv = ["gen_gguf.py", "--preset", "tiny", "--vocab-from", src, "--type", "Q8_0", "--out", a.out]
try:
    gen_gguf.main()
finally:
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
