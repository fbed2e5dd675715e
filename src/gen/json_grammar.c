/*
 * json_grammar.c — a JSON Schema compiled into a byte-level pushdown
 * recogniser, for constrained sampling (response_format).
 *
 * Map: nodes · schema compiler · recogniser (strings, numbers, literals,
 *      objects, arrays) · public feed/complete.
 *
 * The compiled schema is a flat array of nodes.  The recogniser keeps a
 * stack of frames (at most XUAN_JSON_MAX_DEPTH), one per value being read;
 * a byte either advances the top frame, completes it (strings, closing
 * brackets, a literal that cannot go on) or, for numbers and literals that
 * could go on, is handed to the parent after the top frame is popped.
 *
 * Every accepted prefix can be completed: the alternatives of a union
 * (type lists, anyOf, oneOf) must differ by their first byte (checked at
 * compile time), so a value never needs to be read two ways at once;
 * object keys are checked byte by byte against the names still allowed;
 * '}' and ']' are refused until required properties and minItems are met.
 * Exception, documented: a schema that needs more than XUAN_JSON_MAX_DEPTH
 * levels of nesting dead-ends (xuan_json_sample then fails).
 */
#include "xuan/gen.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * nodes
 * ====================================================================== */

typedef enum nkind { N_ANY, N_OBJECT, N_ARRAY, N_STRING, N_NUMBER, N_INTEGER, N_LITS, N_UNION } nkind;

typedef struct node {
    nkind kind;
    bool ready;           /* compiled (a union may not contain itself) */
    uint8_t first[32];    /* bytes a value of this node can start with */
    /* object */
    uint32_t props, n_props; /* into g->props */
    int32_t additional;      /* node of other keys' values, -1: none allowed */
    uint64_t required;       /* bit i: props[i] */
    /* array */
    uint32_t prefix, n_prefix; /* into g->idx */
    int32_t items;             /* node after prefixItems, -1: none */
    uint32_t min_items, max_items;
    /* string */
    uint32_t min_len, max_len;
    /* literals (enum/const, true/false/null): sorted */
    uint32_t lits, n_lits;     /* into g->lits */
    /* union */
    uint32_t alts, n_alts;     /* into g->idx */
} node;

typedef struct prop {
    char *name; /* as it appears between the quotes (JSON-escaped by jansson) */
    size_t len;
    int32_t node;
} prop;

typedef struct lit {
    char *text;
    size_t len;
} lit;

struct xuan_json_schema {
    node *nodes;
    uint32_t n_nodes, cap_nodes;
    prop *props;
    uint32_t n_props, cap_props;
    int32_t *idx;
    uint32_t n_idx, cap_idx;
    lit *lits;
    uint32_t n_lits, cap_lits;
    int32_t root;
};

/* fixed nodes */
enum { K_ANY, K_ANY_OBJ, K_ANY_ARR, K_SCALAR_LIT, K_STRING, K_NUMBER, K_N_FIXED };

#define BIT_SET(f, b) ((f)[(uint8_t)(b) >> 3] |= (uint8_t)(1u << ((uint8_t)(b) & 7)))
#define BIT_HAS(f, b) (((f)[(uint8_t)(b) >> 3] >> ((uint8_t)(b) & 7)) & 1)

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t size, uint32_t limit) {
    if (need <= *cap) return true;
    if (need > limit) return false;
    uint32_t c = *cap ? *cap * 2 : 16;
    if (c < need) c = need;
    if (c > limit) c = limit;
    void *q = xuan_realloc(*p, (size_t)c * size);
    if (!q) return false;
    *p = q, *cap = c;
    return true;
}

void xuan_json_schema_free(xuan_json_schema *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n_props; i++) xuan_free(g->props[i].name);
    for (uint32_t i = 0; i < g->n_lits; i++) xuan_free(g->lits[i].text);
    xuan_free(g->nodes);
    xuan_free(g->props);
    xuan_free(g->idx);
    xuan_free(g->lits);
    xuan_free(g);
}

/* ======================================================================
 * schema compiler
 * ====================================================================== */

typedef struct memo {
    const json_t *schema;
    int32_t node;
} memo;

typedef struct comp {
    xuan_json_schema *g;
    json_t *root;
    xuan_error *err;
    memo *memo;
    uint32_t n_memo, cap_memo;
    int depth; /* C recursion, bounded */
} comp;

static int nomem(comp *c) { return xuan_fail(c->err, XUAN_ERR_NOMEM, "json schema: out of memory"); }

static int new_node(comp *c, nkind kind, int32_t *out) {
    xuan_json_schema *g = c->g;
    if (g->n_nodes >= XUAN_JSON_MAX_NODES)
        return xuan_fail(c->err, XUAN_ERR_USAGE, "json schema: more than %d nodes", XUAN_JSON_MAX_NODES);
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(node), XUAN_JSON_MAX_NODES)) return nomem(c);
    node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->additional = -1;
    n->items = -1;
    n->max_items = UINT32_MAX;
    n->max_len = UINT32_MAX;
    *out = (int32_t)g->n_nodes++;
    return 0;
}

static int push_idx(comp *c, int32_t v) {
    xuan_json_schema *g = c->g;
    if (!grow((void **)&g->idx, &g->cap_idx, g->n_idx + 1, sizeof(int32_t), 1u << 20)) return nomem(c);
    g->idx[g->n_idx++] = v;
    return 0;
}

