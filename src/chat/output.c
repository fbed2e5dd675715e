/*
 * output.c — a model's answer taken apart as its template family writes
 * it: reasoning (<think>...</think>, harmony's analysis channel), the answer,
 * and tool calls in OpenAI's shape
 *
 *     [{"id": "call_0", "type": "function",
 *       "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
 *
 * (arguments is JSON *text*, as the OpenAI API sends it).  Anything that
 * does not parse as a tool call stays in the content, as the model wrote it.
 */
#include "xuan/chat.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

xuan_chat_syntax xuan_chat_syntax_detect(const char *tmpl, size_t n) {
    struct { const char *marker; xuan_chat_syntax s; } rules[] = {
        {"<|channel|>", XUAN_CHAT_SYNTAX_HARMONY}, {"<tool_call>", XUAN_CHAT_SYNTAX_HERMES},
        {"[TOOL_CALLS]", XUAN_CHAT_SYNTAX_MISTRAL}, {"<|python_tag|>", XUAN_CHAT_SYNTAX_LLAMA3},
    };
    if (!tmpl) return XUAN_CHAT_SYNTAX_PLAIN;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (memmem(tmpl, n, rules[i].marker, strlen(rules[i].marker))) return rules[i].s;
    if (memmem(tmpl, n, "<|start_header_id|>", 19) && memmem(tmpl, n, "\"parameters\"", 12))
        return XUAN_CHAT_SYNTAX_LLAMA3;
    return XUAN_CHAT_SYNTAX_PLAIN;
}

const char *xuan_chat_syntax_name(xuan_chat_syntax s) {
    switch (s) {
    case XUAN_CHAT_SYNTAX_PLAIN: return "plain";
    case XUAN_CHAT_SYNTAX_HERMES: return "hermes";
    case XUAN_CHAT_SYNTAX_LLAMA3: return "llama3";
    case XUAN_CHAT_SYNTAX_MISTRAL: return "mistral";
    case XUAN_CHAT_SYNTAX_HARMONY: return "harmony";
    }
    return "plain";
}

void xuan_chat_parsed_free(xuan_chat_parsed *p) {
    if (!p) return;
    xuan_free(p->content);
    xuan_free(p->reasoning);
    xuan_free(p->tool_calls_json);
    memset(p, 0, sizeof *p);
}

typedef struct span {
    const char *p;
    size_t n;
} span;

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static span rtrim(span s) {
    while (s.n && is_space(s.p[s.n - 1])) s.n--;
    return s;
}

static span ltrim(span s) {
    while (s.n && is_space(s.p[0])) s.p++, s.n--;
    return s;
}

static span trim(span s) { return ltrim(rtrim(s)); }

static const char *find(span s, const char *pat) { return memmem(s.p, s.n, pat, strlen(pat)); }

typedef struct parse_state {
    xuan_buf content, reasoning;
    bool has_reasoning;
    json_t *calls;
    bool nomem;
} parse_state;

static void put(parse_state *st, xuan_buf *b, span s) {
    if (s.n && xuan_buf_append(b, s.p, s.n)) st->nomem = true;
}

/* One call: name and arguments (a JSON value, or text) -> the calls array. */
/* Text a model wrote that can be a JSON string: UTF-8 without NUL. */
static bool json_text_ok(const char *p, size_t n) { return !memchr(p, 0, n) && xuan_utf8_valid((const uint8_t *)p, n); }

static bool add_call(parse_state *st, const char *name, size_t name_n, json_t *args, span args_text) {
    /* anything else is not a call: it stays in the content as written */
    if (!name || !name_n || !json_text_ok(name, name_n)) return false;
    if (!args && !json_text_ok(args_text.p, args_text.n)) return false;
    char *text = NULL;
    if (args) {
        if (json_is_string(args)) text = xuan_strndup(json_string_value(args), json_string_length(args));
        else {
            char *d = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
            text = d ? xuan_strdup(d) : NULL;
            free(d);
        }
    } else {
        span a = trim(args_text);
        text = xuan_strndup(a.n ? a.p : "{}", a.n ? a.n : 2);
    }
    if (!text) {
        st->nomem = true;
        return false;
    }
    char id[32];
    snprintf(id, sizeof id, "call_%zu", json_array_size(st->calls));
    json_t *call = json_pack("{s:s, s:s, s:{s:s%, s:s}}", "id", id, "type", "function", "function", "name", name,
                             name_n, "arguments", text);
    xuan_free(text);
    if (!call || json_array_append_new(st->calls, call)) {
        st->nomem = true;
        return false;
    }
    return true;
}

