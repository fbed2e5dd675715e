/*
 * jinja_eval.c — the interpreter, statement by statement and expression by
 * expression as @huggingface/jinja 0.5.11 evaluates them (its quirks kept:
 * `==` is JavaScript's loose equality, booleans print "true", the output of
 * a loop iteration that ends in break/continue is dropped, macros see the
 * caller's variables, ...).
 *
 *   scopes and limits
 *   comparisons     loose / strict equality, ordering for sort
 *   strings         methods (strip, split, replace, ...), numbers from text
 *   functions       globals (range, namespace, raise_exception, strftime_now),
 *                   methods, macros and caller()
 *   filters, tests
 *   expressions
 *   statements
 *   entry point     jinja_render()
 *
 * Bounds: every node evaluated and every unit of bulk work (an element
 * copied, a key compared) costs a step against max_steps; recursion
 * (nested expressions, macro calls) is capped by max_depth; every string
 * the render builds is capped by max_output; all memory by the arena cap.
 */
#include "chat/jinja.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ==== scopes and limits ======================================================= */

typedef struct jscope jscope;
struct jscope {
    jscope *parent;
    jobj vars;
};

typedef enum { CTRL_NONE, CTRL_BREAK, CTRL_CONTINUE } ctrl_t;

typedef struct rctx {
    jarena *a;
    uint64_t steps, max_steps;
    int depth, max_depth;
    size_t max_output;
    int64_t now;
    uint32_t line;
    ctrl_t ctrl;
} rctx;

typedef enum fkind {
    F_NAMESPACE, F_RAISE, F_RANGE, F_STRFTIME, F_MACRO, F_CALLER, F_METHOD,
} fkind;

typedef enum method {
    M_UPPER, M_LOWER, M_STRIP, M_TITLE, M_CAPITALIZE, M_RSTRIP, M_LSTRIP, M_STARTSWITH, M_ENDSWITH,
    M_SPLIT, M_REPLACE, M_GET, M_ITEMS, M_KEYS, M_VALUES, M_DICTSORT,
} method;

struct jfunc {
    fkind kind;
    method m;
    jv self;
    const jnode *node;
    jscope *env;
};

_Noreturn static void fail(rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(rctx *c, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ja_throw(c->a, XUAN_ERR_FORMAT, "line %u: %s", (unsigned)c->line, msg);
}

static void charge(rctx *c, uint64_t n) {
    c->steps += n;
    if (c->steps > c->max_steps)
        ja_throw(c->a, XUAN_ERR_FULL, "line %u: template step budget exhausted (%llu steps)", (unsigned)c->line,
                 (unsigned long long)c->max_steps);
}

static void enter(rctx *c) {
    if (++c->depth > c->max_depth)
        ja_throw(c->a, XUAN_ERR_FULL, "line %u: template recursion deeper than %d", (unsigned)c->line,
                 c->max_depth);
}

static jscope *scope_new(rctx *c, jscope *parent) {
    jscope *s = ja_alloc(c->a, sizeof *s);
    s->parent = parent;
    return s;
}

static void scope_set(rctx *c, jscope *s, jstr name, jv v) {
    charge(c, 1 + s->vars.n / 16);
    jobj_set(c->a, &s->vars, name, v);
}

static jv scope_get(rctx *c, const jscope *s, jstr name) {
    for (; s; s = s->parent) {
        charge(c, 1 + s->vars.n / 16);
        jv *v = jobj_get(&s->vars, name.p, name.n);
        if (v) return *v;
    }
    return jv_undef();
}

static const char *type_name(jv v) {
    static const char *names[] = {"UndefinedValue", "NullValue", "BooleanValue", "IntegerValue", "FloatValue",
                                  "StringValue", "ArrayValue", "ObjectValue", "KeywordArgumentsValue",
                                  "NamespaceValue", "FunctionValue"};
    if (v.t == JV_ARRAY && v.u.arr->tuple) return "TupleValue";
    return names[v.t];
}

static bool is_num(jv v) { return v.t == JV_INT || v.t == JV_FLOAT; }
static bool is_obj(jv v) { return v.t == JV_OBJECT || v.t == JV_KWARGS; }       /* ObjectValue */
static bool is_container(jv v) { return is_obj(v) || v.t == JV_NAMESPACE; }    /* attributes */
static bool is_compound(jv v) { return v.t >= JV_ARRAY; }

static bool truthy(jv v) {
    switch ((jtype)v.t) {
    case JV_UNDEF:
    case JV_NULL: return false;
    case JV_BOOL: return v.b;
    case JV_INT:
    case JV_FLOAT: return v.num != 0 && !isnan(v.num);
    case JV_STR: return v.u.s.n > 0;
    case JV_ARRAY: return v.u.arr->n > 0;
    case JV_OBJECT:
    case JV_KWARGS: return v.u.obj->n > 0;
    case JV_NAMESPACE:
    case JV_FUNC: return true;
    }
    return false;
}

static jstr to_js_string(rctx *c, jv v) {
    if (v.t == JV_STR) return v.u.s;
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    jv_js_tostring(&b, v);
    return jsb_str(&b);
}

static jstr print_string(rctx *c, jv v) {
    if (v.t == JV_STR) return v.u.s;
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    jv_print(&b, v);
    return jsb_str(&b);
}

/* ==== comparisons ============================================================= */

/* StringToNumber of ECMA-262 (what `"5" == 5` converts with). */
static double js_string_to_number(jstr s) {
    size_t b = 0, e = s.n, w;
    while (b < e && (w = js_space_len(s.p + b, e - b)) > 0) b += w;
    while (e > b) {
        size_t k = e - 1;
        while (k > b && ((unsigned char)s.p[k] & 0xC0) == 0x80 && e - k < 3) k--;
        if (js_space_len(s.p + k, e - k) != e - k) break;
        e = k;
    }
    if (b == e) return 0;
    char buf[128];
    size_t n = e - b;
    if (n >= sizeof buf) return NAN;
    memcpy(buf, s.p + b, n);
    buf[n] = 0;
    const char *p = buf;
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X' || p[1] == 'o' || p[1] == 'O' || p[1] == 'b' || p[1] == 'B')) {
        int base = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int d = (p[i] >= '0' && p[i] <= '9') ? p[i] - '0' : (p[i] >= 'a' && p[i] <= 'f') ? p[i] - 'a' + 10
                  : (p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 10 : 99;
            if (d >= base) return NAN;
            v = v * base + d;
        }
        return v;
    }
    size_t i = 0;
    if (p[i] == '+' || p[i] == '-') i++;
    if (strcmp(p + i, "Infinity") == 0) return p[0] == '-' ? -INFINITY : INFINITY;
    size_t digits = 0;
    while (p[i] >= '0' && p[i] <= '9') i++, digits++;
    if (p[i] == '.') {
        i++;
        while (p[i] >= '0' && p[i] <= '9') i++, digits++;
    }
    if (!digits) return NAN;
    if (p[i] == 'e' || p[i] == 'E') {
        i++;
        if (p[i] == '+' || p[i] == '-') i++;
        size_t ed = 0;
        while (p[i] >= '0' && p[i] <= '9') i++, ed++;
        if (!ed) return NAN;
    }
    if (p[i]) return NAN;
    return strtod(p, NULL);
}

/* JavaScript's `a.value == b.value`. */
static bool loose_eq(rctx *c, jv a, jv b, int depth) {
    bool an = a.t == JV_UNDEF || a.t == JV_NULL, bn = b.t == JV_UNDEF || b.t == JV_NULL;
    if (an || bn) return an && bn;
    if (is_num(a) && is_num(b)) return a.num == b.num;
    if (a.t == JV_STR && b.t == JV_STR) return a.u.s.n == b.u.s.n && memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0;
    if (a.t == JV_BOOL && b.t == JV_BOOL) return a.b == b.b;
    if (depth > 4) return false;
    if (a.t == JV_BOOL) return loose_eq(c, jv_int(a.b), b, depth + 1);
    if (b.t == JV_BOOL) return loose_eq(c, a, jv_int(b.b), depth + 1);
    if (is_num(a) && b.t == JV_STR) return a.num == js_string_to_number(b.u.s);
    if (a.t == JV_STR && is_num(b)) return js_string_to_number(a.u.s) == b.num;
    if (is_compound(a) && is_compound(b)) {
        if (a.t == JV_FUNC || b.t == JV_FUNC) return a.t == b.t && a.u.fn == b.u.fn;
        return (a.t == JV_ARRAY) == (b.t == JV_ARRAY) && (void *)a.u.arr == (void *)b.u.arr;
    }
    /* an object against a primitive: ToPrimitive is its toString() */
    if (is_compound(a)) return loose_eq(c, jv_str(to_js_string(c, a)), b, depth + 1);
    return loose_eq(c, a, jv_str(to_js_string(c, b)), depth + 1);
}

/* `a.value === b.value` (SameValueZero when nan_equal). */
static bool strict_eq(jv a, jv b, bool nan_equal) {
    if (is_num(a) && is_num(b)) return a.num == b.num || (nan_equal && isnan(a.num) && isnan(b.num));
    if (a.t != b.t) return false;
    switch ((jtype)a.t) {
    case JV_UNDEF:
    case JV_NULL: return true;
    case JV_BOOL: return a.b == b.b;
    case JV_STR: return a.u.s.n == b.u.s.n && memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0;
    case JV_ARRAY: return a.u.arr == b.u.arr;
    case JV_FUNC: return a.u.fn == b.u.fn;
    default: return a.u.obj == b.u.obj;
    }
}

static int cmp_bytes_ci(jstr a, jstr b, bool case_sensitive) {
    size_t n = a.n < b.n ? a.n : b.n;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        if (!case_sensitive) {
            if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
            if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        }
        if (x != y) return x < y ? -1 : 1;
    }
    return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
}

