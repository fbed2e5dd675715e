/*
 * tools.c — tool calls: the request's `tools` / `tool_choice` /
 * `parallel_tool_calls`, and the text a family's template expects a call
 * in (Hermes' <tool_call>{"name": ..., "arguments": ...}</tool_call>,
 * Llama 3's {"name": ..., "parameters": ...}, Mistral's [TOOL_CALLS][...],
 * Harmony's to=functions.NAME), for the calls the server writes itself:
 * a forced call (tool_choice "required" or named) starts with the opener
 * in the prompt, and a call the model opens in auto mode is completed
 * under the JSON grammar of the tool's `parameters` schema (sched.c), so
 * its arguments always parse and validate, even from random weights.
 */
#include "tools.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const call_syntax HERMES = {"<tool_call>", "<tool_call>\n{\"name\": ", ", \"arguments\": ", "}\n</tool_call>", false};
static const call_syntax LLAMA3 = {NULL, "{\"name\": ", ", \"parameters\": ", "}", false};
static const call_syntax MISTRAL = {"[TOOL_CALLS]", "[TOOL_CALLS][{\"name\": ", ", \"arguments\": ", "}]", false};
static const call_syntax HARMONY = {NULL, "<|channel|>commentary to=functions.", " <|constrain|>json<|message|>",
                                    "<|call|>", true};

const call_syntax *serve_call_syntax(xuan_chat_syntax s) {
    switch (s) {
    case XUAN_CHAT_SYNTAX_HERMES: return &HERMES;
    case XUAN_CHAT_SYNTAX_LLAMA3: return &LLAMA3;
    case XUAN_CHAT_SYNTAX_MISTRAL: return &MISTRAL;
    case XUAN_CHAT_SYNTAX_HARMONY: return &HARMONY;
    case XUAN_CHAT_SYNTAX_PLAIN: break;
    }
    return NULL;
}

static int bad(const char **param, const char *field, xuan_error *err, const char *msg) {
    if (param) *param = field;
    return xuan_fail(err, XUAN_ERR_USAGE, "%s", msg);
}

/* OpenAI's rule for function names: 1-64 of a-z A-Z 0-9 _ - */
static bool good_name(json_t *v) {
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64) return false;
    for (const char *c = json_string_value(v); *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-'))
            return false;
    return true;
}

/* One entry of tools[] into r->tools[i]; the schema is compiled only when
 * the call may be forced (then a schema outside the subset is a 400),
 * else tried (auto: a schema the grammar cannot take leaves the arguments
 * free-form JSON). */
static int tool(json_t *t, size_t i, bool forced, xuan_serve_request *r, const char **param, xuan_error *err) {
    json_t *type = json_object_get(t, "type"), *f = json_object_get(t, "function");
    if (!json_is_object(t) || !json_is_string(type) || strcmp(json_string_value(type), "function") != 0 ||
        !json_is_object(f))
        return bad(param, "tools", err, "'tools' entries must be {\"type\": \"function\", \"function\": {...}}");
    json_t *name = json_object_get(f, "name"), *desc = json_object_get(f, "description");
    json_t *params = json_object_get(f, "parameters"), *strict = json_object_get(f, "strict");
    if (!good_name(name))
        return bad(param, "tools", err, "'tools' function.name must be 1-64 characters of a-z, A-Z, 0-9, _ and -");
    if (desc && !json_is_null(desc) && !json_is_string(desc))
        return bad(param, "tools", err, "'tools' function.description must be a string");
    if (strict && !json_is_null(strict) && !json_is_boolean(strict))
        return bad(param, "tools", err, "'tools' function.strict must be true or false");
    json_t *ptype = json_object_get(params, "type");
    if (params && !json_is_null(params) &&
        (!json_is_object(params) || (ptype && !(json_is_string(ptype) && strcmp(json_string_value(ptype), "object") == 0))))
        return bad(param, "tools", err, "'tools' function.parameters must be a JSON Schema of an object");
    for (size_t k = 0; k < i; k++)
        if (strcmp(r->tools[k].name, json_string_value(name)) == 0)
            return bad(param, "tools", err, "'tools' function names must be unique");
    xuan_serve_tool *out = &r->tools[i];
    out->name = xuan_strdup(json_string_value(name));
    if (!out->name) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    r->n_tools = i + 1;
    xuan_error e = {0};
    if (params && !json_is_null(params)) {
        char *text = json_dumps(params, JSON_COMPACT);
        if (!text) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        out->params = xuan_json_schema_compile(text, strlen(text), &e);
        free(text);
        if (!out->params && (forced || e.code == XUAN_ERR_NOMEM)) {
            if (param) *param = "tools";
            return xuan_fail(err, e.code == XUAN_ERR_NOMEM ? XUAN_ERR_NOMEM : XUAN_ERR_USAGE,
                             "'tools' %s parameters (the call is forced, so its arguments are constrained): %s",
                             json_string_value(name), e.msg);
        }
    }
    if (!out->params) out->params = xuan_json_schema_compile(NULL, 0, err); /* any object */
    return out->params ? 0 : XUAN_ERR_NOMEM;
}

