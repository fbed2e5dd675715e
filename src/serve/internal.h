/*
 * internal.h — what the serve room's files share: the server, its jobs
 * (one per generation request) and the scheduler's entry points.
 *
 * Locking: one mutex, s->mu, guards the queue, every job's state and
 * results and the slots' job pointers.  The scheduler thread decodes and
 * samples without it and takes it to hand results over; HTTP threads wait
 * on their job's condition variable.
 */
#ifndef XUAN_SERVE_INTERNAL_H
#define XUAN_SERVE_INTERNAL_H

#include "xuan/model.h"
#include "xuan/serve.h"
#include "xuan/tok.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct lp_top {
    int32_t id;
    float lp;
} lp_top;

/* One token's log-probability and its most likely alternatives. */
typedef struct tok_lp {
    int32_t id;
    float lp;
    bool has_lp; /* false for the first prompt token (nothing predicts it) */
    uint8_t n_top;
    lp_top top[XUAN_SERVE_MAX_TOP_LOGPROBS];
} tok_lp;

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

/* A tool call the server writes (tools.c): WATCH waits for the model to
 * open one (auto), NAME and ARGS sample under call_json, DONE: closed. */
typedef enum call_phase { CALL_OFF, CALL_WATCH, CALL_NAME, CALL_ARGS, CALL_DONE } call_phase;

/* Tokens of fixed call text evaluated in one step (the name and the
 * arguments key are the longest part: 64 characters at most). */
enum { SERVE_MAX_FORCED = 128 };

/* One generation: a request's choice.  n > 1 choices are n jobs, queued
 * and started together: the first (the lead) owns the request and
 * evaluates the prompt; each sibling borrows the lead's request (holding
 * a reference on it), waits for the lead's prefill, copies its cache
 * (xuan_ctx_seq_cp) and samples with seed + index.  A group shares the
 * lead's condition variable. */
typedef struct job {
    struct job *next; /* queue link */
    /* Set by the HTTP thread before submission, read-only afterwards. */
    xuan_serve_request req; /* a sibling's is the lead's (not freed with it) */
    struct job *lead;       /* a sibling's lead, NULL for a lead */
    uint32_t index;         /* the choice index */
    int32_t *ids;
    size_t n_ids;
    xuan_sampler *smp;
    xuan_stop *stop;
    uint64_t deadline_ns;
    bool think_open;    /* the chat prompt ended inside <think> */
    xuan_json_state *json; /* response_format: the constraint's state (scheduler thread only), or NULL */
    /* Under s->mu. */
    pthread_cond_t cv;
    job_state state;
    bool cancelled;     /* the client went away */
    bool wait_lead;     /* a sibling in a slot, until the lead's prompt is in the cache */
    int slot;           /* while running */
    xuan_buf text;      /* generated text that passed the stop filter */
    tok_lp *lps;        /* generated tokens, when req.logprobs */
    size_t n_lps, cap_lps;
    tok_lp *prompt_lps; /* echo + logprobs: one per prompt token */
    size_t n_prompt_lps;
    uint32_t n_gen, n_cached;
    const char *finish; /* "stop" / "length" / "tool_calls" once done without error */
    /* the tool call being written (tools.c): offsets into text */
    call_phase call;
    int call_tool;      /* index into req.tools, -1 while the name is open */
    size_t call_at, name_at, args_at, args_end, watch_at;
    xuan_json_state *call_json; /* NAME / ARGS: the grammar of the name or the arguments */
    xuan_tok_ids forced;        /* call text to evaluate next step without sampling it */
    int err_status;     /* HTTP status of an error during generation, 0 = none */
    char err_msg[256];
    int refs;           /* HTTP side + scheduler side */
    double t_submit, t_first;
} job;

struct xuan_serve {
    xuan_serve_params p;
    char host[256], api_key[512], model_id[128];
    struct MHD_Daemon *mhd;
    bool quiesced;     /* the listening socket is closed (drain) */
    uint16_t port;
    /* set once by attach */
    xuan_serve_model m;
    atomic_int ready;
    atomic_int draining;
    uint32_t n_ctx_slot;
    xuan_json_vocab *json_vocab; /* token bytes for response_format, built at attach */
    /* scheduler */
    pthread_t sched;
    bool sched_started;
    pthread_mutex_t mu;
    pthread_cond_t sched_cv; /* new work, a cancellation, or stop */
    pthread_cond_t idle_cv;  /* a job finished (drain waits on it) */
    bool stop;
    job *queue_head, *queue_tail;
    uint32_t n_queued, n_running;
    uint32_t n_active; /* requests the HTTP side still answers (drain waits for 0) */
    struct slot *slots;
    /* counters for /metrics (under mu) */
    uint64_t n_requests, n_errors, n_prompt_tokens, n_gen_tokens, n_ttft;
    double ttft_sum_s; /* time from submission to the first token, summed */
    atomic_uint_fast64_t n_id; /* response ids */
};

/* sched.c: waits on cv (mu held) for at most ms milliseconds */
void serve_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, unsigned ms);
/* sched.c */
int serve_sched_start(xuan_serve *s, xuan_error *err);
void serve_sched_stop(xuan_serve *s);
/* Queues the n jobs of a request together (takes the scheduler's
 * references).  XUAN_ERR_FULL when the queue is full. */
int serve_submit(xuan_serve *s, job **jobs, uint32_t n);
/* The condition variable a job's news are told on (its lead's). */
pthread_cond_t *serve_job_cv(job *j);
/* Marks j cancelled and tells the engine to drop its sequence (takes s->mu). */
void serve_cancel(xuan_serve *s, job *j);
/* Drops one reference (takes s->mu); the last frees the job. */
void serve_job_unref(xuan_serve *s, job *j);
void serve_job_free(job *j);
/* log-probabilities of logits: lp of `id` and the top n alternatives */
void serve_logprobs(const float *logits, int32_t n_vocab, int32_t id, int n_top, tok_lp *out);

/* tools.c: the syntax an answer is read in (tools off: no calls). */
xuan_chat_syntax serve_output_syntax(const xuan_serve *s, const xuan_serve_request *r);
/* tools.c, before submission: checks that the template has tool calls and,
 * for a forced call, appends its opener to the prompt text and to j->text
 * and sets the call's phase.  XUAN_ERR_USAGE (*param: the field) for a
 * request the model cannot serve. */
int serve_call_begin(const xuan_serve *s, job *j, xuan_buf *prompt, const char **param, xuan_error *err);
/* tools.c, under s->mu after a token's text went into j->text: an opener
 * the model wrote (auto), a name or arguments complete.  Fixed text goes
 * into j->text and j->forced; *closed once the call is written whole. */
int serve_call_advance(const xuan_serve *s, job *j, bool *closed, xuan_error *err);

/* prompt.c: a request's prompt ids (chat rendered by the template) and its
 * sampler and stop filter; HTTP status, message and the field (or NULL) on
 * failure. */
job *serve_job_new(xuan_serve *s, xuan_serve_request *r, int *status, const char **param, xuan_error *err);
/* prompt.c: choice `index` of lead's request (before submission). */
job *serve_job_sibling(xuan_serve *s, job *lead, uint32_t index, xuan_error *err);


#endif
