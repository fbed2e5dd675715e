/*
 * http.c — libmicrohttpd front: limits, routing, authentication, the
 * non-streaming answers and the server's lifetime (start, attach, drain).
 *
 *   limits     body (413, from Content-Length or while reading), headers
 *              (MHD's connection memory: 431), idle connections
 *              (MHD_OPTION_CONNECTION_TIMEOUT), open connections
 *   routes     / (the chat page) /health /v1/models /v1/chat/completions /v1/completions
 *              /tokenize /detokenize /metrics (the /v1 prefix is optional)
 *   waiting    a non-streaming request waits on its job and polls its
 *              socket: a client that hangs up cancels the job at once
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a thread
 * may block on its job; streams are in stream.c.
 */
#include "http.h"
#include "json_out.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

xuan_serve_params xuan_serve_params_default(void) {
    return (xuan_serve_params){.host = "127.0.0.1", .port = 8080, .n_slots = 1, .max_queue = 64,
                               .max_body = 4u << 20, .max_header = 32u << 10, .max_connections = 256,
                               .idle_timeout_s = 60, .request_timeout_s = 600, .prefill_chunk = 256,
                               .model_id = "xuan"};
}

uint16_t xuan_serve_port(const xuan_serve *s) { return s->port; }

/* ---- responses ------------------------------------------------------------ */

enum MHD_Result serve_send(struct MHD_Connection *c, unsigned status, json_t *body, const char *retry_after) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static const char *error_type(unsigned status) {
    switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

enum MHD_Result serve_error(struct MHD_Connection *c, unsigned status, const char *param, const char *code,
                            const char *msg) {
    return serve_send(c, status, serve_json_error(msg, error_type(status), param, code),
                      status == 503 ? "1" : NULL);
}

/* ---- per-request state ------------------------------------------------------ */

typedef struct conn_req {
    xuan_buf body;
    bool too_big;
} conn_req;

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t) {
    conn_req *r = *con_cls;
    if (!r) return;
    xuan_buf_free(&r->body);
    xuan_free(r);
    *con_cls = NULL;
}

