/*
 * math_equiv.c — MATH answer equivalence without sympy: the normaliser of
 * hendrycks/math (modeling/math_equivalence.py, `_strip_string` and
 * `is_equiv`) as openai/prm800k's grader/math_normalize.py wraps it
 * (`normalize_answer`: strip, unwrap a whole "\text{...}", and where the
 * normaliser raises, keep the answer as it is).  The Python is followed step
 * by step, including where it raises: `_remove_right_units` asserts one
 * "\text{ ", and `_fix_sqrt` / `_fix_fracs` index an empty piece; each of
 * those makes normalize_answer return its input unchanged, and so does
 * this.  (`_fix_a_slash_b` catches its own int() errors and keeps the
 * string.)
 *
 * Python indexes strings by code point; the few places that do (the first
 * characters after \frac and \sqrt, the length of "k" in "k = 5") step over
 * whole UTF-8 characters here.  Python's int() also takes non-ASCII digits
 * (int("١٢") == 12); only ASCII ones count here, which changes nothing: a
 * side with other digits is never canonical "a/b", so the string stays.
 */
#include "internal.h"

#include <limits.h>
#include <string.h>


/* s with every `from` replaced by `to`; frees s.  NULL on NOMEM. */
static char *replace(char *s, const char *from, const char *to) {
    if (!s) return NULL;
    size_t fl = strlen(from);
    if (!strstr(s, from)) return s;
    xuan_buf b = {0};
    const char *p = s, *q;
    int bad = 0;
    while ((q = strstr(p, from)) != NULL) {
        bad |= xuan_buf_append(&b, p, (size_t)(q - p));
        bad |= xuan_buf_puts(&b, to);
        p = q + fl;
    }
    bad |= xuan_buf_puts(&b, p);
    if (!bad && !b.data) bad = xuan_buf_append(&b, "", 0);
    xuan_free(s);
    if (bad) {
        xuan_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static size_t count_sub(const char *s, const char *sub) {
    size_t n = 0, l = strlen(sub);
    for (const char *p = s; (p = strstr(p, sub)) != NULL; p += l) n++;
    return n;
}

/* Bytes of the UTF-8 character at s (1 for an invalid byte). */
static size_t char_len(const char *s) {
    int l = xuan_utf8_len((const uint8_t *)s, strnlen(s, 4));
    return l > 0 ? (size_t)l : 1;
}

static size_t n_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i += char_len(s + i)) c++;
    return c;
}

enum { RAISED = 1, NOMEM = 2 };

/* The end of a rewrite: *sp becomes the buffer's text (the old one freed). */
static int take(xuan_buf *b, int bad, char **sp) {
    if (!bad && !b->data) bad = xuan_buf_append(b, "", 0);
    if (bad) {
        xuan_buf_free(b);
        return NOMEM;
    }
    xuan_free(*sp);
    *sp = b->data;
    return 0;
}

/* _fix_sqrt: "\sqrt3" -> "\sqrt{3}". */
static int fix_sqrt(char **sp) {
    char *s = *sp;
    if (!strstr(s, "\\sqrt")) return 0;
    xuan_buf b = {0};
    int bad = 0;
    const char *p = strstr(s, "\\sqrt");
    bad |= xuan_buf_append(&b, s, (size_t)(p - s));
    while (p) {
        const char *piece = p + 5, *next = strstr(piece, "\\sqrt");
        size_t len = next ? (size_t)(next - piece) : strlen(piece);
        if (len == 0) { /* split[0] of an empty piece: IndexError */
            xuan_buf_free(&b);
            return RAISED;
        }
        if (piece[0] != '{') {
            size_t a = char_len(piece);
            if (a > len) a = len;
            bad |= xuan_buf_puts(&b, "\\sqrt{");
            bad |= xuan_buf_append(&b, piece, a);
            bad |= xuan_buf_puts(&b, "}");
            bad |= xuan_buf_append(&b, piece + a, len - a);
        } else {
            bad |= xuan_buf_puts(&b, "\\sqrt");
            bad |= xuan_buf_append(&b, piece, len);
        }
        p = next;
    }
    return take(&b, bad, sp);
}

