/*
 * xuan report — what the results store holds (docs/eval.md).
 *
 *   xuan report [RUN ...] [--db FILE] [--json]    runs side by side: one row per run (its model),
 *                                                one column per task, the first metric's score
 *   xuan report --run ID [--db FILE] [--json]     one run: its config, every metric of every task
 *                                                with its stderr, tokens and time
 *   xuan report --compare A B [--db FILE]         two runs paired on the items both scored: the
 *                                                difference, its stderr and an exact McNemar p
 *   xuan report [RUN ...] --md FILE --html FILE   the runs as Markdown tables and as one
 *                                                self-contained HTML page with SVG charts
 *                                                (report_doc.c); "-" for stdout
 *
 * Scores come from the stored items (xuan_eval_summarize), so a run still
 * going or interrupted shows what it has so far, with its n.  The store is
 * input like any other: a config that is no JSON is reported by run id and
 * the other runs still print.
 */
#include "cli.h"
#include "report_doc.h"
#include "xuan/eval.h"

#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: xuan report [RUN ...] [--db FILE] [--json]\n"
               "       xuan report [RUN ...] [--db FILE] [--md FILE] [--html FILE]\n"
               "       xuan report --run ID [--db FILE] [--json]\n"
               "       xuan report --compare A B [--db FILE] [--json]\n"
               "  RUN ...      the runs to show side by side (default: every run in the store)\n"
               "  --run ID     one run in detail: config and every metric\n"
               "  --compare    two runs paired on their shared items (exact McNemar test)\n"
               "  --db FILE    the results store (default <cache>/results.db, as xuan eval)\n"
               "  --json       JSON on stdout instead of a table\n"
               "  --md FILE    the runs as Markdown tables (- for stdout)\n"
               "  --html FILE  the runs as one self-contained HTML page with SVG charts (- for stdout)\n");
}

#define MAX_RUNS 1024
#define MAX_COLS 64

typedef struct run_row {
    int64_t id;
    char created[32];
    char model[256];
    json_t *cfg; /* owned */
} run_row;

typedef struct rows {
    run_row *v;
    size_t n;
    const int64_t *only; /* the runs asked for, or NULL */
    size_t n_only;
    int bad;
} rows;

/* "name Q4_K_M" for a local model, "model @ host" for an endpoint. */
static void model_label(json_t *cfg, char *out, size_t n) {
    json_t *m = json_object_get(cfg, "model"), *b = json_object_get(cfg, "backend");
    const char *path = json_string_value(json_object_get(m, "path"));
    if (path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", path);
        const char *q = json_string_value(json_object_get(m, "quant"));
        snprintf(out, n, "%s%s%s", basename(tmp), q ? " " : "", q ? q : "");
        return;
    }
    const char *url = json_string_value(json_object_get(b, "url"));
    const char *name = json_string_value(json_object_get(b, "model"));
    if (url) snprintf(out, n, "%s @ %s", name ? name : "(default)", url);
    else snprintf(out, n, "?");
}

static int on_run(void *ctx, int64_t id, const char *created, const char *config) {
    rows *r = ctx;
    if (r->only) {
        bool want = false;
        for (size_t i = 0; i < r->n_only; i++) want |= r->only[i] == id;
        if (!want) return 0;
    }
    if (r->n == MAX_RUNS) return 1;
    json_t *cfg = json_loads(config, 0, NULL);
    if (!json_is_object(cfg)) {
        cli_error("run %lld: its config is not a JSON object; skipped", (long long)id);
        json_decref(cfg);
        r->bad = 1;
        return 0;
    }
    run_row *w = &r->v[r->n++];
    w->id = id;
    w->cfg = cfg;
    snprintf(w->created, sizeof w->created, "%s", created);
    model_label(cfg, w->model, sizeof w->model);
    return 0;
}

static void rows_free(rows *r) {
    for (size_t i = 0; i < r->n; i++) json_decref(r->v[i].cfg);
    xuan_free(r->v);
}

static const char *task_name(json_t *cfg, size_t i) {
    return json_string_value(json_object_get(json_array_get(json_object_get(cfg, "tasks"), i), "name"));
}

