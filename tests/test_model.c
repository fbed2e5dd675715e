/*
 * test_model.c — the model loader refuses what it cannot run, naming the
 * culprit: an unknown architecture (with the supported list), a missing
 * tensor, a tensor of the wrong shape or type.  Each bad file is a copy of a
 * small synthetic model (xuan_synth_write) with one thing changed through
 * the GGUF writer; the unchanged copy must load and evaluate, so a failure
 * is about the change and not about the copying.
 */
#include "harness.h"
#include "xuan/gen.h"
#include "xuan/model.h"
#include "xuan/quant.h"
#include "model/internal.h"
#include "quant/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xuan/gguf.h"
#include "xuan/tok.h"

/* What to change while copying. */
typedef struct edit {
    const char *arch;     /* new general.architecture, or NULL */
    const char *drop;     /* tensor to leave out, or NULL */
    const char *reshape;  /* tensor whose ne[1] is halved, or NULL */
    const char *retype;   /* F32 tensor written as F16, or NULL */
    const char *extra;    /* a 64-float tensor to add, or NULL */
    const char *key;      /* a u32 key to set to `value`, or NULL */
    uint32_t value;
    const uint32_t *arr;  /* with key: the key becomes this u32 array of arr_n values instead */
    uint32_t arr_n;
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

/* Copies `src` to `out` with one edit; returns 0 on success. */
static int copy_from(const char *src, const char *out, const edit *e) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(src, &err);
    REQUIRE(g != NULL);
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w != NULL);
    int rc = 0;
    uint16_t *half = NULL;
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g) && !rc; i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(g, i);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.n, kv->key.p);
        if (e->arch && strncmp(key, "qwen2.", 6) == 0) /* the base is qwen2: its keys follow the new name */
            snprintf(key, sizeof key, "%s.%.*s", e->arch, (int)kv->key.n - 6, kv->key.p + 6);
        if (e->arch && strcmp(key, "general.architecture") == 0)
            rc = xuan_gguf_writer_set_str(w, key, e->arch);
        else if (e->key && strcmp(key, e->key) == 0 && e->arr)
            rc = xuan_gguf_writer_set_arr(w, key, XUAN_GGUF_UINT32, e->arr, e->arr_n);
        else if (e->key && strcmp(key, e->key) == 0)
            rc = xuan_gguf_writer_set_u32(w, key, e->value);
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
    static const float zeros[64];
    if (!rc && e->extra)
        rc = xuan_gguf_writer_add_tensor(w, e->extra, XUAN_TYPE_F32, 1, (int64_t[XUAN_GGUF_MAX_DIMS]){64, 1, 1, 1},
                                         zeros, NULL, NULL, &err);
    if (!rc) rc = xuan_gguf_writer_write(w, out, &err);
    if (rc) test_fail(__FILE__, __LINE__, "copy to %s: %s", out, err.msg);
    xuan_gguf_writer_free(w);
    xuan_gguf_close(g);
    free(half);
    return rc;
}

static int copy_with(const char *out, const edit *e) { return copy_from(base_model(), out, e); }

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
    CHECK(strcmp(xuan_model_hparams(m)->arch->name, "qwen2") == 0);
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

/* xuan_generate never writes past out_ids: its room bounds the generation
 * (also with n_predict < 0, "until the context is full"), and out_ids
 * without its room is refused.  The context ending is its own status. */
static void test_generate_out_ids(void) {
    xuan_error err = {0};
    xuan_model *m = xuan_model_load(base_model(), &err);
    REQUIRE(m != NULL);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 16;
    cp.n_threads = 1;
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    REQUIRE(c != NULL);
    xuan_sampler_params sp = xuan_sampler_params_default();
    sp.temperature = 0;
    xuan_sampler *smp = xuan_sampler_create((int32_t)xuan_model_hparams(m)->n_vocab, &sp, &err);
    REQUIRE(smp != NULL);
    const int32_t prompt[3] = {1, 2, 3};
    int32_t ids[40];
    xuan_gen_params gp = xuan_gen_params_default();
    xuan_gen_stats st;

    gp.n_predict = -1;
    gp.out_ids = ids;
    CHECK_EQ_INT(xuan_generate(c, NULL, smp, NULL, prompt, 3, &gp, &st, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "out_ids_cap") != NULL);

    for (int i = 0; i < 40; i++) ids[i] = -7;
    gp.out_ids_cap = 5;
    CHECK_EQ_INT(xuan_generate(c, NULL, smp, NULL, prompt, 3, &gp, &st, &err), 0);
    CHECK_EQ_INT(st.n_gen, 5);
    CHECK_EQ_INT(st.end, XUAN_GEN_END_LENGTH);
    for (int i = 0; i < 5; i++) CHECK(ids[i] >= 0);
    for (int i = 5; i < 40; i++) CHECK_EQ_INT(ids[i], -7);

    /* room for more than the context: the context ends it, and says so */
    for (int i = 0; i < 40; i++) ids[i] = -7;
    gp.out_ids_cap = 40;
    xuan_ctx_truncate(c, 0);
    CHECK_EQ_INT(xuan_generate(c, NULL, smp, NULL, prompt, 3, &gp, &st, &err), 0);
    CHECK_EQ_INT(st.end, XUAN_GEN_END_CTX_FULL);
    CHECK_EQ_INT(st.n_gen, 16 - 3 + 1); /* the last one is sampled, not evaluated */
    for (uint32_t i = st.n_gen; i < 40; i++) CHECK_EQ_INT(ids[i], -7);

    xuan_sampler_free(smp);
    xuan_ctx_free(c);
    xuan_model_free(m);
}

