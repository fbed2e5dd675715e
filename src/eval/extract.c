/*
 * extract.c — the answer in a model's output, as each reference harness
 * finds it.  The regular expressions are the harnesses' own, run by PCRE2
 * with UTF + UCP (Python 3's str patterns: \s, \b and \w are Unicode-aware;
 * `$` matches at the end or before a final newline, as Python's does).
 *
 *   1. regexes       — compiled once per pattern set and letter set, cached
 *   2. think         — the reasoning block of reasoning models
 *   3. gsm8k         — lm-evaluation-harness tasks/gsm8k/gsm8k.yaml filters
 *   4. boxed         — hendrycks MATH last_boxed_only_string / remove_boxed
 *   5. letters       — TIGER-Lab MMLU-Pro extract_answer, OpenCompass
 *                      first_option_postprocess
 *   6. numbers       — the last number (CMATH, MGSM)
 *   7. entry
 *
 * Every match runs under a PCRE2 match limit, so an output built to make a
 * pattern backtrack costs a bounded time; a search that hits the limit
 * counts as no match.
 */
#include "internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. regexes ------------------------------------------------------------ */

enum { MAX_PATTERNS = 64, MAX_SETS = 128, MATCH_LIMIT = 2000000, DEPTH_LIMIT = 10000 };

typedef struct patset {
    int kind;          /* which pattern list */
    char letters[27];
    size_t n;
    pcre2_code *code[MAX_PATTERNS];
} patset;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static patset *cache[MAX_SETS];
static size_t n_cache;
static pcre2_match_context *mctx;

/* Expands "{L}" to the letters (as a character class body). */
static pcre2_code *compile(const char *pat, const char *letters, uint32_t extra) {
    char buf[512];
    size_t o = 0;
    for (const char *p = pat; *p && o + 32 < sizeof buf; p++) {
        if (p[0] == '{' && p[1] == 'L' && p[2] == '}') {
            size_t l = strlen(letters);
            memcpy(buf + o, letters, l);
            o += l;
            p += 2;
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = 0;
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)buf, o, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | extra, &ec,
                                  &eo, NULL);
    XUAN_ASSERT(c != NULL); /* our own patterns */
    return c;
}

/* The compiled set `kind` for these letters (patterns[i] with flags[i]). */
static const patset *patterns_get(int kind, const char *letters, const char *const *pats, const uint32_t *flags,
                                  uint32_t common, size_t n) {
    pthread_mutex_lock(&cache_mu);
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        XUAN_ASSERT(mctx != NULL);
        pcre2_set_match_limit(mctx, MATCH_LIMIT);
        pcre2_set_depth_limit(mctx, DEPTH_LIMIT);
    }
    for (size_t i = 0; i < n_cache; i++)
        if (cache[i]->kind == kind && strcmp(cache[i]->letters, letters) == 0) {
            pthread_mutex_unlock(&cache_mu);
            return cache[i];
        }
    patset *s = calloc(1, sizeof *s); /* lives for the process: not input-sized */
    XUAN_ASSERT(s != NULL);
    XUAN_ASSERT(n <= MAX_PATTERNS);
    s->kind = kind;
    snprintf(s->letters, sizeof s->letters, "%s", letters);
    s->n = n;
    for (size_t i = 0; i < n; i++) s->code[i] = compile(pats[i], letters, common | (flags ? flags[i] : 0));
    XUAN_ASSERT(n_cache < MAX_SETS); /* 4 kinds x 26 letter prefixes at most */
    cache[n_cache++] = s;
    pthread_mutex_unlock(&cache_mu);
    return s;
}

typedef struct match {
    PCRE2_SIZE start, end;     /* the whole match */
    PCRE2_SIZE g_start[3], g_end[3]; /* groups 1..2 (PCRE2_UNSET when unset) */
} match;

/* Searches code in s[from..n); true with *m on a match. */
static bool search(const pcre2_code *code, const char *s, size_t n, size_t from, match *m) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    XUAN_ASSERT(md != NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)s, n, from, 0, md, mctx);
    bool ok = rc > 0;
    if (ok) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t pairs = pcre2_get_ovector_count(md);
        m->start = ov[0], m->end = ov[1];
        for (uint32_t g = 1; g <= 2; g++) {
            m->g_start[g] = g < pairs && g < (uint32_t)rc ? ov[2 * g] : PCRE2_UNSET;
            m->g_end[g] = g < pairs && g < (uint32_t)rc ? ov[2 * g + 1] : PCRE2_UNSET;
        }
    }
    pcre2_match_data_free(md);
    return ok;
}

