/*
 * jinja_value.c — the interpreter's memory and values.
 *
 *   arena       chunked bump allocator with a byte cap; failure unwinds
 *   strings     jsb builder (with the output cap), JavaScript whitespace
 *   values      constructors, arrays, ordered objects
 *   printing    JavaScript number formatting, toString(), toJSON()
 *   JSON input  jansson values -> template values (as JSON.parse + the
 *               reference's convertToRuntimeValues would make them)
 */
#include "chat/jinja.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ==== arena =================================================================== */

struct jchunk {
    jchunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

/* Standard chunks are kept for the next parse or render of the same thread
 * (at most CACHE_CHUNKS of them): freeing them to malloc lets glibc trim the
 * heap and the next render fault the pages in again, which cost 2-30x the
 * render itself on the virtual machines we measured (docs/perf.md). */
enum { CHUNK_BYTES = 256 << 10, CACHE_CHUNKS = 8 };
static _Thread_local jchunk *chunk_cache;
static _Thread_local int chunk_cache_n;

/* A thread that ends (a server's connection thread) frees its cache: the
 * key's destructor gets the address of the thread's list head. */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_release(void *head) {
    for (jchunk *c = *(jchunk **)head, *next; c; c = next) {
        next = c->next;
        xuan_free(c);
    }
    *(jchunk **)head = NULL;
    chunk_cache_n = 0;
}

static void cache_key_init(void) { pthread_key_create(&cache_key, cache_release); }

void ja_init(jarena *a, size_t cap, jmp_buf *fail, xuan_error *err) {
    memset(a, 0, sizeof *a);
    a->cap = cap;
    a->fail = fail;
    a->err = err;
}

void ja_free(jarena *a) {
    for (jchunk *c = a->head, *next; c; c = next) {
        next = c->next;
        if (c->size == CHUNK_BYTES - sizeof(jchunk) && chunk_cache_n < CACHE_CHUNKS) {
            if (!chunk_cache) {
                pthread_once(&cache_once, cache_key_init);
                pthread_setspecific(cache_key, &chunk_cache);
            }
            c->next = chunk_cache;
            chunk_cache = c;
            chunk_cache_n++;
        } else {
            xuan_free(c);
        }
    }
    a->head = NULL;
    a->used = 0;
}

void xuan_chat_thread_release(void) { cache_release(&chunk_cache); }

void ja_throw(jarena *a, xuan_status code, const char *fmt, ...) {
    if (a->err) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (a->line && strncmp(msg, "line ", 5) != 0)
            snprintf(a->err->msg, sizeof a->err->msg, "line %u: %s", (unsigned)*a->line, msg);
        else
            snprintf(a->err->msg, sizeof a->err->msg, "%s", msg);
        a->err->code = code;
    }
    longjmp(*a->fail, 1);
}