/* A context reads the SIMD level once, when it is made: changing the
 * process's level afterwards changes nothing in it, and a context made
 * after the change uses the new level. */
static void eval_logits(xuan_ctx *c, float *out, uint32_t nv) {
    xuan_error err = {0};
    const int32_t ids[5] = {4, 1, 7, 2, 9};
    xuan_ctx_truncate(c, 0);
    CHECK_EQ_INT(xuan_ctx_eval(c, ids, 5, &err), 0);
    memcpy(out, xuan_ctx_logits(c), nv * sizeof *out);
}

static void test_simd_snapshot_per_ctx(void) {
    const xuan_simd native = xuan_cpu_get()->native, was = xuan_cpu_get()->simd;
    if (native == XUAN_SIMD_SCALAR) return; /* one level only: nothing to tell apart */
    xuan_error err = {0};
    xuan_model *m = xuan_model_load(base_model(), &err);
    REQUIRE(m != NULL);
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    float *a = malloc(nv * sizeof *a), *b = malloc(nv * sizeof *b), *s = malloc(nv * sizeof *s);
    REQUIRE(a && b && s);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 16;
    cp.n_threads = 1;
    xuan_cpu_set_simd(native);
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    REQUIRE(c != NULL);
    eval_logits(c, a, nv);
    xuan_cpu_set_simd(XUAN_SIMD_SCALAR);
    eval_logits(c, b, nv);
    xuan_ctx *cs = xuan_ctx_new(m, &cp, &err);
    REQUIRE(cs != NULL);
    eval_logits(cs, s, nv);
    xuan_cpu_set_simd(was);
    CHECK(memcmp(a, b, nv * sizeof *a) == 0); /* the same context: the same kernels */
    float d = 0;
    for (uint32_t i = 0; i < nv; i++) d = fmaxf(d, fabsf(a[i] - s[i]));
    CHECK(d > 0);    /* the scalar context did take other kernels (other summation order) */
    CHECK(d < 1e-3f); /* and still computed the same function */
    xuan_ctx_free(cs);
    xuan_ctx_free(c);
    xuan_model_free(m);
    free(a);
    free(b);
    free(s);
}

/* Residency: --no-mmap (XUAN_MAP_READ) and --mlock (XUAN_MAP_LOCK) give the
 * same logits as a plain map, and say how they hold the weights.  Then the
 * page cache is made to lose the weights after every token (MADV_PAGEOUT,
 * what memory pressure does): a plain map reads them from disk again, the
 * generation loop counts the major faults and warns once; read into memory
 * or locked, nothing is lost and nothing is said. */
typedef struct pageout {
    const xuan_gguf *g;
    int calls;
} pageout;

static void page_out(const xuan_gguf *g) {
    const uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        uintptr_t a = (uintptr_t)t->data & ~(ps - 1), b = ((uintptr_t)t->data + t->n_bytes + ps - 1) & ~(ps - 1);
        madvise((void *)a, b - a, MADV_PAGEOUT);
    }
}

static int pageout_emit(void *user, const char *text, size_t n) {
    (void)text, (void)n;
    pageout *po = user;
    page_out(po->g);
    po->calls++;
    return 0;
}

