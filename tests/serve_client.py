#!/usr/bin/env python3
"""HTTP checks for tests/cli_serve.sh: `serve_client.py CHECK BASE_URL [args]`.

Standard library only.  Every check prints "ok: ..." lines and exits 1 at the
first failure (with what was received), so the shell test can count them.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

KEY = "test-key-123"


def conn(base, timeout=60):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def req(base, method, path, body=None, key=KEY, raw=None, headers=None):
    c = conn(base)
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        j = json.loads(text)
    except ValueError:
        j = None
    return r.status, j, text, r


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


def expect_error(base, path, body, status, what, raw=None, param=None, key=KEY):
    st, j, text, _ = req(base, "POST", path, body, raw=raw, key=key)
    if st != status:
        fail(f"{what}: status {st}, want {status}: {text[:300]!r}")
    e = (j or {}).get("error")
    if not isinstance(e, dict) or not isinstance(e.get("message"), str) or "type" not in e or "code" not in e \
            or "param" not in e:
        fail(f"{what}: not an OpenAI error object: {text[:300]!r}")
    if param is not None and e.get("param") != param:
        fail(f"{what}: param {e.get('param')!r}, want {param!r}")
    ok(f"{what}: {status} {e['message'][:90]}")
    return e


def sse(base, path, body, key=KEY):
    """Returns (events as parsed JSON, saw_done)."""
    c = conn(base)
    c.request("POST", path, body=json.dumps(body),
              headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    r = c.getresponse()
    if r.status != 200:
        fail(f"stream: status {r.status}: {r.read()[:300]!r}")
    if not r.getheader("Content-Type", "").startswith("text/event-stream"):
        fail("stream: content type " + r.getheader("Content-Type", ""))
    events, done = [], False
    buf = b""
    while True:
        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            if ev.startswith(b":"):
                continue
            if not ev.startswith(b"data: "):
                fail(f"stream: not an SSE data line: {ev[:200]!r}")
            payload = ev[6:]
            if payload == b"[DONE]":
                done = True
            else:
                if done:
                    fail("stream: data after [DONE]")
                events.append(json.loads(payload))
    c.close()
    return events, done


# ---- checks ------------------------------------------------------------------------


def check_basic(base):
    st, j, text, _ = req(base, "GET", "/health", key=None)
    if st != 200 or j != {"status": "ok"}:
        fail(f"health: {st} {text!r}")
    ok("/health 200 without a key")
    st, j, _, _ = req(base, "GET", "/v1/models")
    if st != 200 or j["object"] != "list" or not j["data"] or j["data"][0]["object"] != "model":
        fail(f"models: {st} {j}")
    model = j["data"][0]["id"]
    ok(f"/v1/models lists {model}")
    for path, method in (("/v1/models", "GET"), ("/v1/chat/completions", "POST"), ("/tokenize", "POST"),
                         ("/metrics", "GET")):
        st, j, text, _ = req(base, method, path, {}, key=None)
        if st != 401 or j["error"]["type"] != "authentication_error":
            fail(f"{path} without a key: {st} {text[:200]!r}")
        st, _, text, _ = req(base, method, path, {}, key="wrong-key-123")
        if st != 401:
            fail(f"{path} with a wrong key: {st}")
        st, _, text, _ = req(base, method, path, {}, key=KEY + "4")
        if st != 401:
            fail(f"{path} with a longer key: {st}")
    ok("no key / wrong key / longer key: 401 on models, chat, tokenize, metrics")
    st, _, _, _ = req(base, "GET", "/nope")
    if st != 404:
        fail(f"unknown path: {st}")
    st, _, _, _ = req(base, "GET", "/v1/chat/completions")
    if st != 405:
        fail(f"GET chat: {st}")
    ok("404 unknown path, 405 wrong method")

    # tokenize / detokenize round trip
    st, j, text, _ = req(base, "POST", "/tokenize", {"content": "hello 你好"})
    if st != 200 or not all(isinstance(t, int) for t in j["tokens"]):
        fail(f"tokenize: {st} {text!r}")
    ids = j["tokens"]
    st, j, text, _ = req(base, "POST", "/detokenize", {"tokens": ids})
    if st != 200 or j["content"] != "hello 你好":
        fail(f"detokenize: {st} {text!r}")
    ok(f"tokenize/detokenize round trip ({len(ids)} ids)")
    expect_error(base, "/detokenize", {"tokens": [1, -5]}, 400, "detokenize with a bad id", param="tokens")
    expect_error(base, "/tokenize", {"content": 5}, 400, "tokenize with a number", param="content")

    # chat, non-streaming
    body = {"model": model, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 12,
            "temperature": 0}
    st, j, text, _ = req(base, "POST", "/v1/chat/completions", body)
    if st != 200:
        fail(f"chat: {st} {text!r}")
    ch = j["choices"][0]
    if j["object"] != "chat.completion" or ch["message"]["role"] != "assistant" or \
            not isinstance(ch["message"]["content"], str) or ch["finish_reason"] not in ("stop", "length"):
        fail(f"chat shape: {j}")
    u = j["usage"]
    if u["total_tokens"] != u["prompt_tokens"] + u["completion_tokens"] or u["completion_tokens"] > 12:
        fail(f"chat usage: {u}")
    ok(f"chat: finish {ch['finish_reason']}, usage {u['prompt_tokens']}+{u['completion_tokens']}")

    # chat, streaming, with usage: the deltas add up to the same text as a
    # completion of the same prompt (chat's non-stream content is trimmed)
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    events, done = sse(base, "/v1/chat/completions", body)
    if not done:
        fail("chat stream: no [DONE]")
    if events[0]["choices"][0]["delta"].get("role") != "assistant":
        fail(f"chat stream: first delta {events[0]}")
    if events[-1]["choices"] != [] or events[-1]["usage"]["completion_tokens"] != u["completion_tokens"]:
        fail(f"chat stream: last event should carry the usage: {events[-1]}")
    if events[-2]["choices"][0]["finish_reason"] != ch["finish_reason"]:
        fail(f"chat stream: finish {events[-2]}")
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])
    if streamed.strip() != ch["message"]["content"].strip():
        fail(f"chat stream text {streamed!r} != {ch['message']['content']!r}")
    if any(e["object"] != "chat.completion.chunk" for e in events):
        fail("chat stream: object")
    ok(f"chat stream: {len(events)} events, same text and usage, [DONE] last")
    if events[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] < u["prompt_tokens"] - 1:
        fail(f"second identical prompt reused no prefix: {events[-1]['usage']}")
    ok(f"prefix reuse: {events[-1]['usage']['prompt_tokens_details']['cached_tokens']} cached tokens")

    # completions: stream and not give the same text
    cbody = {"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0, "ignore_eos": True}
    st, j, text, _ = req(base, "POST", "/v1/completions", cbody)
    if st != 200 or j["object"] != "text_completion" or j["usage"]["completion_tokens"] != 16:
        fail(f"completion: {st} {text!r}")
    whole = j["choices"][0]["text"]
    events, done = sse(base, "/v1/completions", dict(cbody, stream=True))
    streamed = "".join(e["choices"][0]["text"] for e in events)
    if not done or streamed != whole:
        fail(f"completion stream {streamed!r} != {whole!r}")
    ok("completions: stream == non-stream text")

    # stop strings: the text ends before the stop, finish "stop"
    if len(whole) > 4:
        stop = whole[2:4]
        st, j, text, _ = req(base, "POST", "/v1/completions", dict(cbody, stop=[stop, "zzzz"]))
        t = j["choices"][0]["text"]
        if st != 200 or j["choices"][0]["finish_reason"] != "stop" or stop in t or not whole.startswith(t):
            fail(f"stop {stop!r}: {text!r}")
        ok(f"stop string {stop!r}: text cut to {len(t)} chars, finish stop")
    # seed: same seed, same sampled text
    sb = dict(cbody, temperature=1.0, seed=42)
    a = req(base, "POST", "/v1/completions", sb)[1]["choices"][0]["text"]
    b = req(base, "POST", "/v1/completions", sb)[1]["choices"][0]["text"]
    if a != b:
        fail(f"seed 42 gave {a!r} and {b!r}")
    ok("seed reproduces a sampled completion")
    # logit_bias: a huge bias on one token makes greedy pick it every time
    tid = req(base, "POST", "/tokenize", {"content": "Q"})[1]["tokens"][-1]
    st, j, text, _ = req(base, "POST", "/v1/completions", dict(cbody, logit_bias={str(tid): 100}, max_tokens=4))
    if j["choices"][0]["text"] != "QQQQ":
        fail(f"logit_bias: {text!r}")
    ok("logit_bias +100 forces the token")
    first = req(base, "POST", "/v1/completions", dict(cbody, max_tokens=1, logprobs=1))[1]
    banned = first["choices"][0]["logprobs"]["top_logprobs"][0]
    tok0 = req(base, "POST", "/tokenize", {"content": first["choices"][0]["text"]})[1]["tokens"][-1]
    st, j, text, _ = req(base, "POST", "/v1/completions",
                         dict(cbody, max_tokens=1, logprobs=1, logit_bias={str(tok0): -100}))
    if st != 200 or j["choices"][0]["text"] == first["choices"][0]["text"]:
        fail(f"logit_bias -100 should ban the greedy token: {text!r} (was {banned})")
    ok("logit_bias -100 bans the greedy token")
    # chat logprobs
    st, j, text, _ = req(base, "POST", "/v1/chat/completions",
                         {"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "temperature": 0,
                          "logprobs": True, "top_logprobs": 3, "ignore_eos": True})
    lp = j["choices"][0]["logprobs"]["content"]
    if st != 200 or len(lp) != 5 or any(len(e["top_logprobs"]) != 3 for e in lp) or \
            any(e["logprob"] > 0 or e["top_logprobs"][0]["logprob"] < e["logprob"] - 1e-6 for e in lp) or \
            any(abs(e["top_logprobs"][0]["logprob"] - e["logprob"]) > 1e-6 for e in lp):
        fail(f"chat logprobs (greedy: the chosen token is the top one): {text[:600]!r}")
    ok("chat logprobs: 5 tokens, top 3 each, greedy token = top 1")


def check_bad(base):
    p = "/v1/chat/completions"
    msgs = [{"role": "user", "content": "hi"}]
    expect_error(base, p, None, 400, "malformed JSON", raw=b'{"messages": [')
    expect_error(base, p, None, 400, "a JSON array body", raw=b'[1, 2]')
    expect_error(base, p, None, 400, "invalid UTF-8 in a string",
                 raw=b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}')
    expect_error(base, p, None, 400, "an empty body", raw=b'')
    expect_error(base, p, {"messages": "hi"}, 400, "messages a string", param="messages")
    expect_error(base, p, {"messages": []}, 400, "no messages", param="messages")
    expect_error(base, p, {"messages": [{"content": "x"}]}, 400, "a message without role", param="messages")
    expect_error(base, p, {"messages": msgs, "temperature": "hot"}, 400, "temperature a string", param="temperature")
    expect_error(base, p, {"messages": msgs, "temperature": 7}, 400, "temperature 7", param="temperature")
    expect_error(base, p, {"messages": msgs, "max_tokens": 1.5}, 400, "max_tokens 1.5", param="max_tokens")
    expect_error(base, p, {"messages": msgs, "max_tokens": -5}, 400, "max_tokens -5", param="max_tokens")
    expect_error(base, p, {"messages": msgs, "top_p": 2}, 400, "top_p 2", param="top_p")
    expect_error(base, p, {"messages": msgs, "stream": "yes"}, 400, "stream a string", param="stream")
    expect_error(base, p, {"messages": msgs, "stop": [1]}, 400, "stop a number", param="stop")
    expect_error(base, p, {"messages": msgs, "n": 9}, 400, "n 9", param="n")
    expect_error(base, p, {"messages": msgs, "logit_bias": {"abc": 1}}, 400, "logit_bias key", param="logit_bias")
    expect_error(base, p, {"messages": msgs, "top_logprobs": 3}, 400, "top_logprobs without logprobs",
                 param="top_logprobs")
    expect_error(base, p, {"messages": msgs, "tools": [{"type": "function"}]}, 400, "tools", param="tools")
    expect_error(base, p, {"messages": msgs, "response_format": {"type": "json_schema"}}, 400, "json_schema",
                 param="response_format")
    expect_error(base, "/v1/completions", {"prompt": 5}, 400, "prompt a number", param="prompt")
    expect_error(base, "/v1/completions", {"prompt": [1, 2, 999999]}, 400, "prompt id outside the vocabulary")
    e = expect_error(base, "/v1/completions", {"prompt": "word " * 3000, "max_tokens": 1}, 400,
                     "prompt longer than the context")
    if "tokens but a slot's context holds" not in e["message"]:
        fail("the message should name both lengths: " + e["message"])
    # oversized body, declared by Content-Length and sent
    big = json.dumps({"prompt": "x" * (80 << 10)}).encode()
    expect_error(base, "/v1/completions", None, 413, "oversized body", raw=big)
    # a body that lies about its size (chunked): read until the limit, then 413 or closed
    u = urllib.parse.urlparse(base)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    resp = b""
    try:
        for _ in range(40):
            s.sendall(b"1000\r\n" + b"x" * 0x1000 + b"\r\n")
        resp = s.recv(4096)
    except OSError:
        pass
    s.close()
    if resp and b" 413 " not in resp.split(b"\r\n")[0]:
        fail(f"chunked oversized body: {resp[:200]!r}")
    ok("chunked oversized body: " + (resp.split(b"\r\n")[0].decode() if resp else "connection closed"))
    # header too large
    st = None
    try:
        st, _, _, _ = req(base, "GET", "/health", key=None, headers={"X-Big": "y" * 100000})
    except (OSError, http.client.HTTPException):
        st = "closed"
    if st not in (413, 431, "closed"):
        fail(f"huge header: {st}")
    ok(f"100 kB header: {st}")
    # the server still answers
    st, j, _, _ = req(base, "POST", p, {"messages": msgs, "max_tokens": 2})
    if st != 200:
        fail("the server does not answer after bad requests")
    ok("still serving after all of them")


def check_echo(base, ids_csv, out):
    """Writes the server's echo logprobs of the ids to out (one per line)."""
    ids = [int(x) for x in ids_csv.split(",")]
    st, j, text, _ = req(base, "POST", "/v1/completions",
                         {"prompt": ids, "max_tokens": 0, "echo": True, "logprobs": 1, "temperature": 0})
    if st != 200:
        fail(f"echo: {st} {text!r}")
    lp = j["choices"][0]["logprobs"]
    if len(lp["tokens"]) != len(ids) or lp["token_logprobs"][0] is not None or j["usage"]["completion_tokens"] != 0:
        fail(f"echo shape: {lp}")
    # with generation after the prompt too
    st, j2, _, _ = req(base, "POST", "/v1/completions",
                       {"prompt": ids, "max_tokens": 3, "echo": True, "logprobs": 2, "temperature": 0,
                        "ignore_eos": True})
    lp2 = j2["choices"][0]["logprobs"]
    if len(lp2["tokens"]) != len(ids) + 3 or lp2["token_logprobs"][:len(ids)] != lp["token_logprobs"] or \
            any(len(t) > 2 for t in lp2["top_logprobs"][1:]):
        fail(f"echo + 3 tokens: {lp2}")
    with open(out, "w") as f:
        for v in lp["token_logprobs"][1:]:
            f.write(f"{v!r}\n")
    ok(f"echo: {len(ids)} prompt tokens with logprobs (first null), +3 generated")


