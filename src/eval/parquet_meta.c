/*
 * parquet_meta.c — the Thrift compact protocol as parquet uses it: the
 * footer's FileMetaData (schema, row groups, column chunks) and the page
 * headers, read by field id with everything unknown skipped, bounded
 * (lists no longer than the bytes left, nesting 24 deep), every length
 * checked against the buffer.  parquet.c does the rest.
 *
 *   1. thrift     — varints, field headers, skipping
 *   2. metadata   — FileMetaData
 *   3. pages      — PageHeader and its three kinds
 */
#include "parquet_internal.h"

#include <string.h>

/* ---- 1. thrift ------------------------------------------------------------------ */

enum { T_STOP = 0, T_TRUE = 1, T_FALSE = 2, T_BYTE = 3, T_I16 = 4, T_I32 = 5, T_I64 = 6, T_DOUBLE = 7,
       T_BINARY = 8, T_LIST = 9, T_SET = 10, T_MAP = 11, T_STRUCT = 12 };
enum { MAX_DEPTH = 24 };

uint64_t xuan_pq_varint(rd *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) break;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = true;
    return 0;
}

static int64_t zigzag(rd *r) {
    uint64_t v = xuan_pq_varint(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A field header: its type (T_STOP at the end) and id. */
static int field(rd *r, int16_t *id) {
    if (r->p >= r->end) return r->bad = true, T_STOP;
    uint8_t b = *r->p++;
    int type = b & 0x0f;
    if (type == T_STOP) return T_STOP;
    int delta = b >> 4;
    if (delta) {
        *id = (int16_t)(*id + delta);
    } else {
        int64_t v = zigzag(r);
        if (v < INT16_MIN || v > INT16_MAX) r->bad = true;
        *id = (int16_t)v;
    }
    return type;
}

static void list_header(rd *r, int *elem, uint64_t *n) {
    *elem = T_STOP;
    if (r->p >= r->end) {
        r->bad = true;
        *n = 0;
        return;
    }
    uint8_t b = *r->p++;
    *elem = b & 0x0f;
    *n = b >> 4;
    if (*n == 15) *n = xuan_pq_varint(r);
    /* every element takes at least one byte (bools in lists are one byte each) */
    if (*n > (uint64_t)(r->end - r->p)) r->bad = true, *n = 0;
}

static void skip(rd *r, int type, int depth);

static void skip_struct(rd *r, int depth) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) skip(r, t, depth + 1);
}

static void skip(rd *r, int type, int depth) {
    if (depth > MAX_DEPTH) {
        r->bad = true;
        return;
    }
    switch (type) {
    case T_TRUE: case T_FALSE: break;
    case T_BYTE:
        if (r->p >= r->end) r->bad = true; else r->p++;
        break;
    case T_I16: case T_I32: case T_I64: xuan_pq_varint(r); break;
    case T_DOUBLE:
        if (r->end - r->p < 8) r->bad = true; else r->p += 8;
        break;
    case T_BINARY: {
        uint64_t n = xuan_pq_varint(r);
        if (n > (uint64_t)(r->end - r->p)) r->bad = true; else r->p += n;
        break;
    }
    case T_LIST: case T_SET: {
        int elem;
        uint64_t n;
        list_header(r, &elem, &n);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (elem == T_TRUE || elem == T_FALSE) { /* one byte each inside a list */
                if (r->p >= r->end) r->bad = true; else r->p++;
            } else {
                skip(r, elem, depth + 1);
            }
        }
        break;
    }
    case T_MAP: {
        uint64_t n = xuan_pq_varint(r);
        if (n == 0) break;
        if (r->p >= r->end || n > (uint64_t)(r->end - r->p)) {
            r->bad = true;
            break;
        }
        uint8_t kv = *r->p++;
        for (uint64_t i = 0; i < n && !r->bad; i++) skip(r, kv >> 4, depth + 1), skip(r, kv & 0x0f, depth + 1);
        break;
    }
    case T_STRUCT: skip_struct(r, depth); break;
    default: r->bad = true;
    }
}

