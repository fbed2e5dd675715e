/*
 * answer.c — what a generation request gets back: the whole body of a
 * finished request (chat.completion / text_completion), or the SSE stream
 *
 *     data: {"object": "chat.completion.chunk", "choices": [{"delta": ...}]}\n\n
 *     ... one chunk per new piece of text (and its tokens' logprobs) ...
 *     data: {... "finish_reason": "stop"}\n\n
 *     data: {... "choices": [], "usage": {...}}\n\n      (stream_options.include_usage)
 *     data: [DONE]\n\n
 *
 * written by libmicrohttpd's content-reader callback on the connection's
 * own thread, which waits on the job between pieces and sends a comment
 * line (": keep-alive") every 10 s of silence (e.g. while queued).
 * Reasoning: a finished answer is split by xuan_chat_parse_output in the
 * template family's syntax; a stream splits a leading <think> block (or one
 * the prompt opened) as it arrives, into reasoning_content deltas.
 */
#include "http.h"
#include "json_out.h"
#include "tools.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reasoning split of a growing text -------------------------------------- */

typedef struct span {
    size_t p, n;
} span;

static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static size_t skip_ws(const char *t, size_t i, size_t n) {
    while (i < n && is_ws(t[i])) i++;
    return i;
}

/* The parts of t[0..n) that are safe to send as reasoning and as content:
 * text that could still become "<think>" or "</think>" is held back unless
 * final.  Both parts only grow as t grows. */
static void think_split(const char *t, size_t n, bool open, bool final, span *r, span *c) {
    static const char OPEN[] = "<think>", CLOSE[] = "</think>";
    *r = (span){0, 0}, *c = (span){0, 0};
    size_t body = 0;
    if (!open) {
        size_t i = skip_ws(t, 0, n);
        if (!final && n - i < 7 && memcmp(t + i, OPEN, n - i) == 0) return; /* maybe "<think>" */
        if (n - i < 7 || memcmp(t + i, OPEN, 7) != 0) {
            *c = (span){0, n};
            return;
        }
        body = i + 7;
    }
    size_t r0 = skip_ws(t, body, n);
    const char *close = memmem(t + body, n - body, CLOSE, 8);
    if (close) {
        size_t ce = (size_t)(close - t);
        *r = (span){r0 < ce ? r0 : ce, r0 < ce ? ce - r0 : 0};
        size_t c0 = skip_ws(t, ce + 8, n);
        *c = (span){c0, n - c0};
        return;
    }
    size_t hold = 0;
    for (size_t k = 7; !final && k > 0 && !hold; k--)
        if (n - r0 >= k && memcmp(t + n - k, CLOSE, k) == 0) hold = k;
    *r = (span){r0, n - r0 - hold};
}

/* ---- whole answers ------------------------------------------------------------- */

/* A call id unique while the server runs: "call_" and a counter. */
static json_t *call_id(xuan_serve *s) {
    char id[40];
    snprintf(id, sizeof id, "call_%llu", (unsigned long long)atomic_fetch_add(&s->n_id, 1));
    return json_string(id);
}

/* The answer taken apart as the non-streamed response has it. */
static int parse_answer(const xuan_serve *s, const job *j, xuan_chat_parsed *p) {
    xuan_buf text = {0};
    xuan_error err = {0};
    int rc = j->think_open ? xuan_buf_puts(&text, "<think>") : 0;
    if (!rc) rc = xuan_buf_append(&text, j->text.data ? j->text.data : "", j->text.len);
    if (!rc) rc = xuan_chat_parse_output(serve_output_syntax(s, &j->req), text.data ? text.data : "", text.len, p, &err);
    xuan_buf_free(&text);
    return rc;
}

/* The calls of an answer, with this server's ids; parallel_tool_calls
 * false keeps the first. */
static json_t *answer_calls(xuan_serve *s, const job *j, const xuan_chat_parsed *p) {
    json_t *calls = p->tool_calls_json ? json_loads(p->tool_calls_json, 0, NULL) : NULL;
    while (!j->req.parallel_tool_calls && json_array_size(calls) > 1) json_array_remove(calls, 1);
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        json_object_set_new(c, "id", call_id(s));
    }
    return calls;
}

static bool blank(const char *t) {
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r') t++;
    return !*t;
}

