/*
 * The GGUF reader.  Sections:
 *   1. cursor     — bounds-checked little-endian reads over a byte range
 *   2. values     — metadata values, nested arrays, string tables
 *   3. tensors    — tensor infos, extents, alignment, overlap, name index
 *   4. files      — one file or all parts of a split model
 *   5. getters    — typed access to keys and tensors
 *
 * Nothing is trusted: every count is checked against the bytes that remain
 * before anything is allocated for it, every size is computed with overflow
 * checks, and all memory comes from xuan_malloc (capped).  Tensor data and
 * strings point into the read-only mapping.
 */
#include "xuan/gguf.h"

#include <stdlib.h>
#include <string.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as little-endian u32 */
#define MAX_SPLITS 256
#define MAX_DEPTH 4 /* nested array depth */

/* A list of heap blocks owned by the file object (string tables, nested
 * arrays), freed together at close. */
typedef struct owned {
    struct owned *next;
} owned;

struct xuan_gguf {
    char path[4096];
    uint32_t version;
    uint64_t alignment;
    uint64_t file_size;
    uint32_t n_maps;
    xuan_map maps[MAX_SPLITS];
    uint64_t n_kv;
    xuan_gguf_kv *kv;
    uint64_t n_tensors, cap_tensors;
    xuan_gguf_tensor *tensors;
    uint64_t *index; /* open addressing: tensor index + 1, 0 = empty */
    uint64_t index_cap;
    owned *blocks;
};

/* ==== 1. cursor ========================================================= */

typedef struct cursor {
    const uint8_t *base;
    uint64_t size, off;
    xuan_error *err;
    const char *where; /* file name for messages */
} cursor;

static int truncated(cursor *c, uint64_t need, const char *what) {
    return xuan_fail(c->err, XUAN_ERR_FORMAT,
                     "%s: truncated: %s needs %llu bytes at offset %llu but the file ends at %llu",
                     c->where, what, (unsigned long long)need, (unsigned long long)c->off,
                     (unsigned long long)c->size);
}

static int take(cursor *c, uint64_t n, const uint8_t **out, const char *what) {
    if (n > c->size - c->off) return truncated(c, n, what);
    *out = c->base + c->off;
    c->off += n;
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what) {
    const uint8_t *p = NULL;
    if (take(c, 4, &p, what)) return XUAN_ERR_FORMAT;
    memcpy(v, p, 4);
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what) {
    const uint8_t *p = NULL;
    if (take(c, 8, &p, what)) return XUAN_ERR_FORMAT;
    memcpy(v, p, 8);
    return 0;
}

static uint64_t remaining(const cursor *c) { return c->size - c->off; }

static int rd_str(cursor *c, xuan_str *s, const char *what) {
    uint64_t n;
    if (rd_u64(c, &n, what)) return XUAN_ERR_FORMAT;
    if (n > remaining(c))
        return xuan_fail(c->err, XUAN_ERR_FORMAT,
                         "%s: %s at offset %llu claims %llu bytes but only %llu remain", c->where,
                         what, (unsigned long long)(c->off - 8), (unsigned long long)n,
                         (unsigned long long)remaining(c));
    const uint8_t *p = NULL;
    take(c, n, &p, what);
    s->p = (const char *)p;
    s->n = n;
    return 0;
}

/* The GGUF spec makes keys printable ASCII (lower_snake_case, dotted); a
 * key with any other byte is a damaged or hostile file, refused as
 * llama.cpp refuses it, rather than shown as a key nobody can look up. */
static int check_key(xuan_error *err, const char *where, uint64_t i, uint64_t off, xuan_str key) {
    if (key.n == 0)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: metadata key %llu (offset %llu) is empty", where,
                         (unsigned long long)i, (unsigned long long)off);
    for (uint64_t b = 0; b < key.n; b++) {
        const unsigned char ch = (unsigned char)key.p[b];
        if (ch < 0x20 || ch > 0x7e)
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "%s: metadata key %llu (offset %llu) has byte 0x%02x at %llu: keys are printable ASCII",
                             where, (unsigned long long)i, (unsigned long long)off, ch,
                             (unsigned long long)(off + 8 + b));
    }
    return 0;
}

