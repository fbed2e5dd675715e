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
 * There is no Jinja interpreter here.  Each format is a small hand-written
 * renderer that reproduces one real template (named in docs/chat_templates.md
 * and in tests/golden/chat) byte for byte, including its quirks: Llama 3
 * trims contents, Mistral v0.3 moves the system text in front of the *last*
 * user turn (and drops it when the conversation ends with an answer),
 * R1-Distill strips everything up to `</think>` from assistant turns, Yi
 * always appends the generation prompt, Phi-3.5 ends with eos_token when no
 * generation prompt is asked for.  tests/test_chat.c compares every renderer
 * with the output of @huggingface/jinja on the original template text.
 *
 * Where a template raises an exception (Mistral: roles that do not
 * alternate), rendering fails with XUAN_ERR_USAGE and the template's message.
 * Tool calls are not modelled: a "tool"/"ipython" message is refused with
 * XUAN_ERR_UNSUPPORTED by formats whose template would render it specially
 * (Qwen2.5 renders it, as its template does without tool_calls).
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

#ifdef __cplusplus
}
#endif
#endif /* XUAN_CHAT_H */
