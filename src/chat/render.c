/*
 * render.c — one hand-written renderer per chat template.
 *
 * Each function below mirrors one real Jinja template line by line; the
 * comment above it names the template file whose output it reproduces
 * (../shared/templates/ or tests/golden/chat/templates/).  Where the
 * template's behaviour is surprising, the code keeps it and says so: the
 * point is to produce byte for byte what the model was trained on, and
 * tests/test_chat.c checks that against @huggingface/jinja.
 *
 * Map: helpers (trim, roles, errors) · ChatML family · Llama 3 · Mistral ·
 *      Phi · DeepSeek · dispatch.
 */
#include "xuan/chat.h"

#include <string.h>

/* ======================================================================
 * helpers
 * ====================================================================== */

typedef struct render_ctx {
    const xuan_chat_msg *m;
    size_t n;
    const char *bos, *eos;
    bool gen;                /* add_generation_prompt */
    const char *date_string;
    int enable_thinking;
    xuan_buf *out;
    xuan_error *err;
    int status;              /* first append failure, sticky */
} render_ctx;

static bool role_is(const xuan_chat_msg *m, const char *role) {
    return strcmp(m->role, role) == 0;
}

static void put(render_ctx *c, const char *s) {
    if (c->status == 0 && s[0] && xuan_buf_puts(c->out, s) != 0) c->status = XUAN_ERR_NOMEM;
}

static void putn(render_ctx *c, const char *s, size_t n) {
    if (c->status == 0 && n && xuan_buf_append(c->out, s, n) != 0) c->status = XUAN_ERR_NOMEM;
}

/* Whitespace as @huggingface/jinja's `trim` filter sees it (JavaScript's
 * String.prototype.trim: ASCII space and controls 9-13, NBSP, U+1680,
 * U+2000-200A, U+2028/2029, U+202F, U+205F, U+3000, U+FEFF).  Python's
 * str.strip differs only on U+001C-001F, U+0085 (whitespace there) and
 * U+FEFF (not whitespace there); no chat text we know of hinges on those. */
static bool js_space(uint32_t cp) {
    return (cp >= 9 && cp <= 13) || cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Puts s with leading and trailing whitespace removed (Jinja `| trim`). */
static void put_trimmed(render_ctx *c, const char *s) {
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), a = 0, b = n;
    while (a < n) {
        uint32_t cp;
        int k = xuan_utf8_decode(p + a, n - a, &cp);
        if (!js_space(cp)) break;
        a += (size_t)k;
    }
    /* From the end: step back over one code point at a time.  A UTF-8
     * continuation byte is 10xxxxxx, so the start is the last byte that
     * is not one. */
    while (b > a) {
        size_t start = b - 1;
        while (start > a && (p[start] & 0xC0) == 0x80) start--;
        uint32_t cp;
        xuan_utf8_decode(p + start, b - start, &cp);
        if (!js_space(cp)) break;
        b = start;
    }
    putn(c, s + a, b - a);
}

static int template_raise(render_ctx *c, const char *template_name, const char *msg) {
    return xuan_fail(c->err, XUAN_ERR_USAGE, "chat template %s: %s", template_name, msg);
}

static int refuse_role(render_ctx *c, const char *template_name, const char *role) {
    return xuan_fail(c->err, XUAN_ERR_UNSUPPORTED,
                     "chat template %s: role '%s' (tool calling) is not supported by xuan's renderer",
                     template_name, role);
}

/* ======================================================================
 * ChatML family
 * ====================================================================== */

static void chatml_turn(render_ctx *c, const char *role, const char *content) {
    put(c, "<|im_start|>");
    put(c, role);
    put(c, "\n");
    put(c, content);
    put(c, "<|im_end|>\n");
}

/* teknium/OpenHermes-2.5 style (templates/chatml.jinja): every message is a
 * turn, whatever its role. */
static int render_chatml(render_ctx *c) {
    for (size_t i = 0; i < c->n; i++) chatml_turn(c, c->m[i].role, c->m[i].content);
    if (c->gen) put(c, "<|im_start|>assistant\n");
    return 0;
}

/* Qwen2-Instruct (templates/qwen2.jinja): like chatml, with a default
 * system turn when the first message is not a system message. */
