/*
 * load.c — from a GGUF file to a validated xuan_model.
 *
 * Map of the file:
 *   hyperparameters  every number from {arch}.* keys, with llama.cpp's
 *                    defaults and its RoPE scaling rules
 *   tensors          each tensor found by llama.cpp's name, its shape and
 *                    type checked before any kernel sees it
 *   decode layout    the Q4_K matrices copied for the one-token product
 *
 * Weights point into the read-only mapping that the xuan_gguf holds.  The
 * one copy: dense Q4_K matrices get the decode layout of src/quant/repack.c
 * (as llama.cpp repacks them at load), which reads every Q4_K page once and
 * costs their size again in memory; XUAN_REPACK=0 leaves it out.
 */
#include "model/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ hparams */

/* Reads "{arch}.suffix" as u32; `req` makes absence an error. */
static int key_u32(const xuan_gguf *g, const char *arch, const char *suffix, bool req,
                   uint32_t *out, xuan_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = xuan_gguf_get_u32(g, key, out, err);
    if (rc == XUAN_ERR_NOTFOUND) {
        if (!req) return 0;
        return xuan_fail(err, XUAN_ERR_FORMAT, "metadata key %s is missing", key);
    }
    return rc;
}

/* "{arch}.suffix" as u32, or, where the arch has per-layer kinds (gemma4),
 * an array of one positive value per layer (llama.cpp's get_key_or_arr):
 * *out gets the largest; the layers' own values are read by read_kinds. */
static int key_u32_layers(const xuan_gguf *g, const xuan_hparams *hp, const char *suffix, bool req, uint32_t *out,
                          xuan_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", hp->arch_name, suffix);
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v || v->type != XUAN_GGUF_ARRAY || !hp->arch->layer_kinds) return key_u32(g, hp->arch_name, suffix, req, out, err);
    const xuan_gguf_array *a = &v->v.arr;
    if (!a->raw || a->n != hp->n_layers)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: an array of %llu entries for %u layers", key,
                         (unsigned long long)a->n, hp->n_layers);
    uint32_t mx = 0;
    for (uint64_t i = 0; i < a->n; i++) {
        const int64_t x = xuan_gguf_arr_i64(a, i);
        if (x <= 0 || x > (1 << 20))
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s[%llu] is %lld", key, (unsigned long long)i, (long long)x);
        if ((uint32_t)x > mx) mx = (uint32_t)x;
    }
    *out = mx;
    return 0;
}

static int key_f32(const xuan_gguf *g, const char *arch, const char *suffix, float *out,
                   xuan_error *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = xuan_gguf_get_f32(g, key, out, err);
    return rc == XUAN_ERR_NOTFOUND ? 0 : rc;
}

/* deepseek2's attention keys, as llama_model_deepseek2::load_arch_hparams
 * reads them, checked against each other: the cache row (key_length) is
 * the compressed KV plus the RoPE part, V (value_length) the compressed KV,
 * one KV head.  Files converted before the absorbed form (attn_kv_b, no
 * key_length_mla) are refused by name. */
static int read_mla(const xuan_gguf *g, xuan_hparams *hp, xuan_error *err) {
    const char *arch = hp->arch_name;
    int rc;
    uint32_t k_mla = 0, v_mla = 0;
    if ((rc = key_u32(g, arch, "attention.kv_lora_rank", true, &hp->n_lora_kv, err)) ||
        (rc = key_u32(g, arch, "attention.q_lora_rank", false, &hp->n_lora_q, err)) ||
        (rc = key_u32(g, arch, "attention.key_length_mla", false, &k_mla, err)) ||
        (rc = key_u32(g, arch, "attention.value_length_mla", false, &v_mla, err)))
        return rc;
    if (!k_mla || !v_mla)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "%s: no attention.key_length_mla / value_length_mla: a file converted before "
                         "llama.cpp's absorbed MLA (attn_kv_b) is not supported; convert it again", arch);
    if (!hp->n_lora_kv || hp->n_lora_kv > 8192 || hp->n_kv_heads != 1 || hp->head_dim != hp->n_lora_kv + hp->n_rot ||
        hp->head_dim_v != hp->n_lora_kv || k_mla <= hp->n_rot || k_mla > 1024 || !v_mla || v_mla > 1024 ||
        hp->n_lora_q > 65536)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "%s: MLA shape contradicts itself: kv_lora_rank %u, rope dims %u, key_length %u, "
                         "value_length %u, head_count_kv %u, key_length_mla %u (want key_length = kv_lora_rank + "
                         "rope dims, value_length = kv_lora_rank, one KV head)",
                         arch, hp->n_lora_kv, hp->n_rot, hp->head_dim, hp->head_dim_v, hp->n_kv_heads, k_mla);
    hp->head_dim_k_mla = k_mla;
    hp->head_dim_v_mla = v_mla;
    if ((rc = key_u32(g, arch, "leading_dense_block_count", false, &hp->n_dense_lead, err)) ||
        (rc = key_u32(g, arch, "expert_shared_count", false, &hp->n_expert_shared, err)))
        return rc;
    if (hp->n_dense_lead > hp->n_layers || hp->n_expert_shared > 64)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: %u leading dense layers of %u, %u shared experts", arch,
                         hp->n_dense_lead, hp->n_layers, hp->n_expert_shared);
    uint32_t gating = 0;
    if ((rc = key_u32(g, arch, "expert_gating_func", false, &gating, err))) return rc;
    if (gating > 1) /* 1 = softmax; 0 = unset, softmax for DeepSeek V2 */
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "%s.expert_gating_func %u (sigmoid, DeepSeek V3 style) is not supported yet", arch, gating);
    return 0;
}

/* qwen35's Gated DeltaNet keys, as llama_model_qwen35::load_arch_hparams
 * reads them, checked against each other (the tensors are checked against
 * these shapes when they are bound): which layers are recurrent comes from
 * attention.recurrent_layers (one flag per layer) or full_attention_interval
 * (every n-th layer attends, default 4). */
