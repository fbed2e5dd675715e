/*
 * Synthetic models.  Sections:
 *   1. presets     — real shapes (facts from ../shared/catalog/models.json)
 *   2. values      — counter-based random numbers, fp16, random quant blocks
 *   3. vocabulary  — built-in byte-level vocab or a copy from another GGUF
 *   4. tensors     — llama.cpp's names and shapes per architecture
 *
 * Quantized weights are random blocks whose fp16 scales are chosen so that
 * dequantized weights have a std of roughly 0.02 and activations stay finite
 * through dozens of layers; they are not quantized floats.  Every block is a
 * pure function of (seed, tensor, block index), so a fill can start anywhere.
 */
#include "xuan/model.h"
#include "xuan/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ==== 1. presets ========================================================= */

typedef struct preset {
    const char *name, *arch;
    uint32_t layers, dim, ffn, heads, kv_heads, head_dim, vocab, ctx;
    float rope_base, eps;
    bool tied, llama3_rope, longrope;
} preset;

/* What some presets add to the core shape (xuan_synth_params has the meaning). */
typedef struct preset_extra {
    const char *name;
    uint32_t swa;
    float rope_linear, yarn;
    uint32_t yarn_orig;
    float attn_temp;
    uint32_t n_rot;         /* rotary dims below the head size */
    bool bias;              /* q/k/v biases where the arch makes them optional */
    uint32_t experts, experts_used, ff_exp;
    uint32_t lora_kv, lora_q, v_mla, dense_lead, shared, groups, groups_used; /* deepseek2 */
    uint32_t ff_shexp;      /* qwen35moe: the gated shared expert's rows */
    float yarn_log_mul;
    uint32_t ssm_conv, ssm_state, ssm_groups, ssm_heads, full_attn; /* qwen35 */
    int32_t sections[4];
    uint32_t swa_period, hd_swa, kv_shared, per_layer, rot_full; /* gemma4 */
    bool no_v_full;
    float final_softcap;
} preset_extra;

static const preset PRESETS[] = {
    /* name            arch     L   dim   ffn    H   KV  hd  vocab   ctx     rope      eps   tied l3 lr */
    {"tiny",          "qwen2",  2,   64,   128,  4,  2,  16,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"tiny256",       "qwen2",  2,  256,   512,  4,  2,  64,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"qwen2.5-0.5b",  "qwen2", 24,  896,  4864, 14,  2,  64, 151936,  32768, 1e6f,     1e-6f, true, false, false},
    {"qwen2.5-1.5b",  "qwen2", 28, 1536,  8960, 12,  2, 128, 151936,  32768, 1e6f,     1e-6f, true, false, false},
    {"qwen2.5-7b",    "qwen2", 28, 3584, 18944, 28,  4, 128, 152064,  32768, 1e6f,     1e-6f, false, false, false},
    {"llama3.1-8b",   "llama", 32, 4096, 14336, 32,  8, 128, 128256, 131072, 5e5f,     1e-5f, false, true, false},
    {"mistral-7b",    "llama", 32, 4096, 14336, 32,  8, 128,  32768,  32768, 1e6f,     1e-5f, false, false, false},
    {"yi-1.5-9b",     "llama", 48, 4096, 11008, 32,  4, 128,  64000,   4096, 5e6f,     1e-6f, false, false, false},
    {"phi3.5-mini",   "phi3",  32, 3072,  8192, 32, 32,  96,  32064, 131072, 1e4f,     1e-5f, false, false, true},
    {"phi4",          "phi3",  40, 5120, 17920, 40, 10, 128, 100352,  16384, 2.5e5f,   1e-5f, false, false, false},
    {"qwen3-tiny",    "qwen3",  2,   64,   128,  4,  2,  32,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"qwen3-tiny256", "qwen3",  2,  256,   512,  4,  2, 128,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"qwen3-0.6b",    "qwen3", 28, 1024,  3072, 16,  8, 128, 151936,  40960, 1e6f,     1e-6f, true, false, false},
    {"qwen3-8b",      "qwen3", 36, 4096, 12288, 32,  8, 128, 151936,  40960, 1e6f,     1e-6f, false, false, false},
    /* gemma: tied output; 6 tiny layers are gemma3's 5 local : 1 global */
    {"gemma2-tiny",   "gemma2",  4,  64,   128,  4,  2,  32,      0,   4096, 1e4f,     1e-6f, true, false, false},
    {"gemma2-9b",     "gemma2", 42, 3584, 14336, 16,  8, 256, 256000,   8192, 1e4f,     1e-6f, true, false, false},
    {"gemma3-tiny",   "gemma3",  6,  64,   128,  4,  2,  32,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"gemma3-tiny256","gemma3",  6, 256,   512,  4,  2, 256,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"gemma3-4b",     "gemma3", 34, 2560, 10240,  8,  4, 256, 262208, 131072, 1e6f,     1e-6f, true, false, false},
    {"gemma3-12b",    "gemma3", 48, 3840, 15360, 16,  8, 256, 262208, 131072, 1e6f,     1e-6f, true, false, false},
    {"mistral3-tiny", "mistral3", 2,  64,   128,  4,  2,  16,      0,   4096, 1e6f,     1e-5f, true, false, false},
    {"mistral3-tiny256","mistral3",2, 256,   512,  4,  2,  64,      0,   4096, 1e6f,     1e-5f, true, false, false},
    /* qwen3moe: 128 experts, 8 used, 768 rows each (Qwen3-30B-A3B config) */
    {"qwen3moe-tiny", "qwen3moe", 2,  64,   128,  4,  2,  32,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"qwen3moe-tiny256","qwen3moe",2, 256,   512,  4,  2, 128,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"qwen3-30b-a3b", "qwen3moe", 48, 2048, 6144, 32,  4, 128, 151936,  40960, 1e6f,     1e-6f, false, false, false},
    /* glm4: GLM-4-9B-0414 has GLM-4-9B's shape (catalog glm-4-9b-chat) */
    {"glm4-tiny",     "glm4",   2,   64,   128,  4,  2,  16,      0,   4096, 1e4f,     1e-5f, true, false, false},
    {"glm4-tiny256",  "glm4",   2,  256,   512,  4,  2,  64,      0,   4096, 1e4f,     1e-5f, true, false, false},
    {"glm4-9b",       "glm4",  40, 4096, 13696, 32,  2, 128, 151552,  32768, 1e4f,     1e-5f, false, false, false},
    /* deepseek2: head size is key_length_mla (no-RoPE + RoPE query part), one KV head (absorbed MLA) */
    /* llama.cpp takes 26- and 27-layer files for the lite form (one attn_q, no q_lora): the tiny one
     * has 26 layers for it, tiny256 the q_lora form of the big models */
    {"deepseek2-tiny", "deepseek2",26, 64,  128,  4,  1,  48,      0,   4096, 1e4f,     1e-6f, true, false, false},
    {"deepseek2-tiny256","deepseek2",3,256, 512,  4,  1,  96,      0,   4096, 1e4f,     1e-6f, true, false, false},
    {"deepseek-coder-v2-lite","deepseek2",27,2048,10944,16,1,192,102400,163840,1e4f,   1e-6f, false, false, false},
    /* gpt-oss: gpt-oss-20b's config.json (24 layers, hidden 2880, 64 heads of 64, 8 KV heads, 32 experts of
     * 2880, 4 used, vocab 201088, rope theta 150000, YaRN 32 over 4096, window 128 on even layers); the tiny
     * ones keep every part, with a window of 8 so every parity run crosses it */
    {"gptoss-tiny",   "gpt-oss", 4,  64,   128,  4,  2,  16,      0,   4096, 1.5e5f,   1e-5f, false, false, false},
    {"gptoss-tiny256","gpt-oss", 4, 256,   256,  4,  2,  64,      0,   4096, 1.5e5f,   1e-5f, false, false, false},
    {"gpt-oss-20b",   "gpt-oss",24, 2880, 2880, 64,  8,  64, 201088, 131072, 1.5e5f,   1e-5f, false, false, false},
    /* qwen35: 3 Gated DeltaNet layers : 1 gated attention (q | gate per head, 256-wide heads) */
    {"qwen35-tiny",   "qwen35",  4,  64,   128,  4,  2,  32,      0,   4096, 1e7f,     1e-6f, true, false, false},
    {"qwen35-tiny256","qwen35",  4, 256,   512,  4,  2,  64,      0,   4096, 1e7f,     1e-6f, true, false, false},
    {"qwen3.5-0.8b",  "qwen35", 24, 1024,  3584,  8,  2, 256, 248320, 262144, 1e7f,     1e-6f, true, false, false},
    {"qwen3.5-9b",    "qwen35", 32, 4096, 12288, 16,  4, 256, 248320, 262144, 1e7f,     1e-6f, false, false, false},
    /* qwen35moe: qwen35's layers, a MoE FFN in each.  Qwen3.5-35B-A3B's config: 40 layers, hidden
     * 2048, 16 heads / 2 KV heads of 256, 256 experts of 512 rows, 8 used, one shared expert of 512
     * (ffn is feed_forward_length, which llama.cpp reads but neither FFN uses here) */
    {"qwen35moe-tiny", "qwen35moe", 4, 64,  128,  4,  2,  32,      0,   4096, 1e7f,     1e-6f, true, false, false},
    {"qwen35moe-tiny256","qwen35moe",4,256, 512,  4,  2,  64,      0,   4096, 1e7f,     1e-6f, true, false, false},
    {"qwen3.5-35b-a3b","qwen35moe",40, 2048,  512, 16,  2, 256, 248320, 262144, 1e7f,     1e-6f, false, false, false},
    /* gemma4: head_dim is the full layers' (global_head_dim); the sliding ones' is in the extras */
    {"gemma4-tiny",   "gemma4",  9,   64,   128,  4,  2,  32,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"gemma4-tiny256","gemma4",  4,  256,   512,  4,  2, 128,      0,   4096, 1e6f,     1e-6f, true, false, false},
    {"gemma4-e4b",    "gemma4", 42, 2560, 10240,  8,  2, 512, 262144, 131072, 1e6f,     1e-6f, true, false, false},
};
enum { N_PRESETS = sizeof PRESETS / sizeof PRESETS[0] };

