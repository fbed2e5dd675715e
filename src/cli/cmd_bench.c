/*
 * xuan bench — prompt processing and generation speed, like llama-bench.
 *
 *   xuan bench -m MODEL [-p 512] [-n 128] [-d 0] [-r 3] [-t 2] [-b 512] [--json]
 *   xuan bench -m MODEL --npl 1,4,16 [--npp 128] [--ntg 128] [-b 2048] [--json]
 *
 * pp: a prompt of P pseudo-random ordinary token ids evaluated from an
 * empty cache, in batches of -b; tg: N tokens decoded one at a time after a
 * one-token start (as llama-bench's tg test, no sampling).  One warm-up run
 * of each first; then -r repetitions, reported as mean ± sd tokens/s.  The
 * context is D + P + N tokens, as llama-bench sizes it, so that peak RSS is
 * comparable.  -d D (llama-bench -d): both tests start from a cache already
 * holding D tokens (evaluated once, untimed; each repetition cuts the cache
 * back to them).
 *
 * --npl (llama-batched-bench): for each count of parallel sequences, every
 * sequence gets its own prompt of --npp tokens (evaluated together, in
 * batches of -b), then --ntg steps decode one token of every sequence in one
 * batch; S_PP and S_TG are the aggregate tokens/s of the two phases, S of
 * the whole, as llama-batched-bench prints them.
 */
#include "engine_cli.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void usage(void) {
    printf("usage: xuan bench -m MODEL [-p 512] [-n 128] [-d DEPTH] [-r 3] [-t THREADS] [-b 512]\n"
           "                  [--cache-type[-k|-v] T] [--mlock] [--no-mmap] [--json]\n"
           "       xuan bench -m MODEL --npl 1,4,16 [--npp 128] [--ntg 128] [-b 2048] [-t THREADS] [--json]\n"
           "  -d DEPTH   start both tests from a cache of DEPTH tokens (llama-bench -d)\n"
           "  --npl N,.. parallel sequences, each with its own --npp prompt, then --ntg steps\n"
           "             decoding one token of each (llama-batched-bench's S_PP / S_TG)\n"
           "  --mlock    lock the weights in RAM; --no-mmap: read them into memory (llama.cpp's flags)\n"
           "  The table's last column is major page faults per token in the measured runs:\n"
           "  above 0, the weights were read from disk while measuring (the page cache lost them).\n");
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

/* Sequence 0 back to the depth: cut back, or, for a model with recurrent
 * layers (whose state cannot be cut back), a fresh copy of sequence 1, which
 * holds the depth (its KV cells shared, its state copied). */
static void back_to_depth(xuan_ctx *c, uint32_t depth) {
    if (depth && xuan_ctx_n_seq_max(c) > 1) {
        xuan_ctx_seq_rm(c, 0, -1, -1, NULL);
        xuan_ctx_seq_cp(c, 1, 0, -1, -1, NULL);
        return;
    }
    xuan_ctx_truncate(c, depth);
}

/* Evaluates the prompt from an empty cache; returns tok/s or -1. */
static double run_pp(xuan_ctx *c, const int32_t *ids, int n, uint32_t depth, xuan_error *err) {
    back_to_depth(c, depth);
    double t0 = xuan_time_s();
    if (xuan_ctx_eval(c, ids, (size_t)n, err)) return -1;
    return n / (xuan_time_s() - t0);
}

static double run_tg(xuan_ctx *c, const int32_t *ids, int n, uint32_t depth, xuan_error *err) {
    back_to_depth(c, depth);
    if (xuan_ctx_eval(c, ids, 1, err)) return -1;
    double t0 = xuan_time_s();
    for (int i = 0; i < n; i++)
        if (xuan_ctx_eval(c, &ids[(i + 1) % 64], 1, err)) return -1;
    return n / (xuan_time_s() - t0);
}

/* Pseudo-random ordinary ids (a fixed LCG: the same prompt every run). */
static void fill_ids(int32_t *ids, size_t n, uint32_t n_vocab, uint64_t seed) {
    uint64_t s = seed;
    uint32_t span = n_vocab > 1000 ? n_vocab - 1000 : n_vocab;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((s >> 33) % span);
    }
}

/* One llama-batched-bench point: npl sequences of npp prompt tokens, then
 * ntg steps of npl tokens.  Seconds of each phase into t_pp and t_tg. */
