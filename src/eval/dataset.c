/*
 * dataset.c — benchmark files into items of named string fields.
 *
 *   1. items      — growing the item list, the bounds
 *   2. jsonl      — one object a line, flattened ("options.A"); gzip first for .jsonl.gz
 *   3. csv / tsv  — RFC 4180 rows (quotes, "" escapes, newlines in quotes,
 *                   CRLF or LF or CR row ends), TSV split on tabs without quoting
 *   4. parquet    — rows of parquet.c's reader as items
 *   5. entry      — BOM, UTF-8 check, the format switch, files
 *
 * Python's csv module is the reference for CSV (MANIFEST.md checked the
 * counts with it): blank rows are skipped, CR alone ends a row.  Stricter
 * than it on one point: text after a closing quote ("ab"c) is refused
 * naming the line, where Python would silently glue it on; none of the
 * shipped files has it.
 */
#include "internal.h"

#include <jansson.h>
#include <string.h>
#include <zlib.h>

/* ---- 1. items --------------------------------------------------------------- */

typedef struct loader {
    const char *name;
    const xuan_dataset_opts *o;
    size_t max_line, max_field, max_items, max_bytes;
    xuan_dataset *d;
    size_t cap;
    xuan_error *err;
} loader;

static int item_add(loader *L, xuan_eval_field *f, size_t n, uint32_t line) {
    if (L->d->n_items >= L->max_items) {
        for (size_t i = 0; i < n; i++) xuan_free(f[i].name), xuan_free(f[i].value);
        xuan_free(f);
        return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: more than %zu items", L->name, line, L->max_items);
    }
    if (L->d->n_items == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 64;
        void *p = xuan_realloc(L->d->items, cap * sizeof *L->d->items);
        if (!p) {
            for (size_t i = 0; i < n; i++) xuan_free(f[i].name), xuan_free(f[i].value);
            xuan_free(f);
            return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
        }
        L->d->items = p;
        L->cap = cap;
    }
    L->d->items[L->d->n_items++] = (xuan_eval_item){.fields = f, .n_fields = n, .line = line};
    return 0;
}

static void fields_free(xuan_eval_field *f, size_t n) {
    for (size_t i = 0; i < n; i++) xuan_free(f[i].name), xuan_free(f[i].value);
    xuan_free(f);
}

void xuan_dataset_free(xuan_dataset *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_items; i++) fields_free(d->items[i].fields, d->items[i].n_fields);
    xuan_free(d->items);
    xuan_free(d->path);
    memset(d, 0, sizeof *d);
}

const char *xuan_eval_item_get(const xuan_eval_item *it, const char *name) {
    for (size_t i = 0; it && i < it->n_fields; i++)
        if (strcmp(it->fields[i].name, name) == 0) return it->fields[i].value;
    return NULL;
}

/* A growing field list for one item. */
typedef struct fieldlist {
    xuan_eval_field *f;
    size_t n, cap;
} fieldlist;

static int field_push(loader *L, fieldlist *fl, const char *name, const char *val, size_t len, uint32_t line) {
    if (len > L->max_field)
        return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: field '%s' is %zu bytes, over the %zu-byte bound",
                         L->name, line, name, len, L->max_field);
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 8;
        void *p = xuan_realloc(fl->f, cap * sizeof *fl->f);
        if (!p) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
        fl->f = p;
        fl->cap = cap;
    }
    char *n = xuan_strdup(name), *v = xuan_strndup(val, len);
    if (!n || !v) {
        xuan_free(n), xuan_free(v);
        return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
    }
    fl->f[fl->n++] = (xuan_eval_field){.name = n, .value = v, .len = len};
    return 0;
}

/* ---- 2. jsonl ------------------------------------------------------------------ */

enum { MAX_FLATTEN_DEPTH = 8, MAX_NAME = 256 };

static int flatten(loader *L, fieldlist *fl, const char *prefix, json_t *obj, int depth, uint32_t line) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char name[MAX_NAME];
        int w = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (w < 0 || (size_t)w >= sizeof name)
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: a field name longer than %d bytes",
                             L->name, line, MAX_NAME - 1);
        int rc = 0;
        if (json_is_string(v)) {
            rc = field_push(L, fl, name, json_string_value(v), json_string_length(v), line);
        } else if (json_is_object(v) && depth < MAX_FLATTEN_DEPTH) {
            rc = flatten(L, fl, name, v, depth + 1, line);
        } else if (json_is_null(v)) {
            rc = field_push(L, fl, name, "", 0, line);
        } else {
            char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!text) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
            rc = field_push(L, fl, name, text, strlen(text), line);
            free(text); /* jansson's allocator */
            if (!rc && json_is_array(v)) fl->f[fl->n - 1].json = true;
        }
        if (rc) return rc;
    }
    return 0;
}