static void *own_alloc(xuan_gguf *g, size_t count, size_t size) {
    uint64_t n;
    if (!xuan_mul_ok(count, size, &n) || !xuan_add_ok(n, sizeof(owned) + 16, &n) || n > SIZE_MAX)
        return NULL;
    owned *o = xuan_malloc((size_t)n);
    if (!o) return NULL;
    o->next = g->blocks;
    g->blocks = o;
    return (uint8_t *)o + ((sizeof(owned) + 15) & ~(size_t)15);
}

/* ==== 2. values ======================================================= */

static const char *const VTYPE_NAMES[XUAN_GGUF_VTYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
static const uint8_t VTYPE_SIZE[XUAN_GGUF_VTYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *xuan_gguf_vtype_name(uint32_t t) { return t < XUAN_GGUF_VTYPE_COUNT ? VTYPE_NAMES[t] : "?"; }
size_t xuan_gguf_vtype_size(uint32_t t) { return t < XUAN_GGUF_VTYPE_COUNT ? VTYPE_SIZE[t] : 0; }

static bool vtype_signed(uint32_t t) {
    return t == XUAN_GGUF_INT8 || t == XUAN_GGUF_INT16 || t == XUAN_GGUF_INT32 || t == XUAN_GGUF_INT64;
}
static bool vtype_float(uint32_t t) { return t == XUAN_GGUF_FLOAT32 || t == XUAN_GGUF_FLOAT64; }

/* Decodes one fixed-size scalar at p into v. */
static void decode_scalar(uint32_t t, const uint8_t *p, xuan_gguf_value *v) {
    v->type = t;
    switch (t) {
    case XUAN_GGUF_UINT8: v->v.u64 = p[0]; break;
    case XUAN_GGUF_BOOL: v->v.u64 = p[0] != 0; break;
    case XUAN_GGUF_INT8: v->v.i64 = (int8_t)p[0]; break;
    case XUAN_GGUF_UINT16: { uint16_t x; memcpy(&x, p, 2); v->v.u64 = x; break; }
    case XUAN_GGUF_INT16: { int16_t x; memcpy(&x, p, 2); v->v.i64 = x; break; }
    case XUAN_GGUF_UINT32: { uint32_t x; memcpy(&x, p, 4); v->v.u64 = x; break; }
    case XUAN_GGUF_INT32: { int32_t x; memcpy(&x, p, 4); v->v.i64 = x; break; }
    case XUAN_GGUF_UINT64: { uint64_t x; memcpy(&x, p, 8); v->v.u64 = x; break; }
    case XUAN_GGUF_INT64: { int64_t x; memcpy(&x, p, 8); v->v.i64 = x; break; }
    case XUAN_GGUF_FLOAT32: { float x; memcpy(&x, p, 4); v->v.f64 = x; break; }
    case XUAN_GGUF_FLOAT64: { double x; memcpy(&x, p, 8); v->v.f64 = x; break; }
    default: XUAN_ASSERT(!"not a scalar type");
    }
}

static int parse_value(xuan_gguf *g, cursor *c, uint32_t type, xuan_gguf_value *v, int depth,
                       const xuan_str *key);

static int parse_array(xuan_gguf *g, cursor *c, xuan_gguf_value *v, int depth, const xuan_str *key) {
    xuan_gguf_array *a = &v->v.arr;
    memset(a, 0, sizeof *a);
    if (rd_u32(c, &a->type, "array element type") || rd_u64(c, &a->n, "array length"))
        return XUAN_ERR_FORMAT;
    if (a->type >= XUAN_GGUF_VTYPE_COUNT)
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: key '%.*s': unknown array element type %u",
                         c->where, (int)key->n, key->p, a->type);
    size_t es = VTYPE_SIZE[a->type];
    if (es) {
        uint64_t bytes;
        if (!xuan_mul_ok(a->n, es, &bytes) || bytes > remaining(c))
            return xuan_fail(c->err, XUAN_ERR_FORMAT,
                             "%s: key '%.*s': array of %llu %s elements runs past the end of the file",
                             c->where, (int)key->n, key->p, (unsigned long long)a->n,
                             VTYPE_NAMES[a->type]);
        const uint8_t *p = NULL;
        take(c, bytes, &p, "array data");
        a->raw = p;
        return 0;
    }
    /* Strings need >= 8 bytes each, nested arrays >= 12: bound the count by
     * what remains before allocating the table. */
    uint64_t min_each = a->type == XUAN_GGUF_STRING ? 8 : 12;
    if (a->n > remaining(c) / min_each)
        return xuan_fail(c->err, XUAN_ERR_FORMAT,
                         "%s: key '%.*s': array claims %llu %s elements, more than the file can hold",
                         c->where, (int)key->n, key->p, (unsigned long long)a->n,
                         VTYPE_NAMES[a->type]);
    if (a->type == XUAN_GGUF_STRING) {
        xuan_str *strs = own_alloc(g, a->n ? a->n : 1, sizeof *strs);
        if (!strs) return xuan_fail(c->err, XUAN_ERR_NOMEM, "%s: out of memory for a string array", c->where);
        for (uint64_t i = 0; i < a->n; i++)
            if (rd_str(c, &strs[i], "array string")) return XUAN_ERR_FORMAT;
        a->strs = strs;
        return 0;
    }
    if (depth >= MAX_DEPTH)
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: key '%.*s': arrays nested deeper than %d",
                         c->where, (int)key->n, key->p, MAX_DEPTH);
    xuan_gguf_value *items = own_alloc(g, a->n ? a->n : 1, sizeof *items);
    if (!items) return xuan_fail(c->err, XUAN_ERR_NOMEM, "%s: out of memory for a nested array", c->where);
    for (uint64_t i = 0; i < a->n; i++)
        if (parse_value(g, c, XUAN_GGUF_ARRAY, &items[i], depth + 1, key)) return XUAN_ERR_FORMAT;
    a->items = items;
    return 0;
}

