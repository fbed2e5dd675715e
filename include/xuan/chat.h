/*
 * xuan/chat.h — chat templates: which prompt format a model expects, and the
 * exact text its Jinja chat template renders for a conversation.
 *
 *     xuan_error err = {0};
 *     xuan_chat_format fmt = xuan_chat_detect_gguf(g);      // from tokenizer.chat_template
 *     if (override && xuan_chat_format_from_name(override, &fmt, &err) != 0)
 *         die(err.msg);   // "unknown chat template 'chatm' (did you mean 'chatml'?); known: ..."
 *     if (fmt == XUAN_CHAT_UNKNOWN) die("no known chat template; use --template NAME");
 *
 *     xuan_chat_msg msgs[] = {{"system", "你是一个有帮助的助手。"}, {"user", "你好"}};
 *     xuan_chat_opts opts = xuan_chat_opts_default();
 *     opts.bos_token = "<|begin_of_text|>";              // the vocabulary's strings
 *     opts.eos_token = "<|eot_id|>";
 *     opts.add_generation_prompt = true;
 *     xuan_buf prompt = {0};
 *     if (xuan_chat_render(fmt, msgs, 2, &opts, &prompt, &err) != 0) die(err.msg);
 *     // prompt.data is the text to tokenize (special tokens appear literally)
 *     xuan_buf_free(&prompt);
 *
 * Templates as models ship them: a Jinja interpreter (the subset chat
 * templates use, with @huggingface/jinja's semantics; docs/chat_templates.md)
 * renders the GGUF's own `tokenizer.chat_template`, parsed once per model:
 *
 *     xuan_chat_template *t;
 *     if (xuan_chat_template_parse(text, len, &t, &err) != 0)
 *         die(err.msg);      // "line 12: unsupported statement 'raw'"
 *     xuan_chat_template_opts o = xuan_chat_template_opts_default();
 *     o.tools_json = "[{...}]";  o.kwargs_json = "{\"enable_thinking\": false}";
 *     o.bos_token = "<|begin_of_text|>";
 *     if (xuan_chat_template_render(t, messages_json, &o, &prompt, &err) != 0) die(err.msg);
 *     xuan_chat_template_free(t);
 *
 * and the model's answer is split back into reasoning, text and OpenAI-style
 * tool calls by xuan_chat_parse_output() in the template family's syntax.
 *
 * The hand-written renderers below (xuan_chat_render) remain as the
 * `--template NAME` fallback for models without a usable template: each
 * reproduces one real template (named in docs/chat_templates.md and in
 * tests/golden/chat) byte for byte, including its quirks: Llama 3
 * trims contents, Mistral v0.3 moves the system text in front of the *last*
 * user turn (and drops it when the conversation ends with an answer),
 * R1-Distill strips everything up to `</think>` from assistant turns, Yi
 * always appends the generation prompt, Phi-3.5 ends with eos_token when no
 * generation prompt is asked for.  tests/test_chat.c compares every renderer
 * with the output of @huggingface/jinja on the original template text.
 *
 * Where a template raises an exception (Mistral: roles that do not
 * alternate), rendering fails with XUAN_ERR_USAGE and the template's message.
 * Tool calls are not modelled by the hand-written renderers: a
 * "tool"/"ipython" message is refused with XUAN_ERR_UNSUPPORTED by formats
 * whose template would render it specially (Qwen2.5 renders it, as its
 * template does without tool_calls).
 */
#ifndef XUAN_CHAT_H
#define XUAN_CHAT_H

#include "xuan/base.h"
#include "xuan/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The prompt formats xuan renders.  Names (xuan_chat_format_name) are what
 * `--template NAME` accepts. */
typedef enum xuan_chat_format {
    XUAN_CHAT_UNKNOWN = 0,
    XUAN_CHAT_CHATML,          /* "chatml": plain <|im_start|>role\n...<|im_end|>\n, no default system */
    XUAN_CHAT_QWEN2,           /* "qwen2": ChatML, default system "You are a helpful assistant." */
    XUAN_CHAT_QWEN25,          /* "qwen2.5": ChatML, default system "You are Qwen, created by ..." */
    XUAN_CHAT_YI,              /* "yi": ChatML turns, system text raw, generation prompt always */
    XUAN_CHAT_LLAMA3,          /* "llama3": Llama 3.0, header per turn, contents trimmed */
    XUAN_CHAT_LLAMA31,         /* "llama3.1": 3.1/3.2, system header with the knowledge/today dates */
    XUAN_CHAT_MISTRAL_V1,      /* "mistral-v1": v0.1/v0.2/Mixtral-8x7B, " [INST] ... [/INST]" */
    XUAN_CHAT_MISTRAL_V3,      /* "mistral-v3": v0.3/Mixtral-8x22B, "[INST] ...[/INST]", system at last user */
    XUAN_CHAT_MISTRAL_NEMO,    /* "mistral-nemo": Nemo (v3-tekken), "[INST]...[/INST]" */
    XUAN_CHAT_PHI3,            /* "phi3": Phi-3.5-mini <|user|>\n...<|end|>\n */
    XUAN_CHAT_PHI4,            /* "phi4": <|im_start|>role<|im_sep|>...<|im_end|>, no newlines */
    XUAN_CHAT_DEEPSEEK,        /* "deepseek": DeepSeek-LLM-chat / DeepSeekMath "User: ...\n\nAssistant:" */
    XUAN_CHAT_DEEPSEEK_R1,     /* "deepseek-r1": R1-Distill <｜User｜>...<｜Assistant｜><think>\n */
    XUAN_CHAT_DEEPSEEK_R1_SWITCH, /* "deepseek-r1-switch": the same with llama.cpp's enable_thinking
                                     switch (adds "</think>" unless enable_thinking is true) */
    XUAN_CHAT_COUNT
} xuan_chat_format;

