/*
 * bench_tok — tokenizer throughput, for bench/section_tok.sh.
 *
 *   bench_tok gen-zh MODEL BYTES OUT     write BYTES of synthetic Chinese prose
 *   bench_tok gen-code BYTES OUT FILE... concatenate source files up to BYTES
 *   bench_tok run MODEL [--reps N] FILE...   tokenize each file, print a row
 *
 * The prose is built from the vocabulary's own Chinese tokens (those whose
 * text is all CJK ideographs), drawn with a Zipf-like law over their ids
 * (BPE ids follow merge order, which follows frequency), with Chinese
 * punctuation every 6-24 characters and a paragraph break every ~400 bytes;
 * deterministic.  It is not real prose, but it has its mix of 1-4 character
 * words.  "run" prints: file, bytes, tokens, best seconds of N, MB/s.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tok/unicode.h"
#include "xuan/gguf.h"
#include "xuan/tok.h"

static xuan_tok *load(const char *path) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(path, &err);
    xuan_tok *t = g ? xuan_tok_from_gguf(g, &err) : NULL;
    xuan_gguf_close(g);
    if (!t) fprintf(stderr, "bench_tok: %s\n", err.msg);
    return t;
}

static uint64_t rng = 0x853c49e6748fea9bull;
static double uniform(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int gen_zh(const char *model, size_t bytes, const char *out) {
    xuan_tok *t = load(model);
    if (!t) return 1;
    uint32_t n = xuan_tok_n_vocab(t), n_zh = 0;
    int32_t *zh = malloc(n * sizeof *zh);
    for (uint32_t i = 0; i < n; i++) {
        char buf[64];
        size_t l = xuan_tok_piece(t, (int32_t)i, false, buf, sizeof buf);
        if (l == 0 || l > sizeof buf || l % 3) continue;
        bool ok = true;
        for (size_t k = 0; k < l && ok; k += 3) {
            uint32_t cp;
            if (xuan_utf8_len((const uint8_t *)buf + k, 3) != 3) ok = false;
            else tok_utf8_next((const uint8_t *)buf + k, &cp), ok = cp >= 0x4e00 && cp <= 0x9fa5;
        }
        if (ok) zh[n_zh++] = (int32_t)i;
    }
    if (n_zh < 100) {
        fprintf(stderr, "bench_tok: %s has only %u Chinese tokens\n", model, n_zh);
        return 1;
    }
    static const char *punct[] = {"，", "，", "，", "。", "。", "、", "；", "：", "？", "！"};
    xuan_buf b = {0};
    size_t since_punct = 0, since_par = 0, next_punct = 12;
    while (b.len < bytes) {
        /* Zipf over the rank in id order: rank = n_zh^u - 1 */
        size_t r = (size_t)(pow((double)n_zh, uniform())) - 1;
        if (r >= n_zh) r = n_zh - 1;
        char buf[64];
        size_t l = xuan_tok_piece(t, zh[r], false, buf, sizeof buf);
        xuan_buf_append(&b, buf, l);
        since_punct += l / 3, since_par += l;
        if (since_punct >= next_punct) {
            xuan_buf_puts(&b, punct[(size_t)(uniform() * 10) % 10]);
            since_punct = 0;
            next_punct = 6 + (size_t)(uniform() * 18);
            if (since_par > 400) xuan_buf_puts(&b, "\n\n"), since_par = 0;
        }
    }
    /* cut at a character boundary */
    size_t len = bytes;
    while (len > 0 && ((uint8_t)b.data[len] & 0xc0) == 0x80) len--;
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(b.data, 1, len, f) != len || fclose(f) != 0) return 1;
    xuan_buf_free(&b);
    free(zh);
    xuan_tok_free(t);
    return 0;
}

static int gen_code(size_t bytes, const char *out, int n, char **files) {
    xuan_buf b = {0};
    for (int rounds = 0; b.len < bytes && rounds < 100; rounds++) {
        for (int i = 0; i < n && b.len < bytes; i++) {
            char *data;
            size_t len;
            xuan_error err = {0};
            if (xuan_read_file(files[i], 64u << 20, &data, &len, &err) != 0) continue;
            xuan_buf_append(&b, data, len);
            xuan_free(data);
        }
    }
    size_t len = b.len < bytes ? b.len : bytes;
    while (len > 0 && ((uint8_t)b.data[len] & 0xc0) == 0x80) len--;
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(b.data, 1, len, f) != len || fclose(f) != 0) return 1;
    xuan_buf_free(&b);
    return 0;
}

static int run(const char *model, int reps, int n, char **files) {
    xuan_tok *t = load(model);
    if (!t) return 1;
    for (int i = 0; i < n; i++) {
        char *data;
        size_t len;
        xuan_error err = {0};
        if (xuan_read_file(files[i], 1u << 30, &data, &len, &err) != 0) {
            fprintf(stderr, "bench_tok: %s\n", err.msg);
            return 1;
        }
        double best = 1e30;
        size_t n_ids = 0;
        for (int r = 0; r < reps; r++) {
            xuan_tok_ids ids = {0};
            double t0 = xuan_time_s();
            if (xuan_tok_encode(t, data, len, 0, &ids, &err) != 0) return 1;
            double dt = xuan_time_s() - t0;
            if (dt < best) best = dt;
            n_ids = ids.n;
            xuan_tok_ids_free(&ids);
        }
        printf("%s\t%zu\t%zu\t%.4f\t%.2f\n", files[i], len, n_ids, best, (double)len / 1e6 / best);
        xuan_free(data);
    }
    xuan_tok_free(t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "gen-zh") == 0) return gen_zh(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
    if (argc >= 5 && strcmp(argv[1], "gen-code") == 0)
        return gen_code(strtoull(argv[2], NULL, 10), argv[3], argc - 4, argv + 4);
    if (argc >= 4 && strcmp(argv[1], "run") == 0) {
        int reps = 3, first = 3;
        if (argc >= 6 && strcmp(argv[3], "--reps") == 0) reps = atoi(argv[4]), first = 5;
        return run(argv[2], reps < 1 ? 1 : reps, argc - first, argv + first);
    }
    fprintf(stderr, "usage: bench_tok gen-zh MODEL BYTES OUT | gen-code BYTES OUT FILE... | run MODEL [--reps N] FILE...\n");
    return 2;
}
