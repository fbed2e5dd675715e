/*
 * endpoint.c — the OpenAI-compatible backend (xuan/eval.h, "backends"):
 * /v1/chat/completions with one user message, or /v1/completions for a raw
 * prompt, through libcurl, to one server or a fleet of servers of one model.
 *
 *   1. servers   — per server: requests in flight, failures in a row, backoff;
 *                  which server takes the next attempt
 *   2. HTTP      — one exchange, the request body, the reply's JSON
 *   3. attempts  — a request's attempts across the servers, with backoff
 *   4. the backend (generate, loglik), and GET /v1/models
 *
 * Thread-safe: every request has its own easy handle, so the runner may
 * call generate from `parallel` threads at once; the servers' state is
 * under one mutex.  The reply is input from a stranger: a body that is no
 * JSON, lacks choices[0], holds a non-string text or is larger than 64 MiB
 * is an error naming what was wrong.
 */
#include "xuan/eval.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define MAX_BODY ((size_t)64 << 20)
#define MAX_SERVERS 64

/* ---- 1. servers ---------------------------------------------------------------- */

/* One server of the fleet.  A transient failure (no answer, a timeout, HTTP
 * 429 or 5xx) counts once per round: the requests already in flight when
 * one was counted fail for the same outage and are no new evidence.  Each
 * counted failure starts a backoff in which the server gets nothing; after
 * it, the server gets one request at a time until one is answered. */
typedef struct server {
    char *base;       /* ".../v1" without a trailing slash; fixed once open */
    int busy;         /* requests in flight */
    int fails;        /* counted transient failures in a row */
    int unreachable;  /* the last of them in a row that got no HTTP answer */
    uint64_t round;   /* bumped with every counted failure */
    double until;     /* no request before this (xuan_time_s) */
    char last[200];   /* the last counted failure, for the "all down" error */
} server;

typedef struct endpoint {
    server sv[MAX_SERVERS];
    size_t n;
    int slots;            /* requests at once per server */
    pthread_mutex_t mu;   /* the servers' state */
    pthread_cond_t cv;    /* a slot freed or a backoff changed (CLOCK_MONOTONIC) */
    bool down;            /* every server unreachable retries + 1 times in a row */
    char *auth;           /* "Authorization: Bearer K" or NULL */
    char *model;          /* or NULL */
    char *identity;       /* JSON */
    double timeout_s, connect_timeout_s, retry_base_s;
    int retries;
    atomic_uint_fast64_t requests;
} endpoint;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* The wait before attempt `attempt` + 1: retry_base_s doubling, at most 8 s,
 * or the server's Retry-After (at most 30 s) when longer. */
static double backoff(const endpoint *e, int attempt, double retry_after) {
    double w = e->retry_base_s * (double)(1u << (attempt < 5 ? attempt : 5));
    if (w > 8) w = 8;
    return retry_after > w ? retry_after : w;
}

static int down_error(const endpoint *e, xuan_error *err) {
    char why[400] = "";
    size_t at = 0;
    for (size_t i = 0; i < e->n && i < 3 && at < sizeof why; i++)
        at += (size_t)snprintf(why + at, sizeof why - at, "%s%s", i ? "; " : "", e->sv[i].last);
    return xuan_fail(err, XUAN_ERR_UNAVAILABLE, "%s down, %d attempts in a row without an answer (%s%s)",
                     e->n > 1 ? "every endpoint is" : "the endpoint is", e->retries + 1, why, e->n > 3 ? "; ..." : "");
}

/* A server for the next attempt of a request: one out of its backoff with
 * a free slot, the least busy first.  The server where the request last
 * failed (`avoid`, or SIZE_MAX) is not taken while another server has no
 * failure (the request waits for that one's slot), and else not before
 * avoid_until, the request's own backoff.  Waits while none is free; *k and
 * *round get the server and its round. */