static void generate_paged_out(unsigned flags, xuan_gen_stats *st, float *logits) {
    xuan_error err = {0};
    xuan_model *m = xuan_model_load_ex(base_model(), flags, &err);
    REQUIRE(m != NULL);
    const xuan_gguf *g = xuan_model_gguf(m);
    unsigned res = xuan_gguf_residency(g);
    if (flags & XUAN_MAP_READ) CHECK(res & XUAN_MAP_READ);
    else CHECK(!(res & XUAN_MAP_READ));
    if (!(flags & XUAN_MAP_LOCK)) CHECK(!(res & XUAN_MAP_LOCK));
    xuan_tok *tok = xuan_tok_from_gguf(g, &err);
    REQUIRE(tok != NULL);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 64;
    cp.n_threads = 1;
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    REQUIRE(c != NULL);
    const int32_t prompt[3] = {1, 2, 3};
    CHECK_EQ_INT(xuan_ctx_eval(c, prompt, 3, &err), 0);
    memcpy(logits, xuan_ctx_logits(c), xuan_model_hparams(m)->n_vocab * sizeof *logits);
    xuan_ctx_truncate(c, 0);
    xuan_sampler_params sp = xuan_sampler_params_default();
    sp.temperature = 0;
    xuan_sampler *smp = xuan_sampler_create((int32_t)xuan_model_hparams(m)->n_vocab, &sp, &err);
    REQUIRE(smp != NULL);
    size_t n_eog;
    const int32_t *eogs = xuan_tok_eog_ids(tok, &n_eog);
    for (size_t i = 0; i < n_eog; i++) xuan_sampler_ban(smp, eogs[i], true);
    pageout po = {.g = g};
    xuan_gen_params gp = xuan_gen_params_default();
    gp.n_predict = 40;
    gp.print_special = true; /* every token has text, so every token pages out */
    gp.emit = pageout_emit;
    gp.emit_user = &po;
    CHECK_EQ_INT(xuan_generate(c, tok, smp, NULL, prompt, 3, &gp, st, &err), 0);
    CHECK(po.calls >= 30);
    xuan_sampler_free(smp);
    xuan_ctx_free(c);
    xuan_tok_free(tok);
    xuan_model_free(m);
}

static void test_residency_and_refaults(void) {
    int probe = madvise(NULL, 0, MADV_PAGEOUT);
    if (probe != 0) {
        fprintf(stderr, "  (skipped: this kernel has no MADV_PAGEOUT)\n");
        return;
    }
    xuan_error err = {0};
    xuan_model *m0 = xuan_model_load(base_model(), &err);
    REQUIRE(m0 != NULL);
    const uint32_t nv = xuan_model_hparams(m0)->n_vocab;
    xuan_model_free(m0);
    float *a = malloc(nv * sizeof *a), *b = malloc(nv * sizeof *b), *l = malloc(nv * sizeof *l);
    REQUIRE(a && b && l);
    xuan_gen_stats st;

    xuan_log_level lv = xuan_log_get_level();
    xuan_log_set_level(XUAN_LOG_ERROR); /* the expected warning, kept off the test's output */
    generate_paged_out(0, &st, a);
    xuan_log_set_level(lv);
    fprintf(stderr, "  plain map, paged out after each token: %llu major faults in %u tokens\n",
            (unsigned long long)st.major_faults_gen, st.n_gen);
    CHECK(st.major_faults_gen * 2 >= st.n_gen - 1); /* each evaluated token faults at least once */
    CHECK(st.refault_warned);

    generate_paged_out(XUAN_MAP_READ, &st, b);
    CHECK(memcmp(a, b, nv * sizeof *a) == 0);
    CHECK_EQ_INT(st.major_faults_gen, 0);
    CHECK(!st.refault_warned);

    generate_paged_out(XUAN_MAP_LOCK, &st, l);
    CHECK(memcmp(a, l, nv * sizeof *a) == 0);
    /* AddressSanitizer turns mlock into a no-op that reports success, so
     * under it the locked map faults like a plain one. */
#if defined(__SANITIZE_ADDRESS__)
    const bool lock_works = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    const bool lock_works = false;
#else
    const bool lock_works = true;
#endif
#else
    const bool lock_works = true;
#endif
    if (lock_works) {
        CHECK_EQ_INT(st.major_faults_gen, 0);
        CHECK(!st.refault_warned);
    }
    free(a);
    free(b);
    free(l);
}

static void test_unknown_architecture(void) {
    const char *path = test_path("model_arch.gguf");
    REQUIRE(copy_with(path, &(edit){.arch = "mamba"}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "'mamba'") != NULL);
    CHECK(strstr(msg, "llama") && strstr(msg, "qwen2") && strstr(msg, "phi3") && strstr(msg, "qwen3"));
    /* known to the architecture table but not run: the message names the models */
    REQUIRE(copy_with(path, &(edit){.arch = "phimoe"}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "'phimoe' (Phi-3.5-MoE") != NULL && strstr(msg, "not supported yet") != NULL);
}