static bool group_set(const match *m, int g) { return m->g_start[g] != PCRE2_UNSET && m->g_end[g] > m->g_start[g]; }

/* ---- 2. think ---------------------------------------------------------------- */

static const char *find_last(const char *s, size_t n, const char *needle) {
    size_t l = strlen(needle);
    const char *last = NULL;
    for (const char *p = s; n >= l && (p = memmem(p, n - (size_t)(p - s), needle, l)) != NULL; p += l) last = p;
    return last;
}

const char *xuan_eval_strip_think(const char *text, size_t n, size_t *out_n) {
    size_t i = 0;
    while (i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) i++;
    if (n - i >= 7 && memcmp(text + i, "<think>", 7) == 0) {
        const char *close = memmem(text + i, n - i, "</think>", 8);
        if (!close) return NULL; /* still thinking when the budget ran out */
        const char *a = close + 8;
        *out_n = n - (size_t)(a - text);
        return a;
    }
    const char *close = find_last(text, n, "</think>"); /* <think> was in the prompt */
    if (close) {
        *out_n = n - (size_t)(close + 8 - text);
        return close + 8;
    }
    *out_n = n;
    return text;
}

/* ---- 3. gsm8k ------------------------------------------------------------------- */

/* lm-evaluation-harness lm_eval/tasks/gsm8k/gsm8k.yaml, filter_list:
 *   strict-match:     regex "#### (\-?[0-9\.\,]+)", take_first (the first match)
 *   flexible-extract: regex "(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select -1 (the
 *                     last match; of a tuple, its first non-empty group) */
static const char *const GSM8K_PATS[] = {"#### (\\-?[0-9\\.\\,]+)", "(-?[$0-9.,]{2,})|(-?[0-9]+)"};

static char *dup_span(const char *s, size_t b, size_t e) { return xuan_strndup(s + b, e - b); }

static int gsm8k(bool strict, const char *s, size_t n, char **out) {
    const patset *ps = patterns_get(0, "", GSM8K_PATS, NULL, 0, 2);
    match m, last;
    bool any = false;
    if (strict) {
        if (search(ps->code[0], s, n, 0, &m)) {
            *out = dup_span(s, m.g_start[1], m.g_end[1]);
            return *out ? 0 : XUAN_ERR_NOMEM;
        }
        return 0;
    }
    size_t from = 0;
    while (from <= n && search(ps->code[1], s, n, from, &m)) { /* re.findall */
        last = m, any = true;
        from = m.end > m.start ? m.end : m.end + 1;
    }
    if (!any) return 0;
    int g = group_set(&last, 1) ? 1 : 2;
    *out = dup_span(s, last.g_start[g], last.g_end[g]);
    return *out ? 0 : XUAN_ERR_NOMEM;
}

/* ---- 4. boxed -------------------------------------------------------------------- */

/* lm-evaluation-harness lm_eval/tasks/hendrycks_math/utils.py (after
 * hendrycks/math): last_boxed_only_string then remove_boxed.  "\boxed 5"
 * (a space, no braces) is read up to the next '$'.  The reference's
 * remove_boxed knows only "\boxed{"; a last "\fbox{...}" is unwrapped too. */
static int boxed(const char *s, size_t n, char **out) {
    const char *sp = find_last(s, n, "\\boxed ");
    if (sp) {
        const char *a = sp + 7, *end = memchr(a, '$', n - (size_t)(a - s));
        *out = xuan_strndup(a, end ? (size_t)(end - a) : n - (size_t)(a - s));
        return *out ? 0 : XUAN_ERR_NOMEM;
    }
    const char *idx = find_last(s, n, "\\boxed");
    size_t head = 7; /* "\boxed{" */
    if (!idx) {
        idx = find_last(s, n, "\\fbox");
        head = 6;
    }
    if (!idx) return 0;
    int depth = 0;
    const char *close = NULL;
    for (const char *p = idx; p < s + n; p++) {
        if (*p == '{') depth++;
        else if (*p == '}' && --depth == 0) {
            close = p;
            break;
        }
    }
    if (!close) return 0;
    size_t len = (size_t)(close + 1 - idx);
    /* remove_boxed: the span must be exactly "\boxed{" ... "}" */
    if (len < head + 1 || idx[head - 1] != '{' || memchr(idx, '{', head - 1)) return 0;
    *out = xuan_strndup(idx + head, len - head - 1);
    return *out ? 0 : XUAN_ERR_NOMEM;
}

