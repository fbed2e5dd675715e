/*
 * bench_kernels.c — the kernel table of `make bench` (bench/section_kernels.sh).
 *
 *   bench_kernels [--quick] [--decode] [--types Q4_K,Q8_0,...]
 *
 * --quick skips the largest decode shape; --decode prints only the
 * bandwidth and the decode columns (for kernel work under perf).
 *
 * Prints, as markdown:
 *  1. memory bandwidth of this machine measured now: a STREAM-like copy
 *     (bytes read + written) and a read-only sum, at 1 and 2 threads;
 *  2. per weight type, decode-shaped matrix x vector products (3584x3584,
 *     18944x3584, 152064x3584: Qwen2.5-7B's attention, FFN and output
 *     head) as weight bytes read per second, at 1 and 2 threads;
 *  3. prompt-processing GFLOP/s (2 * tokens * rows * cols / s) of batch
 *     32/128/512 products on 3584x3584 at 2 threads, and of the seven
 *     products of one Qwen2.5-7B layer at batch 512 (the figure to compare
 *     with llama-bench pp512 on a 7B-shaped file, bench/section_kernels.sh).
 * Each figure is the best of several runs (after a warm-up), as a kernel
 * benchmark should be; the rows of a matrix repeat one random row so that
 * setup stays fast, but every byte is read from memory.
 */
#include "xuan/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;
static float rndf(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / 16777216.0 * 2.0 - 1.0);
}

/* ---- memory bandwidth --------------------------------------------------------------- */

typedef struct bw_job {
    const uint8_t *src;
    uint8_t *dst; /* NULL: read-only */
    size_t n;
    double sink[64];
} bw_job;

static void bw_part(void *ctx, int ith, int nth) {
    bw_job *j = ctx;
    size_t a = j->n / (size_t)nth * (size_t)ith, b = ith == nth - 1 ? j->n : j->n / (size_t)nth * (size_t)(ith + 1);
    if (j->dst) {
        memcpy(j->dst + a, j->src + a, b - a);
        return;
    }
    const uint64_t *p = (const uint64_t *)(j->src + a);
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= (b - a) / 8; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    j->sink[ith * 8] = (double)(s0 + s1 + s2 + s3);
}

static double bandwidth(xuan_pool *pool, bool copy, size_t n, uint8_t *a, uint8_t *b) {
    bw_job j = {.src = a, .dst = copy ? b : NULL, .n = n};
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t = xuan_time_s();
        xuan_pool_run(pool, bw_part, &j);
        t = xuan_time_s() - t;
        if (t < best) best = t;
    }
    return (copy ? 2.0 : 1.0) * (double)n / best / 1e9;
}

/* ---- kernels ------------------------------------------------------------------------ */

/* A rows x cols weight of `type`: one quantized random row, repeated. */
static void *make_weight(uint32_t type, int64_t rows, int64_t cols, size_t *bytes) {
    uint64_t rb;
    if (!xuan_type_row_size(type, (uint64_t)cols, &rb)) return NULL;
    uint8_t *w = xuan_malloc_aligned((size_t)(rb * (uint64_t)rows));
    float *row = malloc((size_t)cols * sizeof(float));
    if (!w || !row) exit(1);
    for (int64_t i = 0; i < cols; i++) row[i] = rndf() * 0.05f;
    if (xuan_quantize_rows(type, row, w, 1, cols, NULL) != 0) exit(1);
    for (int64_t r = 1; r < rows; r++) memcpy(w + (uint64_t)r * rb, w, rb);
    free(row);
    *bytes = (size_t)(rb * (uint64_t)rows);
    return w;
}

static double time_matmul(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok,
                          float *y, void *scratch, int reps) {
    xuan_matmul(pool, w, x, n_tok, y, scratch); /* warm-up */
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double t = xuan_time_s();
        xuan_matmul(pool, w, x, n_tok, y, scratch);
        t = xuan_time_s() - t;
        if (t < best) best = t;
    }
    return best;
}

/* Batch-512 products of one Qwen2.5-7B layer (q, k, v, o, gate, up, down:
 * 233,046,016 weights), 2 threads: the kernel-level figure to set beside
 * llama-bench's pp512 on a 7B-shaped file (GFLOP/s = 2 * weights * tokens /
 * time).  x holds 512 x 18944 floats, y 512 x 18944. */
static double layer_gflops(xuan_pool *pool, uint32_t type, const float *x, float *y, void *scratch, int reps) {
    static const int64_t SHAPES[4][3] = {/* rows, cols, uses */ {3584, 3584, 2}, {512, 3584, 2},
                                         {18944, 3584, 2}, {3584, 18944, 1}};
    double total = 0, flops = 0;
    for (int s = 0; s < 4; s++) {
        size_t bytes;
        void *wd = make_weight(type, SHAPES[s][0], SHAPES[s][1], &bytes);
        xuan_weight w = {type, wd, SHAPES[s][0], SHAPES[s][1], NULL};
        total += (double)SHAPES[s][2] * time_matmul(pool, &w, x, 512, y, scratch, reps);
        flops += (double)SHAPES[s][2] * 2.0 * 512 * (double)SHAPES[s][0] * (double)SHAPES[s][1];
        xuan_free_aligned(wd);
    }
    return flops / total / 1e9;
}

