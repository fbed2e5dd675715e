/*
 * xuan pick — which model to run here, for which task, and why.
 * Sections:
 *   1. flags     — parsing and validation (every bad value is one clear line)
 *   2. machine   — probe this machine or plan for another (--ram/--vram/--cores)
 *   3. table     — the ranked table with a provenance mark on every cell
 *   4. json      — the same for machines
 *   5. explain   — every number of one model with its source and formula
 */
#include "cli.h"
#include "pick_measured.h"
#include "xuan/gguf.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ==== 1. flags ============================================================ */

typedef struct pick_args {
    xuan_pick_opts o;
    const char *explain, *catalog, *db;
    bool no_measured;
    xuan_buf measured_notes; /* runs and tasks of the results store left out, and why */
    int n_measured;
    uint64_t ram, vram;
    int64_t cores;
    double bandwidth;
    bool have_ram, have_vram, have_cores, json, reprobe, seed_table;
    int64_t top;
} pick_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan pick [options]\n"
            "Recommends the open model (<=14B class) to run on this machine, with the quant\n"
            "that fits, its memory, its speed, and where every score comes from.\n\n"
            "what for:\n"
            "  --preset NAME      overall (default), math, code, light, medical\n"
            "  --task LIST        math,code,med,it,general,zh (equal weights)\n"
            "  --weights LIST     math=2,code=1 ... (task=weight)\n"
            "  --lang zh          only models with native Chinese support (adds C-Eval/CMMLU)\n"
            "  --license LIST     open, restricted, apache-2.0, mit, llama3.1, ...\n"
            "  --min-speed TOKS   only models generating at least TOKS tokens/s (est.)\n"
            "  --ctx N            context to plan for (default 4096)\n"
            "  --all-sizes        also rank models beyond the <=14B class\n"
            "  --runtime xuan|any xuan (default): only models xuan's engine runs (%s)\n"
            "                     with a published GGUF, at published quants; any: rank all\n"
            "  --include-superseded  also rank a model when one that supersedes it is ranked\n"
            "  --think-factor N   tokens an always-thinking model spends per answer relative to\n"
            "                     a non-thinking one (default 4, an assumption: docs/catalog.md)\n"
            "machine (default: this one):\n"
            "  --ram SIZE --vram SIZE --cores N   plan for another machine (16G, 8G, 8)\n"
            "  --bandwidth GBS    memory bandwidth in GB/s instead of the ~1 s probe\n"
            "  --probe            measure the bandwidth again now (the cache keeps the best\n"
            "                     probe of the last 7 days; older ones expire)\n"
            "output:\n"
            "  --top N            rows to show (default 10)\n"
            "  --json             machine-readable\n"
            "  --explain MODEL    every number for one model, with sources and formulas\n"
            "  --seed-table       the seed article's figures beside what is published now\n"
            "  --catalog FILE     use this catalog instead of the built-in one (or XUAN_CATALOG)\n"
            "  --db FILE          xuan eval's results store (default <cache>/results.db): its scores\n"
            "                     become m cells for that model and quant\n"
            "  --no-measured      published scores only (the results store is not read)\n\n"
            "Measured speeds from `xuan bench` ($XUAN_CACHE/bench.json) replace estimates.\n",
            xuan_arch_runnable_list());
}

static int parse_weights(const char *list, double *w, bool equal, xuan_error *err) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        double v = 1;
        if (eq) {
            *eq = 0;
            if (equal || xuan_parse_f64(eq + 1, 0, 100, &v) != 0)
                return xuan_fail(err, XUAN_ERR_USAGE, "bad weight '%s=%s': expected task=NUMBER (0..100)", tok, eq + 1);
        } else if (!equal) {
            return xuan_fail(err, XUAN_ERR_USAGE, "bad weight '%s': expected task=NUMBER, e.g. math=2", tok);
        }
        xuan_task t;
        if (xuan_task_from_name(tok, &t) != 0) {
            const char *names[] = {"general", "math", "code", "med", "it", "zh"};
            const char *near = xuan_closest(tok, names, 6);
            if (near) return xuan_fail(err, XUAN_ERR_USAGE, "unknown task '%s'; did you mean '%s'? (math, code, med, it, general, zh)", tok, near);
            return xuan_fail(err, XUAN_ERR_USAGE, "unknown task '%s' (math, code, med, it, general, zh)", tok);
        }
        w[t] += v;
        n++;
    }
    if (!n) return xuan_fail(err, XUAN_ERR_USAGE, "empty task list");
    return 0;
}

/* Memory flags: a size, at least 256M, at most 64 TiB. */
static int mem_arg(const char *flag, const char *v, uint64_t *out) {
    if (v && v[0] == '-')
        return cli_usage_error("pick", "%s must be a positive size such as 16G, got '%s'", flag, v);
    if (cli_bytes_arg("pick", flag, v, out)) return XUAN_EXIT_USAGE;
    if (*out < (256ull << 20) || *out > (64ull << 40))
        return cli_usage_error("pick", "%s %s is not a plausible memory size (256M .. 64T)", flag, v);
    return 0;
}

