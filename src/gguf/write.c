/*
 * The GGUF writer.  Keys are kept already encoded (type + value bytes as
 * they go on disk), so replacing a key or copying one from a reader is one
 * serialization, and writing is concatenation.  Tensor bytes are streamed at
 * write time from a pointer or a fill callback, in chunks, so a 30 GB
 * synthetic model needs no big buffer.  Files are written to a temporary
 * name and renamed when complete: a failed write never leaves a half file
 * under the real name.
 */
#include "xuan/gguf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

typedef struct wkey {
    char *key;
    xuan_buf blob; /* u32 type + encoded value */
} wkey;

typedef struct wtensor {
    xuan_gguf_tensor info; /* data unused; offset filled at write */
    const void *data;
    xuan_gguf_fill_fn fill;
    void *fill_ctx;
} wtensor;

struct xuan_gguf_writer {
    uint32_t alignment;
    wkey *keys;
    size_t n_keys, cap_keys;
    wtensor *tensors;
    size_t n_tensors, cap_tensors;
    const char *progress_label;
    bool sparse;
};

xuan_gguf_writer *xuan_gguf_writer_new(void) {
    xuan_gguf_writer *w = xuan_calloc(1, sizeof *w);
    if (w) w->alignment = 32;
    return w;
}

void xuan_gguf_writer_free(xuan_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_keys; i++) {
        xuan_free(w->keys[i].key);
        xuan_buf_free(&w->keys[i].blob);
    }
    xuan_free(w->keys);
    xuan_free(w->tensors);
    xuan_free(w);
}

void xuan_gguf_writer_progress(xuan_gguf_writer *w, const char *label) { w->progress_label = label; }
void xuan_gguf_writer_set_sparse(xuan_gguf_writer *w, bool sparse) { w->sparse = sparse; }

/* ---- keys --------------------------------------------------------------- */

static int put_u32(xuan_buf *b, uint32_t v) { return xuan_buf_append(b, &v, 4); }
static int put_u64(xuan_buf *b, uint64_t v) { return xuan_buf_append(b, &v, 8); }
static int put_str(xuan_buf *b, const char *s, uint64_t n) {
    return put_u64(b, n) || xuan_buf_append(b, s, (size_t)n) ? XUAN_ERR_NOMEM : 0;
}

/* Returns the blob to fill for `key` (emptied), adding the key if new. */
static xuan_buf *slot(xuan_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_keys; i++)
        if (!strcmp(w->keys[i].key, key)) {
            xuan_buf_reset(&w->keys[i].blob);
            return &w->keys[i].blob;
        }
    if (w->n_keys == w->cap_keys) {
        size_t cap = w->cap_keys ? w->cap_keys * 2 : 32;
        wkey *k = xuan_realloc(w->keys, cap * sizeof *k);
        if (!k) return NULL;
        w->keys = k;
        w->cap_keys = cap;
    }
    wkey *k = &w->keys[w->n_keys];
    memset(k, 0, sizeof *k);
    if (!(k->key = xuan_strdup(key))) return NULL;
    w->n_keys++;
    return &k->blob;
}

static int set_scalar(xuan_gguf_writer *w, const char *key, uint32_t type, const void *v, size_t n) {
    xuan_buf *b = slot(w, key);
    if (!b || put_u32(b, type) || xuan_buf_append(b, v, n)) return XUAN_ERR_NOMEM;
    return 0;
}

int xuan_gguf_writer_set_u32(xuan_gguf_writer *w, const char *key, uint32_t v) {
    return set_scalar(w, key, XUAN_GGUF_UINT32, &v, 4);
}
int xuan_gguf_writer_set_i32(xuan_gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, XUAN_GGUF_INT32, &v, 4);
}
int xuan_gguf_writer_set_u64(xuan_gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, XUAN_GGUF_UINT64, &v, 8);
}
int xuan_gguf_writer_set_f32(xuan_gguf_writer *w, const char *key, float v) {
    return set_scalar(w, key, XUAN_GGUF_FLOAT32, &v, 4);
}
int xuan_gguf_writer_set_bool(xuan_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v;
    return set_scalar(w, key, XUAN_GGUF_BOOL, &b, 1);
}
static int set_u16(xuan_gguf_writer *w, const char *key, uint16_t v) {
    return set_scalar(w, key, XUAN_GGUF_UINT16, &v, 2);
}

