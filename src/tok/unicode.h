/*
 * tok/unicode.h — what the tokenizer needs to know about code points:
 * category flags for the pre-tokenizer scanners, llama.cpp-compatible
 * decoding of (possibly invalid) UTF-8, and NFC normalization.
 * Private to the tok room; the tables are generated (gen_unicode.py).
 */
#ifndef XUAN_TOK_UNICODE_H
#define XUAN_TOK_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xuan/base.h"

enum {
    UF_L = 1,    /* \p{L} */
    UF_N = 2,    /* \p{N} */
    UF_P = 4,    /* \p{P} */
    UF_S = 8,    /* \p{S} */
    UF_M = 16,   /* \p{M} */
    UF_WS = 32,  /* \s: the White_Space property */
    UF_NFC = 64, /* may change under NFC or compose with a neighbour */
};

typedef struct xuan_tok_decomp {
    uint32_t cp, off, len;
} xuan_tok_decomp;
typedef struct xuan_tok_compose {
    uint32_t first, second, composite;
} xuan_tok_compose;

extern const char xuan_tok_unicode_version[];
extern const uint16_t xuan_tok_ucd_index[0x1100];
extern const uint16_t xuan_tok_ucd_blocks[][256];
extern const xuan_tok_decomp xuan_tok_decomps[];
extern const uint32_t xuan_tok_n_decomps;
extern const uint32_t xuan_tok_decomp_pool[];
extern const xuan_tok_compose xuan_tok_composes[];
extern const uint32_t xuan_tok_n_composes;

static inline uint16_t tok_ucd(uint32_t cp) {
    if (cp >= 0x110000) return 0;
    return xuan_tok_ucd_blocks[xuan_tok_ucd_index[cp >> 8]][cp & 0xff];
}
static inline unsigned tok_flags(uint32_t cp) { return tok_ucd(cp) & 0xff; }
static inline unsigned tok_ccc(uint32_t cp) { return tok_ucd(cp) >> 8; }

/* Decodes one code point at s[0..n) (n >= 1) the way llama.cpp does
 * (unicode_cpt_from_utf8): the length comes from the lead byte, only the
 * continuation bytes are checked, overlong forms and surrogates are let
 * through.  A bad sequence yields U+FFFD and consumes one byte.  Values
 * above U+10FFFF (which llama.cpp cannot re-encode) also become U+FFFD. */
uint32_t tok_utf8_decode_lax(const uint8_t *s, size_t n, size_t *used);

/* Decodes a buffer produced by tok_sanitize (every sequence well formed,
 * surrogates allowed) without checks.  Returns the byte length. */
static inline int tok_utf8_next(const uint8_t *s, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xe0) { *cp = ((uint32_t)(c & 0x1f) << 6) | (s[1] & 0x3f); return 2; }
    if (c < 0xf0) {
        *cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        return 3;
    }
    *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
          ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
    return 4;
}

/* Encodes any cp <= 0x10FFFF, surrogates included (as llama.cpp does). */
int tok_utf8_put(uint32_t cp, uint8_t out[4]);

/* Rewrites `text` into `out` so that the scanners can trust it: invalid
 * sequences become U+FFFD as in llama.cpp, and with `nfc` the result is in
 * Normalization Form C.  When nothing needs to change, returns 0 and leaves
 * out empty (the caller keeps using the input); otherwise returns 1 with out
 * holding the new text; -1 when out of memory. */
int tok_sanitize(const char *text, size_t len, bool nfc, xuan_buf *out);

/* NFC of a code point sequence, in place into `out` (which may grow).
 * Exposed for tests. */
int tok_nfc(const uint32_t *cps, size_t n, uint32_t **out, size_t *n_out);

#endif
