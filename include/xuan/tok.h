/*
 * xuan/tok.h — tokenizers: text to token ids and back, exactly as the
 * model's own (Hugging Face) tokenizer does it.
 *
 *     xuan_error err = {0};
 *     xuan_gguf *g = xuan_gguf_open("qwen2.5-7b-instruct-q4_k_m.gguf", &err);
 *     xuan_tok *tok = g ? xuan_tok_from_gguf(g, &err) : NULL;
 *     if (!tok) { fprintf(stderr, "xuan: %s\n", err.msg); return 1; }
 *     xuan_gguf_close(g);                       // the tokenizer keeps its own copy
 *
 *     xuan_tok_ids ids = {0};
 *     if (xuan_tok_encode(tok, "你好，世界", 15, XUAN_TOK_ADD_SPECIAL, &ids, &err) != 0) ...
 *     for (size_t i = 0; i < ids.n; i++) printf("%d ", ids.ids[i]);
 *
 *     xuan_tok_stream st;                       // streaming detokenizer
 *     xuan_tok_stream_init(&st, tok, 0);
 *     xuan_buf out = {0};
 *     for (size_t i = 0; i < ids.n; i++) xuan_tok_stream_push(&st, ids.ids[i], &out);
 *     xuan_tok_stream_flush(&st, &out);         // out.data == "你好，世界"
 *     xuan_buf_free(&out);
 *     xuan_tok_ids_free(&ids);
 *     xuan_tok_free(tok);
 *
 * Two kinds of vocabulary (tokenizer.ggml.model in GGUF):
 *   "gpt2"  byte-level BPE: the text is split by the pre-tokenizer of the
 *           family (tokenizer.ggml.pre: qwen2, llama-bpe, deepseek-llm, ...),
 *           each piece is merged by merge rank.  Qwen2 text is NFC-normalized
 *           first, as its HF tokenizer does.
 *   "llama" SentencePiece: spaces become U+2581, a space is prepended (the
 *           "dummy prefix"), pieces merge by score, and characters without a
 *           token fall back to <0xNN> byte tokens.
 *
 * Special tokens (<|im_start|>, <|eot_id|>, ...) are recognized in the text
 * only with XUAN_TOK_PARSE_SPECIAL, as llama.cpp does; otherwise their text
 * is tokenized like any other.  User-defined added tokens are always matched
 * (HF and llama.cpp agree on that).
 *
 * Invalid UTF-8 never fails: each bad byte becomes U+FFFD before splitting
 * (byte-level BPE, as llama.cpp) or a <0xNN> byte token (SentencePiece).
 *
 * A xuan_tok is immutable after creation: encode/decode may run from many
 * threads at once.  docs/tokenizers.md lists where xuan and llama.cpp differ.
 */
#ifndef XUAN_TOK_H
#define XUAN_TOK_H

#include "xuan/base.h"
#include "xuan/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xuan_tok xuan_tok;

typedef enum xuan_tok_kind {
    XUAN_TOK_BPE = 1, /* "gpt2": byte-level BPE */
    XUAN_TOK_SPM = 2, /* "llama": SentencePiece */
} xuan_tok_kind;

/* tokenizer.ggml.token_type values (llama.cpp's numbering). */
typedef enum xuan_tok_type {
    XUAN_TOK_TYPE_NORMAL = 1,
    XUAN_TOK_TYPE_UNKNOWN = 2,
    XUAN_TOK_TYPE_CONTROL = 3,
    XUAN_TOK_TYPE_USER_DEFINED = 4,
    XUAN_TOK_TYPE_UNUSED = 5,
    XUAN_TOK_TYPE_BYTE = 6,
} xuan_tok_type;

/* ---- building a tokenizer -------------------------------------------------- */

/* Everything a tokenizer is made from.  xuan_tok_from_gguf fills one from
 * GGUF keys; tests fill one by hand.  All arrays are copied. */
typedef struct xuan_tok_desc {
    xuan_tok_kind kind;
    const char *pre;          /* pre-tokenizer name ("qwen2", ...); NULL = "default" */
    uint32_t n_tokens;
    const xuan_str *tokens;   /* token texts, as stored in GGUF */
    const float *scores;      /* SPM merge scores; may be NULL for BPE */
    const uint8_t *types;     /* xuan_tok_type per token; NULL = all NORMAL */
    uint64_t n_merges;
    const xuan_str *merges;   /* BPE: "left right", in rank order */
    int32_t bos, eos, eot, eom, pad, unk; /* -1 when absent */
    int add_bos, add_eos;     /* -1 = the kind's default (SPM: bos yes; BPE: no) */
    int add_space_prefix;     /* SPM dummy prefix; -1 = default (yes) */
} xuan_tok_desc;

/* Creates a tokenizer.  Errors (XUAN_ERR_FORMAT / UNSUPPORTED) name the
 * problem: an unknown pre-tokenizer name, a merge naming a missing token, a
 * special id out of range.  Returns NULL with err set. */
