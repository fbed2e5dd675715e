/*
 * run.c — running a task against a backend (xuan/eval.h, "running a task").
 *
 *   1. requests   — the cache key, replies to and from the cache's JSON
 *   2. one item   — prompt, request, think block, extractors, sandbox, record
 *   3. the loop   — `parallel` workers over the items not yet stored
 *
 * The store and the prompt templates are touched only under the runner's
 * mutex; generation, extraction and the sandbox run outside it.  An item
 * is stored in one transaction when it is fully scored, so a kill loses
 * only items in flight.
 */
#include "xuan/chat.h"
#include "xuan/eval.h"

#include <jansson.h>
#include <pthread.h>
#include <string.h>

/* ---- 1. requests ---------------------------------------------------------------- */

void xuan_eval_reply_free(xuan_eval_reply *r) {
    if (!r) return;
    xuan_free(r->text);
    xuan_free(r->logprobs);
    r->text = NULL;
    r->logprobs = NULL;
}

static json_t *request_obj(const xuan_eval_request *rq) {
    json_t *stop = json_array();
    for (size_t i = 0; stop && i < rq->n_stop; i++) json_array_append_new(stop, json_string(rq->stop[i]));
    json_t *o = json_pack("{s:s, s:b, s:I, s:o, s:f, s:I}", "prompt", rq->prompt, "raw", rq->raw, "max_tokens",
                          (json_int_t)rq->max_tokens, "stop", stop, "temperature", rq->temperature, "seed",
                          (json_int_t)(rq->seed & INT64_MAX));
    if (o && rq->n_choices) {
        json_t *ch = json_array();
        for (size_t i = 0; ch && i < rq->n_choices; i++) json_array_append_new(ch, json_string(rq->choices[i]));
        if (!ch || json_object_set_new(o, "loglik", ch)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int xuan_eval_request_key(const xuan_eval_backend *b, const xuan_eval_request *rq, char key[65], xuan_error *err) {
    json_t *o = request_obj(rq);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!s) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory (or a prompt that is not UTF-8)");
    xuan_sha256 h;
    uint8_t d[32];
    xuan_sha256_init(&h);
    xuan_sha256_update(&h, b->identity, strlen(b->identity));
    xuan_sha256_update(&h, "\n", 1);
    xuan_sha256_update(&h, s, strlen(s));
    xuan_sha256_final(&h, d);
    xuan_sha256_hex(d, key);
    free(s); /* jansson's allocator */
    return 0;
}

static char *reply_to_json(const xuan_eval_reply *r, size_t n_choices) {
    json_t *o = json_pack("{s:s, s:I, s:I, s:s}", "text", r->text ? r->text : "", "n_prompt", (json_int_t)r->n_prompt,
                          "n_gen", (json_int_t)r->n_gen, "finish", r->finish);
    if (o && n_choices) {
        json_t *lp = json_array();
        for (size_t i = 0; lp && i < n_choices; i++) json_array_append_new(lp, json_real(r->logprobs[i]));
        json_object_set_new(o, "logprobs", lp);
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char *c = s ? xuan_strdup(s) : NULL;
    free(s);
    return c;
}

/* A cached reply; a damaged entry is an error (the caller asks again). */
static int reply_from_json(const char *s, size_t n_choices, xuan_eval_reply *r) {
    memset(r, 0, sizeof *r);
    json_t *o = json_loads(s, 0, NULL);
    json_t *t = json_object_get(o, "text"), *lp = json_object_get(o, "logprobs");
    int rc = -1;
    if (n_choices) {
        bool good = json_array_size(lp) == n_choices && (r->logprobs = xuan_calloc(n_choices, sizeof(double)));
        for (size_t i = 0; good && i < n_choices; i++) {
            json_t *v = json_array_get(lp, i);
            good = json_is_number(v);
            if (good) r->logprobs[i] = json_number_value(v);
        }
        if (!good) {
            json_decref(o);
            xuan_eval_reply_free(r);
            return -1;
        }
    }
    if (json_is_string(t) && (r->text = xuan_strndup(json_string_value(t), json_string_length(t)))) {
        json_int_t p = json_integer_value(json_object_get(o, "n_prompt"));
        json_int_t g = json_integer_value(json_object_get(o, "n_gen"));
        r->n_prompt = p > 0 && p < UINT32_MAX ? (uint32_t)p : 0;
        r->n_gen = g > 0 && g < UINT32_MAX ? (uint32_t)g : 0;
        const char *f = json_string_value(json_object_get(o, "finish"));
        snprintf(r->finish, sizeof r->finish, "%s", f ? f : "");
        rc = 0;
    }
    json_decref(o);
    if (rc) xuan_eval_reply_free(r);
    return rc;
}

/* ---- 2. one item ------------------------------------------------------------------ */

typedef struct runner {
    const xuan_eval_task *t;
    const xuan_eval_data *d;
    const xuan_eval_run_opts *o;
    xuan_eval_run_stats *st;
    pthread_mutex_t mu;
    uint8_t *done;    /* per item: stored before this call */
    size_t next;      /* the next item to take */
    size_t finished;  /* items stored or failed in this call */
    size_t batch;     /* items per backend call: 1, or up to backend->batch */
    size_t samples;   /* per item; the runner's units are item * samples + sample */
    int fatal;        /* first error that stops the run */
    xuan_error fatal_err;
} runner;

/* Extracts and scores with every extractor; code tasks run the program.
 * Fills the JSON texts of the record (heap, jansson's allocator). */
static int score_item(runner *r, const xuan_eval_item *it, const char *target, const char *output, char **extracted,
                      char **correct, int *first, xuan_error *err) {
    const xuan_eval_task *t = r->t;
    json_t *ex = json_object(), *co = json_object();
    int rc = ex && co ? 0 : xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    *first = -1;
    for (size_t k = 0; !rc && k < t->n_extractors; k++) {
        xuan_eval_verdict v = {0};
        const char *name = xuan_eval_extractor_name(t->extractors[k]);
        if ((rc = xuan_eval_score(t, k, output, target, NULL, &v, err)) != 0) break;
        int correct_k = v.correct;
        if (t->answer == XUAN_ANSWER_CODE) {
            /* the completion, think block stripped, runs with its tests */
            size_t n = 0;
            const char *ans = xuan_eval_strip_think(output, strlen(output), &n);
            xuan_buf prog = {0};
            char *comp = ans ? xuan_strndup(ans, n) : NULL;
            correct_k = 0;
            if (ans && !comp) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            if (comp) {
                pthread_mutex_lock(&r->mu); /* the template engine is not shared across threads */
                rc = xuan_eval_program(t, it, comp, &prog, err);
                pthread_mutex_unlock(&r->mu);
                if (!rc && xuan_buf_puts(&prog, XUAN_SANDBOX_DONE_PY)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
                if (!rc) {
                    xuan_sandbox_opts so = xuan_sandbox_opts_default();
                    so.mode = r->o->sandbox;
                    so.timeout_s = r->o->sandbox_timeout_s > 0 ? r->o->sandbox_timeout_s : xuan_sandbox_timeout_for(0);
                    so.require_done = true;
                    xuan_sandbox_result res;
                    rc = xuan_sandbox_run(&so, prog.data, prog.len, &res, err);
                    if (!rc) {
                        correct_k = res.verdict == XUAN_SANDBOX_PASSED;
                        json_object_set_new(ex, "verdict", json_string(xuan_sandbox_verdict_name(res.verdict)));
                    }
                    xuan_sandbox_result_free(&res);
                }
            }
            xuan_buf_free(&prog);
            xuan_free(comp);
        }
        if (!rc) {
            json_object_set_new(ex, name, v.extracted ? json_string(v.extracted) : json_null());
            json_object_set_new(co, name, correct_k < 0 ? json_null() : json_boolean(correct_k));
            if (k == 0) *first = correct_k;
        }
        xuan_eval_verdict_free(&v);
    }
    *extracted = rc ? NULL : json_dumps(ex, JSON_COMPACT);
    *correct = rc ? NULL : json_dumps(co, JSON_COMPACT);
    json_decref(ex);
    json_decref(co);
    if (!rc && (!*extracted || !*correct)) {
        free(*extracted);
        free(*correct);
        *extracted = *correct = NULL;
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    return rc;
}

/* A log-likelihood verdict: the most likely choice (the first on ties). */
static int score_loglik(const char *letters, const double *lp, size_t n, const char *target, char **extracted,
                        char **correct, int *first, char *chosen) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (lp[i] > lp[best]) best = i;
    chosen[0] = letters[best], chosen[1] = 0;
    while (*target == ' ' || *target == '\t' || *target == '\n') target++;
    *first = (target[0] | 0x20) == (chosen[0] | 0x20) && (!target[1] || target[1] == ' ' || target[1] == '\n');
    json_t *ex = json_object(), *lpo = json_object(), *co = json_object();
    for (size_t i = 0; lpo && i < n; i++) {
        char k[2] = {letters[i], 0};
        json_object_set_new(lpo, k, json_real(lp[i]));
    }
    json_object_set_new(ex, "loglik", json_string(chosen));
    json_object_set_new(ex, "logprobs", lpo);
    json_object_set_new(co, "loglik", json_boolean(*first));
    *extracted = json_dumps(ex, JSON_COMPACT);
    *correct = json_dumps(co, JSON_COMPACT);
    json_decref(ex);
    json_decref(co);
    if (*extracted && *correct) return 0;
    free(*extracted);
    free(*correct);
    *extracted = *correct = NULL;
    return XUAN_ERR_NOMEM;
}

static const char *const CHOICES[26] = {" A", " B", " C", " D", " E", " F", " G", " H", " I", " J", " K", " L", " M",
                                        " N", " O", " P", " Q", " R", " S", " T", " U", " V", " W", " X", " Y", " Z"};

/* One item on its way: prepared (prompt, request, cache lookup), answered
 * (by the cache or the backend), finished (scored and stored). */
typedef struct pending {
    size_t i;       /* the item */
    uint32_t s;     /* its sample */
    const xuan_eval_item *it;
    const char *target;
    bool loglik;
    char letters[27];
    xuan_buf prompt;
    xuan_eval_request rq;
    char key[65];
    xuan_eval_reply rep;
    bool from_cache;
    double t0;
} pending;

static void item_free(pending *p) {
    xuan_eval_reply_free(&p->rep);
    xuan_buf_free(&p->prompt);
}

/* Each of these returns 0, 1 (the item failed: printed, not stored) or a
 * fatal status (err set). */
static int item_prepare(runner *r, size_t unit, pending *p, xuan_error *err) {
    const xuan_eval_task *t = r->t;
    const xuan_eval_run_opts *o = r->o;
    memset(p, 0, sizeof *p);
    const size_t i = unit / r->samples;
    p->i = i;
    p->s = (uint32_t)(unit % r->samples);
    p->it = xuan_eval_data_item(r->d, i, NULL);
    pthread_mutex_lock(&r->mu);
    int rc = xuan_eval_prompt(t, r->d, i, &p->prompt, err);
    pthread_mutex_unlock(&r->mu);
    if (rc) return rc == XUAN_ERR_NOMEM ? rc : (xuan_log(XUAN_LOG_ERROR, "%s item %zu: %s", t->name, i, err->msg), 1);
    p->target = t->target ? xuan_eval_item_get(p->it, t->target) : "";
    if (!p->target) p->target = "";
    p->loglik = !o->force_generate && (o->force_loglik || t->mode == XUAN_EVAL_LOGLIK) &&
                t->answer == XUAN_ANSWER_LETTER && xuan_eval_task_has_options(t);
    xuan_eval_item_letters(t, p->it, p->letters);
    p->rq = (xuan_eval_request){
        .prompt = p->prompt.len ? p->prompt.data : "",
        .raw = o->raw,
        .max_tokens = o->max_tokens ? o->max_tokens : t->max_tokens,
        .stop = (const char *const *)t->stop,
        .n_stop = t->n_stop,
        .temperature = o->temperature,
        .seed = o->seed + p->s, /* each sample its own stream (and cache key) */
    };
    /* Only the prompt and the choices decide a log-likelihood answer, over
     * the raw prompt (no chat template), as lm-evaluation-harness scores
     * multiple choice by default and as /v1/completions can only do. */
    if (p->loglik)
        p->rq = (xuan_eval_request){.prompt = p->rq.prompt, .raw = true, .choices = CHOICES,
                                    .n_choices = strlen(p->letters)};
    if ((rc = xuan_eval_request_key(o->backend, &p->rq, p->key, err)) != 0) return rc;
    p->t0 = xuan_time_s();
    if (o->no_cache) return 0;
    char *cached = NULL;
    pthread_mutex_lock(&r->mu);
    rc = xuan_eval_store_cache_get(o->store, p->key, &cached, err);
    pthread_mutex_unlock(&r->mu);
    if (rc) return rc;
    p->from_cache = cached && reply_from_json(cached, p->rq.n_choices, &p->rep) == 0;
    xuan_free(cached);
    return 0;
}

/* After the backend answered with status grc (gerr): errors, the cache. */
static int item_answered(runner *r, pending *p, int grc, const xuan_error *gerr, xuan_error *err) {
    const xuan_eval_run_opts *o = r->o;
    if (grc == XUAN_ERR_INTERRUPTED) return 1;
    /* every endpoint down: the run stops, the item stays for a resume */
    if (grc == XUAN_ERR_NOMEM || grc == XUAN_ERR_UNAVAILABLE) return xuan_fail(err, grc, "%s", gerr->msg);
    if (grc) {
        xuan_log(XUAN_LOG_ERROR, "%s item %zu: %s", r->t->name, p->i, gerr->msg);
        return 1;
    }
    if (o->no_cache) return 0;
    char *js = reply_to_json(&p->rep, p->rq.n_choices);
    if (!js) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&r->mu);
    int rc = xuan_eval_store_cache_put(o->store, p->key, js, err);
    pthread_mutex_unlock(&r->mu);
    xuan_free(js);
    return rc;
}

static int item_finish(runner *r, pending *p, xuan_error *err) {
    const xuan_eval_task *t = r->t;
    const xuan_eval_run_opts *o = r->o;
    char *extracted = NULL, *correct = NULL, chosen[2] = "";
    int first = -1, rc = 0;
    if (p->loglik && !p->rep.logprobs) {
        xuan_log(XUAN_LOG_ERROR, "%s item %zu: the backend returned no log-probabilities", t->name, p->i);
        return 1;
    }
    if (p->loglik) {
        if (score_loglik(p->letters, p->rep.logprobs, p->rq.n_choices, p->target, &extracted, &correct, &first, chosen))
            return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    } else if ((rc = score_item(r, p->it, p->target, p->rep.text ? p->rep.text : "", &extracted, &correct, &first,
                                err)) != 0) {
        if (rc != XUAN_ERR_NOMEM && rc != XUAN_ERR_UNSUPPORTED && rc != XUAN_ERR_IO) {
            xuan_log(XUAN_LOG_ERROR, "%s item %zu: %s", t->name, p->i, err->msg);
            rc = 1;
        }
        return rc;
    }
    xuan_eval_record rec = {
        .run = o->run,
        .task = t->name,
        .index = (uint32_t)p->i,
        .sample = p->s,
        .prompt = p->rq.prompt,
        .output = p->loglik ? chosen : p->rep.text,
        .extracted = extracted,
        .correct = correct,
        .first_correct = first,
        .n_prompt = p->rep.n_prompt,
        .n_gen = p->rep.n_gen,
        .wall_s = xuan_time_s() - p->t0, /* generation (none when cached) and scoring */
        .finish = p->rep.finish,
        .status = p->from_cache ? "cached" : "ok",
    };
    pthread_mutex_lock(&r->mu);
    rc = xuan_eval_store_item_put(o->store, &rec, err);
    if (!rc) {
        if (p->from_cache) r->st->cached++;
        else r->st->generated++;
    }
    pthread_mutex_unlock(&r->mu);
    free(extracted); /* jansson's allocator */
    free(correct);
    return rc;
}

/* Does item i alone. */
static int do_item(runner *r, size_t i, xuan_error *err) {
    const xuan_eval_backend *b = r->o->backend;
    pending p;
    int rc = item_prepare(r, i, &p, err);
    if (!rc && !p.from_cache) {
        xuan_error gerr = {0};
        int grc = !p.loglik ? b->generate(b->self, &p.rq, r->o->interrupt, &p.rep, &gerr)
                  : b->loglik ? b->loglik(b->self, &p.rq, r->o->interrupt, &p.rep, &gerr)
                              : xuan_fail(&gerr, XUAN_ERR_UNSUPPORTED, "this backend gives no log-likelihoods");
        rc = item_answered(r, &p, grc, &gerr, err);
    }
    if (!rc) rc = item_finish(r, &p, err);
    item_free(&p);
    return rc;
}

/* Does items idx[0..n) of a generation task together: the requests the
 * cache does not answer go to the backend in one generate_batch call.
 * rcs[k] gets item k's outcome (0 or 1); a fatal status is returned. */
static int do_items(runner *r, const size_t *idx, size_t n, int *rcs, xuan_error *err) {
    const xuan_eval_backend *b = r->o->backend;
    pending *p = xuan_calloc(n, sizeof *p);
    xuan_eval_request *rqs = xuan_calloc(n, sizeof *rqs);
    xuan_eval_reply *reps = xuan_calloc(n, sizeof *reps);
    xuan_error *gerrs = xuan_calloc(n, sizeof *gerrs);
    int *grcs = xuan_calloc(n, sizeof *grcs);
    size_t *slot = xuan_calloc(n, sizeof *slot);
    int rc = p && rqs && reps && gerrs && grcs && slot ? 0 : xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t k = 0; !rc && k < n; k++) {
        rcs[k] = item_prepare(r, idx[k], &p[k], err);
        if (rcs[k] > 1) rc = rcs[k];
        else if (!rcs[k] && !p[k].from_cache) slot[m] = k, rqs[m++] = p[k].rq;
    }
    if (!rc && m) b->generate_batch(b->self, rqs, m, r->o->interrupt, reps, grcs, gerrs);
    for (size_t j = 0; j < m; j++) p[slot[j]].rep = reps[j]; /* owned by the pending item now */
    for (size_t j = 0; !rc && j < m; j++) rcs[slot[j]] = item_answered(r, &p[slot[j]], grcs[j], &gerrs[j], err);
    for (size_t k = 0; !rc && k < n; k++) {
        if (rcs[k] > 1) rc = rcs[k];
        else if (!rcs[k]) rcs[k] = item_finish(r, &p[k], err);
        if (rcs[k] > 1) rc = rcs[k];
    }
    for (size_t k = 0; p && k < n; k++) item_free(&p[k]);
    xuan_free(p);
    xuan_free(rqs);
    xuan_free(reps);
    xuan_free(gerrs);
    xuan_free(grcs);
    xuan_free(slot);
    return rc;
}

/* ---- 3. the loop -------------------------------------------------------------------- */

static void *work(runner *r) {
    size_t idx[XUAN_EVAL_MAX_BATCH];
    int rcs[XUAN_EVAL_MAX_BATCH];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t n = 0;
        bool stop = r->fatal || (r->o->interrupt && *r->o->interrupt);
        while (!stop && n < r->batch && r->next < r->st->total) {
            if (!r->done[r->next]) idx[n++] = r->next;
            r->next++;
        }
        pthread_mutex_unlock(&r->mu);
        if (stop || !n) break;
        xuan_error err = {0};
        int rc;
        memset(rcs, 0, sizeof rcs);
        if (r->batch > 1) {
            rc = do_items(r, idx, n, rcs, &err);
        } else {
            rcs[0] = do_item(r, idx[0], &err);
            rc = rcs[0] > 1 ? rcs[0] : 0;
        }
        pthread_mutex_lock(&r->mu);
        for (size_t k = 0; k < n; k++) r->st->failed += rcs[k] == 1;
        if (rc && !r->fatal) r->fatal = rc, r->fatal_err = err;
        r->finished += n;
        if (r->o->progress) r->o->progress(r->o->progress_ctx, r->st->skipped + r->finished, r->st->total);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

/* A thread of its own: it releases the template engine's per-thread memory
 * before it exits (the calling thread, a worker too, keeps it). */
static void *worker(void *arg) {
    work(arg);
    xuan_chat_thread_release();
    return NULL;
}

static int mark_done(void *ctx, const xuan_eval_record *rec) {
    runner *r = ctx;
    if (rec->sample >= r->samples) return 0;
    size_t unit = (size_t)rec->index * r->samples + rec->sample;
    if (unit < r->st->total && !r->done[unit]) {
        r->done[unit] = 1;
        r->st->skipped++;
    }
    return 0;
}

int xuan_eval_run_task(const xuan_eval_task *t, const xuan_eval_data *d, const xuan_eval_run_opts *o,
                       xuan_eval_run_stats *st, xuan_error *err) {
    memset(st, 0, sizeof *st);
    if (!o->store || !o->backend || !o->backend->generate || !o->backend->identity)
        return xuan_fail(err, XUAN_ERR_USAGE, "eval run: a store and a backend are required");
    double t0 = xuan_time_s();
    const size_t n_items = o->limit && o->limit < d->n_items ? o->limit : d->n_items;
    runner r = {.t = t, .d = d, .o = o, .st = st, .samples = o->samples > 1 ? o->samples : 1};
    if (n_items > SIZE_MAX / r.samples) return xuan_fail(err, XUAN_ERR_USAGE, "eval run: too many samples");
    st->total = n_items * r.samples;
    if (!(r.done = xuan_calloc(st->total ? st->total : 1, 1))) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int rc = xuan_eval_store_items(o->store, o->run, t->name, mark_done, &r, err);
    if (rc) {
        xuan_free(r.done);
        return rc;
    }
    pthread_mutex_init(&r.mu, NULL);
    const bool loglik_task = !o->force_generate && (o->force_loglik || t->mode == XUAN_EVAL_LOGLIK) &&
                             t->answer == XUAN_ANSWER_LETTER && xuan_eval_task_has_options(t);
    r.batch = o->backend->generate_batch && o->backend->batch > 1 && !loglik_task ? (size_t)o->backend->batch : 1;
    if (r.batch > XUAN_EVAL_MAX_BATCH) r.batch = XUAN_EVAL_MAX_BATCH;
    int par = o->parallel > 0 ? o->parallel : 1;
    if (par > o->backend->parallel) par = o->backend->parallel > 0 ? o->backend->parallel : 1;
    if ((size_t)par > st->total - st->skipped) par = (int)(st->total - st->skipped);
    if (o->progress) o->progress(o->progress_ctx, st->skipped, st->total);
    pthread_t th[256];
    int started = 0;
    if (par > 256) par = 256;
    for (int k = 1; k < par; k++) {
        if (pthread_create(&th[started], NULL, worker, &r) != 0) break;
        started++;
    }
    if (par > 0) work(&r); /* this thread is a worker too */
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    pthread_mutex_destroy(&r.mu);
    xuan_free(r.done);
    st->interrupted = o->interrupt && *o->interrupt;
    st->wall_s = xuan_time_s() - t0;
    if (r.fatal) {
        *err = r.fatal_err;
        return r.fatal;
    }
    return 0;
}
