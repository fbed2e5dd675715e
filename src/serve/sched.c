/*
 * sched.c — the scheduler: one thread owns the xuan_ctx and runs
 * continuous batching over the slots (one cache sequence each).
 *
 *   assign   queued jobs -> free slots, preferring the slot whose cached
 *            tokens share the longest prefix with the prompt
 *   build    one xuan_batch: the last sampled token of every generating
 *            slot, then prompt tokens of slots in prefill, at most
 *            prefill_chunk of them per step in all (a long prompt takes
 *            several steps and never stalls the streams already running)
 *   decode   xuan_ctx_decode once
 *   sample   each slot with its own sampler; text through the streaming
 *            detokenizer and the stop filter into the job, under s->mu
 *
 * A job's result depends only on its own tokens: the batch composition
 * changes nothing for Q8_0/Q6_K weights with a Q8_0 cache (model.h), and
 * tests/cli_serve.sh checks that greedy answers among 32 concurrent ones
 * equal the lone answers.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum slot_phase { SLOT_IDLE, SLOT_PREFILL, SLOT_GEN } slot_phase;

typedef struct slot {
    int32_t seq;
    job *job;
    slot_phase phase;
    int32_t *cache;     /* the tokens this sequence holds in the KV cache, by position */
    uint32_t n_cache;
    int32_t last;       /* sampled, to be evaluated next step */
    xuan_tok_stream ts;
    float *biased;      /* logits with the request's logit_bias, n_vocab */
    float *masked;      /* logits under response_format's constraint, n_vocab */
    uint64_t last_used; /* step of the last assignment (least recently used wins ties) */
    /* this step's rows */
    int32_t row0, n_rows;
} slot;

void serve_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, unsigned ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- jobs ------------------------------------------------------------------ */

void serve_job_free(job *j) {
    if (!j) return;
    if (!j->lead) xuan_serve_request_free(&j->req);
    xuan_free(j->ids);
    xuan_sampler_free(j->smp);
    xuan_json_state_free(j->json);
    xuan_json_state_free(j->call_json);
    xuan_tok_ids_free(&j->forced);
    xuan_stop_free(j->stop);
    xuan_buf_free(&j->text);
    xuan_free(j->lps);
    xuan_free(j->prompt_lps);
    pthread_cond_destroy(&j->cv);
    xuan_free(j);
}

/* Under s->mu: one reference less; the last frees the job, and a
 * sibling's last frees its reference on the lead. */
static void unref_locked(job *j) {
    if (--j->refs) return;
    job *lead = j->lead;
    serve_job_free(j);
    if (lead && --lead->refs == 0) serve_job_free(lead);
}

void serve_job_unref(xuan_serve *s, job *j) {
    pthread_mutex_lock(&s->mu);
    unref_locked(j);
    pthread_mutex_unlock(&s->mu);
}

pthread_cond_t *serve_job_cv(job *j) { return j->lead ? &j->lead->cv : &j->cv; }

