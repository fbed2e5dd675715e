// The official `openai` npm client against `xuan serve`, unchanged: chat,
// streaming with usage, logprobs, completions with echo, the models list,
// and errors as the client's typed exceptions.  Run by tests/cli_serve_openai.sh:
//   node serve_openai.mjs NODE_MODULES_DIR BASE_URL
import { createRequire } from "node:module";
import path from "node:path";

const [dir, base] = process.argv.slice(2);
const require = createRequire(path.join(dir, "package.json"));
const OpenAI = require("openai");
const client = new OpenAI({ apiKey: "test-key-123", baseURL: base + "/v1", maxRetries: 0, timeout: 60000 });
let failed = 0;
const ok = (m) => console.log("ok: " + m);
const fail = (m) => { console.log("FAIL: " + m); failed = 1; };

async function check(name, fn) {
  try { await fn(); } catch (e) { fail(`${name}: ${e && e.stack ? e.stack : e}`); }
}

await check("models", async () => {
  const list = await client.models.list();
  const ids = [];
  for await (const m of list) ids.push(m.id);
  if (ids.length !== 1) throw new Error("models: " + JSON.stringify(ids));
  ok(`models.list: ${ids[0]}`);
});

let whole;
await check("chat", async () => {
  const r = await client.chat.completions.create({
    model: "tiny", messages: [{ role: "user", content: "hello" }], max_tokens: 8, temperature: 0,
    logprobs: true, top_logprobs: 2,
  });
  const c = r.choices[0];
  if (c.message.role !== "assistant" || typeof c.message.content !== "string") throw new Error(JSON.stringify(r));
  if (c.logprobs.content.length !== r.usage.completion_tokens - (c.finish_reason === "stop" ? 1 : 0))
    throw new Error("logprobs count " + JSON.stringify(r.usage));
  whole = c.message.content;
  ok(`chat.completions.create: ${r.usage.completion_tokens} tokens, finish ${c.finish_reason}, logprobs`);
});

await check("chat stream", async () => {
  const stream = await client.chat.completions.create({
    model: "tiny", messages: [{ role: "user", content: "hello" }], max_tokens: 8, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = "", usage = null, finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      text += ch.delta.content || "";
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  if (text.trim() !== whole.trim() || !usage || !finish) throw new Error(`${JSON.stringify(text)} ${JSON.stringify(usage)}`);
  ok(`streamed chat: same text, usage ${usage.total_tokens} tokens, finish ${finish}`);
});

await check("completions echo", async () => {
  const r = await client.completions.create({
    model: "tiny", prompt: [5, 17, 99, 3], max_tokens: 0, echo: true, logprobs: 1,
  });
  const lp = r.choices[0].logprobs;
  if (lp.tokens.length !== 4 || lp.token_logprobs[0] !== null || !(lp.token_logprobs[3] < 0))
    throw new Error(JSON.stringify(lp));
  ok("completions.create with echo + logprobs: 4 prompt logprobs");
});

await check("json_schema", async () => {
  const schema = {
    type: "object", additionalProperties: false, required: ["name", "n", "ok"],
    properties: { name: { type: "string", maxLength: 8 }, n: { type: "integer" }, ok: { type: "boolean" } },
  };
  const response_format = { type: "json_schema", json_schema: { name: "thing", schema, strict: true } };
  let n_valid = 0;
  for (const stream of [false, true]) {
    for (let seed = 1; seed <= 3; seed++) {
      const args = { model: "tiny", messages: [{ role: "user", content: "a thing" }], max_tokens: 200,
                     temperature: 1, seed, response_format };
      let text = "", finish;
      if (stream) {
        for await (const ev of await client.chat.completions.create({ ...args, stream: true }))
          for (const c of ev.choices) { text += c.delta.content || ""; finish = c.finish_reason || finish; }
      } else {
        const r = await client.chat.completions.create(args);
        text = r.choices[0].message.content;
        finish = r.choices[0].finish_reason;
      }
      if (finish === "length") continue;
      const v = JSON.parse(text);
      const keys = Object.keys(v).sort().join(",");
      if (keys !== "n,name,ok" || typeof v.name !== "string" || [...v.name].length > 8 ||
          !Number.isInteger(v.n) || typeof v.ok !== "boolean" || finish !== "stop")
        throw new Error(`does not validate (${finish}): ${text}`);
      n_valid++;
    }
  }
  if (n_valid < 4) throw new Error(`only ${n_valid} of 6 answers were complete`);
  ok(`response_format json_schema: ${n_valid} of 6 answers parse and validate, streamed and not`);
});

await check("errors", async () => {
  const expect = async (what, cls, fn) => {
    try { await fn(); fail(`${what}: no exception`); }
    catch (e) {
      if (!(e instanceof cls)) throw new Error(`${what}: ${e && e.constructor && e.constructor.name}: ${e}`);
      ok(`${what}: ${e.constructor.name} ${e.status}: ${String(e.message).slice(0, 80)}`);
    }
  };
  await expect("bad temperature", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], temperature: 9 }));
  await expect("schema with pattern", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }],
      response_format: { type: "json_schema", json_schema: { name: "p", schema: { type: "string", pattern: "a" } } } }));
  await expect("n = 2", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], n: 2 }));
  const bad = new OpenAI({ apiKey: "wrong", baseURL: base + "/v1", maxRetries: 0 });
  await expect("wrong key", OpenAI.AuthenticationError, () => bad.models.list());
});
process.exit(failed);
