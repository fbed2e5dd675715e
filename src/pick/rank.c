/*
 * rank.c — fit, speed and score for every catalog model, best first.
 *
 * Map:
 *   tasks and presets   names, weights
 *   scores              which record counts for (model, benchmark); trust
 *   task cells          normalised task scores with proxies for gaps
 *   fit                 best quant that fits the memory budget
 *   ranking             score = quality x quant factor x speed factor
 *
 * Quality comes only from published (or the user's measured) results.  Each
 * benchmark is normalised on its own, across the in-scope models that report
 * it: points = the share of the other reporters it beats (ties count half),
 * 0..100.  So a benchmark's difficulty (MMLU-redux ~75 vs MMLU-Pro ~50 for
 * the same model), its ceiling (GSM8K near 95 for the best) and its spread
 * cancel out, and no model gains by reporting an easier one.  The result is
 * weighted by how much the record can be trusted (official > third-party >
 * base-model row > seed estimate) and averaged per task.  A task without any
 * result borrows the model's general score at a penalty, and the cell says so.
 *
 * Engine: by default (runtime xuan) only models whose GGUF architecture
 * xuan's engine runs and that have a published GGUF file are ranked, at the
 * published quants only, so the #1 row is one `xuan pull` + `xuan run` can
 * take end to end.  --runtime any ranks every model and marks the others.
 */
#include "pick_internal.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <strings.h>

/* ---- tasks and presets ------------------------------------------------------------ */

static const char *TASKS[XUAN_TASK_COUNT] = {"general", "math", "code", "med", "it", "zh"};

const char *xuan_task_name(xuan_task t) { return (unsigned)t < XUAN_TASK_COUNT ? TASKS[t] : "?"; }

int xuan_task_from_name(const char *name, xuan_task *out) {
    static const struct { const char *alias; xuan_task t; } ALIASES[] = {
        {"medical", XUAN_TASK_MED}, {"ai", XUAN_TASK_IT}, {"chinese", XUAN_TASK_ZH},
        {"overall", XUAN_TASK_GENERAL}};
    for (int i = 0; i < XUAN_TASK_COUNT; i++)
        if (!strcasecmp(name, TASKS[i])) return *out = (xuan_task)i, 0;
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (!strcasecmp(name, ALIASES[i].alias)) return *out = ALIASES[i].t, 0;
    return -1;
}

static const struct preset {
    const char *name;
    double w[XUAN_TASK_COUNT]; /* general math code med it zh */
    const char *what;
} PRESETS[] = {
    {"overall", {2, 1, 1, 0, 0, 0}, "general knowledge x2, math, code"},
    {"math", {0, 1, 0, 0, 0, 0}, "math only"},
    {"code", {0, 0, 1, 0, 0, 0}, "code only"},
    {"medical", {1, 0, 0, 2, 0, 0}, "medical x2, general knowledge"},
    {"light", {2, 1, 1, 0, 0, 0}, "as overall, on at most 6 GiB, speed weighs more"},
};
enum { N_PRESETS = sizeof PRESETS / sizeof PRESETS[0] };

int xuan_pick_preset(const char *name, double weight[XUAN_TASK_COUNT], xuan_error *err) {
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcasecmp(name, PRESETS[i].name)) {
            memcpy(weight, PRESETS[i].w, sizeof PRESETS[i].w);
            return 0;
        }
    const char *names[N_PRESETS];
    for (int i = 0; i < N_PRESETS; i++) names[i] = PRESETS[i].name;
    const char *near = xuan_closest(name, names, N_PRESETS);
    if (near)
        return xuan_fail(err, XUAN_ERR_USAGE, "unknown preset '%s'; did you mean '%s'? (overall, math, code, light, medical)", name, near);
    return xuan_fail(err, XUAN_ERR_USAGE, "unknown preset '%s' (overall, math, code, light, medical)", name);
}

/* ---- engine ------------------------------------------------------------------------ */

/* "Runs in xuan" is the architecture table's word (src/gguf/arch.c), so a
 * family is ranked as runnable the moment the engine learns it.  Mixtral's
 * GGUF says "llama" but stores experts as ffn_*_exps, which the engine does
 * not load: its catalog arch string is "mixtral" and so finds no entry. */
bool xuan_pick_engine_runs(const char *arch) {
    const xuan_arch_info *a = arch ? xuan_arch_find(arch, strlen(arch)) : NULL;
    return a && a->runs;
}

bool xuan_pick_published(const xuan_model_info *m, xuan_quant q) {
    return m && (unsigned)q < XUAN_QUANT_COUNT && m->gguf_repo && m->gguf_file[q];
}

int xuan_pick_resolve(const xuan_catalog *cat, const char *name, char *out, size_t cap,
                      xuan_error *err) {
    char id[256];
    if (!name || snprintf(id, sizeof id, "%s", name) >= (int)sizeof id)
        return xuan_fail(err, XUAN_ERR_USAGE, "model name too long");
    char *colon = strchr(id, ':');
    const char *qname = "Q4_K_M";
    if (colon) *colon = 0, qname = colon + 1;
    xuan_quant q;
    if (xuan_quant_from_name(qname, &q) != 0)
        return xuan_fail(err, XUAN_ERR_USAGE, "unknown quant '%s' (Q2_K Q3_K_M Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 F16)", qname);
    const xuan_model_info *m = xuan_catalog_lookup(cat, id, err);
    if (!m) return XUAN_ERR_NOTFOUND;
    if (!xuan_pick_published(m, q))
        return xuan_fail(err, XUAN_ERR_NOTFOUND, "the catalog records no %s GGUF file for %s", qname, m->id);
    char dir[1024];
    int n = snprintf(out, cap, "%s/%s", xuan_models_dir(dir, sizeof dir), m->gguf_file[q]);
    if (n < 0 || (size_t)n >= cap) return xuan_fail(err, XUAN_ERR_USAGE, "model path too long");
    return 0;
}

