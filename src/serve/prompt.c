/*
 * prompt.c — a parsed request becomes a job: the chat messages rendered by
 * the model's template (chat_template_kwargs passed on), the prompt
 * tokenized and checked against the vocabulary and the slot's context,
 * the sampler and the stop filter made.  Runs on the HTTP thread, so a bad
 * request is answered before it takes a place in the queue.
 */
#include "internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Plain role/content pairs for the built-in renderers and the raw join. */
static int render_plain(const xuan_serve *s, const char *messages_json, const char *bos, const char *eos,
                        xuan_buf *out, xuan_error *err) {
    json_t *a = json_loads(messages_json, 0, NULL);
    size_t n = json_array_size(a);
    xuan_chat_msg *msgs = xuan_calloc(n ? n : 1, sizeof *msgs);
    xuan_buf parts = {0};
    int rc = 0;
    if (!a || !msgs) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    /* content as one string: parts joined; the offsets are filled in after
     * the buffer stops moving */
    size_t *off = rc ? NULL : xuan_calloc(n ? n : 1, sizeof *off);
    if (!rc && !off) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *m = json_array_get(a, i), *c = json_object_get(m, "content");
        off[i] = parts.len;
        if (json_is_string(c)) rc = xuan_buf_append(&parts, json_string_value(c), json_string_length(c));
        for (size_t k = 0; json_is_array(c) && k < json_array_size(c) && !rc; k++) {
            json_t *t = json_object_get(json_array_get(c, k), "text");
            rc = xuan_buf_append(&parts, json_string_value(t), json_string_length(t));
        }
        if (!rc) rc = xuan_buf_append(&parts, "", 1); /* NUL between contents */
        if (rc) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        msgs[i].role = json_string_value(json_object_get(json_array_get(a, i), "role"));
        msgs[i].content = parts.data + off[i];
    }
    if (!rc && s->m.fmt) {
        xuan_chat_opts co = xuan_chat_opts_default();
        co.bos_token = bos, co.eos_token = eos;
        rc = xuan_chat_render(s->m.fmt, msgs, n, &co, out, err);
    } else {
        for (size_t i = 0; i < n && !rc; i++)
            if (xuan_buf_puts(out, msgs[i].content)) rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    xuan_free(off);
    xuan_free(msgs);
    xuan_buf_free(&parts);
    json_decref(a);
    return rc;
}

/* The chat prompt's ids; j->think_open when the generation prompt opened a
 * <think> block (the answer then starts inside it); a forced tool call's
 * opener ends the prompt. */
static int chat_ids(const xuan_serve *s, job *j, xuan_tok_ids *ids, const char **param, xuan_error *err) {
    const xuan_serve_request *r = &j->req;
    char bos[128], eos[128];
    const char *bos_s = xuan_gen_token_str(s->m.tok, xuan_tok_bos(s->m.tok), bos, sizeof bos);
    const char *eos_s = xuan_gen_token_str(s->m.tok, xuan_tok_eos(s->m.tok), eos, sizeof eos);
    xuan_buf text = {0};
    int rc;
    if (s->m.jinja) {
        xuan_chat_template_opts to = xuan_chat_template_opts_default();
        to.bos_token = bos_s, to.eos_token = eos_s;
        to.kwargs_json = r->kwargs_json;
        to.tools_json = r->tools_json;
        rc = xuan_chat_template_render(s->m.jinja, r->messages_json, &to, &text, err);
    } else {
        rc = render_plain(s, r->messages_json, bos_s, eos_s, &text, err);
    }
    if (rc) {
        xuan_buf_free(&text);
        return rc;
    }
    size_t n = text.len;
    while (n && (text.data[n - 1] == '\n' || text.data[n - 1] == ' ')) n--;
    j->think_open = n >= 7 && memcmp(text.data + n - 7, "<think>", 7) == 0;
    rc = serve_call_begin(s, j, &text, param, err);
    if (!rc) rc = xuan_gen_encode_prompt(s->m.tok, text.data, text.len, bos_s, ids, err);
    xuan_buf_free(&text);
    return rc;
}

