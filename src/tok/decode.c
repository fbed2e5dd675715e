/*
 * Ids back to text: pieces, whole-sequence decoding, and the streaming
 * decoder that holds back an incomplete UTF-8 character until the token
 * that completes it arrives.
 */
#include <string.h>

#include "tok/internal.h"

static const char *piece_of(const xuan_tok *t, int32_t id, bool special, size_t *n) {
    *n = 0;
    if (id < 0 || (uint32_t)id >= t->n) return "";
    uint8_t ty = t->types[id];
    if (!special && (ty == XUAN_TOK_TYPE_CONTROL || ty == XUAN_TOK_TYPE_UNKNOWN)) return "";
    *n = t->piece_len[id];
    return t->piece_pool + t->piece_off[id];
}

size_t xuan_tok_piece(const xuan_tok *t, int32_t id, bool special, char *buf, size_t cap) {
    size_t n;
    const char *p = piece_of(t, id, special, &n);
    memcpy(buf, p, n < cap ? n : cap);
    return n;
}

int xuan_tok_decode(const xuan_tok *t, const int32_t *ids, size_t n, uint32_t flags, xuan_buf *out) {
    bool special = (flags & XUAN_TOK_DECODE_SPECIAL) != 0;
    bool strip = t->kind == XUAN_TOK_SPM && t->add_space_prefix;
    if (xuan_buf_append(out, "", 0)) return XUAN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *p = piece_of(t, ids[i], special, &len);
        if (strip && len) { /* the dummy prefix: one space before the first text */
            if (p[0] == ' ') p++, len--;
            strip = false;
        }
        if (xuan_buf_append(out, p, len)) return XUAN_ERR_NOMEM;
    }
    return 0;
}

/* ---- streaming ------------------------------------------------------------ */

void xuan_tok_stream_init(xuan_tok_stream *s, const xuan_tok *t, uint32_t flags) {
    memset(s, 0, sizeof *s);
    s->tok = t;
    s->flags = flags;
}

static size_t seq_len(uint8_t c) {
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return 2;
    if (c >= 0xe0 && c <= 0xef) return 3;
    if (c >= 0xf0 && c <= 0xf4) return 4;
    return 0; /* a continuation byte or a byte that never starts UTF-8 */
}

/* True when s[0..n), n < l = seq_len(s[0]), can still become a valid
 * l-byte character: completed with the smallest bytes the lead allows
 * (E0 needs A0.., F0 needs 90..), it must be valid UTF-8. */
static bool valid_prefix(const uint8_t *s, size_t n, size_t l) {
    uint8_t t[4];
    memcpy(t, s, n);
    for (size_t k = n; k < l; k++) t[k] = 0x80;
    if (n == 1) t[1] = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
    return (size_t)xuan_utf8_len(t, l) == l;
}

/* Appends the complete characters of s[0..n) (invalid sequences as U+FFFD)
 * and returns how many bytes were used: the rest is a valid but incomplete
 * prefix of a character.  Stops early once `stop` bytes are used. */
static size_t emit_complete(const uint8_t *s, size_t n, size_t stop, xuan_buf *out, int *rc) {
    size_t i = 0;
    while (i < n && i < stop && *rc == 0) {
        size_t l = seq_len(s[i]);
        if (l == 0) {
            *rc = xuan_buf_append(out, "\xef\xbf\xbd", 3);
            i++;
            continue;
        }
        if (i + l > n) { /* incomplete: keep it if what is there could still be valid */
            if (valid_prefix(s + i, n - i, l)) return i;
            *rc = xuan_buf_append(out, "\xef\xbf\xbd", 3);
            i++;
            continue;
        }
        if ((size_t)xuan_utf8_len(s + i, n - i) == l) {
            *rc = xuan_buf_append(out, s + i, l);
            i += l;
        } else {
            *rc = xuan_buf_append(out, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    return i;
}

int xuan_tok_stream_push(xuan_tok_stream *s, int32_t id, xuan_buf *out) {
    size_t n;
    const char *p = piece_of(s->tok, id, (s->flags & XUAN_TOK_DECODE_SPECIAL) != 0, &n);
    if (!s->started && n) {
        if (s->tok->kind == XUAN_TOK_SPM && s->tok->add_space_prefix && p[0] == ' ') p++, n--;
        s->started = true;
    }
    int rc = xuan_buf_append(out, "", 0);
    const uint8_t *u = (const uint8_t *)p;
    if (s->n_pend) {
        uint8_t tmp[8];
        size_t take = n < 4 ? n : 4, m = (size_t)s->n_pend;
        memcpy(tmp, s->pend, m);
        memcpy(tmp + m, u, take);
        size_t used = emit_complete(tmp, m + take, m, out, &rc);
        if (used < m) { /* still incomplete: the pending bytes and all of the piece */
            XUAN_ASSERT(take == n);
            memmove(s->pend, tmp + used, m + take - used);
            s->n_pend = (int)(m + take - used);
            return rc;
        }
        s->n_pend = 0;
        u += used - m;
        n -= used - m;
    }
    size_t used = emit_complete(u, n, n, out, &rc);
    memcpy(s->pend, u + used, n - used);
    s->n_pend = (int)(n - used);
    return rc;
}

int xuan_tok_stream_flush(xuan_tok_stream *s, xuan_buf *out) {
    int rc = xuan_buf_append(out, "", 0);
    if (s->n_pend && rc == 0) rc = xuan_buf_append(out, "\xef\xbf\xbd", 3);
    s->n_pend = 0;
    return rc;
}