static const preset_extra EXTRAS[] = {
    /* gemma: a window of 8 is crossed in every parity run (prompt + 64 tokens) */
    {"gemma2-tiny", .swa = 8},
    {"gemma2-9b", .swa = 4096},
    {"gemma3-tiny", .swa = 8, .rope_linear = 8},
    {"gemma3-tiny256", .swa = 8, .rope_linear = 8},
    {"gemma3-4b", .swa = 1024, .rope_linear = 8},
    {"gemma3-12b", .swa = 1024, .rope_linear = 8},
    /* mistral3: an original context of 16 makes every parity run reach the
     * positions where the attention temperature scales Q */
    {"mistral3-tiny", .yarn = 16, .yarn_orig = 16, .attn_temp = 0.1f},
    {"mistral3-tiny256", .yarn = 16, .yarn_orig = 16, .attn_temp = 0.1f},
    {"qwen3moe-tiny", .experts = 8, .experts_used = 2, .ff_exp = 32},
    {"qwen3moe-tiny256", .experts = 8, .experts_used = 2, .ff_exp = 256},
    {"qwen3-30b-a3b", .experts = 128, .experts_used = 8, .ff_exp = 768},
    /* glm4: rotary on half of each head, q/k/v biases */
    {"glm4-tiny", .n_rot = 8, .bias = true},
    {"glm4-tiny256", .n_rot = 32, .bias = true},
    {"glm4-9b", .n_rot = 64, .bias = true},
    /* deepseek2: DeepSeek-V2-Lite's config (kv_lora_rank 512, rope 64, v 128,
     * 64 experts, 6 used, 2 shared, first layer dense, YaRN 40 over 4096,
     * mscale_all_dim 0.707); the tiny ones keep every part, smaller */
    {"deepseek2-tiny", .n_rot = 16, .lora_kv = 32, .v_mla = 32, .experts = 8, .experts_used = 2, .ff_exp = 32,
     .shared = 1, .dense_lead = 1, .yarn = 40, .yarn_orig = 4096, .yarn_log_mul = 0.0707f, .groups = 4,
     .groups_used = 2},
    {"deepseek2-tiny256", .n_rot = 32, .lora_kv = 128, .lora_q = 64, .v_mla = 64, .experts = 8, .experts_used = 2,
     .ff_exp = 256, .shared = 2, .dense_lead = 1, .yarn = 40, .yarn_orig = 4096, .yarn_log_mul = 0.0707f},
    /* qwen35: Qwen3.5's config (rotary on a quarter of the head, mrope_section 11/11/10, conv 4,
     * DeltaNet heads 128 wide); the tiny one keeps 64-wide DeltaNet heads and two value heads per
     * key head */
    {"qwen35-tiny", .n_rot = 16, .ssm_conv = 4, .ssm_state = 64, .ssm_groups = 2, .ssm_heads = 4, .full_attn = 4,
     .sections = {3, 3, 2, 0}},
    {"qwen35-tiny256", .n_rot = 16, .ssm_conv = 4, .ssm_state = 64, .ssm_groups = 2, .ssm_heads = 4,
     .full_attn = 4, .sections = {3, 3, 2, 0}},
    {"qwen3.5-0.8b", .n_rot = 64, .ssm_conv = 4, .ssm_state = 128, .ssm_groups = 16, .ssm_heads = 16,
     .full_attn = 4, .sections = {11, 11, 10, 0}},
    {"qwen3.5-9b", .n_rot = 64, .ssm_conv = 4, .ssm_state = 128, .ssm_groups = 16, .ssm_heads = 32,
     .full_attn = 4, .sections = {11, 11, 10, 0}},
    /* qwen35moe: the tiny ones are qwen35's with 8 experts, 2 used, and a shared expert wider than
     * the routed ones (so their widths cannot be mixed up); 35B-A3B's DeltaNet: 16 key heads, 32
     * value heads, 128 wide */
    {"qwen35moe-tiny", .n_rot = 16, .ssm_conv = 4, .ssm_state = 64, .ssm_groups = 2, .ssm_heads = 4,
     .full_attn = 4, .sections = {3, 3, 2, 0}, .experts = 8, .experts_used = 2, .ff_exp = 32, .ff_shexp = 64},
    {"qwen35moe-tiny256", .n_rot = 16, .ssm_conv = 4, .ssm_state = 64, .ssm_groups = 2, .ssm_heads = 4,
     .full_attn = 4, .sections = {3, 3, 2, 0}, .experts = 8, .experts_used = 2, .ff_exp = 256, .ff_shexp = 512},
    {"qwen3.5-35b-a3b", .n_rot = 64, .ssm_conv = 4, .ssm_state = 128, .ssm_groups = 16, .ssm_heads = 32,
     .full_attn = 4, .sections = {11, 11, 10, 0}, .experts = 256, .experts_used = 8, .ff_exp = 512,
     .ff_shexp = 512},
    {"deepseek-coder-v2-lite", .n_rot = 64, .lora_kv = 512, .v_mla = 128, .experts = 64, .experts_used = 6,
     .ff_exp = 1408, .shared = 2, .dense_lead = 1, .yarn = 40, .yarn_orig = 4096, .yarn_log_mul = 0.0707f},
    /* gemma4: 2 sliding : 1 full layers, the last 3 (sliding, sliding, full) reading layers 4 and 5's KV,
     * sliding heads half as wide, full layers rotating a quarter of their dims and without attn_v;
     * a window of 8 so every parity run crosses it.  tiny256: sliding and full alternate, the last two
     * reading layers 0 and 1's KV, per-layer embeddings 256 wide so every matrix takes the K-quants (a
     * 32-wide one falls back to Q5_0, whose float order is not llama.cpp's).  gemma4-e4b: Gemma 4 E4B's text decoder (42 layers,
     * hidden 2560, FFN 10240, 8 heads, 2 KV heads, heads 256 sliding / 512 full, 5 sliding : 1 full,
     * window 512, the last 18 layers sharing KV, per-layer embeddings 256 wide, vocabulary 262144,
     * 128K context, partial rotary 0.25 on full layers, final softcap 30) */
    {"gemma4-tiny", .swa = 8, .swa_period = 3, .hd_swa = 16, .kv_shared = 3, .per_layer = 16, .rot_full = 8,
     .no_v_full = true, .final_softcap = 30.0f},
    {"gemma4-tiny256", .swa = 8, .swa_period = 2, .hd_swa = 64, .kv_shared = 2, .per_layer = 256, .rot_full = 32,
     .no_v_full = true, .final_softcap = 30.0f},
    {"gemma4-e4b", .swa = 512, .swa_period = 6, .hd_swa = 256, .kv_shared = 18, .per_layer = 256, .rot_full = 128,
     .final_softcap = 30.0f},
    {"gptoss-tiny", .swa = 8, .experts = 8, .experts_used = 2, .ff_exp = 64, .yarn = 32, .yarn_orig = 4096,
     .yarn_log_mul = -1},
    {"gptoss-tiny256", .swa = 8, .experts = 8, .experts_used = 2, .ff_exp = 256, .yarn = 32, .yarn_orig = 4096,
     .yarn_log_mul = -1},
    {"gpt-oss-20b", .swa = 128, .experts = 32, .experts_used = 4, .ff_exp = 2880, .yarn = 32, .yarn_orig = 4096,
     .yarn_log_mul = -1},
};