/* compareRuntimeValues() */
static int compare(rctx *c, jv a, jv b, bool case_sensitive) {
    if (a.t == JV_NULL && b.t == JV_NULL) return 0;
    if (a.t == JV_NULL || b.t == JV_NULL) fail(c, "cannot compare %s with %s", type_name(a), type_name(b));
    if (a.t == JV_UNDEF && b.t == JV_UNDEF) return 0;
    if (a.t == JV_UNDEF || b.t == JV_UNDEF) fail(c, "cannot compare %s with %s", type_name(a), type_name(b));
    bool al = is_num(a) || a.t == JV_BOOL, bl = is_num(b) || b.t == JV_BOOL;
    if (al && bl) {
        double x = a.t == JV_BOOL ? a.b : a.num, y = b.t == JV_BOOL ? b.b : b.num;
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.t != b.t) fail(c, "cannot compare different types: %s and %s", type_name(a), type_name(b));
    if (a.t == JV_STR) return cmp_bytes_ci(a.u.s, b.u.s, case_sensitive);
    fail(c, "cannot compare type: %s", type_name(a));
}

typedef struct sort_key {
    jv item, key;
} sort_key;

/* Stable merge sort (Array.prototype.sort is stable). */
static void sort_keys(rctx *c, sort_key *v, size_t n, bool cs, bool reverse) {
    if (n < 2) return;
    charge(c, n);
    sort_key *tmp = ja_alloc(c->a, n * sizeof *tmp);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int r = compare(c, v[i].key, v[j].key, cs);
                if (reverse) r = -r;
                tmp[k++] = r <= 0 ? v[i++] : v[j++];
            }
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
        charge(c, n);
    }
}

/* ==== strings ================================================================= */

static jstr str_dup(rctx *c, const char *p, size_t n) { return (jstr){ja_strndup(c->a, p, n), n}; }

static size_t trim_start(jstr s) {
    size_t b = 0, w;
    while (b < s.n && (w = js_space_len(s.p + b, s.n - b)) > 0) b += w;
    return b;
}

static size_t trim_end(jstr s, size_t from) {
    size_t e = s.n;
    while (e > from) {
        size_t k = e - 1;
        while (k > from && ((unsigned char)s.p[k] & 0xC0) == 0x80 && e - k < 3) k--;
        if (js_space_len(s.p + k, e - k) != e - k) break;
        e = k;
    }
    return e;
}

static jstr str_trim(jstr s, bool start, bool end) {
    size_t b = start ? trim_start(s) : 0;
    size_t e = end ? trim_end(s, b) : s.n;
    return (jstr){s.p + b, e - b};
}

static jstr str_case(rctx *c, jstr s, int mode /* 0 lower, 1 upper, 2 title, 3 capitalize */) {
    char *p = ja_strndup(c->a, s.p, s.n);
    charge(c, s.n / 64);
    for (size_t i = 0; i < s.n; i++) {
        char ch = p[i];
        bool up;
        if (mode == 0) up = false;
        else if (mode == 1) up = true;
        else if (mode == 2) {
            bool w = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
            char pc = i ? s.p[i - 1] : ' ';
            bool pw = (pc >= 'a' && pc <= 'z') || (pc >= 'A' && pc <= 'Z') || (pc >= '0' && pc <= '9') || pc == '_';
            if (!w || pw) continue;
            up = true;
        } else {
            if (i) break;
            up = true;
        }
        if (up && ch >= 'a' && ch <= 'z') p[i] = (char)(ch - 32);
        if (!up && ch >= 'A' && ch <= 'Z') p[i] = (char)(ch + 32);
    }
    return (jstr){p, s.n};
}

static bool str_starts(jstr s, jstr p) { return p.n <= s.n && memcmp(s.p, p.p, p.n) == 0; }
static bool str_ends(jstr s, jstr p) { return p.n <= s.n && memcmp(s.p + s.n - p.n, p.p, p.n) == 0; }

static const char *str_find(jstr s, size_t from, jstr pat) {
    if (pat.n == 0) return s.p + from;
    if (from > s.n) return NULL;
    for (const char *q = s.p + from; (size_t)(s.p + s.n - q) >= pat.n;) {
        const char *h = memchr(q, pat.p[0], (size_t)(s.p + s.n - q) - pat.n + 1);
        if (!h) return NULL;
        if (memcmp(h, pat.p, pat.n) == 0) return h;
        q = h + 1;
    }
    return NULL;
}

static size_t utf8_char_len(const char *p, size_t n) {
    size_t k = 1;
    while (k < n && ((unsigned char)p[k] & 0xC0) == 0x80 && k < 4) k++;
    return k;
}

/* replace(str, old, new, count) with the reference's empty-pattern rule:
 * an empty `old` matches before every code point and at the end. */
static jstr str_replace(rctx *c, jstr s, jstr old, jstr rep, double count) {
    if (count == 0) return s;
    double remaining = (isnan(count) || count < 0) ? INFINITY : count;
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    charge(c, s.n / 16 + 1);
    if (old.n == 0) {
        size_t i = 0;
        for (;;) {
            if (remaining > 0) {
                jsb_put(&b, rep.p, rep.n);
                remaining--;
                charge(c, 1);
            }
            if (i >= s.n) break;
            size_t k = utf8_char_len(s.p + i, s.n - i);
            jsb_put(&b, s.p + i, k);
            i += k;
        }
        return jsb_str(&b);
    }
    size_t i = 0;
    while (i <= s.n) {
        const char *h = remaining > 0 ? str_find(s, i, old) : NULL;
        if (!h) break;
        jsb_put(&b, s.p + i, (size_t)(h - (s.p + i)));
        jsb_put(&b, rep.p, rep.n);
        remaining--;
        i = (size_t)(h - s.p) + old.n;
    }
    jsb_put(&b, s.p + i, s.n - i);
    return jsb_str(&b);
}

static jv str_split(rctx *c, jstr s, jv sep, jv maxsplit) {
    if (sep.t != JV_STR && sep.t != JV_NULL) fail(c, "split: sep argument must be a string or null");
    if (maxsplit.t != JV_INT) fail(c, "split: maxsplit argument must be a number");
    double max = maxsplit.num;
    jv out = jv_array(c->a, 0);
    charge(c, s.n / 16 + 1);
    if (sep.t == JV_NULL) {
        jstr t = str_trim(s, true, false);
        size_t i = 0;
        while (i < t.n) {
            size_t w;
            while (i < t.n && (w = js_space_len(t.p + i, t.n - i)) > 0) i += w;
            if (i >= t.n) break;
            if (max != -1 && (double)out.u.arr->n >= max) {
                jarr_push(c->a, out.u.arr, jv_str((jstr){t.p + i, t.n - i}));
                break;
            }
            size_t b = i;
            while (i < t.n && js_space_len(t.p + i, t.n - i) == 0) i += utf8_char_len(t.p + i, t.n - i);
            jarr_push(c->a, out.u.arr, jv_str((jstr){t.p + b, i - b}));
            charge(c, 1);
        }
        return out;
    }
    jstr p = sep.u.s;
    if (p.n == 0) fail(c, "split: empty separator");
    size_t i = 0;
    for (;;) {
        const char *h = str_find(s, i, p);
        if (!h || (max != -1 && (double)out.u.arr->n >= max)) {
            jarr_push(c->a, out.u.arr, jv_str((jstr){s.p + i, s.n - i}));
            break;
        }
        jarr_push(c->a, out.u.arr, jv_str((jstr){s.p + i, (size_t)(h - (s.p + i))}));
        i = (size_t)(h - s.p) + p.n;
        charge(c, 1);
    }
    return out;
}

/* parseInt(s, 10) / parseFloat(s): NaN when no number starts the text. */
static double js_parse_number(jstr s, bool integer) {
    size_t i = trim_start(s);
    char buf[400];
    size_t k = 0;
    if (i < s.n && (s.p[i] == '+' || s.p[i] == '-')) buf[k++] = s.p[i++];
    if (!integer && s.n - i >= 8 && memcmp(s.p + i, "Infinity", 8) == 0) return buf[0] == '-' ? -INFINITY : INFINITY;
    size_t digits = 0;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && k < sizeof buf - 8) buf[k++] = s.p[i++], digits++;
    if (!integer) {
        if (i < s.n && s.p[i] == '.') {
            size_t save_k = k, save_i = i;
            buf[k++] = s.p[i++];
            size_t fd = 0;
            while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && k < sizeof buf - 8) buf[k++] = s.p[i++], fd++;
            digits += fd;
            if (!fd && !digits) k = save_k, i = save_i;
        }
        if (digits && i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
            size_t save_k = k, j = i + 1;
            buf[k++] = 'e';
            if (j < s.n && (s.p[j] == '+' || s.p[j] == '-')) buf[k++] = s.p[j++];
            size_t ed = 0;
            while (j < s.n && s.p[j] >= '0' && s.p[j] <= '9' && k < sizeof buf - 2) buf[k++] = s.p[j++], ed++;
            if (!ed) k = save_k;
        }
    }
    if (!digits) return NAN;
    buf[k] = 0;
    return strtod(buf, NULL);
}

/* the code point offsets of s (Array.from(string)) */
static size_t *code_points(rctx *c, jstr s, size_t *n) {
    size_t *off = ja_alloc(c->a, (s.n + 1) * sizeof *off);
    size_t k = 0;
    for (size_t i = 0; i < s.n; i += utf8_char_len(s.p + i, s.n - i)) off[k++] = i;
    off[k] = s.n;
    *n = k;
    charge(c, s.n / 16);
    return off;
}

/* ==== functions =============================================================== */

static jv exec_capture(rctx *c, jnode *const *body, size_t n, jscope *env);
static jv eval(rctx *c, const jnode *x, jscope *env);
static jv apply_filter(rctx *c, jv operand, const jnode *f, jscope *env);

static jv mkfunc(rctx *c, fkind k) {
    jv v = {.t = JV_FUNC};
    v.u.fn = ja_alloc(c->a, sizeof(jfunc));
    v.u.fn->kind = k;
    return v;
}

static jv method_of(rctx *c, jv self, method m) {
    jv f = mkfunc(c, F_METHOD);
    f.u.fn->self = self;
    f.u.fn->m = m;
    return f;
}

/* positional arguments, the keyword arguments last (as one JV_KWARGS) */
typedef struct args {
    jv *v;
    size_t n;
} args;

