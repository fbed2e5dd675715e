/*
 * parquet.c — a small, strict Apache Parquet reader for benchmark files
 * (MMLU-Pro's test and validation splits are parquet on the hub).
 *
 *   (parquet_meta.c: the Thrift compact protocol, FileMetaData, page headers)
 *   1. schema     — the leaves: flat columns and one level of LIST
 *   2. pages      — decompression, RLE/bit-packed levels, PLAIN and
 *                   dictionary values
 *   3. rows       — levels back into rows; each cell as text
 *   4. entry      — the footer, the checks, the row callback
 *
 * What it reads is what those files (pyarrow 15, parquet-cpp) and
 * hyparquet-writer use: data pages v1 and v2, dictionary pages, PLAIN,
 * RLE_DICTIONARY / PLAIN_DICTIONARY and the RLE/bit-packed hybrid, BYTE_ARRAY,
 * INT32 and INT64 leaves, required or optional, at most one repeated level
 * (a LIST of strings or numbers, 3-level or 2-level), UNCOMPRESSED, SNAPPY
 * and ZSTD.  Anything else is refused in one line naming the column and
 * the feature.  Every offset and size from the file is checked against the
 * file before use; memory is bounded by the caller's byte budget, so a
 * hostile file can neither crash the reader nor make it allocate without
 * bound (fuzz/fuzz_parquet.c).
 *
 * Cells are text: a string as itself (it must be valid UTF-8 without NUL),
 * a number in decimal, null as "", a list as its compact JSON array text
 * (null elements as null), which is what the JSONL loader gives for an
 * array.
 */
#include "parquet_internal.h"

#include <inttypes.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

/* ---- 1. schema ------------------------------------------------------------------ */

/* One column of the table: a leaf, maybe inside one LIST. */
typedef struct column {
    char name[MAX_NAME];     /* the top-level field's name: the cell's name */
    char path[3 * MAX_NAME + 8];
    int64_t type;            /* physical type of the leaf */
    bool utf8;               /* BYTE_ARRAY annotated as a string (else checked all the same) */
    int max_def, max_rep;
    int def_list;            /* def level at which the list itself is present (not null) */
    int def_elem;            /* def level at which a list element exists (null or not) */
    bool is_list;
} column;

typedef struct pq {
    const char *name;
    const uint8_t *file;
    size_t size;
    const xuan_parquet_opts *o;
    uint64_t budget;         /* bytes of cells still allowed */
    xuan_error *err;
} pq;

static int fail_col(pq *P, const column *c, const char *fmt, const char *what) {
    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': %s%s", P->name, c->path, fmt, what);
}

