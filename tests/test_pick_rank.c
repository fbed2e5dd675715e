/* test_pick_rank.c — presets, errata and fit on fixed machines (no probe:
 * every machine here is planned, so results do not depend on this host). */
#include "harness.h"
#include "xuan/gguf.h"
#include "xuan/pick.h"

#include <math.h>
#include <stdlib.h>

static xuan_catalog cat;

static xuan_hw machine(uint64_t ram_gib, uint64_t vram_gib, int cores, double bw) {
    xuan_hw hw = {.ram_total = ram_gib << 30, .ram_available = ram_gib << 30, .cores = cores,
                  .simd = XUAN_SIMD_AVX512, .bandwidth_gbs = bw, .planned = true, .disk_free = -1};
    if (vram_gib) hw.n_gpus = 1, hw.vram_total = hw.gpus[0].vram_total = vram_gib << 30;
    return hw;
}

static int rank_of(const xuan_pick_result *r, const char *id) {
    for (size_t i = 0; i < r->n_ranked; i++)
        if (!strcmp(r->rows[i].m->id, id)) return (int)i + 1;
    return 0;
}
static const xuan_pick_row *row_of(const xuan_pick_result *r, const char *id) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (!strcmp(r->rows[i].m->id, id)) return &r->rows[i];
    return NULL;
}

static void run(const char *preset, const xuan_hw *hw, xuan_pick_opts *o, xuan_pick_result *res) {
    o->preset = preset;
    xuan_error err = {0};
    if (xuan_pick_run(&cat, hw, o, res, &err) != 0) test_fail(__FILE__, __LINE__, "%s", err.msg);
}

static bool xuan_runs_end_to_end(const xuan_pick_row *r) {
    return r->runs_in_xuan && xuan_pick_published(r->m, r->quant);
}

