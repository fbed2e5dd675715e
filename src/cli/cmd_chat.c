/*
 * xuan chat — interactive multi-turn chat with line editing and history
 * (libedit).  Each turn re-renders the whole conversation through the chat
 * template; the engine reuses the KV cache for the shared prefix, so only
 * the new turn is computed.
 *
 * Commands: /system TEXT (set the system message and restart), /reset,
 * /save FILE (the conversation as JSON), /quit.  Ctrl-C during a reply
 * stops the reply; at the prompt it leaves (as a shell does with Ctrl-D).
 */
#include "engine_cli.h"

#include <editline/readline.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct convo {
    xuan_chat_msg *msgs;
    size_t n, cap;
} convo;

static int convo_add(convo *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        xuan_chat_msg *p = xuan_realloc(c->msgs, cap * sizeof *p);
        if (!p) return -1;
        c->msgs = p, c->cap = cap;
    }
    char *r = xuan_strdup(role), *t = xuan_strdup(content);
    if (!r || !t) {
        xuan_free(r);
        xuan_free(t);
        return -1;
    }
    c->msgs[c->n++] = (xuan_chat_msg){r, t};
    return 0;
}

static void convo_clear(convo *c, bool keep_system) {
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (keep_system && i == 0 && strcmp(c->msgs[0].role, "system") == 0) {
            k = 1;
            continue;
        }
        xuan_free((char *)c->msgs[i].role);
        xuan_free((char *)c->msgs[i].content);
    }
    c->n = k;
}

static int save(const convo *c, const char *path, xuan_error *err) {
    json_t *a = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "role", c->msgs[i].role, "content", c->msgs[i].content));
    char *s = json_dumps(a, JSON_INDENT(2));
    json_decref(a);
    if (!s) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int rc = xuan_write_file_atomic(path, s, strlen(s), err);
    free(s);
    return rc;
}

static int emit(void *user, const char *t, size_t n) {
    xuan_buf *reply = user;
    fwrite(t, 1, n, stdout);
    fflush(stdout);
    return xuan_buf_append(reply, t, n) ? 1 : 0;
}

int cmd_chat(int argc, char **argv) {
    engine_opts o;
    engine_opts_init(&o);
    static const struct option opts[] = {ENGINE_LONG_OPTS, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ENGINE_SHORT_OPTS "h", opts, NULL)) != -1) {
        int r = engine_flag("chat", &o, c, optarg);
        if (r < 0) return XUAN_EXIT_USAGE;
        if (r > 0) continue;
        if (c == 'h') {
            printf("usage: xuan chat -m MODEL [-s SYSTEM] [-n N] [-c N] [-t N] [--temp T ...]\n"
                   "  --template-file F (a Jinja chat template), --template NAME (a built-in renderer)\n"
                   "  --mlock (lock the weights in RAM), --no-mmap (read them into memory)\n"
                   "  in the chat: /system TEXT, /reset, /save FILE, /quit\n");
            return XUAN_EXIT_OK;
        }
        return cli_usage_error("chat", "unknown option, or an option with a bad argument");
    }
    if (optind < argc) return cli_usage_error("chat", "unexpected argument '%s'", argv[optind]);
    if (o.n_predict == -2) o.n_predict = -1; /* until the model ends its turn */
    engine e;
    int rc = engine_open("chat", &o, &e);
    if (rc) return rc;
    if (!e.fmt && !e.jinja)
        fprintf(stderr, "xuan chat: no chat template found; turns are joined raw (use --template-file F or --template NAME)\n");
    convo cv = {0};
    if (o.system && convo_add(&cv, "system", o.system)) {
        engine_close(&e);
        return cli_error("out of memory");
    }
    fprintf(stderr, "xuan chat — %s. /system TEXT, /reset, /save FILE, /quit; Ctrl-C stops a reply.\n",
            e.jinja ? e.template_desc : e.fmt ? xuan_chat_format_name(e.fmt) : "raw");
    xuan_tok_ids ids = {0};
    xuan_buf reply = {0};
    xuan_error err = {0};
    char *line;
    while ((line = readline("> ")) != NULL) {
        if (!line[0]) {
            free(line);
            continue;
        }
        add_history(line);
        if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) {
            free(line);
            break;
        }
        if (strcmp(line, "/reset") == 0) {
            convo_clear(&cv, true);
            xuan_ctx_truncate(e.ctx, 0);
            fprintf(stderr, "(conversation cleared)\n");
        } else if (strncmp(line, "/system ", 8) == 0) {
            convo_clear(&cv, false);
            if (convo_add(&cv, "system", line + 8)) fprintf(stderr, "xuan: out of memory\n");
            xuan_ctx_truncate(e.ctx, 0);
            fprintf(stderr, "(system message set, conversation cleared)\n");
        } else if (strncmp(line, "/save ", 6) == 0) {
            if (save(&cv, line + 6, &err)) fprintf(stderr, "xuan: %s\n", err.msg);
            else fprintf(stderr, "(saved %zu messages to %s)\n", cv.n, line + 6);
        } else if (line[0] == '/') {
            fprintf(stderr, "unknown command %s (/system TEXT, /reset, /save FILE, /quit)\n", line);
        } else if (convo_add(&cv, "user", line) == 0) {
            ids.n = 0;
            if (engine_prompt(&e, &o, cv.msgs, cv.n, &ids, &err)) {
                fprintf(stderr, "xuan: %s\n", err.msg);
                convo_clear(&cv, true);
            } else {
                xuan_gen_params gp = xuan_gen_params_default();
                gp.n_predict = o.n_predict;
                gp.emit = emit;
                gp.emit_user = &reply;
                gp.interrupt = &engine_interrupt;
                xuan_gen_stats st;
                xuan_buf_reset(&reply);
                xuan_sampler_reset(e.smp);
                engine_interrupt = 0;
                engine_sigint_install();
                int gr = xuan_generate(e.ctx, e.tok, e.smp, e.stop, ids.ids, ids.n, &gp, &st, &err);
                signal(SIGINT, SIG_DFL);
                engine_interrupt = 0;
                printf("\n");
                if (gr) {
                    fprintf(stderr, "xuan: %s\n", err.msg);
                    if (gr == XUAN_ERR_USAGE) { /* context full: start over */
                        convo_clear(&cv, true);
                        xuan_ctx_truncate(e.ctx, 0);
                        fprintf(stderr, "(the conversation no longer fits the context; cleared)\n");
                    }
                } else {
                    engine_print_timings(&st);
                    if (convo_add(&cv, "assistant", reply.len ? reply.data : "")) fprintf(stderr, "xuan: out of memory\n");
                }
            }
        }
        free(line);
    }
    convo_clear(&cv, false);
    xuan_free(cv.msgs);
    xuan_buf_free(&reply);
    xuan_tok_ids_free(&ids);
    engine_close(&e);
    return XUAN_EXIT_OK;
}
