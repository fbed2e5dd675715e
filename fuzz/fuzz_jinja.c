/*
 * libFuzzer target for the Jinja interpreter: the input is a template;
 * parse it, then render it on a conversation with tools, a tool call, its
 * result and reasoning, with and without the generation prompt, under small
 * bounds so that every input finishes fast (a hostile template must hit a
 * bound, never hang or exhaust memory), and take the output apart with
 * every output syntax.  ASan/UBSan report any memory error; a bound being
 * hit is an ordinary, expected failure.
 *
 * Run it with `make fuzz` (fuzz/run.sh); seeds are in fuzz/corpus/jinja.
 */
#include "xuan/chat.h"

#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

static const char MESSAGES[] =
    "[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"hi \\u4f60\"},"
    "{\"role\":\"assistant\",\"content\":\"\",\"reasoning_content\":\"r\",\"tool_calls\":[{\"id\":\"c1\","
    "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"{\\\"x\\\": 2}\"},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"p\"}]}]";
static const char TOOLS[] =
    "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"a\":{\"type\":\"integer\"}}}}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xuan_chat_template *t = NULL;
    xuan_error err = {0};
    if (xuan_chat_template_parse((const char *)data, size, &t, &err) != 0) {
        TRAP_IF(t != NULL || err.msg[0] == 0);
        return 0;
    }
    xuan_chat_template_check(t, &err);
    for (int gen = 0; gen < 2; gen++) {
        xuan_chat_template_opts o = xuan_chat_template_opts_default();
        o.add_generation_prompt = gen;
        o.tools_json = TOOLS;
        o.kwargs_json = gen ? "{\"enable_thinking\": true}" : "{\"enable_thinking\": false}";
        o.bos_token = "<s>";
        o.eos_token = "</s>";
        o.now = 1767225600;
        o.max_steps = 200000;
        o.max_output = 1 << 20;
        o.max_memory = 32 << 20;
        o.max_depth = 400;
        xuan_buf out = {0};
        if (xuan_chat_template_render(t, MESSAGES, &o, &out, &err) == 0) {
            TRAP_IF(out.len > o.max_output);
            TRAP_IF(out.len && out.data[out.len] != 0);
            for (int s = XUAN_CHAT_SYNTAX_PLAIN; s <= XUAN_CHAT_SYNTAX_HARMONY; s++) {
                xuan_chat_parsed p = {0};
                if (xuan_chat_parse_output((xuan_chat_syntax)s, out.data ? out.data : "", out.len, &p, &err) == 0) {
                    TRAP_IF(!p.content);
                    TRAP_IF(p.n_tool_calls && !p.tool_calls_json);
                }
                xuan_chat_parsed_free(&p);
            }
        } else {
            TRAP_IF(err.msg[0] == 0 || out.len != 0);
        }
        xuan_buf_free(&out);
    }
    xuan_chat_template_free(t);
    return 0;
}
