/*
 * xuan tokenize — text to token ids with a model's own tokenizer.
 *
 *   xuan tokenize -m MODEL.gguf [--pieces] [--json] [--special] [--no-bos] TEXT|-
 *
 * Prints the ids on one line, separated by spaces.  --pieces prints one
 * token per line: id, tab, its text (escaped: \n, \t, \xNN for bytes that
 * are not printable UTF-8).  --json prints {"ids": [...], "pieces": [...],
 * "n": N}.  --special parses special-token text such as <|im_start|> into
 * its id (without it such text is ordinary text).  BOS/EOS are added as the
 * vocabulary asks unless --no-bos.  TEXT "-" reads standard input whole.
 */
#include "cli.h"
#include "xuan/gguf.h"
#include "xuan/tok.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: xuan tokenize -m MODEL.gguf [--pieces] [--json] [--special] [--no-bos] TEXT|-\n"
               "  -m, --model FILE  a GGUF file with a vocabulary (tokenizer.ggml.*)\n"
               "  --pieces          one token per line: id and its text\n"
               "  --json            {\"ids\": [...], \"pieces\": [...], \"n\": N}\n"
               "  --special         match special-token text (<|im_start|>) as its id\n"
               "  --no-bos          do not add BOS/EOS even if the vocabulary asks\n"
               "  TEXT or -         the text, or - for standard input\n");
}

/* Escapes a piece for one-line display. */
static void print_escaped(const char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)p[i];
        int l = c < 0x80 ? 1 : xuan_utf8_len((const uint8_t *)p + i, n - i);
        if (c == '\n') fputs("\\n", stdout), i++;
        else if (c == '\t') fputs("\\t", stdout), i++;
        else if (c == '\r') fputs("\\r", stdout), i++;
        else if (c == '\\') fputs("\\\\", stdout), i++;
        else if (c < 0x20 || c == 0x7f || l == 0) printf("\\x%02x", c), i++;
        else fwrite(p + i, 1, (size_t)l, stdout), i += (size_t)l;
    }
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"pieces", no_argument, 0, 'p'},
        {"json", no_argument, 0, 'j'},        {"special", no_argument, 0, 's'},
        {"no-bos", no_argument, 0, 'b'},      {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model = NULL;
    bool pieces = false, json = false, special = false, no_bos = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': pieces = true; break;
        case 'j': json = true; break;
        case 's': special = true; break;
        case 'b': no_bos = true; break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (!model) return cli_usage_error("tokenize", "-m MODEL is required");
    if (optind != argc - 1) return cli_usage_error("tokenize", "give exactly one TEXT (or - for standard input)");
    const char *arg = argv[optind];

    xuan_error err = {0};
    char *text = NULL;
    size_t len = 0;
    if (strcmp(arg, "-") == 0) {
        xuan_buf in = {0};
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            if (xuan_buf_append(&in, chunk, got)) return cli_error("tokenize: out of memory reading standard input");
        text = in.data;
        len = in.len;
    } else {
        text = xuan_strdup(arg);
        len = strlen(arg);
    }

    int rc = XUAN_EXIT_OK;
    xuan_gguf *g = xuan_gguf_open(model, &err);
    xuan_tok *tok = g ? xuan_tok_from_gguf(g, &err) : NULL;
    xuan_gguf_close(g);
    xuan_tok_ids ids = {0};
    if (!tok) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    uint32_t flags = (no_bos ? 0 : XUAN_TOK_ADD_SPECIAL) | (special ? XUAN_TOK_PARSE_SPECIAL : 0);
    if (xuan_tok_encode(tok, text ? text : "", len, flags, &ids, &err) != 0) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    if (json) {
        json_t *o = json_object(), *a = json_array(), *p = json_array();
        for (size_t i = 0; i < ids.n; i++) {
            json_array_append_new(a, json_integer(ids.ids[i]));
            size_t n;
            const char *s = xuan_tok_text(tok, ids.ids[i], &n);
            json_t *js = json_stringn(s, n); /* NULL if a token text is not UTF-8 */
            json_array_append_new(p, js ? js : json_string("\ufffd"));
        }
        json_object_set_new(o, "ids", a);
        json_object_set_new(o, "pieces", p);
        json_object_set_new(o, "n", json_integer((json_int_t)ids.n));
        char *out = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (out) puts(out);
        free(out);
        json_decref(o);
    } else if (pieces) {
        char buf[4096];
        for (size_t i = 0; i < ids.n; i++) {
            size_t n = xuan_tok_piece(tok, ids.ids[i], true, buf, sizeof buf);
            printf("%d\t", ids.ids[i]);
            print_escaped(buf, n < sizeof buf ? n : sizeof buf);
            putchar('\n');
        }
    } else {
        for (size_t i = 0; i < ids.n; i++) printf(i ? " %d" : "%d", ids.ids[i]);
        putchar('\n');
    }
done:
    xuan_tok_ids_free(&ids);
    xuan_tok_free(tok);
    xuan_free(text);
    return rc;
}
