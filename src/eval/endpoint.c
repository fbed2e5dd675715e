/*
 * endpoint.c — the OpenAI-compatible backend (xuan/eval.h, "backends"):
 * /v1/chat/completions with one user message, or /v1/completions for a raw
 * prompt, through libcurl; bounded retries with exponential backoff on
 * transient failures.
 *
 * Thread-safe: every request has its own easy handle, so the runner may
 * call generate from `parallel` threads at once.  The reply is input from a
 * stranger: a body that is no JSON, lacks choices[0], holds a non-string
 * text or is larger than 64 MiB is an error naming what was wrong.
 */
#include "xuan/eval.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define MAX_BODY ((size_t)64 << 20)

typedef struct endpoint {
    char *base;       /* ".../v1" without a trailing slash */
    char *auth;       /* "Authorization: Bearer K" or NULL */
    char *model;      /* or NULL */
    char *identity;   /* JSON */
    double timeout_s, connect_timeout_s, retry_base_s;
    int retries;
    atomic_uint_fast64_t requests;
} endpoint;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct body {
    xuan_buf b;
    bool too_big;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *user) {
    body *b = user;
    size_t len = size * n;
    if (b->b.len + len > MAX_BODY) {
        b->too_big = true;
        return 0;
    }
    return xuan_buf_append(&b->b, p, len) ? 0 : len;
}

typedef struct headers {
    double retry_after; /* seconds, 0: none */
} headers;

static size_t on_header(char *p, size_t size, size_t n, void *user) {
    headers *h = user;
    size_t len = size * n;
    static const char k[] = "retry-after:";
    if (len > sizeof k - 1 && strncasecmp(p, k, sizeof k - 1) == 0) {
        char v[32];
        size_t m = len - (sizeof k - 1);
        if (m >= sizeof v) m = sizeof v - 1;
        memcpy(v, p + sizeof k - 1, m);
        v[m] = 0;
        char *end;
        double s = strtod(v, &end);
        if (end != v && s > 0) h->retry_after = s > 30 ? 30 : s;
    }
    return len;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static json_t *request_json(const endpoint *e, const xuan_eval_request *rq) {
    json_t *o = json_object(), *stop = json_array();
    if (!o || !stop) {
        json_decref(o);
        json_decref(stop);
        return NULL;
    }
    for (size_t i = 0; i < rq->n_stop; i++) json_array_append_new(stop, json_string(rq->stop[i]));
    if (e->model) json_object_set_new(o, "model", json_string(e->model));
    if (rq->raw) json_object_set_new(o, "prompt", json_string(rq->prompt));
    else json_object_set_new(o, "messages", json_pack("[{s:s, s:s}]", "role", "user", "content", rq->prompt));
    json_object_set_new(o, "max_tokens", json_integer(rq->max_tokens));
    json_object_set_new(o, "temperature", json_real(rq->temperature));
    json_object_set_new(o, "seed", json_integer((json_int_t)(rq->seed & INT64_MAX)));
    json_object_set_new(o, "stream", json_false());
    if (rq->n_stop) json_object_set_new(o, "stop", stop);
    else json_decref(stop);
    return o;
}

/* The reply body as JSON, or NULL with a one-line error quoting its start. */
static json_t *load_reply(const char *data, size_t n, xuan_error *err) {
    json_error_t je;
    json_t *j = json_loadb(data, n, 0, &je);
    if (!j)
        xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: the reply is no JSON (%s at byte %d): '%.60s'", je.text,
                  je.position, data);
    return j;
}

/* Reads the reply body into out; a one-line error otherwise. */
static int parse_reply(const char *data, size_t n, bool raw, xuan_eval_reply *out, xuan_error *err) {
    json_t *j = load_reply(data, n, err);
    if (!j) return err->code;
    int rc = 0;
    json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
    json_t *text = raw ? json_object_get(c0, "text") : json_object_get(json_object_get(c0, "message"), "content");
    if (!json_is_object(c0)) rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: the reply has no choices[0]");
    else if (!json_is_string(text))
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: the reply's %s is missing or not a string",
                       raw ? "choices[0].text" : "choices[0].message.content");
    else if (!(out->text = xuan_strndup(json_string_value(text), json_string_length(text))))
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    if (!rc) {
        const char *fin = json_string_value(json_object_get(c0, "finish_reason"));
        snprintf(out->finish, sizeof out->finish, "%s", fin ? fin : "");
        json_t *u = json_object_get(j, "usage");
        json_int_t p = json_integer_value(json_object_get(u, "prompt_tokens"));
        json_int_t g = json_integer_value(json_object_get(u, "completion_tokens"));
        out->n_prompt = p > 0 && p < UINT32_MAX ? (uint32_t)p : 0;
        out->n_gen = g > 0 && g < UINT32_MAX ? (uint32_t)g : 0;
    }
    json_decref(j);
    return rc;
}