static int parse_value(xuan_gguf *g, cursor *c, uint32_t type, xuan_gguf_value *v, int depth,
                       const xuan_str *key) {
    v->type = type;
    if (type == XUAN_GGUF_STRING) return rd_str(c, &v->v.str, "string value");
    if (type == XUAN_GGUF_ARRAY) return parse_array(g, c, v, depth, key);
    if (type >= XUAN_GGUF_VTYPE_COUNT)
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: key '%.*s' has unknown value type %u",
                         c->where, (int)key->n, key->p, type);
    const uint8_t *p = NULL;
    if (take(c, VTYPE_SIZE[type], &p, "value")) return XUAN_ERR_FORMAT;
    decode_scalar(type, p, v);
    return 0;
}

int64_t xuan_gguf_arr_i64(const xuan_gguf_array *a, uint64_t i) {
    XUAN_ASSERT(a->raw && i < a->n);
    xuan_gguf_value v;
    decode_scalar(a->type, (const uint8_t *)a->raw + i * VTYPE_SIZE[a->type], &v);
    if (vtype_float(a->type)) {
        /* Saturate: casting NaN or a float beyond int64's range is undefined
         * behaviour, and the file chooses the value (found by fuzz_gguf). */
        double f = v.v.f64;
        if (f != f) return 0;
        if (f >= 9223372036854775808.0) return INT64_MAX;
        if (f < -9223372036854775808.0) return INT64_MIN;
        return (int64_t)f;
    }
    return v.v.i64; /* u64 and i64 share storage; callers know the type */
}

double xuan_gguf_arr_f64(const xuan_gguf_array *a, uint64_t i) {
    XUAN_ASSERT(a->raw && i < a->n);
    xuan_gguf_value v;
    decode_scalar(a->type, (const uint8_t *)a->raw + i * VTYPE_SIZE[a->type], &v);
    if (vtype_float(a->type)) return v.v.f64;
    return vtype_signed(a->type) ? (double)v.v.i64 : (double)v.v.u64;
}

bool xuan_str_eq(xuan_str s, const char *c) {
    size_t n = strlen(c);
    return s.n == n && memcmp(s.p, c, n) == 0;
}

/* ==== 3. tensors ====================================================== */