/* A qwen2 file relabelled qwen3: the table asks for per-head Q/K norms,
 * which the file lacks; the loader names the first one. */
static void test_arch_contradicts_tensors(void) {
    const char *path = test_path("model_qwen3.gguf");
    REQUIRE(copy_with(path, &(edit){.arch = "qwen3"}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "blk.0.attn_q_norm.weight") != NULL);
    /* a tensor no block reads (a router in a dense file) is not ignored */
    REQUIRE(copy_with(path, &(edit){.extra = "blk.1.ffn_gate_inp.weight"}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "tensor blk.1.ffn_gate_inp.weight is not part of architecture 'qwen2'") != NULL);
    CHECK(strstr(msg, "1 of ") != NULL);
}

/* MoE hyperparameters that contradict the expert tensors, or each other. */
static void test_moe_contradictions(void) {
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset("qwen3moe-tiny", &p) == 0);
    p.type = p.embd_type = p.output_type = XUAN_TYPE_F32;
    xuan_error err = {0};
    const char *src = test_path("model_moe.gguf");
    REQUIRE(xuan_synth_write(&p, src, &err) == 0);
    xuan_model *m = xuan_model_load(src, &err);
    CHECK(m != NULL);
    if (m) CHECK_EQ_INT(xuan_model_hparams(m)->n_expert, 8);
    xuan_model_free(m);
    const char *path = test_path("model_moe_bad.gguf");
    REQUIRE(copy_from(src, path, &(edit){.key = "qwen3moe.expert_count", .value = 4}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "blk.0.ffn_gate_inp.weight: shape [64, 8], expected [64, 4]") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "qwen3moe.expert_feed_forward_length", .value = 16}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "blk.0.ffn_gate_exps.weight: shape [64, 32, 8], expected [64, 16, 8]") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "qwen3moe.expert_used_count", .value = 9}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "8 experts with 9 used per token") != NULL);
}

/* deepseek2: MLA keys that contradict each other or the tensors, and the
 * forms not run (pre-absorption files, sigmoid gating), each in one line. */
static void test_mla_contradictions(void) {
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset("deepseek2-tiny", &p) == 0);
    p.n_layers = 2; /* (not llama.cpp's lite form; xuan takes either) */
    p.type = p.embd_type = p.output_type = XUAN_TYPE_F32;
    xuan_error err = {0};
    const char *src = test_path("model_mla.gguf");
    REQUIRE(xuan_synth_write(&p, src, &err) == 0);
    xuan_model *m = xuan_model_load(src, &err);
    CHECK(m != NULL);
    if (m) {
        const xuan_hparams *hp = xuan_model_hparams(m);
        CHECK(hp->mla);
        CHECK_EQ_INT(hp->head_dim, 48); /* kv_lora_rank 32 + rope 16: the cache row */
        CHECK_EQ_INT(hp->head_dim_v, 32);
        CHECK_EQ_INT(hp->n_dense_lead, 1);
        CHECK(hp->kq_scale > 0.0f);
    }
    xuan_model_free(m);
    const char *path = test_path("model_mla_bad.gguf");
    REQUIRE(copy_from(src, path, &(edit){.key = "deepseek2.attention.key_length", .value = 64}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "MLA shape contradicts itself: kv_lora_rank 32, rope dims 16, key_length 64") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "deepseek2.attention.kv_lora_rank", .value = 16}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "MLA shape contradicts itself") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "deepseek2.attention.value_length_mla", .value = 16}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "blk.0.attn_v_b.weight: shape [32, 32, 4], expected [32, 16, 4]") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "deepseek2.attention.key_length_mla", .value = 0}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "converted before llama.cpp's absorbed MLA") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "deepseek2.leading_dense_block_count", .value = 2}) == 0);
    msg = load_fails(path); /* layer 1 is MoE in the file, dense by the key */
    CHECK(strstr(msg, "blk.1.ffn_gate.weight is missing") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.drop = "blk.1.attn_k_b.weight"}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "blk.1.attn_k_b.weight is missing") != NULL);
}

/* gemma4: the kinds as read (sliding flags, two head sizes, shared-KV
 * layers and their sources, per-layer embeddings), and files whose kinds
 * contradict themselves or the tensors, each refused in one line. */
