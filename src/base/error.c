/* Error reports and the always-on assertion. */
#include "xuan/base.h"

#include <stdlib.h>
#include <string.h>

/* Messages quote names taken from input (GGUF keys, tensor names, paths):
 * control bytes there would break the one-line promise or drive the
 * terminal (a key holding "\n" or ESC), so they are shown as '?'. */
static void one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

int xuan_fail(xuan_error *err, xuan_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        one_line(err->msg);
        err->code = code;
    }
    return (int)code;
}

void xuan_error_prefix(xuan_error *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3, ol = strnlen(old, sizeof old - 1);
    if (ol > rest) ol = rest;
    memcpy(err->msg + n + 2, old, ol);
    err->msg[n + 2 + ol] = 0;
    one_line(err->msg);
}

const char *xuan_status_name(xuan_status code) {
    switch (code) {
    case XUAN_OK: return "ok";
    case XUAN_ERR_IO: return "i/o error";
    case XUAN_ERR_FORMAT: return "malformed input";
    case XUAN_ERR_UNSUPPORTED: return "unsupported";
    case XUAN_ERR_NOMEM: return "out of memory";
    case XUAN_ERR_USAGE: return "usage error";
    case XUAN_ERR_NOTFOUND: return "not found";
    case XUAN_ERR_INTERRUPTED: return "interrupted";
    case XUAN_ERR_FULL: return "full";
    case XUAN_ERR_UNAVAILABLE: return "unavailable";
    }
    return "unknown error";
}

void xuan_assert_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "xuan: internal error at %s:%d: assertion '%s' failed\n"
                    "xuan: this is a bug in xuan; please report it with the command you ran\n",
            file, line, what);
    abort();
}
