/* Tests for the tokenizer room: NFC, hand-made BPE and SentencePiece
 * vocabularies (merge order, specials only when asked, byte fallback,
 * dummy prefix), the hand-written pre-tokenizer scanners against PCRE2 running
 * HF's own regexes, the streaming decoder, and every vocabulary in
 * ../shared/vocab against its .inp/.out cases (HF's ids) with round trips
 * and invalid UTF-8.  The HF-built vocabularies (Qwen2, Llama 3, DeepSeek-V3,
 * cl100k) are in test_tok_hf.c (they need the npm packages). */
#include "harness.h"
#include "tok/internal.h"
#include "tok/unicode.h"
#include "xuan/tok.h"

#include <dirent.h>
#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------- */

static bool ids_eq(const xuan_tok_ids *v, const int32_t *want, size_t n) {
    if (v->n != n) return false;
    for (size_t i = 0; i < n; i++)
        if (v->ids[i] != want[i]) return false;
    return true;
}

static void show_ids(const char *label, const int32_t *ids, size_t n) {
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

static xuan_tok_ids enc(const xuan_tok *t, const char *s, uint32_t flags) {
    xuan_tok_ids v = {0};
    xuan_error err = {0};
    if (xuan_tok_encode(t, s, strlen(s), flags, &v, &err) != 0) test_fail(__FILE__, __LINE__, "%s", err.msg);
    return v;
}

/* ---- NFC --------------------------------------------------------------------- */

static void test_nfc(void) {
    struct { uint32_t in[6]; size_t n; uint32_t out[6]; size_t m; } cases[] = {
        {{'e', 0x301}, 2, {0xe9}, 1},                     /* e + acute -> é */
        {{0xe9}, 1, {0xe9}, 1},                           /* already composed */
        {{'a', 0x323, 0x302}, 3, {0x1ead}, 1},            /* ậ from either mark order */
        {{'a', 0x302, 0x323}, 3, {0x1ead}, 1},
        {{0x1100, 0x1161, 0x11a8}, 3, {0xac01}, 1},       /* Hangul L V T -> 각 */
        {{0x212b}, 1, {0xc5}, 1},                         /* Angstrom sign -> Å (singleton) */
        {{'A', 0x30a}, 2, {0xc5}, 1},
        {{0x0958}, 1, {0x0915, 0x093c}, 2},               /* composition exclusion stays apart */
        {{'n', 0x303, 'x'}, 3, {0xf1, 'x'}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t *out;
        size_t m;
        REQUIRE(tok_nfc(cases[i].in, cases[i].n, &out, &m) == 0);
        bool same = m == cases[i].m && memcmp(out, cases[i].out, m * 4) == 0;
        if (!same) test_fail(__FILE__, __LINE__, "NFC case %zu: got %zu code points, first U+%04X", i, m, m ? out[0] : 0);
        xuan_free(out);
    }
    /* sanitize: ASCII and CJK need nothing; invalid bytes become U+FFFD */
    xuan_buf b = {0};
    CHECK_EQ_INT(tok_sanitize("hello 你好", 12, true, &b), 0);
    CHECK_EQ_INT(tok_sanitize("Cafe\xcc\x81", 6, true, &b), 1);
    CHECK(b.len == 5 && memcmp(b.data, "Caf\xc3\xa9", 5) == 0);
    CHECK_EQ_INT(tok_sanitize("a\xff" "b", 3, false, &b), 1);
    CHECK(b.len == 5 && memcmp(b.data, "a\xef\xbf\xbd" "b", 5) == 0);
    CHECK_EQ_INT(tok_sanitize("\xc0\xaf", 2, false, &b), 1); /* llama.cpp reads an overlong '/' */
    CHECK(b.len == 1 && b.data[0] == '/');
    /* NFC by segments (tok_sanitize) equals NFC of the whole text */
    const uint32_t atoms[] = {'a', 'e', 'A', ' ', 0xc0, 0xe9, 0x300, 0x301, 0x323, 0x302, 0x338, '<', 0x1100,
                              0x1161, 0x11a8, 0xac00, 0x212b, 0x4e2d, 0x0958, 0x1e0b, 0x5c, 0x3099, 0x304b};
    uint64_t seed = 7;
    for (int k = 0; k < 3000; k++) {
        uint32_t cps[40];
        size_t n = (size_t)(k % 40);
        uint8_t utf[200];
        size_t m = 0;
        for (size_t j = 0; j < n; j++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            cps[j] = atoms[(seed >> 33) % (sizeof atoms / sizeof atoms[0])];
            m += (size_t)tok_utf8_put(cps[j], utf + m);
        }
        uint32_t *whole;
        size_t nw;
        REQUIRE(tok_nfc(cps, n, &whole, &nw) == 0);
        uint8_t want[200] = {0};
        size_t wl = 0;
        for (size_t j = 0; j < nw; j++) wl += (size_t)tok_utf8_put(whole[j], want + wl);
        int r = tok_sanitize((const char *)utf, m, true, &b);
        const uint8_t *got = r == 1 ? (const uint8_t *)b.data : utf;
        size_t gl = r == 1 ? b.len : m;
        if (gl != wl || memcmp(got, want, wl) != 0) {
            test_fail(__FILE__, __LINE__, "segmented NFC differs from whole-text NFC (case %d)", k);
            xuan_free(whole);
            break;
        }
        xuan_free(whole);
    }
    xuan_buf_free(&b);
}

/* ---- a hand-made byte-level BPE vocabulary --------------------------------------- */

/* The 256 byte characters of GPT-2, then extra tokens, merges and specials. */
static xuan_tok *make_bpe(const char *pre, const char *const *extra, size_t n_extra,
                          const char *const *merges, size_t n_merges, xuan_error *err) {
    static char store[256][4];
    xuan_str toks[300];
    uint8_t types[300];
    uint32_t n = 0, next = 256;
    for (uint32_t b = 0; b < 256; b++) {
        bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        uint32_t cp = keep ? b : next++;
        int l = tok_utf8_put(cp, (uint8_t *)store[b]);
        toks[n] = (xuan_str){store[b], (uint64_t)l};
        types[n++] = XUAN_TOK_TYPE_NORMAL;
    }
    for (size_t i = 0; i < n_extra; i++) {
        const char *s = extra[i];
        uint8_t ty = XUAN_TOK_TYPE_NORMAL;
        if (s[0] == '!') ty = XUAN_TOK_TYPE_CONTROL, s++;
        else if (s[0] == '?') ty = XUAN_TOK_TYPE_USER_DEFINED, s++;
        toks[n] = (xuan_str){s, strlen(s)};
        types[n++] = ty;
    }
    xuan_str m[32];
    for (size_t i = 0; i < n_merges; i++) m[i] = (xuan_str){merges[i], strlen(merges[i])};
    xuan_tok_desc d = {.kind = XUAN_TOK_BPE, .pre = pre, .n_tokens = n, .tokens = toks, .types = types,
                       .n_merges = n_merges, .merges = m, .bos = -1, .eos = -1, .eot = -1, .eom = -1,
                       .pad = -1, .unk = -1, .add_bos = -1, .add_eos = -1, .add_space_prefix = -1};
    return xuan_tok_new(&d, err);
}

static void test_bpe_handmade(void) {
    /* ids: 256 "aa", 257 "ab", 258 "aab", 259 "Ġa", 260 <|end|>, 261 <u> */
    const char *extra[] = {"aa", "ab", "aab", "\u0120a", "!<|end|>", "?<u>"};
    const char *merges[] = {"a a", "a b", "aa b", "\xc4\xa0 a"};
    xuan_error err = {0};
    xuan_tok *t = make_bpe("gpt2", extra, 6, merges, 4, &err);
    if (!t) fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(t);
    /* "aaa": the leftmost of two equal-rank pairs merges first */
    xuan_tok_ids v = enc(t, "aaa", 0);
    CHECK(ids_eq(&v, (int32_t[]){256, 'a'}, 2));
    xuan_tok_ids_free(&v);
    /* "aab": a+a (rank 0) before a+b (rank 1), then aa+b */
    v = enc(t, "aab", 0);
    CHECK(ids_eq(&v, (int32_t[]){258}, 1));
    xuan_tok_ids_free(&v);
    /* " a": the space joins the word (gpt2 split ' ?\p{L}+') */
    v = enc(t, "x a", 0);
    CHECK(ids_eq(&v, (int32_t[]){'x', 259}, 2));
    xuan_tok_ids_free(&v);
    /* control tokens only with PARSE_SPECIAL; user-defined always */
    v = enc(t, "<|end|>", 0);
    CHECK(v.n > 1);
    xuan_tok_ids_free(&v);
    v = enc(t, "<|end|>", XUAN_TOK_PARSE_SPECIAL);
    CHECK(ids_eq(&v, (int32_t[]){260}, 1));
    xuan_tok_ids_free(&v);
    v = enc(t, "a<u>a", 0);
    CHECK(ids_eq(&v, (int32_t[]){'a', 261, 'a'}, 3));
    xuan_tok_ids_free(&v);
    /* decode: control text only when asked */
    int32_t ids[] = {'x', 259, 260};
    xuan_buf out = {0};
    CHECK(xuan_tok_decode(t, ids, 3, 0, &out) == 0);
    CHECK_EQ_STR(out.data, "x a");
    xuan_buf_reset(&out);
    CHECK(xuan_tok_decode(t, ids, 3, XUAN_TOK_DECODE_SPECIAL, &out) == 0);
    CHECK_EQ_STR(out.data, "x a<|end|>");
    xuan_buf_free(&out);
    /* a 200 000-byte word without spaces: the heap path, not quadratic
     * (time is printed, never asserted: make bench measures linearity) */
    size_t n = 200000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = "ab"[i % 3 == 2];
    big[n] = 0;
    double t0 = xuan_time_s();
    v = enc(t, big, 0);
    double dt = xuan_time_s() - t0;
    CHECK(v.n > 0 && v.n < n);
    xuan_buf_reset(&out);
    CHECK(xuan_tok_decode(t, v.ids, v.n, 0, &out) == 0);
    CHECK(out.len == n && memcmp(out.data, big, n) == 0);
    printf("  200000-byte word: %.3f s\n", dt);
    xuan_tok_ids_free(&v);
    xuan_buf_free(&out);
    free(big);
    xuan_tok_free(t);

    /* an unknown pre-tokenizer is an error that names it */
    t = make_bpe("no-such-pre", extra, 6, merges, 4, &err);
    CHECK(t == NULL);
    CHECK(strstr(err.msg, "no-such-pre") != NULL);
}

/* ---- a hand-made SentencePiece vocabulary ------------------------------------------ */

static void test_spm_handmade(void) {
    static char bytes[256][8];
    xuan_str toks[270];
    float scores[270] = {0};
    uint8_t types[270];
    uint32_t n = 0;
    toks[n] = (xuan_str){"<unk>", 5}, types[n++] = XUAN_TOK_TYPE_UNKNOWN;
    toks[n] = (xuan_str){"<s>", 3}, types[n++] = XUAN_TOK_TYPE_CONTROL;
    toks[n] = (xuan_str){"</s>", 4}, types[n++] = XUAN_TOK_TYPE_CONTROL;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        toks[n] = (xuan_str){bytes[b], 6}, types[n++] = XUAN_TOK_TYPE_BYTE;
    }
    const char *words[] = {"\xe2\x96\x81", "h", "i", "\xe2\x96\x81h", "\xe2\x96\x81hi", "hi"};
    const float sc[] = {-1, -2, -2, -3, -4, -5};
    for (int i = 0; i < 6; i++) {
        toks[n] = (xuan_str){words[i], strlen(words[i])};
        scores[n] = sc[i];
        types[n++] = XUAN_TOK_TYPE_NORMAL;
    }
    /* ids: 259 ▁, 260 h, 261 i, 262 ▁h, 263 ▁hi, 264 hi */
    xuan_tok_desc d = {.kind = XUAN_TOK_SPM, .n_tokens = n, .tokens = toks, .scores = scores,
                       .types = types, .bos = 1, .eos = 2, .eot = -1, .eom = -1, .pad = -1, .unk = 0,
                       .add_bos = -1, .add_eos = -1, .add_space_prefix = -1};
    xuan_error err = {0};
    xuan_tok *t = xuan_tok_new(&d, &err);
    REQUIRE(t);
    xuan_tok_ids v = enc(t, "hi", XUAN_TOK_ADD_SPECIAL);
    /* BOS, then "▁hi": ▁h (-3) merges before hi (-5), then ▁h+i */
    CHECK(ids_eq(&v, (int32_t[]){1, 263}, 2));
    xuan_tok_ids_free(&v);
    /* é has no token: byte fallback */
    v = enc(t, "h\xc3\xa9", 0);
    CHECK(ids_eq(&v, (int32_t[]){262, 3 + 0xc3, 3 + 0xa9}, 3));
    xuan_buf out = {0};
    CHECK(xuan_tok_decode(t, v.ids, v.n, 0, &out) == 0);
    CHECK_EQ_STR(out.data, "h\xc3\xa9"); /* dummy prefix removed */
    /* streaming: é arrives in two byte tokens and prints once, whole */
    xuan_tok_stream st;
    xuan_tok_stream_init(&st, t, 0);
    xuan_buf sout = {0};
    CHECK(xuan_tok_stream_push(&st, v.ids[0], &sout) == 0);
    CHECK_EQ_STR(sout.data, "h");
    CHECK(xuan_tok_stream_push(&st, v.ids[1], &sout) == 0);
    CHECK_EQ_INT(sout.len, 1); /* held back */
    CHECK(xuan_tok_stream_push(&st, v.ids[2], &sout) == 0);
    CHECK_EQ_STR(sout.data, "h\xc3\xa9");
    /* a dangling lead byte becomes U+FFFD at flush */
    CHECK(xuan_tok_stream_push(&st, 3 + 0xe4, &sout) == 0);
    CHECK(xuan_tok_stream_flush(&st, &sout) == 0);
    CHECK_EQ_STR(sout.data, "h\xc3\xa9\xef\xbf\xbd");
    /* four-byte characters in four byte tokens (found by fuzz_tok: the
     * prefix check read past the bytes that had arrived), and prefixes that
     * can never complete (E0 80: overlong, ED A0: a surrogate, F4 90: past
     * U+10FFFF) given up at once */
    static const struct {
        const char *in, *want;
    } four[] = {
        {"\xf0\x9f\x8e\x89", "\xf0\x9f\x8e\x89"}, /* U+1F389 */
        {"\xf0\xa0\x80\x80", "\xf0\xa0\x80\x80"}, /* U+20000 */
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
        {"\xe0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90", "\xef\xbf\xbd\xef\xbf\xbd"},
    };
    for (size_t k = 0; k < sizeof four / sizeof four[0]; k++) {
        xuan_tok_stream_init(&st, t, 0);
        st.started = true;
        xuan_buf_reset(&sout);
        for (const char *c = four[k].in; *c; c++) {
            CHECK(xuan_tok_stream_push(&st, 3 + (uint8_t)*c, &sout) == 0);
            if (c[1] && k < 3) CHECK_EQ_INT(sout.len, 0); /* held back until whole */
        }
        CHECK(xuan_tok_stream_flush(&st, &sout) == 0);
        CHECK_EQ_STR(sout.data, four[k].want);
    }
    xuan_buf_free(&sout);
    xuan_buf_free(&out);
    xuan_tok_ids_free(&v);
    /* control text stays text without PARSE_SPECIAL */
    v = enc(t, "</s>", XUAN_TOK_PARSE_SPECIAL);
    CHECK(ids_eq(&v, (int32_t[]){2}, 1));
    xuan_tok_ids_free(&v);
    v = enc(t, "</s>", 0);
    CHECK(v.n > 1);
    xuan_tok_ids_free(&v);
    xuan_tok_free(t);
}

/* ---- scanners against PCRE2 running HF's regexes ---------------------------------- */

#define WS "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char *const HF_RE[3] = {
    /* gpt2 */
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|[" WS "]+(?![^" WS "])|[" WS "]+",
    /* llama3 */
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+",
    /* qwen2 */
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+",
};

