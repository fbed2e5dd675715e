#!/usr/bin/env python3
"""Load generator for an OpenAI-compatible server on this machine.

    loadgen.py --url http://127.0.0.1:8080 [-c CLIENTS] [-n REQUESTS]
               [--prompt-tokens P] [--max-tokens M] [--endpoint chat|completions]
               [--limit SECONDS] [--json]

CLIENTS threads each send streaming requests ("stream": true, greedy,
"stream_options": {"include_usage": true}, "ignore_eos": true so every
request generates max_tokens) until REQUESTS requests in all were sent or
the wall-clock limit passed.  Every request has its own prompt (distinct from
its first words, so no two share a cached prefix beyond a few tokens and the
TTFT always includes the prompt's evaluation) of about P tokens: one short English word is about one token for the usual
BPE vocabularies.  Measured per request: time to the first content delta
(TTFT) and the completion tokens the usage chunk reports (a request whose pieces are all
empty text, as random synthetic weights give, has no TTFT: it is counted in
"no_content").  Printed: aggregate
completion tok/s (all tokens / wall time of the whole run), TTFT p50 / p99,
errors.  Loopback only: any other host is refused.

Python's standard library only, so the bench and the tests need nothing
installed; a thread per client is plenty at the rates a CPU server reaches
(the client's own time per token is microseconds).
Exit status: 0 when every request succeeded, 1 when some failed, 2 on bad
arguments or when the server cannot be reached at all.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
WORDS = ("the quick brown fox jumps over a lazy dog while seven small birds sing "
         "near an old stone bridge and green river water runs past red houses").split()


def prompt_for(request, n_tokens):
    """About n_tokens tokens, distinct for each request from the first words."""
    head = f"Request {request} asks:"
    words = [WORDS[(request * 7 + i) % len(WORDS)] for i in range(max(1, n_tokens - 4))]
    return head + " " + " ".join(words)


def percentile(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


class Run:
    def __init__(self, args, host, port, path):
        self.args, self.host, self.port, self.path = args, host, port, path
        self.lock = threading.Lock()
        self.next = 0
        self.results = []  # (ok, ttft_s or None, completion_tokens, error or None)
        self.deadline = time.monotonic() + args.limit

    def take(self):
        with self.lock:
            if self.next >= self.args.requests or time.monotonic() >= self.deadline:
                return None
            self.next += 1
            return self.next - 1

    def body(self, request):
        a = self.args
        b = {"model": a.model, "stream": True, "stream_options": {"include_usage": True},
             "temperature": 0, "top_k": 1, "max_tokens": a.max_tokens, "ignore_eos": a.ignore_eos,
             "seed": 1}
        text = prompt_for(request, a.prompt_tokens)
        if a.endpoint == "chat":
            b["messages"] = [{"role": "user", "content": text}]
        else:
            b["prompt"] = text
        return json.dumps(b).encode()

    def one(self, request):
        """One streamed request: (ok, ttft, tokens, error)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return (False, None, 0, "wall-clock limit reached before the request")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=max(1.0, left))
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.args.api_key:
            headers["Authorization"] = "Bearer " + self.args.api_key
        t0 = time.monotonic()
        ttft, deltas, usage, done = None, 0, None, False
        try:
            conn.request("POST", self.path, body=self.body(request), headers=headers)
            r = conn.getresponse()
            if r.status != 200:
                msg = r.read(4096).decode("utf-8", "replace").strip().replace("\n", " ")
                return (False, None, 0, f"HTTP {r.status}: {msg[:200]}")
            while True:
                if time.monotonic() > self.deadline:
                    return (False, ttft, 0, "wall-clock limit reached mid-stream")
                line = r.readline(1 << 20)
                if not line:
                    break
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue  # blank separators and ": keep-alive" comments
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                try:
                    j = json.loads(data)
                except ValueError:
                    return (False, ttft, 0, f"bad JSON in the stream: {data[:80]!r}")
                if not isinstance(j, dict):
                    return (False, ttft, 0, "a stream event is not an object")
                if j.get("error"):
                    e = j["error"]
                    return (False, ttft, 0, "stream error: " + str(e.get("message", e) if isinstance(e, dict) else e))
                if isinstance(j.get("usage"), dict):
                    usage = j["usage"]
                for c in j.get("choices") or []:
                    piece = (c.get("delta") or {}).get("content") if "delta" in c else c.get("text")
                    if piece:
                        deltas += 1
                        if ttft is None:
                            ttft = time.monotonic() - t0
        except (OSError, http.client.HTTPException) as e:
            return (False, ttft, 0, f"{type(e).__name__}: {e}")
        finally:
            conn.close()
        if not done:
            return (False, ttft, 0, "the stream ended without [DONE]")
        if usage is None or not isinstance(usage.get("completion_tokens"), int):
            return (False, ttft, 0, "no usage chunk with completion_tokens (stream_options.include_usage)")
        return (True, ttft, usage["completion_tokens"], None)

    def client(self, _slot):
        while (request := self.take()) is not None:
            res = self.one(request)
            with self.lock:
                self.results.append(res)