static json_t *summary_json(const xuan_eval_summary *s) {
    json_t *m = json_object();
    for (size_t k = 0; m && k < s->n_metrics; k++) {
        json_t *v = json_pack("{s:f, s:f, s:I}", "score", s->score[k], "stderr", s->stderr_[k], "correct",
                              (json_int_t)s->right[k]);
        if (v && s->k_items) {
            char key[32];
            snprintf(key, sizeof key, "pass@%u", (unsigned)s->k);
            json_object_set_new(v, key, json_real(s->pass_k[k]));
            json_object_set_new(v, "pass@k_stderr", json_real(s->pass_k_stderr[k]));
            json_object_set_new(v, "pass@k_items", json_integer((json_int_t)s->k_items));
        }
        json_object_set_new(m, s->names[k], v);
    }
    return json_pack("{s:I, s:o, s:I, s:f}", "n", (json_int_t)s->n, "metrics", m, "n_gen", (json_int_t)s->n_gen,
                     "wall_s", s->wall_s);
}

static void print_json(json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(o);
}

/* ---- the side-by-side table ------------------------------------------------ */

static int side_by_side(xuan_eval_store *db, rows *r, bool as_json) {
    const char *cols[MAX_COLS];
    size_t n_cols = 0;
    for (size_t i = 0; i < r->n; i++)
        for (size_t t = 0; task_name(r->v[i].cfg, t); t++) {
            const char *name = task_name(r->v[i].cfg, t);
            bool seen = false;
            for (size_t c = 0; c < n_cols; c++) seen |= !strcmp(cols[c], name);
            if (!seen && n_cols < MAX_COLS) cols[n_cols++] = name;
        }
    json_t *out = as_json ? json_array() : NULL;
    if (!as_json) {
        printf("%5s  %-32s %-19s", "run", "model", "created (UTC)");
        for (size_t c = 0; c < n_cols; c++) printf("  %16.16s", cols[c]);
        putchar('\n');
    }
    int rc = 0;
    for (size_t i = 0; i < r->n && !rc; i++) {
        json_t *tasks = as_json ? json_object() : NULL;
        if (!as_json) printf("%5lld  %-32.32s %-19s", (long long)r->v[i].id, r->v[i].model, r->v[i].created);
        for (size_t c = 0; c < n_cols; c++) {
            bool in_run = false;
            for (size_t t = 0; task_name(r->v[i].cfg, t); t++) in_run |= !strcmp(task_name(r->v[i].cfg, t), cols[c]);
            xuan_eval_summary s;
            xuan_error err = {0};
            if (in_run && xuan_eval_summarize(db, r->v[i].id, cols[c], 0, &s, &err) != 0) {
                rc = cli_error("%s", err.msg);
                break;
            }
            if (as_json) {
                if (in_run) json_object_set_new(tasks, cols[c], summary_json(&s));
            } else if (!in_run || !s.n || !s.n_metrics) {
                printf("  %16s", in_run ? "no items" : "-");
            } else {
                char cellb[64];
                snprintf(cellb, sizeof cellb, "%.1f ±%.1f (%zu)", 100 * s.score[0], 100 * s.stderr_[0], s.n);
                printf("  %16s", cellb);
            }
        }
        if (as_json)
            json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:o}", "run", (json_int_t)r->v[i].id, "created",
                                                 r->v[i].created, "model", r->v[i].model, "tasks", tasks));
        else putchar('\n');
    }
    if (as_json) print_json(json_pack("{s:o}", "runs", out));
    else if (n_cols) printf("\nscore: the first metric of each task, %% ± stderr (items); xuan report --run ID for all\n");
    return rc;
}

/* ---- Markdown and HTML ------------------------------------------------------ */

