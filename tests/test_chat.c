/*
 * test_chat.c — chat templates: every renderer against the goldens that
 * @huggingface/jinja made from the real template texts
 * (tests/golden/chat/rendered.json), detection from template strings and a
 * GGUF, --template names, and bad input.
 */
#include "harness.h"
#include "xuan/chat.h"

#include <jansson.h>
#include <stdlib.h>

static const char *src_dir(void) {
    const char *s = getenv("XUAN_SRC");
    return s && *s ? s : ".";
}

/* "shared:REL" / "src:REL" as in cases.json -> a path. */
static const char *template_path(const char *ref, char *buf, size_t cap) {
    if (strncmp(ref, "shared:", 7) == 0) snprintf(buf, cap, "%s/%s", test_shared(), ref + 7);
    else if (strncmp(ref, "src:", 4) == 0) snprintf(buf, cap, "%s/%s", src_dir(), ref + 4);
    else snprintf(buf, cap, "%s", ref);
    return buf;
}

static json_t *load_goldens(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/chat/rendered.json", src_dir());
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) test_fail(__FILE__, __LINE__, "%s:%d: %s", path, jerr.line, jerr.text);
    return root;
}

/* Prints where two strings part, so a failure shows the byte that differs. */
static void report_diff(const char *what, const char *got, const char *want) {
    size_t i = 0;
    while (got[i] && got[i] == want[i]) i++;
    size_t from = i > 30 ? i - 30 : 0;
    test_fail(__FILE__, __LINE__, "%s: differs at byte %zu:\n  got  ...%.60s\n  want ...%.60s", what,
              i, got + from, want + from);
}

/* ---- goldens --------------------------------------------------------------- */

static void test_goldens(void) {
    json_t *root = load_goldens();
    REQUIRE(root);
    json_t *cases = json_object_get(root, "cases");
    REQUIRE(json_is_array(cases));
    size_t n_checked = 0, n_errors = 0;
    /* which (format, conversation, gen) combinations were covered */
    bool covered[XUAN_CHAT_COUNT][4] = {{false}};
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *fname = json_string_value(json_object_get(c, "format"));
        const char *conv = json_string_value(json_object_get(c, "conversation"));
        xuan_chat_format f;
        xuan_error err = {0};
        REQUIRE(fname && conv);
        if (xuan_chat_format_from_name(fname, &f, &err) != 0) {
            test_fail(__FILE__, __LINE__, "golden %zu: %s", i, err.msg);
            continue;
        }
        json_t *jm = json_object_get(c, "messages");
        size_t n = json_array_size(jm);
        xuan_chat_msg msgs[16];
        REQUIRE(n <= 16);
        for (size_t k = 0; k < n; k++) {
            json_t *m = json_array_get(jm, k);
            msgs[k].role = json_string_value(json_object_get(m, "role"));
            msgs[k].content = json_string_value(json_object_get(m, "content"));
        }
        xuan_chat_opts o = xuan_chat_opts_default();
        o.bos_token = json_string_value(json_object_get(c, "bos_token"));
        o.eos_token = json_string_value(json_object_get(c, "eos_token"));
        o.add_generation_prompt = json_is_true(json_object_get(c, "add_generation_prompt"));
        json_t *vars = json_object_get(c, "vars");
        json_t *v = json_object_get(vars, "enable_thinking");
        if (v) o.enable_thinking = json_is_true(v) ? 1 : 0;
        o.date_string = json_string_value(json_object_get(vars, "date_string"));

        xuan_buf out = {0};
        int rc = xuan_chat_render(f, msgs, n, &o, &out, &err);
        char what[256];
        snprintf(what, sizeof what, "golden %zu (%s, %s, %s, gen=%d)", i, fname,
                 json_string_value(json_object_get(c, "template")), conv, o.add_generation_prompt);
        const char *want = json_string_value(json_object_get(c, "expected"));
        const char *want_err = json_string_value(json_object_get(c, "error"));
        if (want) {
            if (rc != 0) test_fail(__FILE__, __LINE__, "%s: %s", what, err.msg);
            else if (strcmp(out.data ? out.data : "", want) != 0) report_diff(what, out.data ? out.data : "", want);
            if (rc == 0 && (strcmp(conv, "en_sys") == 0 || strcmp(conv, "zh_sys") == 0))
                covered[f][(conv[0] == 'z') * 2 + o.add_generation_prompt] = true;
        } else {
            REQUIRE(want_err);
            n_errors++;
            if (rc == 0) test_fail(__FILE__, __LINE__, "%s: rendered, but the template raises: %s", what, want_err);
            else if (!strstr(err.msg, want_err)) test_fail(__FILE__, __LINE__, "%s: error '%s', template says '%s'", what, err.msg, want_err);
        }
        xuan_buf_free(&out);
        n_checked++;
    }
    /* 15 template files x 8 conversations x 2 + the extra vars = 288 */
    CHECK(n_checked >= 288);
    CHECK(n_errors == 6); /* the three Mistral templates refuse non-alternating roles */
    for (int f = XUAN_CHAT_UNKNOWN + 1; f < XUAN_CHAT_COUNT; f++)
        for (int k = 0; k < 4; k++)
            if (!covered[f][k])
                test_fail(__FILE__, __LINE__, "format %s: no golden for %s with system, gen=%d",
                          xuan_chat_format_name((xuan_chat_format)f), k >= 2 ? "Chinese" : "English", k & 1);
    json_decref(root);
}