static int parse_jsonl(loader *L, const char *p, size_t n) {
    uint32_t line = 0;
    size_t pos = 0;
    while (pos < n) {
        line++;
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n, len = end - pos;
        const char *s = p + pos;
        pos = nl ? end + 1 : n;
        if (len && s[len - 1] == '\r') len--;
        if (len > L->max_line)
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: line of %zu bytes, over the %zu-byte bound",
                             L->name, line, len, L->max_line);
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t')) k++;
        if (k == len) continue; /* blank line */
        if (!xuan_utf8_valid((const uint8_t *)s, len))
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: invalid UTF-8", L->name, line);
        json_error_t je;
        json_t *obj = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
        if (!obj)
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: bad JSON at column %d: %s", L->name, line,
                             je.column, je.text);
        if (!json_is_object(obj)) {
            json_decref(obj);
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: a line must hold one JSON object", L->name, line);
        }
        fieldlist fl = {0};
        int rc = flatten(L, &fl, "", obj, 0, line);
        json_decref(obj);
        if (rc) {
            fields_free(fl.f, fl.n);
            return rc;
        }
        if ((rc = item_add(L, fl.f, fl.n, line)) != 0) return rc; /* it freed the fields */
    }
    return 0;
}

/* gzip (one or more members) into a heap buffer of at most max bytes. */
static int gunzip(loader *L, const uint8_t *in, size_t n, char **out, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: cannot start zlib", L->name);
    xuan_buf b = {0};
    z.next_in = (Bytef *)in;
    z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    int rc = 0, zr = Z_OK;
    unsigned char chunk[65536];
    for (;;) {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zr = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof chunk - z.avail_out;
        if (b.len + got > L->max_bytes) {
            rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s: decompresses to more than %zu bytes", L->name, L->max_bytes);
            break;
        }
        if (got && xuan_buf_append(&b, chunk, got)) {
            rc = xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
            break;
        }
        if (zr == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            if (inflateReset(&z) != Z_OK) { /* another gzip member follows */
                rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s: corrupt gzip stream", L->name);
                break;
            }
            continue;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s: truncated gzip stream (ends after %zu bytes of data)",
                           L->name, b.len);
            break;
        }
        if (zr != Z_OK) {
            rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s: corrupt gzip stream: %s", L->name,
                           z.msg ? z.msg : "inflate failed");
            break;
        }
    }
    inflateEnd(&z);
    if (rc) {
        xuan_buf_free(&b);
        return rc;
    }
    if (!b.data && xuan_buf_append(&b, "", 0)) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
    *out = b.data;
    *out_n = b.len;
    return 0;
}

/* ---- 3. csv / tsv ---------------------------------------------------------------- */

/* One row's fields as (offset, length) into `text`, a scratch buffer that
 * holds the unquoted values back to back. */
typedef struct row {
    xuan_buf text;
    size_t *off, *len;
    size_t n, cap;
} row;

static int row_end_field(loader *L, row *r, size_t start, uint32_t line) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        size_t *o = xuan_realloc(r->off, cap * sizeof *o);
        if (!o) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
        r->off = o;
        size_t *l = xuan_realloc(r->len, cap * sizeof *l);
        if (!l) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
        r->len = l;
        r->cap = cap;
    }
    r->off[r->n] = start;
    r->len[r->n] = r->text.len - start;
    r->n++;
    return xuan_buf_append(&r->text, "", 1) ? xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name) : 0;
}

typedef struct table {
    char **names; /* column names (owned when from the header) */
    size_t n_names;
    bool own_names;
    bool header_pending;
} table;

