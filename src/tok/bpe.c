/*
 * Byte-level BPE: each piece from the pre-tokenizer starts as one token per
 * byte, then the adjacent pair with the lowest merge rank is merged, leftmost
 * first, until no pair has a merge (HF's BPE model; llama.cpp does the same
 * on strings).  Pairs are looked up by id in a hash, so no strings are built.
 *
 * Short pieces (almost all of them) use a plain rescan, which is fastest
 * under ~24 symbols; longer ones a binary heap over a linked list, so a
 * 10 MB word without spaces stays O(n log n).  A per-call cache maps pieces
 * seen before to their ids (prose repeats its words).
 */
#include <string.h>

#include "tok/internal.h"

#define CACHE_SLOTS (1u << 16)
#define CACHE_MAX_WORD 48
#define NAIVE_MAX 24

typedef struct cache_slot {
    uint64_t hash;
    uint32_t word_off, word_len; /* in cache_bytes */
    uint32_t ids_off, n_ids;     /* in cache_ids */
} cache_slot;

typedef struct heap_item {
    uint32_t rank, pos;
    int32_t left, right;
} heap_item;

struct tok_bpe_session {
    const xuan_tok *t;
    xuan_tok_ids *out;
    int32_t *ids, *prev, *next;
    heap_item *heap;
    size_t cap, heap_n;
    cache_slot *cache;
    uint32_t cache_used;
    xuan_buf cache_bytes;
    xuan_tok_ids cache_ids;
};

int tok_ids_push(xuan_tok_ids *v, int32_t id) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *p = xuan_realloc(v->ids, cap * sizeof *p);
        if (!p) return XUAN_ERR_NOMEM;
        v->ids = p, v->cap = cap;
    }
    v->ids[v->n++] = id;
    return 0;
}

