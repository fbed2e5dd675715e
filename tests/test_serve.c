/*
 * test_serve.c — the request parser of the serve room (pure: no model):
 * OpenAI defaults, every field's type and range, the field named in the
 * error, ownership (nothing leaks on any path; ASan checks).  The HTTP side
 * is tests/cli_serve.sh.
 */
#include "harness.h"
#include "xuan/model.h"
#include "xuan/serve.h"
#include "xuan/tok.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse(xuan_serve_kind k, const char *body, xuan_serve_request *r, const char **param, xuan_error *err) {
    return xuan_serve_request_parse(k, body, strlen(body), r, param, err);
}

static void test_defaults(void) {
    xuan_serve_request r;
    xuan_error err = {0};
    REQUIRE(parse(XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &r, NULL, &err) == 0);
    CHECK_NEAR(r.sp.temperature, 1.0, 0);
    CHECK_NEAR(r.sp.top_p, 1.0, 0);
    CHECK_EQ_INT(r.sp.top_k, 0);
    CHECK_NEAR(r.sp.min_p, 0.0, 0);
    CHECK_EQ_INT(r.max_tokens, -1);
    CHECK(!r.stream && !r.logprobs && !r.echo);
    CHECK(r.sp.seed == XUAN_SEED_RANDOM);
    CHECK_EQ_STR(r.messages_json, "[{\"role\":\"user\",\"content\":\"hi\"}]");
    CHECK(r.kwargs_json == NULL);
    xuan_serve_request_free(&r);
}

static void test_fields(void) {
    xuan_serve_request r;
    xuan_error err = {0};
    const char *body =
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}],"
        "\"temperature\":0,\"top_p\":0.5,\"top_k\":7,\"min_p\":0.1,\"max_completion_tokens\":9,"
        "\"stop\":\"END\",\"seed\":42,\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,"
        "\"repeat_penalty\":1.1,\"logit_bias\":{\"5\":-100,\"7\":2.5},\"logprobs\":true,\"top_logprobs\":4,"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1,"
        "\"chat_template_kwargs\":{\"enable_thinking\":false},\"user\":\"u\",\"model\":\"m\"}";
    REQUIRE(parse(XUAN_SERVE_CHAT, body, &r, NULL, &err) == 0);
    CHECK_NEAR(r.sp.temperature, 0, 0);
    CHECK_NEAR(r.sp.top_p, 0.5, 1e-7);
    CHECK_EQ_INT(r.sp.top_k, 7);
    CHECK_EQ_INT(r.max_tokens, 9);
    CHECK_EQ_INT(r.n_stops, 1);
    CHECK_EQ_STR(r.stops[0], "END");
    CHECK(r.sp.seed == 42);
    CHECK_EQ_INT(r.n_bias, 2);
    CHECK_EQ_INT(r.bias[0].token, 5);
    CHECK_NEAR(r.bias[0].bias, -100, 0);
    CHECK(r.logprobs && r.top_logprobs == 4 && r.stream && r.include_usage);
    CHECK_EQ_STR(r.kwargs_json, "{\"enable_thinking\":false}");
    xuan_serve_request_free(&r);

    REQUIRE(parse(XUAN_SERVE_COMPLETION, "{\"prompt\":[1,2,3],\"echo\":true,\"logprobs\":2,\"max_tokens\":0,"
                                         "\"stop\":[\"a\",\"b\"]}", &r, NULL, &err) == 0);
    CHECK_EQ_INT(r.n_prompt_ids, 3);
    CHECK_EQ_INT(r.prompt_ids[2], 3);
    CHECK(r.prompt == NULL && r.echo && r.logprobs && r.top_logprobs == 2 && r.max_tokens == 0);
    CHECK_EQ_INT(r.n_stops, 2);
    xuan_serve_request_free(&r);
    REQUIRE(parse(XUAN_SERVE_COMPLETION, "{\"prompt\":[\"one string\"],\"max_tokens\":5.0}", &r, NULL, &err) == 0);
    CHECK_EQ_STR(r.prompt, "one string");
    CHECK_EQ_INT(r.max_tokens, 5);
    xuan_serve_request_free(&r);

    /* tools: arguments given as JSON text reach the template as an object */
    REQUIRE(parse(XUAN_SERVE_CHAT,
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},{\"role\":\"assistant\",\"content\":null,"
                  "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get\","
                  "\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                  "\"content\":\"4 C\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get\","
                  "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}},"
                  "{\"type\":\"function\",\"function\":{\"name\":\"put\"}}],"
                  "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"put\"}},\"n\":3,"
                  "\"parallel_tool_calls\":false}",
                  &r, NULL, &err) == 0);
    CHECK(strstr(r.messages_json, "\"arguments\":{\"city\":\"Oslo\"}") != NULL);
    CHECK_EQ_INT(r.n_tools, 2);
    CHECK_EQ_STR(r.tools[1].name, "put");
    CHECK(r.tools[0].params && r.tools[1].params && r.tool_names);
    CHECK(r.tool_choice == XUAN_SERVE_TOOLS_NAMED && r.tool_named == 1 && !r.parallel_tool_calls);
    CHECK(r.tools_json && strstr(r.tools_json, "\"name\":\"put\""));
    CHECK_EQ_INT(r.n, 3);
    xuan_serve_request_free(&r);
    /* "none": the template does not see the tools */
    REQUIRE(parse(XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tool_choice\":\"none\",\"tools\":"
                  "[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}", &r, NULL, &err) == 0);
    CHECK(r.tool_choice == XUAN_SERVE_TOOLS_NONE && r.tools_json == NULL && r.n == 1);
    xuan_serve_request_free(&r);
}

