/*
 * xuan/gen.h — generation: choosing the next token from logits (the
 * sampler), cutting the output at stop strings, and (later) the generation
 * loop that ties model, tokenizer, chat template and sampler together.
 *
 *     xuan_error err = {0};
 *     xuan_sampler_params sp = xuan_sampler_params_default();  // llama.cpp's defaults
 *     sp.temperature = 0.7f;
 *     sp.seed = 42;                                            // same seed -> same tokens
 *     xuan_sampler *smp = xuan_sampler_create(n_vocab, &sp, &err);
 *
 *     const char *stops[] = {"<|im_end|>", "\nUser:"};
 *     xuan_stop *stop = xuan_stop_create(stops, 2, &err);
 *
 *     for (;;) {
 *         const float *logits = ...;                       // n_vocab floats from the model
 *         int32_t tok;
 *         if (xuan_sampler_sample(smp, logits, &tok, &err) != 0) break;  // NaN logits, ...
 *         xuan_sampler_accept(smp, tok);                   // feeds the penalty window
 *         if (is_end_of_generation(tok)) break;
 *         const char *text; size_t len;
 *         int hit = xuan_stop_feed(stop, piece_of(tok), piece_len, &text, &len);
 *         fwrite(text, 1, len, stdout);                    // only text that is safe to show
 *         if (hit) break;                                  // a stop string was completed
 *     }
 *     xuan_stop_flush(stop, &text, &len);                  // held-back tail, if no stop matched
 *     xuan_stop_free(stop);
 *     xuan_sampler_free(smp);
 *
 * The sampler follows llama.cpp's default chain and semantics: penalties
 * over the last penalty_last_n accepted tokens, then top-k, top-p, min-p
 * (all three judged on the untempered distribution), then temperature, then
 * a draw from the softmax of what is left.  temperature <= 0 means greedy
 * (argmax after penalties).  Everything is allocated in xuan_sampler_create
 * for the vocabulary size; sampling allocates nothing, and with a small
 * top_k it selects with a heap instead of sorting 152k logits.
 */
#ifndef XUAN_GEN_H
#define XUAN_GEN_H

#include "xuan/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Sampler
 * ====================================================================== */

#define XUAN_SEED_RANDOM UINT64_MAX /* seed from the clock; xuan_sampler_seed tells which */

typedef struct xuan_sampler_params {
    float temperature;       /* <= 0: greedy.  default 0.8 */
    int32_t top_k;           /* keep the k most likely; <= 0: off.  default 40 */
    float top_p;             /* nucleus mass in (0, 1]; 1: off.  default 0.95 */
    float min_p;             /* keep p >= min_p * p_max, in [0, 1]; 0: off.  default 0.05 */
    float repeat_penalty;    /* > 0; 1: off.  Divides positive logits, multiplies negative ones */
    float presence_penalty;  /* subtracted once from every token in the window; 0: off */
    float frequency_penalty; /* subtracted per occurrence in the window; 0: off */
    int32_t penalty_last_n;  /* window of accepted tokens the penalties see; 0: off.  default 64 */
    uint64_t seed;           /* XUAN_SEED_RANDOM (default) or a fixed seed */
} xuan_sampler_params;

typedef struct xuan_sampler xuan_sampler;

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat 1.0, presence 0,
 * frequency 0, penalty_last_n 64, seed XUAN_SEED_RANDOM — llama.cpp's. */
xuan_sampler_params xuan_sampler_params_default(void);

/* Validates the parameters (XUAN_ERR_USAGE naming the bad one: n_vocab <= 0,
 * NaN values, top_p outside (0, 1], min_p outside [0, 1], repeat_penalty
 * <= 0, penalty_last_n < 0) and allocates everything for n_vocab tokens.
 * NULL params = defaults.  Returns NULL with err set on failure. */
xuan_sampler *xuan_sampler_create(int32_t n_vocab, const xuan_sampler_params *params,
                                  xuan_error *err);
void xuan_sampler_free(xuan_sampler *s); /* NULL is fine */