static int cmp_lit(const void *a, const void *b) {
    const lit *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->text, y->text, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* A literal node from texts[0..n) (copied, sorted, duplicates dropped). */
static int lits_node(comp *c, const char *const *texts, const size_t *lens, size_t n, int32_t *out) {
    xuan_json_schema *g = c->g;
    int rc = new_node(c, N_LITS, out);
    if (rc) return rc;
    if (n > 4096 || !grow((void **)&g->lits, &g->cap_lits, g->n_lits + (uint32_t)n, sizeof(lit), 1u << 16))
        return xuan_fail(c->err, XUAN_ERR_USAGE, "json schema: too many enum values");
    lit *l = &g->lits[g->n_lits];
    for (size_t i = 0; i < n; i++) {
        l[i].text = xuan_strndup(texts[i], lens[i]);
        l[i].len = lens[i];
        if (!l[i].text) {
            for (size_t k = 0; k < i; k++) xuan_free(l[k].text);
            return nomem(c);
        }
    }
    qsort(l, n, sizeof *l, cmp_lit);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && cmp_lit(&l[m - 1], &l[i]) == 0) {
            xuan_free(l[i].text);
            continue;
        }
        l[m++] = l[i];
    }
    node *nd = &g->nodes[*out];
    nd->lits = g->n_lits;
    nd->n_lits = (uint32_t)m;
    for (size_t i = 0; i < m; i++) BIT_SET(nd->first, l[i].text[0]);
    g->n_lits += (uint32_t)m;
    nd->ready = true;
    return 0;
}

static void first_of_kind(node *n) {
    const char *s = "";
    switch (n->kind) {
    case N_ANY: s = "{[\"-0123456789tfn"; break;
    case N_OBJECT: s = "{"; break;
    case N_ARRAY: s = "["; break;
    case N_STRING: s = "\""; break;
    case N_NUMBER: case N_INTEGER: s = "-0123456789"; break;
    default: return;
    }
    for (; *s; s++) BIT_SET(n->first, *s);
}

static int fixed_nodes(comp *c) {
    int32_t id;
    int rc;
    if ((rc = new_node(c, N_ANY, &id))) return rc;
    if ((rc = new_node(c, N_OBJECT, &id))) return rc;
    c->g->nodes[id].additional = K_ANY;
    if ((rc = new_node(c, N_ARRAY, &id))) return rc;
    c->g->nodes[id].items = K_ANY;
    const char *sc[] = {"false", "null", "true"};
    const size_t sl[] = {5, 4, 4};
    if ((rc = lits_node(c, sc, sl, 3, &id))) return rc;
    if ((rc = new_node(c, N_STRING, &id))) return rc;
    if ((rc = new_node(c, N_NUMBER, &id))) return rc;
    for (uint32_t i = 0; i < c->g->n_nodes; i++) {
        first_of_kind(&c->g->nodes[i]);
        c->g->nodes[i].ready = true;
    }
    return 0;
}

static int compile(comp *c, json_t *s, const char *path, int32_t *out);

static int bad_at(comp *c, const char *path, const char *what) {
    return xuan_fail(c->err, XUAN_ERR_USAGE, "json schema: %s at %s", what, *path ? path : "/");
}