static uint64_t hash_name(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int build_index(xuan_gguf *g, xuan_error *err) {
    uint64_t cap = 16;
    while (cap < g->n_tensors * 2) cap *= 2;
    g->index = xuan_calloc(cap, sizeof *g->index);
    if (!g->index) return xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory for the tensor index", g->path);
    g->index_cap = cap;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const char *name = g->tensors[i].name;
        uint64_t h = hash_name(name, strlen(name)) & (cap - 1);
        while (g->index[h]) {
            if (!strcmp(g->tensors[g->index[h] - 1].name, name))
                return xuan_fail(err, XUAN_ERR_FORMAT, "%s: duplicate tensor name '%s'", g->path, name);
            h = (h + 1) & (cap - 1);
        }
        g->index[h] = i + 1;
    }
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const xuan_gguf_tensor *x = *(const xuan_gguf_tensor *const *)a, *y = *(const xuan_gguf_tensor *const *)b;
    if (x->split != y->split) return x->split < y->split ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Tensors of one file must not overlap: a hostile file could otherwise alias
 * weights in ways no writer produces. */
static int check_overlap(xuan_gguf *g, xuan_error *err) {
    if (g->n_tensors < 2) return 0;
    const xuan_gguf_tensor **order = xuan_alloc_array(g->n_tensors, sizeof *order);
    if (!order) return xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory", g->path);
    for (uint64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, g->n_tensors, sizeof *order, cmp_offset);
    int rc = 0;
    for (uint64_t i = 1; i < g->n_tensors && !rc; i++) {
        const xuan_gguf_tensor *a = order[i - 1], *b = order[i];
        if (a->split == b->split && a->offset + a->n_bytes > b->offset)
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section",
                           g->path, a->name, b->name);
    }
    xuan_free(order);
    return rc;
}

static int parse_tensor_info(cursor *c, xuan_gguf_tensor *t, uint64_t idx) {
    xuan_str name;
    if (rd_str(c, &name, "tensor name")) return XUAN_ERR_FORMAT;
    if (name.n == 0 || name.n >= XUAN_GGUF_MAX_NAME)
        return xuan_fail(c->err, XUAN_ERR_FORMAT,
                         "%s: tensor %llu has a name of %llu bytes (must be 1 to %d)", c->where,
                         (unsigned long long)idx, (unsigned long long)name.n, XUAN_GGUF_MAX_NAME - 1);
    if (memchr(name.p, 0, name.n))
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: tensor %llu has a NUL byte in its name",
                         c->where, (unsigned long long)idx);
    memcpy(t->name, name.p, name.n);
    t->name[name.n] = 0;
    if (rd_u32(c, &t->n_dims, "tensor dimension count")) return XUAN_ERR_FORMAT;
    if (t->n_dims < 1 || t->n_dims > XUAN_GGUF_MAX_DIMS)
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: tensor '%s' has %u dimensions (must be 1 to %d)",
                         c->where, t->name, t->n_dims, XUAN_GGUF_MAX_DIMS);
    uint64_t n = 1;
    for (uint32_t d = 0; d < XUAN_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < t->n_dims && rd_u64(c, &ne, "tensor dimension")) return XUAN_ERR_FORMAT;
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: tensor '%s' has dimension %u = %llu",
                             c->where, t->name, d, (unsigned long long)ne);
        if (!xuan_mul_ok(n, ne, &n) || n > (uint64_t)INT64_MAX)
            return xuan_fail(c->err, XUAN_ERR_FORMAT,
                             "%s: tensor '%s': the product of its dimensions overflows", c->where, t->name);
        t->ne[d] = (int64_t)ne;
    }
    t->n_elements = n;
    if (rd_u32(c, &t->type, "tensor type") || rd_u64(c, &t->offset, "tensor offset"))
        return XUAN_ERR_FORMAT;
    const xuan_type_traits *tt = xuan_type_get(t->type);
    if (!tt)
        return xuan_fail(c->err, XUAN_ERR_UNSUPPORTED,
                         "%s: tensor '%s' has unknown type id %u (not a ggml type this xuan knows)",
                         c->where, t->name, t->type);
    uint64_t row;
    if (!xuan_type_row_size(t->type, (uint64_t)t->ne[0], &row))
        return xuan_fail(c->err, XUAN_ERR_FORMAT,
                         "%s: tensor '%s': row length %lld is not a multiple of %s's block size %u",
                         c->where, t->name, (long long)t->ne[0], tt->name, tt->block_size);
    uint64_t rows = n / (uint64_t)t->ne[0];
    if (!xuan_mul_ok(row, rows, &t->n_bytes))
        return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: tensor '%s': byte size overflows", c->where, t->name);
    return 0;
}

