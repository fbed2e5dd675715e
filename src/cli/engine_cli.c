/*
 * engine_cli.c — shared by run, chat and bench (see engine_cli.h).
 */
#include "engine_cli.h"
#include "xuan/pick.h"
#include "xuan/quant.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void engine_opts_init(engine_opts *o) {
    memset(o, 0, sizeof *o);
    o->cp = xuan_ctx_params_default();
    o->cp.n_threads = 0;
    o->sp = xuan_sampler_params_default();
    o->n_predict = -2; /* "not given": each verb picks its default */
}

static int f32_arg(const char *verb, const char *flag, const char *v, double lo, double hi, float *out) {
    double d;
    if (cli_double_arg(verb, flag, v, lo, hi, &d)) return -1;
    *out = (float)d;
    return 1;
}

int engine_cache_type(const char *verb, const char *flag, const char *arg, uint32_t *out) {
    xuan_type t;
    const xuan_quant_traits *q = xuan_type_from_name(arg, &t) == 0 ? xuan_quant_traits_of(t) : NULL;
    if (!q || !q->kv) {
        cli_usage_error(verb, "%s '%s' is not a cache type (%s)", flag, arg, xuan_quant_kv_names());
        return -1;
    }
    *out = t;
    return 0;
}

int engine_flag(const char *verb, engine_opts *o, int opt, const char *arg) {
    int64_t v;
    switch (opt) {
    case 'm': o->model = arg; return 1;
    case 'n':
        /* -1 as llama.cpp: until the context is full (or an end token) */
        if (strcmp(arg, "-1") == 0) v = -1;
        else if (cli_int_arg(verb, "-n", arg, 1, 1 << 24, &v)) return -1;
        o->n_predict = (int32_t)v;
        return 1;
    case 'c':
        if (cli_int_arg(verb, "-c", arg, 1, 1 << 24, &v)) return -1;
        o->cp.n_ctx = (uint32_t)v;
        return 1;
    case 't':
        if (cli_int_arg(verb, "-t", arg, 1, 1024, &v)) return -1;
        o->cp.n_threads = (int)v;
        return 1;
    case 'b':
        if (cli_int_arg(verb, "-b", arg, 1, 1 << 16, &v)) return -1;
        o->cp.n_batch = (uint32_t)v;
        return 1;
    case 's': o->system = arg; return 1;
    case EO_IGNORE_EOS: o->ignore_eos = true; return 1;
    case EO_MLOCK: o->map_flags |= XUAN_MAP_LOCK; return 1;
    case EO_NO_MMAP: o->map_flags |= XUAN_MAP_READ; return 1;
    case 'v': o->verbose++; return 1;
    case EO_TEMP: return f32_arg(verb, "--temp", arg, 0, 100, &o->sp.temperature);
    case EO_TOPK:
        if (cli_int_arg(verb, "--top-k", arg, 0, INT32_MAX, &v)) return -1;
        o->sp.top_k = (int32_t)v;
        return 1;
    case EO_TOPP: return f32_arg(verb, "--top-p", arg, 1e-9, 1, &o->sp.top_p);
    case EO_MINP: return f32_arg(verb, "--min-p", arg, 0, 1, &o->sp.min_p);
    case EO_REPEAT: return f32_arg(verb, "--repeat-penalty", arg, 1e-6, 100, &o->sp.repeat_penalty);
    case EO_REPEAT_N:
        if (cli_int_arg(verb, "--repeat-last-n", arg, 0, 1 << 24, &v)) return -1;
        o->sp.penalty_last_n = (int32_t)v;
        return 1;
    case EO_PRESENCE: return f32_arg(verb, "--presence-penalty", arg, -100, 100, &o->sp.presence_penalty);
    case EO_FREQUENCY:
        return f32_arg(verb, "--frequency-penalty", arg, -100, 100, &o->sp.frequency_penalty);
    case EO_SEED:
        if (cli_int_arg(verb, "--seed", arg, 0, INT64_MAX, &v)) return -1;
        o->sp.seed = (uint64_t)v;
        return 1;
    case EO_CACHE: /* both */
        if (engine_cache_type(verb, "--cache-type", arg, &o->cp.type_k)) return -1;
        o->cp.type_v = o->cp.type_k;
        return 1;
    case EO_CACHE_K: return engine_cache_type(verb, "--cache-type-k", arg, &o->cp.type_k) ? -1 : 1;
    case EO_CACHE_V: return engine_cache_type(verb, "--cache-type-v", arg, &o->cp.type_v) ? -1 : 1;
    case EO_TEMPLATE: o->template_name = arg; return 1;
    case EO_TEMPLATE_FILE: o->template_file = arg; return 1;
    case EO_NO_TEMPLATE: o->no_template = true; return 1;
    case EO_STOP:
        if (!arg[0]) {
            cli_usage_error(verb, "--stop needs a non-empty string");
            return -1;
        }
        if (o->n_stops >= sizeof o->stops / sizeof o->stops[0]) {
            cli_usage_error(verb, "at most %zu --stop strings", sizeof o->stops / sizeof o->stops[0]);
            return -1;
        }
        o->stops[o->n_stops++] = arg;
        return 1;
    default: return 0;
    }
}

