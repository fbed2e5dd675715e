// The official `openai` npm client against `xuan serve`, unchanged: chat,
// streaming with usage, logprobs, completions with echo, the models list,
// n choices, tool calls (on a server with Qwen2.5's template, and auto mode
// on one whose vocabulary has <tool_call>), and errors as the client's typed
// exceptions.  Run by tests/cli_serve_openai.sh:
//   node serve_openai.mjs NODE_MODULES_DIR BASE_URL [TOOLS_URL [AUTO_URL]]
import { createRequire } from "node:module";
import path from "node:path";

const [dir, base, toolsBase, autoBase] = process.argv.slice(2);
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

await check("n", async () => {
  const args = { model: "tiny", messages: [{ role: "user", content: "tell me" }], max_tokens: 12, n: 3 };
  const greedy = await client.chat.completions.create({ ...args, temperature: 0 });
  const g = greedy.choices.map((c) => c.message.content);
  if (greedy.choices.map((c) => c.index).join() !== "0,1,2" || new Set(g).size !== 1)
    throw new Error("greedy n=3: " + JSON.stringify(g));
  const hot = await client.chat.completions.create({ ...args, temperature: 1, seed: 4 });
  const h = hot.choices.map((c) => c.message.content);
  const one = await client.chat.completions.create({ ...args, n: 1, temperature: 1, seed: 4 });
  if (new Set(h).size < 2 || h[0] !== one.choices[0].message.content ||
      hot.usage.prompt_tokens !== one.usage.prompt_tokens || hot.usage.completion_tokens !== 3 * 12)
    throw new Error(`n=3 seed 4: ${JSON.stringify(h)} ${JSON.stringify(hot.usage)} vs ${JSON.stringify(one.usage)}`);
  const parts = ["", "", ""];
  for await (const ev of await client.chat.completions.create({ ...args, temperature: 1, seed: 4, stream: true }))
    for (const c of ev.choices) parts[c.index] += c.delta.content || "";
  if (JSON.stringify(parts) !== JSON.stringify(h)) throw new Error("streamed n=3: " + JSON.stringify(parts));
  ok(`n=3: greedy choices equal, temperature 1 gives ${new Set(h).size} distinct (choice 0 = seed 4 alone), ` +
     `usage ${hot.usage.prompt_tokens} + ${hot.usage.completion_tokens}, streamed by index the same`);
});

// ---- tools ----
const WEATHER = { type: "object", additionalProperties: false, required: ["city", "days"],
                  properties: { city: { type: "string", maxLength: 12 }, days: { type: "integer" } } };
const ADD = { type: "object", additionalProperties: false, required: ["a", "b"],
              properties: { a: { type: "number" }, b: { type: "number" } } };
const TOOLS = [{ type: "function", function: { name: "get_weather", description: "the weather", parameters: WEATHER } },
               { type: "function", function: { name: "add", parameters: ADD } }];
// the schemas above: every key declared, required, additionalProperties false
function valid(call) {
  const schema = { get_weather: WEATHER, add: ADD }[call.function.name];
  if (call.type !== "function" || !call.id.startsWith("call_") || !schema) throw new Error("call " + JSON.stringify(call));
  const v = JSON.parse(call.function.arguments);
  const keys = Object.keys(v).sort().join(), want = [...schema.required].sort().join();
  for (const [k, p] of Object.entries(schema.properties)) {
    const x = v[k];
    const good = p.type === "string" ? typeof x === "string" && [...x].length <= (p.maxLength ?? Infinity)
      : p.type === "integer" ? Number.isInteger(x) : typeof x === "number";
    if (!good) throw new Error(`${k} = ${JSON.stringify(x)} is not a ${p.type}`);
  }
  if (keys !== want) throw new Error(`keys ${keys}, want ${want}`);
  return v;
}

