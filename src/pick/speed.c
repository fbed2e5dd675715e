/*
 * speed.c — tokens per second, estimated from bandwidth and FLOPs, or
 * measured (xuan bench results in <cache>/bench.json).
 *
 * Generation of one token streams every active weight once (memory.md §5):
 * on a CPU it is bandwidth-bound, so tok/s ~ bandwidth / bytes per token.
 * We take 80% of the probed bandwidth (the probe is a pure read; the kernels
 * also compute and synchronise) and cap it by a per-core dequant+dot rate.
 * Prompt processing is matrix-matrix work, bound by FLOPs.  The per-core
 * rates below are rough planning figures for llama.cpp-class kernels, not
 * measurements of this machine; measured results replace them.
 */
#include "pick_internal.h"

#include <jansson.h>
#include <strings.h>

/* Effective GFLOP/s per core: {generation (mat-vec), prompt (mat-mat)}. */
static const double GFLOPS[3][2] = {
    [XUAN_SIMD_SCALAR] = {4, 6},
    [XUAN_SIMD_AVX2] = {30, 60},
    [XUAN_SIMD_AVX512] = {45, 100},
};
#define GPU_BANDWIDTH_GBS 300.0 /* assumed when planning for a GPU (--vram) */
#define GPU_PROMPT_TFLOPS 20.0
#define KV_POSITIONS 1024        /* context filled when generation is measured */

int xuan_bench_lookup(const char *path, const char *model, const char *quant, double *gen_tps,
                      double *prompt_tps) {
    char dir[1024], def[1100];
    if (!path) {
        snprintf(def, sizeof def, "%s/bench.json", xuan_cache_dir(dir, sizeof dir));
        path = def;
    }
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) return -1;
    int rc = -1;
    json_t *results = json_object_get(j, "results"), *r;
    size_t i;
    *gen_tps = *prompt_tps = 0;
    if (json_is_array(results))
        json_array_foreach(results, i, r) {
            json_t *mm = json_object_get(r, "model"), *qq = json_object_get(r, "quant");
            if (!json_is_string(mm) || !json_is_string(qq) || strcasecmp(json_string_value(mm), model) ||
                strcasecmp(json_string_value(qq), quant))
                continue;
            json_t *g = json_object_get(r, "tg_tok_s"), *p = json_object_get(r, "pp_tok_s");
            /* The newest entry wins: later rows overwrite earlier ones. */
            if (json_is_number(g) && json_number_value(g) > 0 && json_number_value(g) < 1e6) {
                *gen_tps = json_number_value(g);
                rc = 0;
            }
            if (json_is_number(p) && json_number_value(p) > 0 && json_number_value(p) < 1e7) {
                *prompt_tps = json_number_value(p);
                rc = 0;
            }
        }
    json_decref(j);
    return rc;
}

void xuan_speed_estimate(const xuan_model_info *m, xuan_quant q, const xuan_weights *w,
                         const xuan_mem_estimate *mem, const xuan_hw *hw, bool on_gpu,
                         xuan_speed *out) {
    *out = (xuan_speed){.on_gpu = on_gpu};
    double active = w->active_params ? (double)w->active_params : 1;
    double bytes = (double)w->per_token + (double)mem->kv_bytes_per_token * KV_POSITIONS;
    int simd = hw->simd >= XUAN_SIMD_SCALAR && hw->simd <= XUAN_SIMD_AVX512 ? hw->simd : 0;
    int cores = hw->cores > 0 ? hw->cores : 1;
    if (on_gpu) {
        out->gen_tps = GPU_BANDWIDTH_GBS * 1e9 * 0.8 / bytes;
        out->prompt_tps = GPU_PROMPT_TFLOPS * 1e12 * 0.5 / (2 * active);
    } else {
        double bw = hw->bandwidth_gbs > 0 ? hw->bandwidth_gbs : 10;
        double by_bw = bw * 1e9 * 0.8 / bytes;
        double by_flops = cores * GFLOPS[simd][0] * 1e9 / (2 * active);
        out->gen_tps = by_bw < by_flops ? by_bw : by_flops;
        out->prompt_tps = cores * GFLOPS[simd][1] * 1e9 / (2 * active);
    }
    double g, p;
    if (!hw->planned && !on_gpu &&
        xuan_bench_lookup(NULL, m->id, xuan_quant_name(q), &g, &p) == 0) {
        if (g > 0) out->gen_tps = g, out->gen_measured = true;
        if (p > 0) out->prompt_tps = p, out->prompt_measured = true;
    }
}
