/*
 * xuan pull MODEL[:QUANT] — download a catalog model's GGUF into the models
 * folder ($XUAN_MODELS, default ~/.cache/xuan/models), resumable and verified.
 * The hub is Hugging Face by default; --endpoint / HF_ENDPOINT name a mirror
 * (e.g. https://hf-mirror.com) and --modelscope uses ModelScope, for users
 * where huggingface.co is slow or blocked.
 */
#include "cli.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan pull MODEL[:QUANT] [options]      (QUANT default Q4_K_M)\n"
            "  --endpoint URL   a Hugging Face mirror (also $XUAN_HF_ENDPOINT, $HF_ENDPOINT)\n"
            "  --modelscope     download from modelscope.cn instead\n"
            "  --repo OWNER/NAME --file NAME   override the catalog's GGUF repository / file\n"
            "  --url URL        download this exact URL (still named after --file or the catalog)\n"
            "  --sha256 HEX     expected checksum (default: the hub's, when it publishes one)\n"
            "  --dir DIR        models folder (default $XUAN_MODELS or ~/.cache/xuan/models)\n"
            "  --retries N      attempts after dropped connections (default 5)\n"
            "  -q, --quiet      no progress bar\n");
}

int cmd_pull(int argc, char **argv) {
    enum { O_ENDPOINT = 256, O_MS, O_REPO, O_FILE, O_URL, O_SHA, O_DIR, O_RETRIES, O_CATALOG };
    static const struct option opts[] = {
        {"endpoint", required_argument, 0, O_ENDPOINT}, {"modelscope", no_argument, 0, O_MS},
        {"repo", required_argument, 0, O_REPO}, {"file", required_argument, 0, O_FILE},
        {"url", required_argument, 0, O_URL}, {"sha256", required_argument, 0, O_SHA},
        {"dir", required_argument, 0, O_DIR}, {"retries", required_argument, 0, O_RETRIES},
        {"catalog", required_argument, 0, O_CATALOG}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    xuan_pull_opts o = {0};
    const char *catalog = NULL;
    int64_t n;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'q': o.quiet = true; break;
        case O_ENDPOINT: o.endpoint = optarg; break;
        case O_MS: o.modelscope = true; break;
        case O_REPO: o.repo = optarg; break;
        case O_FILE: o.file = optarg; break;
        case O_URL: o.url = optarg; break;
        case O_SHA: o.sha256 = optarg; break;
        case O_DIR: o.dir = optarg; break;
        case O_CATALOG: catalog = optarg; break;
        case O_RETRIES:
            if (cli_int_arg("pull", "--retries", optarg, 1, 100, &n)) return XUAN_EXIT_USAGE;
            o.max_attempts = (int)n;
            break;
        default: return cli_usage_error("pull", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return cli_usage_error("pull", "expected one MODEL[:QUANT]");
    char name[256];
    snprintf(name, sizeof name, "%s", argv[optind]);
    char *colon = strchr(name, ':');
    const char *qname = "Q4_K_M";
    if (colon) *colon = 0, qname = colon + 1;
    xuan_quant q;
    if (xuan_quant_from_name(qname, &q) != 0) {
        const char *names[XUAN_QUANT_COUNT];
        for (int i = 0; i < XUAN_QUANT_COUNT; i++) names[i] = xuan_quant_name((xuan_quant)i);
        const char *near = xuan_closest(qname, names, XUAN_QUANT_COUNT);
        return cli_usage_error("pull", "unknown quant '%s'%s%s%s (Q2_K Q3_K_M Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 F16)", qname,
                               near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
    }
    xuan_catalog cat;
    xuan_error err = {0};
    if (xuan_catalog_load(&cat, catalog, &err) != 0) return cli_error("%s", err.msg);
    const xuan_model_info *m = xuan_catalog_lookup(&cat, name, &err);
    int rc = 0;
    if (!m) {
        rc = cli_usage_error("pull", "%s", err.msg);
        goto out;
    }
    const char *repo = o.repo ? o.repo : m->gguf_repo;
    const char *file = o.file ? o.file : m->gguf_file[q];
    if (!m->runnable) {
        rc = cli_error("%s has no weights to download (%s)", m->id, m->scope_reason ? m->scope_reason : "API model");
        goto out;
    }
    if (!file) {
        rc = cli_error("the catalog records no %s file for %s%s%s; pass --file NAME (and --repo OWNER/NAME), "
                       "or convert %s yourself", xuan_quant_name(q), m->id, repo ? " in " : "", repo ? repo : "",
                       m->hf_repo ? m->hf_repo : "the original weights");
        goto out;
    }
    char url[2048];
    if (o.url) snprintf(url, sizeof url, "%s", o.url);
    else if (!repo) {
        rc = cli_error("no GGUF repository is recorded for %s; pass --repo OWNER/NAME or --url", m->id);
        goto out;
    } else if (xuan_pull_url(&o, repo, file, url, sizeof url) != 0) {
        rc = cli_error("URL too long");
        goto out;
    }
    if (!o.quiet) fprintf(stderr, "xuan pull: %s %s <- %s\n", m->id, xuan_quant_name(q), url);
    char path[1300];
    if (xuan_pull(url, o.file ? 0 : m->gguf_size[q], &o, file, path, sizeof path, &err) != 0) {
        rc = cli_error("%s", err.msg);
        goto out;
    }
    printf("%s\n", path);
out:
    xuan_catalog_free(&cat);
    return rc;
}