typedef struct spans {
    size_t v[4096][2];
    size_t n;
} spans;

static int collect(void *ctx, const char *text, size_t start, size_t len) {
    (void)text;
    spans *s = ctx;
    if (s->n < 4096) s->v[s->n][0] = start, s->v[s->n][1] = len, s->n++;
    return 0;
}

static void regex_split(pcre2_code *re, const char *s, size_t n, spans *out) {
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    size_t at = 0, gap = 0;
    out->n = 0;
    while (at < n && pcre2_match(re, (PCRE2_SPTR)s, n, at, 0, md, NULL) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[0] > gap) collect(out, s, gap, ov[0] - gap);
        collect(out, s, ov[0], ov[1] - ov[0]);
        at = gap = ov[1];
    }
    if (n > gap) collect(out, s, gap, n - gap);
    pcre2_match_data_free(md);
}

static void test_scanners_match_regex(void) {
    const char *pres[3] = {"gpt2", "llama-bpe", "qwen2"};
    /* pieces of tricky text: letters of several scripts, digits of several
     * kinds, every kind of space, CR/LF, apostrophes, marks, symbols */
    const char *atoms[] = {"a", "Z", "é", "中", "ё", "ß", "1", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n", "\r\n",
                           "\xc2\xa0", "\xc2\x85", "\xe3\x80\x80", "\xe2\x80\x8b", "'", "'s", "'LL", "'re",
                           "’", ".", "!", "(", "😀", "\xcc\x81", "\xef\xbb\xbf", "-", "_", "€", "\xe2\x80\xa8"};
    const size_t n_atoms = sizeof atoms / sizeof atoms[0];
    xuan_error err = {0};
    const char *extra[] = {"x"};
    const char *merges[] = {"a b"};
    spans *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    uint64_t seed = 12345;
    for (int p = 0; p < 3; p++) {
        xuan_tok *t = make_bpe(pres[p], extra, 0, merges, 0, &err);
        REQUIRE(t);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)HF_RE[p], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
        REQUIRE(re);
        int bad = 0;
        for (int iter = 0; iter < 4000 && bad < 3; iter++) {
            char s[512];
            size_t n = 0;
            int k = 1 + (int)(seed % 24);
            for (int j = 0; j < k; j++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                const char *atom = atoms[(seed >> 33) % n_atoms];
                size_t l = strlen(atom);
                memcpy(s + n, atom, l);
                n += l;
            }
            s[n] = 0;
            a->n = b->n = 0;
            tok_pre_split(t, s, n, collect, a);
            regex_split(re, s, n, b);
            bool same = a->n == b->n;
            for (size_t i = 0; same && i < a->n; i++)
                same = a->v[i][0] == b->v[i][0] && a->v[i][1] == b->v[i][1];
            if (!same) {
                bad++;
                test_fail(__FILE__, __LINE__, "%s scanner differs from the HF regex on \"%s\" (%zu vs %zu pieces)",
                          pres[p], s, a->n, b->n);
            }
        }
        pcre2_code_free(re);
        xuan_tok_free(t);
    }
    free(a);
    free(b);
}

