/* Shared CLI helpers: error printing and flag parsing. */
#include "cli.h"

#include <stdarg.h>

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

void cli_verbosity(int verbose, int quiet) {
    if (quiet) xuan_log_set_level(XUAN_LOG_ERROR);
    else if (verbose > 1) xuan_log_set_level(XUAN_LOG_DEBUG);
    else if (verbose) xuan_log_set_level(XUAN_LOG_INFO);
}
