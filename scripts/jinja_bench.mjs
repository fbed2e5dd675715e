#!/usr/bin/env node
// jinja_bench.mjs — @huggingface/jinja's microseconds per render of the
// conversation bench/bench_jinja.c renders (10 messages, two tools, a tool
// call and its result), for bench/section_chat.sh's side-by-side table.
//   node scripts/jinja_bench.mjs --jinja DIR TEMPLATE.jinja...
// Prints: template, bytes, parse us, render us (best of 5 batches of 200).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const args = process.argv.slice(2);
const jinjaDir = args[args.indexOf('--jinja') + 1];
const files = args.filter((a, i) => a !== '--jinja' && args[i - 1] !== '--jinja');
const { Template } = await import(pathToFileURL(path.join(jinjaDir, 'node_modules/@huggingface/jinja/dist/index.js')).href);
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object',
    properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', description: 'Local time in a city', parameters: { type: 'object',
    properties: { city: { type: 'string' } }, required: ['city'] } } }];
const messages = [
  { role: 'system', content: 'You are a helpful assistant that answers briefly and uses tools when they help.' },
  { role: 'user', content: 'Hi! What can you do?' },
  { role: 'assistant', content: 'I can answer questions and look up the weather or the time.' },
  { role: 'user', content: 'What is the weather in Paris right now?' },
  { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } } }] },
  { role: 'tool', tool_call_id: 'call_1', name: 'get_weather', content: '{"temperature": 21, "sky": "clear"}' },
  { role: 'assistant', content: 'It is 21 °C and clear in Paris.' },
  { role: 'user', content: 'And what time is it there?' },
  { role: 'assistant', content: 'It is 14:05 in Paris (CET).' },
  { role: 'user', content: 'Thanks. Summarise both answers in one sentence, please.' }];
const reps = 200;
console.log('template\tbytes\tparse_us\trender_us');
for (const f of files) {
  const src = fs.readFileSync(f, 'utf8');
  let bp = Infinity, br = Infinity, bytes = 0, err = null;
  for (let b = 0; b < 5 && !err; b++) {
    let t, t0 = process.hrtime.bigint();
    try { for (let r = 0; r < reps; r++) t = new Template(src); } catch (e) { err = e.message; break; }
    const p = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
    t0 = process.hrtime.bigint();
    try {
      for (let r = 0; r < reps; r++) bytes = Buffer.byteLength(t.render({ messages, tools, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' }));
    } catch (e) { err = e.message; break; }
    const rt = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
    bp = Math.min(bp, p); br = Math.min(br, rt);
  }
  const name = path.basename(f);
  console.log(err ? `${name}\t-\t-\t- (${err})` : `${name}\t${bytes}\t${bp.toFixed(1)}\t${br.toFixed(1)}`);
}
