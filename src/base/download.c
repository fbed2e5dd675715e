/*
 * download.c — one file over HTTP(S): disk check first, resumable, verified,
 * atomic.  `xuan pull` (models) and `xuan data pull` (benchmark sets) both
 * download through it.
 *
 * Steps: HEAD the URL (size, and the hub's sha256 in X-Linked-Etag when the
 * file is stored with Git LFS, as Hugging Face does) -> refuse if the disk
 * cannot hold what is left -> GET with Range from the end of <path>.part,
 * retrying after a dropped connection -> check size and sha256 (a mismatch
 * deletes the partial file: resuming a corrupt file would never succeed) ->
 * fsync and rename to <path>.
 *
 * Knobs: XUAN_PULL_STALL=<s> (a connection silent that long counts as
 * dropped, default 30), HF_TOKEN (sent as a bearer token), and for tests
 * XUAN_TEST_DISK_FREE=<bytes>, which replaces the free-space figure so a
 * full disk can be simulated without mounting a tmpfs.
 */
#include "xuan/base.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- HEAD ----------------------------------------------------------------------- */

typedef struct head_info {
    char sha256[65];
} head_info;

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
    head_info *h = ud;
    size_t len = size * n;
    static const char key[] = "x-linked-etag:";
    if (len > sizeof key && !strncasecmp(buf, key, sizeof key - 1)) {
        const char *p = buf + sizeof key - 1;
        const char *end = buf + len;
        while (p < end && (*p == ' ' || *p == '"' || *p == 'W' || *p == '/')) p++;
        size_t k = 0;
        char hex[65];
        while (p < end && k < 64 && isxdigit((unsigned char)*p)) hex[k++] = (char)tolower((unsigned char)*p++);
        hex[k] = 0;
        /* Only a 64-hex-digit etag is a sha256 (a git blob etag has 40). */
        if (k == 64 && (p >= end || !isxdigit((unsigned char)*p))) memcpy(h->sha256, hex, 65);
    }
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_start(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* The request headers every call shares (the token); built once. */
static struct curl_slist *auth_headers(void) {
    static struct curl_slist *list; /* kept for the life of the process */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    const char *tok = getenv("HF_TOKEN");
    if (!list && tok && *tok) {
        char hdr[1024];
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", tok);
        list = curl_slist_append(NULL, hdr);
    }
    pthread_mutex_unlock(&mu);
    return list;
}

static void common_opts(CURL *c, const char *url) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "xuan/0.1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    const char *st = getenv("XUAN_PULL_STALL");
    long stall = st ? atol(st) : 30;
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall > 0 ? stall : 30L);
    struct curl_slist *h = auth_headers();
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
}

static int head(const char *url, uint64_t *size, head_info *h, xuan_error *err) {
    CURL *c = curl_easy_init();
    if (!c) return xuan_fail(err, XUAN_ERR_NOMEM, "curl: cannot start");
    common_opts(c, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t len = -1;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        if (code == 404)
            return xuan_fail(err, XUAN_ERR_NOTFOUND, "%s: not found (404); check the repository, revision and file name", url);
        if (code == 401 || code == 403)
            return xuan_fail(err, XUAN_ERR_IO, "%s: access denied (%ld); gated repositories need HF_TOKEN", url, code);
        return xuan_fail(err, XUAN_ERR_IO, "%s: %s; try a mirror (--endpoint URL or HF_ENDPOINT) or ModelScope",
                         url, curl_easy_strerror(rc));
    }
    *size = len > 0 ? (uint64_t)len : 0;
    return 0;
}

/* ---- GET with resume ------------------------------------------------------------- */

typedef struct get_ctx {
    FILE *f;
    xuan_progress *prog;
    uint64_t have;
    bool write_failed;
} get_ctx;