static jv *kwargs_of(args *a) { return a->n && a->v[a->n - 1].t == JV_KWARGS ? &a->v[a->n - 1] : NULL; }

static jv kwarg(jv *kw, const char *name) {
    jv *v = kw ? jobj_get(kw->u.obj, name, strlen(name)) : NULL;
    return v ? *v : jv_undef();
}

static jv argn(const args *a, size_t i) { return i < a->n ? a->v[i] : jv_undef(); }

static void strftime_js(rctx *c, jsb *out, jstr fmt) {
    time_t t = c->now ? (time_t)c->now : time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    static const char *months[] = {"January", "February", "March", "April", "May", "June", "July",
                                   "August", "September", "October", "November", "December"};
    for (size_t i = 0; i < fmt.n; i++) {
        if (fmt.p[i] != '%' || i + 1 >= fmt.n || !strchr("YmdbBHM%", fmt.p[i + 1]) || !fmt.p[i + 1]) {
            jsb_putc(out, fmt.p[i]);
            continue;
        }
        char buf[32];
        switch (fmt.p[++i]) {
        case 'Y': snprintf(buf, sizeof buf, "%d", tm.tm_year + 1900); break;
        case 'm': snprintf(buf, sizeof buf, "%02d", tm.tm_mon + 1); break;
        case 'd': snprintf(buf, sizeof buf, "%02d", tm.tm_mday); break;
        case 'b': snprintf(buf, sizeof buf, "%.3s", months[tm.tm_mon]); break;
        case 'B': snprintf(buf, sizeof buf, "%s", months[tm.tm_mon]); break;
        case 'H': snprintf(buf, sizeof buf, "%02d", tm.tm_hour); break;
        case 'M': snprintf(buf, sizeof buf, "%02d", tm.tm_min); break;
        default: snprintf(buf, sizeof buf, "%%"); break;
        }
        jsb_puts(out, buf);
    }
}

static jv obj_pairs(rctx *c, const jobj *o, int which /* 0 items, 1 keys, 2 values */) {
    jv out = jv_array(c->a, o->n);
    charge(c, o->n);
    for (size_t i = 0; i < o->n; i++) {
        jv e;
        if (which == 1) e = jv_str(o->k[i]);
        else if (which == 2) e = o->v[i];
        else {
            e = jv_array(c->a, 2);
            e.u.arr->v[0] = jv_str(o->k[i]);
            e.u.arr->v[1] = o->v[i];
            e.u.arr->n = 2;
        }
        out.u.arr->v[i] = e;
    }
    out.u.arr->n = o->n;
    return out;
}

static jv call_method(rctx *c, jfunc *f, args *a) {
    jv self = f->self;
    if (self.t == JV_STR) {
        jstr s = self.u.s;
        switch (f->m) {
        case M_UPPER: return jv_str(str_case(c, s, 1));
        case M_LOWER: return jv_str(str_case(c, s, 0));
        case M_TITLE: return jv_str(str_case(c, s, 2));
        case M_CAPITALIZE: return jv_str(str_case(c, s, 3));
        case M_STRIP: return jv_str(str_trim(s, true, true));
        case M_LSTRIP: return jv_str(str_trim(s, true, false));
        case M_RSTRIP: return jv_str(str_trim(s, false, true));
        case M_STARTSWITH:
        case M_ENDSWITH: {
            const char *nm = f->m == M_STARTSWITH ? "startswith" : "endswith";
            if (!a->n) fail(c, "%s() requires at least one argument", nm);
            jv p = a->v[0];
            bool (*test)(jstr, jstr) = f->m == M_STARTSWITH ? str_starts : str_ends;
            if (p.t == JV_STR) return jv_bool(test(s, p.u.s));
            if (p.t == JV_ARRAY) {
                for (size_t i = 0; i < p.u.arr->n; i++) {
                    if (p.u.arr->v[i].t != JV_STR) fail(c, "%s() tuple elements must be strings", nm);
                    if (test(s, p.u.arr->v[i].u.s)) return jv_bool(true);
                }
                return jv_bool(false);
            }
            fail(c, "%s() argument must be a string or tuple of strings", nm);
        }
        case M_SPLIT: {
            jv sep = a->n > 0 ? a->v[0] : jv_null();
            jv max = a->n > 1 ? a->v[1] : jv_int(-1);
            return str_split(c, s, sep, max);
        }
        case M_REPLACE: {
            if (a->n < 2) fail(c, "replace() requires at least two arguments");
            if (a->v[0].t != JV_STR || a->v[1].t != JV_STR) fail(c, "replace() arguments must be strings");
            jv count = jv_null();
            if (a->n > 2) {
                if (a->v[2].t == JV_KWARGS) {
                    jv *cv = jobj_get(a->v[2].u.obj, "count", 5);
                    count = cv ? *cv : jv_null();
                } else {
                    count = a->v[2];
                }
            }
            if (count.t != JV_INT && count.t != JV_NULL) fail(c, "replace() count argument must be a number or null");
            return jv_str(str_replace(c, s, a->v[0].u.s, a->v[1].u.s, count.t == JV_INT ? count.num : NAN));
        }
        default: break;
        }
    } else if (is_obj(self)) {
        const jobj *o = self.u.obj;
        switch (f->m) {
        case M_GET: {
            jv k = argn(a, 0);
            if (k.t != JV_STR) fail(c, "object key must be a string: got %s", type_name(k));
            charge(c, 1 + o->n / 16);
            jv *v = jobj_get(o, k.u.s.p, k.u.s.n);
            if (v) return *v;
            return a->n > 1 ? a->v[1] : jv_null();
        }
        case M_ITEMS: return obj_pairs(c, o, 0);
        case M_KEYS: return obj_pairs(c, o, 1);
        case M_VALUES: return obj_pairs(c, o, 2);
        case M_DICTSORT: {
            jv kwv = jv_object(c->a, JV_KWARGS);
            size_t np = 0;
            jv pos[8];
            for (size_t i = 0; i < a->n; i++) {
                if (a->v[i].t == JV_KWARGS) kwv = a->v[i];
                else if (np < 8) pos[np++] = a->v[i];
            }
            jv cs = np > 0 ? pos[0] : kwarg(&kwv, "case_sensitive");
            if (cs.t == JV_UNDEF) cs = jv_bool(false);
            if (cs.t != JV_BOOL) fail(c, "dictsort: case_sensitive must be a boolean");
            jv by = np > 1 ? pos[1] : kwarg(&kwv, "by");
            if (by.t == JV_UNDEF) by = jv_cstr("key");
            if (by.t != JV_STR) fail(c, "dictsort: by must be a string");
            if (!jstr_eq(by.u.s, "key") && !jstr_eq(by.u.s, "value")) fail(c, "dictsort: by must be either 'key' or 'value'");
            jv rev = np > 2 ? pos[2] : kwarg(&kwv, "reverse");
            if (rev.t == JV_UNDEF) rev = jv_bool(false);
            if (rev.t != JV_BOOL) fail(c, "dictsort: reverse must be a boolean");
            jv items = obj_pairs(c, o, 0);
            size_t n = items.u.arr->n;
            sort_key *k = ja_alloc(c->a, (n + 1) * sizeof *k);
            bool by_key = jstr_eq(by.u.s, "key");
            for (size_t i = 0; i < n; i++) k[i] = (sort_key){items.u.arr->v[i], items.u.arr->v[i].u.arr->v[by_key ? 0 : 1]};
            sort_keys(c, k, n, cs.b, rev.b);
            for (size_t i = 0; i < n; i++) items.u.arr->v[i] = k[i].item;
            return items;
        }
        default: break;
        }
    }
    fail(c, "bad method call");
}

static jv call_macro(rctx *c, const char *name, const jnode *params, size_t np, jnode *const *pv, uint8_t flags,
                     args *a, jscope *scope) {
    (void)params;
    size_t n = a->n;
    jv kw = jv_object(c->a, JV_KWARGS);
    if (n && a->v[n - 1].t == JV_KWARGS) {
        const jobj *src = a->v[n - 1].u.obj;
        for (size_t i = 0; i < src->n; i++) jobj_set(c->a, kw.u.obj, src->k[i], src->v[i]);
        n--;
    }
    /* bind every parameter first, then evaluate the defaults in that scope */
    const jnode **pending = ja_alloc(c->a, (np + 1) * sizeof *pending);
    size_t npend = 0;
    for (size_t i = 0; i < np; i++) {
        const jnode *p = pv[i];
        jstr pname = p->str;
        jv v = jv_undef();
        bool have = false;
        if (i < n) v = a->v[i], have = true;
        if (!have) {
            jobj *ko = kw.u.obj;
            for (size_t k = 0; k < ko->n; k++)
                if (ko->k[k].n == pname.n && memcmp(ko->k[k].p, pname.p, pname.n) == 0) {
                    v = ko->v[k];
                    have = true;
                    /* delete, keeping the order of the rest */
                    memmove(&ko->k[k], &ko->k[k + 1], (ko->n - k - 1) * sizeof *ko->k);
                    memmove(&ko->v[k], &ko->v[k + 1], (ko->n - k - 1) * sizeof *ko->v);
                    ko->n--;
                    break;
                }
        }
        if (!have && p->kind == J_KWARG) pending[npend++] = p;
        scope_set(c, scope, pname, v);
    }
    if (flags & 2) {
        jv kwo = {.t = JV_OBJECT, .u.obj = kw.u.obj};
        scope_set(c, scope, (jstr){"kwargs", 6}, kwo);
    } else if (kw.u.obj->n)
        fail(c, "macro %s takes no keyword argument '%.*s'", name, (int)kw.u.obj->k[0].n, kw.u.obj->k[0].p);
    if (flags & 4) {
        jv va = jv_array(c->a, 0);
        for (size_t i = np; i < n; i++) jarr_push(c->a, va.u.arr, a->v[i]);
        scope_set(c, scope, (jstr){"varargs", 7}, va);
    } else if (n > np) {
        fail(c, "macro %s takes not more than %zu argument(s)", name, np);
    }
    for (size_t i = 0; i < npend; i++) scope_set(c, scope, pending[i]->str, eval(c, pending[i]->a, scope));
    return jv_undef();
}