/* This machine's kind: 24 GiB, 2 cores, AVX-512, ~18 GB/s measured. */
static void test_presets_on_this_kind_of_machine(void) {
    xuan_hw hw = machine(24, 0, 2, 17.5);
    xuan_pick_opts o = {0};
    xuan_pick_result r;
    /* overall, default runtime: Qwen3.5-4B at the published Q4_K_M (unsloth's
     * file): native Chinese, runs in xuan; Qwen3.5-9B is stronger on paper but
     * generates ~2.8 tok/s on two cores at 17.5 GB/s, and the why line says
     * exactly that.  Qwen2.5-7B steps aside: its successor is ranked. */
    run("overall", &hw, &o, &r);
    CHECK_EQ_STR(r.rows[0].m->id, "qwen3.5-4b");
    CHECK_EQ_STR(xuan_quant_name(r.rows[0].quant), "Q4_K_M");
    CHECK(r.n_ranked >= 8);
    for (size_t i = 0; i < r.n_ranked; i++) CHECK(xuan_runs_end_to_end(&r.rows[i]));
    const xuan_pick_row *big = row_of(&r, "qwen3.5-9b");
    REQUIRE(big);
    CHECK(rank_of(&r, "qwen3.5-9b") > 1 && big->quality > r.rows[0].quality);
    CHECK(strstr(big->why, "stronger") != NULL && strstr(big->why, "tok/s") != NULL);
    CHECK(!rank_of(&r, "qwen2.5-7b-instruct") &&
          strstr(row_of(&r, "qwen2.5-7b-instruct")->excluded, "superseded by qwen3.5-") != NULL);
    /* gpt-oss-20b ranks at its published MXFP4_MOE file (experts MXFP4). */
    CHECK(rank_of(&r, "gpt-oss-20b") > 0 && row_of(&r, "gpt-oss-20b")->quant == XUAN_QUANT_MXFP4_MOE);
    /* chatglm is not in xuan's engine: not ranked, and the reason says what to do. */
    const xuan_pick_row *g2 = row_of(&r, "glm-4-9b-chat");
    REQUIRE(g2);
    CHECK(!rank_of(&r, "glm-4-9b-chat"));
    CHECK(strstr(g2->excluded, "architecture chatglm: not in xuan's engine yet") != NULL);
    CHECK(strstr(g2->excluded, "--runtime any") != NULL);
    /* qwen3 runs in xuan because the architecture table says so; the catalog
     * records no GGUF for Qwen3-4B, so it is not ranked by default either. */
    const xuan_pick_row *q3 = row_of(&r, "qwen3-4b");
    REQUIRE(q3);
    CHECK(q3->runs_in_xuan && !rank_of(&r, "qwen3-4b"));
    CHECK(strstr(q3->excluded, "runs in xuan, but no published GGUF") != NULL);
    xuan_pick_result_free(&r);
    /* --runtime any ranks both, chatglm marked as a llama.cpp model (with
     * --include-superseded: GLM-4-9B-0414 and Qwen3-4B-2507 replace them). */
    o.runtime_any = true;
    o.include_superseded = true;
    run("overall", &hw, &o, &r);
    CHECK(rank_of(&r, "glm-4-9b-chat") > 0 && !row_of(&r, "glm-4-9b-chat")->runs_in_xuan);
    CHECK(strstr(row_of(&r, "glm-4-9b-chat")->why, "runs in llama.cpp") != NULL);
    CHECK(rank_of(&r, "qwen3-4b") > 0 && row_of(&r, "qwen3-4b")->runs_in_xuan);
    xuan_pick_result_free(&r);
    /* By default a superseded model steps aside when its successor is ranked. */
    o.include_superseded = false;
    run("overall", &hw, &o, &r);
    CHECK(!rank_of(&r, "qwen3-4b") && rank_of(&r, "qwen3-4b-instruct-2507") > 0);
    const xuan_pick_row *old4 = row_of(&r, "qwen3-4b"), *oldglm = row_of(&r, "glm-4-9b-chat");
    REQUIRE(old4 && oldglm);
    CHECK(strstr(old4->excluded, "superseded by qwen3-4b-") != NULL);
    CHECK(strstr(oldglm->excluded, "superseded by glm-4-9b-0414") != NULL);
    xuan_pick_result_free(&r);
    /* math: Qwen3.5-4B leads with --runtime any (HMMT Feb 2025 74.0, its
     * card, thinking mode); the seed's advice (Qwen2.5-Math) comes next: the
     * 7B has the better MATH, the 1.5B runs 2.6x faster on two cores. */
    run("math", &hw, &o, &r);
    CHECK_EQ_STR(r.rows[0].m->id, "qwen3.5-4b");
    CHECK(rank_of(&r, "qwen2.5-math-1.5b-instruct") <= 3);
    CHECK(rank_of(&r, "qwen2.5-math-7b-instruct") <= 4);
    CHECK(rank_of(&r, "qwen2.5-math-7b-instruct") < rank_of(&r, "mistral-7b-instruct-v0.1"));
    xuan_pick_result_free(&r);
    /* ... but no GGUF of them is published: by default they are not ranked,
     * and the reason says so. */
    o.runtime_any = false;
    run("math", &hw, &o, &r);
    CHECK(!rank_of(&r, "qwen2.5-math-7b-instruct"));
    CHECK(strstr(row_of(&r, "qwen2.5-math-7b-instruct")->excluded, "no published GGUF") != NULL);
    CHECK(xuan_runs_end_to_end(&r.rows[0]));
    xuan_pick_result_free(&r);
    /* code: Qwen2.5-Coder-7B (HumanEval 88.4 official) and Coder-V2-Lite
     * (the seed's code pick: HumanEval 81.1, but 2.4B active of 16B, so on
     * this 17.5 GB/s machine it decodes 2.5x faster) are the first two;
     * Coder-V2-Lite is ranked among the models xuan runs because the
     * architecture table says deepseek2 runs: pick has no list of its own. */
    run("code", &hw, &o, &r);
    CHECK(rank_of(&r, "qwen2.5-coder-7b-instruct") <= 2);
    CHECK(rank_of(&r, "deepseek-coder-v2-lite-instruct") <= 2);
    CHECK(xuan_runs_end_to_end(&r.rows[0]));
    CHECK(xuan_arch_find("deepseek2", 9)->runs);
    CHECK(rank_of(&r, "deepseek-coder-v2-lite-instruct") > 0 && rank_of(&r, "deepseek-coder-v2-lite-instruct") <= 6);
    CHECK(xuan_runs_end_to_end(row_of(&r, "deepseek-coder-v2-lite-instruct")));
    xuan_pick_result_free(&r);
    o.runtime_any = true;
    run("code", &hw, &o, &r);
    CHECK(rank_of(&r, "deepseek-coder-v2-lite-instruct") <= 6);
    CHECK(rank_of(&r, "qwen2.5-coder-7b-instruct") <= 3);
    xuan_pick_result_free(&r);
    o.runtime_any = false;
    /* light: small models only, fast. */
    run("light", &hw, &o, &r);
    CHECK(r.budget == 6ull << 30);
    for (size_t i = 0; i < 2 && i < r.n_ranked; i++) {
        CHECK(r.rows[i].m->params_b <= 4.3); /* Qwen3.5-4B: 4.21B */
        CHECK(r.rows[i].speed.gen_tps >= 5);
    }
    xuan_pick_result_free(&r);
}

/* A task score comes from one Bradley-Terry fit over the pairwise results
 * of the task's benchmarks (rank.c): a model is never ahead merely because
 * it reports an easier benchmark, and never sunk because it reports one
 * that mostly stronger models report. */