const char *const *xuan_synth_preset_names(void) {
    static const char *names[N_PRESETS + 1];
    for (int i = 0; i < N_PRESETS; i++) names[i] = PRESETS[i].name;
    return names;
}

int xuan_synth_preset(const char *name, xuan_synth_params *p) {
    for (int i = 0; i < N_PRESETS; i++) {
        const preset *s = &PRESETS[i];
        if (strcmp(s->name, name)) continue;
        memset(p, 0, sizeof *p);
        snprintf(p->preset, sizeof p->preset, "%s", s->name);
        snprintf(p->arch, sizeof p->arch, "%s", s->arch);
        p->n_layers = s->layers, p->d_model = s->dim, p->d_ffn = s->ffn;
        p->n_heads = s->heads, p->n_kv_heads = s->kv_heads, p->head_dim = s->head_dim;
        p->n_vocab = s->vocab, p->n_ctx = s->ctx;
        p->rope_base = s->rope_base, p->norm_eps = s->eps;
        p->tied = s->tied, p->llama3_rope = s->llama3_rope, p->longrope = s->longrope;
        p->qkv_bias = xuan_arch_find(s->arch, strlen(s->arch))->qkv_bias == XUAN_REQUIRED;
        for (size_t k = 0; k < sizeof EXTRAS / sizeof EXTRAS[0]; k++) {
            const preset_extra *x = &EXTRAS[k];
            if (strcmp(x->name, s->name)) continue;
            p->n_swa = x->swa, p->rope_linear = x->rope_linear;
            p->yarn = x->yarn, p->yarn_orig = x->yarn_orig, p->attn_temp = x->attn_temp;
            p->n_rot = x->n_rot, p->qkv_bias |= x->bias;
            p->n_expert = x->experts, p->n_expert_used = x->experts_used, p->n_ff_exp = x->ff_exp;
            p->n_lora_kv = x->lora_kv, p->n_lora_q = x->lora_q, p->head_dim_v = x->v_mla;
            p->n_dense_lead = x->dense_lead;
            p->n_expert_shared = x->shared, p->yarn_log_mul = x->yarn_log_mul;
            p->n_ff_shexp = x->ff_shexp;
            p->n_expert_groups = x->groups, p->n_group_used = x->groups_used;
            p->ssm_conv = x->ssm_conv, p->ssm_state = x->ssm_state, p->ssm_groups = x->ssm_groups;
            p->ssm_heads = x->ssm_heads, p->full_attn = x->full_attn;
            memcpy(p->rope_sections, x->sections, sizeof p->rope_sections);
            p->swa_period = x->swa_period, p->head_dim_swa = x->hd_swa, p->n_kv_shared = x->kv_shared;
            p->n_embd_per_layer = x->per_layer, p->rot_full = x->rot_full, p->no_v_full = x->no_v_full;
            p->final_softcap = x->final_softcap;
        }
        p->type = p->embd_type = p->output_type = XUAN_TYPE_F16;
        p->seed = 1234;
        return 0;
    }
    return XUAN_ERR_NOTFOUND;
}

uint32_t xuan_synth_fallback_type(uint32_t type, uint64_t n_cols) {
    for (int step = 0; step < 3; step++) {
        const xuan_type_traits *t = xuan_type_get(type);
        if (t && n_cols % t->block_size == 0) return type;
        switch (type) { /* llama-quant.cpp's table for rows that do not fit */
        case XUAN_TYPE_Q2_K: case XUAN_TYPE_Q3_K: case XUAN_TYPE_IQ4_XS: type = XUAN_TYPE_IQ4_NL; break;
        case XUAN_TYPE_Q4_K: type = XUAN_TYPE_Q5_0; break;
        case XUAN_TYPE_Q5_K: type = XUAN_TYPE_Q5_1; break;
        case XUAN_TYPE_Q6_K: type = XUAN_TYPE_Q8_0; break;
        default: type = XUAN_TYPE_F16; break;
        }
    }
    return XUAN_TYPE_F16;
}

static const struct { uint32_t type, ftype; const char *name; } FTYPES[] = {
    {XUAN_TYPE_F32, 0, "F32"},      {XUAN_TYPE_F16, 1, "F16"},     {XUAN_TYPE_Q4_0, 2, "Q4_0"},
    {XUAN_TYPE_Q4_1, 3, "Q4_1"},    {XUAN_TYPE_Q8_0, 7, "Q8_0"},   {XUAN_TYPE_Q5_0, 8, "Q5_0"},
    {XUAN_TYPE_Q5_1, 9, "Q5_1"},    {XUAN_TYPE_Q2_K, 10, "Q2_K"},  {XUAN_TYPE_Q3_K, 12, "Q3_K_M"},
    {XUAN_TYPE_Q4_K, 15, "Q4_K_M"}, {XUAN_TYPE_Q5_K, 17, "Q5_K_M"}, {XUAN_TYPE_Q6_K, 18, "Q6_K"},
    {XUAN_TYPE_IQ4_NL, 25, "IQ4_NL"}, {XUAN_TYPE_IQ4_XS, 30, "IQ4_XS"}, {XUAN_TYPE_BF16, 32, "BF16"},
    {XUAN_TYPE_MXFP4, 38, "MXFP4_MOE"},
};

uint32_t xuan_ftype_for_type(uint32_t type) {
    for (size_t i = 0; i < sizeof FTYPES / sizeof FTYPES[0]; i++)
        if (FTYPES[i].type == type) return FTYPES[i].ftype;
    return 1;
}

const char *xuan_ftype_name(uint32_t ftype) {
    static const struct { uint32_t ftype; const char *name; } extra[] = {
        {11, "Q3_K_S"}, {13, "Q3_K_L"}, {14, "Q4_K_S"}, {16, "Q5_K_S"}, {19, "IQ2_XXS"},
        {20, "IQ2_XS"}, {21, "Q2_K_S"}, {22, "IQ3_XS"}, {23, "IQ3_XXS"}, {24, "IQ1_S"},
        {26, "IQ3_S"}, {27, "IQ3_M"}, {28, "IQ2_S"}, {29, "IQ2_M"}, {31, "IQ1_M"}};
    for (size_t i = 0; i < sizeof FTYPES / sizeof FTYPES[0]; i++)
        if (FTYPES[i].ftype == ftype) return FTYPES[i].name;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i].ftype == ftype) return extra[i].name;
    return "?";
}

/* ==== 2. values ======================================================== */

static uint64_t mix64(uint64_t x) { /* splitmix64's finalizer */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r) { return mix64(r->s++ * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull); }
static float unif(rng *r) { return (float)(next(r) >> 40) * (1.0f / 16777216.0f); } /* [0,1) */
static float normal(rng *r) { /* Irwin-Hall(4): mean 0, std 1, bounded |x| < 3.47 */
    return (unif(r) + unif(r) + unif(r) + unif(r) - 2.0f) * 1.7320508f;
}

static uint16_t fp16(float f) { /* round to nearest even; inputs here are finite */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp), half = 1u << (shift - 1);
        uint32_t v = mant >> shift, rem = mant & ((1u << shift) - 1);
        if (rem > half || (rem == half && (v & 1))) v++;
        return (uint16_t)(sign | v);
    }
    uint32_t v = ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (v & 1))) v++;
    return (uint16_t)(sign | v);
}

static void put16(uint8_t *p, float f) {
    uint16_t h = fp16(f);
    memcpy(p, &h, 2);
}

/* What a tensor is for decides its values. */
typedef enum role {
    ROLE_WEIGHT, ROLE_NORM, ROLE_BIAS, ROLE_SINK, ROLE_ROPE_LONG, ROLE_ROPE_SHORT, ROLE_ROPE_L3, ROLE_OUT_NORM,
    ROLE_CONV,  /* ssm_conv1d taps (F32) */
    ROLE_SSM_A, /* ssm_a = -exp(A_log): A_log in [-0.7, 1.4] */
    ROLE_DT,    /* ssm_dt.bias */
    ROLE_ROPE_PROP, /* gemma4's rope_freqs: 1 for the rotated pairs, 1e30 (no rotation) for the rest */
    N_ROLES
} role;