static void test_gemma4_kinds(void) {
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset("gemma4-tiny", &p) == 0);
    p.type = p.embd_type = p.output_type = XUAN_TYPE_F32;
    p.n_vocab = 300;
    xuan_error err = {0};
    const char *src = test_path("model_gemma4.gguf");
    REQUIRE(xuan_synth_write(&p, src, &err) == 0);
    xuan_model *m = xuan_model_load(src, &err);
    CHECK(m != NULL);
    if (m) {
        const xuan_hparams *hp = xuan_model_hparams(m);
        REQUIRE(hp->swa_layers != NULL);
        for (uint32_t il = 0; il < 9; il++) CHECK(hp->swa_layers[il] == (il % 3 != 2));
        CHECK_EQ_INT(hp->head_dim, 32);
        CHECK_EQ_INT(hp->head_dim_swa, 16);
        CHECK_EQ_INT(hp->n_rot_swa, 16);
        CHECK_EQ_INT(hp->n_layer_kv, 6);
        CHECK_EQ_INT(hp->n_embd_per_layer, 16);
        CHECK(hp->kq_scale == 1.0f);
        CHECK(hp->final_softcap == 30.0f);
        xuan_ctx_params cp = xuan_ctx_params_default();
        cp.n_ctx = 64;
        cp.n_threads = 1;
        cp.swa_full = true;
        xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
        REQUIRE(c != NULL);
        /* K and V of the 6 layers that store them: 2 full (2 x 32) and 4 sliding (2 x 16), F16 */
        CHECK_EQ_INT(xuan_ctx_cache_bytes(c), 64ull * 2 * 2 * (2 * 2 * 32 + 4 * 2 * 16));
        const int32_t ids[4] = {1, 2, 3, 4};
        CHECK(xuan_ctx_eval(c, ids, 4, &err) == 0);
        const float *lg = xuan_ctx_logits(c);
        CHECK(lg != NULL && isfinite(lg[0]) && fabsf(lg[0]) <= 30.0f);
        xuan_ctx_free(c);
    }
    xuan_model_free(m);
    const char *path = test_path("model_gemma4_bad.gguf");
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.block_count", .value = 8}) == 0);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "gemma4.attention.sliding_window_pattern: a layer pattern of 9 entries for 8 layers") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.shared_kv_layers", .value = 9}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "gemma4.attention.shared_kv_layers 9: the model has 9 layers") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.shared_kv_layers", .value = 4}) == 0);
    msg = load_fails(path); /* layer 4, the full layers' source, is a sliding one */
    CHECK(strstr(msg, "4 shared-KV layers read the KV of layers 3 (sliding) and 4 (full)") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.key_length_swa", .value = 32}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "sliding layers' head sizes k=32 v=16") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.key_length", .value = 16}) == 0);
    msg = load_fails(path); /* the full layers' head size against their tensors */
    CHECK(strstr(msg, "k=16 v=32") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.embedding_length_per_layer_input", .value = 8}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "per_layer_token_embd.weight: shape [144, 300], expected [72, 300]") != NULL);
    /* per-layer arrays (E2B's double-wide FFN of its shared-KV layers, KV heads per kind) */
    uint32_t ffn[9] = {128, 128, 128, 128, 128, 128, 128, 128, 128}, kvh[9] = {2, 2, 2, 2, 2, 2, 2, 2, 2};
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.feed_forward_length", .arr = ffn, .arr_n = 9}) == 0);
    m = xuan_model_load(path, &err);
    CHECK(m != NULL);
    if (m) CHECK(xuan_model_hparams(m)->ffn_layers && xuan_model_hparams(m)->ffn_layers[8] == 128);
    xuan_model_free(m);
    ffn[7] = 256;
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.feed_forward_length", .arr = ffn, .arr_n = 9}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "blk.7.ffn_gate.weight: shape [64, 128], expected [64, 256]") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.feed_forward_length", .arr = ffn, .arr_n = 8}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "gemma4.feed_forward_length: an array of 8 entries for 9 layers") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.head_count_kv", .arr = kvh, .arr_n = 9}) == 0);
    m = xuan_model_load(path, &err);
    CHECK(m != NULL);
    if (m) CHECK_EQ_INT(xuan_model_hparams(m)->n_kv_heads_swa, 2);
    xuan_model_free(m);
    kvh[4] = 1;
    REQUIRE(copy_from(src, path, &(edit){.key = "gemma4.attention.head_count_kv", .arr = kvh, .arr_n = 9}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "layer 4 has 1 KV heads, other sliding layers 2") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.drop = "rope_freqs.weight"}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "tensor rope_freqs.weight is missing") != NULL);
    REQUIRE(copy_from(src, path, &(edit){.drop = "blk.1.attn_k.weight"}) == 0);
    msg = load_fails(path);
    CHECK(strstr(msg, "blk.1.attn_k.weight is missing") != NULL);
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

/* ggml's evaluation order (ops.c): the AVX2 kernels equal the scalar
 * references bit for bit, and both compute what they should (a dot within
 * rounding of the double-precision value, a softmax summing to 1, expf and
 * silu within a few ulps of libm), for lengths around the 8/16/64 steps and
 * cache windows that start mid-chunk. */
