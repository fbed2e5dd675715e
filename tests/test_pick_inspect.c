/* Issue 6, must show 2: the memory `xuan pick` estimates for a catalog model
 * (weights from its parameter shapes and llama-quantize's mix rules) agrees
 * within 5% with what `xuan inspect` computes on a synthetic GGUF of the same
 * shape and file type.  The synthetic files are sparse (tensor data left as
 * holes): header-exact, instant, and no disk for 15 GB shapes. */
#include "harness.h"
#include "xuan/model.h"
#include "xuan/pick.h"

#include <stdlib.h>
#include <unistd.h>

static const struct {
    const char *preset, *catalog_id;
} MODELS[] = {
    {"qwen2.5-0.5b", "qwen2.5-0.5b-instruct"}, {"qwen2.5-1.5b", "qwen2.5-1.5b-instruct"},
    {"qwen2.5-7b", "qwen2.5-7b-instruct"},     {"llama3.1-8b", "llama-3.1-8b-instruct"},
    {"mistral-7b", "mistral-7b-instruct-v0.3"}, {"yi-1.5-9b", "yi-1.5-9b-chat"},
    {"phi3.5-mini", "phi-3.5-mini-instruct"},  {"phi4", "phi-4"},
};

/* memory.<field> from `xuan inspect --json` output. */
static uint64_t json_mem(const char *json, const char *field) {
    const char *m = strstr(json, "\"memory\"");
    if (!m) return 0;
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", field);
    const char *p = strstr(m, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void test_pick_vs_inspect(void) {
    static const char *const quants[] = {"Q4_K_M", "Q8_0"};
    static const uint32_t ctxs[] = {4096, 32768};
    printf("  %-26s %-7s %6s %12s %12s %7s\n", "model", "quant", "ctx", "pick", "inspect", "diff");
    int compared = 0;
    for (size_t m = 0; m < sizeof MODELS / sizeof MODELS[0]; m++) {
        for (int q = 0; q < 2; q++) {
            xuan_synth_params p;
            REQUIRE(xuan_synth_preset(MODELS[m].preset, &p) == 0);
            p.mix = quants[q];
            p.sparse = true;
            char path[4096];
            snprintf(path, sizeof path, "%s/pick_inspect_%s_%s.gguf", test_tmp(), MODELS[m].preset, quants[q]);
            xuan_error err = {0};
            if (xuan_synth_write(&p, path, &err)) {
                test_fail(__FILE__, __LINE__, "synth %s: %s", path, err.msg);
                continue;
            }
            for (int c = 0; c < 2; c++) {
                char out[16384];
                int rc = test_sh(out, sizeof out, "'%s' inspect --json -c %u '%s'", test_bin(), ctxs[c], path);
                CHECK_EQ_INT(rc, 0);
                uint64_t insp = json_mem(out, "total"), insp_kv = json_mem(out, "kv_cache");
                xuan_mem_estimate est;
                CHECK(xuan_pick_mem_for(NULL, MODELS[m].catalog_id, quants[q], ctxs[c], &est, &err) == 0);
                double diff = insp ? ((double)est.total - (double)insp) / (double)insp : 1.0;
                printf("  %-26s %-7s %6u %9.2f GiB %9.2f GiB %+6.2f%%\n", MODELS[m].catalog_id, quants[q],
                       ctxs[c], (double)est.total / (1 << 30), (double)insp / (1 << 30), diff * 100);
                CHECK(insp > 0);
                CHECK(diff <= 0.05 && diff >= -0.05);
                CHECK_EQ_INT(est.kv_cache, insp_kv); /* same shape, same formula: exact */
                compared++;
            }
            unlink(path);
        }
    }
    CHECK_EQ_INT(compared, 32);
}

int main(void) {
    RUN(test_pick_vs_inspect);
    return test_done();
}
