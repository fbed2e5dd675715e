/*
 * xuan eval — benchmarks (docs/eval.md).
 *
 *   xuan eval [run] -m MODEL | --endpoint URL [--model NAME] --tasks LIST | --suite seed
 *                   [--limit N] [--shots K] [--seed S] [-j N] [--db FILE] [--resume RUN] ...
 *   xuan eval score --task T --outputs FILE.jsonl [--data DIR] [--json]
 *                   [-j N] [--timeout S] [--sandbox full|none] [--no-run]
 *
 * This file: the verb's door, what `eval score` and `eval run` share (task
 * lookup, table cells; eval_cli.h) and `eval score`.  `eval run` is
 * cmd_eval_run.c: each item's prompt goes to a backend (the engine in this
 * process, eval_local.c, or an OpenAI-compatible endpoint), is scored and
 * stored in the results store (SQLite, src/eval/store.c) one item at a
 * time, so a run killed at any point continues with --resume RUN.
 *
 * T is a task file (a path) or a task name, looked up as <name>.yaml in
 * $XUAN_TASKS, then in the tasks/ folder beside the binary's folder (the
 * repository's, for a build inside it).  DIR defaults to $XUAN_DATA, then
 * ../shared/datasets next to the repository holding the task file.  Only
 * HumanEval needs the data (the prompt and tests of each task_id).
 *
 * Each input line is a JSON object with `output` and `target` (`options`, a
 * list or an object, sets the letters of a multiple-choice item; HumanEval
 * takes `task_id` and `completion`: the program is assembled as the task
 * says and run in the sandbox, N at a time, after the last line; pass@k per
 * task id over its samples).  Each gives one JSON line (--json) or
 * one table row, then the totals.  A bad line is reported on stderr with its
 * number and skipped; the others are still scored, and the exit code is 1.
 */
#include "eval_cli.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: xuan eval score --task T --outputs FILE.jsonl [--data DIR] [--json]\n"
               "  --task T            a task name (tasks/T.yaml) or a task file\n"
               "  --outputs FILE      JSON lines: {\"output\", \"target\"[, \"options\"]} or, for humaneval,\n"
               "                      {\"task_id\", \"completion\"}  (- = stdin)\n"
               "  --data DIR          the datasets folder (default $XUAN_DATA, else ../shared/datasets)\n"
               "  --json              one JSON line per input, then a totals line (default: a table)\n"
               "code tasks (humaneval): each program runs in the sandbox (docs/sandbox.md)\n"
               "  -j N                programs at once (default 2)\n"
               "  --timeout S         wall-clock limit per program (default 4 s: max(4 s, 4 x canonical))\n"
               "  --sandbox full|none full isolation (default), or none: rlimits and the timer only\n"
               "  --no-run            only assemble the programs (JSON: field 'program')\n"
               "tasks are looked up in $XUAN_TASKS, then in tasks/ beside the binary's folder\n");
}

/* $XUAN_TASKS, else the folder of the running binary's parent, plus "/tasks". */
bool eval_tasks_dir(char *buf, size_t n) {
    const char *env = getenv("XUAN_TASKS");
    if (env && *env) return snprintf(buf, n, "%s", env) < (int)n;
    char exe[4096];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (l <= 0) return false;
    exe[l] = 0;
    char *d = dirname(exe); /* build/ */
    char up[4096];
    snprintf(up, sizeof up, "%s", d);
    int w = snprintf(buf, n, "%s/tasks", dirname(up));
    return w > 0 && (size_t)w < n;
}

int eval_find_task(const char *t, char *path, size_t n) {
    if (strchr(t, '/') || strstr(t, ".yaml")) return snprintf(path, n, "%s", t) < (int)n ? 0 : -1;
    char dir[4096];
    if (eval_tasks_dir(dir, sizeof dir)) {
        int w = snprintf(path, n, "%s/%s.yaml", dir, t);
        if (w > 0 && (size_t)w < n && xuan_file_exists(path)) return 0;
    }
    return -1;
}

