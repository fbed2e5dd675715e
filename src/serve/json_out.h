/* json_out.h — the JSON pieces of responses (json_out.c). */
#ifndef XUAN_SERVE_JSON_OUT_H
#define XUAN_SERVE_JSON_OUT_H

#include "internal.h"

#include <jansson.h>

json_t *serve_json_text(const char *s, size_t n);
json_t *serve_json_error(const char *message, const char *type, const char *param, const char *code);
json_t *serve_json_usage(job *const *jobs, uint32_t n);
json_t *serve_json_chat_lp(const xuan_tok *tok, const tok_lp *lp);
json_t *serve_json_chat_lps(const xuan_tok *tok, const tok_lp *lps, size_t n);
json_t *serve_json_cmpl_lps_new(void);
void serve_json_cmpl_lps_add(json_t *o, const xuan_tok *tok, const tok_lp *lps, size_t n, size_t *text_off,
                             int n_top);

#endif
