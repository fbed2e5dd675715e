#!/usr/bin/env node
// Computes the reference token ids that tests/golden/tok/*.jsonl hold, for the
// cases in ../shared/tokenizer (corpus.jsonl: text; invalid_utf8.jsonl: hex).
//
//   node scripts/tok_reference.mjs --peer PEER_DIR --corpus DIR --out DIR \
//        NAME=MODEL.gguf[::HF_PACKAGE_DIR] ...
//
// For each vocabulary it writes OUT/NAME.jsonl, one line per case:
//   {"id": ..., "hf": [...], "llama": [...], "llama_special": [...]}
//   hf            the Hugging Face tokenizer's ids (@lenml/tokenizers, a port of
//                 transformers.js, loaded from the package that ships the
//                 tokenizer.json the GGUF was built from); added tokens are
//                 always parsed, as HF does; absent when there is no tokenizer.json
//                 or the input is not valid UTF-8 (HF cannot take it)
//   llama         llama.cpp's ids without special-token parsing (node-llama-cpp;
//                 for invalid UTF-8 the native llama-tokenize, which reads bytes)
//   llama_special llama.cpp with parse_special; omitted when equal to llama
// No BOS/EOS anywhere.  Exit 0 on success.
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import {execFileSync} from "node:child_process";
import {createRequire} from "node:module";

const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf("--" + k); return i >= 0 ? args[i + 1] : undefined; };
const peer = opt("peer"), corpusDir = opt("corpus"), outDir = opt("out");
const vocabs = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
if (!peer || !corpusDir || !outDir || !vocabs.length) {
    console.error("usage: node tok_reference.mjs --peer DIR --corpus DIR --out DIR NAME=MODEL.gguf[::HF_PKG] ...");
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(peer), "package.json"));
const {getLlama, LlamaLogLevel} = await import(require.resolve("node-llama-cpp"));
const llamaTokenize = path.join(peer, "llama.cpp/build/bin/llama-tokenize");

const readJsonl = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const cases = [
    ...readJsonl(path.join(corpusDir, "corpus.jsonl")),
    ...readJsonl(path.join(corpusDir, "invalid_utf8.jsonl")),
];

const llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error});
fs.mkdirSync(outDir, {recursive: true});
for (const spec of vocabs) {
    const [name, rest] = spec.split("=");
    const [gguf, hfPkg] = rest.split("::");
    const model = await llama.loadModel({modelPath: gguf, gpuLayers: 0, vocabOnly: true});
    let hf = null;
    if (hfPkg) {
        const {fromPreTrained} = await import(path.join(path.resolve(hfPkg), "dist/main.mjs"));
        hf = fromPreTrained();
    }
    const lines = [];
    for (const c of cases) {
        const row = {id: c.id};
        if (c.text !== undefined) {
            if (hf) row.hf = Array.from(hf.encode(c.text, {add_special_tokens: false}));
            row.llama = Array.from(model.tokenize(c.text, false));
            const sp = Array.from(model.tokenize(c.text, true));
            if (JSON.stringify(sp) !== JSON.stringify(row.llama)) row.llama_special = sp;
        } else {
            // invalid UTF-8: a JS string cannot hold it, so ask the native tool, which reads bytes
            if (!fs.existsSync(llamaTokenize)) throw new Error(`${llamaTokenize} is missing: run scripts/peer.sh DIR tools`);
            const f = path.join(os.tmpdir(), `xuan-tokref-${process.pid}.bin`);
            fs.writeFileSync(f, Buffer.from(c.hex, "hex"));
            const out = execFileSync(llamaTokenize, ["-m", gguf, "-f", f, "--ids", "--no-bos", "--no-parse-special", "--no-escape", "--log-disable"],
                {encoding: "utf8", stdio: ["ignore", "pipe", "ignore"]});
            fs.unlinkSync(f);
            const last = out.trim().split("\n").pop();
            row.llama = JSON.parse(last);
            row.hex = c.hex;
        }
        lines.push(JSON.stringify(row));
    }
    fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join("\n") + "\n");
    await model.dispose();
    console.error(`tok_reference: ${name}: ${lines.length} cases`);
}
await llama.dispose();