static int read_hybrid(xuan_model *m, xuan_error *err) {
    xuan_hparams *hp = &m->hp;
    const xuan_gguf *g = m->g;
    const char *arch = hp->arch_name;
    int rc;
    if ((rc = key_u32(g, arch, "ssm.conv_kernel", true, &hp->ssm_conv, err)) ||
        (rc = key_u32(g, arch, "ssm.inner_size", true, &hp->ssm_inner, err)) ||
        (rc = key_u32(g, arch, "ssm.state_size", true, &hp->ssm_state, err)) ||
        (rc = key_u32(g, arch, "ssm.time_step_rank", true, &hp->ssm_heads, err)) ||
        (rc = key_u32(g, arch, "ssm.group_count", true, &hp->ssm_groups, err)))
        return rc;
    if (hp->ssm_conv < 2 || hp->ssm_conv > 64 || !hp->ssm_state || hp->ssm_state > 1024 || !hp->ssm_heads ||
        hp->ssm_heads > 1024 || !hp->ssm_groups || hp->ssm_heads % hp->ssm_groups ||
        (uint64_t)hp->ssm_heads * hp->ssm_state != hp->ssm_inner)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "%s: recurrent state sizes contradict each other: ssm.conv_kernel %u, inner_size %u, "
                         "state_size %u, time_step_rank (value heads) %u, group_count (key heads) %u (want "
                         "inner_size = value heads x state_size, value heads a multiple of key heads)",
                         arch, hp->ssm_conv, hp->ssm_inner, hp->ssm_state, hp->ssm_heads, hp->ssm_groups);
    m->recurrent = xuan_calloc(hp->n_layers, sizeof *m->recurrent);
    if (!m->recurrent) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    hp->recurrent = m->recurrent;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.recurrent_layers", arch);
    const xuan_gguf_array *flags = NULL;
    if (xuan_gguf_find(g, key)) {
        if (xuan_gguf_get_arr(g, key, &flags) != 0 || !flags->raw || flags->n != hp->n_layers)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s: a layer pattern of %llu entries for %u layers", key,
                             flags ? (unsigned long long)flags->n : 0ull, hp->n_layers);
        for (uint32_t il = 0; il < hp->n_layers; il++) m->recurrent[il] = xuan_gguf_arr_i64(flags, il) != 0;
    } else {
        uint32_t every = 4;
        if ((rc = key_u32(g, arch, "full_attention_interval", false, &every, err))) return rc;
        if (!every || every > hp->n_layers)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s.full_attention_interval %u does not fit %u layers", arch, every,
                             hp->n_layers);
        for (uint32_t il = 0; il < hp->n_layers; il++) m->recurrent[il] = (il + 1) % every != 0;
    }
    hp->n_recurrent = 0;
    for (uint32_t il = 0; il < hp->n_layers; il++) hp->n_recurrent += m->recurrent[il];
    snprintf(key, sizeof key, "%s.rope.dimension_sections", arch);
    const xuan_gguf_array *sec = NULL;
    if (xuan_gguf_get_arr(g, key, &sec) != 0)
        return xuan_fail(err, XUAN_ERR_FORMAT, "metadata key %s is missing", key);
    int64_t sum = 0;
    bool ok = sec->raw && sec->n >= 1 && sec->n <= 4;
    for (uint64_t i = 0; ok && i < sec->n; i++) {
        const int64_t v = xuan_gguf_arr_i64(sec, i);
        ok = v >= 0 && v <= 1024;
        hp->rope_sections[i] = ok ? (int32_t)v : 0;
        sum += v;
    }
    if (!ok || sum == 0 || sum > hp->head_dim)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: want 1 to 4 counts summing to 1..%u", key, hp->head_dim);
    hp->rope_neox = true; /* imrope rotates NeoX pairs */
    return 0;
}

/* A per-layer array key's value for layer il (key_u32_layers checked it),
 * or the scalar's. */
static uint32_t layer_value(const xuan_gguf *g, const char *arch, const char *suffix, uint32_t il, uint32_t scalar) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v || v->type != XUAN_GGUF_ARRAY) return scalar;
    return (uint32_t)xuan_gguf_arr_i64(&v->v.arr, il);
}

/* gemma4's layer kinds, as llama_model_gemma4::load_arch_hparams and the
 * generic loader read them, checked against each other: one sliding flag
 * per layer, the sliding layers' head size (K = V, as llama.cpp requires),
 * rotary dims and KV heads, the shared-KV layers at the top (whose sources,
 * the last sliding and the last full layer below them, must exist and be
 * of their kind), per-layer FFN widths, the per-layer embeddings' width. */
static int read_kinds(xuan_model *m, xuan_error *err) {
    xuan_hparams *hp = &m->hp;
    const xuan_gguf *g = m->g;
    const char *arch = hp->arch_name;
    const uint32_t L = hp->n_layers;
    char key[128];
    int rc;
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
    const xuan_gguf_value *pv = xuan_gguf_find(g, key);
    if (!pv || pv->type != XUAN_GGUF_ARRAY || !pv->v.arr.raw)
        return xuan_fail(err, XUAN_ERR_FORMAT, "metadata key %s is missing (one sliding-window flag per layer)", key);
    if (pv->v.arr.n != L)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: a layer pattern of %llu entries for %u layers", key,
                         (unsigned long long)pv->v.arr.n, L);
    if (!hp->n_swa)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.attention.sliding_window is missing or 0", arch);
    m->swa_layers = xuan_calloc(L, sizeof *m->swa_layers);
    if (!m->swa_layers) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    for (uint32_t il = 0; il < L; il++) m->swa_layers[il] = xuan_gguf_arr_i64(&pv->v.arr, il) != 0;
    hp->swa_layers = m->swa_layers;
    hp->swa_pattern = 0;
    uint32_t kl = 0, vl = 0;
    if ((rc = key_u32(g, arch, "attention.key_length_swa", true, &kl, err)) ||
        (rc = key_u32(g, arch, "attention.value_length_swa", true, &vl, err)))
        return rc;
    if (kl != vl || kl == 0 || kl > 1024 || kl % 2)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s: sliding layers' head sizes k=%u v=%u are not supported", arch,
                         kl, vl);
    hp->head_dim_swa = kl;
    hp->n_rot_swa = hp->n_rot;
    if ((rc = key_u32(g, arch, "rope.dimension_count_swa", false, &hp->n_rot_swa, err))) return rc;
    if (hp->n_rot_swa > kl || hp->n_rot_swa % 2 || !hp->n_rot_swa)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.rope.dimension_count_swa %u does not fit head size %u", arch,
                         hp->n_rot_swa, kl);
    /* KV heads per kind: an array must agree within each kind */
    uint32_t kvh[2] = {0, 0};
    for (uint32_t il = 0; il < L; il++) {
        const uint32_t v = layer_value(g, arch, "attention.head_count_kv", il, hp->n_kv_heads);
        uint32_t *k = &kvh[m->swa_layers[il]];
        if (*k && *k != v)
            return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                             "%s.attention.head_count_kv: layer %u has %u KV heads, other %s layers %u", arch, il, v,
                             m->swa_layers[il] ? "sliding" : "full", *k);
        if (v == 0 || hp->n_heads % v)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s: layer %u has %u KV heads for %u heads", arch, il, v,
                             hp->n_heads);
        *k = v;
    }
    hp->n_kv_heads = kvh[0] ? kvh[0] : hp->n_kv_heads;
    hp->n_kv_heads_swa = kvh[1] ? kvh[1] : hp->n_kv_heads;
    snprintf(key, sizeof key, "%s.feed_forward_length", arch);
    const xuan_gguf_value *fv = xuan_gguf_find(g, key);
    if (fv && fv->type == XUAN_GGUF_ARRAY) {
        m->ffn_layers = xuan_calloc(L, sizeof *m->ffn_layers);
        if (!m->ffn_layers) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        for (uint32_t il = 0; il < L; il++) m->ffn_layers[il] = layer_value(g, arch, "feed_forward_length", il, 0);
        hp->ffn_layers = m->ffn_layers;
    }
    uint32_t shared = 0;
    if ((rc = key_u32(g, arch, "attention.shared_kv_layers", false, &shared, err))) return rc;
    if (shared >= L)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.attention.shared_kv_layers %u: the model has %u layers", arch,
                         shared, L);
    hp->n_layer_kv = L - shared;
    if (shared) { /* llama.cpp's layer_reuse_cb reads layers n_kv - 2 (sliding) and n_kv - 1 (full) */
        bool want_local = false, want_full = false;
        for (uint32_t il = hp->n_layer_kv; il < L; il++) want_local |= m->swa_layers[il], want_full |= !m->swa_layers[il];
        const uint32_t n = hp->n_layer_kv;
        if (n < 2 || (want_full && m->swa_layers[n - 1]) || (want_local && !m->swa_layers[n - 2]))
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "%s: %u shared-KV layers read the KV of layers %u (sliding) and %u (full), which are "
                             "not of those kinds",
                             arch, shared, n >= 2 ? n - 2 : 0, n >= 1 ? n - 1 : 0);
    }
    if ((rc = key_u32(g, arch, "embedding_length_per_layer_input", true, &hp->n_embd_per_layer, err))) return rc;
    if (hp->n_embd_per_layer > 65536 || (uint64_t)hp->n_embd_per_layer * L > (1u << 24))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.embedding_length_per_layer_input %u is implausible", arch,
                         hp->n_embd_per_layer);
    hp->kq_scale = 1.0f; /* f_attention_scale = 1: Q.K unscaled */
    return 0;
}