/* Chooses a token from n_vocab logits (not modified).  -inf marks a token
 * as impossible.  Fails with XUAN_ERR_FORMAT (and leaves *out alone) when a
 * logit is NaN or +inf, or when every logit is -inf: a model that produces
 * those is broken, and guessing would hide it. */
int xuan_sampler_sample(xuan_sampler *s, const float *logits, int32_t *out, xuan_error *err);

/* Records a token as generated (or as part of the prompt, if the caller
 * wants prompt tokens penalized, as llama.cpp does): it enters the penalty
 * window, pushing out the oldest.  Out-of-range ids are ignored. */
void xuan_sampler_accept(xuan_sampler *s, int32_t token);

/* Applies the repetition/presence/frequency penalties of the current window
 * to logits in place (what xuan_sampler_sample does first, on a copy). */
void xuan_sampler_penalize(xuan_sampler *s, float *logits);

/* Bans (or, with ban false, allows again) a token: it is never drawn, as if
 * its logit were -inf — llama.cpp's --ignore-eos bans the end-of-generation
 * tokens this way.  Out-of-range ids are ignored.  When every token with a
 * finite logit is banned, sampling fails as for all -inf logits. */
void xuan_sampler_ban(xuan_sampler *s, int32_t token, bool ban);

/* Empties the penalty window and restarts the random stream from the seed,
 * so that the same prompt gives the same tokens again. */
void xuan_sampler_reset(xuan_sampler *s);

/* The seed in use (the clock's value when XUAN_SEED_RANDOM was asked). */
uint64_t xuan_sampler_seed(const xuan_sampler *s);

/* ======================================================================
 * JSON constraint (response_format): src/gen/json_grammar.c, json_sample.c
 * ======================================================================
 *
 *     xuan_json_schema *g = xuan_json_schema_compile(schema_text, len, &err); // NULL text: any object
 *     xuan_json_vocab *v = xuan_json_vocab_create(tok, n_vocab, &err);        // once per model
 *     xuan_json_state *st = xuan_json_state_create(g, &err);
 *     for (;;) {
 *         if (xuan_json_sample(st, v, smp, logits, scratch, &tok_id, &err)) break; // nothing fits
 *         if (xuan_tok_is_eog(tok, tok_id) || xuan_json_done(st)) break;          // value complete
 *     }
 *
 * The schema is compiled into a byte-level pushdown recogniser: every
 * prefix it accepts can still be completed into a value that parses and
 * validates (within the depth bound; see docs/serve.md for the subset and
 * its limits).  Whitespace between tokens is bounded to
 * XUAN_JSON_MAX_WS bytes in a row, nesting to XUAN_JSON_MAX_DEPTH.
 */

enum {
    XUAN_JSON_MAX_DEPTH = 32,   /* open objects/arrays (and values in them) at a time */
    XUAN_JSON_MAX_WS = 8,       /* whitespace bytes in a row */
    XUAN_JSON_MAX_KEY = 256,    /* bytes of one object key */
    XUAN_JSON_MAX_NODES = 4096, /* compiled schema nodes */
    XUAN_JSON_MAX_PROPS = 64,   /* properties of one object schema */
};

struct xuan_tok;
typedef struct xuan_json_schema xuan_json_schema;
typedef struct xuan_json_state xuan_json_state;
typedef struct xuan_json_vocab xuan_json_vocab;

/* Compiles a JSON Schema (len bytes of JSON text); text NULL means "any
 * JSON object" (response_format json_object).  Fails with XUAN_ERR_USAGE
 * naming the keyword and its JSON pointer ("unsupported keyword 'pattern'
 * at /properties/a"), XUAN_ERR_FORMAT when the text is not JSON, or
 * XUAN_ERR_NOMEM. */
xuan_json_schema *xuan_json_schema_compile(const char *text, size_t len, xuan_error *err);
void xuan_json_schema_free(xuan_json_schema *g); /* NULL is fine */

