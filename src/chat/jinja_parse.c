/*
 * jinja_parse.c — template text to syntax tree, as @huggingface/jinja 0.5.11
 * reads it.
 *
 *   1. preprocess  drop one trailing "\n"; lstrip_blocks (spaces and tabs
 *                  before {% / {# at a line start); trim_blocks (the "\n"
 *                  after %} / #} / -}); remove {% generation %} tags
 *   2. tokens      text, {% %}, {{ }}, comments with their `-` trimming,
 *                  literals, identifiers, operators
 *   3. parser      recursive descent with the reference's precedence:
 *                  ternary < or < and < not < comparison/in < + - ~ < * / // %
 *                  < ** < is-tests < |filters < unary +/- < call/member
 *
 * Every failure names the line and the construct ("line 12: unsupported
 * statement 'raw'").  A filter or test that the interpreter does not have
 * is not a parse error, because the reference only fails when a render
 * reaches it (Llama 3.1's `reject` sits in a branch for built-in tools):
 * the first one is recorded in jtemplate.unsupported for callers who want
 * to refuse such templates at load, and the node fails when evaluated.
 */
#include "chat/jinja.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_PARSE_DEPTH = 200 };

/* ==== 1. preprocess =========================================================== */

typedef struct pre {
    char *s;
    uint32_t *line; /* line of each byte in the original text */
    size_t n;
} pre;

static bool at_line_start(const char *s, size_t i) {
    if (i == 0) return true;
    char c = s[i - 1];
    if (c == '\n' || c == '\r') return true;
    /* U+2028 / U+2029 end lines for JavaScript's multiline ^ too */
    return i >= 3 && (unsigned char)s[i - 3] == 0xE2 && (unsigned char)s[i - 2] == 0x80 &&
           ((unsigned char)s[i - 1] == 0xA8 || (unsigned char)s[i - 1] == 0xA9);
}

static pre preprocess(jarena *a, const char *text, size_t len) {
    if (len && text[len - 1] == '\n') len--;
    pre p0 = {ja_alloc(a, len + 1), ja_alloc(a, (len + 1) * sizeof(uint32_t)), 0};
    uint32_t line = 1;
    /* lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1" */
    for (size_t i = 0; i < len;) {
        if (at_line_start(text, i)) {
            size_t j = i;
            while (j < len && (text[j] == ' ' || text[j] == '\t')) j++;
            if (j > i && j + 1 < len && text[j] == '{' &&
                (text[j + 1] == '#' || text[j + 1] == '%' || text[j + 1] == '-'))
                i = j;
        }
        p0.line[p0.n] = line;
        if (text[i] == '\n') line++;
        p0.s[p0.n++] = text[i++];
    }
    /* trim_blocks: /([#%-]})\n/g -> "$1" */
    pre p1 = {ja_alloc(a, p0.n + 1), ja_alloc(a, (p0.n + 1) * sizeof(uint32_t)), 0};
    for (size_t i = 0; i < p0.n;) {
        if (i + 2 < p0.n && (p0.s[i] == '#' || p0.s[i] == '%' || p0.s[i] == '-') && p0.s[i + 1] == '}' &&
            p0.s[i + 2] == '\n') {
            p1.line[p1.n] = p0.line[i];
            p1.s[p1.n++] = p0.s[i];
            p1.line[p1.n] = p0.line[i + 1];
            p1.s[p1.n++] = '}';
            i += 3;
            continue;
        }
        p1.line[p1.n] = p0.line[i];
        p1.s[p1.n++] = p0.s[i++];
    }
    /* /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs ->
     * (lstrip ? "" : before) + (rstrip ? "" : after) */
    pre p2 = {ja_alloc(a, p1.n + 1), ja_alloc(a, (p1.n + 1) * sizeof(uint32_t)), 0};
    const char *s = p1.s;
    size_t n = p1.n, done = 0; /* p1 bytes before `done` are already copied or consumed */
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '{' || s[i + 1] != '%') continue;
        size_t j = i + 2;
        bool lstrip = false, rstrip = false;
        if (j < n && s[j] == '-') lstrip = true, j++;
        for (size_t w; j < n && (w = js_space_len(s + j, n - j)) > 0;) j += w;
        if (j + 3 <= n && memcmp(s + j, "end", 3) == 0 && j + 13 <= n && memcmp(s + j + 3, "generation", 10) == 0)
            j += 13;
        else if (j + 10 <= n && memcmp(s + j, "generation", 10) == 0)
            j += 10;
        else
            continue;
        for (size_t w; j < n && (w = js_space_len(s + j, n - j)) > 0;) j += w;
        if (j < n && s[j] == '-') rstrip = true, j++;
        if (j + 2 > n || s[j] != '%' || s[j + 1] != '}') continue;
        j += 2;
        /* the whitespace run before the tag (not reaching back into copied text) */
        size_t b = i;
        while (b > done) {
            size_t k = b - 1;
            while (k > done && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
            if (js_space_len(s + k, b - k) != b - k) break;
            b = k;
        }
        size_t e = j;
        for (size_t w; e < n && (w = js_space_len(s + e, n - e)) > 0;) e += w;
        size_t keep_to = lstrip ? b : i;
        memcpy(p2.s + p2.n, s + done, keep_to - done);
        memcpy(p2.line + p2.n, p1.line + done, (keep_to - done) * sizeof(uint32_t));
        p2.n += keep_to - done;
        if (!rstrip) {
            memcpy(p2.s + p2.n, s + j, e - j);
            memcpy(p2.line + p2.n, p1.line + j, (e - j) * sizeof(uint32_t));
            p2.n += e - j;
        }
        done = e;
        i = e - 1;
    }
    memcpy(p2.s + p2.n, s + done, n - done);
    memcpy(p2.line + p2.n, p1.line + done, (n - done) * sizeof(uint32_t));
    p2.n += n - done;
    p2.s[p2.n] = 0;
    p2.line[p2.n] = p2.n ? p2.line[p2.n - 1] : 1;
    return p2;
}

