/*
 * xuan/serve.h — the OpenAI-compatible HTTP server behind `xuan serve`.
 *
 *     xuan_serve_params sp = xuan_serve_params_default();
 *     sp.port = 8080; sp.n_slots = 4;
 *     xuan_serve *s = xuan_serve_start(&sp, &err);   // listening: /health says 503
 *     ... load model, tokenizer, a context with n_seq_max >= n_slots ...
 *     xuan_serve_model m = {.model = mdl, .ctx = ctx, .tok = tok, .jinja = tmpl};
 *     if (xuan_serve_attach(s, &m, &err)) die(err.msg); // the scheduler runs: 200
 *     ... wait for SIGTERM ...
 *     xuan_serve_drain(s, 30.0);   // refuse new requests, finish the running ones
 *     xuan_serve_free(s);          // stops HTTP and the scheduler; the model stays the caller's
 *
 * Threads: libmicrohttpd runs one thread per connection (bounded by
 * max_connections); exactly one scheduler thread owns the xuan_ctx.  Each
 * step it builds one xuan_batch from every slot: one token per generating
 * slot and at most prefill_chunk prompt tokens per slot in prefill, calls
 * xuan_ctx_decode once and samples each slot with its own sampler.  A slot
 * keeps the tokens it last held in the cache, and a new request goes to the
 * free slot sharing the longest prefix with its prompt (only the rest is
 * evaluated).  Requests beyond the slots wait in a bounded queue (then 503).
 * Endpoints, limits and the request fields: docs/serve.md.
 */
#ifndef XUAN_SERVE_H
#define XUAN_SERVE_H

#include "xuan/base.h"
#include "xuan/chat.h"
#include "xuan/gen.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xuan_model;
struct xuan_ctx;
struct xuan_tok;

typedef struct xuan_serve_params {
    const char *host;           /* address to bind, default "127.0.0.1" (loopback) */
    uint16_t port;              /* default 8080; 0 = any free port (xuan_serve_port tells) */
    uint32_t n_slots;           /* sequences decoded together, 1..64 (default 1) */
    const char *api_key;        /* NULL = none; else "Authorization: Bearer KEY" on every route but /health */
    uint32_t max_queue;         /* requests waiting for a busy slot before 503 (default 64; 0: none wait) */
    uint64_t max_body;          /* request body bytes (default 4 MiB), 413 above */
    uint32_t max_header;        /* bytes for the request line and headers (MHD memory limit, default 32 KiB) */
    uint32_t max_connections;   /* open connections (default 256) */
    uint32_t idle_timeout_s;    /* a connection silent this long is closed (default 60) */
    uint32_t request_timeout_s; /* a generation running this long ends with an error (default 600) */
    uint32_t prefill_chunk;     /* prompt tokens per slot per step (default 256) */
    const char *model_id;       /* the name /v1/models lists (default "xuan") */
} xuan_serve_params;

xuan_serve_params xuan_serve_params_default(void);

/* What the server runs on, all owned by the caller and alive until
 * xuan_serve_free.  ctx must hold n_seq_max >= n_slots sequences and is used
 * by the scheduler thread only.  jinja renders chat prompts when not NULL,
 * else fmt (a built-in renderer), else the contents are joined raw.
 * end_of_turn (may be NULL) is an extra stop string of the format. */
typedef struct xuan_serve_model {
    const struct xuan_model *model;
    struct xuan_ctx *ctx;
    const struct xuan_tok *tok;
    const xuan_chat_template *jinja;
    xuan_chat_format fmt;
    xuan_chat_syntax syntax;    /* how the answer carries reasoning / tool calls */
    const char *end_of_turn;
} xuan_serve_model;

typedef struct xuan_serve xuan_serve;

/* Binds and starts answering (/health 503, every other route 503 until a
 * model is attached).  XUAN_ERR_USAGE for bad parameters, XUAN_ERR_IO when
 * the address cannot be bound.  Returns NULL with err set. */
xuan_serve *xuan_serve_start(const xuan_serve_params *p, xuan_error *err);
/* The port actually bound. */
uint16_t xuan_serve_port(const xuan_serve *s);
/* Starts the scheduler on m (copied).  XUAN_ERR_USAGE when ctx holds fewer
 * sequences than slots or the per-slot context is too small. */
int xuan_serve_attach(xuan_serve *s, const xuan_serve_model *m, xuan_error *err);
/* Stops accepting (new connections are refused, new requests on open ones
 * get 503), waits up to max_s seconds for running and queued requests to
 * finish.  Returns 0 when everything finished, XUAN_ERR_FULL when requests
 * were still running at the deadline (xuan_serve_free then ends them with
 * a 503 error). */