static void doc_run(const run_row *w, rep_run *d) {
    json_t *m = json_object_get(w->cfg, "model");
    d->id = w->id;
    snprintf(d->created, sizeof d->created, "%s", w->created);
    snprintf(d->model, sizeof d->model, "%s", w->model);
    const char *q = json_string_value(json_object_get(m, "quant")), *path = json_string_value(json_object_get(m, "path"));
    size_t at = 0, len = 0;
    const char *found = rep_find_quant(d->model, &at, &len);
    snprintf(d->quant, sizeof d->quant, "%s", q ? q : found ? found : "");
    /* the family: the label without its quant and the separator before it */
    if (found) {
        size_t a = at;
        while (a > 0 && strchr(" -_.", d->model[a - 1])) a--;
        snprintf(d->family, sizeof d->family, "%.*s%s", (int)a, d->model, d->model + at + len);
    } else {
        snprintf(d->family, sizeof d->family, "%s", d->model);
    }
    if (path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", path);
        snprintf(d->file, sizeof d->file, "%s", basename(tmp));
    }
    const char *sha = json_string_value(json_object_get(m, "sha256"));
    snprintf(d->sha, sizeof d->sha, "%.12s", sha ? sha : "");
    const char *v = json_string_value(json_object_get(w->cfg, "version")), *g = json_string_value(json_object_get(w->cfg, "git"));
    snprintf(d->engine, sizeof d->engine, "%s%s%s", v ? v : "?", g ? " " : "", g ? g : "");
}

static int write_docs(xuan_eval_store *db, const rows *r, const char *path, const char *md, const char *html) {
    rep_run *d = xuan_calloc(r->n ? r->n : 1, sizeof *d);
    if (!d) return cli_error("out of memory");
    int rc = 0;
    for (size_t i = 0; i < r->n && !rc; i++) {
        doc_run(&r->v[i], &d[i]);
        for (size_t t = 0; task_name(r->v[i].cfg, t) && d[i].n_t < REP_MAX_TASKS && !rc; t++) {
            json_t *tv = json_array_get(json_object_get(r->v[i].cfg, "tasks"), t);
            rep_task *x = &d[i].t[d[i].n_t++];
            const char *sha = json_string_value(json_object_get(tv, "sha256"));
            snprintf(x->name, sizeof x->name, "%s", task_name(r->v[i].cfg, t));
            snprintf(x->sha, sizeof x->sha, "%.12s", sha ? sha : "?");
            x->version = (long long)json_integer_value(json_object_get(tv, "version"));
            xuan_eval_summary s;
            xuan_error err = {0};
            if (xuan_eval_summarize(db, r->v[i].id, x->name, 0, &s, &err) != 0) {
                rc = cli_error("%s", err.msg);
                break;
            }
            if (!s.n || !s.n_metrics) continue;
            x->n = s.n;
            snprintf(x->metric, sizeof x->metric, "%s", s.names[0]);
            x->score = s.score[0], x->se = s.stderr_[0];
            x->tps = s.wall_s > 0 ? (double)s.n_gen / s.wall_s : 0;
        }
    }
    if (!rc && md) rc = rep_write_md(md, d, r->n, path);
    if (!rc && html) rc = rep_write_html(html, d, r->n, path);
    xuan_free(d);
    return rc ? XUAN_EXIT_RUNTIME : 0;
}

/* ---- one run ------------------------------------------------------------------ */

