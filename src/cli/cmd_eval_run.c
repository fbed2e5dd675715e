/*
 * xuan eval [run] — generate and score (docs/eval.md, "xuan eval").
 *
 *   xuan eval [run] -m MODEL | --endpoint URL [--endpoint URL ...] [--model NAME] --tasks LIST | --suite seed
 *                   [--limit N] [--shots K] [--seed S] [-j N] [--db FILE] [--json] ...
 *   xuan eval --resume RUN [--db FILE] [-j N]
 *
 * Sections: the flags; the run's config (what decides its numbers) and
 * --resume reading it back; the results table; the verb itself, which
 * loads tasks and data before any model, opens the backend and the store,
 * and hands each task to xuan_eval_run_task.
 */
#include "eval_cli.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void eval_run_usage(FILE *f) {
    fprintf(f,
            "usage: xuan eval [run] (-m MODEL | --endpoint URL [--model NAME]) (--tasks LIST | --suite seed)\n"
            "                 [--limit N] [--shots K] [--seed S] [-j N] [--db FILE] [--json]\n"
            "       xuan eval --resume RUN [--db FILE] [-j N] [--api-key K]\n"
            "  -m MODEL            a GGUF (path or name in the models folder), run in this process\n"
            "  --endpoint URL      an OpenAI-compatible server (/v1/chat/completions, /v1/completions);\n"
            "                      several --endpoint: a fleet of one model, each item to a free one\n"
            "  --model NAME        the model name sent to the endpoint\n"
            "  --api-key K         Bearer token (default $XUAN_API_KEY, then $OPENAI_API_KEY; never stored)\n"
            "  --tasks LIST        task names or files, comma-separated (tasks/NAME.yaml)\n"
            "  --suite seed        gsm8k, math500, humaneval, medqa, mmlu-it, mmlu-med, cmmlu-it,\n"
            "                      cmmlu-med, ceval-it, ceval-med, cmath, mgsm-zh\n"
            "  --limit N           the first N items of each task (default all)\n"
            "  --shots K           few-shot examples (default the task's)\n"
            "  --seed S            sampling seed (default 0)   --temp T  (default 0: greedy)\n"
            "  --samples N         N samples an item (seeds S .. S+N-1; give a --temp): pass@k over them\n"
            "  --max-tokens N      the generation budget (default the task's max_tokens)\n"
            "  --reasoning         use the task's max_tokens_reasoning (thinking models)\n"
            "  --completions       send the raw prompt (/v1/completions; in process: no chat template)\n"
            "  --mode M            task (each task's own `mode`, default), loglik (multiple choice by the\n"
            "                      log-likelihood of \" A\", \" B\", ...) or generate\n"
            "  -j N                items at once (default 1): each endpoint gets N requests at once; in\n"
            "                      process, N items share each forward pass as N sequences (with F16\n"
            "                      or Q4_K weights their last bits may differ from one item alone)\n"
            "  --timeout S         per request (default 600 s)   --retries N (default 4)\n"
            "  --db FILE           the results store (default <cache>/results.db)\n"
            "  --resume RUN        continue run RUN of the store: its items already stored are kept\n"
            "  --no-cache          do not answer identical requests from the store's cache\n"
            "  --data DIR          the datasets folder (default $XUAN_DATA, else ../shared/datasets)\n"
            "  --sandbox full|none how code tasks run (docs/sandbox.md)\n"
            "  --json              the totals as one JSON object on stdout\n"
            "  and the engine flags of xuan run for -m: -c, -t, -b, --template, --cache-type ...\n");
}

static const char *const SEED_SUITE[] = {"gsm8k",    "math500",   "humaneval", "medqa", "mmlu-it", "mmlu-med",
                                         "cmmlu-it", "cmmlu-med", "ceval-it",  "ceval-med", "cmath", "mgsm-zh"};
#define N_SEED (sizeof SEED_SUITE / sizeof SEED_SUITE[0])
#define MAX_TASKS 64

typedef struct run_task {
    char path[4096];
    xuan_eval_task *t;
    xuan_eval_data d;
    xuan_eval_run_stats st;
    bool loaded;
} run_task;

#define MAX_ENDPOINTS 64

