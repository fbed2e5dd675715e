/* Leveled logging to stderr. */
#include "xuan/base.h"

#include <stdatomic.h>

static _Atomic int g_level = XUAN_LOG_WARN;

void xuan_log_set_level(xuan_log_level level) { atomic_store(&g_level, (int)level); }
xuan_log_level xuan_log_get_level(void) { return (xuan_log_level)atomic_load(&g_level); }

void xuan_log(xuan_log_level level, const char *fmt, ...) {
    if ((int)level > atomic_load(&g_level)) return;
    static const char *const tag[] = {"error", "warning", "info", "debug"};
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "xuan: %s: %s\n", tag[level], line);
}