typedef struct fill_ctx {
    uint64_t seed;
    role role;
    uint32_t head_dim;
    uint32_t rot_pairs;   /* ROLE_ROPE_PROP: pairs that rotate */
    float out_norm_scale; /* sets the logit std to about 3, as ../shared/peer's generator does */
} fill_ctx;

static float plain_value(const fill_ctx *c, rng *r, uint64_t idx) {
    switch (c->role) {
    case ROLE_NORM: return 0.8f + 0.4f * unif(r);
    case ROLE_OUT_NORM: return (0.8f + 0.4f * unif(r)) * c->out_norm_scale;
    case ROLE_BIAS: return 0.02f * normal(r);
    case ROLE_SINK: return normal(r); /* a logit beside q.k's of std ~1 (gpt-oss-20b's sinks are O(1)) */
    case ROLE_CONV: return 0.5f * normal(r);
    case ROLE_SSM_A: return -(0.5f + 3.5f * unif(r));
    case ROLE_DT: return 0.5f * normal(r);
    case ROLE_ROPE_SHORT: return 1.0f + 0.1f * unif(r);
    case ROLE_ROPE_PROP: return idx < c->rot_pairs ? 1.0f : 1e30f;
    case ROLE_ROPE_LONG: return 1.0f + 30.0f * (float)idx / (float)(c->head_dim / 2);
    case ROLE_ROPE_L3: { /* Llama 3.1: factor 8, low 1, high 4, original ctx 8192, base 5e5 */
        double freq = pow(500000.0, -2.0 * (double)idx / (double)c->head_dim);
        double wavelen = 2 * M_PI / freq, low = 8192.0 / 1.0, high = 8192.0 / 4.0;
        if (wavelen < high) return 1.0f;
        if (wavelen > low) return 8.0f;
        double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
        return (float)(1.0 / ((1 - smooth) / 8.0 + smooth));
    }
    case ROLE_WEIGHT: case N_ROLES: break;
    }
    return 0.02f * normal(r);
}

/* Writes one random block of a quantized type with scales set for a
 * weight std of about 0.02 (see the derivations beside each case). */
static void quant_block(uint32_t type, rng *r, uint8_t *b, uint32_t size) {
    for (uint32_t i = 0; i < size; i += 8) {
        uint64_t v = next(r);
        memcpy(b + i, &v, size - i < 8 ? size - i : 8);
    }
    float j = 0.75f + 0.5f * unif(r); /* jitter so blocks differ in scale */
    switch (type) {
    case XUAN_TYPE_Q4_0: put16(b, j * 0.02f / 4.6f); break;         /* (q-8) std 4.6 */
    case XUAN_TYPE_Q4_1: put16(b, j * 0.02f / 4.6f), put16(b + 2, -j * 0.02f / 4.6f * 7.5f); break;
    case XUAN_TYPE_Q5_0: put16(b, j * 0.02f / 9.2f); break;         /* (q-16) std 9.2 */
    case XUAN_TYPE_Q5_1: put16(b, j * 0.02f / 9.2f), put16(b + 2, -j * 0.02f / 9.2f * 15.5f); break;
    case XUAN_TYPE_Q8_0: put16(b, j * 0.02f / 74.0f); break;        /* int8 std 74 */
    case XUAN_TYPE_IQ4_NL: put16(b, j * 0.02f / 70.0f); break;      /* table values std ~70 */
    case XUAN_TYPE_Q2_K: put16(b + 80, j * 0.02f / 8.0f), put16(b + 82, j * 0.02f / 8.0f * 1.5f); break;
    case XUAN_TYPE_Q3_K: put16(b + 108, j * 0.02f / 40.0f); break;  /* (sc-32)*(q-4) */
    case XUAN_TYPE_Q4_K: put16(b, j * 0.02f / 140.0f), put16(b + 2, j * 0.02f / 140.0f * 7.5f); break;
    case XUAN_TYPE_Q5_K: put16(b, j * 0.02f / 280.0f), put16(b + 2, j * 0.02f / 280.0f * 15.5f); break;
    case XUAN_TYPE_Q6_K: put16(b + 208, j * 0.02f / 1400.0f); break; /* int8 sc * (q-32) */
    case XUAN_TYPE_IQ4_XS: put16(b, j * 0.02f / 1200.0f); break;
    case XUAN_TYPE_MXFP4: b[0] = (uint8_t)(119 + (int)(3.0f * unif(r))); break; /* doubled E2M1 std 5.9: 2^-8 -> 0.023 */
    default: { /* other types: zero scales would be degenerate; small random fp16 in first word */
        put16(b, j * 0.001f);
        break;
    }
    }
}

static int fill_tensor(void *vctx, const xuan_gguf_tensor *t, uint64_t off, uint8_t *out, uint64_t n,
                       xuan_error *err) {
    (void)err;
    const fill_ctx *c = vctx;
    const xuan_type_traits *tt = xuan_type_get(t->type);
    uint64_t name_key = 1469598103934665603ull;
    for (const char *p = t->name; *p; p++) name_key = (name_key ^ (uint8_t)*p) * 1099511628211ull;
    name_key = mix64(name_key ^ c->seed);

    if (tt->block_size == 1) { /* F32 / F16 / BF16: element by element */
        uint64_t es = tt->type_size;
        for (uint64_t pos = off - off % es; pos < off + n; pos += es) {
            uint64_t idx = pos / es;
            rng r = {mix64(name_key + idx)};
            float v = plain_value(c, &r, idx % (uint64_t)t->ne[0]);
            uint8_t e[4];
            if (t->type == XUAN_TYPE_F32) memcpy(e, &v, 4);
            else if (t->type == XUAN_TYPE_F16) put16(e, v);
            else { uint32_t x; memcpy(&x, &v, 4); x = (x + 0x7fff + ((x >> 16) & 1)) >> 16; memcpy(e, &x, 2); }
            for (uint64_t k = 0; k < es; k++)
                if (pos + k >= off && pos + k < off + n) out[pos + k - off] = e[k];
        }
        return 0;
    }
    uint8_t block[512];
    uint64_t bs = tt->type_size;
    XUAN_ASSERT(bs <= sizeof block);
    for (uint64_t bi = off / bs; bi * bs < off + n; bi++) {
        rng r = {mix64(name_key + bi)};
        quant_block(t->type, &r, block, (uint32_t)bs);
        uint64_t start = bi * bs;
        uint64_t lo = start < off ? off - start : 0, hi = start + bs > off + n ? off + n - start : bs;
        memcpy(out + start + lo - off, block + lo, (size_t)(hi - lo));
    }
    return 0;
}

/* ==== 3. vocabulary ===================================================== */

/* GPT-2's byte -> printable code point map (bytes_to_unicode). */
static uint32_t byte_cp(int b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return (uint32_t)b;
    int n = 0;
    for (int x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
    return 256u + (uint32_t)n;
}

static const char CHATML_TEMPLATE[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/* Sets tokenizer keys; returns the tokenizer's size in *n_tokens. */
static int builtin_vocab(xuan_gguf_writer *w, uint32_t n_vocab, uint32_t *n_tokens, xuan_error *err) {
    static const char *const specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    uint32_t n_base = 256 + 3, n = n_vocab > n_base ? n_vocab : n_base;
    xuan_str *toks = xuan_calloc(n, sizeof *toks);
    int32_t *types = xuan_calloc(n, sizeof *types);
    char *store = xuan_malloc((size_t)n * 16);
    int rc = 0;
    if (!toks || !types || !store) {
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the vocabulary");
        goto done;
    }
    char *s = store;
    for (uint32_t i = 0; i < n; i++, s += 16) {
        if (i < 256) {
            toks[i].n = (uint64_t)xuan_utf8_encode(byte_cp((int)i), s);
            types[i] = 1; /* NORMAL */
        } else if (i < n_base) {
            toks[i].n = (uint64_t)snprintf(s, 16, "%s", specials[i - 256]);
            types[i] = 3; /* CONTROL */
        } else {
            toks[i].n = (uint64_t)snprintf(s, 16, "[PAD%u]", i);
            types[i] = 5; /* UNUSED */
        }
        toks[i].p = s;
    }
    if (xuan_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2") ||
        xuan_gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2") ||
        xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, n) ||
        xuan_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", XUAN_GGUF_INT32, types, n) ||
        xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", NULL, 0) ||
        xuan_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 256) ||
        xuan_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 258) ||
        xuan_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 256) ||
        xuan_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false) ||
        xuan_gguf_writer_set_str(w, "tokenizer.chat_template", CHATML_TEMPLATE))
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the vocabulary");
    *n_tokens = n;
