/* internal.h — what the eval room's files share and nobody else needs. */
#ifndef XUAN_EVAL_INTERNAL_H
#define XUAN_EVAL_INTERNAL_H

#include "xuan/eval.h"

/* Python's str.strip() (Unicode white space, as str.isspace) of s[0..n):
 * the kept span is [*b, *e).  math_equiv.c. */
void xuan_eval_py_strip(const char *s, size_t n, size_t *b, size_t *e);

/* ---- parquet.c: a strict reader for the parquet files benchmarks ship ---- */

/* Bounds; all are required (the dataset loader passes its own). */
typedef struct xuan_parquet_opts {
    uint64_t max_bytes; /* every decompressed page and every cell together */
    size_t max_field;   /* one cell's text */
    size_t max_rows;    /* rows in the file */
    size_t max_page;    /* one page, decompressed */
} xuan_parquet_opts;

/* One cell: a string as itself, a number in decimal, null as "", a list as
 * its compact JSON array text (json = true).  Owned by the reader: copy
 * what you keep. */
typedef struct xuan_parquet_cell {
    char *text;
    size_t len;
    bool json;
} xuan_parquet_cell;

/* Called once per row (row is 1-based) with the top-level column names and
 * the row's cells; a non-zero return stops the read and is returned. */
typedef int (*xuan_parquet_row_fn)(void *ctx, size_t n_cols, const char *const *names,
                                   const xuan_parquet_cell *cells, uint64_t row);

/* Reads a whole parquet file held in memory.  Errors are one line,
 * "NAME: column 'C': FEATURE" for what is not supported (a codec, an
 * encoding, a physical type, nesting), "NAME: ..." for what is malformed:
 * XUAN_ERR_FORMAT, or XUAN_ERR_NOMEM. */
int xuan_parquet_read(const char *name, const uint8_t *data, size_t size, const xuan_parquet_opts *o,
                      xuan_parquet_row_fn fn, void *ctx, xuan_error *err);

#endif