static int child_path(char *buf, size_t cap, const char *path, const char *a, const char *b) {
    int n = snprintf(buf, cap, "%s/%s%s%s", path, a, b ? "/" : "", b ? b : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int count(comp *c, json_t *s, const char *key, const char *path, uint32_t *out) {
    json_t *v = json_object_get(s, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX - 1) {
        char what[96];
        snprintf(what, sizeof what, "'%s' must be a non-negative integer", key);
        return bad_at(c, path, what);
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Resolves "#", "#/$defs/x", "#/definitions/x/..." in the root document. */
static json_t *resolve_ref(json_t *root, const char *ref) {
    if (ref[0] != '#') return NULL;
    json_t *cur = root;
    const char *p = ref + 1;
    while (*p) {
        if (*p != '/') return NULL;
        p++;
        char seg[256];
        size_t n = 0;
        while (*p && *p != '/') {
            char ch = *p++;
            if (ch == '~') {
                if (*p == '0') ch = '~';
                else if (*p == '1') ch = '/';
                else return NULL;
                p++;
            }
            if (n + 1 >= sizeof seg) return NULL;
            seg[n++] = ch;
        }
        seg[n] = 0;
        if (json_is_object(cur)) cur = json_object_get(cur, seg);
        else if (json_is_array(cur)) {
            int64_t k;
            if (xuan_parse_i64(seg, 0, INT32_MAX, &k)) return NULL;
            cur = json_array_get(cur, (size_t)k);
        } else return NULL;
        if (!cur) return NULL;
    }
    return cur;
}

static int union_node(comp *c, const int32_t *alts, size_t n, const char *path, int32_t *out) {
    int rc = new_node(c, N_UNION, out);
    if (rc) return rc;
    xuan_json_schema *g = c->g;
    uint32_t start = g->n_idx;
    for (size_t i = 0; i < n; i++) {
        node *a = &g->nodes[alts[i]];
        if (!a->ready) return bad_at(c, path, "a union (anyOf/oneOf/type list) that contains itself");
        for (int b = 0; b < 256; b++)
            if (BIT_HAS(a->first, b) && BIT_HAS(g->nodes[*out].first, b)) {
                char what[200];
                snprintf(what, sizeof what,
                         "alternatives that both can start with '%c' (the alternatives of anyOf, oneOf and type "
                         "lists must differ by their first character: object, array, string, number, literal)", b);
                return bad_at(c, path, what);
            }
        for (int b = 0; b < 32; b++) g->nodes[*out].first[b] |= a->first[b];
        if ((rc = push_idx(c, alts[i]))) return rc;
    }
    g->nodes[*out].alts = start;
    g->nodes[*out].n_alts = (uint32_t)n;
    g->nodes[*out].ready = true;
    return 0;
}

static int compile_object(comp *c, json_t *s, const char *path, int32_t id) {
    xuan_json_schema *g = c->g;
    json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
    json_t *add = json_object_get(s, "additionalProperties");
    char sub[1024];
    int rc;
    if (props && !json_is_object(props)) return bad_at(c, path, "'properties' must be an object");
    if (json_object_size(props) > XUAN_JSON_MAX_PROPS) return bad_at(c, path, "more than 64 properties");
    uint32_t start = g->n_props, np = (uint32_t)json_object_size(props);
    if (!grow((void **)&g->props, &g->cap_props, g->n_props + np, sizeof(prop), 1u << 20)) return nomem(c);
    g->n_props += np;
    if (np) memset(&g->props[start], 0, np * sizeof(prop));
    g->nodes[id].props = start;
    g->nodes[id].n_props = np;
    const char *key;
    json_t *val;
    uint32_t k = 0;
    json_object_foreach(props, key, val) {
        json_t *name = json_string(key);
        char *text = name ? json_dumps(name, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        json_decref(name);
        if (!text) return nomem(c);
        size_t len = strlen(text);
        prop *p = &g->props[start + k];
        p->name = xuan_strndup(text + 1, len - 2);
        p->len = len - 2;
        free(text);
        if (!p->name) return nomem(c);
        if (p->len > XUAN_JSON_MAX_KEY) return bad_at(c, path, "a property name longer than 256 bytes");
        if (child_path(sub, sizeof sub, path, "properties", key)) return bad_at(c, path, "a path too long");
        int32_t pn;
        if ((rc = compile(c, val, sub, &pn))) return rc;
        g->props[start + k].node = pn;
        k++;
    }
    if (!add || json_is_true(add)) g->nodes[id].additional = K_ANY;
    else if (json_is_false(add)) g->nodes[id].additional = -1;
    else {
        if (child_path(sub, sizeof sub, path, "additionalProperties", NULL)) return bad_at(c, path, "a path too long");
        int32_t an;
        if ((rc = compile(c, add, sub, &an))) return rc;
        g->nodes[id].additional = an;
    }
    if (req) {
        if (!json_is_array(req)) return bad_at(c, path, "'required' must be an array of names");
        size_t i;
        json_t *r;
        json_array_foreach(req, i, r) {
            if (!json_is_string(r)) return bad_at(c, path, "'required' must be an array of names");
            uint32_t j = 0;
            json_t *name = json_string(json_string_value(r));
            char *text = name ? json_dumps(name, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            json_decref(name);
            if (!text) return nomem(c);
            size_t tl = strlen(text) - 2;
            for (j = 0; j < np; j++)
                if (g->props[start + j].len == tl && memcmp(g->props[start + j].name, text + 1, tl) == 0) break;
            free(text);
            /* required but not described: only a schema of its own makes it writable */
            if (j == np) return bad_at(c, path, "a 'required' name that is not in 'properties'");
            g->nodes[id].required |= 1ull << j;
        }
    }
    return 0;
}

static int compile_array(comp *c, json_t *s, const char *path, int32_t id) {
    json_t *items = json_object_get(s, "items"), *prefix = json_object_get(s, "prefixItems");
    char sub[1024], num[24];
    int rc;
    uint32_t start = c->g->n_idx, n = 0;
    if (prefix) {
        if (!json_is_array(prefix)) return bad_at(c, path, "'prefixItems' must be an array of schemas");
        size_t i;
        json_t *v;
        /* the indexes are pushed after compiling, which may push its own */
        int32_t tmp[64];
        if (json_array_size(prefix) > 64) return bad_at(c, path, "more than 64 prefixItems");
        json_array_foreach(prefix, i, v) {
            snprintf(num, sizeof num, "%zu", i);
            if (child_path(sub, sizeof sub, path, "prefixItems", num)) return bad_at(c, path, "a path too long");
            if ((rc = compile(c, v, sub, &tmp[i]))) return rc;
        }
        start = c->g->n_idx;
        for (i = 0; i < json_array_size(prefix); i++)
            if ((rc = push_idx(c, tmp[i]))) return rc;
        n = (uint32_t)json_array_size(prefix);
    }
    int32_t it = K_ANY;
    if (items && json_is_false(items)) it = -1;
    else if (items) {
        if (json_is_array(items)) return bad_at(c, path, "'items' as an array (use prefixItems)");
        if (child_path(sub, sizeof sub, path, "items", NULL)) return bad_at(c, path, "a path too long");
        if ((rc = compile(c, items, sub, &it))) return rc;
    }
    node *nd = &c->g->nodes[id];
    nd->prefix = start, nd->n_prefix = n, nd->items = it;
    if ((rc = count(c, s, "minItems", path, &nd->min_items)) || (rc = count(c, s, "maxItems", path, &nd->max_items)))
        return rc;
    if (nd->min_items > nd->max_items) return bad_at(c, path, "minItems above maxItems");
    if (it < 0 && nd->min_items > n) return bad_at(c, path, "minItems above the number of prefixItems with items false");
    return 0;
}

/* One concrete type of schema s. */
static int compile_type(comp *c, json_t *s, const char *type, bool early, const char *path, int32_t *out) {
    int rc;
    if (strcmp(type, "null") == 0 || strcmp(type, "boolean") == 0) {
        const char *t[] = {"false", "true", "null"};
        const size_t l[] = {5, 4, 4};
        return type[0] == 'n' ? lits_node(c, t + 2, l + 2, 1, out) : lits_node(c, t, l, 2, out);
    }
    nkind k = strcmp(type, "object") == 0    ? N_OBJECT
              : strcmp(type, "array") == 0   ? N_ARRAY
              : strcmp(type, "string") == 0  ? N_STRING
              : strcmp(type, "number") == 0  ? N_NUMBER
              : strcmp(type, "integer") == 0 ? N_INTEGER
                                             : N_UNION;
    if (k == N_UNION) {
        char what[96];
        snprintf(what, sizeof what, "unknown type '%.40s'", type);
        return bad_at(c, path, what);
    }
    if ((rc = new_node(c, k, out))) return rc;
    int32_t id = *out;
    first_of_kind(&c->g->nodes[id]);
    if (k == N_OBJECT || k == N_ARRAY) {
        /* known before the children: a $ref back to this schema (a tree) finds it */
        c->g->nodes[id].ready = true;
        if (early && !grow((void **)&c->memo, &c->cap_memo, c->n_memo + 1, sizeof(memo), XUAN_JSON_MAX_NODES * 4))
            return nomem(c);
        if (early) c->memo[c->n_memo++] = (memo){s, id};
    }
    if (k == N_OBJECT) rc = compile_object(c, s, path, id);
    else if (k == N_ARRAY) rc = compile_array(c, s, path, id);
    else if (k == N_STRING) {
        node *nd = &c->g->nodes[id];
        if (!(rc = count(c, s, "minLength", path, &nd->min_len)) && !(rc = count(c, s, "maxLength", path, &nd->max_len)) &&
            nd->min_len > nd->max_len)
            rc = bad_at(c, path, "minLength above maxLength");
    }
    if (rc) return rc;
    c->g->nodes[id].ready = true;
    return 0;
}

static const char *const annotations[] = {
    "title", "description", "$schema", "$id", "default", "examples", "$comment", "format",
    "$defs", "definitions", "strict", "readOnly", "writeOnly", "deprecated", NULL};
static const char *const keywords[] = {
    "type", "properties", "required", "additionalProperties", "enum", "const", "items", "prefixItems",
    "minItems", "maxItems", "anyOf", "oneOf", "$ref", "minLength", "maxLength", NULL};

static bool in(const char *const *list, const char *k) {
    for (; *list; list++)
        if (strcmp(*list, k) == 0) return true;
    return false;
}

static int compile_body(comp *c, json_t *s, const char *path, int32_t *out) {
    int rc;
    if (json_is_true(s) || (json_is_object(s) && json_object_size(s) == 0)) return *out = K_ANY, 0;
    if (json_is_false(s)) return bad_at(c, path, "the schema false (no value is valid)");
    if (!json_is_object(s)) return bad_at(c, path, "a schema that is not an object or a boolean");
    const char *key;
    json_t *val;
    bool any_kw = false;
    json_object_foreach(s, key, val) {
        if (in(keywords, key)) {
            any_kw = true;
            continue;
        }
        if (in(annotations, key)) continue;
        return xuan_fail(c->err, XUAN_ERR_USAGE, "json schema: unsupported keyword '%.60s' at %s%s", key,
                         *path ? path : "/",
                         strcmp(key, "pattern") == 0 ? " (regular expressions are not supported)" : "");
    }
    if (!any_kw) return *out = K_ANY, 0;
    json_t *ref = json_object_get(s, "$ref");
    if (ref) {
        json_t *t = json_is_string(ref) ? resolve_ref(c->root, json_string_value(ref)) : NULL;
        if (!t) return bad_at(c, path, "a '$ref' that is not a local reference (#/$defs/... or #/definitions/...)");
        char sub[1024];
        snprintf(sub, sizeof sub, "%.1000s", json_string_value(ref) + 1);
        return compile(c, t, sub, out);
    }
    json_t *en = json_object_get(s, "enum"), *cn = json_object_get(s, "const");
    if (en || cn) {
        if (en && (!json_is_array(en) || json_array_size(en) == 0)) return bad_at(c, path, "'enum' must be a non-empty array");
        size_t n = en ? json_array_size(en) : 1;
        if (n > 4096) return bad_at(c, path, "more than 4096 enum values");
        char **texts = xuan_calloc(n, sizeof *texts);
        size_t *lens = xuan_calloc(n, sizeof *lens);
        rc = texts && lens ? 0 : nomem(c);
        for (size_t i = 0; i < n && !rc; i++) {
            texts[i] = json_dumps(en ? json_array_get(en, i) : cn, JSON_ENCODE_ANY | JSON_COMPACT);
            if (!texts[i]) rc = nomem(c);
            else lens[i] = strlen(texts[i]);
        }
        if (!rc) rc = lits_node(c, (const char *const *)texts, lens, n, out);
        for (size_t i = 0; texts && i < n; i++) free(texts[i]);
        xuan_free(texts);
        xuan_free(lens);
        return rc;
    }
    json_t *alts = json_object_get(s, "anyOf");
    const char *altk = "anyOf";
    if (!alts) alts = json_object_get(s, "oneOf"), altk = "oneOf";
    if (alts) {
        if (!json_is_array(alts) || json_array_size(alts) == 0 || json_array_size(alts) > 64)
            return bad_at(c, path, "anyOf/oneOf must be an array of 1 to 64 schemas");
        int32_t ids[64];
        char sub[1024], num[24];
        for (size_t i = 0; i < json_array_size(alts); i++) {
            snprintf(num, sizeof num, "%zu", i);
            if (child_path(sub, sizeof sub, path, altk, num)) return bad_at(c, path, "a path too long");
            if ((rc = compile(c, json_array_get(alts, i), sub, &ids[i]))) return rc;
        }
        if (json_array_size(alts) == 1) return *out = ids[0], 0;
        return union_node(c, ids, json_array_size(alts), path, out);
    }
    json_t *type = json_object_get(s, "type");
    if (!type) {
        const char *t = json_object_get(s, "properties") || json_object_get(s, "additionalProperties") ||
                                json_object_get(s, "required")
                            ? "object"
                        : json_object_get(s, "items") || json_object_get(s, "prefixItems") ? "array"
                        : json_object_get(s, "minLength") || json_object_get(s, "maxLength") ? "string"
                                                                                             : NULL;
        if (!t) return *out = K_ANY, 0;
        return compile_type(c, s, t, true, path, out);
    }
    if (json_is_string(type)) return compile_type(c, s, json_string_value(type), true, path, out);
    if (!json_is_array(type) || json_array_size(type) == 0 || json_array_size(type) > 7)
        return bad_at(c, path, "'type' must be a type name or a list of them");
    bool has_number = false;
    for (size_t i = 0; i < json_array_size(type); i++)
        if (json_is_string(json_array_get(type, i)) && strcmp(json_string_value(json_array_get(type, i)), "number") == 0)
            has_number = true;
    int32_t ids[8];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(type); i++) {
        json_t *t = json_array_get(type, i);
        if (!json_is_string(t)) return bad_at(c, path, "'type' must be a type name or a list of them");
        if (has_number && strcmp(json_string_value(t), "integer") == 0) continue; /* number covers it */
        if ((rc = compile_type(c, s, json_string_value(t), false, path, &ids[n]))) return rc;
        n++;
    }
    if (n == 1) return *out = ids[0], 0;
    return union_node(c, ids, n, path, out);
}

static int compile(comp *c, json_t *s, const char *path, int32_t *out) {
    for (uint32_t i = 0; i < c->n_memo; i++)
        if (c->memo[i].schema == s) return *out = c->memo[i].node, 0;
    if (c->depth >= 64) return bad_at(c, path, "schemas nested more than 64 deep");
    c->depth++;
    int rc = compile_body(c, s, path, out);
    c->depth--;
    if (rc) return rc;
    if (!grow((void **)&c->memo, &c->cap_memo, c->n_memo + 1, sizeof(memo), XUAN_JSON_MAX_NODES * 4)) return nomem(c);
    c->memo[c->n_memo++] = (memo){s, *out};
    return 0;
}

/* Recursion (a tree: an object whose property refers back to it) works
 * because an object or array node is memoized before its children are
 * compiled.  A cycle that never passes through an object or array ($ref to
 * itself, anyOf containing itself) is refused by the nesting bound. */
xuan_json_schema *xuan_json_schema_compile(const char *text, size_t len, xuan_error *err) {
    xuan_json_schema *g = xuan_calloc(1, sizeof *g);
    if (!g) {
        xuan_fail(err, XUAN_ERR_NOMEM, "json schema: out of memory");
        return NULL;
    }
    comp c = {.g = g, .err = err};
    int rc = fixed_nodes(&c);
    if (!rc && !text) g->root = K_ANY_OBJ;
    else if (!rc) {
        json_error_t je;
        c.root = json_loadb(text, len, JSON_DECODE_ANY, &je);
        if (!c.root) rc = xuan_fail(err, XUAN_ERR_FORMAT, "json schema: not valid JSON: %s", je.text);
        else rc = compile(&c, c.root, "", &g->root);
        json_decref(c.root);
    }
    xuan_free(c.memo);
    if (rc) {
        xuan_json_schema_free(g);
        return NULL;
    }
    return g;
}

/* ======================================================================
 * recogniser
 * ====================================================================== */

typedef enum fkind { F_VALUE, F_OBJ, F_ARR, F_STR, F_NUM, F_LIT } fkind;
enum { O_OPEN, O_KEY, O_COLON, O_VAL, O_AFTER, O_NEXT };
enum { A_OPEN, A_VAL, A_AFTER, A_NEXT };
enum { S_NORMAL, S_UTF, S_ESC, S_HEX, S_LOW_BS, S_LOW_U, S_LOW_HEX };
enum { M_SIGN, M_ZERO, M_INT, M_FRAC0, M_FRAC, M_EXP0, M_EXPS, M_EXP };
/* Bounds that keep every number readable by common parsers: an integer
 * part of 18 digits fits int64 (jansson refuses larger integers), an
 * exponent of 2 digits stays inside double range (1e999 is an error). */
enum { MAX_INT_DIGITS = 18, MAX_FRAC_DIGITS = 20, MAX_EXP_DIGITS = 2 };

typedef struct frame {
    uint8_t kind, sub;
    uint8_t is_key, integer;
    uint8_t utf_need, utf_lo, utf_hi, hexn;
    uint16_t cp;
    int32_t node;
    int32_t cur;          /* object: the property being read (-1: additional) */
    uint32_t count;       /* object: -, array: items, string: characters, literal: index */
    uint32_t aux;         /* literal: bytes matched; number: digits of the part */
    uint32_t min, max;    /* string length bounds */
    uint64_t seen;        /* object: properties given */
} frame;

struct xuan_json_state {
    const xuan_json_schema *g;
    uint32_t depth;
    uint32_t ws;
    bool done;
    uint32_t key_len;
    frame st[XUAN_JSON_MAX_DEPTH];
    char key[XUAN_JSON_MAX_KEY];
};

enum { R_BAD = 0, R_OK = 1, R_POP = 2 };

static bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }

static void push_value(xuan_json_state *s, int32_t nd) {
    frame *f = &s->st[s->depth++];
    memset(f, 0, sizeof *f);
    f->kind = F_VALUE;
    f->node = nd;
}

static const node *gnode(const xuan_json_state *s, int32_t id) { return &s->g->nodes[id]; }

static bool lit_shares(const lit *a, const lit *b, size_t pos) {
    return b->len >= pos && a->len >= pos && memcmp(a->text, b->text, pos) == 0;
}

/* A literal frame takes byte b: R_OK, R_POP (complete, b is the parent's) or R_BAD. */
static int lit_feed(const xuan_json_state *s, frame *f, uint8_t b) {
    const node *n = gnode(s, f->node);
    const lit *l = &s->g->lits[n->lits];
    size_t pos = f->aux;
    for (uint32_t j = f->count; j < n->n_lits && lit_shares(&l[f->count], &l[j], pos); j++)
        if (l[j].len > pos && (uint8_t)l[j].text[pos] == b) {
            f->count = j;
            f->aux++;
            return R_OK;
        }
    return l[f->count].len == pos && pos > 0 ? R_POP : R_BAD;
}

/* The literal frame is complete and no longer literal begins with it. */
static bool lit_closed(const xuan_json_state *s, const frame *f) {
    const node *n = gnode(s, f->node);
    const lit *l = &s->g->lits[n->lits];
    if (l[f->count].len != f->aux) return false;
    return f->count + 1 >= n->n_lits || !lit_shares(&l[f->count], &l[f->count + 1], f->aux);
}

static bool num_complete(const frame *f) {
    return f->sub == M_ZERO || f->sub == M_INT || f->sub == M_FRAC || f->sub == M_EXP;
}

static int num_feed(frame *f, uint8_t b) {
    bool digit = b >= '0' && b <= '9';
    bool can_end = num_complete(f);
    switch (f->sub) {
    case M_SIGN:
        if (!digit) return R_BAD;
        f->sub = b == '0' ? M_ZERO : M_INT, f->aux = 1;
        return R_OK;
    case M_ZERO: case M_INT: case M_FRAC: case M_EXP:
        if (digit && f->sub != M_ZERO) {
            if (f->aux >= (f->sub == M_EXP ? MAX_EXP_DIGITS : f->sub == M_INT ? MAX_INT_DIGITS : MAX_FRAC_DIGITS))
                return R_BAD;
            f->aux++;
            return R_OK;
        }
        if (b == '.' && !f->integer && (f->sub == M_ZERO || f->sub == M_INT)) return f->sub = M_FRAC0, f->aux = 0, R_OK;
        if ((b == 'e' || b == 'E') && !f->integer && f->sub != M_EXP) return f->sub = M_EXP0, R_OK;
        return can_end ? R_POP : R_BAD;
    case M_FRAC0:
        if (!digit) return R_BAD;
        f->sub = M_FRAC, f->aux = 1;
        return R_OK;
    case M_EXP0:
        if (b == '+' || b == '-') return f->sub = M_EXPS, R_OK;
        if (!digit) return R_BAD;
        f->sub = M_EXP, f->aux = 1;
        return R_OK;
    case M_EXPS:
        if (!digit) return R_BAD;
        f->sub = M_EXP, f->aux = 1;
        return R_OK;
    }
    return R_BAD;
}

static int hexval(uint8_t b) {
    return b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
}

/* Key bytes so far + b still name a property the object may take. */
static bool key_allowed(const xuan_json_state *s, const frame *obj, uint8_t b) {
    if (s->key_len >= XUAN_JSON_MAX_KEY) return false;
    const node *n = gnode(s, obj->node);
    if (n->additional >= 0) return true;
    for (uint32_t i = 0; i < n->n_props; i++) {
        const prop *p = &s->g->props[n->props + i];
        if (!(obj->seen >> i & 1) && p->len > s->key_len && memcmp(p->name, s->key, s->key_len) == 0 &&
            (uint8_t)p->name[s->key_len] == b)
            return true;
    }
    return false;
}

/* The key is complete: which property (R_BAD for a repeated or unknown one). */
static int key_close(xuan_json_state *s, frame *obj) {
    const node *n = gnode(s, obj->node);
    for (uint32_t i = 0; i < n->n_props; i++) {
        const prop *p = &s->g->props[n->props + i];
        if (p->len == s->key_len && memcmp(p->name, s->key, s->key_len) == 0) {
            if (obj->seen >> i & 1) return R_BAD;
            obj->seen |= 1ull << i;
            obj->cur = (int32_t)i;
            return R_OK;
        }
    }
    if (n->additional < 0) return R_BAD;
    obj->cur = -1;
    return R_OK;
}

static int str_feed(xuan_json_state *s, frame *f, uint8_t b) {
    frame *obj = f->is_key ? f - 1 : NULL;
    if (f->is_key && !(f->sub == S_NORMAL && b == '"')) {
        if (!key_allowed(s, obj, b)) return R_BAD;
    }
    switch (f->sub) {
    case S_NORMAL:
        if (b == '"') {
            if (f->count < f->min) return R_BAD;
            if (f->is_key && key_close(s, obj) != R_OK) return R_BAD;
            return R_POP + 10; /* consumed and complete */
        }
        if (f->count >= f->max) return R_BAD;
        if (b == '\\') f->sub = S_ESC;
        else if (b < 0x20) return R_BAD;
        else if (b < 0x80) f->count++;
        else {
            if (b >= 0xC2 && b <= 0xDF) f->utf_need = 1, f->utf_lo = 0x80, f->utf_hi = 0xBF;
            else if (b >= 0xE0 && b <= 0xEF) f->utf_need = 2, f->utf_lo = b == 0xE0 ? 0xA0 : 0x80, f->utf_hi = b == 0xED ? 0x9F : 0xBF;
            else if (b >= 0xF0 && b <= 0xF4) f->utf_need = 3, f->utf_lo = b == 0xF0 ? 0x90 : 0x80, f->utf_hi = b == 0xF4 ? 0x8F : 0xBF;
            else return R_BAD;
            f->sub = S_UTF;
            f->count++;
        }
        break;
    case S_UTF:
        if (b < f->utf_lo || b > f->utf_hi) return R_BAD;
        f->utf_lo = 0x80, f->utf_hi = 0xBF;
        if (--f->utf_need == 0) f->sub = S_NORMAL;
        break;
    case S_ESC:
        if (b == 'u') {
            f->sub = S_HEX, f->hexn = 0, f->cp = 0;
            break;
        }
        if (!strchr("\"\\/bfnrt", b) || !b) return R_BAD;
        f->count++;
        f->sub = S_NORMAL;
        break;
    case S_HEX:
    case S_LOW_HEX: {
        int v = hexval(b);
        if (v < 0) return R_BAD;
        bool low = f->sub == S_LOW_HEX;
        /* the first two digits decide surrogates: D8-DB high, DC-DF low */
        if (f->hexn == 0 && low && v != 0xD) return R_BAD;
        if (f->hexn == 1 && low && f->cp == 0xD && v < 0xC) return R_BAD;
        if (f->hexn == 1 && !low && f->cp == 0xD && v >= 0xC) return R_BAD; /* a lone low surrogate */
        if (f->hexn == 3 && !low && f->cp == 0 && v == 0) return R_BAD;      /* \u0000: jansson refuses it */
        f->cp = (uint16_t)(f->cp * 16 + v);
        if (++f->hexn < 4) break;
        if (!low && f->cp >= 0xD800 && f->cp <= 0xDBFF) {
            f->sub = S_LOW_BS;
            break;
        }
        if (!low) f->count++;
        f->sub = S_NORMAL;
        break;
    }
    case S_LOW_BS:
        if (b != '\\') return R_BAD;
        f->sub = S_LOW_U;
        break;
    case S_LOW_U:
        if (b != 'u') return R_BAD;
        f->sub = S_LOW_HEX, f->hexn = 0, f->cp = 0;
        f->count++;
        break;
    }
    if (f->is_key) s->key[s->key_len++] = (char)b;
    return R_OK;
}

static void str_start(xuan_json_state *s, frame *f, uint32_t min, uint32_t max, bool is_key) {
    f->kind = F_STR;
    f->sub = S_NORMAL;
    f->count = 0;
    f->min = min, f->max = max;
    f->is_key = is_key;
    if (is_key) s->key_len = 0;
}

/* A value of node nd begins with byte b (the top frame, F_VALUE, becomes it). */
static int value_start(xuan_json_state *s, frame *f, uint8_t b) {
    int32_t nd = f->node;
    const node *n = gnode(s, nd);
    if (!BIT_HAS(n->first, b)) return R_BAD;
    while (n->kind == N_UNION) {
        uint32_t i;
        for (i = 0; i < n->n_alts; i++)
            if (BIT_HAS(gnode(s, s->g->idx[n->alts + i])->first, b)) break;
        if (i == n->n_alts) return R_BAD;
        nd = s->g->idx[n->alts + i];
        n = gnode(s, nd);
    }
    nkind k = n->kind;
    if (k == N_ANY) {
        nd = b == '{' ? K_ANY_OBJ : b == '[' ? K_ANY_ARR : b == '"' ? K_STRING : (b == '-' || (b >= '0' && b <= '9')) ? K_NUMBER : K_SCALAR_LIT;
        n = gnode(s, nd);
        k = n->kind;
    }
    f->node = nd;
    /* a container needs a frame for its children */
    if ((k == N_OBJECT || k == N_ARRAY) && s->depth >= XUAN_JSON_MAX_DEPTH) return R_BAD;
    switch (k) {
    case N_OBJECT: f->kind = F_OBJ, f->sub = O_OPEN, f->seen = 0; return R_OK;
    case N_ARRAY: f->kind = F_ARR, f->sub = A_OPEN, f->count = 0; return R_OK;
    case N_STRING: str_start(s, f, n->min_len, n->max_len, false); return R_OK;
    case N_NUMBER: case N_INTEGER:
        f->kind = F_NUM, f->integer = k == N_INTEGER;
        if (b == '-') return f->sub = M_SIGN, R_OK;
        f->sub = b == '0' ? M_ZERO : M_INT, f->aux = 1;
        return R_OK;
    case N_LITS: {
        f->kind = F_LIT, f->count = 0, f->aux = 0;
        return lit_feed(s, f, b) == R_OK ? R_OK : R_BAD;
    }
    default: return R_BAD;
    }
}

static int32_t item_node(const node *n, const xuan_json_state *s, uint32_t i) {
    return i < n->n_prefix ? s->g->idx[n->prefix + i] : n->items;
}

static bool obj_can_add(const xuan_json_state *s, const frame *f) {
    const node *n = gnode(s, f->node);
    if (n->additional >= 0) return true;
    return n->n_props && (f->seen != (n->n_props == 64 ? ~0ull : (1ull << n->n_props) - 1));
}

/* The top frame is complete: pop it and move its parent on. */
static void pop(xuan_json_state *s) {
    s->depth--;
    if (s->depth == 0) {
        s->done = true;
        return;
    }
    frame *p = &s->st[s->depth - 1];
    if (p->kind == F_OBJ) p->sub = p->sub == O_KEY ? O_COLON : O_AFTER;
    else if (p->kind == F_ARR) p->sub = A_AFTER, p->count++;
}

/* One byte; R_OK or R_BAD.  s may be partly changed on R_BAD (callers work on copies). */
static int feed_byte(xuan_json_state *s, uint8_t b) {
    for (;;) {
        if (s->depth == 0) return R_BAD;
        frame *f = &s->st[s->depth - 1];
        bool ws_ok = false;
        switch (f->kind) {
        case F_VALUE: ws_ok = true; break;
        case F_OBJ: ws_ok = f->sub != O_KEY && f->sub != O_VAL; break;
        case F_ARR: ws_ok = f->sub != A_VAL; break;
        default: break;
        }
        if (ws_ok && is_ws(b)) {
            if (s->ws >= XUAN_JSON_MAX_WS) return R_BAD;
            s->ws++;
            return R_OK;
        }
        int r = R_BAD;
        switch (f->kind) {
        case F_VALUE:
            r = value_start(s, f, b);
            if (r == R_OK && f->kind == F_LIT && lit_closed(s, f)) pop(s);
            break;
        case F_STR:
            r = str_feed(s, f, b);
            if (r == R_POP + 10) {
                pop(s);
                r = R_OK;
            }
            break;
        case F_NUM:
            r = num_feed(f, b);
            break;
        case F_LIT:
            r = lit_feed(s, f, b);
            if (r == R_OK && lit_closed(s, f)) pop(s);
            break;
        case F_OBJ: {
            const node *n = gnode(s, f->node);
            if ((f->sub == O_OPEN || f->sub == O_AFTER) && b == '}') {
                if (n->required & ~f->seen) return R_BAD;
                pop(s);
                r = R_OK;
            } else if ((f->sub == O_OPEN || f->sub == O_NEXT) && b == '"') {
                if (!obj_can_add(s, f) || s->depth >= XUAN_JSON_MAX_DEPTH) return R_BAD;
                f->sub = O_KEY;
                frame *k = &s->st[s->depth++];
                memset(k, 0, sizeof *k);
                str_start(s, k, 0, UINT32_MAX, true);
                r = R_OK;
            } else if (f->sub == O_AFTER && b == ',') {
                if (!obj_can_add(s, f)) return R_BAD;
                f->sub = O_NEXT;
                r = R_OK;
            } else if (f->sub == O_COLON && b == ':') {
                if (s->depth >= XUAN_JSON_MAX_DEPTH) return R_BAD;
                f->sub = O_VAL;
                push_value(s, f->cur >= 0 ? s->g->props[n->props + (uint32_t)f->cur].node : n->additional);
                r = R_OK;
            }
            break;
        }
        case F_ARR: {
            const node *n = gnode(s, f->node);
            if ((f->sub == A_OPEN || f->sub == A_AFTER) && b == ']') {
                if (f->count < n->min_items) return R_BAD;
                pop(s);
                r = R_OK;
            } else if (f->sub == A_AFTER && b == ',') {
                if (f->count >= n->max_items || item_node(n, s, f->count) < 0) return R_BAD;
                f->sub = A_NEXT;
                r = R_OK;
            } else if (f->sub == A_OPEN || f->sub == A_NEXT) {
                int32_t it = item_node(n, s, f->count);
                if (it < 0 || f->count >= n->max_items || s->depth >= XUAN_JSON_MAX_DEPTH) return R_BAD;
                f->sub = A_VAL;
                push_value(s, it);
                continue; /* b starts the item */
            }
            break;
        }
        }
        if (r == R_POP) {
            pop(s);
            continue; /* the parent reads b */
        }
        if (r == R_OK) s->ws = 0;
        return r;
    }
}

/* ======================================================================
 * public
 * ====================================================================== */

void xuan_json_state_reset(xuan_json_state *st) {
    st->depth = 0;
    st->ws = 0;
    st->done = false;
    st->key_len = 0;
    push_value(st, st->g->root);
}

xuan_json_state *xuan_json_state_create(const xuan_json_schema *g, xuan_error *err) {
    xuan_json_state *st = xuan_calloc(1, sizeof *st);
    if (!st) {
        xuan_fail(err, XUAN_ERR_NOMEM, "json state: out of memory");
        return NULL;
    }
    st->g = g;
    xuan_json_state_reset(st);
    return st;
}

void xuan_json_state_free(xuan_json_state *st) { xuan_free(st); }

/* Copies what a trial may touch: the header, the used frames, the key. */
static void state_copy(xuan_json_state *dst, const xuan_json_state *src) {
    dst->g = src->g;
    dst->depth = src->depth;
    dst->ws = src->ws;
    dst->done = src->done;
    dst->key_len = src->key_len;
    memcpy(dst->st, src->st, src->depth * sizeof(frame));
    memcpy(dst->key, src->key, src->key_len);
}

bool xuan_json_can_feed(const xuan_json_state *st, const char *bytes, size_t n) {
    xuan_json_state t;
    state_copy(&t, st);
    for (size_t i = 0; i < n; i++)
        if (feed_byte(&t, (uint8_t)bytes[i]) != R_OK) return false;
    return true;
}

int xuan_json_feed(xuan_json_state *st, const char *bytes, size_t n) {
    xuan_json_state t;
    state_copy(&t, st);
    for (size_t i = 0; i < n; i++)
        if (feed_byte(&t, (uint8_t)bytes[i]) != R_OK) return 0;
    state_copy(st, &t);
    return 1;
}

bool xuan_json_complete(const xuan_json_state *st) {
    if (st->done) return true;
    if (st->depth != 1) return false;
    const frame *f = &st->st[0];
    return (f->kind == F_NUM && num_complete(f)) ||
           (f->kind == F_LIT && st->g->lits[gnode(st, f->node)->lits + f->count].len == f->aux);
}

bool xuan_json_done(const xuan_json_state *st) { return st->done; }
