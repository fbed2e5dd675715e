/*
 * eval_local.c — the in-process backend of `xuan eval` (eval_local.h).
 *
 * A request is rendered exactly as `xuan run -p PROMPT` renders it (the
 * model's chat template with one user message, or the raw text), then
 * xuan_generate runs with the request's sampling and a stop filter of the
 * task's stop strings plus the template's end of turn.  Each item starts
 * from an empty cache, so its numbers are those `xuan run` gives for the
 * same prompt whatever item ran before (a kept prefix would change the
 * batch split, and with it the last bits).  One sequence at a time for now;
 * batching items through xuan_ctx_decode is the next step.
 */
#include "eval_local.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
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

/* What a generation request needs: the prompt's tokens (rendered as `xuan
 * run` renders it), a sampler with the request's temperature and seed, and
 * a stop filter of its stop strings plus the template's end of turn.  The
 * prompt must leave room in `cells` (the context, or a sequence's share of
 * it with `shared`).  On failure the caller still frees what was made. */
static int request_setup(local *l, const xuan_eval_request *rq, uint32_t cells, bool shared, xuan_tok_ids *ids,
                         xuan_sampler **smp, xuan_stop **stop, xuan_error *err) {
    engine_opts o = l->o;
    o.no_template = o.no_template || rq->raw;
    o.verbose = 0;
    engine e = l->e;
    if (rq->raw) e.jinja = NULL, e.fmt = XUAN_CHAT_UNKNOWN;
    xuan_chat_msg msg = {"user", rq->prompt};
    int rc = engine_prompt(&e, &o, &msg, 1, ids, err);
    if (rc) return rc;
    if (ids->n == 0) return xuan_fail(err, XUAN_ERR_USAGE, "the prompt is empty");
    if (ids->n >= cells)
        return shared ? xuan_fail(err, XUAN_ERR_FULL,
                                  "the prompt has %zu tokens but a sequence's share of the context is %u; use a larger "
                                  "-c or a smaller -j",
                                  ids->n, cells)
                      : xuan_fail(err, XUAN_ERR_FULL, "the prompt has %zu tokens but the context holds %u; use a larger -c",
                                  ids->n, cells);
    xuan_sampler_params sp = l->o.sp;
    sp.temperature = (float)rq->temperature;
    sp.seed = rq->seed;
    if (!(*smp = xuan_sampler_create(l->n_vocab, &sp, err))) return err->code ? err->code : XUAN_ERR_NOMEM;
    if (o.ignore_eos) {
        size_t n_eog;
        const int32_t *eog = xuan_tok_eog_ids(l->e.tok, &n_eog);
        for (size_t i = 0; i < n_eog; i++) xuan_sampler_ban(*smp, eog[i], true);
    }
    const char *stops[64];
    size_t ns = 0;
    for (size_t i = 0; i < rq->n_stop && ns < 63; i++) stops[ns++] = rq->stop[i];
    const char *eot = e.fmt ? xuan_chat_end_of_turn(e.fmt) : NULL;
    if (eot) stops[ns++] = eot;
    if (!(*stop = xuan_stop_create(stops, ns, err))) return err->code ? err->code : XUAN_ERR_NOMEM;
    return 0;
}

static int local_generate(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                          xuan_error *err) {
    local *l = self;
    memset(out, 0, sizeof *out);
    xuan_tok_ids ids = {0};
    xuan_sampler *smp = NULL;
    xuan_stop *stop = NULL;
    collect c = {0};
    int rc = request_setup(l, rq, xuan_ctx_n_ctx(l->e.ctx), false, &ids, &smp, &stop, err);
    if (!rc) {
        xuan_gen_params gp = xuan_gen_params_default();
        gp.n_predict = (int32_t)rq->max_tokens;
        gp.emit = on_text;
        gp.emit_user = &c;
        gp.interrupt = interrupt;
        xuan_gen_stats st;
        double t0 = xuan_time_s();
        /* from an empty cache: a prefix kept from the item before would change
         * the batch split of this prompt, hence (in the last bits) its
         * numbers, and a resumed run must give what an uninterrupted one does */
        xuan_ctx_truncate(l->e.ctx, 0);
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
    }
    xuan_buf_free(&c.text);
    xuan_stop_free(stop);
    xuan_sampler_free(smp);
    xuan_tok_ids_free(&ids);
    return rc;
}

/* log sum exp(logits) in double: logit - this is log softmax, which
 * lm-evaluation-harness sums over the continuation tokens. */
