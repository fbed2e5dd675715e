/*
 * ops.c — the small element-wise kernels of the forward pass: RMSNorm,
 * RoPE, SwiGLU and F16 rounding.  They follow ggml's CPU code operation by
 * operation (same accumulation types, same theta recurrence) because the
 * parity tests compare logits with llama.cpp to 1e-3 in log-probability;
 * the time goes into the matrix products, not here.
 */
#include "model/internal.h"

#include <math.h>

void xuan_op_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps) {
    double sum = 0.0; /* ggml sums the squares in double */
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    /* Two roundings (x*scale, then *w), as ggml's rms_norm and mul ops. */
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

/* ---- RoPE (ggml_rope_ext with YaRN, frequency factors and attn_factor) ---- */

static float yarn_ramp(float low, float high, int i0) {
    const float y = ((float)(i0 / 2) - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

static float corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

void xuan_op_rope_table(const xuan_hparams *hp, const float *ff, float pos, float *cs) {
    const int n_dims = (int)hp->n_rot;
    const float theta_scale = powf(hp->rope_base, -2.0f / (float)n_dims);
    float corr[2] = {0, 0};
    if (hp->yarn_ext_factor != 0.0f) {
        float start = floorf(corr_dim(n_dims, (int)hp->n_ctx_orig, hp->yarn_beta_fast, hp->rope_base));
        float end = ceilf(corr_dim(n_dims, (int)hp->n_ctx_orig, hp->yarn_beta_slow, hp->rope_base));
        corr[0] = fmaxf(0.0f, start);
        corr[1] = fminf((float)(n_dims - 1), end);
    }
    const float freq_scale = hp->rope_freq_scale, ext = hp->yarn_ext_factor;
    float theta = pos;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        const float f = ff ? ff[i0 / 2] : 1.0f;
        const float theta_extrap = theta / f;
        const float theta_interp = freq_scale * theta_extrap;
        float th = theta_interp, mscale = hp->rope_attn_factor;
        if (ext != 0.0f) {
            const float mix = yarn_ramp(corr[0], corr[1], i0) * ext;
            th = theta_interp * (1 - mix) + theta_extrap * mix;
            mscale *= 1.0f + 0.1f * logf(1.0f / freq_scale);
        }
        cs[i0] = cosf(th) * mscale;
        cs[i0 + 1] = sinf(th) * mscale;
        theta *= theta_scale;
    }
}

void xuan_op_rope_apply(float *x, const float *cs, uint32_t n_rot, bool neox) {
    if (neox) {
        const uint32_t half = n_rot / 2;
        for (uint32_t i = 0; i < half; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float x0 = x[i], x1 = x[i + half];
            x[i] = x0 * c - x1 * s;
            x[i + half] = x0 * s + x1 * c;
        }
    } else {
        for (uint32_t i = 0; i < n_rot; i += 2) {
            const float c = cs[i], s = cs[i + 1];
            const float x0 = x[i], x1 = x[i + 1];
            x[i] = x0 * c - x1 * s;
            x[i + 1] = x0 * s + x1 * c;
        }
    }
}

void xuan_op_round_f16(const float *src, float *dst, int64_t n) {
    /* Through the (SIMD) row converters, a stack-sized piece at a time. */
    uint16_t h[512];
    for (int64_t i = 0; i < n; i += 512) {
        const int64_t k = n - i < 512 ? n - i : 512;
        xuan_fp32_to_fp16_row(src + i, h, k);
        xuan_fp16_to_fp32_row(h, dst + i, k);
    }
}

void xuan_op_round_bf16(const float *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = xuan_bf16_to_fp32(xuan_fp32_to_bf16(src[i]));
}

void xuan_op_swiglu(const float *g, const float *u, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

float xuan_op_dot_f16(const float *x, const uint16_t *h, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += x[i] * xuan_fp16_to_fp32(h[i]);
    return s;
}

void xuan_op_axpy_f16(float *acc, float w, const uint16_t *h, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += w * xuan_fp16_to_fp32(h[i]);
}
