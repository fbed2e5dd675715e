/*
 * loop.c — the generation loop: prompt (reusing the cached prefix), then
 * sample -> detokenize -> stop strings -> emit, one token at a time.
 *
 * Text path of a token: xuan_tok_stream turns ids into whole UTF-8
 * characters, xuan_stop holds back what could be the start of a stop
 * string, and only then the caller's emit sees it.  An end-of-generation
 * token ends the reply without being printed.
 */
#include "xuan/gen.h"
#include "xuan/model.h"
#include "xuan/tok.h"

#include <string.h>

const char *xuan_gen_end_name(xuan_gen_end e) {
    switch (e) {
    case XUAN_GEN_END_LENGTH: return "length";
    case XUAN_GEN_END_EOG: return "eog";
    case XUAN_GEN_END_STOP: return "stop";
    case XUAN_GEN_END_CTX_FULL: return "context_full";
    case XUAN_GEN_END_INTERRUPT: return "interrupted";
    }
    return "?";
}

xuan_gen_params xuan_gen_params_default(void) {
    return (xuan_gen_params){.n_predict = 128, .accept_prompt = true};
}

/* Text through the stop filter to the caller; 1 = stop now. */
static int pass_text(const xuan_gen_params *gp, xuan_stop *stop, const char *p, size_t n, bool *hit) {
    const char *emit = p;
    size_t emit_n = n;
    if (stop) {
        int rc = xuan_stop_feed(stop, p, n, &emit, &emit_n);
        if (rc < 0 || rc > 1) return rc;
        if (rc == 1) *hit = true;
    }
    if (emit_n && gp->emit && gp->emit(gp->emit_user, emit, emit_n)) return 1;
    return *hit ? 1 : 0;
}

/* After n decode steps: warn once when the weights keep coming from disk.
 * One major fault every other step on average, over 8 steps or more, is the
 * sign: a model that stays resident takes none once its prompt has run, and
 * one whose pages the kernel keeps evicting takes thousands per step (a
 * fault reads up to the readahead window, 128 KiB by default). */
enum { REFAULT_MIN_STEPS = 8 };

static void watch_faults(const xuan_ctx *c, xuan_gen_stats *st, uint64_t base, uint64_t n) {
    st->major_faults_gen = xuan_major_faults() - base;
    if (st->refault_warned || n < REFAULT_MIN_STEPS || 2 * st->major_faults_gen < n) return;
    st->refault_warned = true;
    const xuan_model *m = xuan_ctx_model(c);
    xuan_log(XUAN_LOG_WARN,
             "the weights are being read from disk while generating (%.1f major page faults per token): "
             "the page cache cannot keep the model's %.2f GiB; --mlock locks them in memory, --no-mmap reads "
             "them into RAM once",
             (double)st->major_faults_gen / (double)n, (double)xuan_model_weight_bytes(m) / (1u << 30));
}