def lone_and_concurrent(base, n, max_tokens, cold=None):
    """Lone answers from base, then n at once from cold (a fresh server with
    the same flags, so nothing of the lone runs is in its cache), or base."""
    prompts = [f"Client {i} says: " + "abc " * (i % 7) for i in range(n)]
    # a long one among them (400 tokens, under a slot's 512): its prefill
    # takes two steps of 256 while the others decode
    prompts[n // 2] = "long " * 80

    def run(i, stream, base=base):
        body = {"prompt": prompts[i], "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True}
        if stream:
            events, done = sse(base, "/v1/completions", dict(body, stream=True))
            if not done:
                return None
            return "".join(e["choices"][0]["text"] for e in events)
        st, j, text, _ = req(base, "POST", "/v1/completions", body)
        if st != 200:
            fail(f"client {i}: status {st}: {text[:200]!r}")
        return j["choices"][0]["text"]

    lone = [run(i, False) for i in range(n)]
    got = [None] * n
    def worker(i):
        got[i] = run(i, i % 3 == 0, cold or base)
    t0 = time.time()
    ths = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(120)
    dt = time.time() - t0
    bad = [i for i in range(n) if got[i] != lone[i]]
    if bad:
        i = bad[0]
        fail(f"{len(bad)}/{n} concurrent greedy answers differ from the lone ones; #{i}: {got[i]!r} vs {lone[i]!r}")
    if any(g is None for g in got):
        fail("a client thread did not finish")
    ok(f"{n} concurrent clients (a third streaming, one 400-token prompt){' on a cold server' if cold else ''}: "
       f"every greedy answer equals the lone one ({n * max_tokens} tokens in {dt:.2f} s)")


def check_concurrency(base, n, cold=None):
    lone_and_concurrent(base, int(n), 24, cold)


def metric(base, name):
    m = req(base, "GET", "/metrics")[2].decode()
    return int([line.split()[1] for line in m.splitlines() if line.startswith(name + " ")][0])


def post_raw(base, body):
    """Sends a completion request on a bare socket (so the test can hang up)."""
    u = urllib.parse.urlparse(base)
    data = json.dumps(body).encode()
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    return s


def wait_idle(base, seconds=5):
    """Seconds until no slot is busy, or None."""
    t0 = time.time()
    while time.time() - t0 < seconds:
        if metric(base, "xuan_slots_busy") == 0:
            return time.time() - t0
        time.sleep(0.05)
    return None


def check_disconnect(base):
    """A client that hangs up, mid-stream or while waiting for a whole answer, frees its slot at once."""
    body = {"prompt": "hang up", "max_tokens": 2000, "temperature": 0, "ignore_eos": True}
    s = post_raw(base, dict(body, stream=True))
    got = b""
    while got.count(b"data: ") < 3:
        got += s.recv(4096)
    s.close()
    dt = wait_idle(base)
    if dt is None:
        fail("the slot is still busy 5 s after the client hung up")
    ok(f"disconnect mid-stream: slot free after {dt:.2f} s")
    gen = metric(base, "xuan_generated_tokens_total")
    s = post_raw(base, dict(body, prompt="hang up again"))
    time.sleep(0.3)
    s.close()
    dt = wait_idle(base)
    n = metric(base, "xuan_generated_tokens_total") - gen
    if dt is None or n > 1500:
        fail(f"non-streaming disconnect: still busy or {n} tokens generated")
    ok(f"disconnect while waiting (non-stream): slot free after {dt:.2f} s, {n} of 2000 tokens generated")


def check_queue(base):
    """-np 1 --queue 1: one running, one queued, the third gets 503 + Retry-After."""
    body = {"prompt": "busy", "max_tokens": 300, "temperature": 0, "ignore_eos": True}
    res = {}

    def long(i):
        res[i] = req(base, "POST", "/v1/completions", body)[0]
    ths = [threading.Thread(target=long, args=(i,)) for i in range(2)]
    for t in ths:
        t.start()
        time.sleep(0.15)
    st, j, text, r = req(base, "POST", "/v1/completions", body)
    if st != 503 or r.getheader("Retry-After") is None or j["error"]["code"] != "queue_full":
        fail(f"third request: {st} {text!r}")
    ok("queue full: 503 with Retry-After and an error object")
    for t in ths:
        t.join(60)
    if res != {0: 200, 1: 200}:
        fail(f"the running and the queued request: {res}")
    ok("the running and the queued request both finished with 200")


def check_choices_queue(base):
    """-np 2 on the slow model: with one slot busy, an n = 2 request waits
    as one unit (both its jobs queued, none started alone), then runs when
    both slots are free."""
    long = {"prompt": "busy", "max_tokens": 120, "temperature": 0, "ignore_eos": True}
    res, done = {}, []

    def send(name, body):
        st, j, text, _ = req(base, "POST", "/v1/completions", body)
        res[name] = (st, j)
        done.append(name)
    a = threading.Thread(target=send, args=("a", long))
    a.start()
    t0 = time.time()
    while metric(base, "xuan_slots_busy") != 1 and time.time() - t0 < 10:
        time.sleep(0.02)
    b = threading.Thread(target=send, args=("b", {"prompt": "two", "max_tokens": 4, "n": 2, "temperature": 0}))
    b.start()
    while metric(base, "xuan_queue_length") != 2 and time.time() - t0 < 10:
        time.sleep(0.02)
    q, busy = metric(base, "xuan_queue_length"), metric(base, "xuan_slots_busy")
    a.join(120)
    b.join(120)
    if q != 2 or busy != 1:
        fail(f"n=2 beside a busy slot: queue {q}, busy {busy} (want both choices queued, 1 slot busy)")
    if done != ["a", "b"] or res["b"][0] != 200 or len(res["b"][1]["choices"]) != 2 or res["a"][0] != 200:
        fail(f"n=2 after the long request: order {done}, {res.get('b')}")
    ok("n=2 with one of 2 slots busy: both choices wait in the queue, then run together after it")

def check_slowloris(base, idle):
    """A client that sends half a header and waits is disconnected after the idle timeout."""
    u = urllib.parse.urlparse(base)
    s = socket.create_connection((u.hostname, u.port), timeout=int(idle) + 10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    t0 = time.time()
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    dt = time.time() - t0
    s.close()
    if data or dt > int(idle) + 5:
        fail(f"slowloris: {data!r} after {dt:.1f} s")
    ok(f"half a header, then silence: closed after {dt:.1f} s (idle timeout {idle} s)")
    st, _, _, _ = req(base, "GET", "/health", key=None)
    if st != 200:
        fail("health after slowloris")


def check_drain_start(base, out):
    """Starts a long request, writes 'started' to out, and the status when it ends."""
    body = {"prompt": "drain", "max_tokens": 200, "temperature": 0, "ignore_eos": True}
    def run():
        st, j, _, _ = req(base, "POST", "/v1/completions", body)
        with open(out, "a") as f:
            f.write(f"{st} {j['usage']['completion_tokens'] if st == 200 else 0}\n")
    t = threading.Thread(target=run)
    t.start()
    t0 = time.time()
    while metric(base, "xuan_slots_busy") == 0 and time.time() - t0 < 10:
        time.sleep(0.02)  # until the request runs
    with open(out, "a") as f:
        f.write("started\n")
    t.join(60)


def check_reasoning(base, think_open):
    """With a generation prompt that opens <think> (QwQ's with enable_thinking:
    true; ../shared's copy closes it otherwise, as llama.cpp's switch does) the
    whole answer is reasoning; kwargs reach the template (Qwen3's
    enable_thinking: false adds an empty think block to the prompt)."""
    q = req(base, "POST", "/tokenize", {"content": "Q"})[1]["tokens"][-1]
    body = {"messages": [{"role": "user", "content": "think"}], "max_tokens": 6, "temperature": 0,
            "ignore_eos": True, "logit_bias": {str(q): 100}}
    st, j, text, _ = req(base, "POST", "/v1/chat/completions", body)
    m = j["choices"][0]["message"]
    if think_open == "1":
        body["chat_template_kwargs"] = {"enable_thinking": True}
        st, j, text, _ = req(base, "POST", "/v1/chat/completions", body)
        m = j["choices"][0]["message"]
        if st != 200 or m.get("reasoning_content") != "QQQQQQ" or m["content"] != "":
            fail(f"reasoning (prompt opened <think>): {text!r}")
        events, done = sse(base, "/v1/chat/completions", dict(body, stream=True))
        r = "".join(e["choices"][0]["delta"].get("reasoning_content", "") for e in events)
        c = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
        if r != "QQQQQQ" or c != "":
            fail(f"streamed reasoning {r!r}, content {c!r}")
        ok("reasoning_content apart from content, streamed and not")
    else:
        if st != 200 or "reasoning_content" in m or m["content"] != "QQQQQQ":
            fail(f"no reasoning expected: {text!r}")
        n = []
        for kw in ({"enable_thinking": True}, {"enable_thinking": False}):
            st, j, text, _ = req(base, "POST", "/v1/chat/completions", dict(body, chat_template_kwargs=kw))
            n.append(j["usage"]["prompt_tokens"] if st == 200 else -1)
        if not (n[0] > 0 and n[1] > n[0]):
            fail(f"chat_template_kwargs enable_thinking false should add the empty think block: {n}")
        ok(f"chat_template_kwargs reach the template (prompt {n[0]} -> {n[1]} tokens with enable_thinking false)")
        expect_error(base, "/v1/chat/completions", dict(body, chat_template_kwargs=[1]), 400,
                     "chat_template_kwargs an array", param="chat_template_kwargs")


def check_untrimmed(base):
    """A reply of only whitespace: the whole answer has it as the stream
    does (the output parser used to trim the whole answer only)."""
    nl = req(base, "POST", "/tokenize", {"content": "\n"})[1]["tokens"][-1]
    body = {"messages": [{"role": "user", "content": "x"}], "max_tokens": 4, "temperature": 0, "ignore_eos": True,
            "logit_bias": {str(nl): 100}}
    st, j, text, _ = req(base, "POST", "/v1/chat/completions", body)
    events, done = sse(base, "/v1/chat/completions", dict(body, stream=True))
    streamed = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    if st != 200 or j["choices"][0]["message"]["content"] != "\n\n\n\n" or streamed != "\n\n\n\n":
        fail(f"whitespace reply: whole {text[:200]!r}, streamed {streamed!r}")
    ok("a reply of only newlines is the same streamed and not (not trimmed)")


def check_timeout(base):
    """--timeout 3: a generation that would take ~8 s ends with 504 (and an
    error event in a stream); the slot is free again."""
    body = {"prompt": "slow", "max_tokens": 2000, "temperature": 0, "ignore_eos": True}
    t0 = time.time()
    e = expect_error(base, "/v1/completions", body, 504, "request past --timeout")
    dt = time.time() - t0
    if not 2.5 < dt < 7:
        fail(f"timeout after {dt:.1f} s")
    events, done = sse(base, "/v1/completions", dict(body, stream=True))
    if not done or "error" not in events[-1]:
        fail(f"stream past --timeout: last event {events[-1] if events else None}")
    ok(f"request timeout: 504 after {dt:.1f} s; a stream ends with an error event and [DONE]")


def check_shared_prefix(base):
    """A prompt sharing a long prefix with a request running in another slot
    borrows its cache cells (evaluated once) and still gets its lone answer."""
    system = "You are a careful assistant. " * 12
    a_body = {"prompt": system + "Question A", "max_tokens": 150, "temperature": 0, "ignore_eos": True}
    b_body = {"prompt": system + "Question B", "max_tokens": 8, "temperature": 0, "ignore_eos": True}
    n_sys = len(req(base, "POST", "/tokenize", {"content": system})[1]["tokens"])
    gen0 = metric(base, "xuan_generated_tokens_total")
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("a", req(base, "POST", "/v1/completions", a_body)[0]))
    t.start()
    t0 = time.time()
    while metric(base, "xuan_generated_tokens_total") == gen0 and time.time() - t0 < 10:
        time.sleep(0.02)  # until A is past its prompt
    st, j, text, _ = req(base, "POST", "/v1/completions", b_body)
    cached = j["usage"]["prompt_tokens_details"]["cached_tokens"] if st == 200 else -1
    busy = metric(base, "xuan_slots_busy")
    t.join(60)
    if st != 200 or res.get("a") != 200:
        fail(f"shared prefix: B {st}, A {res.get('a')}: {text[:200]!r}")
    if cached < n_sys:
        fail(f"B reused {cached} tokens, the running A holds the {n_sys}-token prefix")
    st, j2, _, _ = req(base, "POST", "/v1/completions", b_body)
    if j2["choices"][0]["text"] != j["choices"][0]["text"]:
        fail(f"B beside A {j['choices'][0]['text']!r} != B alone {j2['choices'][0]['text']!r}")
    ok(f"shared prefix: B took {cached} of {j['usage']['prompt_tokens']} prompt tokens from the slot running A "
       f"(slots busy: {busy}); same answer as B alone")


def check_queue_disconnect(base):
    """A queued client that hangs up leaves the queue at once (-np 1)."""
    body = {"prompt": "busy", "max_tokens": 300, "temperature": 0, "ignore_eos": True}
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("a", req(base, "POST", "/v1/completions", body)[0]))
    t.start()
    t0 = time.time()
    while metric(base, "xuan_slots_busy") == 0 and time.time() - t0 < 10:
        time.sleep(0.02)
    s = post_raw(base, dict(body, prompt="queued"))
    t0 = time.time()
    while metric(base, "xuan_queue_length") == 0 and time.time() - t0 < 5:
        time.sleep(0.02)
    q1 = metric(base, "xuan_queue_length")
    s.close()
    t0 = time.time()
    while metric(base, "xuan_queue_length") != 0 and time.time() - t0 < 5:
        time.sleep(0.02)
    dt = time.time() - t0
    q2, busy = metric(base, "xuan_queue_length"), metric(base, "xuan_slots_busy")
    t.join(60)
    if q1 != 1 or q2 != 0 or busy != 1 or res.get("a") != 200:
        fail(f"queued disconnect: queue {q1} -> {q2}, busy {busy}, running request {res.get('a')}")
    ok(f"a queued client that hangs up leaves the queue after {dt:.2f} s, while the slot still runs")


# ---- tools ------------------------------------------------------------------------

WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                                            "days": {"type": "integer"}},
           "required": ["city", "days"], "additionalProperties": False}