/* {"name": ..., "arguments"|"parameters": ...} */
static bool add_call_json(parse_state *st, span s) {
    s = trim(s);
    json_t *j = json_loadb(s.p, s.n, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return false;
    }
    json_t *name = json_object_get(j, "name");
    json_t *args = json_object_get(j, "arguments");
    if (!args) args = json_object_get(j, "parameters");
    bool ok = json_is_string(name) &&
              add_call(st, json_string_value(name), json_string_length(name), args, args ? s : (span){"{}", 2});
    json_decref(j);
    return ok;
}

/* <think>...</think> at the start (or a bare ...</think> when the prompt
 * opened the block); returns what follows. */
static span split_think(parse_state *st, span s) {
    span t = s;
    while (t.n && is_space(t.p[0])) t.p++, t.n--;
    bool open = t.n >= 7 && memcmp(t.p, "<think>", 7) == 0;
    const char *close = find(s, "</think>");
    if (!close && !open) return s;
    span body = open ? (span){t.p + 7, t.n - 7} : s;
    if (close && close >= body.p) {
        put(st, &st->reasoning, trim((span){body.p, (size_t)(close - body.p)}));
        st->has_reasoning = true;
        /* the answer starts after the blank line that follows the block */
        return ltrim((span){close + 8, (size_t)(s.p + s.n - close - 8)});
    }
    /* an unterminated block: everything is reasoning */
    put(st, &st->reasoning, trim(body));
    st->has_reasoning = true;
    return (span){s.p + s.n, 0};
}

static void parse_hermes(parse_state *st, span s) {
    for (;;) {
        const char *o = find(s, "<tool_call>");
        const char *c = o ? find((span){o, (size_t)(s.p + s.n - o)}, "</tool_call>") : NULL;
        if (!o || !c) break;
        span inner = {o + 11, (size_t)(c - (o + 11))};
        span before = {s.p, (size_t)(o - s.p)};
        /* the whitespace that set a call apart goes with it */
        bool call = add_call_json(st, inner);
        if (call) put(st, &st->content, rtrim(before));
        else put(st, &st->content, (span){s.p, (size_t)(c + 12 - s.p)});
        s = (span){c + 12, (size_t)(s.p + s.n - (c + 12))};
        if (call) s = ltrim(s);
    }
    put(st, &st->content, s);
}

static void parse_llama3(parse_state *st, span s) {
    span t = trim(s);
    if (t.n >= 14 && memcmp(t.p, "<|python_tag|>", 14) == 0) t = trim((span){t.p + 14, t.n - 14});
    if (t.n && t.p[0] == '{') {
        /* one call, or several separated by ';' */
        size_t before = json_array_size(st->calls);
        if (add_call_json(st, t)) return;
        span rest = t;
        while (rest.n) {
            const char *semi = memchr(rest.p, ';', rest.n);
            span one = {rest.p, semi ? (size_t)(semi - rest.p) : rest.n};
            if (!add_call_json(st, one)) {
                json_array_clear(st->calls);
                (void)before;
                put(st, &st->content, s);
                return;
            }
            rest = semi ? (span){semi + 1, (size_t)(rest.p + rest.n - semi - 1)} : (span){rest.p + rest.n, 0};
        }
        return;
    }
    put(st, &st->content, s);
}

static void parse_mistral(parse_state *st, span s) {
    const char *m = find(s, "[TOOL_CALLS]");
    if (!m) {
        put(st, &st->content, s);
        return;
    }
    span before = {s.p, (size_t)(m - s.p)};
    span rest = trim((span){m + 12, (size_t)(s.p + s.n - m - 12)});
    bool ok = false;
    if (rest.n && rest.p[0] == '[') {
        /* v0.3: [TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...] */
        json_t *j = json_loadb(rest.p, rest.n, JSON_DISABLE_EOF_CHECK, NULL);
        if (json_is_array(j) && json_array_size(j)) {
            ok = true;
            size_t i;
            json_t *x;
            json_array_foreach(j, i, x) {
                json_t *name = json_object_get(x, "name"), *args = json_object_get(x, "arguments");
                if (!json_is_string(name) || !add_call(st, json_string_value(name), json_string_length(name), args,
                                                       args ? rest : (span){"{}", 2})) {
                    ok = false;
                    break;
                }
            }
        }
        json_decref(j);
    } else {
        /* newer: [TOOL_CALLS]name[ARGS]{...}[TOOL_CALLS]name2[ARGS]{...} */
        span r = rest;
        ok = r.n > 0;
        while (ok && r.n) {
            const char *a = find(r, "[ARGS]");
            if (!a) {
                ok = false;
                break;
            }
            span name = trim((span){r.p, (size_t)(a - r.p)});
            span after = {a + 6, (size_t)(r.p + r.n - a - 6)};
            const char *next = find(after, "[TOOL_CALLS]");
            span args = {after.p, next ? (size_t)(next - after.p) : after.n};
            json_t *j = json_loadb(trim(args).p, trim(args).n, 0, NULL);
            ok = j && add_call(st, name.p, name.n, j, args);
            json_decref(j);
            r = next ? (span){next + 12, (size_t)(r.p + r.n - next - 12)} : (span){r.p + r.n, 0};
        }
    }
    if (ok) {
        put(st, &st->content, rtrim(before));
    } else {
        json_array_clear(st->calls);
        put(st, &st->content, s);
    }
}