int xuan_gguf_writer_set_strn(xuan_gguf_writer *w, const char *key, const char *v, uint64_t n) {
    xuan_buf *b = slot(w, key);
    if (!b || put_u32(b, XUAN_GGUF_STRING) || put_str(b, v, n)) return XUAN_ERR_NOMEM;
    return 0;
}

int xuan_gguf_writer_set_str(xuan_gguf_writer *w, const char *key, const char *v) {
    return xuan_gguf_writer_set_strn(w, key, v, strlen(v));
}

int xuan_gguf_writer_set_arr(xuan_gguf_writer *w, const char *key, uint32_t type, const void *raw,
                             uint64_t n) {
    size_t es = xuan_gguf_vtype_size(type);
    uint64_t bytes;
    if (!es || !xuan_mul_ok(n, es, &bytes) || bytes > SIZE_MAX) return XUAN_ERR_USAGE;
    xuan_buf *b = slot(w, key);
    if (!b || put_u32(b, XUAN_GGUF_ARRAY) || put_u32(b, type) || put_u64(b, n) ||
        xuan_buf_append(b, raw, (size_t)bytes))
        return XUAN_ERR_NOMEM;
    return 0;
}

int xuan_gguf_writer_set_arr_str(xuan_gguf_writer *w, const char *key, const xuan_str *strs,
                                 uint64_t n) {
    xuan_buf *b = slot(w, key);
    if (!b || put_u32(b, XUAN_GGUF_ARRAY) || put_u32(b, XUAN_GGUF_STRING) || put_u64(b, n))
        return XUAN_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++)
        if (put_str(b, strs[i].p, strs[i].n)) return XUAN_ERR_NOMEM;
    return 0;
}

/* Encodes a value without its leading type (the caller writes that). */
static int encode_value(xuan_buf *b, const xuan_gguf_value *v) {
    uint8_t raw[8];
    switch (v->type) {
    case XUAN_GGUF_STRING: return put_str(b, v->v.str.p, v->v.str.n);
    case XUAN_GGUF_ARRAY: {
        const xuan_gguf_array *a = &v->v.arr;
        if (put_u32(b, a->type) || put_u64(b, a->n)) return XUAN_ERR_NOMEM;
        if (a->raw) return xuan_buf_append(b, a->raw, (size_t)(a->n * xuan_gguf_vtype_size(a->type)));
        for (uint64_t i = 0; i < a->n; i++) {
            int rc = a->strs ? put_str(b, a->strs[i].p, a->strs[i].n) : encode_value(b, &a->items[i]);
            if (rc) return rc;
        }
        return 0;
    }
    case XUAN_GGUF_FLOAT32: {
        float f = (float)v->v.f64;
        return xuan_buf_append(b, &f, 4);
    }
    case XUAN_GGUF_FLOAT64: return xuan_buf_append(b, &v->v.f64, 8);
    default: {
        size_t n = xuan_gguf_vtype_size(v->type);
        if (!n) return XUAN_ERR_USAGE;
        memcpy(raw, &v->v.u64, 8); /* little-endian: the low n bytes */
        return xuan_buf_append(b, raw, n);
    }
    }
}

int xuan_gguf_writer_set_value(xuan_gguf_writer *w, const char *key, const xuan_gguf_value *v) {
    xuan_buf *b = slot(w, key);
    if (!b || put_u32(b, v->type)) return XUAN_ERR_NOMEM;
    return encode_value(b, v);
}

