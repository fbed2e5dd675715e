/* Shared CLI helpers: error printing and flag parsing. */
#include "cli.h"
#include "xuan/pick.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

int cli_usage_error(const char *verb, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "xuan %s: %s (see 'xuan %s --help')\n", verb, msg, verb);
    return XUAN_EXIT_USAGE;
}

int cli_error(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "xuan: %s\n", msg);
    return XUAN_EXIT_RUNTIME;
}

int cli_exit_for(const xuan_error *err) {
    return err && err->code == XUAN_ERR_USAGE ? XUAN_EXIT_USAGE : XUAN_EXIT_RUNTIME;
}

int cli_int_arg(const char *verb, const char *flag, const char *value, int64_t min, int64_t max,
                int64_t *out) {
    if (xuan_parse_i64(value, min, max, out) == 0) return 0;
    return cli_usage_error(verb, "%s expects a whole number from %lld to %lld, got '%s'", flag,
                           (long long)min, (long long)max, value ? value : "");
}

int cli_double_arg(const char *verb, const char *flag, const char *value, double min, double max,
                   double *out) {
    if (xuan_parse_f64(value, min, max, out) == 0) return 0;
    return cli_usage_error(verb, "%s expects a number from %g to %g, got '%s'", flag, min, max,
                           value ? value : "");
}

int cli_bytes_arg(const char *verb, const char *flag, const char *value, uint64_t *out) {
    if (xuan_parse_bytes(value, out) == 0) return 0;
    return cli_usage_error(verb, "%s expects a size such as 16G or 512M, got '%s'", flag,
                           value ? value : "");
}

int cli_read_input(const char *path, uint64_t max_bytes, char **out, size_t *len, xuan_error *err) {
    if (strcmp(path, "-") != 0) return xuan_read_file(path, max_bytes, out, len, err);
    xuan_buf in = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (xuan_buf_append(&in, chunk, got)) {
            xuan_buf_free(&in);
            return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory reading standard input");
        }
    if (!in.data && xuan_buf_append(&in, "", 0)) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    *out = in.data;
    *len = in.len;
    return 0;
}

void cli_verbosity(int verbose, int quiet) {
    if (quiet) xuan_log_set_level(XUAN_LOG_ERROR);
    else if (verbose > 1) xuan_log_set_level(XUAN_LOG_DEBUG);
    else if (verbose) xuan_log_set_level(XUAN_LOG_INFO);
}

void cli_results_db(const char *flag, bool create, char *out, size_t n) {
    if (flag) {
        snprintf(out, n, "%s", flag);
        return;
    }
    char dir[4000];
    xuan_cache_dir(dir, sizeof dir);
    if (create) { /* mkdir -p of the cache folder: two levels are enough for ~/.cache/xuan */
        char parent[4000];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) *slash = 0, mkdir(parent, 0755);
        mkdir(dir, 0755);
    }
    snprintf(out, n, "%s/results.db", dir);
}