/* One message.  role is any string ("system", "user", "assistant", ...);
 * each format does with unknown roles what its template does (render them,
 * skip them, or fail).  content must not be NULL; it may be "". */
typedef struct xuan_chat_msg {
    const char *role;
    const char *content;
} xuan_chat_msg;

typedef struct xuan_chat_opts {
    const char *bos_token;      /* the vocabulary's BOS text, NULL = "" */
    const char *eos_token;      /* the vocabulary's EOS text, NULL = "" */
    bool add_generation_prompt; /* end with the header that makes the model answer */
    const char *date_string;    /* llama3.1 "Today Date"; NULL = the template default "26 Jul 2024".
                                   Llama 3.2's template prints today's date instead when the
                                   engine defines strftime_now (llama.cpp and @huggingface/jinja
                                   do): pass strftime("%d %b %Y") here to match them. */
    int enable_thinking;        /* -1 = not passed to the template, 0 = false, 1 = true */
} xuan_chat_opts;

/* add_generation_prompt = true, enable_thinking = -1, everything else NULL. */
xuan_chat_opts xuan_chat_opts_default(void);

/* The format a template string renders, judged from distinctive substrings
 * (like llama.cpp's llm_chat_detect_template); XUAN_CHAT_UNKNOWN when none
 * matches.  tmpl need not be NUL-terminated; n is its length. */
xuan_chat_format xuan_chat_detect(const char *tmpl, size_t n);
/* Same, on a GGUF's `tokenizer.chat_template` (UNKNOWN when it has none). */
xuan_chat_format xuan_chat_detect_gguf(const xuan_gguf *g);

/* "chatml", "llama3.1", ...; "unknown" for XUAN_CHAT_UNKNOWN or bad values. */
const char *xuan_chat_format_name(xuan_chat_format f);
/* All names, comma-separated, for usage messages. */
const char *xuan_chat_format_list(void);
/* Parses a --template NAME (case-insensitive; also accepts a few aliases:
 * "qwen" = qwen2.5, "llama-3" = llama3, "mistral" = mistral-v3, "phi-3",
 * "phi-4", "r1").  On failure returns XUAN_ERR_USAGE with a message naming
 * the closest known name and listing all of them. */
int xuan_chat_format_from_name(const char *name, xuan_chat_format *out, xuan_error *err);

/* The literal text that ends an assistant turn in this format ("<|im_end|>",
 * "<|eot_id|>", "<|end|>", ...), useful as a stop string when the vocabulary
 * has no matching EOG token; NULL when the turn ends with eos_token. */
const char *xuan_chat_end_of_turn(xuan_chat_format f);

/* Renders n messages into out (appended; out is not reset).  Returns 0, or
 * XUAN_ERR_USAGE (no messages, NULL content, the template raises: the
 * message quotes it), XUAN_ERR_UNSUPPORTED (bad format, tool messages where
 * the template formats them specially) or XUAN_ERR_NOMEM.  On failure out
 * keeps its previous length. */
int xuan_chat_render(xuan_chat_format f, const xuan_chat_msg *msgs, size_t n,
                     const xuan_chat_opts *opts, xuan_buf *out, xuan_error *err);

/* ---- Jinja templates ------------------------------------------------------ */

/* A parsed template: immutable after parsing, so one may be rendered from
 * several threads at once (each render has its own arena). */
typedef struct xuan_chat_template xuan_chat_template;

typedef struct xuan_chat_template_opts {
    const char *tools_json;     /* a JSON array of tool definitions, NULL = `tools` undefined */
    const char *kwargs_json;    /* a JSON object of extra variables (enable_thinking,
                                   reasoning_effort, ...), NULL = none */
    bool add_generation_prompt;
    const char *bos_token;      /* NULL = "" */
    const char *eos_token;      /* NULL = "" */
    int64_t now;                /* strftime_now()'s time in Unix seconds (local time zone);
                                   0 = the clock, or $XUAN_JINJA_NOW when that is set */
    /* Bounds; 0 = the default.  A render past any of them fails with a
     * one-line error (XUAN_ERR_FULL, or XUAN_ERR_NOMEM for memory). */
    uint64_t max_steps;         /* default 20,000,000 evaluation steps (about 1 s) */
    uint32_t max_depth;         /* default 1000 nested frames (expressions, blocks, macro calls) */
    uint64_t max_output;        /* default 16 MiB: any string the render builds */
    uint64_t max_memory;        /* default 256 MiB: the render's arena */
} xuan_chat_template_opts;