/* ==== 2. tokens =============================================================== */

typedef enum ttype {
    T_TEXT, T_NUM, T_STRING, T_IDENT, T_EQUALS, T_LPAREN, T_RPAREN, T_OPEN_STMT, T_CLOSE_STMT,
    T_OPEN_EXPR, T_CLOSE_EXPR, T_LBRACKET, T_RBRACKET, T_LBRACE, T_RBRACE, T_COMMA, T_DOT,
    T_COLON, T_PIPE, T_ADD, T_MUL, T_POW, T_CMP, T_UNARY, T_COMMENT,
} ttype;

typedef struct token {
    ttype type;
    jstr v;
    uint32_t line;
} token;

typedef struct lexer {
    jarena *a;
    pre src;
    size_t pos;
    token *t;
    size_t n, cap;
} lexer;

static const struct { const char *seq; ttype type; } TOKEN_TABLE[] = {
    {"{%", T_OPEN_STMT}, {"%}", T_CLOSE_STMT}, {"{{", T_OPEN_EXPR}, {"}}", T_CLOSE_EXPR},
    {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE}, {"[", T_LBRACKET},
    {"]", T_RBRACKET}, {",", T_COMMA}, {".", T_DOT}, {":", T_COLON}, {"|", T_PIPE},
    {"<=", T_CMP}, {">=", T_CMP}, {"==", T_CMP}, {"!=", T_CMP}, {"<", T_CMP}, {">", T_CMP},
    {"+", T_ADD}, {"-", T_ADD}, {"~", T_ADD}, {"**", T_POW}, {"*", T_MUL}, {"//", T_MUL},
    {"/", T_MUL}, {"%", T_MUL}, {"=", T_EQUALS},
};

static uint32_t lx_line(const lexer *l) { return l->src.line[l->pos < l->src.n ? l->pos : l->src.n]; }

_Noreturn static void lx_fail(lexer *l, const char *what) {
    ja_throw(l->a, XUAN_ERR_FORMAT, "line %u: %s", (unsigned)lx_line(l), what);
}

static token *lx_push(lexer *l, ttype type, const char *p, size_t n, uint32_t line) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        l->t = ja_grow(l->a, l->t, l->cap * sizeof *l->t, nc * sizeof *l->t);
        l->cap = nc;
    }
    token *t = &l->t[l->n++];
    t->type = type;
    t->v = (jstr){p, n};
    t->line = line;
    return t;
}

static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

typedef enum { P_SPACE, P_DIGIT, P_WORD, P_NOT_QUOTE } pred;

/* consumeWhile(): the reference's quirks included — a run that reaches the
 * end of the text is an error ("Unexpected end of input"), and backslash
 * escapes are decoded in every run (they only ever occur in strings). */
static jstr lx_consume(lexer *l, pred p, char quote) {
    const char *s = l->src.s;
    size_t n = l->src.n;
    jsb b;
    jsb_init(&b, l->a, (size_t)-1);
    for (;;) {
        bool ok;
        if (l->pos >= n) ok = p == P_WORD || p == P_NOT_QUOTE;
        else if (p == P_SPACE) ok = js_space_len(s + l->pos, n - l->pos) > 0;
        else if (p == P_DIGIT) ok = is_digit(s[l->pos]);
        else if (p == P_WORD) ok = is_word(s[l->pos]);
        else ok = s[l->pos] != quote;
        if (!ok) break;
        if (l->pos >= n) lx_fail(l, "unexpected end of input");
        if (s[l->pos] == '\\') {
            if (++l->pos >= n) lx_fail(l, "unexpected end of input");
            char e = s[l->pos++];
            if (e == 'x' || e == 'u') {
                int len = e == 'x' ? 2 : 4;
                unsigned cp = 0;
                for (int i = 0; i < len; i++) {
                    int h = l->pos + (size_t)i < n ? hexval(s[l->pos + (size_t)i]) : -1;
                    if (h < 0) lx_fail(l, "invalid hexadecimal escape sequence in a string");
                    cp = cp * 16 + (unsigned)h;
                }
                l->pos += (size_t)len;
                char u[4];
                int k = xuan_utf8_encode(cp, u);
                if (k <= 0) { /* a lone surrogate: kept as its three WTF-8 bytes */
                    u[0] = (char)(0xE0 | (cp >> 12));
                    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[2] = (char)(0x80 | (cp & 0x3F));
                    k = 3;
                }
                jsb_put(&b, u, (size_t)k);
                continue;
            }
            static const char in[] = "ntrbfv'\"\\", out[] = "\n\t\r\b\f\v'\"\\";
            size_t k = 0;
            while (in[k] && in[k] != e) k++;
            if (!in[k]) lx_fail(l, "unexpected escaped character in a string");
            jsb_putc(&b, out[k]);
            continue;
        }
        size_t w = p == P_SPACE ? js_space_len(s + l->pos, n - l->pos) : 1;
        jsb_put(&b, s + l->pos, w);
        l->pos += w;
        if (l->pos >= n) lx_fail(l, "unexpected end of input");
    }
    return jsb_str(&b);
}

static void lx_strip_trailing(lexer *l) {
    if (!l->n || l->t[l->n - 1].type != T_TEXT) return;
    token *t = &l->t[l->n - 1];
    size_t n = t->v.n;
    for (;;) {
        size_t k = n;
        while (k > 0 && ((unsigned char)t->v.p[k - 1] & 0xC0) == 0x80 && n - k < 3) k--;
        if (k > 0) k--;
        if (n == 0 || js_space_len(t->v.p + k, n - k) != n - k) break;
        n = k;
    }
    t->v.n = n;
    if (n == 0) l->n--;
}

