/*
 * xuan bench — prompt processing and generation speed, like llama-bench.
 *
 *   xuan bench -m MODEL [-p 512] [-n 128] [-r 3] [-t 2] [-b 512] [--json]
 *
 * pp: a prompt of P pseudo-random ordinary token ids evaluated from an
 * empty cache, in batches of -b; tg: N tokens decoded one at a time after a
 * one-token start (as llama-bench's tg test, no sampling).  One warm-up run
 * of each first; then -r repetitions, reported as mean ± sd tokens/s.  The
 * context is P + N tokens, as llama-bench sizes it, so that peak RSS is
 * comparable.
 */
#include "engine_cli.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void usage(void) {
    printf("usage: xuan bench -m MODEL [-p 512] [-n 128] [-r 3] [-t THREADS] [-b 512]\n"
           "                  [--cache-type[-k|-v] T] [--json]\n");
}

typedef struct stat_s {
    double mean, sd, best; /* best: the fastest repetition (a shared machine only ever slows a run down) */
} stat_s;

static stat_s stats(const double *v, int n) {
    stat_s s = {0, 0, 0};
    for (int i = 0; i < n; i++) s.mean += v[i], s.best = v[i] > s.best ? v[i] : s.best;
    s.mean /= n;
    for (int i = 0; i < n; i++) s.sd += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = n > 1 ? sqrt(s.sd / (n - 1)) : 0;
    return s;
}

/* Evaluates the prompt from an empty cache; returns tok/s or -1. */
static double run_pp(xuan_ctx *c, const int32_t *ids, int n, xuan_error *err) {
    xuan_ctx_truncate(c, 0);
    double t0 = xuan_time_s();
    if (xuan_ctx_eval(c, ids, (size_t)n, err)) return -1;
    return n / (xuan_time_s() - t0);
}

static double run_tg(xuan_ctx *c, const int32_t *ids, int n, xuan_error *err) {
    xuan_ctx_truncate(c, 0);
    if (xuan_ctx_eval(c, ids, 1, err)) return -1;
    double t0 = xuan_time_s();
    for (int i = 0; i < n; i++)
        if (xuan_ctx_eval(c, &ids[(i + 1) % 64], 1, err)) return -1;
    return n / (xuan_time_s() - t0);
}

enum { O_JSON = EO_LAST + 1, O_REPS };

int cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    int64_t n_prompt = 512, n_gen = 128, reps = 3, threads = 0, batch = 512;
    uint32_t type_k = XUAN_TYPE_F16, type_v = XUAN_TYPE_F16;
    bool json = false;
    static const struct option opts[] = {{"model", 1, 0, 'm'},        {"n-prompt", 1, 0, 'p'},
                                         {"n-gen", 1, 0, 'n'},        {"repetitions", 1, 0, 'r'},
                                         {"threads", 1, 0, 't'},      {"batch", 1, 0, 'b'},
                                         {"cache-type", 1, 0, EO_CACHE}, {"json", 0, 0, O_JSON},
                                         {"cache-type-k", 1, 0, EO_CACHE_K}, {"cache-type-v", 1, 0, EO_CACHE_V},
                                         {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:n:r:t:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': if (cli_int_arg("bench", "-p", optarg, 0, 1 << 20, &n_prompt)) return XUAN_EXIT_USAGE; break;
        case 'n': if (cli_int_arg("bench", "-n", optarg, 0, 1 << 20, &n_gen)) return XUAN_EXIT_USAGE; break;
        case 'r': if (cli_int_arg("bench", "-r", optarg, 1, 1000, &reps)) return XUAN_EXIT_USAGE; break;
        case 't': if (cli_int_arg("bench", "-t", optarg, 1, 1024, &threads)) return XUAN_EXIT_USAGE; break;
        case 'b': if (cli_int_arg("bench", "-b", optarg, 1, 1 << 16, &batch)) return XUAN_EXIT_USAGE; break;
        case EO_CACHE:
            if (engine_cache_type("bench", "--cache-type", optarg, &type_k)) return XUAN_EXIT_USAGE;
            type_v = type_k;
            break;
        case EO_CACHE_K:
            if (engine_cache_type("bench", "--cache-type-k", optarg, &type_k)) return XUAN_EXIT_USAGE;
            break;
        case EO_CACHE_V:
            if (engine_cache_type("bench", "--cache-type-v", optarg, &type_v)) return XUAN_EXIT_USAGE;
            break;
        case O_JSON: json = true; break;
        case 'h': usage(); return XUAN_EXIT_OK;
        default: return cli_usage_error("bench", "unknown option, or an option with a bad argument");
        }
    }
    if (optind < argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("bench", "a model is required (-m FILE or NAME)");
    if (n_prompt == 0 && n_gen == 0) return cli_usage_error("bench", "-p and -n are both 0: nothing to measure");

    char path[2048];
    if (engine_resolve_model(model, path, sizeof path)) return XUAN_EXIT_RUNTIME;
    xuan_error err = {0};
    double t0 = xuan_time_s();
    xuan_model *m = xuan_model_load(path, &err);
    if (!m) return cli_error("%s", err.msg);
    double t_load = xuan_time_s() - t0;
    const xuan_hparams *hp = xuan_model_hparams(m);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = (uint32_t)(n_prompt + n_gen + 1);
    cp.n_batch = (uint32_t)batch;
    cp.n_threads = (int)threads;
    cp.type_k = type_k;
    cp.type_v = type_v;
    xuan_ctx *ctx = xuan_ctx_new(m, &cp, &err);
    if (!ctx) {
        xuan_model_free(m);
        return cli_error("%s", err.msg);
    }
    /* Pseudo-random ordinary ids (a fixed LCG: the same prompt every run). */
    size_t n_ids = (size_t)(n_prompt > 64 ? n_prompt : 64);
    int32_t *ids = xuan_calloc(n_ids, sizeof *ids);
    double *pp = xuan_calloc((size_t)reps, sizeof *pp), *tg = xuan_calloc((size_t)reps, sizeof *tg);
    int rc = 0;
    if (!ids || !pp || !tg) {
        rc = cli_error("out of memory");
        goto done;
    }
    uint64_t s = 42;
    uint32_t span = hp->n_vocab > 1000 ? hp->n_vocab - 1000 : hp->n_vocab;
    for (size_t i = 0; i < n_ids; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((s >> 33) % span);
    }
    /* warm-up (pages the weights in, spins the threads up) */
    if ((n_prompt && run_pp(ctx, ids, (int)(n_prompt < 32 ? n_prompt : 32), &err) < 0) ||
        (n_gen && run_tg(ctx, ids, 4, &err) < 0)) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    for (int r = 0; r < reps; r++) {
        if (n_prompt && (pp[r] = run_pp(ctx, ids, (int)n_prompt, &err)) < 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        if (n_gen && (tg[r] = run_tg(ctx, ids, (int)n_gen, &err)) < 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t rss = (uint64_t)ru.ru_maxrss * 1024;
    stat_s sp = stats(pp, (int)reps), sg = stats(tg, (int)reps);
    const xuan_cpu *cpu = xuan_cpu_get();
    int nt = (int)(threads ? threads : cpu->n_cores);
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:i, s:i, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:s}",
                              "model", path, "arch", hp->arch_name, "cpu", cpu->brand, "weight_bytes",
                              (json_int_t)xuan_model_weight_bytes(m), "threads", nt, "reps", (int)reps,
                              "n_prompt", (json_int_t)n_prompt, "n_gen", (json_int_t)n_gen, "n_batch",
                              (json_int_t)batch, "pp_mean", sp.mean, "pp_sd", sp.sd, "tg_mean", sg.mean,
                              "tg_sd", sg.sd, "pp_best", sp.best, "tg_best", sg.best, "peak_rss", (json_int_t)rss, "load_s", t_load, "commit",
                              xuan_git_hash());
        char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (out) printf("%s\n", out);
        free(out);
        json_decref(j);
    } else {
        char b1[32], b2[32];
        printf("| model | size | threads | test | t/s |\n|---|---|---|---|---|\n");
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        xuan_fmt_bytes(xuan_model_weight_bytes(m), b1, sizeof b1);
        if (n_prompt) printf("| %s | %s | %d | pp%lld | %.2f ± %.2f |\n", base, b1, nt, (long long)n_prompt, sp.mean, sp.sd);
        if (n_gen) printf("| %s | %s | %d | tg%lld | %.2f ± %.2f |\n", base, b1, nt, (long long)n_gen, sg.mean, sg.sd);
        printf("peak RSS %s, load %.2f s, %s, xuan %s\n", xuan_fmt_bytes(rss, b2, sizeof b2), t_load,
               xuan_simd_name(cpu->simd), xuan_git_hash());
    }
done:
    xuan_free(ids);
    xuan_free(pp);
    xuan_free(tg);
    xuan_ctx_free(ctx);
    xuan_model_free(m);
    return rc;
}
