#!/usr/bin/env python3
"""response_format against a random-weight model (tests/cli_serve_json.sh):
every constrained answer, streamed or not, chat or completion, parses and
validates against its schema (tests/schema_subset.py);
the same requests without the constraint do not give JSON; bad schemas are
400s naming the keyword and its pointer; max_tokens still cuts ("length")."""
import json, os, sys, urllib.request, urllib.error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schema_subset import validate  # noqa: E402

base = sys.argv[1]
failed = False


def fail(msg):
    global failed
    failed = True
    print("FAIL:", msg)


def post(path, body):
    r = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=120) as f:
            return f.status, f.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def answer(path, body):
    """(text, finish_reason) of a request, streamed or not."""
    st, text = post(path, body)
    if st != 200:
        fail(f"status {st}: {text[:300]}")
        return "", None
    chat = path.endswith("chat/completions")
    if not body.get("stream"):
        c = json.loads(text)["choices"][0]
        return (c["message"]["content"] or "") if chat else c["text"], c["finish_reason"]
    out, finish = "", None
    for line in text.split("\n"):
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        for c in ev.get("choices", []):
            out += (c.get("delta", {}).get("content") or "") if chat else c.get("text", "")
            finish = c.get("finish_reason") or finish
    return out, finish



schema = {
    "$defs": {"pt": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "number"}], "items": False,
                     "minItems": 2}},
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 12},
        "age": {"type": "integer"},
        "kind": {"enum": ["cat", "dog", "caterpillar", 3, None]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3},
        "at": {"$ref": "#/$defs/pt"},
        "ok": {"type": ["boolean", "null"]},
        "v": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "object", "properties": {"x": {"const": 1}},
                                                              "required": ["x"], "additionalProperties": False}]},
    },
    "required": ["name", "age", "kind", "at"],
    "additionalProperties": False,
}
rf_schema = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}
msgs = [{"role": "user", "content": "Describe a pet as JSON."}]
n_ok = 0
for i in range(24):
    chat = i % 2 == 0
    path = "/v1/chat/completions" if chat else "/v1/completions"
    body = {"temperature": 1.0, "seed": 1000 + i, "max_tokens": 400, "stream": i % 4 >= 2,
            "response_format": rf_schema if i % 3 else {"type": "json_object"}}
    body.update({"messages": msgs} if chat else {"prompt": "A pet as JSON:"})
    text, finish = answer(path, body)
    if finish == "length":
        continue  # a random model may run out of tokens inside a string; counted below
    try:
        v = json.loads(text)
        if i % 3:
            validate(schema, v, schema)
        elif not isinstance(v, dict):
            raise ValueError("not an object")
        if finish != "stop":
            raise ValueError(f"finish_reason {finish!r}")
        n_ok += 1
        if i < 3:
            print(f"  e.g. {text[:160]!r}")
    except ValueError as e:
        fail(f"request {i} ({path}, stream {body['stream']}): {e}: {text[:200]!r}")
if n_ok < 20:
    fail(f"only {n_ok} of 24 constrained answers were complete")
else:
    print(f"ok: {n_ok} of 24 constrained answers (temperature 1, random weights) parse and validate")

# the same model without the constraint: not JSON (the mask did the work)
n_json = 0
for i in range(8):
    text, _ = answer("/v1/completions", {"prompt": "A pet as JSON:", "temperature": 1.0, "seed": 1000 + i,
                                         "max_tokens": 60})
    try:
        json.loads(text)
        n_json += 1
    except ValueError:
        pass
if n_json > 1:
    fail(f"{n_json} of 8 unconstrained answers parsed as JSON: the test proves nothing")
else:
    print(f"ok: unconstrained, {8 - n_json} of 8 answers are not JSON")

# max_tokens cuts a value: "length"
text, finish = answer("/v1/completions", {"prompt": "x", "max_tokens": 3, "temperature": 1.0, "seed": 7,
                                          "response_format": rf_schema})
if finish != "length" or not (text.lstrip() == "" or text.lstrip().startswith("{")):
    fail(f"max_tokens 3: finish {finish!r}, text {text!r}")
else:
    print(f"ok: max_tokens 3 ends with \"length\": {text!r}")

# bad schemas: OpenAI-shaped 400s naming the problem
bad = [
    ({"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {
        "a": {"type": "string", "pattern": "^a+$"}}}}}, "unsupported keyword 'pattern' at /properties/a"),
    ({"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "string", "minimum": 3}}},
     "unsupported keyword 'minimum'"),
    ({"type": "json_schema", "json_schema": {"name": "p"}}, "needs a 'schema'"),
    ({"type": "json_schema"}, "needs a 'json_schema'"),
    ({"type": "xml"}, "not one of text"),
    ({"type": "json_schema", "json_schema": {"schema": {"$ref": "#/$defs/missing"}}}, "local reference"),
]
for rf, needle in bad:
    st, text = post("/v1/chat/completions", {"messages": msgs, "response_format": rf})
    try:
        e = json.loads(text)["error"]
    except (ValueError, KeyError):
        e = {}
    if st != 400 or e.get("param") != "response_format" or needle not in e.get("message", ""):
        fail(f"bad schema {needle!r}: {st} {text[:300]}")
    else:
        print(f"ok: 400 {e['message'][:100]}")
st, text = post("/v1/chat/completions", {"messages": msgs, "max_tokens": 4, "response_format": {"type": "text"}})
if st != 200:
    fail(f"response_format text: {st}")
sys.exit(1 if failed else 0)