/* MODEL is a file path, a file in the models folder (with or without
 * .gguf), or a catalog name "ID[:QUANT]" (QUANT default Q4_K_M) that
 * `xuan pull` downloads to <models dir>/<published file name>. */
int engine_resolve_model(const char *name, char *out, size_t cap) {
    if (xuan_file_exists(name) || strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return 0;
    }
    char dir[1024];
    xuan_models_dir(dir, sizeof dir);
    const char *fmts[] = {"%s/%s", "%s/%s.gguf"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, cap, fmts[i], dir, name);
        if (xuan_file_exists(out)) return 0;
    }
    xuan_catalog cat;
    xuan_error err = {0};
    if (xuan_catalog_load(&cat, NULL, &err) != 0) {
        cli_error("model '%s' is neither a file nor in the models folder %s, and the catalog could not be "
                  "read: %s", name, dir, err.msg);
        return -1;
    }
    int rc = xuan_pick_resolve(&cat, name, out, cap, &err);
    xuan_catalog_free(&cat);
    if (rc != 0) {
        /* err names the unknown model or quant (with "did you mean"). */
        cli_error("model '%s' is neither a file nor in the models folder %s: %s", name, dir, err.msg);
        return -1;
    }
    if (!xuan_file_exists(out)) {
        const char *colon = strchr(name, ':');
        cli_error("model '%s' is not downloaded (expected %s); get it with: xuan pull %s%s", name, out, name,
                  colon ? "" : ":Q4_K_M");
        return -1;
    }
    return 0;
}

const char *engine_residency_name(const xuan_model *m) {
    switch (xuan_gguf_residency(xuan_model_gguf(m))) {
    case XUAN_MAP_READ: return "read into memory";
    case XUAN_MAP_LOCK: return "mapped, locked";
    case XUAN_MAP_READ | XUAN_MAP_LOCK: return "read into memory, locked";
    default: return "mapped (page cache)";
    }
}

int engine_open(const char *verb, const engine_opts *o, engine *e) {
    memset(e, 0, sizeof *e);
    if (!o->model) return cli_usage_error(verb, "a model is required (-m FILE or NAME)");
    xuan_chat_format fmt_override = XUAN_CHAT_UNKNOWN;
    xuan_error err = {0};
    if (o->template_name && xuan_chat_format_from_name(o->template_name, &fmt_override, &err))
        return cli_usage_error(verb, "%s", err.msg);
    char path[2048];
    if (engine_resolve_model(o->model, path, sizeof path)) return XUAN_EXIT_RUNTIME;
    double t0 = xuan_time_s();
    e->model = xuan_model_load_ex(path, o->map_flags, &err);
    if (!e->model) return cli_error("%s", err.msg);
    const xuan_gguf *g = xuan_model_gguf(e->model);
    e->tok = xuan_tok_from_gguf(g, &err);
    if (!e->tok) {
        engine_close(e);
        return cli_error("%s: tokenizer: %s", path, err.msg);
    }
    e->ctx = xuan_ctx_new(e->model, &o->cp, &err);
    if (!e->ctx) {
        engine_close(e);
        return cli_error("%s", err.msg);
    }
    e->smp = xuan_sampler_create((int32_t)xuan_model_hparams(e->model)->n_vocab, &o->sp, &err);
    if (!e->smp) {
        engine_close(e);
        return cli_usage_error(verb, "%s", err.msg);
    }
    if (o->ignore_eos) {
        size_t n_eog;
        const int32_t *eog = xuan_tok_eog_ids(e->tok, &n_eog);
        for (size_t i = 0; i < n_eog; i++) xuan_sampler_ban(e->smp, eog[i], true);
    }
    if (o->template_name && o->template_file) {
        engine_close(e);
        return cli_usage_error(verb, "--template NAME and --template-file F exclude each other");
    }
    /* The prompt format: --template-file F, else --template NAME (a built-in
     * renderer), else the model's own tokenizer.chat_template through the
     * Jinja engine; a model template that does not parse falls back to the
     * built-in renderer of its family, if any, with a warning. */
    e->template_desc = "raw";
    if (!o->no_template && o->template_file) {
        char *text = NULL;
        size_t len = 0;
        if (xuan_read_file(o->template_file, (uint64_t)8 << 20, &text, &len, &err) ||
            xuan_chat_template_parse(text, len, &e->jinja, &err)) {
            xuan_free(text);
            engine_close(e);
            return cli_usage_error(verb, "--template-file %s: %s", o->template_file, err.msg);
        }
        e->fmt = xuan_chat_detect(text, len);
        xuan_free(text);
        e->template_desc = "jinja (--template-file)";
    } else if (!o->no_template && fmt_override) {
        e->fmt = fmt_override;
        e->template_desc = "built-in";
    } else if (!o->no_template) {
        e->fmt = xuan_chat_detect_gguf(g);
        int trc = xuan_chat_template_from_gguf(g, &e->jinja, &err);
        if (trc == 0) {
            e->template_desc = "jinja (model)";
        } else if (trc != XUAN_ERR_NOTFOUND) {
            fprintf(stderr, "xuan %s: warning: %s; %s\n", verb, err.msg,
                    e->fmt ? "using the built-in renderer of its family" : "turns are joined raw (use --template-file F)");
            e->template_desc = e->fmt ? "built-in" : "raw";
        } else {
            e->template_desc = e->fmt ? "built-in" : "raw";
        }
    }
    if (e->jinja && xuan_chat_template_check(e->jinja, &err) != 0 && o->verbose)
        fprintf(stderr, "xuan %s: note: %s\n", verb, err.msg);
    const char *stops[20];
    size_t n = 0;
    for (size_t i = 0; i < o->n_stops; i++) stops[n++] = o->stops[i];
    const char *eot = e->fmt ? xuan_chat_end_of_turn(e->fmt) : NULL;
    if (eot) stops[n++] = eot;
    e->stop = xuan_stop_create(stops, n, &err);
    if (!e->stop) {
        engine_close(e);
        return cli_usage_error(verb, "%s", err.msg);
    }
    e->t_load_s = xuan_time_s() - t0;
    return 0;
}

