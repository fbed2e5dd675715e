/* The tokenizers against their references, case by case:
 *   - Qwen2, Llama 3, DeepSeek-V3, cl100k, Tekken, Gemma 3 and o200k (gpt-oss) vocabularies
 *     built from HF tokenizer.json files (scripts/tok_vocabs.sh): the
 *     .inp/.out cases of ../shared/vocab (qwen2, llama-bpe) and every case of
 *     ../shared/tokenizer against HF's ids in tests/golden/tok/NAME.jsonl;
 *   - GLM-4's pre-tokenizer (Llama 3 vocabulary, pre=glm4) against
 *     llama.cpp's ids, and its no-BOS rule;
 *   - the GGUF vocabularies of ../shared/vocab on the same cases against
 *     llama.cpp's ids (no tokenizer.json exists for them here);
 *   - invalid UTF-8 against llama.cpp's ids, round trips on valid text.
 * Rules (docs/tokenizers.md): with PARSE_SPECIAL xuan must give HF's ids (HF
 * always parses added tokens); without it, text holding special-token text
 * must give llama.cpp's plain ids, anything else HF's.  Needs the npm
 * packages (heavy); skips visibly when the registry is unreachable. */
#include "harness.h"
#include "tok/unicode.h"
#include "xuan/tok.h"

#include <jansson.h>
#include <stdlib.h>

typedef struct ref_case {
    char id[64];
    char *text; /* bytes */
    size_t len;
    bool invalid;
    json_t *hf, *llama, *llama_special; /* borrowed from the row */
} ref_case;

static bool json_ids_eq(const json_t *a, const xuan_tok_ids *v) {
    if (!a || json_array_size(a) != v->n) return false;
    for (size_t i = 0; i < v->n; i++)
        if (json_integer_value(json_array_get(a, i)) != v->ids[i]) return false;
    return true;
}

static void show(const char *label, const json_t *a, const xuan_tok_ids *v) {
    fprintf(stderr, "    %s:", label);
    if (a)
        for (size_t i = 0; i < json_array_size(a); i++) fprintf(stderr, " %lld", (long long)json_integer_value(json_array_get(a, i)));
    if (v)
        for (size_t i = 0; i < v->n; i++) fprintf(stderr, " %d", v->ids[i]);
    fputc('\n', stderr);
}

/* Differences from llama.cpp that follow HF on purpose (docs/tokenizers.md):
 * phi-3 and Gemma 3 mark "</s>" as a user-defined added token, which HF
 * always splits out of text; llama.cpp retypes it as control (an
 * end-of-generation name) and matches it only with parse_special.  So on
 * such text xuan's plain ids may differ from llama.cpp's in one stretch
 * only: the same bytes, where xuan has the "</s>" token and llama.cpp the
 * pieces of its text.  The other way round with parse_special: Qwen2's and
 * Qwen3.5's vocabularies have "</s>" as a plain token, which HF (and xuan)
 * leave to BPE and llama.cpp retypes as control and matches; llama.cpp has
 * the token, xuan the pieces (checked against HF for Qwen2; Qwen3.5 has no
 * HF tokenizer on npm, so its llama.cpp ids with parse_special take this
 * allowance). */
static bool known_plain_ok(const xuan_tok *t, const char *vocab, const char *id, const json_t *ll,
                           const xuan_tok_ids *v) {
    const bool xuan_has = strcmp(vocab, "phi-3") == 0 || strcmp(vocab, "gemma3") == 0;
    const bool llama_has = strcmp(vocab, "qwen35") == 0;
    if (!(xuan_has || llama_has) || strcmp(id, "special_like") != 0) return false;
    const int32_t eos_text = xuan_tok_find(t, "</s>", 4);
    const size_t nl = json_array_size(ll);
    size_t a = 0, b = 0; /* common prefix, common suffix */
    while (a < nl && a < v->n && json_integer_value(json_array_get(ll, a)) == v->ids[a]) a++;
    while (b < nl - a && b < v->n - a &&
           json_integer_value(json_array_get(ll, nl - 1 - b)) == v->ids[v->n - 1 - b])
        b++;
    bool has = false;
    int32_t *lid = malloc((nl + 1) * sizeof *lid);
    for (size_t i = 0; i < nl; i++) lid[i] = (int32_t)json_integer_value(json_array_get(ll, i));
    if (xuan_has)
        for (size_t i = a; i < v->n - b; i++) has |= v->ids[i] == eos_text;
    else
        for (size_t i = a; i < nl - b; i++) has |= lid[i] == eos_text;
    xuan_buf x = {0}, l = {0};
    bool ok = has && xuan_tok_decode(t, v->ids + a, v->n - b - a, 0, &x) == 0 &&
              xuan_tok_decode(t, lid + a, nl - b - a, 0, &l) == 0 && x.len == l.len &&
              memcmp(x.data, l.data, x.len) == 0;
    xuan_buf_free(&x);
    xuan_buf_free(&l);
    free(lid);
    return ok;
}