static int completion_ids(const xuan_serve *s, const xuan_serve_request *r, xuan_tok_ids *ids, int *status,
                          xuan_error *err) {
    if (r->prompt) return xuan_tok_encode(s->m.tok, r->prompt, r->prompt_len,
                                          XUAN_TOK_PARSE_SPECIAL | XUAN_TOK_ADD_SPECIAL, ids, err);
    const uint32_t n_vocab = xuan_model_hparams(s->m.model)->n_vocab;
    for (size_t i = 0; i < r->n_prompt_ids; i++)
        if ((uint32_t)r->prompt_ids[i] >= n_vocab) {
            *status = 400;
            return xuan_fail(err, XUAN_ERR_USAGE, "prompt token %zu is id %d, outside the vocabulary of %u", i,
                             r->prompt_ids[i], n_vocab);
        }
    ids->ids = xuan_alloc_array(r->n_prompt_ids, sizeof *ids->ids);
    if (!ids->ids) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    memcpy(ids->ids, r->prompt_ids, r->n_prompt_ids * sizeof *ids->ids);
    ids->n = ids->cap = r->n_prompt_ids;
    return 0;
}

/* The request's ids; the empty prompt starts from BOS (or EOS). */
static int prompt_ids(const xuan_serve *s, job *j, xuan_tok_ids *ids, int *status, const char **param,
                      xuan_error *err) {
    int rc = j->req.kind == XUAN_SERVE_CHAT ? chat_ids(s, j, ids, param, err)
                                            : completion_ids(s, &j->req, ids, status, err);
    if (rc) return rc;
    if (ids->n == 0) {
        int32_t start = xuan_tok_bos(s->m.tok) >= 0 ? xuan_tok_bos(s->m.tok) : xuan_tok_eos(s->m.tok);
        if (start < 0) {
            *status = 400;
            return xuan_fail(err, XUAN_ERR_USAGE, "the prompt is empty and the vocabulary has no BOS token");
        }
        xuan_tok_ids_free(ids);
        ids->ids = xuan_malloc(sizeof *ids->ids);
        if (!ids->ids) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        ids->ids[0] = start;
        ids->n = ids->cap = 1;
    }
    return 0;
}

static job *job_alloc(xuan_error *err) {
    job *j = xuan_calloc(1, sizeof *j);
    if (!j) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_cond_init(&j->cv, NULL);
    j->refs = 1;
    j->slot = -1;
    j->call_tool = -1;
    return j;
}

/* What every choice has of its own: the sampler (with `seed`), the
 * constraint's state, the stop filter, room for prompt logprobs. */
static int job_prepare(xuan_serve *s, job *j, uint64_t seed, int *status, xuan_error *err) {
    const int32_t n_vocab = (int32_t)xuan_model_hparams(s->m.model)->n_vocab;
    xuan_sampler_params sp = j->req.sp;
    sp.seed = seed;
    *status = 400;
    j->smp = xuan_sampler_create(n_vocab, &sp, err);
    if (!j->smp) return err->code;
    *status = 500;
    if (j->req.ignore_eos) {
        size_t n_eog;
        const int32_t *eog = xuan_tok_eog_ids(s->m.tok, &n_eog);
        for (size_t i = 0; i < n_eog; i++) xuan_sampler_ban(j->smp, eog[i], true);
    }
    for (size_t i = 0; i < j->n_ids; i++) xuan_sampler_accept(j->smp, j->ids[i]); /* as llama.cpp does */
    if (j->req.json && !(j->json = xuan_json_state_create(j->req.json, err))) return err->code;
    const char *stops[XUAN_SERVE_MAX_STOPS + 1];
    size_t n_stops = 0;
    for (size_t i = 0; i < j->req.n_stops; i++) stops[n_stops++] = j->req.stops[i];
    if (s->m.end_of_turn && j->req.kind == XUAN_SERVE_CHAT) stops[n_stops++] = s->m.end_of_turn;
    j->stop = xuan_stop_create(stops, n_stops, err);
    if (!j->stop) {
        *status = 400;
        return err->code;
    }
    if (j->req.echo && j->req.logprobs) {
        j->prompt_lps = xuan_calloc(j->n_ids, sizeof *j->prompt_lps);
        if (!j->prompt_lps) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < j->n_ids; i++) j->prompt_lps[i].id = j->ids[i];
        j->n_prompt_lps = j->n_ids;
    }
    return 0;
}

