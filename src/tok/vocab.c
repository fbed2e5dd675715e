/*
 * Building a tokenizer: copying the vocabulary, hash tables for text -> id
 * and (left, right) -> merge, the special-token index, decoded pieces, and
 * reading all of it from GGUF keys.
 *
 * Map: pre-tokenizer names | hash maps | pieces | xuan_tok_new | GGUF | facts
 */
#include <stdlib.h>
#include <string.h>

#include "tok/internal.h"
#include "tok/unicode.h"

/* ======== pre-tokenizer names ========================================== */

typedef struct pre_name {
    const char *name;
    tok_pre pre;
    bool ignore_merges, add_bos, nfc;
    bool no_bos; /* llama.cpp drops the BOS id whatever the file says (glm4) */
} pre_name;

/* The `pre` values of llama.cpp's convert script that xuan knows, with the
 * loader flags llama.cpp sets for them.  nfc: the HF tokenizer.json of the
 * family has an NFC normalizer (Qwen2); llama.cpp ignores it, xuan does not. */
static const pre_name PRE_NAMES[] = {
    {"default", TOK_PRE_GPT2, false, false, false, false},
    {"gpt2", TOK_PRE_GPT2, false, false, false, false},
    {"gpt-2", TOK_PRE_GPT2, false, false, false, false},
    {"mpt", TOK_PRE_GPT2, false, false, false, false},
    {"olmo", TOK_PRE_GPT2, false, false, false, false},
    {"jais", TOK_PRE_GPT2, false, false, false, false},
    {"llama3", TOK_PRE_LLAMA3, true, true, false, false},
    {"llama-v3", TOK_PRE_LLAMA3, true, true, false, false},
    {"llama-bpe", TOK_PRE_LLAMA3, true, true, false, false},
    {"falcon3", TOK_PRE_LLAMA3, true, true, false, false},
    {"pixtral", TOK_PRE_LLAMA3, true, true, false, false},
    {"dbrx", TOK_PRE_LLAMA3, false, false, false, false},
    {"smaug-bpe", TOK_PRE_LLAMA3, false, false, false, false},
    {"qwen2", TOK_PRE_QWEN2, false, false, true, false},
    {"deepseek-r1-qwen", TOK_PRE_QWEN2, false, false, true, false},
    {"megrez", TOK_PRE_QWEN2, false, false, true, false},
    {"stablelm2", TOK_PRE_QWEN2, false, false, false, false},
    /* Qwen3.5 (248K vocabulary): qwen2's pattern with marks (\p{M}) in words;
     * no NFC (llama.cpp's .out keeps "e" + U+0301 as two tokens) */
    {"qwen35", TOK_PRE_QWEN35, false, false, false, false},
    /* Gemma 4 (tokenizer.ggml.model "gemma4", which sets this pre): BOS always added */
    {"gemma4", TOK_PRE_GEMMA4, false, true, false, false},
    {"deepseek-llm", TOK_PRE_DEEPSEEK_LLM, false, false, false, false},
    {"deepseek-coder", TOK_PRE_DEEPSEEK_CODER, false, false, false, false},
    {"deepseek-v3", TOK_PRE_DEEPSEEK3, false, false, false, false},
    {"gpt-4o", TOK_PRE_GPT4O, false, false, false, false},
    {"llama4", TOK_PRE_GPT4O, false, false, false, false},
    {"starcoder", TOK_PRE_STARCODER, false, false, false, false},
    {"refact", TOK_PRE_STARCODER, false, false, false, false},
    {"command-r", TOK_PRE_STARCODER, false, false, false, false},
    {"smollm", TOK_PRE_STARCODER, false, false, false, false},
    {"codeshell", TOK_PRE_STARCODER, false, false, false, false},
    {"tekken", TOK_PRE_TEKKEN, true, true, false, false},
    /* GLM-4 (-0414, Z1): llama3's pattern, merges always applied, no BOS */
    {"glm4", TOK_PRE_LLAMA3, false, false, false, true},
    {"chatglm-bpe", TOK_PRE_LLAMA3, false, false, false, true},
};

