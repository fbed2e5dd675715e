/*
 * Pre-tokenization: splitting text into the pieces that BPE merges inside.
 *
 * The GPT-2 family (gpt2, llama3/cl100k, qwen2) has hand-written scanners
 * that follow the HF regexes alternative by alternative; they read the
 * category table once per code point and are several times faster than a
 * regex engine.  The DeepSeek lists, gpt-4o, starcoder, Tekken and qwen35 run on
 * PCRE2 (UTF + UCP, JIT), with HF's own patterns except that \s / \S are
 * spelled out as the Unicode White_Space set, which is what \s means in
 * HF's engines (PCRE2's \s would miss U+0085).
 *
 * Map: scanners | PCRE2 patterns | PCRE2 splitting | dispatch
 */
#include <string.h>

#include "tok/internal.h"
#include "tok/unicode.h"

/* ======== scanners ========================================================= */

#define OOR 0xffffffffu /* "no code point here": past the end of the text */

typedef struct scan {
    const uint8_t *s;
    size_t n;
} scan;

static inline uint32_t cp_at(const scan *sc, size_t i, size_t *next) {
    if (i >= sc->n) {
        *next = i;
        return OOR;
    }
    uint32_t cp;
    *next = i + (size_t)tok_utf8_next(sc->s + i, &cp);
    return cp;
}
static inline unsigned fl(uint32_t cp) {
    if (cp < 0x80) { /* ASCII fast path: the table would say the same */
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return UF_L;
        if (cp >= '0' && cp <= '9') return UF_N;
        if (cp == ' ' || (cp >= 9 && cp <= 13)) return UF_WS;
        return UF_P; /* punctuation, symbols and controls: "other" to every scanner */
    }
    return cp == OOR ? 0 : tok_flags(cp);
}
static inline bool is_other(uint32_t cp) { /* [^\s\p{L}\p{N}], not past the end */
    return cp != OOR && !(fl(cp) & (UF_WS | UF_L | UF_N));
}
static inline uint8_t lower_ascii(uint8_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Length of an English contraction at i ('s 't 're 've 'm 'll 'd), or 0. */
static size_t contraction(const scan *sc, size_t i, bool icase) {
    if (sc->s[i] != '\'' || i + 1 >= sc->n) return 0;
    uint8_t a = sc->s[i + 1], b = i + 2 < sc->n ? sc->s[i + 2] : 0;
    if (icase) a = lower_ascii(a), b = lower_ascii(b);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* The whitespace alternatives shared by all three patterns, at a white-space
 * code point: \s*[\r\n]+ (llama3/qwen2 only) | \s+(?!\S) | \s+ */
static size_t whitespace_end(const scan *sc, size_t pos, bool newline_rule) {
    size_t e = pos, last_nl = 0, prev = pos, nx;
    uint32_t c;
    while ((c = cp_at(sc, e, &nx)) != OOR && (fl(c) & UF_WS)) {
        if (c == '\r' || c == '\n') last_nl = nx;
        prev = e;
        e = nx;
    }
    if (newline_rule && last_nl) return last_nl;
    if (e < sc->n && prev > pos) return prev; /* leave the last space to the next word */
    return e;
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*
 * |\s*[\r\n]+|\s+(?!\S)|\s+    with D = 1 (qwen2) or 3 (llama3, cl100k) */
static int split_llama3(const scan *sc, int max_digits, tok_piece_fn fn, void *ctx) {
    size_t pos = 0;
    while (pos < sc->n) {
        size_t nx, nx2, end;
        uint32_t c = cp_at(sc, pos, &nx);
        unsigned f = fl(c);
        size_t k = contraction(sc, pos, true);
        if (k) {
            end = pos + k;
        } else if (f & UF_L) {
            end = nx;
            while ((fl(cp_at(sc, end, &nx2)) & UF_L)) end = nx2;
        } else if (c != '\r' && c != '\n' && !(f & UF_N) && (fl(cp_at(sc, nx, &nx2)) & UF_L)) {
            end = nx2;
            while ((fl(cp_at(sc, end, &nx2)) & UF_L)) end = nx2;
        } else if (f & UF_N) {
            end = nx;
            for (int d = 1; d < max_digits && (fl(cp_at(sc, end, &nx2)) & UF_N); d++) end = nx2;
        } else if (is_other(c) || (c == ' ' && is_other(cp_at(sc, nx, &nx2)))) {
            end = c == ' ' ? nx : pos;
            uint32_t c2;
            while (is_other(c2 = cp_at(sc, end, &nx2))) end = nx2;
            while ((c2 = cp_at(sc, end, &nx2)) == '\r' || c2 == '\n') end = nx2;
        } else if (f & UF_WS) {
            end = whitespace_end(sc, pos, true);
        } else {
            end = nx; /* cannot happen: every code point is L, N, \s or other */
        }
        int rc = fn(ctx, (const char *)sc->s, pos, end - pos);
        if (rc) return rc;
        pos = end;
    }
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static int split_gpt2(const scan *sc, tok_piece_fn fn, void *ctx) {
    size_t pos = 0;
    while (pos < sc->n) {
        size_t nx, nx2, end;
        uint32_t c = cp_at(sc, pos, &nx);
        size_t k = contraction(sc, pos, false);
        if (k) {
            end = pos + k;
        } else {
            size_t body = pos;
            uint32_t b = c;
            if (c == ' ') {
                b = cp_at(sc, nx, &nx2);
                if (b != OOR && !(fl(b) & UF_WS)) body = nx;
                else b = c;
            }
            unsigned fb = fl(b);
            if (body == pos && (fb & UF_WS)) {
                end = whitespace_end(sc, pos, false);
            } else {
                unsigned cls = fb & UF_L ? UF_L : fb & UF_N ? UF_N : 0;
                end = body;
                uint32_t c2;
                while ((c2 = cp_at(sc, end, &nx2)) != OOR) {
                    unsigned f2 = fl(c2);
                    if (cls ? !(f2 & cls) : (f2 & (UF_WS | UF_L | UF_N)) != 0) break;
                    end = nx2;
                }
            }
        }
        int rc = fn(ctx, (const char *)sc->s, pos, end - pos);
        if (rc) return rc;
        pos = end;
    }
    return 0;
}

/* ======== PCRE2 patterns ===================================================== */

/* \s inside a class, as White_Space */
#define WS_CLASS "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

static const char *const RE_DEEPSEEK_LLM[] = {
    "[\\r\\n]",
    "\\s?[A-Za-z\\x{00B5}\\x{00C0}-\\x{00D6}\\x{00D8}-\\x{00F6}\\x{00F8}-\\x{01BA}\\x{01BC}-\\x{01BF}"
    "\\x{01C4}-\\x{0293}\\x{0295}-\\x{02AF}\\x{0370}-\\x{0373}\\x{0376}\\x{0377}\\x{037B}-\\x{037D}"
    "\\x{037F}\\x{0386}\\x{0388}-\\x{038A}\\x{038C}\\x{038E}-\\x{03A1}\\x{03A3}-\\x{03F5}"
    "\\x{03F7}-\\x{0481}\\x{048A}-\\x{052F}\\x{0531}-\\x{0556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
    "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
    "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
    "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
    "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
    "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
    "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
    "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
    "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
    "\\s+$",
    "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
    NULL,
};
static const char *const RE_DEEPSEEK_CODER[] = {
    "[\\r\\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}",
    NULL,
};
static const char *const RE_DEEPSEEK3[] = {
    "\\p{N}{1,3}",
    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
static const char *const RE_GPT4O[] = {
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* Mistral's Tekken (Mistral NeMo, Ministral 3): gpt-4o's pattern without
 * the contractions and with single digits, as its tokenizer.json has it.
 * llama.cpp spells the case classes as ASCII look-aheads instead
 * ([^a-z] after a letter for upper, [^A-Z] for lower), which differs from
 * HF on non-ASCII case changes ("helloÉcole"); xuan follows HF. */
static const char *const RE_TEKKEN[] = {
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
/* Qwen3.5: Qwen2's pattern with combining marks joining letters (and
 * leaving the punctuation runs), as its tokenizer.json has it. */
static const char *const RE_QWEN35[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL,
};
static const char *const RE_STARCODER[] = {
    "\\p{N}",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    NULL,
};

/* Rewrites \s and \S as explicit White_Space classes. */
static int expand_ws(const char *re, xuan_buf *out) {
    bool in_class = false;
    int rc = 0;
    for (const char *p = re; *p && rc == 0; p++) {
        if (p[0] == '\\' && p[1]) {
            if (p[1] == 's') rc = xuan_buf_puts(out, in_class ? WS_CLASS : "[" WS_CLASS "]");
            else if (p[1] == 'S' && !in_class) rc = xuan_buf_puts(out, "[^" WS_CLASS "]");
            else rc = xuan_buf_append(out, p, 2);
            p++;
            continue;
        }
        if (*p == '[' && !in_class) in_class = true;
        else if (*p == ']' && in_class && p[-1] != '[' && !(p[-1] == '^' && p[-2] == '['))
            in_class = false;
        rc = xuan_buf_append(out, p, 1);
    }
    return rc;
}

int tok_pre_compile(xuan_tok *t, xuan_error *err) {
    const char *const *list = NULL;
    switch (t->pre) {
    case TOK_PRE_DEEPSEEK_LLM: list = RE_DEEPSEEK_LLM; break;
    case TOK_PRE_DEEPSEEK_CODER: list = RE_DEEPSEEK_CODER; break;
    case TOK_PRE_DEEPSEEK3: list = RE_DEEPSEEK3; break;
    case TOK_PRE_GPT4O: list = RE_GPT4O; break;
    case TOK_PRE_STARCODER: list = RE_STARCODER; break;
    case TOK_PRE_TEKKEN: list = RE_TEKKEN; break;
    case TOK_PRE_QWEN35: list = RE_QWEN35; break;
    default: return 0;
    }
    for (int i = 0; list[i]; i++) {
        XUAN_ASSERT(i < TOK_MAX_REGEX);
        xuan_buf pat = {0};
        if (expand_ws(list[i], &pat) != 0)
            return xuan_fail(err, XUAN_ERR_NOMEM, "tokenizer: out of memory compiling regexes");
        int ec;
        PCRE2_SIZE eo;
        t->re[i] = pcre2_compile((PCRE2_SPTR)pat.data, pat.len, PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY,
                                 &ec, &eo, NULL);
        xuan_buf_free(&pat);
        if (!t->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                             "tokenizer: pre-tokenizer '%s' regex %d does not compile at %zu: %s",
                             t->pre_name, i, (size_t)eo, (const char *)msg);
        }
        pcre2_jit_compile(t->re[i], PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
        t->n_re = i + 1;
    }
    return 0;
}

void tok_pre_free(xuan_tok *t) {
    for (int i = 0; i < t->n_re; i++) pcre2_code_free(t->re[i]);
    t->n_re = 0;
}

/* ======== PCRE2 splitting ========================================================= */

typedef struct span_vec {
    tok_span *v;
    size_t n, cap;
} span_vec;

static int span_push(span_vec *s, size_t start, size_t len) {
    if (len == 0) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        tok_span *v = xuan_realloc(s->v, cap * sizeof *v);
        if (!v) return XUAN_ERR_NOMEM;
        s->v = v, s->cap = cap;
    }
    s->v[s->n].start = start;
    s->v[s->n].len = len;
    s->n++;
    return 0;
}

/* Each regex splits every piece the previous one produced: matches and the
 * gaps between them both become pieces (HF Split, behaviour "Isolated");
 * each piece is a subject of its own, so $ and (?!\S) see its end. */
static int split_regex_list(const xuan_tok *t, const char *text, const char *emit, size_t len,
                            tok_piece_fn fn, void *ctx) {
    span_vec a = {0}, b = {0};
    int rc = span_push(&a, 0, len);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md) rc = XUAN_ERR_NOMEM;
    for (int r = 0; r < t->n_re && rc == 0; r++) {
        b.n = 0;
        for (size_t i = 0; i < a.n && rc == 0; i++) {
            const char *sub = text + a.v[i].start;
            size_t n = a.v[i].len, at = 0, gap = 0;
            while (at < n && rc == 0) {
                int m = pcre2_match(t->re[r], (PCRE2_SPTR)sub, n, at, PCRE2_NO_UTF_CHECK, md, NULL);
                if (m < 0) break; /* no match (or a resource limit: keep the rest whole) */
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                size_t ms = ov[0], me = ov[1];
                if (me == ms) { /* empty match: step over one character */
                    at = ms + 1;
                    while (at < n && ((uint8_t)sub[at] & 0xc0) == 0x80) at++;
                    continue;
                }
                rc = span_push(&b, a.v[i].start + gap, ms - gap);
                if (rc == 0) rc = span_push(&b, a.v[i].start + ms, me - ms);
                at = gap = me;
            }
            if (rc == 0) rc = span_push(&b, a.v[i].start + gap, n - gap);
        }
        span_vec tmp = a;
        a = b, b = tmp;
    }
    for (size_t i = 0; i < a.n && rc == 0; i++) rc = fn(ctx, emit, a.v[i].start, a.v[i].len);
    pcre2_match_data_free(md);
    xuan_free(a.v);
    xuan_free(b.v);
    return rc;
}

/* ======== dispatch =================================================================== */

int tok_pre_split(const xuan_tok *t, const char *text, size_t len, tok_piece_fn fn, void *ctx) {
    scan sc = {(const uint8_t *)text, len};
    switch (t->pre) {
    case TOK_PRE_NONE: return len ? fn(ctx, text, 0, len) : 0;
    case TOK_PRE_GPT2: return split_gpt2(&sc, fn, ctx);
    case TOK_PRE_LLAMA3: return split_llama3(&sc, 3, fn, ctx);
    case TOK_PRE_QWEN2: return split_llama3(&sc, 1, fn, ctx);
    case TOK_PRE_GEMMA4: /* runs of newlines, runs of the rest */
        for (size_t i = 0; i < len;) {
            const bool nl = text[i] == '\n';
            size_t j = i + 1;
            while (j < len && (text[j] == '\n') == nl) j++;
            int rc = fn(ctx, text, i, j - i);
            if (rc) return rc;
            i = j;
        }
        return 0;
    default: break;
    }
    /* PCRE2 needs valid UTF-8, and sanitized text may hold encoded
     * surrogates (llama.cpp keeps them).  Match on a copy where each is
     * U+E000 (same length, same "no category" class) and cut the original. */
    const char *subject = text;
    char *copy = NULL;
    for (size_t i = 0; i + 2 < len; i++) {
        if ((uint8_t)text[i] == 0xed && (uint8_t)text[i + 1] >= 0xa0) {
            if (!copy) {
                copy = xuan_malloc(len);
                if (!copy) return XUAN_ERR_NOMEM;
                memcpy(copy, text, len);
            }
            memcpy(copy + i, "\xee\x80\x80", 3);
        }
    }
    if (copy) subject = copy;
    int rc = split_regex_list(t, subject, text, len, fn, ctx);
    xuan_free(copy);
    return rc;
}
