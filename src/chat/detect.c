/*
 * detect.c — which format a chat template string is, format names, and the
 * --template NAME parser.
 *
 * Detection looks for substrings that only one family's templates contain,
 * most specific first (the same approach as llama.cpp's
 * llm_chat_detect_template): `<|im_sep|>` must be tested before
 * `<|im_start|>`, the R1 full-width `<｜User｜>` before anything else, and so
 * on.  It is a heuristic: a fine-tune with an unusual template may be
 * misjudged, which is what --template is for.
 */
#include "xuan/chat.h"

#include <string.h>
#include <strings.h>

static const char *const format_names[XUAN_CHAT_COUNT] = {
    [XUAN_CHAT_UNKNOWN] = "unknown",
    [XUAN_CHAT_CHATML] = "chatml",
    [XUAN_CHAT_QWEN2] = "qwen2",
    [XUAN_CHAT_QWEN25] = "qwen2.5",
    [XUAN_CHAT_YI] = "yi",
    [XUAN_CHAT_LLAMA3] = "llama3",
    [XUAN_CHAT_LLAMA31] = "llama3.1",
    [XUAN_CHAT_MISTRAL_V1] = "mistral-v1",
    [XUAN_CHAT_MISTRAL_V3] = "mistral-v3",
    [XUAN_CHAT_MISTRAL_NEMO] = "mistral-nemo",
    [XUAN_CHAT_PHI3] = "phi3",
    [XUAN_CHAT_PHI4] = "phi4",
    [XUAN_CHAT_DEEPSEEK] = "deepseek",
    [XUAN_CHAT_DEEPSEEK_R1] = "deepseek-r1",
    [XUAN_CHAT_DEEPSEEK_R1_SWITCH] = "deepseek-r1-switch",
};

static const struct {
    const char *alias;
    xuan_chat_format f;
} aliases[] = {
    {"qwen", XUAN_CHAT_QWEN25},        {"qwen25", XUAN_CHAT_QWEN25},
    {"llama-3", XUAN_CHAT_LLAMA3},     {"llama-3.1", XUAN_CHAT_LLAMA31},
    {"llama3.2", XUAN_CHAT_LLAMA31},   {"mistral", XUAN_CHAT_MISTRAL_V3},
    {"phi-3", XUAN_CHAT_PHI3},         {"phi-4", XUAN_CHAT_PHI4},
    {"r1", XUAN_CHAT_DEEPSEEK_R1},     {"deepseek-r1-distill", XUAN_CHAT_DEEPSEEK_R1},
    {"deepseek2", XUAN_CHAT_DEEPSEEK}, {"mistral-tekken", XUAN_CHAT_MISTRAL_NEMO},
};

const char *xuan_chat_format_name(xuan_chat_format f) {
    if (f < 0 || f >= XUAN_CHAT_COUNT) return "unknown";
    return format_names[f];
}

const char *xuan_chat_format_list(void) {
    /* Built from the table at compile time would need a macro dance; the
     * test checks that this string names every format. */
    return "chatml, qwen2, qwen2.5, yi, llama3, llama3.1, mistral-v1, mistral-v3, mistral-nemo, "
           "phi3, phi4, deepseek, deepseek-r1, deepseek-r1-switch";
}

int xuan_chat_format_from_name(const char *name, xuan_chat_format *out, xuan_error *err) {
    if (!name) name = "";
    for (int f = XUAN_CHAT_UNKNOWN + 1; f < XUAN_CHAT_COUNT; f++) {
        if (strcasecmp(name, format_names[f]) == 0) {
            *out = (xuan_chat_format)f;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].f;
            return 0;
        }
    }
    const char *close = xuan_closest(name, format_names + 1, XUAN_CHAT_COUNT - 1);
    if (close)
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "unknown chat template '%s' (did you mean '%s'?); known: %s", name, close,
                         xuan_chat_format_list());
    return xuan_fail(err, XUAN_ERR_USAGE, "unknown chat template '%s'; known: %s", name,
                     xuan_chat_format_list());
}