void xuan_tok_ids_free(xuan_tok_ids *v) {
    xuan_free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

tok_bpe_session *tok_bpe_session_new(const xuan_tok *t, xuan_tok_ids *out) {
    tok_bpe_session *s = xuan_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->t = t;
    s->out = out;
    s->cache = xuan_calloc(CACHE_SLOTS, sizeof *s->cache);
    if (!s->cache) {
        xuan_free(s);
        return NULL;
    }
    return s;
}

void tok_bpe_session_free(tok_bpe_session *s) {
    if (!s) return;
    xuan_free(s->ids);
    xuan_free(s->prev);
    xuan_free(s->next);
    xuan_free(s->heap);
    xuan_free(s->cache);
    xuan_buf_free(&s->cache_bytes);
    xuan_tok_ids_free(&s->cache_ids);
    xuan_free(s);
}

static int reserve(tok_bpe_session *s, size_t n) {
    if (n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    int32_t *a = xuan_realloc(s->ids, cap * sizeof(int32_t));
    if (a) s->ids = a;
    int32_t *b = xuan_realloc(s->prev, cap * sizeof(int32_t));
    if (b) s->prev = b;
    int32_t *c = xuan_realloc(s->next, cap * sizeof(int32_t));
    if (c) s->next = c;
    heap_item *h = xuan_realloc(s->heap, cap * 2 * sizeof(heap_item));
    if (h) s->heap = h;
    if (!a || !b || !c || !h) return XUAN_ERR_NOMEM;
    s->cap = cap;
    return 0;
}

/* ---- heap of candidate merges, ordered by (rank, position) ---- */

static inline bool item_less(const heap_item *a, const heap_item *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(tok_bpe_session *s, heap_item it) {
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(&it, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = it;
}

static heap_item heap_pop(tok_bpe_session *s) {
    heap_item top = s->heap[0], last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && item_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!item_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    s->heap[i] = last;
    return top;
}

static void try_pair(tok_bpe_session *s, int32_t l) {
    if (l < 0 || s->next[l] < 0) return;
    int32_t r = s->next[l];
    uint32_t rank;
    int32_t res;
    if (tok_merge_find(s->t, s->ids[l], s->ids[r], &rank, &res))
        heap_push(s, (heap_item){rank, (uint32_t)l, s->ids[l], s->ids[r]});
    (void)res;
}

/* Merges ids[0..m) in place; returns the new count. */
static size_t merge_heap(tok_bpe_session *s, size_t m) {
    for (size_t i = 0; i < m; i++) {
        s->prev[i] = (int32_t)i - 1;
        s->next[i] = i + 1 < m ? (int32_t)i + 1 : -1;
    }
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < m; i++) try_pair(s, (int32_t)i);
    while (s->heap_n) {
        heap_item it = heap_pop(s);
        int32_t l = (int32_t)it.pos, r = s->next[l];
        if (s->ids[l] != it.left || r < 0 || s->ids[r] != it.right) continue; /* stale */
        uint32_t rank;
        int32_t res;
        XUAN_ASSERT(tok_merge_find(s->t, it.left, it.right, &rank, &res));
        s->ids[l] = res;
        s->ids[r] = -1;
        s->next[l] = s->next[r];
        if (s->next[r] >= 0) s->prev[s->next[r]] = l;
        try_pair(s, s->prev[l]);
        try_pair(s, l);
    }
    size_t o = 0;
    for (int32_t i = 0; i >= 0; i = s->next[i]) s->ids[o++] = s->ids[i];
    return o;
}

static size_t merge_naive(tok_bpe_session *s, size_t m) {
    int32_t *ids = s->ids;
    while (m > 1) {
        uint32_t best = UINT32_MAX, rank;
        size_t bi = 0;
        int32_t bres = -1, res;
        for (size_t i = 0; i + 1 < m; i++) {
            if (tok_merge_find(s->t, ids[i], ids[i + 1], &rank, &res) && rank < best) {
                best = rank, bi = i, bres = res;
            }
        }
        if (bres < 0) break;
        ids[bi] = bres;
        memmove(ids + bi + 1, ids + bi + 2, (m - bi - 2) * sizeof *ids);
        m--;
    }
    return m;
}

static int emit(tok_bpe_session *s, const int32_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (tok_ids_push(s->out, ids[i])) return XUAN_ERR_NOMEM;
    return 0;
}

/* gemma4's pieces (raw_utf8): one symbol per UTF-8 character (its length
 * read from the lead byte, as llama.cpp's unicode_len_utf8), the token of
 * that character or, when the vocabulary lacks it, a marker -2 - offset
 * that no merge matches; after the merges a marker becomes the <0xNN>
 * tokens of its character's bytes.  A run of newlines that is a token is
 * taken whole (llama.cpp's fix for Gemma 4). */
static size_t utf8_len_lead(uint8_t c) {
    static const uint8_t lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[c >> 4];
}

static int encode_raw_utf8(tok_bpe_session *s, const char *text, size_t len) {
    const xuan_tok *t = s->t;
    size_t nl = 0;
    while (nl < len && text[nl] == '\n') nl++;
    if (nl == len) {
        int32_t id = tok_map_find(t, &t->by_text, false, text, len);
        if (id >= 0) return tok_ids_push(s->out, id);
    }
    if (reserve(s, len)) return XUAN_ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len_lead((uint8_t)text[i]);
        if (n > len - i) n = len - i;
        int32_t id = tok_map_find(t, &t->by_text, false, text + i, n);
        s->ids[m++] = id >= 0 ? id : -2 - (int32_t)i;
        i += n;
    }
    m = m <= NAIVE_MAX ? merge_naive(s, m) : merge_heap(s, m);
    for (size_t k = 0; k < m; k++) {
        if (s->ids[k] >= 0) {
            if (tok_ids_push(s->out, s->ids[k])) return XUAN_ERR_NOMEM;
            continue;
        }
        const size_t at = (size_t)(-2 - s->ids[k]);
        size_t n = utf8_len_lead((uint8_t)text[at]);
        if (n > len - at) n = len - at;
        for (size_t b = 0; b < n; b++) {
            const int32_t id = t->byte_tok[(uint8_t)text[at + b]];
            if (id >= 0 && tok_ids_push(s->out, id)) return XUAN_ERR_NOMEM;
        }
    }
    return 0;
}

int tok_bpe_encode_piece(tok_bpe_session *s, const char *text, size_t len) {
    const xuan_tok *t = s->t;
    if (len == 0) return 0;
    if (t->raw_utf8) return encode_raw_utf8(s, text, len);
    const uint8_t *w = (const uint8_t *)text;
    if (len == 1) return t->byte_tok[w[0]] >= 0 ? tok_ids_push(s->out, t->byte_tok[w[0]]) : 0;

    cache_slot *slot = NULL;
    uint64_t h = 0;
    if (len <= CACHE_MAX_WORD) {
        h = tok_hash(text, len) | 1;
        uint32_t i = (uint32_t)h & (CACHE_SLOTS - 1);
        for (;;) {
            cache_slot *c = &s->cache[i];
            if (c->hash == 0) {
                slot = c;
                break;
            }
            if (c->hash == h && c->word_len == len &&
                memcmp(s->cache_bytes.data + c->word_off, text, len) == 0)
                return emit(s, s->cache_ids.ids + c->ids_off, c->n_ids);
            i = (i + 1) & (CACHE_SLOTS - 1);
        }
        if (s->cache_used >= CACHE_SLOTS / 2) slot = NULL; /* full: stop caching */
    }

    if (t->ignore_merges) { /* a piece that is a token is taken whole (Llama 3) */
        int32_t id = tok_map_find(t, &t->by_bytes, true, text, len);
        if (id >= 0) {
            if (tok_ids_push(s->out, id)) return XUAN_ERR_NOMEM;
            goto remember_one;
        }
    }
    if (reserve(s, len)) return XUAN_ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < len; i++)
        if (t->byte_tok[w[i]] >= 0) s->ids[m++] = t->byte_tok[w[i]];
    m = m <= NAIVE_MAX ? merge_naive(s, m) : merge_heap(s, m);
    if (emit(s, s->ids, m)) return XUAN_ERR_NOMEM;
    if (slot) {
        size_t ids_off = s->cache_ids.n, word_off = s->cache_bytes.len;
        if (xuan_buf_append(&s->cache_bytes, text, len)) return 0;
        for (size_t i = 0; i < m; i++)
            if (tok_ids_push(&s->cache_ids, s->ids[i])) return 0;
        *slot = (cache_slot){h, (uint32_t)word_off, (uint32_t)len, (uint32_t)ids_off, (uint32_t)m};
        s->cache_used++;
    }
    return 0;
remember_one:
    if (slot) {
        size_t ids_off = s->cache_ids.n, word_off = s->cache_bytes.len;
        if (xuan_buf_append(&s->cache_bytes, text, len)) return 0;
        if (tok_ids_push(&s->cache_ids, s->out->ids[s->out->n - 1])) return 0;
        *slot = (cache_slot){h, (uint32_t)word_off, (uint32_t)len, (uint32_t)ids_off, 1};
        s->cache_used++;
    }
    return 0;
}