/* tool_choice: "none" | "auto" | "required" | {"type": "function", "function": {"name"}} */
static int choice(json_t *o, xuan_serve_request *r, json_t **named, const char **param, xuan_error *err) {
    json_t *c = json_object_get(o, "tool_choice");
    r->tool_choice = XUAN_SERVE_TOOLS_AUTO;
    if (!c || json_is_null(c)) return 0;
    const char *msg = "'tool_choice' must be \"none\", \"auto\", \"required\" or "
                      "{\"type\": \"function\", \"function\": {\"name\": ...}}";
    if (json_is_string(c)) {
        const char *v = json_string_value(c);
        if (strcmp(v, "none") == 0) r->tool_choice = XUAN_SERVE_TOOLS_NONE;
        else if (strcmp(v, "required") == 0) r->tool_choice = XUAN_SERVE_TOOLS_REQUIRED;
        else if (strcmp(v, "auto") != 0) return bad(param, "tool_choice", err, msg);
        return 0;
    }
    json_t *type = json_object_get(c, "type");
    *named = json_object_get(json_object_get(c, "function"), "name");
    if (!json_is_string(type) || strcmp(json_string_value(type), "function") != 0 || !json_is_string(*named))
        return bad(param, "tool_choice", err, msg);
    r->tool_choice = XUAN_SERVE_TOOLS_NAMED;
    return 0;
}

/* Several tools: the names as a JSON Schema enum, so the model picks one. */
static int names_grammar(xuan_serve_request *r, xuan_error *err) {
    json_t *e = json_array();
    for (size_t i = 0; e && i < r->n_tools; i++)
        if (json_array_append_new(e, json_string(r->tools[i].name))) json_decref(e), e = NULL;
    json_t *schema = e ? json_pack("{s:o}", "enum", e) : NULL;
    char *text = schema ? json_dumps(schema, JSON_COMPACT) : NULL;
    json_decref(schema);
    if (!text) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    r->tool_names = xuan_json_schema_compile(text, strlen(text), err);
    free(text);
    return r->tool_names ? 0 : err->code;
}