void eval_data_dir(const char *flag, const char *task_path, const char *probe, char *buf, size_t n) {
    const char *env = getenv("XUAN_DATA");
    if (flag) snprintf(buf, n, "%s", flag);
    else if (env && *env) snprintf(buf, n, "%s", env);
    else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", task_path);
        const char *d = dirname(tmp); /* <repo>/tasks */
        if (snprintf(buf, n, "%s/../../shared/datasets", d) >= (int)n) buf[0] = 0;
        /* a set `xuan data pull` fetched (MMLU-Pro) is in <cache>/datasets, not beside the repository */
        char at[8192], cache[4000], pulled[4096];
        if (probe && probe[0] != '/' && snprintf(at, sizeof at, "%s/%s", buf, probe) < (int)sizeof at &&
            access(at, F_OK) != 0) {
            snprintf(pulled, sizeof pulled, "%s/datasets", xuan_cache_dir(cache, sizeof cache));
            if (snprintf(at, sizeof at, "%s/%s", pulled, probe) < (int)sizeof at && access(at, F_OK) == 0)
                snprintf(buf, n, "%s", pulled);
        }
    }
}

/* ---- one line ----------------------------------------------------------------- */

typedef struct totals {
    size_t lines, errors, scored;
    size_t right[XUAN_EXTRACT_COUNT], answered[XUAN_EXTRACT_COUNT];
} totals;

/* A code task's programs: assembled line by line, run together at the end
 * (each in its own sandbox, -j at a time). */
typedef struct code_run {
    size_t lineno;
    char *task_id;
    xuan_buf program;
} code_run;

typedef struct code_runs {
    code_run *v;
    size_t n, cap;
} code_runs;

static void code_runs_free(code_runs *r) {
    for (size_t i = 0; i < r->n; i++) {
        xuan_free(r->v[i].task_id);
        xuan_buf_free(&r->v[i].program);
    }
    xuan_free(r->v);
    memset(r, 0, sizeof *r);
}

static const xuan_eval_item *find_task_id(const xuan_eval_data *d, const char *id) {
    for (size_t i = 0; i < d->n_items; i++) {
        const xuan_eval_item *it = xuan_eval_data_item(d, i, NULL);
        const char *v = xuan_eval_item_get(it, "task_id");
        if (v && strcmp(v, id) == 0) return it;
    }
    return NULL;
}

/* Prints at most `w` columns of s (by characters), padded. */
void eval_cell(const char *s, int w) {
    int cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n && cols < w) {
        if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r') { /* keep the row one line */
            putchar(' ');
            i++, cols++;
            continue;
        }
        int l = xuan_utf8_len(p + i, n - i);
        if (l <= 0) l = 1;
        uint32_t cp;
        xuan_utf8_decode(p + i, n - i, &cp);
        int cw = (cp >= 0x1100 && (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                                    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFF60)))
                     ? 2 : 1;
        if (cols + cw > w) break;
        fwrite(p + i, 1, (size_t)l, stdout);
        i += (size_t)l, cols += cw;
    }
    for (; cols < w; cols++) putchar(' ');
}

