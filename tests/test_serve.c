/*
 * test_serve.c — the request parser of the serve room (pure: no model):
 * OpenAI defaults, every field's type and range, the field named in the
 * error, ownership (nothing leaks on any path; ASan checks).  The HTTP side
 * is tests/cli_serve.sh.
 */
#include "harness.h"
#include "xuan/serve.h"

#include <string.h>

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
        {XUAN_SERVE_CHAT, "{\"messages\":[{\"role\":\"user\"}],\"n\":3}", "n", "not supported", XUAN_ERR_USAGE},
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

int main(void) {
    RUN(test_defaults);
    RUN(test_fields);
    RUN(test_errors);
    RUN(test_nomem);
    return test_done();
}