/* Whether all ids are ordinary text tokens (round trips apply). */
static bool plain_tokens(const xuan_tok *t, const xuan_tok_ids *v) {
    for (size_t i = 0; i < v->n; i++) {
        xuan_tok_type ty = xuan_tok_get_type(t, v->ids[i]);
        if (ty != XUAN_TOK_TYPE_NORMAL && ty != XUAN_TOK_TYPE_BYTE) return false;
    }
    return true;
}

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Loads the corpus texts by id. */
static json_t *load_corpus(void) {
    json_t *by_id = json_object();
    const char *files[2] = {"corpus.jsonl", "invalid_utf8.jsonl"};
    for (int f = 0; f < 2; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%.4000s/tokenizer/%s", test_shared(), files[f]);
        FILE *fp = fopen(path, "r");
        if (!fp) continue;
        char line[65536];
        while (fgets(line, sizeof line, fp)) {
            json_t *o = json_loads(line, 0, NULL);
            if (o) json_object_set_new(by_id, json_string_value(json_object_get(o, "id")), o);
        }
        fclose(fp);
    }
    return by_id;
}

/* Checks one vocabulary against its golden file; returns mismatches. */
static int check_golden(const char *name, const char *gguf, json_t *corpus, bool have_hf) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(gguf, &err);
    xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
    xuan_gguf_close(g);
    if (!t) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return 1;
    }
    char path[4096];
    const char *src = getenv("XUAN_SRC");
    snprintf(path, sizeof path, "%.3000s/tests/golden/tok/%.100s.jsonl", src ? src : ".", name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        test_fail(__FILE__, __LINE__, "cannot read %s", path);
        xuan_tok_free(t);
        return 1;
    }
    int bad = 0, n = 0, n_hf = 0;
    char line[1 << 16];
    while (fgets(line, sizeof line, fp)) {
        json_t *row = json_loads(line, 0, NULL);
        if (!row) continue;
        const char *id = json_string_value(json_object_get(row, "id"));
        json_t *c = json_object_get(corpus, id ? id : "");
        if (!c) {
            json_decref(row);
            continue;
        }
        char *text;
        size_t len;
        bool invalid = false;
        if (json_object_get(c, "hex")) {
            const char *hex = json_string_value(json_object_get(c, "hex"));
            len = strlen(hex) / 2;
            text = malloc(len + 1);
            for (size_t i = 0; i < len; i++) text[i] = (char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
            invalid = true;
        } else {
            len = json_string_length(json_object_get(c, "text"));
            text = malloc(len + 1);
            memcpy(text, json_string_value(json_object_get(c, "text")), len);
        }
        json_t *hf = json_object_get(row, "hf"), *ll = json_object_get(row, "llama");
        json_t *ls = json_object_get(row, "llama_special");
        xuan_tok_ids plain = {0}, special = {0};
        CHECK(xuan_tok_encode(t, text, len, 0, &plain, &err) == 0);
        CHECK(xuan_tok_encode(t, text, len, XUAN_TOK_PARSE_SPECIAL, &special, &err) == 0);
        n++;
        if (invalid) {
            if (!json_ids_eq(ll, &plain)) {
                bad++;
                fprintf(stderr, "  %s/%s (invalid UTF-8) differs from llama.cpp\n", name, id);
                show("llama.cpp", ll, NULL), show("xuan     ", NULL, &plain);
            }
        } else if (hf) {
            n_hf++;
            json_t *want_plain = ls ? ll : hf; /* special-token text: llama.cpp's plain ids */
            bool plain_ok = json_ids_eq(want_plain, &plain) || known_plain_ok(t, name, id, ll, &plain);
            if (!json_ids_eq(hf, &special) || !plain_ok) {
                bad++;
                fprintf(stderr, "  %s/%s differs from HF\n", name, id);
                show("HF            ", hf, NULL), show("xuan --special", NULL, &special);
                if (ls) show("llama.cpp plain", ll, NULL);
                show("xuan          ", NULL, &plain);
            }
        } else {
            bool plain_ok = json_ids_eq(ll, &plain) || known_plain_ok(t, name, id, ll, &plain);
            const bool special_ok = json_ids_eq(ls ? ls : ll, &special) ||
                                    (strcmp(name, "qwen35") == 0 && known_plain_ok(t, name, id, ls ? ls : ll, &special));
            if (!plain_ok || !special_ok) {
                bad++;
                fprintf(stderr, "  %s/%s differs from llama.cpp\n", name, id);
                show("llama.cpp", ll, NULL), show("xuan     ", NULL, &plain);
                if (ls) show("llama.cpp special", ls, NULL), show("xuan --special   ", NULL, &special);
            }
        }
        if (!invalid && plain_tokens(t, &plain)) { /* round trip of valid UTF-8 */
            xuan_buf out = {0}, nfc = {0};
            CHECK(xuan_tok_decode(t, plain.ids, plain.n, 0, &out) == 0);
            bool same = out.len == len && memcmp(out.data, text, len) == 0;
            /* Qwen2 normalizes to NFC: decoding gives NFC(text) */
            if (!same && strcmp(xuan_tok_pre_name(t), "qwen2") == 0 && tok_sanitize(text, len, true, &nfc) == 1)
                same = out.len == nfc.len && memcmp(out.data, nfc.data, nfc.len) == 0;
            xuan_buf_free(&nfc);
            if (!same) {
                bad++;
                fprintf(stderr, "  %s/%s: round trip gave \"%.*s\"\n", name, id, (int)out.len, out.data);
            }
            xuan_buf_free(&out);
        }
        xuan_tok_ids_free(&plain);
        xuan_tok_ids_free(&special);
        free(text);
        json_decref(row);
    }
    fclose(fp);
    fprintf(stderr, "  %s: %d cases (%d against HF), %d mismatches\n", name, n, n_hf, bad);
    CHECK(n >= 40);
    if (have_hf) CHECK(n_hf >= 35);
    xuan_tok_free(t);
    return bad;
}