static void lx_skip_space(lexer *l) {
    for (size_t w; l->pos < l->src.n && (w = js_space_len(l->src.s + l->pos, l->src.n - l->pos)) > 0;)
        l->pos += w;
}

static bool lx_at(const lexer *l, const char *seq) {
    size_t k = strlen(seq);
    return l->pos + k <= l->src.n && memcmp(l->src.s + l->pos, seq, k) == 0;
}

static void tokenize(lexer *l) {
    const char *s = l->src.s;
    size_t n = l->src.n;
    int curly = 0;
    while (l->pos < n) {
        ttype last = l->n ? l->t[l->n - 1].type : T_CLOSE_STMT;
        if (last == T_CLOSE_STMT || last == T_CLOSE_EXPR || last == T_COMMENT) {
            size_t b = l->pos;
            while (l->pos < n && !(s[l->pos] == '{' && l->pos + 1 < n &&
                                   (s[l->pos + 1] == '%' || s[l->pos + 1] == '{' || s[l->pos + 1] == '#')))
                l->pos++;
            if (l->pos > b) {
                lx_push(l, T_TEXT, s + b, l->pos - b, l->src.line[b]);
                continue;
            }
        }
        if (lx_at(l, "{#")) {
            uint32_t line = lx_line(l);
            l->pos += 2;
            bool strip_before = l->pos < n && s[l->pos] == '-';
            if (strip_before) l->pos++;
            size_t b = l->pos;
            while (l->pos >= n || s[l->pos] != '#' || l->pos + 1 >= n || s[l->pos + 1] != '}') {
                if (l->pos + 2 >= n) lx_fail(l, "missing end of comment tag");
                l->pos++;
            }
            size_t e = l->pos;
            bool strip_after = e > b && s[e - 1] == '-';
            if (strip_after) e--;
            if (strip_before) lx_strip_trailing(l);
            lx_push(l, T_COMMENT, s + b, e - b, line);
            l->pos += 2;
            if (strip_after) lx_skip_space(l);
            continue;
        }
        if (lx_at(l, "{%-")) {
            lx_strip_trailing(l);
            lx_push(l, T_OPEN_STMT, "{%", 2, lx_line(l));
            l->pos += 3;
            continue;
        }
        if (lx_at(l, "{{-")) {
            lx_strip_trailing(l);
            lx_push(l, T_OPEN_EXPR, "{{", 2, lx_line(l));
            curly = 0;
            l->pos += 3;
            continue;
        }
        lx_consume(l, P_SPACE, 0);
        if (lx_at(l, "-%}")) {
            lx_push(l, T_CLOSE_STMT, "%}", 2, lx_line(l));
            l->pos += 3;
            lx_skip_space(l);
            continue;
        }
        if (lx_at(l, "-}}")) {
            lx_push(l, T_CLOSE_EXPR, "}}", 2, lx_line(l));
            l->pos += 3;
            lx_skip_space(l);
            continue;
        }
        uint32_t line = lx_line(l);
        char c = l->pos < n ? s[l->pos] : 0;
        if (c == '-' || c == '+') {
            ttype lt = l->n ? l->t[l->n - 1].type : T_TEXT;
            if (lt == T_TEXT) lx_fail(l, "unexpected character '+' or '-' outside an expression");
            if (!(lt == T_IDENT || lt == T_NUM || lt == T_STRING || lt == T_RPAREN || lt == T_RBRACKET)) {
                size_t b = l->pos++;
                jstr num = lx_consume(l, P_DIGIT, 0);
                if (num.n && l->pos + 1 < n && s[l->pos] == '.' && is_digit(s[l->pos + 1])) {
                    l->pos++;
                    lx_consume(l, P_DIGIT, 0);
                }
                size_t k = l->pos - b;
                lx_push(l, num.n ? T_NUM : T_UNARY, ja_strndup(l->a, s + b, k), k, line);
                continue;
            }
        }
        bool matched = false;
        for (size_t i = 0; i < sizeof TOKEN_TABLE / sizeof TOKEN_TABLE[0]; i++) {
            if (TOKEN_TABLE[i].type == T_CLOSE_EXPR && curly > 0) continue;
            if (!lx_at(l, TOKEN_TABLE[i].seq)) continue;
            size_t k = strlen(TOKEN_TABLE[i].seq);
            lx_push(l, TOKEN_TABLE[i].type, s + l->pos, k, line);
            if (TOKEN_TABLE[i].type == T_OPEN_EXPR) curly = 0;
            else if (TOKEN_TABLE[i].type == T_LBRACE) curly++;
            else if (TOKEN_TABLE[i].type == T_RBRACE) curly--;
            l->pos += k;
            matched = true;
            break;
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            l->pos++;
            jstr v = lx_consume(l, P_NOT_QUOTE, c);
            lx_push(l, T_STRING, v.p, v.n, line);
            l->pos++;
            continue;
        }
        if (is_digit(c)) {
            size_t b = l->pos;
            lx_consume(l, P_DIGIT, 0);
            if (!(l->n && l->t[l->n - 1].type == T_DOT) && l->pos + 1 < n && s[l->pos] == '.' &&
                is_digit(s[l->pos + 1])) {
                l->pos++;
                lx_consume(l, P_DIGIT, 0);
            }
            lx_push(l, T_NUM, s + b, l->pos - b, line);
            continue;
        }
        if (is_word(c)) {
            size_t b = l->pos;
            lx_consume(l, P_WORD, 0);
            lx_push(l, T_IDENT, s + b, l->pos - b, line);
            continue;
        }
        if (l->pos >= n) break;
        ja_throw(l->a, XUAN_ERR_FORMAT, "line %u: unexpected character '%c'", (unsigned)line,
                 (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?');
    }
}

/* ==== 3. parser =============================================================== */

typedef struct parser {
    jarena *a;
    jtemplate *tmpl;
    token *t;
    size_t n, cur;
    int depth;
} parser;

/* a growable node list in the arena */
typedef struct nlist {
    jnode **v;
    size_t n, cap;
} nlist;

static void nl_push(jarena *a, nlist *l, jnode *x) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        l->v = ja_grow(a, l->v, l->cap * sizeof *l->v, nc * sizeof *l->v);
        l->cap = nc;
    }
    l->v[l->n++] = x;
}