static int read_hparams(const xuan_gguf *g, xuan_hparams *hp, xuan_error *err) {
    memset(hp, 0, sizeof *hp);
    xuan_str a;
    if (xuan_gguf_get_str(g, "general.architecture", &a) != 0)
        return xuan_fail(err, XUAN_ERR_FORMAT, "metadata key general.architecture is missing");
    hp->arch = xuan_arch_find(a.p, a.n);
    if (!hp->arch || !hp->arch->runs)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "architecture '%.*s'%s%s%s is not supported yet (supported: %s)",
                         (int)(a.n > 64 ? 64 : a.n), a.p, hp->arch ? " (" : "",
                         hp->arch ? hp->arch->models : "", hp->arch ? ")" : "", xuan_arch_runnable_list());
    snprintf(hp->arch_name, sizeof hp->arch_name, "%s", hp->arch->name);
    const char *arch = hp->arch_name;
    int rc;
    if ((rc = key_u32(g, arch, "block_count", true, &hp->n_layers, err)) ||
        (rc = key_u32(g, arch, "embedding_length", true, &hp->d_model, err)) ||
        (hp->n_layers && hp->n_layers <= 1024 &&
         (rc = key_u32_layers(g, hp, "feed_forward_length", true, &hp->d_ffn, err))) ||
        (rc = key_u32(g, arch, "attention.head_count", true, &hp->n_heads, err)) ||
        (rc = key_u32(g, arch, "context_length", true, &hp->n_ctx_train, err)))
        return rc;
    hp->n_kv_heads = hp->n_heads;
    if (hp->n_layers && hp->n_layers <= 1024 &&
        (rc = key_u32_layers(g, hp, "attention.head_count_kv", false, &hp->n_kv_heads, err)))
        return rc;
    if (hp->n_layers == 0 || hp->n_layers > 1024 || hp->d_model == 0 || hp->d_model > 65536 ||
        hp->d_ffn == 0 || hp->d_ffn > 1u << 20 || hp->n_heads == 0 || hp->n_heads > 1024 ||
        hp->n_kv_heads == 0 || hp->n_heads % hp->n_kv_heads)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "%s: implausible shape (layers %u, dim %u, ffn %u, heads %u/%u)", arch,
                         hp->n_layers, hp->d_model, hp->d_ffn, hp->n_heads, hp->n_kv_heads);
    hp->head_dim = hp->d_model / hp->n_heads;
    if ((rc = key_u32(g, arch, "attention.key_length", false, &hp->head_dim, err))) return rc;
    uint32_t vlen = hp->head_dim;
    if ((rc = key_u32(g, arch, "attention.value_length", false, &vlen, err))) return rc;
    hp->n_rot = hp->head_dim;
    if ((rc = key_u32(g, arch, "rope.dimension_count", false, &hp->n_rot, err))) return rc;
    hp->head_dim_v = vlen;
    hp->mla = hp->arch->attn == XUAN_ATTN_MLA;
    if (hp->mla && (rc = read_mla(g, hp, err))) return rc;
    if ((!hp->mla && vlen != hp->head_dim) || hp->head_dim == 0 || hp->head_dim > 1024 || hp->head_dim % 2)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s: head sizes k=%u v=%u are not supported",
                         arch, hp->head_dim, vlen);
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2 ||
        (!hp->arch->partial_rope && hp->n_rot != hp->head_dim))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.rope.dimension_count %u does not fit head size %u",
                         arch, hp->n_rot, hp->head_dim);

    hp->head_dim_swa = hp->head_dim, hp->n_kv_heads_swa = hp->n_kv_heads, hp->n_rot_swa = hp->n_rot;
    hp->n_layer_kv = hp->n_layers;
    hp->norm_eps = 1e-5f;
    if ((rc = key_f32(g, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps, err))) return rc;
    hp->rope_neox = hp->arch->rope == XUAN_ROPE_NEOX;
    hp->rope_base = 10000.0f;
    if ((rc = key_f32(g, arch, "rope.freq_base", &hp->rope_base, err))) return rc;
    if (!(hp->rope_base > 0) || !(hp->norm_eps >= 0))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: bad rope.freq_base %g or rms epsilon %g", arch,
                         hp->rope_base, hp->norm_eps);

    /* RoPE scaling, as llama_model::load_hparams and llama_context do. */
    snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "linear");
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    xuan_str st;
    if (xuan_gguf_get_str(g, key, &st) == 0) {
        if (!(xuan_str_eq(st, "none") || xuan_str_eq(st, "linear") || xuan_str_eq(st, "yarn") ||
              xuan_str_eq(st, "longrope") || xuan_str_eq(st, "llama3")))
            return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                             "%s: rope scaling '%.*s' is not supported (none, linear, yarn, "
                             "longrope, llama3)",
                             key, (int)(st.n > 32 ? 32 : st.n), st.p);
        snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "%.*s", (int)st.n, st.p);
    }
    float factor = 0.0f;
    if ((rc = key_f32(g, arch, "rope.scaling.factor", &factor, err))) return rc;
    if (factor == 0.0f && (rc = key_f32(g, arch, "rope.scale_linear", &factor, err))) return rc;
    if (factor < 0 || !isfinite(factor))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.rope.scaling.factor %g is invalid", arch, factor);
    hp->rope_freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
    if (strcmp(hp->rope_scaling, "none") == 0) hp->rope_freq_scale = 1.0f;
    hp->n_ctx_orig = hp->n_ctx_train;
    if ((rc = key_u32(g, arch, "rope.scaling.original_context_length", false, &hp->n_ctx_orig, err)))
        return rc;
    float rope_attn = 1.0f, ext = -1.0f;
    hp->yarn_beta_fast = 32.0f;
    hp->yarn_beta_slow = 1.0f;
    if ((rc = key_f32(g, arch, "rope.scaling.attn_factor", &rope_attn, err)) ||
        (rc = key_f32(g, arch, "rope.scaling.yarn_ext_factor", &ext, err)) ||
        (rc = key_f32(g, arch, "rope.scaling.yarn_beta_fast", &hp->yarn_beta_fast, err)) ||
        (rc = key_f32(g, arch, "rope.scaling.yarn_beta_slow", &hp->yarn_beta_slow, err)) ||
        (rc = key_f32(g, arch, "rope.scaling.yarn_log_multiplier", &hp->yarn_log_mul, err)))
        return rc;
    if (hp->mla) hp->yarn_log_mul /= 0.1f; /* [TAG_DEEPSEEK2_YARN_LOG_MUL_FIX]: the converter's factor */
    if (ext < 0) ext = strcmp(hp->rope_scaling, "yarn") == 0 ? 1.0f : 0.0f;
    hp->yarn_ext_factor = ext;
    /* llama_context: YaRN's magnitude correction, cancelled against the one
     * ggml's rope applies itself, then the model's own attn_factor. */
    float attn = 1.0f;
    if (ext != 0.0f) {
        float f = 1.0f / hp->rope_freq_scale;
        float ms = f <= 1.0f ? 1.0f : 0.1f * logf(f) + 1.0f;
        if (hp->yarn_log_mul != 0.0f) {
            float ms_all = f <= 1.0f ? 1.0f : 0.1f * hp->yarn_log_mul * logf(f) + 1.0f;
            if (hp->mla && hp->yarn_log_mul != 1.0f) ms = ms_all; /* DeepSeek V2: mscale = mscale_all_dim */
            attn = ms / ms_all;
        } else {
            attn = ms;
        }
        attn *= 1.0f / (1.0f + 0.1f * logf(f));
    }
    hp->rope_attn_factor = attn * rope_attn;
    if (hp->mla) { /* llama_model_deepseek2::graph: the YaRN magnitude moves into Q.K's scale */
        const float attn_org = hp->rope_attn_factor * (1.0f + 0.1f * logf(1.0f / hp->rope_freq_scale));
        const float ms = attn_org * (1.0f + 0.1f * hp->yarn_log_mul * logf(1.0f / hp->rope_freq_scale));
        hp->kq_scale = 1.0f * ms * ms / sqrtf((float)hp->head_dim_k_mla);
    }
    const xuan_arch_info *ai = hp->arch;
    uint32_t nextn = 0;
    if ((rc = key_u32(g, arch, "nextn_predict_layers", false, &nextn, err))) return rc;
    if (nextn)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "%s.nextn_predict_layers is %u: multi-token-prediction layers are not supported yet", arch,
                         nextn);
    hp->n_swa = ai->swa_default;
    if ((rc = key_u32(g, arch, "attention.sliding_window", false, &hp->n_swa, err))) return rc;
    /* gemma: local layers (il % n < n - 1) see the window, the others
     * everything; their RoPE has its own base (llama_model::get_rope_freq_base) */
    hp->swa_pattern = hp->n_swa ? ai->swa_pattern : 0;
    if (hp->swa_pattern &&
        (rc = key_u32(g, arch, "attention.sliding_window_pattern", false, &hp->swa_pattern, err)))
        return rc;
    /* gemma2 and gpt-oss share the base and scale (llama_model_openai_moe:
     * rope_freq_base_train_swa = rope_freq_base_train) */
    const bool swa_same_rope = ai->attn_softcap || ai->attn_sinks;
    hp->rope_base_swa = swa_same_rope ? hp->rope_base : 10000.0f;
    hp->rope_freq_scale_swa = swa_same_rope ? hp->rope_freq_scale : 1.0f;
    if ((rc = key_f32(g, arch, "rope.freq_base_swa", &hp->rope_base_swa, err))) return rc;
    if (!(hp->rope_base_swa > 0))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s.rope.freq_base_swa %g is invalid", arch, hp->rope_base_swa);
    /* Q scaled after RoPE instead of Q.K: phi3 by 1/sqrt(head); gemma by its
     * query_pre_attn_scalar, which is n_embd/n_head for the 27B models */
    if (ai->q_scale_early) {
        bool big_gemma = ai->embd_scale && hp->n_layers == (ai->attn_softcap ? 46u : 62u);
        hp->q_scale = 1.0f / sqrtf((float)(big_gemma ? hp->d_model / hp->n_heads : hp->head_dim));
    }
    if (ai->attn_temp) {
        if ((rc = key_f32(g, arch, "attention.temperature_scale", &hp->attn_temp_scale, err))) return rc;
        if (!isfinite(hp->attn_temp_scale) || (hp->attn_temp_scale != 0.0f && hp->n_ctx_orig == 0))
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s.attention.temperature_scale %g needs an original context",
                             arch, hp->attn_temp_scale);
    }
    if (ai->moe) { /* llama_model::load_hparams and llama_model_qwen3moe */
        if ((rc = key_u32(g, arch, "expert_count", true, &hp->n_expert, err)) ||
            (rc = key_u32(g, arch, "expert_used_count", true, &hp->n_expert_used, err)))
            return rc;
        if (hp->n_expert < 2 || hp->n_expert > 512 || hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s: %u experts with %u used per token is not a valid MoE", arch,
                             hp->n_expert, hp->n_expert_used);
        hp->n_ff_exp = hp->d_ffn / hp->n_expert_used;
        if ((rc = key_u32(g, arch, "expert_feed_forward_length", false, &hp->n_ff_exp, err))) return rc;
        if (hp->n_ff_exp == 0 || hp->n_ff_exp > 1u << 20)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s.expert_feed_forward_length %u is invalid", arch, hp->n_ff_exp);
        hp->expert_norm = ai->moe_norm_w;
        if (ai->moe_shexp_gated) { /* llama_model_qwen35moe: n_ff_shexp, else n_ff */
            hp->n_ff_shexp = hp->d_ffn;
            if ((rc = key_u32(g, arch, "expert_shared_feed_forward_length", false, &hp->n_ff_shexp, err))) return rc;
            if (hp->n_ff_shexp == 0 || hp->n_ff_shexp > 1u << 20)
                return xuan_fail(err, XUAN_ERR_FORMAT, "%s.expert_shared_feed_forward_length %u is invalid", arch,
                                 hp->n_ff_shexp);
        }
        if ((rc = key_u32(g, arch, "expert_group_count", false, &hp->n_expert_groups, err)) ||
            (rc = key_u32(g, arch, "expert_group_used_count", false, &hp->n_group_used, err)))
            return rc;
        if (hp->n_expert_groups > 1 && (hp->n_expert_groups >= hp->n_expert || hp->n_expert_groups > 64 || hp->n_expert % hp->n_expert_groups ||
                                        hp->n_expert / hp->n_expert_groups < 2 || !hp->n_group_used ||
                                        hp->n_group_used >= hp->n_expert_groups ||
                                        hp->n_group_used * (hp->n_expert / hp->n_expert_groups) < hp->n_expert_used))
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "%s: %u experts in %u groups, %u groups used, %u experts used: not a valid grouping",
                             arch, hp->n_expert, hp->n_expert_groups, hp->n_group_used, hp->n_expert_used);
        if (hp->mla) { /* deepseek2 says it in the file (V2: absent, not normalised) */
            snprintf(key, sizeof key, "%s.expert_weights_norm", arch);
            bool norm = false;
            rc = xuan_gguf_get_bool(g, key, &norm, err);
            if (rc && rc != XUAN_ERR_NOTFOUND) return rc;
            hp->expert_norm = norm;
        }
        if (hp->mla) hp->n_ff_shexp = hp->n_ff_exp * hp->n_expert_shared; /* both <= 2^20 and 64 */
        if ((rc = key_f32(g, arch, "expert_weights_scale", &hp->expert_scale, err))) return rc;
        if (!isfinite(hp->expert_scale))
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s.expert_weights_scale is not finite", arch);
    }
    hp->attn_softcap = ai->attn_softcap ? 50.0f : 0.0f;
    hp->final_softcap = ai->final_softcap;
    if ((rc = key_f32(g, arch, "attn_logit_softcapping", &hp->attn_softcap, err)) ||
        (rc = key_f32(g, arch, "final_logit_softcapping", &hp->final_softcap, err)))
        return rc;
    if (!(hp->attn_softcap >= 0) || !(hp->final_softcap >= 0) || !isfinite(hp->attn_softcap) ||
        !isfinite(hp->final_softcap))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: bad logit softcapping %g / %g", arch, hp->attn_softcap,
                         hp->final_softcap);
    return 0;
}

