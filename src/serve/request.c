/*
 * request.c — an OpenAI request body turned into a xuan_serve_request:
 * every field type-checked and range-checked, with the field's name in the
 * error (the HTTP layer puts it in error.param).  Pure: no model, no
 * globals, so the fuzz target and the unit test call it directly.
 *
 * Defaults are OpenAI's (temperature 1, top_p 1), not llama.cpp's; the
 * llama.cpp extras top_k, min_p and repeat_penalty are off unless given.
 */
#include "xuan/serve.h"

#include "response_format.h"
#include "tools.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void xuan_serve_request_free(xuan_serve_request *r) {
    if (!r) return;
    free(r->messages_json);
    free(r->kwargs_json);
    xuan_free(r->prompt);
    xuan_free(r->prompt_ids);
    for (size_t i = 0; i < r->n_stops; i++) xuan_free(r->stops[i]);
    xuan_free(r->bias);
    xuan_json_schema_free(r->json);
    free(r->tools_json);
    for (size_t i = 0; i < r->n_tools; i++) {
        xuan_free(r->tools[i].name);
        xuan_json_schema_free(r->tools[i].params);
    }
    xuan_free(r->tools);
    xuan_json_schema_free(r->tool_names);
    memset(r, 0, sizeof *r);
}

typedef struct parse {
    xuan_error *err;
    const char **bad;
} parse;

static int bad(parse *p, const char *field, const char *fmt, const char *what) {
    if (p->bad) *p->bad = field;
    return xuan_fail(p->err, XUAN_ERR_USAGE, fmt, field, what);
}

/* A number field in [lo, hi]; absent or null leaves *out alone. */
static int num(parse *p, json_t *o, const char *field, double lo, double hi, float *out) {
    json_t *v = json_object_get(o, field);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return bad(p, field, "'%s' must be a number%s", "");
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi)) {
        char range[96];
        snprintf(range, sizeof range, " in [%g, %g], got %g", lo, hi, d);
        return bad(p, field, "'%s' must be a number%s", range);
    }
    *out = (float)d;
    return 0;
}

static int integer(parse *p, json_t *o, const char *field, int64_t lo, int64_t hi, int64_t *out, bool *given) {
    json_t *v = json_object_get(o, field);
    if (given) *given = false;
    if (!v || json_is_null(v)) return 0;
    /* 5.0 is accepted as 5 (JavaScript clients cannot tell them apart). */
    double d = json_is_integer(v) ? (double)json_integer_value(v) : json_is_real(v) ? json_real_value(v) : NAN;
    if (!json_is_number(v) || d != floor(d)) return bad(p, field, "'%s' must be an integer%s", "");
    if (d < (double)lo || d > (double)hi) {
        char range[96];
        snprintf(range, sizeof range, " in [%lld, %lld], got %.0f", (long long)lo, (long long)hi, d);
        return bad(p, field, "'%s' must be an integer%s", range);
    }
    *out = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)d;
    if (given) *given = true;
    return 0;
}

static int boolean(parse *p, json_t *o, const char *field, bool *out) {
    json_t *v = json_object_get(o, field);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return bad(p, field, "'%s' must be true or false%s", "");
    *out = json_is_true(v);
    return 0;
}

static int stops(parse *p, json_t *o, xuan_serve_request *r) {
    json_t *v = json_object_get(o, "stop");
    if (!v || json_is_null(v)) return 0;
    json_t *one[1] = {v};
    size_t n = 1;
    if (json_is_array(v)) n = json_array_size(v);
    if (n > XUAN_SERVE_MAX_STOPS) return bad(p, "stop", "'%s' holds at most 16 strings%s", "");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(v) ? json_array_get(v, i) : one[0];
        if (!json_is_string(s)) return bad(p, "stop", "'%s' must be a string or an array of strings%s", "");
        if (json_string_length(s) == 0) return bad(p, "stop", "'%s' strings must not be empty%s", "");
        r->stops[r->n_stops] = xuan_strndup(json_string_value(s), json_string_length(s));
        if (!r->stops[r->n_stops]) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
        r->n_stops++;
    }
    return 0;
}

