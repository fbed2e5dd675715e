/*
 * harness.h — a tiny test harness.  A test file defines test functions,
 * registers them in main() with RUN(fn), and ends with `return test_done();`,
 * which prints the plain closing line "N passed, N failed".  CHECK records a
 * failure with file:line and goes on; REQUIRE stops the current test.
 * test_skip ends the current test as skipped (NEED_SHARED does when
 * ../shared is not there): a binary with skips and no failure exits 77, which
 * ctest shows as skipped, so a clone without ../shared passes what does not
 * need it and shows the rest.
 *
 *     static void test_parse(void) {
 *         CHECK_EQ_INT(parse("12"), 12);
 *     }
 *     int main(void) { RUN(test_parse); return test_done(); }
 */
#ifndef XUAN_TEST_HARNESS_H
#define XUAN_TEST_HARNESS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int test_failed_checks;
extern jmp_buf test_abort_jmp;
void test_run(const char *name, void (*fn)(void));
int test_done(void);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
bool test_have_shared(void);
/* Environment helpers: XUAN_SHARED, XUAN_TMP, XUAN_BIN (see CMakeLists.txt). */
const char *test_shared(void);
const char *test_tmp(void);
const char *test_bin(void);
/* "$XUAN_TMP/name" into a static rotating buffer. */
const char *test_path(const char *name);
/* Runs a shell command; returns its exit status (or -1); captures up to
 * cap-1 bytes of stdout+stderr into out when out != NULL. */
int test_sh(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define RUN(fn) test_run(#fn, fn)
#define NEED_SHARED() do { if (!test_have_shared()) test_skip("no shared data at %s", test_shared()); } while (0)
#define CHECK(c) do { if (!(c)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #c); } while (0)
#define REQUIRE(c) do { if (!(c)) { test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #c); longjmp(test_abort_jmp, 1); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, #b, _b); } while (0)
#define CHECK_EQ_STR(a, b) do { const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp(_a, _b)) test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define CHECK_NEAR(a, b, tol) do { double _a = (double)(a), _b = (double)(b); \
    if (!(_a - _b <= (tol) && _b - _a <= (tol))) test_fail(__FILE__, __LINE__, "%s == %.9g, expected %.9g ± %g", #a, _a, _b, (double)(tol)); } while (0)

#endif