int xuan_serve_drain(xuan_serve *s, double max_s);
/* Stops HTTP and the scheduler, frees the server (not the model). NULL is fine. */
void xuan_serve_free(xuan_serve *s);

/* ---- requests (pure: parsing and validation, no model needed) ---------- */

typedef enum xuan_serve_kind { XUAN_SERVE_CHAT = 0, XUAN_SERVE_COMPLETION = 1 } xuan_serve_kind;

typedef struct xuan_serve_bias {
    int32_t token;
    float bias;
} xuan_serve_bias;

enum {
    XUAN_SERVE_MAX_STOPS = 16, XUAN_SERVE_MAX_TOP_LOGPROBS = 20, XUAN_SERVE_MAX_BIAS = 1024,
    XUAN_SERVE_MAX_TOOLS = 128, /* tools in one request */
    XUAN_SERVE_MAX_N = 8,       /* choices (n) of one request */
};

/* tool_choice */
typedef enum xuan_serve_tool_choice {
    XUAN_SERVE_TOOLS_AUTO = 0,  /* the model decides (a call it opens is completed under the grammar) */
    XUAN_SERVE_TOOLS_NONE,      /* no call: the tools are not shown to the template */
    XUAN_SERVE_TOOLS_REQUIRED,  /* the answer is one call, to a tool the model picks */
    XUAN_SERVE_TOOLS_NAMED,     /* the answer is one call to tools[tool_named] */
} xuan_serve_tool_choice;

/* One function tool.  params is its `parameters` schema compiled for
 * constrained arguments; NULL (any JSON object) when it has none, or in
 * auto mode when the schema is outside json_grammar's subset. */
typedef struct xuan_serve_tool {
    char *name;
    xuan_json_schema *params;
} xuan_serve_tool;

/* One /v1/chat/completions or /v1/completions body, validated.  Strings are
 * owned (xuan_serve_request_free). */
typedef struct xuan_serve_request {
    xuan_serve_kind kind;
    bool stream, include_usage;
    char *messages_json;        /* chat: the messages array as JSON text, tool_calls' arguments
                                   turned from JSON text into objects (as templates expect) */
    char *kwargs_json;          /* chat: chat_template_kwargs as JSON text, or NULL */
    char *prompt;               /* completion: prompt text (NULL when given as ids) */
    size_t prompt_len;
    int32_t *prompt_ids;        /* completion: prompt as token ids (unchecked against a vocabulary) */
    size_t n_prompt_ids;
    xuan_sampler_params sp;     /* OpenAI defaults: temperature 1, top_p 1, top_k off, min_p off */
    int32_t max_tokens;         /* -1 = until the slot's context is full */
    char *stops[XUAN_SERVE_MAX_STOPS];
    size_t n_stops;
    xuan_serve_bias *bias;      /* logit_bias */
    size_t n_bias;
    bool logprobs;              /* per generated token */
    int32_t top_logprobs;       /* 0..20 alternatives per token */
    bool echo;                  /* completion: prompt text (and its logprobs) in front */
    bool ignore_eos;            /* never end at an end-of-generation token */
    xuan_json_schema *json;     /* response_format json_object/json_schema, compiled; NULL: text */
    uint32_t n;                 /* choices, 1..XUAN_SERVE_MAX_N (seeds seed, seed+1, ...) */
    /* chat: tools */
    char *tools_json;           /* the tools array as JSON text (for the template), NULL = none */
    xuan_serve_tool *tools;
    size_t n_tools;
    xuan_serve_tool_choice tool_choice; /* absent: AUTO with tools, NONE without */
    uint32_t tool_named;        /* NAMED: index into tools */
    bool parallel_tool_calls;   /* default true; false keeps an answer's first call only */
    xuan_json_schema *tool_names; /* several tools: a JSON string grammar of their names */
} xuan_serve_request;

/* Parses a JSON body (n bytes, need not be NUL-terminated) for `kind`.
 * Returns 0, or XUAN_ERR_FORMAT (not JSON, invalid UTF-8) or XUAN_ERR_USAGE
 * (a field of the wrong type or out of range: err->msg names it and
 * *bad_param, if not NULL, points to a static string with its name).
 * On failure *r holds nothing to free. */
int xuan_serve_request_parse(xuan_serve_kind kind, const char *body, size_t n, xuan_serve_request *r,
                             const char **bad_param, xuan_error *err);
void xuan_serve_request_free(xuan_serve_request *r);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_SERVE_H */