/* ---- scores ------------------------------------------------------------------------- */

double xuan_score_trust(const xuan_score *s) {
    double t;
    if (!strcmp(s->kind, "measured")) t = 1.0;
    else if (!strcmp(s->kind, "official"))
        t = s->verification && !strncmp(s->verification, "verified", 8) ? 1.0 : 0.97;
    else if (!strcmp(s->kind, "third-party")) t = 0.93;
    else t = 0.8; /* seed-estimate */
    if (s->base_model) t *= 0.9;
    return t;
}

static bool is_measured(const xuan_score *s) { return !strcmp(s->kind, "measured"); }

/* A measured result replaces every published one of the same model and
 * benchmark; of two measured ones the later run wins. */
static bool better_record(const xuan_score *s, const xuan_score *best) {
    if (!best) return true;
    if (is_measured(s) != is_measured(best)) return is_measured(s);
    if (is_measured(s)) return s->measured_seq > best->measured_seq;
    return xuan_score_trust(s) > xuan_score_trust(best) ||
           (xuan_score_trust(s) == xuan_score_trust(best) && s->value > best->value);
}

const xuan_score *xuan_pick_best_score(const xuan_catalog *cat, const char *model,
                                       const char *benchmark) {
    const xuan_score *best = NULL;
    for (size_t i = 0; i < cat->n_scores; i++) {
        const xuan_score *s = &cat->scores[i];
        if (strcasecmp(s->model, model) || strcmp(s->benchmark, benchmark)) continue;
        /* A seed figure contradicted by a published one never counts. */
        if (s->disagrees) continue;
        if (better_record(s, best)) best = s;
    }
    return best;
}

/* ---- measured records: which ones a ranking sees ------------------------------------
 *
 * A measured result holds for the quant it was measured at.  A ranking
 * sees, of each model's measured records, only those at the quant its row
 * runs (quant_of[model index]; -1: none), and every published record.  The
 * view shares the catalog's strings; only its score array is its own. */

static int catalog_view(const xuan_catalog *cat, const int *quant_of, xuan_catalog *view) {
    *view = *cat;
    view->scores = xuan_calloc(cat->n_scores ? cat->n_scores : 1, sizeof *view->scores);
    if (!view->scores) return XUAN_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < cat->n_scores; i++) {
        const xuan_score *s = &cat->scores[i];
        if (is_measured(s)) {
            const xuan_model_info *m = xuan_catalog_find(cat, s->model);
            int q = m ? quant_of[m - cat->models] : -1;
            if (q < 0 || !s->quant || strcasecmp(s->quant, xuan_quant_name((xuan_quant)q))) continue;
        }
        view->scores[k++] = *s;
    }
    view->n_scores = k;
    return 0;
}

/* Each model's quant of its latest measured record, or -1. */
static int *latest_measured_quants(const xuan_catalog *cat) {
    int *q = xuan_alloc_array(cat->n_models ? cat->n_models : 1, sizeof *q);
    uint32_t *seq = xuan_calloc(cat->n_models ? cat->n_models : 1, sizeof *seq);
    if (!q || !seq) {
        xuan_free(q), xuan_free(seq);
        return NULL;
    }
    for (size_t i = 0; i < cat->n_models; i++) q[i] = -1;
    for (size_t i = 0; i < cat->n_scores; i++) {
        const xuan_score *s = &cat->scores[i];
        xuan_quant qq;
        const xuan_model_info *m = is_measured(s) ? xuan_catalog_find(cat, s->model) : NULL;
        if (!m || !s->quant || xuan_quant_from_name(s->quant, &qq) || s->measured_seq < seq[m - cat->models])
            continue;
        seq[m - cat->models] = s->measured_seq;
        q[m - cat->models] = (int)qq;
    }
    xuan_free(seq);
    return q;
}

static char mark_of(const xuan_score *s) {
    if (!strcmp(s->kind, "measured")) return 'm';
    if (!strcmp(s->kind, "seed-estimate")) return 's';
    if (s->base_model) return 'b';
    return !strcmp(s->kind, "official") ? 'o' : 't';
}

/* The benchmarks of a task, headline first. */
static const char *const BENCH[XUAN_TASK_COUNT][10] = {
    [XUAN_TASK_GENERAL] = {"MMLU", "MMLU-Pro", "MMLU-redux", "GPQA", "GPQA Diamond pass@1", "BBH", NULL},
    [XUAN_TASK_MATH] = {"MATH", "MATH-500", "GSM8K", "AIME 2024 pass@1", "AIME 2025", "HMMT 2025", "MGSM", NULL},
    [XUAN_TASK_CODE] = {"HumanEval", "MBPP", "EvalPlus", "HumanEval+", "MBPP+", "LiveCodeBench pass@1",
                        "LiveCodeBench v6", "MultiPL-E", NULL},
    [XUAN_TASK_MED] = {"MedQA", "MedMCQA", "PubMedQA", "MMLU Med", "C-Eval medical subjects (val, 5-shot)", NULL},
    /* No developer publishes an IT/AI benchmark for a catalog model; the
     * C-Eval computer subjects are published by a third party for two of
     * them (vllm-ascend's accuracy reports: too few to place in a fit, so
     * such a cell is the accuracy itself, task_cell). */
    [XUAN_TASK_IT] = {"C-Eval IT/AI subjects (val, 5-shot)", NULL},
    [XUAN_TASK_ZH] = {"C-Eval", "CMMLU", NULL},
};

