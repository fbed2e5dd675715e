/*
 * xuan data pull SET|TASK|seed ... — downloads benchmark sets from their
 * public sources into the data folder, each file pinned by revision and
 * sha256 in tasks/sources.json (docs/eval.md, "xuan data pull").
 * xuan data show FILE — the items a dataset file gives a task, as JSON lines.
 *
 * A file's locations are tried in order; each is one of
 *   hf:OWNER/NAME@REV:PATH      $HF_ENDPOINT/datasets/OWNER/NAME/resolve/REV/PATH
 *   ms:OWNER/NAME@REV:PATH      $XUAN_MS_ENDPOINT/datasets/OWNER/NAME/resolve/REV/PATH (ModelScope)
 *   github:OWNER/NAME@REV:PATH  $XUAN_GITHUB_RAW/OWNER/NAME/REV/PATH (raw.githubusercontent.com)
 * A network error or a 404 moves on to the next location; a checksum
 * mismatch stops: the pin says the bytes are wrong, not the host.
 */
#include "eval_cli.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { MAX_SOURCES_BYTES = 4 << 20 };

static void usage(FILE *f) {
    fprintf(f, "usage: xuan data show FILE [--format jsonl|jsonl.gz|csv|tsv|parquet] [--limit N]\n"
               "  prints each item as one JSON object: \"line\" and its fields (lists as arrays);\n"
               "  the format comes from the file's name unless given; CSV and TSV need a header row\n"
               "usage: xuan data pull SET|TASK|seed ... [options]\n"
               "  --data DIR      where the sets go (default $XUAN_DATA, else <cache>/datasets)\n"
               "  --force         download again even when a file is there with the right sha256\n"
               "  --sources FILE  the pins (default tasks/sources.json beside the binary, or $XUAN_TASKS)\n"
               "  --endpoint URL  a Hugging Face mirror for hf: locations (also $HF_ENDPOINT)\n"
               "  --list          print the sets and the tasks they serve, download nothing\n"
               "  -q, --quiet     no progress bars\n");
}

/* ---- locations --------------------------------------------------------------------- */

static const char *env_or(const char *name, const char *def) {
    const char *e = getenv(name);
    return e && *e ? e : def;
}