void engine_close(engine *e) {
    xuan_chat_template_free(e->jinja);
    xuan_stop_free(e->stop);
    xuan_sampler_free(e->smp);
    xuan_ctx_free(e->ctx);
    xuan_tok_free(e->tok);
    xuan_model_free(e->model);
    memset(e, 0, sizeof *e);
}

int engine_render(const engine *e, const engine_opts *o, const xuan_chat_msg *msgs, size_t n, xuan_buf *text,
                  xuan_error *err) {
    int rc = 0;
    char bos[128], eos[128];
    const char *bos_s = xuan_gen_token_str(e->tok, xuan_tok_bos(e->tok), bos, sizeof bos);
    if (e->jinja) {
        xuan_chat_template_opts to = xuan_chat_template_opts_default();
        to.bos_token = bos_s;
        to.eos_token = xuan_gen_token_str(e->tok, xuan_tok_eos(e->tok), eos, sizeof eos);
        rc = xuan_chat_template_render_msgs(e->jinja, msgs, n, &to, text, err);
    } else if (e->fmt) {
        xuan_chat_opts co = xuan_chat_opts_default();
        co.bos_token = bos_s;
        co.eos_token = xuan_gen_token_str(e->tok, xuan_tok_eos(e->tok), eos, sizeof eos);
        rc = xuan_chat_render(e->fmt, msgs, n, &co, text, err);
    } else {
        for (size_t i = 0; i < n && !rc; i++)
            rc = xuan_buf_puts(text, msgs[i].content) ? xuan_fail(err, XUAN_ERR_NOMEM, "out of memory") : 0;
    }
    if (!rc && o->verbose)
        fprintf(stderr, "---- prompt (%s) ----\n%s\n---- end of prompt ----\n",
                e->jinja ? e->template_desc : e->fmt ? xuan_chat_format_name(e->fmt) : "raw",
                text->len ? text->data : "");
    return rc;
}

int engine_tokenize(const engine *e, const char *text, size_t len, xuan_tok_ids *ids, xuan_error *err) {
    char bos[128];
    const char *bos_s = xuan_gen_token_str(e->tok, xuan_tok_bos(e->tok), bos, sizeof bos);
    return xuan_gen_encode_prompt(e->tok, text, len, bos_s, ids, err);
}

int engine_prompt(const engine *e, const engine_opts *o, const xuan_chat_msg *msgs, size_t n,
                  xuan_tok_ids *ids, xuan_error *err) {
    xuan_buf text = {0};
    int rc = engine_render(e, o, msgs, n, &text, err);
    if (!rc) rc = engine_tokenize(e, text.len ? text.data : "", text.len, ids, err);
    xuan_buf_free(&text);
    return rc;
}

volatile int engine_interrupt;

static void on_sigint(int sig) {
    (void)sig;
    /* A second Ctrl-C while the first is still unhandled: leave for real. */
    if (engine_interrupt) {
        static const char msg[] = "\n";
        ssize_t w = write(2, msg, 1);
        (void)w;
        _exit(130);
    }
    engine_interrupt = 1;
}

void engine_sigint_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns EINTR */
    sigaction(SIGINT, &sa, NULL);
}

void engine_print_timings(const xuan_gen_stats *st) {
    double pt = st->t_prompt_s > 0 ? st->n_prompt_eval / st->t_prompt_s : 0;
    double gt = st->t_gen_s > 0 ? st->n_gen / st->t_gen_s : 0;
    fprintf(stderr, "[prompt %u tok (%u new), %.1f tok/s | generated %u tok, %.1f tok/s | %s | major faults %llu + %llu]\n",
            st->n_prompt, st->n_prompt_eval, pt, st->n_gen, gt, xuan_gen_end_name(st->end),
            (unsigned long long)st->major_faults_prompt, (unsigned long long)st->major_faults_gen);
}