ADD = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"],
       "additionalProperties": False}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "the weather", "parameters": WEATHER}},
         {"type": "function", "function": {"name": "add", "description": "a + b", "parameters": ADD}}]
SCHEMAS = {"get_weather": WEATHER, "add": ADD}
CHAT = "/v1/chat/completions"


def valid_call(what, call, names=SCHEMAS):
    """A tool call object of a response: its arguments parse and validate."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from schema_subset import validate
    f = call.get("function") or {}
    if call.get("type") != "function" or not str(call.get("id", "")).startswith("call_") or f.get("name") not in names:
        fail(f"{what}: not a call of one of {sorted(names)}: {call}")
    try:
        args = json.loads(f["arguments"])
        validate(names[f["name"]], args, names[f["name"]])
    except (ValueError, TypeError, KeyError) as e:
        fail(f"{what}: arguments {f.get('arguments')!r}: {e}")
    return f["name"], args


def call_answer(base, body, what):
    st, j, text, _ = req(base, "POST", CHAT, body)
    if st != 200:
        fail(f"{what}: {st} {text[:300]!r}")
    c = j["choices"][0]
    calls = c["message"].get("tool_calls") or []
    if c["finish_reason"] != "tool_calls" or c["message"]["content"] is not None or len(calls) != 1:
        fail(f"{what}: want one call, content null, finish tool_calls: {text[:400]!r}")
    return valid_call(what, calls[0]), calls[0]["id"], j


def streamed_calls(events, what):
    """(content, calls by index, finish) reassembled from chat chunks."""
    content, calls, finish = "", {}, None
    for e in events:
        for c in e["choices"]:
            d = c["delta"]
            content += d.get("content") or ""
            for t in d.get("tool_calls") or []:
                k = t["index"]
                if k not in calls:
                    if not (t.get("id") and t.get("type") == "function" and t["function"].get("name")):
                        fail(f"{what}: the first delta of call {k} lacks id/type/name: {t}")
                    calls[k] = {"id": t["id"], "type": "function", "function": {"name": t["function"]["name"],
                                                                                 "arguments": ""}}
                calls[k]["function"]["arguments"] += t["function"].get("arguments") or ""
            finish = c.get("finish_reason") or finish
    return content, calls, finish


def check_tools(base, xuan, template):
    """Hermes (Qwen2.5's template) on a random-weight model: forced calls
    ("required": the model picks the tool; named) whose arguments parse and
    validate, streamed deltas that reassemble to the whole answer, a tool
    result round trip rendered exactly as the template renders it."""
    msgs = [{"role": "user", "content": "weather in Oslo?"}]
    ids, names = set(), set()
    for seed in (1, 2, 3, 4):
        (name, _), cid, _ = call_answer(base, {"messages": msgs, "tools": TOOLS, "tool_choice": "required",
                                               "max_tokens": 400, "seed": seed}, f"required, seed {seed}")
        ids.add(cid)
        names.add(name)
    if len(ids) != 4:
        fail(f"call ids are not unique: {ids}")
    ok(f"tool_choice required: 4 calls whose arguments validate (tools picked: {sorted(names)}), finish tool_calls, "
       "content null, unique ids")
    named = {"type": "function", "function": {"name": "add"}}
    body = {"messages": msgs, "tools": TOOLS, "tool_choice": named, "max_tokens": 400, "seed": 7, "temperature": 1}
    (name, args), _, whole = call_answer(base, body, "named")
    if name != "add":
        fail(f"named tool_choice called {name}")
    events, done = sse(base, CHAT, dict(body, stream=True))
    content, calls, finish = streamed_calls(events, "streamed named call")
    if not done or content or finish != "tool_calls" or len(calls) != 1 or calls[0]["function"]["name"] != "add" \
            or json.loads(calls[0]["function"]["arguments"]) != args:
        fail(f"streamed call {calls} content {content!r} finish {finish} != whole {whole['choices'][0]['message']}")
    n_args = sum(1 for e in events for c in e["choices"] for t in c["delta"].get("tool_calls") or [])
    if n_args < 3:
        fail(f"the arguments were not streamed in pieces ({n_args} deltas)")
    ok(f"tool_choice named: add({json.dumps(args)}); streamed in {n_args} deltas that reassemble to the same call, "
       "no markup in content")
    # a tool result round trip: the assistant's call (arguments as JSON text) and the tool's answer
    turn = [{"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "get_weather",
                                                                   "arguments": "{\"city\": \"Oslo\", \"days\": 1}"}}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "4 C and rain"}]
    body = {"messages": msgs + turn, "tools": TOOLS, "max_tokens": 4, "temperature": 0}
    st, j, text, _ = req(base, "POST", CHAT, body)
    if st != 200:
        fail(f"tool round trip: {st} {text[:300]!r}")
    # the same conversation through `xuan template` (arguments as the object templates expect)
    tmp = os.environ.get("XUAN_TMP", "/tmp")
    rendered = []
    for name, data in (("msgs", msgs + [dict(turn[0], tool_calls=[{"id": "call_9", "type": "function", "function": {
            "name": "get_weather", "arguments": {"city": "Oslo", "days": 1}}}]), turn[1]]), ("tools", TOOLS)):
        path = os.path.join(tmp, f"serve_tools_{name}.json")
        with open(path, "w") as f:
            json.dump(data, f)
        rendered.append(path)
    prompt = subprocess.run([xuan, "template", "--file", template, "--messages", rendered[0], "--tools", rendered[1]],
                            capture_output=True, text=True, check=True).stdout
    if "<tool_response>\n4 C and rain\n</tool_response>" not in prompt or '"arguments": {"city": "Oslo"' not in prompt:
        fail(f"the template does not show the tool turn: {prompt[-400:]!r}")
    n = len(req(base, "POST", "/tokenize", {"content": prompt, "add_special": True})[1]["tokens"])
    if j["usage"]["prompt_tokens"] != n:
        fail(f"tool round trip: prompt of {j['usage']['prompt_tokens']} tokens, `xuan template` renders {n}")
    ok(f"tool result round trip: 200, the prompt is the template's rendering ({n} tokens, tool_calls and the "
       "tool response in it)")
    expect_error(base, CHAT, dict(body, messages=msgs + [dict(turn[0], tool_calls=[
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{nope"}}])]), 400,
                 "tool_calls arguments that are not JSON", param="messages")
    expect_error(base, CHAT, {"messages": msgs, "tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"s": {"type": "string", "pattern": "^a"}}}}}], "tool_choice": "required"},
                 400, "a forced call with a pattern schema", param="tools")
    expect_error(base, CHAT, {"messages": msgs, "tools": TOOLS, "tool_choice": {"type": "function", "function": {
        "name": "nope"}}}, 400, "tool_choice naming no tool", param="tool_choice")
    # "none": the tools are not shown to the template, nothing is parsed as a call
    body = {"messages": msgs, "tools": TOOLS, "max_tokens": 3, "temperature": 0}
    with_tools = req(base, "POST", CHAT, body)[1]["usage"]["prompt_tokens"]
    st, j, text, _ = req(base, "POST", CHAT, dict(body, tool_choice="none"))
    without = j["usage"]["prompt_tokens"] if st == 200 else -1
    if not (0 < without < with_tools) or "tool_calls" in j["choices"][0]["message"]:
        fail(f"tool_choice none: prompt {without} vs {with_tools} tokens with tools: {text[:200]!r}")
    ok(f"tool_choice none: the template gets no tools (prompt {with_tools} -> {without} tokens)")


def check_tools_auto(base):
    """Auto on a model whose vocabulary has <tool_call>: the opener forced
    by logit_bias, the server completes the call under the grammar."""
    opener = req(base, "POST", "/tokenize", {"content": "<tool_call>"})[1]["tokens"]
    if len(opener) != 1:
        fail(f"<tool_call> is not one token here: {opener}")
    msgs = [{"role": "user", "content": "weather?"}]
    body = {"messages": msgs, "tools": TOOLS, "max_tokens": 300, "seed": 3, "logit_bias": {str(opener[0]): 100}}
    (name, args), _, whole = call_answer(base, body, "auto")
    events, done = sse(base, CHAT, dict(body, stream=True))
    content, calls, finish = streamed_calls(events, "streamed auto call")
    if content or finish != "tool_calls" or len(calls) != 1 or calls[0]["function"]["name"] != name or \
            json.loads(calls[0]["function"]["arguments"]) != args:
        fail(f"streamed auto call {calls}, content {content!r}, finish {finish}")
    ok(f"tool_choice auto: the model opened a call, {name}({json.dumps(args)}) validates, streamed the same")
    # without the bias this random model writes text: no call
    st, j, text, _ = req(base, "POST", CHAT, {"messages": msgs, "tools": TOOLS, "max_tokens": 8, "seed": 3})
    m = j["choices"][0]["message"]
    if st != 200 or "tool_calls" in m or not isinstance(m["content"], str) or j["choices"][0]["finish_reason"] != "length":
        fail(f"auto without the opener: {text[:300]!r}")
    ok("tool_choice auto without the opener: text, no call")
    st, j, text, _ = req(base, "POST", CHAT, dict(body, tool_choice="none", max_tokens=4))
    m = j["choices"][0]["message"]
    if st != 200 or "tool_calls" in m or not m["content"].startswith("<tool_call>"):
        fail(f"tool_choice none with the opener: {text[:300]!r}")
    ok(f"tool_choice none: the opener stays text ({m['content']!r})")


def check_tools_forced(base, syntax):
    """Another family's syntax (the server's ready line names it): a
    required and a named call validate, the named one streamed the same."""
    msgs = [{"role": "user", "content": "weather in Oslo?"}]
    required = {"messages": msgs, "tools": TOOLS, "tool_choice": "required", "max_tokens": 400, "seed": 1}
    if syntax == "harmony":  # the name is bare text there, no grammar picks one: name the tool
        e = expect_error(base, CHAT, required, 400, "harmony: required with several tools", param="tool_choice")
        if "name the function" not in e["message"]:
            fail(f"harmony: {e['message']}")
        required["tools"] = TOOLS[:1]
    call_answer(base, required, f"{syntax} required")
    body = {"messages": msgs, "tools": TOOLS, "max_tokens": 400, "seed": 2,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    (name, args), _, _ = call_answer(base, body, f"{syntax} named")
    events, done = sse(base, CHAT, dict(body, stream=True))
    content, calls, finish = streamed_calls(events, f"{syntax} streamed")
    if name != "get_weather" or content or finish != "tool_calls" or len(calls) != 1 or \
            json.loads(calls[0]["function"]["arguments"]) != args:
        fail(f"{syntax}: named {name}({args}), streamed {calls} content {content!r} finish {finish}")
    ok(f"{syntax} syntax: required and named calls validate, get_weather({json.dumps(args)}) streamed the same")


def check_tools_plain(base):
    """A template without tool calls: tools are a 400 that says so, unless
    tool_choice is none."""
    msgs = [{"role": "user", "content": "x"}]
    e = expect_error(base, CHAT, {"messages": msgs, "tools": TOOLS}, 400, "tools on a template without tool calls",
                     param="tools")
    if "no tool calls" not in e["message"]:
        fail(f"the message does not say why: {e['message']}")
    st, _, text, _ = req(base, "POST", CHAT, {"messages": msgs, "tools": TOOLS, "tool_choice": "none", "max_tokens": 2})
    if st != 200:
        fail(f"tool_choice none on a template without tool calls: {st} {text[:200]!r}")
    ok("tool_choice none on a template without tool calls: 200")


def check_choices(base, with_tools):
    """n > 1: n choices of one prompt evaluated once; choice i samples with
    seed + i (equal to a lone request with that seed), greedy choices are
    equal, the prompt counts once in usage, a stream interleaves chunks by
    index and adds up to the whole answer; n outside 1..8 or above the
    slots is a 400."""
    msgs = [{"role": "user", "content": "tell me"}]
    for path, body in ((CHAT, {"messages": msgs}), ("/v1/completions", {"prompt": "once upon"})):
        body = dict(body, max_tokens=16, temperature=1, seed=11)
        st, j, text, _ = req(base, "POST", path, dict(body, n=3))
        if st != 200 or [c["index"] for c in j["choices"]] != [0, 1, 2]:
            fail(f"n=3 {path}: {st} {text[:300]!r}")
        got = [c["message"]["content"] if path == CHAT else c["text"] for c in j["choices"]]
        lone, gen = [], 0
        for i in range(3):
            lj = req(base, "POST", path, dict(body, seed=11 + i))[1]
            lone.append(lj["choices"][0]["message"]["content"] if path == CHAT else lj["choices"][0]["text"])
            gen += lj["usage"]["completion_tokens"]
            prompt = lj["usage"]["prompt_tokens"]
        if got != lone or len(set(got)) < 2:
            fail(f"n=3 {path} at temperature 1: {got} vs lone seeds 11..13 {lone}")
        u = j["usage"]
        if u["prompt_tokens"] != prompt or u["completion_tokens"] != gen or u["total_tokens"] != prompt + gen:
            fail(f"n=3 {path} usage {u}, want prompt {prompt} once and {gen} completion tokens")
        events, done = sse(base, path, dict(body, n=3, stream=True, stream_options={"include_usage": True}))
        parts, order = ["", "", ""], []
        for e in events:
            for c in e["choices"]:
                parts[c["index"]] += (c["delta"].get("content") or "") if path == CHAT else c["text"]
                order.append(c["index"])
        counts = ("prompt_tokens", "completion_tokens", "total_tokens")  # cached_tokens depends on what ran before
        su = events[-1].get("usage") or {}
        if not done or parts != got or [su.get(k) for k in counts] != [u[k] for k in counts] or \
                sorted(set(order)) != [0, 1, 2]:
            fail(f"n=3 {path} streamed {parts} (usage {events[-1].get('usage')}) != {got} ({u})")
        ok(f"n=3 {path}: choice i = a lone request with seed 11+i ({len(set(got))} distinct), usage counts the "
           f"prompt once ({prompt} + {gen}), streamed by index the same")
        st, j, text, _ = req(base, "POST", path, dict(body, n=3, temperature=0))
        greedy = [c["message"]["content"] if path == CHAT else c["text"] for c in j["choices"]]
        one = req(base, "POST", path, dict(body, temperature=0))[1]["choices"][0]
        if st != 200 or len(greedy) != 3 or len(set(greedy)) != 1 or greedy[0] != (one["message"]["content"] if path == CHAT else one["text"]):
            fail(f"n=3 greedy {path}: {greedy}")
        ok(f"n=3 greedy {path}: 3 equal choices, equal to n=1")
    if with_tools == "1":
        st, j, text, _ = req(base, "POST", CHAT, {"messages": msgs, "n": 2, "tools": TOOLS, "tool_choice": "required",
                                                 "max_tokens": 400, "seed": 2})
        if st != 200 or len(j["choices"]) != 2:
            fail(f"n=2 forced calls: {st} {text[:300]!r}")
        for c in j["choices"]:
            if c["finish_reason"] != "tool_calls" or len(c["message"].get("tool_calls") or []) != 1:
                fail(f"n=2 forced calls: {text[:400]!r}")
            valid_call(f"n=2 forced call {c['index']}", c["message"]["tool_calls"][0])
        ok("n=2 with tool_choice required: two calls that validate")
    expect_error(base, CHAT, {"messages": msgs, "n": 9}, 400, "n=9", param="n")
    slots = req(base, "GET", "/v1/models")[1]["data"][0]["meta"]["n_slots"]
    expect_error(base, CHAT, {"messages": msgs, "n": slots + 1}, 400, f"n={slots + 1} on {slots} slots", param="n")
    expect_error(base, CHAT, {"messages": msgs, "best_of": 2}, 400, "best_of=2", param="best_of")


if __name__ == "__main__":
    check, base = sys.argv[1], sys.argv[2]
    globals()["check_" + check](base, *sys.argv[3:])