static int score_line(const xuan_eval_task *t, const xuan_eval_data *d, const char *src, size_t lineno,
                      json_t *in, bool as_json, totals *tot, code_runs *runs) {
    if (!json_is_object(in)) return cli_error("%s:%zu: a line must hold one JSON object", src, lineno);
    char letters[27];
    xuan_eval_task_letters(t, letters);
    json_t *opts = json_object_get(in, "options");
    if (opts) {
        size_t n = json_is_array(opts) ? json_array_size(opts) : json_is_object(opts) ? json_object_size(opts) : 0;
        /* one option is real data: MMLU-Pro has 15 questions with a single choice */
        if (n < 1 || n > 26)
            return cli_error("%s:%zu: field 'options': expected a list or object of 1 to 26 options", src, lineno);
        for (size_t i = 0; i < n; i++) letters[i] = (char)('A' + i);
        letters[n] = 0;
    }
    xuan_buf program = {0};
    char num[64]; /* a numeric target as text; lives as long as `target` */
    const char *output, *target = "";
    if (t->answer == XUAN_ANSWER_CODE) {
        json_t *idj = json_object_get(in, "task_id");
        const char *id = json_string_value(idj);
        if (json_is_integer(idj)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(idj)), id = num;
        output = json_string_value(json_object_get(in, "completion"));
        if (!output) output = json_string_value(json_object_get(in, "output"));
        if (!id) return cli_error("%s:%zu: field 'task_id': missing, or neither a string nor an integer", src, lineno);
        if (!output) return cli_error("%s:%zu: field 'completion': missing or not a string", src, lineno);
        const xuan_eval_item *it = find_task_id(d, id);
        if (!it) return cli_error("%s:%zu: field 'task_id': '%.80s' is not in %s", src, lineno, id, t->name);
        xuan_error perr = {0};
        if (xuan_eval_program(t, it, output, &program, &perr) != 0) {
            xuan_buf_free(&program);
            return cli_error("%s:%zu: %s", src, lineno, perr.msg);
        }
        if (runs) { /* run at the end; the program proves it reached the end of its tests */
            if (runs->n == runs->cap) {
                size_t cap = runs->cap ? 2 * runs->cap : 64;
                code_run *v = xuan_realloc(runs->v, cap * sizeof *v);
                if (!v) {
                    xuan_buf_free(&program);
                    return cli_error("%s:%zu: out of memory", src, lineno);
                }
                runs->v = v, runs->cap = cap;
            }
            char *idc = xuan_malloc(strlen(id) + 1);
            if (!idc || xuan_buf_puts(&program, XUAN_SANDBOX_DONE_PY) != 0) {
                xuan_free(idc);
                xuan_buf_free(&program);
                return cli_error("%s:%zu: out of memory", src, lineno);
            }
            memcpy(idc, id, strlen(id) + 1);
            runs->v[runs->n++] = (code_run){lineno, idc, program};
            tot->scored++;
            return 0;
        }
    } else {
        output = json_string_value(json_object_get(in, "output"));
        json_t *tj = json_object_get(in, "target");
        if (!output) return cli_error("%s:%zu: field 'output': missing or not a string", src, lineno);
        if (!tj) return cli_error("%s:%zu: field 'target': missing", src, lineno);
        if (json_is_string(tj)) target = json_string_value(tj);
        else if (json_is_integer(tj)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(tj)), target = num;
        else if (json_is_real(tj)) snprintf(num, sizeof num, "%.17g", json_real_value(tj)), target = num;
        else return cli_error("%s:%zu: field 'target': expected a string or a number", src, lineno);
    }
    xuan_eval_verdict v[XUAN_EXTRACT_COUNT] = {{0}};
    xuan_error err = {0};
    for (size_t k = 0; k < t->n_extractors; k++)
        if (xuan_eval_score(t, k, output, target, letters, &v[k], &err) != 0) {
            for (size_t j = 0; j < k; j++) xuan_eval_verdict_free(&v[j]);
            xuan_buf_free(&program);
            return cli_error("%s:%zu: %s", src, lineno, err.msg);
        }
    tot->scored++;
    for (size_t k = 0; k < t->n_extractors; k++) {
        tot->answered[k] += v[k].extracted != NULL;
        tot->right[k] += v[k].correct == 1;
    }
    if (as_json) {
        json_t *o = json_object(), *ex = json_object(), *co = json_object();
        json_object_set_new(o, "line", json_integer((json_int_t)lineno));
        json_t *id = json_object_get(in, "task_id");
        if (!id) id = json_object_get(in, "id");
        if (id) json_object_set(o, json_object_get(in, "task_id") ? "task_id" : "id", id);
        for (size_t k = 0; k < t->n_extractors; k++) {
            const char *name = xuan_eval_extractor_name(t->extractors[k]);
            json_object_set_new(ex, name, v[k].extracted ? json_string(v[k].extracted) : json_null());
            json_object_set_new(co, name, v[k].correct < 0 ? json_null() : json_boolean(v[k].correct));
        }
        json_object_set_new(o, "extracted", ex);
        json_object_set_new(o, "correct", co);
        if (program.data) {
            json_object_set_new(o, "program", json_stringn(program.data, program.len));
            json_object_set_new(o, "run", json_string("not run (--no-run)"));
        }
        char *s = json_dumps(o, JSON_COMPACT);
        if (s) puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%6zu", lineno);
        for (size_t k = 0; k < t->n_extractors; k++) {
            printf("  ");
            eval_cell(v[k].extracted ? v[k].extracted : "-", 20);
            printf(" %-5s", v[k].correct < 0 ? "n/a" : v[k].correct ? "right" : "wrong");
        }
        putchar('\n');
    }
    for (size_t k = 0; k < t->n_extractors; k++) xuan_eval_verdict_free(&v[k]);
    xuan_buf_free(&program);
    return 0;
}

