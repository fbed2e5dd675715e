#!/usr/bin/env python3
"""n choices in one request vs the same number of separate requests.

    python3 bench/choices.py --url http://127.0.0.1:8080 [-n 4] [--prompt-tokens 400] [--max-tokens 64]
        [--rounds 3] [--api-key K]

Each round sends one /v1/completions request with n choices, then n
requests with n = 1 at once (threads), all with the same prompt of about
--prompt-tokens words (a fresh one per round, so no prompt cache helps
either side), temperature 1, ignore_eos (every choice generates
--max-tokens).  Prints per side: wall time, completion tokens, tok/s
(completion tokens / wall) and the prompt tokens the server evaluated
(usage prompt_tokens - cached_tokens, summed), the median over rounds.
Standard library only; loopback only.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse


def post(url, key, body):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    c.request("POST", "/v1/completions", json.dumps(body), h)
    r = c.getresponse()
    j = json.loads(r.read())
    c.close()
    if r.status != 200:
        sys.exit(f"choices: HTTP {r.status}: {j}")
    return j


def evaluated(j):
    u = j["usage"]
    return u["prompt_tokens"] - u.get("prompt_tokens_details", {}).get("cached_tokens", 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("-n", type=int, default=4)
    ap.add_argument("--prompt-tokens", type=int, default=400)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--api-key")
    a = ap.parse_args()
    if urllib.parse.urlparse(a.url).hostname not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("choices: only loopback URLs")
    res = {"n": [], "separate": []}
    for rnd in range(a.rounds):
        words = " ".join(f"w{rnd}x{i}" for i in range(a.prompt_tokens // 3))
        body = {"prompt": words, "max_tokens": a.max_tokens, "temperature": 1, "seed": rnd, "ignore_eos": True}
        t0 = time.time()
        j = post(a.url, a.api_key, dict(body, n=a.n))
        res["n"].append((time.time() - t0, j["usage"]["completion_tokens"], evaluated(j)))
        body["prompt"] = " ".join(f"s{rnd}x{i}" for i in range(a.prompt_tokens // 3))  # no prefix of the one above
        out = [None] * a.n

        def one(i):
            out[i] = post(a.url, a.api_key, dict(body, seed=rnd * 100 + i))

        ts = [threading.Thread(target=one, args=(i,)) for i in range(a.n)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        res["separate"].append((time.time() - t0, sum(o["usage"]["completion_tokens"] for o in out),
                                sum(evaluated(o) for o in out)))
    for side, rows in res.items():
        wall = statistics.median(r[0] for r in rows)
        tok = statistics.median(r[1] for r in rows)
        ev = statistics.median(r[2] for r in rows)
        label = f"n={a.n} in one request" if side == "n" else f"{a.n} separate requests"
        print(f"{label:>24}: {wall:6.2f} s, {tok} tokens, {tok / wall:7.1f} tok/s, {ev} prompt tokens evaluated")


if __name__ == "__main__":
    main()