static void test_normalisation_per_benchmark(void) {
    /* Ten models; "Easy" (MMLU-redux) spans 80..89, "Hard" (MMLU-Pro)
     * 30..57, both in model order.  m4 reports Easy only, m5 both.  "Elite"
     * (GPQA) is reported only by m2..m9, in the same order, so m2 is its
     * last: the share of Elite's reporters m2 beats is 0. */
    xuan_buf j = {0};
    xuan_buf_append(&j, "{\"models\": [", 12);
    for (int i = 0; i < 10; i++) {
        char b[160];
        int n = snprintf(b, sizeof b, "%s{\"id\": \"m%d\", \"scope\": \"in-scope\", \"runnable\": true}", i ? ", " : "", i);
        xuan_buf_append(&j, b, (size_t)n);
    }
    xuan_buf_append(&j, "], \"scores\": [", 14);
    for (int i = 0; i < 10; i++) {
        char b[320];
        int n = snprintf(b, sizeof b,
                         "%s{\"model\": \"m%d\", \"benchmark\": \"MMLU-redux\", \"task\": \"general\", \"kind\": \"official\", \"verification\": \"verified\", \"value\": %d}",
                         i ? ", " : "", i, 80 + i);
        xuan_buf_append(&j, b, (size_t)n);
        if (i >= 2) {
            n = snprintf(b, sizeof b,
                         ", {\"model\": \"m%d\", \"benchmark\": \"GPQA\", \"task\": \"general\", \"kind\": \"official\", \"verification\": \"verified\", \"value\": %d}",
                         i, 40 + i);
            xuan_buf_append(&j, b, (size_t)n);
        }
        if (i == 4) continue; /* m4 does not report the hard one */
        n = snprintf(b, sizeof b,
                     ", {\"model\": \"m%d\", \"benchmark\": \"MMLU-Pro\", \"task\": \"general\", \"kind\": \"official\", \"verification\": \"verified\", \"value\": %d}",
                     i, 30 + 3 * i);
        xuan_buf_append(&j, b, (size_t)n);
    }
    xuan_buf_append(&j, "]}", 2);
    const char *path = test_path("norm-catalog.json");
    REQUIRE(xuan_write_file_atomic(path, j.data, j.len, NULL) == 0);
    xuan_buf_free(&j);
    xuan_catalog c;
    xuan_error err = {0};
    REQUIRE(xuan_catalog_load(&c, path, &err) == 0);
    xuan_task_cell cell[10];
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i);
        xuan_pick_task_cell(&c, xuan_catalog_find(&c, id), XUAN_TASK_GENERAL, &cell[i]);
        CHECK(cell[i].mark == 'o');
    }
    /* the order of the results is the order of the scores */
    for (int i = 1; i < 10; i++) CHECK(cell[i].score > cell[i - 1].score);
    CHECK_EQ_INT(cell[4].n_benchmarks, 2);
    CHECK_EQ_INT(cell[5].n_benchmarks, 3);
    /* m2, last of Elite, still stands where Easy and Hard put it: above
     * m0 and m1, whom it beats, near a fifth of the field (2 of 9 beaten);
     * a mean of per-benchmark shares would have given it (2/9 + 2/9 + 0)/3
     * = 14.8 with Elite counted. */
    CHECK(cell[2].score > 18 && cell[2].score < 30);
    /* m9 beats everybody everywhere, m0 nobody */
    CHECK(cell[9].score > 85 && cell[0].score < 15);
    /* Fewer than 8 reporters: the benchmark does not count. */
    int n = 0;
    CHECK(xuan_pick_bench_points(&c, "MMLU-redux", NULL, 85, &n) >= 0 && n == 10);
    CHECK(xuan_pick_bench_points(&c, "BBH", NULL, 50, &n) < 0 && n == 0);
    xuan_catalog_free(&c);
    /* The real catalog: Qwen3-4B's MMLU-redux and Qwen2.5-7B's MMLU-Pro are
     * placed in their own fields. */
    /* (2025-2026 models now report MMLU-Pro too: 56.3 sits mid-field.) */
    CHECK(xuan_pick_bench_points(&cat, "MMLU-Pro", "qwen2.5-7b-instruct", 56.3, &n) > 40 && n >= 20);
    CHECK(xuan_pick_bench_points(&cat, "EvalPlus", "qwen3-4b", 63.53, &n) < 0); /* 3 Qwen3 models only */
}

/* xuan_pick_engine_runs and the resolver. */
static void test_engine_and_resolve(void) {
    CHECK(xuan_pick_engine_runs("llama") && xuan_pick_engine_runs("qwen2") && xuan_pick_engine_runs("phi3"));
    CHECK(xuan_pick_engine_runs("qwen3") && xuan_pick_engine_runs("gemma3"));
    CHECK(!xuan_pick_engine_runs("chatglm") && !xuan_pick_engine_runs("mamba") && !xuan_pick_engine_runs(NULL));
    /* "runs in xuan" is the architecture table's flag, entry by entry */
    size_t n_arch = 0;
    const xuan_arch_info *tab = xuan_arch_table(&n_arch);
    CHECK(n_arch >= 10);
    for (size_t i = 0; i < n_arch; i++) CHECK(xuan_pick_engine_runs(tab[i].name) == tab[i].runs);
    CHECK(!xuan_pick_engine_runs("llama (experts stored as ffn_*_exps)")); /* Mixtral */
    char path[1400];
    xuan_error err = {0};
    setenv("XUAN_MODELS", "/m", 1);
    CHECK(xuan_pick_resolve(&cat, "qwen2.5-7b-instruct:q4_k_m", path, sizeof path, &err) == 0);
    CHECK_EQ_STR(path, "/m/Qwen2.5-7B-Instruct-Q4_K_M.gguf");
    CHECK(xuan_pick_resolve(&cat, "qwen3-4b:Q4_K_M", path, sizeof path, &err) != 0);
    CHECK(strstr(err.msg, "no Q4_K_M GGUF file") != NULL);
    CHECK(xuan_pick_resolve(&cat, "qwen2.5-7b-instruct:Q9", path, sizeof path, &err) == XUAN_ERR_USAGE);
    unsetenv("XUAN_MODELS");
}