/* Walks the flattened schema (depth first, num_children) into columns. */
static int schema_columns(pq *P, const meta *m, column *cols, size_t *n_cols) {
    const schema_el *s = m->schema;
    if (!s[0].has_children || s[0].num_children < 1 || (size_t)s[0].num_children >= m->n_schema)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: the schema's root has no columns", P->name);
    size_t at = 1, n = 0;
    for (int64_t k = 0; k < s[0].num_children; k++) {
        if (at >= m->n_schema) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: the schema ends early", P->name);
        const schema_el *e = &s[at++];
        column *c = &cols[n];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", e->name);
        snprintf(c->path, sizeof c->path, "%s", e->name);
        if (!e->name[0]) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: a column without a name", P->name);
        for (size_t j = 0; j < n; j++)
            if (strcmp(cols[j].name, c->name) == 0)
                return fail_col(P, c, "", "the name is used twice");
        int rep = e->has_rep ? (int)e->repetition : REP_REQUIRED;
        if (rep < REP_REQUIRED || rep > REP_REPEATED) return fail_col(P, c, "", "bad repetition type");
        int def = rep != REP_REQUIRED, reps = rep == REP_REPEATED;
        const schema_el *leaf = e;
        if (e->has_children && e->num_children != 0) {
            /* a group: LIST (3-level: group (LIST) { repeated group list { element } };
             * 2-level: group (LIST) { repeated leaf }) */
            if (rep == REP_REPEATED || e->num_children != 1)
                return fail_col(P, c, "", "nested groups other than one LIST are not supported");
            if (at >= m->n_schema) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: the schema ends early", P->name);
            const schema_el *mid = &s[at++];
            if (!mid->has_rep || mid->repetition != REP_REPEATED)
                return fail_col(P, c, "", "a group whose child is not repeated (only LIST is supported)");
            c->def_list = def;
            def++, reps++;
            c->def_elem = def;
            c->is_list = true;
            leaf = mid;
            if (mid->has_children && mid->num_children != 0) {
                if (mid->num_children != 1) return fail_col(P, c, "", "a LIST of structs is not supported");
                if (at >= m->n_schema)
                    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: the schema ends early", P->name);
                leaf = &s[at++];
                int lrep = leaf->has_rep ? (int)leaf->repetition : REP_REQUIRED;
                if (lrep == REP_REPEATED) return fail_col(P, c, "", "a LIST of lists is not supported");
                if (lrep == REP_OPTIONAL) def++;
                snprintf(c->path, sizeof c->path, "%s.%s.%s", e->name, mid->name, leaf->name);
            } else {
                snprintf(c->path, sizeof c->path, "%s.%s", e->name, mid->name);
            }
            if (leaf->has_children && leaf->num_children != 0)
                return fail_col(P, c, "", "nested groups other than one LIST are not supported");
        } else if (rep == REP_REPEATED) {
            /* a bare repeated leaf: a list whose elements are required */
            c->def_list = 0, c->def_elem = 1, c->is_list = true;
        }
        if (!leaf->has_type) return fail_col(P, c, "", "a leaf without a physical type");
        if (leaf->type != PT_BYTE_ARRAY && leaf->type != PT_INT32 && leaf->type != PT_INT64)
            return fail_col(P, c, "physical type ",
                            xuan_pq_type_name(leaf->type));
        c->type = leaf->type;
        c->utf8 = leaf->has_converted && leaf->converted == CT_UTF8;
        c->max_def = def;
        c->max_rep = reps;
        n++;
    }
    if (at != m->n_schema) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: the schema has %zu elements, its tree %zu",
                                            P->name, m->n_schema, at);
    *n_cols = n;
    return 0;
}

/* ---- 2. pages ------------------------------------------------------------------- */

/* A zstd frame's recorded size; streaming writers (the zstd program
 * reading a pipe) leave it out, and then only the decompression tells. */
static bool zstd_size_ok(unsigned long long size, size_t want) {
    return size == ZSTD_CONTENTSIZE_UNKNOWN || size == (unsigned long long)want;
}

/* Decompresses src into a new buffer of exactly `want` bytes.  The sizes
 * the codecs record (snappy's preamble, zstd's frame header when it has
 * one) must say `want` before anything is allocated. */
static int decompress(pq *P, const column *c, int64_t codec, const uint8_t *src, size_t n, size_t want,
                      uint8_t **out) {
    *out = NULL;
    if (codec != CODEC_UNCOMPRESSED && codec != CODEC_SNAPPY && codec != CODEC_ZSTD)
        return fail_col(P, c, "compression ", xuan_pq_codec_name(codec));
    size_t len = 0;
    bool sizes_ok = codec == CODEC_UNCOMPRESSED ? n == want
                  : codec == CODEC_SNAPPY
                      ? snappy_uncompressed_length((const char *)src, n, &len) == SNAPPY_OK && len == want
                      : zstd_size_ok(ZSTD_getFrameContentSize(src, n), want);
    if (!sizes_ok) goto bad;
    *out = xuan_malloc(want ? want : 1);
    if (!*out) return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: column '%s': out of memory (a %zu-byte page)",
                                P->name, c->path, want);
    if (codec == CODEC_UNCOMPRESSED) {
        if (n) memcpy(*out, src, n);
        return 0;
    }
    if (codec == CODEC_SNAPPY) {
        len = want;
        if (snappy_uncompress((const char *)src, n, (char *)*out, &len) == SNAPPY_OK && len == want) return 0;
    } else {
        size_t got = ZSTD_decompress(*out, want, src, n);
        if (!ZSTD_isError(got) && got == want) return 0;
    }
    xuan_free(*out);
    *out = NULL;