static double log_sum_exp(const float *logits, int32_t n_vocab) {
    double mx = logits[0];
    for (int32_t i = 1; i < n_vocab; i++)
        if (logits[i] > mx) mx = logits[i];
    double sum = 0; /* >= 1: the largest logit adds exp(0) */
    for (int32_t i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - mx);
    return mx + log(sum > 1 ? sum : 1);
}

/* Makes the cache hold exactly ids[0..n) of sequence 0, keeping the prefix
 * it already shares with them. */
static int cache_to(xuan_ctx *c, const int32_t *ids, size_t n, xuan_error *err) {
    const int32_t *have = xuan_ctx_tokens(c);
    size_t q = 0, n_have = xuan_ctx_n_past(c);
    while (q < n_have && q < n && have[q] == ids[q]) q++;
    /* a recurrent model's state goes back to a checkpoint at most */
    if (q < n_have) q = (size_t)xuan_ctx_seq_resume_at(c, 0, (int32_t)q);
    xuan_ctx_truncate(c, (uint32_t)q);
    return q < n ? xuan_ctx_eval(c, ids + q, n - q, err) : 0;
}

/* The log-likelihood of each choice after the prompt, as lm-evaluation-
 * harness computes it: the context and context + choice are tokenized
 * whole, the choice's tokens are those after their common prefix, and the
 * log-probabilities of those tokens are summed.  The context is evaluated
 * once, from an empty cache, in one call (so its last row is what `xuan
 * run` computes for the same prompt, whatever ran before); each choice then
 * evaluates only its own tokens after it.  A choice whose tokens merge with
 * the context's last ones (the common prefix ends inside the context) is
 * scored from the row before the prefix's end. */