/* ---- detection ----------------------------------------------------------------- */

static xuan_chat_format detect_file(const char *path) {
    char *text = NULL;
    size_t len = 0;
    xuan_error err = {0};
    if (xuan_read_file(path, 1 << 20, &text, &len, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return XUAN_CHAT_COUNT;
    }
    xuan_chat_format f = xuan_chat_detect(text, len);
    xuan_free(text);
    return f;
}

static void test_detect_golden_templates(void) {
    /* Every template file behind a golden is detected as the format whose
     * renderer reproduces it. */
    json_t *root = load_goldens();
    REQUIRE(root);
    size_t i, n_unseen = 0;
    json_t *c;
    const char *last = "";
    json_array_foreach(json_object_get(root, "cases"), i, c) {
        const char *ref = json_string_value(json_object_get(c, "template"));
        if (strcmp(ref, last) == 0) continue;
        last = ref;
        if (strncmp(ref, "shared:", 7) == 0 && !test_have_shared()) {
            n_unseen++;
            continue;
        }
        char path[1024];
        xuan_chat_format want = XUAN_CHAT_UNKNOWN;
        xuan_chat_format_from_name(json_string_value(json_object_get(c, "format")), &want, NULL);
        xuan_chat_format got = detect_file(template_path(ref, path, sizeof path));
        if (got != want)
            test_fail(__FILE__, __LINE__, "%s detected as %s, expected %s", ref,
                      xuan_chat_format_name(got), xuan_chat_format_name(want));
    }
    json_decref(root);
    if (n_unseen) test_skip("%zu templates are in ../shared, not at %s", n_unseen, test_shared());
}

static void test_detect_unclaimed(void) {
    NEED_SHARED();
    char path[1024];
    /* Templates whose output none of our renderers reproduces must not be
     * claimed (the caller then asks for --template). */
    const char *unclaimed[] = {"Qwen-Qwen3-0.6B.jinja", "Qwen-QwQ-32B.jinja", "google-gemma-2-2b-it.jinja"};
    for (size_t i = 0; i < sizeof unclaimed / sizeof unclaimed[0]; i++) {
        snprintf(path, sizeof path, "%s/templates/%s", test_shared(), unclaimed[i]);
        CHECK_EQ_STR(xuan_chat_format_name(detect_file(path)), "unknown");
    }
    /* the legacy system-less Mistral template, Llama 2, early Phi-3 */
    const char *legacy[] = {
        ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
         "message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + "
         "eos_token}}{% endif %}{% endfor %}"),
        "{{ '[INST] <<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}",
        ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + "
         "'\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% endif %}{% endfor %}"),
        "", "plain text with no markers",
    };
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
        CHECK_EQ_INT(xuan_chat_detect(legacy[i], strlen(legacy[i])), XUAN_CHAT_UNKNOWN);
    CHECK_EQ_INT(xuan_chat_detect(NULL, 0), XUAN_CHAT_UNKNOWN);
    /* not NUL-terminated: the length is honoured */
    const char *t = "<|im_start|><|im_sep|>";
    CHECK_EQ_INT(xuan_chat_detect(t, 12), XUAN_CHAT_CHATML);
    CHECK_EQ_INT(xuan_chat_detect(t, strlen(t)), XUAN_CHAT_PHI4);
}

