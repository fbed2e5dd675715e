/*
 * json_out.c — the OpenAI-shaped JSON the server sends: error objects,
 * usage, log-probabilities (chat's and the legacy completions' shapes),
 * and strings that stay valid JSON whatever bytes a model produced
 * (invalid UTF-8 becomes U+FFFD instead of failing the response).
 */
#include "json_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *serve_json_text(const char *s, size_t n) {
    if (xuan_utf8_valid((const uint8_t *)s, n)) return json_stringn(s, n);
    xuan_buf b = {0};
    for (size_t i = 0; i < n;) {
        int k = xuan_utf8_len((const uint8_t *)s + i, n - i);
        if (k > 0) xuan_buf_append(&b, s + i, (size_t)k), i += (size_t)k;
        else xuan_buf_append(&b, "\xEF\xBF\xBD", 3), i++;
    }
    json_t *j = json_stringn(b.len ? b.data : "", b.len);
    xuan_buf_free(&b);
    return j;
}

json_t *serve_json_error(const char *message, const char *type, const char *param, const char *code) {
    return json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", message, "type", type, "param", param,
                     "code", code);
}

/* n choices share the prompt: it counts once (the lead's, jobs[0]). */
json_t *serve_json_usage(job *const *jobs, uint32_t n) {
    json_int_t gen = 0;
    for (uint32_t i = 0; i < n; i++) gen += jobs[i]->n_gen;
    return json_pack("{s:I, s:I, s:I, s:{s:I}}", "prompt_tokens", (json_int_t)jobs[0]->n_ids, "completion_tokens",
                     gen, "total_tokens", (json_int_t)jobs[0]->n_ids + gen, "prompt_tokens_details", "cached_tokens",
                     (json_int_t)jobs[0]->n_cached);
}

/* A log-probability; null where a broken model gave a non-finite one
 * (JSON has no infinities). */
static json_t *lp_json(float lp) { return isfinite(lp) ? json_real(lp) : json_null(); }

static json_t *piece(const xuan_tok *tok, int32_t id, bool with_bytes, json_t **bytes) {
    char buf[256];
    size_t n = xuan_tok_piece(tok, id, true, buf, sizeof buf);
    if (n > sizeof buf) n = sizeof buf;
    if (with_bytes) {
        *bytes = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(*bytes, json_integer((unsigned char)buf[i]));
    }
    return serve_json_text(buf, n);
}

/* chat: {"token", "logprob", "bytes", "top_logprobs": [...]} */
json_t *serve_json_chat_lp(const xuan_tok *tok, const tok_lp *lp) {
    json_t *bytes = NULL, *top = json_array();
    json_t *t = piece(tok, lp->id, true, &bytes);
    for (int k = 0; k < lp->n_top; k++) {
        json_t *tb = NULL, *tt = piece(tok, lp->top[k].id, true, &tb);
        json_array_append_new(top, json_pack("{s:o, s:o, s:o}", "token", tt, "logprob", lp_json(lp->top[k].lp),
                                             "bytes", tb));
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "token", t, "logprob", lp_json(lp->lp), "bytes", bytes,
                     "top_logprobs", top);
}

json_t *serve_json_chat_lps(const xuan_tok *tok, const tok_lp *lps, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, serve_json_chat_lp(tok, &lps[i]));
    return json_pack("{s:o}", "content", a);
}

/* completions: {"tokens", "token_logprobs", "top_logprobs", "text_offset"};
 * appends n entries to an object made by serve_json_cmpl_lps_new. */
json_t *serve_json_cmpl_lps_new(void) {
    return json_pack("{s:[], s:[], s:[], s:[]}", "tokens", "token_logprobs", "top_logprobs", "text_offset");
}

void serve_json_cmpl_lps_add(json_t *o, const xuan_tok *tok, const tok_lp *lps, size_t n, size_t *text_off,
                             int n_top) {
    json_t *tokens = json_object_get(o, "tokens"), *lpa = json_object_get(o, "token_logprobs");
    json_t *tops = json_object_get(o, "top_logprobs"), *offs = json_object_get(o, "text_offset");
    for (size_t i = 0; i < n; i++) {
        char buf[256];
        size_t len = xuan_tok_piece(tok, lps[i].id, true, buf, sizeof buf);
        if (len > sizeof buf) len = sizeof buf;
        json_array_append_new(tokens, serve_json_text(buf, len));
        json_array_append_new(lpa, lps[i].has_lp ? lp_json(lps[i].lp) : json_null());
        if (lps[i].has_lp && n_top > 0) {
            json_t *d = json_object();
            for (int k = 0; k < lps[i].n_top; k++) {
                char tb[256];
                size_t tl = xuan_tok_piece(tok, lps[i].top[k].id, true, tb, sizeof tb - 1);
                if (tl > sizeof tb - 1) tl = sizeof tb - 1;
                tb[tl] = 0;
                json_t *key = serve_json_text(tb, strlen(tb)); /* a key must be valid UTF-8 too */
                json_object_set_new(d, json_string_value(key), lp_json(lps[i].top[k].lp));
                json_decref(key);
            }
            json_array_append_new(tops, d);
        } else {
            json_array_append_new(tops, json_null());
        }
        json_array_append_new(offs, json_integer((json_int_t)*text_off));
        *text_off += len;
    }
}