int serve_tools_parse(json_t *o, xuan_serve_request *r, const char **param, xuan_error *err) {
    json_t *named = NULL;
    int rc = choice(o, r, &named, param, err);
    if (rc) return rc;
    json_t *ptc = json_object_get(o, "parallel_tool_calls");
    r->parallel_tool_calls = true;
    if (ptc && !json_is_null(ptc)) {
        if (!json_is_boolean(ptc)) return bad(param, "parallel_tool_calls", err, "'parallel_tool_calls' must be true or false");
        r->parallel_tool_calls = json_is_true(ptc);
    }
    json_t *tools = json_object_get(o, "tools");
    size_t n = json_array_size(tools);
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return bad(param, "tools", err, "'tools' must be an array of {\"type\": \"function\", \"function\": {...}}");
    if (n > XUAN_SERVE_MAX_TOOLS) return bad(param, "tools", err, "'tools' holds at most 128 tools");
    if (n == 0) {
        if (r->tool_choice == XUAN_SERVE_TOOLS_REQUIRED || r->tool_choice == XUAN_SERVE_TOOLS_NAMED)
            return bad(param, "tool_choice", err, "'tool_choice' asks for a call but the request has no 'tools'");
        r->tool_choice = XUAN_SERVE_TOOLS_NONE;
        return 0;
    }
    r->tools = xuan_calloc(n, sizeof *r->tools);
    if (!r->tools) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    const bool forced_any = r->tool_choice == XUAN_SERVE_TOOLS_REQUIRED;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tools, i);
        json_t *name = json_object_get(json_object_get(t, "function"), "name");
        bool forced = forced_any || (named && json_is_string(name) && json_equal(name, named));
        if ((rc = tool(t, i, forced, r, param, err))) return rc;
        if (forced && !forced_any) r->tool_named = (uint32_t)i, found = true;
    }
    if (named && !found)
        return bad(param, "tool_choice", err, "'tool_choice' names a function that is not in 'tools'");
    if (n > 1 && (rc = names_grammar(r, err))) return rc;
    if (r->tool_choice != XUAN_SERVE_TOOLS_NONE) {
        r->tools_json = json_dumps(tools, JSON_COMPACT);
        if (!r->tools_json) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- the calls the server writes ------------------------------------------------ */

xuan_chat_syntax serve_output_syntax(const xuan_serve *s, const xuan_serve_request *r) {
    /* without tools an answer is never read as a call (OpenAI's behaviour);
     * harmony's channels still need their parser */
    if (r->tool_choice != XUAN_SERVE_TOOLS_NONE || s->m.syntax == XUAN_CHAT_SYNTAX_HARMONY) return s->m.syntax;
    return XUAN_CHAT_SYNTAX_PLAIN;
}

/* The arguments come next, from `at` in j->text, under tool t's grammar. */
static int start_args(job *j, int t, size_t at, xuan_error *err) {
    j->call_tool = t;
    j->args_at = at;
    j->call = CALL_ARGS;
    xuan_json_state_free(j->call_json);
    j->call_json = xuan_json_state_create(j->req.tools[t].params, err);
    return j->call_json ? 0 : err->code;
}

/* The tool is known: its name and the arguments key into out.  base:
 * where out will start in j->text. */
static int args(job *j, int t, const call_syntax *cs, xuan_buf *out, size_t base, xuan_error *err) {
    const char *name = j->req.tools[t].name; /* [A-Za-z0-9_-]: quoting needs no escapes */
    if (xuan_buf_printf(out, cs->name_bare ? "%s%s" : "\"%s\"%s", name, cs->args))
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    return start_args(j, t, base + out->len, err);
}

/* The opener was written: the name next (several tools to pick from) or
 * the arguments of the one tool it can be. */
static int enter(job *j, const call_syntax *cs, xuan_buf *out, size_t base, xuan_error *err) {
    const xuan_serve_request *r = &j->req;
    int t = r->tool_choice == XUAN_SERVE_TOOLS_NAMED ? (int)r->tool_named : r->n_tools == 1 ? 0 : -1;
    if (t >= 0) return args(j, t, cs, out, base, err);
    j->call = CALL_NAME;
    j->name_at = base + out->len;
    j->call_json = xuan_json_state_create(r->tool_names, err);
    return j->call_json ? 0 : err->code;
}

int serve_call_begin(const xuan_serve *s, job *j, xuan_buf *prompt, const char **param, xuan_error *err) {
    const xuan_serve_request *r = &j->req;
    j->call_tool = -1;
    if (r->tool_choice == XUAN_SERVE_TOOLS_NONE) return 0;
    const call_syntax *cs = serve_call_syntax(s->m.syntax);
    if (!s->m.jinja || !cs) {
        *param = "tools";
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "the model's chat template has no tool calls (output syntax %s): send the request "
                         "without 'tools' or with \"tool_choice\": \"none\"", xuan_chat_syntax_name(s->m.syntax));
    }
    if (r->tool_choice == XUAN_SERVE_TOOLS_AUTO) {
        j->call = cs->trigger ? CALL_WATCH : CALL_OFF;
        return 0;
    }
    if (cs->name_bare && r->tool_choice == XUAN_SERVE_TOOLS_REQUIRED && r->n_tools > 1) {
        *param = "tool_choice";
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "'tool_choice' \"required\" with several tools is not supported for the %s syntax; "
                         "name the function", xuan_chat_syntax_name(s->m.syntax));
    }
    /* the answer starts inside the call: its opener ends the prompt */
    xuan_buf fixed = {0};
    int rc = 0;
    if (j->think_open && xuan_buf_puts(&fixed, "</think>\n\n")) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    j->call_at = fixed.len;
    if (!rc && xuan_buf_puts(&fixed, cs->open)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    if (!rc) rc = enter(j, cs, &fixed, 0, err);
    if (!rc && (xuan_buf_append(prompt, fixed.data, fixed.len) || xuan_buf_append(&j->text, fixed.data, fixed.len)))
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_buf_free(&fixed);
    return rc;
}