static bool transient_curl(CURLcode c) {
    return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
           c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

/* POSTs payload to base/path with the retries; *body gets a 200 reply's
 * body (the caller frees it). */
static int post(endpoint *e, const char *path, const char *payload, volatile int *interrupt, xuan_buf *out,
                xuan_error *err) {
    char url[4096];
    snprintf(url, sizeof url, "%s/%s", e->base, path);
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    if (hl && e->auth) {
        struct curl_slist *h2 = curl_slist_append(hl, e->auth);
        if (!h2) curl_slist_free_all(hl);
        hl = h2;
    }
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        if (interrupt && *interrupt) {
            rc = xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
            break;
        }
        CURL *h = hl ? curl_easy_init() : NULL;
        if (!h) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "endpoint: cannot set up a request (out of memory)");
            break;
        }
        body b = {0};
        headers hd = {0};
        char cerr[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(e->timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(e->connect_timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        atomic_fetch_add(&e->requests, 1);
        CURLcode cc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        bool retry = false;
        const char *text = b.b.len ? b.b.data : "(no body)";
        if (b.too_big) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint %s: the reply is larger than %zu MiB", url, MAX_BODY >> 20);
        } else if (cc != CURLE_OK) {
            retry = transient_curl(cc);
            rc = xuan_fail(err, XUAN_ERR_IO, "endpoint %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
        } else if (status != 200) {
            retry = status == 429 || status >= 500;
            rc = xuan_fail(err, XUAN_ERR_IO, "endpoint %s: HTTP %ld: %.100s", url, status, text);
        } else {
            rc = 0;
            *out = b.b;
            break;
        }
        xuan_buf_free(&b.b);
        if (!retry || attempt >= e->retries) {
            if (attempt > 0) xuan_error_prefix(err, "after %d attempts", attempt + 1);
            break;
        }
        double wait = e->retry_base_s * (double)(1u << (attempt < 5 ? attempt : 5));
        if (wait > 8) wait = 8;
        if (hd.retry_after > wait) wait = hd.retry_after;
        xuan_log(XUAN_LOG_INFO, "%s; retrying in %.2f s", err->msg, wait);
        sleep_s(wait);
    }
    curl_slist_free_all(hl);
    return rc;
}

static int ep_generate(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                       xuan_error *err) {
    endpoint *e = self;
    memset(out, 0, sizeof *out);
    json_t *rj = request_json(e, rq);
    char *payload = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
    json_decref(rj);
    if (!payload) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory (or a prompt that is not UTF-8)");
    double t0 = xuan_time_s();
    xuan_buf b = {0};
    int rc = post(e, rq->raw ? "completions" : "chat/completions", payload, interrupt, &b, err);
    if (!rc) rc = parse_reply(b.len ? b.data : "", b.len, rq->raw, out, err);
    xuan_buf_free(&b);
    free(payload); /* jansson's allocator */
    out->wall_s = xuan_time_s() - t0;
    if (rc) xuan_eval_reply_free(out);
    return rc;
}

/* Characters (code points) of UTF-8 text: OpenAI's text_offset unit. */
static size_t n_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The summed logprob of the tokens that end past ctx_chars characters. */
static int parse_logprobs(const char *data, size_t n, size_t ctx_chars, double *sum, xuan_error *err) {
    json_t *j = load_reply(data, n, err);
    if (!j) return err->code;
    json_t *lp = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs");
    json_t *toks = json_object_get(lp, "tokens"), *tlp = json_object_get(lp, "token_logprobs"),
           *off = json_object_get(lp, "text_offset");
    int rc = 0;
    size_t nt = json_array_size(toks), counted = 0;
    if (!json_is_array(toks) || json_array_size(tlp) != nt || json_array_size(off) != nt)
        rc = xuan_fail(err, XUAN_ERR_FORMAT,
                       "endpoint: the reply has no choices[0].logprobs with tokens, token_logprobs and text_offset "
                       "of one length (does the server support echo with logprobs?)");
    *sum = 0;
    for (size_t i = 0; !rc && i < nt; i++) {
        const char *tok = json_string_value(json_array_get(toks, i));
        json_t *o = json_array_get(off, i), *v = json_array_get(tlp, i);
        if (!tok || !json_is_integer(o) || json_integer_value(o) < 0) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: logprobs token %zu: no text or text_offset", i);
            break;
        }
        if ((size_t)json_integer_value(o) + n_chars(tok) <= ctx_chars) continue;
        if (!json_is_number(v)) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: logprobs token %zu ('%.20s') of the continuation has no logprob",
                           i, tok);
            break;
        }
        *sum += json_number_value(v);
        counted++;
    }
    if (!rc && !counted) rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint: no logprobs token covers the continuation");
    json_decref(j);
    return rc;
}