/* "hf:OWNER/NAME@REV:PATH" into a URL; -1 when it is not one of the forms. */
static int location_url(const char *loc, const char *hf_endpoint, char *out, size_t cap) {
    const char *kinds[] = {"hf:", "ms:", "github:"};
    int kind = -1;
    for (int i = 0; i < 3; i++)
        if (!strncmp(loc, kinds[i], strlen(kinds[i]))) kind = i;
    if (kind < 0) return -1;
    const char *repo = loc + strlen(kinds[kind]);
    const char *at = strchr(repo, '@');
    const char *colon = at ? strchr(at, ':') : NULL;
    if (!at || !colon || at == repo || colon == at + 1 || !colon[1] || !memchr(repo, '/', (size_t)(at - repo)))
        return -1;
    if (strstr(colon + 1, "..")) return -1; /* a pin never climbs out of its repository */
    int rl = (int)(at - repo), vl = (int)(colon - at - 1);
    const char *path = colon + 1;
    const char *base = kind == 0 ? (hf_endpoint && *hf_endpoint ? hf_endpoint : env_or("HF_ENDPOINT", "https://huggingface.co"))
                     : kind == 1 ? env_or("XUAN_MS_ENDPOINT", "https://www.modelscope.cn")
                                 : env_or("XUAN_GITHUB_RAW", "https://raw.githubusercontent.com");
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    int n = kind == 2 ? snprintf(out, cap, "%.*s/%.*s/%.*s/%s", (int)bl, base, rl, repo, vl, at + 1, path)
                      : snprintf(out, cap, "%.*s/datasets/%.*s/resolve/%.*s/%s", (int)bl, base, rl, repo, vl, at + 1, path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* A destination relative to the data folder, without "..", "//" or a leading '/'. */
static bool safe_rel_path(const char *p) {
    if (!*p || *p == '/' || strstr(p, "//") || strlen(p) > 512) return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
        s += n + (e ? 1 : 0);
    }
    return true;
}

/* ---- the pins file ------------------------------------------------------------------- */

static int load_sources(const char *path, json_t **out, xuan_error *err) {
    char *text = NULL;
    size_t len = 0;
    int rc = cli_read_input(path, MAX_SOURCES_BYTES, &text, &len, err);
    if (rc) return rc;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    xuan_free(text);
    if (!root) return xuan_fail(err, XUAN_ERR_FORMAT, "%s:%d: %s", path, je.line, je.text);
    json_t *sets = json_object_get(root, "sets");
    if (!json_is_object(sets)) {
        json_decref(root);
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: no object 'sets'", path);
    }
    const char *name;
    json_t *set;
    for (void *it_ = json_object_iter(sets); it_ && (name = json_object_iter_key(it_), set = json_object_iter_value(it_)); it_ = json_object_iter_next(sets, it_)) {
        json_t *files = json_object_get(set, "files");
        const char *bad = !json_is_string(json_object_get(set, "licence")) ? "no string 'licence'"
                        : !json_is_string(json_object_get(set, "source"))  ? "no string 'source'"
                        : !json_is_array(files) || !json_array_size(files)  ? "no list 'files'"
                                                                            : NULL;
        size_t i;
        json_t *f;
        for (i = 0; i < json_array_size(files) && (f = json_array_get(files, i)); i++) {
            if (bad) break;
            json_t *p = json_object_get(f, "path"), *from = json_object_get(f, "from"), *sha = json_object_get(f, "sha256");
            if (!json_is_string(p) || !safe_rel_path(json_string_value(p))) bad = "a file without a safe relative 'path'";
            else if (!json_is_array(from) || !json_array_size(from)) bad = "a file without a list 'from'";
            else if (sha && !(json_is_string(sha) && strlen(json_string_value(sha)) == 64)) bad = "a 'sha256' that is not 64 hex digits";
            for (size_t k = 0; !bad && k < json_array_size(from); k++) {
                const char *loc = json_string_value(json_array_get(from, k));
                /* only the form is checked here; the URL is built again with the real buffer */
                char big[4096];
                if (!loc || location_url(loc, "http://x", big, sizeof big) != 0) bad = "a location that is not hf:, ms: or github:OWNER/NAME@REV:PATH";
            }
        }
        if (bad) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: set '%s': %s", path, name, bad);
            json_decref(root);
            return rc;
        }
    }
    *out = root;
    return 0;
}

/* Does set serve `want` (its own name, one of its tasks, or the suite "seed")? */
static bool set_matches(const char *name, json_t *set, const char *want) {
    if (!strcmp(name, want)) return true;
    if (!strcmp(want, "seed")) return json_is_true(json_object_get(set, "seed"));
    size_t i;
    json_t *t;
    json_t *tasks = json_object_get(set, "tasks");
    for (i = 0; i < json_array_size(tasks) && (t = json_array_get(tasks, i)); i++) if (json_is_string(t) && !strcmp(json_string_value(t), want)) return true;
    return false;
}

/* ---- pulling ------------------------------------------------------------------------- */

typedef struct pull_cfg {
    const char *data, *endpoint;
    bool force, quiet;
    size_t downloaded, present, failed;
} pull_cfg;