static json_t *chat_message(xuan_serve *s, const job *j, const char **finish) {
    xuan_chat_parsed p = {0};
    if (parse_answer(s, j, &p)) return NULL;
    json_t *calls = answer_calls(s, j, &p);
    /* only calls: content null, as OpenAI sends it */
    json_t *content = calls && blank(p.content) ? json_null() : serve_json_text(p.content, strlen(p.content));
    json_t *m = json_pack("{s:s, s:o}", "role", "assistant", "content", content);
    if (m && p.reasoning)
        json_object_set_new(m, "reasoning_content", serve_json_text(p.reasoning, strlen(p.reasoning)));
    if (m && calls) {
        json_object_set_new(m, "tool_calls", calls);
        *finish = "tool_calls";
    } else {
        json_decref(calls);
    }
    xuan_chat_parsed_free(&p);
    return m;
}

/* The prompt as text, for echo. */
static void prompt_text(const xuan_serve *s, const job *j, xuan_buf *out) {
    if (j->req.prompt) xuan_buf_append(out, j->req.prompt, j->req.prompt_len);
    else xuan_tok_decode(s->m.tok, j->ids, j->n_ids, 0, out);
}

static json_t *cmpl_logprobs(const xuan_serve *s, const job *j, size_t lp0, bool with_prompt, size_t *text_off) {
    json_t *o = serve_json_cmpl_lps_new();
    if (with_prompt && j->prompt_lps)
        serve_json_cmpl_lps_add(o, s->m.tok, j->prompt_lps, j->n_prompt_lps, text_off, j->req.top_logprobs);
    if (j->n_lps > lp0)
        serve_json_cmpl_lps_add(o, s->m.tok, j->lps + lp0, j->n_lps - lp0, text_off, j->req.top_logprobs);
    return o;
}

static json_t *envelope(xuan_serve *s, const job *j, const char *object, json_t *choices) {
    char id[64];
    snprintf(id, sizeof id, "%s-%llu", j->req.kind == XUAN_SERVE_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)atomic_fetch_add(&s->n_id, 1));
    return json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", id, "object", object, "created", (json_int_t)time(NULL),
                     "model", s->model_id, "choices", choices);
}

static json_t *final_choice(xuan_serve *s, const job *j) {
    const char *finish = j->finish ? j->finish : "stop";
    json_t *choice;
    const int index = (int)j->index;
    if (j->req.kind == XUAN_SERVE_CHAT) {
        json_t *m = chat_message(s, j, &finish);
        if (!m) return NULL;
        json_t *lp = j->req.logprobs ? serve_json_chat_lps(s->m.tok, j->lps, j->n_lps) : json_null();
        choice = json_pack("{s:i, s:o, s:o, s:s}", "index", index, "message", m, "logprobs", lp, "finish_reason", finish);
    } else {
        xuan_buf text = {0};
        if (j->req.echo) prompt_text(s, j, &text);
        xuan_buf_append(&text, j->text.data ? j->text.data : "", j->text.len);
        size_t off = 0;
        json_t *lp = j->req.logprobs ? cmpl_logprobs(s, j, 0, j->req.echo, &off) : json_null();
        choice = json_pack("{s:o, s:i, s:o, s:s}", "text", serve_json_text(text.data ? text.data : "", text.len),
                           "index", index, "logprobs", lp, "finish_reason", finish);
        xuan_buf_free(&text);
    }
    return choice;
}

json_t *serve_json_final(xuan_serve *s, job *const *jobs, uint32_t n) {
    json_t *choices = json_array();
    for (uint32_t i = 0; i < n && choices; i++) {
        json_t *c = final_choice(s, jobs[i]);
        if (!c || json_array_append_new(choices, c)) json_decref(choices), choices = NULL;
    }
    if (!choices) return NULL;
    json_t *o = envelope(s, jobs[0], jobs[0]->req.kind == XUAN_SERVE_CHAT ? "chat.completion" : "text_completion",
                         choices);
    if (o) json_object_set_new(o, "usage", serve_json_usage(jobs, n));
    return o;
}

/* ---- streams -------------------------------------------------------------------- */

/* What one choice has sent so far. */
typedef struct sent {
    size_t r, c;           /* bytes of reasoning / content sent (chat), of text (completions) */
    size_t lps;
    size_t calls, args;    /* tool calls sent whole; bytes of the open call's arguments */
    bool call_open;        /* the call the server writes has been announced */
    bool started, echo, finished;
} sent;