/* ======== hash maps ======================================================= */

static uint32_t pow2_above(uint64_t n) {
    uint32_t c = 16;
    while (c < n * 2) c <<= 1;
    return c;
}

/* bytes == false: stored text; true: decoded piece. */
static const char *key_of(const xuan_tok *t, bool bytes, uint32_t id, size_t *n) {
    if (bytes) {
        *n = t->piece_len[id];
        return t->piece_pool + t->piece_off[id];
    }
    *n = t->len[id];
    return t->pool + t->off[id];
}

int32_t tok_map_find(const xuan_tok *t, const tok_text_map *m, bool bytes, const char *s,
                     size_t n) {
    if (!m->slots) return -1;
    uint32_t i = (uint32_t)tok_hash(s, n) & m->mask;
    for (;;) {
        uint32_t v = m->slots[i];
        if (v == 0) return -1;
        size_t kn;
        const char *k = key_of(t, bytes, v - 1, &kn);
        if (kn == n && memcmp(k, s, n) == 0) return (int32_t)(v - 1);
        i = (i + 1) & m->mask;
    }
}

/* Inserts id unless its key is present (the first id with a text wins, as
 * in llama.cpp's token_to_id for duplicate texts). */
static void map_insert(const xuan_tok *t, tok_text_map *m, bool bytes, uint32_t id) {
    size_t n;
    const char *s = key_of(t, bytes, id, &n);
    uint32_t i = (uint32_t)tok_hash(s, n) & m->mask;
    for (;;) {
        uint32_t v = m->slots[i];
        if (v == 0) {
            m->slots[i] = id + 1;
            return;
        }
        size_t kn;
        const char *k = key_of(t, bytes, v - 1, &kn);
        if (kn == n && memcmp(k, s, n) == 0) return;
        i = (i + 1) & m->mask;
    }
}

static int merge_insert(xuan_tok *t, int32_t a, int32_t b, uint32_t rank, int32_t res) {
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    uint32_t i = (uint32_t)(h >> 32) & t->merges.mask;
    for (;;) {
        tok_merge_slot *sl = &t->merges.slots[i];
        if (sl->key == key) return 0; /* a repeated merge keeps its first rank */
        if (sl->key == 0) {
            *sl = (tok_merge_slot){key, rank, res};
            return 1;
        }
        i = (i + 1) & t->merges.mask;
    }
}

/* ======== pieces ============================================================= */

/* GPT-2's byte <-> printable code point table: printable Latin-1 bytes map
 * to themselves, the other 68 bytes to U+0100.. in order. */
static void gpt2_byte_table(uint32_t byte_to_cp[256]) {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; b++) {
        bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        byte_to_cp[b] = keep ? b : next++;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* <0xNN> -> NN, or -1. */
static int byte_token_value(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int hi = hexval(s[3]), lo = hexval(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* Decoded bytes of every token (what xuan_tok_piece returns with special). */
static int build_pieces(xuan_tok *t) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < t->n; i++) total += t->len[i];
    t->piece_pool = xuan_malloc(total + 1);
    t->piece_off = xuan_alloc_array(t->n + 1, sizeof(uint32_t));
    t->piece_len = xuan_alloc_array(t->n + 1, sizeof(uint32_t));
    if (!t->piece_pool || !t->piece_off || !t->piece_len) return -1;
    int16_t cp_to_byte[324];
    uint32_t b2c[256];
    gpt2_byte_table(b2c);
    for (int i = 0; i < 324; i++) cp_to_byte[i] = -1;
    for (int b = 0; b < 256; b++) cp_to_byte[b2c[b]] = (int16_t)b;

    uint64_t o = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const char *s = t->pool + t->off[i];
        size_t n = t->len[i];
        char *dst = t->piece_pool + o;
        size_t m = 0;
        uint8_t ty = t->types[i];
        if (ty == XUAN_TOK_TYPE_UNUSED) {
            /* renders as nothing, as in llama.cpp */
        } else if (ty == XUAN_TOK_TYPE_BYTE && byte_token_value(s, n) >= 0) {
            dst[m++] = (char)byte_token_value(s, n);
        } else if (ty != XUAN_TOK_TYPE_NORMAL) {
            memcpy(dst, s, n);
            m = n;
        } else if (t->kind == XUAN_TOK_SPM || t->raw_utf8) {
            for (size_t k = 0; k < n;) {
                if (k + 3 <= n && memcmp(s + k, "\xe2\x96\x81", 3) == 0) {
                    dst[m++] = ' ';
                    k += 3;
                } else {
                    dst[m++] = s[k++];
                }
            }
        } else {
            for (size_t k = 0; k < n;) {
                size_t used;
                uint32_t cp = tok_utf8_decode_lax((const uint8_t *)s + k, n - k, &used);
                if (cp < 324 && cp_to_byte[cp] >= 0) {
                    dst[m++] = (char)cp_to_byte[cp];
                } else { /* not a byte-level character: keep it as it is */
                    memcpy(dst + m, s + k, used);
                    m += used;
                }
                k += used;
            }
        }
        t->piece_off[i] = (uint32_t)o;
        t->piece_len[i] = (uint32_t)m;
        o += m;
    }
    return 0;
}