/* .inp/.out cases (HF's ids) against a vocabulary built from tokenizer.json */
static int check_inp_out(const char *gguf, const char *cases) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(gguf, &err);
    xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
    xuan_gguf_close(g);
    if (!t) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return 1;
    }
    char p[4096];
    char *inp = NULL, *out = NULL;
    size_t ni, no;
    snprintf(p, sizeof p, "%.4000s.inp", cases);
    xuan_read_file(p, 1 << 24, &inp, &ni, &err);
    snprintf(p, sizeof p, "%.4000s.out", cases);
    xuan_read_file(p, 1 << 24, &out, &no, &err);
    int bad = 0, n = 0;
    const char *sep = "\n__ggml_vocab_test__\n";
    for (char *ip = inp, *op = out; ip && op;) {
        char *e = strstr(ip, sep), *ol = strchr(op, '\n');
        if (!e || !ol) break;
        *ol = 0;
        json_t *want = json_array();
        for (char *q = op;;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            json_array_append_new(want, json_integer(v));
            q = end;
        }
        xuan_tok_ids v = {0};
        CHECK(xuan_tok_encode(t, ip, (size_t)(e - ip), 0, &v, &err) == 0);
        n++;
        if (!json_ids_eq(want, &v)) {
            bad++;
            fprintf(stderr, "  %s: \"%.*s\"\n", cases, (int)(e - ip > 60 ? 60 : e - ip), ip);
            show("HF  ", want, NULL), show("xuan", NULL, &v);
        }
        json_decref(want);
        xuan_tok_ids_free(&v);
        ip = e + strlen(sep);
        op = ol + 1;
    }
    fprintf(stderr, "  %s: %d .inp/.out cases, %d mismatches\n", cases, n, bad);
    CHECK(n > 10);
    xuan_free(inp);
    xuan_free(out);
    xuan_tok_free(t);
    return bad;
}

static void test_shared_vocab_golden(void) {
    NEED_SHARED();
    json_t *corpus = load_corpus();
    REQUIRE(json_object_size(corpus) >= 40);
    const char *names[] = {"gpt-2", "deepseek-llm", "deepseek-coder", "llama-spm", "phi-3", "baichuan"};
    int bad = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char gguf[4096];
        snprintf(gguf, sizeof gguf, "%.4000s/vocab/ggml-vocab-%s.gguf", test_shared(), names[i]);
        bad += check_golden(names[i], gguf, corpus, false);
    }
    CHECK_EQ_INT(bad, 0);
    json_decref(corpus);
}