void *ja_alloc(jarena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (n > a->cap || a->used > a->cap - n)
        ja_throw(a, XUAN_ERR_NOMEM, "template memory limit reached (%zu bytes)", a->cap);
    jchunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_BYTES - sizeof(jchunk) ? n : CHUNK_BYTES - sizeof(jchunk);
        if (size == CHUNK_BYTES - sizeof(jchunk) && chunk_cache) {
            c = chunk_cache;
            chunk_cache = c->next;
            chunk_cache_n--;
        } else {
            c = xuan_malloc(sizeof(jchunk) + size);
            if (!c) ja_throw(a, XUAN_ERR_NOMEM, "out of memory rendering a template");
        }
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void *ja_grow(jarena *a, void *p, size_t old_n, size_t new_n) {
    if (new_n <= old_n) return p;
    jchunk *c = a->head;
    size_t o = (old_n + 15) & ~(size_t)15, nn = (new_n + 15) & ~(size_t)15;
    /* the last allocation of the current chunk grows in place */
    if (p && c && (unsigned char *)p + o == c->data + c->used && c->size - c->used >= nn - o &&
        a->used <= a->cap - (nn - o)) {
        memset((unsigned char *)p + o, 0, nn - o);
        c->used += nn - o;
        a->used += nn - o;
        return p;
    }
    void *q = ja_alloc(a, new_n);
    if (p && old_n) memcpy(q, p, old_n);
    return q;
}

char *ja_strndup(jarena *a, const char *s, size_t n) {
    char *p = ja_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    return p;
}

/* ==== strings ================================================================= */

void jsb_init(jsb *b, jarena *a, size_t limit) {
    memset(b, 0, sizeof *b);
    b->a = a;
    b->limit = limit;
}

void jsb_put(jsb *b, const char *s, size_t n) {
    if (!n) return;
    if (n > b->limit || b->n > b->limit - n)
        ja_throw(b->a, XUAN_ERR_FULL, "template output limit reached (%zu bytes)", b->limit);
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        while (nc < b->n + n + 1) nc *= 2;
        b->p = ja_grow(b->a, b->p, b->cap, nc);
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void jsb_puts(jsb *b, const char *s) { jsb_put(b, s, strlen(s)); }
void jsb_putc(jsb *b, char c) { jsb_put(b, &c, 1); }
jstr jsb_str(const jsb *b) { return (jstr){b->p ? b->p : "", b->n}; }

bool jstr_eq(jstr a, const char *s) {
    size_t n = strlen(s);
    return a.n == n && memcmp(a.p, s, n) == 0;
}

/* String.prototype.trim()'s WhiteSpace + LineTerminator code points. */
static bool js_space_cp(uint32_t c) {
    return c == 9 || c == 10 || c == 11 || c == 12 || c == 13 || c == 32 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0xFEFF;
}

size_t js_space_len(const char *s, size_t n) {
    if (!n) return 0;
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return js_space_cp(c) ? 1 : 0;
    uint32_t cp;
    int k = xuan_utf8_decode((const uint8_t *)s, n, &cp);
    return k > 0 && js_space_cp(cp) ? (size_t)k : 0;
}

size_t js_length(jstr s) {
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* ==== values ================================================================== */

jv jv_undef(void) { return (jv){.t = JV_UNDEF}; }
jv jv_null(void) { return (jv){.t = JV_NULL}; }
jv jv_bool(bool b) { return (jv){.t = JV_BOOL, .b = b}; }
jv jv_int(double x) { return (jv){.t = JV_INT, .num = x}; }
jv jv_float(double x) { return (jv){.t = JV_FLOAT, .num = x}; }
jv jv_str(jstr s) { return (jv){.t = JV_STR, .u.s = s}; }
jv jv_cstr(const char *s) { return jv_str((jstr){s, strlen(s)}); }

jv jv_array(jarena *a, size_t cap) {
    jv v = {.t = JV_ARRAY};
    v.u.arr = ja_alloc(a, sizeof(jarr));
    if (cap) {
        v.u.arr->v = ja_alloc(a, cap * sizeof(jv));
        v.u.arr->cap = cap;
    }
    return v;
}

jv jv_object(jarena *a, jtype t) {
    jv v = {.t = (uint8_t)t};
    v.u.obj = ja_alloc(a, sizeof(jobj));
    return v;
}

void jarr_push(jarena *a, jarr *arr, jv v) {
    if (arr->n == arr->cap) {
        size_t nc = arr->cap ? arr->cap * 2 : 4;
        arr->v = ja_grow(a, arr->v, arr->cap * sizeof(jv), nc * sizeof(jv));
        arr->cap = nc;
    }
    arr->v[arr->n++] = v;
}

jv *jobj_get(const jobj *o, const char *k, size_t kn) {
    for (size_t i = 0; i < o->n; i++)
        if (o->k[i].n == kn && memcmp(o->k[i].p, k, kn) == 0) return &o->v[i];
    return NULL;
}

void jobj_set(jarena *a, jobj *o, jstr k, jv v) {
    jv *slot = jobj_get(o, k.p, k.n);
    if (slot) {
        *slot = v;
        return;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 4;
        o->k = ja_grow(a, o->k, o->cap * sizeof(jstr), nc * sizeof(jstr));
        o->v = ja_grow(a, o->v, o->cap * sizeof(jv), nc * sizeof(jv));
        o->cap = nc;
    }
    o->k[o->n] = k;
    o->v[o->n] = v;
    o->n++;
}

/* ==== printing ================================================================ */

/* Number::toString(10) of ECMA-262: the shortest digits that read back as x,
 * then plain notation for exponents in [-6, 21), exponential otherwise. */
const char *js_number(double x, char *buf) {
    if (isnan(x)) return strcpy(buf, "NaN");
    if (isinf(x)) return strcpy(buf, x < 0 ? "-Infinity" : "Infinity");
    if (x == 0) return strcpy(buf, "0");
    char tmp[40];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, x);
        if (strtod(tmp, NULL) == x) break;
    }
    /* tmp = [-]d[.ddd]e[+-]XX */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg) s++;
    char digits[24];
    size_t k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.') digits[k++] = *s;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = 0;
    int e = atoi(s + 1);
    int n = e + 1; /* the decimal point sits after n digits */
    char *o = buf;
    if (neg) *o++ = '-';
    if ((int)k <= n && n <= 21) {
        memcpy(o, digits, k);
        o += k;
        for (int i = (int)k; i < n; i++) *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, digits + n, k - (size_t)n);
        o += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++) *o++ = '0';
        memcpy(o, digits, k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, k - 1);
            o += k - 1;
        }
        o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    *o = 0;
    return buf;
}

