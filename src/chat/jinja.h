/*
 * jinja.h — the chat room's Jinja interpreter, internal to src/chat/.
 *
 * The reference is @huggingface/jinja (the engine of transformers.js, pinned
 * at 0.5.11 in the tests): the same preprocessing (lstrip_blocks and
 * trim_blocks on, one trailing newline dropped, {% generation %} tags
 * removed), the same grammar and operator precedence, the same values
 * (numbers are doubles tagged integer or float, `==` is JavaScript's loose
 * equality on the underlying values, strings print as JavaScript prints
 * them) and the same errors where it throws.  Python Jinja differs in many
 * corners; where the two disagree, this follows @huggingface/jinja.
 *
 *   jinja_parse.c  preprocessing, tokens, the parser (syntax -> jnode tree)
 *   jinja_value.c  the arena, values, number and JSON formatting, JSON input
 *   jinja_eval.c   the interpreter: statements, expressions, filters, tests
 *
 * Memory: a parsed template owns one arena (its tokens' strings and the
 * tree); a render allocates everything in a second arena that it frees at
 * the end.  Errors inside both unwind with longjmp to the entry point, which
 * is safe because nothing is allocated outside the arenas in between.
 */
#ifndef XUAN_CHAT_JINJA_H
#define XUAN_CHAT_JINJA_H

#include "xuan/base.h"

#include <setjmp.h>

/* ---- arena ---------------------------------------------------------------- */

typedef struct jchunk jchunk;
typedef struct jarena {
    jchunk *head;
    size_t used;       /* bytes handed out, all chunks */
    size_t cap;        /* limit on `used`; exceeding it fails */
    jmp_buf *fail;     /* where an allocation failure unwinds to */
    xuan_error *err;   /* filled before unwinding */
    const uint32_t *line; /* the template line being evaluated, for messages; may be NULL */
} jarena;

void ja_init(jarena *a, size_t cap, jmp_buf *fail, xuan_error *err);
void ja_free(jarena *a);
void *ja_alloc(jarena *a, size_t n);               /* zeroed, 8-aligned; never NULL */
void *ja_grow(jarena *a, void *p, size_t old_n, size_t new_n);
char *ja_strndup(jarena *a, const char *s, size_t n); /* NUL-terminated */