/* A benchmark counts toward a task only when at least this many in-scope
 * models report it: then its spread reflects the field, not one family.
 * Benchmarks mostly published for reasoning models (AIME, GPQA Diamond,
 * LiveCodeBench: R1 distills and Qwen3) or by one vendor (EvalPlus: three
 * Qwen3 base models) have fewer and would rank a model only against that
 * group. */
#define MIN_MODELS_PER_BENCH 8
/* Medical results are published by few developers (Google's MedGemma tables,
 * Microsoft's Phi-3 report): 3 in-scope reporters are enough there, or the
 * only real medical data would never count.  The points are then coarse
 * (thirds), and --explain shows the field size. */
#define MIN_MODELS_PER_MED_BENCH 3

static int min_reporters(const char *bench) {
    for (int b = 0; BENCH[XUAN_TASK_MED][b]; b++)
        if (!strcmp(bench, BENCH[XUAN_TASK_MED][b])) return MIN_MODELS_PER_MED_BENCH;
    return MIN_MODELS_PER_BENCH;
}

/* The benchmarks of task t that xuan pick counts: the table above, then the
 * measured-only benchmarks the catalog's eval_tasks add (MMLU's IT/AI
 * subjects ...).  NULL past the end. */
static const char *task_bench(const xuan_catalog *cat, xuan_task t, size_t b) {
    size_t n = 0;
    while (BENCH[t][n]) n++;
    if (b < n) return BENCH[t][b];
    b -= n;
    for (size_t i = 0; i < cat->n_eval_tasks; i++) {
        const xuan_eval_task_map *e = &cat->eval_tasks[i];
        xuan_task et;
        if (xuan_task_from_name(e->task, &et) || et != t) continue;
        bool listed = false;
        for (size_t k = 0; k < n; k++) listed |= !strcmp(BENCH[t][k], e->benchmark);
        for (size_t k = 0; k < i && !listed; k++) listed |= !strcmp(cat->eval_tasks[k].benchmark, e->benchmark);
        if (!listed && b-- == 0) return e->benchmark;
    }
    return NULL;
}

/* A benchmark nobody publishes has no field to place a result in: its
 * measured results are not games, their accuracy is the cell's score when
 * the model has nothing else in the task (task_cell). */
static bool measured_only(const xuan_catalog *cat, const char *bench) {
    for (size_t i = 0; i < cat->n_scores; i++)
        if (!strcmp(cat->scores[i].benchmark, bench) && !is_measured(&cat->scores[i])) return false;
    return true;
}

bool xuan_score_has_source(const xuan_score *s) {
    if (!s || !s->source) return false;
    for (const char *p = s->source; *p; p++)
        if (*p != ' ' && *p != '\t') return true;
    return false;
}

double xuan_pick_bench_points(const xuan_catalog *cat, const char *bench, const char *model,
                              double value, int *n_models) {
    int others = 0, n = 0;
    double below = 0;
    for (size_t i = 0; i < cat->n_models; i++) {
        if (!cat->models[i].in_scope) continue;
        const xuan_score *s = xuan_pick_best_score(cat, cat->models[i].id, bench);
        if (!s) continue;
        n++;
        if (model && !strcasecmp(cat->models[i].id, model)) continue;
        others++;
        if (s->value < value) below += 1;
        else if (s->value == value) below += 0.5;
    }
    if (n_models) *n_models = n;
    if (n < min_reporters(bench) || others == 0 || measured_only(cat, bench)) return -1;
    return 100 * below / others;
}

/* ---- task scores: one Bradley-Terry fit per task ------------------------------------
 *
 * A benchmark's raw numbers do not compare across benchmarks (GSM8K 90 is
 * easy, AIME 47 is not), and the share of a benchmark's reporters a model
 * beats depends on who reports it: AIME 2025 and LiveCodeBench v6 are
 * published almost only for reasoning models, so a strong non-thinking model
 * that reports them ranked last on them and scored 0 in math and code.  So a
 * task score comes from every comparison the task's benchmarks give: for
 * each counted benchmark, each pair of models reporting it is one game (the
 * higher result wins, a tie is half a win each).  A Bradley-Terry fit gives
 * each model a strength p such that P(a beats b) = p_a / (p_a + p_b); losing
 * to strong models costs little, beating weak ones earns little, and models
 * that never met are compared through the ones they both met.  Each model
 * also plays one virtual game against a model of strength 1 and draws it,
 * which keeps the fit finite (a model that won every game) and ties
 * unconnected groups to one scale.  The task score is the share of the other
 * models with a result in the task that the model is expected to beat,
 * 0..100, times the mean trust of the records it used. */

typedef struct task_fit {
    size_t n;           /* cat->n_models */
    double *points;     /* per model: 0..100, NAN = no counted result */
    double *trust;      /* per model: mean trust of its counted records */
    int *n_bench;       /* per model: counted benchmarks */
} task_fit;

static void task_fit_free(task_fit *f) {
    xuan_free(f->points);
    xuan_free(f->trust);
    xuan_free(f->n_bench);
    *f = (task_fit){0};
}