static int pull_file(pull_cfg *c, const char *set_name, json_t *f) {
    const char *rel = json_string_value(json_object_get(f, "path"));
    const char *pin = json_string_value(json_object_get(f, "sha256"));
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", c->data, rel) >= (int)sizeof path) return cli_error("%s/%s: path too long", c->data, rel);
    xuan_error err = {0};
    if (!c->force && pin && xuan_file_exists(path)) {
        char have[65];
        if (xuan_sha256_file(path, have, &err) == 0 && !strcasecmp(have, pin)) {
            c->present++;
            return 0;
        }
        fprintf(stderr, "xuan data: %s: sha256 %s is not the pinned %s; downloading it again\n", path, have, pin);
    }
    json_t *from = json_object_get(f, "from");
    int rc = 1;
    for (size_t k = 0; k < json_array_size(from); k++) {
        char url[4096];
        location_url(json_string_value(json_array_get(from, k)), c->endpoint, url, sizeof url);
        xuan_download_opts o = {.sha256 = pin, .digest = true, .label = rel, .quiet = c->quiet, .max_attempts = 3};
        xuan_download_result r;
        err.msg[0] = 0;
        unlink(path); /* --force, or a file with the wrong bytes: never left beside a failed download */
        rc = xuan_download(url, path, &o, &r, &err);
        if (rc == 0) {
            c->downloaded++;
            if (!pin)
                fprintf(stderr, "xuan data: warning: %s has no pinned sha256 (trust on first use); downloaded %s, sha256 %s\n",
                        rel, url, r.sha256);
            return 0;
        }
        if (rc == XUAN_ERR_FORMAT) break; /* checksum mismatch: another host would not make the pin right */
        if (k + 1 < json_array_size(from)) fprintf(stderr, "xuan data: %s; trying the next source\n", err.msg);
    }
    c->failed++;
    cli_error("set %s: %s", set_name, err.msg);
    return rc;
}