bad:
    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a %s page that does not decompress to its %zu bytes",
                     P->name, c->path, xuan_pq_codec_name(codec), want);
}

/* The RLE / bit-packed hybrid: n values of bit_width bits from [p, end). */
static bool hybrid(const uint8_t *p, const uint8_t *end, int bit_width, uint32_t *out, size_t n) {
    if (bit_width < 0 || bit_width > 32) return false;
    if (bit_width == 0 && p == end) { /* writers may leave out the runs of a one-entry dictionary */
        memset(out, 0, n * sizeof *out);
        return true;
    }
    size_t got = 0;
    size_t vbytes = ((size_t)bit_width + 7) / 8;
    while (got < n) {
        rd r = {p, end, false};
        uint64_t h = xuan_pq_varint(&r);
        if (r.bad) return false;
        p = r.p;
        if (h & 1) { /* bit-packed groups of 8 */
            uint64_t groups = h >> 1;
            /* each group takes bit_width bytes (none at width 0, where only n bounds it) */
            if (groups == 0 || (bit_width && groups > (uint64_t)(end - p))) return false;
            uint64_t bytes = groups * (uint64_t)bit_width;
            if (bytes > (uint64_t)(end - p)) return false;
            uint64_t count = groups > UINT64_MAX / 8 ? UINT64_MAX : groups * 8;
            for (uint64_t i = 0; i < count && got < n; i++) {
                uint64_t bit = i * (uint64_t)bit_width;
                uint64_t v = 0;
                for (int b = 0; b < bit_width; b++) {
                    uint64_t at = bit + (uint64_t)b;
                    v |= (uint64_t)((p[at >> 3] >> (at & 7)) & 1) << b;
                }
                out[got++] = (uint32_t)v;
            }
            p += bytes;
        } else { /* a run */
            uint64_t count = h >> 1;
            if (count == 0 || (size_t)(end - p) < vbytes) return false;
            uint64_t v = 0;
            for (size_t b = 0; b < vbytes; b++) v |= (uint64_t)p[b] << (8 * b);
            p += vbytes;
            if (bit_width < 32 && v >> bit_width) return false;
            for (uint64_t i = 0; i < count && got < n; i++) out[got++] = (uint32_t)v;
        }
    }
    return true;
}

static int bits_for(int max) {
    int b = 0;
    while ((1 << b) <= max) b++;
    return max == 0 ? 0 : b;
}

/* One value of a column: bytes (pointing into a page or the dictionary) or a number. */
typedef struct value {
    const uint8_t *p;
    uint32_t len;
    int64_t i;
} value;

/* What a column chunk decodes to: one entry per level pair. */
typedef struct column_data {
    uint8_t *def, *rep;
    value *vals;              /* vals[k] for the k-th entry whose def == max_def */
    size_t n, cap, n_vals, vcap;
    uint8_t **bufs;           /* decompressed pages, kept until the rows are built */
    size_t n_bufs, bcap;
    value *dict;
    size_t n_dict;
} column_data;

static void column_data_free(column_data *d) {
    for (size_t i = 0; i < d->n_bufs; i++) xuan_free(d->bufs[i]);
    xuan_free(d->bufs);
    xuan_free(d->def);
    xuan_free(d->rep);
    xuan_free(d->vals);
    xuan_free(d->dict);
    memset(d, 0, sizeof *d);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need == 0) need = 1; /* never a NULL base to offset from */
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 4 / elem) return false;
        c *= 2;
    }
    void *q = xuan_realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static int keep_buf(pq *P, column_data *d, uint8_t *b) {
    if (!grow((void **)&d->bufs, &d->bcap, d->n_bufs + 1, sizeof *d->bufs)) {
        xuan_free(b);
        return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    }
    d->bufs[d->n_bufs++] = b;
    return 0;
}

