/*
 * test_chat_jinja.c — the Jinja interpreter construct by construct (each
 * expected string is what @huggingface/jinja 0.5.11 renders for the same
 * template), its errors (line and construct named), its bounds (steps,
 * recursion, output size), and the output parsers of each template family.
 * The whole-template comparison is tests/cli_template.sh.
 */
#include "harness.h"
#include "xuan/chat.h"

#include <stdlib.h>

static const char *MSGS = "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yo\"}]";

/* Renders tmpl; returns the text (static) or "ERR <message>". */
static const char *render_opts(const char *tmpl, const char *msgs, xuan_chat_template_opts *o) {
    static char result[8192];
    xuan_chat_template *t = NULL;
    xuan_error err = {0};
    if (xuan_chat_template_parse(tmpl, strlen(tmpl), &t, &err) != 0) {
        snprintf(result, sizeof result, "ERR %s", err.msg);
        return result;
    }
    xuan_buf out = {0};
    if (xuan_chat_template_render(t, msgs ? msgs : MSGS, o, &out, &err) != 0)
        snprintf(result, sizeof result, "ERR %s", err.msg);
    else
        snprintf(result, sizeof result, "%s", out.len ? out.data : "");
    xuan_buf_free(&out);
    xuan_chat_template_free(t);
    return result;
}

static const char *render(const char *tmpl) {
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    o.bos_token = "<s>";
    o.now = 1767225600; /* 2026-01-01 00:00 UTC */
    return render_opts(tmpl, NULL, &o);
}

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* ---- constructs ----------------------------------------------------------- */