typedef struct stream {
    xuan_serve *s;
    job *jobs[XUAN_SERVE_MAX_N]; /* the choices, by index */
    sent ch[XUAN_SERVE_MAX_N];
    uint32_t n;
    int fd;
    xuan_buf out;          /* SSE bytes not yet handed to MHD */
    size_t out_off;
    bool done;
    char id[64];
    json_int_t created;
    double t_last;
} stream;

static void put_event(stream *st, json_t *o) {
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return;
    xuan_buf_printf(&st->out, "data: %s\n\n", text);
    free(text);
}

static json_t *chunk(stream *st, json_t *choice) {
    const bool chat = st->jobs[0]->req.kind == XUAN_SERVE_CHAT;
    return json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", st->id, "object",
                     chat ? "chat.completion.chunk" : "text_completion", "created", st->created, "model",
                     st->s->model_id, "choices", choice ? json_pack("[o]", choice) : json_array());
}

/* How much of the content span c may go out before the end when the
 * answer can hold a tool call: nothing from the call's opener on, no tail
 * that may still become an opener, no trailing whitespace (it goes with a
 * call that follows, as the parser drops it).  Harmony's channels and a
 * Llama 3 answer that starts like a JSON call wait for the end. */
static size_t content_ready(const xuan_serve *s, const job *j, const char *t, span c) {
    if (j->req.tool_choice == XUAN_SERVE_TOOLS_NONE) return c.n;
    const call_syntax *cs = serve_call_syntax(s->m.syntax);
    size_t end = c.p + c.n;
    if (s->m.syntax == XUAN_CHAT_SYNTAX_HARMONY || !cs) return 0;
    if (s->m.syntax == XUAN_CHAT_SYNTAX_LLAMA3) {
        size_t i = skip_ws(t, c.p, end);
        static const char TAG[] = "<|python_tag|>";
        size_t k = end - i < 14 ? end - i : 14;
        if (i == end || t[i] == '{' || memcmp(t + i, TAG, k) == 0) return 0;
    }
    if (j->call != CALL_OFF && j->call != CALL_WATCH && j->call_at < end) end = j->call_at > c.p ? j->call_at : c.p;
    if (cs->trigger && (j->call == CALL_WATCH)) {
        size_t tn = strlen(cs->trigger);
        for (size_t k = tn - 1; k > 0; k--)
            if (end - c.p >= k && memcmp(t + end - k, cs->trigger, k) == 0) {
                end -= k;
                break;
            }
    }
    while (end > c.p && is_ws(t[end - 1])) end--;
    return end - c.p;
}

/* Under s->mu, a chat stream: the tool call the server writes as it
 * grows (the first chunk with id and name, then pieces of arguments). */
static void stream_call(stream *st, const job *j, sent *o) {
    if (j->call_tool < 0 || (j->call != CALL_ARGS && j->call != CALL_DONE)) return;
    if (!o->call_open) {
        o->call_open = true;
        put_event(st, chunk(st, json_pack("{s:i, s:{s:[{s:I, s:o, s:s, s:{s:s, s:s}}]}, s:n, s:n}", "index",
                                          (int)j->index, "delta", "tool_calls", "index", (json_int_t)o->calls, "id",
                                          call_id(st->s), "type", "function", "function", "name",
                                          j->req.tools[j->call_tool].name, "arguments", "", "logprobs",
                                          "finish_reason")));
    }
    size_t end = j->call == CALL_DONE ? j->args_end : j->text.len, from = j->args_at + o->args;
    if (end <= from) return;
    put_event(st, chunk(st, json_pack("{s:i, s:{s:[{s:I, s:{s:o}}]}, s:n, s:n}", "index", (int)j->index, "delta",
                                      "tool_calls", "index", (json_int_t)o->calls, "function", "arguments",
                                      serve_json_text(j->text.data + from, end - from), "logprobs",
                                      "finish_reason")));
    o->args = end - j->args_at;
}

/* Under s->mu, the end of a chat stream with tools: what the parse of the
 * whole answer has beyond what was sent (content held back, calls the
 * model wrote itself), so the stream adds up to the non-streamed answer.
 * Returns whether the answer holds calls. */
