// The chat page (src/serve/chat_page.html) in headless Chromium, driven by
// playwright-core: type a message, click Send, wait for the streamed reply to
// finish, compare it with a greedy non-streamed /v1/chat/completions of the
// same request, check the tok/s figure, save a screenshot.  Run by
// tests/cli_chat_page.sh:
//   node chat_page.mjs NODE_MODULES_DIR BASE_URL CHROMIUM SCREENSHOT
import { createRequire } from "node:module";
import path from "node:path";

const [dir, base, chromium, shot] = process.argv.slice(2);
const require = createRequire(path.join(dir, "package.json"));
const { chromium: launcher } = require("playwright-core");
const MESSAGE = "Say hello in three words.", MAX_TOKENS = 24;
let failed = 0;
const ok = (m) => console.log("ok: " + m);
const fail = (m) => { console.log("FAIL: " + m); failed = 1; };
const squash = (s) => s.replace(/\s+/g, " ").trim();

const browser = await launcher.launch({ executablePath: chromium, headless: true,
                                        args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/", { timeout: 30000 });
  await page.waitForFunction(() => document.getElementById("model").textContent !== "…", null, { timeout: 10000 });
  ok("page loaded, model: " + (await page.textContent("#model")));
  // the page's own settings: greedy, a token limit (thinking stays as it is)
  await page.click("header summary");
  await page.fill("#temperature", "0");
  await page.fill("#max_tokens", String(MAX_TOKENS));
  await page.click("header summary");
  const thinking = await page.isChecked("#thinking");
  await page.fill("#input", MESSAGE);
  await page.click("#send");
  await page.waitForSelector(".msg.assistant[data-done='1']", { timeout: 60000 });
  const got = await page.$eval(".msg.assistant", (d) => ({
    content: d.dataset.content, shown: d.querySelector(".body").innerText,
    stats: d.querySelector(".stats").textContent, error: (d.querySelector(".error") || {}).textContent || "" }));
  if (got.error) fail("the page shows an error: " + got.error);

  // what the page asked for, sent once more without streaming
  const r = await fetch(base + "/v1/chat/completions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: MESSAGE }], temperature: 0, max_tokens: MAX_TOKENS,
                           chat_template_kwargs: { enable_thinking: thinking } }) });
  const j = await r.json();
  const want = j.choices[0].message.content;
  if (!want) fail("the reference answer is empty: " + JSON.stringify(j));
  if (got.content === want) ok(`streamed reply equals the greedy answer (${want.length} chars)`);
  else fail(`page reply ${JSON.stringify(got.content)} != greedy ${JSON.stringify(want)}`);
  // what is shown: the same text, markdown's markers and whitespace aside
  const plain = (s) => squash(s.replace(/[*`#]/g, ""));
  if (plain(got.shown) === plain(want)) ok("the shown text is the reply");
  else fail(`shown ${JSON.stringify(got.shown)} is not the reply ${JSON.stringify(want)}`);
  const m = /^(\d+) tokens · ([0-9.]+) tok\/s · first token ([0-9.]+) s · (\w+)$/.exec(got.stats);
  if (!m) fail("stats line: " + JSON.stringify(got.stats));
  else if (Number(m[1]) !== j.usage.completion_tokens || !(Number(m[2]) > 0) || m[4] !== j.choices[0].finish_reason)
    fail(`stats ${got.stats} vs usage ${j.usage.completion_tokens} tokens, ${j.choices[0].finish_reason}`);
  else ok("stats: " + got.stats);
  if (errors.length) fail("script errors: " + errors.join("; "));
  await page.screenshot({ path: shot, fullPage: true });
  ok("screenshot: " + shot);
} catch (e) {
  fail(e && e.stack ? e.stack : String(e));
} finally {
  await browser.close();
}
process.exit(failed);