static int fit_task(const xuan_catalog *cat, xuan_task t, task_fit *f) {
    const size_t n = cat->n_models;
    *f = (task_fit){.n = n};
    f->points = xuan_calloc(n ? n : 1, sizeof *f->points);
    f->trust = xuan_calloc(n ? n : 1, sizeof *f->trust);
    f->n_bench = xuan_calloc(n ? n : 1, sizeof *f->n_bench);
    double *games = xuan_alloc_array(n ? n : 1, (n ? n : 1) * sizeof *games); /* games[a * n + b] */
    double *wins = xuan_calloc(n ? n : 1, sizeof *wins), *p = xuan_calloc(n ? n : 1, sizeof *p);
    double *val = xuan_calloc(n ? n : 1, sizeof *val);
    if (!f->points || !f->trust || !f->n_bench || !games || !wins || !p || !val) {
        xuan_free(games), xuan_free(wins), xuan_free(p), xuan_free(val);
        task_fit_free(f);
        return XUAN_ERR_NOMEM;
    }
    memset(games, 0, (n ? n : 1) * (n ? n : 1) * sizeof *games);
    for (size_t i = 0; i < n; i++) f->points[i] = NAN;
    const char *bench;
    for (size_t b = 0; (bench = task_bench(cat, t, b)) != NULL; b++) {
        /* every model plays (references too: more links between the
         * groups), but only in-scope reporters make a benchmark count */
        int reporters = 0;
        for (size_t i = 0; i < n; i++) {
            const xuan_score *s = xuan_pick_best_score(cat, cat->models[i].id, bench);
            val[i] = s ? s->value : NAN;
            if (s && cat->models[i].in_scope) reporters++;
        }
        if (reporters < min_reporters(bench) || measured_only(cat, bench)) continue;
        for (size_t i = 0; i < n; i++)
            if (!isnan(val[i])) f->trust[i] += xuan_score_trust(xuan_pick_best_score(cat, cat->models[i].id, bench));
        for (size_t i = 0; i < n; i++) {
            if (isnan(val[i])) continue;
            f->n_bench[i]++;
            for (size_t j = i + 1; j < n; j++) {
                if (isnan(val[j])) continue;
                games[i * n + j] += 1, games[j * n + i] += 1;
                if (val[i] > val[j]) wins[i] += 1;
                else if (val[i] < val[j]) wins[j] += 1;
                else wins[i] += 0.5, wins[j] += 0.5;
            }
        }
    }
    /* Hunter's MM iteration, with the virtual draw against strength 1 */
    for (size_t i = 0; i < n; i++) p[i] = 1;
    for (int it = 0; it < 300; it++) {
        double moved = 0;
        for (size_t i = 0; i < n; i++) {
            if (!f->n_bench[i]) continue;
            double den = 1 / (p[i] + 1);
            for (size_t j = 0; j < n; j++)
                if (games[i * n + j] > 0) den += games[i * n + j] / (p[i] + p[j]);
            double q = (wins[i] + 0.5) / den;
            moved = fmax(moved, fabs(log(q / p[i])));
            p[i] = q;
        }
        if (moved < 1e-9) break;
    }
    /* the share of the other in-scope models with a result it would beat */
    for (size_t i = 0; i < n; i++) {
        if (!f->n_bench[i]) continue;
        f->trust[i] /= f->n_bench[i];
        double e = 0;
        int others = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i && f->n_bench[j] && cat->models[j].in_scope) e += p[i] / (p[i] + p[j]), others++;
        f->points[i] = others ? 100 * e / others : 50;
    }
    xuan_free(games), xuan_free(wins), xuan_free(p), xuan_free(val);
    return 0;
}

static void direct_cell(const xuan_catalog *cat, const task_fit *f, const xuan_model_info *m, xuan_task t,
                        xuan_task_cell *c) {
    *c = (xuan_task_cell){.shown = NAN, .mark = '-'};
    const size_t i = (size_t)(m - cat->models);
    if (i >= f->n || isnan(f->points[i])) return;
    double best_trust = 0;
    const char *bench;
    for (size_t b = 0; (bench = task_bench(cat, t, b)) != NULL; b++) {
        const xuan_score *s = xuan_pick_best_score(cat, m->id, bench);
        if (!s || xuan_pick_bench_points(cat, bench, m->id, s->value, NULL) < 0) continue;
        /* Headline: a measured result, else the most trusted one, the task's
         * first benchmark on ties. */
        double rank = xuan_score_trust(s) + (is_measured(s) ? 1 : 0);
        if (isnan(c->shown) || rank > best_trust) {
            best_trust = rank;
            c->shown = s->value;
            c->benchmark = s->benchmark;
            c->mark = mark_of(s);
            c->source = s->source;
        }
    }
    c->n_benchmarks = f->n_bench[i];
    c->score = f->points[i] * f->trust[i];
}