/* n PLAIN values of the column's type from [p, end); each costs the budget. */
static int plain_values(pq *P, const column *c, const uint8_t *p, const uint8_t *end, value *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (c->type == PT_BYTE_ARRAY) {
            if (end - p < 4) goto short_page;
            uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            p += 4;
            if (len > (size_t)(end - p)) goto short_page;
            out[i] = (value){.p = p, .len = len};
            p += len;
        } else {
            size_t w = c->type == PT_INT32 ? 4 : 8;
            if ((size_t)(end - p) < w) goto short_page;
            uint64_t v = 0;
            for (size_t b = 0; b < w; b++) v |= (uint64_t)p[b] << (8 * b);
            out[i] = (value){.i = w == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v};
            p += w;
        }
    }
    return 0;
short_page:
    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a PLAIN value runs past the end of its page",
                     P->name, c->path);
}

static int read_dictionary(pq *P, const column *c, column_data *d, const page_header *h, const uint8_t *data,
                           size_t len) {
    if (d->dict) return fail_col(P, c, "", "a second dictionary page");
    if (h->encoding != ENC_PLAIN && h->encoding != ENC_PLAIN_DICTIONARY)
        return fail_col(P, c, "dictionary encoding ", xuan_pq_enc_name(h->encoding));
    /* each entry takes at least 4 bytes in the page */
    if (h->num_values < 0 || (uint64_t)h->num_values > len / 4 + 1)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a dictionary of %" PRId64 " values in %zu bytes",
                         P->name, c->path, h->num_values, len);
    d->n_dict = (size_t)h->num_values;
    if (!(d->dict = xuan_calloc(d->n_dict ? d->n_dict : 1, sizeof *d->dict)))
        return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    return plain_values(P, c, data, data + len, d->dict, d->n_dict);
}

/* Levels of one page: v1 pages prefix each with its 4-byte length. */
static int levels(pq *P, const column *c, const uint8_t **p, const uint8_t *end, int max, bool v1, size_t v2_len,
                  int64_t enc, uint8_t *out, size_t n) {
    if (max == 0) {
        memset(out, 0, n);
        return 0;
    }
    if (enc != ENC_RLE) return fail_col(P, c, "level encoding ", xuan_pq_enc_name(enc));
    size_t len = v2_len;
    if (v1) {
        if (end - *p < 4) goto bad;
        len = (size_t)((*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 | (uint32_t)(*p)[3] << 24);
        *p += 4;
    }
    if (len > (size_t)(end - *p)) goto bad;
    uint32_t *tmp = xuan_alloc_array(n ? n : 1, sizeof *tmp);
    if (!tmp) return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    bool ok = hybrid(*p, *p + len, bits_for(max), tmp, n);
    for (size_t i = 0; ok && i < n; i++) {
        if (tmp[i] > (uint32_t)max) ok = false;
        out[i] = (uint8_t)tmp[i];
    }
    xuan_free(tmp);
    if (!ok) goto bad;
    *p += len;
    return 0;
bad:
    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': bad repetition or definition levels", P->name,
                     c->path);
}