/* ---- ../shared/vocab ------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *n) {
    char *data = NULL;
    xuan_error err = {0};
    if (xuan_read_file(path, 64u << 20, &data, n, &err) != 0) return NULL;
    return data;
}

/* Checks every case of NAME.gguf.inp against NAME.gguf.out; returns mismatches. */
static int check_inp_out(const xuan_tok *t, const char *gguf_path) {
    if (strlen(gguf_path) > 4000) return -1;
    char p[4200];
    size_t ni, no;
    snprintf(p, sizeof p, "%.4000s.inp", gguf_path);
    char *inp = slurp(p, &ni);
    snprintf(p, sizeof p, "%.4000s.out", gguf_path);
    char *out = slurp(p, &no);
    if (!inp || !out) {
        xuan_free(inp);
        xuan_free(out);
        return -1;
    }
    const char *sep = "\n__ggml_vocab_test__\n";
    int mismatches = 0, cases = 0;
    char *ip = inp, *op = out;
    for (;;) {
        char *e = strstr(ip, sep);
        if (!e) break;
        char *ol = strchr(op, '\n');
        if (!ol) break;
        *ol = 0;
        int32_t want[1024];
        size_t nw = 0;
        for (char *q = op; *q && nw < 1024;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int32_t)v;
            q = end;
        }
        xuan_tok_ids v = {0};
        xuan_error err = {0};
        CHECK(xuan_tok_encode(t, ip, (size_t)(e - ip), 0, &v, &err) == 0);
        cases++;
        if (!ids_eq(&v, want, nw)) {
            mismatches++;
            fprintf(stderr, "  mismatch on \"%.*s\"\n", (int)(e - ip > 80 ? 80 : e - ip), ip);
            show_ids("want", want, nw);
            show_ids("got ", v.ids, v.n);
        }
        /* round trip */
        xuan_buf txt = {0};
        CHECK(xuan_tok_decode(t, v.ids, v.n, 0, &txt) == 0);
        bool rt = txt.len == (size_t)(e - ip) && memcmp(txt.data, ip, txt.len) == 0;
        /* SentencePiece drops one leading space of the input on decode
         * (the dummy prefix and a real space merge into one ▁) */
        if (!rt && t->kind == XUAN_TOK_SPM && e > ip && ip[0] == ' ')
            rt = txt.len + 1 == (size_t)(e - ip) && memcmp(txt.data, ip + 1, txt.len) == 0;
        if (!rt) test_fail(__FILE__, __LINE__, "round trip lost \"%.*s\"", (int)(e - ip > 60 ? 60 : e - ip), ip);
        xuan_buf_free(&txt);
        xuan_tok_ids_free(&v);
        ip = e + strlen(sep);
        op = ol + 1;
    }
    fprintf(stderr, "  %s: %d cases, %d mismatches\n", gguf_path, cases, mismatches);
    CHECK(cases > 10);
    xuan_free(inp);
    xuan_free(out);
    return mismatches;
}