/* ==== 4. files ===================================================== */

/* Parses one file image.  The first part (part == 0) keeps its metadata;
 * other parts are validated and contribute only tensors. */
static int parse_image(xuan_gguf *g, const uint8_t *data, uint64_t size, uint32_t part,
                       const char *where, xuan_error *err) {
    cursor c = {data, size, 0, err, where};
    uint32_t magic, version;
    if (size < 4) return truncated(&c, 4, "magic");
    memcpy(&magic, data, 4);
    if (magic != GGUF_MAGIC)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "%s: not a GGUF file (magic %02x %02x %02x %02x, expected 'GGUF')", where,
                         data[0], data[1], data[2], data[3]);
    c.off = 4;
    if (rd_u32(&c, &version, "version")) return XUAN_ERR_FORMAT;
    if (version == 0x02000000 || version == 0x03000000)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s: big-endian GGUF is not supported", where);
    if (version == 1)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "%s: GGUF version 1 is obsolete; convert the model again with current llama.cpp",
                         where);
    if (version != 2 && version != 3)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (2 and 3 are)",
                         where, version);
    uint64_t n_tensors, n_kv;
    if (rd_u64(&c, &n_tensors, "tensor count") || rd_u64(&c, &n_kv, "metadata count"))
        return XUAN_ERR_FORMAT;
    /* A key/value pair takes >= 13 bytes (key length, type, 1-byte value);
     * a tensor info >= 33 (name length, 1-byte name, n_dims, a dim, type, offset). */
    if (n_kv > remaining(&c) / 13)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: metadata count %llu is more than the file can hold (truncated or corrupt)",
                         where, (unsigned long long)n_kv);
    if (n_tensors > remaining(&c) / 33)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: tensor count %llu is more than the file can hold (truncated or corrupt)",
                         where, (unsigned long long)n_tensors);

    /* Checked before parsing (it used to be after): the duplicate-key scan
     * below is quadratic, so a file of 10^5 one-byte keys would otherwise
     * cost 5*10^9 comparisons before being refused. */
    if (n_kv > 10000)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: %llu metadata keys is implausible", where,
                         (unsigned long long)n_kv);
    xuan_gguf_kv *kv = xuan_calloc(n_kv ? n_kv : 1, sizeof *kv);
    if (!kv) return xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory for %llu keys", where, (unsigned long long)n_kv);
    uint64_t alignment = 32;
    int rc = 0;
    for (uint64_t i = 0; i < n_kv && !rc; i++) {
        uint32_t type;
        const uint64_t key_off = c.off;
        if ((rc = rd_str(&c, &kv[i].key, "key"))) break;
        if ((rc = check_key(err, where, i, key_off, kv[i].key))) break;
        if ((rc = rd_u32(&c, &type, "value type"))) break;
        if ((rc = parse_value(g, &c, type, &kv[i].value, 0, &kv[i].key))) break;
        for (uint64_t j = 0; j < i && !rc; j++) /* keys are few: quadratic is fine up to ~1e4 */
            if (kv[j].key.n == kv[i].key.n && !memcmp(kv[j].key.p, kv[i].key.p, kv[i].key.n))
                rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: duplicate key '%.*s'", where,
                               (int)kv[i].key.n, kv[i].key.p);
        if (!rc && xuan_str_eq(kv[i].key, "general.alignment")) {
            const xuan_gguf_value *v = &kv[i].value;
            if (v->type != XUAN_GGUF_UINT32 || v->v.u64 == 0 || (v->v.u64 & (v->v.u64 - 1)))
                rc = xuan_fail(err, XUAN_ERR_FORMAT,
                               "%s: general.alignment must be a u32 power of two", where);
            else alignment = v->v.u64;
        }
    }
    if (rc) {
        xuan_free(kv);
        return rc;
    }
    if (part == 0) {
        g->kv = kv;
        g->n_kv = n_kv;
        g->version = version;
        g->alignment = alignment;
    } else {
        xuan_free(kv);
    }

    uint64_t total;
    if (!xuan_add_ok(g->n_tensors, n_tensors, &total))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: too many tensors", where);
    if (total > g->cap_tensors) {
        uint64_t bytes;
        if (!xuan_mul_ok(total, sizeof *g->tensors, &bytes) || bytes > SIZE_MAX)
            return xuan_fail(err, XUAN_ERR_NOMEM, "%s: too many tensors", where);
        xuan_gguf_tensor *t = xuan_realloc(g->tensors, (size_t)bytes);
        if (!t) return xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory for %llu tensors", where,
                                 (unsigned long long)total);
        g->tensors = t;
        g->cap_tensors = total;
    }
    /* A file without tensors leaves g->tensors NULL, and NULL + 0 is
     * undefined behaviour (found by fuzz_gguf on a header-only file). */
    xuan_gguf_tensor *first = g->tensors ? g->tensors + g->n_tensors : NULL;
    for (uint64_t i = 0; i < n_tensors; i++) {
        memset(&first[i], 0, sizeof first[i]);
        if ((rc = parse_tensor_info(&c, &first[i], i))) return rc;
        first[i].split = part;
    }
    uint64_t data_start;
    if (!xuan_align_ok(c.off, alignment, &data_start))
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: bad data offset", where);
    if (n_tensors && data_start > size)
        return truncated(&c, data_start - c.off, "padding before tensor data");
    uint64_t data_size = data_start <= size ? size - data_start : 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        xuan_gguf_tensor *t = &first[i];
        if (t->offset % alignment)
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "%s: tensor '%s' data offset %llu is not aligned to %llu", where, t->name,
                             (unsigned long long)t->offset, (unsigned long long)alignment);
        uint64_t end;
        if (!xuan_add_ok(t->offset, t->n_bytes, &end) || end > data_size)
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "%s: tensor '%s' (%llu bytes at data offset %llu) runs past the end of "
                             "the file (data section is %llu bytes): the file is truncated or corrupt",
                             where, t->name, (unsigned long long)t->n_bytes,
                             (unsigned long long)t->offset, (unsigned long long)data_size);
        t->data = data + data_start + t->offset;
    }
    g->n_tensors = total;
    return 0;
}