static int logit_bias(parse *p, json_t *o, xuan_serve_request *r) {
    json_t *v = json_object_get(o, "logit_bias");
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v)) return bad(p, "logit_bias", "'%s' must be an object of token id -> bias%s", "");
    size_t n = json_object_size(v);
    if (n > XUAN_SERVE_MAX_BIAS) return bad(p, "logit_bias", "'%s' holds at most 1024 entries%s", "");
    r->bias = xuan_calloc(n ? n : 1, sizeof *r->bias);
    if (!r->bias) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        int64_t id;
        if (xuan_parse_i64(key, 0, INT32_MAX, &id) != 0)
            return bad(p, "logit_bias", "'%s' keys must be token ids%s", "");
        if (!json_is_number(val) || !(json_number_value(val) >= -100 && json_number_value(val) <= 100))
            return bad(p, "logit_bias", "'%s' values must be numbers in [-100, 100]%s", "");
        r->bias[r->n_bias++] = (xuan_serve_bias){(int32_t)id, (float)json_number_value(val)};
    }
    return 0;
}

/* The completion prompt: a string, an array of one string, or token ids. */
static int prompt(parse *p, json_t *o, xuan_serve_request *r) {
    json_t *v = json_object_get(o, "prompt");
    if (json_is_array(v) && json_array_size(v) == 1 && json_is_string(json_array_get(v, 0)))
        v = json_array_get(v, 0);
    if (json_is_string(v)) {
        r->prompt_len = json_string_length(v);
        r->prompt = xuan_strndup(json_string_value(v), r->prompt_len);
        return r->prompt ? 0 : xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(p, "prompt", "'%s' must be a string or a non-empty array of token ids%s", "");
    size_t n = json_array_size(v);
    r->prompt_ids = xuan_alloc_array(n, sizeof *r->prompt_ids);
    if (!r->prompt_ids) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX)
            return bad(p, "prompt", "'%s' must be a string or an array of token ids (one prompt; "
                       "several prompts in one request are not supported)%s", "");
        r->prompt_ids[r->n_prompt_ids++] = (int32_t)json_integer_value(e);
    }
    return 0;
}

/* An assistant message's tool_calls: arguments come as JSON text (OpenAI's
 * API) and templates want an object (`arguments | tojson`): parsed here. */
static int tool_calls(parse *p, json_t *m) {
    json_t *calls = json_object_get(m, "tool_calls");
    if (!calls || json_is_null(calls)) return 0;
    if (!json_is_array(calls))
        return bad(p, "messages", "'%s' tool_calls must be an array%s", "");
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        json_t *f = json_object_get(c, "function"), *id = json_object_get(c, "id");
        json_t *name = json_object_get(f, "name"), *args = json_object_get(f, "arguments");
        if (!json_is_object(c) || !json_is_object(f) || !json_is_string(name) || (id && !json_is_string(id)))
            return bad(p, "messages", "'%s' tool_calls entries must be {\"id\", \"type\": \"function\", "
                       "\"function\": {\"name\", \"arguments\"}}%s", "");
        if (json_is_string(args)) {
            json_t *a = json_loadb(json_string_value(args), json_string_length(args), 0, NULL);
            if (!json_is_object(a)) {
                json_decref(a);
                return bad(p, "messages", "'%s' tool_calls arguments must be a JSON object as text%s", "");
            }
            if (json_object_set_new(f, "arguments", a)) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
        } else if (args && !json_is_object(args)) {
            return bad(p, "messages", "'%s' tool_calls arguments must be a JSON object as text%s", "");
        }
    }
    return 0;
}

