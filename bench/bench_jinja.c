/*
 * bench_jinja — microseconds per chat-template render, for `make bench`
 * (bench/section_chat.sh) and docs/perf.md "Chat templates".
 *
 *   bench_jinja [--reps N] TEMPLATE.jinja...
 *
 * Each template renders a 10-message conversation with two tool
 * definitions, a tool call and its result (the kind of request serve
 * answers) with add_generation_prompt; the time of one render is the best
 * of 5 batches of N renders (contention only adds time), parse time
 * likewise.  Prints one row per template: name, output bytes, parse us,
 * render us.
 */
#include "xuan/base.h"
#include "xuan/chat.h"

#include <stdlib.h>
#include <string.h>

static const char MESSAGES[] =
    "[{\"role\":\"system\",\"content\":\"You are a helpful assistant that answers briefly and uses tools when "
    "they help.\"},"
    "{\"role\":\"user\",\"content\":\"Hi! What can you do?\"},"
    "{\"role\":\"assistant\",\"content\":\"I can answer questions and look up the weather or the time.\"},"
    "{\"role\":\"user\",\"content\":\"What is the weather in Paris right now?\"},"
    "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
    "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\",\"unit\":\"celsius\"}}}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"name\":\"get_weather\",\"content\":\"{\\\"temperature\\\": 21, "
    "\\\"sky\\\": \\\"clear\\\"}\"},"
    "{\"role\":\"assistant\",\"content\":\"It is 21 °C and clear in Paris.\"},"
    "{\"role\":\"user\",\"content\":\"And what time is it there?\"},"
    "{\"role\":\"assistant\",\"content\":\"It is 14:05 in Paris (CET).\"},"
    "{\"role\":\"user\",\"content\":\"Thanks. Summarise both answers in one sentence, please.\"}]";
static const char TOOLS[] =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Current weather in a city\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"City name\"},"
    "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"description\":\"Local time in a city\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";

int main(int argc, char **argv) {
    int reps = 200, first = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || reps < 1) {
        fprintf(stderr, "usage: bench_jinja [--reps N] TEMPLATE.jinja...\n");
        return 2;
    }
    printf("template\tbytes\tparse_us\trender_us\n");
    for (int i = first; i < argc; i++) {
        xuan_error err = {0};
        char *text = NULL;
        size_t len = 0;
        if (xuan_read_file(argv[i], 8 << 20, &text, &len, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        double best_parse = 1e30, best_render = 1e30;
        xuan_chat_template_opts o = xuan_chat_template_opts_default();
        o.tools_json = TOOLS;
        o.bos_token = "<s>";
        o.eos_token = "</s>";
        o.now = 1767225600;
        size_t bytes = 0;
        bool failed = false;
        for (int b = 0; b < 5 && !failed; b++) {
            xuan_chat_template *t = NULL;
            uint64_t t0 = xuan_time_ns();
            for (int r = 0; r < reps; r++) {
                xuan_chat_template_free(t);
                if (xuan_chat_template_parse(text, len, &t, &err)) {
                    failed = true;
                    break;
                }
            }
            double p = (double)(xuan_time_ns() - t0) / 1e3 / reps;
            if (failed) break;
            xuan_buf out = {0};
            t0 = xuan_time_ns();
            for (int r = 0; r < reps && !failed; r++) {
                xuan_buf_reset(&out);
                failed = xuan_chat_template_render(t, MESSAGES, &o, &out, &err) != 0;
            }
            double rt = (double)(xuan_time_ns() - t0) / 1e3 / reps;
            bytes = out.len;
            xuan_buf_free(&out);
            xuan_chat_template_free(t);
            if (p < best_parse) best_parse = p;
            if (rt < best_render) best_render = rt;
        }
        if (failed) printf("%s\t-\t-\t- (%s)\n", name, err.msg);
        else printf("%s\t%zu\t%.1f\t%.1f\n", name, bytes, best_parse, best_render);
        xuan_free(text);
    }
    return 0;
}