/* Where the errata say the seed is wrong, the ranking differs and says why. */
static void test_errata_change_the_answer(void) {
    xuan_hw hw = machine(24, 0, 2, 17.5);
    xuan_pick_opts o = {0};
    xuan_pick_result r;
    run("overall", &hw, &o, &r);
    /* Mixtral 8x22B is not a 22B model: out of the <=14B scope, with the reason. */
    const xuan_pick_row *mx = row_of(&r, "mixtral-8x22b-instruct-v0.1");
    REQUIRE(mx);
    CHECK(strstr(mx->excluded, "141.0B total") != NULL);
    CHECK(!rank_of(&r, "mixtral-8x22b-instruct-v0.1"));
    /* Proprietary references are never ranked. */
    CHECK(!rank_of(&r, "gpt-4o") && !rank_of(&r, "claude-3.5-sonnet"));
    CHECK(strstr(row_of(&r, "gpt-4o")->excluded, "reference only") != NULL);
    xuan_pick_result_free(&r);
    /* Even with --all-sizes (and --runtime any: xuan's engine has no MoE)
     * Mixtral 8x22B needs > 24 GiB at any quant. */
    o.all_sizes = true;
    o.runtime_any = true;
    run("overall", &hw, &o, &r);
    CHECK(strstr(row_of(&r, "mixtral-8x22b-instruct-v0.1")->excluded, "does not fit") != NULL);
    xuan_pick_result_free(&r);
    /* The seed's GPT-4o GSM8K (94.2) is GPT-4 0125's: the published 96.1 is used. */
    const xuan_score *s = xuan_pick_best_score(&cat, "gpt-4o", "GSM8K");
    REQUIRE(s);
    CHECK_NEAR(s->value, 96.1, 1e-9);
    CHECK(strcmp(s->kind, "seed-estimate") != 0);
    s = xuan_pick_best_score(&cat, "claude-3.5-sonnet", "GSM8K");
    REQUIRE(s);
    CHECK_NEAR(s->value, 96.4, 1e-9);
    /* Seed names of models that do not exist get the fact, not a guess. */
    xuan_error err = {0};
    CHECK(!xuan_catalog_lookup(&cat, "yi-1.5-14b", &err));
    CHECK(strstr(err.msg, "6B, 9B and 34B") != NULL);
    /* Llama 3.1 is not a Chinese model (errata): --lang zh drops it. */
    o = (xuan_pick_opts){.lang_zh = true};
    run("overall", &hw, &o, &r);
    CHECK(!rank_of(&r, "llama-3.1-8b-instruct"));
    CHECK(strstr(row_of(&r, "llama-3.1-8b-instruct")->excluded, "weak, not native") != NULL);
    for (size_t i = 0; i < r.n_ranked; i++) CHECK_EQ_STR(r.rows[i].m->chinese, "native");
    xuan_pick_result_free(&r);
}

/* Coder-V2-Lite: 15.7B must be resident even though 2.4B are active. */
static void test_moe_needs_all_experts(void) {
    xuan_hw hw = machine(8, 0, 8, 50);
    xuan_pick_opts o = {.runtime_any = true}; /* every quant, the 2-3 bit mixes included */
    xuan_pick_result r;
    run("code", &hw, &o, &r);
    const xuan_pick_row *d = row_of(&r, "deepseek-coder-v2-lite-instruct");
    REQUIRE(d);
    /* On 8 GiB (7 GiB budget) only a 2-3 bit mix of all 15.7B fits. */
    CHECK(d->fits && d->quant <= XUAN_QUANT_Q3_K_M);
    CHECK(d->mem.weights > (5ull << 30));
    xuan_pick_result_free(&r);
    hw = machine(6, 0, 8, 50);
    run("code", &hw, &o, &r);
    d = row_of(&r, "deepseek-coder-v2-lite-instruct");
    CHECK(!rank_of(&r, "deepseek-coder-v2-lite-instruct"));
    CHECK(strstr(d->excluded, "does not fit") != NULL);
    xuan_pick_result_free(&r);
}