job *serve_job_new(xuan_serve *s, xuan_serve_request *r, int *status, const char **param, xuan_error *err) {
    *status = 500;
    *param = NULL;
    job *j = job_alloc(err);
    if (!j) return NULL;
    j->req = *r; /* the job owns the request's strings now */
    memset(r, 0, sizeof *r);
    xuan_tok_ids ids = {0};
    int rc = prompt_ids(s, j, &ids, status, param, err);
    if (rc) {
        /* a template that raised, bad JSON for it, tool messages a built-in
         * renderer cannot show: the client's fault */
        if (rc == XUAN_ERR_USAGE || rc == XUAN_ERR_FORMAT || rc == XUAN_ERR_FULL || rc == XUAN_ERR_UNSUPPORTED)
            *status = 400;
        xuan_tok_ids_free(&ids);
        serve_job_free(j);
        return NULL;
    }
    j->ids = ids.ids;
    j->n_ids = ids.n;
    if (j->n_ids >= s->n_ctx_slot) {
        *status = 400;
        xuan_fail(err, XUAN_ERR_USAGE,
                  "the prompt has %zu tokens but a slot's context holds %u (it needs room for at least one more); "
                  "send a shorter prompt or start the server with a larger -c or fewer -np slots",
                  j->n_ids, s->n_ctx_slot);
        serve_job_free(j);
        return NULL;
    }
    if (job_prepare(s, j, j->req.sp.seed, status, err)) {
        serve_job_free(j);
        return NULL;
    }
    uint64_t limit_ns = (uint64_t)s->p.request_timeout_s * 1000000000ull;
    j->t_submit = xuan_time_s();
    j->deadline_ns = xuan_time_ns() + limit_ns;
    return j;
}

job *serve_job_sibling(xuan_serve *s, job *lead, uint32_t index, xuan_error *err) {
    job *j = job_alloc(err);
    if (!j) return NULL;
    j->req = lead->req;
    j->lead = lead;
    lead->refs++; /* the request's strings live as long as a sibling does */
    j->index = index;
    j->think_open = lead->think_open;
    j->t_submit = lead->t_submit;
    j->deadline_ns = lead->deadline_ns;
    j->ids = xuan_alloc_array(lead->n_ids, sizeof *j->ids);
    int status, rc = j->ids ? 0 : xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    if (!rc) {
        memcpy(j->ids, lead->ids, lead->n_ids * sizeof *j->ids);
        j->n_ids = lead->n_ids;
        /* seed + index: the lead's seed is the clock's when none was asked */
        rc = job_prepare(s, j, xuan_sampler_seed(lead->smp) + index, &status, err);
    }
    /* a forced call starts where the lead's does */
    if (!rc && lead->text.len && xuan_buf_append(&j->text, lead->text.data, lead->text.len))
        rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    j->call = lead->call, j->call_tool = lead->call_tool;
    j->call_at = lead->call_at, j->name_at = lead->name_at, j->args_at = lead->args_at;
    if (!rc && (j->call == CALL_NAME || j->call == CALL_ARGS)) {
        j->call_json = xuan_json_state_create(j->call == CALL_NAME ? j->req.tool_names : j->req.tools[j->call_tool].params, err);
        if (!j->call_json) rc = err->code;
    }
    if (rc) {
        /* before submission only this thread knows the jobs */
        lead->refs--;
        serve_job_free(j);
        return NULL;
    }
    return j;
}
