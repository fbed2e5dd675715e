/*
 * xuan run — one prompt in, a streamed continuation out.
 *
 *   xuan run -m MODEL -p "你好" [-n 128] [--temp 0.8 ...] [--json]
 *
 * The prompt goes through the model's chat template as a user message
 * (with -s as system message) unless --no-template; --ids a,b,c evaluates
 * exact token ids (tests compare logits with llama.cpp that way) and
 * --dump-logits F writes the logits after the prompt as raw f32.
 */
#include "engine_cli.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    printf("usage: xuan run -m MODEL (-p TEXT | -f FILE | --ids A,B,...) [options]\n"
           "  -n N                 tokens to generate (default 256; -1: until the context is full)\n"
           "  -c N, -t N, -b N     context length, threads, prompt batch\n"
           "  --temp T --top-k K --top-p P --min-p P --seed S\n"
           "  --repeat-penalty R --repeat-last-n N --presence-penalty P --frequency-penalty F\n"
           "  --cache-type T          K and V cache type: f16 (default), q8_0, q5_1, q5_0, q4_1,\n"
           "                          q4_0, iq4_nl; --cache-type-k / --cache-type-v set one\n"
           "  --template-file F    render prompts with this Jinja chat template\n"
           "  --template NAME | --no-template    a built-in renderer, or none (default: the\n"
           "                       model's tokenizer.chat_template through the Jinja engine)\n"
           "  -s, --system TEXT    system message   --stop STR   extra stop string\n"
           "  --ignore-eos         never end at an end-of-generation token (benchmarks)\n"
           "  --mlock              lock the weights in RAM (the page cache cannot evict them)\n"
           "  --no-mmap            read the weights into memory instead of mapping the file\n"
           "  --json               one JSON object with the text and timings\n"
           "  --ids LIST           exact prompt token ids (no template, no BOS)\n"
           "  --dump-logits FILE   write the logits after the prompt (f32)\n"
           "  -v                   show the rendered prompt and timings\n");
}

typedef struct out_ctx {
    bool json;
    xuan_buf text;
} out_ctx;

static int emit(void *user, const char *t, size_t n) {
    out_ctx *o = user;
    if (o->json) return xuan_buf_append(&o->text, t, n) ? 1 : 0;
    fwrite(t, 1, n, stdout);
    fflush(stdout);
    return 0;
}

static int ids_push(xuan_tok_ids *ids, int32_t v) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        int32_t *p = xuan_realloc(ids->ids, cap * sizeof *p);
        if (!p) return -1;
        ids->ids = p, ids->cap = cap;
    }
    ids->ids[ids->n++] = v;
    return 0;
}

static int parse_ids(const char *s, xuan_tok_ids *ids) {
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX || ids_push(ids, (int32_t)v)) return -1;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return 0;
}

enum { O_JSON = EO_LAST + 1, O_IDS, O_DUMP };