int xuan_gguf_writer_remove(xuan_gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_keys; i++)
        if (!strcmp(w->keys[i].key, key)) {
            xuan_free(w->keys[i].key);
            xuan_buf_free(&w->keys[i].blob);
            memmove(&w->keys[i], &w->keys[i + 1], (w->n_keys - i - 1) * sizeof *w->keys);
            w->n_keys--;
            return 0;
        }
    return XUAN_ERR_NOTFOUND;
}

void xuan_gguf_writer_set_alignment(xuan_gguf_writer *w, uint32_t alignment) {
    XUAN_ASSERT(alignment && !(alignment & (alignment - 1)));
    w->alignment = alignment;
    xuan_gguf_writer_set_u32(w, "general.alignment", alignment);
}

/* ---- tensors ------------------------------------------------------------ */

int xuan_gguf_writer_add_tensor(xuan_gguf_writer *w, const char *name, uint32_t type,
                                uint32_t n_dims, const int64_t *ne, const void *data,
                                xuan_gguf_fill_fn fill, void *fill_ctx, xuan_error *err) {
    size_t nl = strlen(name);
    if (nl == 0 || nl >= XUAN_GGUF_MAX_NAME)
        return xuan_fail(err, XUAN_ERR_USAGE, "tensor name '%s' must be 1 to %d bytes", name,
                         XUAN_GGUF_MAX_NAME - 1);
    if (n_dims < 1 || n_dims > XUAN_GGUF_MAX_DIMS)
        return xuan_fail(err, XUAN_ERR_USAGE, "tensor '%s': %u dimensions", name, n_dims);
    if (!data == !fill)
        return xuan_fail(err, XUAN_ERR_USAGE, "tensor '%s': give either data or a fill function", name);
    const xuan_type_traits *tt = xuan_type_get(type);
    if (!tt) return xuan_fail(err, XUAN_ERR_USAGE, "tensor '%s': unknown type %u", name, type);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].info.name, name))
            return xuan_fail(err, XUAN_ERR_USAGE, "duplicate tensor name '%s'", name);
    wtensor t = {0};
    memcpy(t.info.name, name, nl + 1);
    t.info.type = type;
    t.info.n_dims = n_dims;
    uint64_t n = 1;
    for (uint32_t d = 0; d < XUAN_GGUF_MAX_DIMS; d++) {
        int64_t e = d < n_dims ? ne[d] : 1;
        if (e < 1 || !xuan_mul_ok(n, (uint64_t)e, &n))
            return xuan_fail(err, XUAN_ERR_USAGE, "tensor '%s': bad dimension %u = %lld", name, d,
                             (long long)e);
        t.info.ne[d] = e;
    }
    t.info.n_elements = n;
    uint64_t row;
    if (!xuan_type_row_size(type, (uint64_t)ne[0], &row))
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "tensor '%s': row length %lld is not a multiple of %s's block size %u", name,
                         (long long)ne[0], tt->name, tt->block_size);
    if (!xuan_mul_ok(row, n / (uint64_t)ne[0], &t.info.n_bytes))
        return xuan_fail(err, XUAN_ERR_USAGE, "tensor '%s': size overflows", name);
    t.data = data;
    t.fill = fill;
    t.fill_ctx = fill_ctx;
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        wtensor *p = xuan_realloc(w->tensors, cap * sizeof *p);
        if (!p) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        w->tensors = p;
        w->cap_tensors = cap;
    }
    w->tensors[w->n_tensors++] = t;
    return 0;
}

/* ---- output ------------------------------------------------------------- */

typedef struct out {
    FILE *f;
    const char *path;
    uint64_t pos;
    xuan_error *err;
} out;

static int emit(out *o, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, o->f) != n)
        return xuan_fail(o->err, XUAN_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    o->pos += n;
    return 0;
}

static int pad_to(out *o, uint64_t align) {
    static const uint8_t zeros[256];
    uint64_t target;
    XUAN_ASSERT(align <= sizeof zeros && xuan_align_ok(o->pos, align, &target));
    return emit(o, zeros, (size_t)(target - o->pos));
}