static void put_float(jsb *out, double x) {
    char buf[400];
    if (x == 0 && signbit(x)) {
        jsb_puts(out, "-0.0");
    } else if (isfinite(x) && x == floor(x) && fabs(x) < 1e21) {
        snprintf(buf, sizeof buf, "%.1f", x); /* toFixed(1) */
        jsb_puts(out, buf);
    } else {
        jsb_puts(out, js_number(x, buf));
    }
}

void jv_print(jsb *out, jv v) {
    char buf[40];
    switch ((jtype)v.t) {
    case JV_UNDEF: jsb_puts(out, "undefined"); break;
    case JV_NULL: jsb_puts(out, "null"); break;
    case JV_BOOL: jsb_puts(out, v.b ? "true" : "false"); break;
    case JV_INT: jsb_puts(out, js_number(v.num, buf)); break;
    case JV_FLOAT: put_float(out, v.num); break;
    case JV_STR: jsb_put(out, v.u.s.p, v.u.s.n); break;
    case JV_ARRAY:
    case JV_OBJECT:
    case JV_NAMESPACE:
    case JV_KWARGS: jv_tojson(out, v, 0, false, false, NULL, NULL, false, 0); break;
    case JV_FUNC: jsb_puts(out, "[function]"); break;
    }
}

void jv_js_tostring(jsb *out, jv v) {
    char buf[40];
    switch ((jtype)v.t) {
    case JV_INT:
    case JV_FLOAT: jsb_puts(out, js_number(v.num, buf)); break;
    case JV_ARRAY:
        for (size_t i = 0; i < v.u.arr->n; i++) {
            if (i) jsb_putc(out, ',');
            jv_print(out, v.u.arr->v[i]);
        }
        break;
    case JV_OBJECT:
    case JV_KWARGS:
    case JV_NAMESPACE: jsb_puts(out, "[object Map]"); break;
    default: jv_print(out, v);
    }
}

/* JSON.stringify(string), optionally with ensure_ascii's \uXXXX for
 * every UTF-16 unit from U+007F. */