/* ================================================================ tensors */

/* Finds `name` and checks its dims (ne[0], ne[1]; ne1 == 0 means 1-D). */
static const xuan_gguf_tensor *find(const xuan_gguf *g, const char *name, int64_t ne0, int64_t ne1,
                                    bool required, xuan_error *err, int *rc) {
    const xuan_gguf_tensor *t = xuan_gguf_find_tensor(g, name);
    if (!t) {
        if (required) *rc = xuan_fail(err, XUAN_ERR_FORMAT, "tensor %s is missing", name);
        return NULL;
    }
    bool ok = ne1 == 0 ? (t->ne[0] == ne0 && t->ne[1] == 1 && t->ne[2] == 1 && t->ne[3] == 1)
                       : (t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1);
    if (!ok) {
        if (ne1 == 0)
            *rc = xuan_fail(err, XUAN_ERR_FORMAT, "tensor %s: shape [%lld, %lld], expected [%lld]",
                            name, (long long)t->ne[0], (long long)t->ne[1], (long long)ne0);
        else
            *rc = xuan_fail(err, XUAN_ERR_FORMAT,
                            "tensor %s: shape [%lld, %lld], expected [%lld, %lld]", name,
                            (long long)t->ne[0], (long long)t->ne[1], (long long)ne0,
                            (long long)ne1);
        return NULL;
    }
    return t;
}