static int data_page(pq *P, const column *c, column_data *d, const page_header *h, const uint8_t *page,
                     size_t plen, int64_t codec, size_t *values_left) {
    bool v2 = h->type == PAGE_DATA_V2;
    if (h->num_values < 0 || (uint64_t)h->num_values > *values_left)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a page of %" PRId64 " values, more than the chunk's",
                         P->name, c->path, h->num_values);
    size_t n = (size_t)h->num_values;
    *values_left -= n;
    /* Levels take 6 bytes each while decoded (two kept, four passing):
     * bound them by the budget too. */
    uint64_t cost = (uint64_t)n * 6;
    if (cost > P->budget)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': more values than the %" PRIu64 "-byte bound allows",
                         P->name, c->path, P->o->max_bytes);
    P->budget -= cost;
    const uint8_t *data = page;
    size_t dlen = plen;
    uint8_t *plain = NULL;
    size_t lev_bytes = 0;
    if (v2) {
        if (h->def_len < 0 || h->rep_len < 0 || (uint64_t)h->def_len + (uint64_t)h->rep_len > plen ||
            (uint64_t)h->def_len + (uint64_t)h->rep_len > (uint64_t)h->uncompressed)
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': level lengths past the page", P->name, c->path);
        lev_bytes = (size_t)(h->def_len + h->rep_len);
        if (h->num_nulls < 0 || h->num_nulls > h->num_values)
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': bad null count", P->name, c->path);
    }
    /* the value section (v1: the whole page) may be compressed */
    if (!v2 || h->v2_compressed) {
        size_t want = (size_t)h->uncompressed - lev_bytes;
        int rc = decompress(P, c, codec, page + lev_bytes, plen - lev_bytes, want, &plain);
        if (rc) return rc;
        if ((rc = keep_buf(P, d, plain))) return rc;
        data = plain; /* v2: the levels stay uncompressed in front of it */
        dlen = want;
    } else {
        if ((uint64_t)plen != (uint64_t)h->uncompressed)
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': an uncompressed v2 page of the wrong size",
                             P->name, c->path);
        data = page + lev_bytes;
        dlen = plen - lev_bytes;
    }
    if (!grow((void **)&d->def, &d->cap, d->n + n, 1)) return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    size_t rcap = d->cap;
    uint8_t *nr = xuan_realloc(d->rep, rcap ? rcap : 1);
    if (!nr) return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    d->rep = nr;
    int rc;
    if (v2) {
        const uint8_t *lp = page, *le = page + lev_bytes;
        if ((rc = levels(P, c, &lp, le, c->max_rep, false, (size_t)h->rep_len, ENC_RLE, d->rep + d->n, n))) return rc;
        if ((rc = levels(P, c, &lp, le, c->max_def, false, (size_t)h->def_len, ENC_RLE, d->def + d->n, n))) return rc;
    } else {
        const uint8_t *p = data, *end = data + dlen;
        if ((rc = levels(P, c, &p, end, c->max_rep, true, 0, h->rep_encoding, d->rep + d->n, n))) return rc;
        if ((rc = levels(P, c, &p, end, c->max_def, true, 0, h->def_encoding, d->def + d->n, n))) return rc;
        dlen = (size_t)(end - p);
        data = p;
    }
    if (c->max_rep && n && d->rep[d->n] != 0 && d->n == 0)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': the first value does not start a row", P->name,
                         c->path);
    size_t present = 0;
    for (size_t i = 0; i < n; i++) present += d->def[d->n + i] == c->max_def;
    if (present > P->budget / 16 + 1)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': more values than the %" PRIu64 "-byte bound allows",
                         P->name, c->path, P->o->max_bytes);
    P->budget -= present * 16 > P->budget ? P->budget : present * 16;
    if (!grow((void **)&d->vals, &d->vcap, d->n_vals + present, sizeof *d->vals))
        return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
    value *out = d->vals + d->n_vals;
    if (h->encoding == ENC_PLAIN) {
        if ((rc = plain_values(P, c, data, data + dlen, out, present))) return rc;
    } else if (h->encoding == ENC_RLE_DICTIONARY || h->encoding == ENC_PLAIN_DICTIONARY) {
        if (!d->dict) return fail_col(P, c, "", "dictionary-encoded values without a dictionary page");
        if (present) {
            if (dlen < 1) goto bad_idx;
            uint32_t *idx = xuan_alloc_array(present, sizeof *idx);
            if (!idx) return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
            bool ok = hybrid(data + 1, data + dlen, data[0], idx, present);
            for (size_t i = 0; ok && i < present; i++) {
                if (idx[i] >= d->n_dict) ok = false;
                else out[i] = d->dict[idx[i]];
            }
            xuan_free(idx);
            if (!ok) goto bad_idx;
        }
    } else {
        return fail_col(P, c, "value encoding ", xuan_pq_enc_name(h->encoding));
    }
    d->n += n;
    d->n_vals += present;
    return 0;
bad_idx:
    return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': bad dictionary indices", P->name, c->path);
}