static int local_loglik(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                        xuan_error *err) {
    local *l = self;
    memset(out, 0, sizeof *out);
    engine_opts o = l->o;
    o.verbose = 0;
    engine e = l->e;
    if (rq->raw) e.jinja = NULL, e.fmt = XUAN_CHAT_UNKNOWN;
    xuan_chat_msg msg = {"user", rq->prompt};
    xuan_buf ctx_text = {0}, whole = {0};
    xuan_tok_ids cids = {0}, wids = {0};
    int8_t *want = NULL;
    float *row0 = NULL; /* the logits after the whole context */
    double lse0 = 0, t0 = xuan_time_s();
    const uint32_t n_ctx = xuan_ctx_n_ctx(l->e.ctx);
    int rc = engine_render(&e, &o, &msg, 1, &ctx_text, err);
    if (!rc) rc = engine_tokenize(&e, ctx_text.len ? ctx_text.data : "", ctx_text.len, &cids, err);
    if (!rc && (cids.n == 0 || cids.n + 1 >= n_ctx))
        rc = cids.n ? xuan_fail(err, XUAN_ERR_FULL, "the prompt has %zu tokens but the context holds %u; use a larger -c",
                                cids.n, n_ctx)
                    : xuan_fail(err, XUAN_ERR_USAGE, "the prompt has no token to start from");
    if (!rc && (!(out->logprobs = xuan_calloc(rq->n_choices ? rq->n_choices : 1, sizeof(double))) ||
                !(row0 = xuan_alloc_array((size_t)l->n_vocab, sizeof *row0))))
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_ctx_set_stop(l->e.ctx, interrupt);
    if (!rc) {
        xuan_ctx_truncate(l->e.ctx, 0);
        rc = xuan_ctx_eval(l->e.ctx, cids.ids, cids.n, err);
    }
    if (!rc) {
        memcpy(row0, xuan_ctx_logits(l->e.ctx), (size_t)l->n_vocab * sizeof *row0);
        lse0 = log_sum_exp(row0, l->n_vocab);
    }
    for (size_t j = 0; !rc && j < rq->n_choices; j++) {
        xuan_buf_reset(&whole);
        wids.n = 0;
        if (xuan_buf_append(&whole, ctx_text.data ? ctx_text.data : "", ctx_text.len) ||
            xuan_buf_puts(&whole, rq->choices[j])) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            break;
        }
        if ((rc = engine_tokenize(&e, whole.data, whole.len, &wids, err)) != 0) break;
        size_t p = 0;
        while (p < cids.n && p < wids.n && cids.ids[p] == wids.ids[p]) p++;
        if (p == 0 || p == wids.n) {
            rc = xuan_fail(err, XUAN_ERR_USAGE, "choice '%s': %s", rq->choices[j],
                           p ? "adds no token to the prompt" : "shares no token with the prompt");
            break;
        }
        if (wids.n >= n_ctx) {
            rc = xuan_fail(err, XUAN_ERR_FULL, "the prompt has %zu tokens but the context holds %u; use a larger -c",
                           wids.n, n_ctx);
            break;
        }
        /* the context's own row scores the choice's first token; the rest
         * is decoded after the context, or after the prefix when it merged */
        const bool whole_ctx = p == cids.n;
        const size_t first_tok = whole_ctx ? p : p - 1, from = whole_ctx ? p + 1 : p, nb = wids.n - 1 - first_tok;
        double sum = whole_ctx ? (double)row0[wids.ids[p]] - lse0 : 0;
        if ((rc = whole_ctx ? cache_to(l->e.ctx, cids.ids, cids.n, err) : cache_to(l->e.ctx, wids.ids, p - 1, err)))
            break;
        if (nb) {
            xuan_free(want);
            if (!(want = xuan_calloc(nb, 1))) {
                rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
                break;
            }
            memset(want, 1, nb);
            xuan_batch b = {.n_tokens = (int32_t)nb, .token = wids.ids + first_tok, .logits = want};
            if ((rc = xuan_ctx_decode(l->e.ctx, &b, err)) != 0) break;
        }
        /* row r holds the logits after wids[first_tok + r] */
        for (size_t i = from; i < wids.n; i++) {
            const float *lg = xuan_ctx_logits_ith(l->e.ctx, (int32_t)(i - 1 - first_tok));
            if (!lg) { /* every row was asked for; only a cancelled sequence has none */
                rc = xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
                break;
            }
            sum += (double)lg[wids.ids[i]] - log_sum_exp(lg, l->n_vocab);
        }
        if (rc) break;
        if (!isfinite(sum)) { /* NaN or infinite logits: a broken model, not an answer */
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "choice '%s': the log-probability is not finite", rq->choices[j]);
            break;
        }
        out->logprobs[j] = sum;
        out->n_prompt = (uint32_t)cids.n;
        out->n_gen += (uint32_t)(wids.n - p);
    }
    xuan_ctx_set_stop(l->e.ctx, NULL);
    if (rc == XUAN_ERR_INTERRUPTED) xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
    out->wall_s = xuan_time_s() - t0;
    snprintf(out->finish, sizeof out->finish, "loglik");
    xuan_free(row0);
    xuan_free(want);
    xuan_tok_ids_free(&cids);
    xuan_tok_ids_free(&wids);
    xuan_buf_free(&ctx_text);
    xuan_buf_free(&whole);
    if (rc) xuan_eval_reply_free(out);
    return rc;
}

/* ---- several items per forward pass ------------------------------------------ */

/* One sequence of a batch: request k's state while it generates. */
typedef struct bseq {
    xuan_tok_ids ids;
    xuan_sampler *smp;
    xuan_stop *stop;
    xuan_tok_stream ts;
    xuan_buf text;
    uint32_t n_gen, limit;
    int32_t row; /* its logits row in the last decode */
    bool active, hit;
    xuan_gen_end end;
} bseq;

/* Feeds newly detokenized text through the stop filter into the answer. */
static int bseq_pass(bseq *q, const char *p, size_t n) {
    const char *emit;
    size_t emit_n;
    int hit = xuan_stop_feed(q->stop, p, n, &emit, &emit_n);
    if (hit < 0 || hit > 1) return XUAN_ERR_NOMEM;
    if (emit_n && xuan_buf_append(&q->text, emit, emit_n)) return XUAN_ERR_NOMEM;
    if (hit) q->hit = true;
    return 0;
}

/* Prepares request k: its prompt, sampler and stop filter. */
static int bseq_init(local *l, const xuan_eval_request *rq, bseq *q, xuan_error *err) {
    int rc = request_setup(l, rq, xuan_ctx_n_ctx(l->e.ctx) / xuan_ctx_n_seq_max(l->e.ctx), true, &q->ids, &q->smp,
                           &q->stop, err);
    if (rc) return rc;
    for (size_t i = 0; i < q->ids.n; i++) xuan_sampler_accept(q->smp, q->ids.ids[i]); /* as xuan_generate does */
    xuan_tok_stream_init(&q->ts, l->e.tok, 0);
    q->ts.started = true; /* a continuation, not the start of a text (xuan_generate) */
    q->limit = rq->max_tokens;
    q->end = XUAN_GEN_END_LENGTH;
    q->active = true;
    return 0;
}

