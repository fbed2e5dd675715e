/*
 * xuan sandbox — run Python programs in the sandbox that `xuan eval` runs
 * generated code in (docs/sandbox.md).
 *
 *   xuan sandbox run [--timeout S] [--mem SIZE] [-j N] [--json] [--sandbox=full|none] FILE.py...
 *
 * One file: its stdout and stderr pass through, then one line on stderr:
 * "xuan sandbox: passed (exit 0, 0.041 s, peak 9.4 MiB)".  Several files: one
 * line per file on stdout as each finishes ("passed  0.041 s  FILE"), then
 * the totals.  --json prints one object per file instead, with the output.
 * Exit status: 0 when every program passed, 1 when any did not (or the
 * sandbox could not be set up), 2 for usage errors.
 */
#include "cli.h"
#include "xuan/eval.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan sandbox run [options] FILE.py [FILE.py ...]\n"
            "  --timeout S        wall-clock limit per program (default 4)\n"
            "  --cpu S            CPU seconds per process (default: timeout + 1)\n"
            "  --mem SIZE         address-space limit (default 2G)\n"
            "  --fsize SIZE       largest file it may write (default 16M)\n"
            "  --tmp SIZE         size of its private /tmp (default 64M)\n"
            "  --nproc N          processes (default 16)\n"
            "  -j, --jobs N       programs at once (default 1)\n"
            "  --python PATH      interpreter (default /usr/bin/python3)\n"
            "  --require-done     pass only if the program wrote the done mark to fd 3\n"
            "  --json             one JSON object per program\n"
            "  --sandbox=MODE     full (default) or none: no namespaces, no seccomp,\n"
            "                     only rlimits and the timer (for trusted code)\n");
}

typedef struct ctx {
    char **files;
    bool json;
    bool quiet_lines; /* a single file: no per-file line on stdout */
    size_t counts[XUAN_SANDBOX_ERROR + 1];
} ctx;

static void print_json(const char *file, const xuan_sandbox_result *r) {
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "verdict", json_string(xuan_sandbox_verdict_name(r->verdict)));
    if (r->verdict == XUAN_SANDBOX_LIMIT) json_object_set_new(o, "limit", json_string(xuan_sandbox_limit_name(r->limit)));
    json_object_set_new(o, "exit_code", json_integer(r->exit_code));
    json_object_set_new(o, "signal", json_integer(r->signal));
    json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
    json_object_set_new(o, "wall_s", json_real(r->wall_s));
    json_object_set_new(o, "cpu_s", json_real(r->cpu_s));
    json_object_set_new(o, "peak_rss_bytes", json_integer((json_int_t)r->peak_rss_bytes));
    json_object_set_new(o, "stdout", json_stringn_nocheck(r->out.data ? r->out.data : "", r->out.len));
    json_object_set_new(o, "stderr", json_stringn_nocheck(r->err.data ? r->err.data : "", r->err.len));
    json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)r->out_total));
    json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)r->err_total));
    if (r->error[0]) json_object_set_new(o, "error", json_string(r->error));
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static void describe(const xuan_sandbox_result *r, char *buf, size_t n) {
    char rss[32];
    if (r->verdict == XUAN_SANDBOX_ERROR) {
        snprintf(buf, n, "%s", r->error);
        return;
    }
    int k = snprintf(buf, n, "%s", xuan_sandbox_verdict_name(r->verdict));
    if (r->verdict == XUAN_SANDBOX_LIMIT && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, ": %s", xuan_sandbox_limit_name(r->limit));
    if (k > 0 && (size_t)k < n) {
        if (r->signal) k += snprintf(buf + k, n - (size_t)k, " (signal %d", r->signal);
        else k += snprintf(buf + k, n - (size_t)k, " (exit %d", r->exit_code);
    }
    if (k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, ", %.3f s, peak %s)", r->wall_s,
                 xuan_fmt_bytes(r->peak_rss_bytes, rss, sizeof rss));
}

static void on_done(void *p, size_t i, const xuan_sandbox_result *r) {
    ctx *c = p;
    c->counts[r->verdict]++;
    if (c->json) {
        print_json(c->files[i], r);
    } else if (!c->quiet_lines) {
        char d[600];
        describe(r, d, sizeof d);
        printf("%-40s %s\n", c->files[i], d);
    }
    fflush(stdout);
}

/* The program's name inside the sandbox: the file's own, with anything
 * but [A-Za-z0-9._-] made '_' (tracebacks then name the file). */
static const char *sandbox_name(const char *path, char *buf, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t k = 0;
    for (; base[k] && k + 1 < n; k++) {
        char ch = base[k];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '_' || ch == '-';
        buf[k] = ok ? ch : '_';
    }
    buf[k] = 0;
    return k == 0 || !strcmp(buf, ".") || !strcmp(buf, "..") ? "main.py" : buf;
}

