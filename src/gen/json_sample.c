/*
 * json_sample.c — sampling under a JSON constraint (json_grammar.c).
 *
 * Token bytes are computed once per model (xuan_json_vocab).  Each step
 * samples from the unmasked logits first and checks only the chosen token:
 * a model that writes JSON anyway (most steps of an instructed model) pays
 * for one check.  Only when the token is refused is the whole vocabulary
 * filtered: the 256 possible first bytes are tried once, so most tokens are
 * dropped by a table look-up, and the rest are fed to a copy of the state.
 */
#include "xuan/gen.h"
#include "xuan/tok.h"

#include <math.h>
#include <string.h>

enum { T_TEXT = 0, T_EOG = 1, T_NEVER = 2 };

struct xuan_json_vocab {
    int32_t n;
    uint32_t *off; /* n + 1: token i is bytes[off[i] .. off[i + 1]) */
    char *bytes;
    uint8_t *type;
};

void xuan_json_vocab_free(xuan_json_vocab *v) {
    if (!v) return;
    xuan_free(v->off);
    xuan_free(v->bytes);
    xuan_free(v->type);
    xuan_free(v);
}

xuan_json_vocab *xuan_json_vocab_create(const xuan_tok *t, int32_t n_vocab, xuan_error *err) {
    xuan_json_vocab *v = xuan_calloc(1, sizeof *v);
    xuan_buf bytes = {0};
    if (!v || n_vocab <= 0) goto fail;
    v->n = n_vocab;
    v->off = xuan_alloc_array((size_t)n_vocab + 1, sizeof *v->off);
    v->type = xuan_calloc((size_t)n_vocab, 1);
    if (!v->off || !v->type) goto fail;
    const int32_t n_tok = (int32_t)xuan_tok_n_vocab(t);
    char piece[256];
    for (int32_t i = 0; i < n_vocab; i++) {
        v->off[i] = (uint32_t)bytes.len;
        if (i >= n_tok) {
            v->type[i] = T_NEVER;
            continue;
        }
        if (xuan_tok_is_eog(t, i)) {
            v->type[i] = T_EOG;
            continue;
        }
        xuan_tok_type ty = xuan_tok_get_type(t, i);
        size_t len = xuan_tok_piece(t, i, false, piece, sizeof piece);
        /* control text is never JSON; a piece with no bytes would make no progress */
        if (ty == XUAN_TOK_TYPE_CONTROL || ty == XUAN_TOK_TYPE_UNKNOWN || ty == XUAN_TOK_TYPE_UNUSED || len == 0 ||
            len > sizeof piece) {
            v->type[i] = T_NEVER;
            continue;
        }
        if (bytes.len + len > UINT32_MAX || xuan_buf_append(&bytes, piece, len)) goto fail;
    }
    v->off[n_vocab] = (uint32_t)bytes.len;
    v->bytes = bytes.data;
    return v;
fail:
    xuan_buf_free(&bytes);
    xuan_json_vocab_free(v);
    xuan_fail(err, n_vocab <= 0 ? XUAN_ERR_USAGE : XUAN_ERR_NOMEM, "json vocabulary: %s",
              n_vocab <= 0 ? "no tokens" : "out of memory");
    return NULL;
}

static bool allowed(const xuan_json_state *st, const xuan_json_vocab *v, int32_t id) {
    if (id < 0 || id >= v->n) return false;
    if (v->type[id] == T_EOG) return xuan_json_complete(st);
    if (v->type[id] == T_NEVER) return false;
    return xuan_json_can_feed(st, v->bytes + v->off[id], v->off[id + 1] - v->off[id]);
}

int xuan_json_sample(xuan_json_state *st, const xuan_json_vocab *v, xuan_sampler *smp, const float *logits,
                     float *scratch, int32_t *out, xuan_error *err) {
    int32_t id;
    int rc = xuan_sampler_sample(smp, logits, &id, err);
    if (rc) return rc;
    if (!allowed(st, v, id)) {
        bool first[256];
        for (int b = 0; b < 256; b++) {
            char c = (char)b;
            first[b] = xuan_json_can_feed(st, &c, 1);
        }
        const bool eog_ok = xuan_json_complete(st);
        for (int32_t i = 0; i < v->n; i++) {
            float l = logits[i];
            if (l != -INFINITY) {
                bool ok;
                if (v->type[i] == T_TEXT) {
                    const char *p = v->bytes + v->off[i];
                    uint32_t n = v->off[i + 1] - v->off[i];
                    ok = first[(uint8_t)p[0]] && (n == 1 || xuan_json_can_feed(st, p, n));
                } else {
                    ok = v->type[i] == T_EOG && eog_ok;
                }
                if (!ok) l = -INFINITY;
            }
            scratch[i] = l;
        }
        xuan_error e2 = {0};
        if (xuan_sampler_sample(smp, scratch, &id, &e2))
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "json constraint: no token of the vocabulary can continue the value "
                             "(a schema that needs more than %d levels of nesting, or banned tokens)",
                             XUAN_JSON_MAX_DEPTH);
    }
    if (v->type[id] == T_TEXT) {
        int ok = xuan_json_feed(st, v->bytes + v->off[id], v->off[id + 1] - v->off[id]);
        XUAN_ASSERT(ok); /* it was checked above */
    }
    *out = id;
    return 0;
}