static void free_all(xuan_gguf *g) {
    for (uint32_t i = 0; i < g->n_maps; i++) xuan_unmap(&g->maps[i]);
    while (g->blocks) {
        owned *o = g->blocks;
        g->blocks = o->next;
        xuan_free(o);
    }
    xuan_free(g->kv);
    xuan_free(g->tensors);
    xuan_free(g->index);
    xuan_free(g);
}

void xuan_gguf_close(xuan_gguf *g) {
    if (g) free_all(g);
}

static int split_count(xuan_gguf *g, uint32_t *count, uint32_t *no, xuan_error *err) {
    *count = 1;
    *no = 0;
    uint64_t v = 0;
    int rc = xuan_gguf_get_u64(g, "split.count", &v, err);
    if (rc == XUAN_ERR_NOTFOUND) return 0;
    if (rc) return rc;
    if (v < 1 || v > MAX_SPLITS)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: split.count = %llu (must be 1 to %d)", g->path,
                         (unsigned long long)v, MAX_SPLITS);
    *count = (uint32_t)v;
    rc = xuan_gguf_get_u64(g, "split.no", &v, err);
    if (rc == XUAN_ERR_NOTFOUND) return 0;
    if (rc) return rc;
    *no = (uint32_t)(v > MAX_SPLITS ? MAX_SPLITS : v);
    return 0;
}

