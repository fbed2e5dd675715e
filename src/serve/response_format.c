/*
 * response_format.c — response_format of /v1/chat/completions and
 * /v1/completions: "text", "json_object" (any JSON object; a "schema"
 * beside it, as llama.cpp's server takes, is honoured) and "json_schema"
 * (OpenAI's structured outputs).  The schema is compiled here, on the HTTP
 * thread, so a bad one is a 400 before the request is queued.
 */
#include "response_format.h"

#include <stdlib.h>
#include <string.h>

static int compile_schema(json_t *schema, xuan_serve_request *r, xuan_error *err) {
    if (!json_is_object(schema) && !json_is_boolean(schema))
        return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' json_schema.schema must be a JSON Schema object");
    char *text = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_error e = {0};
    r->json = xuan_json_schema_compile(text, strlen(text), &e);
    free(text);
    if (!r->json)
        return xuan_fail(err, e.code == XUAN_ERR_NOMEM ? XUAN_ERR_NOMEM : XUAN_ERR_USAGE, "'response_format': %s", e.msg);
    return 0;
}

int serve_response_format(json_t *o, xuan_serve_request *r, xuan_error *err) {
    json_t *rf = json_object_get(o, "response_format");
    if (!rf || json_is_null(rf)) return 0;
    json_t *type = json_object_get(rf, "type");
    if (!json_is_object(rf) || !json_is_string(type))
        return xuan_fail(err, XUAN_ERR_USAGE,
                         "'response_format' must be an object with a 'type': \"text\", \"json_object\" or \"json_schema\"");
    const char *t = json_string_value(type);
    if (strcmp(t, "text") == 0) return 0;
    if (strcmp(t, "json_object") == 0) {
        json_t *schema = json_object_get(rf, "schema");
        if (schema && !json_is_null(schema)) return compile_schema(schema, r, err);
        r->json = xuan_json_schema_compile(NULL, 0, err);
        return r->json ? 0 : XUAN_ERR_NOMEM;
    }
    if (strcmp(t, "json_schema") == 0) {
        json_t *js = json_object_get(rf, "json_schema");
        if (!json_is_object(js))
            return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' of type json_schema needs a 'json_schema' object");
        json_t *name = json_object_get(js, "name"), *strict = json_object_get(js, "strict");
        if (name && !json_is_string(name))
            return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' json_schema.name must be a string");
        if (strict && !json_is_null(strict) && !json_is_boolean(strict))
            return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' json_schema.strict must be true or false");
        json_t *schema = json_object_get(js, "schema");
        if (!schema) return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' json_schema needs a 'schema'");
        return compile_schema(schema, r, err);
    }
    return xuan_fail(err, XUAN_ERR_USAGE, "'response_format' type '%.40s' is not one of text, json_object, json_schema", t);
}