/* Samples sequence q's next token from its row; ends it when the token is
 * an end of generation, completes a stop string or uses up the budget.
 * Returns 0 or an error for this sequence. */
static int bseq_step(local *l, bseq *q, int32_t *next, xuan_error *err) {
    const float *lg = xuan_ctx_logits_ith(l->e.ctx, q->row);
    if (!lg) return xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
    int32_t id;
    int rc = xuan_sampler_sample(q->smp, lg, &id, err);
    if (rc) return rc;
    xuan_sampler_accept(q->smp, id);
    q->n_gen++;
    if (xuan_tok_is_eog(l->e.tok, id)) {
        q->end = XUAN_GEN_END_EOG;
        q->active = false;
        return 0;
    }
    xuan_buf piece = {0};
    if (xuan_tok_stream_push(&q->ts, id, &piece) || (piece.len && bseq_pass(q, piece.data, piece.len))) rc = XUAN_ERR_NOMEM;
    xuan_buf_free(&piece);
    if (rc) return xuan_fail(err, rc, "out of memory");
    if (q->hit) q->end = XUAN_GEN_END_STOP, q->active = false;
    else if (q->n_gen >= q->limit) q->active = false;
    *next = id;
    return 0;
}

/* Generates n requests as n sequences of one context: the prompts' common
 * head once (shared by the others' cells), their own tails in one decode,
 * then one token of every live sequence per decode.  With F16 or
 * Q4_K weights the batch composition changes the summation order of the
 * matrix products (docs/design.md), so outputs may differ in the last bits
 * from one item alone; Q8_0 / Q6_K weights with a Q8_0 cache give the same
 * bits at any composition. */