int serve_conn_fd(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

bool serve_peer_gone(int fd) {
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Constant-time in the key's length: every byte is compared. */
static bool key_ok(const xuan_serve *s, struct MHD_Connection *c) {
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0) return false;
    const char *k = h + 7, *want = s->api_key;
    size_t nk = strlen(k), nw = strlen(want);
    unsigned char diff = (unsigned char)(nk != nw);
    for (size_t i = 0; i < nw; i++) diff |= (unsigned char)(want[i] ^ (i < nk ? k[i] : 0));
    return diff == 0;
}

/* ---- endpoints --------------------------------------------------------------- */

static enum MHD_Result models(xuan_serve *s, struct MHD_Connection *c) {
    const xuan_hparams *hp = xuan_model_hparams(s->m.model);
    json_t *m = json_pack("{s:s, s:s, s:I, s:s, s:{s:I, s:I, s:I, s:I}}", "id", s->model_id, "object", "model",
                          "created", (json_int_t)time(NULL), "owned_by", "xuan", "meta", "n_ctx",
                          (json_int_t)xuan_ctx_n_ctx(s->m.ctx), "n_ctx_slot", (json_int_t)s->n_ctx_slot,
                          "n_slots", (json_int_t)s->p.n_slots, "n_vocab", (json_int_t)hp->n_vocab);
    return serve_send(c, 200, json_pack("{s:s, s:[o]}", "object", "list", "data", m), NULL);
}

static enum MHD_Result metrics(xuan_serve *s, struct MHD_Connection *c) {
    xuan_buf b = {0};
    pthread_mutex_lock(&s->mu);
    xuan_buf_printf(&b,
                    "# TYPE xuan_requests_total counter\nxuan_requests_total %llu\n"
                    "# TYPE xuan_request_errors_total counter\nxuan_request_errors_total %llu\n"
                    "# TYPE xuan_prompt_tokens_total counter\nxuan_prompt_tokens_total %llu\n"
                    "# TYPE xuan_generated_tokens_total counter\nxuan_generated_tokens_total %llu\n"
                    "# TYPE xuan_queue_length gauge\nxuan_queue_length %u\n"
                    "# TYPE xuan_slots_busy gauge\nxuan_slots_busy %u\n"
                    "# TYPE xuan_slots gauge\nxuan_slots %u\n"
                    "# TYPE xuan_time_to_first_token_seconds summary\n"
                    "xuan_time_to_first_token_seconds_sum %.6f\nxuan_time_to_first_token_seconds_count %llu\n",
                    (unsigned long long)s->n_requests, (unsigned long long)s->n_errors,
                    (unsigned long long)s->n_prompt_tokens, (unsigned long long)s->n_gen_tokens, s->n_queued,
                    s->n_running, s->p.n_slots, s->ttft_sum_s, (unsigned long long)s->n_ttft);
    pthread_mutex_unlock(&s->mu);
    if (!b.data) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
    xuan_buf_free(&b);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

/* A JSON object body, or an error already queued (*sent). */
static json_t *json_body(struct MHD_Connection *c, const conn_req *r, enum MHD_Result *sent) {
    json_error_t je;
    json_t *o = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!json_is_object(o)) {
        char msg[300];
        snprintf(msg, sizeof msg, "the body is not a JSON object: %s", o ? "another JSON value" : je.text);
        json_decref(o);
        *sent = serve_error(c, 400, NULL, NULL, msg);
        return NULL;
    }
    return o;
}

static enum MHD_Result tokenize(xuan_serve *s, struct MHD_Connection *c, const conn_req *r) {
    enum MHD_Result sent;
    json_t *o = json_body(c, r, &sent);
    if (!o) return sent;
    json_t *content = json_object_get(o, "content"), *add = json_object_get(o, "add_special");
    json_t *pieces = json_object_get(o, "with_pieces");
    if (!json_is_string(content) || (add && !json_is_boolean(add)) || (pieces && !json_is_boolean(pieces))) {
        json_decref(o);
        return serve_error(c, 400, "content", NULL,
                           "'content' must be a string ('add_special', 'with_pieces': booleans)");
    }
    xuan_tok_ids ids = {0};
    xuan_error err = {0};
    uint32_t flags = XUAN_TOK_PARSE_SPECIAL | (json_is_true(add) ? XUAN_TOK_ADD_SPECIAL : 0);
    if (xuan_tok_encode(s->m.tok, json_string_value(content), json_string_length(content), flags, &ids, &err)) {
        json_decref(o);
        return serve_error(c, 500, NULL, NULL, err.msg);
    }
    json_t *a = json_array();
    for (size_t i = 0; i < ids.n; i++) {
        if (!json_is_true(pieces)) {
            json_array_append_new(a, json_integer(ids.ids[i]));
            continue;
        }
        char buf[256];
        size_t n = xuan_tok_piece(s->m.tok, ids.ids[i], true, buf, sizeof buf);
        json_array_append_new(a, json_pack("{s:i, s:o}", "id", ids.ids[i], "piece",
                                           serve_json_text(buf, n < sizeof buf ? n : sizeof buf)));
    }
    xuan_tok_ids_free(&ids);
    json_decref(o);
    return serve_send(c, 200, json_pack("{s:o}", "tokens", a), NULL);
}

static enum MHD_Result detokenize(xuan_serve *s, struct MHD_Connection *c, const conn_req *r) {
    enum MHD_Result sent;
    json_t *o = json_body(c, r, &sent);
    if (!o) return sent;
    json_t *t = json_object_get(o, "tokens");
    const uint32_t n_vocab = xuan_tok_n_vocab(s->m.tok);
    size_t n = json_array_size(t);
    int32_t *ids = xuan_alloc_array(n ? n : 1, sizeof *ids);
    bool ok = json_is_array(t) && ids;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *e = json_array_get(t, i);
        ok = json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) < n_vocab;
        if (ok) ids[i] = (int32_t)json_integer_value(e);
    }
    json_decref(o);
    if (!ok) {
        xuan_free(ids);
        char msg[160];
        snprintf(msg, sizeof msg, "'tokens' must be an array of token ids in [0, %u)", n_vocab);
        return serve_error(c, 400, "tokens", NULL, msg);
    }
    xuan_buf text = {0};
    int rc = xuan_tok_decode(s->m.tok, ids, n, 0, &text);
    xuan_free(ids);
    json_t *out = rc ? NULL : json_pack("{s:o}", "content", serve_json_text(text.data ? text.data : "", text.len));
    xuan_buf_free(&text);
    return out ? serve_send(c, 200, out, NULL) : serve_error(c, 500, NULL, NULL, "out of memory");
}