done:
    xuan_free(toks);
    xuan_free(types);
    xuan_free(store);
    return rc;
}

/* Copies tokenizer.* from another GGUF, padding the token arrays up to
 * n_vocab rows as [PADn] entries.  *n_tokens gets the final size. */
static int copy_vocab(xuan_gguf_writer *w, const char *path, uint32_t n_vocab, uint32_t *n_tokens,
                      xuan_error *err) {
    xuan_gguf *src = xuan_gguf_open(path, err);
    if (!src) return err ? err->code : XUAN_ERR_IO;
    const xuan_gguf_array *tok;
    int rc = 0;
    if (xuan_gguf_get_arr(src, "tokenizer.ggml.tokens", &tok) || !tok->strs) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: no tokenizer.ggml.tokens string array to copy", path);
        goto done;
    }
    uint64_t have = tok->n, n = n_vocab > have ? n_vocab : have;
    if (n > (1u << 24)) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: %llu tokens is implausible", path, (unsigned long long)n);
        goto done;
    }
    for (uint64_t i = 0; i < xuan_gguf_n_kv(src) && !rc; i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(src, i);
        char key[256];
        if (kv->key.n >= sizeof key || strncmp(kv->key.p, "tokenizer.", 10)) continue;
        memcpy(key, kv->key.p, kv->key.n);
        key[kv->key.n] = 0;
        if (xuan_gguf_writer_set_value(w, key, &kv->value))
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory copying %s", key);
    }
    if (!rc && n > have) { /* pad tokens, token types and scores */
        xuan_str *toks = xuan_calloc(n, sizeof *toks);
        int32_t *types = xuan_calloc(n, sizeof *types);
        float *scores = xuan_calloc(n, sizeof *scores);
        char *store = xuan_malloc((size_t)(n - have) * 16 + 1);
        const xuan_gguf_array *tt = NULL, *sc = NULL;
        xuan_gguf_get_arr(src, "tokenizer.ggml.token_type", &tt);
        xuan_gguf_get_arr(src, "tokenizer.ggml.scores", &sc);
        if (!toks || !types || !scores || !store) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        for (uint64_t i = 0; i < n && !rc; i++) {
            if (i < have) {
                toks[i] = tok->strs[i];
                types[i] = tt && tt->raw && i < tt->n ? (int32_t)xuan_gguf_arr_i64(tt, i) : 1;
                scores[i] = sc && sc->raw && i < sc->n ? (float)xuan_gguf_arr_f64(sc, i) : 0.0f;
            } else {
                char *s = store + (i - have) * 16;
                toks[i].n = (uint64_t)snprintf(s, 16, "[PAD%llu]", (unsigned long long)i);
                toks[i].p = s;
                types[i] = 5;
                scores[i] = -1e9f;
            }
        }
        if (!rc && (xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, n) ||
                    (tt && xuan_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", XUAN_GGUF_INT32, types, n)) ||
                    (sc && xuan_gguf_writer_set_arr(w, "tokenizer.ggml.scores", XUAN_GGUF_FLOAT32, scores, n))))
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        xuan_free(toks);
        xuan_free(types);
        xuan_free(scores);
        xuan_free(store);
    }
    *n_tokens = (uint32_t)n;
done:
    xuan_gguf_close(src);
    return rc;
}

/* ==== 4. tensors ======================================================= */

/* Tensors are collected first and typed afterwards, because a quantization
 * mix (Q4_K_M ...) decides by position among all tensors of a kind. */
typedef struct spec {
    char name[XUAN_GGUF_MAX_NAME];
    role role;
    uint32_t type; /* requested type (weights) */
    int64_t ne[3];
} spec;

typedef struct builder {
    xuan_gguf_writer *w;
    fill_ctx ctx[N_ROLES]; /* one per role; must outlive the write */
    spec *specs;
    size_t n, cap;
    xuan_error *err;
} builder;

static int add3(builder *b, role r, const char *name, uint32_t type, int64_t ne0, int64_t ne1, int64_t ne2) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        spec *p = xuan_realloc(b->specs, cap * sizeof *p);
        if (!p) return xuan_fail(b->err, XUAN_ERR_NOMEM, "out of memory");
        b->specs = p;
        b->cap = cap;
    }
    spec *s = &b->specs[b->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->role = r, s->type = type, s->ne[0] = ne0, s->ne[1] = ne1, s->ne[2] = ne2;
    return 0;
}

static int add(builder *b, role r, const char *name, uint32_t type, int64_t ne0, int64_t ne1) {
    return add3(b, r, name, type, ne0, ne1, 1);
}

/* Gives every collected tensor its type and hands it to the writer. */
static int add_all(builder *b, const char *mix_name, uint32_t n_layers) {
    xuan_quant_mix mix;
    if (mix_name) {
        if (xuan_quant_mix_init(&mix, mix_name, (int)n_layers, b->err)) return XUAN_ERR_USAGE;
        for (size_t i = 0; i < b->n; i++) xuan_quant_mix_count(&mix, b->specs[i].name);
        xuan_gguf_writer_set_u32(b->w, "general.file_type", mix.ftype);
    }
    for (size_t i = 0; i < b->n; i++) {
        const spec *s = &b->specs[i];
        uint32_t n_dims = s->ne[2] > 1 ? 3 : s->ne[1] > 1 ? 2 : 1, t;
        if (s->role != ROLE_WEIGHT) t = XUAN_TYPE_F32;
        /* what llama-quantize leaves alone keeps the converter's type: F32 for
         * the tensors asked for in F32 (routers, shared-expert gates), else F16 */
        else if (mix_name)
            t = xuan_quant_mix_type(&mix, s->name, n_dims, s->ne[0],
                                    s->type == XUAN_TYPE_F32 ? XUAN_TYPE_F32 : XUAN_TYPE_F16);
        else t = xuan_synth_fallback_type(s->type, (uint64_t)s->ne[0]);
        int rc = xuan_gguf_writer_add_tensor(b->w, s->name, t, n_dims, s->ne, NULL, fill_tensor,
                                             &b->ctx[s->role], b->err);
        if (rc) return rc;
    }
    return 0;
}

