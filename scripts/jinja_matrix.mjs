#!/usr/bin/env node
// jinja_matrix.mjs — the expected side of tests/cli_template.sh: renders
// every template x conversation x add_generation_prompt x enable_thinking
// of tests/golden/jinja/cases.json with @huggingface/jinja and writes
// OUT/<template>/<case>.txt (the text) or OUT/<template>/<case>.err (the
// message, when @huggingface/jinja throws), plus OUT/cases.tsv listing each
// case: name, messages file, tools file or "-", gen (1/0), kwargs JSON.
//
//   node scripts/jinja_matrix.mjs --jinja DIR --out OUT CASES.json TEMPLATE.jinja...
//
// strftime_now() sees the fixed time $XUAN_JINJA_NOW (Unix seconds), as
// xuan does, so that date-printing templates are deterministic.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
let jinjaDir = null, outDir = null;
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jinja') jinjaDir = args[++i];
  else if (args[i] === '--out') outDir = args[++i];
  else rest.push(args[i]);
}
if (!jinjaDir || !outDir || rest.length < 2) {
  process.stderr.write('usage: jinja_matrix.mjs --jinja DIR --out OUT CASES.json TEMPLATE.jinja...\n');
  process.exit(2);
}
const now = Number(process.env.XUAN_JINJA_NOW || '0') * 1000;
if (now) {
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...a) { if (a.length === 0) super(now); else super(...a); }
    static now() { return now; }
  };
}
const pkgDir = path.resolve(jinjaDir, 'node_modules', '@huggingface', 'jinja');
const { Template } = await import(pathToFileURL(path.join(pkgDir, 'dist', 'index.js')).href);

const spec = JSON.parse(fs.readFileSync(rest[0], 'utf8'));
fs.mkdirSync(outDir, { recursive: true });
const toolsFile = path.join(outDir, 'tools.json');
fs.writeFileSync(toolsFile, JSON.stringify(spec.tools));
const cases = [];
for (const [name, conv] of Object.entries(spec.conversations)) {
  const mfile = path.join(outDir, `conv-${name}.json`);
  fs.writeFileSync(mfile, JSON.stringify(conv.messages));
  for (const gen of [true, false]) {
    for (const think of [null, true, false]) {
      const kwargs = think === null ? {} : { enable_thinking: think };
      cases.push({ id: `${name}-${gen ? 'gen' : 'nogen'}-${think === null ? 'default' : think ? 'think' : 'nothink'}`,
                   messages: conv.messages, mfile, tools: conv.tools ? spec.tools : null, gen, kwargs });
    }
  }
}
fs.writeFileSync(path.join(outDir, 'cases.tsv'), cases.map(c =>
  [c.id, c.mfile, c.tools ? toolsFile : '-', c.gen ? 1 : 0, JSON.stringify(c.kwargs)].join('\t')).join('\n') + '\n');
for (const tfile of rest.slice(1)) {
  const tname = path.basename(tfile, '.jinja');
  const dir = path.join(outDir, tname);
  fs.mkdirSync(dir, { recursive: true });
  const src = fs.readFileSync(tfile, 'utf8');
  let tmpl = null, parseError = null;
  try { tmpl = new Template(src); } catch (e) { parseError = String(e && e.message ? e.message : e); }
  for (const c of cases) {
    if (parseError) { fs.writeFileSync(path.join(dir, c.id + '.err'), parseError); continue; }
    const ctx = { messages: JSON.parse(JSON.stringify(c.messages)), bos_token: '<s>', eos_token: '</s>',
                  add_generation_prompt: c.gen, ...c.kwargs };
    if (c.tools) ctx.tools = JSON.parse(JSON.stringify(c.tools));
    try {
      fs.writeFileSync(path.join(dir, c.id + '.txt'), tmpl.render(ctx));
    } catch (e) {
      fs.writeFileSync(path.join(dir, c.id + '.err'), String(e && e.message ? e.message : e));
    }
  }
}
