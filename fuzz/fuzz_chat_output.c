/*
 * libFuzzer target for the parser of a model's answer
 * (xuan_chat_parse_output, src/chat/output.c): byte 0 picks the syntax
 * (plain, hermes, llama3, mistral, harmony), the rest is the answer.  Every
 * input must parse (only XUAN_ERR_NOMEM may fail) into parts no longer than
 * the answer; tool_calls_json must be an array of n_tool_calls calls shaped
 * as OpenAI's (id, type "function", a non-empty name, arguments as text);
 * the same input must give the same parts again; and a plain answer without
 * think tags must come back byte for byte (the content is not trimmed).
 * Seeds: fuzz/corpus/chat_output.
 */
#include "xuan/chat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    xuan_chat_syntax syn = (xuan_chat_syntax)(data[0] % 5);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    xuan_chat_parsed p, q;
    xuan_error err = {0};
    int rc = xuan_chat_parse_output(syn, text, n, &p, &err);
    if (rc) {
        TRAP_IF(rc != XUAN_ERR_NOMEM || !err.msg[0] || strchr(err.msg, '\n'));
        return 0;
    }
    TRAP_IF(!p.content || strlen(p.content) > n);
    TRAP_IF(p.reasoning && strlen(p.reasoning) > n);
    TRAP_IF(!p.tool_calls_json != !p.n_tool_calls);
    if (p.tool_calls_json) {
        json_t *a = json_loads(p.tool_calls_json, 0, NULL);
        TRAP_IF(!json_is_array(a) || json_array_size(a) != p.n_tool_calls);
        size_t i;
        json_t *c;
        json_array_foreach(a, i, c) {
            json_t *f = json_object_get(c, "function"), *name = json_object_get(f, "name");
            TRAP_IF(!json_is_string(json_object_get(c, "id")));
            TRAP_IF(!json_is_string(json_object_get(c, "type")) ||
                    strcmp(json_string_value(json_object_get(c, "type")), "function") != 0);
            TRAP_IF(!json_is_string(name) || json_string_length(name) == 0);
            TRAP_IF(!json_is_string(json_object_get(f, "arguments")));
        }
        json_decref(a);
    }
    TRAP_IF(xuan_chat_parse_output(syn, text, n, &q, &err) != 0);
    TRAP_IF(!same(p.content, q.content) || !same(p.reasoning, q.reasoning) ||
            !same(p.tool_calls_json, q.tool_calls_json) || p.n_tool_calls != q.n_tool_calls);
    /* no think block (and no NUL, which would end the content early): the answer as written */
    if (syn == XUAN_CHAT_SYNTAX_PLAIN && !memmem(text, n, "</think>", 8) && !memmem(text, n, "<think>", 7) &&
        !memchr(text, 0, n))
        TRAP_IF(strlen(p.content) != n || memcmp(p.content, text, n) != 0);
    xuan_chat_parsed_free(&q);
    xuan_chat_parsed_free(&p);
    return 0;
}