static void test_detect_gguf(void) {
    xuan_error err = {0};
    const char *path = test_path("chat_template.gguf");
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w);
    CHECK_EQ_INT(xuan_gguf_writer_set_str(w, "general.architecture", "llama"), 0);
    CHECK_EQ_INT(xuan_gguf_writer_set_str(w, "tokenizer.chat_template",
                                          "{{ '<|start_header_id|>' }}Cutting Knowledge Date"), 0);
    REQUIRE(xuan_gguf_writer_write(w, path, &err) == 0);
    xuan_gguf *g = xuan_gguf_open(path, &err);
    REQUIRE(g);
    CHECK_EQ_INT(xuan_chat_detect_gguf(g), XUAN_CHAT_LLAMA31);
    xuan_gguf_close(g);
    /* without the key: unknown */
    xuan_gguf_writer_remove(w, "tokenizer.chat_template");
    REQUIRE(xuan_gguf_writer_write(w, path, &err) == 0);
    g = xuan_gguf_open(path, &err);
    REQUIRE(g);
    CHECK_EQ_INT(xuan_chat_detect_gguf(g), XUAN_CHAT_UNKNOWN);
    xuan_gguf_close(g);
    xuan_gguf_writer_free(w);
    CHECK_EQ_INT(xuan_chat_detect_gguf(NULL), XUAN_CHAT_UNKNOWN);
}

/* ---- names --------------------------------------------------------------------- */

static void test_names(void) {
    xuan_error err = {0};
    xuan_chat_format f;
    const char *list = xuan_chat_format_list();
    for (int k = XUAN_CHAT_UNKNOWN + 1; k < XUAN_CHAT_COUNT; k++) {
        const char *name = xuan_chat_format_name((xuan_chat_format)k);
        CHECK(strstr(list, name) != NULL);
        CHECK_EQ_INT(xuan_chat_format_from_name(name, &f, &err), 0);
        CHECK_EQ_INT(f, k);
    }
    CHECK_EQ_INT(xuan_chat_format_from_name("ChatML", &f, &err), 0);
    CHECK_EQ_INT(f, XUAN_CHAT_CHATML);
    CHECK_EQ_INT(xuan_chat_format_from_name("qwen", &f, &err), 0);
    CHECK_EQ_INT(f, XUAN_CHAT_QWEN25);
    CHECK_EQ_INT(xuan_chat_format_from_name("phi-4", &f, &err), 0);
    CHECK_EQ_INT(f, XUAN_CHAT_PHI4);

    CHECK_EQ_INT(xuan_chat_format_from_name("chatm", &f, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "unknown chat template 'chatm'") != NULL);
    CHECK(strstr(err.msg, "did you mean 'chatml'?") != NULL);
    CHECK(strstr(err.msg, "deepseek-r1-switch") != NULL); /* the list */
    CHECK_EQ_INT(xuan_chat_format_from_name("lama3.1", &f, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "did you mean 'llama3.1'?") != NULL);
    CHECK_EQ_INT(xuan_chat_format_from_name("zzzzzzzzzzzz", &f, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "did you mean") == NULL);
    CHECK(strstr(err.msg, "known: chatml") != NULL);
    CHECK_EQ_INT(xuan_chat_format_from_name(NULL, &f, &err), XUAN_ERR_USAGE);

    CHECK_EQ_STR(xuan_chat_format_name(XUAN_CHAT_UNKNOWN), "unknown");
    CHECK_EQ_STR(xuan_chat_format_name((xuan_chat_format)99), "unknown");
    CHECK_EQ_STR(xuan_chat_end_of_turn(XUAN_CHAT_QWEN25), "<|im_end|>");
    CHECK_EQ_STR(xuan_chat_end_of_turn(XUAN_CHAT_LLAMA31), "<|eot_id|>");
    CHECK_EQ_STR(xuan_chat_end_of_turn(XUAN_CHAT_PHI3), "<|end|>");
    CHECK(xuan_chat_end_of_turn(XUAN_CHAT_MISTRAL_V3) == NULL);
}

