/*
 * template.c — the public face of the Jinja interpreter (xuan/chat.h):
 * parse once, render many times, each render in its own arena with bounds.
 */
#include "chat/jinja.h"
#include "xuan/chat.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_TEMPLATE_BYTES = 4 << 20,
};

struct xuan_chat_template {
    jtemplate t;
};

xuan_chat_template_opts xuan_chat_template_opts_default(void) {
    xuan_chat_template_opts o;
    memset(&o, 0, sizeof o);
    o.add_generation_prompt = true;
    return o;
}

int xuan_chat_template_parse(const char *text, size_t len, xuan_chat_template **out, xuan_error *err) {
    *out = NULL;
    if (!text) return xuan_fail(err, XUAN_ERR_USAGE, "chat template: no text");
    if (len > MAX_TEMPLATE_BYTES)
        return xuan_fail(err, XUAN_ERR_USAGE, "chat template: %zu bytes, more than the %d allowed", len,
                         MAX_TEMPLATE_BYTES);
    xuan_chat_template *ct = xuan_calloc(1, sizeof *ct);
    if (!ct) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    jtemplate *t = &ct->t;
    /* tokens, strings and nodes take a small multiple of the text */
    ja_init(&t->arena, (size_t)64 << 20, &t->jb, &t->err);
    if (setjmp(t->jb)) {
        int code = t->err.code ? (int)t->err.code : XUAN_ERR_FORMAT;
        xuan_fail(err, (xuan_status)code, "chat template: %s", t->err.msg);
        ja_free(&t->arena);
        xuan_free(ct);
        return code;
    }
    jinja_parse(t, text, len);
    *out = ct;
    return 0;
}

int xuan_chat_template_from_gguf(const xuan_gguf *g, xuan_chat_template **out, xuan_error *err) {
    xuan_str s;
    *out = NULL;
    if (!g || xuan_gguf_get_str(g, "tokenizer.chat_template", &s) != 0)
        return xuan_fail(err, XUAN_ERR_NOTFOUND, "the model has no tokenizer.chat_template");
    int rc = xuan_chat_template_parse(s.p, (size_t)s.n, out, err);
    if (rc) xuan_error_prefix(err, "tokenizer.chat_template");
    return rc;
}

int xuan_chat_template_check(const xuan_chat_template *t, xuan_error *err) {
    if (!t || !t->t.unsupported[0]) return 0;
    return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "chat template: %s is not supported (a render that reaches it fails)",
                     t->t.unsupported);
}

void xuan_chat_template_free(xuan_chat_template *t) {
    if (!t) return;
    ja_free(&t->t.arena);
    xuan_free(t);
}

static int64_t env_now(void) {
    const char *s = getenv("XUAN_JINJA_NOW");
    if (!s || !*s) return 0;
    int64_t v;
    return xuan_parse_i64(s, 1, INT64_MAX / 2, &v) == 0 ? v : 0;
}

typedef struct render_state {
    jarena arena;
    jmp_buf jb;
    xuan_error e;
} render_state;

static int render(const xuan_chat_template *t, const char *messages_json, const json_t *messages_tree,
                  const xuan_chat_template_opts *opts, xuan_buf *out, xuan_error *err) {
    xuan_chat_template_opts o = opts ? *opts : xuan_chat_template_opts_default();
    jinja_limits lim = {
        .max_steps = o.max_steps ? o.max_steps : 20000000,
        .max_depth = o.max_depth ? (int)(o.max_depth > 100000 ? 100000 : o.max_depth) : 1000,
        .max_output = o.max_output ? (size_t)o.max_output : (size_t)16 << 20,
        .now = o.now ? o.now : env_now(),
    };
    size_t mem = o.max_memory ? (size_t)o.max_memory : (size_t)256 << 20;
    size_t keep = out->len;
    render_state *st = xuan_calloc(1, sizeof *st);
    if (!st) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    ja_init(&st->arena, mem, &st->jb, &st->e);
    if (setjmp(st->jb)) {
        int code = st->e.code ? (int)st->e.code : XUAN_ERR_FORMAT;
        xuan_fail(err, (xuan_status)code, "chat template: %s", st->e.msg);
        ja_free(&st->arena);
        xuan_free(st);
        out->len = keep;
        if (out->data) out->data[keep] = 0;
        return code;
    }
    jarena *a = &st->arena;
    jinja_var vars[5];
    size_t nv = 0;
    jv msgs = messages_tree ? jv_from_jansson(a, messages_tree)
                            : jv_from_json_text(a, messages_json ? messages_json : "[]", "messages");
    vars[nv++] = (jinja_var){"messages", msgs};
    if (o.tools_json) vars[nv++] = (jinja_var){"tools", jv_from_json_text(a, o.tools_json, "tools")};
    vars[nv++] = (jinja_var){"add_generation_prompt", jv_bool(o.add_generation_prompt)};
    vars[nv++] = (jinja_var){"bos_token", jv_cstr(o.bos_token ? o.bos_token : "")};
    vars[nv++] = (jinja_var){"eos_token", jv_cstr(o.eos_token ? o.eos_token : "")};
    jinja_var *all = vars;
    size_t n_all = nv;
    if (o.kwargs_json) {
        jv kw = jv_from_json_text(a, o.kwargs_json, "kwargs");
        if (kw.t != JV_OBJECT) ja_throw(a, XUAN_ERR_USAGE, "kwargs: expected a JSON object");
        all = ja_alloc(a, (nv + kw.u.obj->n) * sizeof *all);
        memcpy(all, vars, nv * sizeof *vars);
        for (size_t i = 0; i < kw.u.obj->n; i++) {
            jstr k = kw.u.obj->k[i];
            bool dup = false;
            for (size_t j = 0; j < nv; j++) dup |= jstr_eq(k, vars[j].name);
            /* a kwarg may override the named options (the reference's context object) */
            if (dup) {
                for (size_t j = 0; j < nv; j++)
                    if (jstr_eq(k, all[j].name)) all[j].value = kw.u.obj->v[i];
                continue;
            }
            all[n_all++] = (jinja_var){ja_strndup(a, k.p, k.n), kw.u.obj->v[i]};
        }
    }
    jinja_render(&t->t, a, &lim, all, n_all, out);
    ja_free(&st->arena);
    xuan_free(st);
    return 0;
}

int xuan_chat_template_render(const xuan_chat_template *t, const char *messages_json,
                              const xuan_chat_template_opts *opts, xuan_buf *out, xuan_error *err) {
    if (!t || !out) return xuan_fail(err, XUAN_ERR_USAGE, "chat template: no template or output");
    return render(t, messages_json, NULL, opts, out, err);
}

int xuan_chat_template_render_msgs(const xuan_chat_template *t, const xuan_chat_msg *msgs, size_t n,
                                   const xuan_chat_template_opts *opts, xuan_buf *out, xuan_error *err) {
    if (!t || !out) return xuan_fail(err, XUAN_ERR_USAGE, "chat template: no template or output");
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *m = json_pack("{s:s, s:s}", "role", msgs[i].role ? msgs[i].role : "user", "content",
                              msgs[i].content ? msgs[i].content : "");
        if (!m || json_array_append_new(arr, m)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!arr) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int rc = render(t, NULL, arr, opts, out, err);
    json_decref(arr);
    return rc;
}