def main():
    ap = argparse.ArgumentParser(description="streaming load on a loopback OpenAI-compatible server")
    ap.add_argument("--url", required=True, help="http://127.0.0.1:PORT (loopback only)")
    ap.add_argument("-c", "--clients", type=int, default=1, help="concurrent streams (default 1)")
    ap.add_argument("-n", "--requests", type=int, help="requests in all (default: one per client)")
    ap.add_argument("--prompt-tokens", type=int, default=64, help="prompt length, roughly (default 64)")
    ap.add_argument("--max-tokens", type=int, default=64, help="max_tokens per request (default 64)")
    ap.add_argument("--endpoint", choices=("chat", "completions"), default="chat")
    ap.add_argument("--limit", type=float, default=300, help="wall-clock limit of the run, s (default 300)")
    ap.add_argument("--model", default="default", help="the request's model field")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--no-ignore-eos", dest="ignore_eos", action="store_false",
                    help="let the model stop at its end-of-text token")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of text")
    a = ap.parse_args()
    if a.requests is None:
        a.requests = a.clients

    def die(msg):
        print(f"loadgen: {msg}", file=sys.stderr)
        sys.exit(2)

    if not 1 <= a.clients <= 1024:
        die("--clients must be 1..1024")
    if not 1 <= a.requests <= 100000:
        die("--requests must be 1..100000")
    if not 1 <= a.prompt_tokens <= 100000 or not 1 <= a.max_tokens <= 100000:
        die("--prompt-tokens and --max-tokens must be 1..100000")
    if not 0 < a.limit <= 86400:
        die("--limit must be in (0, 86400] seconds")
    u = urllib.parse.urlsplit(a.url)
    if u.scheme != "http" or not u.hostname:
        die(f"'{a.url}': expected http://127.0.0.1:PORT")
    if u.hostname not in LOOPBACK:
        die(f"'{u.hostname}' is not a loopback address: this tool only loads 127.0.0.1 / ::1")
    try:
        port = u.port or 80
    except ValueError:
        die(f"'{a.url}': bad port")
    base = u.path.rstrip("/")
    if base.endswith("/v1"):
        base = base[:-3]
    path = base + ("/v1/chat/completions" if a.endpoint == "chat" else "/v1/completions")

    # Reachable at all?  A clear error instead of N identical ones.
    try:
        c = http.client.HTTPConnection(u.hostname, port, timeout=5)
        c.connect()
        c.close()
    except OSError as e:
        die(f"cannot connect to {u.hostname}:{port}: {e.strerror or e}")

    run = Run(a, u.hostname, port, path)
    t0 = time.monotonic()
    threads = [threading.Thread(target=run.client, args=(k,), daemon=True) for k in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, run.deadline - time.monotonic()) + 5)
    wall = time.monotonic() - t0
    with run.lock:
        results = list(run.results)
    ok = [r for r in results if r[0]]
    errs = [r[3] for r in results if not r[0]]
    hung = sum(t.is_alive() for t in threads)
    if hung:
        errs.append(f"{hung} client(s) still running past the limit")
    tokens = sum(r[2] for r in ok)
    ttfts = [r[1] for r in ok if r[1] is not None]
    # a request whose tokens all render as empty text (random synthetic
    # weights do that) has no content delta, so no TTFT: counted, not failed
    no_content = sum(1 for r in ok if r[1] is None and r[2] > 0)
    out = {
        "url": a.url, "endpoint": a.endpoint, "clients": a.clients, "prompt_tokens": a.prompt_tokens,
        "max_tokens": a.max_tokens, "requests": len(results), "ok": len(ok), "errors": len(errs),
        "completion_tokens": tokens, "wall_s": round(wall, 4),
        "tok_s": round(tokens / wall, 3) if wall > 0 else 0.0,
        "ttft_p50_ms": None if not ttfts else round(percentile(ttfts, 50) * 1000, 2),
        "ttft_p99_ms": None if not ttfts else round(percentile(ttfts, 99) * 1000, 2),
        "no_content": no_content,
        "error_messages": sorted(set(errs))[:10],
    }
    if a.json:
        print(json.dumps(out))
    else:
        f = lambda v: "-" if v is None else f"{v:.1f}"
        print(f"{out['ok']}/{out['requests']} requests ok, {out['errors']} errors, {tokens} completion tokens "
              f"in {wall:.2f} s: {out['tok_s']:.2f} tok/s; TTFT p50 {f(out['ttft_p50_ms'])} ms, "
              f"p99 {f(out['ttft_p99_ms'])} ms")
        if no_content:
            print(f"  note: {no_content} request(s) streamed no content (empty text pieces): no TTFT for them")
        for m in out["error_messages"]:
            print(f"  error: {m}")
    sys.exit(0 if not errs and ok else 1)


if __name__ == "__main__":
    main()