/* ---- bad input and buffer behaviour ------------------------------------------------ */

static void test_bad_input(void) {
    xuan_error err = {0};
    xuan_buf out = {0};
    xuan_chat_msg ok[] = {{"user", "hi"}};
    xuan_chat_msg no_content[] = {{"user", NULL}};
    xuan_chat_msg no_role[] = {{NULL, "x"}};
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_CHATML, ok, 0, NULL, &out, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "no messages") != NULL);
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_CHATML, no_content, 1, NULL, &out, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "message 0 has no content") != NULL);
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_CHATML, no_role, 1, NULL, &out, &err), XUAN_ERR_USAGE);
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_UNKNOWN, ok, 1, NULL, &out, &err), XUAN_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "known: chatml") != NULL);
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_COUNT, ok, 1, NULL, &out, &err), XUAN_ERR_UNSUPPORTED);
    CHECK_EQ_INT(out.len, 0);

    /* tool messages where the template formats them specially are refused */
    xuan_chat_msg tool[] = {{"user", "q"}, {"tool", "{\"t\": 1}"}};
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_LLAMA31, tool, 2, NULL, &out, &err), XUAN_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "role 'tool'") != NULL);
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_DEEPSEEK_R1, tool, 2, NULL, &out, &err), XUAN_ERR_UNSUPPORTED);
    /* ...and rendered where the template does it plainly (Qwen2.5) */
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_QWEN25, tool, 2, NULL, &out, &err), 0);
    CHECK(strstr(out.data, "<|im_start|>user\n<tool_response>\n{\"t\": 1}\n</tool_response><|im_end|>\n") != NULL);

    /* rendering appends; a failed render leaves the buffer as it was */
    xuan_buf_reset(&out);
    xuan_buf_puts(&out, "PREFIX");
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_PHI4, ok, 1, NULL, &out, &err), 0);
    CHECK_EQ_STR(out.data, "PREFIX<|im_start|>user<|im_sep|>hi<|im_end|><|im_start|>assistant<|im_sep|>");
    size_t len = out.len;
    xuan_chat_msg bad[] = {{"assistant", "a"}};
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_MISTRAL_V1, bad, 1, NULL, &out, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "chat template mistral-v1: After the optional system message") != NULL);
    CHECK_EQ_INT(out.len, len);
    CHECK_EQ_INT(strlen(out.data), len);

    /* allocation failure comes back as NOMEM, never a crash */
    xuan_buf fresh = {0};
    xuan_alloc_fail_after(0);
    int rc = xuan_chat_render(XUAN_CHAT_LLAMA31, ok, 1, NULL, &fresh, &err);
    xuan_alloc_fail_after(-1);
    CHECK_EQ_INT(rc, XUAN_ERR_NOMEM);
    CHECK_EQ_INT(fresh.len, 0);
    xuan_buf_free(&fresh);
    xuan_buf_free(&out);
}

static void test_trim_unicode(void) {
    /* Llama 3 trims with JavaScript's whitespace set (what @huggingface/jinja
     * does): ideographic space, NBSP, BOM go; an inner space stays; a
     * string of only spaces becomes empty. */
    xuan_chat_msg m[] = {{"user", "\xe3\x80\x80\xc2\xa0 a b\t\xef\xbb\xbf\n"}, {"assistant", " \xe3\x80\x80 "}};
    xuan_chat_opts o = xuan_chat_opts_default();
    o.add_generation_prompt = false;
    xuan_buf out = {0};
    xuan_error err = {0};
    CHECK_EQ_INT(xuan_chat_render(XUAN_CHAT_LLAMA3, m, 2, &o, &out, &err), 0);
    CHECK_EQ_STR(out.data, "<|start_header_id|>user<|end_header_id|>\n\na b<|eot_id|>"
                           "<|start_header_id|>assistant<|end_header_id|>\n\n<|eot_id|>");
    xuan_buf_free(&out);
}

int main(void) {
    RUN(test_goldens);
    RUN(test_detect_golden_templates);
    RUN(test_detect_unclaimed);
    RUN(test_detect_gguf);
    RUN(test_names);
    RUN(test_bad_input);
    RUN(test_trim_unicode);
    return test_done();
}