static bool stream_tail(stream *st, const job *j, sent *o, const char *t, span c) {
    xuan_chat_parsed p = {0};
    if (parse_answer(st->s, j, &p)) return false;
    size_t n = strlen(p.content);
    if (n > o->c && memcmp(p.content, t + c.p, o->c) == 0)
        put_event(st, chunk(st, json_pack("{s:i, s:{s:o}, s:n, s:n}", "index", (int)j->index, "delta", "content",
                                          serve_json_text(p.content + o->c, n - o->c), "logprobs",
                                          "finish_reason")));
    json_t *calls = answer_calls(st->s, j, &p);
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call) {
        if (i < o->calls + o->call_open) continue;
        json_object_set_new(call, "index", json_integer((json_int_t)i));
        put_event(st, chunk(st, json_pack("{s:i, s:{s:[O]}, s:n, s:n}", "index", (int)j->index, "delta",
                                          "tool_calls", call, "logprobs", "finish_reason")));
    }
    bool any = json_array_size(calls) > 0; /* a call cut by max_tokens is text, as in the whole answer */
    json_decref(calls);
    xuan_chat_parsed_free(&p);
    return any;
}

/* Under s->mu: what is new in choice j since the last call, as events. */
static void produce_choice(stream *st, job *j, sent *o) {
    xuan_serve *s = st->s;
    const bool chat = j->req.kind == XUAN_SERVE_CHAT, final = j->state == JOB_DONE;
    const int index = (int)j->index;
    if (!o->started) {
        o->started = true;
        if (chat)
            put_event(st, chunk(st, json_pack("{s:i, s:{s:s, s:s}, s:n, s:n}", "index", index, "delta", "role",
                                              "assistant", "content", "", "logprobs", "finish_reason")));
    }
    const char *t = j->text.data ? j->text.data : "";
    size_t n = j->text.len;
    json_t *lp = NULL;
    if (j->req.logprobs && j->n_lps > o->lps) {
        size_t off = 0;
        lp = chat ? serve_json_chat_lps(s->m.tok, j->lps + o->lps, j->n_lps - o->lps)
                  : cmpl_logprobs(s, j, o->lps, false, &off);
        o->lps = j->n_lps;
    }
    span r = {0, 0}, c = {0, n};
    const bool tools = chat && j->req.tool_choice != XUAN_SERVE_TOOLS_NONE;
    if (chat) {
        if (serve_output_syntax(s, &j->req) != XUAN_CHAT_SYNTAX_HARMONY) think_split(t, n, j->think_open, final, &r, &c);
        if (tools) c.n = content_ready(s, j, t, c); /* the rest at the end, from the parse */
        json_t *delta = json_object();
        if (r.n > o->r) json_object_set_new(delta, "reasoning_content", serve_json_text(t + r.p + o->r, r.n - o->r));
        if (c.n > o->c) json_object_set_new(delta, "content", serve_json_text(t + c.p + o->c, c.n - o->c));
        if (r.n > o->r) o->r = r.n;
        if (c.n > o->c) o->c = c.n;
        if (json_object_size(delta) || lp)
            put_event(st, chunk(st, json_pack("{s:i, s:o, s:o, s:n}", "index", index, "delta", delta, "logprobs",
                                              lp ? lp : json_null(), "finish_reason")));
        else
            json_decref(delta);
        if (tools) stream_call(st, j, o);
    } else {
        xuan_buf echo = {0};
        if (j->req.echo && !o->echo && (final || j->n_gen > 0)) {
            /* the prompt goes first, once (its logprobs are complete once a token was sampled) */
            prompt_text(s, j, &echo);
            o->echo = true;
            if (j->prompt_lps) {
                size_t off = 0;
                json_t *plp = serve_json_cmpl_lps_new();
                serve_json_cmpl_lps_add(plp, s->m.tok, j->prompt_lps, j->n_prompt_lps, &off, j->req.top_logprobs);
                put_event(st, chunk(st, json_pack("{s:o, s:i, s:o, s:n}", "text",
                                                  serve_json_text(echo.data ? echo.data : "", echo.len), "index",
                                                  index, "logprobs", plp, "finish_reason")));
                xuan_buf_reset(&echo);
            }
        }
        if (n > o->c || echo.len || lp) {
            xuan_buf_append(&echo, t + o->c, n - o->c);
            put_event(st, chunk(st, json_pack("{s:o, s:i, s:o, s:n}", "text",
                                              serve_json_text(echo.data ? echo.data : "", echo.len), "index", index,
                                              "logprobs", lp ? lp : json_null(), "finish_reason")));
            o->c = n;
        } else {
            json_decref(lp);
        }
        xuan_buf_free(&echo);
    }
    if (!final) return;
    const char *finish = j->finish ? j->finish : "stop";
    if (tools && stream_tail(st, j, o, t, c)) finish = "tool_calls";
    put_event(st, chunk(st, chat ? json_pack("{s:i, s:{}, s:n, s:s}", "index", index, "delta", "logprobs",
                                             "finish_reason", finish)
                                 : json_pack("{s:s, s:i, s:n, s:s}", "text", "", "index", index, "logprobs",
                                             "finish_reason", finish)));
    o->finished = true;
}