typedef struct run_opts {
    bool run;         /* false: --no-run, programs only assembled */
    int jobs;         /* -j */
    double timeout_s; /* --timeout, else xuan_sandbox_timeout_for(0) */
    xuan_sandbox_mode mode;
} run_opts;

/* Runs the code task's programs in the sandbox, prints one row (or JSON
 * line) each, and fills passed / pass_k (the mean over task ids with at
 * least k samples of xuan_pass_at_k; -1 when none has).  Returns 0, or 1
 * when the sandbox could not run them (the message says why). */
static int run_code(const xuan_eval_task *t, const code_runs *runs, const run_opts *ro, bool as_json,
                    size_t *passed, double *pass_k, size_t *n_ids) {
    *passed = 0, *pass_k = -1, *n_ids = 0;
    if (!runs->n) return 0;
    xuan_sandbox_job *jobs = xuan_calloc(runs->n, sizeof *jobs);
    xuan_sandbox_result *res = xuan_calloc(runs->n, sizeof *res);
    if (!jobs || !res) {
        xuan_free(jobs);
        xuan_free(res);
        return cli_error("out of memory for %zu programs", runs->n);
    }
    for (size_t i = 0; i < runs->n; i++) jobs[i] = (xuan_sandbox_job){runs->v[i].program.data, runs->v[i].program.len, NULL, 0};
    xuan_sandbox_opts o = xuan_sandbox_opts_default();
    o.mode = ro->mode;
    o.timeout_s = ro->timeout_s > 0 ? ro->timeout_s : xuan_sandbox_timeout_for(0);
    o.require_done = true;
    fprintf(stderr, "eval score: running %zu programs in the sandbox, %d at a time, %.0f s limit each\n", runs->n,
            ro->jobs, o.timeout_s);
    xuan_error err = {0};
    int rc = xuan_sandbox_run_many(&o, jobs, runs->n, ro->jobs, res, &err);
    if (rc != 0) cli_error("%s (pass --sandbox none to run without isolation, at your own risk)", err.msg);
    for (size_t i = 0; i < runs->n && rc == 0; i++) {
        const bool ok = res[i].verdict == XUAN_SANDBOX_PASSED;
        *passed += ok;
        const char *verdict = xuan_sandbox_verdict_name(res[i].verdict);
        if (as_json) {
            json_t *j = json_pack("{s:I, s:s, s:b, s:s, s:f}", "line", (json_int_t)runs->v[i].lineno, "task_id",
                                  runs->v[i].task_id, "correct", ok, "verdict", verdict, "wall_s", res[i].wall_s);
            if (j && res[i].verdict == XUAN_SANDBOX_LIMIT)
                json_object_set_new(j, "limit", json_string(xuan_sandbox_limit_name(res[i].limit)));
            char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
            if (line) puts(line);
            free(line);
            json_decref(j);
        } else {
            printf("%6zu  ", runs->v[i].lineno);
            eval_cell(runs->v[i].task_id, 20);
            printf(" %-8s %6.2f s\n", verdict, res[i].wall_s);
        }
    }
    /* pass@k per task id (samples of one id need not be adjacent) */
    double sum = 0;
    bool *seen = xuan_calloc(runs->n, 1);
    for (size_t i = 0; i < runs->n && seen && rc == 0; i++) {
        if (seen[i]) continue;
        uint32_t n = 0, c = 0;
        for (size_t j = i; j < runs->n; j++)
            if (!seen[j] && strcmp(runs->v[j].task_id, runs->v[i].task_id) == 0) {
                seen[j] = true;
                n++;
                c += res[j].verdict == XUAN_SANDBOX_PASSED;
            }
        if (n >= t->k) sum += xuan_pass_at_k(n, c, t->k), ++*n_ids;
    }
    if (*n_ids) *pass_k = sum / (double)*n_ids;
    xuan_free(seen);
    for (size_t i = 0; i < runs->n; i++) xuan_sandbox_result_free(&res[i]);
    xuan_free(res);
    xuan_free(jobs);
    return rc != 0;
}