static uint32_t rng_state = 12345;
static float rnd(float scale) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((int)(rng_state >> 9) % 2001 - 1000) / 1000.0f * scale;
}

static void test_ggml_order_ops(void) {
    const bool avx2 = xuan_cpu_get()->simd >= XUAN_SIMD_AVX2;
    if (!avx2) printf("  (no AVX2 here: only the scalar references run)\n");
    enum { N = 300, HD = 64 };
    static float x[N], w[N], out_s[HD], out_v[HD], acc[64 * HD], sc_s[N], sc_v[N];
    static uint16_t h[N], v[N * HD];
    for (int i = 0; i < N; i++) {
        x[i] = xuan_fp16_to_fp32(xuan_fp32_to_fp16(rnd(4.0f)));
        h[i] = xuan_fp32_to_fp16(rnd(3.0f));
    }
    for (int i = 0; i < N * HD; i++) v[i] = xuan_fp32_to_fp16(rnd(2.0f));
    /* expf and silu */
    for (float t = -110.0f; t < 88.0f; t += 0.37f) {
        float e = xuan_op_expf_ggml(t), r = expf(t);
        if (!(t < -87.0f || fabsf(e - r) <= 4e-7f * r)) printf("  expf(%g): %.9g vs libm %.9g\n", t, e, r);
        CHECK(t < -87.0f || fabsf(e - r) <= 4e-7f * r); /* ~3 ulp where normal */
    }
    CHECK(xuan_op_expf_ggml(-INFINITY) == 0.0f);
    CHECK(xuan_op_expf_ggml(0.0f) == 1.0f);
    CHECK(isinf(xuan_op_expf_ggml(90.0f)));
    /* the AVX2 build's expf: as close to libm, and the same edges */
    for (float t = -110.0f; t < 88.0f; t += 0.37f) {
        float e = xuan_op_expf_ggml8(t), r = expf(t);
        CHECK(t < -87.0f || fabsf(e - r) <= 4e-7f * r);
    }
    CHECK(xuan_op_expf_ggml8(-INFINITY) == 0.0f);
    CHECK(xuan_op_expf_ggml8(0.0f) == 1.0f);
    CHECK(isinf(xuan_op_expf_ggml8(90.0f)));
    CHECK(isnan(xuan_op_expf_ggml8(NAN)));
    const int64_t lens[] = {1, 8, 15, 16, 17, 31, 32, 48, 63, 64, 65, 96, 127, 128, 129, 200, 256, 300};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        const int64_t n = lens[k];
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) {
            ref += (double)x[i] * xuan_fp16_to_fp32(h[i]);
            mag += fabs((double)x[i] * xuan_fp16_to_fp32(h[i]));
        }
        for (int o = 0; o < 2; o++) {
            const bool single = o == XUAN_ORDER_VEC;
            float d = xuan_dot_f16_kernel(XUAN_SIMD_SCALAR, single)(n, h, x);
            CHECK_NEAR(d, ref, 1e-6 * mag + 1e-6);
            /* the AVX2 level gives the bits of llama.cpp's AVX2 build (8 lanes) */
            const float d8 = single ? xuan_dot_f16_single8_scalar(n, h, x) : xuan_dot_f16_lanes8_scalar(n, h, x);
            CHECK_NEAR(d8, ref, 1e-6 * mag + 1e-6);
            if (avx2) CHECK(xuan_dot_f16_kernel(XUAN_SIMD_AVX2, single)(n, h, x) == d8);
            if (xuan_cpu_get()->native >= XUAN_SIMD_AVX512) CHECK(xuan_dot_f16_kernel(XUAN_SIMD_AVX512, single)(n, h, x) == d);
        }
        /* swiglu, with some large |g| for expf's slow lanes */
        for (int64_t i = 0; i < n; i++) w[i] = i % 23 == 5 ? rnd(300.0f) : rnd(6.0f);
        xuan_op_swiglu(w, x, sc_s, n);
        for (int64_t i = 0; i < n; i++) CHECK_NEAR(sc_s[i], w[i] / (1.0f + expf(-w[i])) * x[i], 1e-5 * fabsf(sc_s[i]) + 1e-30);
        if (avx2) {
            xuan_op_swiglu_avx2(w, x, sc_v, n);
            CHECK(memcmp(sc_s, sc_v, (size_t)n * sizeof(float)) == 0);
        }
        xuan_op_swiglu8(w, x, sc_s, n);
        for (int64_t i = 0; i < n; i++) CHECK_NEAR(sc_s[i], w[i] / (1.0f + expf(-w[i])) * x[i], 1e-5 * fabsf(sc_s[i]) + 1e-30);
        if (avx2) {
            xuan_op_swiglu8_avx2(w, x, sc_v, n);
            CHECK(memcmp(sc_s, sc_v, (size_t)n * sizeof(float)) == 0);
        }
        /* softmax and the weighted V sum over a window starting at cell `first` */
        for (uint32_t first = 0; first < 40; first += 13) {
            for (int64_t i = 0; i < n; i++) sc_s[i] = sc_v[i] = rnd(8.0f);
            xuan_op_softmax(sc_s, (uint32_t)n, first);
            double tot = 0;
            for (int64_t i = 0; i < n; i++) tot += sc_s[i];
            CHECK_NEAR(tot, 1.0, 1e-5);
            if (avx2) {
                xuan_op_softmax_avx2(sc_v, (uint32_t)n, first);
                CHECK(memcmp(sc_s, sc_v, (size_t)n * sizeof(float)) == 0);
            }
            { /* the AVX2 build's softmax: scalar == AVX2, and a distribution */
                static float s8[N], v8[N];
                for (int64_t i = 0; i < n; i++) s8[i] = v8[i] = i % 9 == 4 ? -INFINITY : rnd(8.0f);
                if (n == 1) s8[0] = v8[0] = 0.5f;
                xuan_op_softmax8(s8, (uint32_t)n, first);
                double t8 = 0;
                for (int64_t i = 0; i < n; i++) t8 += s8[i];
                CHECK_NEAR(t8, 1.0, 1e-5);
                if (avx2) {
                    xuan_op_softmax8_avx2(v8, (uint32_t)n, first);
                    CHECK(memcmp(s8, v8, (size_t)n * sizeof(float)) == 0);
                }
            }
            if (xuan_cpu_get()->native >= XUAN_SIMD_AVX512) {
                /* the tiled attention's exp pass, with far-below-max scores
                 * (subnormal and zero exps) and masked ones among them */
                static float row[N + 64], want[N];
                for (int64_t i = 0; i < n; i++)
                    want[i] = row[first + i] = i % 11 == 3 ? -INFINITY : i % 7 == 2 ? -90.0f - 2.0f * (float)i : rnd(8.0f);
                if (n == 1) want[0] = row[first] = 1.0f;
                float mx = -INFINITY;
                for (int64_t i = 0; i < n; i++) mx = fmaxf(mx, want[i]);
                xuan_op_softmax(want, (uint32_t)n, first);
                const float inv = (float)(1.0 / xuan_attn_exp_avx512(row + first, (uint32_t)n, first, mx));
                for (int64_t i = 0; i < n; i++) row[first + i] *= inv;
                CHECK(memcmp(want, row + first, (size_t)n * sizeof(float)) == 0);
            }
            xuan_op_round_f16(sc_s, sc_s, n);
            /* V rows by cell, read in reverse, with holes (no cell) skipped */
            int32_t cells[300];
            for (int64_t i = 0; i < n; i++) cells[i] = i % 7 == 3 ? -1 : (int32_t)(n - 1 - i);
            for (int o = 0; o < 4; o++) {
                xuan_op_wsum_f16(out_s, sc_s, (const uint8_t *)v, HD * 2, cells, (uint32_t)n, first, HD,
                                 (xuan_order)o, acc);
                for (int e = 0; e < HD; e++) {
                    double r = 0;
                    for (int64_t i = 0; i < n; i++)
                        if (cells[i] >= 0) r += (double)sc_s[i] * xuan_fp16_to_fp32(v[cells[i] * HD + e]);
                    CHECK_NEAR(out_s[e], r, 1e-5);
                }
                if (avx2) {
                    xuan_op_wsum_f16_avx2(out_v, sc_s, (const uint8_t *)v, HD * 2, cells, (uint32_t)n, first,
                                          HD, (xuan_order)o, acc);
                    CHECK(memcmp(out_s, out_v, sizeof out_s) == 0);
                }
                if (xuan_cpu_get()->native >= XUAN_SIMD_AVX512 && o < 2) {
                    memset(out_v, 0, sizeof out_v);
                    xuan_op_wsum_f16_avx512(out_v, sc_s, (const uint8_t *)v, HD * 2, cells, (uint32_t)n, first,
                                            HD, (xuan_order)o, acc);
                    CHECK(memcmp(out_s, out_v, sizeof out_s) == 0);
                }
            }
        }
    }
}