xuan_tok *xuan_tok_new(const xuan_tok_desc *desc, xuan_error *err);

/* Reads tokenizer.ggml.* from a GGUF: model, pre, tokens, scores,
 * token_type, merges, bos/eos/eot/eom/padding/unknown_token_id,
 * add_bos_token, add_eos_token, add_space_prefix.  The result does not
 * point into the file: the xuan_gguf may be closed afterwards.
 * An unknown tokenizer.ggml.pre is an error naming it (set
 * XUAN_TOK_PRE=default to force the GPT-2 splitter, with a warning). */
xuan_tok *xuan_tok_from_gguf(const xuan_gguf *g, xuan_error *err);
void xuan_tok_free(xuan_tok *t);

/* ---- encoding ------------------------------------------------------------------ */

typedef struct xuan_tok_ids {
    int32_t *ids;
    size_t n, cap;
} xuan_tok_ids;
void xuan_tok_ids_free(xuan_tok_ids *v);

enum {
    XUAN_TOK_ADD_SPECIAL = 1,   /* add BOS/EOS as the vocabulary asks */
    XUAN_TOK_PARSE_SPECIAL = 2, /* match control-token text (<|im_start|>) */
};

/* Tokenizes text[0..len) and APPENDS the ids to *out (so that a prompt can
 * be built piece by piece; reset out->n to start over).  Fails only when
 * memory runs out (XUAN_ERR_NOMEM); then *out holds what it held before. */
int xuan_tok_encode(const xuan_tok *t, const char *text, size_t len, uint32_t flags,
                    xuan_tok_ids *out, xuan_error *err);

/* ---- decoding -------------------------------------------------------------------- */

enum {
    XUAN_TOK_DECODE_SPECIAL = 1, /* render control tokens as their text */
};

/* The bytes a token stands for (byte-level mapping undone, U+2581 turned
 * back into a space, <0xNN> into its byte).  Control and unknown tokens
 * give "" unless `special`.  Returns the length; writes at most cap bytes
 * (no NUL).  An id out of range gives 0. */
size_t xuan_tok_piece(const xuan_tok *t, int32_t id, bool special, char *buf, size_t cap);

/* Appends the text of ids[0..n) to out.  For SentencePiece the dummy-prefix
 * space of the first token is removed, so decode(encode(x)) == x.  Bytes
 * that do not form valid UTF-8 are passed through as they are.  (One
 * exception to the round trip, SentencePiece's own: a literal U+2581 in the
 * text reads back as a space.) */
int xuan_tok_decode(const xuan_tok *t, const int32_t *ids, size_t n, uint32_t flags,
                    xuan_buf *out);

/* Streaming detokenizer for generation: push ids one at a time; only whole
 * UTF-8 characters are appended to out, so a Chinese character spread over
 * two byte tokens prints once, whole.  flush() emits what is left (an
 * incomplete sequence as U+FFFD). */
typedef struct xuan_tok_stream {
    const xuan_tok *tok;
    uint32_t flags;
    bool started;
    uint8_t pend[8];
    int n_pend;
} xuan_tok_stream;
void xuan_tok_stream_init(xuan_tok_stream *s, const xuan_tok *t, uint32_t flags);
int xuan_tok_stream_push(xuan_tok_stream *s, int32_t id, xuan_buf *out);
int xuan_tok_stream_flush(xuan_tok_stream *s, xuan_buf *out);

/* ---- facts ------------------------------------------------------------------------ */

xuan_tok_kind xuan_tok_get_kind(const xuan_tok *t);
const char *xuan_tok_pre_name(const xuan_tok *t); /* as given, or "default" */
uint32_t xuan_tok_n_vocab(const xuan_tok *t);
/* The token's text as stored (not decoded); NULL if out of range. */
const char *xuan_tok_text(const xuan_tok *t, int32_t id, size_t *len);
xuan_tok_type xuan_tok_get_type(const xuan_tok *t, int32_t id);
/* Finds a token by its stored text; -1 if absent. */
int32_t xuan_tok_find(const xuan_tok *t, const char *text, size_t len);
int32_t xuan_tok_bos(const xuan_tok *t); /* -1 when the vocabulary has none */
int32_t xuan_tok_eos(const xuan_tok *t);
int32_t xuan_tok_eot(const xuan_tok *t);
int32_t xuan_tok_pad(const xuan_tok *t);
int32_t xuan_tok_unk(const xuan_tok *t);
bool xuan_tok_add_bos(const xuan_tok *t);
bool xuan_tok_add_eos(const xuan_tok *t);
/* End of generation: eos, eot, eom, and control tokens named like
 * <|im_end|>, <|end|>, <|endoftext|>, <|eot_id|>, <|eom_id|>, </s>. */
bool xuan_tok_is_eog(const xuan_tok *t, int32_t id);
/* All of those ids (*n of them; the array lives as long as t). */
const int32_t *xuan_tok_eog_ids(const xuan_tok *t, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_TOK_H */