static uint32_t p_line(const parser *p) {
    if (p->cur < p->n) return p->t[p->cur].line;
    return p->n ? p->t[p->n - 1].line : 1;
}

_Noreturn static void p_fail(parser *p, const char *fmt, const char *arg) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    ja_throw(p->a, XUAN_ERR_FORMAT, "line %u: %s", (unsigned)p_line(p), msg);
}

static jnode *mk(parser *p, jkind k, uint32_t line) {
    jnode *x = ja_alloc(p->a, sizeof *x);
    x->kind = (uint8_t)k;
    x->line = line;
    return x;
}

static bool is(const parser *p, ttype t) { return p->cur < p->n && p->t[p->cur].type == t; }
static bool is_ident_at(const parser *p, size_t at, const char *name) {
    return at < p->n && p->t[at].type == T_IDENT && jstr_eq(p->t[at].v, name);
}
static bool is_ident(const parser *p, const char *name) { return is_ident_at(p, p->cur, name); }
static bool is_stmt(const parser *p, const char *name) {
    return is(p, T_OPEN_STMT) && is_ident_at(p, p->cur + 1, name);
}

static const char *ttype_name(ttype t) {
    static const char *names[] = {"text", "number", "string", "identifier", "'='", "'('", "')'", "'{%'",
                                  "'%}'", "'{{'", "'}}'", "'['", "']'", "'{'", "'}'", "','", "'.'", "':'",
                                  "'|'", "operator", "operator", "'**'", "comparison", "unary operator",
                                  "comment"};
    return names[t];
}

static token *expect(parser *p, ttype t, const char *what) {
    if (!is(p, t)) {
        char msg[160];
        snprintf(msg, sizeof msg, "expected %s, got %s", what,
                 p->cur < p->n ? ttype_name(p->t[p->cur].type) : "the end of the template");
        p_fail(p, "%s", msg);
    }
    return &p->t[p->cur++];
}

static void expect_ident(parser *p, const char *name) {
    if (!is_ident(p, name)) p_fail(p, "expected '%s'", name);
    p->cur++;
}

static jnode *parse_expr(parser *p);
static jnode *parse_primary(parser *p);
static jnode *parse_any(parser *p);

static void enter(parser *p) {
    if (++p->depth > MAX_PARSE_DEPTH) p_fail(p, "nesting deeper than %s levels", "200");
}