int main(int argc, char **argv) {
    bool quick = false, decode_only = false;
    const char *types_arg = "Q4_0,Q4_1,Q5_0,Q5_1,Q8_0,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ4_NL,IQ4_XS,F16,BF16";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = true;
        else if (!strcmp(argv[i], "--decode")) decode_only = true;
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) types_arg = argv[++i];
        else {
            fprintf(stderr, "usage: bench_kernels [--quick] [--decode] [--types Q4_K,Q8_0,...]\n");
            return 2;
        }
    }
    const xuan_cpu *cpu = xuan_cpu_get();
    xuan_pool *p1 = xuan_pool_create(1, NULL), *p2 = xuan_pool_create(2, NULL);
    if (!p1 || !p2) return 1;
    printf("### Kernels (xuan %s, SIMD level %s, %d cores)\n\n", xuan_version(), xuan_simd_name(cpu->simd),
           cpu->n_cores);

    /* 1. Bandwidth on 512 MiB buffers, far beyond any cache. */
    size_t nb = (size_t)512 << 20;
    uint8_t *a = xuan_malloc_aligned(nb), *b = xuan_malloc_aligned(nb);
    if (!a || !b) return 1;
    memset(a, 1, nb);
    memset(b, 2, nb);
    double bw_copy1 = bandwidth(p1, true, nb, a, b), bw_copy2 = bandwidth(p2, true, nb, a, b);
    double bw_read1 = bandwidth(p1, false, nb, a, b), bw_read2 = bandwidth(p2, false, nb, a, b);
    xuan_free_aligned(a);
    xuan_free_aligned(b);
    printf("Memory bandwidth (GB/s, 512 MiB buffers): copy (read+write) %.1f at 1 thread, %.1f at 2; "
           "read-only %.1f at 1 thread, %.1f at 2.\n\n",
           bw_copy1, bw_copy2, bw_read1, bw_read2);

    /* 2 and 3. */
    static const int64_t ROWS[3] = {3584, 18944, 152064};
    const int64_t COLS = 3584;
    static const int64_t BATCH[3] = {32, 128, 512};
    float *x = xuan_malloc_aligned((size_t)512 * 18944 * sizeof(float));
    float *y = xuan_malloc_aligned((size_t)512 * 152064 * sizeof(float));
    /* The largest scratch any type needs for 512 tokens (activations + the
     * batch kernel's per-group sums). */
    size_t scratch_n = 0;
    for (uint32_t t = 0; t < XUAN_TYPE_COUNT; t++) {
        if (!xuan_quant_can_matmul(t)) continue;
        xuan_weight probe = {t, NULL, 3584, 18944, NULL};
        size_t n = xuan_matmul_scratch_size(&probe, 512);
        if (n > scratch_n) scratch_n = n;
    }
    void *scratch = xuan_malloc_aligned(scratch_n + 64);
    if (!x || !y || !scratch) return 1;
    for (int64_t i = 0; i < 512 * 18944; i++) x[i] = rndf();

    printf("| type | bpw | 3584² 1t | 3584² 2t | 18944×3584 1t | 2t | 152064×3584 1t | 2t | 2t vs read BW "
           "| pp32 GFLOP/s | pp128 | pp512 | pp512 7B layer |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    char list[512];
    snprintf(list, sizeof list, "%s", types_arg);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        xuan_type type;
        if (xuan_type_from_name(tok, &type) != 0 || !xuan_quant_can_matmul(type)) {
            fprintf(stderr, "bench_kernels: unknown or unsupported type %s\n", tok);
            return 2;
        }
        printf("| %s | %.2f |", xuan_type_name(type), xuan_type_bpw(type));
        fflush(stdout);
        double gbs2_big = 0;
        for (int s = 0; s < 3; s++) {
            if (quick && s == 2) {
                printf(" – | – |");
                continue;
            }
            size_t bytes;
            void *wd = make_weight(type, ROWS[s], COLS, &bytes);
            xuan_weight w = {type, wd, ROWS[s], COLS, NULL};
            int reps = s == 2 ? 3 : 10;
            double t1 = time_matmul(p1, &w, x, 1, y, scratch, reps);
            double t2 = time_matmul(p2, &w, x, 1, y, scratch, reps);
            printf(" %.1f | %.1f |", bytes / t1 / 1e9, bytes / t2 / 1e9);
            fflush(stdout);
            if (s == 1 || (s == 2)) gbs2_big = bytes / t2 / 1e9;
            xuan_free_aligned(wd);
        }
        printf(" %.0f%% |", 100.0 * gbs2_big / bw_read2);
        if (decode_only) {
            printf(" – | – | – | – |\n");
            continue;
        }
        size_t bytes;
        void *wd = make_weight(type, 3584, COLS, &bytes);
        xuan_weight w = {type, wd, 3584, COLS, NULL};
        for (int k = 0; k < 3; k++) {
            double t = time_matmul(p2, &w, x, BATCH[k], y, scratch, quick ? 1 : 3);
            printf(" %.1f |", 2.0 * BATCH[k] * 3584.0 * COLS / t / 1e9);
            fflush(stdout);
        }
        xuan_free_aligned(wd);
        printf(" %.1f |\n", layer_gflops(p2, type, x, y, scratch, quick ? 1 : 2));
    }
    printf("\nDecode columns: weight GB/s (bytes of the matrix / time of one product); "
           "\"2t vs read BW\" compares the largest shape at 2 threads with the read-only bandwidth above. "
           "pp columns: 3584×3584 weight, batch of 32/128/512 tokens, 2 threads; \"7B layer\": the seven products "
           "of one Qwen2.5-7B layer at batch 512, 2 threads.\n");
    xuan_free_aligned(x);
    xuan_free_aligned(y);
    xuan_free_aligned(scratch);
    xuan_pool_free(p1);
    xuan_pool_free(p2);
    return 0;
}