/* A recogniser at the start of a value of g (which must outlive it). */
xuan_json_state *xuan_json_state_create(const xuan_json_schema *g, xuan_error *err);
void xuan_json_state_free(xuan_json_state *st);
void xuan_json_state_reset(xuan_json_state *st);

/* Feeds n bytes: 1 and the state advanced when every byte continues a
 * valid value, 0 and the state unchanged otherwise. */
int xuan_json_feed(xuan_json_state *st, const char *bytes, size_t n);
/* Whether bytes would be accepted (the state is not changed). */
bool xuan_json_can_feed(const xuan_json_state *st, const char *bytes, size_t n);
/* The bytes fed so far form a complete value (a number may still go on). */
bool xuan_json_complete(const xuan_json_state *st);
/* Complete and nothing can follow: generation ends here. */
bool xuan_json_done(const xuan_json_state *st);

/* Every token's bytes, computed once per model: control, unknown and unused
 * tokens (and those with no bytes) are never allowed, end-of-generation
 * tokens only where the value is complete.  n_vocab is the model's (ids
 * beyond the tokenizer's vocabulary are never allowed). */
xuan_json_vocab *xuan_json_vocab_create(const struct xuan_tok *t, int32_t n_vocab, xuan_error *err);
void xuan_json_vocab_free(xuan_json_vocab *v);

/* Samples with the constraint, as llama.cpp does: sample from logits first;
 * if the token cannot continue the value, every token that cannot is masked
 * (-inf, in scratch: n_vocab floats) and sampling is repeated.  The chosen
 * token is fed to st (and the sampler's window, xuan_sampler_accept, is the
 * caller's).  XUAN_ERR_FORMAT when no token fits (a depth bound reached
 * inside a schema that requires more nesting, or every fitting token
 * banned). */
int xuan_json_sample(xuan_json_state *st, const xuan_json_vocab *v, xuan_sampler *smp, const float *logits,
                     float *scratch, int32_t *out, xuan_error *err);

/* ======================================================================
 * Stop strings
 * ====================================================================== */

/* Cuts generated text at the first occurrence of any stop string, even when
 * the stop string arrives split over several tokens ("<|im" + "_end|>").
 * Text that could still turn out to be the start of a stop string is held
 * back until it can't; nothing of a stop string is ever emitted. */
typedef struct xuan_stop xuan_stop;

/* Copies the strings.  n may be 0 (then everything passes through).  An
 * empty stop string is refused (XUAN_ERR_USAGE). */
xuan_stop *xuan_stop_create(const char *const *stops, size_t n, xuan_error *err);
void xuan_stop_free(xuan_stop *s);

/* Feeds the next piece of text.  Sets *emit and *emit_len to the text that is
 * now safe to show (it points into the xuan_stop and stays valid until the
 * next call).  Returns 1 when a stop string was completed (emit then ends
 * just before it, and everything after it is dropped; later feeds emit
 * nothing), 0 otherwise, or XUAN_ERR_NOMEM. */
int xuan_stop_feed(xuan_stop *s, const char *piece, size_t n, const char **emit, size_t *emit_len);
/* At the end of generation: the held-back text (empty after a match). */
void xuan_stop_flush(xuan_stop *s, const char **emit, size_t *emit_len);
/* Index of the stop string that matched, or -1. */
int xuan_stop_which(const xuan_stop *s);
/* Forgets held text and any match, for the next reply. */
void xuan_stop_reset(xuan_stop *s);

/* ======================================================================
 * Generation loop (engine section; the sampler and stop strings above
 * belong to the chat room's engineer)
 * ======================================================================
 *
 *     xuan_gen_params gp = xuan_gen_params_default();
 *     gp.n_predict = 128;
 *     gp.emit = print_fn;              // called with whole UTF-8 characters
 *     xuan_gen_stats st;
 *     int rc = xuan_generate(ctx, tok, smp, stop, prompt_ids, n_ids, &gp, &st, &err);
 *     printf("%.1f tok/s\n", st.n_gen / st.t_gen_s);
 *
 * The prompt is evaluated after the longest prefix it shares with what the
 * context already holds (so a chat re-sends the whole conversation and only
 * the new turn is computed); then tokens are sampled one by one until
 * n_predict, an end-of-generation token of the vocabulary, a stop string,
 * a full context or *interrupt.  Nothing is allocated per token.
 */