static void test_small_and_gpu_machines(void) {
    xuan_pick_opts o = {0};
    xuan_pick_result r;
    /* 4 GiB: 3 GiB budget, nothing bigger than ~4B fits. */
    xuan_hw hw = machine(4, 0, 4, 20);
    run("overall", &hw, &o, &r);
    CHECK(r.n_ranked > 3);
    for (size_t i = 0; i < r.n_ranked; i++) CHECK(r.rows[i].mem.total <= r.budget);
    CHECK(!rank_of(&r, "qwen2.5-7b-instruct"));
    xuan_pick_result_free(&r);
    /* A 24 GiB GPU: 14B models at Q8_0 fit and are fast; math picks a strong model. */
    hw = machine(32, 24, 8, 50);
    run("math", &hw, &o, &r);
    REQUIRE(r.n_ranked > 0);
    CHECK(r.rows[0].speed.on_gpu);
    /* the best published quant of #1 that fits is the one chosen */
    for (int q = r.rows[0].quant + 1; q < XUAN_QUANT_COUNT; q++) CHECK(!xuan_pick_published(r.rows[0].m, (xuan_quant)q));
    xuan_pick_result_free(&r);
    /* --min-speed drops slow fits and says so. */
    hw = machine(24, 0, 2, 17.5);
    o.min_speed = 6;
    run("overall", &hw, &o, &r);
    for (size_t i = 0; i < r.n_ranked; i++) CHECK(r.rows[i].speed.gen_tps >= 6);
    CHECK(strstr(row_of(&r, "qwen2.5-14b-instruct")->excluded, "--min-speed") != NULL);
    xuan_pick_result_free(&r);
    /* --license apache-2.0 */
    o = (xuan_pick_opts){.license = "apache-2.0"};
    run("overall", &hw, &o, &r);
    for (size_t i = 0; i < r.n_ranked; i++) CHECK_EQ_STR(r.rows[i].m->license_short, "apache-2.0");
    xuan_pick_result_free(&r);
    /* custom weights: math=2,code=1 */
    o = (xuan_pick_opts){0};
    o.weight[XUAN_TASK_MATH] = 2;
    o.weight[XUAN_TASK_CODE] = 1;
    run(NULL, &hw, &o, &r);
    CHECK_EQ_STR(r.preset, "custom");
    CHECK(r.weight[XUAN_TASK_GENERAL] == 0 && r.weight[XUAN_TASK_MATH] == 2);
    xuan_pick_result_free(&r);
}

static void test_provenance_marks(void) {
    xuan_task_cell c;
    /* Llama 3.1 8B publishes nothing medical: 'g', the general score stands in. */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "llama-3.1-8b-instruct"), XUAN_TASK_MED, &c);
    CHECK(c.mark == 'g');
    xuan_task_cell g;
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "llama-3.1-8b-instruct"), XUAN_TASK_GENERAL, &g);
    CHECK_NEAR(c.score, g.score * 0.85, 1e-9);
    /* Qwen2.5-7B-Instruct: a third party published its C-Eval medical and
     * computer subjects (vllm-ascend): too few reporters for a fit, so the
     * cell is the accuracy x third-party trust, marked t. */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "qwen2.5-7b-instruct"), XUAN_TASK_MED, &c);
    CHECK(c.mark == 't' && c.published_alone && c.shown == 85.4);
    CHECK_NEAR(c.score, 85.4 * 0.93, 1e-9);
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "qwen2.5-7b-instruct"), XUAN_TASK_IT, &c);
    CHECK(c.mark == 't' && c.published_alone && c.shown == 81.0);
    /* ... and of Qwen3-8B's base checkpoint: b */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "qwen3-8b"), XUAN_TASK_IT, &c);
    CHECK(c.mark == 'b' && c.published_alone);
    /* Qwen2.5-Math-7B: official MATH result. */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "qwen2.5-math-7b-instruct"), XUAN_TASK_MATH, &c);
    CHECK(c.mark == 'o');
    /* Yi rows are third-party (official tables are images). */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "yi-1.5-9b-chat"), XUAN_TASK_GENERAL, &c);
    CHECK(c.mark == 't');
    /* Trust order. */
    xuan_score off = {.kind = "official", .verification = "verified-in-session"};
    xuan_score rec = {.kind = "official", .verification = "recalled"};
    xuan_score tp = {.kind = "third-party"}, seed = {.kind = "seed-estimate"};
    xuan_score base = {.kind = "official", .verification = "verified-in-session", .base_model = true};
    CHECK(xuan_score_trust(&off) > xuan_score_trust(&rec));
    CHECK(xuan_score_trust(&rec) > xuan_score_trust(&tp));
    CHECK(xuan_score_trust(&tp) > xuan_score_trust(&base));
    CHECK(xuan_score_trust(&base) > xuan_score_trust(&seed));
}

static void test_bad_names(void) {
    double w[XUAN_TASK_COUNT];
    xuan_error err = {0};
    CHECK(xuan_pick_preset("maths", w, &err) == XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "did you mean 'math'") != NULL);
    xuan_task t;
    CHECK(xuan_task_from_name("medical", &t) == 0 && t == XUAN_TASK_MED);
    CHECK(xuan_task_from_name("cooking", &t) != 0);
}

/* The embedded catalog is data/catalog.json, byte for byte. */
static void test_embedded_equals_data(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/catalog.json", getenv("XUAN_SRC") ? getenv("XUAN_SRC") : ".");
    char *text = NULL;
    size_t len = 0;
    REQUIRE(xuan_read_file(path, 64u << 20, &text, &len, NULL) == 0);
    size_t elen;
    const char *emb = xuan_catalog_embedded(&elen);
    CHECK(elen == len && memcmp(emb, text, len) == 0);
    xuan_free(text);
}

/* Every score names its source: the catalog, embedded or on disk, has no
 * number without one (build_catalog.py refuses to write such a file too). */
static void test_every_score_has_a_source(void) {
    size_t n = 0;
    for (size_t i = 0; i < cat.n_scores; i++) {
        if (!xuan_score_has_source(&cat.scores[i]))
            test_fail(__FILE__, __LINE__, "score %s %s %.1f has no source", cat.scores[i].model,
                      cat.scores[i].benchmark, cat.scores[i].value);
        n++;
    }
    CHECK(n >= 500);
    xuan_score blank = {.source = "  "}, none = {0}, ok = {.source = "a card"};
    CHECK(!xuan_score_has_source(&blank) && !xuan_score_has_source(&none) && xuan_score_has_source(&ok));
    CHECK(cat.checked && !strcmp(cat.checked, "2026-12-07"));
}