static int one_run(xuan_eval_store *db, int64_t id, bool as_json) {
    char *cfg_s = NULL, *created = NULL;
    xuan_error err = {0};
    if (xuan_eval_store_run_get(db, id, &cfg_s, &created, &err) != 0) return cli_error("%s", err.msg);
    json_t *cfg = json_loads(cfg_s, 0, NULL);
    int rc = 0;
    if (!json_is_object(cfg)) {
        rc = cli_error("run %lld: its config is not a JSON object", (long long)id);
        goto out;
    }
    char model[96];
    model_label(cfg, model, sizeof model);
    json_t *tasks = json_array();
    if (!as_json) {
        json_t *m = json_object_get(cfg, "model");
        printf("run %lld, %s UTC\n", (long long)id, created);
        printf("  model     %s\n", model);
        if (json_object_get(m, "sha256"))
            printf("  file      %s\n  sha256    %s\n  template  %s%s%.12s\n", json_string_value(json_object_get(m, "path")),
                   json_string_value(json_object_get(m, "sha256")), json_string_value(json_object_get(m, "template")),
                   json_object_get(m, "template_sha256") ? ", sha256 " : "",
                   json_object_get(m, "template_sha256") ? json_string_value(json_object_get(m, "template_sha256")) : "");
        printf("  harness   %s %s (%s, %s)\n", json_string_value(json_object_get(cfg, "harness")),
               json_string_value(json_object_get(cfg, "version")), json_string_value(json_object_get(cfg, "git")),
               json_string_value(json_object_get(cfg, "build")));
        char lim[32] = "all", shots[32] = "the task's";
        json_int_t lv = json_integer_value(json_object_get(cfg, "limit")), sv = json_integer_value(json_object_get(cfg, "shots"));
        if (lv > 0) snprintf(lim, sizeof lim, "%lld", (long long)lv);
        if (sv >= 0) snprintf(shots, sizeof shots, "%lld", (long long)sv);
        printf("  settings  limit %s, shots %s, seed %lld, temperature %g, mode %s%s\n", lim, shots,
               (long long)json_integer_value(json_object_get(cfg, "seed")),
               json_number_value(json_object_get(cfg, "temperature")),
               json_string_value(json_object_get(cfg, "mode")) ? json_string_value(json_object_get(cfg, "mode")) : "task",
               json_is_true(json_object_get(cfg, "raw")) ? ", raw prompts" : "");
        printf("\n%-12s %3s %-8s %6s  %-16s %8s  %8s  %10s  %8s\n", "task", "v", "sha256", "n", "metric", "score",
               "± stderr", "tokens", "s/item");
    }
    size_t i;
    json_t *tv;
    json_array_foreach(json_object_get(cfg, "tasks"), i, tv) {
        const char *name = json_string_value(json_object_get(tv, "name"));
        const char *sha = json_string_value(json_object_get(tv, "sha256"));
        if (!name) continue;
        xuan_eval_summary s;
        const char *metric = json_string_value(json_object_get(tv, "metric"));
        json_int_t kk = json_integer_value(json_object_get(tv, "k"));
        if (xuan_eval_summarize(db, id, name, metric && !strcmp(metric, "pass@k") && kk > 0 ? (uint32_t)kk : 0, &s,
                                &err) != 0) {
            rc = cli_error("%s", err.msg);
            break;
        }
        if (as_json) {
            json_t *o = summary_json(&s);
            json_object_set_new(o, "task", json_string(name));
            json_object_set(o, "version", json_object_get(tv, "version"));
            json_object_set(o, "sha256", json_object_get(tv, "sha256"));
            json_array_append_new(tasks, o);
            continue;
        }
        for (size_t k = 0; k < s.n_metrics || k == 0; k++) {
            if (k == 0)
                printf("%-12.12s %3lld %-8.8s %6zu  ", name, (long long)json_integer_value(json_object_get(tv, "version")),
                       sha ? sha : "?", s.n);
            else printf("%-12s %3s %-8s %6s  ", "", "", "", "");
            if (!s.n_metrics) {
                printf("%-16s\n", "(no items)");
                break;
            }
            printf("%-16.16s %7.2f%%  ± %6.2f", s.names[k], 100 * s.score[k], 100 * s.stderr_[k]);
            if (k == 0) printf("  %10llu  %8.3f", (unsigned long long)s.n_gen, s.n ? s.wall_s / (double)s.n : 0.0);
            putchar('\n');
            if (s.k_items)
                printf("%-12s %3s %-8s %6zu    pass@%-10u %7.2f%%  ± %6.2f\n", "", "", "", s.k_items, (unsigned)s.k,
                       100 * s.pass_k[k], 100 * s.pass_k_stderr[k]);
        }
    }
    if (as_json && !rc) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:O, s:o}", "run", (json_int_t)id, "created", created, "model", model,
                              "config", cfg, "tasks", tasks);
        print_json(o);
    } else {
        json_decref(tasks);
    }
out:
    json_decref(cfg);
    xuan_free(cfg_s);
    xuan_free(created);
    return rc;
}

/* ---- two runs, paired ---------------------------------------------------------- */

typedef struct paired {
    const char *metric;
    int8_t *a;   /* per index: -1 absent, 0 wrong, 1 right (run A) */
    size_t cap;
    bool fill_a; /* filling A, else comparing B against it */
    size_t n, b_only, a_only, a_right, b_right;
    int bad;
} paired;