/* Tensors the architecture reads are marked; one left unmarked means the
 * file is a variant the table does not describe (biases qwen3 lacks, an
 * expert tensor in a dense arch), and computing without it would be wrong
 * in silence: llama.cpp refuses such files too ("wrong number of tensors"). */
static void mark_used(xuan_model *m, const xuan_gguf_tensor *t) {
    m->used[t - xuan_gguf_tensor_at(m->g, 0)] = true;
}

/* An F32 tensor of shape [ne0] (ne1 = 0) or [ne0, ne1], read as ne1 rows of
 * ne0 floats (gpt-oss's per-expert biases [rows, n_expert]). */
static int bind_f32(xuan_model *m, const char *name, int64_t ne0, int64_t ne1, bool required,
                    vecf *out, xuan_error *err) {
    int rc = 0;
    const xuan_gguf_tensor *t = find(m->g, name, ne0, ne1, required, err, &rc);
    if (!t) return rc;
    if (t->type != XUAN_TYPE_F32)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "tensor %s: type %s, expected F32", name,
                         xuan_type_name(t->type));
    mark_used(m, t);
    *out = (const float *)(const void *)t->data;
    m->weight_bytes += t->n_bytes;
    return 0;
}

static int bind_vec(xuan_model *m, const char *name, int64_t n, bool required, vecf *out,
                    xuan_error *err) {
    return bind_f32(m, name, n, 0, required, out, err);
}

static int bind_vec2(xuan_model *m, const char *name, int64_t ne0, int64_t ne1, vecf *out, xuan_error *err) {
    return bind_f32(m, name, ne0, ne1, true, out, err);
}

/* A matrix of n_rows rows of n_cols: GGUF shape [n_cols, n_rows]. */
static int bind_mat(xuan_model *m, const char *name, int64_t n_cols, int64_t n_rows, bool required,
                    xuan_weight *out, xuan_error *err) {
    int rc = 0;
    const xuan_gguf_tensor *t = find(m->g, name, n_cols, n_rows, required, err, &rc);
    if (!t) return rc;
    xuan_weight w = {t->type, t->data, n_rows, n_cols, NULL};
    if ((rc = xuan_weight_check(&w, name, err)) || (rc = xuan_quant_validate(t->type, t->data, t->n_bytes, name, err)))
        return rc;
    mark_used(m, t);
    *out = w;
    m->weight_bytes += t->n_bytes;
    return 0;
}

/* An expert tensor: GGUF shape [n_cols, n_rows, n_expert], bound as one
 * matrix of n_rows * n_expert rows.  A shape that contradicts the
 * hyperparameters names both. */
static int bind_exps(xuan_model *m, const char *name, int64_t n_cols, int64_t n_rows, int64_t n_expert,
                     xuan_weight *out, xuan_error *err) {
    const xuan_gguf_tensor *t = xuan_gguf_find_tensor(m->g, name);
    if (!t) return xuan_fail(err, XUAN_ERR_FORMAT, "tensor %s is missing", name);
    if (t->ne[0] != n_cols || t->ne[1] != n_rows || t->ne[2] != n_expert || t->ne[3] != 1)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "tensor %s: shape [%lld, %lld, %lld], expected [%lld, %lld, %lld] (expert_count %lld)", name,
                         (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)n_cols,
                         (long long)n_rows, (long long)n_expert, (long long)n_expert);
    xuan_weight w = {t->type, t->data, n_rows * n_expert, n_cols, NULL};
    int rc = xuan_weight_check(&w, name, err);
    if (!rc) rc = xuan_quant_validate(t->type, t->data, t->n_bytes, name, err);
    if (rc) return rc;
    mark_used(m, t);
    *out = w;
    m->weight_bytes += t->n_bytes;
    return 0;
}

static uint64_t count_used(const bool *used, uint64_t n) {
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) k += used[i];
    return k;
}

/* A layer's MoE FFN as llama.cpp's MoE archs bind it: the router
 * ffn_gate_inp [n_embd, n_expert], the 3-D expert tensors (their shapes
 * checked against expert_count and expert_feed_forward_length), gpt-oss's
 * biases, and the shared experts where the model has them (n_ff_shexp
 * rows; qwen35moe's also with its gate ffn_gate_inp_shexp [n_embd], F32
 * as convert_hf_to_gguf writes it and llama-quantize leaves it). */
static int bind_moe_ffn(xuan_model *m, uint32_t il, layer_w *L, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    const xuan_arch_info *ai = hp->arch;
    const int64_t d = hp->d_model, E = hp->n_expert, Fe = hp->n_ff_exp, Fs = hp->n_ff_shexp;
    char nm[XUAN_GGUF_MAX_NAME];
    int rc;
#define N(suffix) (snprintf(nm, sizeof nm, "blk.%u." suffix, il), nm)
    if ((rc = bind_mat(m, N("ffn_gate_inp.weight"), d, E, true, &L->gate_inp, err)) ||
        (rc = bind_exps(m, N("ffn_gate_exps.weight"), d, Fe, E, &L->gate_exps, err)) ||
        (rc = bind_exps(m, N("ffn_up_exps.weight"), d, Fe, E, &L->up_exps, err)) ||
        (rc = bind_exps(m, N("ffn_down_exps.weight"), Fe, d, E, &L->down_exps, err)))
        return rc;
    if (ai->moe_biases && ((rc = bind_vec(m, N("ffn_gate_inp.bias"), E, true, &L->b_gate_inp, err)) ||
                           (rc = bind_vec2(m, N("ffn_gate_exps.bias"), Fe, E, &L->b_gate_exps, err)) ||
                           (rc = bind_vec2(m, N("ffn_up_exps.bias"), Fe, E, &L->b_up_exps, err)) ||
                           (rc = bind_vec2(m, N("ffn_down_exps.bias"), d, E, &L->b_down_exps, err))))
        return rc;
    if (Fs && ((rc = bind_mat(m, N("ffn_gate_shexp.weight"), d, Fs, true, &L->gate_sh, err)) ||
               (rc = bind_mat(m, N("ffn_up_shexp.weight"), d, Fs, true, &L->up_sh, err)) ||
               (rc = bind_mat(m, N("ffn_down_shexp.weight"), Fs, d, true, &L->down_sh, err))))
        return rc;
    if (ai->moe_shexp_gated && (rc = bind_vec(m, N("ffn_gate_inp_shexp.weight"), d, true, &L->gate_inp_sh, err)))
        return rc;
#undef N
    return 0;
}

/* A deepseek2 layer as llama_model_deepseek2::load_arch_tensors binds it
 * (absorbed MLA; the first n_dense_lead layers with a dense FFN, the
 * others with routed and shared experts). */