static jv call_function(rctx *c, jv fv, args *a, jscope *env) {
    if (fv.t != JV_FUNC) fail(c, "cannot call something that is not a function: got %s", type_name(fv));
    jfunc *f = fv.u.fn;
    charge(c, 1);
    switch (f->kind) {
    case F_METHOD: return call_method(c, f, a);
    case F_RAISE: {
        jv m = argn(a, 0);
        jstr s = m.t == JV_UNDEF ? (jstr){"", 0} : to_js_string(c, m);
        ja_throw(c->a, XUAN_ERR_USAGE, "line %u: the template raised an exception: %.*s", (unsigned)c->line,
                 (int)(s.n > 300 ? 300 : s.n), s.p);
    }
    case F_STRFTIME: {
        jv fmt = argn(a, 0);
        jsb b;
        jsb_init(&b, c->a, c->max_output);
        strftime_js(c, &b, fmt.t == JV_STR ? fmt.u.s : to_js_string(c, fmt));
        return jv_str(jsb_str(&b));
    }
    case F_RANGE: {
        for (size_t i = 0; i < a->n; i++)
            if (!is_num(a->v[i]) && a->v[i].t != JV_BOOL) fail(c, "range() arguments must be numbers");
        double start = 0, stop, step = 1;
        if (a->n == 0) fail(c, "range() expects at least one argument");
        #define NUMV(v) ((v).t == JV_BOOL ? (double)(v).b : (v).num)
        if (a->n == 1) stop = NUMV(a->v[0]);
        else {
            start = NUMV(a->v[0]);
            stop = NUMV(a->v[1]);
            if (a->n > 2) step = NUMV(a->v[2]);
        }
        #undef NUMV
        if (step == 0) fail(c, "range() step must not be zero");
        double count = step > 0 ? ceil((stop - start) / step) : ceil((start - stop) / -step);
        if (!(count > 0)) count = 0;
        if (count > 1e9) charge(c, (uint64_t)1e12);
        charge(c, (uint64_t)count);
        jv out = jv_array(c->a, (size_t)count);
        size_t k = 0;
        for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (k == (size_t)count) break;
            out.u.arr->v[k++] = i == floor(i) ? jv_int(i) : jv_float(i);
        }
        out.u.arr->n = k;
        return out;
    }
    case F_NAMESPACE: {
        size_t n = a->n;
        jv *kw = kwargs_of(a);
        if (kw) n--;
        if (n > 1) fail(c, "namespace expected at most 1 argument, got %zu", n);
        jv ns = jv_object(c->a, JV_NAMESPACE);
        if (n == 1) {
            jv src = a->v[0];
            if (is_obj(src)) {
                for (size_t i = 0; i < src.u.obj->n; i++) jobj_set(c->a, ns.u.obj, src.u.obj->k[i], src.u.obj->v[i]);
            } else if (src.t == JV_ARRAY) {
                for (size_t i = 0; i < src.u.arr->n; i++) {
                    jv pair = src.u.arr->v[i];
                    if (pair.t != JV_ARRAY || pair.u.arr->n != 2)
                        fail(c, "namespace expected an object or an iterable of [key, value] pairs");
                    if (pair.u.arr->v[0].t != JV_STR) fail(c, "namespace keys must be strings");
                    jobj_set(c->a, ns.u.obj, pair.u.arr->v[0].u.s, pair.u.arr->v[1]);
                }
            } else {
                fail(c, "'%s' object is not iterable", type_name(src));
            }
        }
        if (kw)
            for (size_t i = 0; i < kw->u.obj->n; i++) jobj_set(c->a, ns.u.obj, kw->u.obj->k[i], kw->u.obj->v[i]);
        return ns;
    }
    case F_MACRO: {
        const jnode *m = f->node;
        enter(c);
        jscope *scope = scope_new(c, env);
        char name[80];
        snprintf(name, sizeof name, "'%.*s'", (int)(m->str.n > 60 ? 60 : m->str.n), m->str.p);
        call_macro(c, name, m, m->n, m->list, m->flag, a, scope);
        jv r = exec_capture(c, m->list2, m->n2, scope);
        c->depth--;
        return r;
    }
    case F_CALLER: {
        const jnode *cb = f->node;
        enter(c);
        jscope *scope = scope_new(c, f->env);
        call_macro(c, "None", cb, cb->n, cb->list, (uint8_t)(cb->flag & 6), a, scope);
        jv r = exec_capture(c, cb->list2, cb->n2, scope);
        c->depth--;
        return r;
    }
    }
    fail(c, "bad function");
}

/* evaluateArguments(): positional (with *spread) first, then keywords. */
static args eval_args(rctx *c, jnode *const *list, size_t n, jscope *env, bool always_kwargs) {
    args a = {ja_alloc(c->a, (n + 1) * sizeof(jv)), 0};
    size_t cap = n + 1;
    for (size_t i = 0; i < n; i++) {
        const jnode *x = list[i];
        if (x->kind == J_SPREAD) {
            jv v = eval(c, x->a, env);
            if (v.t != JV_ARRAY) fail(c, "cannot unpack non-iterable type: %s", type_name(v));
            if (a.n + v.u.arr->n + 1 > cap) {
                size_t nc = a.n + v.u.arr->n + n + 1;
                a.v = ja_grow(c->a, a.v, cap * sizeof(jv), nc * sizeof(jv));
                cap = nc;
            }
            charge(c, v.u.arr->n);
            for (size_t k = 0; k < v.u.arr->n; k++) a.v[a.n++] = v.u.arr->v[k];
        } else if (x->kind != J_KWARG && x->kind != J_KWSPREAD) {
            a.v[a.n++] = eval(c, x, env);
        }
    }
    jv kw = jv_object(c->a, JV_KWARGS);
    for (size_t i = 0; i < n; i++) {
        const jnode *x = list[i];
        if (x->kind == J_KWARG) {
            if (jobj_get(kw.u.obj, x->str.p, x->str.n))
                fail(c, "got multiple values for keyword argument '%.*s'", (int)x->str.n, x->str.p);
            jobj_set(c->a, kw.u.obj, x->str, eval(c, x->a, env));
        } else if (x->kind == J_KWSPREAD) {
            jv v = eval(c, x->a, env);
            if (!is_obj(v)) fail(c, "argument after ** must be a mapping, not %s", type_name(v));
            for (size_t k = 0; k < v.u.obj->n; k++) {
                if (jobj_get(kw.u.obj, v.u.obj->k[k].p, v.u.obj->k[k].n))
                    fail(c, "got multiple values for keyword argument '%.*s'", (int)v.u.obj->k[k].n, v.u.obj->k[k].p);
                jobj_set(c->a, kw.u.obj, v.u.obj->k[k], v.u.obj->v[k]);
            }
        }
    }
    if (kw.u.obj->n || always_kwargs) a.v[a.n++] = kw;
    return a;
}

/* ==== filters and tests ======================================================= */

/* getAttributeValue(item, "a.b.0") */
static jv attr_path(rctx *c, jv item, jstr path) {
    jv v = item;
    size_t i = 0;
    for (;;) {
        const char *dot = memchr(path.p + i, '.', path.n - i);
        size_t e = dot ? (size_t)(dot - path.p) : path.n;
        jstr part = {path.p + i, e - i};
        charge(c, 1);
        if (is_container(v)) {
            jv *x = jobj_get(v.u.obj, part.p, part.n);
            v = x ? *x : jv_undef();
        } else if (v.t == JV_ARRAY) {
            double ix = js_parse_number(part, true);
            if (!isnan(ix) && ix >= 0 && ix < (double)v.u.arr->n) v = v.u.arr->v[(size_t)ix];
            else return jv_undef();
        } else {
            return jv_undef();
        }
        if (!dot) return v;
        i = e + 1;
    }
}

static bool run_test(rctx *c, jstr name, jv v, jv arg) {
    if (jstr_eq(name, "boolean")) return v.t == JV_BOOL;
    if (jstr_eq(name, "callable")) return v.t == JV_FUNC;
    if (jstr_eq(name, "odd") || jstr_eq(name, "even")) {
        if (v.t != JV_INT) fail(c, "cannot %.*s on %s", (int)name.n, name.p, type_name(v));
        bool odd = fmod(v.num, 2) != 0;
        return jstr_eq(name, "odd") ? odd : !odd;
    }
    if (jstr_eq(name, "false")) return v.t == JV_BOOL && !v.b;
    if (jstr_eq(name, "true")) return v.t == JV_BOOL && v.b;
    if (jstr_eq(name, "none")) return v.t == JV_NULL;
    if (jstr_eq(name, "string")) return v.t == JV_STR;
    if (jstr_eq(name, "number")) return is_num(v);
    if (jstr_eq(name, "integer")) return v.t == JV_INT;
    if (jstr_eq(name, "iterable")) return (v.t == JV_ARRAY && !v.u.arr->tuple) || v.t == JV_STR;
    if (jstr_eq(name, "mapping")) return is_obj(v);
    if (jstr_eq(name, "sequence")) return v.t == JV_ARRAY || is_obj(v) || v.t == JV_STR;
    if (jstr_eq(name, "lower") || jstr_eq(name, "upper")) {
        if (v.t != JV_STR) return false;
        jstr t = str_case(c, v.u.s, jstr_eq(name, "upper") ? 1 : 0);
        return memcmp(t.p, v.u.s.p, t.n) == 0;
    }
    if (jstr_eq(name, "defined")) return v.t != JV_UNDEF;
    if (jstr_eq(name, "undefined")) return v.t == JV_UNDEF;
    if (jstr_eq(name, "equalto") || jstr_eq(name, "eq")) {
        /* a.value === b.value */
        if (arg.t == JV_UNDEF) return v.t == JV_UNDEF;
        return strict_eq(v, arg, false);
    }
    fail(c, "unknown test: %.*s", (int)name.n, name.p);
}

