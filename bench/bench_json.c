/*
 * bench_json.c — the cost of the JSON constraint per sampled token, without
 * the model: a GGUF's vocabulary, random logits (so nearly every sampled
 * token is refused and the whole vocabulary is filtered: the worst case),
 * under json_object.  Prints µs per token with and without the constraint
 * and how many steps needed the full filter.
 *
 *     bench_json model.gguf [steps]
 */
#include "xuan/gen.h"
#include "xuan/gguf.h"
#include "xuan/tok.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float frand(uint64_t *x) {
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*x >> 40) / (float)(1u << 24);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_json model.gguf [steps]\n");
        return 2;
    }
    int steps = argc > 2 ? atoi(argv[2]) : 200;
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(argv[1], &err);
    xuan_tok *tok = g ? xuan_tok_from_gguf(g, &err) : NULL;
    if (!tok) {
        fprintf(stderr, "bench_json: %s\n", err.msg);
        return 1;
    }
    const int32_t V = (int32_t)xuan_tok_n_vocab(tok);
    double t0 = xuan_time_s();
    xuan_json_vocab *v = xuan_json_vocab_create(tok, V, &err);
    double t_vocab = xuan_time_s() - t0;
    xuan_json_schema *sch = xuan_json_schema_compile(NULL, 0, &err);
    xuan_json_state *st = sch ? xuan_json_state_create(sch, &err) : NULL;
    float *logits = malloc((size_t)V * sizeof *logits), *scratch = malloc((size_t)V * sizeof *scratch);
    xuan_sampler_params sp = xuan_sampler_params_default();
    sp.temperature = 1.0f, sp.top_k = 0, sp.top_p = 1.0f, sp.min_p = 0.0f, sp.seed = 1;
    xuan_sampler *smp = xuan_sampler_create(V, &sp, &err);
    if (!v || !st || !logits || !scratch || !smp) {
        fprintf(stderr, "bench_json: %s\n", err.msg);
        return 1;
    }
    uint64_t x = 42;
    double t_plain = 0, t_json = 0;
    int n_json = 0, restarts = 0;
    for (int i = 0; i < steps; i++) {
        for (int32_t k = 0; k < V; k++) logits[k] = 4.0f * frand(&x);
        int32_t id;
        double a = xuan_time_s();
        xuan_sampler_sample(smp, logits, &id, &err);
        double b = xuan_time_s();
        if (xuan_json_sample(st, v, smp, logits, scratch, &id, &err)) {
            fprintf(stderr, "bench_json: %s\n", err.msg);
            return 1;
        }
        double c = xuan_time_s();
        t_plain += b - a, t_json += c - b, n_json++;
        if (xuan_json_done(st)) xuan_json_state_reset(st), restarts++;
    }
    printf("vocabulary %d tokens: token bytes built in %.1f ms\n", (int)V, t_vocab * 1e3);
    printf("plain sampling     %8.1f us/token\n", t_plain / steps * 1e6);
    printf("json_object        %8.1f us/token (random logits: the full filter nearly every step; %d values closed)\n",
           t_json / n_json * 1e6, restarts);
    xuan_sampler_free(smp);
    xuan_json_state_free(st);
    xuan_json_schema_free(sch);
    xuan_json_vocab_free(v);
    xuan_tok_free(tok);
    xuan_gguf_close(g);
    free(logits);
    free(scratch);
    return 0;
}