/* The filters and tests the interpreter implements (for any operand type). */
static bool known_filter(jstr s) {
    static const char *const names[] = {
        "safe", "tojson", "list", "first", "last", "length", "reverse", "sort", "join", "string",
        "unique", "upper", "lower", "title", "capitalize", "trim", "indent", "int", "float", "abs",
        "items", "bool", "default", "selectattr", "rejectattr", "map", "replace", "get", "keys",
        "values", "dictsort"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (jstr_eq(s, names[i])) return true;
    return false;
}
static bool known_test(jstr s) {
    static const char *const names[] = {"boolean", "callable", "odd", "even", "false", "true", "none",
                                        "string", "number", "integer", "iterable", "mapping", "sequence",
                                        "lower", "upper", "defined", "undefined", "equalto", "eq"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (jstr_eq(s, names[i])) return true;
    return false;
}

static const char *cname(parser *p, jstr s) { return ja_strndup(p->a, s.p, s.n > 60 ? 60 : s.n); }

static void note_unsupported(parser *p, const char *what, jstr name, uint32_t line) {
    if (p->tmpl->unsupported[0]) return;
    snprintf(p->tmpl->unsupported, sizeof p->tmpl->unsupported, "line %u: %s '%.*s'", (unsigned)line, what,
             (int)(name.n > 60 ? 60 : name.n), name.p);
}

/* parseArgumentsList(mode) */
static nlist parse_args(parser *p, bool params) {
    expect(p, T_LPAREN, "'(' opening the argument list");
    nlist args = {0};
    bool saw_kw = false, saw_spread = false;
    while (!is(p, T_RPAREN)) {
        if (p->cur >= p->n) p_fail(p, "%s", "unterminated argument list");
        bool kwspread = is(p, T_POW);
        bool spread = is(p, T_MUL) && jstr_eq(p->t[p->cur].v, "*");
        if (params && (kwspread || spread)) p_fail(p, "%s", "argument unpacking in a parameter list");
        uint32_t line = p_line(p);
        if (kwspread) {
            p->cur++;
            jnode *x = mk(p, J_KWSPREAD, line);
            x->a = parse_expr(p);
            nl_push(p->a, &args, x);
            if (is(p, T_COMMA)) p->cur++;
            if (!is(p, T_RPAREN)) p_fail(p, "%s", "`**` must be applied to the final argument");
            break;
        }
        jnode *arg;
        if (spread) {
            if (saw_spread) p_fail(p, "%s", "only one `*` argument unpacking is allowed");
            saw_spread = true;
            p->cur++;
            arg = mk(p, J_SPREAD, line);
            arg->a = parse_expr(p);
        } else {
            arg = parse_expr(p);
            if (is(p, T_EQUALS)) {
                p->cur++;
                if (arg->kind != J_IDENT)
                    p_fail(p, "%s", params ? "expected an identifier for a parameter"
                                           : "expected an identifier for a keyword argument");
                jnode *kw = mk(p, J_KWARG, line);
                kw->str = arg->str;
                kw->a = parse_expr(p);
                arg = kw;
            }
            if (params) {
                if (arg->kind != J_IDENT && arg->kind != J_KWARG)
                    p_fail(p, "%s", "expected an identifier for a parameter");
                for (size_t i = 0; i < args.n; i++)
                    if (args.v[i]->str.n == arg->str.n && memcmp(args.v[i]->str.p, arg->str.p, arg->str.n) == 0)
                        p_fail(p, "duplicate parameter name '%s'", cname(p, arg->str));
            }
            if (arg->kind == J_KWARG) saw_kw = true;
            else if (saw_kw)
                p_fail(p, "%s", params ? "non-default argument follows default argument"
                                       : "positional arguments must come before keyword arguments");
            else if (saw_spread)
                p_fail(p, "%s", "positional arguments must not follow `*` argument unpacking");
        }
        nl_push(p->a, &args, arg);
        if (is(p, T_COMMA)) p->cur++;
    }
    expect(p, T_RPAREN, "')' closing the argument list");
    return args;
}

static jnode *parse_call(parser *p, jnode *callee);

static jnode *parse_member(parser *p, jnode *obj) {
    while (is(p, T_DOT) || is(p, T_LBRACKET)) {
        bool computed = is(p, T_LBRACKET);
        uint32_t line = p_line(p);
        p->cur++;
        jnode *prop;
        if (computed) {
            jnode *parts[3] = {NULL, NULL, NULL};
            size_t np = 0;
            bool slice = false;
            while (!is(p, T_RBRACKET)) {
                if (p->cur >= p->n) p_fail(p, "%s", "unterminated '['");
                if (np == 3) p_fail(p, "%s", "a slice takes at most 3 parts");
                if (is(p, T_COLON)) {
                    parts[np++] = NULL;
                    p->cur++;
                    slice = true;
                } else {
                    parts[np++] = parse_expr(p);
                    if (is(p, T_COLON)) {
                        p->cur++;
                        slice = true;
                    }
                }
            }
            if (np == 0) p_fail(p, "%s", "empty subscript '[]'");
            if (slice) {
                prop = mk(p, J_SLICE, line);
                prop->a = parts[0];
                prop->b = np > 1 ? parts[1] : NULL;
                prop->c = np > 2 ? parts[2] : NULL;
            } else {
                prop = parts[0];
            }
            expect(p, T_RBRACKET, "']'");
        } else {
            prop = parse_primary(p);
            if (prop->kind != J_IDENT && prop->kind != J_INT)
                p_fail(p, "%s", "expected an identifier or integer after '.'");
        }
        jnode *m = mk(p, J_MEMBER, line);
        m->a = obj;
        m->b = prop;
        m->flag = computed;
        obj = m;
    }
    return obj;
}

static jnode *parse_call(parser *p, jnode *callee) {
    enter(p);
    jnode *c = mk(p, J_CALL, callee->line);
    c->a = callee;
    nlist args = parse_args(p, false);
    c->list = args.v;
    c->n = args.n;
    jnode *e = parse_member(p, c);
    if (is(p, T_LPAREN)) e = parse_call(p, e);
    p->depth--;
    return e;
}

static jnode *parse_call_member(parser *p) {
    jnode *m = parse_member(p, parse_primary(p));
    if (is(p, T_LPAREN)) return parse_call(p, m);
    return m;
}

static jnode *parse_unary(parser *p) {
    if (p->cur < p->n && (p->t[p->cur].type == T_UNARY || p->t[p->cur].type == T_ADD) &&
        (jstr_eq(p->t[p->cur].v, "-") || jstr_eq(p->t[p->cur].v, "+"))) {
        enter(p);
        jnode *u = mk(p, J_UNARY, p_line(p));
        u->op = jstr_eq(p->t[p->cur].v, "-") ? OP_NEG : OP_POS;
        p->cur++;
        u->a = parse_unary(p);
        p->depth--;
        return u;
    }
    return parse_call_member(p);
}

static jnode *parse_filter(parser *p) {
    jnode *x = parse_unary(p);
    while (is(p, T_PIPE)) {
        uint32_t line = p_line(p);
        p->cur++;
        jnode *f = parse_primary(p);
        if (f->kind != J_IDENT) p_fail(p, "%s", "expected a filter name after '|'");
        bool known = known_filter(f->str);
        if (!known) note_unsupported(p, "filter", f->str, line);
        if (is(p, T_LPAREN)) f = parse_call(p, f);
        if (f->kind != J_IDENT && f->kind != J_CALL) p_fail(p, "%s", "unsupported filter expression");
        jnode *fx = mk(p, J_FILTER, line);
        fx->a = x;
        fx->b = f;
        fx->flag = known ? 0 : 2;
        x = fx;
    }
    return x;
}

static jnode *parse_test(parser *p) {
    jnode *x = parse_filter(p);
    while (is_ident(p, "is")) {
        uint32_t line = p_line(p);
        p->cur++;
        bool neg = is_ident(p, "not");
        if (neg) p->cur++;
        jnode *t = parse_primary(p);
        if (t->kind != J_IDENT) p_fail(p, "%s", "expected a test name after 'is'");
        bool known = known_test(t->str);
        if (!known) note_unsupported(p, "test", t->str, line);
        jnode *tx = mk(p, J_TEST, line);
        tx->a = x;
        tx->str = t->str;
        tx->flag = (uint8_t)((neg ? 1 : 0) | (known ? 0 : 2));
        x = tx;
    }
    return x;
}

static jnode *binary(parser *p, jop op, jnode *l, jnode *r, uint32_t line) {
    jnode *b = mk(p, J_BINARY, line);
    b->op = (uint8_t)op;
    b->a = l;
    b->b = r;
    return b;
}

static jnode *parse_pow(parser *p) {
    jnode *l = parse_test(p);
    while (is(p, T_POW)) {
        uint32_t line = p_line(p);
        p->cur++;
        l = binary(p, OP_POW, l, parse_test(p), line);
    }
    return l;
}

static jnode *parse_mul(parser *p) {
    jnode *l = parse_pow(p);
    while (is(p, T_MUL)) {
        jstr v = p->t[p->cur].v;
        uint32_t line = p_line(p);
        p->cur++;
        jop op = jstr_eq(v, "*") ? OP_MUL : jstr_eq(v, "/") ? OP_DIV : jstr_eq(v, "//") ? OP_FLOORDIV : OP_MOD;
        l = binary(p, op, l, parse_pow(p), line);
    }
    return l;
}

static jnode *parse_add(parser *p) {
    jnode *l = parse_mul(p);
    while (is(p, T_ADD)) {
        jstr v = p->t[p->cur].v;
        uint32_t line = p_line(p);
        p->cur++;
        jop op = jstr_eq(v, "+") ? OP_ADD : jstr_eq(v, "-") ? OP_SUB : OP_CONCAT;
        l = binary(p, op, l, parse_mul(p), line);
    }
    return l;
}

static jnode *parse_compare(parser *p) {
    jnode *l = parse_add(p);
    for (;;) {
        jop op;
        uint32_t line = p_line(p);
        if (is_ident(p, "not") && is_ident_at(p, p->cur + 1, "in")) {
            op = OP_NOTIN;
            p->cur += 2;
        } else if (is_ident(p, "in")) {
            op = OP_IN;
            p->cur++;
        } else if (is(p, T_CMP)) {
            jstr v = p->t[p->cur++].v;
            op = jstr_eq(v, "==") ? OP_EQ : jstr_eq(v, "!=") ? OP_NE : jstr_eq(v, "<") ? OP_LT
               : jstr_eq(v, ">") ? OP_GT : jstr_eq(v, "<=") ? OP_LE : OP_GE;
        } else {
            break;
        }
        l = binary(p, op, l, parse_add(p), line);
    }
    return l;
}

static jnode *parse_not(parser *p) {
    if (is_ident(p, "not")) {
        enter(p);
        jnode *u = mk(p, J_UNARY, p_line(p));
        u->op = OP_NOT;
        p->cur++;
        u->a = parse_not(p);
        p->depth--;
        return u;
    }
    return parse_compare(p);
}

static jnode *parse_and(parser *p) {
    jnode *l = parse_not(p);
    while (is_ident(p, "and")) {
        uint32_t line = p_line(p);
        p->cur++;
        l = binary(p, OP_AND, l, parse_not(p), line);
    }
    return l;
}

static jnode *parse_or(parser *p) {
    jnode *l = parse_and(p);
    while (is_ident(p, "or")) {
        uint32_t line = p_line(p);
        p->cur++;
        l = binary(p, OP_OR, l, parse_and(p), line);
    }
    return l;
}

static jnode *parse_if_expr(parser *p) {
    jnode *a = parse_or(p);
    if (is_ident(p, "if")) {
        uint32_t line = p_line(p);
        p->cur++;
        jnode *test = parse_or(p);
        if (is_ident(p, "else")) {
            p->cur++;
            jnode *t = mk(p, J_TERNARY, line);
            t->a = test;
            t->b = a;
            t->c = parse_if_expr(p);
            return t;
        }
        jnode *s = mk(p, J_SELECT, line);
        s->a = a;
        s->b = test;
        return s;
    }
    return a;
}

static jnode *parse_expr(parser *p) {
    enter(p);
    jnode *x = parse_if_expr(p);
    p->depth--;
    return x;
}

static jnode *parse_sequence(parser *p, bool primary) {
    uint32_t line = p_line(p);
    jnode *first = primary ? parse_primary(p) : parse_expr(p);
    if (!is(p, T_COMMA)) return first;
    nlist l = {0};
    nl_push(p->a, &l, first);
    while (is(p, T_COMMA)) {
        p->cur++;
        nl_push(p->a, &l, primary ? parse_primary(p) : parse_expr(p));
    }
    jnode *t = mk(p, J_TUPLE, line);
    t->list = l.v;
    t->n = l.n;
    return t;
}

static jnode *parse_primary(parser *p) {
    if (p->cur >= p->n) p_fail(p, "%s", "unexpected end of the template in an expression");
    enter(p);
    token *t = &p->t[p->cur++];
    jnode *x;
    switch (t->type) {
    case T_NUM: {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(t->v.n < 63 ? t->v.n : 63), t->v.p);
        bool is_float = memchr(t->v.p, '.', t->v.n) != NULL;
        x = mk(p, is_float ? J_FLOAT : J_INT, t->line);
        x->num = strtod(buf, NULL);
        break;
    }
    case T_STRING: {
        x = mk(p, J_STR, t->line);
        if (!is(p, T_STRING)) {
            x->str = t->v;
            break;
        }
        jsb b;
        jsb_init(&b, p->a, (size_t)-1);
        jsb_put(&b, t->v.p, t->v.n);
        while (is(p, T_STRING)) {
            jsb_put(&b, p->t[p->cur].v.p, p->t[p->cur].v.n);
            p->cur++;
        }
        x->str = jsb_str(&b);
        break;
    }
    case T_IDENT:
        x = mk(p, J_IDENT, t->line);
        x->str = t->v;
        break;
    case T_LPAREN:
        x = parse_sequence(p, false);
        expect(p, T_RPAREN, "')'");
        break;
    case T_LBRACKET: {
        nlist l = {0};
        while (!is(p, T_RBRACKET)) {
            if (p->cur >= p->n) p_fail(p, "%s", "unterminated list literal");
            nl_push(p->a, &l, parse_expr(p));
            if (is(p, T_COMMA)) p->cur++;
        }
        p->cur++;
        x = mk(p, J_ARRAY, t->line);
        x->list = l.v;
        x->n = l.n;
        break;
    }
    case T_LBRACE: {
        nlist k = {0}, v = {0};
        while (!is(p, T_RBRACE)) {
            if (p->cur >= p->n) p_fail(p, "%s", "unterminated dict literal");
            nl_push(p->a, &k, parse_expr(p));
            expect(p, T_COLON, "':' between key and value");
            nl_push(p->a, &v, parse_expr(p));
            if (is(p, T_COMMA)) p->cur++;
        }
        p->cur++;
        x = mk(p, J_OBJECT, t->line);
        x->list = k.v;
        x->n = k.n;
        x->list2 = v.v;
        x->n2 = v.n;
        break;
    }
    default:
        p->cur--;
        p_fail(p, "unexpected %s in an expression", ttype_name(t->type));
    }
    p->depth--;
    return x;
}

/* Which of the special names kwargs / varargs a macro body reads without
 * declaring them (findAccessedSpecialMacroArguments, simplified: any read
 * of the name anywhere in the body that is not a parameter or a target). */
static void scan_special(const jnode *x, const nlist *params, uint8_t *flag, int depth) {
    if (!x || depth > 400) return;
    if (x->kind == J_IDENT) {
        int bit = jstr_eq(x->str, "kwargs") ? 2 : jstr_eq(x->str, "varargs") ? 4 : 0;
        if (!bit) return;
        for (size_t i = 0; i < params->n; i++)
            if (params->v[i]->str.n == x->str.n && memcmp(params->v[i]->str.p, x->str.p, x->str.n) == 0) return;
        *flag |= (uint8_t)bit;
        return;
    }
    if (x->kind == J_MEMBER) {
        scan_special(x->a, params, flag, depth + 1);
        if (x->flag) scan_special(x->b, params, flag, depth + 1);
        return;
    }
    if (x->kind == J_FILTER) {
        scan_special(x->a, params, flag, depth + 1);
        if (x->b->kind == J_CALL)
            for (size_t i = 0; i < x->b->n; i++) scan_special(x->b->list[i], params, flag, depth + 1);
        return;
    }
    if (x->kind == J_SET || x->kind == J_FOR) {
        /* a target named kwargs declares it */
        if (x->kind == J_FOR) scan_special(x->b, params, flag, depth + 1);
        else scan_special(x->b, params, flag, depth + 1);
    } else {
        scan_special(x->a, params, flag, depth + 1);
        scan_special(x->b, params, flag, depth + 1);
        scan_special(x->c, params, flag, depth + 1);
    }
    if (x->kind == J_MACRO || x->kind == J_CALLBLOCK) {
        for (size_t i = 0; i < x->n; i++)
            if (x->list[i]->kind == J_KWARG) scan_special(x->list[i]->a, params, flag, depth + 1);
    } else {
        for (size_t i = 0; i < x->n; i++) scan_special(x->list[i], params, flag, depth + 1);
    }
    for (size_t i = 0; i < x->n2; i++) scan_special(x->list2[i], params, flag, depth + 1);
}

static void body_until(parser *p, nlist *body, const char *a, const char *b, const char *c) {
    for (;;) {
        if (p->cur >= p->n) p_fail(p, "missing {%% %s %%}", a);
        if (is_stmt(p, a) || (b && is_stmt(p, b)) || (c && is_stmt(p, c))) return;
        nl_push(p->a, body, parse_any(p));
    }
}

static void end_tag(parser *p, const char *name) {
    expect(p, T_OPEN_STMT, "'{%'");
    expect_ident(p, name);
    expect(p, T_CLOSE_STMT, "'%}'");
}

static jnode *parse_if(parser *p, uint32_t line) {
    jnode *x = mk(p, J_IF, line);
    x->a = parse_expr(p);
    expect(p, T_CLOSE_STMT, "'%}' after the if condition");
    nlist body = {0}, alt = {0};
    body_until(p, &body, "endif", "elif", "else");
    if (is_stmt(p, "elif")) {
        uint32_t l2 = p->t[p->cur].line;
        p->cur += 2;
        enter(p);
        nl_push(p->a, &alt, parse_if(p, l2));
        p->depth--;
    } else if (is_stmt(p, "else")) {
        p->cur += 2;
        expect(p, T_CLOSE_STMT, "'%}' after else");
        body_until(p, &alt, "endif", NULL, NULL);
    }
    x->list = body.v;
    x->n = body.n;
    x->list2 = alt.v;
    x->n2 = alt.n;
    return x;
}

static jnode *parse_statement(parser *p) {
    uint32_t line = p_line(p);
    expect(p, T_OPEN_STMT, "'{%'");
    if (!is(p, T_IDENT)) p_fail(p, "%s", "expected a statement name after '{%'");
    jstr name = p->t[p->cur].v;
    p->cur++;
    enter(p);
    jnode *x;
    if (jstr_eq(name, "set")) {
        x = mk(p, J_SET, line);
        x->a = parse_sequence(p, false);
        if (x->a->kind != J_IDENT && x->a->kind != J_TUPLE && x->a->kind != J_MEMBER)
            p_fail(p, "%s", "unsupported assignment target in set");
        if (is(p, T_EQUALS)) {
            p->cur++;
            x->b = parse_sequence(p, false);
        } else {
            expect(p, T_CLOSE_STMT, "'=' or '%}' in set");
            nlist body = {0};
            body_until(p, &body, "endset", NULL, NULL);
            x->list = body.v;
            x->n = body.n;
            expect(p, T_OPEN_STMT, "'{%'");
            expect_ident(p, "endset");
        }
        expect(p, T_CLOSE_STMT, "'%}' closing set");
    } else if (jstr_eq(name, "if")) {
        x = parse_if(p, line);
        end_tag(p, "endif");
    } else if (jstr_eq(name, "macro")) {
        x = mk(p, J_MACRO, line);
        jnode *id = parse_primary(p);
        if (id->kind != J_IDENT) p_fail(p, "%s", "expected a macro name");
        x->str = id->str;
        nlist params = parse_args(p, true);
        expect(p, T_CLOSE_STMT, "'%}' after the macro signature");
        nlist body = {0};
        body_until(p, &body, "endmacro", NULL, NULL);
        x->list = params.v;
        x->n = params.n;
        x->list2 = body.v;
        x->n2 = body.n;
        uint8_t f = 0;
        for (size_t i = 0; i < body.n; i++) scan_special(body.v[i], &params, &f, 0);
        for (size_t i = 0; i < params.n; i++)
            if (params.v[i]->kind == J_KWARG) scan_special(params.v[i]->a, &params, &f, 0);
        x->flag = f;
        end_tag(p, "endmacro");
    } else if (jstr_eq(name, "for")) {
        x = mk(p, J_FOR, line);
        x->a = parse_sequence(p, true);
        if (x->a->kind != J_IDENT && x->a->kind != J_TUPLE)
            p_fail(p, "%s", "expected an identifier or tuple as the loop variable");
        if (!is_ident(p, "in")) p_fail(p, "%s", "expected 'in' after the loop variable");
        p->cur++;
        x->b = parse_expr(p);
        expect(p, T_CLOSE_STMT, "'%}' after the for header");
        nlist body = {0}, alt = {0};
        body_until(p, &body, "endfor", "else", NULL);
        if (is_stmt(p, "else")) {
            p->cur += 2;
            expect(p, T_CLOSE_STMT, "'%}' after else");
            body_until(p, &alt, "endfor", NULL, NULL);
        }
        x->list = body.v;
        x->n = body.n;
        x->list2 = alt.v;
        x->n2 = alt.n;
        end_tag(p, "endfor");
    } else if (jstr_eq(name, "call")) {
        x = mk(p, J_CALLBLOCK, line);
        nlist params = {0};
        if (is(p, T_LPAREN)) {
            params = parse_args(p, true);
            x->flag = 1;
        }
        jnode *callee = parse_primary(p);
        if (callee->kind != J_IDENT) p_fail(p, "%s", "expected a macro name after call");
        jnode *c = mk(p, J_CALL, line);
        c->a = callee;
        nlist args = parse_args(p, false);
        c->list = args.v;
        c->n = args.n;
        x->a = c;
        expect(p, T_CLOSE_STMT, "'%}' after call");
        nlist body = {0};
        body_until(p, &body, "endcall", NULL, NULL);
        x->list = params.v;
        x->n = params.n;
        x->list2 = body.v;
        x->n2 = body.n;
        uint8_t f = 0;
        for (size_t i = 0; i < body.n; i++) scan_special(body.v[i], &params, &f, 0);
        x->flag |= f;
        end_tag(p, "endcall");
    } else if (jstr_eq(name, "break") || jstr_eq(name, "continue")) {
        x = mk(p, jstr_eq(name, "break") ? J_BREAK : J_CONTINUE, line);
        expect(p, T_CLOSE_STMT, "'%}'");
    } else if (jstr_eq(name, "filter")) {
        x = mk(p, J_FILTERBLOCK, line);
        jnode *f = parse_primary(p);
        if (f->kind != J_IDENT) p_fail(p, "%s", "expected a filter name after filter");
        bool known = known_filter(f->str);
        if (!known) note_unsupported(p, "filter", f->str, line);
        if (is(p, T_LPAREN)) f = parse_call(p, f);
        if (f->kind != J_IDENT && f->kind != J_CALL) p_fail(p, "%s", "unsupported filter expression");
        x->b = f;
        x->flag = known ? 0 : 2;
        expect(p, T_CLOSE_STMT, "'%}' after filter");
        nlist body = {0};
        body_until(p, &body, "endfilter", NULL, NULL);
        x->list = body.v;
        x->n = body.n;
        end_tag(p, "endfilter");
    } else {
        p->cur--;
        p_fail(p, "unsupported statement '%s'", cname(p, name));
    }
    p->depth--;
    return x;
}

static jnode *parse_any(parser *p) {
    token *t = &p->t[p->cur];
    switch (t->type) {
    case T_COMMENT: {
        p->cur++;
        return mk(p, J_COMMENT, t->line);
    }
    case T_TEXT: {
        p->cur++;
        jnode *x = mk(p, J_STR, t->line);
        x->str = t->v;
        return x;
    }
    case T_OPEN_STMT:
        return parse_statement(p);
    case T_OPEN_EXPR: {
        p->cur++;
        jnode *x = parse_expr(p);
        expect(p, T_CLOSE_EXPR, "'}}' closing the expression");
        return x;
    }
    default:
        p_fail(p, "unexpected %s outside a tag", ttype_name(t->type));
    }
}

void jinja_parse(jtemplate *t, const char *text, size_t len) {
    lexer l = {.a = &t->arena};
    l.src = preprocess(&t->arena, text, len);
    tokenize(&l);
    parser p = {.a = &t->arena, .tmpl = t, .t = l.t, .n = l.n};
    nlist body = {0};
    while (p.cur < p.n) nl_push(p.a, &body, parse_any(&p));
    t->body = body.v;
    t->n = body.n;
}
