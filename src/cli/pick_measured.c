/*
 * pick_measured.c — the user's `xuan eval` results as measured records of
 * the catalog, for `xuan pick` (issue 13, "Into pick").
 *
 * Each stored run names what answered: a GGUF file (its path, SHA-256 and
 * file type) or an endpoint's model name.  That name is matched to a
 * catalog model and quant (xuan_catalog_match_file: a published file name,
 * or the name without its quant word equal to a model id or repository);
 * each of the run's tasks that the catalog maps (eval_tasks: gsm8k ->
 * GSM8K, math ...) becomes one measured record, the first metric's score
 * as a percentage, with "xuan eval run N" as its source.  Later runs come
 * later and win.  Runs that match no model, and tasks the catalog does not
 * map, are reported as notes, never guessed.  The pick room does not read
 * SQLite: this file sits in cli, where both rooms are in reach.
 */
#include "cli.h"
#include "pick_measured.h"
#include "xuan/eval.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct stored_run {
    int64_t id;
    char *config;
} stored_run;

typedef struct run_list {
    stored_run *v;
    size_t n, cap;
    bool nomem;
} run_list;

static int collect(void *ctx, int64_t id, const char *created, const char *config_json) {
    run_list *l = ctx;
    (void)created;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        stored_run *v = xuan_realloc(l->v, cap * sizeof *v);
        if (!v) return l->nomem = true, 1;
        l->v = v, l->cap = cap;
    }
    l->v[l->n].id = id;
    l->v[l->n].config = xuan_strdup(config_json ? config_json : "{}");
    if (!l->v[l->n].config) return l->nomem = true, 1;
    l->n++;
    return 0;
}

/* What answered in a run: the model file's path and its file type, or the
 * endpoint's model name. */
static const char *run_model(json_t *cfg, const char **quant_hint) {
    json_t *m = json_object_get(cfg, "model"), *b = json_object_get(cfg, "backend");
    *quant_hint = json_string_value(json_object_get(m, "quant"));
    const char *path = json_string_value(json_object_get(m, "path"));
    return path ? path : json_string_value(json_object_get(b, "model"));
}

static int add_run(xuan_catalog *cat, xuan_eval_store *db, const char *dbpath, const stored_run *r,
                   xuan_buf *notes, int *added) {
    json_error_t jerr;
    json_t *cfg = json_loads(r->config, 0, &jerr);
    const char *hint = NULL, *name = cfg ? run_model(cfg, &hint) : NULL;
    xuan_quant q;
    const xuan_model_info *m = name ? xuan_catalog_match_file(cat, name, hint, &q) : NULL;
    if (!m) {
        xuan_buf_printf(notes, "  run %lld (%.80s): no catalog model and quant match its name; not used\n",
                        (long long)r->id, name ? name : "no model recorded");
        json_decref(cfg);
        return 0;
    }
    json_t *tasks = json_object_get(cfg, "tasks");
    int rc = 0;
    for (size_t i = 0; i < json_array_size(tasks) && !rc; i++) {
        json_t *t = json_array_get(tasks, i);
        const char *tname = json_string_value(json_object_get(t, "name"));
        const xuan_eval_task_map *map = xuan_catalog_eval_task(cat, tname);
        if (!tname) continue;
        if (!map) {
            xuan_buf_printf(notes, "  run %lld: task %.40s is not mapped to a column (catalog eval_tasks); not used\n",
                            (long long)r->id, tname);
            continue;
        }
        xuan_eval_summary sum;
        xuan_error err = {0};
        if (xuan_eval_summarize(db, r->id, tname, 0, &sum, &err) != 0) {
            xuan_buf_printf(notes, "  run %lld: %s: %s; not used\n", (long long)r->id, tname, err.msg);
            continue;
        }
        if (!sum.n || !sum.n_metrics) continue;
        const char *sha = json_string_value(json_object_get(t, "sha256"));
        char setting[256], source[1200];
        snprintf(setting, sizeof setting, "%s v%lld (task sha256 %.12s), %s, %zu items, +-%.1f (stderr)", tname,
                 (long long)json_integer_value(json_object_get(t, "version")), sha ? sha : "?", sum.names[0],
                 sum.n_items, 100 * sum.stderr_[0]);
        snprintf(source, sizeof source, "xuan eval run %lld (%.1100s)", (long long)r->id, dbpath);
        xuan_measured rec = {.model = m->id, .quant = q, .benchmark = map->benchmark, .task = map->task,
                             .value = 100 * sum.score[0], .source = source, .setting = setting};
        if ((rc = xuan_catalog_add_measured(cat, &rec, &err)) == 0) (*added)++;
        else if (rc != XUAN_ERR_NOMEM) xuan_buf_printf(notes, "  run %lld: %s; not used\n", (long long)r->id, err.msg), rc = 0;
    }
    json_decref(cfg);
    return rc == XUAN_ERR_NOMEM ? rc : 0;
}

int cli_pick_load_measured(xuan_catalog *cat, const char *db_flag, xuan_buf *notes, int *added) {
    char dbpath[4096];
    struct stat st;
    *added = 0;
    cli_results_db(db_flag, false, dbpath, sizeof dbpath);
    if (stat(dbpath, &st) != 0) {
        if (db_flag) return cli_usage_error("pick", "--db %s: no such results store (xuan eval writes one)", db_flag);
        return 0; /* no xuan eval run yet: nothing measured */
    }
    xuan_eval_store *db = NULL;
    xuan_error err = {0};
    if (xuan_eval_store_open(dbpath, &db, &err) != 0) return cli_error("%s", err.msg);
    run_list runs = {0};
    int rc = xuan_eval_store_runs(db, collect, &runs, &err);
    if (runs.nomem) rc = cli_error("out of memory");
    else if (rc) rc = cli_error("%s", err.msg);
    for (size_t i = 0; i < runs.n && !rc; i++)
        if (add_run(cat, db, dbpath, &runs.v[i], notes, added) != 0) rc = cli_error("out of memory");
    for (size_t i = 0; i < runs.n; i++) xuan_free(runs.v[i].config);
    xuan_free(runs.v);
    xuan_eval_store_close(db);
    return rc;
}
