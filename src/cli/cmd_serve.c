/*
 * xuan serve — the OpenAI-compatible HTTP server (src/serve, docs/serve.md).
 *
 *   xuan serve -m MODEL [--host 127.0.0.1] [--port 8080] [-np SLOTS] [-c CTX] [--api-key KEY]
 *
 * The port is bound before the model loads, so /health answers 503 while
 * it does.  SIGTERM or SIGINT drains: new requests are refused, running
 * ones finish (up to --drain-timeout seconds), then the process exits 0.
 */
#include "engine_cli.h"
#include "xuan/serve.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    printf("usage: xuan serve -m MODEL [options]\n"
           "  --host ADDR          address to listen on (default 127.0.0.1, loopback only)\n"
           "  --port N             port (default 8080; 0 = any free port, printed at start)\n"
           "  -np N, --parallel N  slots: requests decoded together (default 1, at most 64)\n"
           "  -c N                 KV cache cells for all slots together (default 4096);\n"
           "                       each slot's context is N / slots\n"
           "  -t N, -b N           threads, tokens per forward pass\n"
           "  --api-key KEY        require 'Authorization: Bearer KEY' (all routes but /health);\n"
           "                       also read from $XUAN_API_KEY\n"
           "  --alias NAME         the model name /v1/models lists (default: the file name)\n"
           "  --queue N            requests waiting for a slot before 503 (default 64)\n"
           "  --max-body BYTES     request body limit (default 4M)\n"
           "  --max-conn N         open connections (default 256)\n"
           "  --idle-timeout S     close a connection silent for S seconds (default 60)\n"
           "  --timeout S          a generation longer than S seconds ends with an error (default 600)\n"
           "  --prefill-chunk N    prompt tokens per slot per step (default 256)\n"
           "  --drain-timeout S    on SIGTERM, wait this long for running requests (default 30)\n"
           "  --cache-type T, --cache-type-k T, --cache-type-v T, --template-file F, --template NAME,\n"
           "  --no-template, --mlock, --no-mmap   as for `xuan run`\n"
           "  -v                   log requests\n");
}

enum { O_HOST = EO_LAST + 1, O_PORT, O_NP, O_KEY, O_ALIAS, O_QUEUE, O_BODY, O_CONN, O_IDLE, O_TIMEOUT, O_CHUNK, O_DRAIN };

static int u32_arg(const char *flag, const char *v, int64_t lo, int64_t hi, uint32_t *out) {
    int64_t x;
    if (cli_int_arg("serve", flag, v, lo, hi, &x)) return -1;
    *out = (uint32_t)x;
    return 0;
}

/* File name without folder and .gguf: what /v1/models shows by default. */
static void model_alias(const char *model, char *out, size_t cap) {
    const char *b = strrchr(model, '/');
    b = b ? b + 1 : model;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".gguf") == 0) n -= 5;
    snprintf(out, cap, "%.*s", (int)n, b);
}