/* Under s->mu: what is new in the request's choices, as events; the end
 * once every choice finished. */
static void produce(stream *st) {
    for (uint32_t i = 0; i < st->n; i++)
        if (st->jobs[i]->err_status) {
            put_event(st, serve_json_error(st->jobs[i]->err_msg, "server_error", NULL, NULL));
            xuan_buf_puts(&st->out, "data: [DONE]\n\n");
            st->done = true;
            return;
        }
    bool all = true;
    for (uint32_t i = 0; i < st->n; i++) {
        if (!st->ch[i].finished) produce_choice(st, st->jobs[i], &st->ch[i]);
        all = all && st->ch[i].finished;
    }
    if (!all) return;
    if (st->jobs[0]->req.include_usage) {
        json_t *u = chunk(st, NULL);
        if (u) json_object_set_new(u, "usage", serve_json_usage(st->jobs, st->n));
        put_event(st, u);
    }
    xuan_buf_puts(&st->out, "data: [DONE]\n\n");
    st->done = true;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    stream *st = cls;
    xuan_serve *s = st->s;
    for (;;) {
        if (st->out_off < st->out.len) {
            size_t n = st->out.len - st->out_off < max ? st->out.len - st->out_off : max;
            memcpy(buf, st->out.data + st->out_off, n);
            st->out_off += n;
            if (st->out_off == st->out.len) xuan_buf_reset(&st->out), st->out_off = 0;
            st->t_last = xuan_time_s();
            return (ssize_t)n;
        }
        if (st->done) return MHD_CONTENT_READER_END_OF_STREAM;
        if (serve_peer_gone(st->fd)) {
            for (uint32_t i = 0; i < st->n; i++) serve_cancel(s, st->jobs[i]);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        pthread_mutex_lock(&s->mu);
        produce(st);
        if (!st->out.len && !st->done) {
            serve_wait_job(s, st->jobs[0]);
            produce(st);
        }
        pthread_mutex_unlock(&s->mu);
        if (!st->out.len && xuan_time_s() - st->t_last > 10) xuan_buf_puts(&st->out, ": keep-alive\n\n");
    }
}

/* The HTTP side's references on jobs, siblings first (they hold the lead). */
static void release(xuan_serve *s, job *const *jobs, uint32_t n) {
    for (uint32_t i = n; i-- > 0;) {
        serve_cancel(s, jobs[i]); /* a no-op once it finished */
        serve_job_unref(s, jobs[i]);
    }
    serve_active_done(s);
}

static void reader_free(void *cls) {
    stream *st = cls;
    release(st->s, st->jobs, st->n);
    xuan_buf_free(&st->out);
    xuan_free(st);
}

enum MHD_Result serve_stream(xuan_serve *s, struct MHD_Connection *c, job *const *jobs, uint32_t n, int fd) {
    stream *st = xuan_calloc(1, sizeof *st);
    struct MHD_Response *r = st ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, st,
                                                                    reader_free)
                                : NULL;
    if (!r) {
        xuan_free(st);
        release(s, jobs, n);
        return MHD_NO;
    }
    const job *j = jobs[0];
    st->s = s, st->fd = fd, st->n = n;
    memcpy(st->jobs, jobs, n * sizeof *jobs);
    st->created = (json_int_t)time(NULL);
    st->t_last = xuan_time_s();
    snprintf(st->id, sizeof st->id, "%s-%llu", j->req.kind == XUAN_SERVE_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)atomic_fetch_add(&s->n_id, 1));
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r); /* reader_free runs when MHD is done with it */
    return ok;
}