/* ---- 5. letters --------------------------------------------------------------------- */

/* TIGER-Lab/MMLU-Pro evaluate_from_local.py: extract_answer, extract_again,
 * extract_final.  Their class is A-J whatever the question's option count, so
 * "The answer is (E)" on four options reads E (and scores wrong), as there; a
 * question with more than ten options widens it to its own letters. */
static const char *const MMLU_PRO_PATS[] = {
    "answer is \\(?([{L}])\\)?",
    ".*[aA]nswer:\\s*([{L}])",
    "\\b[{L}]\\b(?!.*\\b[{L}]\\b)",
};
static const uint32_t MMLU_PRO_FLAGS[] = {0, 0, PCRE2_DOTALL};

/* open-compass/opencompass opencompass/utils/text_postprocessors.py,
 * first_option_postprocess(text, options, cushion=True), in its order.  The
 * reference misses a comma after '故选?\s*([{options}])', so Python glues
 * it to the next pattern; that glued pattern is kept as it runs there. */
static const char *const OC_PATS[] = {
    "答案是?\\s*([{L}])",
    "答案是?\\s*：\\s*([{L}])",
    "答案是?\\s*:\\s*([{L}])",
    "答案选项应?该?是\\s*([{L}])",
    "答案选项应?该?为\\s*([{L}])",
    "答案应该?是\\s*([{L}])",
    "答案应该?选\\s*([{L}])",
    "答案选项为?\\s*：\\s*([{L}])",
    "答案选项为?\\s+\\(?\\*?\\*?([{L}])\\*?\\*?\\)?",
    "答案选项是?\\s*:\\s*([{L}])",
    "答案为\\s*([{L}])",
    "答案选\\s*([{L}])",
    "选择?\\s*([{L}])",
    "故选?\\s*([{L}])只有选?项?\\s?([{L}])\\s?是?对",
    "只有选?项?\\s?([{L}])\\s?是?错",
    "只有选?项?\\s?([{L}])\\s?不?正确",
    "只有选?项?\\s?([{L}])\\s?错误",
    "说法不?对选?项?的?是\\s?([{L}])",
    "说法不?正确选?项?的?是\\s?([{L}])",
    "说法错误选?项?的?是\\s?([{L}])",
    "([{L}])\\s?是正确的",
    "([{L}])\\s?是正确答案",
    "选项\\s?([{L}])\\s?正确",
    "所以答\\s?([{L}])",
    "所以\\s?([{L}][.。$]?$)",
    "所有\\s?([{L}][.。$]?$)",
    "[\\s，：:,]([{L}])[。，,\\.]?$",
    "[\\s，,：:][故即]([{L}])[。\\.]?$",
    "[\\s，,：:]因此([{L}])[。\\.]?$",
    "[是为。]\\s?([{L}])[。\\.]?$",
    "因此\\s?([{L}])[。\\.]?$",
    "显然\\s?([{L}])[。\\.]?$",
    "答案是\\s?(\\S+)(?:。|$)",
    "答案应该是\\s?(\\S+)(?:。|$)",
    "答案为\\s?(\\S+)(?:。|$)",
    "(?i)ANSWER\\s*:\\s*([{L}])",
    "[Tt]he answer is:?\\s+\\(?([{L}])\\)?",
    "[Tt]he answer is:?\\s+\\(?\\*?\\*?([{L}])\\*?\\*?\\)?",
    "[Tt]he answer is option:?\\s+\\(?([{L}])\\)?",
    "[Tt]he correct answer is:?\\s+\\(?([{L}])\\)?",
    "[Tt]he correct answer is option:?\\s+\\(?([{L}])\\)?",
    "[Tt]he correct answer is:?.*?boxed{([{L}])}",
    "[Tt]he correct option is:?.*?boxed{([{L}])}",
    "[Tt]he correct answer option is:?.*?boxed{([{L}])}",
    "[Tt]he answer to the question is:?\\s+\\(?([{L}])\\)?",
    "^选项\\s?([{L}])",
    "^([{L}])\\s?选?项",
    "(\\s|^)[{L}][\\s。，,：:\\.$]",
    "1.\\s?(.*?)$",
    "1.\\s?([{L}])[.。$]?$",
    /* cushion_patterns */
    "([{L}]):",
    "([{L}])",
};
enum { N_OC = sizeof OC_PATS / sizeof OC_PATS[0] };