/* ---- generation ---------------------------------------------------------------- */

void serve_active_done(xuan_serve *s) {
    pthread_mutex_lock(&s->mu);
    s->n_active--;
    pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
}

/* Under s->mu: waits up to 100 ms for news of j. */
void serve_wait_job(xuan_serve *s, job *j) { serve_cond_wait_ms(serve_job_cv(j), &s->mu, 100); }

static bool all_done(job *const *jobs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (jobs[i]->state != JOB_DONE) return false;
    return true;
}

static void unref_all(xuan_serve *s, job **jobs, uint32_t n) {
    for (uint32_t i = n; i-- > 0;) serve_job_unref(s, jobs[i]); /* siblings first: they hold the lead */
}

static enum MHD_Result generate(xuan_serve *s, struct MHD_Connection *c, const conn_req *r, xuan_serve_kind kind) {
    if (atomic_load(&s->draining)) return serve_error(c, 503, NULL, "shutting_down", "the server is shutting down");
    xuan_serve_request req;
    const char *param = NULL;
    xuan_error err = {0};
    if (xuan_serve_request_parse(kind, r->body.data ? r->body.data : "", r->body.len, &req, &param, &err))
        return serve_error(c, err.code == XUAN_ERR_NOMEM ? 500 : 400, param, NULL, err.msg);
    const uint32_t n = req.n;
    if (n > s->p.n_slots) {
        char msg[160];
        snprintf(msg, sizeof msg, "'n' is %u but the server has %u slots (the choices run side by side; start it "
                 "with a larger -np)", n, s->p.n_slots);
        xuan_serve_request_free(&req);
        return serve_error(c, 400, "n", NULL, msg);
    }
    int status;
    job *jobs[XUAN_SERVE_MAX_N] = {serve_job_new(s, &req, &status, &param, &err)};
    if (!jobs[0]) {
        xuan_serve_request_free(&req);
        return serve_error(c, (unsigned)status, param, NULL, err.msg);
    }
    for (uint32_t i = 1; i < n; i++)
        if (!(jobs[i] = serve_job_sibling(s, jobs[0], i, &err))) {
            unref_all(s, jobs, i);
            return serve_error(c, 500, NULL, NULL, err.msg);
        }
    pthread_mutex_lock(&s->mu);
    s->n_active++;
    pthread_mutex_unlock(&s->mu);
    if (serve_submit(s, jobs, n)) {
        unref_all(s, jobs, n);
        serve_active_done(s);
        return serve_error(c, 503, NULL, "queue_full", "all slots are busy and the queue is full; retry later");
    }
    int fd = serve_conn_fd(c);
    if (jobs[0]->req.stream) return serve_stream(s, c, jobs, n, fd); /* owns the HTTP references now */
    pthread_mutex_lock(&s->mu);
    bool gone = false;
    while (!all_done(jobs, n) && !(gone = serve_peer_gone(fd))) serve_wait_job(s, jobs[0]);
    pthread_mutex_unlock(&s->mu);
    enum MHD_Result ok;
    const job *failed = NULL;
    for (uint32_t i = 0; i < n && !failed; i++)
        if (jobs[i]->err_status) failed = jobs[i];
    if (gone) {
        for (uint32_t i = 0; i < n; i++) serve_cancel(s, jobs[i]);
        ok = MHD_NO;
    } else if (failed) {
        ok = serve_error(c, (unsigned)failed->err_status, NULL, NULL, failed->err_msg);
    } else {
        json_t *body = serve_json_final(s, jobs, n);
        ok = body ? serve_send(c, 200, body, NULL) : serve_error(c, 500, NULL, NULL, "out of memory");
    }
    unref_all(s, jobs, n);
    serve_active_done(s);
    return ok;
}