static size_t on_data(char *buf, size_t size, size_t n, void *ud) {
    get_ctx *g = ud;
    size_t len = size * n;
    if (fwrite(buf, 1, len, g->f) != len) {
        g->write_failed = true;
        return 0; /* makes curl stop with a write error */
    }
    g->have += len;
    if (g->prog) xuan_progress_update(g->prog, g->have);
    return len;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int64_t free_space(const char *dir) {
    const char *t = getenv("XUAN_TEST_DISK_FREE");
    if (t && *t) return atoll(t);
    return xuan_disk_free(dir);
}

int xuan_mkdir_p(const char *dir) {
    char tmp[4096];
    int w = snprintf(tmp, sizeof tmp, "%s", dir);
    if (w <= 0 || (size_t)w >= sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static bool is_hex64(const char *s) {
    size_t n = 0;
    while (s[n] && isxdigit((unsigned char)s[n])) n++;
    return n == 64 && !s[n];
}

int xuan_download(const char *url, const char *path, const xuan_download_opts *o, xuan_download_result *res,
                  xuan_error *err) {
    xuan_download_result dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof *res);
    char dir[4096], part[4200];
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else snprintf(dir, sizeof dir, "%s", slash ? "/" : ".");
    int w = snprintf(part, sizeof part, "%s.part", path);
    if (w < 0 || (size_t)w >= sizeof part) return xuan_fail(err, XUAN_ERR_USAGE, "%s: path too long", path);
    const char *label = o->label && *o->label ? o->label : (slash ? slash + 1 : path);
    if (o->sha256 && *o->sha256 && !is_hex64(o->sha256))
        return xuan_fail(err, XUAN_ERR_USAGE, "expected sha256 of %s must be 64 hex digits, got '%.80s'", label, o->sha256);
    if (xuan_mkdir_p(dir) != 0) return xuan_fail(err, XUAN_ERR_IO, "%s: cannot create the folder (%s)", dir, strerror(errno));

    pthread_once(&curl_once, curl_start);
    uint64_t size = 0;
    head_info h = {{0}};
    int rc = head(url, &size, &h, err);
    if (rc) return rc;
    if (!size) size = o->expected_size; /* no Content-Length: trust the caller */
    const char *want = o->sha256 && *o->sha256 ? o->sha256 : (o->hub_sha256 && h.sha256[0] ? h.sha256 : NULL);

    /* A partial file longer than the whole file is not ours to continue. */
    uint64_t have = file_size(part);
    if (size && have > size) {
        unlink(part);
        have = 0;
    }
    int64_t free_b = free_space(dir);
    uint64_t margin = o->disk_margin;
    if (size && free_b >= 0 && (uint64_t)free_b < size - have + margin) {
        char a[32], b[32], m[32];
        return xuan_fail(err, XUAN_ERR_IO,
                         "not enough disk space in %s: the download needs %s more (plus %s margin), %s is free; "
                         "free some space or choose another folder%s%s",
                         dir, xuan_fmt_bytes(size - have, a, sizeof a), xuan_fmt_bytes(margin, m, sizeof m),
                         xuan_fmt_bytes((uint64_t)free_b, b, sizeof b), o->dir_hint ? " " : "", o->dir_hint ? o->dir_hint : "");
    }

    xuan_progress prog;
    xuan_progress_begin(&prog, label, size, true);
    int attempts = o->max_attempts > 0 ? o->max_attempts : 5;
    CURLcode last = CURLE_OK;
    long code = 0;
    bool done = false;
    for (int attempt = 1; attempt <= attempts && !done; attempt++) {
        have = file_size(part);
        if (size && have == size) {
            done = true;
            break;
        }
        FILE *f = fopen(part, "ab");
        if (!f) {
            xuan_progress_end(&prog);
            return xuan_fail(err, XUAN_ERR_IO, "%s: cannot write (%s)", part, strerror(errno));
        }
        CURL *c = curl_easy_init();
        if (!c) {
            fclose(f);
            xuan_progress_end(&prog);
            return xuan_fail(err, XUAN_ERR_NOMEM, "curl: cannot start");
        }
        get_ctx g = {.f = f, .prog = o->quiet ? NULL : &prog, .have = have};
        common_opts(c, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
        if (have) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)have);
        last = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        if (fclose(f) != 0) g.write_failed = true;
        if (g.write_failed) {
            xuan_progress_end(&prog);
            return xuan_fail(err, XUAN_ERR_IO, "%s: write failed (disk full?); the partial file is kept for a resume", part);
        }
        if (last == CURLE_OK && have && code == 200) {
            /* The server ignored Range and sent the whole file after our
             * bytes: start again from zero. */
            unlink(part);
            continue;
        }
        if (last == CURLE_OK) {
            done = !size || file_size(part) == size;
            if (!done && file_size(part) > size) {
                unlink(part);
                xuan_progress_end(&prog);
                return xuan_fail(err, XUAN_ERR_FORMAT, "%s: server sent more than the %llu bytes announced; deleted the partial file",
                                 url, (unsigned long long)size);
            }
        } else if (code == 416 && size && file_size(part) == size) {
            done = true;
        } else if (!o->quiet) {
            fprintf(stderr, "\nxuan: %s: connection dropped at %llu bytes (%s); resuming (attempt %d of %d)\n", label,
                    (unsigned long long)file_size(part), curl_easy_strerror(last), attempt + 1, attempts);
        }
        if (!done && attempt < attempts) sleep(attempt < 3 ? 1 : 2);
    }
    xuan_progress_end(&prog);
    if (!done)
        return xuan_fail(err, XUAN_ERR_IO, "%s: download failed after %d attempts (%s); run the same command again to resume from %s",
                         url, attempts, curl_easy_strerror(last), part);

    char got[65] = "";
    if (want || o->digest) {
        if ((rc = xuan_sha256_file(part, got, err)) != 0) return rc;
        if (want && strcasecmp(got, want) != 0) {
            unlink(part);
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "checksum mismatch for %s: expected sha256 %s, got %s; deleted the partial file %s",
                             label, want, got, part);
        }
    }
    /* fsync, then rename: the final name only ever holds a whole file. */
    int fd = open(part, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (rename(part, path) != 0)
        return xuan_fail(err, XUAN_ERR_IO, "%s: cannot rename to %s (%s)", part, path, strerror(errno));
    memcpy(res->sha256, got, 65);
    res->verified = want != NULL;
    res->bytes = file_size(path);
    return 0;
}