static jv filter_tojson(rctx *c, jv v, jv *kw) {
    jv indent = kwarg(kw, "indent");
    if (indent.t == JV_UNDEF) indent = jv_null();
    if (indent.t != JV_INT && indent.t != JV_NULL) fail(c, "tojson: if set, indent must be a number");
    jv ea = kwarg(kw, "ensure_ascii");
    if (ea.t == JV_UNDEF) ea = jv_bool(false);
    if (ea.t != JV_BOOL) fail(c, "tojson: if set, ensure_ascii must be a boolean");
    jv sk = kwarg(kw, "sort_keys");
    if (sk.t == JV_UNDEF) sk = jv_bool(false);
    if (sk.t != JV_BOOL) fail(c, "tojson: if set, sort_keys must be a boolean");
    jv seps = kwarg(kw, "separators");
    jstr isep, ksep;
    bool have_seps = false;
    if (seps.t == JV_ARRAY) {
        if (seps.u.arr->n != 2 || seps.u.arr->v[0].t != JV_STR || seps.u.arr->v[1].t != JV_STR)
            fail(c, "tojson: separators must be a tuple of two strings");
        isep = seps.u.arr->v[0].u.s;
        ksep = seps.u.arr->v[1].u.s;
        have_seps = true;
    } else if (seps.t != JV_NULL && seps.t != JV_UNDEF) {
        fail(c, "tojson: if set, separators must be a tuple of two strings");
    }
    double ind = indent.t == JV_INT ? indent.num : 0;
    if (ind > 64) ind = 64; /* " ".repeat(indent) with a sane bound */
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    jv_tojson(&b, v, ind > 0 ? (int)ind : 0, ea.b, sk.b, have_seps ? &isep : NULL, have_seps ? &ksep : NULL, true, 0);
    charge(c, b.n / 64);
    return jv_str(jsb_str(&b));
}

static jv filter_join(rctx *c, jv v, jstr sep, bool by_code_point) {
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    if (by_code_point) {
        jstr s = v.u.s;
        for (size_t i = 0; i < s.n;) {
            if (i) jsb_put(&b, sep.p, sep.n);
            size_t k = utf8_char_len(s.p + i, s.n - i);
            jsb_put(&b, s.p + i, k);
            i += k;
        }
    } else {
        const jarr *a = v.u.arr;
        charge(c, a->n);
        for (size_t i = 0; i < a->n; i++) {
            if (i) jsb_put(&b, sep.p, sep.n);
            /* Array.join(): null / undefined elements are empty */
            jv x = a->v[i];
            if (x.t != JV_UNDEF && x.t != JV_NULL) jv_js_tostring(&b, x);
        }
    }
    return jv_str(jsb_str(&b));
}

static jv filter_indent(rctx *c, jstr s, double width, bool first, bool blank) {
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    size_t i = 0, line = 0;
    charge(c, s.n / 16);
    for (;;) {
        const char *nl = memchr(s.p + i, '\n', s.n - i);
        size_t e = nl ? (size_t)(nl - s.p) : s.n;
        bool skip = (!first && line == 0) || (!blank && e == i);
        if (!skip)
            for (double k = 0; k < width; k++) jsb_putc(&b, ' ');
        jsb_put(&b, s.p + i, e - i);
        if (!nl) break;
        jsb_putc(&b, '\n');
        i = e + 1;
        line++;
    }
    return jv_str(jsb_str(&b));
}

static jv array_copy(rctx *c, const jarr *a) {
    jv out = jv_array(c->a, a->n);
    charge(c, a->n);
    if (a->n) memcpy(out.u.arr->v, a->v, a->n * sizeof(jv));
    out.u.arr->n = a->n;
    return out;
}

static jv filter_sort(rctx *c, jv v, bool reverse, bool cs, jv attribute) {
    const jarr *a = v.u.arr;
    sort_key *k = ja_alloc(c->a, (a->n + 1) * sizeof *k);
    char buf[40];
    jstr path = {0};
    if (attribute.t == JV_STR) path = attribute.u.s;
    else if (attribute.t == JV_INT) {
        js_number(attribute.num, buf);
        path = str_dup(c, buf, strlen(buf));
    }
    for (size_t i = 0; i < a->n; i++)
        k[i] = (sort_key){a->v[i], attribute.t == JV_NULL ? a->v[i] : attr_path(c, a->v[i], path)};
    sort_keys(c, k, a->n, cs, reverse);
    jv out = jv_array(c->a, a->n);
    for (size_t i = 0; i < a->n; i++) out.u.arr->v[i] = k[i].item;
    out.u.arr->n = a->n;
    return out;
}

static jv orv(jv a, jv b) { return a.t != JV_UNDEF ? a : b; }