static int acquire(endpoint *e, volatile int *interrupt, size_t avoid, double avoid_until, size_t *k,
                   uint64_t *round, xuan_error *err) {
    int rc = 0;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        if (interrupt && *interrupt) {
            rc = xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
            break;
        }
        if (e->down) {
            rc = down_error(e, err);
            break;
        }
        double now = xuan_time_s(), wake = now + 0.1; /* an interrupt is seen within 0.1 s */
        size_t best = SIZE_MAX;
        bool healthy = false; /* another server with no failure: wait for it rather than go back */
        for (size_t i = 0; i < e->n; i++) healthy |= i != avoid && !e->sv[i].fails;
        for (size_t i = 0; i < e->n; i++) {
            const server *s = &e->sv[i];
            if (i == avoid && healthy) continue;
            double from = i == avoid && avoid_until > s->until ? avoid_until : s->until;
            if (from > now) {
                if (from < wake) wake = from;
                continue;
            }
            if (s->busy < (s->fails ? 1 : e->slots) && (best == SIZE_MAX || s->busy < e->sv[best].busy)) best = i;
        }
        if (best != SIZE_MAX) {
            e->sv[best].busy++;
            *k = best;
            *round = e->sv[best].round;
            break;
        }
        uint64_t ns = xuan_time_ns() + (uint64_t)((wake - now) * 1e9);
        struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
        pthread_cond_timedwait(&e->cv, &e->mu, &ts);
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

/* How an attempt ended, for the server's state. */
typedef enum outcome { ANSWERED, TRANSIENT, UNREACHABLE } outcome;

static void release(endpoint *e, size_t k, uint64_t round, outcome oc, double retry_after, const char *why) {
    pthread_mutex_lock(&e->mu);
    server *s = &e->sv[k];
    s->busy--;
    if (oc == ANSWERED) {
        s->fails = s->unreachable = 0;
    } else if (round == s->round) {
        s->round++;
        s->fails++;
        s->unreachable = oc == UNREACHABLE ? s->unreachable + 1 : 0;
        s->until = xuan_time_s() + backoff(e, s->fails - 1, retry_after);
        snprintf(s->last, sizeof s->last, "%.199s", why);
        bool all = true;
        for (size_t i = 0; all && i < e->n; i++) all = e->sv[i].unreachable > e->retries;
        e->down = all;
    }
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* ---- 2. HTTP --------------------------------------------------------------------- */

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

/* One HTTP exchange: POST payload, or GET when payload is NULL.  The body
 * goes to *b (capped), the status to *status, curl's message to cerr. */
static CURLcode perform(const char *url, struct curl_slist *hl, const char *payload, double timeout_s,
                        double connect_timeout_s, body *b, headers *hd, long *status, char *cerr) {
    CURL *h = curl_easy_init();
    if (!h) return CURLE_OUT_OF_MEMORY;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (payload) curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, hd);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return cc;
}

/* The request headers: JSON, and the key when there is one (NULL: out of memory). */
static struct curl_slist *header_list(const endpoint *e) {
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    if (hl && e->auth) {
        struct curl_slist *h2 = curl_slist_append(hl, e->auth);
        if (!h2) curl_slist_free_all(hl);
        hl = h2;
    }
    return hl;
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

/* ---- 3. attempts ----------------------------------------------------------------- */

static bool transient_curl(CURLcode c) {
    return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
           c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

/* POSTs payload to path on a server of the fleet, with the retries: a
 * transient failure moves the request to another server (see acquire), or
 * back to the same one after the backoff.  *out gets a 200
 * reply's body (the caller frees it).  XUAN_ERR_UNAVAILABLE when every
 * server is down. */
static int post(endpoint *e, const char *path, const char *payload, volatile int *interrupt, xuan_buf *out,
                xuan_error *err) {
    struct curl_slist *hl = header_list(e);
    if (!hl) return xuan_fail(err, XUAN_ERR_NOMEM, "endpoint: cannot set up a request (out of memory)");
    int rc = 0;
    size_t avoid = SIZE_MAX;
    double avoid_until = 0;
    for (int attempt = 0;; attempt++) {
        size_t k = 0;
        uint64_t round = 0;
        if ((rc = acquire(e, interrupt, avoid, avoid_until, &k, &round, err)) != 0) break;
        char url[4096];
        snprintf(url, sizeof url, "%s/%s", e->sv[k].base, path);
        body b = {0};
        headers hd = {0};
        char cerr[CURL_ERROR_SIZE] = "";
        long status = 0;
        atomic_fetch_add(&e->requests, 1);
        CURLcode cc = perform(url, hl, payload, e->timeout_s, e->connect_timeout_s, &b, &hd, &status, cerr);
        bool retry = false;
        outcome oc = ANSWERED;
        const char *text = b.b.len ? b.b.data : "(no body)";
        if (cc == CURLE_OUT_OF_MEMORY) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "endpoint: cannot set up a request (out of memory)");
        } else if (b.too_big) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "endpoint %s: the reply is larger than %zu MiB", url, MAX_BODY >> 20);
        } else if (cc != CURLE_OK) {
            retry = transient_curl(cc);
            oc = retry ? UNREACHABLE : ANSWERED;
            rc = xuan_fail(err, XUAN_ERR_IO, "endpoint %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
        } else if (status != 200) {
            retry = status == 429 || status >= 500;
            oc = retry ? TRANSIENT : ANSWERED;
            rc = xuan_fail(err, XUAN_ERR_IO, "endpoint %s: HTTP %ld: %.100s", url, status, text);
        } else {
            rc = 0;
        }
        release(e, k, round, oc, hd.retry_after, rc ? err->msg : "");
        if (!rc) {
            *out = b.b;
            break;
        }
        xuan_buf_free(&b.b);
        if (!retry || attempt >= e->retries) {
            if (attempt > 0) xuan_error_prefix(err, "after %d attempts", attempt + 1);
            break;
        }
        double wait = backoff(e, attempt, hd.retry_after);
        avoid = k;
        avoid_until = xuan_time_s() + wait;
        if (e->n > 1) xuan_log(XUAN_LOG_INFO, "%s; retrying on another endpoint, or on this one in %.2f s", err->msg, wait);
        else xuan_log(XUAN_LOG_INFO, "%s; retrying in %.2f s", err->msg, wait);
    }
    curl_slist_free_all(hl);
    return rc;
}

