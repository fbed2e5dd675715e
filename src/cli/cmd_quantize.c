/* xuan quantize — requantize a GGUF model to a llama.cpp file type
 * (Q4_0, Q4_K_S, Q4_K_M, Q5_K_M, Q6_K, Q8_0, MXFP4_MOE) with llama-quantize's rules
 * for which tensor gets which type (src/quant/mix.c) and its quantizers
 * (bit-identical blocks, tests/golden/quant). */
#include "cli.h"
#include "xuan/quant.h"

#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan quantize IN.gguf OUT.gguf TYPE [--threads N]\n\n"
            "Writes OUT with the tensors of IN quantized to TYPE, one of: %s.\n"
            "Per-tensor types follow llama-quantize (no importance matrix): attn_v and\n"
            "ffn_down get more bits in some layers, output.weight gets Q6_K, rows that do\n"
            "not fit a 256-block fall back (Q4_K -> Q5_0, Q6_K -> Q8_0, ...).\n"
            "  --threads N   worker threads (default: all cores)\n",
            xuan_quant_mix_names());
}

/* Converts the rows of one tensor, chunk by chunk, as the writer asks. */
typedef struct qjob {
    const xuan_gguf_tensor *src;
    uint32_t dst_type;
    uint64_t src_row, dst_row; /* bytes per row */
    int64_t n_cols;
    xuan_pool *pool;
    float **f32;      /* one row of floats per thread */
    uint8_t *staging; /* whole destination rows covering the current chunk */
    int64_t r0, r1;   /* rows to convert in the current job */
} qjob;

static void convert_rows(void *ctx, int ith, int nth) {
    qjob *j = ctx;
    int64_t n = j->r1 - j->r0, a = j->r0 + n * ith / nth, b = j->r0 + n * (ith + 1) / nth;
    for (int64_t r = a; r < b; r++) {
        xuan_dequantize_row(j->src->type, j->src->data + (uint64_t)r * j->src_row, j->f32[ith], j->n_cols, NULL);
        xuan_quantize_rows(j->dst_type, j->f32[ith], j->staging + (uint64_t)(r - j->r0) * j->dst_row, 1,
                           j->n_cols, NULL);
    }
}

