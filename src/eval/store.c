/*
 * store.c — the results store: runs, items and the request cache in one
 * SQLite file (xuan/eval.h, "results store").
 *
 *   1. schema      — tables, user_version, refusing newer or foreign files
 *   2. runs        — create, get, list
 *   3. items       — one transaction per item, read back in index order
 *   4. cache       — replies by request key
 *   5. summaries   — per-extractor scores from the stored items
 *
 * Everything read back from the file is checked as input: a store edited by
 * hand (a NULL where text belongs, a `correct` that is no JSON object) gives
 * an error naming the row, never a crash.
 */
#include "xuan/eval.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

struct xuan_eval_store {
    sqlite3 *db;
    char *path;
};

static int db_fail(xuan_eval_store *s, xuan_error *err, const char *what) {
    return xuan_fail(err, XUAN_ERR_IO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* ---- 1. schema --------------------------------------------------------------- */

static const char SCHEMA[] =
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  created TEXT NOT NULL DEFAULT (datetime('now')),\n"
    "  config TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE items (\n"
    "  run INTEGER NOT NULL REFERENCES runs(id),\n"
    "  task TEXT NOT NULL,\n"
    "  idx INTEGER NOT NULL,\n"
    "  sample INTEGER NOT NULL DEFAULT 0,\n"
    "  prompt TEXT NOT NULL,\n"
    "  output TEXT NOT NULL,\n"
    "  extracted TEXT NOT NULL,\n"
    "  correct TEXT NOT NULL,\n"
    "  first_correct INTEGER,\n"
    "  n_prompt INTEGER NOT NULL,\n"
    "  n_gen INTEGER NOT NULL,\n"
    "  wall_s REAL NOT NULL,\n"
    "  finish TEXT NOT NULL,\n"
    "  status TEXT NOT NULL,\n"
    "  created TEXT NOT NULL DEFAULT (datetime('now')),\n"
    "  UNIQUE (run, task, idx, sample)\n"
    ");\n"
    "CREATE TABLE cache (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  reply TEXT NOT NULL,\n"
    "  created TEXT NOT NULL DEFAULT (datetime('now'))\n"
    ");\n";

static int exec(xuan_eval_store *s, const char *sql, xuan_error *err) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        xuan_fail(err, XUAN_ERR_IO, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return XUAN_ERR_IO;
    }
    return 0;
}

static int user_version(xuan_eval_store *s, int64_t *v, xuan_error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot read the schema version (is it an SQLite file?)");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(s, err, "cannot read the schema version");
}

/* Tables in the file, to tell an empty file from someone else's database. */
static int count_tables(xuan_eval_store *s, int64_t *n, xuan_error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "not an SQLite database, or a damaged one");
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(s, err, "not an SQLite database, or a damaged one");
}

int xuan_eval_store_open(const char *path, xuan_eval_store **out, xuan_error *err) {
    *out = NULL;
    xuan_eval_store *s = xuan_calloc(1, sizeof *s);
    if (!s || !(s->path = xuan_strdup(path))) {
        xuan_free(s);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    int rc = 0;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: cannot open the results store: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000); /* another xuan writing the same file: wait, then fail */
    int64_t v = 0, tables = 0;
    if ((rc = user_version(s, &v, err)) || (rc = count_tables(s, &tables, err))) goto fail;
    if (v > XUAN_EVAL_STORE_SCHEMA) {
        rc = xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                       "%s: results schema %lld is newer than this xuan's (%d); use a newer xuan or another --db",
                       path, (long long)v, XUAN_EVAL_STORE_SCHEMA);
        goto fail;
    }
    if (v == 0 && tables > 0) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT,
                       "%s: an SQLite database that is not a xuan results store (it has tables but no schema "
                       "version); use another --db",
                       path);
        goto fail;
    }
    /* WAL: readers (xuan report) never block the writer, and a commit is
     * durable once it returns; NORMAL sync is safe against a process kill. */
    if ((rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", err)))
        goto fail;
    if (v == 0) {
        xuan_buf sql = {0};
        if (xuan_buf_printf(&sql, "BEGIN; %s PRAGMA user_version = %d; COMMIT;", SCHEMA, XUAN_EVAL_STORE_SCHEMA)) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            goto fail;
        }
        rc = exec(s, sql.data, err);
        xuan_buf_free(&sql);
        if (rc) goto fail;
    }
    *out = s;
    return 0;
fail:
    xuan_eval_store_close(s);
    return rc;
}

void xuan_eval_store_close(xuan_eval_store *s) {
    if (!s) return;
    sqlite3_close(s->db);
    xuan_free(s->path);
    xuan_free(s);
}

/* A text column as a heap string; NULL columns and allocation failure both
 * give NULL, told apart by the caller through sqlite3_column_type. */
