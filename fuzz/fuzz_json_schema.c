/*
 * libFuzzer target for the JSON constraint (src/gen/json_grammar.c): the
 * input up to its first NUL byte is a JSON Schema, the rest a text fed to
 * the recogniser.  A schema must compile or fail with a one-line message of
 * a known kind; the text is fed byte by byte, each byte checked first with
 * xuan_json_can_feed, which must agree with xuan_json_feed; a refused byte
 * leaves the state as it was.  Seeds: fuzz/corpus/json_schema.
 */
#include "xuan/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); __builtin_trap(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t n_schema = nul ? (size_t)(nul - data) : size;
    xuan_error err = {0};
    /* an empty schema part stands for json_object */
    xuan_json_schema *g = xuan_json_schema_compile(n_schema ? (const char *)data : NULL, n_schema, &err);
    if (!g) {
        TRAP_IF(!err.msg[0] || strchr(err.msg, '\n'));
        TRAP_IF(err.code != XUAN_ERR_FORMAT && err.code != XUAN_ERR_USAGE && err.code != XUAN_ERR_NOMEM);
        return 0;
    }
    xuan_json_state *st = xuan_json_state_create(g, &err);
    if (st && nul) {
        const char *text = (const char *)nul + 1;
        size_t n = size - n_schema - 1;
        for (size_t i = 0; i < n; i++) {
            bool can = xuan_json_can_feed(st, text + i, 1);
            bool was_complete = xuan_json_complete(st);
            int fed = xuan_json_feed(st, text + i, 1);
            TRAP_IF(can != (fed == 1));
            if (!fed) TRAP_IF(xuan_json_complete(st) != was_complete);
            TRAP_IF(xuan_json_done(st) && !xuan_json_complete(st));
        }
    }
    xuan_json_state_free(st);
    xuan_json_schema_free(g);
    return 0;
}
