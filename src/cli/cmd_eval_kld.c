/*
 * xuan eval kld -m Q.gguf --base BASE.gguf --text FILE [-c CTX] [-t N] [--json]
 *
 * How far a quantized model's next-token distributions are from its base
 * model's, as llama-perplexity --kl-divergence measures it: the text is
 * tokenized once (BOS as the vocabulary asks), cut into chunks of n_ctx
 * tokens, each chunk's first token replaced by BOS where the vocabulary adds
 * one, and each chunk evaluated from an empty cache in one batch.  Only the
 * second half of a chunk is scored (rows n_ctx/2 .. n_ctx-2, each predicting
 * the token after it), so every scored token sees at least n_ctx/2 tokens of
 * context.  Per scored token t, with log-softmaxes b (base) and q:
 *
 *     nll_q = -q[t]    nll_b = -b[t]    kld = sum_i exp(b_i) (b_i - q_i)
 *     dp = exp(q[t]) - exp(b[t])        same_top = argmax q == argmax b
 *
 * The base's distributions are used at full precision (llama-perplexity
 * stores them as 16-bit log-probs in a file between its two runs).
 */
#include "cli.h"
#include "xuan/gguf.h"
#include "xuan/model.h"
#include "xuan/tok.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: xuan eval kld -m Q.gguf --base BASE.gguf --text FILE [-c CTX] [-t N] [--json]\n"
               "  -m FILE        the quantized model\n"
               "  --base FILE    the model it was made from (same vocabulary)\n"
               "  --text FILE    the text to score (at least 2 x CTX tokens)\n"
               "  -c CTX         chunk length in tokens (default 512); the second half of each is scored\n"
               "  -t N           threads (default: all cores)\n"
               "  --json         one JSON object on stdout\n");
}

typedef struct side {
    xuan_model *m;
    xuan_tok *tok;
    xuan_ctx *c;
} side;

static void side_free(side *s) {
    xuan_ctx_free(s->c);
    xuan_tok_free(s->tok);
    xuan_model_free(s->m);
}

static int side_open(side *s, const char *path, uint32_t n_ctx, int threads) {
    xuan_error err = {0};
    if (!(s->m = xuan_model_load(path, &err))) return cli_error("%s", err.msg);
    if (!(s->tok = xuan_tok_from_gguf(xuan_model_gguf(s->m), &err))) return cli_error("%s: %s", path, err.msg);
    xuan_ctx_params p = xuan_ctx_params_default();
    p.n_ctx = n_ctx, p.n_batch = n_ctx, p.n_threads = threads;
    if (!(s->c = xuan_ctx_new(s->m, &p, &err))) return cli_error("%s: %s", path, err.msg);
    return 0;
}

/* Both must read and write the same tokens: same size, same pieces. */
static int same_vocab(const side *q, const side *b, const char *qp, const char *bp) {
    uint32_t nq = xuan_tok_n_vocab(q->tok), nb = xuan_tok_n_vocab(b->tok);
    if (nq != nb) return cli_error("%s has %u tokens, %s %u: not one vocabulary", qp, nq, bp, nb);
    if (xuan_model_hparams(q->m)->n_vocab != xuan_model_hparams(b->m)->n_vocab)
        return cli_error("%s has %u embedding rows, %s %u", qp, xuan_model_hparams(q->m)->n_vocab, bp,
                         xuan_model_hparams(b->m)->n_vocab);
    if (xuan_tok_bos(q->tok) != xuan_tok_bos(b->tok) || xuan_tok_add_bos(q->tok) != xuan_tok_add_bos(b->tok))
        return cli_error("%s and %s differ in their BOS token", qp, bp);
    char pa[256], pb[256];
    for (uint32_t i = 0; i < nq; i++) {
        size_t la = xuan_tok_piece(q->tok, (int32_t)i, true, pa, sizeof pa);
        size_t lb = xuan_tok_piece(b->tok, (int32_t)i, true, pb, sizeof pb);
        if (la != lb || memcmp(pa, pb, la < sizeof pa ? la : sizeof pa))
            return cli_error("token %u is '%.*s' in %s and '%.*s' in %s: not one vocabulary", i,
                             (int)(la < 40 ? la : 40), pa, qp, (int)(lb < 40 ? lb : 40), pb, bp);
    }
    return 0;
}