/* ======== xuan_tok_new ======================================================= */

static int cmp_special(const void *a, const void *b, void *ctx) {
    const xuan_tok *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    uint8_t fx = (uint8_t)t->pool[t->off[x]], fy = (uint8_t)t->pool[t->off[y]];
    if (fx != fy) return fx < fy ? -1 : 1;
    if (t->len[x] != t->len[y]) return t->len[x] > t->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void index_specials(const xuan_tok *t, tok_special_index *x) {
    qsort_r(x->ids, x->n, sizeof(int32_t), cmp_special, (void *)t);
    for (uint32_t k = 0, b = 0; b <= 256; b++) {
        while (k < x->n && (uint8_t)t->pool[t->off[x->ids[k]]] < b) k++;
        x->first[b] = k;
    }
}

static bool name_is_eog(const char *s, size_t n) {
    static const char *const names[] = {"<|im_end|>", "<|end|>",    "<|endoftext|>", "<|eot_id|>",
                                        "<|eom_id|>", "</s>",       "<end_of_turn>", "<|EOT|>",
                                        "<｜end▁of▁sentence｜>"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return true;
    return false;
}

xuan_tok *xuan_tok_new(const xuan_tok_desc *d, xuan_error *err) {
    if (d->kind != XUAN_TOK_BPE && d->kind != XUAN_TOK_SPM) {
        xuan_fail(err, XUAN_ERR_USAGE, "tokenizer: unknown kind %d", (int)d->kind);
        return NULL;
    }
    if (d->n_tokens == 0 || d->n_tokens > (1u << 30)) {
        xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer: %u tokens is not a vocabulary", d->n_tokens);
        return NULL;
    }
    xuan_tok *t = xuan_calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->kind = d->kind;
    t->n = d->n_tokens;

    const char *pre = d->pre && *d->pre ? d->pre : "default";
    bool no_bos = false;
    snprintf(t->pre_name, sizeof t->pre_name, "%s", pre);
    if (t->kind == XUAN_TOK_BPE) {
        const pre_name *found = NULL;
        for (size_t i = 0; i < sizeof PRE_NAMES / sizeof PRE_NAMES[0]; i++)
            if (strcmp(PRE_NAMES[i].name, pre) == 0) found = &PRE_NAMES[i];
        if (!found) {
            const char *force = getenv("XUAN_TOK_PRE");
            if (force && strcmp(force, "default") == 0) {
                xuan_log(XUAN_LOG_WARN,
                         "tokenizer: unknown pre-tokenizer '%s', using the GPT-2 splitter "
                         "(XUAN_TOK_PRE=default); ids may differ from the model's",
                         pre);
                found = &PRE_NAMES[0];
            } else {
                xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                          "tokenizer.ggml.pre '%s' is not a pre-tokenizer xuan knows (known: "
                          "qwen2, llama-bpe, dbrx, deepseek-llm, deepseek-coder, deepseek-v3, "
                          "gpt-4o, gpt2, starcoder, tekken, glm4, ...); XUAN_TOK_PRE=default forces the GPT-2 "
                          "splitter",
                          pre);
                xuan_tok_free(t);
                return NULL;
            }
        }
        t->pre = found->pre;
        t->ignore_merges = found->ignore_merges;
        t->add_bos = found->add_bos;
        t->nfc = found->nfc;
        no_bos = found->no_bos;
    } else {
        t->pre = TOK_PRE_NONE;
        t->add_bos = true;
        t->add_space_prefix = true;
    }
    if (d->add_bos >= 0) t->add_bos = d->add_bos != 0;
    t->raw_utf8 = t->kind == XUAN_TOK_BPE && t->pre == TOK_PRE_GEMMA4;
    if (t->raw_utf8) t->add_bos = true; /* llama.cpp overrides a false add_bos_token for Gemma 4 */
    if (d->add_eos >= 0) t->add_eos = d->add_eos != 0;
    if (t->kind == XUAN_TOK_SPM && d->add_space_prefix >= 0)
        t->add_space_prefix = d->add_space_prefix != 0;

    /* copy the vocabulary into one pool */
    uint64_t total = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        if (!xuan_add_ok(total, d->tokens[i].n + 1, &total) || total > UINT32_MAX) {
            xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer: token texts exceed 4 GiB");
            xuan_tok_free(t);
            return NULL;
        }
    }
    t->pool = xuan_malloc(total + 1);
    t->off = xuan_alloc_array(t->n, sizeof(uint32_t));
    t->len = xuan_alloc_array(t->n, sizeof(uint32_t));
    t->scores = xuan_calloc(t->n, sizeof(float));
    t->types = xuan_alloc_array(t->n, 1);
    if (!t->pool || !t->off || !t->len || !t->scores || !t->types) goto nomem;
    uint64_t o = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        t->off[i] = (uint32_t)o;
        t->len[i] = (uint32_t)d->tokens[i].n;
        if (d->tokens[i].n) memcpy(t->pool + o, d->tokens[i].p, d->tokens[i].n);
        t->pool[o + d->tokens[i].n] = 0;
        o += d->tokens[i].n + 1;
        if (d->scores) t->scores[i] = d->scores[i];
        uint8_t ty = d->types ? d->types[i] : XUAN_TOK_TYPE_NORMAL;
        if (ty < XUAN_TOK_TYPE_NORMAL || ty > XUAN_TOK_TYPE_BYTE) ty = XUAN_TOK_TYPE_NORMAL;
        t->types[i] = ty;
    }
    if (build_pieces(t) != 0) goto nomem;

    /* special ids */
    const int32_t ids[6] = {d->bos, d->eos, d->eot, d->eom, d->pad, d->unk};
    static const char *const id_names[6] = {"bos", "eos", "eot", "eom", "padding", "unknown"};
    for (int i = 0; i < 6; i++) {
        if (ids[i] < -1 || (ids[i] >= 0 && (uint32_t)ids[i] >= t->n)) {
            xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer: %s_token_id %d is outside the %u tokens",
                      id_names[i], ids[i], t->n);
            xuan_tok_free(t);
            return NULL;
        }
    }
    t->bos = no_bos ? -1 : d->bos, t->eos = d->eos, t->eot = d->eot, t->eom = d->eom, t->pad = d->pad;
    t->unk = d->unk;
    if (t->add_bos && t->bos < 0) t->add_bos = false;
    if (t->add_eos && t->eos < 0) t->add_eos = false;

    /* text -> id */
    t->by_text.mask = pow2_above(t->n) - 1;
    t->by_text.slots = xuan_calloc((size_t)t->by_text.mask + 1, sizeof(uint32_t));
    if (!t->by_text.slots) goto nomem;
    for (uint32_t i = 0; i < t->n; i++) map_insert(t, &t->by_text, false, i);

    if (t->kind == XUAN_TOK_BPE) {
        t->by_bytes.mask = t->by_text.mask;
        t->by_bytes.slots = xuan_calloc((size_t)t->by_bytes.mask + 1, sizeof(uint32_t));
        if (!t->by_bytes.slots) goto nomem;
        for (uint32_t i = 0; i < t->n; i++)
            if (t->types[i] == XUAN_TOK_TYPE_NORMAL && t->piece_len[i] > 0)
                map_insert(t, &t->by_bytes, true, i);
        uint32_t b2c[256];
        gpt2_byte_table(b2c);
        for (int b = 0; b < 256; b++) {
            uint8_t u[8];
            int l = t->raw_utf8 ? snprintf((char *)u, sizeof u, "<0x%02X>", b) : tok_utf8_put(b2c[b], u);
            t->byte_tok[b] = tok_map_find(t, &t->by_text, false, (const char *)u, (size_t)l);
        }
        /* merges */
        if (d->n_merges > (1u << 28)) {
            xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer: %llu merges is too many",
                      (unsigned long long)d->n_merges);
            xuan_tok_free(t);
            return NULL;
        }
        uint32_t cap = pow2_above(d->n_merges);
        t->merges.mask = cap - 1;
        t->merges.slots = xuan_calloc(cap, sizeof(tok_merge_slot));
        if (!t->merges.slots) goto nomem;
        char buf[1024];
        uint64_t skipped = 0;
        for (uint64_t r = 0; r < d->n_merges; r++) {
            const char *m = d->merges[r].p;
            size_t n = d->merges[r].n;
            /* split at the first space after position 0, as llama.cpp does */
            const char *sp = n > 1 ? memchr(m + 1, ' ', n - 1) : NULL;
            if (!sp || n - 1 > sizeof buf) {
                xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer.ggml.merges[%llu] '%.*s' is not 'left right'",
                          (unsigned long long)r, (int)(n > 64 ? 64 : n), m);
                xuan_tok_free(t);
                return NULL;
            }
            size_t la = (size_t)(sp - m), lb = n - la - 1;
            int32_t a = tok_map_find(t, &t->by_text, false, m, la);
            int32_t b = tok_map_find(t, &t->by_text, false, sp + 1, lb);
            memcpy(buf, m, la);
            memcpy(buf + la, sp + 1, lb);
            int32_t c = tok_map_find(t, &t->by_text, false, buf, la + lb);
            if (a < 0 || b < 0 || c < 0) {
                skipped++; /* names a token the vocabulary lacks: can never apply */
                continue;
            }
            merge_insert(t, a, b, (uint32_t)r, c);
        }
        if (skipped)
            xuan_log(XUAN_LOG_DEBUG, "tokenizer: %llu merges name missing tokens",
                     (unsigned long long)skipped);
    } else {
        for (int b = 0; b < 256; b++) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            t->byte_tok[b] = tok_map_find(t, &t->by_text, false, name, 6);
        }
    }

    /* special tokens matched in text, and end-of-generation ids */
    t->specials.ids = xuan_alloc_array(t->n, sizeof(int32_t));
    t->user_specials.ids = xuan_alloc_array(t->n, sizeof(int32_t));
    t->eog_ids = xuan_alloc_array(t->n, sizeof(int32_t));
    t->strip = xuan_calloc(t->n, 1);
    if (!t->specials.ids || !t->user_specials.ids || !t->eog_ids || !t->strip) goto nomem;
    for (uint32_t i = 0; i < t->n; i++) {
        uint8_t ty = t->types[i];
        if ((ty == XUAN_TOK_TYPE_CONTROL || ty == XUAN_TOK_TYPE_USER_DEFINED ||
             ty == XUAN_TOK_TYPE_UNKNOWN) &&
            t->len[i] > 0) {
            t->specials.ids[t->specials.n++] = (int32_t)i;
            if (ty == XUAN_TOK_TYPE_USER_DEFINED) t->user_specials.ids[t->user_specials.n++] = (int32_t)i;
        }
        bool eog = (int32_t)i == t->eos || (int32_t)i == t->eot || (int32_t)i == t->eom;
        if (!eog && ty == XUAN_TOK_TYPE_CONTROL) eog = name_is_eog(t->pool + t->off[i], t->len[i]);
        if (eog) t->eog_ids[t->n_eog++] = (int32_t)i;
    }
    index_specials(t, &t->specials);
    index_specials(t, &t->user_specials);

    if (tok_pre_compile(t, err) != 0) {
        xuan_tok_free(t);
        return NULL;
    }
    return t;