/* The fixed text goes into the answer and, tokenized, to the next step. */
static int inject(const xuan_serve *s, job *j, const xuan_buf *fixed, xuan_error *err) {
    if (!fixed->len) return 0;
    if (xuan_buf_append(&j->text, fixed->data, fixed->len)) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_tok_ids_free(&j->forced);
    int rc = xuan_tok_encode(s->m.tok, fixed->data, fixed->len, XUAN_TOK_PARSE_SPECIAL, &j->forced, err);
    XUAN_ASSERT(rc || j->forced.n <= SERVE_MAX_FORCED); /* names are at most 64 characters */
    return rc;
}

int serve_call_advance(const xuan_serve *s, job *j, bool *closed, xuan_error *err) {
    const call_syntax *cs = serve_call_syntax(s->m.syntax);
    *closed = false;
    xuan_buf fixed = {0};
    int rc = 0;
    if (j->call == CALL_WATCH) {
        const size_t tn = strlen(cs->trigger), n = j->text.len;
        const char *hit = n > j->watch_at ? memmem(j->text.data + j->watch_at, n - j->watch_at, cs->trigger, tn) : NULL;
        if (!hit) {
            j->watch_at = n >= tn ? n - tn + 1 : 0;
            return 0;
        }
        /* the model opened a call: the server writes the rest of it (what
         * followed the opener in the same piece is dropped) */
        j->call_at = (size_t)(hit - j->text.data);
        j->text.len = j->call_at + tn;
        if (xuan_buf_puts(&fixed, cs->open + tn)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        if (!rc) rc = enter(j, cs, &fixed, j->text.len, err);
    } else if (j->call == CALL_NAME && xuan_json_done(j->call_json)) {
        json_t *v = json_loadb(j->text.data + j->name_at, j->text.len - j->name_at, JSON_DECODE_ANY, NULL);
        int t = -1;
        for (size_t i = 0; json_is_string(v) && i < j->req.n_tools && t < 0; i++)
            if (strcmp(j->req.tools[i].name, json_string_value(v)) == 0) t = (int)i;
        json_decref(v);
        /* the grammar allowed only the names (a \u escape of one is the same name) */
        if (t < 0) rc = xuan_fail(err, XUAN_ERR_FORMAT, "the tool name the model wrote is not in 'tools'");
        else if (xuan_buf_puts(&fixed, cs->args)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        else rc = start_args(j, t, j->text.len + fixed.len, err);
    } else if (j->call == CALL_ARGS && xuan_json_done(j->call_json)) {
        j->args_end = j->text.len;
        j->call = CALL_DONE;
        *closed = true;
        if (xuan_buf_puts(&j->text, cs->close)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    if (!rc) rc = inject(s, j, &fixed, err);
    xuan_buf_free(&fixed);
    return rc;
}