int cmd_serve(int argc, char **argv) {
    engine_opts o;
    engine_opts_init(&o);
    xuan_serve_params sp = xuan_serve_params_default();
    uint32_t drain_s = 30;
    const char *alias = NULL;
    static const struct option opts[] = {ENGINE_LONG_OPTS,
                                         {"host", 1, 0, O_HOST},
                                         {"port", 1, 0, O_PORT},
                                         {"parallel", 1, 0, O_NP},
                                         {"np", 1, 0, O_NP},
                                         {"api-key", 1, 0, O_KEY},
                                         {"alias", 1, 0, O_ALIAS},
                                         {"queue", 1, 0, O_QUEUE},
                                         {"max-body", 1, 0, O_BODY},
                                         {"max-conn", 1, 0, O_CONN},
                                         {"idle-timeout", 1, 0, O_IDLE},
                                         {"timeout", 1, 0, O_TIMEOUT},
                                         {"prefill-chunk", 1, 0, O_CHUNK},
                                         {"drain-timeout", 1, 0, O_DRAIN},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    /* getopt_long_only: -np reads as --np (llama-server's spelling) */
    while ((c = getopt_long_only(argc, argv, ENGINE_SHORT_OPTS "h", opts, NULL)) != -1) {
        int r = engine_flag("serve", &o, c, optarg);
        if (r < 0) return XUAN_EXIT_USAGE;
        if (r > 0) continue;
        int bad = 0;
        uint64_t bytes;
        switch (c) {
        case O_HOST: sp.host = optarg; break;
        case O_PORT: {
            uint32_t port;
            bad = u32_arg("--port", optarg, 0, 65535, &port);
            sp.port = (uint16_t)port;
            break;
        }
        case O_NP: bad = u32_arg("-np", optarg, 1, 64, &sp.n_slots); break;
        case O_KEY: sp.api_key = optarg; break;
        case O_ALIAS: alias = optarg; break;
        case O_QUEUE: bad = u32_arg("--queue", optarg, 0, 1 << 20, &sp.max_queue); break;
        case O_BODY:
            bad = cli_bytes_arg("serve", "--max-body", optarg, &bytes);
            sp.max_body = bytes;
            break;
        case O_CONN: bad = u32_arg("--max-conn", optarg, 1, 1 << 16, &sp.max_connections); break;
        case O_IDLE: bad = u32_arg("--idle-timeout", optarg, 1, 86400, &sp.idle_timeout_s); break;
        case O_TIMEOUT: bad = u32_arg("--timeout", optarg, 1, 86400 * 7, &sp.request_timeout_s); break;
        case O_CHUNK: bad = u32_arg("--prefill-chunk", optarg, 1, 1 << 16, &sp.prefill_chunk); break;
        case O_DRAIN: bad = u32_arg("--drain-timeout", optarg, 0, 86400, &drain_s); break;
        case 'h': usage(); return XUAN_EXIT_OK;
        default: return cli_usage_error("serve", "unknown option, or an option with a bad argument");
        }
        if (bad) return XUAN_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!o.model) return cli_usage_error("serve", "a model is required (-m FILE or NAME)");
    if (!sp.api_key && getenv("XUAN_API_KEY") && getenv("XUAN_API_KEY")[0]) sp.api_key = getenv("XUAN_API_KEY");
    if (sp.api_key && !sp.api_key[0]) return cli_usage_error("serve", "--api-key must not be empty");
    if (sp.api_key && strlen(sp.api_key) >= 500) return cli_usage_error("serve", "--api-key is longer than 500 bytes");
    if (o.cp.n_ctx == 0) o.cp.n_ctx = 4096;
    o.cp.n_seq_max = sp.n_slots;
    char name[256];
    model_alias(o.model, name, sizeof name);
    sp.model_id = alias ? alias : name;
    cli_verbosity(o.verbose, 0);

    /* SIGTERM/SIGINT/SIGPIPE blocked in every thread (the server's inherit
     * the mask); this thread takes the first two with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    xuan_error err = {0};
    xuan_serve *s = xuan_serve_start(&sp, &err);
    if (!s) return err.code == XUAN_ERR_USAGE ? cli_usage_error("serve", "%s", err.msg) : cli_error("%s", err.msg);
    fprintf(stderr, "xuan serve: listening on http://%s:%u (loading %s)\n", sp.host, xuan_serve_port(s), o.model);
    engine e;
    int rc = engine_open("serve", &o, &e);
    if (rc) {
        xuan_serve_free(s);
        return rc;
    }
    xuan_serve_model m = {.model = e.model, .ctx = e.ctx, .tok = e.tok, .jinja = e.jinja, .fmt = e.fmt,
                          .end_of_turn = e.fmt ? xuan_chat_end_of_turn(e.fmt) : NULL};
    /* the answer's syntax (reasoning, tool calls) from the template in use */
    xuan_str t;
    char *file_text = NULL;
    size_t file_len = 0;
    if (o.template_file && xuan_read_file(o.template_file, (uint64_t)8 << 20, &file_text, &file_len, &err) == 0)
        m.syntax = xuan_chat_syntax_detect(file_text, file_len);
    else if (!o.template_file && xuan_gguf_get_str(xuan_model_gguf(e.model), "tokenizer.chat_template", &t) == 0)
        m.syntax = xuan_chat_syntax_detect(t.p, (size_t)t.n);
    xuan_free(file_text);
    if (xuan_serve_attach(s, &m, &err)) {
        xuan_serve_free(s);
        engine_close(&e);
        return cli_usage_error("serve", "%s", err.msg);
    }
    fprintf(stderr, "xuan serve: ready: %s, %u slot(s) of %u tokens, template %s (output syntax %s), %.1f s to load\n",
            sp.model_id, sp.n_slots, xuan_ctx_n_ctx(e.ctx) / sp.n_slots, e.template_desc,
            xuan_chat_syntax_name(m.syntax), e.t_load_s);
    sigdelset(&set, SIGPIPE);
    siginfo_t si;
    int sig;
    while ((sig = sigwaitinfo(&set, &si)) < 0) continue; /* EINTR */
    fprintf(stderr, "xuan serve: %s from pid %d: draining (new requests are refused)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", (int)si.si_pid);
    int drc = xuan_serve_drain(s, drain_s);
    if (drc) fprintf(stderr, "xuan serve: requests still running after %u s are cancelled\n", drain_s);
    xuan_serve_free(s);
    engine_close(&e);
    fprintf(stderr, "xuan serve: stopped\n");
    return XUAN_EXIT_OK;
}
