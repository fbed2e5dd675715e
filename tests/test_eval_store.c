/*
 * test_eval_store.c — the results store (src/eval/store.c) and the runner
 * (src/eval/run.c) with a backend written here: schema version, one row per
 * (run, task, index), items read back in order, the cache, summaries and
 * their stderr, damaged rows refused by name, request keys that change with
 * every field, and a run that skips what is stored.
 */
#include "harness.h"
#include "xuan/eval.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fresh(const char *name) {
    const char *p = test_path(name);
    char w[4200];
    unlink(p);
    snprintf(w, sizeof w, "%s-wal", p), unlink(w);
    snprintf(w, sizeof w, "%s-shm", p), unlink(w);
    return p;
}

static void raw_sql(const char *path, const char *sql) {
    sqlite3 *db;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static int collect(void *ctx, const xuan_eval_record *r) {
    xuan_buf *b = ctx;
    xuan_buf_printf(b, "%s/%u:%s;", r->task, (unsigned)r->index, r->output);
    return 0;
}

static void test_store_basics(void) {
    const char *p = fresh("store1.db");
    xuan_error err = {0};
    xuan_eval_store *s;
    REQUIRE(xuan_eval_store_open(p, &s, &err) == 0);
    int64_t run = 0, run2 = 0;
    REQUIRE(xuan_eval_store_run_create(s, "{\"a\":1}", &run, &err) == 0);
    REQUIRE(xuan_eval_store_run_create(s, "{\"a\":2}", &run2, &err) == 0);
    CHECK_EQ_INT(run2, run + 1);
    char *cfg = NULL, *created = NULL;
    REQUIRE(xuan_eval_store_run_get(s, run2, &cfg, &created, &err) == 0);
    CHECK_EQ_STR(cfg, "{\"a\":2}");
    CHECK(created && strlen(created) == 19);
    xuan_free(cfg);
    xuan_free(created);
    CHECK_EQ_INT(xuan_eval_store_run_get(s, 99, &cfg, NULL, &err), XUAN_ERR_NOTFOUND);
    CHECK(strstr(err.msg, "no run 99") != NULL);

    const char *outs[] = {"c", "a", "b"};
    const uint32_t idx[] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        xuan_eval_record r = {.run = run, .task = "t", .index = idx[i], .output = outs[i],
                              .correct = i ? "{\"x\":true,\"y\":false}" : "{\"x\":false,\"y\":false}",
                              .first_correct = i != 0, .n_gen = 5, .wall_s = 0.5};
        CHECK_EQ_INT(xuan_eval_store_item_put(s, &r, &err), 0);
    }
    xuan_eval_record dup = {.run = run, .task = "t", .index = 1, .output = "again"};
    CHECK_EQ_INT(xuan_eval_store_item_put(s, &dup, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "already holds t item 1") != NULL);
    xuan_buf b = {0};
    REQUIRE(xuan_eval_store_items(s, run, "t", collect, &b, &err) == 0);
    CHECK_EQ_STR(b.data, "t/0:a;t/1:b;t/2:c;");
    xuan_buf_free(&b);

    xuan_eval_summary sum;
    REQUIRE(xuan_eval_summarize(s, run, "t", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 3);
    CHECK_EQ_INT(sum.n_metrics, 2);
    CHECK_EQ_STR(sum.names[0], "x");
    CHECK_EQ_INT(sum.right[0], 2);
    CHECK_EQ_INT(sum.right[1], 0);
    CHECK_NEAR(sum.score[0], 2.0 / 3, 1e-12);
    CHECK_NEAR(sum.stderr_[0], 0.3333333333333333, 1e-12); /* sqrt(2/9 / 2) */
    CHECK_EQ_INT(sum.n_gen, 15);
    REQUIRE(xuan_eval_summarize(s, run2, "t", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 0);

    char key[65] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", *reply = NULL;
    REQUIRE(xuan_eval_store_cache_get(s, key, &reply, &err) == 0);
    CHECK(reply == NULL);
    REQUIRE(xuan_eval_store_cache_put(s, key, "{\"text\":\"x\"}", &err) == 0);
    REQUIRE(xuan_eval_store_cache_put(s, key, "{\"text\":\"y\"}", &err) == 0);
    REQUIRE(xuan_eval_store_cache_get(s, key, &reply, &err) == 0);
    CHECK_EQ_STR(reply, "{\"text\":\"y\"}");
    xuan_free(reply);
    xuan_eval_store_close(s);

    /* reopened: same data, same schema */
    REQUIRE(xuan_eval_store_open(p, &s, &err) == 0);
    REQUIRE(xuan_eval_summarize(s, run, "t", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 3);
    xuan_eval_store_close(s);

    /* a row damaged by hand is refused naming it */
    raw_sql(p, "UPDATE items SET correct = 'nonsense' WHERE idx = 2");
    REQUIRE(xuan_eval_store_open(p, &s, &err) == 0);
    CHECK_EQ_INT(xuan_eval_summarize(s, run, "t", 0, &sum, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "t item 2: 'correct' is not a JSON object") != NULL);
    xuan_eval_store_close(s);
}

static void test_pass_at_k_samples(void) {
    const char *p = fresh("store_k.db");
    xuan_error err = {0};
    xuan_eval_store *s;
    REQUIRE(xuan_eval_store_open(p, &s, &err) == 0);
    int64_t run;
    REQUIRE(xuan_eval_store_run_create(s, "{}", &run, &err) == 0);
    /* item 0: samples right, wrong, right; item 1: all wrong; item 2: one sample, right */
    const int right[3][3] = {{1, 0, 1}, {0, 0, 0}, {1, -1, -1}};
    for (uint32_t i = 0; i < 3; i++)
        for (uint32_t k = 0; k < 3; k++) {
            if (right[i][k] < 0) continue;
            xuan_eval_record r = {.run = run, .task = "he", .index = i, .sample = k,
                                  .correct = right[i][k] ? "{\"humaneval\":true}" : "{\"humaneval\":false}"};
            CHECK_EQ_INT(xuan_eval_store_item_put(s, &r, &err), 0);
        }
    xuan_eval_record dup = {.run = run, .task = "he", .index = 0, .sample = 2, .correct = "{}"};
    CHECK_EQ_INT(xuan_eval_store_item_put(s, &dup, &err), XUAN_ERR_USAGE);
    xuan_eval_summary sum;
    REQUIRE(xuan_eval_summarize(s, run, "he", 1, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 7);
    CHECK_EQ_INT(sum.n_items, 3);
    CHECK_EQ_INT(sum.k_items, 3);
    CHECK_NEAR(sum.pass_k[0], (2.0 / 3 + 0 + 1) / 3, 1e-12); /* pass@1 = c / n per item */
    REQUIRE(xuan_eval_summarize(s, run, "he", 2, &sum, &err) == 0);
    CHECK_EQ_INT(sum.k_items, 2); /* item 2 has one sample */
    CHECK_NEAR(sum.pass_k[0], 0.5, 1e-12); /* item 0: 1 - C(1,2)/C(3,2) = 1; item 1: 0 */
    CHECK_NEAR(sum.pass_k_stderr[0], 0.5, 1e-12); /* sd sqrt(0.5) over sqrt(2) */
    REQUIRE(xuan_eval_summarize(s, run, "he", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.k_items, 0);
    xuan_eval_store_close(s);
}

static void test_store_refusals(void) {
    xuan_error err = {0};
    xuan_eval_store *s = NULL;
    const char *p = fresh("store_new.db");
    raw_sql(p, "PRAGMA user_version = 9");
    CHECK_EQ_INT(xuan_eval_store_open(p, &s, &err), XUAN_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "results schema 9 is newer than this xuan's (1)") != NULL);
    CHECK(s == NULL);
    p = fresh("store_other.db");
    raw_sql(p, "CREATE TABLE t (a)");
    CHECK_EQ_INT(xuan_eval_store_open(p, &s, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "not a xuan results store") != NULL);
    p = fresh("store_junk.db");
    FILE *f = fopen(p, "wb");
    REQUIRE(f);
    for (int i = 0; i < 4096; i++) fputc((i * 37) & 0xff, f);
    fclose(f);
    CHECK(xuan_eval_store_open(p, &s, &err) != 0);
    CHECK(strstr(err.msg, "store_junk.db") != NULL);
    CHECK_EQ_INT(xuan_eval_store_open("/nonexistent-dir/x.db", &s, &err), XUAN_ERR_IO);
}

/* ---- the runner with a backend of our own ---- */

typedef struct fake {
    int calls;
    int fail_index; /* the prompt holding "q3" fails */
} fake;

static int fake_generate(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                         xuan_error *err) {
    fake *f = self;
    (void)interrupt;
    f->calls++;
    memset(out, 0, sizeof *out);
    if (f->fail_index && strstr(rq->prompt, "q3")) return xuan_fail(err, XUAN_ERR_IO, "fake: down");
    /* the answer is the number in the prompt for even ones, else wrong */
    const char *q = strstr(rq->prompt, "q");
    int n = q ? atoi(q + 1) : -1;
    char text[64];
    snprintf(text, sizeof text, "so #### %d", n % 2 == 0 ? n : n + 100);
    out->text = xuan_strdup(text);
    out->n_gen = 3;
    snprintf(out->finish, sizeof out->finish, "stop");
    return out->text ? 0 : XUAN_ERR_NOMEM;
}

static void test_runner(void) {
    static const char task_yaml[] = "name: t\nversion: 1\ndataset: {format: jsonl, files: t.jsonl}\n"
                                    "prompt: 'q{{ n }}'\ntarget: n\nmax_tokens: 8\n"
                                    "extractors: [gsm8k-strict, gsm8k-flexible]\nanswer: number\n";
    static const char data[] = "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n";
    xuan_error err = {0};
    xuan_eval_task *t = NULL;
    REQUIRE(xuan_eval_task_parse("t.yaml", task_yaml, sizeof task_yaml - 1, &t, &err) == 0);
    xuan_eval_data d = {0};
    REQUIRE((d.sets = xuan_calloc(1, sizeof *d.sets)) != NULL);
    d.n_sets = 1;
    xuan_dataset_opts o = {.format = XUAN_DATA_JSONL};
    REQUIRE(xuan_dataset_parse("t.jsonl", (const uint8_t *)data, sizeof data - 1, &o, &d.sets[0], &err) == 0);
    d.n_items = d.sets[0].n_items;
    const char *p = fresh("store_run.db");
    xuan_eval_store *s;
    REQUIRE(xuan_eval_store_open(p, &s, &err) == 0);
    int64_t run;
    REQUIRE(xuan_eval_store_run_create(s, "{}", &run, &err) == 0);
    fake f = {.fail_index = 1};
    xuan_eval_backend be = {.self = &f, .identity = "{\"backend\":\"fake\"}", .parallel = 1,
                            .generate = fake_generate};
    xuan_eval_run_opts ro = {.store = s, .run = run, .backend = &be, .limit = 5};
    xuan_eval_run_stats st;
    xuan_log_level lv = xuan_log_get_level();
    xuan_log_set_level((xuan_log_level)-1); /* the failing item's line is expected */
    REQUIRE(xuan_eval_run_task(t, &d, &ro, &st, &err) == 0);
    xuan_log_set_level(lv);
    CHECK_EQ_INT(st.total, 5);
    CHECK_EQ_INT(st.generated, 4);
    CHECK_EQ_INT(st.failed, 1);
    CHECK_EQ_INT(f.calls, 5);
    xuan_eval_summary sum;
    REQUIRE(xuan_eval_summarize(s, run, "t", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 4);
    CHECK_EQ_INT(sum.right[0], 3); /* 0, 2, 4 */
    CHECK_EQ_STR(sum.names[1], "gsm8k-flexible");
    /* again, the backend up: only item 3 is asked, and it was never cached */
    f.fail_index = 0;
    f.calls = 0;
    REQUIRE(xuan_eval_run_task(t, &d, &ro, &st, &err) == 0);
    CHECK_EQ_INT(st.skipped, 4);
    CHECK_EQ_INT(st.generated, 1);
    CHECK_EQ_INT(f.calls, 1);
    /* a new run: all five from the cache */
    int64_t run2;
    REQUIRE(xuan_eval_store_run_create(s, "{}", &run2, &err) == 0);
    ro.run = run2;
    f.calls = 0;
    REQUIRE(xuan_eval_run_task(t, &d, &ro, &st, &err) == 0);
    CHECK_EQ_INT(st.cached, 5);
    CHECK_EQ_INT(f.calls, 0);
    REQUIRE(xuan_eval_summarize(s, run2, "t", 0, &sum, &err) == 0);
    CHECK_EQ_INT(sum.n, 5);
    CHECK_EQ_INT(sum.right[0], 3);
    xuan_eval_store_close(s);
    xuan_eval_data_free(&d);
    xuan_eval_task_free(t);
}

static void test_request_key(void) {
    xuan_eval_backend a = {.identity = "{\"m\":1}"}, b = {.identity = "{\"m\":2}"};
    const char *stops[] = {"x", "y"};
    xuan_eval_request rq = {.prompt = "p", .max_tokens = 8, .stop = stops, .n_stop = 1, .seed = 1};
    char k0[65], k[65];
    xuan_error err = {0};
    REQUIRE(xuan_eval_request_key(&a, &rq, k0, &err) == 0);
    CHECK_EQ_INT(strlen(k0), 64);
    REQUIRE(xuan_eval_request_key(&a, &rq, k, &err) == 0);
    CHECK_EQ_STR(k, k0);
    REQUIRE(xuan_eval_request_key(&b, &rq, k, &err) == 0);
    CHECK(strcmp(k, k0) != 0);
    xuan_eval_request v[6] = {rq, rq, rq, rq, rq, rq};
    v[0].prompt = "q", v[1].max_tokens = 9, v[2].n_stop = 2, v[3].temperature = 0.5, v[4].seed = 2, v[5].raw = true;
    for (int i = 0; i < 6; i++) {
        REQUIRE(xuan_eval_request_key(&a, &v[i], k, &err) == 0);
        if (!strcmp(k, k0)) test_fail(__FILE__, __LINE__, "field %d does not change the key", i);
    }
}

static void test_endpoint_open(void) {
    xuan_error err = {0};
    xuan_eval_backend b;
    xuan_eval_endpoint_opts o = {.url = "ftp://x"};
    CHECK_EQ_INT(xuan_eval_endpoint_open(&o, &b, &err), XUAN_ERR_USAGE);
    o.url = "http://127.0.0.1:9/v1/";
    o.model = "m";
    REQUIRE(xuan_eval_endpoint_open(&o, &b, &err) == 0);
    CHECK_EQ_STR(b.identity, "{\"backend\":\"endpoint\",\"model\":\"m\",\"url\":\"http://127.0.0.1:9/v1\"}");
    CHECK_EQ_INT(xuan_eval_endpoint_requests(&b), 0);
    b.close(b.self);
    o.url = "http://127.0.0.1:9";
    o.model = NULL;
    REQUIRE(xuan_eval_endpoint_open(&o, &b, &err) == 0);
    CHECK_EQ_STR(b.identity, "{\"backend\":\"endpoint\",\"model\":null,\"url\":\"http://127.0.0.1:9/v1\"}");
    b.close(b.self);
    /* a fleet: every URL in order in the identity, parallel per server */
    const char *two[] = {"http://127.0.0.1:9", "http://127.0.0.1:10/v1"};
    o = (xuan_eval_endpoint_opts){.urls = two, .n_urls = 2, .parallel = 3};
    REQUIRE(xuan_eval_endpoint_open(&o, &b, &err) == 0);
    CHECK_EQ_STR(b.identity, "{\"backend\":\"endpoint\",\"model\":null,\"urls\":[\"http://127.0.0.1:9/v1\","
                             "\"http://127.0.0.1:10/v1\"]}");
    CHECK_EQ_INT(b.parallel, 6);
    b.close(b.self);
    two[1] = "http://127.0.0.1:9/v1/";
    CHECK_EQ_INT(xuan_eval_endpoint_open(&o, &b, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "given twice") != NULL);
    two[1] = "file:///etc/passwd";
    CHECK_EQ_INT(xuan_eval_endpoint_open(&o, &b, &err), XUAN_ERR_USAGE);
}

static void test_task_mode(void) {
    static const char head[] = "name: m\nversion: 1\ndataset: {format: jsonl, files: x.jsonl}\nprompt: 'q'\n"
                               "target: answer\nmax_tokens: 4\nextractors: [mmlu-pro]\n";
    char y[1024];
    xuan_error err = {0};
    xuan_eval_task *t = NULL;
    snprintf(y, sizeof y, "%sanswer: letter\noptions: [A, B, C]\nmode: loglik\n", head);
    REQUIRE(xuan_eval_task_parse("m.yaml", y, strlen(y), &t, &err) == 0);
    CHECK_EQ_INT(t->mode, XUAN_EVAL_LOGLIK);
    xuan_eval_task_free(t);
    snprintf(y, sizeof y, "%sanswer: letter\noptions: [A, B]\n", head);
    REQUIRE(xuan_eval_task_parse("m.yaml", y, strlen(y), &t, &err) == 0);
    CHECK_EQ_INT(t->mode, XUAN_EVAL_GENERATE);
    xuan_eval_task_free(t);
    snprintf(y, sizeof y, "%sanswer: letter\noptions: [A, B]\nmode: ppl\n", head);
    CHECK_EQ_INT(xuan_eval_task_parse("m.yaml", y, strlen(y), &t, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "m.yaml:10: key 'mode': expected generate or loglik") != NULL);
    snprintf(y, sizeof y, "name: m\nversion: 1\ndataset: {format: jsonl, files: x.jsonl}\nprompt: 'q'\n"
                          "target: answer\nmax_tokens: 4\nextractors: [last-number]\nanswer: number\nmode: loglik\n");
    CHECK_EQ_INT(xuan_eval_task_parse("m.yaml", y, strlen(y), &t, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "loglik needs answer: letter and options") != NULL);
}

int main(void) {
    RUN(test_store_basics);
    RUN(test_store_refusals);
    RUN(test_pass_at_k_samples);
    RUN(test_runner);
    RUN(test_request_key);
    RUN(test_endpoint_open);
    RUN(test_task_mode);
    return test_done();
}
