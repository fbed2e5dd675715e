/*
 * SentencePiece (BPE flavour, as in Llama 2 / Mistral / Phi-3 GGUFs): start
 * from one symbol per UTF-8 character, repeatedly merge the adjacent pair
 * whose concatenation is a token with the highest score (leftmost on ties),
 * then emit each symbol's token, or its bytes as <0xNN> tokens when it is
 * not one (byte fallback).  This is llama.cpp's llm_tokenizer_spm, which
 * matches HF's ids on every case in ../shared/vocab.
 */
#include <string.h>

#include "tok/internal.h"

typedef struct sym {
    uint32_t start, n;
    int32_t prev, next;
} sym;

typedef struct bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} bigram;

typedef struct spm_heap {
    bigram *v;
    size_t n, cap;
} spm_heap;

static inline bool bigram_before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(spm_heap *h, bigram b) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *v = xuan_realloc(h->v, cap * sizeof *v);
        if (!v) return XUAN_ERR_NOMEM;
        h->v = v, h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return 0;
}

static bigram heap_pop(spm_heap *h) {
    bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && bigram_before(&h->v[c + 1], &h->v[c])) c++;
        if (!bigram_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = last;
    return top;
}

static int try_bigram(const xuan_tok *t, const char *text, const sym *s, int32_t l, int32_t r,
                      spm_heap *h) {
    if (l < 0 || r < 0) return 0;
    uint32_t size = s[l].n + s[r].n;
    int32_t id = tok_map_find(t, &t->by_text, false, text + s[l].start, size);
    if (id < 0) return 0;
    return heap_push(h, (bigram){t->scores[id], l, r, size});
}

static size_t utf8_len_lead(uint8_t c) {
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

int tok_spm_encode(const xuan_tok *t, const char *text, size_t len, xuan_tok_ids *out) {
    if (len == 0) return 0;
    if (len > INT32_MAX) return XUAN_ERR_NOMEM;
    sym *s = xuan_alloc_array(len, sizeof *s);
    if (!s) return XUAN_ERR_NOMEM;
    size_t n = 0;
    for (size_t off = 0; off < len;) {
        size_t l = utf8_len_lead((uint8_t)text[off]);
        if (l > len - off) l = len - off;
        s[n] = (sym){(uint32_t)off, (uint32_t)l, (int32_t)n - 1, -1};
        if (n > 0) s[n - 1].next = (int32_t)n;
        n++;
        off += l;
    }
    spm_heap h = {0};
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++) rc = try_bigram(t, text, s, (int32_t)i - 1, (int32_t)i, &h);
    while (h.n && rc == 0) {
        bigram b = heap_pop(&h);
        sym *L = &s[b.left], *R = &s[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue; /* stale */
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) s[R->next].prev = b.left;
        rc = try_bigram(t, text, s, L->prev, b.left, &h);
        if (rc == 0) rc = try_bigram(t, text, s, b.left, L->next, &h);
    }
    for (int32_t i = 0; i >= 0 && rc == 0; i = s[i].next) {
        int32_t id = tok_map_find(t, &t->by_text, false, text + s[i].start, s[i].n);
        if (id >= 0) {
            rc = tok_ids_push(out, id);
            continue;
        }
        for (uint32_t k = 0; k < s[i].n && rc == 0; k++) {
            int32_t b = t->byte_tok[(uint8_t)text[s[i].start + k]];
            if (b < 0) b = t->unk; /* a vocabulary without byte tokens */
            if (b >= 0) rc = tok_ids_push(out, b);
        }
    }
    xuan_free(h.v);
    xuan_free(s);
    return rc;
}