int xuan_generate(xuan_ctx *c, const xuan_tok *tok, xuan_sampler *smp, xuan_stop *stop,
                  const int32_t *prompt, size_t n_prompt, const xuan_gen_params *gpp,
                  xuan_gen_stats *st, xuan_error *err) {
    xuan_gen_params gp = gpp ? *gpp : xuan_gen_params_default();
    memset(st, 0, sizeof *st);
    st->n_prompt = (uint32_t)n_prompt;
    const uint32_t n_ctx = xuan_ctx_n_ctx(c);
    if (n_prompt >= n_ctx)
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "the prompt has %zu tokens but the context holds %u (it needs room for at "
                         "least one more); use a larger -c or a shorter prompt",
                         n_prompt, n_ctx);
    if (gp.out_ids && gp.out_ids_cap == 0)
        return xuan_fail(err, XUAN_ERR_USAGE, "out_ids given without out_ids_cap (its room in ids)");
    /* Tokens to generate at most: n_predict, or (< 0) until the context is
     * full, and never more than out_ids can hold. */
    int64_t limit = gp.n_predict < 0 ? INT64_MAX : gp.n_predict;
    if (gp.out_ids && (uint64_t)limit > gp.out_ids_cap) limit = (int64_t)gp.out_ids_cap;
    if (stop) xuan_stop_reset(stop);
    xuan_ctx_set_stop(c, gp.interrupt);

    /* Reuse the cached prefix; re-evaluate at least one token for logits. */
    uint32_t keep = 0, n_past = xuan_ctx_n_past(c);
    const int32_t *cached = xuan_ctx_tokens(c);
    while (keep < n_past && keep < n_prompt && cached[keep] == prompt[keep]) keep++;
    if (n_prompt > 0 && keep == n_prompt) keep--;
    /* a sliding-window cache that no longer holds keep's window: start
     * over; a recurrent state: back to its latest checkpoint up to keep */
    if (n_prompt > 0 && keep > 0) keep = (uint32_t)xuan_ctx_seq_resume_at(c, 0, (int32_t)keep);
    if (n_prompt == 0) {
        if (n_past == 0) return xuan_fail(err, XUAN_ERR_USAGE, "nothing to continue: the prompt is empty");
        keep = n_past; /* continue from the cached state: logits are current */
    }
    xuan_ctx_truncate(c, keep);
    st->n_prompt_eval = (uint32_t)(n_prompt > keep ? n_prompt - keep : 0);
    if (gp.accept_prompt)
        for (size_t i = 0; i < n_prompt; i++) xuan_sampler_accept(smp, prompt[i]);

    double t0 = xuan_time_s();
    uint64_t flt0 = xuan_major_faults();
    int rc = xuan_ctx_eval(c, prompt + keep, st->n_prompt_eval, err);
    st->t_prompt_s = xuan_time_s() - t0;
    const uint64_t flt_gen0 = xuan_major_faults();
    st->major_faults_prompt = flt_gen0 - flt0;
    if (rc == XUAN_ERR_INTERRUPTED) {
        st->end = XUAN_GEN_END_INTERRUPT;
        return 0;
    }
    if (rc) return rc;

    xuan_tok_stream ts;
    xuan_tok_stream_init(&ts, tok, gp.print_special ? XUAN_TOK_DECODE_SPECIAL : 0);
    /* The stream drops the SentencePiece dummy-prefix space of its first
     * token; a continuation is not the start of a text, so mark it started. */
    ts.started = true;
    xuan_buf text = {0};
    bool hit = false;
    t0 = xuan_time_s();
    st->end = XUAN_GEN_END_LENGTH;
    for (int64_t i = 0; i < limit; i++) {
        if (gp.interrupt && *gp.interrupt) {
            st->end = XUAN_GEN_END_INTERRUPT;
            break;
        }
        int32_t id;
        if ((rc = xuan_sampler_sample(smp, xuan_ctx_logits(c), &id, err))) break;
        xuan_sampler_accept(smp, id);
        if (gp.out_ids) gp.out_ids[st->n_gen] = id;
        st->n_gen++;
        if (tok && xuan_tok_is_eog(tok, id)) {
            st->end = XUAN_GEN_END_EOG;
            break;
        }
        if (tok) {
            xuan_buf_reset(&text);
            if (xuan_tok_stream_push(&ts, id, &text)) {
                rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
                break;
            }
            int pr = text.len ? pass_text(&gp, stop, text.data, text.len, &hit) : 0;
            if (pr < 0 || pr > 1) {
                rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
                break;
            }
            if (pr == 1) {
                st->end = hit ? XUAN_GEN_END_STOP : XUAN_GEN_END_INTERRUPT;
                break;
            }
        }
        if (i + 1 == limit) break; /* no need to evaluate the last one */
        if (xuan_ctx_n_past(c) + 1 > n_ctx) {
            st->end = XUAN_GEN_END_CTX_FULL;
            break;
        }
        rc = xuan_ctx_eval(c, &id, 1, err);
        watch_faults(c, st, flt_gen0, (uint64_t)i + 1);
        if (rc == XUAN_ERR_INTERRUPTED) {
            rc = 0;
            st->end = XUAN_GEN_END_INTERRUPT;
            break;
        }
        if (rc) break;
    }
    /* Flush what the detokenizer and the stop filter still hold. */
    if (!rc && tok && !hit && st->end != XUAN_GEN_END_INTERRUPT) {
        xuan_buf_reset(&text);
        if (xuan_tok_stream_flush(&ts, &text) == 0 && text.len) pass_text(&gp, stop, text.data, text.len, &hit);
        if (stop && !hit) {
            const char *e;
            size_t en;
            xuan_stop_flush(stop, &e, &en);
            if (en && gp.emit) gp.emit(gp.emit_user, e, en);
        }
    }
    st->t_gen_s = xuan_time_s() - t0;
    xuan_buf_free(&text);
    return rc;
}