static void task_cell(const xuan_catalog *cat, const task_fit fits[XUAN_TASK_COUNT], const xuan_model_info *m,
                      xuan_task t, xuan_task_cell *out) {
    direct_cell(cat, &fits[t], m, t, out);
    if (out->n_benchmarks) return;
    /* Measured only on benchmarks nobody publishes (MMLU's IT/AI subjects
     * ...): no field to place it in, so its accuracy is the score (the mean
     * when there are several). */
    double sum = 0;
    int k = 0;
    const char *bench;
    for (size_t b = 0; (bench = task_bench(cat, t, b)) != NULL; b++) {
        const xuan_score *s = xuan_pick_best_score(cat, m->id, bench);
        if (!s || !is_measured(s) || !measured_only(cat, bench)) continue;
        if (!k) out->shown = s->value, out->benchmark = s->benchmark, out->source = s->source;
        sum += s->value, k++;
    }
    if (k) {
        out->score = sum / k;
        out->mark = 'm';
        out->n_benchmarks = k;
        out->measured_alone = true;
        return;
    }
    /* Medical and IT/AI: a published subject-subset result that too few
     * models report to count in the fit is still real data: its accuracy
     * (times the record's trust) is the score, rather than the general one. */
    if (t == XUAN_TASK_MED || t == XUAN_TASK_IT) {
        for (size_t b = 0; (bench = task_bench(cat, t, b)) != NULL; b++) {
            const xuan_score *s = xuan_pick_best_score(cat, m->id, bench);
            if (!s || is_measured(s) || xuan_pick_bench_points(cat, bench, m->id, s->value, NULL) >= 0) continue;
            if (!k) out->shown = s->value, out->benchmark = s->benchmark, out->source = s->source, out->mark = mark_of(s);
            sum += s->value * xuan_score_trust(s), k++;
        }
        if (k) {
            out->score = sum / k;
            out->n_benchmarks = k;
            out->published_alone = true;
            return;
        }
    }
    if (t == XUAN_TASK_GENERAL) return;
    /* No result for this task: borrow the general score at a penalty.  For
     * medical and IT questions general knowledge (MMLU) is the accepted proxy
     * (scores.json caveats); for math/code/zh it is only a guess. */
    xuan_task_cell g;
    direct_cell(cat, &fits[XUAN_TASK_GENERAL], m, XUAN_TASK_GENERAL, &g);
    double penalty = (t == XUAN_TASK_MED || t == XUAN_TASK_IT) ? 0.85 : 0.7;
    out->score = g.score * penalty;
    /* 'g': nothing medical / IT is published for this model, and the cell
     * says so: the general score stands in.  '~' (math, code, zh): a guess. */
    out->mark = t == XUAN_TASK_MED || t == XUAN_TASK_IT ? 'g' : '~';
    out->shown = g.shown;
    out->benchmark = g.benchmark;
    if (!g.n_benchmarks) out->mark = '-';
}

void xuan_pick_task_cell(const xuan_catalog *cat, const xuan_model_info *m, xuan_task t,
                         xuan_task_cell *out) {
    task_fit fits[XUAN_TASK_COUNT] = {{0}};
    xuan_catalog view = {0};
    int *quants = latest_measured_quants(cat);
    int rc = !quants || catalog_view(cat, quants, &view) ? XUAN_ERR_NOMEM : 0;
    if (!rc) rc = fit_task(&view, t, &fits[t]);
    if (!rc && t != XUAN_TASK_GENERAL) rc = fit_task(&view, XUAN_TASK_GENERAL, &fits[XUAN_TASK_GENERAL]);
    if (rc) *out = (xuan_task_cell){.shown = NAN, .mark = '-'};
    else task_cell(&view, fits, m, t, out);
    if (!rc && quants[m - cat->models] >= 0 && out->mark == 'm') out->quant = (xuan_quant)quants[m - cat->models];
    task_fit_free(&fits[t]);
    task_fit_free(&fits[XUAN_TASK_GENERAL]);
    xuan_free(view.scores);
    xuan_free(quants);
}

/* ---- fit -------------------------------------------------------------------------------- */

#define GiB (1ull << 30)

static uint64_t headroom(uint64_t mem) {
    /* The OS, a browser, the shell: keep 10%, at least 1 GiB. */
    uint64_t h = mem / 10;
    return h < GiB ? GiB : h;
}

static double speed_factor(double tps, bool light) {
    /* A reply is comfortable to follow from about 5 tok/s (a reader's pace,
     * ~250 words a minute); below that the score falls with the square root
     * of the shortfall: a 14B at 1.6 tok/s on two cores (x0.57) takes three
     * minutes for a 300-token answer, which the best benchmark lead does not
     * make up for.  light wants ~15 tok/s and speed counts in full. */
    double target = light ? 15 : 5, x = tps / target;
    if (x > 1) x = 1;
    if (x < 0) x = 0;
    return light ? x : sqrt(x);
}

/* Models that always write a long chain of thought before answering spend
 * several times more tokens per answer: for ranking, their generation speed
 * counts divided by the think factor (pick.h, XUAN_PICK_THINK_FACTOR, where
 * it comes from).  Hybrid models are ranked with thinking off. */
double xuan_pick_think_factor(const xuan_model_info *m, double factor) {
    if (!m) return 1;
    bool always = (m->thinking && !strcmp(m->thinking, "always")) ||
                  (!m->thinking && m->chat_template && strstr(m->chat_template, "R1-distill"));
    if (!always) return 1;
    return factor >= 1 ? factor : XUAN_PICK_THINK_FACTOR;
}

static double ranking_speed(const xuan_pick_row *r, double tps) {
    return tps / (r->think_factor >= 1 ? r->think_factor : 1);
}

/* Chooses the quant with the best quality x speed that fits; false if none.
 * published_only: only quants whose GGUF file the catalog records. */