static void test_statements(void) {
    CHECK_EQ_STR(render("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                        "{{ loop.length }}{{ loop.revindex }}{{ m.role }}|{% endfor %}"),
                 "10truefalse22user|21falsetrue21assistant|");
    CHECK_EQ_STR(render("{% for x in [1, 2, 3] if x != 2 %}{{ x }}{% else %}E{% endfor %}"
                        "{% for x in [] %}{% else %}empty{% endfor %}"),
                 "13empty");
    CHECK_EQ_STR(render("{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined else '-' }}"
                        "{{ loop.nextitem.role if loop.nextitem is defined else '-' }};{% endfor %}"),
                 "-assistant;user-;");
    CHECK_EQ_STR(render("{% set ns = namespace(n=0, s=\"\") %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
                        "{% endfor %}{{ ns.n }}"),
                 "6");
    CHECK_EQ_STR(render("{% macro greet(name, punct=\"!\") %}Hi {{ name }}{{ punct }}{% endmacro %}"
                        "{{ greet(\"A\") }} {{ greet(\"B\", punct=\"?\") }}"),
                 "Hi A! Hi B?");
    CHECK_EQ_STR(render("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}"),
                 "[inner]");
    CHECK_EQ_STR(render("{% filter upper %}abc{% endfilter %}{% set b %}blk{% endset %}{{ b }}"), "ABCblk");
    CHECK_EQ_STR(render("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}"
                        "{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
                 "0134");
    CHECK_EQ_STR(render("{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}"
                        "{% for i in [1] %}{% set x = 3 %}{% endfor %}{{ x }}"),
                 "22");
    CHECK_EQ_STR(render("{% if false %}a{% elif messages | length > 1 %}b{% else %}c{% endif %}"), "b");
    CHECK_EQ_STR(render("{% set a, b = 1, 2 %}{{ b }}{{ a }}"), "21");
}

static void test_whitespace(void) {
    /* lstrip_blocks + trim_blocks as transformers sets them, `-` trimming,
     * comments, the dropped trailing newline, {% generation %} removed */
    CHECK_EQ_STR(render("  {% if true %}\n    yes\n  {% endif %}\n{{- \"  trimmed  \" -}}  \n{# comment #}\nend"),
                 "    yes\n  trimmed  end");
    CHECK_EQ_STR(render("a\n"), "a");
    CHECK_EQ_STR(render("{%- generation -%} A {% endgeneration %} B"), "A  B");
    CHECK_EQ_STR(render("x  {#- c -#}  y"), "xy");
}

static void test_expressions(void) {
    CHECK_EQ_STR(render("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ -3 | abs }} {{ 1.0 }} "
                        "{{ 2.5 * 2 }} {{ 10 / 5 }}"),
                 "7 3 3.5 1 1024 3 1.0 5.0 2.0");
    CHECK_EQ_STR(render("{{ \"a\" ~ 1 ~ true ~ none if false else \"b\" }} {{ \"x\" in \"xyz\" }} {{ 3 not in [1, 2] }} "
                        "{{ not true or false and true }}"),
                 "b true true false");
    CHECK_EQ_STR(render("{{ 1 == 1.0 }} {{ \"1\" == 1 }} {{ none == undefined_thing }} {{ [1] == [1] }} {{ true == 1 }}"),
                 "true true true false true");
    CHECK_EQ_STR(render("{{ [1, 2] + [3] }} {{ \"ab\" + \"cd\" }} {{ 10 - 2.5 }} {{ [\"a\", 1] | tojson }} "
                        "{{ 1000000000000000000000 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }}"),
                 "[1, 2, 3] abcd 7.5 [\"a\", 1] 1e+21 0.30000000000000004 0.3333333333333333");
    CHECK_EQ_STR(render("{{ \"abcdef\"[1:4] }} {{ \"abcdef\"[::-1] }} {{ [1, 2, 3, 4][1:] }} {{ \"abc\"[-1] }} "
                        "{{ messages[0].role }} {{ messages[-1][\"content\"] }}"),
                 "bcd fedcba [2, 3, 4] c user yo");
    CHECK_EQ_STR(render("{{ undefined_var | default(\"dflt\") }} {{ \"\" | default(\"e\", true) }} {{ x is defined }} "
                        "{{ none is none }} {{ 3 is odd }} {{ 4 is even }} {{ \"s\" is string }} {{ 1 is number }} "
                        "{{ {} is mapping }}"),
                 "dflt e false true true true true true true");
    CHECK_EQ_STR(render("{{ (1, 2) }}"), "ERR chat template: line 1: cannot convert a tuple to JSON");
    CHECK_EQ_STR(render("{{ undefined_var.attr.deeper is defined }}"), "false");
}

static void test_filters_and_methods(void) {
    CHECK_EQ_STR(render("{{ \"  pad  \" | trim }}|{{ \"Hello World\" | lower }}|{{ \"hello world\" | title }}|"
                        "{{ \"abc\" | capitalize }}|{{ \"a,b,c\".split(\",\") | join(\"-\") }}"),
                 "pad|hello world|Hello World|Abc|a-b-c");
    CHECK_EQ_STR(render("{{ {\"b\": 1, \"a\": [1, 2.5, none, true, \"é\"]} | tojson }}|"
                        "{{ {\"a\": {\"b\": []}} | tojson(indent=2) }}|{{ \"é\" | tojson(ensure_ascii=true) }}"),
                 "{\"b\": 1, \"a\": [1, 2.5, null, true, \"é\"]}|{\n  \"a\": {\n    \"b\": []\n  }\n}|\"\\u00e9\"");
    CHECK_EQ_STR(render("{{ [3, 1, 2] | sort | list }} {{ [3, 1, 2] | reverse | join(\",\") }} "
                        "{{ [1, 2, 2, 1] | unique | length }} {{ [5, 6] | first }}{{ [5, 6] | last }}"),
                 "[1, 2, 3] 2,1,3 2 56");
    CHECK_EQ_STR(render("{{ messages | selectattr(\"role\", \"equalto\", \"user\") | map(attribute=\"content\") | join }} "
                        "{{ messages | rejectattr(\"role\", \"equalto\", \"user\") | length }}"),
                 "hi 1");
    CHECK_EQ_STR(render("{{ \"a-b-c\".replace(\"-\", \"+\") }} {{ \"abc\".startswith(\"ab\") }} "
                        "{{ \"abc\".endswith((\"x\", \"c\")) }} {{ \" x \".strip() }}|{{ \"x\".upper() }} "
                        "{{ \"a b  c\".split() }}"),
                 "a+b+c true true x|X [\"a\", \"b\", \"c\"]");
    CHECK_EQ_STR(render("{% set d = {\"k\": \"v\", \"n\": 2} %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"
                        "{{ d.get(\"k\") }}{{ d.get(\"z\", \"Z\") }}{{ d.keys() | list }}{{ d | length }}"),
                 "k=v;n=2;vZ[\"k\", \"n\"]2");
    CHECK_EQ_STR(render("{{ \"%d items\" | replace(\"%d\", 3 | string) }} {{ 12 | string | length }} "
                        "{{ \"42\" | int + 1 }} {{ \"3.5\" | float }} {{ 3.7 | int }}"),
                 "3 items 2 43 3.5 3");
    CHECK_EQ_STR(render("{{ ({\"a\": 1} | items | list) }} {{ {\"b\": 2, \"a\": 1} | dictsort }}"),
                 "[[\"a\", 1]] [[\"a\", 1], [\"b\", 2]]");
    CHECK_EQ_STR(render("{{ \"line1\nline2\n\nline4\" | indent(2) }}|{{ \"a\nb\" | indent(2, true) }}"),
                 "line1\n  line2\n\n  line4|  a\n  b");
    CHECK_EQ_STR(render("{{ strftime_now(\"%Y-%m-%d %B %b\") }}"), "2026-01-01 January Jan");
    CHECK_EQ_STR(render("{{ \"abc\" | replace(\"\", \"-\") }}"), "-a-b-c-");
}

static void test_values_from_json(void) {
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    o.tools_json = "[{\"function\": {\"name\": \"f\", \"parameters\": {\"b\": 1.0, \"1\": 2, \"a\": 0.5}}}]";
    o.kwargs_json = "{\"enable_thinking\": false, \"reasoning_effort\": \"high\"}";
    o.add_generation_prompt = false;
    CHECK_EQ_STR(render_opts("{{ tools[0].function.parameters | tojson }} {{ enable_thinking }} {{ reasoning_effort }} "
                             "{{ add_generation_prompt }} {{ messages[0].content[0].text }}",
                             "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"part\"}]}]", &o),
                 "{\"1\": 2, \"b\": 1, \"a\": 0.5} false high false part");
    /* a kwarg may not shadow a global, as in the reference */
    o.kwargs_json = "{\"range\": 1}";
    CHECK(starts(render_opts("x", NULL, &o), "ERR chat template: line 1: variable already declared: range"));
    o.kwargs_json = "[1]";
    CHECK(starts(render_opts("x", NULL, &o), "ERR chat template: kwargs: expected a JSON object"));
    CHECK(starts(render_opts("x", "[{", &o), "ERR chat template: messages: bad JSON"));
}

/* ---- errors ----------------------------------------------------------------- */

static void test_errors(void) {
    CHECK_EQ_STR(render("a\nb\n{% raw %}x{% endraw %}"), "ERR chat template: line 3: unsupported statement 'raw'");
    CHECK_EQ_STR(render("{% if x %}\nno end"), "ERR chat template: line 2: missing {% endif %}");
    CHECK_EQ_STR(render("{{ 1 +\n}}"), "ERR chat template: line 2: unexpected '}}' in an expression");
    CHECK_EQ_STR(render("\n\n{{ raise_exception(\"Roles must alternate\") }}"),
                 "ERR chat template: line 3: the template raised an exception: Roles must alternate");
    CHECK_EQ_STR(render("{{ 1 < \"a\" }}"),
                 "ERR chat template: line 1: unknown operator \"<\" between IntegerValue and StringValue");
    CHECK_EQ_STR(render("{% for x in 5 %}{% endfor %}"),
                 "ERR chat template: line 1: expected iterable or object type in for loop: got IntegerValue");
    CHECK(starts(render("{{ 'unterminated"), "ERR chat template: line 1: unexpected end of input"));
    /* a filter the interpreter lacks loads (as in the reference) but is reported, and fails when reached */
    const char *tmpl = "{% if false %}\n{{ x | batch(2) }}{% endif %}ok";
    xuan_chat_template *t = NULL;
    xuan_error err = {0};
    REQUIRE(xuan_chat_template_parse(tmpl, strlen(tmpl), &t, &err) == 0);
    CHECK_EQ_INT(xuan_chat_template_check(t, &err), XUAN_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "line 2: filter 'batch'") != NULL);
    xuan_chat_template_free(t);
    CHECK_EQ_STR(render(tmpl), "ok");
    CHECK_EQ_STR(render("\n{{ [1] | batch(2) }}"), "ERR chat template: line 2: unsupported filter 'batch'");
    CHECK_EQ_STR(render("{{ 1 is divisibleby }}"), "ERR chat template: line 1: unsupported test 'divisibleby'");
}

/* ---- bounds --------------------------------------------------------------------- */

static void test_limits(void) {
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    uint64_t t0 = xuan_time_ns();
    const char *r = render_opts("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template step budget exhausted"));
    CHECK((xuan_time_ns() - t0) / 1000000 < 10000); /* stopped in seconds, not hours */
    r = render_opts("{% for i in range(1000000000000) %}{% endfor %}", NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template step budget exhausted"));
    /* output: 2^20 copies of a 64-byte string against a 1 MiB cap */
    o.max_output = 1 << 20;
    r = render_opts("{% set s = '0123456789012345678901234567890123456789012345678901234567890123' %}"
                    "{% for i in range(1048576) %}{{ s }}{% endfor %}", NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template output limit reached (1048576 bytes)"));
    /* a string doubling in a loop hits the cap too */
    r = render_opts("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                    NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template output limit reached"));
    o = xuan_chat_template_opts_default();
    r = render_opts("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template recursion deeper than 1000"));
    o.max_memory = 1 << 20;
    r = render_opts("{% set ns = namespace(a=[]) %}{% for i in range(20) %}{% set ns.a = ns.a + ns.a + [i] %}{% endfor %}",
                    NULL, &o);
    CHECK(starts(r, "ERR chat template: line 1: template memory limit reached"));
    /* deep nesting is refused at parse time */
    char deep[2100];
    size_t k = 0;
    k += (size_t)snprintf(deep + k, sizeof deep - k, "{{ ");
    for (int i = 0; i < 1000; i++) deep[k++] = '(';
    deep[k] = 0;
    CHECK(strstr(render(deep), "nesting deeper than 200 levels") != NULL);
}