static void put_json_string(jsb *out, jstr s, bool ascii) {
    jsb_putc(out, '"');
    for (size_t i = 0; i < s.n;) {
        unsigned char c = (unsigned char)s.p[i];
        char esc[16];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            jsb_put(out, esc, 2);
            i++;
        } else if (c < 0x20) {
            const char *m = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t" : NULL;
            if (m) jsb_puts(out, m);
            else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                jsb_puts(out, esc);
            }
            i++;
        } else if (c < 0x7f || (!ascii && c < 0x80)) {
            jsb_putc(out, (char)c);
            i++;
        } else if (!ascii) {
            size_t k = 1;
            while (i + k < s.n && ((unsigned char)s.p[i + k] & 0xC0) == 0x80 && k < 4) k++;
            jsb_put(out, s.p + i, k);
            i += k;
        } else {
            uint32_t cp;
            int k = xuan_utf8_decode((const uint8_t *)s.p + i, s.n - i, &cp);
            if (k <= 0) {
                /* a WTF-8 surrogate or a stray byte: escape what it stands for */
                if (c >= 0xE0 && i + 2 < s.n) {
                    cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s.p[i + 1] & 0x3F) << 6) |
                         (uint32_t)(s.p[i + 2] & 0x3F);
                    k = 3;
                } else {
                    cp = 0xFFFD;
                    k = 1;
                }
            }
            if (cp >= 0x10000) {
                uint32_t u = cp - 0x10000;
                snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF));
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", cp);
            }
            jsb_puts(out, esc);
            i += (size_t)k;
        }
    }
    jsb_putc(out, '"');
}

static void pad(jsb *out, int indent, int depth) {
    jsb_putc(out, '\n');
    for (int i = 0; i < indent * depth; i++) jsb_putc(out, ' ');
}

void jv_tojson(jsb *out, jv v, int indent, bool ensure_ascii, bool sort_keys, const jstr *item_sep,
               const jstr *key_sep, bool undefined_as_null, int depth) {
    char buf[40];
    jstr isep = item_sep ? *item_sep : indent ? (jstr){",", 1} : (jstr){", ", 2};
    jstr ksep = key_sep ? *key_sep : (jstr){": ", 2};
    if (depth > 500) ja_throw(out->a, XUAN_ERR_FORMAT, "tojson: value nested too deeply");
    switch ((jtype)v.t) {
    case JV_NULL: jsb_puts(out, "null"); return;
    case JV_UNDEF: jsb_puts(out, undefined_as_null ? "null" : "undefined"); return;
    case JV_BOOL: jsb_puts(out, v.b ? "true" : "false"); return;
    case JV_INT:
    case JV_FLOAT: jsb_puts(out, isfinite(v.num) ? js_number(v.num, buf) : "null"); return;
    case JV_STR: put_json_string(out, v.u.s, ensure_ascii); return;
    case JV_ARRAY: {
        const jarr *a = v.u.arr;
        if (a->tuple) ja_throw(out->a, XUAN_ERR_FORMAT, "cannot convert a tuple to JSON");
        jsb_putc(out, '[');
        for (size_t i = 0; i < a->n; i++) {
            if (i) jsb_put(out, isep.p, isep.n);
            if (indent) pad(out, indent, depth + 1);
            jv_tojson(out, a->v[i], indent, ensure_ascii, sort_keys, item_sep, key_sep, undefined_as_null,
                      depth + 1);
        }
        if (indent && a->n) pad(out, indent, depth);
        jsb_putc(out, ']');
        return;
    }
    case JV_OBJECT:
    case JV_NAMESPACE: {
        const jobj *o = v.u.obj;
        size_t *order = ja_alloc(out->a, (o->n + 1) * sizeof(size_t));
        for (size_t i = 0; i < o->n; i++) order[i] = i;
        if (sort_keys) /* insertion sort, stable; localeCompare approximated by bytes */
            for (size_t i = 1; i < o->n; i++)
                for (size_t j = i; j > 0; j--) {
                    jstr x = o->k[order[j - 1]], y = o->k[order[j]];
                    size_t m = x.n < y.n ? x.n : y.n;
                    int c = memcmp(x.p, y.p, m);
                    if (c < 0 || (c == 0 && x.n <= y.n)) break;
                    size_t t = order[j];
                    order[j] = order[j - 1];
                    order[j - 1] = t;
                }
        jsb_putc(out, '{');
        for (size_t i = 0; i < o->n; i++) {
            if (i) jsb_put(out, isep.p, isep.n);
            if (indent) pad(out, indent, depth + 1);
            put_json_string(out, o->k[order[i]], ensure_ascii);
            jsb_put(out, ksep.p, ksep.n);
            jv_tojson(out, o->v[order[i]], indent, ensure_ascii, sort_keys, item_sep, key_sep,
                      undefined_as_null, depth + 1);
        }
        if (indent && o->n) pad(out, indent, depth);
        jsb_putc(out, '}');
        return;
    }
    case JV_KWARGS: ja_throw(out->a, XUAN_ERR_FORMAT, "cannot convert keyword arguments to JSON");
    case JV_FUNC: ja_throw(out->a, XUAN_ERR_FORMAT, "cannot convert a function to JSON");
    }
}