struct xuan_ctx;
struct xuan_tok;

typedef enum xuan_gen_end {
    XUAN_GEN_END_LENGTH = 0,    /* n_predict tokens were generated */
    XUAN_GEN_END_EOG = 1,       /* the model produced EOS/EOT */
    XUAN_GEN_END_STOP = 2,      /* a stop string matched */
    XUAN_GEN_END_CTX_FULL = 3,  /* the context has no room for another token */
    XUAN_GEN_END_INTERRUPT = 4, /* *interrupt became nonzero */
} xuan_gen_end;

const char *xuan_gen_end_name(xuan_gen_end e); /* "length", "eog", "stop", ... */

/* Receives generated text; returning nonzero stops generation. */
typedef int (*xuan_gen_emit_fn)(void *user, const char *text, size_t n);

typedef struct xuan_gen_params {
    int32_t n_predict;       /* tokens to generate at most; < 0 = until the context is full */
    xuan_gen_emit_fn emit;   /* may be NULL */
    void *emit_user;
    volatile int *interrupt; /* polled between tokens and layers; may be NULL */
    bool accept_prompt;      /* feed prompt tokens to the penalty window (llama.cpp does); default true */
    bool print_special;      /* render control tokens as text; default false */
    int32_t *out_ids;        /* optional: generated ids go here ... */
    size_t out_ids_cap;      /* ... which has room for this many; required with out_ids, and a
                                bound on the generation like n_predict (it ends as "length") */
} xuan_gen_params;

xuan_gen_params xuan_gen_params_default(void);

typedef struct xuan_gen_stats {
    uint32_t n_prompt;      /* prompt tokens */
    uint32_t n_prompt_eval; /* of which evaluated (the rest was cached) */
    uint32_t n_gen;         /* tokens generated (an EOG token counts, it is not printed) */
    double t_prompt_s, t_gen_s;
    xuan_gen_end end;
    /* Major page faults (pages read from disk) while the prompt was evaluated
     * and while tokens were generated.  A model whose pages stay in memory
     * has none in generation; when they keep coming, the page cache is
     * evicting the weights and each token reads them again: the loop then
     * logs one warning (refault_warned) that names --mlock and --no-mmap. */
    uint64_t major_faults_prompt, major_faults_gen;
    bool refault_warned;
} xuan_gen_stats;

/* Runs one generation (see above).  `stop` may be NULL and is reset first.
 * n_prompt may be 0 only if the context already holds tokens.  Returns 0
 * (also when interrupted: st->end says so), or an error (prompt longer than
 * the context, with both numbers; NaN logits; memory). */
int xuan_generate(struct xuan_ctx *c, const struct xuan_tok *tok, xuan_sampler *smp,
                  xuan_stop *stop, const int32_t *prompt, size_t n_prompt,
                  const xuan_gen_params *gp, xuan_gen_stats *st, xuan_error *err);

/* ---- prompts ---------------------------------------------------------- */

struct xuan_tok_ids;

/* A token's stored text, NUL-terminated in buf (cut at cap - 1 bytes): what
 * a chat template gets as bos_token / eos_token.  NULL for id < 0 or an id
 * outside the vocabulary. */
const char *xuan_gen_token_str(const struct xuan_tok *t, int32_t id, char *buf, size_t cap);

/* Tokenizes text a chat template rendered (len bytes) and appends the ids:
 * control-token text is parsed, and BOS added as the vocabulary asks unless
 * the text already starts with `bos` (the BOS text, may be NULL).  Fails
 * only for memory (XUAN_ERR_NOMEM). */
int xuan_gen_encode_prompt(const struct xuan_tok *t, const char *text, size_t len, const char *bos,
                           struct xuan_tok_ids *ids, xuan_error *err);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_GEN_H */