static int cmd_sandbox_run(int argc, char **argv) {
    enum { O_TIMEOUT = 256, O_CPU, O_MEM, O_FSIZE, O_TMP, O_NPROC, O_PYTHON, O_DONE, O_JSON, O_MODE };
    static const struct option opts[] = {
        {"timeout", required_argument, 0, O_TIMEOUT}, {"cpu", required_argument, 0, O_CPU},
        {"mem", required_argument, 0, O_MEM},         {"fsize", required_argument, 0, O_FSIZE},
        {"tmp", required_argument, 0, O_TMP},         {"nproc", required_argument, 0, O_NPROC},
        {"jobs", required_argument, 0, 'j'},          {"python", required_argument, 0, O_PYTHON},
        {"require-done", no_argument, 0, O_DONE},     {"json", no_argument, 0, O_JSON},
        {"sandbox", required_argument, 0, O_MODE},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    xuan_sandbox_opts o = xuan_sandbox_opts_default();
    int64_t jobs = 1, v;
    ctx c = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
        switch (ch) {
        case O_TIMEOUT:
            if (cli_double_arg("sandbox", "--timeout", optarg, 0.01, 86400, &o.timeout_s)) return XUAN_EXIT_USAGE;
            break;
        case O_CPU:
            if (cli_double_arg("sandbox", "--cpu", optarg, 1, 86400, &o.cpu_s)) return XUAN_EXIT_USAGE;
            break;
        case O_MEM:
            if (cli_bytes_arg("sandbox", "--mem", optarg, &o.mem_bytes)) return XUAN_EXIT_USAGE;
            break;
        case O_FSIZE:
            if (cli_bytes_arg("sandbox", "--fsize", optarg, &o.fsize_bytes)) return XUAN_EXIT_USAGE;
            break;
        case O_TMP:
            if (cli_bytes_arg("sandbox", "--tmp", optarg, &o.tmp_bytes)) return XUAN_EXIT_USAGE;
            break;
        case O_NPROC:
            if (cli_int_arg("sandbox", "--nproc", optarg, 1, 4096, &v)) return XUAN_EXIT_USAGE;
            o.nproc = (uint32_t)v;
            break;
        case 'j':
            if (cli_int_arg("sandbox", "-j", optarg, 1, 256, &jobs)) return XUAN_EXIT_USAGE;
            break;
        case O_PYTHON: o.python = optarg; break;
        case O_DONE: o.require_done = true; break;
        case O_JSON: c.json = true; break;
        case O_MODE:
            if (!strcmp(optarg, "none")) o.mode = XUAN_SANDBOX_NONE;
            else if (!strcmp(optarg, "full")) o.mode = XUAN_SANDBOX_FULL;
            else return cli_usage_error("sandbox", "--sandbox is full or none, got '%s'", optarg);
            break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (optind >= argc) return cli_usage_error("sandbox", "give at least one FILE.py");
    size_t n = (size_t)(argc - optind);
    c.files = argv + optind;
    c.quiet_lines = n == 1;

    xuan_sandbox_job *job = xuan_calloc(n, sizeof *job);
    xuan_sandbox_result *res = xuan_calloc(n, sizeof *res);
    char **text = xuan_calloc(n, sizeof *text);
    char (*names)[128] = xuan_calloc(n, sizeof *names);
    if (!job || !res || !text || !names) return cli_error("sandbox: out of memory");
    xuan_error err = {0};
    int rc = XUAN_EXIT_OK;
    for (size_t i = 0; i < n && rc == XUAN_EXIT_OK; i++) {
        if (xuan_read_file(c.files[i], 64u << 20, &text[i], &job[i].len, &err) != 0) rc = cli_error("%s", err.msg);
        job[i].program = text[i];
        job[i].name = sandbox_name(c.files[i], names[i], sizeof names[i]);
    }
    if (rc == XUAN_EXIT_OK) {
        o.on_done = on_done;
        o.on_done_ctx = &c;
        double t0 = xuan_time_s();
        int st = xuan_sandbox_run_many(&o, job, n, (int)jobs, res, &err);
        double wall = xuan_time_s() - t0;
        if (n == 1 && !c.json) {
            fwrite(res[0].out.data ? res[0].out.data : "", 1, res[0].out.len, stdout);
            fflush(stdout);
            fwrite(res[0].err.data ? res[0].err.data : "", 1, res[0].err.len, stderr);
            char d[600];
            describe(&res[0], d, sizeof d);
            fprintf(stderr, "xuan sandbox: %s\n", d);
        } else if (!c.json) {
            printf("%zu programs: %zu passed, %zu failed, %zu timeout, %zu limit, %zu sandbox-error; %.2f s at -j %d\n",
                   n, c.counts[XUAN_SANDBOX_PASSED], c.counts[XUAN_SANDBOX_FAILED], c.counts[XUAN_SANDBOX_TIMEOUT],
                   c.counts[XUAN_SANDBOX_LIMIT], c.counts[XUAN_SANDBOX_ERROR], wall, (int)jobs);
        }
        if (st != 0) rc = cli_error("%s", err.msg);
        else if (c.counts[XUAN_SANDBOX_PASSED] != n) rc = XUAN_EXIT_RUNTIME;
    }
    for (size_t i = 0; i < n; i++) {
        xuan_sandbox_result_free(&res[i]);
        xuan_free(text[i]);
    }
    xuan_free(job);
    xuan_free(res);
    xuan_free(text);
    xuan_free(names);
    return rc;
}

int cmd_sandbox(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return XUAN_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        usage(stderr);
        return cli_usage_error("sandbox", "the only subcommand is 'run'");
    }
    return cmd_sandbox_run(argc - 1, argv + 1);
}