/* ---- 4. the backend, and GET /v1/models -------------------------------------------- */

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
    for (size_t i = 0; i < e->n; i++) xuan_free(e->sv[i].base);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    xuan_free(e->auth);
    xuan_free(e->model);
    xuan_free(e->identity);
    xuan_free(e);
}

/* ".../v1" of a URL given with or without it (heap), or NULL: out of memory. */
static char *base_of(const char *url) {
    xuan_buf base = {0};
    size_t n = strlen(url);
    while (n && url[n - 1] == '/') n--;
    int nomem = xuan_buf_append(&base, url, n);
    if (!nomem && (n < 3 || memcmp(url + n - 3, "/v1", 3) != 0)) nomem = xuan_buf_puts(&base, "/v1");
    if (nomem) xuan_buf_free(&base);
    return base.data;
}

/* The identity is what decides the replies: the servers and the model name
 * (the key stays out of it: it changes who pays, not the answer).  One
 * server keeps the form of one URL. */
static char *identity_of(const endpoint *e) {
    json_t *id;
    if (e->n == 1) {
        id = json_pack("{s:s, s:s, s:s?}", "backend", "endpoint", "url", e->sv[0].base, "model", e->model);
    } else {
        json_t *urls = json_array();
        for (size_t i = 0; urls && i < e->n; i++) json_array_append_new(urls, json_string(e->sv[i].base));
        id = json_pack("{s:s, s:o, s:s?}", "backend", "endpoint", "urls", urls, "model", e->model);
    }
    char *ids = id ? json_dumps(id, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(id);
    char *r = ids ? xuan_strdup(ids) : NULL;
    free(ids);
    return r;
}

int xuan_eval_endpoint_open(const xuan_eval_endpoint_opts *o, xuan_eval_backend *b, xuan_error *err) {
    memset(b, 0, sizeof *b);
    const char *const *urls = o->n_urls ? o->urls : &o->url;
    const size_t n = o->n_urls ? o->n_urls : 1;
    if (n > MAX_SERVERS) return xuan_fail(err, XUAN_ERR_USAGE, "endpoint: at most %d servers", MAX_SERVERS);
    for (size_t i = 0; i < n; i++) {
        const char *u = urls[i];
        if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
            return xuan_fail(err, XUAN_ERR_USAGE, "endpoint '%s': expected an http:// or https:// URL", u ? u : "");
        if (strlen(u) > 2000) return xuan_fail(err, XUAN_ERR_USAGE, "endpoint: the URL is too long");
    }
    pthread_once(&curl_once, curl_init);
    endpoint *e = xuan_calloc(1, sizeof *e);
    if (!e) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* acquire's deadlines are xuan_time_ns */
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&e->mu, NULL);
    bool nomem = false;
    for (size_t i = 0; i < n && !nomem; i++) {
        nomem = !(e->sv[i].base = base_of(urls[i]));
        e->n = i + 1;
        for (size_t j = 0; !nomem && j < i; j++)
            if (!strcmp(e->sv[j].base, e->sv[i].base)) {
                int rc = xuan_fail(err, XUAN_ERR_USAGE, "endpoint %s is given twice", e->sv[i].base);
                ep_close(e);
                return rc;
            }
    }
    xuan_buf auth = {0};
    if (!nomem && o->api_key && *o->api_key) nomem = xuan_buf_printf(&auth, "Authorization: Bearer %s", o->api_key);
    e->auth = auth.data;
    e->model = o->model ? xuan_strdup(o->model) : NULL;
    e->slots = o->parallel > 0 ? o->parallel : 1;
    e->timeout_s = o->timeout_s > 0 ? o->timeout_s : 600;
    e->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
    e->retries = o->retries < 0 ? 0 : o->retries ? o->retries : 4;
    e->retry_base_s = o->retry_base_s > 0 ? o->retry_base_s : 0.5;
    if (!nomem) e->identity = identity_of(e);
    if (nomem || (o->model && !e->model) || !e->identity) {
        ep_close(e);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    b->self = e;
    b->identity = e->identity;
    b->parallel = e->slots * (int)e->n;
    b->generate = ep_generate;
    b->loglik = ep_loglik;
    b->close = ep_close;
    return 0;
}

uint64_t xuan_eval_endpoint_requests(const xuan_eval_backend *b) {
    if (!b || b->generate != ep_generate) return 0;
    return atomic_load(&((endpoint *)b->self)->requests);
}

/* The first data[].id of a /v1/models reply, or NULL with err set. */
static const char *served_id(json_t *j, xuan_error *err) {
    const char *id = json_string_value(json_object_get(json_array_get(json_object_get(j, "data"), 0), "id"));
    if (!id) xuan_fail(err, XUAN_ERR_FORMAT, "the reply has no data[0].id");
    return id;
}

int xuan_eval_endpoint_models(const xuan_eval_backend *b, char **out, xuan_error *err) {
    *out = NULL;
    if (!b || b->generate != ep_generate) return xuan_fail(err, XUAN_ERR_USAGE, "endpoint models: not an endpoint");
    const endpoint *e = b->self;
    struct curl_slist *hl = header_list(e);
    json_t *arr = json_array();
    int rc = hl && arr ? 0 : xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    const char *first = NULL;
    size_t first_k = 0;
    for (size_t k = 0; !rc && k < e->n; k++) {
        char url[4096], cerr[CURL_ERROR_SIZE] = "";
        snprintf(url, sizeof url, "%s/models", e->sv[k].base);
        body bd = {0};
        headers hd = {0};
        long status = 0;
        CURLcode cc = perform(url, hl, NULL, e->timeout_s < 10 ? e->timeout_s : 10,
                              e->connect_timeout_s < 5 ? e->connect_timeout_s : 5, &bd, &hd, &status, cerr);
        xuan_error why = {0};
        json_t *j = NULL;
        const char *id = NULL;
        if (cc != CURLE_OK) xuan_fail(&why, XUAN_ERR_IO, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        else if (status != 200) xuan_fail(&why, XUAN_ERR_IO, "HTTP %ld", status);
        else if ((j = load_reply(bd.b.len ? bd.b.data : "", bd.b.len, &why)) != NULL) id = served_id(j, &why);
        json_t *o = json_pack("{s:s, s:s?}", "url", e->sv[k].base, "model_id", id);
        if (o && !id) json_object_set_new(o, "error", json_string(why.msg));
        if (!o || json_array_append_new(arr, o)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        const char *kept = id ? json_string_value(json_object_get(o, "model_id")) : NULL;
        if (!rc && kept && first && strcmp(first, kept))
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "the endpoints serve different models: %s serves '%.100s', %s serves '%.100s'",
                           e->sv[first_k].base, first, e->sv[k].base, kept);
        if (kept && !first) first = kept, first_k = k;
        json_decref(j);
        xuan_buf_free(&bd.b);
    }
    char *s = !rc ? json_dumps(arr, JSON_COMPACT) : NULL;
    if (!rc && !(*out = s ? xuan_strdup(s) : NULL)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    free(s);
    json_decref(arr);
    curl_slist_free_all(hl);
    return rc;
}