nomem:
    xuan_fail(err, XUAN_ERR_NOMEM, "tokenizer: out of memory for a %u-token vocabulary",
              d->n_tokens);
    xuan_tok_free(t);
    return NULL;
}

void xuan_tok_free(xuan_tok *t) {
    if (!t) return;
    tok_pre_free(t);
    xuan_free(t->pool);
    xuan_free(t->off);
    xuan_free(t->len);
    xuan_free(t->scores);
    xuan_free(t->types);
    xuan_free(t->piece_pool);
    xuan_free(t->piece_off);
    xuan_free(t->piece_len);
    xuan_free(t->by_text.slots);
    xuan_free(t->by_bytes.slots);
    xuan_free(t->merges.slots);
    xuan_free(t->specials.ids);
    xuan_free(t->user_specials.ids);
    xuan_free(t->eog_ids);
    xuan_free(t->strip);
    xuan_free(t);
}

/* Phi-3's added tokens eat the white space after them (rstrip in its HF
 * tokenizer.json), except <unk>, <s> and <|endoftext|>; llama.cpp applies
 * this when general.name contains "phi-3" or "phi3" (lower-cased). */
static void apply_name_rules(xuan_tok *t, const xuan_gguf *g) {
    xuan_str name;
    if (xuan_gguf_get_str(g, "general.name", &name) != 0) return;
    char low[256];
    size_t n = name.n < sizeof low - 1 ? (size_t)name.n : sizeof low - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)(name.p[i] >= 'A' && name.p[i] <= 'Z' ? name.p[i] + 32 : name.p[i]);
    low[n] = 0;
    if (!strstr(low, "phi-3") && !strstr(low, "phi3")) return;
    for (uint32_t k = 0; k < t->specials.n; k++) t->strip[t->specials.ids[k]] |= TOK_RSTRIP;
    int32_t id = xuan_tok_find(t, "</s>", 4);
    if (id >= 0) t->strip[id] |= TOK_RSTRIP;
    static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
    for (int i = 0; i < 3; i++) {
        id = xuan_tok_find(t, keep[i], strlen(keep[i]));
        if (id >= 0) t->strip[id] &= (uint8_t)~TOK_RSTRIP;
    }
}

