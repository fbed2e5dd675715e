/*
 * mix.c — which type each tensor gets in `xuan quantize`, following
 * llama.cpp's src/llama-quant.cpp (llama_tensor_get_type_impl and
 * tensor_type_fallback) for the file types xuan offers, without an
 * importance matrix and for dense (non-MoE, non-Falcon) models, plus
 * MXFP4_MOE (experts MXFP4, every other matrix Q8_0: how ggml-org's
 * gpt-oss files are made).  A tensor already in MXFP4 is kept as it is in
 * every mix (its 4-bit floats would only lose by a round trip).
 */
#include "xuan/quant.h"

#include <strings.h>

static const struct {
    const char *name;
    uint32_t ftype, base;
} MIXES[] = {
    {"Q4_0", 2, XUAN_TYPE_Q4_0},    {"Q8_0", 7, XUAN_TYPE_Q8_0},    {"Q4_K_S", 14, XUAN_TYPE_Q4_K},
    {"Q4_K_M", 15, XUAN_TYPE_Q4_K}, {"Q5_K_M", 17, XUAN_TYPE_Q5_K}, {"Q6_K", 18, XUAN_TYPE_Q6_K},
    {"MXFP4_MOE", 38, XUAN_TYPE_Q8_0},
};
enum { FT_Q4_0 = 2, FT_Q8_0 = 7, FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_M = 17, FT_Q6_K = 18, FT_MXFP4_MOE = 38 };

const char *xuan_quant_mix_names(void) { return "Q4_0, Q4_K_S, Q4_K_M, Q5_K_M, Q6_K, Q8_0, MXFP4_MOE"; }

int xuan_quant_mix_init(xuan_quant_mix *mix, const char *name, int n_layer, xuan_error *err) {
    for (size_t i = 0; i < sizeof MIXES / sizeof MIXES[0]; i++)
        if (!strcasecmp(MIXES[i].name, name)) {
            *mix = (xuan_quant_mix){.ftype = MIXES[i].ftype, .base_type = MIXES[i].base,
                                    .n_layer = n_layer, .tied = true};
            return 0;
        }
    return xuan_fail(err, XUAN_ERR_USAGE, "cannot quantize to '%s'; supported types: %s", name,
                     xuan_quant_mix_names());
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_attn_v(const char *name) {
    return strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight");
}

void xuan_quant_mix_count(xuan_quant_mix *mix, const char *name) {
    if (is_attn_v(name)) mix->n_attn_v++;
    if (!strcmp(name, "output.weight")) mix->tied = false;
}

/* llama.cpp's use_more_bits: the first and last eighth, and every third layer between. */
static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static uint32_t fallback(uint32_t type, int64_t ne0) {
    uint32_t bs = xuan_type_get(type)->block_size, out = type;
    if (ne0 % bs == 0) return type;
    switch (type) {
    case XUAN_TYPE_Q4_K: out = XUAN_TYPE_Q5_0; break;
    case XUAN_TYPE_Q5_K: out = XUAN_TYPE_Q5_1; break;
    case XUAN_TYPE_Q6_K: out = XUAN_TYPE_Q8_0; break;
    case XUAN_TYPE_Q2_K: case XUAN_TYPE_Q3_K: out = XUAN_TYPE_Q4_0; break;
    case XUAN_TYPE_IQ4_XS: out = XUAN_TYPE_IQ4_NL; break;
    default: break;
    }
    return ne0 % xuan_type_get(out)->block_size ? XUAN_TYPE_F16 : out;
}

uint32_t xuan_quant_mix_type(xuan_quant_mix *mix, const char *name, uint32_t n_dims, int64_t ne0,
                             uint32_t current) {
    /* tensor_allows_quantization: 2-D+ "...weight" tensors except norms, routers and
     * the small conv1d taps of recurrent layers. */
    if (n_dims < 2 || !ends_with(name, "weight") || strstr(name, "_norm.weight") ||
        strstr(name, "ffn_gate_inp.weight") || strstr(name, "ssm_conv1d") || !strcmp(name, "position_embd.weight") ||
        !strcmp(name, "token_types.weight"))
        return current;
    if (current == XUAN_TYPE_MXFP4) return current;
    const uint32_t ft = mix->ftype;
    uint32_t t = mix->base_type;
    bool output = !strcmp(name, "output.weight");
    bool embd = !strcmp(name, "token_embd.weight");
    if (ft == FT_MXFP4_MOE) /* llama-quant.cpp: 3-D (expert) tensors MXFP4, the rest Q8_0 */
        return fallback(n_dims >= 3 ? XUAN_TYPE_MXFP4 : XUAN_TYPE_Q8_0, ne0);
    if (output || (mix->tied && embd)) {
        if (ne0 % xuan_type_get(t)->block_size) t = XUAN_TYPE_Q8_0;
        else if (t != XUAN_TYPE_Q8_0) t = XUAN_TYPE_Q6_K;
    } else if (embd) {
        /* keeps the base type */
    } else if (is_attn_v(name)) {
        if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && more_bits(mix->i_attn_v, mix->n_attn_v)) t = XUAN_TYPE_Q6_K;
        else if (ft == FT_Q4_K_S && mix->i_attn_v < 4) t = XUAN_TYPE_Q5_K;
        mix->i_attn_v++;
    } else if (strstr(name, "ffn_down")) {
        int i = mix->i_ffn_down, n = mix->n_layer;
        if (ft == FT_Q4_K_M) {
            if (more_bits(i, n)) t = XUAN_TYPE_Q6_K;
        } else if (ft == FT_Q5_K_M && more_bits(i, n)) {
            t = XUAN_TYPE_Q6_K;
        } else if (ft == FT_Q4_K_S && i < n / 8) {
            t = XUAN_TYPE_Q5_K;
        }
        mix->i_ffn_down++;
    }
    /* (llama.cpp's attn_qkv rule is unreachable there too: attn_qkv counts
     * as attn_v and takes that branch first.) */
    return fallback(t, ne0);
}