/* "dir/name-00002-of-00005.gguf" from the path of any part. */
static int part_path(const char *first, uint32_t i, uint32_t n, char *out, size_t cap) {
    size_t len = strlen(first);
    const char *suffix = "-00001-of-00000.gguf";
    size_t sl = strlen(suffix);
    if (len < sl) return -1;
    const char *s = first + len - sl;
    if (s[0] != '-' || s[6] != '-' || s[7] != 'o' || s[8] != 'f' || s[9] != '-' || strcmp(s + 15, ".gguf"))
        return -1;
    int w = snprintf(out, cap, "%.*s-%05u-of-%05u.gguf", (int)(len - sl), first, i + 1, n);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

xuan_gguf *xuan_gguf_open(const char *path, xuan_error *err) { return xuan_gguf_open_ex(path, 0, err); }

xuan_gguf *xuan_gguf_open_ex(const char *path, unsigned map_flags, xuan_error *err) {
    xuan_gguf *g = xuan_calloc(1, sizeof *g);
    if (!g) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(g->path, sizeof g->path, "%s", path);
    if (xuan_map_file_ex(&g->maps[0], path, map_flags, err)) goto fail;
    g->n_maps = 1;
    g->file_size = g->maps[0].size;
    if (parse_image(g, g->maps[0].data, g->maps[0].size, 0, path, err)) goto fail;

    uint32_t count, no;
    if (split_count(g, &count, &no, err)) goto fail;
    if (count > 1) {
        if (no != 0) {
            xuan_fail(err, XUAN_ERR_USAGE,
                      "%s is part %u of a %u-part model: open the first part (-00001-of-%05u.gguf)",
                      path, no + 1, count, count);
            goto fail;
        }
        for (uint32_t i = 1; i < count; i++) {
            char p[4096];
            if (part_path(path, i, count, p, sizeof p)) {
                xuan_fail(err, XUAN_ERR_FORMAT,
                          "%s: split.count is %u but the file name does not end in -00001-of-%05u.gguf",
                          path, count, count);
                goto fail;
            }
            if (xuan_map_file_ex(&g->maps[i], p, map_flags, err)) {
                xuan_error_prefix(err, "split model part %u of %u", i + 1, count);
                goto fail;
            }
            g->n_maps++;
            g->file_size += g->maps[i].size;
            if (parse_image(g, g->maps[i].data, g->maps[i].size, i, p, err)) goto fail;
        }
        uint64_t expect = 0;
        int rc = xuan_gguf_get_u64(g, "split.tensors.count", &expect, err);
        if (rc == 0 && expect != g->n_tensors) {
            xuan_fail(err, XUAN_ERR_FORMAT, "%s: split.tensors.count is %llu but the %u parts hold %llu tensors",
                      path, (unsigned long long)expect, count, (unsigned long long)g->n_tensors);
            goto fail;
        }
        if (rc && rc != XUAN_ERR_NOTFOUND) goto fail;
    }
    if (build_index(g, err) || check_overlap(g, err)) goto fail;
    return g;
fail:
    free_all(g);
    return NULL;
}

xuan_gguf *xuan_gguf_open_memory(const void *data, uint64_t size, xuan_error *err) {
    xuan_gguf *g = xuan_calloc(1, sizeof *g);
    if (!g) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(g->path, sizeof g->path, "(memory)");
    g->file_size = size;
    if (parse_image(g, data, size, 0, g->path, err) || build_index(g, err) || check_overlap(g, err)) {
        free_all(g);
        return NULL;
    }
    return g;
}

/* ==== 5. getters ======================================================= */

uint32_t xuan_gguf_version(const xuan_gguf *g) { return g->version; }
uint64_t xuan_gguf_alignment(const xuan_gguf *g) { return g->alignment; }
uint32_t xuan_gguf_n_splits(const xuan_gguf *g) { return g->n_maps ? g->n_maps : 1; }

unsigned xuan_gguf_residency(const xuan_gguf *g) {
    if (g->n_maps == 0) return XUAN_MAP_READ; /* opened from memory: the caller's buffer */
    unsigned all = XUAN_MAP_READ | XUAN_MAP_LOCK;
    for (uint32_t i = 0; i < g->n_maps; i++) {
        if (!g->maps[i].anon) all &= ~(unsigned)XUAN_MAP_READ;
        if (!g->maps[i].locked) all &= ~(unsigned)XUAN_MAP_LOCK;
    }
    return all;
}
uint64_t xuan_gguf_file_size(const xuan_gguf *g) { return g->file_size; }
const char *xuan_gguf_path(const xuan_gguf *g) { return g->path; }
uint64_t xuan_gguf_n_kv(const xuan_gguf *g) { return g->n_kv; }
uint64_t xuan_gguf_n_tensors(const xuan_gguf *g) { return g->n_tensors; }

const xuan_gguf_kv *xuan_gguf_kv_at(const xuan_gguf *g, uint64_t i) {
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const xuan_gguf_tensor *xuan_gguf_tensor_at(const xuan_gguf *g, uint64_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const xuan_gguf_value *xuan_gguf_find(const xuan_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (xuan_str_eq(g->kv[i].key, key)) return &g->kv[i].value;
    return NULL;
}

const xuan_gguf_tensor *xuan_gguf_find_tensor(const xuan_gguf *g, const char *name) {
    if (!g->index_cap) return NULL;
    uint64_t h = hash_name(name, strlen(name)) & (g->index_cap - 1);
    while (g->index[h]) {
        const xuan_gguf_tensor *t = &g->tensors[g->index[h] - 1];
        if (!strcmp(t->name, name)) return t;
        h = (h + 1) & (g->index_cap - 1);
    }
    return NULL;
}

int xuan_gguf_get_str(const xuan_gguf *g, const char *key, xuan_str *out) {
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v) return XUAN_ERR_NOTFOUND;
    if (v->type != XUAN_GGUF_STRING) return XUAN_ERR_FORMAT;
    *out = v->v.str;
    return 0;
}

static int wrong_type(const xuan_gguf *g, const char *key, const xuan_gguf_value *v,
                      const char *want, xuan_error *err) {
    return xuan_fail(err, XUAN_ERR_FORMAT, "%s: key '%s' is a %s, expected %s", g->path, key,
                     xuan_gguf_vtype_name(v->type), want);
}

/* Integer value as (negative?, magnitude) so that every range check is exact. */
static int get_int(const xuan_gguf *g, const char *key, bool *neg, uint64_t *mag, xuan_error *err) {
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v) return XUAN_ERR_NOTFOUND;
    if (v->type == XUAN_GGUF_STRING || v->type == XUAN_GGUF_ARRAY || vtype_float(v->type))
        return wrong_type(g, key, v, "an integer", err);
    if (vtype_signed(v->type) && v->v.i64 < 0) {
        *neg = true;
        *mag = (uint64_t)(-(v->v.i64 + 1)) + 1;
    } else {
        *neg = false;
        *mag = v->v.u64;
    }
    return 0;
}

int xuan_gguf_get_u64(const xuan_gguf *g, const char *key, uint64_t *out, xuan_error *err) {
    bool neg = false;
    uint64_t m = 0;
    int rc = get_int(g, key, &neg, &m, err);
    if (rc) return rc;
    if (neg) return xuan_fail(err, XUAN_ERR_FORMAT, "%s: key '%s' is negative", g->path, key);
    *out = m;
    return 0;
}

int xuan_gguf_get_u32(const xuan_gguf *g, const char *key, uint32_t *out, xuan_error *err) {
    uint64_t v = 0;
    int rc = xuan_gguf_get_u64(g, key, &v, err);
    if (rc) return rc;
    if (v > UINT32_MAX)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: key '%s' = %llu does not fit in 32 bits", g->path,
                         key, (unsigned long long)v);
    *out = (uint32_t)v;
    return 0;
}