static int render_qwen2(render_ctx *c) {
    for (size_t i = 0; i < c->n; i++) {
        if (i == 0 && !role_is(&c->m[0], "system"))
            put(c, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n");
        chatml_turn(c, c->m[i].role, c->m[i].content);
    }
    if (c->gen) put(c, "<|im_start|>assistant\n");
    return 0;
}

/* Qwen2.5-Instruct (../shared/templates/Qwen-Qwen2.5-7B-Instruct.jinja),
 * without `tools`: the first system message (or the Qwen default) opens;
 * user, later system and assistant messages are plain turns; consecutive
 * "tool" messages are wrapped into one user turn of <tool_response>s; any
 * other role renders nothing. */
static int render_qwen25(render_ctx *c) {
    if (role_is(&c->m[0], "system")) {
        chatml_turn(c, "system", c->m[0].content);
    } else {
        put(c, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
               "assistant.<|im_end|>\n");
    }
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "user") || (role_is(m, "system") && i > 0) || role_is(m, "assistant")) {
            chatml_turn(c, m->role, m->content);
        } else if (role_is(m, "tool")) {
            if (i == 0 || !role_is(&c->m[i - 1], "tool")) put(c, "<|im_start|>user");
            put(c, "\n<tool_response>\n");
            put(c, m->content);
            put(c, "\n</tool_response>");
            if (i + 1 == c->n || !role_is(&c->m[i + 1], "tool")) put(c, "<|im_end|>\n");
        }
    }
    if (c->gen) put(c, "<|im_start|>assistant\n");
    return 0;
}

/* Yi-1.5-chat (templates/yi.jinja): the system text is written raw, with no
 * wrapper; every user turn is followed by the assistant header, so the
 * generation prompt is there whether or not it was asked for (the template
 * never reads add_generation_prompt); other roles render nothing. */
static int render_yi(render_ctx *c) {
    if (role_is(&c->m[0], "system")) put(c, c->m[0].content);
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "user")) {
            put(c, "<|im_start|>user\n");
            put(c, m->content);
            put(c, "<|im_end|>\n<|im_start|>assistant\n");
        } else if (role_is(m, "assistant")) {
            put(c, m->content);
            put(c, "<|im_end|>\n");
        }
    }
    return 0;
}

/* ======================================================================
 * Llama 3
 * ====================================================================== */

static void llama3_turn(render_ctx *c, const char *role, const char *content) {
    put(c, "<|start_header_id|>");
    put(c, role);
    put(c, "<|end_header_id|>\n\n");
    put_trimmed(c, content);
    put(c, "<|eot_id|>");
}

/* Meta-Llama-3-8B-Instruct (templates/llama3.jinja): BOS before the first
 * message, every message a header turn with trimmed content. */
static int render_llama3(render_ctx *c) {
    for (size_t i = 0; i < c->n; i++) {
        if (i == 0) put(c, c->bos);
        llama3_turn(c, c->m[i].role, c->m[i].content);
    }
    if (c->gen) put(c, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    return 0;
}

/* Llama-3.1-8B-Instruct
 * (../shared/templates/meta-llama-Llama-3.1-8B-Instruct.jinja; 3.2 renders
 * the same when strftime_now is not given):
 * the system header always exists and carries the two date lines, then the
 * first message's text if it is a system message. */
static int render_llama31(render_ctx *c) {
    static const char name[] = "llama3.1";
    size_t first = 0;
    put(c, c->bos);
    put(c, "<|start_header_id|>system<|end_header_id|>\n\n");
    put(c, "Cutting Knowledge Date: December 2023\n");
    put(c, "Today Date: ");
    put(c, c->date_string ? c->date_string : "26 Jul 2024");
    put(c, "\n\n");
    if (role_is(&c->m[0], "system")) {
        put_trimmed(c, c->m[0].content);
        first = 1;
    }
    put(c, "<|eot_id|>");
    for (size_t i = first; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "ipython") || role_is(m, "tool")) return refuse_role(c, name, m->role);
        llama3_turn(c, m->role, m->content);
    }
    if (c->gen) put(c, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    return 0;
}

/* ======================================================================
 * Mistral [INST]
 * ====================================================================== */

static const char mistral_alternate_msg[] =
    "After the optional system message, conversation roles must alternate "
    "user/assistant/user/assistant/...";
static const char mistral_roles_msg[] =
    "Only user and assistant roles are supported, with the exception of an initial optional "
    "system message!";

/* Mistral-7B-Instruct-v0.1/v0.2, Mixtral-8x7B (templates/mistral-v1.jinja):
 * " [INST] " with spaces around, system text in front of the FIRST user
 * message, answers preceded by a space. */
static int render_mistral_v1(render_ctx *c) {
    static const char name[] = "mistral-v1";
    size_t first = role_is(&c->m[0], "system") ? 1 : 0;
    const char *sys = first ? c->m[0].content : NULL;
    put(c, c->bos);
    for (size_t i = first; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        /* checked message by message, as the template does, so that the
         * first problem in order is the one reported */
        if (role_is(m, "user") != ((i - first) % 2 == 0))
            return template_raise(c, name, mistral_alternate_msg);
        if (role_is(m, "user")) {
            put(c, " [INST] ");
            if (i == first && sys) {
                put(c, sys);
                put(c, "\n\n");
            }
            put(c, m->content);
            put(c, " [/INST]");
        } else if (role_is(m, "assistant")) {
            put(c, " ");
            put(c, m->content);
            put(c, c->eos);
        } else {
            return template_raise(c, name, mistral_roles_msg);
        }
    }
    return 0;
}