/* ---- the handler ------------------------------------------------------------------ */

static bool is(const char *url, const char *path) {
    if (strcmp(url, path) == 0) return true;
    return strncmp(url, "/v1", 3) == 0 && strcmp(url + 3, path) == 0;
}

/* The chat page (src/serve/chat_page.html, embedded at build time). */
extern const unsigned char xuan_serve_chat_page[];
extern const size_t xuan_serve_chat_page_len;

static enum MHD_Result chat_page(struct MHD_Connection *c) {
    struct MHD_Response *r = MHD_create_response_from_buffer(xuan_serve_chat_page_len, (void *)xuan_serve_chat_page,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "connect-src 'self'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result route(xuan_serve *s, struct MHD_Connection *c, const char *url, const char *method,
                             const conn_req *r) {
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    /* the page holds no secret: it asks for the key and sends it with each call */
    if (get && (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)) return chat_page(c);
    if (strcmp(url, "/health") == 0 || strcmp(url, "/v1/health") == 0) {
        if (!atomic_load(&s->ready)) return serve_send(c, 503, json_pack("{s:s}", "status", "loading"), "1");
        return serve_send(c, 200, json_pack("{s:s}", "status", "ok"), NULL);
    }
    if (s->api_key[0] && !key_ok(s, c))
        return serve_error(c, 401, NULL, "invalid_api_key",
                           "a valid API key is required: send the header 'Authorization: Bearer KEY'");
    struct {
        const char *path;
        bool post;
    } known[] = {{"/models", false}, {"/metrics", false}, {"/chat/completions", true},
                 {"/completions", true}, {"/tokenize", true}, {"/detokenize", true}};
    size_t k = 0, n_known = sizeof known / sizeof known[0];
    while (k < n_known && !is(url, known[k].path)) k++;
    if (k == n_known) return serve_error(c, 404, NULL, "not_found", "no such endpoint");
    if (known[k].post ? !post : !get) {
        char msg[96];
        snprintf(msg, sizeof msg, "this endpoint takes %s", known[k].post ? "POST" : "GET");
        return serve_error(c, 405, NULL, "method_not_allowed", msg);
    }
    if (!atomic_load(&s->ready)) return serve_error(c, 503, NULL, "loading", "the model is still loading");
    switch (k) {
    case 0: return models(s, c);
    case 1: return metrics(s, c);
    case 2: return generate(s, c, r, XUAN_SERVE_CHAT);
    case 3: return generate(s, c, r, XUAN_SERVE_COMPLETION);
    case 4: return tokenize(s, c, r);
    default: return detokenize(s, c, r);
    }
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    xuan_serve *s = cls;
    conn_req *r = *con_cls;
    if (!r) {
        r = xuan_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        int64_t len;
        if (cl && (xuan_parse_i64(cl, 0, INT64_MAX, &len) != 0 || (uint64_t)len > s->p.max_body)) r->too_big = true;
        if (r->too_big) goto too_big;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && r->body.len + *upload_size > s->p.max_body) r->too_big = true;
        if (r->too_big) goto too_big;
        if (xuan_buf_append(&r->body, upload, *upload_size)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big) goto too_big;
    return route(s, c, url, method, r);
too_big:;
    /* MHD answers and closes the connection; the rest of the body is not read */
    char msg[128];
    snprintf(msg, sizeof msg, "the request body is larger than the limit of %llu bytes",
             (unsigned long long)s->p.max_body);
    *upload_size = 0;
    return serve_error(c, 413, NULL, "body_too_large", msg);
}

/* ---- lifetime --------------------------------------------------------------------- */

xuan_serve *xuan_serve_start(const xuan_serve_params *pp, xuan_error *err) {
    xuan_serve_params p = pp ? *pp : xuan_serve_params_default();
    if (p.n_slots < 1 || p.n_slots > 64) {
        xuan_fail(err, XUAN_ERR_USAGE, "slots must be 1..64, got %u", p.n_slots);
        return NULL;
    }
    if (p.prefill_chunk < 1 || p.max_header < 1024 || p.max_connections < 1) {
        xuan_fail(err, XUAN_ERR_USAGE, "prefill chunk, header limit (>= 1024) and connection limit must be positive");
        return NULL;
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    const char *host = p.host ? p.host : "127.0.0.1";
    bool v6 = false;
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET, a4.sin_port = htons(p.port);
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6, a6.sin6_port = htons(p.port), v6 = true;
    } else {
        xuan_fail(err, XUAN_ERR_USAGE, "--host '%s' is not an IPv4 or IPv6 address", host);
        return NULL;
    }
    xuan_serve *s = xuan_calloc(1, sizeof *s);
    if (!s) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->p = p;
    snprintf(s->host, sizeof s->host, "%s", host);
    snprintf(s->api_key, sizeof s->api_key, "%s", p.api_key ? p.api_key : "");
    snprintf(s->model_id, sizeof s->model_id, "%s", p.model_id ? p.model_id : "xuan");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->sched_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    s->mhd = MHD_start_daemon(flags, p.port, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                              v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)p.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)p.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                              (size_t)p.max_header, MHD_OPTION_THREAD_STACK_SIZE, (size_t)1 << 20,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->mhd) {
        xuan_fail(err, XUAN_ERR_IO, "cannot listen on %s port %u (in use, or not an address of this machine)", host,
                  p.port);
        xuan_serve_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : p.port;
    return s;
}

