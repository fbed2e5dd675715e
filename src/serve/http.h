/* http.h — what http.c shares with answer.c (the response bodies and SSE). */
#ifndef XUAN_SERVE_HTTP_H
#define XUAN_SERVE_HTTP_H

#include "internal.h"

#include <jansson.h>
#include <microhttpd.h>

/* Queues a JSON response (takes body); retry_after adds that header. */
enum MHD_Result serve_send(struct MHD_Connection *c, unsigned status, json_t *body, const char *retry_after);
/* Queues an OpenAI error object (503 adds Retry-After: 1). */
enum MHD_Result serve_error(struct MHD_Connection *c, unsigned status, const char *param, const char *code,
                            const char *msg);
int serve_conn_fd(struct MHD_Connection *c);
/* The client hung up (checked without reading). */
bool serve_peer_gone(int fd);
/* One request less for xuan_serve_drain to wait for. */
void serve_active_done(xuan_serve *s);
/* Under s->mu: waits up to 100 ms for news of j. */
void serve_wait_job(xuan_serve *s, job *j);

/* answer.c: the body of a finished non-streaming request (its n choices). */
json_t *serve_json_final(xuan_serve *s, job *const *jobs, uint32_t n);
/* answer.c: queues the SSE response of the n jobs of a request; the
 * stream owns the HTTP side's references and its place in s->n_active. */
enum MHD_Result serve_stream(xuan_serve *s, struct MHD_Connection *c, job *const *jobs, uint32_t n, int fd);

#endif