/* Mistral-7B-Instruct-v0.3 (templates/mistral-v3.jinja) and Mistral-Nemo
 * (../shared/templates/mistralai-Mistral-Nemo-Instruct-2407.jinja), without
 * tools.  Both put the system text in front of the LAST message when that
 * is a user message — so a conversation ending with an answer loses its
 * system text entirely, as the templates do.  v0.3 writes "[INST] " and a
 * space + trimmed answer; Nemo writes "[INST]" and the answer as is.  The
 * alternation check skips tool messages (which we then refuse). */
static int render_mistral_v3(render_ctx *c, bool nemo) {
    const char *name = nemo ? "mistral-nemo" : "mistral-v3";
    size_t first = role_is(&c->m[0], "system") ? 1 : 0;
    const char *sys = first ? c->m[0].content : NULL;
    size_t index = 0;
    for (size_t i = first; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "tool") || role_is(m, "tool_results")) continue;
        if (role_is(m, "user") != (index % 2 == 0)) return template_raise(c, name, mistral_alternate_msg);
        index++;
    }
    put(c, c->bos);
    for (size_t i = first; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "user")) {
            put(c, nemo ? "[INST]" : "[INST] ");
            if (i + 1 == c->n && sys) {
                put(c, sys);
                put(c, "\n\n");
            }
            put(c, m->content);
            put(c, "[/INST]");
        } else if (role_is(m, "assistant")) {
            if (nemo) {
                put(c, m->content);
            } else {
                put(c, " ");
                put_trimmed(c, m->content);
            }
            put(c, c->eos);
        } else if (role_is(m, "tool") || role_is(m, "tool_results")) {
            return refuse_role(c, name, m->role);
        } else {
            return template_raise(c, name, mistral_roles_msg);
        }
    }
    return 0;
}

/* ======================================================================
 * Phi
 * ====================================================================== */

/* Phi-3.5-mini-instruct
 * (../shared/templates/microsoft-Phi-3.5-mini-instruct.jinja): an empty system message is skipped, other roles render
 * nothing, and without a generation prompt the text ends with eos_token. */
static int render_phi3(render_ctx *c) {
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        const char *tag = NULL;
        if (role_is(m, "system") && m->content[0]) tag = "<|system|>\n";
        else if (role_is(m, "user")) tag = "<|user|>\n";
        else if (role_is(m, "assistant")) tag = "<|assistant|>\n";
        if (!tag) continue;
        put(c, tag);
        put(c, m->content);
        put(c, "<|end|>\n");
    }
    put(c, c->gen ? "<|assistant|>\n" : c->eos);
    return 0;
}

/* microsoft/phi-4 (templates/phi4.jinja): no line breaks at all; roles
 * other than system/user/assistant render nothing. */
static int render_phi4(render_ctx *c) {
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (!role_is(m, "system") && !role_is(m, "user") && !role_is(m, "assistant")) continue;
        put(c, "<|im_start|>");
        put(c, m->role);
        put(c, "<|im_sep|>");
        put(c, m->content);
        put(c, "<|im_end|>");
    }
    if (c->gen) put(c, "<|im_start|>assistant<|im_sep|>");
    return 0;
}

/* ======================================================================
 * DeepSeek
 * ====================================================================== */

/* deepseek-llm-7b-chat, deepseek-math-7b-instruct (templates/deepseek.jinja):
 * "User: ...\n\n", "Assistant: ...<eos>", system text + "\n\n" wherever it
 * appears, generation prompt "Assistant:" with no trailing space. */
static int render_deepseek(render_ctx *c) {
    put(c, c->bos);
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "user")) {
            put(c, "User: ");
            put(c, m->content);
            put(c, "\n\n");
        } else if (role_is(m, "assistant")) {
            put(c, "Assistant: ");
            put(c, m->content);
            put(c, c->eos);
        } else if (role_is(m, "system")) {
            put(c, m->content);
            put(c, "\n\n");
        }
    }
    if (c->gen) put(c, "Assistant:");
    return 0;
}

/* Last occurrence of needle in s, or NULL. */
static const char *last_strstr(const char *s, const char *needle) {
    const char *last = NULL;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) last = p;
    return last;
}

