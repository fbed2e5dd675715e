/*
 * libFuzzer target for the body of a generation request as `xuan serve`
 * reads it (xuan_serve_request_parse): any bytes must end in a validated
 * request whose fields are in range, or in a one-line error naming the
 * field, with nothing leaked.  The first byte picks the endpoint (even:
 * chat, odd: completions), the rest is the body.  Seeds:
 * fuzz/corpus/serve_request; the rendering of the messages that follows is
 * fuzz_request's.
 */
#include "xuan/serve.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    xuan_serve_kind kind = data[0] & 1 ? XUAN_SERVE_COMPLETION : XUAN_SERVE_CHAT;
    xuan_serve_request r;
    xuan_error err = {0};
    const char *param = NULL;
    int rc = xuan_serve_request_parse(kind, (const char *)data + 1, size - 1, &r, &param, &err);
    if (rc) {
        TRAP_IF(!err.msg[0] || strchr(err.msg, '\n'));
        TRAP_IF(rc != XUAN_ERR_FORMAT && rc != XUAN_ERR_USAGE && rc != XUAN_ERR_NOMEM);
        return 0;
    }
    TRAP_IF(r.n_stops > XUAN_SERVE_MAX_STOPS || r.n_bias > XUAN_SERVE_MAX_BIAS);
    TRAP_IF(r.top_logprobs < 0 || r.top_logprobs > XUAN_SERVE_MAX_TOP_LOGPROBS || r.max_tokens < -1);
    TRAP_IF(!(r.sp.temperature >= 0 && r.sp.temperature <= 2) || !(r.sp.top_p > 0 && r.sp.top_p <= 1));
    for (size_t i = 0; i < r.n_stops; i++) TRAP_IF(!r.stops[i] || !r.stops[i][0]);
    TRAP_IF(r.n < 1 || r.n > XUAN_SERVE_MAX_N || r.n_tools > XUAN_SERVE_MAX_TOOLS);
    /* tools: every one named and with a grammar for its arguments, the named one among them */
    for (size_t i = 0; i < r.n_tools; i++) TRAP_IF(!r.tools[i].name || !r.tools[i].name[0] || !r.tools[i].params);
    TRAP_IF(r.tool_choice == XUAN_SERVE_TOOLS_NAMED && r.tool_named >= r.n_tools);
    TRAP_IF((r.tool_choice == XUAN_SERVE_TOOLS_REQUIRED || r.tool_choice == XUAN_SERVE_TOOLS_NAMED) && !r.n_tools);
    TRAP_IF((r.n_tools > 1) != (r.tool_names != NULL));
    TRAP_IF((r.tool_choice != XUAN_SERVE_TOOLS_NONE) != (r.tools_json != NULL));
    if (kind == XUAN_SERVE_CHAT) {
        json_t *m = json_loads(r.messages_json, 0, NULL);
        TRAP_IF(!json_is_array(m) || json_array_size(m) == 0);
        json_decref(m);
    } else {
        TRAP_IF(!r.prompt && r.n_prompt_ids == 0);
    }
    xuan_serve_request_free(&r);
    return 0;
}
