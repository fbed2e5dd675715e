#!/usr/bin/env python3
"""A deterministic OpenAI-compatible server for `xuan eval` tests (127.0.0.1 only, stops by itself).

    python3 tests/fake_openai.py PORTFILE RULES.jsonl [LIFETIME_S]

Answers POST /v1/chat/completions (the last user message) and /v1/completions (`prompt`) from RULES,
one JSON object a line, tried in order; the first whose `match` is a substring of the prompt wins:
  {"match": "Janet's ducks", "reply": "... #### 18"}
  {"match": "...", "status": 500, "times": 2}   the first 2 matching requests get HTTP 500, later
                                                 ones are answered by the next matching rule
  {"match": "...", "status": 429, "times": 1, "retry_after": 0.1}
  {"match": "...", "garbage": true}    a body that is no JSON        {"match": "...", "delay": 3}
  {"match": "...", "no_content": true} a reply without choices[0].message.content
  {"match": "...", "choice": "B"}      /v1/completions with echo + logprobs (log-likelihood requests):
                                       the prompt is split into tokens (each word with the blanks before
                                       it), every token gets logprob -1 (the first null), the last one
                                       -0.5 when it is " B" and -3 otherwise; text_offset in characters
  {"match": "...", "bad_logprobs": true}  echo without the logprobs object
  {"match": "...", "replies": ["a", "b"]}  the reply for the request's seed, modulo the list
No rule matches: the reply is "I do not know.".  GET /v1/models lists one model, $FAKE_OPENAI_MODEL
(default "fake").  GET /count gives the number of POSTs so far; every
POST is also logged to PORTFILE.log (one line: path and the rule's index or -1).  Writes the port to
PORTFILE once it listens.
"""
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import time

PORTFILE, RULES_FILE = sys.argv[1], sys.argv[2]
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
RULES = [json.loads(l) for l in open(RULES_FILE, encoding="utf-8") if l.strip()]
LOCK = threading.Lock()
COUNT = 0
USED = [0] * len(RULES)
LOG = open(PORTFILE + ".log", "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, extra=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/count":
            self.send(200, {"count": COUNT})
        elif self.path == "/v1/models":
            self.send(200, {"object": "list", "data": [{"id": os.environ.get("FAKE_OPENAI_MODEL", "fake"),
                                                        "object": "model"}]})
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        global COUNT
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            req = json.loads(raw)
        except ValueError:
            self.send(400, {"error": "bad json"})
            return
        chat = self.path.endswith("/chat/completions")
        if chat:
            prompt = [m["content"] for m in req.get("messages", []) if m.get("role") == "user"][-1]
        else:
            prompt = req.get("prompt", "")
        with LOCK:
            COUNT += 1
            hit, rule, fail = -1, {}, False
            for i, r in enumerate(RULES):
                if r.get("match", "") not in prompt:
                    continue
                if "status" in r:  # a failing rule: used up, it lets the later rules answer
                    USED[i] += 1
                    if USED[i] > r.get("times", 1 << 30):
                        continue
                    fail = True
                hit, rule = i, r
                break
            LOG.write("%s %d%s\n" % (self.path, hit, " fail" if fail else ""))
        if rule.get("delay"):
            time.sleep(rule["delay"])
        if fail:
            extra = {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else None
            self.send(rule["status"], {"error": {"message": "injected %d" % rule["status"]}}, extra)
            return
        if rule.get("garbage"):
            self.send(200, b"<html>this is not JSON</html>")
            return
        text = rule.get("reply", "I do not know.")
        if "replies" in rule:  # one per seed: samples of one prompt differ
            text = rule["replies"][int(req.get("seed", 0)) % len(rule["replies"])]
        if not chat and req.get("echo"):
            if rule.get("bad_logprobs"):
                self.send(200, {"choices": [{"index": 0, "text": prompt}]})
                return
            toks = re.findall(r"\s*\S+", prompt)
            offs, at = [], 0
            for t in toks:
                offs.append(at)
                at += len(t)
            lps = [None] + [-1.0] * (len(toks) - 1)
            lps[-1] = -0.5 if toks[-1].strip() == rule.get("choice") else -3.0
            choice = {"index": 0, "text": prompt, "finish_reason": "length",
                      "logprobs": {"tokens": toks, "token_logprobs": lps, "text_offset": offs,
                                   "top_logprobs": None}}
            self.send(200, {"id": "fake-%d" % COUNT, "object": "text_completion", "choices": [choice],
                            "usage": {"prompt_tokens": len(toks), "completion_tokens": 0}})
            return
        if chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if rule.get("no_content"):
                choice = {"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "finish_reason": "stop"}
            obj = "text_completion"
        self.send(200, {"id": "fake-%d" % COUNT, "object": obj, "model": req.get("model", "fake"),
                        "choices": [choice],
                        "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split())}})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the SIGKILL test) is expected


srv = Server(("127.0.0.1", 0), Handler)
threading.Timer(LIFETIME, lambda: threading.Thread(target=srv.shutdown).start()).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