typedef struct run_cfg {
    const char *endpoints[MAX_ENDPOINTS]; /* one model behind all of them */
    size_t n_endpoints;
    const char *api_key, *db;
    const char *names[MAX_TASKS];
    size_t n_names;
    int64_t limit, shots, max_tokens, jobs, retries, resume;
    double timeout_s;
    int64_t samples; /* per item (pass@k with n samples) */
    bool raw, reasoning, no_cache, json;
    char mode[16]; /* task (each task's own), loglik, generate */
    double temperature;
    uint64_t seed;
} run_cfg;

static int add_tasks(run_cfg *c, char *list) {
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (!*p) continue;
        if (c->n_names == MAX_TASKS) return cli_usage_error("eval", "--tasks: at most %d tasks", MAX_TASKS);
        c->names[c->n_names++] = p;
    }
    return 0;
}

typedef struct progress_ctx {
    xuan_progress p;
} progress_ctx;

static void on_progress(void *ctx, size_t done, size_t total) {
    progress_ctx *pc = ctx;
    (void)total;
    xuan_progress_update(&pc->p, done);
}

/* The config of a new run: everything that decides its numbers. */
static char *run_config(const run_cfg *c, const xuan_eval_backend *b, const char *backend_info, const char *served,
                        run_task *rt, size_t n) {
    json_t *tasks = json_array();
    for (size_t i = 0; tasks && i < n; i++)
        json_array_append_new(tasks, json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "name", rt[i].t->name, "version",
                                               (json_int_t)rt[i].t->version, "sha256", rt[i].t->sha256, "path",
                                               rt[i].path, "metric",
                                               rt[i].t->metric == XUAN_METRIC_PASS_AT_K ? "pass@k" : "accuracy", "k",
                                               (json_int_t)rt[i].t->k));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:f, s:b, s:b}", "harness", "xuan eval",
                          "version", xuan_version(), "git", xuan_git_hash(), "build", xuan_build_type(), "backend",
                          json_loads(b->identity, 0, NULL), "tasks", tasks, "limit", (json_int_t)c->limit, "shots",
                          (json_int_t)c->shots, "seed", (json_int_t)(c->seed & INT64_MAX), "temperature",
                          c->temperature, "raw", c->raw, "reasoning", c->reasoning);
    if (o && c->max_tokens >= 0) json_object_set_new(o, "max_tokens", json_integer(c->max_tokens));
    if (o) json_object_set_new(o, "mode", json_string(c->mode));
    if (o) json_object_set_new(o, "jobs", json_integer(c->jobs));
    if (o) json_object_set_new(o, "samples", json_integer(c->samples));
    if (o && backend_info) json_object_set_new(o, "model", json_loads(backend_info, 0, NULL));
    if (o && served) json_object_set_new(o, "endpoints", json_loads(served, 0, NULL));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    char *r = s ? xuan_strdup(s) : NULL;
    free(s);
    return r;
}

