/*
 * parquet_internal.h — what parquet.c (pages, values, rows) and
 * parquet_meta.c (the Thrift compact protocol: the footer's FileMetaData
 * and the page headers) share.
 */
#ifndef XUAN_EVAL_PARQUET_INTERNAL_H
#define XUAN_EVAL_PARQUET_INTERNAL_H

#include "internal.h"

enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_INT96 = 3, PT_FLOAT = 4, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6,
       PT_FIXED = 7 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CT_UTF8 = 0, CT_MAP = 1, CT_MAP_KEY_VALUE = 2, CT_LIST = 3 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_ZSTD = 6 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3, ENC_BIT_PACKED = 4, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
enum { MAX_SCHEMA = 256, MAX_ROW_GROUPS = 65536, MAX_NAME = 128 };

typedef struct rd { /* a reader over [p, end); bad once anything did not fit */
    const uint8_t *p, *end;
    bool bad;
} rd;

typedef struct schema_el {
    int64_t type, type_length, repetition, num_children, converted;
    bool has_type, has_rep, has_children, has_converted;
    char name[MAX_NAME];
} schema_el;

typedef struct chunk {
    bool has_meta, has_file_path;
    int64_t type, codec, num_values, data_page_offset, dict_page_offset, total_compressed;
    bool has_dict;
    char path[3 * MAX_NAME + 8]; /* path_in_schema joined by '.' */
} chunk;

typedef struct row_group {
    chunk *cols;
    size_t n_cols;
    int64_t num_rows;
} row_group;

typedef struct meta {
    schema_el *schema;
    size_t n_schema;
    int64_t num_rows;
    row_group *groups;
    size_t n_groups;
} meta;

typedef struct page_header {
    int64_t type, uncompressed, compressed;
    int64_t num_values, encoding, def_encoding, rep_encoding; /* v1 and v2 */
    int64_t def_len, rep_len, num_nulls, num_rows;            /* v2 */
    bool v2_compressed;
    bool has_data, has_dict, has_v2;
} page_header;

/* Names for messages: "SNAPPY", "DELTA_BINARY_PACKED", "DOUBLE"; "an unknown ..." past the tables. */
const char *xuan_pq_codec_name(int64_t c);
const char *xuan_pq_enc_name(int64_t e);
const char *xuan_pq_type_name(int64_t t);
/* The footer's FileMetaData from r: 0 (r->bad when it does not parse) or
 * XUAN_ERR_NOMEM; free *m with xuan_pq_meta_free in every case. */
int xuan_pq_read_meta(rd *r, meta *m);
void xuan_pq_meta_free(meta *m);
/* An unsigned LEB128 varint (Thrift's, and the RLE hybrid's run headers). */
uint64_t xuan_pq_varint(rd *r);
/* One PageHeader from r (r->bad when it does not parse). */
void xuan_pq_read_page_header(rd *r, page_header *h);

#endif