static bool fit_model(const xuan_model_info *m, const xuan_hw *hw, uint32_t n_ctx, uint64_t ram_budget,
                      bool light, double min_speed, bool published_only, xuan_pick_row *row,
                      xuan_error *err) {
    bool any_fit = false;
    double best = -1e9; /* below any f, including the sub-4-bit ones */
    bool any = false;
    uint64_t smallest_need = UINT64_MAX;
    int smallest_q = 0;
    for (int q = 0; q < XUAN_QUANT_COUNT; q++) {
        if (published_only && !xuan_pick_published(m, (xuan_quant)q)) continue;
        xuan_weights w;
        xuan_mem_input in;
        if (xuan_model_weights(m, (xuan_quant)q, &w, err) != 0 ||
            xuan_model_mem_input(m, (xuan_quant)q, n_ctx, &in, err) != 0)
            return false;
        xuan_mem_estimate e;
        xuan_mem_estimate_compute(&in, &e);
        if (e.total < smallest_need) smallest_need = e.total, smallest_q = q;
        bool gpu = hw->vram_total && e.total + headroom(0) / 2 <= hw->vram_total;
        bool fits = gpu || e.total <= ram_budget;
        if (!fits) continue;
        xuan_speed sp;
        xuan_speed_estimate(m, (xuan_quant)q, &w, &e, hw, gpu, &sp);
        if (!any_fit || sp.gen_tps > row->speed.gen_tps) {
            /* Remember the fastest fit, to report it if --min-speed rejects all. */
            if (!any) row->speed = sp, row->quant = (xuan_quant)q, row->mem = e, row->weights = w;
        }
        any_fit = true;
        if (min_speed > 0 && sp.gen_tps < min_speed) continue;
        double f = xuan_quant_quality((xuan_quant)q) * speed_factor(ranking_speed(row, sp.gen_tps), light);
        /* Below 4 bits answers degrade visibly (Q3_K_M +0.66 perplexity on
         * Llama-3-8B vs +0.18 for Q4_K_M): such a mix is chosen only when no
         * 4-bit-or-better one fits, never to win a little speed. */
        if (q < XUAN_QUANT_Q4_0) f -= 10;
        if (f > best) {
            best = f;
            any = true;
            row->quant = (xuan_quant)q;
            row->weights = w;
            row->mem = e;
            row->speed = sp;
        }
    }
    row->fits = any;
    if (!any && any_fit) {
        snprintf(row->excluded, sizeof row->excluded, "--min-speed %.1f: fastest fit %s runs ~%.1f tok/s",
                 min_speed, xuan_quant_name(row->quant), row->speed.gen_tps);
    } else if (!any) {
        char need[32], have[32];
        snprintf(row->excluded, sizeof row->excluded, "does not fit: needs %s even at %s%s with %u context, budget %s",
                 xuan_fmt_bytes(smallest_need, need, sizeof need), xuan_quant_name((xuan_quant)smallest_q),
                 published_only ? " (smallest published file)" : "", n_ctx,
                 xuan_fmt_bytes(ram_budget, have, sizeof have));
    }
    return true;
}

uint32_t xuan_pick_ctx_for_budget(const xuan_model_info *m, xuan_quant q, uint64_t budget) {
    uint32_t cap = m->ctx_extended > m->ctx_native ? m->ctx_extended : m->ctx_native;
    if (!cap) cap = 4096;
    xuan_mem_input in;
    xuan_mem_estimate e;
    if (xuan_model_mem_input(m, q, 1024, &in, NULL) != 0) return 0;
    xuan_mem_estimate_compute(&in, &e);
    if (e.total > budget) return 0;
    if (e.kv_bytes_per_token == 0) return cap / 1024 * 1024;
    /* Everything but the KV is (nearly) constant in n_ctx with flash
     * attention on: solve for the KV that is left, then check. */
    uint64_t fixed = e.total - e.kv_cache;
    uint64_t n = (budget - fixed) / e.kv_bytes_per_token;
    if (n > cap) n = cap;
    uint32_t ctx = (uint32_t)(n / 1024 * 1024);
    while (ctx > 1024) {
        in.n_ctx = ctx;
        xuan_mem_estimate_compute(&in, &e);
        if (e.total <= budget) break;
        ctx -= 1024;
    }
    return ctx;
}

/* ---- ranking --------------------------------------------------------------------------- */

static bool license_ok(const xuan_model_info *m, const char *list) {
    if (!list || !*list) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (m->license_class && !strcasecmp(tok, m->license_class)) return true;
        if (m->license_short && !strcasecmp(tok, m->license_short)) return true;
    }
    return false;
}

static int cmp_rows(const void *a, const void *b) {
    const xuan_pick_row *x = a, *y = b;
    bool rx = !x->excluded[0], ry = !y->excluded[0];
    if (rx != ry) return rx ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(x->m->id, y->m->id);
}

/* The why line of a ranked row: the evidence that carries most weight, the
 * three factors of the score, and how the row trades against #1 (the usual
 * question: "why not the bigger one?"). */
