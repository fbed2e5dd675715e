/*
 * libFuzzer target for the model loader and the batch checks: hyperparameters
 * that contradict the tensors (head sizes, expert counts, MLA ranks, windows),
 * unknown or unrun architectures, and batches with arbitrary token ids,
 * positions and sequence ids.
 *
 * The input is a GGUF file followed by a 64-byte batch description (the
 * reader ignores bytes after the last tensor's data, so the fuzzer mutates
 * both at once).  A file the loader takes gets a small context and one
 * decode of the batch: a refusal must be one printable line with the cache
 * left as it was; an accepted batch must leave finite logits for its rows.
 * Big shapes are skipped before evaluation (the fuzzer looks for crashes,
 * not for slow models).  Seeds in fuzz/corpus/model are tiny synthetic models
 * of every architecture the engine runs (xuan synth).
 */
#include "xuan/model.h"

#include <math.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

static void check_msg(const xuan_error *err) {
    TRAP_IF(err->code == XUAN_OK || !err->msg[0]);
    for (const char *p = err->msg; *p; p++) TRAP_IF((unsigned char)*p < 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        xuan_alloc_set_cap(256ull << 20);
        init = true;
    }
    if (size < 64) return 0;
    const uint8_t *spec = data + size - 64;
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open_memory(data, size, &err);
    if (!g) return 0; /* fuzz_gguf covers the reader */
    xuan_model *m = xuan_model_from_gguf(g, &err);
    if (!m) {
        check_msg(&err);
        return 0;
    }
    const xuan_hparams *hp = xuan_model_hparams(m);
    if (hp->n_layers > 4 || hp->d_model > 512 || xuan_model_weight_bytes(m) > (8u << 20)) {
        xuan_model_free(m);
        return 0;
    }
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 32;
    cp.n_batch = 1 + spec[0] % 16;
    cp.n_seq_max = 1 + spec[1] % 4;
    cp.n_threads = 1;
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    if (!c) {
        check_msg(&err);
        xuan_model_free(m);
        return 0;
    }
    /* up to 12 tokens: id, position (0xff: continue), sequence, logits flag */
    int32_t tok[12], pos[12], seq[12];
    int8_t want[12];
    const int n = spec[2] % 13;
    const bool explicit_pos = spec[3] & 1;
    for (int i = 0; i < n; i++) {
        const uint8_t *s = spec + 4 + 5 * i;
        tok[i] = (int32_t)(s[0] | s[1] << 8) - 8;      /* a few negatives, a few past the vocabulary */
        pos[i] = s[2] == 0xff ? -1 : (int32_t)s[2] % 40 - 4;
        seq[i] = (int32_t)(s[3] % 8) - 1;
        want[i] = (int8_t)(s[4] & 1);
    }
    xuan_batch b = {.n_tokens = n, .token = tok, .pos = explicit_pos ? pos : NULL, .seq_id = seq, .logits = want};
    const uint32_t used = xuan_ctx_cells_used(c);
    if (xuan_ctx_decode(c, &b, &err) != 0) {
        check_msg(&err);
        TRAP_IF(err.code == XUAN_ERR_USAGE && xuan_ctx_cells_used(c) != used); /* refused: nothing kept */
    } else {
        const uint32_t nv = hp->n_vocab;
        for (int i = 0; i < n; i++) {
            if (!want[i]) continue;
            const float *l = xuan_ctx_logits_ith(c, i);
            TRAP_IF(!l);
            for (uint32_t v = 0; v < nv; v += 7) TRAP_IF(isnan(l[v]));
        }
    }
    xuan_ctx_free(c);
    xuan_model_free(m);
    return 0;
}