static int data_pull(int argc, char **argv) {
    enum { O_DATA = 256, O_FORCE, O_SOURCES, O_ENDPOINT, O_LIST };
    static const struct option opts[] = {{"data", required_argument, 0, O_DATA},     {"force", no_argument, 0, O_FORCE},
                                         {"sources", required_argument, 0, O_SOURCES},
                                         {"endpoint", required_argument, 0, O_ENDPOINT}, {"list", no_argument, 0, O_LIST},
                                         {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    pull_cfg c = {0};
    const char *sources = NULL;
    bool list = false;
    int o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (o) {
        case 'h': usage(stdout); return 0;
        case 'q': c.quiet = true; break;
        case O_DATA: c.data = optarg; break;
        case O_FORCE: c.force = true; break;
        case O_SOURCES: sources = optarg; break;
        case O_ENDPOINT: c.endpoint = optarg; break;
        case O_LIST: list = true; break;
        default: return cli_usage_error("data pull", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc && !list) return cli_usage_error("data pull", "name one or more sets, tasks or 'seed' (--list shows them)");
    char spath[4096], dbuf[4096];
    if (!sources) {
        char dir[4096];
        if (!eval_tasks_dir(dir, sizeof dir) || snprintf(spath, sizeof spath, "%s/sources.json", dir) >= (int)sizeof spath)
            return cli_error("cannot find the tasks folder; pass --sources FILE");
        sources = spath;
    }
    if (!c.data) {
        const char *env = getenv("XUAN_DATA");
        if (env && *env) c.data = env;
        else {
            char cache[4000];
            snprintf(dbuf, sizeof dbuf, "%s/datasets", xuan_cache_dir(cache, sizeof cache));
            c.data = dbuf;
        }
    }
    xuan_error err = {0};
    json_t *root = NULL;
    if (load_sources(sources, &root, &err)) return cli_error("%s", err.msg);
    json_t *sets = json_object_get(root, "sets");
    const char *name;
    json_t *set;
    int rc = 0;
    if (list) {
        for (void *it_ = json_object_iter(sets); it_ && (name = json_object_iter_key(it_), set = json_object_iter_value(it_)); it_ = json_object_iter_next(sets, it_)) {
            printf("%-10s %-22s tasks:", name, json_string_value(json_object_get(set, "licence")));
            size_t i;
            json_t *t;
            json_t *tasks = json_object_get(set, "tasks");
            for (i = 0; i < json_array_size(tasks) && (t = json_array_get(tasks, i)); i++) printf(" %s", json_string_value(t));
            printf("\n");
        }
        json_decref(root);
        return 0;
    }
    /* every name must match something before anything is downloaded */
    for (int a = optind; a < argc; a++) {
        bool any = false;
        for (void *it_ = json_object_iter(sets); it_ && (name = json_object_iter_key(it_), set = json_object_iter_value(it_)); it_ = json_object_iter_next(sets, it_)) any = any || set_matches(name, set, argv[a]);
        if (!any) {
            json_decref(root);
            return cli_usage_error("data pull", "no set or task '%s' in %s (xuan data pull --list)", argv[a], sources);
        }
    }
    for (void *it_ = json_object_iter(sets); it_ && (name = json_object_iter_key(it_), set = json_object_iter_value(it_)); it_ = json_object_iter_next(sets, it_)) {
        bool want = false;
        for (int a = optind; a < argc && !want; a++) want = set_matches(name, set, argv[a]);
        if (!want) continue;
        json_t *files = json_object_get(set, "files");
        printf("%s: %s; licence %s; %zu file%s\n", name, json_string_value(json_object_get(set, "source")),
               json_string_value(json_object_get(set, "licence")), json_array_size(files),
               json_array_size(files) == 1 ? "" : "s");
        size_t before = c.downloaded, had = c.present, i;
        json_t *f;
        for (i = 0; i < json_array_size(files) && (f = json_array_get(files, i)); i++) if (pull_file(&c, name, f)) rc = 1;
        printf("%s: %zu downloaded, %zu already there\n", name, c.downloaded - before, c.present - had);
    }
    printf("data: %s: %zu downloaded, %zu already there, %zu failed\n", c.data, c.downloaded, c.present, c.failed);
    json_decref(root);
    return rc;
}

/* ---- show ---------------------------------------------------------------------------- */

static int format_of_name(const char *path) {
    static const char *const ext[][2] = {{".jsonl.gz", "jsonl.gz"}, {".jsonl", "jsonl"}, {".csv", "csv"},
                                         {".tsv", "tsv"}, {".parquet", "parquet"}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i][0]);
        if (n > e && strcmp(path + n - e, ext[i][0]) == 0) return xuan_data_format_from_name(ext[i][1]);
    }
    return -1;
}

static int data_show(int argc, char **argv) {
    enum { O_FORMAT = 256, O_LIMIT };
    static const struct option opts[] = {{"format", required_argument, 0, O_FORMAT},
                                         {"limit", required_argument, 0, O_LIMIT},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int fmt = -1, o;
    long long limit = -1;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'h': usage(stdout); return 0;
        case O_FORMAT:
            if ((fmt = xuan_data_format_from_name(optarg)) < 0)
                return cli_usage_error("data show", "unknown format '%s' (jsonl, jsonl.gz, csv, tsv, parquet)", optarg);
            break;
        case O_LIMIT: {
            char *end;
            limit = strtoll(optarg, &end, 10);
            if (*end || limit < 0) return cli_usage_error("data show", "--limit wants a count, got '%s'", optarg);
            break;
        }
        default: return cli_usage_error("data show", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return cli_usage_error("data show", "name one file");
    const char *path = argv[optind];
    if (fmt < 0 && (fmt = format_of_name(path)) < 0)
        return cli_usage_error("data show", "%s: cannot tell the format from the name; pass --format", path);
    xuan_dataset_opts dopts = {.format = (xuan_data_format)fmt, .header = true};
    xuan_dataset d;
    xuan_error err = {0};
    if (xuan_dataset_load(path, &dopts, &d, &err)) return cli_error("%s", err.msg);
    int rc = 0;
    for (size_t i = 0; i < d.n_items && (limit < 0 || (long long)i < limit) && rc == 0; i++) {
        const xuan_eval_item *it = &d.items[i];
        json_t *obj = json_object();
        if (!obj || json_object_set_new(obj, "line", json_integer(it->line))) rc = 1;
        for (size_t j = 0; j < it->n_fields && !rc; j++) {
            const xuan_eval_field *f = &it->fields[j];
            json_t *v = f->json ? json_loadb(f->value, f->len, JSON_DECODE_ANY, NULL) : NULL;
            if (!v) v = json_stringn(f->value, f->len);
            if (!v || json_object_set_new(obj, f->name, v)) rc = 1;
        }
        char *text = rc ? NULL : json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text) rc = cli_error("out of memory");
        else printf("%s\n", text);
        free(text);
        json_decref(obj);
    }
    xuan_dataset_free(&d);
    return rc;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? XUAN_EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "show") == 0) return data_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "pull") != 0)
        return cli_usage_error("data", "unknown subcommand '%s' (data pull, data show)", argv[1]);
    return data_pull(argc - 1, argv + 1);
}