/* --resume: the stored config's settings replace the flags'. */
static int resume_cfg(const char *cfg_json, int64_t run, run_cfg *c, engine_opts *eo, char *names_buf, size_t cap) {
    json_t *j = json_loads(cfg_json, 0, NULL);
    json_t *b = json_object_get(j, "backend"), *tasks = json_object_get(j, "tasks");
    const char *kind = json_string_value(json_object_get(b, "backend"));
    if (!json_is_object(j) || !kind || !json_is_array(tasks)) {
        json_decref(j);
        return cli_error("run %lld: its stored config is damaged (no backend or tasks); start a new run",
                         (long long)run);
    }
    int rc = 0;
    if (!strcmp(kind, "endpoint")) {
        /* one server ("url") or a fleet ("urls") */
        json_t *urls = json_object_get(b, "urls"), *one = json_object_get(b, "url");
        const char *model = json_string_value(json_object_get(b, "model"));
        size_t nu = json_is_array(urls) ? json_array_size(urls) : json_is_string(one) ? 1 : 0;
        if (!nu || nu > MAX_ENDPOINTS) rc = cli_error("run %lld: its stored config has no endpoint url", (long long)run);
        size_t off = 0;
        c->n_endpoints = 0;
        for (size_t k = 0; !rc && k < nu; k++) {
            const char *url = json_string_value(json_is_array(urls) ? json_array_get(urls, k) : one);
            if (!url || strlen(url) + 1 > cap - off) {
                rc = cli_error("run %lld: its stored endpoint list is damaged", (long long)run);
                break;
            }
            c->endpoints[c->n_endpoints++] = names_buf + off;
            off += (size_t)snprintf(names_buf + off, cap - off, "%s", url) + 1;
        }
        eo->model = NULL;
        if (!rc && model && strlen(model) + 1 <= cap - off) {
            eo->model = names_buf + off;
            off += (size_t)snprintf(names_buf + off, cap - off, "%s", model) + 1;
        }
        names_buf += off, cap -= off;
    } else {
        const char *path = json_string_value(json_object_get(json_object_get(j, "model"), "path"));
        if (!path) rc = cli_error("run %lld: its stored config names no model file", (long long)run);
        else {
            size_t l = (size_t)snprintf(names_buf, cap, "%s", path) + 1;
            eo->model = names_buf;
            names_buf += l, cap -= l;
        }
        /* the cache types are part of the identity: a resume without the
         * run's --cache-type would be refused as another backend */
        json_t *tk = json_object_get(b, "type_k"), *tv = json_object_get(b, "type_v");
        json_int_t k = json_integer_value(tk), v = json_integer_value(tv);
        if (json_is_integer(tk) && json_is_integer(tv) && k >= 0 && v >= 0 && xuan_type_known((uint32_t)k) &&
            xuan_type_known((uint32_t)v)) {
            eo->cp.type_k = (uint32_t)k;
            eo->cp.type_v = (uint32_t)v;
        }
    }
    c->n_names = 0;
    size_t i;
    json_t *tv;
    json_array_foreach(tasks, i, tv) {
        const char *p = json_string_value(json_object_get(tv, "path"));
        if (!p || c->n_names == MAX_TASKS || strlen(p) + 1 > cap) {
            rc = cli_error("run %lld: its stored task list is damaged", (long long)run);
            break;
        }
        size_t l = (size_t)snprintf(names_buf, cap, "%s", p) + 1;
        c->names[c->n_names++] = names_buf;
        names_buf += l, cap -= l;
    }
    c->limit = json_integer_value(json_object_get(j, "limit"));
    c->shots = json_integer_value(json_object_get(j, "shots"));
    c->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    c->temperature = json_number_value(json_object_get(j, "temperature"));
    c->raw = json_is_true(json_object_get(j, "raw"));
    c->reasoning = json_is_true(json_object_get(j, "reasoning"));
    json_t *mt = json_object_get(j, "max_tokens");
    c->max_tokens = json_is_integer(mt) ? json_integer_value(mt) : -1;
    json_int_t smp = json_integer_value(json_object_get(j, "samples"));
    c->samples = smp >= 1 && smp <= 1000 ? smp : 1;
    const char *mode = json_string_value(json_object_get(j, "mode"));
    snprintf(c->mode, sizeof c->mode, "%s", mode ? mode : "task");
    json_decref(j);
    return rc;
}

/* The stored task must be the same file (name, version, sha256) as now. */
static int check_task_same(const char *cfg_json, const xuan_eval_task *t, int64_t run) {
    json_t *j = json_loads(cfg_json, 0, NULL);
    size_t i;
    json_t *tv;
    int rc = 0;
    json_array_foreach(json_object_get(j, "tasks"), i, tv) {
        const char *name = json_string_value(json_object_get(tv, "name"));
        const char *sha = json_string_value(json_object_get(tv, "sha256"));
        if (name && !strcmp(name, t->name) && (!sha || strcmp(sha, t->sha256)))
            rc = cli_error("run %lld: task file %s changed since the run began (sha256 %.12s, now %.12s); start a "
                           "new run",
                           (long long)run, t->path, sha ? sha : "?", t->sha256);
    }
    json_decref(j);
    return rc;
}