/* gpt-oss's steps: the softmax with a sink (its weights sum to 1 - the
 * sink's share, scalar == AVX2), swiglu_oai's clamps against the formula. */
static void test_gptoss_ops(void) {
    enum { N = 100 };
    static float s[N], v[N];
    for (uint32_t n = 1; n <= N; n += 33) {
        for (uint32_t i = 0; i < n; i++) s[i] = v[i] = rnd(6.0f);
        const float sink = n == 34 ? 40.0f : 4.0f + rnd(2.0f); /* once far above every score */
        double mx = sink, z = 0;
        for (uint32_t i = 0; i < n; i++) mx = s[i] > mx ? s[i] : mx;
        for (uint32_t i = 0; i < n; i++) z += exp((double)s[i] - mx);
        const double sink_share = exp((double)sink - mx) / (z + exp((double)sink - mx));
        xuan_op_softmax_sink(s, n, 3, sink);
        double tot = 0;
        for (uint32_t i = 0; i < n; i++) tot += s[i];
        CHECK_NEAR(tot, 1.0 - sink_share, 1e-5);
        CHECK(sink_share > 1e-3); /* the sink takes a visible share: the test can fail */
        if (xuan_cpu_get()->simd >= XUAN_SIMD_AVX2) {
            xuan_op_softmax_sink_avx2(v, n, 3, sink);
            CHECK(memcmp(s, v, n * sizeof(float)) == 0);
        }
    }
    const float g[] = {-20.0f, -1.0f, 0.0f, 0.5f, 6.9f, 7.0f, 30.0f}, u[] = {-9.0f, -7.5f, -1.0f, 0.0f, 3.0f, 8.0f, 7.0f};
    float y[7];
    xuan_op_swiglu_oai(g, u, y, 7);
    for (int i = 0; i < 7; i++) {
        const double x = g[i] > 7.0f ? 7.0 : g[i], up = u[i] < -7.0f ? -7.0 : u[i] > 7.0f ? 7.0 : u[i];
        CHECK_NEAR(y[i], x / (1.0 + exp(-1.702 * x)) * (up + 1.0), 1e-5 * fabs(y[i]) + 1e-7);
    }
    CHECK_NEAR(y[6], 7.0 / (1.0 + exp(-1.702 * 7.0)) * 8.0, 1e-5); /* both clamped */
}