/* ==== JSON input ============================================================== */

/* An array index key ("0", "17"): JavaScript objects list these first, in
 * numeric order, whatever order the JSON text had. */
static bool index_key(const char *k, size_t n, uint64_t *out) {
    if (n == 0 || n > 10 || (n > 1 && k[0] == '0')) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return false;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    if (v >= 4294967295u) return false;
    *out = v;
    return true;
}

static jv from_json(jarena *a, const json_t *j, int depth) {
    if (depth > 500) ja_throw(a, XUAN_ERR_FORMAT, "JSON input nested too deeply");
    switch (json_typeof(j)) {
    case JSON_NULL: return jv_null();
    case JSON_TRUE: return jv_bool(true);
    case JSON_FALSE: return jv_bool(false);
    case JSON_INTEGER: return jv_int((double)json_integer_value(j));
    case JSON_REAL: {
        double x = json_real_value(j);
        return x == floor(x) && isfinite(x) ? jv_int(x) : jv_float(x);
    }
    case JSON_STRING: {
        size_t n = json_string_length(j);
        return jv_str((jstr){ja_strndup(a, json_string_value(j), n), n});
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jv v = jv_array(a, n);
        for (size_t i = 0; i < n; i++) v.u.arr->v[i] = from_json(a, json_array_get(j, i), depth + 1);
        v.u.arr->n = n;
        return v;
    }
    case JSON_OBJECT: {
        jv v = jv_object(a, JV_OBJECT);
        const char *k;
        const json_t *x;
        size_t kn;
        /* index-like keys first, ascending */
        uint64_t prev = 0;
        bool any = true, first = true;
        while (any) {
            any = false;
            uint64_t best = 0;
            bool found = false;
            json_object_keylen_foreach((json_t *)j, k, kn, x) {
                uint64_t ix;
                if (index_key(k, kn, &ix) && (first || ix > prev) && (!found || ix < best)) best = ix, found = true;
            }
            if (!found) break;
            json_object_keylen_foreach((json_t *)j, k, kn, x) {
                uint64_t ix;
                if (index_key(k, kn, &ix) && ix == best)
                    jobj_set(a, v.u.obj, (jstr){ja_strndup(a, k, kn), kn}, from_json(a, x, depth + 1));
            }
            prev = best;
            first = false;
            any = true;
        }
        json_object_keylen_foreach((json_t *)j, k, kn, x) {
            uint64_t ix;
            if (!index_key(k, kn, &ix))
                jobj_set(a, v.u.obj, (jstr){ja_strndup(a, k, kn), kn}, from_json(a, x, depth + 1));
        }
        return v;
    }
    }
    return jv_undef();
}

jv jv_from_jansson(jarena *a, const void *j) { return from_json(a, (const json_t *)j, 0); }

jv jv_from_json_text(jarena *a, const char *text, const char *what) {
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) ja_throw(a, XUAN_ERR_USAGE, "%s: bad JSON at line %d: %s", what, je.line, je.text);
    /* convert, then free the jansson tree even when conversion fails */
    jmp_buf *outer = a->fail, here;
    jv v;
    a->fail = &here;
    if (setjmp(here)) {
        a->fail = outer;
        json_decref(j);
        longjmp(*outer, 1);
    }
    v = from_json(a, j, 0);
    a->fail = outer;
    json_decref(j);
    return v;
}
