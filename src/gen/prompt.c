/*
 * prompt.c — the text a chat template rendered, turned into prompt ids as
 * every front end needs it (xuan run / chat through engine_cli, xuan serve).
 */
#include "xuan/gen.h"
#include "xuan/tok.h"

#include <string.h>

const char *xuan_gen_token_str(const xuan_tok *t, int32_t id, char *buf, size_t cap) {
    size_t n = 0;
    const char *s = id >= 0 ? xuan_tok_text(t, id, &n) : NULL;
    if (!s || cap == 0) return NULL;
    snprintf(buf, cap, "%.*s", (int)n, s);
    return buf;
}

int xuan_gen_encode_prompt(const xuan_tok *t, const char *text, size_t len, const char *bos,
                           xuan_tok_ids *ids, xuan_error *err) {
    uint32_t flags = XUAN_TOK_PARSE_SPECIAL | XUAN_TOK_ADD_SPECIAL;
    /* BOS as the vocabulary asks, unless the template wrote it already */
    if (bos && bos[0] && len >= strlen(bos) && memcmp(text, bos, strlen(bos)) == 0)
        flags &= ~(uint32_t)XUAN_TOK_ADD_SPECIAL;
    return xuan_tok_encode(t, len ? text : "", len, flags, ids, err);
}