/* log-softmax of n logits into out (double); returns the argmax. */
static uint32_t log_softmax(const float *l, uint32_t n, double *out) {
    uint32_t arg = 0;
    for (uint32_t i = 1; i < n; i++) arg = l[i] > l[arg] ? i : arg;
    double mx = l[arg], sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += exp((double)l[i] - mx);
    double lse = mx + log(sum > 0 ? sum : 1); /* sum >= 1: the argmax adds exp(0) */
    for (uint32_t i = 0; i < n; i++) out[i] = (double)l[i] - lse;
    return arg;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* v sorted: the value at fraction f, interpolated between the two ranks around (n-1) f, as
 * llama-perplexity's percentile() does (its median, the mean of the two middle values of an
 * even count, is the same number). */
static double pct(const double *v, size_t n, double f) {
    if (f <= 0) return v[0];
    if (f >= 1) return v[n - 1];
    double p = f * (double)(n - 1);
    size_t i = (size_t)p;
    p -= (double)i;
    return (1 - p) * v[i] + p * v[i + 1 < n ? i + 1 : n - 1];
}

typedef struct acc {
    double s, s2;
} acc;
static void acc_add(acc *a, double x) { a->s += x, a->s2 += x * x; }
static double acc_mean(const acc *a, size_t n) { return a->s / (double)n; }
/* stderr of the mean */
static double acc_se(const acc *a, size_t n) {
    if (n < 2) return 0;
    double m = a->s / (double)n, var = (a->s2 / (double)n - m * m) * (double)n / (double)(n - 1);
    return var > 0 ? sqrt(var / (double)n) : 0;
}

