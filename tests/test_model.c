/*
 * test_model.c — the model loader refuses what it cannot run, naming the
 * culprit: an unknown architecture (with the supported list), a missing
 * tensor, a tensor of the wrong shape or type.  Each bad file is a copy of a
 * small synthetic model (xuan_synth_write) with one thing changed through
 * the GGUF writer; the unchanged copy must load and evaluate, so a failure
 * is about the change and not about the copying.
 */
#include "harness.h"
#include "xuan/model.h"
#include "xuan/quant.h"
#include "model/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What to change while copying. */
typedef struct edit {
    const char *arch;     /* new general.architecture, or NULL */
    const char *drop;     /* tensor to leave out, or NULL */
    const char *reshape;  /* tensor whose ne[1] is halved, or NULL */
    const char *retype;   /* F32 tensor written as F16, or NULL */
} edit;

static const char *base_model(void) {
    static char path[512];
    if (path[0]) return path;
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset("tiny", &p) == 0);
    p.type = XUAN_TYPE_F32;
    p.embd_type = XUAN_TYPE_F32;
    p.output_type = XUAN_TYPE_F32;
    xuan_error err = {0};
    snprintf(path, sizeof path, "%s", test_path("model_base.gguf"));
    if (xuan_synth_write(&p, path, &err) != 0) {
        test_fail(__FILE__, __LINE__, "synth: %s", err.msg);
        path[0] = 0;
        longjmp(test_abort_jmp, 1);
    }
    return path;
}

/* Copies base_model() to `out` with one edit; returns 0 on success. */
static int copy_with(const char *out, const edit *e) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(base_model(), &err);
    REQUIRE(g != NULL);
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w != NULL);
    int rc = 0;
    uint16_t *half = NULL;
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g) && !rc; i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(g, i);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.n, kv->key.p);
        if (e->arch && strcmp(key, "general.architecture") == 0)
            rc = xuan_gguf_writer_set_str(w, key, e->arch);
        else
            rc = xuan_gguf_writer_set_value(w, key, &kv->value);
    }
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g) && !rc; i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        if (e->drop && strcmp(t->name, e->drop) == 0) continue;
        int64_t ne[XUAN_GGUF_MAX_DIMS];
        memcpy(ne, t->ne, sizeof ne);
        uint32_t type = t->type;
        const void *data = t->data;
        if (e->reshape && strcmp(t->name, e->reshape) == 0) ne[1] /= 2; /* data is longer: fine */
        if (e->retype && strcmp(t->name, e->retype) == 0) {
            REQUIRE(t->type == XUAN_TYPE_F32);
            half = malloc(t->n_elements * sizeof *half);
            REQUIRE(half != NULL);
            const float *f = (const float *)(const void *)t->data;
            for (uint64_t k = 0; k < t->n_elements; k++) half[k] = xuan_fp32_to_fp16(f[k]);
            type = XUAN_TYPE_F16;
            data = half;
        }
        rc = xuan_gguf_writer_add_tensor(w, t->name, type, t->n_dims, ne, data, NULL, NULL, &err);
    }
    if (!rc) rc = xuan_gguf_writer_write(w, out, &err);
    if (rc) test_fail(__FILE__, __LINE__, "copy to %s: %s", out, err.msg);
    xuan_gguf_writer_free(w);
    xuan_gguf_close(g);
    free(half);
    return rc;
}

/* Loads `path` expecting failure; returns the message. */
static const char *load_fails(const char *path) {
    static xuan_error err;
    memset(&err, 0, sizeof err);
    xuan_model *m = xuan_model_load(path, &err);
    if (m) {
        test_fail(__FILE__, __LINE__, "%s loaded, expected a refusal", path);
        xuan_model_free(m);
        return "";
    }
    CHECK(err.code != 0);
    return err.msg;
}