/* Writes tensors [t0, t1) with the keys selected by the caller. */
static int write_part(xuan_gguf_writer *w, const char *path, size_t t0, size_t t1, bool all_keys,
                      int split_no, int n_splits, xuan_progress *prog, uint64_t *done,
                      xuan_error *err) {
    xuan_buf tmp_path = {0};
    if (xuan_buf_printf(&tmp_path, "%s.partial", path)) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    FILE *f = fopen(tmp_path.data, "wb");
    if (!f) {
        int rc = xuan_fail(err, XUAN_ERR_IO, "%s: cannot create: %s", tmp_path.data, strerror(errno));
        xuan_buf_free(&tmp_path);
        return rc;
    }
    out o = {f, tmp_path.data, 0, err};
    int rc = 0;
    uint8_t *chunk = NULL;

    /* Split keys go into this part only, on a private copy of the key list. */
    xuan_gguf_writer extra = {0};
    extra.alignment = w->alignment;
    if (n_splits > 1) {
        if (set_u16(&extra, "split.no", (uint16_t)split_no) ||
            set_u16(&extra, "split.count", (uint16_t)n_splits) ||
            xuan_gguf_writer_set_i32(&extra, "split.tensors.count", (int32_t)w->n_tensors)) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    uint64_t n_keys = (all_keys ? w->n_keys : 0) + extra.n_keys;
    uint32_t magic = 0x46554747u, version = 3;
    uint64_t n_t = t1 - t0;
    if ((rc = emit(&o, &magic, 4)) || (rc = emit(&o, &version, 4)) || (rc = emit(&o, &n_t, 8)) ||
        (rc = emit(&o, &n_keys, 8)))
        goto done;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        const xuan_gguf_writer *src = pass == 0 ? w : &extra;
        if (pass == 0 && !all_keys) continue;
        for (size_t i = 0; i < src->n_keys && !rc; i++) {
            uint64_t kl = strlen(src->keys[i].key);
            if (!(rc = emit(&o, &kl, 8)) && !(rc = emit(&o, src->keys[i].key, (size_t)kl)))
                rc = emit(&o, src->keys[i].blob.data, src->keys[i].blob.len);
        }
    }
    uint64_t off = 0;
    for (size_t i = t0; i < t1 && !rc; i++) {
        xuan_gguf_tensor *t = &w->tensors[i].info;
        uint64_t nl = strlen(t->name);
        t->offset = off;
        if ((rc = emit(&o, &nl, 8)) || (rc = emit(&o, t->name, (size_t)nl)) ||
            (rc = emit(&o, &t->n_dims, 4)))
            break;
        for (uint32_t d = 0; d < t->n_dims && !rc; d++) rc = emit(&o, &t->ne[d], 8);
        if (rc || (rc = emit(&o, &t->type, 4)) || (rc = emit(&o, &off, 8))) break;
        if (!xuan_align_ok(off + t->n_bytes, w->alignment, &off)) {
            rc = xuan_fail(err, XUAN_ERR_USAGE, "model too large");
            break;
        }
    }
    if (rc || (rc = pad_to(&o, w->alignment))) goto done;

    enum { CHUNK = 4 << 20 };
    for (size_t i = t0; i < t1 && !rc; i++) {
        wtensor *t = &w->tensors[i];
        if (t->data) {
            rc = emit(&o, t->data, (size_t)t->info.n_bytes);
            *done += t->info.n_bytes;
        } else if (w->sparse) { /* a hole: seek past it; the size is fixed below */
            if (fseeko(f, (off_t)t->info.n_bytes, SEEK_CUR) != 0)
                rc = xuan_fail(err, XUAN_ERR_IO, "%s: seek failed: %s", tmp_path.data, strerror(errno));
            o.pos += t->info.n_bytes;
            *done += t->info.n_bytes;
        } else {
            if (!chunk && !(chunk = xuan_malloc(CHUNK))) {
                rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
                break;
            }
            for (uint64_t at = 0; at < t->info.n_bytes && !rc; at += CHUNK) {
                uint64_t n = t->info.n_bytes - at < CHUNK ? t->info.n_bytes - at : CHUNK;
                rc = t->fill(t->fill_ctx, &t->info, at, chunk, n, err);
                if (!rc) rc = emit(&o, chunk, (size_t)n);
                *done += n;
                if (prog) xuan_progress_update(prog, *done);
            }
        }
        if (prog) xuan_progress_update(prog, *done);
        if (!rc && i + 1 < t1) rc = pad_to(&o, w->alignment);
    }
    /* a trailing hole does not extend the file by itself */
    if (!rc && w->sparse && (fflush(f) != 0 || ftruncate(fileno(f), (off_t)o.pos) != 0))
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: cannot size the file: %s", tmp_path.data, strerror(errno));
done:
    xuan_free(chunk);
    for (size_t i = 0; i < extra.n_keys; i++) {
        xuan_free(extra.keys[i].key);
        xuan_buf_free(&extra.keys[i].blob);
    }
    xuan_free(extra.keys);
    if (fflush(f) != 0 && !rc) rc = xuan_fail(err, XUAN_ERR_IO, "%s: write failed: %s", tmp_path.data, strerror(errno));
    if (!rc && fsync(fileno(f)) != 0) rc = xuan_fail(err, XUAN_ERR_IO, "%s: fsync failed: %s", tmp_path.data, strerror(errno));
    if (fclose(f) != 0 && !rc) rc = xuan_fail(err, XUAN_ERR_IO, "%s: close failed: %s", tmp_path.data, strerror(errno));
    if (!rc && rename(tmp_path.data, path) != 0)
        rc = xuan_fail(err, XUAN_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc) unlink(tmp_path.data);
    xuan_buf_free(&tmp_path);
    return rc;
}