static void test_shared_vocabs(void) {
    NEED_SHARED();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/vocab", test_shared());
    DIR *d = opendir(dir);
    REQUIRE(d);
    struct dirent *de;
    int n_vocab = 0, total_bad = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".gguf") != 0) continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%.3000s/%.1000s", dir, de->d_name) >= sizeof path) continue;
        xuan_error err = {0};
        xuan_gguf *g = xuan_gguf_open(path, &err);
        xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
        xuan_gguf_close(g);
        if (!t) test_fail(__FILE__, __LINE__, "%s", err.msg);
        if (!t) continue;
        n_vocab++;
        char inp[4200];
        snprintf(inp, sizeof inp, "%.4000s.inp", path);
        if (xuan_file_exists(inp)) {
            int bad = check_inp_out(t, path);
            CHECK_EQ_INT(bad, 0);
            total_bad += bad > 0 ? bad : 0;
        }
        /* round trip on Chinese, code and emoji, for every vocabulary */
        const char *texts[] = {"患者，男，45岁，主诉胸痛3小时。", "def f(x):\n\treturn x**2  # ok\n",
                               "I love 🦙 and 👨\u200d👩\u200d👧!", "  leading and trailing  ", "Café\r\n"};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            xuan_tok_ids v = enc(t, texts[i], 0);
            xuan_buf txt = {0};
            xuan_tok_decode(t, v.ids, v.n, 0, &txt);
            const char *want = texts[i];
            if (!txt.data || strcmp(txt.data, want) != 0)
                test_fail(__FILE__, __LINE__, "%s: round trip of \"%s\" gave \"%s\"", de->d_name, texts[i], txt.data ? txt.data : "");
            xuan_buf_free(&txt);
            xuan_tok_ids_free(&v);
        }
        /* invalid UTF-8 never fails */
        const char *bad_utf8[] = {"\x80", "\xe4\xbd", "\xc0\xaf", "Hello\xffWorld", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80"};
        for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
            xuan_tok_ids v = enc(t, bad_utf8[i], XUAN_TOK_ADD_SPECIAL);
            CHECK(v.n > 0);
            xuan_tok_ids_free(&v);
        }
        /* random bytes (mostly invalid UTF-8) never crash; the streaming
         * decoder always emits valid UTF-8 and decode() keeps valid input */
        uint64_t seed = 99;
        for (int k = 0; k < 200; k++) {
            char buf[96];
            size_t n = 0, want = (size_t)(k % 90);
            while (n < want) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                uint8_t c = (uint8_t)(seed >> 56);
                if (c < 0x60) c = (uint8_t)" a<|>s/\n\t9'"[c % 11];
                buf[n++] = (char)c;
            }
            xuan_tok_ids v = {0};
            xuan_error e2 = {0};
            CHECK(xuan_tok_encode(t, buf, n, XUAN_TOK_ADD_SPECIAL | (k & 1 ? XUAN_TOK_PARSE_SPECIAL : 0), &v, &e2) == 0);
            xuan_tok_stream st;
            xuan_tok_stream_init(&st, t, (uint32_t)(k & 1));
            xuan_buf so = {0};
            for (size_t i = 0; i < v.n; i++) CHECK(xuan_tok_stream_push(&st, v.ids[i], &so) == 0);
            CHECK(xuan_tok_stream_flush(&st, &so) == 0);
            CHECK(xuan_utf8_valid((const uint8_t *)so.data, so.len));
            xuan_buf_free(&so);
            xuan_tok_ids_free(&v);
        }
        xuan_tok_free(t);
    }
    closedir(d);
    CHECK(n_vocab >= 6);
    CHECK_EQ_INT(total_bad, 0);
}