static int row_emit(loader *L, table *t, row *r, uint32_t line) {
    const char *s = r->text.data;
    if (!xuan_utf8_valid((const uint8_t *)s, r->text.len))
        return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: invalid UTF-8", L->name, line);
    if (t->header_pending) {
        t->header_pending = false;
        if (t->names) { /* columns given: the header only has to have as many */
            if (r->n != t->n_names)
                return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: header has %zu columns, the task names %zu",
                                 L->name, line, r->n, t->n_names);
            return 0;
        }
        t->names = xuan_calloc(r->n, sizeof *t->names);
        if (!t->names) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
        t->own_names = true;
        t->n_names = r->n;
        for (size_t i = 0; i < r->n; i++) {
            char tmp[32];
            const char *nm = r->len[i] ? s + r->off[i] : (snprintf(tmp, sizeof tmp, "column%zu", i + 1), tmp);
            if (!(t->names[i] = xuan_strdup(nm))) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
        }
        return 0;
    }
    if (!t->names)
        return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: no column names (the task gives no columns and the file no header)",
                         L->name, line);
    if (r->n != t->n_names)
        return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: row has %zu fields, expected %zu", L->name, line, r->n,
                         t->n_names);
    xuan_eval_field *f = xuan_calloc(r->n ? r->n : 1, sizeof *f);
    if (!f) return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
    for (size_t i = 0; i < r->n; i++) {
        if (memchr(s + r->off[i], 0, r->len[i])) { /* a C string would end there */
            fields_free(f, i);
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: field '%s' holds a NUL byte", L->name, line, t->names[i]);
        }
        if (r->len[i] > L->max_field) {
            fields_free(f, i);
            return xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: field '%s' is %zu bytes, over the %zu-byte bound",
                             L->name, line, t->names[i], r->len[i], L->max_field);
        }
        f[i].name = xuan_strdup(t->names[i]);
        f[i].value = xuan_strndup(s + r->off[i], r->len[i]);
        f[i].len = r->len[i];
        if (!f[i].name || !f[i].value) {
            fields_free(f, i + 1);
            return xuan_fail(L->err, XUAN_ERR_NOMEM, "%s:%u: out of memory", L->name, line);
        }
    }
    return item_add(L, f, r->n, line);
}

