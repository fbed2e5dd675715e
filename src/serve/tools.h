/* tools.h — tool calls (tools.c): the request's tools and tool_choice,
 * and the call syntax of each template family, for calls the server
 * forces or completes under the JSON grammar. */
#ifndef XUAN_SERVE_TOOLS_H
#define XUAN_SERVE_TOOLS_H

#include "xuan/serve.h"

#include <jansson.h>

/* Reads tools, tool_choice and parallel_tool_calls of a chat body into r.
 * XUAN_ERR_USAGE with *param the field's name, or XUAN_ERR_NOMEM. */
int serve_tools_parse(json_t *o, xuan_serve_request *r, const char **param, xuan_error *err);

/* How a family writes one call, for the server to write it: the call is
 *     open  NAME  args  ARGUMENTS  close
 * where NAME is a JSON string (quoted) unless name_bare, and open starts
 * with trigger, the text that opens a call when the model writes it (NULL:
 * the model's own calls are only parsed afterwards, not completed). */
typedef struct call_syntax {
    const char *trigger, *open, *args, *close;
    bool name_bare;
} call_syntax;

/* NULL for syntaxes without tool calls (plain). */
const call_syntax *serve_call_syntax(xuan_chat_syntax s);

#endif