/* A 2025-2026 model is #1 on an 8 GiB machine for code in Chinese and for
 * the medical preset, and among the top 3 for math in Chinese. */
static bool recent(const xuan_model_info *m) {
    return m->release_date && strncmp(m->release_date, "2025-01", 7) >= 0;
}
static void test_todays_models_lead(void) {
    xuan_hw hw = machine(8, 0, 2, 40);
    xuan_pick_opts o = {.lang_zh = true};
    xuan_pick_result r;
    o.weight[XUAN_TASK_CODE] = 1;
    run(NULL, &hw, &o, &r);
    REQUIRE(r.n_ranked > 0);
    CHECK(recent(r.rows[0].m));
    xuan_pick_result_free(&r);
    o = (xuan_pick_opts){0};
    run("medical", &hw, &o, &r);
    REQUIRE(r.n_ranked > 0);
    CHECK(recent(r.rows[0].m));
    xuan_pick_result_free(&r);
    o = (xuan_pick_opts){.lang_zh = true};
    run("math", &hw, &o, &r);
    bool top3 = false;
    for (size_t i = 0; i < 3 && i < r.n_ranked; i++) top3 |= recent(r.rows[i].m);
    CHECK(top3);
    xuan_pick_result_free(&r);
}

/* No medical or IT/AI cell is filled from the general score without the g
 * mark ("not published"); the medical cells with a published result say so. */
static void test_med_it_cells_are_marked(void) {
    for (size_t i = 0; i < cat.n_models; i++) {
        const xuan_model_info *m = &cat.models[i];
        xuan_task_cell g, c;
        xuan_pick_task_cell(&cat, m, XUAN_TASK_GENERAL, &g);
        for (int t = XUAN_TASK_MED; t <= XUAN_TASK_IT; t++) {
            xuan_pick_task_cell(&cat, m, (xuan_task)t, &c);
            CHECK(c.mark != '~'); /* the guess mark is for math, code, zh */
            if (c.mark == 'g') {
                CHECK_NEAR(c.score, g.score * 0.85, 1e-9);
                continue;
            }
            if (c.mark == '-') { CHECK(c.score == 0); continue; }
            /* a real mark: a published medical result went in, or a published
             * medical / IT subject subset stands alone */
            CHECK((t == XUAN_TASK_MED || c.published_alone) && c.n_benchmarks > 0);
            CHECK(c.benchmark && strcmp(c.benchmark, g.benchmark ? g.benchmark : "") != 0);
        }
    }
    xuan_task_cell c;
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "medgemma-1.5-4b-it"), XUAN_TASK_MED, &c);
    CHECK(c.mark == 'o' && c.n_benchmarks == 4 && c.score > 25); /* 4 thin fields: coarse points */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "qwen3.5-9b"), XUAN_TASK_IT, &c);
    CHECK(c.mark == 'g');
    /* math with nothing published is a guess, not "not published" */
    xuan_pick_task_cell(&cat, xuan_catalog_find(&cat, "deepseek-r1-0528-qwen3-8b"), XUAN_TASK_CODE, &c);
    CHECK(c.mark == '~' || c.mark == 't');
}

/* File and served-model names to catalog model + quant. */
static void test_match_file(void) {
    xuan_quant q = XUAN_QUANT_F16;
    const xuan_model_info *m;
    /* a published file name, with its folders */
    const xuan_model_info *want = xuan_catalog_find(&cat, "qwen2.5-7b-instruct");
    REQUIRE(want && want->gguf_file[XUAN_QUANT_Q4_K_M]);
    char path[512];
    snprintf(path, sizeof path, "/home/u/.cache/xuan/models/%s", want->gguf_file[XUAN_QUANT_Q4_K_M]);
    m = xuan_catalog_match_file(&cat, path, NULL, &q);
    CHECK(m == want && q == XUAN_QUANT_Q4_K_M);
    /* names with the quant word in any case and separator */
    m = xuan_catalog_match_file(&cat, "Qwen2.5-7B-Instruct-Q8_0.gguf", NULL, &q);
    CHECK(m == want && q == XUAN_QUANT_Q8_0);
    m = xuan_catalog_match_file(&cat, "qwen2.5-7b-instruct:q4_k_m", NULL, &q);
    CHECK(m == want && q == XUAN_QUANT_Q4_K_M);
    /* the quant from the file type when the name has none */
    m = xuan_catalog_match_file(&cat, "/m/qwen2.5-7b-instruct.gguf", "Q5_K_M", &q);
    CHECK(m == want && q == XUAN_QUANT_Q5_K_M);
    /* the Hugging Face repository's last part */
    m = xuan_catalog_match_file(&cat, "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", NULL, &q);
    CHECK(m && !strcmp(m->id, "llama-3.1-8b-instruct") && q == XUAN_QUANT_Q4_K_M);
    /* no quant known, an unknown model, a near miss: no match, never a guess */
    CHECK(xuan_catalog_match_file(&cat, "qwen2.5-7b-instruct.gguf", NULL, &q) == NULL);
    CHECK(xuan_catalog_match_file(&cat, "no-such-model-Q4_K_M.gguf", NULL, &q) == NULL);
    CHECK(xuan_catalog_match_file(&cat, "qwen2.5-7b-instruct-abliterated-Q4_K_M.gguf", NULL, &q) == NULL);
    CHECK(xuan_catalog_match_file(&cat, "", NULL, &q) == NULL);
    /* the eval-task map is data */
    const xuan_eval_task_map *e = xuan_catalog_eval_task(&cat, "gsm8k");
    CHECK(e && !strcmp(e->benchmark, "GSM8K") && !strcmp(e->task, "math"));
    e = xuan_catalog_eval_task(&cat, "cmmlu-med");
    CHECK(e && !strcmp(e->task, "med"));
    CHECK(xuan_catalog_eval_task(&cat, "mbpp") == NULL);
}

