/*
 * eval_local.c — the in-process backend of `xuan eval` (eval_local.h).
 *
 * A request is rendered exactly as `xuan run -p PROMPT` renders it (the
 * model's chat template with one user message, or the raw text), then
 * xuan_generate runs with the request's sampling and a stop filter of the
 * task's stop strings plus the template's end of turn.  The KV cache keeps
 * what it holds between items, so few-shot prompts that share their shots
 * only compute the new question (xuan_generate reuses the longest common
 * prefix).  One sequence at a time for now; batching items is the next step.
 */
#include "eval_local.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct local {
    engine e;
    engine_opts o;
    char *identity;
    int32_t n_vocab;
} local;

typedef struct collect {
    xuan_buf text;
} collect;

static int on_text(void *user, const char *t, size_t n) {
    collect *c = user;
    return xuan_buf_append(&c->text, t, n) ? 1 : 0;
}

static int local_generate(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                          xuan_error *err) {
    local *l = self;
    memset(out, 0, sizeof *out);
    engine_opts o = l->o;
    o.no_template = o.no_template || rq->raw;
    o.verbose = 0;
    engine e = l->e;
    if (rq->raw) e.jinja = NULL, e.fmt = XUAN_CHAT_UNKNOWN;
    xuan_tok_ids ids = {0};
    xuan_chat_msg msg = {"user", rq->prompt};
    int rc = engine_prompt(&e, &o, &msg, 1, &ids, err);
    if (rc) return rc;
    uint32_t n_ctx = xuan_ctx_n_ctx(l->e.ctx);
    if (ids.n == 0 || ids.n >= n_ctx) {
        size_t n = ids.n;
        xuan_tok_ids_free(&ids);
        return n ? xuan_fail(err, XUAN_ERR_FULL, "the prompt has %zu tokens but the context holds %u; use a larger -c", n,
                             n_ctx)
                 : xuan_fail(err, XUAN_ERR_USAGE, "the prompt is empty");
    }
    xuan_sampler_params sp = l->o.sp;
    sp.temperature = (float)rq->temperature;
    sp.seed = rq->seed;
    xuan_sampler *smp = xuan_sampler_create(l->n_vocab, &sp, err);
    const char *stops[64];
    size_t ns = 0;
    for (size_t i = 0; i < rq->n_stop && ns < 63; i++) stops[ns++] = rq->stop[i];
    const char *eot = e.fmt ? xuan_chat_end_of_turn(e.fmt) : NULL;
    if (eot) stops[ns++] = eot;
    xuan_stop *stop = smp ? xuan_stop_create(stops, ns, err) : NULL;
    collect c = {0};
    if (smp && stop) {
        if (o.ignore_eos) {
            size_t n_eog;
            const int32_t *eog = xuan_tok_eog_ids(l->e.tok, &n_eog);
            for (size_t i = 0; i < n_eog; i++) xuan_sampler_ban(smp, eog[i], true);
        }
        xuan_gen_params gp = xuan_gen_params_default();
        gp.n_predict = (int32_t)rq->max_tokens;
        gp.emit = on_text;
        gp.emit_user = &c;
        gp.interrupt = interrupt;
        xuan_gen_stats st;
        double t0 = xuan_time_s();
        rc = xuan_generate(l->e.ctx, l->e.tok, smp, stop, ids.ids, ids.n, &gp, &st, err);
        out->wall_s = xuan_time_s() - t0;
        if (!rc && st.end == XUAN_GEN_END_INTERRUPT) rc = xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
        if (!rc) {
            out->n_prompt = st.n_prompt;
            out->n_gen = st.n_gen;
            snprintf(out->finish, sizeof out->finish, "%s", xuan_gen_end_name(st.end));
            out->text = xuan_strndup(c.text.len ? c.text.data : "", c.text.len);
            if (!out->text) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        }
    } else {
        rc = err->code ? err->code : XUAN_ERR_NOMEM;
    }
    xuan_buf_free(&c.text);
    xuan_stop_free(stop);
    xuan_sampler_free(smp);
    xuan_tok_ids_free(&ids);
    return rc;
}