/* Every page of one column chunk. */
static int read_chunk_pages(pq *P, const column *c, const chunk *k, column_data *d) {
    if (k->has_file_path) return fail_col(P, c, "", "a column chunk in another file");
    if (!k->has_meta) return fail_col(P, c, "", "a column chunk without metadata");
    if (k->type != c->type) return fail_col(P, c, "", "the chunk's type differs from the schema's");
    if (k->codec != CODEC_UNCOMPRESSED && k->codec != CODEC_SNAPPY && k->codec != CODEC_ZSTD)
        return fail_col(P, c, "compression ", xuan_pq_codec_name(k->codec));
    int64_t start = k->has_dict && k->dict_page_offset > 0 && k->dict_page_offset < k->data_page_offset
                        ? k->dict_page_offset : k->data_page_offset;
    size_t data_end = P->size - 8; /* the footer follows */
    if (start < 4 || (uint64_t)start >= data_end || k->total_compressed <= 0 ||
        (uint64_t)k->total_compressed > data_end - (uint64_t)start)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': the chunk lies outside the file", P->name, c->path);
    if (k->num_values < 0) return fail_col(P, c, "", "a negative value count");
    const uint8_t *p = P->file + start, *end = p + k->total_compressed;
    size_t values_left = (size_t)k->num_values;
    if ((uint64_t)k->num_values != values_left) return fail_col(P, c, "", "too many values");
    while (values_left > 0) {
        if (p >= end) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': the chunk ends after %zu of %" PRId64
                                       " values", P->name, c->path, (size_t)k->num_values - values_left, k->num_values);
        rd r = {p, end, false};
        page_header h;
        xuan_pq_read_page_header(&r, &h);
        if (r.bad) return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a bad page header", P->name, c->path);
        p = r.p;
        if (h.compressed < 0 || h.uncompressed < 0 || h.compressed > end - p)
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': a page past the chunk's end", P->name, c->path);
        if ((uint64_t)h.uncompressed > P->budget || (uint64_t)h.uncompressed > P->o->max_page)
            return xuan_fail(P->err, XUAN_ERR_FORMAT,
                             "%s: column '%s': a page of %" PRId64 " bytes, past what is left (%" PRIu64
                             ") of the %" PRIu64 "-byte bound on pages and cells",
                             P->name, c->path, h.uncompressed, P->budget, P->o->max_bytes);
        const uint8_t *page = p;
        size_t plen = (size_t)h.compressed;
        p += plen;
        int rc;
        if (h.type == PAGE_DICTIONARY) {
            if (!h.has_dict) return fail_col(P, c, "", "a dictionary page without its header");
            P->budget -= (uint64_t)h.uncompressed;
            uint8_t *buf;
            if ((rc = decompress(P, c, k->codec, page, plen, (size_t)h.uncompressed, &buf))) return rc;
            if ((rc = keep_buf(P, d, buf))) return rc;
            if ((rc = read_dictionary(P, c, d, &h, buf, (size_t)h.uncompressed))) return rc;
        } else if (h.type == PAGE_DATA || h.type == PAGE_DATA_V2) {
            if ((h.type == PAGE_DATA && !h.has_data) || (h.type == PAGE_DATA_V2 && !h.has_v2))
                return fail_col(P, c, "", "a data page without its header");
            P->budget -= (uint64_t)h.uncompressed;
            if ((rc = data_page(P, c, d, &h, page, plen, k->codec, &values_left))) return rc;
        } else if (h.type == PAGE_INDEX) {
            continue;
        } else {
            return fail_col(P, c, "", "an unknown page type");
        }
    }
    return 0;
}

/* ---- 3. rows -------------------------------------------------------------------- */

static int json_string(xuan_buf *b, const uint8_t *s, size_t n) {
    int rc = xuan_buf_append(b, "\"", 1);
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t ch = s[i];
        if (ch == '"') rc = xuan_buf_append(b, "\\\"", 2);
        else if (ch == '\\') rc = xuan_buf_append(b, "\\\\", 2);
        else if (ch == '\n') rc = xuan_buf_append(b, "\\n", 2);
        else if (ch == '\r') rc = xuan_buf_append(b, "\\r", 2);
        else if (ch == '\t') rc = xuan_buf_append(b, "\\t", 2);
        else if (ch == '\b') rc = xuan_buf_append(b, "\\b", 2);
        else if (ch == '\f') rc = xuan_buf_append(b, "\\f", 2);
        else if (ch < 0x20) rc = xuan_buf_printf(b, "\\u%04X", ch);
        else rc = xuan_buf_append(b, &s[i], 1);
    }
    return rc ? rc : xuan_buf_append(b, "\"", 1);
}