/* ---- output parsers ---------------------------------------------------------- */

static void parse(xuan_chat_syntax s, const char *text, const char *content, const char *reasoning,
                  const char *calls) {
    xuan_chat_parsed p;
    xuan_error err = {0};
    REQUIRE(xuan_chat_parse_output(s, text, strlen(text), &p, &err) == 0);
    CHECK_EQ_STR(p.content, content);
    if (reasoning) CHECK_EQ_STR(p.reasoning, reasoning);
    else CHECK(p.reasoning == NULL);
    if (calls) CHECK_EQ_STR(p.tool_calls_json, calls);
    else CHECK(p.tool_calls_json == NULL && p.n_tool_calls == 0);
    xuan_chat_parsed_free(&p);
}

static void test_output_parsers(void) {
    parse(XUAN_CHAT_SYNTAX_PLAIN, "Hello.", "Hello.", NULL, NULL);
    /* the content is not trimmed: a stream sends every byte, the whole answer must too */
    parse(XUAN_CHAT_SYNTAX_PLAIN, "\n\n\n", "\n\n\n", NULL, NULL);
    parse(XUAN_CHAT_SYNTAX_HERMES, " Hi \n", " Hi \n", NULL, NULL);
    /* ... but the whitespace that sets a call apart goes with it */
    parse(XUAN_CHAT_SYNTAX_HERMES, "Sure.\n\n<tool_call>{\"name\": \"a\"}</tool_call>\n", "Sure.", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}}]");
    parse(XUAN_CHAT_SYNTAX_PLAIN, "<think>\nstep 1\n</think>\n\nAnswer.", "Answer.", "step 1", NULL);
    /* the prompt opened the block (Qwen3, R1): only the close is in the output */
    parse(XUAN_CHAT_SYNTAX_HERMES, "because.</think>It is 4.", "It is 4.", "because.", NULL);
    parse(XUAN_CHAT_SYNTAX_HERMES, "<think>hmm</think>\nLet me check.\n<tool_call>\n{\"name\": \"get_weather\", "
          "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
          "Let me check.", "hmm",
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    parse(XUAN_CHAT_SYNTAX_HERMES, "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>"
          "<tool_call>{\"name\": \"b\", \"arguments\": \"{\\\"x\\\":1}\"}</tool_call>",
          "", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}},"
          "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"b\",\"arguments\":\"{\\\"x\\\":1}\"}}]");
    /* a name or arguments that cannot be JSON text (invalid UTF-8) are not a call: content, never a
     * failure (fuzz_chat_output: such a name made the parse fail with "out of memory") */
    parse(XUAN_CHAT_SYNTAX_MISTRAL, "Sure.[TOOL_CALLS]f\xff[ARGS]{}", "Sure.[TOOL_CALLS]f\xff[ARGS]{}", NULL, NULL);
    parse(XUAN_CHAT_SYNTAX_HARMONY, "<|channel|>commentary to=functions.f<|message|>\xfe<|call|>", "\xfe", NULL, NULL);
    /* a malformed call stays in the content */
    parse(XUAN_CHAT_SYNTAX_HERMES, "<tool_call>{not json</tool_call>", "<tool_call>{not json</tool_call>", NULL, NULL);
    parse(XUAN_CHAT_SYNTAX_LLAMA3, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    parse(XUAN_CHAT_SYNTAX_LLAMA3, "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", "", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]");
    parse(XUAN_CHAT_SYNTAX_LLAMA3, "The {braces} are text.", "The {braces} are text.", NULL, NULL);
    parse(XUAN_CHAT_SYNTAX_MISTRAL, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]",
          "", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    parse(XUAN_CHAT_SYNTAX_MISTRAL, "Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}", "Sure.", NULL,
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    parse(XUAN_CHAT_SYNTAX_HARMONY,
          "<|channel|>analysis<|message|>User wants weather.<|end|><|start|>assistant<|channel|>final<|message|>"
          "It is sunny.<|return|>",
          "It is sunny.", "User wants weather.", NULL);
    parse(XUAN_CHAT_SYNTAX_HARMONY,
          "<|channel|>analysis<|message|>Need a tool.<|end|><|start|>assistant<|channel|>commentary "
          "to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>",
          "", "Need a tool.",
          "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    parse(XUAN_CHAT_SYNTAX_HARMONY, "plain words", "plain words", NULL, NULL);
}

static void test_syntax_detect(void) {
    const char *q = "{%- if tools %}<tool_call>{% endif %}";
    CHECK_EQ_INT(xuan_chat_syntax_detect(q, strlen(q)), XUAN_CHAT_SYNTAX_HERMES);
    const char *h = "<|start|>assistant<|channel|>final<|message|>";
    CHECK_EQ_INT(xuan_chat_syntax_detect(h, strlen(h)), XUAN_CHAT_SYNTAX_HARMONY);
    const char *m = "[AVAILABLE_TOOLS][TOOL_CALLS]";
    CHECK_EQ_INT(xuan_chat_syntax_detect(m, strlen(m)), XUAN_CHAT_SYNTAX_MISTRAL);
    const char *l = "<|start_header_id|>ipython<|end_header_id|><|python_tag|>";
    CHECK_EQ_INT(xuan_chat_syntax_detect(l, strlen(l)), XUAN_CHAT_SYNTAX_LLAMA3);
    CHECK_EQ_INT(xuan_chat_syntax_detect("{{ x }}", 7), XUAN_CHAT_SYNTAX_PLAIN);
    CHECK_EQ_STR(xuan_chat_syntax_name(XUAN_CHAT_SYNTAX_HARMONY), "harmony");
}

int main(void) {
    setenv("TZ", "UTC", 1);
    RUN(test_statements);
    RUN(test_whitespace);
    RUN(test_expressions);
    RUN(test_filters_and_methods);
    RUN(test_values_from_json);
    RUN(test_errors);
    RUN(test_limits);
    RUN(test_output_parsers);
    RUN(test_syntax_detect);
    return test_done();
}
