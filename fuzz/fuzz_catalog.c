/*
 * libFuzzer target for the catalog reader: the input is a catalog file (what
 * XUAN_CATALOG or `xuan pick --catalog` points at, so anyone's JSON).  A file
 * that loads must hold up in everything `xuan pick` does with it: lookups
 * (with the did-you-mean search), the weights and memory of every model at
 * every quant, and a whole ranking on a fixed machine with every preset.
 * A file that does not load must say why in one line and leave nothing
 * allocated.  Seeds: fuzz/corpus/catalog (small slices of data/catalog.json).
 */
#include "xuan/pick.h"

#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xuan_catalog cat;
    xuan_error err = {0};
    if (xuan_catalog_load_text(&cat, (const char *)data, size, "fuzz.json", &err) != 0) {
        TRAP_IF(err.msg[0] == 0 || strchr(err.msg, '\n') != NULL);
        TRAP_IF(cat.models != NULL || cat.json != NULL);
        return 0;
    }
    for (size_t i = 0; i < cat.n_models; i++) {
        const xuan_model_info *m = &cat.models[i];
        TRAP_IF(xuan_catalog_find(&cat, m->id) == NULL);
        for (int q = 0; q < XUAN_QUANT_COUNT; q++) {
            xuan_weights w;
            xuan_mem_input in;
            (void)xuan_model_weights(m, (xuan_quant)q, &w, &err);
            (void)xuan_model_mem_input(m, (xuan_quant)q, 4096, &in, &err);
            (void)xuan_pick_ctx_for_budget(m, (xuan_quant)q, 8ull << 30);
            (void)xuan_pick_published(m, (xuan_quant)q);
        }
    }
    (void)xuan_catalog_lookup(&cat, "qwen2.5-7b-instruct", &err);
    (void)xuan_catalog_lookup(&cat, "Yi-1.5 14B", &err);
    xuan_hw hw = {.ram_total = 24ull << 30, .ram_available = 24ull << 30, .cores = 2,
                  .simd = XUAN_SIMD_AVX512, .bandwidth_gbs = 17.5, .planned = true, .disk_free = -1};
    static const char *const presets[] = {"overall", "math", "code", "medical", "light"};
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
        xuan_pick_opts o = {0};
        o.preset = presets[p];
        o.runtime_any = p & 1;
        o.lang_zh = p == 2;
        xuan_pick_result r;
        if (xuan_pick_run(&cat, &hw, &o, &r, &err) == 0) {
            TRAP_IF(r.n_ranked > r.n_rows || r.n_rows > cat.n_models);
            xuan_pick_result_free(&r);
        }
    }
    xuan_catalog_free(&cat);
    return 0;
}