/* gpt-oss: <|channel|>analysis<|message|>...<|end|><|start|>assistant
 * <|channel|>final<|message|>...<|return|>; a call is a message whose
 * header says to=functions.NAME, ending in <|call|>. */
static void parse_harmony(parse_state *st, span s) {
    static const char *const ends[] = {"<|end|>", "<|return|>", "<|call|>", "<|start|>"};
    span r = s;
    bool any = false;
    while (r.n) {
        const char *m = find(r, "<|message|>");
        if (!m) break;
        span header = {r.p, (size_t)(m - r.p)};
        span body = {m + 11, (size_t)(r.p + r.n - m - 11)};
        const char *end = NULL;
        size_t end_n = 0;
        for (size_t i = 0; i < 4; i++) {
            const char *e = find(body, ends[i]);
            if (e && (!end || e < end)) end = e, end_n = strlen(ends[i]);
        }
        span text = {body.p, end ? (size_t)(end - body.p) : body.n};
        const char *to = find(header, "to=functions.");
        const char *ch = find(header, "<|channel|>");
        span channel = {0, 0};
        if (ch) {
            channel.p = ch + 11;
            channel.n = 0;
            while (channel.p + channel.n < header.p + header.n && !is_space(channel.p[channel.n]) &&
                   channel.p[channel.n] != '<')
                channel.n++;
        }
        if (to) {
            const char *np = to + 13;
            size_t nn = 0;
            while (np + nn < header.p + header.n && !is_space(np[nn]) && np[nn] != '<') nn++;
            if (!add_call(st, np, nn, NULL, text)) put(st, &st->content, text); /* not a call: text */
        } else if (channel.n == 8 && memcmp(channel.p, "analysis", 8) == 0) {
            if (st->reasoning.len) put(st, &st->reasoning, (span){"\n", 1});
            put(st, &st->reasoning, trim(text));
            st->has_reasoning = true;
        } else {
            put(st, &st->content, text);
        }
        any = true;
        r = end ? (span){end + end_n, (size_t)(r.p + r.n - end - end_n)} : (span){r.p + r.n, 0};
    }
    if (!any) put(st, &st->content, s);
}

int xuan_chat_parse_output(xuan_chat_syntax syn, const char *text, size_t n, xuan_chat_parsed *out,
                           xuan_error *err) {
    memset(out, 0, sizeof *out);
    parse_state st = {0};
    st.calls = json_array();
    if (!st.calls) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    span s = {text ? text : "", text ? n : 0};
    if (syn == XUAN_CHAT_SYNTAX_HARMONY) {
        parse_harmony(&st, s);
    } else {
        s = split_think(&st, s);
        if (syn == XUAN_CHAT_SYNTAX_HERMES) parse_hermes(&st, s);
        else if (syn == XUAN_CHAT_SYNTAX_LLAMA3) parse_llama3(&st, s);
        else if (syn == XUAN_CHAT_SYNTAX_MISTRAL) parse_mistral(&st, s);
        else put(&st, &st.content, s);
    }
    /* not trimmed: the content is what the model wrote, as a stream sends it */
    out->content = xuan_strndup(st.content.data ? st.content.data : "", st.content.len);
    if (st.has_reasoning) out->reasoning = xuan_strndup(st.reasoning.data ? st.reasoning.data : "", st.reasoning.len);
    out->n_tool_calls = json_array_size(st.calls);
    if (out->n_tool_calls) {
        char *d = json_dumps(st.calls, JSON_COMPACT);
        out->tool_calls_json = d ? xuan_strdup(d) : NULL;
        free(d);
        if (!out->tool_calls_json) st.nomem = true;
    }
    json_decref(st.calls);
    xuan_buf_free(&st.content);
    xuan_buf_free(&st.reasoning);
    if (st.nomem || !out->content || (st.has_reasoning && !out->reasoning)) {
        xuan_chat_parsed_free(out);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory parsing a model's output");
    }
    return 0;
}