static int bind_mla_layer(xuan_model *m, uint32_t il, layer_w *L, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    const int64_t d = hp->d_model, H = hp->n_heads, r = hp->n_rot, kvl = hp->n_lora_kv;
    const int64_t k_mla = hp->head_dim_k_mla, v_mla = hp->head_dim_v_mla, nope = k_mla - r;
    char nm[XUAN_GGUF_MAX_NAME];
    int rc;
#define N(suffix) (snprintf(nm, sizeof nm, "blk.%u." suffix, il), nm)
    if ((rc = bind_vec(m, N("attn_norm.weight"), d, true, &L->attn_norm, err)) ||
        (rc = bind_vec(m, N("ffn_norm.weight"), d, true, &L->ffn_norm, err)) ||
        (rc = bind_vec(m, N("attn_kv_a_norm.weight"), kvl, true, &L->kv_a_norm, err)) ||
        (rc = bind_mat(m, N("attn_kv_a_mqa.weight"), d, kvl + r, true, &L->wkv_a, err)) ||
        (rc = bind_exps(m, N("attn_k_b.weight"), nope, kvl, H, &L->wk_b, err)) ||
        (rc = bind_exps(m, N("attn_v_b.weight"), kvl, v_mla, H, &L->wv_b, err)) ||
        (rc = bind_mat(m, N("attn_output.weight"), H * v_mla, d, true, &L->wo, err)))
        return rc;
    if (hp->n_lora_q) {
        if ((rc = bind_vec(m, N("attn_q_a_norm.weight"), hp->n_lora_q, true, &L->q_a_norm, err)) ||
            (rc = bind_mat(m, N("attn_q_a.weight"), d, hp->n_lora_q, true, &L->wq_a, err)) ||
            (rc = bind_mat(m, N("attn_q_b.weight"), hp->n_lora_q, H * k_mla, true, &L->wq_b, err)))
            return rc;
    } else if ((rc = bind_mat(m, N("attn_q.weight"), d, H * k_mla, true, &L->wq, err))) {
        return rc;
    }
    if (il < hp->n_dense_lead) {
        const int64_t F = hp->d_ffn;
        if ((rc = bind_mat(m, N("ffn_gate.weight"), d, F, true, &L->w_gate, err)) ||
            (rc = bind_mat(m, N("ffn_up.weight"), d, F, true, &L->w_up, err)) ||
            (rc = bind_mat(m, N("ffn_down.weight"), F, d, true, &L->w_down, err)))
            return rc;
    } else {
        if ((rc = bind_moe_ffn(m, il, L, err))) return rc;
    }
#undef N
    return 0;
}

/* A 2-D F32 tensor read as floats (ssm_conv1d: ne0 taps per channel). */
static int bind_f32_2d(xuan_model *m, const char *name, int64_t ne0, int64_t ne1, const float **out,
                       xuan_error *err) {
    int rc = 0;
    const xuan_gguf_tensor *t = find(m->g, name, ne0, ne1, true, err, &rc);
    if (!t) return rc;
    if (t->type != XUAN_TYPE_F32)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "tensor %s: type %s, expected F32", name, xuan_type_name(t->type));
    mark_used(m, t);
    *out = (const float *)(const void *)t->data;
    m->weight_bytes += t->n_bytes;
    return 0;
}

/* A qwen35 layer as llama_model_qwen35::load_arch_tensors binds it: norms
 * before attention and before the FFN (post_attention_norm, bound as
 * ffn_norm: it norms the residual stream the FFN reads), a SwiGLU FFN
 * (qwen35moe: the MoE FFN with its gated shared expert), and either the
 * Gated DeltaNet tensors or gated attention (Q projection of q | gate per
 * head, per-head Q/K RMSNorm). */
static int bind_hybrid_layer(xuan_model *m, uint32_t il, layer_w *L, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    const int64_t d = hp->d_model, F = hp->d_ffn, hd = hp->head_dim;
    const int64_t S = hp->ssm_state, Hv = hp->ssm_heads, vd = hp->ssm_inner;
    const int64_t ch = vd + 2 * (int64_t)hp->ssm_groups * S;
    char nm[XUAN_GGUF_MAX_NAME];
    int rc;
#define N(suffix) (snprintf(nm, sizeof nm, "blk.%u." suffix, il), nm)
    if ((rc = bind_vec(m, N("attn_norm.weight"), d, true, &L->attn_norm, err)) ||
        (rc = bind_vec(m, N("post_attention_norm.weight"), d, true, &L->ffn_norm, err)))
        return rc;
    if (hp->arch->moe) {
        if ((rc = bind_moe_ffn(m, il, L, err))) return rc;
    } else if ((rc = bind_mat(m, N("ffn_gate.weight"), d, F, true, &L->w_gate, err)) ||
               (rc = bind_mat(m, N("ffn_up.weight"), d, F, true, &L->w_up, err)) ||
               (rc = bind_mat(m, N("ffn_down.weight"), F, d, true, &L->w_down, err))) {
        return rc;
    }
    if (layer_is_recurrent(hp, il)) {
        if ((rc = bind_mat(m, N("attn_qkv.weight"), d, ch, true, &L->wqkv, err)) ||
            (rc = bind_mat(m, N("attn_gate.weight"), d, vd, true, &L->w_z, err)) ||
            (rc = bind_f32_2d(m, N("ssm_conv1d.weight"), hp->ssm_conv, ch, &L->ssm_conv1d, err)) ||
            (rc = bind_vec(m, N("ssm_dt.bias"), Hv, true, &L->ssm_dt, err)) ||
            (rc = bind_vec(m, N("ssm_a"), Hv, true, &L->ssm_a, err)) ||
            (rc = bind_mat(m, N("ssm_beta.weight"), d, Hv, true, &L->ssm_beta, err)) ||
            (rc = bind_mat(m, N("ssm_alpha.weight"), d, Hv, true, &L->ssm_alpha, err)) ||
            (rc = bind_vec(m, N("ssm_norm.weight"), S, true, &L->ssm_norm, err)) ||
            (rc = bind_mat(m, N("ssm_out.weight"), vd, d, true, &L->ssm_out, err)))
            return rc;
    } else {
        const int64_t qd = (int64_t)hp->n_heads * hd, kvd = (int64_t)hp->n_kv_heads * hd;
        L->gated_q = true;
        if ((rc = bind_mat(m, N("attn_q.weight"), d, 2 * qd, true, &L->wq, err)) ||
            (rc = bind_mat(m, N("attn_k.weight"), d, kvd, true, &L->wk, err)) ||
            (rc = bind_mat(m, N("attn_v.weight"), d, kvd, true, &L->wv, err)) ||
            (rc = bind_mat(m, N("attn_output.weight"), qd, d, true, &L->wo, err)) ||
            (rc = bind_vec(m, N("attn_q_norm.weight"), hd, true, &L->q_norm, err)) ||
            (rc = bind_vec(m, N("attn_k_norm.weight"), hd, true, &L->k_norm, err)))
            return rc;
    }
#undef N
    return 0;
}

/* A gemma4 layer as llama_model_gemma4::load_arch_tensors binds it (the
 * dense models): its kind's head size and KV heads; a shared-KV layer's
 * attn_k / attn_v / attn_k_norm are optional and unused (it reads an
 * earlier layer's KV); attn_v optional elsewhere too (V = K); sandwich
 * norms, GEGLU FFN of the layer's width, the per-layer embedding's gate,
 * projection and norm, the optional output scale. */