/* ======== GGUF ==================================================================== */

static int get_id(const xuan_gguf *g, const char *key, int32_t *out, xuan_error *err) {
    int64_t v;
    *out = -1;
    int rc = xuan_gguf_get_i64(g, key, &v, err);
    if (rc == XUAN_ERR_NOTFOUND) return 0;
    if (rc != 0) return rc;
    if (v < -1 || v > INT32_MAX) return xuan_fail(err, XUAN_ERR_FORMAT, "%s = %lld is not a token id", key, (long long)v);
    *out = (int32_t)v;
    return 0;
}

static int get_flag(const xuan_gguf *g, const char *key, int *out, xuan_error *err) {
    bool v;
    *out = -1;
    int rc = xuan_gguf_get_bool(g, key, &v, err);
    if (rc == XUAN_ERR_NOTFOUND) return 0;
    if (rc != 0) return rc;
    *out = v;
    return 0;
}

xuan_tok *xuan_tok_from_gguf(const xuan_gguf *g, xuan_error *err) {
    xuan_tok_desc d = {0};
    xuan_str model, pre = {0};
    if (xuan_gguf_get_str(g, "tokenizer.ggml.model", &model) != 0) {
        xuan_fail(err, XUAN_ERR_NOTFOUND, "%s: no tokenizer.ggml.model key (not a model with a vocabulary)",
                  xuan_gguf_path(g));
        return NULL;
    }
    const bool gemma4 = xuan_str_eq(model, "gemma4");
    if (xuan_str_eq(model, "gpt2") || gemma4) d.kind = XUAN_TOK_BPE;
    else if (xuan_str_eq(model, "llama")) d.kind = XUAN_TOK_SPM;
    else {
        xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                  "%s: tokenizer.ggml.model '%.*s' is not supported (xuan reads gpt2, llama and gemma4)",
                  xuan_gguf_path(g), (int)(model.n > 64 ? 64 : model.n), model.p);
        return NULL;
    }
    char pre_buf[64] = "";
    if (xuan_gguf_get_str(g, "tokenizer.ggml.pre", &pre) == 0) {
        if (pre.n >= sizeof pre_buf) {
            xuan_fail(err, XUAN_ERR_FORMAT, "tokenizer.ggml.pre is %llu bytes long", (unsigned long long)pre.n);
            return NULL;
        }
        memcpy(pre_buf, pre.p, pre.n);
        pre_buf[pre.n] = 0;
    } else if (d.kind == XUAN_TOK_BPE && !gemma4) {
        xuan_log(XUAN_LOG_WARN, "%s: no tokenizer.ggml.pre; using the GPT-2 splitter (ids may differ "
                 "from the model's own tokenizer)", xuan_gguf_path(g));
    }
    if (gemma4) snprintf(pre_buf, sizeof pre_buf, "gemma4"); /* llama.cpp sets it for this model */
    d.pre = pre_buf;

    const xuan_gguf_array *toks = NULL, *scores = NULL, *types = NULL, *merges = NULL;
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) != 0 || !toks->strs) {
        xuan_fail(err, XUAN_ERR_FORMAT, "%s: tokenizer.ggml.tokens is missing or not a string array",
                  xuan_gguf_path(g));
        return NULL;
    }
    if (toks->n == 0 || toks->n > (1u << 30)) {
        xuan_fail(err, XUAN_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", xuan_gguf_path(g),
                  (unsigned long long)toks->n);
        return NULL;
    }
    d.n_tokens = (uint32_t)toks->n;
    d.tokens = toks->strs;
    float *sc = NULL;
    uint8_t *ty = NULL;
    xuan_tok *t = NULL;
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.scores", &scores) == 0) {
        if (scores->n != toks->n || scores->strs || scores->items) {
            xuan_fail(err, XUAN_ERR_FORMAT, "%s: tokenizer.ggml.scores has %llu numbers for %llu tokens",
                      xuan_gguf_path(g), (unsigned long long)scores->n, (unsigned long long)toks->n);
            return NULL;
        }
        sc = xuan_alloc_array(toks->n, sizeof(float));
        if (!sc) goto nomem;
        for (uint64_t i = 0; i < toks->n; i++) sc[i] = (float)xuan_gguf_arr_f64(scores, i);
        d.scores = sc;
    }
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.token_type", &types) == 0) {
        if (types->n != toks->n || types->strs || types->items) {
            xuan_fail(err, XUAN_ERR_FORMAT, "%s: tokenizer.ggml.token_type has %llu entries for %llu tokens",
                      xuan_gguf_path(g), (unsigned long long)types->n, (unsigned long long)toks->n);
            goto fail;
        }
        ty = xuan_alloc_array(toks->n, 1);
        if (!ty) goto nomem;
        for (uint64_t i = 0; i < toks->n; i++) {
            int64_t v = xuan_gguf_arr_i64(types, i);
            ty[i] = (uint8_t)(v >= 1 && v <= 6 ? v : XUAN_TOK_TYPE_NORMAL);
        }
        d.types = ty;
    }
    if (d.kind == XUAN_TOK_BPE) {
        if (xuan_gguf_get_arr(g, "tokenizer.ggml.merges", &merges) != 0 || !merges->strs) {
            xuan_fail(err, XUAN_ERR_FORMAT, "%s: a gpt2 tokenizer needs tokenizer.ggml.merges (string array)",
                      xuan_gguf_path(g));
            goto fail;
        }
        d.n_merges = merges->n;
        d.merges = merges->strs;
    }
    if (get_id(g, "tokenizer.ggml.bos_token_id", &d.bos, err) ||
        get_id(g, "tokenizer.ggml.eos_token_id", &d.eos, err) ||
        get_id(g, "tokenizer.ggml.eot_token_id", &d.eot, err) ||
        get_id(g, "tokenizer.ggml.eom_token_id", &d.eom, err) ||
        get_id(g, "tokenizer.ggml.padding_token_id", &d.pad, err) ||
        get_id(g, "tokenizer.ggml.unknown_token_id", &d.unk, err) ||
        get_flag(g, "tokenizer.ggml.add_bos_token", &d.add_bos, err) ||
        get_flag(g, "tokenizer.ggml.add_eos_token", &d.add_eos, err) ||
        get_flag(g, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix, err))
        goto fail;
    if (d.kind == XUAN_TOK_SPM) { /* llama.cpp's SPM defaults when keys are absent */
        if (d.bos < 0 && !xuan_gguf_find(g, "tokenizer.ggml.bos_token_id") && d.n_tokens > 1) d.bos = 1;
        if (d.eos < 0 && !xuan_gguf_find(g, "tokenizer.ggml.eos_token_id") && d.n_tokens > 2) d.eos = 2;
        if (d.unk < 0 && !xuan_gguf_find(g, "tokenizer.ggml.unknown_token_id")) d.unk = 0;
    }
    /* ids out of range are an error in xuan_tok_new; -1 stays "none" */
    t = xuan_tok_new(&d, err);
    if (!t) xuan_error_prefix(err, "%s", xuan_gguf_path(g));
    else apply_name_rules(t, g);
    xuan_free(sc);
    xuan_free(ty);
    return t;