int serve_submit(xuan_serve *s, job **jobs, uint32_t n) {
    pthread_mutex_lock(&s->mu);
    /* the queue holds max_queue jobs beyond those the free slots take next step */
    if (s->stop || s->n_queued + n > s->p.max_queue + (s->p.n_slots - s->n_running)) {
        pthread_mutex_unlock(&s->mu);
        return XUAN_ERR_FULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        job *j = jobs[i];
        j->refs++;
        j->state = JOB_QUEUED;
        j->slot = -1;
        if (s->queue_tail) s->queue_tail->next = j;
        else s->queue_head = j;
        s->queue_tail = j;
        s->n_queued++;
    }
    s->n_requests++;
    pthread_cond_signal(&s->sched_cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void serve_cancel(xuan_serve *s, job *j) {
    pthread_mutex_lock(&s->mu);
    if (j->state != JOB_DONE && !j->cancelled) {
        j->cancelled = true;
        /* drops the sequence even from a decode in flight */
        if (j->state == JOB_RUNNING) xuan_ctx_seq_cancel(s->m.ctx, s->slots[j->slot].seq);
        pthread_cond_signal(&s->sched_cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- log-probabilities ------------------------------------------------------ */

void serve_logprobs(const float *logits, int32_t n_vocab, int32_t id, int n_top, tok_lp *out) {
    float mx = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++)
        if (logits[i] > mx) mx = logits[i];
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - mx);
    const double lse = sum > 0 ? mx + log(sum) : mx;
    out->id = id;
    out->has_lp = true;
    out->lp = (float)(logits[id] - lse);
    /* the n_top largest, by insertion into a short sorted list (ties: lower id first) */
    int n = 0;
    for (int32_t i = 0; i < n_vocab && n_top > 0; i++) {
        float v = logits[i];
        if (n == n_top && v <= logits[out->top[n - 1].id]) continue;
        int k = n < n_top ? n++ : n - 1;
        while (k > 0 && logits[out->top[k - 1].id] < v) out->top[k] = out->top[k - 1], k--;
        out->top[k].id = i;
    }
    for (int k = 0; k < n; k++) out->top[k].lp = (float)(logits[out->top[k].id] - lse);
    out->n_top = (uint8_t)n;
}

/* ---- slots --------------------------------------------------------------------- */

static uint32_t common_prefix(const int32_t *a, uint32_t na, const int32_t *b, size_t nb) {
    uint32_t k = 0;
    while (k < na && k < nb && a[k] == b[k]) k++;
    return k;
}

/* The free slot for j: the longest shared prefix, then the least recently used. */
static slot *pick_slot(xuan_serve *s, const job *j) {
    slot *best = NULL;
    uint32_t best_k = 0;
    for (uint32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->job) continue;
        uint32_t k = common_prefix(sl->cache, sl->n_cache, j->ids, j->n_ids);
        if (!best || k > best_k || (k == best_k && sl->last_used < best->last_used)) best = sl, best_k = k;
    }
    return best;
}

/* Empties the sequence (also clearing a standing cancellation). */
static void slot_clear(xuan_serve *s, slot *sl) {
    xuan_ctx_seq_rm(s->m.ctx, sl->seq, -1, -1, NULL);
    sl->n_cache = 0;
}

/* Under s->mu: j takes sl (the prompt's evaluation is set up by the caller). */
static void slot_take(xuan_serve *s, slot *sl, job *j, uint64_t step, uint32_t keep) {
    sl->n_cache = keep;
    sl->job = j;
    sl->phase = SLOT_PREFILL;
    sl->last_used = step;
    xuan_tok_stream_init(&sl->ts, s->m.tok, 0);
    sl->ts.started = true; /* a continuation, not the start of a text */
    j->slot = (int)(sl - s->slots);
    j->state = JOB_RUNNING;
    j->n_cached = keep;
    s->n_running++;
    s->n_prompt_tokens += j->n_ids - keep;
}

/* Under s->mu: j starts on sl, reusing the shared prefix of the cache;
 * a sibling waits for its lead's prompt instead. */
static void slot_start(xuan_serve *s, slot *sl, job *j, uint64_t step) {
    if (xuan_ctx_seq_cancelled(s->m.ctx, sl->seq)) slot_clear(s, sl);
    if (j->lead) {
        slot_clear(s, sl);
        j->wait_lead = true;
        slot_take(s, sl, j, step, 0);
        s->n_prompt_tokens -= j->n_ids - 1; /* only the last prompt token is its own */
        return;
    }
    /* echo + logprobs needs every prompt row's logits: no reuse then */
    bool want_rows = j->req.echo && j->req.logprobs;
    uint32_t keep = want_rows ? 0 : common_prefix(sl->cache, sl->n_cache, j->ids, j->n_ids);
    /* Another slot (running or not) holding a longer prefix lends its cells:
     * a system prompt shared by concurrent requests is evaluated once.  The
     * donor's cells below the shared length never change while it runs. */
    slot *donor = NULL;
    uint32_t dk = keep;
    for (uint32_t i = 0; i < s->p.n_slots && !want_rows; i++) {
        slot *o = &s->slots[i];
        if (o == sl || (o->job && o->job->cancelled) || xuan_ctx_seq_cancelled(s->m.ctx, o->seq)) continue;
        uint32_t k = common_prefix(o->cache, o->n_cache, j->ids, j->n_ids);
        if (k == j->n_ids) k--;
        k = (uint32_t)xuan_ctx_seq_resume_at(s->m.ctx, o->seq, (int32_t)k); /* a window, a state checkpoint */
        if (k > dk) donor = o, dk = k;
    }
    if (dk == j->n_ids) dk--; /* the last prompt token is evaluated again for its logits */
    if (keep == j->n_ids) keep--;
    /* a sliding-window cache that no longer holds keep's window: start
     * over; a recurrent state: back to its latest checkpoint up to keep */
    if (keep > 0) keep = (uint32_t)xuan_ctx_seq_resume_at(s->m.ctx, sl->seq, (int32_t)keep);
    if (donor && dk > keep &&
        xuan_ctx_seq_cp(s->m.ctx, donor->seq, sl->seq, 0, (int32_t)dk, NULL) == 0) {
        memcpy(sl->cache, donor->cache, dk * sizeof *sl->cache);
        keep = dk;
    }
    xuan_ctx_seq_rm(s->m.ctx, sl->seq, (int32_t)keep, -1, NULL);
    slot_take(s, sl, j, step, keep);
}

/* Under s->mu: the lead on sl has its prompt in the cache; its siblings
 * copy it and evaluate only the last prompt token (for their logits). */
static void release_siblings(xuan_serve *s, slot *sl) {
    const job *lead = sl->job;
    const uint32_t k = (uint32_t)lead->n_ids - 1;
    for (uint32_t i = 0; i < s->p.n_slots; i++) {
        slot *o = &s->slots[i];
        job *j = o->job;
        if (!j || j->lead != lead || !j->wait_lead) continue;
        j->wait_lead = false;
        /* a cache that cannot share the cells: the sibling evaluates the prompt itself */
        if (k && xuan_ctx_seq_cp(s->m.ctx, sl->seq, o->seq, 0, (int32_t)k, NULL) != 0) continue;
        memcpy(o->cache, sl->cache, k * sizeof *o->cache);
        o->n_cache = k;
        if (j->prompt_lps) memcpy(j->prompt_lps, lead->prompt_lps, lead->n_prompt_lps * sizeof *j->prompt_lps);
    }
}

/* Under s->mu: the job ends (error_status 0: finish reason given). */
static void slot_finish(xuan_serve *s, slot *sl, const char *finish, int error_status, const char *msg) {
    job *j = sl->job;
    j->finish = finish;
    if (error_status) {
        j->err_status = error_status;
        snprintf(j->err_msg, sizeof j->err_msg, "%s", msg);
        s->n_errors++;
    }
    j->state = JOB_DONE;
    pthread_cond_broadcast(serve_job_cv(j));
    /* a lead that ends before its prompt is in the cache takes its waiting siblings along */
    for (uint32_t i = 0; i < s->p.n_slots && !j->lead; i++)
        if (s->slots[i].job && s->slots[i].job->lead == j && s->slots[i].job->wait_lead)
            slot_finish(s, &s->slots[i], finish, error_status, msg);
    if (j->cancelled || xuan_ctx_seq_cancelled(s->m.ctx, sl->seq)) slot_clear(s, sl);
    sl->job = NULL;
    sl->phase = SLOT_IDLE;
    s->n_running--;
    pthread_cond_broadcast(&s->idle_cv);
    unref_locked(j);
}

/* Under s->mu: a queued job ends before it got a slot. */
static void queued_finish(xuan_serve *s, job *j, int status, const char *msg) {
    j->state = JOB_DONE;
    if (status) {
        j->err_status = status;
        snprintf(j->err_msg, sizeof j->err_msg, "%s", msg);
    }
    pthread_cond_broadcast(serve_job_cv(j));
    pthread_cond_broadcast(&s->idle_cv);
    unref_locked(j);
}

/* ---- one step -------------------------------------------------------------------- */

typedef struct step_bufs {
    int32_t *tok, *seq;
    int8_t *want;
    uint32_t cap;
} step_bufs;

static const char timeout_msg[] = "the request ran past the server's time limit (--timeout)";

/* Under s->mu: cancellations, timeouts, and queued jobs into free slots. */
static void schedule(xuan_serve *s, uint64_t step) {
    uint64_t now = xuan_time_ns();
    for (uint32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (!sl->job) continue;
        if (sl->job->cancelled) slot_finish(s, sl, "cancelled", 0, NULL);
        else if (now > sl->job->deadline_ns) slot_finish(s, sl, NULL, 504, timeout_msg);
    }
    /* In order: once one waits for a slot, the ones behind it wait too, but
     * the whole queue is walked so that a client gone or timed out leaves
     * it at once. */
    job **pp = &s->queue_head, *prev = NULL;
    bool full = false;
    uint32_t n_free = s->p.n_slots - s->n_running;
    while (*pp) {
        job *j = *pp;
        bool drop = j->cancelled || now > j->deadline_ns;
        /* the n choices of a request start together (their siblings follow the lead in the queue) */
        if (!drop && !j->lead && j->req.n > n_free) full = true;
        slot *sl = drop || full ? NULL : pick_slot(s, j);
        if (!drop && !sl) {
            full = true;
            prev = j, pp = &j->next;
            continue;
        }
        *pp = j->next;
        if (s->queue_tail == j) s->queue_tail = prev;
        j->next = NULL;
        s->n_queued--;
        if (drop) queued_finish(s, j, j->cancelled ? 0 : 504, timeout_msg);
        else slot_start(s, sl, j, step), n_free--;
    }
}

static bool busy(const xuan_serve *s) {
    if (s->n_queued && s->n_running < s->p.n_slots) return true;
    return s->n_running > 0;
}

/* Adds one token to the batch for sl. */
static void push(step_bufs *b, int32_t *n, slot *sl, int32_t token, bool want) {
    XUAN_ASSERT((uint32_t)*n < b->cap);
    b->tok[*n] = token;
    b->seq[*n] = sl->seq;
    b->want[*n] = want;
    sl->cache[sl->n_cache++] = token;
    (*n)++;
}

/* Text of a token into the job (under s->mu); 1 when a stop string matched. */
static int emit_text(xuan_serve *s, slot *sl, int32_t id, xuan_buf *scratch) {
    job *j = sl->job;
    xuan_buf_reset(scratch);
    if (xuan_tok_stream_push(&sl->ts, id, scratch)) return -1;
    if (!scratch->len) return 0;
    /* a call the server writes ends where its grammar says: no stop strings */
    if (j->call == CALL_NAME || j->call == CALL_ARGS) return xuan_buf_append(&j->text, scratch->data, scratch->len) ? -1 : 0;
    const char *e;
    size_t en;
    int hit = xuan_stop_feed(j->stop, scratch->data, scratch->len, &e, &en);
    if (hit < 0) return -1;
    if (en && xuan_buf_append(&j->text, e, en)) return -1;
    (void)s;
    return hit;
}

static int flush_text(slot *sl, xuan_buf *scratch) {
    job *j = sl->job;
    xuan_buf_reset(scratch);
    if (xuan_tok_stream_flush(&sl->ts, scratch)) return -1;
    const char *e;
    size_t en;
    if (scratch->len) {
        int hit = xuan_stop_feed(j->stop, scratch->data, scratch->len, &e, &en);
        if (hit < 0 || (en && xuan_buf_append(&j->text, e, en))) return -1;
        if (hit) return 0;
    }
    xuan_stop_flush(j->stop, &e, &en);
    return en && xuan_buf_append(&j->text, e, en) ? -1 : 0;
}

static int lp_push(job *j, const tok_lp *lp) {
    if (j->n_lps == j->cap_lps) {
        size_t cap = j->cap_lps ? j->cap_lps * 2 : 64;
        tok_lp *p = xuan_realloc(j->lps, cap * sizeof *p);
        if (!p) return -1;
        j->lps = p, j->cap_lps = cap;
    }
    j->lps[j->n_lps++] = *lp;
    return 0;
}

/* A sampled token for sl's job (under s->mu). */
static void take_token(xuan_serve *s, slot *sl, int32_t id, const float *logits, xuan_buf *scratch) {
    job *j = sl->job;
    const xuan_tok *tok = s->m.tok;
    const int32_t n_vocab = (int32_t)xuan_model_hparams(s->m.model)->n_vocab;
    if (j->n_gen == 0) {
        j->t_first = xuan_time_s();
        s->ttft_sum_s += j->t_first - j->t_submit;
        s->n_ttft++;
    }
    j->n_gen++;
    s->n_gen_tokens++;
    if (xuan_tok_is_eog(tok, id)) {
        slot_finish(s, sl, flush_text(sl, scratch) ? NULL : "stop", 0, NULL);
        return;
    }
    if (j->req.logprobs) {
        tok_lp lp;
        serve_logprobs(logits, n_vocab, id, j->req.top_logprobs, &lp);
        if (lp_push(j, &lp)) {
            slot_finish(s, sl, NULL, 500, "out of memory");
            return;
        }
    }
    int hit = emit_text(s, sl, id, scratch);
    if (hit < 0) {
        slot_finish(s, sl, NULL, 500, "out of memory");
        return;
    }
    pthread_cond_broadcast(serve_job_cv(j));
    if (!hit && j->call != CALL_OFF && j->call != CALL_DONE) {
        bool closed;
        xuan_error err = {0};
        if (serve_call_advance(s, j, &closed, &err)) {
            slot_finish(s, sl, NULL, 500, err.msg);
            return;
        }
        if (closed) {
            slot_finish(s, sl, "tool_calls", 0, NULL);
            return;
        }
    }
    /* response_format: the value is closed, nothing may follow it */
    if (hit || (j->json && xuan_json_done(j->json))) {
        int fr = hit ? 0 : flush_text(sl, scratch);
        slot_finish(s, sl, fr ? NULL : "stop", fr ? 500 : 0, "out of memory");
        return;
    }
    /* the next step adds this token (and fixed call text) to the cache: it must fit the slot */
    bool full = sl->n_cache + 1 + j->forced.n > s->n_ctx_slot;
    if ((j->req.max_tokens >= 0 && j->n_gen >= (uint32_t)j->req.max_tokens) || full) {
        int fr = flush_text(sl, scratch);
        slot_finish(s, sl, fr ? NULL : "length", fr ? 500 : 0, "out of memory");
        return;
    }
    sl->last = id;
    sl->phase = SLOT_GEN;
}

/* Samples from a row's logits with the job's sampler (logit_bias applied on a copy). */
static int sample(xuan_serve *s, slot *sl, const float *logits, int32_t *id, xuan_error *err) {
    job *j = sl->job;
    const float *l = logits;
    if (j->req.n_bias) {
        const uint32_t n_vocab = xuan_model_hparams(s->m.model)->n_vocab;
        memcpy(sl->biased, logits, n_vocab * sizeof(float));
        for (size_t k = 0; k < j->req.n_bias; k++)
            if ((uint32_t)j->req.bias[k].token < n_vocab) {
                /* -100 bans the token, as OpenAI documents it */
                float *v = &sl->biased[j->req.bias[k].token];
                *v = j->req.bias[k].bias <= -100 ? -INFINITY : *v + j->req.bias[k].bias;
            }
        l = sl->biased;
    }
    xuan_json_state *js = j->call == CALL_NAME || j->call == CALL_ARGS ? j->call_json : j->json;
    if (js ? xuan_json_sample(js, s->json_vocab, j->smp, l, sl->masked, id, err)
           : xuan_sampler_sample(j->smp, l, id, err))
        return -1;
    xuan_sampler_accept(j->smp, *id);
    return 0;
}

/* Builds and decodes one batch, then hands the results over. */
static void step(xuan_serve *s, step_bufs *b, xuan_buf *scratch, uint64_t step_no) {
    const uint32_t n_slots = s->p.n_slots;
    const int32_t n_vocab = (int32_t)xuan_model_hparams(s->m.model)->n_vocab;
    int32_t n = 0;
    /* decode tokens first, then prompt chunks up to the step's budget */
    for (uint32_t i = 0; i < n_slots; i++) {
        slot *sl = &s->slots[i];
        sl->n_rows = 0;
        if (sl->job && sl->phase == SLOT_GEN) {
            /* fixed call text follows the sampled token; logits after the last */
            xuan_tok_ids *f = &sl->job->forced;
            sl->row0 = n;
            push(b, &n, sl, sl->last, f->n == 0);
            for (size_t k = 0; k < f->n; k++) {
                push(b, &n, sl, f->ids[k], k + 1 == f->n);
                xuan_sampler_accept(sl->job->smp, f->ids[k]);
            }
            sl->n_rows = 1 + (int32_t)f->n;
            f->n = 0;
        }
    }
    uint32_t budget = s->p.prefill_chunk;
    for (uint32_t k = 0; k < n_slots && budget; k++) {
        slot *sl = &s->slots[(k + step_no) % n_slots]; /* rotate who goes first */
        if (!sl->job || sl->phase != SLOT_PREFILL || sl->job->wait_lead) continue;
        job *j = sl->job;
        bool rows = j->req.echo && j->req.logprobs;
        uint32_t left = (uint32_t)j->n_ids - sl->n_cache, take = left < budget ? left : budget;
        if (rows && take > 64) take = 64; /* every row's logits: keep the step's logits small */
        sl->row0 = n;
        for (uint32_t t = 0; t < take; t++) push(b, &n, sl, j->ids[sl->n_cache], rows || t + 1 == left);
        sl->n_rows = (int32_t)take;
        budget -= take;
    }
    if (n == 0) return;
    xuan_batch batch = {.n_tokens = n, .token = b->tok, .seq_id = b->seq, .logits = b->want};
    xuan_error err = {0};
    int rc = xuan_ctx_decode(s->m.ctx, &batch, &err);

    pthread_mutex_lock(&s->mu);
    for (uint32_t i = 0; i < n_slots; i++) {
        slot *sl = &s->slots[i];
        job *j = sl->job;
        if (!j || !sl->n_rows) continue;
        if (j->cancelled || xuan_ctx_seq_cancelled(s->m.ctx, sl->seq)) {
            slot_finish(s, sl, "cancelled", 0, NULL);
            continue;
        }
        if (rc) {
            slot_clear(s, sl);
            slot_finish(s, sl, NULL, 500, err.msg);
            continue;
        }
        if (sl->phase == SLOT_PREFILL) {
            uint32_t p_end = sl->n_cache, p0 = p_end - (uint32_t)sl->n_rows;
            if (j->req.echo && j->req.logprobs) {
                /* row r predicts prompt token p0 + r + 1 */
                for (int32_t r = 0; r < sl->n_rows; r++) {
                    uint32_t next = p0 + (uint32_t)r + 1;
                    if (next >= j->n_ids) break;
                    serve_logprobs(xuan_ctx_logits_ith(s->m.ctx, sl->row0 + r), n_vocab, j->ids[next],
                                   j->req.top_logprobs, &j->prompt_lps[next]);
                }
            }
            if (p_end < j->n_ids) continue; /* more prompt next step */
            if (!j->lead && j->req.n > 1) release_siblings(s, sl);
            if (j->req.max_tokens == 0) {
                slot_finish(s, sl, "length", 0, NULL);
                continue;
            }
        }
        const float *logits = xuan_ctx_logits_ith(s->m.ctx, sl->row0 + sl->n_rows - 1);
        int32_t id;
        pthread_mutex_unlock(&s->mu); /* sampling a large vocabulary takes a while */
        int src = logits ? sample(s, sl, logits, &id, &err) : -1;
        pthread_mutex_lock(&s->mu);
        if (src) slot_finish(s, sl, NULL, 500, logits ? err.msg : "no logits for the slot's row");
        else take_token(s, sl, id, logits, scratch);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *sched_main(void *arg) {
    xuan_serve *s = arg;
    const uint32_t n_slots = s->p.n_slots;
    step_bufs b = {.cap = n_slots * (1 + SERVE_MAX_FORCED) + s->p.prefill_chunk};
    b.tok = xuan_alloc_array(b.cap, sizeof *b.tok);
    b.seq = xuan_alloc_array(b.cap, sizeof *b.seq);
    b.want = xuan_alloc_array(b.cap, sizeof *b.want);
    XUAN_ASSERT(b.tok && b.seq && b.want); /* checked sizes, allocated before serving */
    xuan_buf scratch = {0};
    uint64_t step_no = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && !busy(s)) {
            /* wake up now and then: queued jobs time out even when nothing runs */
            serve_cond_wait_ms(&s->sched_cv, &s->mu, 1000);
            schedule(s, step_no);
        }
        if (s->stop) break;
        schedule(s, ++step_no);
        pthread_mutex_unlock(&s->mu);
        step(s, &b, &scratch, step_no);
        pthread_mutex_lock(&s->mu);
    }
    /* stopping: every job still here ends with an error */
    for (uint32_t i = 0; i < n_slots; i++)
        if (s->slots[i].job) slot_finish(s, &s->slots[i], NULL, 503, "the server is shutting down");
    while (s->queue_head) {
        job *j = s->queue_head;
        s->queue_head = j->next;
        s->n_queued--;
        queued_finish(s, j, 503, "the server is shutting down");
    }
    s->queue_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    xuan_buf_free(&scratch);
    xuan_free(b.tok);
    xuan_free(b.seq);
    xuan_free(b.want);
    return NULL;
}

int serve_sched_start(xuan_serve *s, xuan_error *err) {
    const uint32_t n_vocab = xuan_model_hparams(s->m.model)->n_vocab;
    s->slots = xuan_calloc(s->p.n_slots, sizeof *s->slots);
    if (!s->slots) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for %u slots", s->p.n_slots);
    for (uint32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        sl->seq = (int32_t)i;
        sl->cache = xuan_alloc_array(s->n_ctx_slot, sizeof *sl->cache);
        sl->biased = xuan_alloc_array(n_vocab, sizeof *sl->biased);
        sl->masked = xuan_alloc_array(n_vocab, sizeof *sl->masked);
        if (!sl->cache || !sl->biased || !sl->masked) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the slots");
    }
    xuan_ctx_seq_rm(s->m.ctx, -1, -1, -1, NULL);
    if (pthread_create(&s->sched, NULL, sched_main, s) != 0)
        return xuan_fail(err, XUAN_ERR_IO, "cannot start the scheduler thread");
    s->sched_started = true;
    return 0;
}

void serve_sched_stop(xuan_serve *s) {
    if (s->sched_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->sched_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->sched, NULL);
        s->sched_started = false;
    }
    if (s->slots)
        for (uint32_t i = 0; i < s->p.n_slots; i++) {
            xuan_free(s->slots[i].cache);
            xuan_free(s->slots[i].biased);
            xuan_free(s->slots[i].masked);
        }
    xuan_free(s->slots);
    s->slots = NULL;
}
