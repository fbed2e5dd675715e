/*
 * UTF-8 decoding as llama.cpp does it, and NFC normalization.
 *
 * NFC is needed because Qwen2's Hugging Face tokenizer normalizes its input
 * to NFC before splitting (llama.cpp skips that step), so "e" + U+0301 must
 * become "é" to get HF's ids.  The algorithm is the textbook one: full
 * canonical decomposition, canonical ordering of combining marks, then
 * canonical composition of unblocked pairs (UAX #15), with Hangul handled
 * arithmetically.  Text with no UF_NFC code point is left alone, so NFC
 * costs one table lookup per non-ASCII code point on ordinary text.
 */
#include "tok/unicode.h"

#include <string.h>

uint32_t tok_utf8_decode_lax(const uint8_t *s, size_t n, size_t *used) {
    uint8_t c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        *used = 1;
        return c;
    }
    if ((c & 0x40) == 0) goto bad; /* a stray continuation byte */
    if ((c & 0x20) == 0) len = 2, cp = c & 0x1f;
    else if ((c & 0x10) == 0) len = 3, cp = c & 0x0f;
    else if ((c & 0x08) == 0) len = 4, cp = c & 0x07;
    else goto bad;
    if (len > n) goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) goto bad;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp > 0x10ffff) goto bad; /* llama.cpp would throw here; we substitute */
    *used = len;
    return cp;
bad:
    *used = 1;
    return 0xfffd;
}

int tok_utf8_put(uint32_t cp, uint8_t out[4]) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* ---- NFC ----------------------------------------------------------------- */

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7 };
enum { LCOUNT = 19, VCOUNT = 21, TCOUNT = 28, NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

static const xuan_tok_decomp *find_decomp(uint32_t cp) {
    size_t lo = 0, hi = xuan_tok_n_decomps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (xuan_tok_decomps[mid].cp < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < xuan_tok_n_decomps && xuan_tok_decomps[lo].cp == cp ? &xuan_tok_decomps[lo] : NULL;
}

static uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE &&
        b < TBASE + TCOUNT)
        return a + (b - TBASE);
    size_t lo = 0, hi = xuan_tok_n_composes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const xuan_tok_compose *c = &xuan_tok_composes[mid];
        if (c->first < a || (c->first == a && c->second < b)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < xuan_tok_n_composes && xuan_tok_composes[lo].first == a &&
        xuan_tok_composes[lo].second == b)
        return xuan_tok_composes[lo].composite;
    return 0;
}

int tok_nfc(const uint32_t *cps, size_t n, uint32_t **out, size_t *n_out) {
    /* A full decomposition is at most 4 code points per input (Unicode's
     * stability policy caps it at 18 in theory; our table says 4). */
    size_t cap = 0;
    if (n > SIZE_MAX / 4 / sizeof(uint32_t)) return -1;
    uint32_t *d = xuan_alloc_array(n * 4 + 1, sizeof(uint32_t));
    if (!d) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        if (c >= SBASE && c < SBASE + SCOUNT) {
            uint32_t s = c - SBASE;
            d[m++] = LBASE + s / NCOUNT;
            d[m++] = VBASE + (s % NCOUNT) / TCOUNT;
            if (s % TCOUNT) d[m++] = TBASE + s % TCOUNT;
            continue;
        }
        const xuan_tok_decomp *e = (tok_flags(c) & UF_NFC) ? find_decomp(c) : NULL;
        if (!e) {
            d[m++] = c;
            continue;
        }
        XUAN_ASSERT(e->len <= 4);
        for (uint32_t k = 0; k < e->len; k++) d[m++] = xuan_tok_decomp_pool[e->off + k];
    }
    (void)cap;
    /* canonical ordering: stable insertion sort of each run of non-starters */
    for (size_t i = 1; i < m; i++) {
        unsigned ci = tok_ccc(d[i]);
        if (ci == 0) continue;
        size_t j = i;
        uint32_t v = d[i];
        while (j > 0 && tok_ccc(d[j - 1]) > ci) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = v;
    }
    /* canonical composition */
    size_t o = 0;
    long starter = -1;
    unsigned last_ccc = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t c = d[i];
        unsigned cc = tok_ccc(c);
        if (starter >= 0) {
            bool adjacent = (size_t)starter == o - 1;
            if (adjacent || (last_ccc != 0 && last_ccc < cc)) {
                uint32_t comp = compose_pair(d[starter], c);
                if (comp) {
                    d[starter] = comp;
                    continue;
                }
            }
        }
        if (cc == 0) starter = (long)o;
        last_ccc = cc;
        d[o++] = c;
    }
    *out = d;
    *n_out = o;
    return 0;
}

/* ---- sanitize ------------------------------------------------------------- */

int tok_sanitize(const char *text, size_t len, bool nfc, xuan_buf *out) {
    const uint8_t *s = (const uint8_t *)text;
    bool valid = true, need_nfc = false;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int l = xuan_utf8_len(s + i, len - i);
        if (l == 0) {
            valid = false;
            break;
        }
        if (nfc && !need_nfc) {
            uint32_t cp;
            tok_utf8_next(s + i, &cp);
            if (tok_flags(cp) & UF_NFC) need_nfc = true;
        }
        i += (size_t)l;
    }
    if (valid && !need_nfc) return 0;

    uint32_t *cps = xuan_alloc_array(len + 1, sizeof(uint32_t));
    if (!cps) return -1;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t used;
        cps[n++] = tok_utf8_decode_lax(s + i, len - i, &used);
        i += used;
    }
    uint32_t *res = cps;
    size_t n_res = n;
    if (nfc) {
        if (tok_nfc(cps, n, &res, &n_res) != 0) {
            xuan_free(cps);
            return -1;
        }
        xuan_free(cps);
    }
    xuan_buf_reset(out);
    int rc = 0;
    for (size_t i = 0; i < n_res && rc == 0; i++) {
        uint8_t b[4];
        int l = tok_utf8_put(res[i], b);
        rc = xuan_buf_append(out, b, (size_t)l);
    }
    if (rc == 0 && n_res == 0) rc = xuan_buf_append(out, "", 0);
    xuan_free(res);
    return rc == 0 ? 1 : -1;
}