int xuan_serve_attach(xuan_serve *s, const xuan_serve_model *m, xuan_error *err) {
    if (atomic_load(&s->ready)) return xuan_fail(err, XUAN_ERR_USAGE, "a model is attached already");
    if (xuan_ctx_n_seq_max(m->ctx) < s->p.n_slots)
        return xuan_fail(err, XUAN_ERR_USAGE, "the context holds %u sequences, fewer than the %u slots",
                         xuan_ctx_n_seq_max(m->ctx), s->p.n_slots);
    s->m = *m;
    s->n_ctx_slot = xuan_ctx_n_ctx(m->ctx) / s->p.n_slots;
    if (s->n_ctx_slot < 8)
        return xuan_fail(err, XUAN_ERR_USAGE, "a context of %u tokens leaves %u per slot for %u slots; use a larger -c",
                         xuan_ctx_n_ctx(m->ctx), s->n_ctx_slot, s->p.n_slots);
    s->json_vocab = xuan_json_vocab_create(m->tok, (int32_t)xuan_model_hparams(m->model)->n_vocab, err);
    if (!s->json_vocab) return err->code;
    int rc = serve_sched_start(s, err);
    if (rc) return rc;
    atomic_store(&s->ready, 1);
    return 0;
}

int xuan_serve_drain(xuan_serve *s, double max_s) {
    atomic_store(&s->draining, 1);
    /* new connections are refused from now on: MHD hands the listening
     * socket back, closing it empties the backlog */
    if (s->mhd && !s->quiesced) {
        MHD_socket fd = MHD_quiesce_daemon(s->mhd);
        if (fd != MHD_INVALID_SOCKET) close(fd);
        s->quiesced = true;
    }
    double t_end = xuan_time_s() + max_s;
    pthread_mutex_lock(&s->mu);
    while ((s->n_active || s->n_queued || s->n_running) && xuan_time_s() < t_end)
        serve_cond_wait_ms(&s->idle_cv, &s->mu, 100);
    bool left = s->n_active || s->n_queued || s->n_running;
    pthread_mutex_unlock(&s->mu);
    return left ? XUAN_ERR_FULL : 0;
}

void xuan_serve_free(xuan_serve *s) {
    if (!s) return;
    /* the scheduler first: waiting HTTP threads see their jobs end */
    serve_sched_stop(s);
    if (s->mhd) MHD_stop_daemon(s->mhd);
    xuan_json_vocab_free(s->json_vocab);
    pthread_cond_destroy(&s->idle_cv);
    pthread_cond_destroy(&s->sched_cv);
    pthread_mutex_destroy(&s->mu);
    xuan_free(s);
}