static int bind_kinds_layer(xuan_model *m, uint32_t il, layer_w *L, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    const int64_t d = hp->d_model, F = layer_ffn(hp, il), hd = layer_head_dim(hp, il);
    const int64_t qd = (int64_t)hp->n_heads * hd, kvd = (int64_t)layer_kv_heads(hp, il) * hd;
    const int64_t P = hp->n_embd_per_layer;
    const bool kv = il < hp->n_layer_kv;
    char nm[XUAN_GGUF_MAX_NAME];
    int rc;
#define N(suffix) (snprintf(nm, sizeof nm, "blk.%u." suffix, il), nm)
    if ((rc = bind_vec(m, N("attn_norm.weight"), d, true, &L->attn_norm, err)) ||
        (rc = bind_mat(m, N("attn_q.weight"), d, qd, true, &L->wq, err)) ||
        (rc = bind_mat(m, N("attn_k.weight"), d, kvd, kv, &L->wk, err)) ||
        (rc = bind_mat(m, N("attn_v.weight"), d, kvd, false, &L->wv, err)) ||
        (rc = bind_mat(m, N("attn_output.weight"), qd, d, true, &L->wo, err)) ||
        (rc = bind_vec(m, N("attn_q_norm.weight"), hd, true, &L->q_norm, err)) ||
        (rc = bind_vec(m, N("attn_k_norm.weight"), hd, kv, &L->k_norm, err)) ||
        (rc = bind_vec(m, N("post_attention_norm.weight"), d, true, &L->attn_post_norm, err)) ||
        (rc = bind_vec(m, N("layer_output_scale.weight"), 1, false, &L->out_scale, err)) ||
        (rc = bind_vec(m, N("ffn_norm.weight"), d, true, &L->ffn_norm, err)) ||
        (rc = bind_mat(m, N("ffn_gate.weight"), d, F, true, &L->w_gate, err)) ||
        (rc = bind_mat(m, N("ffn_up.weight"), d, F, true, &L->w_up, err)) ||
        (rc = bind_mat(m, N("ffn_down.weight"), F, d, true, &L->w_down, err)) ||
        (rc = bind_vec(m, N("post_ffw_norm.weight"), d, true, &L->ffn_post_norm, err)))
        return rc;
    if (P && ((rc = bind_mat(m, N("inp_gate.weight"), d, P, true, &L->ple_gate, err)) ||
              (rc = bind_mat(m, N("proj.weight"), P, d, true, &L->ple_proj, err)) ||
              (rc = bind_vec(m, N("post_norm.weight"), d, true, &L->ple_norm, err))))
        return rc;
#undef N
    if (!kv) L->wk = L->wv = (xuan_weight){0}, L->k_norm = NULL; /* bound (so used) but never read */
    return 0;
}

/* gemma4's model-wide tensors: rope_freqs (the full layers' proportional
 * RoPE, head_dim / 2 factors; required when a full layer exists) and the
 * per-layer embeddings' table, projection and norm. */
static int bind_kinds_model(xuan_model *m, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    bool any_full = false;
    for (uint32_t il = 0; il < hp->n_layers; il++) any_full |= !hp->swa_layers[il];
    const int64_t P = hp->n_embd_per_layer, PL = P * hp->n_layers;
    int rc;
    if ((rc = bind_vec(m, "rope_freqs.weight", hp->head_dim / 2, any_full, &m->rope_freqs, err))) return rc;
    if (!P) return 0;
    if ((rc = bind_mat(m, "per_layer_token_embd.weight", PL, hp->n_vocab, true, &m->ple_tok_embd, err)) ||
        (rc = bind_mat(m, "per_layer_model_proj.weight", hp->d_model, PL, true, &m->ple_model_proj, err)) ||
        (rc = bind_vec(m, "per_layer_proj_norm.weight", P, true, &m->ple_proj_norm, err)))
        return rc;
    return 0;
}

static int bind_tensors(xuan_model *m, xuan_error *err) {
    xuan_hparams *hp = &m->hp;
    uint64_t n_tensors = xuan_gguf_n_tensors(m->g);
    if (!n_tensors) return xuan_fail(err, XUAN_ERR_FORMAT, "the file holds no tensors");
    m->used = xuan_calloc(n_tensors, sizeof *m->used);
    if (!m->used) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for %llu tensors", (unsigned long long)n_tensors);
    const xuan_gguf_tensor *te = xuan_gguf_find_tensor(m->g, "token_embd.weight");
    if (!te) return xuan_fail(err, XUAN_ERR_FORMAT, "tensor token_embd.weight is missing");
    if (te->ne[1] <= 0 || te->ne[1] > INT32_MAX)
        return xuan_fail(err, XUAN_ERR_FORMAT, "tensor token_embd.weight: bad vocabulary size %lld",
                         (long long)te->ne[1]);
    hp->n_vocab = (uint32_t)te->ne[1];
    const int64_t d = hp->d_model, V = hp->n_vocab, F = hp->d_ffn;
    const int64_t qd = (int64_t)hp->n_heads * hp->head_dim, kvd = (int64_t)hp->n_kv_heads * hp->head_dim;
    int rc;
    if ((rc = bind_mat(m, "token_embd.weight", d, V, true, &m->tok_embd, err)) ||
        (rc = bind_vec(m, "output_norm.weight", d, true, &m->output_norm, err)) ||
        (rc = bind_mat(m, "output.weight", d, V, false, &m->output, err)))
        return rc;
    if (!m->output.data) {
        m->output = m->tok_embd;
        hp->tied = true;
    }
    if (hp->arch->layer_kinds) {
        if ((rc = bind_kinds_model(m, err))) return rc;
    } else if ((rc = bind_vec(m, "rope_freqs.weight", hp->n_rot / 2, false, &m->rope_freqs, err)) ||
        (rc = bind_vec(m, "rope_factors_long.weight", hp->n_rot / 2, false, &m->rope_long, err)) ||
        (rc = bind_vec(m, "rope_factors_short.weight", hp->n_rot / 2, false, &m->rope_short, err)))
        return rc;
    if (m->rope_freqs && !hp->arch->layer_kinds) snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "llama3");
    if (m->rope_long || m->rope_short) {
        if (!m->rope_long || !m->rope_short)
            return xuan_fail(err, XUAN_ERR_FORMAT, "tensor rope_factors_%s.weight is missing",
                             m->rope_long ? "short" : "long");
        snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "longrope");
    }

    m->layers = xuan_calloc(hp->n_layers, sizeof *m->layers);
    if (!m->layers) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for %u layers", hp->n_layers);
    char nm[XUAN_GGUF_MAX_NAME];