static int batched_point(xuan_ctx *c, uint32_t n_vocab, int npl, int npp, int ntg, double *t_pp, double *t_tg,
                         xuan_error *err) {
    const size_t n = (size_t)npl * (size_t)(npp > 1 ? npp : 1);
    int32_t *tok = xuan_calloc(n, sizeof *tok), *seq = xuan_calloc(n, sizeof *seq);
    int8_t *want = xuan_calloc(n, 1);
    int rc = -1;
    if (!tok || !seq || !want) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for a batch of %zu tokens", n);
        goto out;
    }
    if (xuan_ctx_seq_rm(c, -1, 0, -1, err)) goto out;
    fill_ids(tok, n, n_vocab, 7);
    for (int s = 0; s < npl; s++)
        for (int i = 0; i < npp; i++) {
            seq[(size_t)s * npp + i] = s;
            want[(size_t)s * npp + i] = i == npp - 1;
        }
    double t0 = xuan_time_s();
    xuan_batch b = {.n_tokens = npl * npp, .token = tok, .seq_id = seq, .logits = want};
    if (npp && xuan_ctx_decode(c, &b, err)) goto out;
    *t_pp = xuan_time_s() - t0;
    for (int s = 0; s < npl; s++) seq[s] = s, want[s] = 1;
    t0 = xuan_time_s();
    for (int i = 0; i < ntg; i++) {
        fill_ids(tok, (size_t)npl, n_vocab, 100 + (uint64_t)i);
        b = (xuan_batch){.n_tokens = npl, .token = tok, .seq_id = seq, .logits = want};
        if (xuan_ctx_decode(c, &b, err)) goto out;
    }
    *t_tg = xuan_time_s() - t0;
    rc = 0;
out:
    xuan_free(tok);
    xuan_free(seq);
    xuan_free(want);
    return rc;
}

/* --npl: llama-batched-bench's table (or one JSON line per point). */
static int run_batched(const char *path, const char *npl_list, int npp, int ntg, int64_t batch, int threads,
                       uint32_t type_k, uint32_t type_v, unsigned map_flags, bool json) {
    int npl[16], n_npl = 0, max_npl = 1;
    for (const char *p = npl_list; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 64 || n_npl == 16 || (*end && *end != ','))
            return cli_usage_error("bench", "--npl '%s': 1 to 16 counts of 1..64 separated by commas", npl_list);
        npl[n_npl++] = (int)v;
        if (v > max_npl) max_npl = (int)v;
        p = *end ? end + 1 : end;
    }
    if (!n_npl) return cli_usage_error("bench", "--npl needs at least one count");
    xuan_error err = {0};
    xuan_model *m = xuan_model_load_ex(path, map_flags, &err);
    if (!m) return cli_error("%s", err.msg);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = (uint32_t)(max_npl * (npp + ntg) + 1);
    cp.n_seq_max = (uint32_t)max_npl;
    cp.n_batch = (uint32_t)batch;
    cp.n_threads = threads;
    cp.type_k = type_k, cp.type_v = type_v;
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    if (!c) {
        xuan_model_free(m);
        return cli_error("%s", err.msg);
    }
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    double tp, tt;
    int rc = 0;
    if (batched_point(c, nv, 1, npp < 16 ? npp : 16, 4, &tp, &tt, &err)) { /* warm-up */
        rc = cli_error("%s", err.msg);
        goto done;
    }
    if (!json)
        printf("|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |\n"
               "|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|\n");
    for (int i = 0; i < n_npl; i++) {
        if (batched_point(c, nv, npl[i], npp, ntg, &tp, &tt, &err)) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        const double s_pp = npl[i] * (double)npp / tp, s_tg = npl[i] * (double)ntg / tt;
        const double s_all = npl[i] * (double)(npp + ntg) / (tp + tt);
        if (json)
            printf("{\"npp\":%d,\"ntg\":%d,\"npl\":%d,\"n_kv\":%d,\"t_pp\":%.6f,\"speed_pp\":%.3f,\"t_tg\":%.6f,"
                   "\"speed_tg\":%.3f,\"t\":%.6f,\"speed\":%.3f,\"packed_bytes\":%llu}\n",
                   npp, ntg, npl[i], npl[i] * (npp + ntg), tp, s_pp, tt, s_tg, tp + tt, s_all,
                   (unsigned long long)xuan_model_packed_bytes(m));
        else
            printf("| %5d | %6d | %4d | %6d | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n", npp, ntg, npl[i],
                   npl[i] * (npp + ntg), tp, s_pp, tt, s_tg, tp + tt, s_all);
        fflush(stdout);
    }
    if (!json && xuan_model_packed_bytes(m)) {
        char b[32];
        printf("Q4_K decode layout %s (copied at load, in memory beside the mapped file; XUAN_REPACK=0 leaves it "
               "out)\n",
               xuan_fmt_bytes(xuan_model_packed_bytes(m), b, sizeof b));
    }
done:
    xuan_ctx_free(c);
    xuan_model_free(m);
    return rc;
}

enum { O_JSON = EO_LAST + 1, O_REPS, O_NPL, O_NPP, O_NTG };