/* gpt-oss in the MXFP4_MOE mix loads; one expert block with the scale 0xFF
 * is refused in one line naming the tensor and the block. */
static void test_gptoss_bad_mxfp4_block(void) {
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset("gptoss-tiny", &p) == 0);
    p.mix = "MXFP4_MOE";
    xuan_error err = {0};
    const char *src = test_path("model_gptoss.gguf");
    REQUIRE(xuan_synth_write(&p, src, &err) == 0);
    xuan_model *m = xuan_model_load(src, &err);
    CHECK(m != NULL);
    uint8_t head[64];
    if (m) {
        const xuan_gguf_tensor *t = xuan_gguf_find_tensor(xuan_model_gguf(m), "blk.1.ffn_up_exps.weight");
        REQUIRE(t != NULL && t->type == XUAN_TYPE_MXFP4 && t->n_bytes >= sizeof head);
        memcpy(head, t->data, sizeof head);
    }
    xuan_model_free(m);
    if (!m) return;
    char *data = NULL;
    size_t len = 0;
    REQUIRE(xuan_read_file(src, 64u << 20, &data, &len, NULL) == 0);
    uint8_t *at = memmem(data, len, head, sizeof head);
    REQUIRE(at != NULL);
    at[3 * 17] = 0xFF; /* block 3's E8M0 scale */
    const char *path = test_path("model_gptoss_bad.gguf");
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(data, 1, len, f) == len);
    fclose(f);
    xuan_free(data);
    const char *msg = load_fails(path);
    CHECK(strstr(msg, "tensor blk.1.ffn_up_exps.weight: MXFP4 block 3 has the invalid scale 0xFF") != NULL);
    CHECK(strchr(msg, '\n') == NULL);
}

int main(void) {
    RUN(test_ggml_order_ops);
    RUN(test_gptoss_ops);
    RUN(test_gptoss_bad_mxfp4_block);
    RUN(test_unchanged_copy_runs);
    RUN(test_generate_out_ids);
    RUN(test_simd_snapshot_per_ctx);
    RUN(test_residency_and_refaults);
    RUN(test_unknown_architecture);
    RUN(test_arch_contradicts_tensors);
    RUN(test_moe_contradictions);
    RUN(test_mla_contradictions);
    RUN(test_gemma4_kinds);
    RUN(test_missing_tensor);
    RUN(test_wrong_shape);
    RUN(test_wrong_type);
    return test_done();
}
