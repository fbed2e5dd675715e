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

/* Replaces invalid sequences by U+FFFD the way llama.cpp reads them. */
static int lax_copy(const uint8_t *s, size_t len, xuan_buf *out) {
    int rc = xuan_buf_append(out, "", 0);
    for (size_t i = 0; i < len && rc == 0;) {
        size_t used;
        uint8_t b[4];
        uint32_t cp = tok_utf8_decode_lax(s + i, len - i, &used);
        int l = tok_utf8_put(cp, b);
        rc = xuan_buf_append(out, b, (size_t)l);
        i += used;
    }
    return rc;
}

/* A code point after which nothing can reorder or compose with what came
 * before: a starter that NFC leaves alone and that is not the second half
 * of any composition. */
static inline bool nfc_boundary(uint32_t cp) {
    return cp < 0x300 || (tok_ucd(cp) & (UF_NFC | 0xff00)) == 0;
}

/* NFC of s[0..len) (decodable by tok_utf8_next) into out, normalizing only
 * the segments around code points that may change; everything else is
 * copied, so one accent in 10 MB costs a few bytes of work, not 10 MB. */
static int nfc_segments(const uint8_t *s, size_t len, xuan_buf *out) {
    int rc = xuan_buf_append(out, "", 0);
    size_t copied = 0, i = 0, last_boundary = 0;
    while (i < len && rc == 0) {
        uint32_t cp;
        int l = tok_utf8_next(s + i, &cp);
        if (cp < 0x80 || !(tok_flags(cp) & UF_NFC)) {
            if (nfc_boundary(cp)) last_boundary = i;
            i += (size_t)l;
            continue;
        }
        /* segment: from the last boundary to the next boundary after i */
        size_t start = last_boundary < copied ? copied : last_boundary, end = i + (size_t)l;
        while (end < len) {
            uint32_t c2;
            int l2 = tok_utf8_next(s + end, &c2);
            if (nfc_boundary(c2) && !(tok_flags(c2) & UF_NFC)) break;
            end += (size_t)l2;
        }
        rc = xuan_buf_append(out, s + copied, start - copied);
        size_t n = 0;
        uint32_t *cps = rc ? NULL : xuan_alloc_array(end - start + 1, sizeof(uint32_t));
        if (!cps) return -1;
        for (size_t k = start; k < end;) {
            k += (size_t)tok_utf8_next(s + k, &cps[n]);
            n++;
        }
        uint32_t *res;
        size_t m;
        if (tok_nfc(cps, n, &res, &m) != 0) {
            xuan_free(cps);
            return -1;
        }
        for (size_t k = 0; k < m && rc == 0; k++) {
            uint8_t b[4];
            rc = xuan_buf_append(out, b, (size_t)tok_utf8_put(res[k], b));
        }
        xuan_free(cps);
        xuan_free(res);
        copied = i = last_boundary = end;
    }
    if (rc == 0) rc = xuan_buf_append(out, s + copied, len - copied);
    return rc ? -1 : 0;
}

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
    xuan_buf_reset(out);
    if (valid) return nfc_segments(s, len, out) == 0 ? 1 : -1;
    if (!nfc) return lax_copy(s, len, out) == 0 ? 1 : -1;
    xuan_buf tmp = {0};
    int rc = lax_copy(s, len, &tmp);
    if (rc == 0) rc = nfc_segments((const uint8_t *)tmp.data, tmp.len, out);
    xuan_buf_free(&tmp);
    return rc == 0 ? 1 : -1;
}