/* Qwen3.5's and Gemma 4's vocabularies from the reference's source tree
 * (llama.cpp's models/ggml-vocab-qwen35.gguf, ggml-vocab-gemma-4.gguf):
 * their own .inp/.out pairs run in cli_tok_vocab_pairs; here the corpus
 * against llama.cpp's ids (no HF tokenizer for them on npm). */
static void test_peer_vocab_golden(void) {
    NEED_SHARED();
    const char *peer = getenv("XUAN_PEER_DIR");
    static const char *const names[][2] = {{"qwen35", "qwen35"}, {"gemma4", "gemma-4"}};
    json_t *corpus = load_corpus();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char gguf[4096];
        snprintf(gguf, sizeof gguf, "%.4000s/llama.cpp/models/ggml-vocab-%s.gguf", peer ? peer : ".", names[i][1]);
        FILE *fp = fopen(gguf, "rb");
        if (!fp) {
            printf("SKIP test_peer_vocab_golden: no %s (scripts/peer.sh unpacks the reference's tree)\n", gguf);
            continue;
        }
        fclose(fp);
        CHECK_EQ_INT(check_golden(names[i][0], gguf, corpus, false), 0);
    }
    json_decref(corpus);
}

static void test_hf_vocabs(void) {
    NEED_SHARED();
    const char *src = getenv("XUAN_SRC");
    char out[8192];
    const char *dir = test_path("tokvocab");
    int rc = test_sh(out, sizeof out, "bash '%s/scripts/tok_vocabs.sh' '%s' 2>&1", src ? src : ".", dir);
    if (rc == 3) {
        printf("SKIP test_hf_vocabs: npm registry unreachable, HF vocabularies not built\n");
        return;
    }
    if (rc != 0) fprintf(stderr, "%s\n", out);
    REQUIRE(rc == 0);
    json_t *corpus = load_corpus();
    /* glm4 last: GLM-4's pre-tokenizer on the Llama 3 vocabulary, against
     * llama.cpp only (GLM-4's own tokenizer.json is not on npm) */
    const char *names[] = {"qwen2", "llama3", "deepseek-v3", "cl100k", "tekken", "gemma3", "o200k", "glm4"};
    const size_t n_names = sizeof names / sizeof names[0];
    int bad = 0;
    for (size_t i = 0; i < n_names; i++) {
        char gguf[4096];
        snprintf(gguf, sizeof gguf, "%.4000s/%s.gguf", dir, names[i]);
        bad += check_golden(names[i], gguf, corpus, i + 1 < n_names);
    }
    /* BOS as llama.cpp adds it: Tekken and Gemma 3 yes, GLM-4 never (its
     * file says add_bos_token true, as the Llama 3 one it came from) */
    const char *bos_names[] = {"llama3", "tekken", "gemma3", "glm4"};
    const bool bos_want[] = {true, true, true, false};
    for (size_t i = 0; i < 4; i++) {
        char gguf[4096];
        snprintf(gguf, sizeof gguf, "%.4000s/%s.gguf", dir, bos_names[i]);
        xuan_error err = {0};
        xuan_gguf *g = xuan_gguf_open(gguf, &err);
        xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
        xuan_gguf_close(g);
        REQUIRE(t != NULL);
        if (xuan_tok_add_bos(t) != bos_want[i]) {
            bad++;
            fprintf(stderr, "  %s: add_bos %d, llama.cpp %d\n", bos_names[i], xuan_tok_add_bos(t), bos_want[i]);
        }
        if (!bos_want[i]) CHECK_EQ_INT(xuan_tok_bos(t), -1);
        xuan_tok_free(t);
    }
    char gguf[4096], cases[4096];
    snprintf(gguf, sizeof gguf, "%.4000s/qwen2.gguf", dir);
    snprintf(cases, sizeof cases, "%.4000s/vocab/ggml-vocab-qwen2.gguf", test_shared());
    bad += check_inp_out(gguf, cases);
    snprintf(gguf, sizeof gguf, "%.4000s/llama3.gguf", dir);
    snprintf(cases, sizeof cases, "%.4000s/vocab/ggml-vocab-llama-bpe.gguf", test_shared());
    bad += check_inp_out(gguf, cases);
    CHECK_EQ_INT(bad, 0);
    json_decref(corpus);
}

int main(void) {
    RUN(test_shared_vocab_golden);
    RUN(test_hf_vocabs);
    RUN(test_peer_vocab_golden);
    return test_done();
}