int cmd_run(int argc, char **argv) {
    engine_opts o;
    engine_opts_init(&o);
    const char *prompt = NULL, *file = NULL, *ids_arg = NULL, *dump = NULL;
    bool json = false;
    static const struct option opts[] = {ENGINE_LONG_OPTS,
                                         {"prompt", 1, 0, 'p'},
                                         {"file", 1, 0, 'f'},
                                         {"json", 0, 0, O_JSON},
                                         {"ids", 1, 0, O_IDS},
                                         {"dump-logits", 1, 0, O_DUMP},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ENGINE_SHORT_OPTS "p:f:h", opts, NULL)) != -1) {
        int r = engine_flag("run", &o, c, optarg);
        if (r < 0) return XUAN_EXIT_USAGE;
        if (r > 0) continue;
        switch (c) {
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case O_JSON: json = true; break;
        case O_IDS: ids_arg = optarg; break;
        case O_DUMP: dump = optarg; break;
        case 'h': usage(); return XUAN_EXIT_OK;
        default: return cli_usage_error("run", "unknown option, or an option with a bad argument");
        }
    }
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (!!prompt + !!file + !!ids_arg != 1)
        return cli_usage_error("run", "give exactly one of -p TEXT, -f FILE or --ids LIST");
    if (o.n_predict == -2) o.n_predict = 256;

    xuan_tok_ids ids = {0};
    if (ids_arg && (parse_ids(ids_arg, &ids) || ids.n == 0)) {
        xuan_tok_ids_free(&ids);
        return cli_usage_error("run", "--ids: expected a comma-separated list of token ids");
    }
    char *file_text = NULL;
    xuan_error err = {0};
    if (file) {
        size_t len;
        if (xuan_read_file(file, 64u << 20, &file_text, &len, &err)) {
            xuan_tok_ids_free(&ids);
            return cli_error("%s", err.msg);
        }
        prompt = file_text;
    }
    if (ids_arg) o.no_template = true;

    engine e;
    int rc = engine_open("run", &o, &e);
    if (rc) {
        xuan_free(file_text);
        xuan_tok_ids_free(&ids);
        return rc;
    }
    if (!ids_arg) {
        xuan_chat_msg msgs[2];
        size_t n = 0;
        if (o.system) msgs[n++] = (xuan_chat_msg){"system", o.system};
        msgs[n++] = (xuan_chat_msg){"user", prompt};
        if (engine_prompt(&e, &o, msgs, n, &ids, &err)) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        /* An empty raw prompt still needs one token to start from. */
        if (ids.n == 0) {
            int32_t start = xuan_tok_bos(e.tok) >= 0 ? xuan_tok_bos(e.tok) : xuan_tok_eos(e.tok);
            if (start < 0) {
                rc = cli_error("the prompt is empty and the vocabulary has no BOS token to start from");
                goto done;
            }
            if (ids_push(&ids, start)) {
                rc = cli_error("out of memory");
                goto done;
            }
        }
    }
    uint32_t n_ctx = xuan_ctx_n_ctx(e.ctx);
    if (ids.n >= n_ctx) {
        rc = cli_error("the prompt has %zu tokens but the context holds %u (it needs room for at least "
                       "one more); use a larger -c or a shorter prompt",
                       ids.n, n_ctx);
        goto done;
    }

    out_ctx oc = {.json = json};
    xuan_gen_params gp = xuan_gen_params_default();
    gp.n_predict = o.n_predict;
    gp.emit = emit;
    gp.emit_user = &oc;
    gp.interrupt = &engine_interrupt;
    /* -n -1: until the context is full, which bounds the ids too */
    gp.out_ids_cap = o.n_predict < 0 ? n_ctx : (size_t)o.n_predict;
    int32_t *out_ids = xuan_calloc(gp.out_ids_cap, sizeof *out_ids);
    gp.out_ids = out_ids;
    if (!out_ids) {
        rc = cli_error("out of memory");
        goto done;
    }
    xuan_gen_stats st;
    engine_interrupt = 0;
    engine_sigint_install();
    if (dump) {
        /* Evaluate the prompt alone first, so the dumped logits are exactly
         * those after the prompt; then the cache is emptied, so generation
         * evaluates the prompt in one batch as a run without --dump-logits
         * does (reusing the cache would evaluate its last token again alone,
         * in F16 a different summation order than a batch: the greedy tokens
         * would not be the ones that follow the dumped logits). */
        if (xuan_ctx_eval(e.ctx, ids.ids, ids.n, &err)) {
            rc = cli_error("%s", err.msg);
            xuan_free(out_ids);
            goto done;
        }
        size_t nv = xuan_model_hparams(e.model)->n_vocab;
        if (xuan_write_file_atomic(dump, xuan_ctx_logits(e.ctx), nv * sizeof(float), &err)) {
            rc = cli_error("%s", err.msg);
            xuan_free(out_ids);
            goto done;
        }
        xuan_ctx_truncate(e.ctx, 0);
    }
    if (xuan_generate(e.ctx, e.tok, e.smp, e.stop, ids.ids, ids.n, &gp, &st, &err)) {
        rc = cli_error("%s", err.msg);
        xuan_free(out_ids);
        xuan_buf_free(&oc.text);
        goto done;
    }
    if (json) {
        json_t *ja = json_array();
        for (uint32_t i = 0; i < st.n_gen; i++) json_array_append_new(ja, json_integer(out_ids[i]));
        json_t *j = json_pack("{s:s%, s:o, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:s, s:f, s:I, s:I, s:s}", "text",
                              oc.text.len ? oc.text.data : "", oc.text.len, "tokens", ja, "n_prompt",
                              (json_int_t)st.n_prompt, "n_prompt_eval", (json_int_t)st.n_prompt_eval,
                              "n_gen", (json_int_t)st.n_gen, "t_prompt_s", st.t_prompt_s, "t_gen_s",
                              st.t_gen_s, "prompt_tps",
                              st.t_prompt_s > 0 ? st.n_prompt_eval / st.t_prompt_s : 0.0, "gen_tps",
                              st.t_gen_s > 0 ? st.n_gen / st.t_gen_s : 0.0, "end",
                              xuan_gen_end_name(st.end), "t_load_s", e.t_load_s, "major_faults_prompt",
                              (json_int_t)st.major_faults_prompt, "major_faults_gen",
                              (json_int_t)st.major_faults_gen, "weights", engine_residency_name(e.model));
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (s) printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("\n");
        if (o.verbose || st.end == XUAN_GEN_END_INTERRUPT) engine_print_timings(&st);
    }
    xuan_buf_free(&oc.text);
    xuan_free(out_ids);
    if (st.end == XUAN_GEN_END_INTERRUPT) rc = 130;
done:
    signal(SIGINT, SIG_DFL);
    engine_close(&e);
    xuan_free(file_text);
    xuan_tok_ids_free(&ids);
    return rc;
}
