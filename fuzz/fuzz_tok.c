/*
 * libFuzzer target for the tokenizers: arbitrary bytes through every real
 * vocabulary there is (SentencePiece and byte-level BPE, with their
 * pre-tokenizer regexes), both ways.
 *
 * Input: byte 0 picks the vocabulary, byte 1 the flags, the rest is text.
 * Encoding must succeed with every id inside the vocabulary; for valid UTF-8
 * without special-token parsing, decode(encode(text)) gives the text back
 * (what xuan_tok_decode promises), and the streaming detokenizer, fed one
 * id at a time, gives what xuan_tok_decode gives.  The same bytes read as
 * int32 ids (any value, out of range too) must decode without a fault.
 *
 * The vocabularies are the GGUF files in the folders of XUAN_FUZZ_VOCABS
 * (colon-separated; fuzz/run.sh sets ../shared/vocab and the reference's
 * models/ folder), loaded once.  Seeds: fuzz/corpus/tok.
 */
#include "xuan/gguf.h"
#include "xuan/tok.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)

enum { MAX_VOCABS = 48 };
static xuan_tok *g_tok[MAX_VOCABS];
static char g_name[MAX_VOCABS][64];
static uint8_t g_bytes[MAX_VOCABS][32]; /* bit b: byte b alone survives a round trip */
static int g_n;

/* Whether decode(encode(text)) == text is promised: when every byte of the
 * text has a token (a few byte-level vocabularies lack some, refact's 0xF1:
 * llama.cpp drops such a byte too), and except that SentencePiece writes
 * spaces as U+2581, so a literal U+2581 reads back as a space (in
 * SentencePiece and llama.cpp alike). */
static bool lossless(int v, const char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)text[i];
        if (!(g_bytes[v][b >> 3] & (1u << (b & 7)))) return false;
    }
    if (xuan_tok_get_kind(g_tok[v]) != XUAN_TOK_SPM) return true;
    for (size_t i = 0; i + 2 < len; i++)
        if (text[i] == '\xe2' && text[i + 1] == '\x96' && text[i + 2] == '\x81') return false;
    return true;
}

/* Which single bytes a vocabulary gives back: encode each alone, decode. */
static void probe_bytes(int v) {
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        xuan_tok_ids ids = {0};
        xuan_buf back = {0};
        xuan_error err = {0};
        if (xuan_tok_encode(g_tok[v], &c, 1, 0, &ids, &err) == 0 && xuan_tok_decode(g_tok[v], ids.ids, ids.n, 0, &back) == 0 &&
            back.len == 1 && (uint8_t)back.data[0] == b)
            g_bytes[v][b >> 3] |= (uint8_t)(1u << (b & 7));
        xuan_buf_free(&back);
        xuan_tok_ids_free(&ids);
    }
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* The .gguf files of dir in name order (so that byte 0 means the same
 * vocabulary on every machine with the same files). */
static void load_dir(const char *dir) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);
        if (g_n < MAX_VOCABS && len >= 5 && strcmp(name + len - 5, ".gguf") == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            xuan_error err = {0};
            xuan_gguf *g = xuan_gguf_open(path, &err);
            xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
            xuan_gguf_close(g);
            if (t) {
                snprintf(g_name[g_n], sizeof g_name[0], "%s", name);
                g_tok[g_n] = t;
                probe_bytes(g_n++);
            }
        }
        free(list[i]);
    }
    free(list);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *env = getenv("XUAN_FUZZ_VOCABS");
    char dirs[8192];
    snprintf(dirs, sizeof dirs, "%s", env && *env ? env : "../shared/vocab");
    for (char *save = NULL, *p = strtok_r(dirs, ":", &save); p; p = strtok_r(NULL, ":", &save)) load_dir(p);
    if (g_n == 0) {
        fprintf(stderr, "fuzz_tok: no vocabulary found in %s (set XUAN_FUZZ_VOCABS)\n", dirs);
        exit(2);
    }
    fprintf(stderr, "fuzz_tok: %d vocabularies:", g_n);
    for (int i = 0; i < g_n; i++) fprintf(stderr, " %d=%s", i, g_name[i]);
    fputc('\n', stderr);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const int v = data[0] % g_n;
    const xuan_tok *t = g_tok[v];
    const uint32_t flags = data[1] & (XUAN_TOK_ADD_SPECIAL | XUAN_TOK_PARSE_SPECIAL);
    const char *text = (const char *)data + 2;
    const size_t len = size - 2;
    const uint32_t nv = xuan_tok_n_vocab(t);

    xuan_tok_ids ids = {0};
    xuan_error err = {0};
    int rc = xuan_tok_encode(t, text, len, flags, &ids, &err);
    TRAP_IF(rc != 0 && rc != XUAN_ERR_NOMEM);
    for (size_t i = 0; i < ids.n; i++) TRAP_IF(ids.ids[i] < 0 || (uint32_t)ids.ids[i] >= nv);

    if (rc == 0 && !flags && xuan_utf8_valid((const uint8_t *)text, len) && lossless(v, text, len)) {
        xuan_buf back = {0};
        TRAP_IF(xuan_tok_decode(t, ids.ids, ids.n, 0, &back) != 0);
        if (back.len != len || (len && memcmp(back.data, text, len) != 0)) {
            fprintf(stderr, "fuzz_tok: %s: decode(encode(text)) differs: %zu bytes in, %zu out\n",
                    g_name[v], len, back.len);
            __builtin_trap();
        }
        /* the stream, one id at a time, says the same */
        xuan_tok_stream s;
        xuan_tok_stream_init(&s, t, 0);
        xuan_buf streamed = {0};
        for (size_t i = 0; i < ids.n; i++) TRAP_IF(xuan_tok_stream_push(&s, ids.ids[i], &streamed) != 0);
        TRAP_IF(xuan_tok_stream_flush(&s, &streamed) != 0);
        TRAP_IF(streamed.len != back.len || (back.len && memcmp(streamed.data, back.data, back.len) != 0));
        xuan_buf_free(&streamed);
        xuan_buf_free(&back);
    }
    xuan_tok_ids_free(&ids);

    /* the input as ids: anything, decoded every way */
    size_t n_raw = len / 4;
    if (n_raw > 0) {
        int32_t *raw = malloc(n_raw * sizeof *raw);
        if (!raw) return 0;
        memcpy(raw, text, n_raw * sizeof *raw);
        for (uint32_t f = 0; f < 2; f++) {
            xuan_buf out = {0};
            TRAP_IF(xuan_tok_decode(t, raw, n_raw, f, &out) != 0);
            xuan_tok_stream s;
            xuan_tok_stream_init(&s, t, f);
            xuan_buf streamed = {0};
            for (size_t i = 0; i < n_raw; i++) TRAP_IF(xuan_tok_stream_push(&s, raw[i], &streamed) != 0);
            TRAP_IF(xuan_tok_stream_flush(&s, &streamed) != 0);
            TRAP_IF(streamed.len && !xuan_utf8_valid((const uint8_t *)streamed.data, streamed.len));
            xuan_buf_free(&streamed);
            xuan_buf_free(&out);
            char piece[256];
            for (size_t i = 0; i < n_raw && i < 16; i++) TRAP_IF(xuan_tok_piece(t, raw[i], f, piece, sizeof piece) > (1u << 20));
        }
        free(raw);
    }
    return 0;
}
