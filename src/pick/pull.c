/*
 * pull.c — a catalog model's GGUF into the models folder: the hub's URL
 * scheme (Hugging Face, a mirror, ModelScope) and the models folder; the
 * download itself (disk check, resume, sha256, atomic rename) is base's
 * xuan_download (src/base/download.c), which `xuan data pull` shares.
 */
#include "pick_internal.h"

#include <stdlib.h>

/* ---- URLs ---------------------------------------------------------------------- */

int xuan_pull_url(const xuan_pull_opts *o, const char *repo, const char *file, char *out, size_t cap) {
    int n;
    if (o->modelscope) {
        n = snprintf(out, cap, "https://modelscope.cn/models/%s/resolve/master/%s", repo, file);
    } else {
        const char *base = o->endpoint;
        if (!base || !*base) base = getenv("XUAN_HF_ENDPOINT");
        if (!base || !*base) base = getenv("HF_ENDPOINT");
        if (!base || !*base) base = "https://huggingface.co";
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/') bl--;
        n = snprintf(out, cap, "%.*s/%s/resolve/main/%s", (int)bl, base, repo, file);
    }
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* ---- download -------------------------------------------------------------------- */

int xuan_pull(const char *url, uint64_t expected_size, const xuan_pull_opts *o, const char *file,
              char *out_path, size_t out_cap, xuan_error *err) {
    char dir[1024], final[1200];
    if (o->dir) snprintf(dir, sizeof dir, "%s", o->dir);
    else xuan_models_dir(dir, sizeof dir);
    if (!file || !*file || strchr(file, '/') || !strcmp(file, "..") || !strcmp(file, "."))
        return xuan_fail(err, XUAN_ERR_USAGE, "bad file name '%s'", file ? file : "");
    snprintf(final, sizeof final, "%s/%s", dir, file);
    if (xuan_mkdir_p(dir) != 0) return xuan_fail(err, XUAN_ERR_IO, "%s: cannot create the models folder", dir);
    if (xuan_file_exists(final)) {
        snprintf(out_path, out_cap, "%s", final);
        if (!o->quiet) fprintf(stderr, "xuan pull: %s is already there\n", final);
        return 0;
    }
    xuan_download_opts d = {.sha256 = o->sha256, .hub_sha256 = true, .expected_size = expected_size,
                            .disk_margin = 64ull << 20, .dir_hint = "(or set XUAN_MODELS to another disk)",
                            .label = file, .max_attempts = o->max_attempts, .quiet = o->quiet};
    xuan_download_result r;
    int rc = xuan_download(url, final, &d, &r, err);
    if (rc) return rc;
    snprintf(out_path, out_cap, "%s", final);
    if (!o->quiet)
        fprintf(stderr, "xuan pull: %s%s\n", final, r.verified ? " (sha256 verified)" : " (no checksum published: size checked)");
    return 0;
}