static void print_results(const run_cfg *c, int64_t run, const char *db, run_task *rt, size_t n,
                          const xuan_eval_summary *sum, uint64_t requests, bool endpoint, double wall) {
    size_t gen = 0, cached = 0, skipped = 0, failed = 0;
    for (size_t i = 0; i < n; i++)
        gen += rt[i].st.generated, cached += rt[i].st.cached, skipped += rt[i].st.skipped, failed += rt[i].st.failed;
    double ips = wall > 0 ? (double)(gen + cached) / wall : 0;
    if (c->json) {
        json_t *tasks = json_array();
        for (size_t i = 0; tasks && i < n; i++) {
            json_t *m = json_object();
            for (size_t k = 0; m && k < sum[i].n_metrics; k++) {
                json_t *v = json_pack("{s:f, s:f, s:I}", "score", sum[i].score[k], "stderr", sum[i].stderr_[k],
                                      "correct", (json_int_t)sum[i].right[k]);
                if (v && sum[i].k_items) {
                    char key[32];
                    snprintf(key, sizeof key, "pass@%u", (unsigned)sum[i].k);
                    json_object_set_new(v, key, json_real(sum[i].pass_k[k]));
                    json_object_set_new(v, "pass@k_stderr", json_real(sum[i].pass_k_stderr[k]));
                    json_object_set_new(v, "pass@k_items", json_integer((json_int_t)sum[i].k_items));
                }
                json_object_set_new(m, sum[i].names[k], v);
            }
            json_array_append_new(tasks, json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "task",
                                                   rt[i].t->name, "version", (json_int_t)rt[i].t->version, "sha256",
                                                   rt[i].t->sha256, "n", (json_int_t)sum[i].n, "total",
                                                   (json_int_t)rt[i].st.total, "generated",
                                                   (json_int_t)rt[i].st.generated, "cached",
                                                   (json_int_t)rt[i].st.cached, "failed", (json_int_t)rt[i].st.failed,
                                                   "metrics", m));
        }
        json_t *o = json_pack("{s:I, s:s, s:o, s:I, s:I, s:I, s:I, s:f, s:f}", "run", (json_int_t)run, "db", db,
                              "tasks", tasks, "generated", (json_int_t)gen, "cached", (json_int_t)cached, "skipped",
                              (json_int_t)skipped, "failed", (json_int_t)failed, "wall_s", wall, "items_per_s", ips);
        if (o && endpoint) json_object_set_new(o, "requests", json_integer((json_int_t)requests));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s) puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("run %lld (%s)\n", (long long)run, db);
        printf("%-12s %6s  %-16s %8s  %8s\n", "task", "n", "metric", "score", "± stderr");
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < sum[i].n_metrics || k == 0; k++) {
                if (k == 0) {
                    eval_cell(rt[i].t->name, 12);
                    printf(" %6zu  ", sum[i].n);
                } else {
                    printf("%-12s %6s  ", "", "");
                }
                if (!sum[i].n_metrics) {
                    printf("%-16s %8s\n", "-", "-");
                    break;
                }
                eval_cell(sum[i].names[k], 16);
                printf(" %7.2f%%  ± %6.2f\n", 100 * sum[i].score[k], 100 * sum[i].stderr_[k]);
                if (sum[i].k_items) { /* pass@k over the items' samples */
                    char name[48];
                    snprintf(name, sizeof name, "  pass@%u (%zu)", (unsigned)sum[i].k, sum[i].k_items);
                    printf("%-12s %6s  ", "", "");
                    eval_cell(name, 16);
                    printf(" %7.2f%%  ± %6.2f\n", 100 * sum[i].pass_k[k], 100 * sum[i].pass_k_stderr[k]);
                }
            }
        }
    }
    fprintf(stderr, "eval: run %lld: %zu generated, %zu from the cache, %zu already stored, %zu failed; %.1f s, %.2f items/s",
            (long long)run, gen, cached, skipped, failed, wall, ips);
    if (endpoint) fprintf(stderr, ", %llu requests", (unsigned long long)requests);
    fputc('\n', stderr);
}

/* The servers that did not say what they serve (GET /v1/models): a warning
 * each; the run goes on, and their requests go to the others while they are down. */
static void served_warn(const char *served, size_t n) {
    json_t *a = json_loads(served, 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *why = json_string_value(json_object_get(v, "error"));
        if (why)
            fprintf(stderr, "xuan eval: warning: %s/models: %s; the model it serves is not checked%s\n",
                    json_string_value(json_object_get(v, "url")), why,
                    n > 1 ? ", and its items go to the other endpoints while it is down" : "");
    }
    json_decref(a);
}

