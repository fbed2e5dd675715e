/*
 * ops.c — the small kernels of the forward pass besides the matrix
 * products: RMSNorm, RoPE, SwiGLU, F16 rounding, and attention's softmax
 * and F16 dot products.  Scalar references; ops_avx2.c has vector versions
 * with bit-identical results.
 *
 * They reproduce ggml's CPU arithmetic operation by operation (same
 * accumulation types and orders, its vectorized expf, its FMA contractions),
 * not just its math: on the parity tests' random models one activation
 * rounded differently can flip a later F16 or Q8_K rounding and move the
 * logits by 1e-2, so "close" is not enough (internal.h, docs/design.md).
 */
#include "model/internal.h"

#include "xuan/quant.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

void xuan_op_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps) {
    double sum = 0.0; /* ggml sums the squares in double */
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    /* Two roundings (x*scale, then *w), as ggml's rms_norm and mul ops. */
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

/* ---- F32 dot products in ggml_vec_dot_f32's order (internal.h) ---- */

float xuan_op_dot_f32_vec(const float *x, const float *y, uint32_t n, uint32_t lanes) {
    const uint32_t step = 4 * lanes, np = n & ~(step - 1);
    float acc[4][16] = {{0}};
    for (uint32_t i = 0; i < np; i += step)
        for (uint32_t j = 0; j < 4; j++)
            for (uint32_t l = 0; l < lanes; l++)
                acc[j][l] = fmaf(x[i + lanes * j + l], y[i + lanes * j + l], acc[j][l]);
    float a[16] = {0};
    for (uint32_t l = 0; l < lanes; l++) a[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    float sum;
    if (lanes == 8) {
        float h[4];
        for (uint32_t l = 0; l < 4; l++) h[l] = a[l] + a[l + 4];
        sum = (h[0] + h[1]) + (h[2] + h[3]);
    } else {
        float b[8], c[4];
        for (uint32_t l = 0; l < 8; l++) b[l] = a[l] + a[l + 8];
        for (uint32_t l = 0; l < 4; l++) c[l] = b[l] + b[l + 4];
        const float d0 = c[0] + c[2], d1 = c[1] + c[3];
        sum = d0 + d1;
    }
    for (uint32_t i = np; i < n; i++) sum = fmaf(x[i], y[i], sum);
    return sum;
}

/* ---- RoPE (ggml_rope_ext with YaRN, frequency factors and attn_factor) ---- */

static float yarn_ramp(float low, float high, int i0) {
    const float y = ((float)(i0 / 2) - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

static float corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return (float)n_dims * logf((float)n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

void xuan_op_rope_table(const xuan_hparams *hp, const float *ff, float pos, float base, float freq_scale,
                        float *cs) {
    const int n_dims = (int)hp->n_rot;
    const float theta_scale = powf(base, -2.0f / (float)n_dims);
    float corr[2] = {0, 0};
    if (hp->yarn_ext_factor != 0.0f) {
        float start = floorf(corr_dim(n_dims, (int)hp->n_ctx_orig, hp->yarn_beta_fast, base));
        float end = ceilf(corr_dim(n_dims, (int)hp->n_ctx_orig, hp->yarn_beta_slow, base));
        corr[0] = fmaxf(0.0f, start);
        corr[1] = fminf((float)(n_dims - 1), end);
    }
    const float ext = hp->yarn_ext_factor;
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

/* ggml compiles x0*cos - x1*sin with FMA contraction (C++, -ffp-contract=fast):
 * the x0 product is fused, the x1 product rounded first (checked in the
 * disassembly of its AVX-512 CPU variant). */
void xuan_op_rope_apply(float *x, const float *cs, uint32_t n_rot, bool neox) {
    if (neox) {
        const uint32_t half = n_rot / 2;
        for (uint32_t i = 0; i < half; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float x0 = x[i], x1 = x[i + half];
            x[i] = fmaf(x0, c, -(x1 * s));
            x[i + half] = fmaf(x0, s, x1 * c);
        }
    } else {
        for (uint32_t i = 0; i < n_rot; i += 2) {
            const float c = cs[i], s = cs[i + 1];
            const float x0 = x[i], x1 = x[i + 1];
            x[i] = fmaf(x0, c, -(x1 * s));
            x[i + 1] = fmaf(x0, s, x1 * c);
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

/* ---- ggml's evaluation order (see internal.h) ------------------------------------------ */

float xuan_op_expf_ggml(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    if (isnan(n)) return n;
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                         u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    return ldexpf(j, (int)n); /* _mm512_scalef_ps: j * 2^n, rounded once */
}

void xuan_op_swiglu(const float *g, const float *u, float *y, int64_t n) {
    const int64_t n16 = n & ~(int64_t)15;
    int64_t i = 0;
    for (; i < n16; i++) y[i] = g[i] / (1.0f + xuan_op_expf_ggml(0.0f - g[i])) * u[i];
    for (; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* ggml_v_expf as llama.cpp's AVX2 build has it: the same polynomial
 * without its constant term, then j * 2^n + 2^n by one FMA; |n| > 126
 * splits the scale in two, |n| > 192 saturates (to 0 or inf). */
static inline float f32_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float xuan_op_expf_ggml8(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    uint32_t zb;
    memcpy(&zb, &z, sizeof zb);
    const uint32_t e = zb << 23;
    const float k = f32_of(e + 0x3f800000u);
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                         u, 0x1.ffffecp-1f * b);
    if (!(fabsf(n) > 126.0f)) return fmaf(k, j, k); /* NaN included, as _CMP_GT_OQ */
    const uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
    const float s1 = f32_of(g + 0x7f000000u), s2 = f32_of(e - g);
    if (fabsf(n) > 192.0f) return s1 * s1;
    return fmaf(s2, j, s2) * s1;
}

void xuan_op_swiglu8(const float *g, const float *u, float *y, int64_t n) {
    const int64_t n8 = n & ~(int64_t)7;
    int64_t i = 0;
    for (; i < n8; i++) y[i] = g[i] / (1.0f + xuan_op_expf_ggml8(0.0f - g[i])) * u[i];
    for (; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* ggml_table_gelu_f16, built as ggml_cpu_init builds it: every F16 value
 * through 0.5x(1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))), the inner
 * 1 + a*x*x contracted to one FMA as its compiler does. */
static uint16_t gelu_table[1 << 16];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static void gelu_build(void) {
    for (uint32_t i = 0; i < 1u << 16; i++) {
        const float x = xuan_fp16_to_fp32((uint16_t)i);
        const float inner = fmaf(0.044715f * x, x, 1.0f);
        gelu_table[i] = xuan_fp32_to_fp16(0.5f * x * (1.0f + tanhf(0.79788456080286535587989211986876f * x * inner)));
    }
}

void xuan_op_geglu(const float *g, const float *u, float *y, int64_t n) {
    pthread_once(&gelu_once, gelu_build);
    for (int64_t i = 0; i < n; i++) {
        if (g[i] <= -10.0f) y[i] = 0.0f;
        else if (g[i] >= 10.0f) y[i] = g[i] * u[i];
        else y[i] = xuan_fp16_to_fp32(gelu_table[xuan_fp32_to_fp16(g[i])]) * u[i];
    }
}

void xuan_op_softcap(float *x, int64_t n, float cap) {
    const float inv = 1.0f / cap; /* ggml_scale(1/cap), ggml_tanh, ggml_scale(cap) */
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i] * inv) * cap;
}

/* lanes 16: the AVX-512 build (16-cell chunks, the lane tree); 8: the AVX2
 * build (8-cell chunks, its expf, its hsum). */
static void softmax(float *s, uint32_t n, uint32_t first, const float *sink, uint32_t lanes) {
    float mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++) mx = s[i] > mx ? s[i] : mx;
    if (sink) mx = *sink > mx ? *sink : mx; /* ggml: MAX(max, sink) */
    const uint32_t end = first + n;
    double sum = 0.0;
    for (uint32_t c = first & ~(lanes - 1); c < end; c += lanes) {
        float v[16] = {0};
        for (uint32_t l = 0; l < lanes; l++) {
            const uint32_t cell = c + l;
            v[l] = 0.0f;
            if (cell >= first && cell < end)
                v[l] = s[cell - first] =
                    lanes == 8 ? xuan_op_expf_ggml8(s[cell - first] - mx) : xuan_op_expf_ggml(s[cell - first] - mx);
        }
        sum += (double)(lanes == 8 ? xuan_sum8_tree(v) : xuan_sum16_tree(v));
    }
    if (sink) sum += (double)expf(*sink - mx);
    const float inv = (float)(1.0 / sum);
    for (uint32_t i = 0; i < n; i++) s[i] *= inv;
}

void xuan_op_softmax(float *s, uint32_t n, uint32_t first) { softmax(s, n, first, NULL, 16); }
void xuan_op_softmax_sink(float *s, uint32_t n, uint32_t first, float sink) { softmax(s, n, first, &sink, 16); }
void xuan_op_softmax8(float *s, uint32_t n, uint32_t first) { softmax(s, n, first, NULL, 8); }
void xuan_op_softmax_sink8(float *s, uint32_t n, uint32_t first, float sink) { softmax(s, n, first, &sink, 8); }

void xuan_op_swiglu_oai(const float *g, const float *u, float *y, int64_t n) {
    const float alpha = 1.702f, limit = 7.0f; /* build_moe_ffn's constants for LLM_FFN_SWIGLU_OAI_MOE */
    for (int64_t k = 0; k < n; k++) {
        const float x = limit < g[k] ? limit : g[k]; /* std::min(x, limit) */
        const float yv = u[k] < -limit ? -limit : limit < u[k] ? limit : u[k]; /* std::clamp */
        const float glu = x / (1.f + expf(alpha * (-x)));
        y[k] = glu * (yv + 1.f);
    }
}

static void softmax_row(float *x, uint32_t n, uint32_t lanes) {
    float mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0.0;
    uint32_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        for (uint32_t l = 0; l < lanes; l++)
            x[i + l] = lanes == 8 ? xuan_op_expf_ggml8(x[i + l] - mx) : xuan_op_expf_ggml(x[i + l] - mx);
        sum += (double)(lanes == 8 ? xuan_sum8_tree(x + i) : xuan_sum16_tree(x + i));
    }
    for (; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += (double)x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (uint32_t k = 0; k < n; k++) x[k] *= inv;
}

void xuan_op_softmax_row(float *x, uint32_t n) { softmax_row(x, n, 16); }
void xuan_op_softmax_row8(float *x, uint32_t n) { softmax_row(x, n, 8); }

void xuan_op_wsum_f16(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                      uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc) {
    const uint32_t slots = xuan_order_slots(o);
    uint64_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cells[i] < 0) continue;
        const uint32_t sl = (first + i) % slots;
        const uint16_t *row = (const uint16_t *)(const void *)(v + (size_t)cells[i] * stride);
        float *a = acc + (size_t)sl * hd;
        if (used >> sl & 1) {
            for (uint32_t e = 0; e < hd; e++) a[e] += w[i] * xuan_fp16_to_fp32(row[e]);
        } else {
            for (uint32_t e = 0; e < hd; e++) a[e] = w[i] * xuan_fp16_to_fp32(row[e]);
            used |= 1ull << sl;
        }
    }
    for (uint32_t sl = 0; sl < slots; sl++)
        if (!(used >> sl & 1)) memset(acc + (size_t)sl * hd, 0, hd * sizeof(float));
    if (o == XUAN_ORDER_VEC || o == XUAN_ORDER_VEC8) { /* four sums of q lanes: 0 += 2, 1 += 3, 0 += 1 */
        const uint32_t q = slots / 4;
        for (uint32_t l = 0; l < q; l++)
            for (uint32_t e = 0; e < hd; e++) {
                float *a0 = acc + (size_t)l * hd, *a1 = acc + (size_t)(l + q) * hd;
                a0[e] += acc[(size_t)(l + 2 * q) * hd + e];
                a1[e] += acc[(size_t)(l + 3 * q) * hd + e];
                a0[e] += a1[e];
            }
    }
    for (uint32_t e = 0; e < hd; e++) {
        float t[16] = {0};
        const uint32_t lanes = o == XUAN_ORDER_GEMM || o == XUAN_ORDER_VEC ? 16 : 8;
        for (uint32_t l = 0; l < lanes; l++) t[l] = acc[(size_t)l * hd + e];
        if (lanes == 16) out[e] = xuan_sum16_tree(t);
        else if (o == XUAN_ORDER_GEMM8) out[e] = xuan_sum8_tree(t);
        else { /* GGML_F32x8_REDUCE's halves, then two horizontal adds */
            float h[4];
            for (int l = 0; l < 4; l++) h[l] = t[l] + t[l + 4];
            out[e] = (h[0] + h[1]) + (h[2] + h[3]);
        }
    }
}