/* One value as text; strings must be UTF-8 without NUL. */
static int value_text(pq *P, const column *c, const value *v, bool in_list, xuan_buf *b, uint64_t row) {
    if (c->type == PT_BYTE_ARRAY) {
        if (!xuan_utf8_valid(v->p, v->len) || memchr(v->p, 0, v->len))
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: row %" PRIu64 ": column '%s': %s", P->name, row, c->path,
                             memchr(v->p, 0, v->len) ? "a NUL byte in a string" : "invalid UTF-8");
        if (in_list) return json_string(b, v->p, v->len) ? XUAN_ERR_NOMEM : 0;
        return xuan_buf_append(b, v->p, v->len) ? XUAN_ERR_NOMEM : 0;
    }
    return xuan_buf_printf(b, "%" PRId64, v->i) ? XUAN_ERR_NOMEM : 0;
}

/* The cells of one column chunk, row by row, appended to cells[row*n_cols + col]. */
static int column_cells(pq *P, const column *c, const column_data *d, size_t rows, size_t col, size_t n_cols,
                        xuan_parquet_cell *cells, uint64_t first_row) {
    size_t e = 0, v = 0;
    xuan_buf b = {0};
    for (size_t r = 0; r < rows; r++) {
        xuan_buf_reset(&b);
        if (e >= d->n || (c->max_rep && d->rep[e] != 0)) {
            xuan_buf_free(&b);
            return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': %zu rows, the row group says %zu", P->name,
                             c->path, r, rows);
        }
        bool json = false;
        int rc = 0;
        uint64_t row = first_row + r + 1;
        if (!c->is_list) {
            if (d->def[e] == c->max_def) rc = value_text(P, c, &d->vals[v++], false, &b, row);
            e++;
        } else if (d->def[e] < c->def_list) { /* the list is null */
            e++;
        } else {
            json = true;
            rc = xuan_buf_append(&b, "[", 1);
            bool first = true;
            do {
                if (d->def[e] >= c->def_elem) {
                    if (!first && !rc) rc = xuan_buf_append(&b, ",", 1);
                    first = false;
                    if (rc) break;
                    if (d->def[e] == c->max_def) rc = value_text(P, c, &d->vals[v++], true, &b, row);
                    else rc = xuan_buf_append(&b, "null", 4);
                }
                e++;
            } while (!rc && e < d->n && d->rep[e] != 0);
            if (!rc) rc = xuan_buf_append(&b, "]", 1);
        }
        if (rc == XUAN_ERR_NOMEM) rc = xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
        if (!rc && b.len > P->o->max_field)
            rc = xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: row %" PRIu64 ": column '%s' is %zu bytes, over the %zu-byte bound",
                           P->name, row, c->path, b.len, P->o->max_field);
        if (!rc && b.len > P->budget)
            rc = xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: over the %" PRIu64 "-byte bound", P->name, P->o->max_bytes);
        if (rc) {
            xuan_buf_free(&b);
            return rc;
        }
        P->budget -= b.len;
        xuan_parquet_cell *cell = &cells[r * n_cols + col];
        cell->text = xuan_strndup(b.len ? b.data : "", b.len);
        cell->len = b.len;
        cell->json = json;
        if (!cell->text) {
            xuan_buf_free(&b);
            return xuan_fail(P->err, XUAN_ERR_NOMEM, "%s: out of memory", P->name);
        }
    }
    xuan_buf_free(&b);
    if (e != d->n)
        return xuan_fail(P->err, XUAN_ERR_FORMAT, "%s: column '%s': more values than the row group's %zu rows", P->name,
                         c->path, rows);
    return 0;
}

