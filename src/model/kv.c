/*
 * kv.c — which cache cell holds which sequence's position (internal.h).
 *
 * The K and V rows themselves live in the context (forward.c); this file
 * keeps the two maps that say where they are: cell -> (position, set of
 * sequences) and, per sequence, position -> cell.  A prefix copied from one
 * sequence to another (xuan_ctx_seq_cp) shares cells: the cell's sequence
 * set grows, nothing is recomputed or duplicated, and a cell is free again
 * only when its last sequence lets go of it.
 */
#include "model/internal.h"

#include <string.h>

int xuan_kv_init(kv_cells *kv, uint32_t n_cells, uint32_t n_pos, uint32_t n_seq) {
    memset(kv, 0, sizeof *kv);
    kv->n_cells = n_cells;
    kv->n_pos = n_pos;
    kv->n_seq = n_seq;
    kv->cell_pos = xuan_malloc((size_t)n_cells * sizeof *kv->cell_pos);
    kv->cell_seqs = xuan_calloc(n_cells, sizeof *kv->cell_seqs);
    kv->cell_tok = xuan_calloc(n_cells, sizeof *kv->cell_tok);
    kv->pos_max = xuan_malloc((size_t)n_seq * sizeof *kv->pos_max);
    uint64_t map = 0;
    if (xuan_mul_ok((uint64_t)n_pos * n_seq, sizeof *kv->pos_cell, &map) && map <= SIZE_MAX)
        kv->pos_cell = xuan_malloc((size_t)map);
    if (!kv->cell_pos || !kv->cell_seqs || !kv->cell_tok || !kv->pos_max || !kv->pos_cell) {
        xuan_kv_free(kv);
        return -1;
    }
    memset(kv->cell_pos, 0xff, (size_t)n_cells * sizeof *kv->cell_pos); /* -1 */
    memset(kv->pos_cell, 0xff, (size_t)map);
    memset(kv->pos_max, 0xff, (size_t)n_seq * sizeof *kv->pos_max);
    return 0;
}

void xuan_kv_free(kv_cells *kv) {
    xuan_free(kv->cell_pos);
    xuan_free(kv->cell_seqs);
    xuan_free(kv->cell_tok);
    xuan_free(kv->pos_cell);
    xuan_free(kv->pos_max);
    memset(kv, 0, sizeof *kv);
}

int32_t xuan_kv_find_free(kv_cells *kv) {
    if (kv->n_used == kv->n_cells) return -1;
    for (uint32_t i = 0; i < kv->n_cells; i++) {
        uint32_t cell = (kv->head + i) % kv->n_cells;
        if (kv->cell_pos[cell] < 0) return (int32_t)cell;
    }
    XUAN_ASSERT(!"n_used disagrees with the cells");
    return -1;
}

void xuan_kv_assign(kv_cells *kv, int32_t cell, int32_t seq, int32_t pos, int32_t tok) {
    XUAN_ASSERT(cell >= 0 && (uint32_t)cell < kv->n_cells && kv->cell_pos[cell] < 0);
    XUAN_ASSERT(pos >= 0 && (uint32_t)pos < kv->n_pos && seq >= 0 && (uint32_t)seq < kv->n_seq);
    int32_t *map = kv->pos_cell + (size_t)seq * kv->n_pos;
    XUAN_ASSERT(map[pos] < 0);
    kv->cell_pos[cell] = pos;
    kv->cell_seqs[cell] = 1ull << seq;
    kv->cell_tok[cell] = tok;
    map[pos] = cell;
    if (pos > kv->pos_max[seq]) kv->pos_max[seq] = pos;
    kv->n_used++;
    kv->head = ((uint32_t)cell + 1) % kv->n_cells;
}

/* seq lets go of the cell at pos (if any); the cell is freed with its last sequence. */
static void release(kv_cells *kv, int32_t seq, int32_t pos) {
    int32_t *map = kv->pos_cell + (size_t)seq * kv->n_pos;
    const int32_t cell = map[pos];
    if (cell < 0) return;
    map[pos] = -1;
    kv->cell_seqs[cell] &= ~(1ull << seq);
    if (kv->cell_seqs[cell] == 0) {
        kv->cell_pos[cell] = -1;
        kv->n_used--;
        if ((uint32_t)cell < kv->head) kv->head = (uint32_t)cell; /* refill from the front, as llama.cpp */
    }
}

static void clamp(const kv_cells *kv, int32_t *p0, int32_t *p1) {
    if (*p0 < 0) *p0 = 0;
    if (*p1 < 0 || (uint32_t)*p1 > kv->n_pos) *p1 = (int32_t)kv->n_pos;
}

static void refresh_max(kv_cells *kv, int32_t seq) {
    const int32_t *map = kv->pos_cell + (size_t)seq * kv->n_pos;
    int32_t p = kv->pos_max[seq];
    while (p >= 0 && map[p] < 0) p--;
    kv->pos_max[seq] = p;
}

void xuan_kv_seq_rm(kv_cells *kv, int32_t seq, int32_t p0, int32_t p1) {
    clamp(kv, &p0, &p1);
    const int32_t s0 = seq < 0 ? 0 : seq, s1 = seq < 0 ? (int32_t)kv->n_seq : seq + 1;
    for (int32_t s = s0; s < s1; s++) {
        const int32_t top = kv->pos_max[s] + 1 < p1 ? kv->pos_max[s] + 1 : p1;
        for (int32_t p = p0; p < top; p++) release(kv, s, p);
        refresh_max(kv, s);
    }
}

void xuan_kv_seq_cp(kv_cells *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
    if (src == dst) return;
    clamp(kv, &p0, &p1);
    const int32_t *from = kv->pos_cell + (size_t)src * kv->n_pos;
    int32_t *to = kv->pos_cell + (size_t)dst * kv->n_pos;
    const int32_t top = kv->pos_max[src] + 1 < p1 ? kv->pos_max[src] + 1 : p1;
    for (int32_t p = p0; p < p1 && p <= kv->pos_max[dst]; p++) release(kv, dst, p);
    for (int32_t p = p0; p < top; p++) {
        const int32_t cell = from[p];
        if (cell < 0) continue;
        to[p] = cell;
        kv->cell_seqs[cell] |= 1ull << dst;
        if (p > kv->pos_max[dst]) kv->pos_max[dst] = p;
    }
    refresh_max(kv, dst);
}