static uint64_t total_bytes(const xuan_gguf_writer *w) {
    uint64_t s = 0;
    for (size_t i = 0; i < w->n_tensors; i++) s += w->tensors[i].info.n_bytes;
    return s;
}

int xuan_gguf_writer_write(xuan_gguf_writer *w, const char *path, xuan_error *err) {
    xuan_progress prog;
    uint64_t done = 0;
    if (w->progress_label) xuan_progress_begin(&prog, w->progress_label, total_bytes(w), true);
    int rc = write_part(w, path, 0, w->n_tensors, true, 0, 1, w->progress_label ? &prog : NULL,
                        &done, err);
    if (w->progress_label && !rc) xuan_progress_end(&prog);
    return rc;
}

int xuan_gguf_writer_write_split(xuan_gguf_writer *w, const char *prefix, uint32_t n_splits,
                                 xuan_error *err) {
    if (n_splits < 1 || n_splits > 256 || (n_splits > w->n_tensors && w->n_tensors))
        return xuan_fail(err, XUAN_ERR_USAGE, "cannot split %zu tensors into %u parts", w->n_tensors,
                         n_splits);
    uint64_t total = total_bytes(w), acc = 0, done = 0;
    xuan_progress prog;
    if (w->progress_label) xuan_progress_begin(&prog, w->progress_label, total, true);
    size_t t0 = 0;
    for (uint32_t s = 0; s < n_splits; s++) {
        /* Close this part once it holds its share of the bytes, leaving at
         * least one tensor for each remaining part. */
        size_t t1 = t0;
        uint64_t target = total / n_splits * (s + 1);
        while (t1 < w->n_tensors && (t1 == t0 || (acc < target && w->n_tensors - t1 > n_splits - s - 1))) {
            acc += w->tensors[t1].info.n_bytes;
            t1++;
        }
        if (s + 1 == n_splits) t1 = w->n_tensors;
        char path[4096];
        snprintf(path, sizeof path, "%s-%05u-of-%05u.gguf", prefix, s + 1, n_splits);
        int rc = write_part(w, path, t0, t1, s == 0, (int)s, (int)n_splits,
                            w->progress_label ? &prog : NULL, &done, err);
        if (rc) return rc;
        t0 = t1;
    }
    if (w->progress_label) xuan_progress_end(&prog);
    return 0;
}