/* DeepSeek-R1-Distill-Llama-8B
 * (../shared/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja; the official Qwen distills are the same without
 * tools).  The LAST system message's text follows BOS, system messages are
 * otherwise invisible, every assistant text keeps only what follows its last
 * "</think>", and the turn end is the literal <｜end▁of▁sentence｜> (not
 * eos_token).  With `switch`
 * (../shared/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja, llama.cpp's edit), the generation prompt also gets
 * "</think>" unless enable_thinking is true — an undefined variable counts
 * as false there. */
static int render_deepseek_r1(render_ctx *c, bool with_switch) {
    const char *name = with_switch ? "deepseek-r1-switch" : "deepseek-r1";
    const char *sys = "";
    for (size_t i = 0; i < c->n; i++)
        if (role_is(&c->m[i], "system")) sys = c->m[i].content;
    put(c, c->bos);
    put(c, sys);
    for (size_t i = 0; i < c->n; i++) {
        const xuan_chat_msg *m = &c->m[i];
        if (role_is(m, "user")) {
            put(c, "<｜User｜>");
            put(c, m->content);
        } else if (role_is(m, "assistant")) {
            const char *content = m->content;
            const char *end = last_strstr(content, "</think>");
            if (end) content = end + strlen("</think>");
            put(c, "<｜Assistant｜>");
            put(c, content);
            put(c, "<｜end▁of▁sentence｜>");
        } else if (role_is(m, "tool")) {
            return refuse_role(c, name, m->role);
        }
    }
    if (c->gen) {
        put(c, "<｜Assistant｜><think>\n");
        if (with_switch && c->enable_thinking != 1) put(c, "</think>");
    }
    return 0;
}

/* ======================================================================
 * dispatch
 * ====================================================================== */

xuan_chat_opts xuan_chat_opts_default(void) {
    xuan_chat_opts o = {0};
    o.add_generation_prompt = true;
    o.enable_thinking = -1;
    return o;
}

int xuan_chat_render(xuan_chat_format f, const xuan_chat_msg *msgs, size_t n,
                     const xuan_chat_opts *opts, xuan_buf *out, xuan_error *err) {
    xuan_chat_opts def = xuan_chat_opts_default();
    if (!opts) opts = &def;
    if (f <= XUAN_CHAT_UNKNOWN || f >= XUAN_CHAT_COUNT)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "chat template: no known format (%d); known: %s",
                         (int)f, xuan_chat_format_list());
    if (n == 0 || !msgs)
        return xuan_fail(err, XUAN_ERR_USAGE, "chat template %s: no messages to render",
                         xuan_chat_format_name(f));
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return xuan_fail(err, XUAN_ERR_USAGE, "chat template %s: message %zu has no %s",
                             xuan_chat_format_name(f), i, msgs[i].role ? "content" : "role");

    render_ctx c = {
        .m = msgs, .n = n,
        .bos = opts->bos_token ? opts->bos_token : "",
        .eos = opts->eos_token ? opts->eos_token : "",
        .gen = opts->add_generation_prompt,
        .date_string = opts->date_string,
        .enable_thinking = opts->enable_thinking,
        .out = out, .err = err,
    };
    size_t old_len = out->len;
    int rc;
    switch (f) {
    case XUAN_CHAT_CHATML: rc = render_chatml(&c); break;
    case XUAN_CHAT_QWEN2: rc = render_qwen2(&c); break;
    case XUAN_CHAT_QWEN25: rc = render_qwen25(&c); break;
    case XUAN_CHAT_YI: rc = render_yi(&c); break;
    case XUAN_CHAT_LLAMA3: rc = render_llama3(&c); break;
    case XUAN_CHAT_LLAMA31: rc = render_llama31(&c); break;
    case XUAN_CHAT_MISTRAL_V1: rc = render_mistral_v1(&c); break;
    case XUAN_CHAT_MISTRAL_V3: rc = render_mistral_v3(&c, false); break;
    case XUAN_CHAT_MISTRAL_NEMO: rc = render_mistral_v3(&c, true); break;
    case XUAN_CHAT_PHI3: rc = render_phi3(&c); break;
    case XUAN_CHAT_PHI4: rc = render_phi4(&c); break;
    case XUAN_CHAT_DEEPSEEK: rc = render_deepseek(&c); break;
    case XUAN_CHAT_DEEPSEEK_R1: rc = render_deepseek_r1(&c, false); break;
    case XUAN_CHAT_DEEPSEEK_R1_SWITCH: rc = render_deepseek_r1(&c, true); break;
    default: XUAN_ASSERT(!"unhandled chat format"); rc = XUAN_ERR_UNSUPPORTED;
    }
    if (rc == 0 && c.status)
        rc = xuan_fail(err, c.status, "chat template %s: out of memory rendering %zu messages",
                       xuan_chat_format_name(f), n);
    if (rc != 0) {
        out->len = old_len;
        if (out->data) out->data[old_len] = '\0';
    }
    return rc;
}