static jv apply_filter(rctx *c, jv v, const jnode *f, jscope *env) {
    charge(c, 1);
    if (f->kind == J_IDENT) {
        jstr n = f->str;
        if (jstr_eq(n, "safe")) return v;
        if (jstr_eq(n, "tojson")) return filter_tojson(c, v, NULL);
        if (v.t == JV_ARRAY) {
            const jarr *a = v.u.arr;
            if (jstr_eq(n, "list")) return v;
            if (jstr_eq(n, "first") || jstr_eq(n, "last")) {
                if (!a->n) fail(c, "%.*s of an empty list", (int)n.n, n.p);
                return a->v[jstr_eq(n, "first") ? 0 : a->n - 1];
            }
            if (jstr_eq(n, "length")) return jv_int((double)a->n);
            if (jstr_eq(n, "reverse")) {
                jv out = array_copy(c, a);
                for (size_t i = 0; i < a->n / 2; i++) {
                    jv t = out.u.arr->v[i];
                    out.u.arr->v[i] = out.u.arr->v[a->n - 1 - i];
                    out.u.arr->v[a->n - 1 - i] = t;
                }
                return out;
            }
            if (jstr_eq(n, "sort")) return filter_sort(c, v, false, false, jv_null());
            if (jstr_eq(n, "join")) {
                /* .map(x => x.value).join(""): the JS values' own strings */
                return filter_join(c, v, (jstr){"", 0}, false);
            }
            if (jstr_eq(n, "string")) {
                jsb b;
                jsb_init(&b, c->a, c->max_output);
                jv_tojson(&b, v, 0, false, false, NULL, NULL, false, 0);
                return jv_str(jsb_str(&b));
            }
            if (jstr_eq(n, "unique")) {
                jv out = jv_array(c->a, 0);
                charge(c, a->n * (a->n / 16 + 1));
                for (size_t i = 0; i < a->n; i++) {
                    bool seen = false;
                    for (size_t k = 0; k < out.u.arr->n && !seen; k++) seen = strict_eq(out.u.arr->v[k], a->v[i], true);
                    if (!seen) jarr_push(c->a, out.u.arr, a->v[i]);
                }
                return out;
            }
            fail(c, "unknown ArrayValue filter: %.*s", (int)n.n, n.p);
        }
        if (v.t == JV_STR) {
            jstr s = v.u.s;
            if (jstr_eq(n, "length")) return jv_int((double)js_length(s));
            if (jstr_eq(n, "upper")) return jv_str(str_case(c, s, 1));
            if (jstr_eq(n, "lower")) return jv_str(str_case(c, s, 0));
            if (jstr_eq(n, "title")) return jv_str(str_case(c, s, 2));
            if (jstr_eq(n, "capitalize")) return jv_str(str_case(c, s, 3));
            if (jstr_eq(n, "trim")) return jv_str(str_trim(s, true, true));
            if (jstr_eq(n, "indent")) return filter_indent(c, s, 4, false, false);
            if (jstr_eq(n, "join") || jstr_eq(n, "string")) return v;
            if (jstr_eq(n, "int")) {
                double x = js_parse_number(s, true);
                return jv_int(isnan(x) ? 0 : x);
            }
            if (jstr_eq(n, "float")) {
                double x = js_parse_number(s, false);
                return jv_float(isnan(x) ? 0 : x);
            }
            fail(c, "unknown StringValue filter: %.*s", (int)n.n, n.p);
        }
        if (is_num(v)) {
            if (jstr_eq(n, "abs")) return v.t == JV_INT ? jv_int(fabs(v.num)) : jv_float(fabs(v.num));
            if (jstr_eq(n, "int")) return jv_int(floor(v.num));
            if (jstr_eq(n, "float")) return jv_float(v.num);
            if (jstr_eq(n, "string")) return jv_str(print_string(c, v));
            fail(c, "unknown NumericValue filter: %.*s", (int)n.n, n.p);
        }
        if (is_obj(v)) {
            if (jstr_eq(n, "items")) return obj_pairs(c, v.u.obj, 0);
            if (jstr_eq(n, "length")) return jv_int((double)v.u.obj->n);
            static const struct { const char *name; method m; } om[] = {
                {"get", M_GET}, {"keys", M_KEYS}, {"values", M_VALUES}, {"dictsort", M_DICTSORT}};
            for (size_t i = 0; i < sizeof om / sizeof om[0]; i++)
                if (jstr_eq(n, om[i].name)) {
                    jv fn = method_of(c, v, om[i].m);
                    args none = {NULL, 0};
                    return call_method(c, fn.u.fn, &none);
                }
            fail(c, "unknown ObjectValue filter: %.*s", (int)n.n, n.p);
        }
        if (v.t == JV_BOOL) {
            if (jstr_eq(n, "bool")) return v;
            if (jstr_eq(n, "int")) return jv_int(v.b);
            if (jstr_eq(n, "float")) return jv_float(v.b);
            if (jstr_eq(n, "string")) return jv_cstr(v.b ? "true" : "false");
            fail(c, "unknown BooleanValue filter: %.*s", (int)n.n, n.p);
        }
        fail(c, "cannot apply filter \"%.*s\" to type: %s", (int)n.n, n.p, type_name(v));
    }
    /* a call: name(args) */
    jstr n = f->a->str;
    args a = eval_args(c, f->list, f->n, env, false);
    jv *kw = kwargs_of(&a);
    size_t np = kw ? a.n - 1 : a.n;
    #define POS(i) ((i) < np ? a.v[i] : jv_undef())
    if (jstr_eq(n, "tojson")) return filter_tojson(c, v, kw);
    if (jstr_eq(n, "join")) {
        if (v.t != JV_STR && v.t != JV_ARRAY) fail(c, "cannot apply filter \"join\" to type: %s", type_name(v));
        jv sep = orv(orv(POS(0), kwarg(kw, "separator")), jv_cstr(""));
        if (sep.t != JV_STR) fail(c, "join: separator must be a string");
        return filter_join(c, v, sep.u.s, v.t == JV_STR);
    }
    if (jstr_eq(n, "int") || jstr_eq(n, "float")) {
        bool is_int = jstr_eq(n, "int");
        jv def = orv(orv(POS(0), kwarg(kw, "default")), is_int ? jv_int(0) : jv_float(0));
        if (v.t == JV_STR) {
            double x = js_parse_number(v.u.s, is_int);
            return isnan(x) ? def : is_int ? jv_int(x) : jv_float(x);
        }
        if (is_num(v)) return v;
        if (v.t == JV_BOOL) return is_int ? jv_int(v.b) : jv_float(v.b);
        fail(c, "cannot apply filter \"%.*s\" to type: %s", (int)n.n, n.p, type_name(v));
    }
    if (jstr_eq(n, "default")) {
        jv def = orv(POS(0), jv_cstr(""));
        jv boolean = orv(orv(POS(1), kwarg(kw, "boolean")), jv_bool(false));
        if (boolean.t != JV_BOOL) fail(c, "`default` filter flag must be a boolean");
        if (v.t == JV_UNDEF || (boolean.b && !truthy(v))) return def;
        return v;
    }
    if (v.t == JV_ARRAY) {
        const jarr *arr = v.u.arr;
        if (jstr_eq(n, "sort")) {
            jv rev = orv(orv(POS(0), kwarg(kw, "reverse")), jv_bool(false));
            if (rev.t != JV_BOOL) fail(c, "sort: reverse must be a boolean");
            jv cs = orv(orv(POS(1), kwarg(kw, "case_sensitive")), jv_bool(false));
            if (cs.t != JV_BOOL) fail(c, "sort: case_sensitive must be a boolean");
            jv attr = orv(orv(POS(2), kwarg(kw, "attribute")), jv_null());
            if (attr.t != JV_STR && attr.t != JV_INT && attr.t != JV_NULL)
                fail(c, "sort: attribute must be a string, integer, or null");
            return filter_sort(c, v, rev.b, cs.b, attr);
        }
        if (jstr_eq(n, "selectattr") || jstr_eq(n, "rejectattr")) {
            bool select = jstr_eq(n, "selectattr");
            for (size_t i = 0; i < arr->n; i++)
                if (!is_container(arr->v[i])) fail(c, "`%.*s` can only be applied to array of objects", (int)n.n, n.p);
            for (size_t i = 0; i < f->n; i++)
                if (f->list[i]->kind != J_STR) fail(c, "arguments of `%.*s` must be strings", (int)n.n, n.p);
            jv attr = argn(&a, 0), test = argn(&a, 1), val = argn(&a, 2);
            if (attr.t != JV_STR) fail(c, "`%.*s` needs an attribute name", (int)n.n, n.p);
            jv out = jv_array(c->a, 0);
            charge(c, arr->n);
            for (size_t i = 0; i < arr->n; i++) {
                jv *x = jobj_get(arr->v[i].u.obj, attr.u.s.p, attr.u.s.n);
                bool r = false;
                if (x) r = test.t == JV_STR ? run_test(c, test.u.s, *x, val) : truthy(*x);
                if (select ? r : !r) jarr_push(c->a, out.u.arr, arr->v[i]);
            }
            return out;
        }
        if (jstr_eq(n, "map")) {
            jv attr = kwarg(kw, "attribute");
            if (attr.t == JV_UNDEF) fail(c, "`map` expressions without `attribute` set are not currently supported");
            if (attr.t != JV_STR) fail(c, "map: attribute must be a string");
            jv def = kwarg(kw, "default");
            jv out = jv_array(c->a, arr->n);
            for (size_t i = 0; i < arr->n; i++) {
                if (!is_container(arr->v[i])) fail(c, "items in map must be an object");
                jv x = attr_path(c, arr->v[i], attr.u.s);
                out.u.arr->v[i] = x.t == JV_UNDEF ? def : x;
            }
            out.u.arr->n = arr->n;
            return out;
        }
        fail(c, "unknown ArrayValue filter: %.*s", (int)n.n, n.p);
    }
    if (v.t == JV_STR) {
        if (jstr_eq(n, "indent")) {
            jv width = orv(orv(POS(0), kwarg(kw, "width")), jv_int(4));
            if (width.t != JV_INT) fail(c, "indent: width must be a number");
            jv first = orv(orv(POS(1), kwarg(kw, "first")), jv_bool(false));
            jv blank = orv(orv(POS(2), kwarg(kw, "blank")), jv_bool(false));
            double w = width.num > 4096 ? 4096 : width.num;
            return filter_indent(c, v.u.s, w, truthy(first), truthy(blank));
        }
        if (jstr_eq(n, "replace")) {
            jv fn = method_of(c, v, M_REPLACE);
            /* [...args, KeywordArgumentsValue(kwargs)] */
            args b = {ja_alloc(c->a, (a.n + 2) * sizeof(jv)), 0};
            for (size_t i = 0; i < np; i++) b.v[b.n++] = a.v[i];
            b.v[b.n++] = kw ? *kw : jv_object(c->a, JV_KWARGS);
            return call_method(c, fn.u.fn, &b);
        }
        fail(c, "unknown StringValue filter: %.*s", (int)n.n, n.p);
    }
    if (is_obj(v)) {
        static const struct { const char *name; method m; } om[] = {
            {"get", M_GET}, {"items", M_ITEMS}, {"keys", M_KEYS}, {"values", M_VALUES}, {"dictsort", M_DICTSORT}};
        for (size_t i = 0; i < sizeof om / sizeof om[0]; i++)
            if (jstr_eq(n, om[i].name)) {
                jv fn = method_of(c, v, om[i].m);
                return call_method(c, fn.u.fn, &a);
            }
        fail(c, "unknown ObjectValue filter: %.*s", (int)n.n, n.p);
    }
    #undef POS
    fail(c, "cannot apply filter \"%.*s\" to type: %s", (int)n.n, n.p, type_name(v));
}

/* ==== expressions ============================================================= */

static jv slice_of(rctx *c, jv obj, const jnode *sl, jscope *env) {
    if (obj.t != JV_ARRAY && obj.t != JV_STR) fail(c, "slice object must be an array or string");
    jv st = sl->a ? eval(c, sl->a, env) : jv_undef();
    jv sp = sl->b ? eval(c, sl->b, env) : jv_undef();
    jv stp = sl->c ? eval(c, sl->c, env) : jv_undef();
    if ((st.t != JV_INT && st.t != JV_UNDEF) || (sp.t != JV_INT && sp.t != JV_UNDEF) ||
        (stp.t != JV_INT && stp.t != JV_UNDEF))
        fail(c, "slice indices must be integers or undefined");
    size_t len;
    size_t *off = NULL;
    if (obj.t == JV_ARRAY) len = obj.u.arr->n;
    else off = code_points(c, obj.u.s, &len);
    double L = (double)len, step = stp.t == JV_INT ? stp.num : 1;
    double dir = step > 0 ? 1 : step < 0 ? -1 : 0, start, stop;
    if (dir >= 0) {
        start = st.t == JV_INT ? st.num : 0;
        start = start < 0 ? fmax(L + start, 0) : fmin(start, L);
        stop = sp.t == JV_INT ? sp.num : L;
        stop = stop < 0 ? fmax(L + stop, 0) : fmin(stop, L);
    } else {
        start = st.t == JV_INT ? st.num : L - 1;
        start = start < 0 ? fmax(L + start, -1) : fmin(start, L - 1);
        stop = sp.t == JV_INT ? sp.num : -1;
        stop = stop < -1 ? fmax(L + stop, -1) : fmin(stop, L - 1);
    }
    jv out = obj.t == JV_ARRAY ? jv_array(c->a, 0) : jv_undef();
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    for (double i = start; dir * i < dir * stop; i += step) {
        charge(c, 1);
        size_t k = (size_t)i;
        if (obj.t == JV_ARRAY) jarr_push(c->a, out.u.arr, obj.u.arr->v[k]);
        else jsb_put(&b, obj.u.s.p + off[k], off[k + 1] - off[k]);
    }
    return obj.t == JV_ARRAY ? out : jv_str(jsb_str(&b));
}

/* s.at(i) on UTF-16 units; a character outside the BMP answers at its first unit */
static jv string_at(rctx *c, jstr s, double i) {
    double L = (double)js_length(s);
    if (i < 0) i += L;
    if (i < 0 || i >= L) return jv_undef();
    size_t unit = 0;
    for (size_t p = 0; p < s.n;) {
        size_t k = utf8_char_len(s.p + p, s.n - p);
        size_t w = (unsigned char)s.p[p] >= 0xF0 ? 2 : 1;
        if ((double)unit == i) return jv_str(str_dup(c, s.p + p, k));
        if (w == 2 && (double)unit + 1 == i) return jv_cstr("");
        unit += w;
        p += k;
    }
    return jv_undef();
}