static int mmlu_pro(const char *s, size_t n, const char *letters, char **out) {
    if (strlen(letters) < 10) letters = "ABCDEFGHIJ";
    const patset *ps = patterns_get(1, letters, MMLU_PRO_PATS, MMLU_PRO_FLAGS, 0, 3);
    match m;
    for (int i = 0; i < 3; i++) {
        if (!search(ps->code[i], s, n, 0, &m)) continue;
        *out = i < 2 ? dup_span(s, m.g_start[1], m.g_end[1]) : dup_span(s, m.start, m.end);
        return *out ? 0 : XUAN_ERR_NOMEM;
    }
    return 0;
}

static int opencompass(const char *s, size_t n, const char *letters, char **out) {
    /* re.search(pattern, text, re.DOTALL) */
    const patset *ps = patterns_get(2, letters, OC_PATS, NULL, PCRE2_DOTALL, N_OC);
    size_t b, e; /* text = text.strip() */
    xuan_eval_py_strip(s, n, &b, &e);
    s += b, n = e - b;
    for (size_t i = 0; i < N_OC; i++) {
        match m;
        if (!search(ps->code[i], s, n, 0, &m)) continue;
        size_t ob = m.start, oe = m.end;
        if (group_set(&m, 1)) ob = m.g_start[1], oe = m.g_end[1];
        for (const char *L = letters; *L; L++) /* for i in options: if i in outputs */
            if (memchr(s + ob, *L, oe - ob)) {
                *out = xuan_strndup(L, 1);
                return *out ? 0 : XUAN_ERR_NOMEM;
            }
    }
    return 0;
}

/* ---- 6. numbers ----------------------------------------------------------------------- */

/* The last number: an integer or decimal with thousands commas, optionally
 * a fraction a/b, optionally a percent sign (ASCII or full-width).  The
 * content of a last \boxed{} is searched first, with \frac{a}{b} as a/b. */
static const char *const NUM_PATS[] = {
    "(-?(?:[0-9][0-9,]*(?:\\.[0-9]+)?|\\.[0-9]+))(?:\\s*/\\s*([0-9][0-9,]*(?:\\.[0-9]+)?))?\\s*(%|％|\\\\%)?",
    "\\\\[dt]?frac\\{\\s*(-?[0-9.,]+)\\s*\\}\\{\\s*([0-9.,]+)\\s*\\}",
};

static int last_number(const char *s, size_t n, char **out) {
    const patset *ps = patterns_get(3, "", NUM_PATS, NULL, 0, 2);
    char *box = NULL;
    int rc = boxed(s, n, &box);
    if (rc) return rc;
    xuan_buf b = {0};
    if (box) { /* \frac{a}{b} -> a/b inside the box */
        const char *p = box;
        size_t bn = strlen(box), from = 0;
        match m;
        while (search(ps->code[1], p, bn, from, &m)) {
            if (xuan_buf_append(&b, p + from, m.start - from) || xuan_buf_append(&b, p + m.g_start[1], m.g_end[1] - m.g_start[1]) ||
                xuan_buf_puts(&b, "/") || xuan_buf_append(&b, p + m.g_start[2], m.g_end[2] - m.g_start[2])) {
                rc = XUAN_ERR_NOMEM;
                break;
            }
            from = m.end;
        }
        if (!rc && xuan_buf_append(&b, p + from, bn - from)) rc = XUAN_ERR_NOMEM;
        xuan_free(box);
        if (rc) {
            xuan_buf_free(&b);
            return rc;
        }
    }
    const char *t = b.len ? b.data : s;
    size_t tn = b.len ? b.len : n;
    match m, last;
    bool any = false;
    for (int pass = 0; pass < 2 && !any; pass++) {
        size_t from = 0;
        while (from <= tn && search(ps->code[0], t, tn, from, &m)) {
            last = m, any = true;
            from = m.end > m.start ? m.end : m.end + 1;
        }
        if (!any && b.len) t = s, tn = n; /* nothing in the box: the whole text */
    }
    if (any) {
        xuan_buf r = {0};
        int bad = xuan_buf_append(&r, t + last.g_start[1], last.g_end[1] - last.g_start[1]);
        if (group_set(&last, 2)) {
            bad |= xuan_buf_puts(&r, "/");
            bad |= xuan_buf_append(&r, t + last.g_start[2], last.g_end[2] - last.g_start[2]);
        }
        if (last.end > last.start) {
            const char *tail = t + last.end;
            if ((last.end >= 1 && tail[-1] == '%') || (last.end >= 3 && memcmp(tail - 3, "％", 3) == 0))
                bad |= xuan_buf_puts(&r, "%");
        }
        if (bad) rc = XUAN_ERR_NOMEM;
        else *out = r.data;
        if (bad) xuan_buf_free(&r);
    }
    xuan_buf_free(&b);
    return rc;
}