static int ep_loglik(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                     xuan_error *err) {
    endpoint *e = self;
    memset(out, 0, sizeof *out);
    double t0 = xuan_time_s();
    if (!(out->logprobs = xuan_calloc(rq->n_choices ? rq->n_choices : 1, sizeof(double))))
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    size_t ctx_chars = n_chars(rq->prompt);
    int rc = 0;
    for (size_t i = 0; !rc && i < rq->n_choices; i++) {
        xuan_buf text = {0}, b = {0};
        json_t *o = NULL;
        char *payload = NULL;
        if (!xuan_buf_puts(&text, rq->prompt) && !xuan_buf_puts(&text, rq->choices[i]))
            o = json_pack("{s:s, s:i, s:b, s:i, s:f}", "prompt", text.data, "max_tokens", 0, "echo", 1, "logprobs", 1,
                          "temperature", 0.0);
        if (o && e->model) json_object_set_new(o, "model", json_string(e->model));
        payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        rc = payload ? post(e, "completions", payload, interrupt, &b, err)
                     : xuan_fail(err, XUAN_ERR_NOMEM, "out of memory (or a prompt that is not UTF-8)");
        if (!rc) rc = parse_logprobs(b.len ? b.data : "", b.len, ctx_chars, &out->logprobs[i], err);
        free(payload);
        xuan_buf_free(&b);
        xuan_buf_free(&text);
    }
    out->wall_s = xuan_time_s() - t0;
    snprintf(out->finish, sizeof out->finish, "loglik");
    if (rc) xuan_eval_reply_free(out);
    return rc;
}

static void ep_close(void *self) {
    endpoint *e = self;
    if (!e) return;
    xuan_free(e->base);
    xuan_free(e->auth);
    xuan_free(e->model);
    xuan_free(e->identity);
    xuan_free(e);
}

int xuan_eval_endpoint_open(const xuan_eval_endpoint_opts *o, xuan_eval_backend *b, xuan_error *err) {
    memset(b, 0, sizeof *b);
    if (!o->url || (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8)))
        return xuan_fail(err, XUAN_ERR_USAGE, "endpoint '%s': expected an http:// or https:// URL",
                         o->url ? o->url : "");
    if (strlen(o->url) > 2000) return xuan_fail(err, XUAN_ERR_USAGE, "endpoint: the URL is too long");
    pthread_once(&curl_once, curl_init);
    endpoint *e = xuan_calloc(1, sizeof *e);
    if (!e) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_buf base = {0}, auth = {0};
    size_t n = strlen(o->url);
    while (n && o->url[n - 1] == '/') n--;
    int nomem = xuan_buf_append(&base, o->url, n);
    if (!nomem && (n < 3 || memcmp(o->url + n - 3, "/v1", 3) != 0)) nomem = xuan_buf_puts(&base, "/v1");
    if (!nomem && o->api_key && *o->api_key) nomem = xuan_buf_printf(&auth, "Authorization: Bearer %s", o->api_key);
    e->base = base.data;
    e->auth = auth.data;
    e->model = o->model ? xuan_strdup(o->model) : NULL;
    e->timeout_s = o->timeout_s > 0 ? o->timeout_s : 600;
    e->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
    e->retries = o->retries < 0 ? 0 : o->retries ? o->retries : 4;
    e->retry_base_s = o->retry_base_s > 0 ? o->retry_base_s : 0.5;
    /* The identity is what decides the replies: the server and the model
     * name (the key stays out of it: it changes who pays, not the answer). */
    json_t *id = json_pack("{s:s, s:s%, s:s?}", "backend", "endpoint", "url", e->base ? e->base : "",
                           e->base ? strlen(e->base) : 0, "model", e->model);
    char *ids = id ? json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(id);
    e->identity = ids ? xuan_strdup(ids) : NULL;
    free(ids);
    if (nomem || !e->base || (o->model && !e->model) || !e->identity) {
        ep_close(e);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    b->self = e;
    b->identity = e->identity;
    b->parallel = o->parallel > 0 ? o->parallel : 1;
    b->generate = ep_generate;
    b->loglik = ep_loglik;
    b->close = ep_close;
    return 0;
}

uint64_t xuan_eval_endpoint_requests(const xuan_eval_backend *b) {
    if (!b || b->generate != ep_generate) return 0;
    return atomic_load(&((endpoint *)b->self)->requests);
}
