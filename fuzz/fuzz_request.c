/*
 * libFuzzer target for the JSON half of a chat request: what an OpenAI-style
 * body carries into the prompt (`messages`, `tools`, `chat_template_kwargs`)
 * through real chat templates.  `xuan template --messages/--tools/--kwargs`
 * takes this path today and `xuan serve` will take it for every request.
 *
 * Input: messages JSON, then optionally a NUL and the tools JSON, then a
 * NUL and the kwargs JSON; the first byte picks the template.  The
 * templates are the .jinja files of XUAN_FUZZ_TEMPLATES (colon-separated
 * folders; fuzz/run.sh sets ../shared/templates), parsed once.  Any input
 * must end in a rendered prompt under the output bound, or in a one-line
 * error with nothing written; the rendered text goes through every output
 * parser.  Seeds: fuzz/corpus/request.
 */
#include "xuan/chat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)

enum { MAX_TEMPLATES = 128 };
static xuan_chat_template *g_t[MAX_TEMPLATES];
static int g_n;

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static void load_dir(const char *dir) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);
        if (g_n < MAX_TEMPLATES && len > 6 && strcmp(name + len - 6, ".jinja") == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            FILE *f = fopen(path, "rb");
            static char text[1 << 20];
            size_t got = f ? fread(text, 1, sizeof text, f) : 0;
            if (f) fclose(f);
            xuan_error err = {0};
            xuan_chat_template *t = NULL;
            if (got && xuan_chat_template_parse(text, got, &t, &err) == 0) g_t[g_n++] = t;
        }
        free(list[i]);
    }
    free(list);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *env = getenv("XUAN_FUZZ_TEMPLATES");
    char dirs[8192];
    snprintf(dirs, sizeof dirs, "%s", env && *env ? env : "../shared/templates");
    for (char *save = NULL, *p = strtok_r(dirs, ":", &save); p; p = strtok_r(NULL, ":", &save)) load_dir(p);
    if (g_n == 0) {
        fprintf(stderr, "fuzz_request: no template found (set XUAN_FUZZ_TEMPLATES)\n");
        exit(2);
    }
    fprintf(stderr, "fuzz_request: %d templates\n", g_n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    const xuan_chat_template *t = g_t[data[0] % g_n];
    /* split into up to three NUL-terminated parts */
    char *buf = malloc(size + 2);
    if (!buf) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = buf[size] = 0;
    const char *parts[3] = {buf, NULL, NULL};
    size_t at = strlen(buf);
    for (int k = 1; k < 3 && at < size - 1; k++) {
        parts[k] = buf + at + 1;
        at += 1 + strlen(parts[k]);
    }
    for (int gen = 0; gen < 2; gen++) {
        xuan_chat_template_opts o = xuan_chat_template_opts_default();
        o.add_generation_prompt = gen;
        o.tools_json = parts[1] && *parts[1] ? parts[1] : NULL;
        o.kwargs_json = parts[2] && *parts[2] ? parts[2] : NULL;
        o.bos_token = "<s>";
        o.eos_token = "</s>";
        o.now = 1767225600;
        o.max_steps = 200000;
        o.max_output = 1 << 20;
        o.max_memory = 32 << 20;
        o.max_depth = 400;
        xuan_buf out = {0};
        xuan_error err = {0};
        if (xuan_chat_template_render(t, parts[0], &o, &out, &err) == 0) {
            TRAP_IF(out.len > o.max_output);
            TRAP_IF(out.len && out.data[out.len] != 0);
            for (int s = XUAN_CHAT_SYNTAX_PLAIN; s <= XUAN_CHAT_SYNTAX_HARMONY; s++) {
                xuan_chat_parsed p = {0};
                if (xuan_chat_parse_output((xuan_chat_syntax)s, out.data ? out.data : "", out.len, &p, &err) == 0)
                    TRAP_IF(!p.content);
                xuan_chat_parsed_free(&p);
            }
        } else {
            TRAP_IF(err.msg[0] == 0 || strchr(err.msg, '\n') != NULL || out.len != 0);
        }
        xuan_buf_free(&out);
    }
    free(buf);
    return 0;
}