static void local_close(void *self) {
    local *l = self;
    if (!l) return;
    engine_close(&l->e);
    xuan_free(l->identity);
    xuan_free(l);
}

int eval_local_open(const engine_opts *o, xuan_eval_backend *b, char **info) {
    memset(b, 0, sizeof *b);
    *info = NULL;
    char path[2048];
    if (!o->model) return cli_usage_error("eval", "a model is required (-m FILE or NAME)");
    if (engine_resolve_model(o->model, path, sizeof path)) return XUAN_EXIT_RUNTIME;
    char abs[PATH_MAX];
    if (realpath(path, abs) && strlen(abs) < sizeof path) memcpy(path, abs, strlen(abs) + 1); /* --resume finds it */
    local *l = xuan_calloc(1, sizeof *l);
    if (!l) return cli_error("out of memory");
    l->o = *o;
    int rc = engine_open("eval", o, &l->e);
    if (rc) {
        xuan_free(l);
        return rc;
    }
    l->n_vocab = (int32_t)xuan_model_hparams(l->e.model)->n_vocab;
    xuan_error err = {0};
    char sha[65];
    fprintf(stderr, "eval: hashing %s for the results store ...\n", path);
    if (xuan_sha256_file(path, sha, &err)) {
        local_close(l);
        return cli_error("%s", err.msg);
    }
    const xuan_gguf *g = xuan_model_gguf(l->e.model);
    xuan_str tmpl = {0}, arch = {0};
    xuan_gguf_get_str(g, "tokenizer.chat_template", &tmpl);
    xuan_gguf_get_str(g, "general.architecture", &arch);
    char tsha[65] = "";
    if (tmpl.p) {
        uint8_t d[32];
        xuan_sha256 h;
        xuan_sha256_init(&h);
        xuan_sha256_update(&h, tmpl.p, tmpl.n);
        xuan_sha256_final(&h, d);
        xuan_sha256_hex(d, tsha);
    }
    uint32_t ftype = 0;
    const char *quant = xuan_gguf_get_u32(g, "general.file_type", &ftype, NULL) == 0 ? xuan_ftype_name(ftype) : "?";
    /* What decides the replies: the weights, the prompt format, the cache
     * types and the engine's own version (its arithmetic may change). */
    json_t *id = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "backend", "xuan", "engine", xuan_version(),
                           "git", xuan_git_hash(), "model_sha256", sha, "template", l->e.template_desc, "type_k",
                           (json_int_t)o->cp.type_k, "type_v", (json_int_t)o->cp.type_v, "ignore_eos", o->ignore_eos);
    if (id && o->template_file) json_object_set_new(id, "template_file", json_string(o->template_file));
    if (id && o->template_name) json_object_set_new(id, "template_name", json_string(o->template_name));
    if (id && tsha[0]) json_object_set_new(id, "template_sha256", json_string(tsha));
    if (id && o->system) json_object_set_new(id, "system", json_string(o->system));
    char *ids = id ? json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_t *inf = json_pack("{s:s, s:s, s:s, s:s%, s:s, s:I}", "path", path, "sha256", sha, "quant", quant, "arch",
                            arch.p ? arch.p : "", arch.p ? (size_t)arch.n : 0, "template", l->e.template_desc, "n_ctx",
                            (json_int_t)xuan_ctx_n_ctx(l->e.ctx));
    if (inf && tsha[0]) json_object_set_new(inf, "template_sha256", json_string(tsha));
    char *infs = inf ? json_dumps(inf, JSON_COMPACT) : NULL;
    json_decref(id);
    json_decref(inf);
    l->identity = ids ? xuan_strdup(ids) : NULL;
    *info = infs ? xuan_strdup(infs) : NULL;
    free(ids);
    free(infs);
    if (!l->identity || !*info) {
        xuan_free(*info);
        *info = NULL;
        local_close(l);
        return cli_error("out of memory");
    }
    b->self = l;
    b->identity = l->identity;
    b->parallel = 1;
    b->generate = local_generate;
    b->close = local_close;
    return 0;
}