static void test_unchanged_copy_runs(void) {
    const char *path = test_path("model_copy.gguf");
    REQUIRE(copy_with(path, &(edit){0}) == 0);
    xuan_error err = {0};
    xuan_model *m = xuan_model_load(path, &err);
    if (!m) test_fail(__FILE__, __LINE__, "load: %s", err.msg);
    REQUIRE(m != NULL);
    CHECK_EQ_INT(xuan_model_hparams(m)->arch, XUAN_ARCH_QWEN2);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 32;
    cp.n_threads = 1;
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    REQUIRE(c != NULL);
    const int32_t ids[3] = {1, 2, 3};
    CHECK_EQ_INT(xuan_ctx_eval(c, ids, 3, &err), 0);
    const float *lg = xuan_ctx_logits(c);
    bool finite = true, varied = false;
    for (uint32_t i = 0; i < xuan_model_hparams(m)->n_vocab; i++) {
        if (!isfinite(lg[i])) finite = false;
        if (lg[i] != lg[0]) varied = true;
    }
    CHECK(finite);
    CHECK(varied);
    xuan_ctx_free(c);
    xuan_model_free(m);
}

static void test_unknown_architecture(void) {
    const char *path = test_path("model_arch.gguf");
    REQUIRE(copy_with(path, &(edit){.arch = "mamba"}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "'mamba'") != NULL);
    CHECK(strstr(msg, "llama") && strstr(msg, "qwen2") && strstr(msg, "phi3"));
}

static void test_missing_tensor(void) {
    const char *path = test_path("model_missing.gguf");
    REQUIRE(copy_with(path, &(edit){.drop = "blk.1.ffn_down.weight"}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "blk.1.ffn_down.weight") != NULL);
    CHECK(strstr(msg, "missing") != NULL);
}

static void test_wrong_shape(void) {
    const char *path = test_path("model_shape.gguf");
    REQUIRE(copy_with(path, &(edit){.reshape = "blk.0.attn_k.weight"}) == 0);
    const char *msg = load_fails(path);
    /* tiny: d_model 64, 2 kv heads of 16 -> [64, 32]; the copy has [64, 16] */
    CHECK(strstr(msg, "blk.0.attn_k.weight") != NULL);
    CHECK(strstr(msg, "[64, 16]") != NULL);
    CHECK(strstr(msg, "[64, 32]") != NULL);
}

static void test_wrong_type(void) {
    const char *path = test_path("model_type.gguf");
    REQUIRE(copy_with(path, &(edit){.retype = "blk.0.attn_norm.weight"}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "blk.0.attn_norm.weight") != NULL);
    CHECK(strstr(msg, "F16") != NULL);
}

/* The AVX-512 attention loops over an F16 cache against their scalar
 * references: the dot may differ only by summation order (budget: 1e-5 of
 * the sum of |x_i h_i|), the weighted V sum by FMA contraction (1e-6 of the
 * magnitude), for lengths around the 16- and 32-lane steps. */
static void test_attention_f16_simd(void) {
    if (xuan_cpu_get()->simd < XUAN_SIMD_AVX512) {
        printf("  (no AVX-512 here: only the scalar reference runs)\n");
        return;
    }
    float x[160], acc_s[160], acc_v[160];
    uint16_t h[160];
    uint32_t seed = 12345;
    for (int i = 0; i < 160; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((int)(seed >> 9) % 2001 - 1000) / 250.0f;
        seed = seed * 1664525u + 1013904223u;
        h[i] = xuan_fp32_to_fp16((float)((int)(seed >> 9) % 2001 - 1000) / 300.0f);
    }
    const int64_t lens[] = {1, 15, 16, 17, 31, 32, 33, 64, 80, 128, 160};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        const int64_t n = lens[k];
        double mag = 0;
        for (int64_t i = 0; i < n; i++) mag += fabs((double)x[i] * xuan_fp16_to_fp32(h[i]));
        CHECK_NEAR(xuan_op_dot_f16_avx512(x, h, n), xuan_op_dot_f16(x, h, n), 1e-5 * mag + 1e-6);
        for (int64_t i = 0; i < n; i++) acc_s[i] = acc_v[i] = x[(i * 7) % n];
        xuan_op_axpy_f16(acc_s, 0.37f, h, n);
        xuan_op_axpy_f16_avx512(acc_v, 0.37f, h, n);
        for (int64_t i = 0; i < n; i++) CHECK_NEAR(acc_v[i], acc_s[i], 1e-6 * (fabsf(acc_s[i]) + 1.0f));
    }
}

int main(void) {
    RUN(test_attention_f16_simd);
    RUN(test_unchanged_copy_runs);
    RUN(test_unknown_architecture);
    RUN(test_missing_tensor);
    RUN(test_wrong_shape);
    RUN(test_wrong_type);
    return test_done();
}