static void test_bad_input(void) {
    xuan_error err = {0};
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    xuan_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    xuan_gguf_writer_set_str(w, "tokenizer.ggml.pre", "mystery-pre");
    xuan_str toks[2] = {{"a", 1}, {"b", 1}};
    xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 2);
    xuan_str merges[1] = {{"a b", 3}};
    xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    const char *path = test_path("tok_bad.gguf");
    REQUIRE(xuan_gguf_writer_write(w, path, &err) == 0);
    xuan_gguf *g = xuan_gguf_open(path, &err);
    REQUIRE(g);
    xuan_tok *t = xuan_tok_from_gguf(g, &err);
    CHECK(t == NULL);
    CHECK(strstr(err.msg, "mystery-pre") != NULL);
    xuan_gguf_close(g);
    /* a special id out of range */
    xuan_gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2");
    xuan_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 7);
    REQUIRE(xuan_gguf_writer_write(w, path, &err) == 0);
    g = xuan_gguf_open(path, &err);
    REQUIRE(g);
    t = xuan_tok_from_gguf(g, &err);
    CHECK(t == NULL);
    CHECK(strstr(err.msg, "eos_token_id") != NULL);
    xuan_gguf_close(g);
    xuan_gguf_writer_free(w);
}

int main(void) {
    RUN(test_nfc);
    RUN(test_bpe_handmade);
    RUN(test_spm_handmade);
    RUN(test_scanners_match_regex);
    RUN(test_shared_vocabs);
    RUN(test_bad_input);
    return test_done();
}