/* _fix_fracs: "\frac12" -> "\frac{1}{2}", "\frac1{72}" -> "\frac{1}{72}". */
static int fix_fracs(char **sp) {
    char *s = *sp;
    const char *p = strstr(s, "\\frac");
    if (!p) return 0;
    xuan_buf b = {0};
    int bad = xuan_buf_append(&b, s, (size_t)(p - s));
    while (p) {
        const char *piece = p + 5, *next = strstr(piece, "\\frac");
        size_t len = next ? (size_t)(next - piece) : strlen(piece);
        bad |= xuan_buf_puts(&b, "\\frac");
        if (len == 0) { /* substr[0] of an empty piece: IndexError */
            xuan_buf_free(&b);
            return RAISED;
        }
        if (piece[0] == '{') {
            bad |= xuan_buf_append(&b, piece, len);
        } else {
            size_t a = char_len(piece);
            if (a >= len) { /* len(substr) < 2: the reference returns its input */
                xuan_buf_free(&b);
                return 0;
            }
            size_t bl = char_len(piece + a);
            if (a + bl > len) bl = len - a;
            bad |= xuan_buf_puts(&b, "{");
            bad |= xuan_buf_append(&b, piece, a);
            if (piece[a] != '{') {
                bad |= xuan_buf_puts(&b, "}{");
                bad |= xuan_buf_append(&b, piece + a, bl);
                bad |= xuan_buf_puts(&b, "}");
            } else {
                bad |= xuan_buf_puts(&b, "}");
                bad |= xuan_buf_append(&b, piece + a, bl);
            }
            bad |= xuan_buf_append(&b, piece + a + bl, len - a - bl);
        }
        p = next;
    }
    return take(&b, bad, sp);
}

static bool py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* Python's int() on s[0..n): false where it would raise ValueError. */
static bool py_int(const char *s, size_t n, long long *out) {
    while (n && py_space((unsigned char)*s)) s++, n--;
    while (n && py_space((unsigned char)s[n - 1])) n--;
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i >= n || !(s[i] >= '0' && s[i] <= '9')) return false;
    long long v = 0;
    bool big = false;
    for (; i < n; i++) {
        if (s[i] == '_' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9' && s[i - 1] >= '0' && s[i - 1] <= '9') continue;
        if (!(s[i] >= '0' && s[i] <= '9')) return false;
        if (v > (LLONG_MAX - 9) / 10) big = true; /* still an int for Python; never canonical below */
        else v = v * 10 + (s[i] - '0');
    }
    *out = big ? LLONG_MIN : neg ? -v : v;
    return true;
}

/* _fix_a_slash_b: "3/4" -> "\frac{3}{4}" when both sides are canonical integers. */
static int fix_a_slash_b(char **sp) {
    char *s = *sp;
    if (count_sub(s, "/") != 1) return 0;
    const char *slash = strchr(s, '/');
    long long a, b;
    /* int() raising is caught there (a bare except): the string stays */
    if (!py_int(s, (size_t)(slash - s), &a) || !py_int(slash + 1, strlen(slash + 1), &b)) return 0;
    if (a == LLONG_MIN || b == LLONG_MIN) return 0; /* huge: str(int) differs from s only by accident */
    char canon[64];
    snprintf(canon, sizeof canon, "%lld/%lld", a, b);
    if (strcmp(canon, s) != 0) return 0; /* AssertionError: kept as it is */
    char frac[80];
    snprintf(frac, sizeof frac, "\\frac{%lld}{%lld}", a, b);
    char *n = xuan_strdup(frac);
    if (!n) return NOMEM;
    xuan_free(s);
    *sp = n;
    return 0;
}