/* An integer field whose declared type must be an integer type. */
static int64_t int_of(rd *r, int type) {
    if (type == T_I32 || type == T_I64 || type == T_I16) return zigzag(r);
    if (type == T_BYTE) {
        if (r->p >= r->end) return r->bad = true, 0;
        return (int8_t)*r->p++;
    }
    r->bad = true;
    return 0;
}

static bool bool_of(rd *r, int type) {
    if (type == T_TRUE) return true;
    if (type != T_FALSE) r->bad = true;
    return false;
}

/* A binary field: pointer into the buffer. */
static const uint8_t *bin_of(rd *r, int type, size_t *len) {
    *len = 0;
    if (type != T_BINARY) return r->bad = true, NULL;
    uint64_t n = xuan_pq_varint(r);
    if (n > (uint64_t)(r->end - r->p)) return r->bad = true, NULL;
    const uint8_t *s = r->p;
    r->p += n;
    *len = (size_t)n;
    return s;
}

static const char *const PT_NAMES[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                       "FIXED_LEN_BYTE_ARRAY"};
static const char *const CODEC_NAMES[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
static const char *const ENC_NAMES[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};


const char *xuan_pq_enc_name(int64_t e) { return e >= 0 && e < 10 ? ENC_NAMES[e] : "an unknown encoding"; }
const char *xuan_pq_codec_name(int64_t c) { return c >= 0 && c < 8 ? CODEC_NAMES[c] : "an unknown codec"; }
const char *xuan_pq_type_name(int64_t t) { return t >= 0 && t < 8 ? PT_NAMES[t] : "unknown"; }

/* ---- 2. metadata ---------------------------------------------------------------- */

void xuan_pq_meta_free(meta *m) {
    for (size_t i = 0; i < m->n_groups; i++) xuan_free(m->groups[i].cols);
    xuan_free(m->groups);
    xuan_free(m->schema);
    memset(m, 0, sizeof *m);
}

static void name_copy(char *dst, size_t cap, const uint8_t *s, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

static void read_schema_el(rd *r, schema_el *e) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        size_t n;
        const uint8_t *s;
        switch (id) {
        case 1: e->type = int_of(r, t), e->has_type = true; break;
        case 2: e->type_length = int_of(r, t); break;
        case 3: e->repetition = int_of(r, t), e->has_rep = true; break;
        case 4:
            s = bin_of(r, t, &n);
            if (s) {
                if (n >= MAX_NAME || memchr(s, 0, n) || !xuan_utf8_valid(s, n)) r->bad = true;
                else name_copy(e->name, sizeof e->name, s, n);
            }
            break;
        case 5: e->num_children = int_of(r, t), e->has_children = true; break;
        case 6: e->converted = int_of(r, t), e->has_converted = true; break;
        default: skip(r, t, 1);
        }
    }
}

static void read_col_meta(rd *r, chunk *c) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        switch (id) {
        case 1: c->type = int_of(r, t); break;
        case 3: {
            if (t != T_LIST) {
                r->bad = true;
                break;
            }
            int elem;
            uint64_t n;
            list_header(r, &elem, &n);
            if (n && elem != T_BINARY) r->bad = true;
            size_t at = 0;
            for (uint64_t i = 0; i < n && !r->bad; i++) {
                size_t len;
                const uint8_t *s = bin_of(r, T_BINARY, &len);
                if (!s) break;
                if (at + len + 2 >= sizeof c->path) {
                    r->bad = true;
                    break;
                }
                if (i) c->path[at++] = '.';
                memcpy(c->path + at, s, len);
                at += len;
                c->path[at] = 0;
            }
            break;
        }
        case 4: c->codec = int_of(r, t); break;
        case 5: c->num_values = int_of(r, t); break;
        case 7: c->total_compressed = int_of(r, t); break;
        case 9: c->data_page_offset = int_of(r, t); break;
        case 11: c->dict_page_offset = int_of(r, t), c->has_dict = true; break;
        default: skip(r, t, 1);
        }
    }
}

static void read_chunk(rd *r, chunk *c) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        if (id == 1) c->has_file_path = true, skip(r, t, 1);
        else if (id == 3 && t == T_STRUCT) c->has_meta = true, read_col_meta(r, c);
        else skip(r, t, 1);
    }
}

