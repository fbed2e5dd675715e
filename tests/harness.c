/* The test harness (see harness.h). */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

int test_failed_checks;
jmp_buf test_abort_jmp;
static int n_pass, n_fail, n_skip;
static char skip_why[256];

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    test_failed_checks++;
}

void test_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(skip_why, sizeof skip_why, fmt, ap);
    va_end(ap);
    longjmp(test_abort_jmp, 2);
}

bool test_have_shared(void) {
    struct stat st;
    return stat(test_shared(), &st) == 0 && S_ISDIR(st.st_mode);
}

void test_run(const char *name, void (*fn)(void)) {
    int before = test_failed_checks;
    int jumped = setjmp(test_abort_jmp);
    if (jumped == 0) fn();
    if (jumped == 2 && test_failed_checks == before) {
        n_skip++;
        printf("skip %s (%s)\n", name, skip_why);
    } else if (test_failed_checks == before) {
        n_pass++;
        printf("ok   %s\n", name);
    } else {
        n_fail++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

int test_done(void) {
    if (n_skip) printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    else printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : n_skip ? 77 : 0;
}

static const char *env_or(const char *k, const char *d) {
    const char *v = getenv(k);
    return v && *v ? v : d;
}
const char *test_shared(void) { return env_or("XUAN_SHARED", "../shared"); }
const char *test_tmp(void) { return env_or("XUAN_TMP", "/tmp"); }
const char *test_bin(void) { return env_or("XUAN_BIN", "xuan"); }

const char *test_path(const char *name) {
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", test_tmp(), name);
    return b;
}

int test_sh(char *out, size_t cap, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8300];
    snprintf(full, sizeof full, "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t n = 0;
    char chunk[4096];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (out && n + 1 < cap) {
            size_t k = r < cap - 1 - n ? r : cap - 1 - n;
            memcpy(out + n, chunk, k);
            n += k;
        }
    }
    if (out && cap) out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