static int parse_table(loader *L, const char *p, size_t n, bool csv) {
    table t = {0};
    if (L->o->columns) {
        t.names = (char **)L->o->columns;
        t.n_names = L->o->n_columns;
    }
    t.header_pending = L->o->header;
    row r = {0};
    int rc = 0;
    uint32_t line = 1, row_line = 1, quote_line = 0;
    size_t pos = 0, field_start = 0, row_bytes = 0;
    bool in_quotes = false, after_quote = false, row_open = false;
    const char sep = csv ? ',' : '\t';
    while (pos < n && rc == 0) {
        char c = p[pos++];
        if (++row_bytes > L->max_line) {
            rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: row longer than %zu bytes", L->name, row_line, L->max_line);
            break;
        }
        if (in_quotes) {
            if (c == '"') {
                if (pos < n && p[pos] == '"') {
                    pos++;
                    rc = xuan_buf_append(&r.text, "\"", 1);
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                if (c == '\n') line++;
                else if (c == '\r' && !(pos < n && p[pos] == '\n')) line++;
                rc = xuan_buf_append(&r.text, &c, 1);
            }
            if (rc) rc = xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
            continue;
        }
        if (c == sep) {
            rc = row_end_field(L, &r, field_start, line);
            field_start = r.text.len;
            after_quote = false;
            row_open = true;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (c == '\r' && pos < n && p[pos] == '\n') pos++;
            if (row_open || r.text.len > field_start || after_quote) {
                rc = row_end_field(L, &r, field_start, line);
                if (!rc) rc = row_emit(L, &t, &r, row_line);
            }
            line++;
            row_line = line;
            r.n = 0;
            xuan_buf_reset(&r.text);
            field_start = 0;
            row_bytes = 0;
            after_quote = row_open = false;
            continue;
        }
        if (after_quote) {
            rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: text after a closing quote", L->name, line);
            break;
        }
        if (csv && c == '"' && r.text.len == field_start) {
            in_quotes = true;
            quote_line = line;
            row_open = true;
            continue;
        }
        row_open = true;
        if (xuan_buf_append(&r.text, &c, 1)) rc = xuan_fail(L->err, XUAN_ERR_NOMEM, "%s: out of memory", L->name);
    }
    if (rc == 0 && in_quotes)
        rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s:%u: unterminated quote (the file ends inside it)", L->name, quote_line);
    if (rc == 0 && (row_open || r.text.len > field_start || after_quote)) {
        rc = row_end_field(L, &r, field_start, line);
        if (!rc) rc = row_emit(L, &t, &r, row_line);
    }
    if (rc == 0 && t.header_pending && L->d->n_items == 0 && !t.names)
        rc = xuan_fail(L->err, XUAN_ERR_FORMAT, "%s: empty file (no header row)", L->name);
    if (t.own_names) {
        for (size_t i = 0; i < t.n_names; i++) xuan_free(t.names[i]);
        xuan_free(t.names);
    }
    xuan_buf_free(&r.text);
    xuan_free(r.off);
    xuan_free(r.len);
    return rc;
}

/* ---- 4. parquet ---------------------------------------------------------------- */

static int parquet_row(void *ctx, size_t n_cols, const char *const *names, const xuan_parquet_cell *cells,
                       uint64_t row_no) {
    loader *L = ctx;
    uint32_t line = row_no > UINT32_MAX ? UINT32_MAX : (uint32_t)row_no;
    fieldlist fl = {0};
    int rc = 0;
    for (size_t i = 0; i < n_cols && rc == 0; i++) {
        rc = field_push(L, &fl, names[i], cells[i].text, cells[i].len, line);
        if (!rc) fl.f[fl.n - 1].json = cells[i].json;
    }
    if (rc) {
        fields_free(fl.f, fl.n);
        return rc;
    }
    return item_add(L, fl.f, fl.n, line);
}

static int parse_parquet(loader *L, const uint8_t *data, size_t n) {
    xuan_parquet_opts po = {.max_bytes = L->max_bytes, .max_field = L->max_field, .max_rows = L->max_items,
                            .max_page = L->max_bytes};
    return xuan_parquet_read(L->name, data, n, &po, parquet_row, L, L->err);
}

/* ---- 5. entry ------------------------------------------------------------------ */

static const char *const FORMAT_NAMES[] = {"jsonl", "jsonl.gz", "csv", "tsv", "parquet"};
enum { N_FORMATS = 5 };

const char *xuan_data_format_name(xuan_data_format f) {
    return (unsigned)f < N_FORMATS ? FORMAT_NAMES[f] : "unknown";
}

int xuan_data_format_from_name(const char *name) {
    for (int i = 0; i < N_FORMATS; i++)
        if (strcmp(name, FORMAT_NAMES[i]) == 0) return i;
    return -1;
}

int xuan_dataset_parse(const char *name, const uint8_t *data, size_t n, const xuan_dataset_opts *o,
                       xuan_dataset *out, xuan_error *err) {
    memset(out, 0, sizeof *out);
    loader L = {.name = name, .o = o, .d = out, .err = err};
    L.max_line = o->max_line ? o->max_line : (size_t)4 << 20;
    L.max_field = o->max_field ? o->max_field : (size_t)1 << 20;
    L.max_items = o->max_items ? o->max_items : 1000000;
    L.max_bytes = o->max_bytes ? o->max_bytes : (size_t)512 << 20;
    if ((unsigned)o->format > XUAN_DATA_PARQUET) return xuan_fail(err, XUAN_ERR_USAGE, "%s: bad format", name);
    if (o->columns && o->n_columns == 0) return xuan_fail(err, XUAN_ERR_USAGE, "%s: empty column list", name);
    if (!(out->path = xuan_strdup(name))) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    char *plain = NULL;
    const char *p = (const char *)data;
    int rc = 0;
    if (o->format == XUAN_DATA_PARQUET) {
        if (n > L.max_bytes)
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: %zu bytes, over the %zu-byte bound", name, n, L.max_bytes);
        else
            rc = parse_parquet(&L, data, n);
        if (rc) goto fail;
        return 0;
    }
    if (o->format == XUAN_DATA_JSONL_GZ) {
        if ((rc = gunzip(&L, data, n, &plain, &n)) != 0) goto fail;
        p = plain;
    } else if (n > L.max_bytes) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: %zu bytes, over the %zu-byte bound", name, n, L.max_bytes);
        goto fail;
    }
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, n -= 3;
    rc = o->format == XUAN_DATA_JSONL || o->format == XUAN_DATA_JSONL_GZ
             ? parse_jsonl(&L, p ? p : "", n)
             : parse_table(&L, p ? p : "", n, o->format == XUAN_DATA_CSV);
    if (rc) goto fail;
    xuan_free(plain);
    return 0;
fail:
    xuan_free(plain);
    xuan_dataset_free(out);
    return rc;
}

int xuan_dataset_load(const char *path, const xuan_dataset_opts *o, xuan_dataset *out, xuan_error *err) {
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t n = 0;
    uint64_t cap = o->max_bytes ? o->max_bytes : (uint64_t)512 << 20;
    int rc = xuan_read_file(path, cap, &text, &n, err);
    if (rc) return rc;
    rc = xuan_dataset_parse(path, (const uint8_t *)text, n, o, out, err);
    xuan_free(text);
    return rc;
}