int cmd_eval_kld(int argc, char **argv) {
    enum { O_BASE = 1000, O_TEXT, O_JSON };
    static const struct option opts[] = {{"base", 1, 0, O_BASE}, {"text", 1, 0, O_TEXT}, {"json", 0, 0, O_JSON},
                                         {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    const char *qpath = NULL, *bpath = NULL, *tpath = NULL;
    int64_t n_ctx = 512, threads = 0;
    bool as_json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:c:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': qpath = optarg; break;
        case O_BASE: bpath = optarg; break;
        case O_TEXT: tpath = optarg; break;
        case O_JSON: as_json = true; break;
        case 'c':
            if (cli_int_arg("eval kld", "-c", optarg, 8, 1 << 20, &n_ctx)) return XUAN_EXIT_USAGE;
            break;
        case 't':
            if (cli_int_arg("eval kld", "-t", optarg, 0, 1024, &threads)) return XUAN_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (!qpath || !bpath || !tpath || optind < argc)
        return cli_usage_error("eval kld", "needs -m Q.gguf --base BASE.gguf --text FILE");

    xuan_error err = {0};
    char *text = NULL;
    size_t text_len = 0;
    if (cli_read_input(tpath, 1ull << 30, &text, &text_len, &err) != 0) return cli_error("%s", err.msg);
    side q = {0}, b = {0};
    xuan_tok_ids ids = {0};
    double *lq = NULL, *lb = NULL, *kl = NULL, *dp = NULL;
    int32_t *pos = NULL;
    int8_t *want = NULL;
    int rc = side_open(&b, bpath, (uint32_t)n_ctx, (int)threads);
    if (!rc) rc = side_open(&q, qpath, (uint32_t)n_ctx, (int)threads);
    if (!rc) rc = same_vocab(&q, &b, qpath, bpath);
    if (!rc && xuan_tok_encode(b.tok, text, text_len, XUAN_TOK_ADD_SPECIAL, &ids, &err) != 0)
        rc = cli_error("%s", err.msg);
    const size_t nc = (size_t)n_ctx, first = nc / 2;
    if (!rc && ids.n < 2 * nc)
        rc = cli_error("%s: %zu tokens; -c %zu needs at least %zu", tpath, ids.n, nc, 2 * nc);
    const size_t n_chunk = rc ? 0 : ids.n / nc, per = nc - 1 - first, n_all = n_chunk * per;
    const uint32_t nv = rc ? 0 : xuan_model_hparams(b.m)->n_vocab;
    if (!rc) {
        lq = xuan_malloc(nv * sizeof *lq), lb = xuan_malloc(nv * sizeof *lb);
        kl = xuan_malloc(n_all * sizeof *kl), dp = xuan_malloc(n_all * sizeof *dp);
        pos = xuan_malloc(nc * sizeof *pos), want = xuan_calloc(nc, 1);
        if (!lq || !lb || !kl || !dp || !pos || !want) rc = cli_error("out of memory");
    }
    acc nll_q = {0}, nll_b = {0}, a_kl = {0}, a_dp = {0}, a_top = {0};
    double cov = 0; /* sum nll_q * nll_b, for the correlation */
    size_t k = 0;
    const int32_t bos = rc ? -1 : xuan_tok_bos(b.tok);
    const bool add_bos = !rc && xuan_tok_add_bos(b.tok) && bos >= 0;
    double t0 = xuan_time_s();
    for (size_t ch = 0; !rc && ch < n_chunk; ch++) {
        int32_t *tok = ids.ids + ch * nc, save = tok[0];
        if (add_bos) tok[0] = bos;
        for (size_t i = 0; i < nc; i++) pos[i] = (int32_t)i, want[i] = i >= first && i + 1 < nc;
        xuan_batch bt = {.n_tokens = (int32_t)nc, .token = tok, .pos = pos, .logits = want};
        if (xuan_ctx_seq_rm(b.c, -1, 0, -1, &err) || xuan_ctx_seq_rm(q.c, -1, 0, -1, &err) ||
            xuan_ctx_decode(b.c, &bt, &err) || xuan_ctx_decode(q.c, &bt, &err)) {
            tok[0] = save;
            rc = cli_error("%s", err.msg);
            break;
        }
        for (size_t i = first; i + 1 < nc; i++, k++) {
            const int32_t t = ids.ids[ch * nc + i + 1];
            uint32_t top_b = log_softmax(xuan_ctx_logits_ith(b.c, (int32_t)i), nv, lb);
            uint32_t top_q = log_softmax(xuan_ctx_logits_ith(q.c, (int32_t)i), nv, lq);
            double d = 0;
            for (uint32_t v = 0; v < nv; v++) d += exp(lb[v]) * (lb[v] - lq[v]);
            kl[k] = d;
            dp[k] = exp(lq[t]) - exp(lb[t]);
            acc_add(&nll_q, -lq[t]), acc_add(&nll_b, -lb[t]), acc_add(&a_kl, d), acc_add(&a_dp, dp[k]);
            acc_add(&a_top, top_b == top_q);
            cov += lq[t] * lb[t];
        }
        tok[0] = save;
    }
    double wall = xuan_time_s() - t0;
    if (!rc) {
        const size_t n = k;
        double mq = acc_mean(&nll_q, n), mb = acc_mean(&nll_b, n);
        double ppl_q = exp(mq), ppl_b = exp(mb), se_q = ppl_q * acc_se(&nll_q, n), se_b = ppl_b * acc_se(&nll_b, n);
        double vq = nll_q.s2 / (double)n - mq * mq, vb = nll_b.s2 / (double)n - mb * mb;
        double cor = vq > 0 && vb > 0 ? (cov / (double)n - mq * mb) / sqrt(vq * vb) : 1;
        double rms = sqrt(a_dp.s2 / (double)n), top = acc_mean(&a_top, n);
        double top_se = n > 1 ? sqrt(top * (1 - top) / (double)(n - 1)) : 0;
        /* stderr of sqrt(mean dp^2) by the delta method on mean dp^2 */
        double m2 = a_dp.s2 / (double)n, m4 = 0;
        for (size_t i = 0; i < n; i++) m4 += dp[i] * dp[i] * dp[i] * dp[i];
        double var2 = n > 1 ? (m4 / (double)n - m2 * m2) / (double)(n - 1) : 0;
        double rms_se = rms > 0 && var2 > 0 ? sqrt(var2) / (2 * rms) : 0;
        qsort(kl, n, sizeof *kl, cmp_double);
        qsort(dp, n, sizeof *dp, cmp_double);
        static const double KP[] = {1, 0.999, 0.99, 0.95, 0.90, 0.5, 0.10, 0.05, 0.01, 0.001, 0};
        static const char *KN[] = {"max",   "99.9%", "99.0%", "95.0%", "90.0%", "median",
                                   "10.0%", "5.0%",  "1.0%",  "0.1%",  "min"};
        static const double DP[] = {1, 0.999, 0.99, 0.95, 0.90, 0.75, 0.5, 0.25, 0.10, 0.05, 0.01, 0.001, 0};
        static const char *DN[] = {"max", "99.9%", "99.0%", "95.0%", "90.0%", "75.0%", "median",
                                   "25.0%", "10.0%", "5.0%", "1.0%", "0.1%", "min"};
        if (as_json) {
            json_t *kq = json_object(), *dq = json_object();
            for (size_t i = 0; i < sizeof KP / sizeof KP[0]; i++) json_object_set_new(kq, KN[i], json_real(pct(kl, n, KP[i])));
            for (size_t i = 0; i < sizeof DP / sizeof DP[0]; i++) json_object_set_new(dq, DN[i], json_real(pct(dp, n, DP[i])));
            json_t *o = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:f, s:f, s:f, s:f, "
                                  "s:o, s:f, s:f, s:f}",
                                  "n_ctx", (json_int_t)nc, "chunks", (json_int_t)n_chunk, "tokens", (json_int_t)n,
                                  "ppl_q", ppl_q, "ppl_q_stderr", se_q, "ppl_base", ppl_b, "ppl_base_stderr", se_b,
                                  "ln_ppl_ratio", mq - mb, "cor_ln_ppl", cor, "kld", acc_mean(&a_kl, n),
                                  "kld_stderr", acc_se(&a_kl, n), "kld_pct", kq, "dp_mean", acc_mean(&a_dp, n),
                                  "dp_mean_stderr", acc_se(&a_dp, n), "dp_rms", rms, "dp_rms_stderr", rms_se, "dp_pct",
                                  dq, "same_top", top, "same_top_stderr", top_se, "wall_s", wall);
            char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
            if (s) puts(s);
            free(s);
            json_decref(o);
        } else {
            printf("%zu chunks of %zu tokens, %zu scored, %.1f s (%.0f tokens/s through both models)\n\n", n_chunk, nc,
                   n, wall, wall > 0 ? (double)(n_chunk * nc) / wall : 0.0);
            printf("Mean PPL(Q)            %10.6f ± %.6f\n", ppl_q, se_q);
            printf("Mean PPL(base)         %10.6f ± %.6f\n", ppl_b, se_b);
            printf("Cor(ln PPL(Q), ln PPL(base)) %6.2f%%\n", 100 * cor);
            printf("Mean ln(PPL(Q)/PPL(base)) %9.6f\n", mq - mb);
            printf("Mean PPL(Q)/PPL(base)  %10.6f\n\n", exp(mq - mb));
            printf("Mean KLD               %10.6f ± %.6f\n", acc_mean(&a_kl, n), acc_se(&a_kl, n));
            for (size_t i = 0; i < sizeof KP / sizeof KP[0]; i++) printf("%-6s KLD             %10.6f\n", KN[i], pct(kl, n, KP[i]));
            printf("\nMean Δp                %9.3f%% ± %.3f%%\n", 100 * acc_mean(&a_dp, n), 100 * acc_se(&a_dp, n));
            for (size_t i = 0; i < sizeof DP / sizeof DP[0]; i++) printf("%-6s Δp              %9.3f%%\n", DN[i], 100 * pct(dp, n, DP[i]));
            printf("RMS Δp                 %9.3f%% ± %.3f%%\n", 100 * rms, 100 * rms_se);
            printf("Same top p             %9.3f%% ± %.3f%%\n", 100 * top, 100 * top_se);
        }
    }
    xuan_free(lq), xuan_free(lb), xuan_free(kl), xuan_free(dp), xuan_free(pos), xuan_free(want);
    xuan_tok_ids_free(&ids);
    side_free(&q), side_free(&b);
    xuan_free(text);
    return rc;
}