static int messages(parse *p, json_t *o, xuan_serve_request *r) {
    json_t *v = json_object_get(o, "messages");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(p, "messages", "'%s' must be a non-empty array of messages%s", "");
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        if (!json_is_object(m) || !json_is_string(role))
            return bad(p, "messages", "'%s' entries must be objects with a string 'role'%s", "");
        if (content && !json_is_null(content) && !json_is_string(content) && !json_is_array(content))
            return bad(p, "messages", "'%s' content must be a string or an array of parts%s", "");
        if (json_is_array(content)) {
            size_t j;
            json_t *part;
            json_array_foreach(content, j, part) {
                json_t *type = json_object_get(part, "type");
                if (!json_is_string(type) || strcmp(json_string_value(type), "text") != 0 ||
                    !json_is_string(json_object_get(part, "text")))
                    return bad(p, "messages", "'%s' content parts must be {\"type\": \"text\", \"text\": ...} "
                               "(images and audio are not supported)%s", "");
            }
        }
        json_t *tcid = json_object_get(m, "tool_call_id");
        if (tcid && !json_is_null(tcid) && !json_is_string(tcid))
            return bad(p, "messages", "'%s' tool_call_id must be a string%s", "");
        int rc = tool_calls(p, m);
        if (rc) return rc;
    }
    r->messages_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!r->messages_json) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
    json_t *kw = json_object_get(o, "chat_template_kwargs");
    if (kw && !json_is_null(kw)) {
        if (!json_is_object(kw)) return bad(p, "chat_template_kwargs", "'%s' must be an object%s", "");
        r->kwargs_json = json_dumps(kw, JSON_COMPACT);
        if (!r->kwargs_json) return xuan_fail(p->err, XUAN_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* Fields that would change the answer and that this server does not do:
 * refused, so a client never gets a silently different result. */
static int unsupported(parse *p, xuan_serve_kind kind, json_t *o) {
    json_t *best = json_object_get(o, "best_of");
    if (best && !json_is_null(best) && !(json_is_integer(best) && json_integer_value(best) == 1))
        return bad(p, "best_of", "'%s' other than 1 is not supported%s", "");
    json_t *tools = json_object_get(o, "tools");
    if (kind == XUAN_SERVE_COMPLETION && tools && !json_is_null(tools))
        return bad(p, "tools", "'%s' are for /v1/chat/completions%s", "");
    return 0;
}

static int fill(parse *p, xuan_serve_kind kind, json_t *o, xuan_serve_request *r) {
    int rc;
    if ((rc = unsupported(p, kind, o))) return rc;
    if ((rc = kind == XUAN_SERVE_CHAT ? messages(p, o, r) : prompt(p, o, r))) return rc;
    if (kind == XUAN_SERVE_CHAT && (rc = serve_tools_parse(o, r, p->bad, p->err)))
        return rc;
    int64_t v;
    bool given;
    if ((rc = integer(p, o, "n", 1, XUAN_SERVE_MAX_N, &v, &given))) return rc;
    r->n = given ? (uint32_t)v : 1;
    if ((rc = boolean(p, o, "stream", &r->stream))) return rc;
    json_t *so = json_object_get(o, "stream_options");
    if (so && !json_is_null(so)) {
        if (!json_is_object(so)) return bad(p, "stream_options", "'%s' must be an object%s", "");
        if ((rc = boolean(p, so, "include_usage", &r->include_usage))) return rc;
    }
    xuan_sampler_params *sp = &r->sp;
    if ((rc = num(p, o, "temperature", 0, 2, &sp->temperature)) || (rc = num(p, o, "top_p", 0, 1, &sp->top_p)) ||
        (rc = num(p, o, "min_p", 0, 1, &sp->min_p)) ||
        (rc = num(p, o, "presence_penalty", -2, 2, &sp->presence_penalty)) ||
        (rc = num(p, o, "frequency_penalty", -2, 2, &sp->frequency_penalty)) ||
        (rc = num(p, o, "repeat_penalty", 1e-6, 100, &sp->repeat_penalty)))
        return rc;
    if (sp->top_p <= 0) sp->top_p = 1e-9f; /* top_p 0 is "the most likely token" for OpenAI */
    if ((rc = integer(p, o, "top_k", 0, INT32_MAX, &v, &given))) return rc;
    if (given) sp->top_k = (int32_t)v;
    if ((rc = integer(p, o, "seed", INT64_MIN, INT64_MAX, &v, &given))) return rc;
    if (given) sp->seed = (uint64_t)v == XUAN_SEED_RANDOM ? 0 : (uint64_t)v;
    const char *mt[] = {"max_tokens", "max_completion_tokens", "n_predict"};
    for (size_t i = 0; i < 3; i++) {
        if ((rc = integer(p, o, mt[i], -1, INT32_MAX, &v, &given))) return rc;
        if (given) r->max_tokens = (int32_t)v;
    }
    if ((rc = stops(p, o, r)) || (rc = logit_bias(p, o, r))) return rc;
    if ((rc = boolean(p, o, "ignore_eos", &r->ignore_eos))) return rc;
    if ((rc = serve_response_format(o, r, p->err))) {
        if (p->bad) *p->bad = "response_format";
        return rc;
    }
    /* logprobs: a boolean (+ top_logprobs) for chat, a count 0..5 for completions. */
    json_t *lp = json_object_get(o, "logprobs");
    if (kind == XUAN_SERVE_CHAT) {
        if ((rc = boolean(p, o, "logprobs", &r->logprobs))) return rc;
        if ((rc = integer(p, o, "top_logprobs", 0, XUAN_SERVE_MAX_TOP_LOGPROBS, &v, &given))) return rc;
        if (given) {
            if (!r->logprobs) return bad(p, "top_logprobs", "'%s' needs \"logprobs\": true%s", "");
            r->top_logprobs = (int32_t)v;
        }
    } else {
        if (json_is_boolean(lp)) {
            r->logprobs = json_is_true(lp);
        } else {
            if ((rc = integer(p, o, "logprobs", 0, 5, &v, &given))) return rc;
            if (given) r->logprobs = true, r->top_logprobs = (int32_t)v;
        }
        if ((rc = boolean(p, o, "echo", &r->echo))) return rc;
        json_t *sfx = json_object_get(o, "suffix");
        if (sfx && !json_is_null(sfx)) return bad(p, "suffix", "'%s' (fill in the middle) is not supported%s", "");
    }
    if (r->max_tokens == 0 && !r->echo) return bad(p, "max_tokens", "'%s' must be at least 1%s", "");
    return 0;
}

int xuan_serve_request_parse(xuan_serve_kind kind, const char *body, size_t n, xuan_serve_request *r,
                             const char **bad_param, xuan_error *err) {
    memset(r, 0, sizeof *r);
    if (bad_param) *bad_param = NULL;
    r->kind = kind;
    r->sp = xuan_sampler_params_default();
    r->sp.temperature = 1.0f, r->sp.top_p = 1.0f, r->sp.top_k = 0, r->sp.min_p = 0.0f;
    r->max_tokens = -1;
    r->n = 1;
    r->tool_choice = XUAN_SERVE_TOOLS_NONE, r->parallel_tool_calls = true; /* no tools (completions) */
    json_error_t je;
    /* jansson checks UTF-8 and refuses \u0000 inside strings */
    json_t *o = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
    if (!o) return xuan_fail(err, XUAN_ERR_FORMAT, "the body is not valid JSON: %s (at byte %d)", je.text, je.position);
    parse p = {err, bad_param};
    int rc = json_is_object(o) ? fill(&p, kind, o, r)
                               : xuan_fail(err, XUAN_ERR_USAGE, "the body must be a JSON object");
    json_decref(o);
    if (rc) xuan_serve_request_free(r);
    return rc;
}
