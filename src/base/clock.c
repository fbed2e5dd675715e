/* Clocks, the progress bar and the version strings. */
#include "xuan/base.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t xuan_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double xuan_time_s(void) { return (double)xuan_time_ns() * 1e-9; }

static void fmt_eta(double s, char *buf, size_t n) {
    if (s < 0 || s > 359999) snprintf(buf, n, "--:--");
    else if (s >= 3600) snprintf(buf, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else snprintf(buf, n, "%02d:%02d", (int)s / 60, (int)s % 60);
}

static void draw(xuan_progress *p, bool final) {
    double el = (double)(xuan_time_ns() - p->t_start) * 1e-9;
    double frac = p->total ? (double)p->done / (double)p->total : 0;
    if (frac > 1) frac = 1;
    enum { W = 28 };
    char bar[W * 3 + 1], *b = bar;
    int full = (int)(frac * W);
    for (int i = 0; i < W; i++) {
        const char *s = i < full ? "█" : "░";
        size_t l = strlen(s);
        memcpy(b, s, l);
        b += l;
    }
    *b = 0;
    char done[32], total[32], rate[40], eta[24];
    double r = el > 0 ? (double)p->done / el : 0;
    if (p->bytes) {
        xuan_fmt_bytes(p->done, done, sizeof done);
        xuan_fmt_bytes(p->total, total, sizeof total);
        char rb[32];
        snprintf(rate, sizeof rate, "%s/s", xuan_fmt_bytes((uint64_t)r, rb, sizeof rb));
    } else {
        snprintf(done, sizeof done, "%llu", (unsigned long long)p->done);
        snprintf(total, sizeof total, "%llu", (unsigned long long)p->total);
        snprintf(rate, sizeof rate, "%.1f/s", r);
    }
    fmt_eta(final ? el : (r > 0 ? (double)(p->total - p->done) / r : -1), eta, sizeof eta);
    fprintf(stderr, "\r%s %s %3.0f%% %s/%s %s %s %s\033[K", p->label, bar, frac * 100, done, total,
            rate, final ? "in" : "ETA", eta);
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

void xuan_progress_begin(xuan_progress *p, const char *label, uint64_t total, bool bytes) {
    memset(p, 0, sizeof *p);
    p->label = label;
    p->total = total;
    p->bytes = bytes;
    const char *env = getenv("XUAN_PROGRESS");
    p->enabled = env ? strcmp(env, "0") != 0 : isatty(STDERR_FILENO);
    p->t_start = p->t_last = xuan_time_ns();
}

void xuan_progress_update(xuan_progress *p, uint64_t done) {
    p->done = done > p->total ? p->total : done;
    if (!p->enabled) return;
    uint64_t now = xuan_time_ns();
    if (now - p->t_last < 100000000ull) return;
    p->t_last = now;
    draw(p, false);
}

void xuan_progress_end(xuan_progress *p) {
    if (p->enabled) draw(p, true);
}

#ifndef XUAN_VERSION
#define XUAN_VERSION "0.0.0"
#endif
#ifndef XUAN_GIT_HASH
#define XUAN_GIT_HASH "unknown"
#endif
#ifndef XUAN_BUILD_TYPE
#define XUAN_BUILD_TYPE "unknown"
#endif
const char *xuan_version(void) { return XUAN_VERSION; }
const char *xuan_git_hash(void) { return XUAN_GIT_HASH; }
const char *xuan_build_type(void) { return XUAN_BUILD_TYPE; }