/* ---- 4. entry ------------------------------------------------------------------- */

int xuan_parquet_read(const char *name, const uint8_t *data, size_t size, const xuan_parquet_opts *o,
                      xuan_parquet_row_fn fn, void *ctx, xuan_error *err) {
    pq P = {.name = name, .file = data, .size = size, .o = o, .budget = o->max_bytes, .err = err};
    if (size < 12 || memcmp(data, "PAR1", 4) != 0 || memcmp(data + size - 4, "PAR1", 4) != 0) {
        if (size >= 4 && memcmp(data + (size >= 4 ? size - 4 : 0), "PARE", 4) == 0)
            return xuan_fail(err, XUAN_ERR_FORMAT, "%s: encrypted parquet is not supported", name);
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: not a parquet file (no PAR1 at both ends)", name);
    }
    const uint8_t *f = data + size - 8;
    uint32_t mlen = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
    if (mlen == 0 || mlen > size - 12)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: a footer of %u bytes in a %zu-byte file", name, mlen, size);
    meta m = {0};
    rd r = {f - mlen, f, false};
    int rc = xuan_pq_read_meta(&r, &m);
    if (rc) {
        xuan_pq_meta_free(&m);
        return xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory", name);
    }
    if (r.bad || !m.schema) {
        xuan_pq_meta_free(&m);
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: a bad FileMetaData (Thrift) in the footer", name);
    }
    size_t n_cols = 0;
    column *cols = xuan_calloc(MAX_SCHEMA, sizeof *cols); /* 140 KiB: not on a worker's stack */
    const char **names = xuan_calloc(MAX_SCHEMA, sizeof *names);
    if (!cols || !names) {
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    if ((rc = schema_columns(&P, &m, cols, &n_cols))) goto done;
    if (m.num_rows < 0 || (uint64_t)m.num_rows > o->max_rows) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: %" PRId64 " rows, over the %zu-row bound", name, m.num_rows,
                       o->max_rows);
        goto done;
    }
    for (size_t i = 0; i < n_cols; i++) names[i] = cols[i].name;
    uint64_t rows_seen = 0;
    for (size_t g = 0; g < m.n_groups && rc == 0; g++) {
        row_group *G = &m.groups[g];
        if (G->n_cols != n_cols) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: row group %zu has %zu columns, the schema %zu", name, g, G->n_cols,
                           n_cols);
            break;
        }
        if (G->num_rows < 0 || (uint64_t)G->num_rows > (uint64_t)m.num_rows - rows_seen) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: row group %zu: %" PRId64 " rows, past the file's %" PRId64, name,
                           g, G->num_rows, m.num_rows);
            break;
        }
        size_t rows = (size_t)G->num_rows;
        xuan_parquet_cell *cells = xuan_calloc(rows ? rows * n_cols : 1, sizeof *cells);
        if (!cells) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory", name);
            break;
        }
        for (size_t c = 0; c < n_cols && rc == 0; c++) {
            if (strcmp(G->cols[c].path, cols[c].path) != 0) {
                rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: row group %zu: column %zu is '%s', the schema says '%s'", name,
                               g, c, G->cols[c].path, cols[c].path);
                break;
            }
            column_data d = {0};
            rc = read_chunk_pages(&P, &cols[c], &G->cols[c], &d);
            if (!rc) rc = column_cells(&P, &cols[c], &d, rows, c, n_cols, cells, rows_seen);
            column_data_free(&d);
        }
        for (size_t i = 0; i < rows && rc == 0; i++)
            rc = fn(ctx, n_cols, names, &cells[i * n_cols], rows_seen + i + 1);
        for (size_t i = 0; i < rows * n_cols; i++) xuan_free(cells[i].text);
        xuan_free(cells);
        rows_seen += rows;
    }
    if (rc == 0 && rows_seen != (uint64_t)m.num_rows)
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: the row groups hold %" PRIu64 " rows, the file says %" PRId64, name,
                       rows_seen, m.num_rows);
done:
    xuan_free(cols);
    xuan_free(names);
    xuan_pq_meta_free(&m);
    return rc;
}