static void write_why(xuan_pick_row *r, const xuan_pick_row *top, const double *w,
                      const xuan_pick_result *res, bool light) {
    int main_t = 0;
    for (int t = 0; t < XUAN_TASK_COUNT; t++)
        if (w[t] * r->cell[t].score > w[main_t] * r->cell[main_t].score) main_t = t;
    const xuan_task_cell *c = &r->cell[main_t];
    char need[32], bud[32], ev[96] = "no published result", vs[96] = "", think[48] = "", ctx[48] = "";
    if (r->think_factor > 1) snprintf(think, sizeof think, ", always thinks: counted /%g", r->think_factor);
    if (r->ctx_fit) snprintf(ctx, sizeof ctx, "; context up to %uK fits", r->ctx_fit / 1024);
    if (!isnan(c->shown))
        snprintf(ev, sizeof ev, "%s %.1f%s", c->benchmark, c->shown,
                 c->mark == 'o' ? " official" : c->mark == 't' ? " third-party" : c->mark == 'b' ? " (base model)"
                 : c->mark == 'm' ? " measured" : c->mark == '~' ? " as a proxy"
                 : c->mark == 'g' ? " (general score: nothing published)" : " seed estimate");
    double sf = speed_factor(ranking_speed(r, r->speed.gen_tps), light);
    if (r != top) {
        if (r->quality > top->quality)
            snprintf(vs, sizeof vs, "; vs #1: stronger (%.0f vs %.0f) but %.1f vs %.1f tok/s", r->quality,
                     top->quality, r->speed.gen_tps, top->speed.gen_tps);
        else if (r->speed.gen_tps > top->speed.gen_tps)
            snprintf(vs, sizeof vs, "; vs #1: %.1fx faster, weaker (%.0f vs %.0f)",
                     r->speed.gen_tps / (top->speed.gen_tps > 0 ? top->speed.gen_tps : 1), r->quality, top->quality);
        else
            snprintf(vs, sizeof vs, "; vs #1: weaker (%.0f vs %.0f) and not faster", r->quality, top->quality);
    }
    snprintf(r->why, sizeof r->why, "%s: %s; quality %.0f x %s %.3g x speed %.2f (~%.1f tok/s%s%s); %s of %s%s%s%s%s%s",
             xuan_task_name((xuan_task)main_t), ev, r->quality, xuan_quant_name(r->quant),
             xuan_quant_quality(r->quant), sf, r->speed.gen_tps, r->speed.gen_measured ? " measured" : " est.",
             think, xuan_fmt_bytes(r->mem.total, need, sizeof need), xuan_fmt_bytes(res->budget, bud, sizeof bud), ctx,
             r->m->chinese && !strcmp(r->m->chinese, "native") ? "; native Chinese" : "",
             r->n_proxy ? "; ~/g columns stand in for missing results" : "", r->runs_in_xuan ? "" : "; runs in llama.cpp, not xuan",
             vs);
}