static int parse_args(int argc, char **argv, pick_args *a) {
    enum { O_TASK = 256, O_WEIGHTS, O_LANG, O_LICENSE, O_MINSPEED, O_CTX, O_ALL, O_RAM, O_VRAM,
           O_CORES, O_BW, O_TOP, O_JSON, O_EXPLAIN, O_CATALOG, O_PRESET, O_RUNTIME, O_PROBE,
           O_SUPERSEDED, O_THINK, O_SEED, O_DB, O_NO_MEASURED };
    static const struct option opts[] = {
        {"preset", required_argument, 0, O_PRESET}, {"task", required_argument, 0, O_TASK},
        {"weights", required_argument, 0, O_WEIGHTS}, {"lang", required_argument, 0, O_LANG},
        {"license", required_argument, 0, O_LICENSE}, {"min-speed", required_argument, 0, O_MINSPEED},
        {"ctx", required_argument, 0, O_CTX}, {"all-sizes", no_argument, 0, O_ALL},
        {"ram", required_argument, 0, O_RAM}, {"vram", required_argument, 0, O_VRAM},
        {"cores", required_argument, 0, O_CORES}, {"bandwidth", required_argument, 0, O_BW},
        {"top", required_argument, 0, O_TOP}, {"json", no_argument, 0, O_JSON},
        {"explain", required_argument, 0, O_EXPLAIN}, {"catalog", required_argument, 0, O_CATALOG},
        {"runtime", required_argument, 0, O_RUNTIME}, {"probe", no_argument, 0, O_PROBE},
        {"include-superseded", no_argument, 0, O_SUPERSEDED}, {"think-factor", required_argument, 0, O_THINK},
        {"seed-table", no_argument, 0, O_SEED}, {"db", required_argument, 0, O_DB},
        {"no-measured", no_argument, 0, O_NO_MEASURED},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    xuan_error err = {0};
    int64_t n;
    a->top = 10;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return -1;
        case O_PRESET: {
            double w[XUAN_TASK_COUNT];
            if (xuan_pick_preset(optarg, w, &err) != 0) return cli_usage_error("pick", "%s", err.msg);
            a->o.preset = optarg;
            break;
        }
        case O_TASK:
        case O_WEIGHTS:
            if (parse_weights(optarg, a->o.weight, c == O_TASK, &err) != 0)
                return cli_usage_error("pick", "%s", err.msg);
            break;
        case O_LANG:
            if (strcasecmp(optarg, "zh") && strcasecmp(optarg, "en"))
                return cli_usage_error("pick", "--lang expects zh or en, got '%s'", optarg);
            a->o.lang_zh = !strcasecmp(optarg, "zh");
            break;
        case O_LICENSE: a->o.license = optarg; break;
        case O_MINSPEED:
            if (cli_double_arg("pick", "--min-speed", optarg, 0, 1e6, &a->o.min_speed)) return XUAN_EXIT_USAGE;
            break;
        case O_CTX:
            if (cli_int_arg("pick", "--ctx", optarg, 256, 1 << 20, &n)) return XUAN_EXIT_USAGE;
            a->o.n_ctx = (uint32_t)n;
            break;
        case O_ALL: a->o.all_sizes = true; break;
        case O_RUNTIME:
            if (!strcasecmp(optarg, "xuan")) a->o.runtime_any = false;
            else if (!strcasecmp(optarg, "any") || !strcasecmp(optarg, "llama.cpp")) a->o.runtime_any = true;
            else return cli_usage_error("pick", "--runtime expects xuan or any, got '%s'", optarg);
            break;
        case O_PROBE: a->reprobe = true; break;
        case O_SUPERSEDED: a->o.include_superseded = true; break;
        case O_THINK:
            if (cli_double_arg("pick", "--think-factor", optarg, 1, 100, &a->o.think_factor)) return XUAN_EXIT_USAGE;
            break;
        case O_SEED: a->seed_table = true; break;
        case O_RAM:
            if (mem_arg("--ram", optarg, &a->ram)) return XUAN_EXIT_USAGE;
            a->have_ram = true;
            break;
        case O_VRAM:
            if (mem_arg("--vram", optarg, &a->vram)) return XUAN_EXIT_USAGE;
            a->have_vram = true;
            break;
        case O_CORES:
            if (cli_int_arg("pick", "--cores", optarg, 1, 1024, &a->cores)) return XUAN_EXIT_USAGE;
            a->have_cores = true;
            break;
        case O_BW: {
            /* "50" or "50G" both mean 50 GB/s. */
            char buf[64];
            snprintf(buf, sizeof buf, "%s", optarg);
            size_t l = strlen(buf);
            if (l && (buf[l - 1] == 'G' || buf[l - 1] == 'g')) buf[l - 1] = 0;
            if (cli_double_arg("pick", "--bandwidth (GB/s)", buf, 0.1, 100000, &a->bandwidth)) return XUAN_EXIT_USAGE;
            break;
        }
        case O_TOP:
            if (cli_int_arg("pick", "--top", optarg, 1, 1000, &a->top)) return XUAN_EXIT_USAGE;
            break;
        case O_JSON: a->json = true; break;
        case O_EXPLAIN: a->explain = optarg; break;
        case O_CATALOG: a->catalog = optarg; break;
        case O_DB: a->db = optarg; break;
        case O_NO_MEASURED: a->no_measured = true; break;
        default:
            return cli_usage_error("pick", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("pick", "unexpected argument '%s'", argv[optind]);
    if (a->db && a->no_measured) return cli_usage_error("pick", "--db and --no-measured contradict each other");
    if (a->reprobe && (a->bandwidth > 0 || a->have_ram || a->have_vram || a->have_cores))
        return cli_usage_error("pick", "--probe measures this machine: it cannot go with --bandwidth, --ram, --vram or --cores");
    return 0;
}

/* ==== 2. machine ========================================================== */

static int machine(const pick_args *a, xuan_hw *hw) {
    xuan_error err = {0};
    bool planning = a->have_ram || a->have_vram || a->have_cores;
    /* Planning for another machine: nothing of this one is probed except
     * the CPU features (for the SIMD level when --cores is given alone). */
    xuan_bw_mode bw = planning || a->bandwidth > 0 ? XUAN_BW_NONE : a->reprobe ? XUAN_BW_REPROBE : XUAN_BW_CACHED;
    if (xuan_hw_probe(hw, bw, &err) != 0 && !planning)
        return cli_error("%s", err.msg);
    if (planning) {
        hw->planned = true;
        hw->n_gpus = 0;
        hw->vram_total = 0;
        if (a->have_ram) hw->ram_total = hw->ram_available = a->ram;
        if (a->have_cores) hw->cores = (int)a->cores;
        if (a->have_vram) {
            hw->n_gpus = 1;
            hw->vram_total = hw->gpus[0].vram_total = a->vram;
            snprintf(hw->gpus[0].name, sizeof hw->gpus[0].name, "planned GPU");
        }
        if (a->bandwidth <= 0) {
            /* A typical dual-channel DDR4/DDR5 desktop; say so. */
            hw->bandwidth_gbs = 40;
            snprintf(hw->bandwidth_source, sizeof hw->bandwidth_source, "assumed (--bandwidth to set)");
        }
    }
    if (a->bandwidth > 0) {
        hw->bandwidth_gbs = a->bandwidth;
        snprintf(hw->bandwidth_source, sizeof hw->bandwidth_source, "--bandwidth");
    }
    return 0;
}

static void print_machine(const xuan_hw *hw, const xuan_pick_result *res) {
    char a[32], b[32], c[32];
    if (hw->planned)
        printf("Planning for: %s RAM, %d cores %s, bandwidth %.0f GB/s (%s)", xuan_fmt_bytes(hw->ram_total, a, sizeof a),
               hw->cores, xuan_simd_name(hw->simd), hw->bandwidth_gbs, hw->bandwidth_source);
    else
        printf("This machine: %s RAM%s (%s available), %d cores %s (%s), read bandwidth %.1f GB/s (%s)",
               xuan_fmt_bytes(hw->ram_total, a, sizeof a), hw->ram_cgroup_limited ? " (cgroup limit)" : "",
               xuan_fmt_bytes(hw->ram_available, b, sizeof b), hw->cores, xuan_simd_name(hw->simd), hw->cpu,
               hw->bandwidth_gbs, hw->bandwidth_source);
    if (hw->n_gpus)
        printf(", GPU %s %s VRAM", hw->gpus[0].name, xuan_fmt_bytes(hw->vram_total, c, sizeof c));
    else printf(", no GPU");
    if (!hw->planned && hw->disk_free >= 0)
        printf(", %s free for models", xuan_fmt_bytes((uint64_t)hw->disk_free, c, sizeof c));
    printf("\nMemory budget: %s (%s minus 10%%, at least 1 GiB, for the OS%s)\n",
           xuan_fmt_bytes(res->budget, a, sizeof a), hw->planned ? "RAM" : "available RAM",
           hw->vram_total ? "; or the GPU's VRAM minus 5%" : "");
    printf("  it must hold all of a model's weights resident, beside its KV cache: a mapped model\n"
           "  whose pages the system reclaims is read from disk again for every token (run with\n"
           "  --mlock or --no-mmap to keep it in memory)\n");
}

/* ==== 3. table ============================================================ */

static const char *const COLS[] = {"general", "math", "code", "med", "IT/AI", "zh"};

static void cell_text(const xuan_task_cell *c, char *out, size_t n) {
    if (c->mark == '-') snprintf(out, n, "-");
    else snprintf(out, n, "%.0f%c", c->score, c->mark);
}

static void weights_text(const double *w, char *out, size_t n) {
    size_t k = 0;
    out[0] = 0;
    for (int t = 0; t < XUAN_TASK_COUNT; t++)
        if (w[t] > 0 && k < n) k += (size_t)snprintf(out + k, n - k, "%s%s=%g", k ? "," : "", xuan_task_name((xuan_task)t), w[t]);
}

static void print_row(int rank, const xuan_pick_row *r, bool show_zh) {
    char cells[XUAN_TASK_COUNT][16], ram[32], params[16];
    for (int t = 0; t < XUAN_TASK_COUNT; t++) cell_text(&r->cell[t], cells[t], sizeof cells[t]);
    if (r->m->params_b > 0) snprintf(params, sizeof params, "%.1fB", r->m->params_b);
    else snprintf(params, sizeof params, "?");
    if (rank > 0)
        printf("%2d  %-31s %6s %-9s %-13s %-9s %5s %5s %5s %5s %5s %-7s %9s %6.1f%s %5.1f\n", rank, r->m->id, params,
               r->m->chinese ? r->m->chinese : "?", r->m->license_short ? r->m->license_short : "?",
               r->runs_in_xuan ? "xuan" : "llama.cpp", cells[0], cells[1], cells[2], cells[3], cells[4],
               xuan_quant_name(r->quant),
               xuan_fmt_bytes(r->mem.total, ram, sizeof ram), r->speed.gen_tps,
               r->speed.gen_measured ? "m" : r->speed.on_gpu ? "g" : "~", r->score);
    else
        printf("    %-31s %6s %-9s %-13s %-9s %5s %5s %5s %5s %5s  (reference: not runnable here)\n", r->m->id,
               params, r->m->chinese ? r->m->chinese : "?", r->m->license_short ? r->m->license_short : "?", "-",
               cells[0], cells[1], cells[2], cells[3], cells[4]);
    if (show_zh && rank > 0 && r->cell[XUAN_TASK_ZH].mark != '-')
        printf("    %30s zh (C-Eval/CMMLU): %s\n", "", cells[5]);
}


/* path with $HOME shown as ~ (shorter, and still what a shell expands). */
static const char *tilde(const char *path, char *out, size_t n) {
    const char *home = getenv("HOME");
    size_t hl = home ? strlen(home) : 0;
    if (hl > 1 && !strncmp(path, home, hl) && path[hl] == '/') snprintf(out, n, "~%s", path + hl);
    else snprintf(out, n, "%s", path);
    return out;
}

/* The exact commands for one ranked row.  With --runtime xuan (default)
 * every ranked row runs in xuan at a published quant, so this is always
 * pull + run + chat; with --runtime any the row may need llama.cpp or a
 * conversion, and the block says so. */
static void print_commands(const xuan_pick_row *r, uint32_t n_ctx) {
    const xuan_model_info *m = r->m;
    const char *q = xuan_quant_name(r->quant);
    char dir[1024], path[1400], shown[1400];
    printf("  %s at %s, runs in %s\n", m->id, q, r->runs_in_xuan ? "xuan" : "llama.cpp (not in xuan's engine yet)");
    if (xuan_pick_published(m, r->quant)) {
        snprintf(path, sizeof path, "%s/%s", xuan_models_dir(dir, sizeof dir), m->gguf_file[r->quant]);
        tilde(path, shown, sizeof shown);
        printf("  xuan pull %s:%s      # %s from %s", m->id, q, m->gguf_file[r->quant], m->gguf_repo);
        if (m->gguf_size_display[r->quant]) printf(" (%s)", m->gguf_size_display[r->quant]);
        printf("\n");
    } else {
        printf("  no published %s GGUF is recorded: convert %s with llama.cpp's convert_hf_to_gguf.py and\n"
               "  quantize to %s (or: xuan pull %s:%s --repo OWNER/NAME --file FILE)\n",
               q, m->hf_repo ? m->hf_repo : m->id, q, m->id, q);
        snprintf(shown, sizeof shown, "FILE.gguf");
    }
    bool zh = m->chinese && strcmp(m->chinese, "weak");
    const char *prompt = zh ? "用三句话解释什么是模型量化。" : "Explain model quantization in three sentences.";
    char ctx[32] = "";
    if (n_ctx != 4096) snprintf(ctx, sizeof ctx, " -c %u", n_ctx);
    if (r->runs_in_xuan) {
        printf("  xuan run -m %s%s -p \"%s\"\n", shown, ctx, prompt);
        printf("  xuan chat -m %s%s\n", shown, ctx);
    } else {
        printf("  llama-cli -m %s -c %u -cnv   # llama.cpp; xuan's engine runs llama, qwen2 and phi3 only\n",
               shown, n_ctx);
    }
}

static void print_errata(const xuan_catalog *cat) {
    printf("\nWhere this differs from the seed article (SEED_ERRATA.md):\n");
    for (size_t i = 0; i < cat->n_scores; i++) {
        const xuan_score *s = &cat->scores[i];
        if (s->disagrees)
            printf("  - %s %s: the seed says %.1f, published %.1f (%s); the published value is used\n", s->model,
                   s->benchmark, s->value, s->published_value, s->errata ? s->errata : "");
    }
    for (size_t i = 0; i < cat->n_errata; i++)
        printf("  - \"%s\": %s\n", cat->errata[i].seed_name, cat->errata[i].fact);
}

/* Where the m cells come from, and what of the results store was left out. */
static void print_measured(const pick_args *a) {
    char db[4096];
    cli_results_db(a->db, false, db, sizeof db);
    if (a->no_measured) printf("Measured results: not read (--no-measured).\n");
    else if (a->n_measured || a->measured_notes.len)
        printf("Measured results: %d task scores from %s (xuan eval; a later run wins)%s\n%s", a->n_measured, db,
               a->measured_notes.len ? "; left out:" : "", a->measured_notes.data ? a->measured_notes.data : "");
    else printf("Measured results: none in %s (xuan eval writes them; --db FILE).\n", db);
}

static void print_table(const xuan_catalog *cat, const xuan_hw *hw, const pick_args *a,
                        const xuan_pick_result *res) {
    char wt[128];
    weights_text(res->weight, wt, sizeof wt);
    printf("xuan pick — preset %s (weights %s), context %u, %s%s%s%s\n", res->preset, wt,
           a->o.n_ctx ? a->o.n_ctx : 4096,
           a->o.runtime_any ? "any runtime" : "models xuan runs (--runtime any for all)", a->o.lang_zh ? ", native Chinese only" : "",
           a->o.license ? ", license " : "", a->o.license ? a->o.license : "");
    print_machine(hw, res);
    printf("\n #  %-31s %6s %-9s %-13s %-9s %5s %5s %5s %5s %5s %-7s %9s %7s %5s\n", "model", "params", "Chinese",
           "license", "runs in", COLS[0], COLS[1], COLS[2], COLS[3], COLS[4], "quant", "RAM", "tok/s", "score");
    size_t shown = 0;
    for (size_t i = 0; i < res->n_ranked && shown < (size_t)a->top; i++, shown++)
        print_row((int)i + 1, &res->rows[i], a->o.lang_zh);
    if (!res->n_ranked) printf("    (no model fits these limits: see the reasons below)\n");
    for (size_t i = res->n_ranked; i < res->n_rows; i++)
        if (!res->rows[i].m->runnable && !strcmp(res->rows[i].m->license_class ? res->rows[i].m->license_class : "", "proprietary"))
            print_row(0, &res->rows[i], false);
    printf("\nTask columns: 0-100.  Every pair of models reporting one of a task's benchmarks (>= 8 reporters, medical\n"
           "ones >= 3) is a game the higher result wins; a Bradley-Terry fit over all of a task's games gives each model\n"
           "a strength, and the cell is the share of the other models it would beat (so an easy benchmark earns nothing\n"
           "extra, and losing to strong models costs little), times trust (official 1, third-party .93, base x.9, seed .8).\n"
           "Every cell is marked by kind:\n"
           "  published  o official (the developer)  t third-party  b base-model row  s seed estimate\n"
           "  measured   m measured here by xuan eval, for the quant in the row (source: the run; --explain)\n"
           "  not published  g medical / IT/AI: nothing is published for this model (no MedQA, MedMCQA, PubMedQA\n"
           "               or medical / computer-science subject scores): its general score x0.85 stands in\n"
           "  estimated  ~ math, code, zh with no published result: the general score x0.7   - no data\n"
           "runs in: xuan = xuan's own engine runs this architecture (%s); llama.cpp = not yet.\n"
           "tok/s: generation; ~ estimated from bandwidth, g planned GPU (assumed 300 GB/s), m measured.\n"
           "Score = weighted task score x quant quality x speed factor (sqrt(min(1, tok/s / 5)); light: min(1, tok/s / 15));\n"
           "models that always think count tok/s / %g (--think-factor; an assumption, docs/catalog.md).\n"
           "Catalog checked %s; superseded models are not ranked when their successor is (--include-superseded).\n",
           xuan_arch_runnable_list(), a->o.think_factor >= 1 ? a->o.think_factor : XUAN_PICK_THINK_FACTOR,
           cat->checked ? cat->checked : "(no date)");
    print_measured(a);
    if (res->n_ranked) {
        printf("\nWhy:\n");
        for (size_t i = 0; i < res->n_ranked && i < 3; i++)
            printf("  %zu. %s — %s\n", i + 1, res->rows[i].m->id, res->rows[i].why);
        uint32_t ctx = a->o.n_ctx ? a->o.n_ctx : 4096;
        printf("\nGet and run #1:\n");
        print_commands(&res->rows[0], ctx);
        printf("  xuan pick --explain %s   # every number above with its source\n", res->rows[0].m->id);
        /* --runtime any: #1 may need llama.cpp; name the best one xuan runs end to end. */
        if (!res->rows[0].runs_in_xuan || !xuan_pick_published(res->rows[0].m, res->rows[0].quant))
            for (size_t i = 1; i < res->n_ranked; i++) {
                const xuan_pick_row *r = &res->rows[i];
                if (r->runs_in_xuan && xuan_pick_published(r->m, r->quant)) {
                    printf("\nHighest-ranked that xuan runs end to end, #%zu:\n", i + 1);
                    print_commands(r, ctx);
                    break;
                }
            }
        if (!hw->planned)
            printf("  (tok/s assumes weights streamed at memory bandwidth, as llama.cpp and xuan do; docs/perf.md has\n"
                   "   both engines measured side by side. Measured speeds in <cache>/bench.json replace estimates.)\n");
    }
    printf("\nNot ranked:\n");
    for (size_t i = res->n_ranked; i < res->n_rows; i++)
        if (res->rows[i].m->runnable || strcmp(res->rows[i].m->license_class ? res->rows[i].m->license_class : "", "proprietary"))
            printf("  %-30s %s\n", res->rows[i].m->id, res->rows[i].excluded);
    print_errata(cat);
}

/* The seed article's figures (kind seed-estimate) beside the published value
 * of the same model and benchmark, errata flagged; then the seed's names and
 * sizes that were wrong. */
static int seed_table(const xuan_catalog *cat) {
    printf("The seed article's table beside what is published now (catalog checked %s)\n\n",
           cat->checked ? cat->checked : "(no date)");
    printf("  %-24s %-10s %7s %10s %9s  %-10s %s\n", "model", "benchmark", "seed", "published", "measured", "verdict",
           "source of the published value");
    for (size_t i = 0; i < cat->n_scores; i++) {
        const xuan_score *s = &cat->scores[i];
        if (strcmp(s->kind, "seed-estimate")) continue;
        const xuan_score *pub = NULL, *meas = NULL;
        for (size_t j = 0; j < cat->n_scores; j++) {
            const xuan_score *p = &cat->scores[j];
            if (p == s || strcmp(p->kind, "seed-estimate") == 0 || strcasecmp(p->model, s->model) ||
                strcmp(p->benchmark, s->benchmark))
                continue;
            if (!strcmp(p->kind, "measured")) {
                if (!meas || p->measured_seq > meas->measured_seq) meas = p;
            } else if (!pub || xuan_score_trust(p) > xuan_score_trust(pub)) pub = p;
        }
        char ms[48] = "-";
        if (meas) snprintf(ms, sizeof ms, "%.1f", meas->value);
        double pv = pub ? pub->value : s->published_value;
        char pvs[16] = "-";
        if (!isnan(pv)) snprintf(pvs, sizeof pvs, "%.1f", pv);
        const char *verdict = s->disagrees ? "ERRATUM" : isnan(pv) ? "unchecked" : fabs(pv - s->value) < 0.05 ? "agrees" : "differs";
        printf("  %-24s %-10s %7.1f %10s %9s  %-10s %s\n", s->model, s->benchmark, s->value, pvs, ms, verdict,
               pub && pub->source ? pub->source : s->errata ? s->errata : "-");
        if (s->disagrees && s->errata) printf("  %24s   erratum: %s\n", "", s->errata);
        if (meas) printf("  %24s   measured at %s: %s\n", "", meas->quant ? meas->quant : "?", meas->source);
    }
    printf("\nThe seed's names and sizes that do not match a real model (SEED_ERRATA.md):\n");
    for (size_t i = 0; i < cat->n_errata; i++)
        printf("  - \"%s\": %s\n", cat->errata[i].seed_name, cat->errata[i].fact);
    printf("\nWhat is new since the seed (2025-2026 models, each score with its source): xuan models, then\n"
           "xuan pick --explain MODEL.\n");
    return 0;
}

/* ==== 4. json ============================================================= */

static json_t *cell_json(const xuan_task_cell *c) {
    char mark[2] = {c->mark, 0};
    json_t *o = json_pack("{s:f, s:s, s:i}", "score", c->score, "mark", mark, "n_benchmarks", c->n_benchmarks);
    json_object_set_new(o, "published", json_boolean(strchr("otbs", c->mark) != NULL));
    if (c->mark == 'g' || c->mark == '~')
        json_object_set_new(o, "stands_in", json_string(c->mark == 'g' ? "not published: general score x0.85"
                                                                       : "no result: general score x0.7"));
    if (c->mark == 'm') {
        json_object_set_new(o, "quant", json_string(xuan_quant_name(c->quant)));
        json_object_set_new(o, "score_is", json_string(c->measured_alone ? "the measured accuracy (nobody publishes "
                                                                           "this benchmark)" : "the fit's share"));
    }
    if (c->published_alone)
        json_object_set_new(o, "score_is", json_string("the published accuracy x trust (too few models report "
                                                       "this subject subset to place it in a fit)"));
    if (c->source) json_object_set_new(o, "source", json_string(c->source));
    if (!isnan(c->shown)) {
        json_object_set_new(o, "headline", json_real(c->shown));
        json_object_set_new(o, "benchmark", json_string(c->benchmark));
    }
    return o;
}

static int print_json(const xuan_catalog *cat, const xuan_hw *hw, const pick_args *a, const xuan_pick_result *res) {
    json_t *root = json_object();
    json_t *mach = json_pack("{s:b, s:I, s:I, s:b, s:i, s:s, s:s, s:f, s:s, s:I, s:I, s:s}", "planned", hw->planned,
                             "ram_total", (json_int_t)hw->ram_total, "ram_available", (json_int_t)hw->ram_available,
                             "cgroup_limited", hw->ram_cgroup_limited, "cores", hw->cores, "simd",
                             xuan_simd_name(hw->simd), "cpu", hw->cpu, "bandwidth_gbs", hw->bandwidth_gbs,
                             "bandwidth_source", hw->bandwidth_source, "vram", (json_int_t)hw->vram_total,
                             "disk_free", (json_int_t)hw->disk_free, "models_dir", hw->models_dir);
    json_object_set_new(root, "machine", mach);
    json_object_set_new(root, "preset", json_string(res->preset));
    json_object_set_new(root, "runtime", json_string(a->o.runtime_any ? "any" : "xuan"));
    json_t *w = json_object();
    for (int t = 0; t < XUAN_TASK_COUNT; t++)
        if (res->weight[t] > 0) json_object_set_new(w, xuan_task_name((xuan_task)t), json_real(res->weight[t]));
    json_object_set_new(root, "weights", w);
    json_object_set_new(root, "n_ctx", json_integer(a->o.n_ctx ? a->o.n_ctx : 4096));
    json_object_set_new(root, "budget_bytes", json_integer((json_int_t)res->budget));
    {
        char db[4096];
        cli_results_db(a->db, false, db, sizeof db);
        json_object_set_new(root, "measured", json_pack("{s:s, s:b, s:i, s:s}", "db", db, "read", !a->no_measured,
                                                        "records", a->n_measured, "left_out",
                                                        a->measured_notes.data ? a->measured_notes.data : ""));
    }
    json_t *ranked = json_array(), *excluded = json_array();
    for (size_t i = 0; i < res->n_rows; i++) {
        const xuan_pick_row *r = &res->rows[i];
        if (i >= res->n_ranked) {
            json_array_append_new(excluded, json_pack("{s:s, s:s}", "id", r->m->id, "reason", r->excluded));
            continue;
        }
        json_t *tasks = json_object();
        for (int t = 0; t < XUAN_TASK_COUNT; t++)
            json_object_set_new(tasks, xuan_task_name((xuan_task)t), cell_json(&r->cell[t]));
        json_t *o = json_pack("{s:i, s:s, s:s, s:f, s:s?, s:s?, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:b, s:f, s:b, s:b}, s:o, s:f, s:f, s:s}",
                              "rank", (int)i + 1, "id", r->m->id, "quant", xuan_quant_name(r->quant),
                              "params_b", r->m->params_b, "license", r->m->license, "chinese", r->m->chinese,
                              "memory", "weights", (json_int_t)r->mem.weights, "kv_cache", (json_int_t)r->mem.kv_cache,
                              "compute", (json_int_t)r->mem.compute, "overhead", (json_int_t)r->mem.overhead,
                              "total", (json_int_t)r->mem.total, "speed", "gen_tok_s", r->speed.gen_tps,
                              "gen_measured", r->speed.gen_measured, "prompt_tok_s", r->speed.prompt_tps,
                              "prompt_measured", r->speed.prompt_measured, "on_gpu", r->speed.on_gpu,
                              "tasks", tasks, "quality", r->quality, "score", r->score, "why", r->why);
        json_object_set_new(o, "runs_in", json_string(r->runs_in_xuan ? "xuan" : "llama.cpp"));
        json_object_set_new(o, "kv_bytes_per_token", json_integer((json_int_t)r->mem.kv_bytes_per_token));
        /* the parts that do not grow with the context: sliding layers, recurrent state */
        json_object_set_new(json_object_get(o, "memory"), "kv_sliding", json_integer((json_int_t)r->mem.kv_swa));
        json_object_set_new(json_object_get(o, "memory"), "state", json_integer((json_int_t)r->mem.state));
        json_object_set_new(o, "context_fits", json_integer((json_int_t)r->ctx_fit));
        json_object_set_new(o, "think_factor", json_real(r->think_factor));
        if (r->m->thinking) json_object_set_new(o, "thinking", json_string(r->m->thinking));
        if (r->m->gguf_repo) json_object_set_new(o, "gguf_repo", json_string(r->m->gguf_repo));
        if (r->m->gguf_file[r->quant]) json_object_set_new(o, "gguf_file", json_string(r->m->gguf_file[r->quant]));
        json_array_append_new(ranked, o);
    }
    json_object_set_new(root, "ranked", ranked);
    json_object_set_new(root, "excluded", excluded);
    json_t *er = json_array();
    for (size_t i = 0; i < cat->n_scores; i++)
        if (cat->scores[i].disagrees)
            json_array_append_new(er, json_pack("{s:s, s:s, s:f, s:f, s:s?}", "model", cat->scores[i].model,
                                                "benchmark", cat->scores[i].benchmark, "seed_value", cat->scores[i].value,
                                                "published_value", cat->scores[i].published_value, "note", cat->scores[i].errata));
    for (size_t i = 0; i < cat->n_errata; i++)
        json_array_append_new(er, json_pack("{s:s, s:s}", "seed_name", cat->errata[i].seed_name, "fact", cat->errata[i].fact));
    json_object_set_new(root, "seed_errata", er);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (!text) return cli_error("out of memory writing JSON");
    puts(text);
    free(text);
    return 0;
}

/* ==== 5. explain ========================================================== */

/* Layers whose cache grows with the context: the KV-storing ones that do
 * not slide (the memory input's layout). */
static uint32_t kv_grow_layers(const xuan_model_info *m, const xuan_mem_input *in) {
    uint32_t kv = in->n_kv_layers && in->n_kv_layers < m->n_layers ? in->n_kv_layers : m->n_layers;
    uint32_t swa = in->swa_window ? in->n_swa_layers : 0;
    return swa < kv ? kv - swa : 0;
}

static int explain(const xuan_catalog *cat, const xuan_hw *hw, const pick_args *a) {
    xuan_error err = {0};
    const xuan_model_info *m = xuan_catalog_lookup(cat, a->explain, &err);
    if (!m) return cli_usage_error("pick", "%s", err.msg);
    uint32_t n_ctx = a->o.n_ctx ? a->o.n_ctx : 4096;
    char b1[32], b2[32];
    printf("%s — %s, %s parameters", m->id, m->family ? m->family : "?",
           m->params_b > 0 ? (snprintf(b1, sizeof b1, "%.2fB", m->params_b), b1) : "unknown");
    if (m->params_active_b > 0) printf(" (%.1fB active per token)", m->params_active_b);
    printf("\n  license: %s\n  Chinese: %s\n  weights: %s\n", m->license ? m->license : "?",
           m->chinese ? m->chinese : "unknown", m->hf_repo ? m->hf_repo : "none (API only)");
    if (m->scope_reason) printf("  scope: %s\n", m->scope_reason);
    if (m->arch)
        printf("  shape: %s, %u layers, d_model %u, %u heads / %u KV heads x %u, d_ffn %u, vocab %u%s, context %s%s\n",
               m->arch, m->n_layers, m->d_model, m->n_heads, m->n_kv_heads, m->head_dim, m->d_ffn, m->n_vocab,
               m->tied_embeddings ? " (tied)" : "",
               m->ctx_native ? (snprintf(b2, sizeof b2, "%u", m->ctx_native), b2) : "not recorded",
               m->ctx_extended > m->ctx_native ? " (more with RoPE scaling)" : "");
    if (m->notes) printf("  notes: %s\n", m->notes);
    if (m->shape_source) printf("  shapes: %s\n", m->shape_source);
    if (m->release_date) printf("  released: %s\n", m->release_date);
    for (int k = 0; k < m->n_superseded_by; k++)
        printf("  superseded by: %s%s\n", m->superseded_by[k],
               k == 0 ? " (not ranked when that model is; --include-superseded)" : "");
    {
        double tf = xuan_pick_think_factor(m, a->o.think_factor);
        double dflt = a->o.think_factor >= 1 ? a->o.think_factor : XUAN_PICK_THINK_FACTOR;
        printf("  thinking: %s", m->thinking ? m->thinking : "not recorded");
        if (m->thinking && !strcmp(m->thinking, "hybrid"))
            printf(" (%s by default)", m->thinking_default ? "on" : "off");
        if (m->thinking_switch) printf("; switch: %s", m->thinking_switch);
        printf("\n  thinking cost: ");
        if (tf > 1)
            printf("always thinks, so ranking counts its tok/s / %g (answers spend ~%gx the tokens: an assumption,\n"
                   "    not a measurement; benchmark harnesses give thinking models 16-32K-token budgets and MMLU answers\n"
                   "    that fit 256 tokens without thinking needed up to 2048 with it, elizaOS/eliza#10670; docs/catalog.md)\n",
                   tf, tf);
        else if (m->thinking && !strcmp(m->thinking, "hybrid"))
            printf("ranked with thinking off (x1); switched on, expect ~%gx the tokens per answer (the same assumption)\n"
                   "    and scores closer to its thinking-mode rows\n", dflt);
        else printf("none (x1)\n");
        if (m->sampling_thinking) printf("  sampling, thinking: %s\n", m->sampling_thinking);
        if (m->sampling_non_thinking) printf("  sampling, non-thinking: %s\n", m->sampling_non_thinking);
        if (m->sampling_source) printf("    (from %s)\n", m->sampling_source);
        else if (m->thinking && strcmp(m->thinking, "never"))
            printf("  sampling: not in the catalog's facts (see the model card)\n");
    }
    for (size_t i = 0; i < cat->n_errata; i++)
        if (cat->errata[i].model && !strcmp(cat->errata[i].model, m->id))
            printf("  seed erratum: \"%s\" -> %s\n", cat->errata[i].seed_name, cat->errata[i].fact);

    if (m->runnable && m->arch && !m->n_layers && m->shapes_missing)
        printf("\nMemory: not estimated: %s\n", m->shapes_missing);
    if (m->runnable && m->arch && m->n_layers) {
        printf("\nMemory at context %u (weights: tensor by tensor at llama-quantize's mix; published file where known):\n", n_ctx);
        printf("  %-9s %10s %10s %10s %10s   %s\n", "quant", "weights", "KV", "total", "published", "fits?");
        for (int q = 0; q < XUAN_QUANT_COUNT; q++) {
            /* MXFP4_MOE is a mix for expert tensors: shown where it is published */
            if (q == XUAN_QUANT_MXFP4_MOE && !m->gguf_file[q]) continue;
            xuan_mem_input in;
            xuan_mem_estimate e;
            if (xuan_model_mem_input(m, (xuan_quant)q, n_ctx, &in, &err)) return cli_error("%s", err.msg);
            xuan_mem_estimate_compute(&in, &e);
            char w[32], k[32], t[32], p[48] = "-", exact[32];
            if (m->gguf_size[q])
                snprintf(p, sizeof p, "%s%s",
                         m->gguf_size_display[q] ? m->gguf_size_display[q]
                                                 : xuan_fmt_bytes(m->gguf_size[q], exact, sizeof exact),
                         m->gguf_size_exact[q] ? "" : " (shown)");
            uint64_t mem = hw->planned ? hw->ram_total : hw->ram_available;
            uint64_t budget = mem - (mem / 10 > (1ull << 30) ? mem / 10 : (1ull << 30));
            printf("  %-9s %10s %10s %10s %10.20s   %s\n", xuan_quant_name((xuan_quant)q),
                   xuan_fmt_bytes(e.weights, w, sizeof w), xuan_fmt_bytes(e.kv_cache, k, sizeof k),
                   xuan_fmt_bytes(e.total, t, sizeof t), p, e.total <= budget ? "yes" : "no");
        }
        /* the formula at Q4_K_M, or at the one mix a model ships in (gpt-oss: MXFP4_MOE) */
        const xuan_quant xq = !m->gguf_file[XUAN_QUANT_Q4_K_M] && m->gguf_file[XUAN_QUANT_MXFP4_MOE]
                                  ? XUAN_QUANT_MXFP4_MOE : XUAN_QUANT_Q4_K_M;
        xuan_mem_input in;
        xuan_mem_estimate e;
        xuan_weights w;
        xuan_model_mem_input(m, xq, n_ctx, &in, &err);
        xuan_model_weights(m, xq, &w, &err);
        xuan_mem_estimate_compute(&in, &e);
        xuan_buf buf = {0};
        xuan_mem_explain(&in, &e, &buf);
        printf("\nFormula at %s:\n%s", xuan_quant_name(xq), buf.data ? buf.data : "");
        xuan_buf_free(&buf);
        {
            uint64_t mem = hw->planned ? hw->ram_total : hw->ram_available;
            uint64_t budget = mem - (mem / 10 > (1ull << 30) ? mem / 10 : (1ull << 30));
            uint32_t fit = xuan_pick_ctx_for_budget(m, xq, budget);
            char kv[32], bud[32];
            /* what the same shapes would cost with a full cache in every layer */
            xuan_mem_input full_in = in;
            xuan_mem_estimate full_e;
            full_in.n_kv_layers = 0, full_in.state_bytes = 0, full_in.n_swa_layers = 0;
            xuan_mem_estimate_compute(&full_in, &full_e);
            char swa[160] = "", dense[200] = "", fk[32];
            /* (not for gemma4: its sliding and global heads differ in size) */
            if (!m->head_dim_global && full_e.kv_bytes_per_token > e.kv_bytes_per_token && e.kv_bytes_per_token)
                snprintf(dense, sizeof dense,
                         "\n  (%u of %u layers grow with the context: the same shapes with a full cache in every layer"
                         " would need %s per token, %.1fx as much)",
                         kv_grow_layers(m, &in), m->n_layers, xuan_fmt_bytes(full_e.kv_bytes_per_token, fk, sizeof fk),
                         (double)full_e.kv_bytes_per_token / (double)e.kv_bytes_per_token);
            if (in.n_swa_layers && in.swa_window)
                snprintf(swa, sizeof swa, ", global layers only: the %u sliding layers keep %u positions (%s, fixed)",
                         in.n_swa_layers, in.swa_window, xuan_fmt_bytes(e.kv_swa, b1, sizeof b1));
            printf("\nKV cache per token: %s (F16%s%s)%s\nrecommended context for a %s budget at %s: ",
                   xuan_fmt_bytes(e.kv_bytes_per_token, kv, sizeof kv),
                   m->n_attn_layers ? ", attention layers only: the DeltaNet layers keep a fixed state instead" : swa,
                   m->kv_shared_layers ? "; the KV-shared layers store none" : "", dense,
                   xuan_fmt_bytes(budget, bud, sizeof bud), xuan_quant_name(xq));
            if (fit) printf("%u tokens%s\n", fit,
                            fit >= (m->ctx_extended > m->ctx_native ? m->ctx_extended : m->ctx_native) ? " (the model's own limit)" : "");
            else printf("none (the weights alone do not fit)\n");
        }
        xuan_speed sp;
        xuan_speed_estimate(m, xq, &w, &e, hw, false, &sp);
        printf("\nSpeed at %s on %s:\n", xuan_quant_name(xq), hw->planned ? "the planned machine" : "this machine");
        printf("  generation %.1f tok/s %s = min(bandwidth %.1f GB/s x 0.8 / (%s read per token + KV of 1024 positions %s),\n"
               "             %d cores x per-core mat-vec rate / (2 x %.2fB active parameters))\n",
               sp.gen_tps, sp.gen_measured ? "(measured, xuan bench)" : "(estimate)", hw->bandwidth_gbs,
               xuan_fmt_bytes(w.per_token, b1, sizeof b1),
               xuan_fmt_bytes(e.kv_bytes_per_token * 1024, b2, sizeof b2), hw->cores, w.active_params / 1e9);
        printf("  prompt     %.0f tok/s %s = %d cores x per-core %s mat-mat rate / (2 x active parameters)\n",
               sp.prompt_tps, sp.prompt_measured ? "(measured)" : "(estimate)", hw->cores, xuan_simd_name(hw->simd));
    }
    if (m->gguf_repo) {
        printf("\nGGUF: %s\n", m->gguf_repo);
        for (int q = 0; q < XUAN_QUANT_COUNT; q++)
            if (m->gguf_file[q])
                printf("  %-9s %s  %s\n", xuan_quant_name((xuan_quant)q), m->gguf_file[q],
                       m->gguf_size_display[q] ? m->gguf_size_display[q]
                       : m->gguf_size[q]       ? xuan_fmt_bytes(m->gguf_size[q], b1, sizeof b1)
                                               : "");
    }
    printf("\nScores (* = the record used, with its points: the share of the other in-scope models reporting the\n"
           "same benchmark that it beats, of N reporters, x trust: official 1, recalled .97, third-party .93,\n"
           "base x.9, seed .8.  The task score is not their mean: it is the share of all other models with a\n"
           "result in the task that this one would beat, from a Bradley-Terry fit over every pair of results on\n"
           "the task's counted benchmarks, times the mean trust):\n");
    for (int t = 0; t < XUAN_TASK_COUNT; t++) {
        xuan_task_cell c;
        xuan_pick_task_cell(cat, m, (xuan_task)t, &c);
        printf("  %-8s task score %5.1f %c", xuan_task_name((xuan_task)t), c.score, c.mark);
        if (c.mark == '~') printf(" (no published result: the general score x 0.7 stands in, a guess)");
        if (c.mark == 'g')
            printf(" (not published for this model: no %s result; the general score x 0.85 stands in)",
                   t == XUAN_TASK_MED ? "MedQA / MedMCQA / PubMedQA / medical-subject" : "IT/AI or computer-science subject");
        if (c.mark == 'm')
            printf(" (measured at %s: %s%s)", xuan_quant_name(c.quant), c.source ? c.source : "?",
                   c.measured_alone ? "; nobody publishes the benchmark, so the score is the accuracy" : "");
        if (c.published_alone)
            printf(" (%s %.1f: too few models report this subject subset to place it in a fit, so the score is"
                   " the accuracy x trust; %s)", c.benchmark, c.shown, c.source ? c.source : "?");
        printf("\n");
        for (size_t i = 0; i < cat->n_scores; i++) {
            const xuan_score *s = &cat->scores[i];
            xuan_task st;
            if (strcasecmp(s->model, m->id) || xuan_task_from_name(s->task, &st) || st != (xuan_task)t) continue;
            const xuan_score *best = xuan_pick_best_score(cat, m->id, s->benchmark);
            char pts[48] = "";
            int nrep = 0;
            double p = xuan_pick_bench_points(cat, s->benchmark, m->id, s->value, &nrep);
            if (best == s && p >= 0) snprintf(pts, sizeof pts, " %5.1f pts of %d x %.2f", p, nrep, xuan_score_trust(s));
            else if (best == s) snprintf(pts, sizeof pts, " not counted: %d report it", nrep);
            char kind[40];
            snprintf(kind, sizeof kind, "%s%s%s", s->kind, s->quant ? " " : "", s->quant ? s->quant : "");
            printf("    %c %-22s %6.1f%s  %-13s %s; %s\n", best == s ? '*' : ' ', s->benchmark, s->value, pts, kind,
                   s->setting ? s->setting : "", s->source ? s->source : "");
            if (s->errata) printf("      erratum: %s\n", s->errata);
        }
    }
    return 0;
}

/* ==== entry =============================================================== */

static int pick_main(pick_args *ap) {
    pick_args a = *ap;
    int rc;
    xuan_catalog cat;
    xuan_error err = {0};
    if (xuan_catalog_load(&cat, a.catalog, &err) != 0) return cli_error("%s", err.msg);
    rc = a.no_measured ? 0 : cli_pick_load_measured(&cat, a.db, &ap->measured_notes, &ap->n_measured);
    a.measured_notes = ap->measured_notes, a.n_measured = ap->n_measured;
    if (rc) {
        xuan_catalog_free(&cat);
        return rc;
    }
    xuan_hw hw;
    if ((rc = machine(&a, &hw)) != 0) {
        xuan_catalog_free(&cat);
        return rc;
    }
    if (a.seed_table) {
        rc = seed_table(&cat);
        xuan_catalog_free(&cat);
        return rc;
    }
    if (a.explain) {
        rc = explain(&cat, &hw, &a);
        xuan_catalog_free(&cat);
        return rc;
    }
    xuan_pick_result res;
    if (xuan_pick_run(&cat, &hw, &a.o, &res, &err) != 0) {
        xuan_catalog_free(&cat);
        return err.code == XUAN_ERR_USAGE ? cli_usage_error("pick", "%s", err.msg) : cli_error("%s", err.msg);
    }
    rc = a.json ? print_json(&cat, &hw, &a, &res) : (print_table(&cat, &hw, &a, &res), 0);
    xuan_pick_result_free(&res);
    xuan_catalog_free(&cat);
    return rc ? XUAN_EXIT_RUNTIME : 0;
}

int cmd_pick(int argc, char **argv) {
    pick_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    rc = pick_main(&a);
    xuan_buf_free(&a.measured_notes);
    return rc;
}