nomem:
    xuan_fail(err, XUAN_ERR_NOMEM, "%s: out of memory reading the vocabulary", xuan_gguf_path(g));
fail:
    xuan_free(sc);
    xuan_free(ty);
    return NULL;
}

/* ======== facts ====================================================================== */

xuan_tok_kind xuan_tok_get_kind(const xuan_tok *t) { return t->kind; }
const char *xuan_tok_pre_name(const xuan_tok *t) { return t->pre_name; }
uint32_t xuan_tok_n_vocab(const xuan_tok *t) { return t->n; }
const char *xuan_tok_text(const xuan_tok *t, int32_t id, size_t *len) {
    if (id < 0 || (uint32_t)id >= t->n) return NULL;
    if (len) *len = t->len[id];
    return t->pool + t->off[id];
}
xuan_tok_type xuan_tok_get_type(const xuan_tok *t, int32_t id) {
    if (id < 0 || (uint32_t)id >= t->n) return XUAN_TOK_TYPE_UNUSED;
    return (xuan_tok_type)t->types[id];
}
int32_t xuan_tok_find(const xuan_tok *t, const char *text, size_t len) {
    return tok_map_find(t, &t->by_text, false, text, len);
}
int32_t xuan_tok_bos(const xuan_tok *t) { return t->bos; }
int32_t xuan_tok_eos(const xuan_tok *t) { return t->eos; }
int32_t xuan_tok_eot(const xuan_tok *t) { return t->eot; }
int32_t xuan_tok_pad(const xuan_tok *t) { return t->pad; }
int32_t xuan_tok_unk(const xuan_tok *t) { return t->unk; }
bool xuan_tok_add_bos(const xuan_tok *t) { return t->add_bos; }
bool xuan_tok_add_eos(const xuan_tok *t) { return t->add_eos; }
const int32_t *xuan_tok_eog_ids(const xuan_tok *t, size_t *n) {
    *n = t->n_eog;
    return t->eog_ids;
}
bool xuan_tok_is_eog(const xuan_tok *t, int32_t id) {
    for (uint32_t i = 0; i < t->n_eog; i++)
        if (t->eog_ids[i] == id) return true;
    return false;
}