#define N(suffix) (snprintf(nm, sizeof nm, "blk.%u." suffix, il), nm)
    for (uint32_t il = 0; il < hp->n_layers; il++) {
        layer_w *L = &m->layers[il];
        if (hp->mla) {
            if ((rc = bind_mla_layer(m, il, L, err))) return rc;
            continue;
        }
        if (hp->arch->attn == XUAN_ATTN_HYBRID) {
            if ((rc = bind_hybrid_layer(m, il, L, err))) return rc;
            continue;
        }
        if (hp->arch->layer_kinds) {
            if ((rc = bind_kinds_layer(m, il, L, err))) return rc;
            continue;
        }
        /* gpt-oss names the FFN's norm post_attention_norm (it is one: x + attn, normed) */
        if ((rc = bind_vec(m, N("attn_norm.weight"), d, true, &L->attn_norm, err)) ||
            (rc = bind_vec(m, hp->arch->ffn_norm_post_attn ? N("post_attention_norm.weight") : N("ffn_norm.weight"),
                           d, true, &L->ffn_norm, err)) ||
            (rc = bind_mat(m, N("attn_output.weight"), qd, d, true, &L->wo, err)) ||
            (rc = bind_vec(m, N("attn_output.bias"), d, false, &L->bo, err)))
            return rc;
        const xuan_arch_info *ai = hp->arch;
        bool fused_qkv = ai->fused_qkv == XUAN_REQUIRED ||
                         (ai->fused_qkv == XUAN_OPTIONAL && xuan_gguf_find_tensor(m->g, N("attn_qkv.weight")));
        const bool bias = ai->qkv_bias == XUAN_REQUIRED;
        /* q/k/v biases: one fused attn_qkv.bias, or one each (also beside a
         * fused weight, as llama.cpp's create_tensor_qkv allows) */
        if (fused_qkv) {
            if ((rc = bind_mat(m, N("attn_qkv.weight"), d, qd + 2 * kvd, true, &L->wqkv, err)) ||
                (rc = bind_vec(m, N("attn_qkv.bias"), qd + 2 * kvd, false, &L->bqkv, err)))
                return rc;
        } else if ((rc = bind_mat(m, N("attn_q.weight"), d, qd, true, &L->wq, err)) ||
                   (rc = bind_mat(m, N("attn_k.weight"), d, kvd, true, &L->wk, err)) ||
                   (rc = bind_mat(m, N("attn_v.weight"), d, kvd, true, &L->wv, err))) {
            return rc;
        }
        if (!L->bqkv && ((rc = bind_vec(m, N("attn_q.bias"), qd, bias, &L->bq, err)) ||
                         (rc = bind_vec(m, N("attn_k.bias"), kvd, bias, &L->bk, err)) ||
                         (rc = bind_vec(m, N("attn_v.bias"), kvd, bias, &L->bv, err))))
            return rc;
        if (ai->qk_norm && ((rc = bind_vec(m, N("attn_q_norm.weight"), hp->head_dim, true, &L->q_norm, err)) ||
                            (rc = bind_vec(m, N("attn_k_norm.weight"), hp->head_dim, true, &L->k_norm, err))))
            return rc;
        if (ai->post_norms && ((rc = bind_vec(m, N("post_attention_norm.weight"), d, true, &L->attn_post_norm, err)) ||
                               (rc = bind_vec(m, N("post_ffw_norm.weight"), d, true, &L->ffn_post_norm, err))))
            return rc;
        if (ai->attn_sinks && (rc = bind_vec(m, N("attn_sinks.weight"), hp->n_heads, true, &L->sinks, err)))
            return rc;
        if (ai->moe) {
            if ((rc = bind_moe_ffn(m, il, L, err))) return rc;
            continue;
        }
        if ((rc = bind_mat(m, N("ffn_down.weight"), F, d, true, &L->w_down, err))) return rc;
        if (ai->fused_gate_up) {
            if ((rc = bind_mat(m, N("ffn_up.weight"), d, 2 * F, true, &L->w_up, err))) return rc;
        } else if ((rc = bind_mat(m, N("ffn_gate.weight"), d, F, true, &L->w_gate, err)) ||
                   (rc = bind_mat(m, N("ffn_up.weight"), d, F, true, &L->w_up, err))) {
            return rc;
        }
    }
#undef N
    for (uint64_t i = 0; i < n_tensors; i++)
        if (!m->used[i])
            return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                             "tensor %s is not part of architecture '%s' as xuan runs it (%llu of %llu "
                             "tensors unused): a variant the engine does not know",
                             xuan_gguf_tensor_at(m->g, i)->name, hp->arch->name,
                             (unsigned long long)(n_tensors - count_used(m->used, n_tensors)),
                             (unsigned long long)n_tensors);
    return 0;
}

/* ================================================================ decode layout */

/* The 2-D matrices a one-token product reads through xuan_matmul (experts
 * and MLA's per-head slices go through other paths, the token embedding is
 * only looked up); n_out of them at most. */
static size_t dense_weights(xuan_model *m, xuan_weight **out, size_t n_out) {
    size_t n = 0;
#define ADD(w) do { if (n < n_out) out[n] = &(w); n++; } while (0)
    ADD(m->output);
    ADD(m->ple_model_proj);
    for (uint32_t il = 0; il < m->hp.n_layers; il++) {
        layer_w *L = &m->layers[il];
        ADD(L->wq); ADD(L->wk); ADD(L->wv); ADD(L->wqkv); ADD(L->wo);
        ADD(L->w_gate); ADD(L->w_up); ADD(L->w_down);
        ADD(L->gate_inp); ADD(L->gate_sh); ADD(L->up_sh); ADD(L->down_sh);
        ADD(L->wq_a); ADD(L->wq_b); ADD(L->wkv_a);
        ADD(L->w_z); ADD(L->ssm_beta); ADD(L->ssm_alpha); ADD(L->ssm_out);
        ADD(L->ple_gate); ADD(L->ple_proj);
    }
#undef ADD
    return n;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Gives every packable dense matrix its decode layout, in one buffer the
 * model owns.  Not an error when it cannot: without memory for the copy
 * (or with XUAN_REPACK=0, or a CPU below AVX2, whose kernels would not
 * read it) the products read the mapped rows, with the same bits. */
static void pack_weights(xuan_model *m) {
    const char *env = getenv("XUAN_REPACK");
    if ((env && strcmp(env, "0") == 0) || xuan_cpu_get()->simd < XUAN_SIMD_AVX2) return;
    const size_t n = dense_weights(m, NULL, 0);
    xuan_weight **ws = xuan_calloc(n, sizeof *ws);
    if (!ws) return;
    dense_weights(m, ws, n);
    /* (no overflow: each layout is 1184 / 1152 of rows that lie in the mapping) */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (ws[i]->data) total += align64(xuan_q4_K_packed_bytes(ws[i]));
    uint8_t *buf = total ? xuan_malloc_aligned(total) : NULL;
    if (buf) {
        xuan_advise_huge_pages(buf, total); /* 2 MiB pages where the kernel has them (not measured apart) */
        xuan_pool *pool = xuan_pool_shared(0, NULL); /* NULL: the calling thread alone */
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            const size_t bytes = ws[i]->data ? xuan_q4_K_packed_bytes(ws[i]) : 0;
            if (!bytes) continue;
            xuan_q4_K_pack(pool, ws[i], buf + off);
            ws[i]->packed = buf + off;
            off += align64(bytes);
        }
        xuan_pool_release(pool);
        m->packed = buf;
        m->packed_bytes = total;
    } else if (total) {
        xuan_log(XUAN_LOG_WARN, "no memory for the Q4_K decode layout (%.1f MiB): decoding from the mapped rows",
                 (double)total / (1 << 20));
    }
    xuan_free(ws);
}

/* ================================================================ public */

xuan_model *xuan_model_from_gguf(xuan_gguf *g, xuan_error *err) {
    xuan_model *m = xuan_calloc(1, sizeof *m);
    if (!m) {
        xuan_gguf_close(g);
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->g = g;
    if (read_hparams(g, &m->hp, err) || (m->hp.arch->attn == XUAN_ATTN_HYBRID && read_hybrid(m, err)) ||
        (m->hp.arch->layer_kinds && read_kinds(m, err)) ||
        bind_tensors(m, err)) {
        xuan_error_prefix(err, "%s", xuan_gguf_path(g));
        xuan_model_free(m);
        return NULL;
    }
    pack_weights(m);
    return m;
}

xuan_model *xuan_model_load(const char *path, xuan_error *err) { return xuan_model_load_ex(path, 0, err); }

xuan_model *xuan_model_load_ex(const char *path, unsigned map_flags, xuan_error *err) {
    xuan_gguf *g = xuan_gguf_open_ex(path, map_flags, err);
    return g ? xuan_model_from_gguf(g, err) : NULL;
}

void xuan_model_free(xuan_model *m) {
    if (!m) return;
    xuan_free(m->layers);
    xuan_free(m->recurrent);
    xuan_free(m->swa_layers);
    xuan_free(m->ffn_layers);
    xuan_free(m->used);
    xuan_free_aligned(m->packed);
    xuan_gguf_close(m->g);
    xuan_free(m);
}

const xuan_hparams *xuan_model_hparams(const xuan_model *m) { return &m->hp; }
const xuan_gguf *xuan_model_gguf(const xuan_model *m) { return m->g; }
uint64_t xuan_model_weight_bytes(const xuan_model *m) { return m->weight_bytes; }
uint64_t xuan_model_packed_bytes(const xuan_model *m) { return m->packed_bytes; }