static int on_pair_item(void *ctx, const xuan_eval_record *r) {
    paired *p = ctx;
    json_t *co = json_loads(r->correct, 0, NULL);
    json_t *v = json_object_get(co, p->metric);
    int right = json_is_true(v) ? 1 : json_is_false(v) ? 0 : -1;
    json_decref(co);
    if (right < 0) return 0; /* undecided or no such metric: not compared */
    if (p->fill_a) {
        if (r->index >= p->cap) {
            size_t cap = (size_t)r->index + 1024;
            int8_t *a = xuan_realloc(p->a, cap);
            if (!a) return p->bad = XUAN_ERR_NOMEM;
            memset(a + p->cap, -1, cap - p->cap);
            p->a = a, p->cap = cap;
        }
        p->a[r->index] = (int8_t)right;
        return 0;
    }
    if (r->index >= p->cap || p->a[r->index] < 0) return 0;
    const int ra = p->a[r->index];
    p->n++;
    p->a_right += (size_t)ra, p->b_right += (size_t)right;
    p->a_only += ra && !right, p->b_only += !ra && right;
    return 0;
}

/* Exact two-sided McNemar test: under "no difference" the discordant items
 * split as Binomial(b + c, 1/2). */
static double mcnemar_p(size_t b, size_t c) {
    size_t n = b + c, k = b < c ? b : c;
    if (!n) return 1;
    double sum = 0;
    for (size_t i = 0; i <= k; i++)
        sum += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) - (double)n * log(2.0));
    return 2 * sum > 1 ? 1 : 2 * sum;
}

static int compare_runs(xuan_eval_store *db, int64_t ra, int64_t rb, bool as_json) {
    char *ca = NULL, *cb = NULL;
    xuan_error err = {0};
    if (xuan_eval_store_run_get(db, ra, &ca, NULL, &err) || xuan_eval_store_run_get(db, rb, &cb, NULL, &err)) {
        xuan_free(ca);
        return cli_error("%s", err.msg);
    }
    json_t *ja = json_loads(ca, 0, NULL), *jb = json_loads(cb, 0, NULL), *out = json_array();
    int rc = 0;
    if (!json_is_object(ja) || !json_is_object(jb)) rc = cli_error("run %lld or %lld: its config is not a JSON object",
                                                                   (long long)ra, (long long)rb);
    char ma[96] = "", mb[96] = "";
    if (!rc) model_label(ja, ma, sizeof ma), model_label(jb, mb, sizeof mb);
    if (!rc && !as_json)
        printf("A = run %lld (%s)\nB = run %lld (%s)\n\n%-12s %-16s %6s %8s %8s %8s %7s %6s %9s  %s\n", (long long)ra, ma,
               (long long)rb, mb, "task", "metric", "shared", "A", "B", "B - A", "A only", "B only", "p", "verdict");
    for (size_t t = 0; !rc && task_name(ja, t); t++) {
        const char *name = task_name(ja, t);
        bool in_b = false;
        for (size_t u = 0; task_name(jb, u); u++) in_b |= !strcmp(task_name(jb, u), name);
        if (!in_b) continue;
        xuan_eval_summary s;
        if ((rc = xuan_eval_summarize(db, ra, name, 0, &s, &err)) != 0) break;
        for (size_t k = 0; k < s.n_metrics; k++) {
            paired p = {.metric = s.names[k], .fill_a = true};
            if ((rc = xuan_eval_store_items(db, ra, name, on_pair_item, &p, &err)) == 0 && !p.bad) {
                p.fill_a = false;
                rc = xuan_eval_store_items(db, rb, name, on_pair_item, &p, &err);
            }
            xuan_free(p.a);
            if (rc || p.bad) {
                rc = rc ? rc : p.bad;
                break;
            }
            double n = (double)p.n, sa = p.n ? (double)p.a_right / n : 0, sb = p.n ? (double)p.b_right / n : 0;
            /* stderr of the mean paired difference d_i = b_i - a_i */
            double md = sb - sa, var = p.n > 1 ? ((double)(p.a_only + p.b_only) / n - md * md) * n / (n - 1) : 0;
            double se = p.n > 1 && var > 0 ? sqrt(var / n) : 0, pv = mcnemar_p(p.a_only, p.b_only);
            const char *verdict = !p.n ? "no shared items" : pv >= 0.05 ? "no real difference" : md > 0 ? "B better" : "A better";
            if (as_json) {
                json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:s}", "task", name,
                                                      "metric", s.names[k], "shared", (json_int_t)p.n, "a", sa, "b", sb,
                                                      "diff", md, "stderr", se, "a_only", (json_int_t)p.a_only,
                                                      "b_only", (json_int_t)p.b_only, "p", pv, "verdict", verdict));
            } else {
                printf("%-12.12s %-16.16s %6zu %7.2f%% %7.2f%% %+7.2f%% %7zu %6zu %9.3g  %s\n", name, s.names[k], p.n,
                       100 * sa, 100 * sb, 100 * md, p.a_only, p.b_only, pv, verdict);
            }
        }
    }
    if (rc && err.msg[0]) cli_error("%s", err.msg);
    if (!rc && as_json) print_json(json_pack("{s:I, s:I, s:o}", "a", (json_int_t)ra, "b", (json_int_t)rb, "tasks", out));
    else json_decref(out);
    if (!rc && !as_json)
        printf("\npaired on the items both runs scored; p: exact two-sided McNemar test on the items only one got "
               "right;\n\"real\" at p < 0.05\n");
    json_decref(ja);
    json_decref(jb);
    xuan_free(ca);
    xuan_free(cb);
    return rc ? XUAN_EXIT_RUNTIME : 0;
}

