/*
 * xuan_tok_encode: cut the text at special tokens, then hand each plain
 * fragment to the vocabulary's encoder (byte-level BPE after sanitizing and
 * splitting, or SentencePiece after escaping spaces).
 */
#include <string.h>

#include "tok/internal.h"
#include "tok/unicode.h"

typedef struct enc {
    const xuan_tok *t;
    xuan_tok_ids *out;
    tok_bpe_session *bpe;
    xuan_buf scratch;
    bool prev_special; /* SentencePiece: prefix the next fragment with a space */
} enc;

static int bpe_piece(void *ctx, const char *text, size_t start, size_t len) {
    return tok_bpe_encode_piece(ctx, text + start, len);
}

static int encode_fragment(enc *e, const char *text, size_t len) {
    const xuan_tok *t = e->t;
    if (len == 0) return 0;
    if (t->kind == XUAN_TOK_SPM) {
        xuan_buf_reset(&e->scratch);
        int rc = 0;
        if (t->add_space_prefix && e->prev_special) rc = xuan_buf_append(&e->scratch, "\xe2\x96\x81", 3);
        size_t from = 0;
        for (size_t i = 0; i < len && rc == 0; i++) {
            if (text[i] != ' ') continue;
            rc = xuan_buf_append(&e->scratch, text + from, i - from);
            if (rc == 0) rc = xuan_buf_append(&e->scratch, "\xe2\x96\x81", 3);
            from = i + 1;
        }
        if (rc == 0) rc = xuan_buf_append(&e->scratch, text + from, len - from);
        e->prev_special = false;
        return rc ? XUAN_ERR_NOMEM : tok_spm_encode(t, e->scratch.data, e->scratch.len, e->out);
    }
    if (!e->bpe && !(e->bpe = tok_bpe_session_new(t, e->out))) return XUAN_ERR_NOMEM;
    int s = tok_sanitize(text, len, t->nfc, &e->scratch);
    if (s < 0) return XUAN_ERR_NOMEM;
    if (s == 1) {
        text = e->scratch.data;
        len = e->scratch.len;
    }
    if (t->raw_utf8) { /* gemma4: spaces written U+2581 (llama.cpp's escape_whitespaces) */
        xuan_buf esc = {0};
        int rc = 0;
        size_t from = 0;
        for (size_t i = 0; i < len && rc == 0; i++) {
            if (text[i] != ' ') continue;
            rc = xuan_buf_append(&esc, text + from, i - from);
            if (rc == 0) rc = xuan_buf_append(&esc, "\xe2\x96\x81", 3);
            from = i + 1;
        }
        if (rc == 0) rc = xuan_buf_append(&esc, text + from, len - from);
        if (rc == 0) rc = tok_pre_split(t, esc.data, esc.len, bpe_piece, e->bpe);
        xuan_buf_free(&esc);
        return rc ? XUAN_ERR_NOMEM : 0;
    }
    return tok_pre_split(t, text, len, bpe_piece, e->bpe);
}

/* isspace() in the C locale, as llama.cpp uses for lstrip/rstrip */
static bool is_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The special token that starts at text[pos], longest first; -1 if none. */
static int32_t special_at(const xuan_tok *t, const tok_special_index *x, const char *text,
                          size_t len, size_t pos) {
    uint8_t b = (uint8_t)text[pos];
    for (uint32_t k = x->first[b]; k < x->first[b + 1]; k++) {
        int32_t id = x->ids[k];
        uint32_t n = t->len[id];
        if (n <= len - pos && memcmp(text + pos, t->pool + t->off[id], n) == 0) return id;
    }
    return -1;
}

int xuan_tok_encode(const xuan_tok *t, const char *text, size_t len, uint32_t flags,
                    xuan_tok_ids *out, xuan_error *err) {
    size_t n0 = out->n;
    bool parse = (flags & XUAN_TOK_PARSE_SPECIAL) != 0, add = (flags & XUAN_TOK_ADD_SPECIAL) != 0;
    enc e = {.t = t, .out = out, .prev_special = true};
    int rc = 0;
    if (add && t->add_bos) rc = tok_ids_push(out, t->bos);
    size_t frag = 0;
    const tok_special_index *x = parse ? &t->specials : &t->user_specials;
    for (size_t pos = 0; pos < len && rc == 0 && x->n > 0;) {
        uint8_t b = (uint8_t)text[pos];
        if (x->first[b] == x->first[b + 1]) {
            pos++;
            continue;
        }
        int32_t id = special_at(t, x, text, len, pos);
        if (id < 0) {
            pos++;
            continue;
        }
        size_t left_end = pos;
        if (t->strip[id] & TOK_LSTRIP)
            while (left_end > frag && is_space((uint8_t)text[left_end - 1])) left_end--;
        rc = encode_fragment(&e, text + frag, left_end - frag);
        if (rc == 0) rc = tok_ids_push(out, id);
        e.prev_special = true;
        pos += t->len[id];
        if (t->strip[id] & TOK_RSTRIP)
            while (pos < len && is_space((uint8_t)text[pos])) pos++;
        frag = pos;
    }
    if (rc == 0) rc = encode_fragment(&e, text + frag, len - frag);
    if (rc == 0 && add && t->add_eos) rc = tok_ids_push(out, t->eos);
    tok_bpe_session_free(e.bpe);
    xuan_buf_free(&e.scratch);
    if (rc) {
        out->n = n0;
        return xuan_fail(err, XUAN_ERR_NOMEM, "tokenize: out of memory on %zu bytes of text", len);
    }
    return 0;
}