/* A resume: 1 (named) when a server now serves another model id than when
 * the run began (where both are known), else 0. */
static int served_changed(json_t *stored_cfg, const char *served, int64_t run) {
    json_t *now = served ? json_loads(served, 0, NULL) : NULL;
    json_t *then = json_object_get(stored_cfg, "endpoints");
    int rc = 0;
    size_t i, j;
    json_t *a, *b;
    json_array_foreach(now, i, a) {
        const char *url = json_string_value(json_object_get(a, "url"));
        const char *id = json_string_value(json_object_get(a, "model_id"));
        json_array_foreach(then, j, b) {
            const char *was = json_string_value(json_object_get(b, "model_id"));
            const char *was_url = json_string_value(json_object_get(b, "url"));
            if (!rc && url && id && was && was_url && !strcmp(url, was_url) && strcmp(id, was))
                rc = cli_error("run %lld: %s served '%.100s' when the run began and serves '%.100s' now; start a new run",
                               (long long)run, url, was, id);
        }
    }
    json_decref(now);
    return rc;
}

int eval_run(int argc, char **argv) {
    enum {
        O_ENDPOINT = EO_LAST + 1, O_APIKEY, O_TASKS, O_SUITE, O_LIMIT, O_SHOTS, O_DATA2, O_DB, O_MAXTOK, O_RESUME,
        O_JSON2, O_RAW, O_REASON, O_NOCACHE, O_TIMEOUT2, O_RETRIES, O_SANDBOX2, O_MODE, O_SAMPLES
    };
    static const struct option opts[] = {ENGINE_LONG_OPTS,
                                         {"endpoint", 1, 0, O_ENDPOINT},
                                         {"api-key", 1, 0, O_APIKEY},
                                         {"tasks", 1, 0, O_TASKS},
                                         {"suite", 1, 0, O_SUITE},
                                         {"limit", 1, 0, O_LIMIT},
                                         {"shots", 1, 0, O_SHOTS},
                                         {"data", 1, 0, O_DATA2},
                                         {"db", 1, 0, O_DB},
                                         {"max-tokens", 1, 0, O_MAXTOK},
                                         {"resume", 1, 0, O_RESUME},
                                         {"json", 0, 0, O_JSON2},
                                         {"completions", 0, 0, O_RAW},
                                         {"reasoning", 0, 0, O_REASON},
                                         {"no-cache", 0, 0, O_NOCACHE},
                                         {"timeout", 1, 0, O_TIMEOUT2},
                                         {"retries", 1, 0, O_RETRIES},
                                         {"sandbox", 1, 0, O_SANDBOX2},
                                         {"mode", 1, 0, O_MODE},
                                         {"samples", 1, 0, O_SAMPLES},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    engine_opts eo;
    engine_opts_init(&eo);
    eo.sp.temperature = 0; /* greedy unless --temp */
    eo.sp.seed = 0;
    run_cfg c = {.limit = 0, .shots = -1, .max_tokens = -1, .jobs = 1, .retries = 4, .timeout_s = 600, .mode = "task", .samples = 1};
    const char *data = NULL;
    xuan_sandbox_mode sandbox = XUAN_SANDBOX_FULL;
    char *lists[MAX_TASKS];
    size_t n_lists = 0;
    int opt, rc = 0;
    bool jobs_given = false;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ENGINE_SHORT_OPTS "j:h", opts, NULL)) != -1) {
        int r = engine_flag("eval", &eo, opt, optarg);
        if (r < 0) return XUAN_EXIT_USAGE;
        if (r > 0) continue;
        switch (opt) {
        case O_ENDPOINT:
            if (c.n_endpoints == MAX_ENDPOINTS) return cli_usage_error("eval", "at most %d --endpoint", MAX_ENDPOINTS);
            c.endpoints[c.n_endpoints++] = optarg;
            break;
        case O_APIKEY: c.api_key = optarg; break;
        case O_TASKS:
            if (n_lists == MAX_TASKS) return cli_usage_error("eval", "too many --tasks");
            lists[n_lists++] = optarg;
            break;
        case O_SUITE:
            if (strcmp(optarg, "seed")) return cli_usage_error("eval", "--suite: the only suite is 'seed', not '%s'", optarg);
            for (size_t i = 0; i < N_SEED && c.n_names < MAX_TASKS; i++) c.names[c.n_names++] = SEED_SUITE[i];
            break;
        case O_LIMIT:
            if (cli_int_arg("eval", "--limit", optarg, 1, INT32_MAX, &c.limit)) return XUAN_EXIT_USAGE;
            break;
        case O_SHOTS:
            if (cli_int_arg("eval", "--shots", optarg, 0, 64, &c.shots)) return XUAN_EXIT_USAGE;
            break;
        case O_DATA2: data = optarg; break;
        case O_DB: c.db = optarg; break;
        case O_MAXTOK:
            if (cli_int_arg("eval", "--max-tokens", optarg, 1, 1 << 20, &c.max_tokens)) return XUAN_EXIT_USAGE;
            break;
        case O_RESUME:
            if (cli_int_arg("eval", "--resume", optarg, 1, INT64_MAX, &c.resume)) return XUAN_EXIT_USAGE;
            break;
        case O_JSON2: c.json = true; break;
        case O_RAW: c.raw = true; break;
        case O_REASON: c.reasoning = true; break;
        case O_NOCACHE: c.no_cache = true; break;
        case 'j':
            if (cli_int_arg("eval", "-j", optarg, 1, 256, &c.jobs)) return XUAN_EXIT_USAGE;
            jobs_given = true;
            break;
        case O_TIMEOUT2:
            if (cli_double_arg("eval", "--timeout", optarg, 0.001, 86400, &c.timeout_s)) return XUAN_EXIT_USAGE;
            break;
        case O_RETRIES:
            if (cli_int_arg("eval", "--retries", optarg, 0, 100, &c.retries)) return XUAN_EXIT_USAGE;
            break;
        case O_SANDBOX2:
            if (!strcmp(optarg, "full")) sandbox = XUAN_SANDBOX_FULL;
            else if (!strcmp(optarg, "none")) sandbox = XUAN_SANDBOX_NONE;
            else return cli_usage_error("eval", "--sandbox: expected full or none, not '%s'", optarg);
            break;
        case O_SAMPLES:
            if (cli_int_arg("eval", "--samples", optarg, 1, 1000, &c.samples)) return XUAN_EXIT_USAGE;
            break;
        case O_MODE:
            if (strcmp(optarg, "task") && strcmp(optarg, "loglik") && strcmp(optarg, "generate"))
                return cli_usage_error("eval", "--mode: expected task, loglik or generate, not '%s'", optarg);
            snprintf(c.mode, sizeof c.mode, "%s", optarg);
            break;
        case 'h': eval_run_usage(stdout); return XUAN_EXIT_OK;
        default: eval_run_usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (optind != argc) return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    for (size_t i = 0; i < n_lists; i++)
        if ((rc = add_tasks(&c, lists[i])) != 0) return rc;
    if (!c.api_key) c.api_key = getenv("XUAN_API_KEY");
    if (!c.api_key) c.api_key = getenv("OPENAI_API_KEY");
    c.temperature = eo.sp.temperature;
    c.seed = eo.sp.seed == XUAN_SEED_RANDOM ? 0 : eo.sp.seed;
    char dbpath[4096];
    cli_results_db(c.db, true, dbpath, sizeof dbpath);
    xuan_error err = {0};
    xuan_eval_store *db = NULL;
    char *stored_cfg = NULL;
    static char resume_buf[1 << 16];
    if (c.resume) {
        if (c.n_names || c.n_endpoints || eo.model)
            return cli_usage_error("eval", "--resume RUN takes its model, endpoint and tasks from the store; give "
                                           "only --db, -j, --api-key, --timeout, --data and engine flags");
        if (xuan_eval_store_open(dbpath, &db, &err) != 0) return cli_error("%s", err.msg);
        if (xuan_eval_store_run_get(db, c.resume, &stored_cfg, NULL, &err) != 0) {
            xuan_eval_store_close(db);
            return cli_error("%s", err.msg);
        }
        if ((rc = resume_cfg(stored_cfg, c.resume, &c, &eo, resume_buf, sizeof resume_buf)) != 0) goto done_early;
    } else {
        if (!c.n_endpoints && !eo.model)
            return cli_usage_error("eval", "give a model (-m MODEL) or an endpoint (--endpoint URL)");
        if (!c.n_names) return cli_usage_error("eval", "give the tasks: --tasks LIST or --suite seed");
    }
    /* tasks and their data, before any model is loaded */
    run_task *rt = xuan_calloc(c.n_names, sizeof *rt);
    if (!rt) {
        rc = cli_error("out of memory");
        goto done_early;
    }
    size_t n = 0;
    for (; n < c.n_names; n++) {
        run_task *r = &rt[n];
        if (eval_find_task(c.names[n], r->path, sizeof r->path) != 0) {
            rc = cli_usage_error("eval", "no task '%s' (no %s.yaml in $XUAN_TASKS or the tasks/ folder)", c.names[n],
                                 c.names[n]);
            break;
        }
        if (xuan_eval_task_load(r->path, &r->t, &err) != 0) {
            rc = cli_error("%s", err.msg);
            break;
        }
        if (stored_cfg && (rc = check_task_same(stored_cfg, r->t, c.resume)) != 0) {
            n++;
            break;
        }
        if (c.shots >= 0 && r->t->n_fewshot_files) r->t->fewshot_count = (uint32_t)c.shots;
        char dir[4096];
        eval_data_dir(data, r->path, r->t->n_files ? r->t->files[0] : NULL, dir, sizeof dir);
        if (xuan_eval_data_load(r->t, dir, &r->d, &err) != 0) {
            rc = cli_error("%s", err.msg);
            n++;
            break;
        }
        r->loaded = true;
    }
    xuan_eval_backend be = {0};
    char *info = NULL, *cfg = NULL, *served = NULL;
    xuan_eval_summary *sum = NULL;
    if (rc) goto done;
    if (stored_cfg && !jobs_given) { /* in process, -j is part of the backend (its batch) */
        json_t *j = json_loads(stored_cfg, 0, NULL);
        json_int_t v = json_integer_value(json_object_get(j, "jobs"));
        if (v >= 1 && v <= 256) c.jobs = v;
        json_decref(j);
    }
    if (!c.n_endpoints && c.jobs > 1) {
        /* in process: -j N items per forward pass, N sequences of one context,
         * each with the usual 4096 cells unless -c says otherwise */
        if (c.jobs > XUAN_EVAL_MAX_BATCH) {
            rc = cli_usage_error("eval", "-j: at most %d sequences in process", XUAN_EVAL_MAX_BATCH);
            goto done;
        }
        eo.cp.n_seq_max = (uint32_t)c.jobs;
        if (!eo.cp.n_ctx) eo.cp.n_ctx = 4096 * eo.cp.n_seq_max;
    }
    if (c.n_endpoints) {
        xuan_eval_endpoint_opts eopt = {.urls = c.endpoints, .n_urls = c.n_endpoints, .api_key = c.api_key, .model = eo.model,
                                        .timeout_s = c.timeout_s, .retries = c.retries ? (int)c.retries : -1,
                                        .parallel = (int)c.jobs};
        const char *base = getenv("XUAN_EVAL_RETRY_BASE_S"); /* tests: short backoff */
        if (base) eopt.retry_base_s = atof(base);
        if (xuan_eval_endpoint_open(&eopt, &be, &err) != 0) {
            rc = cli_usage_error("eval", "%s", err.msg);
            goto done;
        }
        if (xuan_eval_endpoint_models(&be, &served, &err) != 0) {
            rc = cli_error("%s; give endpoints that serve one model", err.msg);
            goto done;
        }
        served_warn(served, c.n_endpoints);
    } else if ((rc = eval_local_open(&eo, &be, &info)) != 0) {
        goto done;
    }
    if (!db && xuan_eval_store_open(dbpath, &db, &err) != 0) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    int64_t run = c.resume;
    if (stored_cfg) {
        /* the same backend identity, or the resumed numbers would mix two models */
        json_t *sc = json_loads(stored_cfg, 0, NULL);
        json_t *a = json_object_get(sc, "backend");
        json_t *b = json_loads(be.identity, 0, NULL);
        bool same = a && b && json_equal(a, b);
        char *as = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (same) rc = served_changed(sc, served, c.resume);
        else
            rc = cli_error("run %lld was made with another backend (%s), not this one (%s); start a new run",
                           (long long)c.resume, as ? as : "?", be.identity);
        free(as);
        json_decref(b);
        json_decref(sc);
        if (rc) goto done;
    } else {
        if (!(cfg = run_config(&c, &be, info, served, rt, n))) {
            rc = cli_error("out of memory");
            goto done;
        }
        if (xuan_eval_store_run_create(db, cfg, &run, &err) != 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        fprintf(stderr, "eval: run %lld in %s (resume with: xuan eval --resume %lld --db %s)\n", (long long)run,
                dbpath, (long long)run, dbpath);
    }
    engine_interrupt = 0;
    engine_sigint_install();
    double t0 = xuan_time_s();
    for (size_t i = 0; i < n && !rc && !engine_interrupt; i++) {
        progress_ctx pc;
        xuan_eval_run_opts ro = {
            .store = db,
            .run = run,
            .backend = &be,
            .limit = (size_t)c.limit,
            .max_tokens = c.max_tokens > 0 ? (uint32_t)c.max_tokens
                          : c.reasoning   ? rt[i].t->max_tokens_reasoning
                                          : 0,
            .raw = c.raw,
            .force_loglik = !strcmp(c.mode, "loglik"),
            .force_generate = !strcmp(c.mode, "generate"),
            .temperature = c.temperature,
            .seed = c.seed,
            .samples = (uint32_t)c.samples,
            .parallel = (int)c.jobs * (c.n_endpoints ? (int)c.n_endpoints : 1), /* -j per endpoint */
            .no_cache = c.no_cache,
            .sandbox = sandbox,
            .interrupt = &engine_interrupt,
            .progress = on_progress,
            .progress_ctx = &pc,
        };
        size_t total = c.limit && (size_t)c.limit < rt[i].d.n_items ? (size_t)c.limit : rt[i].d.n_items;
        xuan_progress_begin(&pc.p, rt[i].t->name, total, false);
        int trc = xuan_eval_run_task(rt[i].t, &rt[i].d, &ro, &rt[i].st, &err);
        xuan_progress_end(&pc.p);
        if (trc == XUAN_ERR_UNAVAILABLE)
            rc = cli_error("%s: %s; what is done is stored: xuan eval --resume %lld --db %s", rt[i].t->name, err.msg,
                           (long long)run, dbpath);
        else if (trc) rc = cli_error("%s: %s", rt[i].t->name, err.msg);
    }
    double wall = xuan_time_s() - t0;
    signal(SIGINT, SIG_DFL);
    if (!(sum = xuan_calloc(n ? n : 1, sizeof *sum))) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (xuan_eval_summarize(db, run, rt[i].t->name,
                                rt[i].t->metric == XUAN_METRIC_PASS_AT_K || c.samples > 1 ? rt[i].t->k : 0, &sum[i],
                                &err) != 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
    print_results(&c, run, dbpath, rt, n, sum, xuan_eval_endpoint_requests(&be), c.n_endpoints > 0, wall);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) failed += rt[i].st.failed;
    if (engine_interrupt) {
        fprintf(stderr, "eval: interrupted; what is done is stored: xuan eval --resume %lld --db %s\n",
                (long long)run, dbpath);
        rc = 130;
    } else if (failed && !rc) {
        rc = cli_error("%zu items failed (above) and were not stored; xuan eval --resume %lld --db %s tries them again",
                       failed, (long long)run, dbpath);
    }
done:
    xuan_free(sum);
    xuan_free(cfg);
    xuan_free(info);
    xuan_free(served);
    if (be.close) be.close(be.self);
    for (size_t i = 0; i < n; i++) {
        xuan_eval_data_free(&rt[i].d);
        xuan_eval_task_free(rt[i].t);
    }
    xuan_free(rt);
done_early:
    xuan_free(stored_cfg);
    xuan_eval_store_close(db);
    return rc;
}