/* A list of structs of lo to hi elements; false (and r->bad) otherwise. */
static bool struct_list(rd *r, uint64_t lo, uint64_t hi, size_t *n) {
    int elem;
    uint64_t k;
    list_header(r, &elem, &k);
    if ((k && elem != T_STRUCT) || k < lo || k > hi) {
        r->bad = true;
        return false;
    }
    *n = (size_t)k;
    return true;
}

static int read_row_group(rd *r, row_group *g) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        if (id == 1 && t == T_LIST && !g->cols) {
            size_t n;
            if (!struct_list(r, 1, MAX_SCHEMA, &n)) break;
            if (!(g->cols = xuan_calloc(n, sizeof *g->cols))) return XUAN_ERR_NOMEM;
            g->n_cols = n;
            for (size_t i = 0; i < g->n_cols && !r->bad; i++) read_chunk(r, &g->cols[i]);
        } else if (id == 3) {
            g->num_rows = int_of(r, t);
        } else {
            skip(r, t, 1);
        }
    }
    return 0;
}

int xuan_pq_read_meta(rd *r, meta *m) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        if (id == 2 && t == T_LIST && !m->schema) {
            size_t n;
            if (!struct_list(r, 1, MAX_SCHEMA, &n)) break;
            if (!(m->schema = xuan_calloc(n, sizeof *m->schema))) return XUAN_ERR_NOMEM;
            m->n_schema = n;
            for (size_t i = 0; i < m->n_schema && !r->bad; i++) read_schema_el(r, &m->schema[i]);
        } else if (id == 3) {
            m->num_rows = int_of(r, t);
        } else if (id == 4 && t == T_LIST && !m->groups) {
            size_t n;
            if (!struct_list(r, 0, MAX_ROW_GROUPS, &n)) break;
            if (n && !(m->groups = xuan_calloc(n, sizeof *m->groups))) return XUAN_ERR_NOMEM;
            m->n_groups = n;
            for (size_t i = 0; i < m->n_groups && !r->bad; i++) {
                int rc = read_row_group(r, &m->groups[i]);
                if (rc) return rc;
            }
        } else {
            skip(r, t, 1);
        }
    }
    return 0;
}

/* ---- 3. pages ------------------------------------------------------------------- */

static void read_data_header(rd *r, page_header *h) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        switch (id) {
        case 1: h->num_values = int_of(r, t); break;
        case 2: h->encoding = int_of(r, t); break;
        case 3: h->def_encoding = int_of(r, t); break;
        case 4: h->rep_encoding = int_of(r, t); break;
        default: skip(r, t, 2);
        }
    }
}

static void read_dict_header(rd *r, page_header *h) {
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        if (id == 1) h->num_values = int_of(r, t);
        else if (id == 2) h->encoding = int_of(r, t);
        else skip(r, t, 2);
    }
}

static void read_v2_header(rd *r, page_header *h) {
    int16_t id = 0;
    h->v2_compressed = true;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        switch (id) {
        case 1: h->num_values = int_of(r, t); break;
        case 2: h->num_nulls = int_of(r, t); break;
        case 3: h->num_rows = int_of(r, t); break;
        case 4: h->encoding = int_of(r, t); break;
        case 5: h->def_len = int_of(r, t); break;
        case 6: h->rep_len = int_of(r, t); break;
        case 7: h->v2_compressed = bool_of(r, t); break;
        default: skip(r, t, 2);
        }
    }
}

void xuan_pq_read_page_header(rd *r, page_header *h) {
    memset(h, 0, sizeof *h);
    h->type = -1;
    int16_t id = 0;
    for (int t; !r->bad && (t = field(r, &id)) != T_STOP;) {
        switch (id) {
        case 1: h->type = int_of(r, t); break;
        case 2: h->uncompressed = int_of(r, t); break;
        case 3: h->compressed = int_of(r, t); break;
        case 5: if (t != T_STRUCT) r->bad = true; else h->has_data = true, read_data_header(r, h); break;
        case 7: if (t != T_STRUCT) r->bad = true; else h->has_dict = true, read_dict_header(r, h); break;
        case 8: if (t != T_STRUCT) r->bad = true; else h->has_v2 = true, read_v2_header(r, h); break;
        default: skip(r, t, 1);
        }
    }
}