static void local_generate_batch(void *self, const xuan_eval_request *rqs, size_t n, volatile int *interrupt,
                                 xuan_eval_reply *outs, int *rcs, xuan_error *errs) {
    local *l = self;
    xuan_ctx *c = l->e.ctx;
    bseq *q = xuan_calloc(n, sizeof *q);
    int32_t *tok = NULL, *seq = NULL;
    int8_t *want = NULL;
    size_t n_tok = 0;
    int brc = 0; /* an error of the whole batch */
    xuan_error berr = {0};
    double t0 = xuan_time_s();
    for (size_t k = 0; k < n; k++) memset(&outs[k], 0, sizeof outs[k]), rcs[k] = 0;
    if (!q) brc = xuan_fail(&berr, XUAN_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !brc && k < n; k++) {
        rcs[k] = bseq_init(l, &rqs[k], &q[k], &errs[k]);
        if (!rcs[k]) n_tok += q[k].ids.n;
    }
    if (!brc) {
        tok = xuan_calloc(n_tok + n, sizeof *tok);
        seq = xuan_calloc(n_tok + n, sizeof *seq);
        want = xuan_calloc(n_tok + n, 1);
        if (!tok || !seq || !want) brc = xuan_fail(&berr, XUAN_ERR_NOMEM, "out of memory");
    }
    xuan_ctx_set_stop(c, interrupt);
    size_t pre = 0; /* the prompts' common head (chat template, system message, shots) */
    if (!brc) {
        xuan_ctx_seq_rm(c, -1, -1, -1, NULL);
        size_t k0 = n, live = 0;
        for (size_t k = 0; k < n; k++) {
            if (rcs[k]) continue;
            if (k0 == n) k0 = k, pre = q[k].ids.n - 1; /* each keeps a token of its own for its logits */
            size_t i = 0;
            while (i < pre && i < q[k].ids.n - 1 && q[k].ids.ids[i] == q[k0].ids.ids[i]) i++;
            pre = i;
            live++;
        }
        /* evaluated once in the first sequence and shared by the others'
         * cells, as serve's prefix cache does */
        if (live < 2 || pre < 8) pre = 0;
        if (pre) {
            for (size_t i = 0; i < pre; i++) tok[i] = q[k0].ids.ids[i], seq[i] = (int32_t)k0, want[i] = 0;
            xuan_batch b = {.n_tokens = (int32_t)pre, .token = tok, .seq_id = seq, .logits = want};
            brc = xuan_ctx_decode(c, &b, &berr);
            for (size_t k = k0 + 1; !brc && k < n; k++)
                if (!rcs[k]) brc = xuan_ctx_seq_cp(c, (int32_t)k0, (int32_t)k, -1, -1, &berr);
        }
    }
    if (!brc) {
        size_t at = 0;
        for (size_t k = 0; k < n; k++) {
            if (rcs[k]) continue;
            for (size_t i = pre; i < q[k].ids.n; i++) tok[at] = q[k].ids.ids[i], seq[at] = (int32_t)k, want[at++] = 0;
            want[at - 1] = 1;
            q[k].row = (int32_t)(at - 1);
        }
        xuan_batch b = {.n_tokens = (int32_t)at, .token = tok, .seq_id = seq, .logits = want};
        if (at) brc = xuan_ctx_decode(c, &b, &berr);
    }
    while (!brc) {
        size_t at = 0;
        for (size_t k = 0; k < n; k++) {
            if (rcs[k] || !q[k].active) continue;
            int32_t id = -1;
            if ((rcs[k] = bseq_step(l, &q[k], &id, &errs[k])) != 0 || !q[k].active) {
                xuan_ctx_seq_rm(c, (int32_t)k, -1, -1, NULL);
                continue;
            }
            if (xuan_ctx_seq_pos_max(c, (int32_t)k) + 2 > (int32_t)(xuan_ctx_n_ctx(c) / xuan_ctx_n_seq_max(c))) {
                q[k].end = XUAN_GEN_END_CTX_FULL, q[k].active = false;
                xuan_ctx_seq_rm(c, (int32_t)k, -1, -1, NULL);
                continue;
            }
            tok[at] = id, seq[at] = (int32_t)k, want[at] = 1;
            q[k].row = (int32_t)at++;
        }
        if (!at) break;
        if (interrupt && *interrupt) {
            brc = xuan_fail(&berr, XUAN_ERR_INTERRUPTED, "interrupted");
            break;
        }
        xuan_batch b = {.n_tokens = (int32_t)at, .token = tok, .seq_id = seq, .logits = want};
        brc = xuan_ctx_decode(c, &b, &berr);
    }
    xuan_ctx_set_stop(c, NULL);
    xuan_ctx_seq_rm(c, -1, -1, -1, NULL);
    double wall = xuan_time_s() - t0;
    for (size_t k = 0; k < n; k++) {
        if (!rcs[k] && brc) rcs[k] = brc, errs[k] = berr;
        if (!rcs[k] && !q[k].hit) { /* what the detokenizer and the stop filter still hold */
            xuan_buf rest = {0};
            const char *e;
            size_t en;
            if (xuan_tok_stream_flush(&q[k].ts, &rest) == 0 && rest.len) rcs[k] = bseq_pass(&q[k], rest.data, rest.len);
            xuan_buf_free(&rest);
            if (!rcs[k] && !q[k].hit) {
                xuan_stop_flush(q[k].stop, &e, &en);
                if (en && xuan_buf_append(&q[k].text, e, en)) rcs[k] = XUAN_ERR_NOMEM;
            }
            if (rcs[k]) xuan_fail(&errs[k], XUAN_ERR_NOMEM, "out of memory");
        }
        if (!rcs[k]) {
            outs[k].text = xuan_strndup(q[k].text.len ? q[k].text.data : "", q[k].text.len);
            if (!outs[k].text) rcs[k] = xuan_fail(&errs[k], XUAN_ERR_NOMEM, "out of memory");
            outs[k].n_prompt = (uint32_t)q[k].ids.n;
            outs[k].n_gen = q[k].n_gen;
            outs[k].wall_s = wall;
            snprintf(outs[k].finish, sizeof outs[k].finish, "%s", xuan_gen_end_name(q[k].end));
        }
        if (q) {
            xuan_tok_ids_free(&q[k].ids);
            xuan_sampler_free(q[k].smp);
            xuan_stop_free(q[k].stop);
            xuan_buf_free(&q[k].text);
        }
    }
    xuan_free(q);
    xuan_free(tok);
    xuan_free(seq);
    xuan_free(want);
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
    /* several sequences per pass may change the last bits (local_generate_batch) */
    if (id && o->cp.n_seq_max > 1) json_object_set_new(id, "batch", json_integer(o->cp.n_seq_max));
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
    b->loglik = local_loglik;
    if (xuan_ctx_n_seq_max(l->e.ctx) > 1) {
        b->batch = (int)xuan_ctx_n_seq_max(l->e.ctx);
        b->generate_batch = local_generate_batch;
    }
    b->close = local_close;
    return 0;
}