/* Fails the current parse or render: fills err, unwinds.  Never returns. */
_Noreturn void ja_throw(jarena *a, xuan_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- strings -------------------------------------------------------------- */

typedef struct jstr {
    const char *p; /* not necessarily NUL-terminated */
    size_t n;
} jstr;

/* A growable string in an arena (the output of a block, a filter's result). */
typedef struct jsb {
    jarena *a;
    char *p;
    size_t n, cap;
    size_t limit; /* the output cap: appending past it fails the render */
} jsb;

void jsb_init(jsb *b, jarena *a, size_t limit);
void jsb_put(jsb *b, const char *s, size_t n);
void jsb_puts(jsb *b, const char *s);
void jsb_putc(jsb *b, char c);
jstr jsb_str(const jsb *b);

/* ---- syntax tree ---------------------------------------------------------- */

typedef enum jkind {
    /* expressions */
    J_STR, J_INT, J_FLOAT, J_ARRAY, J_TUPLE, J_OBJECT, J_IDENT, J_MEMBER, J_SLICE, J_CALL,
    J_KWARG, J_SPREAD, J_KWSPREAD, J_UNARY, J_BINARY, J_FILTER, J_TEST, J_SELECT, J_TERNARY,
    /* statements */
    J_IF, J_FOR, J_SET, J_MACRO, J_CALLBLOCK, J_FILTERBLOCK, J_BREAK, J_CONTINUE, J_COMMENT,
} jkind;

typedef enum jop {
    OP_NONE, OP_ADD, OP_SUB, OP_CONCAT, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
    OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_AND, OP_OR, OP_NOT, OP_IN, OP_NOTIN,
    OP_POS, OP_NEG,
} jop;

typedef struct jnode jnode;
struct jnode {
    uint8_t kind;   /* jkind */
    uint8_t op;     /* jop for J_UNARY / J_BINARY */
    uint8_t flag;   /* J_MEMBER: computed; J_TEST: negated (bit 0), unsupported (bit 1);
                       J_FILTER / J_FILTERBLOCK: unsupported filter (bit 1); J_CALLBLOCK: has caller args;
                       J_MACRO / J_CALLBLOCK: bit 1 = reads kwargs, bit 2 = reads varargs */
    uint32_t line;  /* 1-based line in the template text */
    jstr str;       /* identifier, string literal, macro name, test name */
    double num;     /* numeric literal */
    jnode *a, *b, *c;
    jnode **list;   /* elements, arguments, parameters, body */
    size_t n;
    jnode **list2;  /* object values, else / alternate block, macro body */
    size_t n2;
};

typedef struct jtemplate {
    jarena arena;
    jnode **body;
    size_t n;
    jmp_buf jb;
    xuan_error err;
    /* The first filter or test the interpreter lacks, "line 29: filter
     * 'reject'" ("" when none).  Like the reference, the template still
     * loads and only a render that reaches the construct fails. */
    char unsupported[160];
} jtemplate;

/* Parses text into t (whose arena must be initialised by the caller with
 * t->jb / t->err as failure target, and a setjmp done there). */
void jinja_parse(jtemplate *t, const char *text, size_t len);

/* ---- values --------------------------------------------------------------- */

typedef enum jtype {
    JV_UNDEF, JV_NULL, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_ARRAY, JV_OBJECT, JV_KWARGS,
    JV_NAMESPACE, JV_FUNC,
} jtype;

typedef struct jarr jarr;
typedef struct jobj jobj;
typedef struct jfunc jfunc;

typedef struct jv {
    uint8_t t;     /* jtype */
    bool b;
    double num;
    union {
        jstr s;
        jarr *arr;
        jobj *obj;
        jfunc *fn;
    } u;
} jv;

struct jarr {
    jv *v;
    size_t n, cap;
    bool tuple; /* a TupleValue: unlike ArrayValue, not `iterable` and not unpackable */
};

struct jobj {
    jstr *k;
    jv *v;
    size_t n, cap;
};

jv jv_undef(void);
jv jv_null(void);
jv jv_bool(bool b);
jv jv_int(double x);
jv jv_float(double x);
jv jv_str(jstr s);
jv jv_cstr(const char *s);
jv jv_array(jarena *a, size_t cap);
jv jv_object(jarena *a, jtype t);

void jarr_push(jarena *a, jarr *arr, jv v);
jv *jobj_get(const jobj *o, const char *k, size_t kn);
void jobj_set(jarena *a, jobj *o, jstr k, jv v); /* keeps the first position of a key */

bool jstr_eq(jstr a, const char *s);

/* JavaScript's Number.prototype.toString(), into buf (>= 32 bytes). */
const char *js_number(double x, char *buf);
/* RuntimeValue.toString(): what `{{ v }}` prints. */
void jv_print(jsb *out, jv v);
/* `v.value.toString()` in JavaScript: what `~` and string `+` concatenate. */
void jv_js_tostring(jsb *out, jv v);
/* toJSON(): indent 0 = none; separators NULL = the defaults. */
void jv_tojson(jsb *out, jv v, int indent, bool ensure_ascii, bool sort_keys, const jstr *item_sep,
               const jstr *key_sep, bool undefined_as_null, int depth);
/* JSON text (jansson) -> values; fails the render on bad JSON. */
jv jv_from_json_text(jarena *a, const char *json, const char *what);
jv jv_from_jansson(jarena *a, const void *json_t_ptr);

/* JavaScript whitespace (String.prototype.trim's set) at s[0..n): its byte
 * length, 0 when s does not start with one. */
size_t js_space_len(const char *s, size_t n);
/* Length in UTF-16 code units (JavaScript's `length`). */
size_t js_length(jstr s);

/* ---- rendering ------------------------------------------------------------ */

typedef struct jinja_limits {
    uint64_t max_steps;   /* nodes evaluated + bulk work units */
    int max_depth;        /* nested evaluation frames (expressions, blocks, macro calls) */
    size_t max_output;    /* bytes in any string the render builds, the result included */
    int64_t now;          /* strftime_now's time, Unix seconds; 0 = the clock */
} jinja_limits;

typedef struct jinja_var {
    const char *name;
    jv value;
} jinja_var;

/* Renders t with the given top-level variables (which must live in arena a)
 * and appends the text to out.  Failures unwind through a's jmp_buf. */
void jinja_render(const jtemplate *t, jarena *a, const jinja_limits *lim, const jinja_var *vars, size_t n_vars,
                  xuan_buf *out);

#endif