static void test_errors(void) {
    struct {
        xuan_serve_kind kind;
        const char *body, *param, *msg;
        int code;
    } cases[] = {
        {XUAN_SERVE_CHAT, "{\"messages\":", NULL, "not valid JSON", XUAN_ERR_FORMAT},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}", NULL, "not valid JSON",
         XUAN_ERR_FORMAT},
        {XUAN_SERVE_CHAT, "[]", NULL, "JSON object", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{}", "messages", "non-empty array", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[5]}", "messages", "objects", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages",
         "not supported", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"temperature\":-1}", "temperature", "[0, 2]",
         XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"top_k\":1.5}", "top_k", "integer", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"max_tokens\":0}", "max_tokens", "at least 1",
         XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"stop\":\"\"}", "stop", "empty", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT,
         "{\"messages\":[{\"role\":\"user\"}],\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\","
         "\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
         "stop", "at most 16", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"logit_bias\":{\"1\":500}}", "logit_bias",
         "[-100, 100]", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"logprobs\":true,\"top_logprobs\":21}",
         "top_logprobs", "[0, 20]", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"n\":9}", "n", "[1, 8]", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"n\":0}", "n", "[1, 8]", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"best_of\":2}", "best_of", "not supported", XUAN_ERR_USAGE},
        /* tools */
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tools\":{}}", "tools", "must be an array",
         XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tools\":[{\"type\":\"web\"}]}", "tools",
         "entries must be", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]}", "tools",
         "function.name", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}",
         "tools", "unique", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":"
         "{\"type\":\"string\"}}}]}", "tools", "Schema of an object", XUAN_ERR_USAGE},
        /* a forced call constrains its arguments: the schema must be in the subset */
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tool_choice\":\"required\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
         "\"a\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\",\"pattern\":\"y\"}}}}}]}",
         "tools", "unsupported keyword 'pattern' at /properties/x", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tool_choice\":\"always\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}",
         "tool_choice", "must be", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tool_choice\":{\"type\":\"function\",\"function\":"
         "{\"name\":\"b\"}},\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}", "tool_choice", "not in 'tools'", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"tool_choice\":\"required\"}", "tool_choice",
         "no 'tools'", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"parallel_tool_calls\":1}", "parallel_tool_calls",
         "true or false", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
         "\"function\":{\"name\":\"a\",\"arguments\":\"{nope\"}}]}]}", "messages", "JSON object as text", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"tool\",\"tool_call_id\":7,\"content\":\"x\"}]}", "messages",
         "tool_call_id", XUAN_ERR_USAGE},
        {XUAN_SERVE_COMPLETION, "{\"prompt\":\"x\",\"tools\":[]}", "tools", "chat/completions", XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"stream_options\":1}", "stream_options", "object",
         XUAN_ERR_USAGE},
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"messages\":[]}", NULL, "not valid JSON",
         XUAN_ERR_FORMAT},
        {XUAN_SERVE_COMPLETION, "{\"prompt\":[1,-2]}", "prompt", "token ids", XUAN_ERR_USAGE},
        {XUAN_SERVE_COMPLETION, "{\"prompt\":[\"a\",\"b\"]}", "prompt", "not supported", XUAN_ERR_USAGE},
        {XUAN_SERVE_COMPLETION, "{\"prompt\":\"x\",\"logprobs\":6}", "logprobs", "[0, 5]", XUAN_ERR_USAGE},
        {XUAN_SERVE_COMPLETION, "{\"prompt\":\"x\",\"suffix\":\"y\"}", "suffix", "not supported", XUAN_ERR_USAGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xuan_serve_request r;
        xuan_error err = {0};
        const char *param = "unset";
        int rc = parse(cases[i].kind, cases[i].body, &r, &param, &err);
        if (rc != cases[i].code || !strstr(err.msg, cases[i].msg) ||
            (cases[i].param ? !param || strcmp(param, cases[i].param) : param != NULL))
            test_fail(__FILE__, __LINE__, "case %zu (%s): rc %d, param %s, message '%s'", i, cases[i].body, rc,
                      param ? param : "(null)", err.msg);
    }
}