int xuan_pick_run(const xuan_catalog *cat, const xuan_hw *hw, const xuan_pick_opts *o,
                  xuan_pick_result *res, xuan_error *err) {
    *res = (xuan_pick_result){0};
    double w[XUAN_TASK_COUNT] = {0}, wsum = 0;
    const char *preset = o->preset ? o->preset : "overall";
    for (int t = 0; t < XUAN_TASK_COUNT; t++) wsum += o->weight[t];
    res->preset = wsum > 0 ? "custom" : preset;
    if (wsum > 0) memcpy(w, o->weight, sizeof w);
    else if (xuan_pick_preset(preset, w, err) != 0) return XUAN_ERR_USAGE;
    bool light = wsum <= 0 && !strcasecmp(preset, "light");
    if (o->lang_zh && w[XUAN_TASK_ZH] == 0) w[XUAN_TASK_ZH] = 1;
    wsum = 0;
    for (int t = 0; t < XUAN_TASK_COUNT; t++) wsum += w[t];
    if (wsum <= 0) return xuan_fail(err, XUAN_ERR_USAGE, "every task weight is zero");
    memcpy(res->weight, w, sizeof w);

    uint32_t n_ctx = o->n_ctx ? o->n_ctx : 4096;
    uint64_t mem = hw->planned ? hw->ram_total : hw->ram_available;
    res->budget = mem > headroom(mem) ? mem - headroom(mem) : 0;
    if (light && res->budget > 6 * GiB) res->budget = 6 * GiB;
    if (hw->vram_total) {
        uint64_t v = hw->vram_total - hw->vram_total / 20;
        if (v > res->budget) res->budget = v;
    }

    res->rows = xuan_calloc(cat->n_models, sizeof *res->rows);
    bool *ranked = xuan_calloc(cat->n_models ? cat->n_models : 1, sizeof *ranked);
    int *quant_of = latest_measured_quants(cat);
    if (!res->rows || !ranked || !quant_of) {
        xuan_free(ranked), xuan_free(quant_of);
        xuan_pick_result_free(res);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    /* First what fits and at which quant (it depends on memory and speed
     * only), then the task scores, which see a model's measured results
     * at the quant its row runs. */
    for (size_t i = 0; i < cat->n_models; i++) {
        const xuan_model_info *m = &cat->models[i];
        xuan_pick_row *r = &res->rows[res->n_rows++];
        r->m = m;
        r->runs_in_xuan = xuan_pick_engine_runs(m->arch);
        r->think_factor = xuan_pick_think_factor(m, o->think_factor);
        if (!m->runnable) {
            snprintf(r->excluded, sizeof r->excluded, "reference only: %s",
                     m->scope_reason ? m->scope_reason : "cannot be run locally");
            continue;
        }
        if (!m->in_scope && !o->all_sizes) {
            snprintf(r->excluded, sizeof r->excluded, "outside the <=14B scope: %s (--all-sizes to include)",
                     m->scope_reason ? m->scope_reason : "too large");
            continue;
        }
        if (o->lang_zh && (!m->chinese || strcmp(m->chinese, "native"))) {
            snprintf(r->excluded, sizeof r->excluded, "--lang zh: Chinese support is %s, not native",
                     m->chinese ? m->chinese : "unknown");
            continue;
        }
        if (!license_ok(m, o->license)) {
            snprintf(r->excluded, sizeof r->excluded, "--license %s: license is %s", o->license,
                     m->license ? m->license : "unknown");
            continue;
        }
        bool any_file = false;
        for (int k = 0; k < XUAN_QUANT_COUNT; k++) any_file |= xuan_pick_published(m, (xuan_quant)k);
        if (!o->runtime_any && !r->runs_in_xuan) {
            snprintf(r->excluded, sizeof r->excluded,
                     "architecture %s: not in xuan's engine yet; llama.cpp runs it (--runtime any to rank it)",
                     m->arch ? m->arch : "unknown");
            continue;
        }
        if (!o->runtime_any && !any_file) {
            bool listed = false;
            for (int k = 0; k < XUAN_QUANT_COUNT; k++) listed |= m->gguf_file[k] != NULL;
            if (listed && !m->gguf_repo)
                snprintf(r->excluded, sizeof r->excluded,
                         "runs in xuan, but the only GGUF listing recorded is not on a Hugging Face hub "
                         "(ollama); convert %s with convert_hf_to_gguf.py (--runtime any to rank it)",
                         m->hf_repo ? m->hf_repo : m->id);
            else if (m->gguf_repo)
                snprintf(r->excluded, sizeof r->excluded,
                         "runs in xuan, but the catalog names %s without a file per quant "
                         "(xuan pull --file NAME; --runtime any to rank it)", m->gguf_repo);
            else
                snprintf(r->excluded, sizeof r->excluded,
                         "runs in xuan, but no published GGUF is recorded: convert %s with "
                         "convert_hf_to_gguf.py (--runtime any to rank it)", m->hf_repo ? m->hf_repo : m->id);
            continue;
        }
        if (!fit_model(m, hw, n_ctx, res->budget, light, o->min_speed, !o->runtime_any, r, err)) {
            snprintf(r->excluded, sizeof r->excluded, "%.300s", err ? err->msg : "no shapes");
            continue;
        }
        if (!r->fits) continue;
        if (m->ctx_native && n_ctx > (m->ctx_extended > m->ctx_native ? m->ctx_extended : m->ctx_native)) {
            snprintf(r->excluded, sizeof r->excluded, "context %u is beyond what the model supports (%u)",
                     n_ctx, m->ctx_extended > m->ctx_native ? m->ctx_extended : m->ctx_native);
            continue;
        }
        r->ctx_fit = xuan_pick_ctx_for_budget(m, r->quant, res->budget);
        ranked[i] = true;
        res->n_ranked++;
    }
    for (size_t i = 0; i < res->n_rows; i++)
        if (res->rows[i].fits) quant_of[i] = (int)res->rows[i].quant;
    xuan_catalog view;
    task_fit fits[XUAN_TASK_COUNT] = {{0}};
    int rc = catalog_view(cat, quant_of, &view);
    for (int t = 0; t < XUAN_TASK_COUNT && !rc; t++) rc = fit_task(&view, (xuan_task)t, &fits[t]);
    if (rc) {
        for (int t = 0; t < XUAN_TASK_COUNT; t++) task_fit_free(&fits[t]);
        xuan_free(view.scores);
        xuan_free(ranked), xuan_free(quant_of);
        xuan_pick_result_free(res);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < res->n_rows; i++) {
        xuan_pick_row *r = &res->rows[i];
        for (int t = 0; t < XUAN_TASK_COUNT; t++) {
            task_cell(&view, fits, r->m, (xuan_task)t, &r->cell[t]);
            if (r->cell[t].mark == 'm') r->cell[t].quant = (xuan_quant)quant_of[i];
            if (w[t] > 0 && (r->cell[t].mark == '~' || r->cell[t].mark == 'g')) r->n_proxy++;
        }
        double q = 0;
        for (int t = 0; t < XUAN_TASK_COUNT; t++) q += w[t] * r->cell[t].score;
        r->quality = q / wsum;
        if (ranked[i])
            r->score = r->quality * xuan_quant_quality(r->quant) *
                       speed_factor(ranking_speed(r, r->speed.gen_tps), light);
    }
    for (int t = 0; t < XUAN_TASK_COUNT; t++) task_fit_free(&fits[t]);
    xuan_free(view.scores);
    xuan_free(ranked), xuan_free(quant_of);
    /* Today's models first: a model is not ranked when a model that
     * supersedes it is (the successor fits, runs and passed every filter). */
    if (!o->include_superseded)
        for (size_t i = 0; i < res->n_rows; i++) {
            xuan_pick_row *r = &res->rows[i];
            if (r->excluded[0] || !r->fits) continue;
            for (int k = 0; k < r->m->n_superseded_by; k++) {
                const xuan_pick_row *succ = NULL;
                for (size_t j = 0; j < res->n_rows; j++)
                    if (!strcasecmp(res->rows[j].m->id, r->m->superseded_by[k])) succ = &res->rows[j];
                if (succ && succ->fits && !succ->excluded[0]) {
                    snprintf(r->excluded, sizeof r->excluded,
                             "superseded by %s, which is ranked (--include-superseded to rank it)", succ->m->id);
                    res->n_ranked--;
                    break;
                }
            }
        }
    qsort(res->rows, res->n_rows, sizeof *res->rows, cmp_rows);
    for (size_t i = 0; i < res->n_ranked; i++) write_why(&res->rows[i], &res->rows[0], w, res, light);
    return 0;
}

void xuan_pick_result_free(xuan_pick_result *res) {
    if (!res) return;
    xuan_free(res->rows);
    *res = (xuan_pick_result){0};
}