static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xuan_strndup((const char *)t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

static const char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- 2. runs ------------------------------------------------------------------ */

int xuan_eval_store_run_create(xuan_eval_store *s, const char *config_json, int64_t *id, xuan_error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO runs (config) VALUES (?)", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot create a run");
    sqlite3_bind_text(st, 1, config_json, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, err, "cannot create a run");
    sqlite3_finalize(st);
    if (!rc) *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int xuan_eval_store_run_get(xuan_eval_store *s, int64_t id, char **config_json, char **created, xuan_error *err) {
    *config_json = NULL;
    if (created) *created = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT config, created FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot read the runs");
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_DONE) rc = xuan_fail(err, XUAN_ERR_NOTFOUND, "%s: no run %lld", s->path, (long long)id);
    else if (step != SQLITE_ROW) rc = db_fail(s, err, "cannot read the runs");
    else {
        *config_json = col_dup(st, 0);
        if (created) *created = col_dup(st, 1);
        if (!*config_json || (created && !*created)) {
            xuan_free(*config_json);
            if (created) xuan_free(*created), *created = NULL;
            *config_json = NULL;
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: run %lld has no config", s->path, (long long)id);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int xuan_eval_store_runs(xuan_eval_store *s, xuan_eval_run_fn fn, void *ctx, xuan_error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id, created, config FROM runs ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot read the runs");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, sqlite3_column_int64(st, 0), col_text(st, 1), col_text(st, 2))) break;
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : db_fail(s, err, "cannot read the runs");
    sqlite3_finalize(st);
    return rc;
}

/* ---- 3. items ----------------------------------------------------------------- */

int xuan_eval_store_item_put(xuan_eval_store *s, const xuan_eval_record *r, xuan_error *err) {
    static const char sql[] =
        "INSERT INTO items (run, task, idx, prompt, output, extracted, correct, first_correct, n_prompt, n_gen, "
        "wall_s, finish, status, sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(s, err, "cannot store an item");
#define T(i, v) sqlite3_bind_text(st, i, (v) ? (v) : "", -1, SQLITE_STATIC)
    sqlite3_bind_int64(st, 1, r->run);
    T(2, r->task);
    sqlite3_bind_int64(st, 3, r->index);
    T(4, r->prompt);
    T(5, r->output);
    T(6, r->extracted ? r->extracted : "{}");
    T(7, r->correct ? r->correct : "{}");
    if (r->first_correct < 0) sqlite3_bind_null(st, 8);
    else sqlite3_bind_int(st, 8, r->first_correct);
    sqlite3_bind_int64(st, 9, r->n_prompt);
    sqlite3_bind_int64(st, 10, r->n_gen);
    sqlite3_bind_double(st, 11, r->wall_s);
    T(12, r->finish);
    T(13, r->status ? r->status : "ok");
    sqlite3_bind_int64(st, 14, r->sample);
#undef T
    /* One statement outside BEGIN is one transaction: committed (and in the
     * WAL) when step returns. */
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_CONSTRAINT)
        rc = xuan_fail(err, XUAN_ERR_USAGE, "%s: run %lld already holds %s item %u%s", s->path, (long long)r->run,
                       r->task, (unsigned)r->index, r->sample ? " (that sample)" : "");
    else if (step != SQLITE_DONE) rc = db_fail(s, err, "cannot store an item");
    sqlite3_finalize(st);
    return rc;
}

int xuan_eval_store_items(xuan_eval_store *s, int64_t run, const char *task, xuan_eval_item_fn fn, void *ctx,
                          xuan_error *err) {
    const char *sql = task ? "SELECT task, idx, prompt, output, extracted, correct, first_correct, n_prompt, n_gen, "
                             "wall_s, finish, status, sample FROM items WHERE run = ?1 AND task = ?2 ORDER BY idx, sample"
                           : "SELECT task, idx, prompt, output, extracted, correct, first_correct, n_prompt, n_gen, "
                             "wall_s, finish, status, sample FROM items WHERE run = ?1 ORDER BY task, idx, sample";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(s, err, "cannot read the items");
    sqlite3_bind_int64(st, 1, run);
    if (task) sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 1), sample = sqlite3_column_int64(st, 12);
        if (idx < 0 || idx > UINT32_MAX || sample < 0 || sample > UINT32_MAX) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: run %lld: item index %lld or sample %lld out of range", s->path,
                           (long long)run, (long long)idx, (long long)sample);
            break;
        }
        xuan_eval_record r = {
            .run = run,
            .task = col_text(st, 0),
            .index = (uint32_t)idx,
            .sample = (uint32_t)sample,
            .prompt = col_text(st, 2),
            .output = col_text(st, 3),
            .extracted = col_text(st, 4),
            .correct = col_text(st, 5),
            .first_correct = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6) != 0,
            .n_prompt = (uint32_t)sqlite3_column_int64(st, 7),
            .n_gen = (uint32_t)sqlite3_column_int64(st, 8),
            .wall_s = sqlite3_column_double(st, 9),
            .finish = col_text(st, 10),
            .status = col_text(st, 11),
        };
        if ((rc = fn(ctx, &r)) != 0) break;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = db_fail(s, err, "cannot read the items");
    sqlite3_finalize(st);
    return rc;
}