/* ---- 7. entry ------------------------------------------------------------------------ */

static const char *const EXTRACTOR_NAMES[XUAN_EXTRACT_COUNT] = {
    "gsm8k-strict", "gsm8k-flexible", "math-boxed", "mmlu-pro", "opencompass", "last-number", "humaneval",
};

const char *xuan_eval_extractor_name(xuan_extractor e) {
    return (unsigned)e < XUAN_EXTRACT_COUNT ? EXTRACTOR_NAMES[e] : "unknown";
}

int xuan_eval_extractor_from_name(const char *name) {
    for (int i = 0; i < XUAN_EXTRACT_COUNT; i++)
        if (strcmp(name, EXTRACTOR_NAMES[i]) == 0) return i;
    return -1;
}

/* A copy of text with every invalid UTF-8 byte as U+FFFD. */
static char *valid_copy(const char *text, size_t n, size_t *out_n) {
    xuan_buf b = {0};
    int bad = 0;
    for (size_t i = 0; i < n;) {
        int l = xuan_utf8_len((const uint8_t *)text + i, n - i);
        if (l > 0 && !(l == 1 && text[i] == 0)) {
            bad |= xuan_buf_append(&b, text + i, (size_t)l);
            i += (size_t)l;
        } else if (l == 1) { /* NUL: dropped (C strings end there) */
            i++;
        } else {
            bad |= xuan_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    if (!bad && !b.data) bad = xuan_buf_append(&b, "", 0);
    if (bad) {
        xuan_buf_free(&b);
        return NULL;
    }
    *out_n = b.len;
    return b.data;
}

int xuan_eval_extract(xuan_extractor e, const char *text, size_t n, const char *letters, char **out,
                      xuan_error *err) {
    *out = NULL;
    if (!letters) letters = "ABCD";
    size_t nl = strlen(letters);
    if (nl == 0 || nl > 26) return xuan_fail(err, XUAN_ERR_USAGE, "option letters must be 1 to 26, got %zu", nl);
    for (size_t i = 0; i < nl; i++) /* "A", "AB", ... "ABCDEFGHIJ": option i is letter i */
        if (letters[i] != (char)('A' + i))
            return xuan_fail(err, XUAN_ERR_USAGE, "option letters must run A, B, C, ... in order, got '%s'", letters);
    size_t vn;
    char *v = valid_copy(text, n, &vn);
    if (!v) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int rc;
    switch (e) {
    case XUAN_EXTRACT_GSM8K_STRICT: rc = gsm8k(true, v, vn, out); break;
    case XUAN_EXTRACT_GSM8K_FLEXIBLE: rc = gsm8k(false, v, vn, out); break;
    case XUAN_EXTRACT_MATH_BOXED: rc = boxed(v, vn, out); break;
    case XUAN_EXTRACT_MMLU_PRO: rc = mmlu_pro(v, vn, letters, out); break;
    case XUAN_EXTRACT_OPENCOMPASS: rc = opencompass(v, vn, letters, out); break;
    case XUAN_EXTRACT_LAST_NUMBER: rc = last_number(v, vn, out); break;
    case XUAN_EXTRACT_HUMANEVAL: rc = (*out = xuan_strndup(v, vn)) ? 0 : XUAN_ERR_NOMEM; break;
    default: xuan_free(v); return xuan_fail(err, XUAN_ERR_USAGE, "unknown extractor %d", (int)e);
    }
    xuan_free(v);
    if (rc) {
        xuan_free(*out);
        *out = NULL;
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    return 0;
}
