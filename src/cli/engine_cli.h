/*
 * engine_cli.h — what `xuan run`, `xuan chat` and `xuan bench` share:
 * finding a model by name, loading model + tokenizer, the sampling and
 * context flags, prompt rendering through the chat template, and Ctrl-C.
 */
#ifndef XUAN_ENGINE_CLI_H
#define XUAN_ENGINE_CLI_H

#include "cli.h"
#include "xuan/chat.h"
#include "xuan/gen.h"
#include "xuan/model.h"
#include "xuan/tok.h"

/* Flags common to run and chat (parsed by engine_flag). */
typedef struct engine_opts {
    const char *model;
    xuan_ctx_params cp;
    xuan_sampler_params sp;
    int32_t n_predict;
    const char *template_name; /* --template NAME: a built-in renderer instead of the model's Jinja */
    const char *template_file; /* --template-file F: a Jinja template instead of the model's */
    bool no_template;          /* --no-template / --raw */
    bool ignore_eos;           /* --ignore-eos: never sample an end-of-generation token */
    const char *system;        /* -s / --system */
    unsigned map_flags;        /* --no-mmap: XUAN_MAP_READ, --mlock: XUAN_MAP_LOCK */
    const char *stops[16];
    size_t n_stops;
    int verbose;
} engine_opts;

void engine_opts_init(engine_opts *o);

/* Long-option ids shared by the verbs (values above 256). */
enum {
    EO_TEMP = 300, EO_TOPK, EO_TOPP, EO_MINP, EO_REPEAT, EO_REPEAT_N, EO_PRESENCE, EO_FREQUENCY,
    EO_SEED, EO_CACHE, EO_CACHE_K, EO_CACHE_V, EO_TEMPLATE, EO_NO_TEMPLATE, EO_STOP, EO_IGNORE_EOS, EO_TEMPLATE_FILE, EO_MLOCK, EO_NO_MMAP, EO_LAST
};
/* The shared entries of a getopt_long table, terminated by a zero entry. */
#define ENGINE_LONG_OPTS                                                                        \
    {"model", 1, 0, 'm'}, {"n-predict", 1, 0, 'n'}, {"ctx", 1, 0, 'c'}, {"ctx-size", 1, 0, 'c'}, \
    {"threads", 1, 0, 't'}, {"batch", 1, 0, 'b'}, {"temp", 1, 0, EO_TEMP},                      \
    {"top-k", 1, 0, EO_TOPK}, {"top-p", 1, 0, EO_TOPP}, {"min-p", 1, 0, EO_MINP},              \
    {"repeat-penalty", 1, 0, EO_REPEAT}, {"repeat-last-n", 1, 0, EO_REPEAT_N},                 \
    {"presence-penalty", 1, 0, EO_PRESENCE}, {"frequency-penalty", 1, 0, EO_FREQUENCY},        \
    {"seed", 1, 0, EO_SEED}, {"cache-type", 1, 0, EO_CACHE}, {"cache-type-k", 1, 0, EO_CACHE_K},  \
    {"cache-type-v", 1, 0, EO_CACHE_V}, {"template", 1, 0, EO_TEMPLATE},                         \
    {"no-template", 0, 0, EO_NO_TEMPLATE}, {"raw", 0, 0, EO_NO_TEMPLATE},                       \
    {"system", 1, 0, 's'}, {"stop", 1, 0, EO_STOP}, {"verbose", 0, 0, 'v'},                     \
    {"ignore-eos", 0, 0, EO_IGNORE_EOS}, {"template-file", 1, 0, EO_TEMPLATE_FILE},              \
    {"mlock", 0, 0, EO_MLOCK}, {"no-mmap", 0, 0, EO_NO_MMAP}
#define ENGINE_SHORT_OPTS "m:n:c:t:b:s:v"

/* Parses a --cache-type* argument (f16, q8_0, q4_0 ... as llama.cpp spells
 * them) into *out; prints a usage error and returns -1 for another type. */
int engine_cache_type(const char *verb, const char *flag, const char *arg, uint32_t *out);

/* The line `xuan bench` and `-v` print about the weights' residency:
 * "mapped (page cache)", "read into memory", "locked in memory" ... */
const char *engine_residency_name(const xuan_model *m);

/* Handles one shared option; returns 1 if handled, 0 if not ours, or -1
 * after printing a usage error. */
int engine_flag(const char *verb, engine_opts *o, int opt, const char *arg);

/* A model path: the argument itself if it is a file, else NAME or
 * NAME.gguf in the models folder (XUAN_MODELS, default
 * ~/.cache/xuan/models).  Returns 0 and fills out, or prints an error. */
int engine_resolve_model(const char *name, char *out, size_t cap);

/* Loaded model, tokenizer, context, sampler and stop filter. */
typedef struct engine {
    xuan_model *model;
    xuan_tok *tok;
    xuan_ctx *ctx;
    xuan_sampler *smp;
    xuan_stop *stop;
    xuan_chat_template *jinja; /* the Jinja template that renders prompts, NULL when fmt does */
    xuan_chat_format fmt;      /* a built-in renderer (--template NAME, or the fallback when the
                                  model's template does not parse); XUAN_CHAT_UNKNOWN when raw */
    const char *template_desc; /* "jinja (model)", "jinja (F)", "qwen2.5 (built-in)", "raw" */
    double t_load_s;
} engine;

/* Loads everything for o; prints errors and returns an exit code (0 = ok). */
int engine_open(const char *verb, const engine_opts *o, engine *e);
void engine_close(engine *e);

/* Renders messages with the template (or joins them raw) and tokenizes,
 * appending to ids.  Prints the rendered text to stderr with -v. */
int engine_prompt(const engine *e, const engine_opts *o, const xuan_chat_msg *msgs, size_t n,
                  xuan_tok_ids *ids, xuan_error *err);
/* The two halves of engine_prompt: the rendered text (appended to text),
 * and its tokens (BOS added unless the text starts with it). */
int engine_render(const engine *e, const engine_opts *o, const xuan_chat_msg *msgs, size_t n, xuan_buf *text,
                  xuan_error *err);
int engine_tokenize(const engine *e, const char *text, size_t len, xuan_tok_ids *ids, xuan_error *err);

/* SIGINT sets engine_interrupt (and does not kill the process) while
 * installed; a second Ctrl-C before the first is handled exits (130). */
extern volatile int engine_interrupt;
void engine_sigint_install(void);

/* "prompt 12 tok, 340.1 tok/s | gen 64 tok, 22.3 tok/s" to stderr. */
void engine_print_timings(const xuan_gen_stats *st);

#endif