int cmd_bench(int argc, char **argv) {
    const char *model = NULL;
    int64_t n_prompt = 512, n_gen = 128, reps = 3, threads = 0, batch = -1, depth = 0, npp = 128, ntg = 128;
    const char *npl = NULL;
    uint32_t type_k = XUAN_TYPE_F16, type_v = XUAN_TYPE_F16;
    unsigned map_flags = 0;
    bool json = false;
    static const struct option opts[] = {{"model", 1, 0, 'm'},        {"n-prompt", 1, 0, 'p'},
                                         {"n-gen", 1, 0, 'n'},        {"repetitions", 1, 0, 'r'},
                                         {"threads", 1, 0, 't'},      {"batch", 1, 0, 'b'},
                                         {"cache-type", 1, 0, EO_CACHE}, {"json", 0, 0, O_JSON},
                                         {"cache-type-k", 1, 0, EO_CACHE_K}, {"cache-type-v", 1, 0, EO_CACHE_V},
                                         {"n-depth", 1, 0, 'd'},      {"npl", 1, 0, O_NPL},
                                         {"npp", 1, 0, O_NPP},        {"ntg", 1, 0, O_NTG},
                                         {"mlock", 0, 0, EO_MLOCK},   {"no-mmap", 0, 0, EO_NO_MMAP},
                                         {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:n:d:r:t:b:h", opts, NULL)) != -1) {
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
        case 'd': if (cli_int_arg("bench", "-d", optarg, 0, 1 << 22, &depth)) return XUAN_EXIT_USAGE; break;
        case O_NPL: npl = optarg; break;
        case O_NPP: if (cli_int_arg("bench", "--npp", optarg, 1, 1 << 16, &npp)) return XUAN_EXIT_USAGE; break;
        case O_NTG: if (cli_int_arg("bench", "--ntg", optarg, 1, 1 << 16, &ntg)) return XUAN_EXIT_USAGE; break;
        case O_JSON: json = true; break;
        case EO_MLOCK: map_flags |= XUAN_MAP_LOCK; break;
        case EO_NO_MMAP: map_flags |= XUAN_MAP_READ; break;
        case 'h': usage(); return XUAN_EXIT_OK;
        default: return cli_usage_error("bench", "unknown option, or an option with a bad argument");
        }
    }
    if (optind < argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("bench", "a model is required (-m FILE or NAME)");
    if (n_prompt == 0 && n_gen == 0) return cli_usage_error("bench", "-p and -n are both 0: nothing to measure");

    char path[2048];
    if (engine_resolve_model(model, path, sizeof path)) return XUAN_EXIT_RUNTIME;
    if (npl) /* llama-batched-bench's defaults: -b 2048 */
        return run_batched(path, npl, (int)npp, (int)ntg, batch > 0 ? batch : 2048, (int)threads, type_k, type_v,
                           map_flags, json);
    if (batch < 0) batch = 512;
    xuan_error err = {0};
    double t0 = xuan_time_s();
    xuan_model *m = xuan_model_load_ex(path, map_flags, &err);
    if (!m) return cli_error("%s", err.msg);
    double t_load = xuan_time_s() - t0;
    const xuan_hparams *hp = xuan_model_hparams(m);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = (uint32_t)(depth + n_prompt + n_gen + 1);
    /* each test cuts the cache back to the depth, further back than a
     * sliding-window layer's ring keeps (llama-bench evaluates the depth
     * again instead) */
    cp.swa_full = depth > 0;
    if (depth > 0 && hp->n_recurrent) cp.n_seq_max = 2; /* sequence 1 keeps the depth (back_to_depth) */
    cp.n_batch = (uint32_t)batch;
    cp.n_threads = (int)threads;
    cp.type_k = type_k;
    cp.type_v = type_v;
    xuan_ctx *ctx = xuan_ctx_new(m, &cp, &err);
    if (!ctx) {
        xuan_model_free(m);
        return cli_error("%s", err.msg);
    }
    size_t n_ids = (size_t)(n_prompt > 64 ? n_prompt : 64);
    if ((size_t)depth > n_ids) n_ids = (size_t)depth;
    int32_t *ids = xuan_calloc(n_ids, sizeof *ids);
    double *pp = xuan_calloc((size_t)reps, sizeof *pp), *tg = xuan_calloc((size_t)reps, sizeof *tg);
    int rc = 0;
    if (!ids || !pp || !tg) {
        rc = cli_error("out of memory");
        goto done;
    }
    fill_ids(ids, n_ids, hp->n_vocab, 42);
    /* the depth: evaluated once, kept by every test (truncated back to it) */
    if (depth) {
        xuan_ctx_truncate(ctx, 0);
        if (xuan_ctx_eval(ctx, ids, (size_t)depth, &err) ||
            (xuan_ctx_n_seq_max(ctx) > 1 && xuan_ctx_seq_cp(ctx, 0, 1, -1, -1, &err))) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
    }
    const uint32_t d0 = (uint32_t)depth;
    /* warm-up (pages the weights in, spins the threads up) */
    if ((n_prompt && run_pp(ctx, ids, (int)(n_prompt < 32 ? n_prompt : 32), d0, &err) < 0) ||
        (n_gen && run_tg(ctx, ids, 4, d0, &err) < 0)) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    /* major page faults in the measured runs, per token: 0 when the weights
     * stayed in memory, about weights / (page size x readahead) when each
     * token read them from disk */
    uint64_t flt_pp = 0, flt_tg = 0;
    for (int r = 0; r < reps; r++) {
        uint64_t f0 = xuan_major_faults();
        if (n_prompt && (pp[r] = run_pp(ctx, ids, (int)n_prompt, d0, &err)) < 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        uint64_t f1 = xuan_major_faults();
        if (n_gen && (tg[r] = run_tg(ctx, ids, (int)n_gen, d0, &err)) < 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        flt_pp += f1 - f0;
        flt_tg += xuan_major_faults() - f1;
    }
    const double fpt_pp = n_prompt ? (double)flt_pp / (double)(reps * n_prompt) : 0;
    const double fpt_tg = n_gen ? (double)flt_tg / (double)(reps * n_gen) : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t rss = (uint64_t)ru.ru_maxrss * 1024;
    stat_s sp = stats(pp, (int)reps), sg = stats(tg, (int)reps);
    const xuan_cpu *cpu = xuan_cpu_get();
    int nt = (int)(threads ? threads : cpu->n_cores);
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:s, s:f, s:f, s:s}",
                              "model", path, "arch", hp->arch_name, "cpu", cpu->brand, "weight_bytes",
                              (json_int_t)xuan_model_weight_bytes(m), "threads", nt, "reps", (int)reps,
                              "n_prompt", (json_int_t)n_prompt, "n_gen", (json_int_t)n_gen, "n_depth", (json_int_t)depth, "n_batch",
                              (json_int_t)batch, "pp_mean", sp.mean, "pp_sd", sp.sd, "tg_mean", sg.mean,
                              "tg_sd", sg.sd, "pp_best", sp.best, "tg_best", sg.best, "peak_rss", (json_int_t)rss, "load_s", t_load, "commit",
                              xuan_git_hash(), "pp_major_faults_per_tok", fpt_pp, "tg_major_faults_per_tok", fpt_tg,
                              "weights", engine_residency_name(m));
        if (j) json_object_set_new(j, "packed_bytes", json_integer((json_int_t)xuan_model_packed_bytes(m)));
        char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (out) printf("%s\n", out);
        free(out);
        json_decref(j);
    } else {
        char b1[32], b2[32];
        printf("| model | size | threads | test | t/s | maj.faults/tok |\n|---|---|---|---|---|---|\n");
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        xuan_fmt_bytes(xuan_model_weight_bytes(m), b1, sizeof b1);
        char at[32] = "";
        if (depth) snprintf(at, sizeof at, " @ d%lld", (long long)depth);
        if (n_prompt)
            printf("| %s | %s | %d | pp%lld%s | %.2f ± %.2f | %.2f |\n", base, b1, nt, (long long)n_prompt, at, sp.mean,
                   sp.sd, fpt_pp);
        if (n_gen)
            printf("| %s | %s | %d | tg%lld%s | %.2f ± %.2f | %.2f |\n", base, b1, nt, (long long)n_gen, at, sg.mean,
                   sg.sd, fpt_tg);
        char b3[32] = "";
        if (xuan_model_packed_bytes(m)) xuan_fmt_bytes(xuan_model_packed_bytes(m), b3, sizeof b3);
        printf("peak RSS %s%s%s%s, load %.2f s, weights %s, %s, xuan %s\n", xuan_fmt_bytes(rss, b2, sizeof b2),
               *b3 ? " (Q4_K decode layout " : "", b3, *b3 ? ")" : "", t_load, engine_residency_name(m),
               xuan_simd_name(cpu->simd), xuan_git_hash());
        if (fpt_tg >= 1 || fpt_pp >= 1)
            fprintf(stderr, "xuan: warning: the weights were read from disk while measuring (the page cache did not "
                            "keep them): these figures measure the disk; --mlock or --no-mmap keeps them in memory\n");
    }
done:
    xuan_free(ids);
    xuan_free(pp);
    xuan_free(tg);
    xuan_ctx_free(ctx);
    xuan_model_free(m);
    return rc;
}