static int check_params(const xuan_synth_params *p, xuan_error *err) {
    const xuan_arch_info *ai = xuan_arch_find(p->arch, strlen(p->arch));
    if (!ai || !ai->runs)
        return xuan_fail(err, XUAN_ERR_USAGE, "architecture '%s' cannot be synthesized (%s can)", p->arch,
                         xuan_arch_runnable_list());
    if (ai->moe && (p->n_expert < 2 || p->n_expert > 512 || !p->n_expert_used || p->n_expert_used > p->n_expert ||
                    !p->n_ff_exp || p->n_ff_exp > 262144))
        return xuan_fail(err, XUAN_ERR_USAGE, "bad experts: %u experts, %u used, expert FFN %u", p->n_expert,
                         p->n_expert_used, p->n_ff_exp);
    if (ai->moe_shexp_gated && (!p->n_ff_shexp || p->n_ff_shexp > 262144))
        return xuan_fail(err, XUAN_ERR_USAGE, "bad shared expert: %u rows", p->n_ff_shexp);
    if (ai->attn == XUAN_ATTN_MLA &&
        (p->n_kv_heads != 1 || !p->n_lora_kv || p->n_lora_kv > 8192 || !p->head_dim_v || p->head_dim_v > 1024 ||
         !p->n_rot || p->n_rot >= p->head_dim || p->n_dense_lead > p->n_layers || p->n_lora_q > 65536 ||
         (uint64_t)p->n_ff_exp * p->n_expert_shared > 262144))
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "bad MLA shape: %u KV heads (want 1), kv_lora_rank %u, value_length_mla %u, rope dims %u "
                         "of %u, %u leading dense layers",
                         p->n_kv_heads, p->n_lora_kv, p->head_dim_v, p->n_rot, p->head_dim, p->n_dense_lead);
    if (ai->attn == XUAN_ATTN_HYBRID) {
        int32_t sum = 0;
        for (int i = 0; i < 4; i++) sum += p->rope_sections[i] >= 0 ? p->rope_sections[i] : 1 << 20;
        if (p->ssm_conv < 2 || p->ssm_conv > 64 || !p->ssm_state || p->ssm_state > 1024 || !p->ssm_groups ||
            !p->ssm_heads || p->ssm_heads > 1024 || p->ssm_heads % p->ssm_groups || !p->full_attn ||
            p->full_attn > p->n_layers || sum < 1 || sum > (int32_t)p->head_dim)
            return xuan_fail(err, XUAN_ERR_USAGE,
                             "bad Gated DeltaNet shape: conv %u, state %u, key heads %u, value heads %u (a multiple "
                             "of key heads), attention every %u of %u layers, rope sections summing to %d",
                             p->ssm_conv, p->ssm_state, p->ssm_groups, p->ssm_heads, p->full_attn, p->n_layers, sum);
    }
    if (ai->layer_kinds) { /* gemma4: what llama.cpp and the loader require of the kinds */
        const uint32_t per = p->swa_period, n_kv = p->n_layers - p->n_kv_shared;
        const bool ok = per >= 1 && p->n_swa && p->head_dim_swa && p->head_dim_swa % 2 == 0 && p->head_dim_swa <= 1024 &&
                        p->n_kv_shared < p->n_layers && p->rot_full % 2 == 0 && p->rot_full <= p->head_dim &&
                        p->n_embd_per_layer <= 4096 &&
                        (!p->n_kv_shared || (n_kv >= 2 && (n_kv - 1) % per == per - 1 && (n_kv - 2) % per != per - 1));
        if (!ok)
            return xuan_fail(err, XUAN_ERR_USAGE,
                             "bad gemma4 shape: every %u-th layer full, window %u, sliding heads %u, %u shared-KV "
                             "layers of %u (layers %u and %u below them must be sliding and full), full rotary %u "
                             "of %u",
                             per, p->n_swa, p->head_dim_swa, p->n_kv_shared, p->n_layers, n_kv - 2, n_kv - 1,
                             p->rot_full, p->head_dim);
    }
    if (p->qkv_bias && ai->qkv_bias == XUAN_NEVER)
        return xuan_fail(err, XUAN_ERR_USAGE, "architecture '%s' has no q/k/v biases", p->arch);
    if (!p->n_layers || p->n_layers > 512 || !p->d_model || p->d_model > 65536 || !p->d_ffn ||
        p->d_ffn > 262144 || !p->n_heads || !p->n_kv_heads || p->n_heads % p->n_kv_heads ||
        !p->head_dim || p->head_dim % 2 || p->head_dim > 1024 || p->n_rot % 2 || p->n_rot > p->head_dim ||
        (p->n_rot && p->n_rot != p->head_dim && !ai->partial_rope))
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "bad shape: layers %u, dim %u, ffn %u, heads %u, kv heads %u, head dim %u "
                         "(heads must be a multiple of kv heads, head dim even)",
                         p->n_layers, p->d_model, p->d_ffn, p->n_heads, p->n_kv_heads, p->head_dim);
    uint32_t types[3] = {p->type, p->embd_type, p->output_type};
    for (int i = 0; i < 3; i++)
        if (!xuan_type_known(types[i]) || types[i] == XUAN_TYPE_Q8_K || types[i] == XUAN_TYPE_Q8_1 ||
            (types[i] >= XUAN_TYPE_I8 && types[i] <= XUAN_TYPE_F64))
            return xuan_fail(err, XUAN_ERR_USAGE, "type %s is not a weight type", xuan_type_name(types[i]));
    return 0;
}

int xuan_synth_write(const xuan_synth_params *p, const char *path, xuan_error *err) {
    int rc = check_params(p, err);
    if (rc) return rc;
    builder b = {xuan_gguf_writer_new(), {{0}}, NULL, 0, 0, err};
    if (!b.w) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    /* Unit-RMS hidden states times output weights of std ~0.02 give logits
     * of std 0.02*sqrt(dim); scale the final norm so that std is ~3, which
     * keeps next-token distributions peaked enough to compare. */
    float out_scale = 3.0f / (0.02f * sqrtf((float)p->d_model));
    for (int r = 0; r < N_ROLES; r++) b.ctx[r] = (fill_ctx){p->seed, (role)r, p->head_dim, p->rot_full / 2, out_scale};
    xuan_gguf_writer *w = b.w;
    const char *a = p->arch;
    const xuan_arch_info *ai = xuan_arch_find(a, strlen(a));
    const bool fused_qkv = ai->converted_fused;
    char key[128], name[64];
#define KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, a), key)
    char gname[128];
    if (p->name) snprintf(gname, sizeof gname, "%s", p->name);
    else snprintf(gname, sizeof gname, "synthetic-%s-%s", p->preset[0] ? p->preset : a,
                  p->mix ? p->mix : xuan_type_name(p->type));
    uint32_t n_tokens = 0;
    xuan_gguf_writer_set_str(w, "general.architecture", a);
    xuan_gguf_writer_set_str(w, "general.name", gname);
    xuan_gguf_writer_set_u32(w, "general.file_type", xuan_ftype_for_type(p->type));
    xuan_gguf_writer_set_u32(w, "general.quantization_version", 2);
    xuan_gguf_writer_set_u32(w, KEY("context_length"), p->n_ctx);
    xuan_gguf_writer_set_u32(w, KEY("embedding_length"), p->d_model);
    xuan_gguf_writer_set_u32(w, KEY("block_count"), p->n_layers);
    xuan_gguf_writer_set_u32(w, KEY("feed_forward_length"), p->d_ffn);
    xuan_gguf_writer_set_u32(w, KEY("attention.head_count"), p->n_heads);
    xuan_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), p->n_kv_heads);
    xuan_gguf_writer_set_f32(w, KEY("rope.freq_base"), p->rope_base);
    xuan_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), p->norm_eps);
    xuan_gguf_writer_set_u32(w, KEY("rope.dimension_count"), p->n_rot ? p->n_rot : p->head_dim);
    const bool mla = ai->attn == XUAN_ATTN_MLA;
    if (mla) { /* as convert_hf_to_gguf's DeepseekV2Model writes the absorbed form */
        xuan_gguf_writer_set_u32(w, KEY("leading_dense_block_count"), p->n_dense_lead);
        xuan_gguf_writer_set_u32(w, KEY("attention.kv_lora_rank"), p->n_lora_kv);
        if (p->n_lora_q) xuan_gguf_writer_set_u32(w, KEY("attention.q_lora_rank"), p->n_lora_q);
        xuan_gguf_writer_set_u32(w, KEY("attention.key_length"), p->n_lora_kv + p->n_rot);
        xuan_gguf_writer_set_u32(w, KEY("attention.value_length"), p->n_lora_kv);
        xuan_gguf_writer_set_u32(w, KEY("attention.key_length_mla"), p->head_dim);
        xuan_gguf_writer_set_u32(w, KEY("attention.value_length_mla"), p->head_dim_v);
        xuan_gguf_writer_set_u32(w, KEY("expert_shared_count"), p->n_expert_shared);
        xuan_gguf_writer_set_f32(w, KEY("expert_weights_scale"), 1.0f);
    } else if (p->head_dim * p->n_heads != p->d_model || ai->layer_kinds) {
        xuan_gguf_writer_set_u32(w, KEY("attention.key_length"), p->head_dim);
        xuan_gguf_writer_set_u32(w, KEY("attention.value_length"), p->head_dim);
    }
    if (p->n_swa) xuan_gguf_writer_set_u32(w, KEY("attention.sliding_window"), p->n_swa);
    if (p->rope_linear > 0) {
        xuan_gguf_writer_set_str(w, KEY("rope.scaling.type"), "linear");
        xuan_gguf_writer_set_f32(w, KEY("rope.scaling.factor"), p->rope_linear);
    }
    if (p->yarn > 0) { /* as convert_hf_to_gguf writes Ministral 3 */
        xuan_gguf_writer_set_str(w, KEY("rope.scaling.type"), "yarn");
        xuan_gguf_writer_set_f32(w, KEY("rope.scaling.factor"), p->yarn);
        xuan_gguf_writer_set_u32(w, KEY("rope.scaling.original_context_length"), p->yarn_orig);
        xuan_gguf_writer_set_f32(w, KEY("rope.scaling.yarn_beta_fast"), 32.0f);
        xuan_gguf_writer_set_f32(w, KEY("rope.scaling.yarn_beta_slow"), 1.0f);
        if (p->yarn_log_mul >= 0.0f)
            xuan_gguf_writer_set_f32(w, KEY("rope.scaling.yarn_log_multiplier"),
                                     p->yarn_log_mul != 0.0f ? p->yarn_log_mul : 1.0f);
    }
    if (p->attn_temp > 0) xuan_gguf_writer_set_f32(w, KEY("attention.temperature_scale"), p->attn_temp);
    const bool hybrid = ai->attn == XUAN_ATTN_HYBRID;
    if (hybrid) { /* as convert_hf_to_gguf's Qwen3NextModel / Qwen3_5TextModel write them */
        xuan_gguf_writer_set_u32(w, KEY("ssm.conv_kernel"), p->ssm_conv);
        xuan_gguf_writer_set_u32(w, KEY("ssm.state_size"), p->ssm_state);
        xuan_gguf_writer_set_u32(w, KEY("ssm.group_count"), p->ssm_groups);
        xuan_gguf_writer_set_u32(w, KEY("ssm.time_step_rank"), p->ssm_heads);
        xuan_gguf_writer_set_u32(w, KEY("ssm.inner_size"), p->ssm_heads * p->ssm_state);
        xuan_gguf_writer_set_u32(w, KEY("full_attention_interval"), p->full_attn);
        xuan_gguf_writer_set_arr(w, KEY("rope.dimension_sections"), XUAN_GGUF_INT32, p->rope_sections, 4);
    }
    if (ai->moe) {
        xuan_gguf_writer_set_u32(w, KEY("expert_count"), p->n_expert);
        xuan_gguf_writer_set_u32(w, KEY("expert_used_count"), p->n_expert_used);
        xuan_gguf_writer_set_u32(w, KEY("expert_feed_forward_length"), p->n_ff_exp);
        if (ai->moe_shexp_gated)
            xuan_gguf_writer_set_u32(w, KEY("expert_shared_feed_forward_length"), p->n_ff_shexp);
        if (p->n_expert_groups > 1) {
            xuan_gguf_writer_set_u32(w, KEY("expert_group_count"), p->n_expert_groups);
            xuan_gguf_writer_set_u32(w, KEY("expert_group_used_count"), p->n_group_used);
        }
    }
    const bool kinds = ai->layer_kinds;
    bool *swa_flags = NULL;
    if (kinds) { /* as convert_hf_to_gguf's Gemma4Model writes them */
        swa_flags = xuan_calloc(p->n_layers, sizeof *swa_flags);
        if (!swa_flags) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (uint32_t l = 0; l < p->n_layers; l++) swa_flags[l] = l % p->swa_period != p->swa_period - 1;
        xuan_gguf_writer_set_u32(w, KEY("attention.shared_kv_layers"), p->n_kv_shared);
        xuan_gguf_writer_set_u32(w, KEY("embedding_length_per_layer_input"), p->n_embd_per_layer);
        xuan_gguf_writer_set_arr(w, KEY("attention.sliding_window_pattern"), XUAN_GGUF_BOOL, swa_flags, p->n_layers);
        xuan_gguf_writer_set_u32(w, KEY("attention.key_length_swa"), p->head_dim_swa);
        xuan_gguf_writer_set_u32(w, KEY("attention.value_length_swa"), p->head_dim_swa);
        xuan_gguf_writer_set_u32(w, KEY("rope.dimension_count_swa"), p->head_dim_swa);
        xuan_gguf_writer_set_f32(w, KEY("rope.freq_base_swa"), 10000.0f);
    }
    if (p->final_softcap > 0) xuan_gguf_writer_set_f32(w, KEY("final_logit_softcapping"), p->final_softcap);
    if (ai->attn_softcap) { /* as convert_hf_to_gguf writes Gemma 2 */
        xuan_gguf_writer_set_f32(w, KEY("attn_logit_softcapping"), 50.0f);
        xuan_gguf_writer_set_f32(w, KEY("final_logit_softcapping"), 30.0f);
    }
    if (p->longrope) {
        xuan_gguf_writer_set_u32(w, KEY("rope.scaling.original_context_length"), 4096);
        xuan_gguf_writer_set_f32(w, KEY("rope.scaling.attn_factor"),
                                 (float)sqrt(1 + log((double)p->n_ctx / 4096) / log(4096.0)));
    }
    /* the tokenizer comes after the model keys, as convert_hf_to_gguf orders them */
    rc = p->vocab_from ? copy_vocab(w, p->vocab_from, p->n_vocab, &n_tokens, err)
                       : builtin_vocab(w, p->n_vocab, &n_tokens, err);
    if (rc) goto done;
    xuan_gguf_writer_set_u32(w, KEY("vocab_size"), n_tokens);
