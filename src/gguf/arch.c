/* The architecture table: one descriptor per GGUF `general.architecture`
 * xuan knows, read by the loader (src/model/load.c), the synthesizer
 * (src/model/synth.c), `xuan inspect` and `xuan pick`.  Facts come from
 * llama.cpp (src/llama-arch.cpp for names, llama_model_rope_type for the
 * RoPE kind, src/models/<arch>.cpp for tensors and blocks); an entry with
 * runs = false is known and described, not evaluated. */
#include "xuan/gguf.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const xuan_arch_info ARCHS[] = {
    {.name = "llama", .runs = true, .rope = XUAN_ROPE_NORM,
     .models = "Llama 2/3/3.1/3.2, R1-Distill-Llama, Mistral 7B, Yi-1.5, DeepSeek-LLM/Math",
     .qkv_bias = XUAN_OPTIONAL},
    {.name = "qwen2", .runs = true, .rope = XUAN_ROPE_NEOX,
     .models = "Qwen2, Qwen2.5 (Coder, Math), R1-Distill-Qwen, QwQ", .qkv_bias = XUAN_REQUIRED},
    {.name = "phi3", .runs = true, .rope = XUAN_ROPE_NEOX, .models = "Phi-3, Phi-3.5-mini, Phi-4, Phi-4-mini",
     .fused_qkv = XUAN_OPTIONAL, .converted_fused = true, .fused_gate_up = true, .q_scale_early = true,
     .partial_rope = true},
    {.name = "qwen3", .runs = true, .rope = XUAN_ROPE_NEOX,
     .models = "Qwen3, Qwen3-2507, DeepSeek-R1-0528-Qwen3-8B", .qk_norm = true},
    {.name = "qwen3moe", .runs = true, .rope = XUAN_ROPE_NEOX, .models = "Qwen3-30B-A3B, Qwen3-Coder-30B-A3B",
     .qk_norm = true, .moe = true, .moe_norm_w = true},
    {.name = "qwen2moe", .rope = XUAN_ROPE_NEOX, .models = "Qwen1.5-MoE, Qwen2-57B-A14B",
     .qkv_bias = XUAN_REQUIRED, .moe = true, .moe_shexp_gated = true},
    {.name = "qwen35", .runs = true, .rope = XUAN_ROPE_IMROPE, .attn = XUAN_ATTN_HYBRID,
     .models = "Qwen3.5 (Gated DeltaNet hybrid)", .qk_norm = true, .partial_rope = true},
    /* qwen35's layers with a MoE FFN in every one (llama_model_qwen35moe): softmax router, top-k
     * renormalised, plus a shared expert gated per token */
    {.name = "qwen35moe", .runs = true, .rope = XUAN_ROPE_IMROPE, .attn = XUAN_ATTN_HYBRID,
     .models = "Qwen3.5-35B-A3B, Qwen3.6-35B-A3B (Gated DeltaNet hybrid, MoE)", .qk_norm = true, .moe = true,
     .moe_norm_w = true, .moe_shexp_gated = true, .partial_rope = true},
    {.name = "gemma2", .runs = true, .rope = XUAN_ROPE_NEOX, .act = XUAN_ACT_GELU, .models = "Gemma 2",
     .post_norms = true, .q_scale_early = true, .embd_scale = true, .attn_softcap = true,
     .final_softcap = 30.0f, .swa_pattern = 2, .swa_default = 4096},
    {.name = "gemma3", .runs = true, .rope = XUAN_ROPE_NEOX, .act = XUAN_ACT_GELU, .models = "Gemma 3, MedGemma",
     .qk_norm = true, .post_norms = true, .q_scale_early = true, .embd_scale = true, .swa_pattern = 6},
    {.name = "gemma4", .runs = true, .rope = XUAN_ROPE_NEOX, .act = XUAN_ACT_GELU, .models = "Gemma 4 (E2B, E4B)",
     .qk_norm = true, .post_norms = true, .partial_rope = true, .embd_scale = true, .layer_kinds = true},
    {.name = "glm4", .runs = true, .rope = XUAN_ROPE_NORM, .models = "GLM-4-0414, GLM-Z1", .fused_qkv = XUAN_OPTIONAL,
     .qkv_bias = XUAN_OPTIONAL, .fused_gate_up = true, .post_norms = true, .partial_rope = true},
    {.name = "chatglm", .rope = XUAN_ROPE_NORM, .models = "ChatGLM3, GLM-4-9B-Chat", .fused_qkv = XUAN_REQUIRED,
     .converted_fused = true,
     .qkv_bias = XUAN_REQUIRED, .fused_gate_up = true, .partial_rope = true},
    {.name = "mistral3", .runs = true, .rope = XUAN_ROPE_NORM, .models = "Ministral 3, Mistral Small 3.x",
     .qkv_bias = XUAN_OPTIONAL, .attn_temp = true},
    {.name = "deepseek2", .runs = true, .rope = XUAN_ROPE_NORM, .attn = XUAN_ATTN_MLA,
     .models = "DeepSeek-V2-Lite, DeepSeek-Coder-V2-Lite", .moe = true, .partial_rope = true},
    {.name = "deepseek", .rope = XUAN_ROPE_NORM, .models = "DeepSeek-MoE-16B", .moe = true},
    {.name = "gpt-oss", .runs = true, .rope = XUAN_ROPE_NEOX, .act = XUAN_ACT_SWIGLU_OAI, .models = "gpt-oss-20b",
     .qkv_bias = XUAN_REQUIRED, .moe = true, .swa_pattern = 2, .swa_default = 128, .attn_sinks = true,
     .moe_biases = true, .moe_softmax_topk = true, .ffn_norm_post_attn = true},
    {.name = "internlm2", .rope = XUAN_ROPE_NORM, .models = "InternLM2/2.5", .fused_qkv = XUAN_REQUIRED},
    {.name = "phimoe", .rope = XUAN_ROPE_NEOX, .models = "Phi-3.5-MoE", .qkv_bias = XUAN_OPTIONAL, .moe = true},
};

#define N_ARCHS (sizeof ARCHS / sizeof ARCHS[0])

const xuan_arch_info *xuan_arch_find(const char *name, size_t n) {
    if (!name) return NULL;
    for (size_t i = 0; i < N_ARCHS; i++)
        if (strlen(ARCHS[i].name) == n && memcmp(ARCHS[i].name, name, n) == 0) return &ARCHS[i];
    return NULL;
}

const xuan_arch_info *xuan_arch_table(size_t *n) {
    *n = N_ARCHS;
    return ARCHS;
}

static char runnable[256];
static pthread_once_t runnable_once = PTHREAD_ONCE_INIT;

static void build_runnable(void) {
    char *list = runnable;
    size_t at = 0;
    for (size_t i = 0; i < N_ARCHS; i++) {
        if (!ARCHS[i].runs) continue;
        int k = snprintf(list + at, sizeof runnable - at, "%s%s", at ? ", " : "", ARCHS[i].name);
        if (k < 0 || (size_t)k >= sizeof runnable - at) break;
        at += (size_t)k;
    }
}

const char *xuan_arch_runnable_list(void) {
    pthread_once(&runnable_once, build_runnable);
    return runnable;
}

const char *xuan_rope_kind_name(uint8_t kind) {
    switch (kind) {
    case XUAN_ROPE_NORM: return "normal";
    case XUAN_ROPE_NEOX: return "neox";
    case XUAN_ROPE_IMROPE: return "imrope";
    default: return "none";
    }
}