/* Measured records: refused without a source or outside 0..100; they
 * replace the published result of that model and benchmark only at the
 * quant the row runs; on a benchmark nobody publishes the accuracy is the
 * cell's score. */
static void test_measured_cells(void) {
    xuan_catalog c2;
    xuan_error err = {0};
    REQUIRE(xuan_catalog_load(&c2, NULL, &err) == 0);
    size_t n0 = c2.n_scores;
    xuan_measured m = {.model = "qwen2.5-7b-instruct", .quant = XUAN_QUANT_Q4_K_M, .benchmark = "GSM8K",
                       .task = "math", .value = 40, .source = "xuan eval run 1 (t.db)", .setting = "gsm8k v1"};
    xuan_measured bad = m;
    bad.source = "  ";
    CHECK(xuan_catalog_add_measured(&c2, &bad, &err) == XUAN_ERR_USAGE && strstr(err.msg, "no source"));
    bad = m, bad.value = 140;
    CHECK(xuan_catalog_add_measured(&c2, &bad, &err) == XUAN_ERR_USAGE);
    bad = m, bad.model = "qwen9";
    CHECK(xuan_catalog_add_measured(&c2, &bad, &err) == XUAN_ERR_USAGE && strstr(err.msg, "qwen9"));
    CHECK(c2.n_scores == n0);
    REQUIRE(xuan_catalog_add_measured(&c2, &m, &err) == 0);
    xuan_measured it = {.model = "qwen2.5-7b-instruct", .quant = XUAN_QUANT_Q4_K_M,
                        .benchmark = "MMLU IT/AI subjects (xuan eval)", .task = "it", .value = 61.5,
                        .source = "xuan eval run 2 (t.db)"};
    REQUIRE(xuan_catalog_add_measured(&c2, &it, &err) == 0);
    CHECK(c2.n_scores == n0 + 2 && xuan_score_has_source(&c2.scores[n0]));
    const xuan_score *best = xuan_pick_best_score(&c2, "qwen2.5-7b-instruct", "GSM8K");
    CHECK(best && !strcmp(best->kind, "measured") && best->value == 40); /* beats official 91.6 */

    xuan_hw hw = machine(8, 0, 2, 17); /* the 7B runs Q4_K_M */
    xuan_pick_opts o = {.runtime_any = true, .include_superseded = true};
    xuan_pick_result with, without;
    REQUIRE(xuan_pick_run(&c2, &hw, &o, &with, &err) == 0);
    REQUIRE(xuan_pick_run(&cat, &hw, &o, &without, &err) == 0);
    const xuan_pick_row *a = row_of(&with, "qwen2.5-7b-instruct"), *b = row_of(&without, "qwen2.5-7b-instruct");
    REQUIRE(a && b && a->quant == XUAN_QUANT_Q4_K_M);
    CHECK(a->cell[XUAN_TASK_MATH].mark == 'm' && a->cell[XUAN_TASK_MATH].shown == 40);
    CHECK(a->cell[XUAN_TASK_MATH].score < b->cell[XUAN_TASK_MATH].score);
    CHECK_EQ_STR(a->cell[XUAN_TASK_MATH].source, "xuan eval run 1 (t.db)");
    CHECK(a->cell[XUAN_TASK_IT].mark == 'm' && a->cell[XUAN_TASK_IT].measured_alone);
    CHECK_NEAR(a->cell[XUAN_TASK_IT].score, 61.5, 1e-9);
    CHECK(b->cell[XUAN_TASK_IT].mark == 't' && b->cell[XUAN_TASK_IT].published_alone); /* vllm-ascend's C-Eval subjects */
    xuan_pick_result_free(&with);

    /* on a machine where the row runs Q8_0 the Q4_K_M results do not apply */
    hw = machine(32, 0, 8, 200);
    REQUIRE(xuan_pick_run(&c2, &hw, &o, &with, &err) == 0);
    a = row_of(&with, "qwen2.5-7b-instruct");
    REQUIRE(a && a->quant != XUAN_QUANT_Q4_K_M);
    CHECK(a->cell[XUAN_TASK_MATH].mark == 'o' && a->cell[XUAN_TASK_IT].mark == 't');
    xuan_pick_result_free(&with);
    xuan_pick_result_free(&without);

    /* a later run of the same model, quant and benchmark wins */
    m.value = 55, m.source = "xuan eval run 3 (t.db)";
    REQUIRE(xuan_catalog_add_measured(&c2, &m, &err) == 0);
    best = xuan_pick_best_score(&c2, "qwen2.5-7b-instruct", "GSM8K");
    CHECK(best && best->value == 55);
    xuan_catalog_free(&c2);
}