/* ---- 4. cache ----------------------------------------------------------------- */

int xuan_eval_store_cache_get(xuan_eval_store *s, const char key[65], char **reply, xuan_error *err) {
    *reply = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT reply FROM cache WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "cannot read the cache");
    sqlite3_bind_text(st, 1, key, 64, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: cache entry %.12s holds no text", s->path, key);
        else if (!(*reply = col_dup(st, 0))) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    } else if (step != SQLITE_DONE) rc = db_fail(s, err, "cannot read the cache");
    sqlite3_finalize(st);
    return rc;
}

int xuan_eval_store_cache_put(xuan_eval_store *s, const char key[65], const char *reply, xuan_error *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO cache (key, reply) VALUES (?, ?)", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "cannot write the cache");
    sqlite3_bind_text(st, 1, key, 64, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reply, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, err, "cannot write the cache");
    sqlite3_finalize(st);
    return rc;
}

/* ---- 5. summaries ------------------------------------------------------------- */

typedef struct sum_ctx {
    xuan_eval_summary *out;
    const char *path;
    xuan_error *err;
    /* the item being read (samples arrive together) and its counts */
    bool have;
    uint32_t index, n;
    uint32_t c[XUAN_EXTRACT_COUNT];
    double sum[XUAN_EXTRACT_COUNT], sumsq[XUAN_EXTRACT_COUNT];
} sum_ctx;

/* The item read so far is complete: its pass@k into the sums. */
static void sum_close_item(sum_ctx *c) {
    if (!c->have) return;
    c->out->n_items++;
    if (c->out->k && c->n >= c->out->k) {
        for (size_t m = 0; m < c->out->n_metrics; m++) {
            double v = xuan_pass_at_k(c->n, c->c[m], c->out->k);
            c->sum[m] += v, c->sumsq[m] += v * v;
        }
        c->out->k_items++;
    }
    c->have = false;
    c->n = 0;
    memset(c->c, 0, sizeof c->c);
}

static int metric_slot(xuan_eval_summary *o, const char *name) {
    for (size_t k = 0; k < o->n_metrics; k++)
        if (!strcmp(o->names[k], name)) return (int)k;
    if (o->n_metrics == XUAN_EXTRACT_COUNT || strlen(name) >= sizeof o->names[0]) return -1;
    snprintf(o->names[o->n_metrics], sizeof o->names[0], "%s", name);
    return (int)o->n_metrics++;
}

static int sum_item(void *vctx, const xuan_eval_record *r) {
    sum_ctx *c = vctx;
    if (c->have && r->index != c->index) sum_close_item(c);
    c->have = true;
    c->index = r->index;
    c->n++;
    json_error_t je;
    json_t *co = json_loads(r->correct, 0, &je);
    if (!json_is_object(co)) {
        json_decref(co);
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: run %lld %s item %u: 'correct' is not a JSON object", c->path,
                         (long long)r->run, r->task, (unsigned)r->index);
    }
    const char *name;
    json_t *v;
    json_object_foreach(co, name, v) {
        int k = metric_slot(c->out, name);
        if (k < 0) {
            json_decref(co);
            return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: run %lld %s item %u: too many or too long metric names",
                             c->path, (long long)r->run, r->task, (unsigned)r->index);
        }
        c->out->right[k] += json_is_true(v);
        c->c[k] += json_is_true(v);
    }
    json_decref(co);
    c->out->n++;
    c->out->n_gen += r->n_gen;
    c->out->wall_s += r->wall_s;
    return 0;
}

int xuan_eval_summarize(xuan_eval_store *s, int64_t run, const char *task, uint32_t k, xuan_eval_summary *out,
                        xuan_error *err) {
    memset(out, 0, sizeof *out);
    out->k = k;
    sum_ctx c = {.out = out, .path = s->path, .err = err};
    int rc = xuan_eval_store_items(s, run, task, sum_item, &c, err);
    if (rc) return rc;
    sum_close_item(&c);
    for (size_t m = 0; m < out->n_metrics && out->k_items; m++) {
        double n = (double)out->k_items, mean = c.sum[m] / n, var = c.sumsq[m] / n - mean * mean;
        out->pass_k[m] = mean;
        out->pass_k_stderr[m] = out->k_items > 1 && var > 0 ? sqrt(var * n / (n - 1) / n) : 0;
    }
    for (size_t m = 0; m < out->n_metrics; m++) {
        double n = (double)out->n, p = out->n ? (double)out->right[m] / n : 0;
        out->score[m] = p;
        out->stderr_[m] = out->n > 1 ? sqrt(p * (1 - p) / (n - 1)) : 0;
    }
    return 0;
}