if (toolsBase) {
  const tc = new OpenAI({ apiKey: "test-key-123", baseURL: toolsBase + "/v1", maxRetries: 0, timeout: 60000 });
  const messages = [{ role: "user", content: "weather in Oslo?" }];
  await check("tools required", async () => {
    for (const seed of [1, 2]) {
      const r = await tc.chat.completions.create({ model: "tiny", messages, tools: TOOLS, tool_choice: "required",
                                                   max_tokens: 400, seed });
      const c = r.choices[0];
      if (c.finish_reason !== "tool_calls" || c.message.content !== null || c.message.tool_calls.length !== 1)
        throw new Error(JSON.stringify(r));
      valid(c.message.tool_calls[0]);
    }
    ok("tool_choice required: message.tool_calls validate, content null, finish tool_calls");
  });
  await check("tools named, streamed", async () => {
    const args = { model: "tiny", messages, tools: TOOLS, max_tokens: 400, seed: 7,
                   tool_choice: { type: "function", function: { name: "add" } } };
    const whole = (await tc.chat.completions.create(args)).choices[0];
    const a = valid(whole.message.tool_calls[0]);
    // the client's own stream helper assembles the deltas
    const stream = tc.chat.completions.stream({ ...args, stream: true });
    let pieces = 0;
    stream.on("tool_calls.function.arguments.delta", () => pieces++);
    const final = (await stream.finalChatCompletion()).choices[0];
    const call = final.message.tool_calls[0];
    if (whole.message.tool_calls[0].function.name !== "add" || call.function.name !== "add" ||
        JSON.stringify(valid(call)) !== JSON.stringify(a) || final.finish_reason !== "tool_calls" ||
        final.message.content || pieces < 2)
      throw new Error(`${JSON.stringify(final)} vs ${JSON.stringify(whole)} (${pieces} pieces)`);
    ok(`named tool_choice: add(${JSON.stringify(a)}); the client's stream helper assembles ${pieces} argument ` +
       "deltas into the same call");
  });
  await check("tool result round trip", async () => {
    const r = await tc.chat.completions.create({ model: "tiny", max_tokens: 4, tools: TOOLS, messages: [
      ...messages,
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function",
        function: { name: "get_weather", arguments: JSON.stringify({ city: "Oslo", days: 1 }) } }] },
      { role: "tool", tool_call_id: "call_1", content: "4 C and rain" }] });
    const short = await tc.chat.completions.create({ model: "tiny", max_tokens: 4, tools: TOOLS, messages });
    if (!(r.usage.prompt_tokens > short.usage.prompt_tokens + 20)) throw new Error(JSON.stringify([r.usage, short.usage]));
    ok(`tool result round trip: ${r.usage.prompt_tokens} prompt tokens (${short.usage.prompt_tokens} without the tool turn)`);
  });
  await check("tool errors", async () => {
    try {
      await tc.chat.completions.create({ model: "tiny", messages, tools: TOOLS,
                                         tool_choice: { type: "function", function: { name: "nope" } } });
      throw new Error("no exception");
    } catch (e) {
      if (!(e instanceof OpenAI.BadRequestError) || e.param !== "tool_choice") throw e;
      ok(`unknown tool in tool_choice: BadRequestError ${e.status} (param ${e.param})`);
    }
  });
}

if (autoBase) {
  const ac = new OpenAI({ apiKey: "test-key-123", baseURL: autoBase + "/v1", maxRetries: 0, timeout: 60000 });
  await check("tools auto", async () => {
    // <tool_call> is one token in this vocabulary: forced by logit_bias, the server completes the call
    const tok = await (await fetch(autoBase + "/tokenize", { method: "POST", headers: {
      Authorization: "Bearer test-key-123" }, body: JSON.stringify({ content: "<tool_call>" }) })).json();
    if (tok.tokens.length !== 1) throw new Error("tokens " + JSON.stringify(tok));
    const r = await ac.chat.completions.create({ model: "q", messages: [{ role: "user", content: "weather?" }],
      tools: TOOLS, max_tokens: 300, seed: 3, logit_bias: { [tok.tokens[0]]: 100 } });
    const c = r.choices[0];
    if (c.finish_reason !== "tool_calls" || c.message.content !== null) throw new Error(JSON.stringify(r));
    const v = valid(c.message.tool_calls[0]);
    ok(`tool_choice auto: the model opened a call, ${c.message.tool_calls[0].function.name}(${JSON.stringify(v)})`);
  });
}

await check("errors", async () => {
  const expect = async (what, cls, fn, param) => {
    try { await fn(); fail(`${what}: no exception`); }
    catch (e) {
      if (!(e instanceof cls)) throw new Error(`${what}: ${e && e.constructor && e.constructor.name}: ${e}`);
      if (param !== undefined && e.param !== param) throw new Error(`${what}: param ${e.param}, want ${param}`);
      ok(`${what}: ${e.constructor.name} ${e.status}: ${String(e.message).slice(0, 80)}`);
    }
  };
  await expect("bad temperature", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], temperature: 9 }));
  await expect("schema with pattern", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }],
      response_format: { type: "json_schema", json_schema: { name: "p", schema: { type: "string", pattern: "a" } } } }));
  await expect("n = 9", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], n: 9 }), "n");
  await expect("tools on a template without tool calls", OpenAI.BadRequestError, () =>
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "x" }], tools: TOOLS }), "tools");
  const bad = new OpenAI({ apiKey: "wrong", baseURL: base + "/v1", maxRetries: 0 });
  await expect("wrong key", OpenAI.AuthenticationError, () => bad.models.list());
});
process.exit(failed);