/* Hybrid models: KV only for the full-attention layers (Qwen3.5-9B: 8 x 4 x
 * 256 x 2 x 2 B = 32 KiB per token, models_2026.md), plus a fixed state;
 * the context that fits grows accordingly; thinking factors. */
static void test_hybrid_kv_and_thinking(void) {
    xuan_mem_estimate e;
    xuan_error err = {0};
    REQUIRE(xuan_pick_mem_for(&cat, "qwen3.5-9b", "Q4_K_M", 4096, &e, &err) == 0);
    CHECK(e.kv_bytes_per_token == 32 * 1024);
    /* 24 DeltaNet layers x (32 value heads x 128 x 128 of delta-rule state +
     * 3 conv taps x (2 x 16 x 128 + 32 x 128) channels), F32 */
    CHECK(e.state == 24ull * (32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)) * 4);
    REQUIRE(xuan_pick_mem_for(&cat, "qwen3-8b", "Q4_K_M", 4096, &e, &err) == 0);
    CHECK(e.kv_bytes_per_token == 144 * 1024);
    xuan_weights w;
    REQUIRE(xuan_model_weights(xuan_catalog_find(&cat, "qwen3.5-9b"), XUAN_QUANT_F16, &w, &err) == 0);
    CHECK(w.params > 8.85e9 && w.params < 9.05e9); /* llama-bench: 8.95B */
    uint32_t c9 = xuan_pick_ctx_for_budget(xuan_catalog_find(&cat, "qwen3.5-9b"), XUAN_QUANT_Q4_K_M, 8ull << 30);
    uint32_t c8 = xuan_pick_ctx_for_budget(xuan_catalog_find(&cat, "qwen3-8b"), XUAN_QUANT_Q4_K_M, 8ull << 30);
    CHECK(c9 > 3 * c8 && c8 >= 4096 && c9 % 1024 == 0);
    CHECK(xuan_pick_ctx_for_budget(xuan_catalog_find(&cat, "qwen2.5-14b-instruct"), XUAN_QUANT_Q8_0, 8ull << 30) == 0);
    CHECK(xuan_pick_think_factor(xuan_catalog_find(&cat, "qwen3-4b-thinking-2507"), 0) == XUAN_PICK_THINK_FACTOR);
    CHECK(xuan_pick_think_factor(xuan_catalog_find(&cat, "deepseek-r1-distill-qwen-7b"), 2.5) == 2.5);
    CHECK(xuan_pick_think_factor(xuan_catalog_find(&cat, "qwen3-4b-instruct-2507"), 0) == 1);
    CHECK(xuan_pick_think_factor(xuan_catalog_find(&cat, "qwen3.5-4b"), 0) == 1); /* hybrid: ranked thinking off */
    CHECK_EQ_STR(xuan_catalog_find(&cat, "qwen3.5-4b")->thinking, "hybrid");
    CHECK(xuan_catalog_find(&cat, "qwen3.5-4b")->sampling_thinking != NULL);
}

static void test_sha256_vectors(void) {
    struct { const char *in; const char *hex; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < 3; i++) {
        xuan_sha256 s;
        uint8_t d[32];
        char hex[65];
        xuan_sha256_init(&s);
        /* fed one byte at a time, to exercise the buffering */
        for (const char *p = v[i].in; *p; p++) xuan_sha256_update(&s, p, 1);
        xuan_sha256_final(&s, d);
        xuan_sha256_hex(d, hex);
        CHECK_EQ_STR(hex, v[i].hex);
    }
    char *a = malloc(1000000);
    REQUIRE(a);
    memset(a, 'a', 1000000);
    xuan_sha256 s;
    uint8_t d[32];
    char hex[65];
    xuan_sha256_init(&s);
    xuan_sha256_update(&s, a, 999937);
    xuan_sha256_update(&s, a, 63);
    xuan_sha256_final(&s, d);
    xuan_sha256_hex(d, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

int main(void) {
    xuan_error err = {0};
    if (xuan_catalog_load(&cat, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    setenv("XUAN_CACHE", test_path("pick-rank-cache"), 1); /* no bench.json here */
    RUN(test_presets_on_this_kind_of_machine);
    RUN(test_normalisation_per_benchmark);
    RUN(test_engine_and_resolve);
    RUN(test_errata_change_the_answer);
    RUN(test_moe_needs_all_experts);
    RUN(test_small_and_gpu_machines);
    RUN(test_provenance_marks);
    RUN(test_bad_names);
    RUN(test_embedded_equals_data);
    RUN(test_every_score_has_a_source);
    RUN(test_todays_models_lead);
    RUN(test_med_it_cells_are_marked);
    RUN(test_match_file);
    RUN(test_measured_cells);
    RUN(test_hybrid_kv_and_thinking);
    RUN(test_sha256_vectors);
    xuan_catalog_free(&cat);
    return test_done();
}