/* add_generation_prompt = true, everything else 0 / NULL. */
xuan_chat_template_opts xuan_chat_template_opts_default(void);

/* Parses template text (need not be NUL-terminated).  On failure returns
 * XUAN_ERR_FORMAT (syntax, an unsupported statement) with a message
 * "line N: ..." naming the construct, or XUAN_ERR_NOMEM / _USAGE
 * (text over 4 MiB).  *out is freed with xuan_chat_template_free. */
int xuan_chat_template_parse(const char *text, size_t len, xuan_chat_template **out, xuan_error *err);
/* The GGUF's tokenizer.chat_template parsed; XUAN_ERR_NOTFOUND when it has none. */
int xuan_chat_template_from_gguf(const xuan_gguf *g, xuan_chat_template **out, xuan_error *err);
void xuan_chat_template_free(xuan_chat_template *t); /* NULL is fine */
/* Parses and renders keep a few memory chunks per thread for the next one
 * (no page faults per render); a thread that ends frees them (a key
 * destructor).  This frees the calling thread's now, e.g. before a long
 * idle stretch. */
void xuan_chat_thread_release(void);
/* Filters and tests the interpreter lacks do not fail the parse, because
 * @huggingface/jinja (the reference) only fails when a render reaches them
 * (Llama 3.1's `reject` is on its built-in-tools branch).  This returns 0
 * when the template has none, else XUAN_ERR_UNSUPPORTED with the first one
 * ("line 29: filter 'reject'"), for callers that refuse such templates. */
int xuan_chat_template_check(const xuan_chat_template *t, xuan_error *err);

/* Renders `messages` (a JSON array of {role, content, ...}; content a string
 * or a list of parts {type, text}; any other fields are passed through:
 * tool_calls, reasoning_content, name, ...) and appends the text to out.
 * Returns 0, XUAN_ERR_USAGE (bad JSON, or the template raised: the message
 * quotes it), XUAN_ERR_FORMAT (a runtime error: "line 7: cannot ..."),
 * XUAN_ERR_FULL (a bound) or XUAN_ERR_NOMEM.  On failure out keeps its length. */
int xuan_chat_template_render(const xuan_chat_template *t, const char *messages_json,
                              const xuan_chat_template_opts *opts, xuan_buf *out, xuan_error *err);
/* The same from plain role/content pairs. */
int xuan_chat_template_render_msgs(const xuan_chat_template *t, const xuan_chat_msg *msgs, size_t n,
                                   const xuan_chat_template_opts *opts, xuan_buf *out, xuan_error *err);

/* ---- the model's output -------------------------------------------------- */

/* How a template family writes reasoning and tool calls. */
typedef enum xuan_chat_syntax {
    XUAN_CHAT_SYNTAX_PLAIN = 0, /* text only; a leading <think>...</think> is still split off */
    XUAN_CHAT_SYNTAX_HERMES,    /* Qwen 2.5/3, Hermes: <think>, <tool_call>{"name", "arguments"}</tool_call> */
    XUAN_CHAT_SYNTAX_LLAMA3,    /* Llama 3.1-3.3: {"name", "parameters"} JSON, or <|python_tag|> */
    XUAN_CHAT_SYNTAX_MISTRAL,   /* Mistral: [TOOL_CALLS] [{"name", "arguments"}, ...] */
    XUAN_CHAT_SYNTAX_HARMONY,   /* gpt-oss: <|channel|>analysis / final, to=functions.NAME */
} xuan_chat_syntax;

/* The family a template text belongs to, from its distinctive markers. */
xuan_chat_syntax xuan_chat_syntax_detect(const char *tmpl, size_t n);
const char *xuan_chat_syntax_name(xuan_chat_syntax s);

/* One answer, taken apart.  Strings are NUL-terminated, owned by the struct. */
typedef struct xuan_chat_parsed {
    char *content;          /* the answer text ("" when there is none) */
    char *reasoning;        /* thinking text, NULL when there was none */
    char *tool_calls_json;  /* OpenAI's [{"id", "type": "function", "function": {"name",
                               "arguments": "<JSON text>"}}], NULL when there were none */
    size_t n_tool_calls;
} xuan_chat_parsed;

/* Splits text (n bytes) by syntax s.  A malformed tool call is left in the
 * content (as the model wrote it), not an error.  Returns 0 or XUAN_ERR_NOMEM. */
int xuan_chat_parse_output(xuan_chat_syntax s, const char *text, size_t n, xuan_chat_parsed *out,
                           xuan_error *err);
void xuan_chat_parsed_free(xuan_chat_parsed *p);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_CHAT_H */