#undef KEY
    int64_t d = p->d_model, f = p->d_ffn, hd = p->head_dim, nq = (int64_t)p->n_heads * hd,
            nkv = (int64_t)p->n_kv_heads * hd;
    rc = add(&b, ROLE_WEIGHT, "token_embd.weight", p->embd_type, d, n_tokens);
    if (!rc && p->llama3_rope) rc = add(&b, ROLE_ROPE_L3, "rope_freqs.weight", XUAN_TYPE_F32, hd / 2, 1);
    if (!rc && p->longrope) rc = add(&b, ROLE_ROPE_LONG, "rope_factors_long.weight", XUAN_TYPE_F32, hd / 2, 1);
    if (!rc && p->longrope) rc = add(&b, ROLE_ROPE_SHORT, "rope_factors_short.weight", XUAN_TYPE_F32, hd / 2, 1);
    const int64_t P = p->n_embd_per_layer, PL = P * p->n_layers;
    if (!rc && kinds) rc = add(&b, ROLE_ROPE_PROP, "rope_freqs.weight", XUAN_TYPE_F32, hd / 2, 1);
    if (!rc && kinds && P) rc = add(&b, ROLE_WEIGHT, "per_layer_token_embd.weight", p->embd_type, PL, n_tokens);
    if (!rc && kinds && P) rc = add(&b, ROLE_WEIGHT, "per_layer_model_proj.weight", p->type, d, PL);
    if (!rc && kinds && P) rc = add(&b, ROLE_NORM, "per_layer_proj_norm.weight", XUAN_TYPE_F32, P, 1);
    for (uint32_t l = 0; l < p->n_layers && !rc; l++) {
#define T(role, suffix, type, ne0, ne1) \
    (snprintf(name, sizeof name, "blk.%u." suffix, l), add(&b, role, name, type, ne0, ne1))
#define T3(suffix, ne0, ne1, ne2) \
    (snprintf(name, sizeof name, "blk.%u." suffix, l), add3(&b, ROLE_WEIGHT, name, p->type, ne0, ne1, ne2))
        rc = T(ROLE_NORM, "attn_norm.weight", XUAN_TYPE_F32, d, 1);
        if (kinds) { /* llama_model_gemma4::load_arch_tensors; shared-KV layers without K and V */
            const bool full = !swa_flags[l], kv = l < p->n_layers - p->n_kv_shared;
            const int64_t hl = full ? hd : p->head_dim_swa, ql = (int64_t)p->n_heads * hl, kl = (int64_t)p->n_kv_heads * hl;
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_q.weight", p->type, d, ql);
            if (kv) rc = rc ? rc : T(ROLE_WEIGHT, "attn_k.weight", p->type, d, kl);
            if (kv && !(full && p->no_v_full)) rc = rc ? rc : T(ROLE_WEIGHT, "attn_v.weight", p->type, d, kl);
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_output.weight", p->type, ql, d);
            rc = rc ? rc : T(ROLE_NORM, "attn_q_norm.weight", XUAN_TYPE_F32, hl, 1);
            if (kv) rc = rc ? rc : T(ROLE_NORM, "attn_k_norm.weight", XUAN_TYPE_F32, hl, 1);
            rc = rc ? rc : T(ROLE_NORM, "post_attention_norm.weight", XUAN_TYPE_F32, d, 1);
            rc = rc ? rc : T(ROLE_NORM, "layer_output_scale.weight", XUAN_TYPE_F32, 1, 1);
            rc = rc ? rc : T(ROLE_NORM, "ffn_norm.weight", XUAN_TYPE_F32, d, 1);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate.weight", p->type, d, f);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up.weight", p->type, d, f);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_down.weight", p->type, f, d);
            rc = rc ? rc : T(ROLE_NORM, "post_ffw_norm.weight", XUAN_TYPE_F32, d, 1);
            if (P) {
                rc = rc ? rc : T(ROLE_WEIGHT, "inp_gate.weight", p->type, d, P);
                rc = rc ? rc : T(ROLE_WEIGHT, "proj.weight", p->type, P, d);
                rc = rc ? rc : T(ROLE_NORM, "post_norm.weight", XUAN_TYPE_F32, d, 1);
            }
            continue;
        }
        if (hybrid) { /* llama_model_qwen35::load_arch_tensors */
            const int64_t S = p->ssm_state, Hv = p->ssm_heads, vd = Hv * S, ch = vd + 2 * (int64_t)p->ssm_groups * S;
            if ((l + 1) % p->full_attn != 0) {
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_qkv.weight", p->type, d, ch);
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_gate.weight", p->type, d, vd);
                rc = rc ? rc : T(ROLE_CONV, "ssm_conv1d.weight", XUAN_TYPE_F32, p->ssm_conv, ch);
                rc = rc ? rc : T(ROLE_DT, "ssm_dt.bias", XUAN_TYPE_F32, Hv, 1);
                rc = rc ? rc : T(ROLE_SSM_A, "ssm_a", XUAN_TYPE_F32, Hv, 1);
                rc = rc ? rc : T(ROLE_WEIGHT, "ssm_beta.weight", p->type, d, Hv);
                rc = rc ? rc : T(ROLE_WEIGHT, "ssm_alpha.weight", p->type, d, Hv);
                rc = rc ? rc : T(ROLE_NORM, "ssm_norm.weight", XUAN_TYPE_F32, S, 1);
                rc = rc ? rc : T(ROLE_WEIGHT, "ssm_out.weight", p->type, vd, d);
            } else {
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_q.weight", p->type, d, 2 * nq);
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_k.weight", p->type, d, nkv);
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_v.weight", p->type, d, nkv);
                rc = rc ? rc : T(ROLE_NORM, "attn_q_norm.weight", XUAN_TYPE_F32, hd, 1);
                rc = rc ? rc : T(ROLE_NORM, "attn_k_norm.weight", XUAN_TYPE_F32, hd, 1);
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_output.weight", p->type, nq, d);
            }
            rc = rc ? rc : T(ROLE_NORM, "post_attention_norm.weight", XUAN_TYPE_F32, d, 1);
            if (ai->moe) { /* llama_model_qwen35moe: routed experts, then the gated shared one */
                const int64_t E = p->n_expert, fe = p->n_ff_exp, fs = p->n_ff_shexp;
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate_inp.weight", XUAN_TYPE_F32, d, E);
                rc = rc ? rc : T3("ffn_down_exps.weight", fe, d, E);
                rc = rc ? rc : T3("ffn_gate_exps.weight", d, fe, E);
                rc = rc ? rc : T3("ffn_up_exps.weight", d, fe, E);
                /* [n_embd, 1] F32, as convert_hf_to_gguf writes shared_expert_gate [1, n_embd] */
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate_inp_shexp.weight", XUAN_TYPE_F32, d, 1);
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate_shexp.weight", p->type, d, fs);
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up_shexp.weight", p->type, d, fs);
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_down_shexp.weight", p->type, fs, d);
                continue;
            }
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate.weight", p->type, d, f);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up.weight", p->type, d, f);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_down.weight", p->type, f, d);
            continue;
        }
        if (mla) { /* DeepSeek-V2-Lite has no q_lora; attn_k_b / attn_v_b per head */
            const int64_t H = p->n_heads, kvl = p->n_lora_kv, r = p->n_rot, vm = p->head_dim_v, ql = p->n_lora_q;
            if (ql) {
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_q_a.weight", p->type, d, ql);
                rc = rc ? rc : T(ROLE_NORM, "attn_q_a_norm.weight", XUAN_TYPE_F32, ql, 1);
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_q_b.weight", p->type, ql, H * hd);
            } else {
                rc = rc ? rc : T(ROLE_WEIGHT, "attn_q.weight", p->type, d, H * hd);
            }
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_kv_a_mqa.weight", p->type, d, kvl + r);
            rc = rc ? rc : T(ROLE_NORM, "attn_kv_a_norm.weight", XUAN_TYPE_F32, kvl, 1);
            rc = rc ? rc : T3("attn_k_b.weight", hd - r, kvl, H);
            rc = rc ? rc : T3("attn_v_b.weight", kvl, vm, H);
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_output.weight", p->type, H * vm, d);
        } else if (fused_qkv) {
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_qkv.weight", p->type, d, nq + 2 * nkv);
        } else {
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_q.weight", p->type, d, nq);
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_k.weight", p->type, d, nkv);
            rc = rc ? rc : T(ROLE_WEIGHT, "attn_v.weight", p->type, d, nkv);
            if (p->qkv_bias) {
                rc = rc ? rc : T(ROLE_BIAS, "attn_q.bias", XUAN_TYPE_F32, nq, 1);
                rc = rc ? rc : T(ROLE_BIAS, "attn_k.bias", XUAN_TYPE_F32, nkv, 1);
                rc = rc ? rc : T(ROLE_BIAS, "attn_v.bias", XUAN_TYPE_F32, nkv, 1);
            }
        }
        if (ai->qk_norm) {
            rc = rc ? rc : T(ROLE_NORM, "attn_q_norm.weight", XUAN_TYPE_F32, hd, 1);
            rc = rc ? rc : T(ROLE_NORM, "attn_k_norm.weight", XUAN_TYPE_F32, hd, 1);
        }
        if (!mla) rc = rc ? rc : T(ROLE_WEIGHT, "attn_output.weight", p->type, nq, d);
        if (ai->attn_sinks) { /* gpt-oss: output bias, sinks, the FFN norm by its llama.cpp name */
            rc = rc ? rc : T(ROLE_BIAS, "attn_output.bias", XUAN_TYPE_F32, d, 1);
            rc = rc ? rc : T(ROLE_SINK, "attn_sinks.weight", XUAN_TYPE_F32, p->n_heads, 1);
        }
        if (ai->post_norms) rc = rc ? rc : T(ROLE_NORM, "post_attention_norm.weight", XUAN_TYPE_F32, d, 1);
        if (ai->ffn_norm_post_attn) rc = rc ? rc : T(ROLE_NORM, "post_attention_norm.weight", XUAN_TYPE_F32, d, 1);
        else rc = rc ? rc : T(ROLE_NORM, "ffn_norm.weight", XUAN_TYPE_F32, d, 1);
        const bool moe = ai->moe && !(mla && l < p->n_dense_lead);
        if (moe) { /* the router stays F32, as llama-quantize leaves it */
            const int64_t E = p->n_expert, fe = p->n_ff_exp, fs = fe * p->n_expert_shared;
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate_inp.weight", XUAN_TYPE_F32, d, E);
            rc = rc ? rc : T3("ffn_gate_exps.weight", d, fe, E);
            rc = rc ? rc : T3("ffn_up_exps.weight", d, fe, E);
            rc = rc ? rc : T3("ffn_down_exps.weight", fe, d, E);
            if (ai->moe_biases) {
                rc = rc ? rc : T(ROLE_BIAS, "ffn_gate_inp.bias", XUAN_TYPE_F32, E, 1);
                rc = rc ? rc : T(ROLE_BIAS, "ffn_gate_exps.bias", XUAN_TYPE_F32, fe, E);
                rc = rc ? rc : T(ROLE_BIAS, "ffn_up_exps.bias", XUAN_TYPE_F32, fe, E);
                rc = rc ? rc : T(ROLE_BIAS, "ffn_down_exps.bias", XUAN_TYPE_F32, d, E);
            }
            if (mla && fs) {
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate_shexp.weight", p->type, d, fs);
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up_shexp.weight", p->type, d, fs);
                rc = rc ? rc : T(ROLE_WEIGHT, "ffn_down_shexp.weight", p->type, fs, d);
            }
        } else if (ai->fused_gate_up) {
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up.weight", p->type, d, 2 * f);
        } else {
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_gate.weight", p->type, d, f);
            rc = rc ? rc : T(ROLE_WEIGHT, "ffn_up.weight", p->type, d, f);
        }
        if (!moe) rc = rc ? rc : T(ROLE_WEIGHT, "ffn_down.weight", p->type, f, d);
        if (ai->post_norms) rc = rc ? rc : T(ROLE_NORM, "post_ffw_norm.weight", XUAN_TYPE_F32, d, 1);
#undef T
#undef T3
    }
    if (!rc) rc = add(&b, ROLE_OUT_NORM, "output_norm.weight", XUAN_TYPE_F32, d, 1);
    if (!rc && !p->tied) rc = add(&b, ROLE_WEIGHT, "output.weight", p->output_type, d, n_tokens);
    if (!rc) rc = add_all(&b, p->mix, p->n_layers);
    if (!rc) {
        xuan_gguf_writer_progress(w, "synth");
        xuan_gguf_writer_set_sparse(w, p->sparse);
        rc = xuan_gguf_writer_write(w, path, err);
    }
done:
    xuan_free(swa_flags);
    xuan_free(b.specs);
    xuan_gguf_writer_free(w);
    return rc;
}