/* _strip_string.  Takes s (heap); returns 0 with *sp the result, RAISED or NOMEM. */
static int strip_string(char **sp) {
    char *s = *sp;
    s = replace(s, "\n", "");
    s = replace(s, "\\!", "");
    s = replace(s, "\\\\", "\\");
    s = replace(s, "tfrac", "frac");
    s = replace(s, "dfrac", "frac");
    s = replace(s, "\\left", "");
    s = replace(s, "\\right", "");
    s = replace(s, "^{\\circ}", "");
    s = replace(s, "^\\circ", "");
    s = replace(s, "\\$", "");
    *sp = s;
    if (!s) return NOMEM;
    /* _remove_right_units: "\text{ " only ever introduces units */
    char *u = strstr(s, "\\text{ ");
    if (u) {
        if (count_sub(s, "\\text{ ") != 1) return RAISED; /* assert len(splits) == 2 */
        *u = 0;
    }
    s = replace(s, "\\%", "");
    s = replace(s, "%", ""); /* hendrycks; prm800k's copy writes "\%" twice here */
    s = replace(s, " .", " 0.");
    s = replace(s, "{.", "{0.");
    *sp = s;
    if (!s) return NOMEM;
    if (!*s) return 0;
    if (s[0] == '.') {
        size_t n = strlen(s);
        char *t = xuan_malloc(n + 2);
        if (!t) return NOMEM;
        t[0] = '0';
        memcpy(t + 1, s, n + 1);
        xuan_free(s);
        *sp = s = t;
    }
    if (count_sub(s, "=") == 1) { /* "k = 5" -> " 5" when the left side is at most 2 characters */
        const char *eq = strchr(s, '=');
        if (n_chars(s, (size_t)(eq - s)) <= 2) memmove(s, eq + 1, strlen(eq + 1) + 1);
    }
    int rc = fix_sqrt(sp);
    if (rc) return rc;
    *sp = s = replace(*sp, " ", "");
    if (!s) return NOMEM;
    if ((rc = fix_fracs(sp)) != 0) return rc;
    if (strcmp(*sp, "0.5") == 0) {
        char *h = xuan_strdup("\\frac{1}{2}");
        if (!h) return NOMEM;
        xuan_free(*sp);
        *sp = h;
    }
    return fix_a_slash_b(sp);
}

static bool uspace_at(const char *s, size_t n, size_t *len) {
    unsigned char c = (unsigned char)s[0];
    if (py_space(c)) return *len = 1, true;
    uint32_t cp;
    int l = xuan_utf8_len((const uint8_t *)s, n);
    if (l < 2) return false;
    xuan_utf8_decode((const uint8_t *)s, n, &cp);
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return *len = (size_t)l, true;
    return false;
}

void xuan_eval_py_strip(const char *s, size_t n, size_t *b, size_t *e) {
    size_t i = 0, l;
    while (i < n && uspace_at(s + i, n - i, &l)) i += l;
    size_t j = n;
    while (j > i) {
        size_t k = j - 1;
        while (k > i && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        if (!uspace_at(s + k, j - k, &l) || k + l != j) break;
        j = k;
    }
    *b = i, *e = j;
}

char *xuan_math_normalize(const char *in) {
    size_t b, e;
    xuan_eval_py_strip(in, strlen(in), &b, &e);
    /* ^\\text\{(?P<text>.+?)\}$ : the whole answer in one \text{}, no newline inside */
    if (e - b > 7 && strncmp(in + b, "\\text{", 6) == 0 && in[e - 1] == '}' && !memchr(in + b, '\n', e - b)) {
        size_t ib, ie;
        xuan_eval_py_strip(in + b + 6, e - b - 7, &ib, &ie);
        size_t nb = b + 6 + ib, ne = b + 6 + ie;
        b = nb, e = ne;
    }
    char *answer = xuan_strndup(in + b, e - b);
    if (!answer) return NULL;
    char *work = xuan_strdup(answer);
    if (!work) {
        xuan_free(answer);
        return NULL;
    }
    int rc = strip_string(&work);
    if (rc == 0) {
        xuan_free(answer);
        return work;
    }
    xuan_free(work);
    if (rc == NOMEM) {
        xuan_free(answer);
        return NULL;
    }
    return answer; /* the normaliser raised: the answer as it is */
}

bool xuan_math_equiv(const char *a, const char *b) {
    if (!a || !b) return !a && !b;
    char *na = xuan_math_normalize(a), *nb = xuan_math_normalize(b);
    bool eq = na && nb ? strcmp(na, nb) == 0 : strcmp(a, b) == 0;
    xuan_free(na);
    xuan_free(nb);
    return eq;
}
