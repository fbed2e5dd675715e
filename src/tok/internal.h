/*
 * tok/internal.h — the inside of a xuan_tok, shared by the files of the tok
 * room (vocab.c builds it, pretok.c splits text, bpe.c / spm.c encode,
 * encode.c dispatches, decode.c turns ids back into text).
 */
#ifndef XUAN_TOK_INTERNAL_H
#define XUAN_TOK_INTERNAL_H

#include "xuan/tok.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Pre-tokenizers.  The first three have hand-written scanners (pretok.c);
 * the others are sequences of regexes run with PCRE2, each splitting the
 * pieces the previous one left ("Isolated" behaviour in HF terms). */
typedef enum tok_pre {
    TOK_PRE_NONE = 0, /* SentencePiece: no splitting */
    TOK_PRE_GPT2,
    TOK_PRE_LLAMA3,
    TOK_PRE_QWEN2,
    TOK_PRE_DEEPSEEK_LLM,
    TOK_PRE_DEEPSEEK_CODER,
    TOK_PRE_DEEPSEEK3,
    TOK_PRE_GPT4O,
    TOK_PRE_STARCODER,
    TOK_PRE_TEKKEN,
    TOK_PRE_QWEN35,
    TOK_PRE_GEMMA4, /* runs of newlines and runs of everything else (llama.cpp's "[^\n]+|[\n]+") */
} tok_pre;

#define TOK_MAX_REGEX 6
enum { TOK_RSTRIP = 1, TOK_LSTRIP = 2 };

/* Open-addressing hash from token text to id. */
typedef struct tok_text_map {
    uint32_t *slots; /* id + 1; 0 = empty */
    uint32_t mask;
} tok_text_map;

/* Open-addressing hash from a pair of ids to (rank, merged id); one slot
 * is 16 bytes so that a lookup touches one cache line. */
typedef struct tok_merge_slot {
    uint64_t key; /* (left << 32 | right) + 1; 0 = empty */
    uint32_t rank;
    int32_t result;
} tok_merge_slot;
typedef struct tok_merge_map {
    tok_merge_slot *slots;
    uint32_t mask;
} tok_merge_map;

/* Token ids sorted by first byte, then length descending; ids[first[b] ..
 * first[b+1]) start with byte b. */
typedef struct tok_special_index {
    int32_t *ids;
    uint32_t n;
    uint32_t first[257];
} tok_special_index;

struct xuan_tok {
    xuan_tok_kind kind;
    tok_pre pre;
    char pre_name[64];
    uint32_t n;
    char *pool;          /* all token texts, NUL-separated */
    uint32_t *off, *len; /* text of token i: pool + off[i], len[i] bytes */
    float *scores;
    uint8_t *types;
    /* decoded bytes of each token (xuan_tok_piece with special = true) */
    char *piece_pool;
    uint32_t *piece_off, *piece_len;

    tok_text_map by_text;  /* every token, by stored text */
    tok_text_map by_bytes; /* BPE: normal tokens by decoded bytes (ignore_merges) */
    tok_merge_map merges;
    int32_t byte_tok[256]; /* BPE: token of each single byte; SPM: <0xNN> */

    int32_t bos, eos, eot, eom, pad, unk;
    bool add_bos, add_eos, add_space_prefix, ignore_merges, nfc;
    /* gemma4 (tokenizer.ggml.model "gemma4"): BPE over the UTF-8 characters
     * of the text with spaces written U+2581, no byte-level alphabet; a
     * character the vocabulary lacks becomes its <0xNN> byte tokens */
    bool raw_utf8;

    /* special tokens that may be matched in text, by first byte: all of
     * them (PARSE_SPECIAL) and the user-defined ones (always matched) */
    tok_special_index specials, user_specials;
    int32_t *eog_ids;
    uint32_t n_eog;
    /* per token: TOK_RSTRIP / TOK_LSTRIP eat the white space after / before
     * a matched special token (HF's added-token rstrip/lstrip; GGUF has no
     * key for them, llama.cpp sets them by model name and so do we) */
    uint8_t *strip;

    pcre2_code *re[TOK_MAX_REGEX];
    int n_re;
};

/* Hash of a byte string (64-bit, good enough for open addressing). */
static inline uint64_t tok_hash(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)s[i] << (8 * i);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

int32_t tok_map_find(const xuan_tok *t, const tok_text_map *m, bool bytes, const char *s,
                     size_t n);

static inline bool tok_merge_find(const xuan_tok *t, int32_t a, int32_t b, uint32_t *rank,
                                  int32_t *res) {
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    uint32_t i = (uint32_t)(h >> 32) & t->merges.mask;
    for (;;) {
        const tok_merge_slot *sl = &t->merges.slots[i];
        uint64_t k = sl->key;
        if (k == key) {
            *rank = sl->rank;
            *res = sl->result;
            return true;
        }
        if (k == 0) return false;
        i = (i + 1) & t->merges.mask;
    }
}

/* ---- pre-tokenization (pretok.c) ---- */

/* A piece of text to encode: [start, start+len) bytes. */
typedef struct tok_span {
    size_t start, len;
} tok_span;

/* Called for each piece, in order; returns 0 or an error status. */
typedef int (*tok_piece_fn)(void *ctx, const char *text, size_t start, size_t len);

int tok_pre_compile(xuan_tok *t, xuan_error *err);
void tok_pre_free(xuan_tok *t);
/* Splits text (already sanitized: decodable by tok_utf8_next) into pieces. */
int tok_pre_split(const xuan_tok *t, const char *text, size_t len, tok_piece_fn fn, void *ctx);

/* ---- encoders ---- */

typedef struct tok_bpe_session tok_bpe_session;
tok_bpe_session *tok_bpe_session_new(const xuan_tok *t, xuan_tok_ids *out);
int tok_bpe_encode_piece(tok_bpe_session *s, const char *text, size_t len);
void tok_bpe_session_free(tok_bpe_session *s);

/* Encodes one SentencePiece fragment (already escaped: spaces are U+2581). */
int tok_spm_encode(const xuan_tok *t, const char *text, size_t len, xuan_tok_ids *out);

int tok_ids_push(xuan_tok_ids *v, int32_t id);

#endif