static int fill(void *ctx, const xuan_gguf_tensor *t, uint64_t offset, uint8_t *out, uint64_t n,
                xuan_error *err) {
    (void)t;
    qjob *j = ctx;
    j->r0 = (int64_t)(offset / j->dst_row);
    j->r1 = (int64_t)((offset + n + j->dst_row - 1) / j->dst_row);
    xuan_pool_run(j->pool, convert_rows, j);
    memcpy(out, j->staging + (offset - (uint64_t)j->r0 * j->dst_row), n);
    (void)err;
    return 0;
}

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0;
    int64_t threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--threads") || !strcmp(argv[i], "-t")) {
            if (i + 1 >= argc) return cli_usage_error("quantize", "%s needs a value", argv[i]);
            if (cli_int_arg("quantize", argv[i], argv[i + 1], 1, 256, &threads)) return XUAN_EXIT_USAGE;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("quantize", "unknown option '%s'", argv[i]);
        } else if (n_pos < 3) {
            pos[n_pos++] = argv[i];
        } else {
            return cli_usage_error("quantize", "too many arguments");
        }
    }
    if (n_pos != 3) return cli_usage_error("quantize", "expected IN.gguf OUT.gguf TYPE");
    const char *in = pos[0], *out = pos[1], *type_name = pos[2];
    xuan_error err = {0};
    xuan_quant_mix mix;
    if (xuan_quant_mix_init(&mix, type_name, 0, &err) != 0) return cli_usage_error("quantize", "%s", err.msg);
    if (!strcmp(in, out) || same_file(in, out))
        return cli_usage_error("quantize", "refusing to overwrite the input %s; choose another OUT", in);

    xuan_gguf *g = xuan_gguf_open(in, &err);
    if (!g) return cli_error("%s", err.msg);
    int rc = XUAN_EXIT_RUNTIME;
    xuan_gguf_writer *w = NULL;
    xuan_pool *pool = NULL;
    qjob *jobs = NULL;
    float **f32 = NULL;
    int nth = 0;

    /* n_layer from "<arch>.block_count", as llama.cpp's hparams.n_layer. */
    xuan_str arch;
    char key[160];
    uint32_t n_layer = 0;
    if (xuan_gguf_get_str(g, "general.architecture", &arch) != 0) {
        cli_error("%s: no general.architecture key", in);
        goto done;
    }
    snprintf(key, sizeof key, "%.*s.block_count", (int)(arch.n < 100 ? arch.n : 100), arch.p);
    if (xuan_gguf_get_u32(g, key, &n_layer, &err) != 0) {
        cli_error("%s: %s", in, err.msg[0] ? err.msg : "no block_count key");
        goto done;
    }
    xuan_quant_mix_init(&mix, type_name, (int)n_layer, NULL);
    uint64_t nt = xuan_gguf_n_tensors(g);
    for (uint64_t i = 0; i < nt; i++) xuan_quant_mix_count(&mix, xuan_gguf_tensor_at(g, i)->name);

    pool = xuan_pool_create((int)threads, &err);
    if (!pool) {
        cli_error("%s", err.msg);
        goto done;
    }
    nth = xuan_pool_size(pool);
    jobs = xuan_calloc(nt ? nt : 1, sizeof *jobs);
    f32 = xuan_calloc((size_t)nth, sizeof *f32);
    w = xuan_gguf_writer_new();
    if (!jobs || !f32 || !w) {
        cli_error("out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g); i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(g, i);
        char k[256];
        snprintf(k, sizeof k, "%.*s", (int)(kv->key.n < 255 ? kv->key.n : 255), kv->key.p);
        if (xuan_gguf_writer_set_value(w, k, &kv->value) != 0) {
            cli_error("%s: cannot copy key %s", in, k);
            goto done;
        }
    }
    xuan_gguf_writer_set_u32(w, "general.quantization_version", 2);
    xuan_gguf_writer_set_u32(w, "general.file_type", mix.ftype);
    xuan_gguf_writer_set_alignment(w, (uint32_t)xuan_gguf_alignment(g));

    int64_t max_cols = 1;
    uint64_t max_row = 0, n_changed = 0;
    for (uint64_t i = 0; i < nt; i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        uint32_t to = xuan_quant_mix_type(&mix, t->name, t->n_dims, t->ne[0], t->type);
        if (to == t->type) {
            rc = xuan_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, NULL, NULL, &err);
        } else {
            if (!xuan_quant_can_dequantize(t->type)) {
                cli_error("%s: tensor %s has type %s, which xuan cannot convert", in, t->name,
                          xuan_type_name(t->type));
                rc = XUAN_EXIT_RUNTIME;
                goto done;
            }
            qjob *j = &jobs[i];
            *j = (qjob){.src = t, .dst_type = to, .n_cols = t->ne[0], .pool = pool, .f32 = f32};
            if (!xuan_type_row_size(t->type, (uint64_t)t->ne[0], &j->src_row) ||
                !xuan_type_row_size(to, (uint64_t)t->ne[0], &j->dst_row)) {
                cli_error("%s: tensor %s: row length %lld is not a multiple of the %s block size", in,
                          t->name, (long long)t->ne[0], xuan_type_name(to));
                rc = XUAN_EXIT_RUNTIME;
                goto done;
            }
            if (t->ne[0] > max_cols) max_cols = t->ne[0];
            if (j->dst_row > max_row) max_row = j->dst_row;
            rc = xuan_gguf_writer_add_tensor(w, t->name, to, t->n_dims, t->ne, NULL, fill, j, &err);
            n_changed++;
        }
        if (rc) {
            cli_error("%s: %s", in, err.msg);
            rc = XUAN_EXIT_RUNTIME;
            goto done;
        }
        xuan_log(XUAN_LOG_INFO, "%-32s %-6s -> %s", t->name, xuan_type_name(t->type), xuan_type_name(to));
    }
    /* One staging area for all tensors (the writer fills 4 MiB chunks in
     * order; a chunk spans at most two partial rows more). */
    uint8_t *staging = xuan_malloc((size_t)((4u << 20) + 2 * max_row));
    for (int i = 0; i < nth; i++) f32[i] = xuan_malloc((size_t)max_cols * sizeof(float));
    bool ok = staging != NULL;
    for (int i = 0; i < nth; i++) ok = ok && f32[i];
    if (!ok) {
        xuan_free(staging);
        cli_error("out of memory");
        rc = XUAN_EXIT_RUNTIME;
        goto done;
    }
    for (uint64_t i = 0; i < nt; i++) jobs[i].staging = staging;
    xuan_gguf_writer_progress(w, "quantize");
    rc = xuan_gguf_writer_write(w, out, &err);
    xuan_free(staging);
    if (rc) {
        cli_error("%s", err.msg);
        rc = XUAN_EXIT_RUNTIME;
        goto done;
    }
    fprintf(stderr, "xuan: wrote %s (%s, %llu of %llu tensors converted)\n", out, type_name,
            (unsigned long long)n_changed, (unsigned long long)nt);
    rc = 0;
done:
    if (f32)
        for (int i = 0; i < nth; i++) xuan_free(f32[i]);
    xuan_free(f32);
    xuan_free(jobs);
    xuan_gguf_writer_free(w);
    xuan_pool_free(pool);
    xuan_gguf_close(g);
    return rc;
}