static jv member(rctx *c, jv obj, jv prop) {
    if (is_container(obj)) {
        if (prop.t != JV_STR) fail(c, "cannot access property with non-string: got %s", type_name(prop));
        charge(c, 1 + obj.u.obj->n / 16);
        jv *x = jobj_get(obj.u.obj, prop.u.s.p, prop.u.s.n);
        if (x) return *x;
        if (is_obj(obj)) {
            static const struct { const char *name; method m; } om[] = {
                {"get", M_GET}, {"items", M_ITEMS}, {"keys", M_KEYS}, {"values", M_VALUES}, {"dictsort", M_DICTSORT}};
            for (size_t i = 0; i < sizeof om / sizeof om[0]; i++)
                if (jstr_eq(prop.u.s, om[i].name)) return method_of(c, obj, om[i].m);
        }
        return jv_undef();
    }
    if (obj.t == JV_ARRAY || obj.t == JV_STR) {
        if (prop.t == JV_INT) {
            if (obj.t == JV_STR) return string_at(c, obj.u.s, trunc(prop.num));
            double i = trunc(prop.num), L = (double)obj.u.arr->n;
            if (i < 0) i += L;
            return i >= 0 && i < L ? obj.u.arr->v[(size_t)i] : jv_undef();
        }
        if (prop.t != JV_STR) fail(c, "cannot access property with non-string/non-number: got %s", type_name(prop));
        if (jstr_eq(prop.u.s, "length"))
            return jv_int(obj.t == JV_STR ? (double)js_length(obj.u.s) : (double)obj.u.arr->n);
        if (obj.t == JV_STR) {
            static const struct { const char *name; method m; } sm[] = {
                {"upper", M_UPPER}, {"lower", M_LOWER}, {"strip", M_STRIP}, {"title", M_TITLE},
                {"capitalize", M_CAPITALIZE}, {"rstrip", M_RSTRIP}, {"lstrip", M_LSTRIP},
                {"startswith", M_STARTSWITH}, {"endswith", M_ENDSWITH}, {"split", M_SPLIT}, {"replace", M_REPLACE}};
            for (size_t i = 0; i < sizeof sm / sizeof sm[0]; i++)
                if (jstr_eq(prop.u.s, sm[i].name)) return method_of(c, obj, sm[i].m);
        }
        return jv_undef();
    }
    if (prop.t != JV_STR) fail(c, "cannot access property with non-string: got %s", type_name(prop));
    return jv_undef();
}

static jv binary(rctx *c, const jnode *x, jscope *env) {
    jop op = (jop)x->op;
    jv l = eval(c, x->a, env);
    if (op == OP_AND) return truthy(l) ? eval(c, x->b, env) : l;
    if (op == OP_OR) return truthy(l) ? l : eval(c, x->b, env);
    jv r = eval(c, x->b, env);
    c->line = x->line;
    if (op == OP_EQ) return jv_bool(loose_eq(c, l, r, 0));
    if (op == OP_NE) return jv_bool(!loose_eq(c, l, r, 0));
    if (l.t == JV_UNDEF || r.t == JV_UNDEF) {
        if (r.t == JV_UNDEF && (op == OP_IN || op == OP_NOTIN)) return jv_bool(op == OP_NOTIN);
        fail(c, "cannot perform an operation on undefined values");
    }
    if (l.t == JV_NULL || r.t == JV_NULL) fail(c, "cannot perform an operation on null values");
    if (op == OP_CONCAT) {
        jstr a = to_js_string(c, l), b = to_js_string(c, r);
        jsb s;
        jsb_init(&s, c->a, c->max_output);
        jsb_put(&s, a.p, a.n);
        jsb_put(&s, b.p, b.n);
        charge(c, s.n / 256);
        return jv_str(jsb_str(&s));
    }
    bool ln = is_num(l) || l.t == JV_BOOL, rn = is_num(r) || r.t == JV_BOOL;
    if (op == OP_POW && ln && rn) {
        double a = l.t == JV_BOOL ? l.b : l.num, b = r.t == JV_BOOL ? r.b : r.num;
        if (a == 0 && b < 0) fail(c, "0.0 cannot be raised to a negative power");
        double res = pow(a, b);
        if (!isfinite(res)) fail(c, "exponentiation result is not a finite real number");
        return (l.t == JV_FLOAT || r.t == JV_FLOAT || b < 0) ? jv_float(res) : jv_int(res);
    } else if (is_num(l) && is_num(r)) {
        double a = l.num, b = r.num;
        bool fl = l.t == JV_FLOAT || r.t == JV_FLOAT;
        switch (op) {
        case OP_ADD: return fl ? jv_float(a + b) : jv_int(a + b);
        case OP_SUB: return fl ? jv_float(a - b) : jv_int(a - b);
        case OP_MUL: return fl ? jv_float(a * b) : jv_int(a * b);
        case OP_DIV: return jv_float(a / b);
        case OP_FLOORDIV: return fl ? jv_float(floor(a / b)) : jv_int(floor(a / b));
        case OP_MOD: return fl ? jv_float(fmod(a, b)) : jv_int(fmod(a, b));
        case OP_LT: return jv_bool(a < b);
        case OP_GT: return jv_bool(a > b);
        case OP_GE: return jv_bool(a >= b);
        case OP_LE: return jv_bool(a <= b);
        default: break;
        }
    } else if (l.t == JV_ARRAY && r.t == JV_ARRAY) {
        if (op == OP_ADD) {
            jv out = jv_array(c->a, l.u.arr->n + r.u.arr->n);
            charge(c, l.u.arr->n + r.u.arr->n);
            if (l.u.arr->n) memcpy(out.u.arr->v, l.u.arr->v, l.u.arr->n * sizeof(jv));
            if (r.u.arr->n) memcpy(out.u.arr->v + l.u.arr->n, r.u.arr->v, r.u.arr->n * sizeof(jv));
            out.u.arr->n = l.u.arr->n + r.u.arr->n;
            return out;
        }
    } else if (r.t == JV_ARRAY) {
        if (op == OP_IN || op == OP_NOTIN) {
            bool found = false;
            charge(c, r.u.arr->n);
            for (size_t i = 0; i < r.u.arr->n && !found; i++) found = strict_eq(r.u.arr->v[i], l, false);
            return jv_bool(op == OP_IN ? found : !found);
        }
    }
    if ((l.t == JV_STR || r.t == JV_STR) && op == OP_ADD) {
        jstr a = to_js_string(c, l), b = to_js_string(c, r);
        jsb s;
        jsb_init(&s, c->a, c->max_output);
        jsb_put(&s, a.p, a.n);
        jsb_put(&s, b.p, b.n);
        charge(c, s.n / 256);
        return jv_str(jsb_str(&s));
    }
    if (l.t == JV_STR && r.t == JV_STR && (op == OP_IN || op == OP_NOTIN)) {
        charge(c, r.u.s.n / 64);
        bool found = str_find(r.u.s, 0, l.u.s) != NULL;
        return jv_bool(op == OP_IN ? found : !found);
    }
    if (l.t == JV_STR && is_obj(r) && (op == OP_IN || op == OP_NOTIN)) {
        bool found = jobj_get(r.u.obj, l.u.s.p, l.u.s.n) != NULL;
        return jv_bool(op == OP_IN ? found : !found);
    }
    static const char *ops[] = {"", "+", "-", "~", "*", "/", "//", "%", "**", "==", "!=", "<", ">", "<=", ">=",
                                "and", "or", "not", "in", "not in", "+", "-"};
    fail(c, "unknown operator \"%s\" between %s and %s", ops[op], type_name(l), type_name(r));
}

static jv eval(rctx *c, const jnode *x, jscope *env) {
    if (!x) return jv_undef();
    c->line = x->line;
    charge(c, 1);
    enter(c);
    jv r;
    switch ((jkind)x->kind) {
    case J_STR: r = jv_str(x->str); break;
    case J_INT: r = jv_int(x->num); break;
    case J_FLOAT: r = jv_float(x->num); break;
    case J_ARRAY:
    case J_TUPLE:
        r = jv_array(c->a, x->n);
        for (size_t i = 0; i < x->n; i++) r.u.arr->v[i] = eval(c, x->list[i], env);
        r.u.arr->n = x->n;
        r.u.arr->tuple = x->kind == J_TUPLE;
        break;
    case J_OBJECT:
        r = jv_object(c->a, JV_OBJECT);
        for (size_t i = 0; i < x->n; i++) {
            jv k = eval(c, x->list[i], env);
            if (k.t != JV_STR) fail(c, "object keys must be strings: got %s", type_name(k));
            jobj_set(c->a, r.u.obj, k.u.s, eval(c, x->list2[i], env));
        }
        break;
    case J_IDENT: r = scope_get(c, env, x->str); break;
    case J_MEMBER: {
        jv obj = eval(c, x->a, env);
        c->line = x->line;
        if (x->flag && x->b->kind == J_SLICE) {
            r = slice_of(c, obj, x->b, env);
            break;
        }
        jv prop;
        if (x->flag) prop = eval(c, x->b, env);
        else if (x->b->kind == J_INT) prop = jv_int(x->b->num);
        else prop = jv_str(x->b->str);
        c->line = x->line;
        r = member(c, obj, prop);
        break;
    }
    case J_CALL: {
        args a = eval_args(c, x->list, x->n, env, false);
        jv fn = eval(c, x->a, env);
        c->line = x->line;
        r = call_function(c, fn, &a, env);
        break;
    }
    case J_UNARY: {
        jv v = eval(c, x->a, env);
        c->line = x->line;
        if (x->op == OP_NOT) {
            r = jv_bool(!truthy(v));
            break;
        }
        if (!is_num(v) && v.t != JV_BOOL) fail(c, "unknown operator \"%s\" for %s", x->op == OP_NEG ? "-" : "+", type_name(v));
        double n = v.t == JV_BOOL ? v.b : v.num;
        if (x->op == OP_NEG) n = -n;
        r = v.t == JV_FLOAT ? jv_float(n) : jv_int(n);
        break;
    }
    case J_BINARY: r = binary(c, x, env); break;
    case J_FILTER: {
        jv v = eval(c, x->a, env);
        c->line = x->line;
        if (x->flag & 2) {
            jstr n = x->b->kind == J_CALL ? x->b->a->str : x->b->str;
            fail(c, "unsupported filter '%.*s'", (int)n.n, n.p);
        }
        r = apply_filter(c, v, x->b, env);
        break;
    }
    case J_TEST: {
        jv v = eval(c, x->a, env);
        c->line = x->line;
        if (x->flag & 2) fail(c, "unsupported test '%.*s'", (int)x->str.n, x->str.p);
        bool t = run_test(c, x->str, v, jv_undef());
        r = jv_bool((x->flag & 1) ? !t : t);
        break;
    }
    case J_SELECT: r = truthy(eval(c, x->b, env)) ? eval(c, x->a, env) : jv_undef(); break;
    case J_TERNARY: r = truthy(eval(c, x->a, env)) ? eval(c, x->b, env) : eval(c, x->c, env); break;
    default: fail(c, "this construct is not an expression");
    }
    c->depth--;
    return r;
}