const char *xuan_chat_end_of_turn(xuan_chat_format f) {
    switch (f) {
    case XUAN_CHAT_CHATML:
    case XUAN_CHAT_QWEN2:
    case XUAN_CHAT_QWEN25:
    case XUAN_CHAT_YI:
    case XUAN_CHAT_PHI4: return "<|im_end|>";
    case XUAN_CHAT_LLAMA3:
    case XUAN_CHAT_LLAMA31: return "<|eot_id|>";
    case XUAN_CHAT_PHI3: return "<|end|>";
    case XUAN_CHAT_DEEPSEEK_R1:
    case XUAN_CHAT_DEEPSEEK_R1_SWITCH: return "<｜end▁of▁sentence｜>";
    default: return NULL; /* mistral, deepseek: eos_token */
    }
}

/* memmem over the template; the template is not NUL-terminated. */
static bool has(const char *t, size_t n, const char *needle) {
    return memmem(t, n, needle, strlen(needle)) != NULL;
}

xuan_chat_format xuan_chat_detect(const char *t, size_t n) {
    if (!t || n == 0) return XUAN_CHAT_UNKNOWN;
    /* DeepSeek R1 uses full-width bars (U+FF5C) in its role markers. */
    if (has(t, n, "<｜User｜>") || has(t, n, "<｜Assistant｜>"))
        return has(t, n, "enable_thinking") ? XUAN_CHAT_DEEPSEEK_R1_SWITCH : XUAN_CHAT_DEEPSEEK_R1;
    if (has(t, n, "<|im_sep|>")) return XUAN_CHAT_PHI4;
    if (has(t, n, "<|im_start|>")) {
        /* Qwen3 and QwQ rewrite <think> blocks in the history and in the
         * generation prompt; none of our ChatML renderers does that. */
        if (has(t, n, "</think>")) return XUAN_CHAT_UNKNOWN;
        if (has(t, n, "You are Qwen, created by Alibaba Cloud")) return XUAN_CHAT_QWEN25;
        if (has(t, n, "You are a helpful assistant.<|im_end|>")) return XUAN_CHAT_QWEN2;
        /* Yi writes `{{ system_message }}` raw and never a system turn. */
        if (has(t, n, "system_message") && !has(t, n, "<|im_start|>system")) return XUAN_CHAT_YI;
        return XUAN_CHAT_CHATML;
    }
    if (has(t, n, "<|start_header_id|>"))
        return has(t, n, "Cutting Knowledge Date") ? XUAN_CHAT_LLAMA31 : XUAN_CHAT_LLAMA3;
    if (has(t, n, "[INST]")) {
        /* Official Mistral templates: v1 writes ' [INST] ' with a leading
         * space; v0.3 "[INST] " and Nemo "[INST]" are told apart by the
         * quoted literal.  The older system-less v0.1/v0.2 templates
         * ('[INST] ' + content + ' [/INST]') and Llama 2's <<SYS>> format
         * render differently and are not claimed. */
        if (has(t, n, "' [INST] '")) return XUAN_CHAT_MISTRAL_V1;
        if (has(t, n, "[AVAILABLE_TOOLS]") || has(t, n, "loop.last and system_message")) {
            if (has(t, n, "\"[INST]\"") || has(t, n, "'[INST]'")) return XUAN_CHAT_MISTRAL_NEMO;
            if (has(t, n, "\"[INST] \"") || has(t, n, "'[INST] '")) return XUAN_CHAT_MISTRAL_V3;
        }
        return XUAN_CHAT_UNKNOWN;
    }
    /* Phi-3.5: the early Phi-3 templates without a <|system|> role render
     * differently (generation prompt after every user turn) and are not
     * claimed. */
    if (has(t, n, "<|user|>") && has(t, n, "<|end|>") && has(t, n, "<|system|>"))
        return XUAN_CHAT_PHI3;
    if (has(t, n, "'User: '") && has(t, n, "'Assistant: '") && has(t, n, "'Assistant:'"))
        return XUAN_CHAT_DEEPSEEK;
    return XUAN_CHAT_UNKNOWN;
}

xuan_chat_format xuan_chat_detect_gguf(const xuan_gguf *g) {
    xuan_str s;
    if (!g || xuan_gguf_get_str(g, "tokenizer.chat_template", &s) != 0) return XUAN_CHAT_UNKNOWN;
    return xuan_chat_detect(s.p, (size_t)s.n);
}
