/*
 * response_format.h — the response_format field of a request (request.c's
 * hook into response_format.c).
 */
#ifndef XUAN_SERVE_RESPONSE_FORMAT_H
#define XUAN_SERVE_RESPONSE_FORMAT_H

#include "xuan/serve.h"

#include <jansson.h>

/* Reads o's "response_format": {"type":"text"} (or none) leaves r->json
 * NULL; {"type":"json_object"} and {"type":"json_schema","json_schema":
 * {"name":..,"schema":{..},"strict":..}} compile the constraint into
 * r->json.  XUAN_ERR_USAGE with a message naming the problem (the schema
 * compiler's names the keyword and its JSON pointer), XUAN_ERR_NOMEM. */
int serve_response_format(json_t *o, xuan_serve_request *r, xuan_error *err);

#endif
