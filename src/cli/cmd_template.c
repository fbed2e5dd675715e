/*
 * xuan template — prints exactly the text a model is given for a
 * conversation, rendered by the Jinja engine from the model's own
 * tokenizer.chat_template (or a template file), so it can be read and debugged.
 *
 *   xuan template (-m MODEL.gguf | --file F.jinja) --messages FILE.json
 *                 [--tools FILE.json] [--kwargs JSON] [--no-generation-prompt]
 *                 [--bos S] [--eos S]
 *
 * With -m, bos_token / eos_token are the vocabulary's texts (--bos/--eos
 * override them); with --file they default to "".  FILE "-" reads standard
 * input.  The text goes to standard output with nothing added (no newline).
 * strftime_now() uses $XUAN_JINJA_NOW (Unix seconds) when set.
 */
#include "cli.h"
#include "xuan/chat.h"
#include "xuan/gguf.h"
#include "xuan/tok.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: xuan template (-m MODEL.gguf | --file F.jinja) --messages FILE.json [options]\n"
               "  -m, --model FILE          render the GGUF's tokenizer.chat_template (bos/eos from its vocabulary)\n"
               "  --file F.jinja            render a template file instead\n"
               "  --messages FILE.json      the conversation: [{\"role\": ..., \"content\": ...}, ...] (- = stdin)\n"
               "  --tools FILE.json         tool definitions (a JSON array), passed as `tools`\n"
               "  --kwargs JSON             extra variables, e.g. '{\"enable_thinking\": false}'\n"
               "  --no-generation-prompt    add_generation_prompt = false (default true)\n"
               "  --bos S, --eos S          bos_token / eos_token (default: the model's, or \"\")\n"
               "prints the rendered text exactly; strftime_now() uses $XUAN_JINJA_NOW (Unix seconds) if set\n");
}

static char *tok_text_dup(const xuan_tok *t, int32_t id) {
    size_t n = 0;
    const char *s = id >= 0 ? xuan_tok_text(t, id, &n) : NULL;
    return s ? xuan_strndup(s, n) : NULL;
}

int cmd_template(int argc, char **argv) {
    enum { O_FILE = 1000, O_MESSAGES, O_TOOLS, O_KWARGS, O_NOGEN, O_BOS, O_EOS };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},     {"file", required_argument, 0, O_FILE},
        {"messages", required_argument, 0, O_MESSAGES}, {"tools", required_argument, 0, O_TOOLS},
        {"kwargs", required_argument, 0, O_KWARGS}, {"no-generation-prompt", no_argument, 0, O_NOGEN},
        {"bos", required_argument, 0, O_BOS},     {"eos", required_argument, 0, O_EOS},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0},
    };
    const char *model = NULL, *file = NULL, *messages = NULL, *tools = NULL, *kwargs = NULL;
    const char *bos = NULL, *eos = NULL;
    bool gen = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case O_FILE: file = optarg; break;
        case O_MESSAGES: messages = optarg; break;
        case O_TOOLS: tools = optarg; break;
        case O_KWARGS: kwargs = optarg; break;
        case O_NOGEN: gen = false; break;
        case O_BOS: bos = optarg; break;
        case O_EOS: eos = optarg; break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: usage(stderr); return XUAN_EXIT_USAGE;
        }
    }
    if (optind != argc) return cli_usage_error("template", "unexpected argument '%s'", argv[optind]);
    if (!model == !file) return cli_usage_error("template", "give exactly one of -m MODEL.gguf or --file F.jinja");
    if (!messages) return cli_usage_error("template", "--messages FILE.json is required");

    xuan_error err = {0};
    int rc = XUAN_EXIT_OK;
    char *msgs = NULL, *tools_text = NULL, *text = NULL, *bos_own = NULL, *eos_own = NULL;
    size_t n;
    xuan_chat_template *t = NULL;
    xuan_buf out = {0};
    if (cli_read_input(messages, (uint64_t)64 << 20, &msgs, &n, &err) ||
        (tools && cli_read_input(tools, (uint64_t)64 << 20, &tools_text, &n, &err))) {
        rc = cli_exit_for(&err) == XUAN_EXIT_USAGE ? cli_usage_error("template", "%s", err.msg) : cli_error("%s", err.msg);
        goto done;
    }
    if (model) {
        xuan_gguf *g = xuan_gguf_open(model, &err);
        if (!g) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        if (xuan_chat_template_from_gguf(g, &t, &err) != 0) {
            xuan_gguf_close(g);
            rc = cli_error("%s: %s", model, err.msg);
            goto done;
        }
        xuan_tok *tok = xuan_tok_from_gguf(g, &err);
        if (tok) {
            bos_own = tok_text_dup(tok, xuan_tok_bos(tok));
            eos_own = tok_text_dup(tok, xuan_tok_eos(tok));
            xuan_tok_free(tok);
        }
        xuan_gguf_close(g);
    } else {
        if (xuan_read_file(file, (uint64_t)8 << 20, &text, &n, &err) != 0) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        if (xuan_chat_template_parse(text, n, &t, &err) != 0) {
            rc = cli_error("%s: %s", file, err.msg);
            goto done;
        }
    }
    if (xuan_chat_template_check(t, &err) != 0) fprintf(stderr, "xuan template: warning: %s\n", err.msg);
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    o.add_generation_prompt = gen;
    o.tools_json = tools_text;
    o.kwargs_json = kwargs;
    o.bos_token = bos ? bos : bos_own;
    o.eos_token = eos ? eos : eos_own;
    if (xuan_chat_template_render(t, msgs, &o, &out, &err) != 0) {
        rc = cli_error("%s: %s", model ? model : file, err.msg);
        goto done;
    }
    if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) rc = cli_error("template: cannot write the output");
done:
    xuan_buf_free(&out);
    xuan_chat_template_free(t);
    xuan_free(msgs);
    xuan_free(tools_text);
    xuan_free(text);
    xuan_free(bos_own);
    xuan_free(eos_own);
    return rc;
}