int xuan_gguf_get_i64(const xuan_gguf *g, const char *key, int64_t *out, xuan_error *err) {
    bool neg = false;
    uint64_t m = 0;
    int rc = get_int(g, key, &neg, &m, err);
    if (rc) return rc;
    if (!neg && m > (uint64_t)INT64_MAX)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: key '%s' is too large", g->path, key);
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return 0;
}

int xuan_gguf_get_f32(const xuan_gguf *g, const char *key, float *out, xuan_error *err) {
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v) return XUAN_ERR_NOTFOUND;
    if (vtype_float(v->type)) *out = (float)v->v.f64;
    else if (v->type == XUAN_GGUF_STRING || v->type == XUAN_GGUF_ARRAY || v->type == XUAN_GGUF_BOOL)
        return wrong_type(g, key, v, "a number", err);
    else *out = vtype_signed(v->type) ? (float)v->v.i64 : (float)v->v.u64;
    return 0;
}

int xuan_gguf_get_bool(const xuan_gguf *g, const char *key, bool *out, xuan_error *err) {
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v) return XUAN_ERR_NOTFOUND;
    if (v->type != XUAN_GGUF_BOOL) return wrong_type(g, key, v, "a bool", err);
    *out = v->v.u64 != 0;
    return 0;
}

int xuan_gguf_get_arr(const xuan_gguf *g, const char *key, const xuan_gguf_array **out) {
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v) return XUAN_ERR_NOTFOUND;
    if (v->type != XUAN_GGUF_ARRAY) return XUAN_ERR_FORMAT;
    *out = &v->v.arr;
    return 0;
}