int cmd_report(int argc, char **argv) {
    enum { O_DB = 1000, O_JSON, O_RUN, O_COMPARE, O_MD, O_HTML };
    static const struct option opts[] = {{"db", 1, 0, O_DB},           {"json", 0, 0, O_JSON},
                                         {"run", 1, 0, O_RUN},         {"compare", 0, 0, O_COMPARE},
                                         {"md", 1, 0, O_MD},           {"html", 1, 0, O_HTML},
                                         {"help", 0, 0, 'h'},          {0, 0, 0, 0}};
    bool compare = false;
    const char *dbflag = NULL, *md = NULL, *html = NULL;
    bool as_json = false;
    int64_t one = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DB: dbflag = optarg; break;
        case O_JSON: as_json = true; break;
        case O_COMPARE: compare = true; break;
        case O_MD: md = optarg; break;
        case O_HTML: html = optarg; break;
        case O_RUN:
            if (cli_int_arg("report", "--run", optarg, 1, INT64_MAX, &one)) return XUAN_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    int64_t only[MAX_RUNS];
    size_t n_only = 0;
    for (int i = optind; i < argc; i++) {
        if (n_only == MAX_RUNS) return cli_usage_error("report", "at most %d runs", MAX_RUNS);
        if (cli_int_arg("report", "RUN", argv[i], 1, INT64_MAX, &only[n_only++])) return XUAN_EXIT_USAGE;
    }
    if (one && n_only) return cli_usage_error("report", "--run ID shows one run; leave out the RUN list");
    if ((md || html) && (one || compare || as_json))
        return cli_usage_error("report", "--md and --html take the RUN list, not --run, --compare or --json");
    if (md && html && !strcmp(md, "-") && !strcmp(html, "-"))
        return cli_usage_error("report", "--md - and --html - both want stdout; give one a file");
    if (compare && (n_only != 2 || one)) return cli_usage_error("report", "--compare takes two runs: --compare A B");
    char path[4096];
    cli_results_db(dbflag, false, path, sizeof path);
    if (!xuan_file_exists(path)) return cli_error("%s: no results store (xuan eval writes one; --db FILE)", path);
    xuan_error err = {0};
    xuan_eval_store *db;
    if (xuan_eval_store_open(path, &db, &err) != 0) return cli_error("%s", err.msg);
    int rc;
    if (compare) {
        rc = compare_runs(db, only[0], only[1], as_json);
    } else if (one) {
        rc = one_run(db, one, as_json);
    } else {
        rows r = {.v = xuan_calloc(MAX_RUNS, sizeof(run_row)), .only = n_only ? only : NULL, .n_only = n_only};
        if (!r.v) rc = cli_error("out of memory");
        else if (xuan_eval_store_runs(db, on_run, &r, &err) != 0) rc = cli_error("%s", err.msg);
        else {
            for (size_t i = 0; i < n_only; i++) {
                bool found = false;
                for (size_t j = 0; j < r.n; j++) found |= r.v[j].id == only[i];
                if (!found) r.bad = cli_error("%s: no run %lld", path, (long long)only[i]);
            }
            rc = md || html ? write_docs(db, &r, path, md, html) : side_by_side(db, &r, as_json);
            if (!rc && r.bad) rc = XUAN_EXIT_RUNTIME;
        }
        rows_free(&r);
    }
    xuan_eval_store_close(db);
    return rc;
}