/* Allocation failure at every step: an error, never a crash or a leak. */
static void test_nomem(void) {
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[\"a\",\"b\"],"
                       "\"logit_bias\":{\"3\":1}}";
    int failed = 0;
    for (int64_t k = 0; k < 64; k++) {
        xuan_serve_request r;
        xuan_alloc_fail_after(k);
        int rc = parse(XUAN_SERVE_CHAT, body, &r, NULL, NULL);
        xuan_alloc_fail_after(-1);
        if (rc == 0) xuan_serve_request_free(&r);
        else {
            failed++;
            CHECK_EQ_INT(rc, XUAN_ERR_NOMEM);
        }
    }
    CHECK(failed > 0);
}

/* The HTTP status of GET path on 127.0.0.1:port, -1 if no answer. */
static int http_status(uint16_t port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    char req[256], resp[512] = {0};
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    ssize_t w = write(fd, req, (size_t)n);
    ssize_t got = w == n ? read(fd, resp, sizeof resp - 1) : -1;
    close(fd);
    int status = -1;
    if (got > 12 && sscanf(resp, "HTTP/1.%*d %d", &status) != 1) status = -1;
    return status;
}

/* The lifetime through the public API: 503 before a model is attached,
 * 200 after, a bad attach refused, drain and free with nothing left over. */
static void test_lifetime(void) {
    xuan_synth_params sp;
    REQUIRE(xuan_synth_preset("tiny", &sp) == 0);
    const char *path = test_path("serve_tiny.gguf");
    xuan_error err = {0};
    REQUIRE(xuan_synth_write(&sp, path, &err) == 0);
    xuan_serve_params p = xuan_serve_params_default();
    p.port = 0;
    p.n_slots = 2;
    xuan_serve *s = xuan_serve_start(&p, &err);
    REQUIRE(s != NULL);
    uint16_t port = xuan_serve_port(s);
    CHECK(port != 0);
    CHECK_EQ_INT(http_status(port, "/health"), 503);
    CHECK_EQ_INT(http_status(port, "/v1/models"), 503);
    xuan_model *m = xuan_model_load(path, &err);
    REQUIRE(m != NULL);
    xuan_tok *tok = xuan_tok_from_gguf(xuan_model_gguf(m), &err);
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = 256, cp.n_seq_max = 1, cp.n_threads = 1;
    xuan_ctx *one = xuan_ctx_new(m, &cp, &err);
    cp.n_seq_max = 2;
    xuan_ctx *two = xuan_ctx_new(m, &cp, &err);
    REQUIRE(tok && one && two);
    xuan_serve_model sm = {.model = m, .ctx = one, .tok = tok};
    CHECK_EQ_INT(xuan_serve_attach(s, &sm, &err), XUAN_ERR_USAGE); /* 1 sequence for 2 slots */
    CHECK(strstr(err.msg, "fewer than the 2 slots") != NULL);
    sm.ctx = two;
    CHECK_EQ_INT(xuan_serve_attach(s, &sm, &err), 0);
    CHECK_EQ_INT(http_status(port, "/health"), 200);
    CHECK_EQ_INT(http_status(port, "/v1/models"), 200);
    CHECK_EQ_INT(http_status(port, "/nope"), 404);
    CHECK_EQ_INT(xuan_serve_drain(s, 5), 0);
    CHECK_EQ_INT(http_status(port, "/health"), -1); /* no longer listening */
    xuan_serve_free(s);
    xuan_ctx_free(one);
    xuan_ctx_free(two);
    xuan_tok_free(tok);
    xuan_model_free(m);
    /* a port in use is an error naming it */
    xuan_serve_params q = xuan_serve_params_default();
    q.port = 0;
    xuan_serve *a = xuan_serve_start(&q, &err);
    REQUIRE(a != NULL);
    q.port = xuan_serve_port(a);
    CHECK(xuan_serve_start(&q, &err) == NULL);
    CHECK_EQ_INT(err.code, XUAN_ERR_IO);
    q.host = "localhost";
    CHECK(xuan_serve_start(&q, &err) == NULL);
    CHECK_EQ_INT(err.code, XUAN_ERR_USAGE);
    xuan_serve_free(a);
}

int main(void) {
    RUN(test_defaults);
    RUN(test_fields);
    RUN(test_errors);
    RUN(test_nomem);
    RUN(test_lifetime);
    return test_done();
}
