/* A growable byte buffer that doubles as a string builder. */
#include "xuan/base.h"

#include <string.h>

static int reserve(xuan_buf *b, size_t extra) {
    uint64_t need;
    if (!xuan_add_ok(b->len, extra, &need) || !xuan_add_ok(need, 1, &need)) return XUAN_ERR_NOMEM;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return XUAN_ERR_NOMEM;
        cap *= 2;
    }
    char *p = xuan_realloc(b->data, cap);
    if (!p) return XUAN_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int xuan_buf_append(xuan_buf *b, const void *p, size_t n) {
    if (reserve(b, n)) return XUAN_ERR_NOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int xuan_buf_puts(xuan_buf *b, const char *s) { return xuan_buf_append(b, s, strlen(s)); }

int xuan_buf_printf(xuan_buf *b, const char *fmt, ...) {
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n)) {
        va_end(aq);
        return XUAN_ERR_NOMEM;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, aq);
    va_end(aq);
    b->len += (size_t)n;
    return 0;
}

void xuan_buf_reset(xuan_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

void xuan_buf_free(xuan_buf *b) {
    xuan_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