static int cmd_score(int argc, char **argv) {
    enum { O_TASK = 1000, O_OUTPUTS, O_DATA, O_JSON, O_NORUN, O_TIMEOUT, O_SANDBOX };
    static const struct option opts[] = {
        {"task", required_argument, 0, O_TASK},       {"outputs", required_argument, 0, O_OUTPUTS},
        {"data", required_argument, 0, O_DATA},       {"json", no_argument, 0, O_JSON},
        {"no-run", no_argument, 0, O_NORUN},          {"timeout", required_argument, 0, O_TIMEOUT},
        {"sandbox", required_argument, 0, O_SANDBOX}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *task = NULL, *outputs = NULL, *data = NULL;
    bool as_json = false;
    run_opts ro = {.run = true, .jobs = 2, .mode = XUAN_SANDBOX_FULL};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
        switch (c) {
        case O_TASK: task = optarg; break;
        case O_OUTPUTS: outputs = optarg; break;
        case O_DATA: data = optarg; break;
        case O_JSON: as_json = true; break;
        case O_NORUN: ro.run = false; break;
        case 'j': {
            int64_t v;
            if (xuan_parse_i64(optarg, 1, 256, &v) != 0)
                return cli_usage_error("eval score", "-j: expected 1 to 256 programs at once, not '%s'", optarg);
            ro.jobs = (int)v;
            break;
        }
        case O_TIMEOUT: {
            double v;
            if (xuan_parse_f64(optarg, 0.001, 3600, &v) != 0)
                return cli_usage_error("eval score", "--timeout: expected seconds in (0, 3600], not '%s'", optarg);
            ro.timeout_s = v;
            break;
        }
        case O_SANDBOX:
            if (!strcmp(optarg, "full")) ro.mode = XUAN_SANDBOX_FULL;
            else if (!strcmp(optarg, "none")) ro.mode = XUAN_SANDBOX_NONE;
            else return cli_usage_error("eval score", "--sandbox: expected full or none, not '%s'", optarg);
            break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (optind != argc) return cli_usage_error("eval score", "unexpected argument '%s'", argv[optind]);
    if (!task) return cli_usage_error("eval score", "--task T is required");
    if (!outputs) return cli_usage_error("eval score", "--outputs FILE.jsonl is required");
    char path[4096], dir[4096];
    if (eval_find_task(task, path, sizeof path) != 0)
        return cli_usage_error("eval score", "no task '%s' (no %s.yaml in $XUAN_TASKS or the tasks/ folder)", task, task);
    xuan_error err = {0};
    xuan_eval_task *t = NULL;
    if (xuan_eval_task_load(path, &t, &err) != 0) return cli_error("%s", err.msg);
    xuan_eval_data d = {0};
    if (t->answer == XUAN_ANSWER_CODE) {
        eval_data_dir(data, path, t->n_files ? t->files[0] : NULL, dir, sizeof dir);
        if (xuan_eval_data_load(t, dir, &d, &err) != 0) {
            xuan_eval_task_free(t);
            return cli_error("%s", err.msg);
        }
    }
    char *text = NULL;
    size_t n = 0;
    int rc = cli_read_input(outputs, (uint64_t)1 << 30, &text, &n, &err);
    if (rc) {
        xuan_eval_data_free(&d);
        xuan_eval_task_free(t);
        return cli_error("%s", err.msg);
    }
    if (!as_json) {
        printf("%6s", "line");
        for (size_t k = 0; k < t->n_extractors; k++) {
            printf("  ");
            eval_cell(xuan_eval_extractor_name(t->extractors[k]), 20);
            printf(" %-5s", "");
        }
        putchar('\n');
    }
    totals tot = {0};
    const bool code = t->answer == XUAN_ANSWER_CODE;
    code_runs runs = {0};
    size_t lineno = 0;
    for (size_t pos = 0; pos < n;) {
        const char *s = text + pos, *nl = memchr(s, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - s) : n - pos;
        pos += len + (nl != NULL);
        lineno++;
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
        if (k == len) continue;
        tot.lines++;
        json_error_t je;
        json_t *in = json_loadb(s, len, 0, &je);
        int lrc = in ? score_line(t, &d, outputs, lineno, in, as_json, &tot, code && ro.run ? &runs : NULL)
                     : cli_error("%s:%zu: bad JSON at column %d: %s", outputs, lineno, je.column, je.text);
        json_decref(in);
        if (lrc) tot.errors++;
    }
    size_t passed = 0, n_ids = 0;
    double pass_k = -1;
    int run_rc = code && ro.run ? run_code(t, &runs, &ro, as_json, &passed, &pass_k, &n_ids) : 0;
    code_runs_free(&runs);
    if (as_json) {
        json_t *o = json_object(), *acc = json_object(), *right = json_object();
        for (size_t k = 0; k < t->n_extractors; k++) {
            const char *name = xuan_eval_extractor_name(t->extractors[k]);
            json_object_set_new(right, name, json_integer((json_int_t)tot.right[k]));
            json_object_set_new(acc, name, t->answer == XUAN_ANSWER_CODE || !tot.scored
                                               ? json_null() : json_real((double)tot.right[k] / (double)tot.scored));
        }
        json_t *tt = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:o, s:o}", "task", t->name, "version",
                               (json_int_t)t->version, "sha256", t->sha256, "lines", (json_int_t)tot.lines, "scored",
                               (json_int_t)tot.scored, "errors", (json_int_t)tot.errors, "correct", right,
                               "accuracy", acc);
        if (code && ro.run && tt && !run_rc) {
            char key[32];
            snprintf(key, sizeof key, "pass@%u", (unsigned)t->k);
            json_object_set_new(tt, "passed", json_integer((json_int_t)passed));
            json_object_set_new(tt, key, pass_k < 0 ? json_null() : json_real(pass_k));
            json_object_set_new(tt, "task_ids", json_integer((json_int_t)n_ids));
        }
        json_object_set_new(o, "totals", tt);
        char *s = json_dumps(o, JSON_COMPACT);
        if (s) puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("\ntask %s v%lld (sha256 %.12s): %zu lines, %zu scored, %zu errors\n", t->name, (long long)t->version,
               t->sha256, tot.lines, tot.scored, tot.errors);
        for (size_t k = 0; k < t->n_extractors; k++) {
            printf("  ");
            eval_cell(xuan_eval_extractor_name(t->extractors[k]), 16);
            if (code && !ro.run)
                printf("  %zu programs assembled, not run (--no-run)\n", tot.scored);
            else if (code && !run_rc)
                printf("  %6zu / %-6zu passed; pass@%u %.2f%% over %zu task ids\n", passed, tot.scored,
                       (unsigned)t->k, pass_k < 0 ? 0.0 : 100.0 * pass_k, n_ids);
            else if (code)
                printf("  %zu programs assembled, not run (the sandbox failed, above)\n", tot.scored);
            else
                printf("  %6zu / %-6zu %6.2f%%   (%zu with an answer)\n", tot.right[k], tot.scored,
                       tot.scored ? 100.0 * (double)tot.right[k] / (double)tot.scored : 0.0, tot.answered[k]);
        }
    }
    xuan_free(text);
    xuan_eval_data_free(&d);
    xuan_eval_task_free(t);
    return tot.errors || run_rc ? XUAN_EXIT_RUNTIME : XUAN_EXIT_OK;
}

int cmd_eval(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        eval_run_usage(f);
        fputc('\n', f);
        usage(f);
        return argc < 2 ? XUAN_EXIT_USAGE : XUAN_EXIT_OK;
    }
    if (!strcmp(argv[1], "score")) return cmd_score(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run")) return eval_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "kld")) return cmd_eval_kld(argc - 1, argv + 1);
    if (argv[1][0] == '-') return eval_run(argc, argv);
    return cli_usage_error("eval", "unknown sub-verb '%s' (known: run, score, kld; or flags: xuan eval -m MODEL ...)",
                           argv[1]);
}