/* ==== statements ============================================================== */

static void exec_block(rctx *c, jnode *const *body, size_t n, jscope *env, jsb *out);

static jv exec_capture(rctx *c, jnode *const *body, size_t n, jscope *env) {
    jsb b;
    jsb_init(&b, c->a, c->max_output);
    exec_block(c, body, n, env, &b);
    return jv_str(jsb_str(&b));
}

static void assign(rctx *c, const jnode *target, jv v, jscope *env) {
    if (target->kind == J_IDENT) {
        scope_set(c, env, target->str, v);
    } else if (target->kind == J_TUPLE) {
        if (v.t != JV_ARRAY) fail(c, "cannot unpack non-iterable type in set: %s", type_name(v));
        if (v.u.arr->n != target->n)
            fail(c, "too %s items to unpack in set", target->n > v.u.arr->n ? "few" : "many");
        for (size_t i = 0; i < target->n; i++) {
            if (target->list[i]->kind != J_IDENT) fail(c, "cannot unpack to a non-identifier in set");
            scope_set(c, env, target->list[i]->str, v.u.arr->v[i]);
        }
    } else if (target->kind == J_MEMBER) {
        jv obj = eval(c, target->a, env);
        c->line = target->line;
        if (obj.t != JV_NAMESPACE) fail(c, "cannot assign an attribute on a non-namespace object");
        if (target->flag || target->b->kind != J_IDENT) fail(c, "cannot assign to a member with a non-identifier property");
        jobj_set(c->a, obj.u.obj, target->b->str, v);
    } else {
        fail(c, "invalid left-hand side in set");
    }
}

static void exec_for(rctx *c, const jnode *x, jscope *env, jsb *out) {
    jscope *scope = scope_new(c, env);
    const jnode *test = NULL;
    jv it;
    if (x->b->kind == J_SELECT) {
        it = eval(c, x->b->a, scope);
        test = x->b->b;
    } else {
        it = eval(c, x->b, scope);
    }
    c->line = x->line;
    if (it.t != JV_ARRAY && !is_obj(it)) fail(c, "expected iterable or object type in for loop: got %s", type_name(it));
    if (is_obj(it)) it = obj_pairs(c, it.u.obj, 1);
    const jarr *src = it.u.arr;
    const jnode *var = x->a;
    /* without a filter the items are the iterable itself (nothing can
     * change an array while it is iterated) */
    jv *items = src->v;
    size_t n = src->n;
    if (test || var->kind == J_TUPLE) {
        items = test ? ja_alloc(c->a, (src->n + 1) * sizeof(jv)) : src->v;
        n = 0;
        for (size_t i = 0; i < src->n; i++) {
            jv cur = src->v[i];
            charge(c, 1);
            if (var->kind == J_TUPLE) {
                if (cur.t != JV_ARRAY || cur.u.arr->tuple) fail(c, "cannot unpack non-iterable type: %s", type_name(cur));
                if (cur.u.arr->n != var->n) fail(c, "too %s items to unpack", var->n > cur.u.arr->n ? "few" : "many");
            }
            if (test) {
                jscope *ls = scope_new(c, scope);
                assign(c, var, cur, ls);
                if (!truthy(eval(c, test, ls))) continue;
                items[n] = cur;
            }
            n++;
        }
    }
    bool none = true;
    /* One loop object, updated in place: the reference makes a new one per
     * iteration, which only a template that keeps `loop` itself could tell. */
    jv loop = jv_object(c->a, JV_OBJECT);
    for (size_t i = 0; i < n; i++) {
        jobj *o = loop.u.obj;
        jobj_set(c->a, o, (jstr){"index", 5}, jv_int((double)i + 1));
        jobj_set(c->a, o, (jstr){"index0", 6}, jv_int((double)i));
        jobj_set(c->a, o, (jstr){"revindex", 8}, jv_int((double)(n - i)));
        jobj_set(c->a, o, (jstr){"revindex0", 9}, jv_int((double)(n - i - 1)));
        jobj_set(c->a, o, (jstr){"first", 5}, jv_bool(i == 0));
        jobj_set(c->a, o, (jstr){"last", 4}, jv_bool(i == n - 1));
        jobj_set(c->a, o, (jstr){"length", 6}, jv_int((double)n));
        jobj_set(c->a, o, (jstr){"previtem", 8}, i > 0 ? items[i - 1] : jv_undef());
        jobj_set(c->a, o, (jstr){"nextitem", 8}, i + 1 < n ? items[i + 1] : jv_undef());
        scope_set(c, scope, (jstr){"loop", 4}, loop);
        assign(c, var, items[i], scope);
        size_t mark = out->n;
        exec_block(c, x->list, x->n, scope, out);
        if (c->ctrl != CTRL_NONE) {
            /* the reference throws out of the body: this iteration's text is lost */
            ctrl_t k = c->ctrl;
            c->ctrl = CTRL_NONE;
            out->n = mark;
            if (out->p) out->p[mark] = 0;
            if (k == CTRL_BREAK) break;
            continue;
        }
        none = false;
    }
    if (none) exec_block(c, x->list2, x->n2, scope, out);
}

static void exec_node(rctx *c, const jnode *x, jscope *env, jsb *out) {
    c->line = x->line;
    charge(c, 1);
    switch ((jkind)x->kind) {
    case J_COMMENT: return;
    case J_IF:
        enter(c);
        if (truthy(eval(c, x->a, env))) exec_block(c, x->list, x->n, env, out);
        else exec_block(c, x->list2, x->n2, env, out);
        c->depth--;
        return;
    case J_FOR:
        enter(c);
        exec_for(c, x, env, out);
        c->depth--;
        return;
    case J_SET: {
        jv v = x->b ? eval(c, x->b, env) : exec_capture(c, x->list, x->n, env);
        c->line = x->line;
        assign(c, x->a, v, env);
        return;
    }
    case J_MACRO: {
        jv f = mkfunc(c, F_MACRO);
        f.u.fn->node = x;
        scope_set(c, env, x->str, f);
        return;
    }
    case J_CALLBLOCK: {
        jv caller = mkfunc(c, F_CALLER);
        caller.u.fn->node = x;
        caller.u.fn->env = env;
        const jnode *call = x->a;
        args a = eval_args(c, call->list, call->n, env, true);
        jv fn = eval(c, call->a, env);
        c->line = x->line;
        if (fn.t != JV_FUNC) fail(c, "cannot call something that is not a function: got %s", type_name(fn));
        jscope *ne = scope_new(c, env);
        scope_set(c, ne, (jstr){"caller", 6}, caller);
        jv r = call_function(c, fn, &a, ne);
        if (r.t != JV_NULL && r.t != JV_UNDEF) jv_print(out, r);
        return;
    }
    case J_FILTERBLOCK: {
        enter(c);
        jv body = exec_capture(c, x->list, x->n, env);
        c->line = x->line;
        if (x->flag & 2) {
            jstr n = x->b->kind == J_CALL ? x->b->a->str : x->b->str;
            fail(c, "unsupported filter '%.*s'", (int)n.n, n.p);
        }
        jv r = apply_filter(c, body, x->b, env);
        if (r.t != JV_NULL && r.t != JV_UNDEF) jv_print(out, r);
        c->depth--;
        return;
    }
    case J_BREAK: c->ctrl = CTRL_BREAK; return;
    case J_CONTINUE: c->ctrl = CTRL_CONTINUE; return;
    default: {
        jv v = eval(c, x, env);
        if (v.t != JV_NULL && v.t != JV_UNDEF) jv_print(out, v);
        return;
    }
    }
}

static void exec_block(rctx *c, jnode *const *body, size_t n, jscope *env, jsb *out) {
    for (size_t i = 0; i < n && c->ctrl == CTRL_NONE; i++) exec_node(c, body[i], env, out);
}

/* ==== entry point ============================================================= */

void jinja_render(const jtemplate *t, jarena *a, const jinja_limits *lim, const jinja_var *vars, size_t n_vars,
                  xuan_buf *out) {
    rctx c = {.a = a, .max_steps = lim->max_steps, .max_depth = lim->max_depth, .max_output = lim->max_output,
              .now = lim->now, .line = 1};
    a->line = &c.line;
    jscope *root = scope_new(&c, NULL);
    static const struct { const char *name; fkind k; } fns[] = {
        {"namespace", F_NAMESPACE}, {"raise_exception", F_RAISE}, {"range", F_RANGE}, {"strftime_now", F_STRFTIME}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        scope_set(&c, root, (jstr){fns[i].name, strlen(fns[i].name)}, mkfunc(&c, fns[i].k));
    scope_set(&c, root, (jstr){"false", 5}, jv_bool(false));
    scope_set(&c, root, (jstr){"true", 4}, jv_bool(true));
    scope_set(&c, root, (jstr){"none", 4}, jv_null());
    scope_set(&c, root, (jstr){"True", 4}, jv_bool(true));
    scope_set(&c, root, (jstr){"False", 5}, jv_bool(false));
    scope_set(&c, root, (jstr){"None", 4}, jv_null());
    for (size_t i = 0; i < n_vars; i++) {
        jstr name = {vars[i].name, strlen(vars[i].name)};
        if (jobj_get(&root->vars, name.p, name.n))
            ja_throw(a, XUAN_ERR_USAGE, "variable already declared: %s", vars[i].name);
        scope_set(&c, root, name, vars[i].value);
    }
    jsb b;
    jsb_init(&b, a, lim->max_output);
    exec_block(&c, t->body, t->n, root, &b);
    if (c.ctrl != CTRL_NONE) ja_throw(a, XUAN_ERR_FORMAT, "line %u: break or continue outside a loop", (unsigned)c.line);
    a->line = NULL;
    if (xuan_buf_append(out, b.p ? b.p : "", b.n)) ja_throw(a, XUAN_ERR_NOMEM, "out of memory");
}
