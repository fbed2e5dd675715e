#!/usr/bin/env node
// render_template.mjs — renders chat templates with @huggingface/jinja, the
// Jinja engine transformers.js uses, to produce the expected strings that
// xuan's hand-written renderers (src/chat/render.c) are checked against.
//
//   node scripts/render_template.mjs --jinja DIR CASES.json > rendered.json
//       renders every format x conversation x add_generation_prompt x vars
//       of tests/golden/chat/cases.json (the goldens' inputs) into one JSON
//   node scripts/render_template.mjs --jinja DIR TEMPLATE.jinja MESSAGES.json [--no-gen]
//       renders one template for one message list and prints the text
//
// DIR is a folder where `npm install @huggingface/jinja@0.5.11` was run
// (tests/cli_chat_jinja.sh uses $XUAN_BUILD/jinja).  Template paths in a
// cases file are "shared:REL" ($XUAN_SHARED/REL, default ../shared next to
// the repository) or "src:REL" (the repository root).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const JINJA_VERSION = '0.5.11';
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const shared = process.env.XUAN_SHARED || path.resolve(repo, '..', 'shared');

function usage(msg) {
  if (msg) process.stderr.write(`render_template: ${msg}\n`);
  process.stderr.write('usage: render_template.mjs --jinja DIR CASES.json\n' +
                       '       render_template.mjs --jinja DIR TEMPLATE.jinja MESSAGES.json [--no-gen]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let jinjaDir = null, noGen = false;
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jinja') jinjaDir = args[++i];
  else if (args[i] === '--no-gen') noGen = true;
  else rest.push(args[i]);
}
if (!jinjaDir || rest.length < 1) usage();

const pkgDir = path.resolve(jinjaDir, 'node_modules', '@huggingface', 'jinja');
let pkg;
try {
  pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
} catch {
  usage(`@huggingface/jinja is not installed in ${jinjaDir} (npm install @huggingface/jinja@${JINJA_VERSION})`);
}
if (pkg.version !== JINJA_VERSION)
  process.stderr.write(`render_template: warning: @huggingface/jinja ${pkg.version}, goldens were made with ${JINJA_VERSION}\n`);
const { Template } = await import(pathToFileURL(path.join(pkgDir, 'dist', 'index.js')).href);

function resolveTemplate(ref) {
  if (ref.startsWith('shared:')) return path.join(shared, ref.slice(7));
  if (ref.startsWith('src:')) return path.join(repo, ref.slice(4));
  return ref;
}

// One render; returns {expected} or {error} (a template's raise_exception
// or any engine error, so that error behaviour is part of the golden too).
function render(src, messages, context) {
  try {
    const t = new Template(src);
    return { expected: t.render({ messages, ...context }) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

let first = null; // a cases file is JSON with "formats"; a template is not JSON
try { first = JSON.parse(fs.readFileSync(rest[0], 'utf8')); } catch { first = null; }
if (first && first.formats) {
  const out = {
    about: 'Expected chat-template renderings, made by @huggingface/jinja from the named template ' +
           'files; checked by tests/test_chat.c, re-made and diffed by tests/cli_chat_jinja.sh. ' +
           'Do not edit by hand.',
    generator: `@huggingface/jinja ${pkg.version}`,
    command: 'node scripts/render_template.mjs --jinja $XUAN_BUILD/jinja tests/golden/chat/cases.json ' +
             '> tests/golden/chat/rendered.json',
    cases: [],
  };
  for (const f of first.formats) {
    const src = fs.readFileSync(resolveTemplate(f.template), 'utf8');
    for (const vars of f.vars || [{}]) {
      for (const [conv, messages] of Object.entries(first.conversations)) {
        for (const gen of first.add_generation_prompt) {
          const context = { bos_token: f.bos_token, eos_token: f.eos_token,
                            add_generation_prompt: gen, ...vars };
          out.cases.push({ format: f.name, template: f.template, conversation: conv,
                           bos_token: f.bos_token, eos_token: f.eos_token,
                           add_generation_prompt: gen, vars, messages,
                           ...render(src, messages, context) });
        }
      }
    }
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
} else {
  if (rest.length < 2) usage('need TEMPLATE.jinja MESSAGES.json');
  const src = fs.readFileSync(rest[0], 'utf8');
  const messages = JSON.parse(fs.readFileSync(rest[1], 'utf8'));
  const r = render(src, messages, { add_generation_prompt: !noGen,
                                    bos_token: process.env.BOS_TOKEN || '',
                                    eos_token: process.env.EOS_TOKEN || '' });
  if (r.error) { process.stderr.write(`render_template: ${r.error}\n`); process.exit(1); }
  process.stdout.write(r.expected);
}
