/*
 * test_eval.c — the eval room: extractors and equivalence on the reference
 * harnesses' tricky cases, pass@k against hand-computed values, every
 * malformed-input path of the loaders and the task-file parser, and (with
 * ../shared) every shipped task file against the real data: the MANIFEST's
 * item counts, prompts that render, and rescoring each item's own gold
 * answer written as a model would write it (100%) and a wrong one (0%).
 */
#include "harness.h"
#include "xuan/eval.h"

#include <math.h>
#include <stdlib.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------------ */

static char *ex(xuan_extractor e, const char *text, const char *letters) {
    static char keep[8][256];
    static int slot;
    char *out = NULL;
    xuan_error err = {0};
    if (xuan_eval_extract(e, text, strlen(text), letters, &out, &err) != 0) return "(error)";
    if (!out) return NULL;
    char *k = keep[slot++ % 8];
    snprintf(k, 256, "%s", out);
    xuan_free(out);
    return k;
}

#define CHECK_EX(e, text, want) do { const char *_g = ex(e, text, NULL); \
    if ((want) == NULL ? _g != NULL : (!_g || strcmp(_g, (want) ? (want) : ""))) \
        test_fail(__FILE__, __LINE__, "%s on \"%s\" gave \"%s\", expected \"%s\"", #e, text, \
                  _g ? _g : "(none)", (want) ? (want) : "(none)"); } while (0)

/* A table of extractor cases: output, the answer it must give (NULL: none). */
typedef struct excase {
    const char *text, *want;
} excase;

static void check_cases(int line, xuan_extractor e, const char *letters, const excase *c, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *got = ex(e, c[i].text, letters);
        if (c[i].want ? !got || strcmp(got, c[i].want) : got != NULL)
            test_fail(__FILE__, line, "%s on \"%s\" gave \"%s\", expected \"%s\"", xuan_eval_extractor_name(e),
                      c[i].text, got ? got : "(none)", c[i].want ? c[i].want : "(none)");
    }
}
#define CHECK_CASES(e, letters, table) check_cases(__LINE__, e, letters, table, sizeof table / sizeof table[0])

static const char *src_dir(void) {
    const char *s = getenv("XUAN_SRC");
    return s ? s : ".";
}

static xuan_eval_task *task_from(const char *yaml, xuan_error *err) {
    xuan_eval_task *t = NULL;
    if (xuan_eval_task_parse("t.yaml", yaml, strlen(yaml), &t, err) != 0) return NULL;
    return t;
}

static const char *MINI_TASK =
    "name: mini\nversion: 3\ndataset:\n  format: jsonl\n  files: x.jsonl\nprompt: \"Q: {{ question }}\"\n"
    "target: answer\nmax_tokens: 64\nextractors: [gsm8k-strict, gsm8k-flexible]\nanswer: number\n";

/* ---- extraction ------------------------------------------------------------------ */

static void test_gsm8k(void) {
    static const excase cases1[] = {
        {"so 1000 + 234\n#### 1,234", "1,234"},
        {"#### 5 and later #### 6", "5"}, /* take_first */
        {"The answer is 18.", NULL},
        {"####18", NULL}, /* the space is part of the pattern */
    };
    CHECK_CASES(XUAN_EXTRACT_GSM8K_STRICT, NULL, cases1);
    static const excase cases2[] = {
        {"She makes $18.00 every day.", "$18.00"},
        {"16 - 3 - 4 = 9 eggs, 9 * 2 = 18", "18"},
        {"The answer is 5.", "5."},
        {"x is -7", "-7"},
        {"no digits here", NULL},
    };
    CHECK_CASES(XUAN_EXTRACT_GSM8K_FLEXIBLE, NULL, cases2);
    CHECK(xuan_eval_number_equal("1,234", "1234", 0));
    CHECK(xuan_eval_number_equal("$18.00", "18", 0));
    CHECK(xuan_eval_number_equal("5.", "5", 0));
    CHECK(xuan_eval_number_equal("18", "Janet sells 9 eggs.\n#### 18", 0)); /* "(?s).*#### " */
    CHECK(!xuan_eval_number_equal("17", "#### 18", 0));
    CHECK(!xuan_eval_number_equal("1.8", "18", 0));
    CHECK(!xuan_eval_number_equal("inf", "inf", 0));
    CHECK(!xuan_eval_number_equal("0x10", "16", 0));
    CHECK(!xuan_eval_number_equal("", "0", 0));
}

static void test_boxed(void) {
    static const excase cases[] = { /* output, the last box's content (NULL: none) */
        {"so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"},
        {"\\boxed{1} then \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"},
        {"\\boxed{a^{2}+{b^{c}}}", "a^{2}+{b^{c}}"},
        {"\\fbox{7}", "7"},
        {"the answer is $\\boxed 5$.", "5"},
        {"\\boxed{unclosed {", NULL},
        {"no box", NULL},
        {"\\boxedx {3}", NULL}, /* remove_boxed wants "\\boxed{" */
    };
    CHECK_CASES(XUAN_EXTRACT_MATH_BOXED, NULL, cases);
}

static void test_math_equiv(void) {
    static const char *const same[][2] = {
        {"\\frac{1}{2}", "0.5"},          {"\\frac12", "\\frac{1}{2}"},     {"1/2", "\\frac{1}{2}"},
        {"\\dfrac{3}{4}", "\\frac34"},    {"\\tfrac{3}{4}", "\\frac{3}{4}"}, {".5", "\\frac{1}{2}"},
        {"\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"},
        {"10\\text{ cm}", "10"},          {"90^\\circ", "90"},             {"90^{\\circ}", "90"},
        {"50\\%", "50"},                  {"50%", "50"},                  {"x = 5", "5"},                  {"\\$5", "5"},
        {"\\text{(B)}", "(B)"},           {"\\sqrt3", "\\sqrt{3}"},        {"  7 ", "7"},
        {"\\frac1{72}", "\\frac{1}{72}"}, {"0.5", ".5"},                   {"\\!3", "3"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!xuan_math_equiv(same[i][0], same[i][1]))
            test_fail(__FILE__, __LINE__, "expected '%s' == '%s'", same[i][0], same[i][1]);
    static const char *const differ[][2] = {
        {"\\frac{1}{3}", "0.33"}, {"2", "3"}, {"x+1", "1+x"}, {"03/4", "\\frac{3}{4}"},
        {"5\\text{ cm}\\text{ m}", "5"}, /* _remove_right_units asserts: raw strings differ */
        {"1.5/2", "\\frac{1.5}{2}"},     /* int("1.5") fails: "1.5/2" stays */
        {"\\frac", "\\frac{}"},          /* an empty piece after \frac raises */
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++)
        if (xuan_math_equiv(differ[i][0], differ[i][1]))
            test_fail(__FILE__, __LINE__, "expected '%s' != '%s'", differ[i][0], differ[i][1]);
    CHECK(xuan_math_equiv("5\\text{ cm}\\text{ m}", "5\\text{ cm}\\text{ m}"));
    char *n = xuan_math_normalize("\\left(\\dfrac{1}{2}, 3\\right)");
    CHECK_EQ_STR(n, "(\\frac{1}{2},3)");
    xuan_free(n);
    n = xuan_math_normalize("\\frac{\\sqrt{3}}{2}\\text{ units}");
    CHECK_EQ_STR(n, "\\frac{\\sqrt{3}}{2}");
    xuan_free(n);
    n = xuan_math_normalize("\\frac½3"); /* one UTF-8 character as Python's substr[0] */
    CHECK_EQ_STR(n, "\\frac{½}{3}");
    xuan_free(n);
    CHECK(xuan_math_equiv(NULL, NULL));
    CHECK(!xuan_math_equiv("1", NULL));
}

static void test_letters(void) {
    static const excase cases3[] = {
        {"Thinking... the answer is (C).", "C"},
        {"So the answer is B", "B"},
        {"Answer: D\nbecause", "D"},
        {"I pick A over B, so D", "D"}, /* the last lone letter */
        {"the answer is (E)", "E"}, /* A-J as MMLU-Pro's regexes, whatever the option count */
        /* Llama-3.1-8B-Instruct, MMLU-Pro question 11257 (4 options): the last lone letter of A-J */
        {"Izzy plays Minecraft (B) and Ashleigh stops by (E), so B or E", "E"},
        {"Apples and Bananas", NULL},
    };
    CHECK_CASES(XUAN_EXTRACT_MMLU_PRO, NULL, cases3);
    CHECK_EQ_STR(ex(XUAN_EXTRACT_MMLU_PRO, "the answer is (J)", "ABCDEFGHIJ"), "J");
    CHECK_EQ_STR(ex(XUAN_EXTRACT_MMLU_PRO, "Answer: G", "ABCDEFGHIJ"), "G");
    CHECK_EQ_STR(ex(XUAN_EXTRACT_MMLU_PRO, "the answer is (L)", "ABCDEFGHIJKL"), "L"); /* over ten: its own */
    static const excase cases4[] = {
        {"答案是 A", "A"},
        {"经过分析，答案：C", "C"},
        {"所以选 B。", "B"},
        {"正确答案是D，因为……", "D"},
        {"B是正确的", "B"},
        {"The answer is (B).", "B"},
        {"  C  ", "C"},
        {"不知道", NULL},
    };
    CHECK_CASES(XUAN_EXTRACT_OPENCOMPASS, NULL, cases4);
    /* "answer: a": (?i) lets the pattern match, but no option letter is in
     * the match, so the reference goes on to the cushion's bare letter */
    CHECK_EX(XUAN_EXTRACT_OPENCOMPASS, "answer: a, B", "B");
    char *out = NULL;
    xuan_error err = {0};
    CHECK_EQ_INT(xuan_eval_extract(XUAN_EXTRACT_MMLU_PRO, "A", 1, "ABD", &out, &err), XUAN_ERR_USAGE);
    CHECK_EQ_INT(xuan_eval_extract(XUAN_EXTRACT_MMLU_PRO, "A", 1, "", &out, &err), XUAN_ERR_USAGE);
}

static void test_numbers(void) {
    static const excase cases5[] = {
        {"所以答案是 3/4。", "3/4"},
        {"答案是 \\boxed{\\frac{3}{4}}，共 5 个", "3/4"},
        {"占 40%", "40%"},
        {"占 27.3％。", "27.3%"},
        {"共 1,234 元", "1,234"},
        {"没有数字", NULL},
    };
    CHECK_CASES(XUAN_EXTRACT_LAST_NUMBER, NULL, cases5);
    CHECK(xuan_eval_number_equal("6/8", "3/4", 1e-4));
    CHECK(xuan_eval_number_equal("0.4", "40%", 1e-4));
    CHECK(xuan_eval_number_equal("40%", "40%", 1e-4));
    CHECK(xuan_eval_number_equal("0.1739", "8/46", 1e-3));
    CHECK(!xuan_eval_number_equal("0.17", "8/46", 1e-4));
    CHECK(!xuan_eval_number_equal("1/0", "1", 1e-4));
    double v;
    bool pct;
    CHECK(xuan_eval_parse_number("$1,234.50", &v, &pct) && v == 1234.5 && !pct);
    CHECK(!xuan_eval_parse_number("1e5", &v, &pct));
    CHECK(!xuan_eval_parse_number("nan", &v, &pct));
}

static void test_think(void) {
    size_t n;
    const char *s = "<think>the answer is (A)</think>\nthe answer is (B)";
    const char *a = xuan_eval_strip_think(s, strlen(s), &n);
    REQUIRE(a);
    CHECK_EQ_STR(a, "\nthe answer is (B)");
    s = "  <think>still thinking, the answer is (A)";
    CHECK(xuan_eval_strip_think(s, strlen(s), &n) == NULL);
    s = "the prompt opened it</think>#### 5";
    a = xuan_eval_strip_think(s, strlen(s), &n);
    REQUIRE(a);
    CHECK_EQ_STR(a, "#### 5");
    /* through the scorer: the think block's answer is ignored */
    xuan_error err = {0};
    xuan_eval_task *t = task_from(MINI_TASK, &err);
    REQUIRE(t);
    xuan_eval_verdict v;
    REQUIRE(xuan_eval_score(t, 0, "<think>#### 5</think>#### 7", "7", NULL, &v, &err) == 0);
    CHECK_EQ_STR(v.extracted, "7");
    CHECK_EQ_INT(v.correct, 1);
    xuan_eval_verdict_free(&v);
    REQUIRE(xuan_eval_score(t, 1, "<think>#### 7 is it", "7", NULL, &v, &err) == 0);
    CHECK(v.extracted == NULL);
    CHECK_EQ_INT(v.correct, 0);
    CHECK_EQ_INT(xuan_eval_score(t, 2, "x", "7", NULL, &v, &err), XUAN_ERR_USAGE);
    xuan_eval_task_free(t);
}

static void test_invalid_utf8_output(void) {
    char *out = NULL;
    xuan_error err = {0};
    const char bad[] = "\\boxed{\xff\xfe 3}";
    REQUIRE(xuan_eval_extract(XUAN_EXTRACT_MATH_BOXED, bad, sizeof bad - 1, NULL, &out, &err) == 0);
    REQUIRE(out);
    CHECK(xuan_utf8_valid((const uint8_t *)out, strlen(out)));
    CHECK_EQ_STR(out, "\xEF\xBF\xBD\xEF\xBF\xBD 3");
    xuan_free(out);
}

/* ---- pass@k, HumanEval ------------------------------------------------------------- */

static void test_pass_at_k(void) {
    CHECK_NEAR(xuan_pass_at_k(10, 3, 1), 0.3, 1e-12);
    CHECK_NEAR(xuan_pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0, 1e-12); /* 1 - C(7,5)/C(10,5) */
    CHECK_NEAR(xuan_pass_at_k(200, 20, 10), 0.660225623763214, 1e-12); /* math.comb in Python */
    CHECK_NEAR(xuan_pass_at_k(5, 0, 1), 0.0, 0);
    CHECK_NEAR(xuan_pass_at_k(5, 5, 3), 1.0, 0);
    CHECK_NEAR(xuan_pass_at_k(10, 8, 3), 1.0, 0); /* n - c < k */
    CHECK_NEAR(xuan_pass_at_k(1, 1, 1), 1.0, 0);
    CHECK(isnan(xuan_pass_at_k(3, 1, 4)));
    CHECK(isnan(xuan_pass_at_k(3, 4, 1)));
    CHECK(isnan(xuan_pass_at_k(3, 1, 0)));
}

static void test_humaneval_program(void) {
    xuan_buf b = {0};
    REQUIRE(xuan_humaneval_program("def f(x):\n", "    return x\n", "def check(c):\n    assert c(1) == 1\n", "f", &b) == 0);
    CHECK_EQ_STR(b.data, "__name__ = 'builtins'\ndef f(x):\n    return x\n\ndef check(c):\n    assert c(1) == 1\n\ncheck(f)");
    xuan_buf_free(&b);
}

/* ---- datasets --------------------------------------------------------------------------- */

static int parse(xuan_data_format f, bool header, const char *const *cols, size_t nc, const char *text, size_t n,
                 xuan_dataset *d, xuan_error *err) {
    xuan_dataset_opts o = {.format = f, .header = header, .columns = cols, .n_columns = nc, .max_line = 4096,
                           .max_items = 100};
    return xuan_dataset_parse("in", (const uint8_t *)text, n, &o, d, err);
}

static void test_csv(void) {
    static const char *const cols[] = {"q", "a"};
    const char text[] = "\xEF\xBB\xBF" "plain,1\r\n\"quoted, with comma\",2\n\"two\nlines\",3\r\n"
                        "\"say \"\"hi\"\"\",4\n\n\"cr\ronly\",5\rlast,6";
    xuan_dataset d;
    xuan_error err = {0};
    REQUIRE(parse(XUAN_DATA_CSV, false, cols, 2, text, sizeof text - 1, &d, &err) == 0);
    CHECK_EQ_INT(d.n_items, 6);
    if (d.n_items == 6) {
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "q"), "plain");
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[1], "q"), "quoted, with comma");
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[2], "q"), "two\nlines");
        CHECK_EQ_INT(d.items[3].line, 5);
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[3], "q"), "say \"hi\"");
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[4], "q"), "cr\ronly");
        CHECK_EQ_STR(xuan_eval_item_get(&d.items[5], "a"), "6");
        CHECK(xuan_eval_item_get(&d.items[0], "zz") == NULL);
    }
    xuan_dataset_free(&d);
    /* header names */
    const char h[] = ",Question,Answer\n0,why,B\n";
    REQUIRE(parse(XUAN_DATA_CSV, true, NULL, 0, h, sizeof h - 1, &d, &err) == 0);
    CHECK_EQ_INT(d.n_items, 1);
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "Question"), "why");
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "column1"), "0");
    xuan_dataset_free(&d);
    /* TSV: no quoting */
    const char tsv[] = "\"a\"\t1\nb\t2\n";
    REQUIRE(parse(XUAN_DATA_TSV, false, cols, 2, tsv, sizeof tsv - 1, &d, &err) == 0);
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "q"), "\"a\"");
    xuan_dataset_free(&d);
}

/* Each malformed input: status, and a one-line message naming "in:LINE". */
static void bad_input(int line, xuan_data_format f, const char *const *cols, size_t nc, const char *text, size_t n,
                      const char *want) {
    xuan_dataset d;
    xuan_error err = {0};
    int rc = parse(f, false, cols, nc, text, n, &d, &err);
    if (rc != XUAN_ERR_FORMAT || !strstr(err.msg, want) || strchr(err.msg, '\n') || d.items)
        test_fail(__FILE__, line, "rc %d, message '%s', expected FORMAT with '%s'", rc, err.msg, want);
}

static void test_malformed_data(void) {
    static const char *const cols[] = {"q", "a"};
    bad_input(__LINE__, XUAN_DATA_CSV, cols, 2, "a,1\n\"open,2\nmore\n", 16, "in:2: unterminated quote");
    bad_input(__LINE__, XUAN_DATA_CSV, cols, 2, "a,1\nb,\xff\n", 8, "in:2: invalid UTF-8");
    bad_input(__LINE__, XUAN_DATA_CSV, cols, 2, "a,1\nb,2,3\n", 10, "in:2: row has 3 fields, expected 2");
    bad_input(__LINE__, XUAN_DATA_CSV, cols, 2, "\"ab\"c,1\n", 8, "in:1: text after a closing quote");
    bad_input(__LINE__, XUAN_DATA_CSV, NULL, 0, "a,1\n", 4, "in:1: no column names");
    bad_input(__LINE__, XUAN_DATA_TSV, cols, 2, "a\t1\nb\n", 6, "in:2: row has 1 fields");
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, "{\"a\": 1}\n{\"a\": \"\xc3\x28\"}\n", 23, "in:2: invalid UTF-8");
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, "{\"a\": 1}\n\n{\"a\": \n", 17, "in:3: bad JSON");
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, "[1, 2]\n", 7, "in:1: a line must hold one JSON object");
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, "{\"a\": 1, \"a\": 2}\n", 17, "in:1: bad JSON");
    /* a huge line, a huge row, too many items */
    size_t big = 5000;
    char *huge = malloc(big + 16);
    REQUIRE(huge);
    memcpy(huge, "{\"a\": \"", 7);
    memset(huge + 7, 'x', big);
    memcpy(huge + 7 + big, "\"}\n", 3);
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, huge, big + 10, "in:1: line of 5009 bytes, over the 4096-byte bound");
    memset(huge, 'y', big);
    bad_input(__LINE__, XUAN_DATA_CSV, cols, 2, huge, big, "in:1: row longer than 4096 bytes");
    free(huge);
    xuan_buf many = {0};
    for (int i = 0; i < 101; i++) xuan_buf_puts(&many, "{}\n");
    bad_input(__LINE__, XUAN_DATA_JSONL, NULL, 0, many.data, many.len, "in:101: more than 100 items");
    xuan_buf_free(&many);
    /* a field over the field bound */
    xuan_dataset d;
    xuan_error err = {0};
    xuan_dataset_opts o = {.format = XUAN_DATA_CSV, .columns = cols, .n_columns = 2, .max_field = 3};
    CHECK_EQ_INT(xuan_dataset_parse("in", (const uint8_t *)"abcd,1\n", 7, &o, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "in:1: field 'q' is 4 bytes") != NULL);
}

static void test_gzip(void) {
    const char *plain = "{\"task_id\": \"T/0\", \"n\": 1}\n{\"task_id\": \"T/1\", \"o\": {\"A\": \"x\", \"B\": [1,2]}}\n";
    uLong bound = compressBound((uLong)strlen(plain)) + 64;
    unsigned char *gz = malloc(bound);
    REQUIRE(gz);
    z_stream z = {0};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = (Bytef *)plain;
    z.avail_in = (uInt)strlen(plain);
    z.next_out = gz;
    z.avail_out = (uInt)bound;
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    xuan_dataset d;
    xuan_error err = {0};
    xuan_dataset_opts o = {.format = XUAN_DATA_JSONL_GZ};
    REQUIRE(xuan_dataset_parse("g.gz", gz, n, &o, &d, &err) == 0);
    CHECK_EQ_INT(d.n_items, 2);
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "n"), "1");
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[1], "o.A"), "x");
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[1], "o.B"), "[1,2]");
    xuan_dataset_free(&d);
    /* truncated: every length short of the whole stream fails, naming the file */
    for (size_t cut = 0; cut < n; cut += 7) {
        int rc = xuan_dataset_parse("g.gz", gz, cut, &o, &d, &err);
        if (rc != XUAN_ERR_FORMAT || !strstr(err.msg, "g.gz: "))
            test_fail(__FILE__, __LINE__, "cut at %zu: rc %d '%s'", cut, rc, err.msg);
    }
    CHECK_EQ_INT(xuan_dataset_parse("g.gz", gz, n - 3, &o, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "truncated gzip stream") != NULL);
    gz[n / 2] ^= 0x55; /* corrupt */
    CHECK_EQ_INT(xuan_dataset_parse("g.gz", gz, n, &o, &d, &err), XUAN_ERR_FORMAT);
    xuan_dataset_opts small = {.format = XUAN_DATA_JSONL_GZ, .max_bytes = 10};
    gz[n / 2] ^= 0x55;
    CHECK_EQ_INT(xuan_dataset_parse("g.gz", gz, n, &small, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "decompresses to more than 10 bytes") != NULL);
    free(gz);
}

static void test_alloc_failures(void) {
    static const char *const cols[] = {"q", "a"};
    const char text[] = "\"x,y\",1\nz,2\n";
    for (int64_t k = 0; k < 200; k++) {
        xuan_dataset d;
        xuan_error err = {0};
        xuan_alloc_fail_after(k);
        int rc = parse(XUAN_DATA_CSV, false, cols, 2, text, sizeof text - 1, &d, &err);
        xuan_alloc_fail_after(-1);
        if (rc == 0) {
            CHECK_EQ_INT(d.n_items, 2);
            xuan_dataset_free(&d);
            break;
        }
        CHECK_EQ_INT(rc, XUAN_ERR_NOMEM);
    }
    for (int64_t k = 0; k < 400; k++) {
        xuan_error err = {0};
        xuan_alloc_fail_after(k);
        xuan_eval_task *t = task_from(MINI_TASK, &err);
        xuan_alloc_fail_after(-1);
        if (t) {
            xuan_eval_task_free(t);
            break;
        }
        CHECK_EQ_INT(err.code, XUAN_ERR_NOMEM);
    }
}

/* ---- parquet (tests/data/mmlu-pro; cli_parquet checks it against hyparquet) ----------------- */

static void test_parquet(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/mmlu-pro/test-00000-of-00001.parquet", src_dir());
    char *bytes = NULL;
    size_t n = 0;
    xuan_error err = {0};
    REQUIRE(xuan_read_file(path, 1 << 20, &bytes, &n, &err) == 0);
    xuan_dataset_opts o = {.format = XUAN_DATA_PARQUET};
    xuan_dataset d;
    REQUIRE(xuan_dataset_parse("t.parquet", (const uint8_t *)bytes, n, &o, &d, &err) == 0);
    CHECK_EQ_INT(d.n_items, 40);
    CHECK_EQ_INT(d.items[0].n_fields, 8);
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "question_id"), "1000");
    CHECK_EQ_STR(xuan_eval_item_get(&d.items[0], "options"), "[\"one\",\"two\",\"three\",\"N/A\",\"N/A\"]");
    CHECK(d.items[0].fields[2].json && !d.items[0].fields[1].json);
    CHECK_EQ_INT(d.items[39].line, 40);
    xuan_dataset_free(&d);
    /* every allocation failure is NOMEM, nothing leaks (the sanitizer pass) */
    for (int64_t k = 0; k < 20000; k++) {
        xuan_alloc_fail_after(k);
        int rc = xuan_dataset_parse("t.parquet", (const uint8_t *)bytes, n, &o, &d, &err);
        xuan_alloc_fail_after(-1);
        if (rc == 0) {
            CHECK_EQ_INT(d.n_items, 40);
            xuan_dataset_free(&d);
            break;
        }
        CHECK_EQ_INT(rc, XUAN_ERR_NOMEM);
        CHECK(d.items == NULL && d.n_items == 0);
    }
    /* bounds: rows, a field, the bytes of cells */
    xuan_dataset_opts small = o;
    small.max_items = 39;
    CHECK_EQ_INT(xuan_dataset_parse("t.parquet", (const uint8_t *)bytes, n, &small, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "40 rows, over the 39-row bound") != NULL);
    small = o;
    small.max_field = 100;
    CHECK_EQ_INT(xuan_dataset_parse("t.parquet", (const uint8_t *)bytes, n, &small, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "over the 100-byte bound") != NULL && strstr(err.msg, "t.parquet: row ") == err.msg);
    small = o;
    small.max_bytes = 8000;
    CHECK_EQ_INT(xuan_dataset_parse("t.parquet", (const uint8_t *)bytes, n, &small, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "8000-byte bound") != NULL);
    /* a footer length past the file; a schema list that claims 2^40 elements */
    char *bad = malloc(n);
    REQUIRE(bad);
    memcpy(bad, bytes, n);
    bad[n - 5] = 0x7f;
    CHECK_EQ_INT(xuan_dataset_parse("b.parquet", (const uint8_t *)bad, n, &o, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "b.parquet: a footer of ") == err.msg);
    static const uint8_t huge[] = {'P', 'A', 'R', '1', 0x29, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0,
                                   8, 0, 0, 0, 'P', 'A', 'R', '1'};
    CHECK_EQ_INT(xuan_dataset_parse("h.parquet", huge, sizeof huge, &o, &d, &err), XUAN_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "h.parquet: a bad FileMetaData (Thrift) in the footer");
    CHECK_EQ_INT(xuan_dataset_parse("h.parquet", (const uint8_t *)"PAR1PAR1", 8, &o, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "not a parquet file") != NULL);
    free(bad);
    xuan_free(bytes);
    /* every fuzz seed (each variant cli_parquet checks against hyparquet, 8 rows) loads:
     * under ASan this is the regression test of fuzz_parquet's finding (all-null pages) */
    static const char *const seeds[] = {"all-null", "dict-uncompressed", "groups-pages", "plain-uncompressed",
                                        "required", "snappy-dict", "snappy-plain", "tiny-groups-dict",
                                        "v1-snappy", "v1-uncompressed", "v1-zstd"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        snprintf(path, sizeof path, "%s/fuzz/corpus/parquet/%s.parquet", src_dir(), seeds[i]);
        if (xuan_dataset_load(path, &o, &d, &err) != 0) {
            test_fail(__FILE__, __LINE__, "%s: %s", seeds[i], err.msg);
            continue;
        }
        CHECK_EQ_INT(d.n_items, 8);
        if (i == 0) CHECK_EQ_STR(xuan_eval_item_get(&d.items[5], "options"), "");
        xuan_dataset_free(&d);
    }
    /* the shipped task reads options from the list and shots by category */
    xuan_eval_task *t = NULL;
    snprintf(path, sizeof path, "%s/tasks/mmlu-pro.yaml", src_dir());
    REQUIRE(xuan_eval_task_load(path, &t, &err) == 0);
    CHECK_EQ_STR(t->option_list, "options");
    CHECK_EQ_INT(t->n_option_drop, 1);
    CHECK_EQ_STR(t->option_drop[0], "N/A");
    CHECK_EQ_STR(t->fewshot_match, "category");
    CHECK_EQ_INT(t->format, XUAN_DATA_PARQUET);
    CHECK(xuan_eval_task_has_options(t));
    char letters[27];
    xuan_eval_task_letters(t, letters);
    CHECK_EQ_STR(letters, "");
    xuan_eval_data data;
    snprintf(path, sizeof path, "%s/tests/data", src_dir());
    REQUIRE(xuan_eval_data_load(t, path, &data, &err) == 0);
    xuan_eval_item_letters(t, xuan_eval_data_item(&data, 0, NULL), letters);
    CHECK_EQ_STR(letters, "ABC"); /* two "N/A" dropped */
    xuan_eval_item_letters(t, xuan_eval_data_item(&data, 2, NULL), letters);
    CHECK_EQ_STR(letters, "A");
    xuan_eval_data_free(&data);
    xuan_eval_task_free(t);
}

/* ---- task files ------------------------------------------------------------------------------ */

static void test_task_parse(void) {
    xuan_error err = {0};
    xuan_eval_task *t = task_from(MINI_TASK, &err);
    REQUIRE(t);
    CHECK_EQ_STR(t->name, "mini");
    CHECK_EQ_INT(t->version, 3);
    CHECK_EQ_INT(t->n_extractors, 2);
    CHECK_EQ_INT(t->extractors[1], XUAN_EXTRACT_GSM8K_FLEXIBLE);
    CHECK_EQ_INT(t->max_tokens_reasoning, 64);
    CHECK_EQ_INT(strlen(t->sha256), 64);
    xuan_eval_task_free(t);
    /* docs/eval.md's MBPP example: a code task in YAML only */
    const char *mbpp =
        "name: mbpp\nversion: 1\ndataset: {format: jsonl, files: mbpp/test.jsonl}\nprompt: |-\n"
        "  You are an expert Python programmer, and here is your task: {{ text }} Your code should pass these tests:\n\n"
        "  {{ test_list | join('\\n') }}\n"
        "program: \"{{ completion }}\\n{{ test_setup_code }}\\n{{ test_list | join('\\n') }}\"\n"
        "stop: [\"\\n[DONE]\"]\nmax_tokens: 512\nextractors: [humaneval]\nmetric: pass@k\nanswer: code\n";
    t = task_from(mbpp, &err);
    if (!t) test_fail(__FILE__, __LINE__, "the MBPP example: %s", err.msg);
    xuan_eval_field f[] = {{"task_id", "11", 2, false}, {"test_setup_code", "", 0, false}, {"test_list", "[\"assert f(1) == 1\",\"assert f(2) == 2\"]", 39, true}};
    xuan_eval_item it = {.fields = f, .n_fields = 3, .line = 1};
    xuan_buf b = {0};
    if (t) {
        CHECK(xuan_eval_program(t, &it, "def f(x): return x", &b, &err) == 0);
        CHECK_EQ_STR(b.data, "def f(x): return x\n\nassert f(1) == 1\nassert f(2) == 2");
    }
    xuan_buf_free(&b);
    xuan_eval_task_free(t);
}

static void bad_task(int line, const char *yaml, const char *want) {
    xuan_error err = {0};
    xuan_eval_task *t = task_from(yaml, &err);
    if (t || !strstr(err.msg, want) || strchr(err.msg, '\n'))
        test_fail(__FILE__, line, "message '%s', expected '%s'", err.msg, want);
    xuan_eval_task_free(t);
}

/* MINI_TASK with `from` replaced by `to` must be refused with `want`. */
static void bad_edit(int line, const char *from, const char *to, const char *want) {
    char y[2048];
    const char *at = strstr(MINI_TASK, from);
    if (!at) {
        test_fail(__FILE__, line, "'%s' is not in the task", from);
        return;
    }
    snprintf(y, sizeof y, "%.*s%s%s", (int)(at - MINI_TASK), MINI_TASK, to, at + strlen(from));
    bad_task(line, y, want);
}

static void test_task_errors(void) {
    char y[2048];
    snprintf(y, sizeof y, "%sstops: [x]\n", MINI_TASK);
    bad_task(__LINE__, y, "t.yaml:11: key 'stops': unknown key (did you mean 'stop'?)");
    bad_edit(__LINE__, "max_tokens: 64", "max_tokens: ab", "t.yaml:8: key 'max_tokens': expected an integer from 1 to 1048576, got 'ab'");
    bad_task(__LINE__, "name: x\nversion: \"1\"\n", "t.yaml:2: key 'version': expected an integer, got a quoted string");
    bad_task(__LINE__, "name: [x]\nversion: 1\n", "t.yaml:1: key 'name': expected a string, got a list");
    bad_task(__LINE__, "name: x\nversion: 1\n", "t.yaml:1: key 'dataset': required key missing");
    bad_edit(__LINE__, "gsm8k-strict", "gsm8k-strick", "t.yaml:9: key 'extractors': unknown extractor 'gsm8k-strick'");
    bad_task(__LINE__, "name: x\nversion: 1\ndataset:\n  format: xml\n", "t.yaml:4: key 'format': expected jsonl");
    bad_task(__LINE__, "name: x\nversion: 1\ndataset:\n  format: csv\n  filez: a\n",
             "t.yaml:5: key 'filez' in dataset: unknown key (did you mean 'files'?)");
    bad_task(__LINE__, "name: x\nname: y\n", "t.yaml:2: key 'name': given twice");
    bad_task(__LINE__, "name: x\n  version: : 1\n", "t.yaml:2: bad YAML");
    bad_task(__LINE__, "", "t.yaml:1: an empty task file");
    bad_task(__LINE__, "- a\n- b\n", "t.yaml:1: key '': expected a mapping, got a list");
    snprintf(y, sizeof y, "%s---\nname: again\n", MINI_TASK);
    bad_task(__LINE__, y, "a second YAML document");
    bad_task(__LINE__,
             "name: x\nversion: 1\ndataset:\n  format: jsonl\n  files: x.jsonl\nanswer: number\nprompt: |\n"
             "  Q: {% if x %}\n",
             "t.yaml:7: key 'prompt': the template does not parse");
    /* a letter extractor on a number task, a csv without columns or header */
    bad_edit(__LINE__, "[gsm8k-strict, gsm8k-flexible]", "[mmlu-pro                    ]", "extractor 'mmlu-pro' does not give a number answer");
    bad_task(__LINE__,
             "name: x\nversion: 1\nanswer: letter\ndataset:\n  format: csv\n  files: a.csv\nprompt: p\nmax_tokens: 1\n"
             "extractors: mmlu-pro\n",
             "key 'columns' in dataset (the file has no header row): required key missing");
    bad_task(__LINE__,
             "name: x\nversion: 1\nanswer: number\ndataset:\n  format: jsonl\n  files: a_{subject}.jsonl\nprompt: p\n"
             "max_tokens: 1\nextractors: last-number\ntarget: y\n",
             "t.yaml:6: key 'files': '{subject}' in a path but the dataset has no subjects");
    bad_task(__LINE__,
             "name: x\nversion: 1\ndataset:\n  format: jsonl\n  files: a.jsonl\nanswer: code\nprompt: p\nmax_tokens: 1\n"
             "extractors: humaneval\n",
             "t.yaml:1: key 'program': required key missing");
    bad_task(__LINE__, "name: \"Bad Name\"\nversion: 1\n", "t.yaml:1: key 'name': use lower-case letters");
    bad_edit(__LINE__, "answer: number", "answer: numbre", "t.yaml:10: key 'answer': expected number, latex");
    bad_task(__LINE__, "name: \"a\\0b\"\n", "t.yaml:1: key 'name': the string holds a NUL byte");
}

static void test_task_data_missing_field(void) {
    const char *dir = test_tmp();
    char path[1024];
    snprintf(path, sizeof path, "%s/eval_missing.jsonl", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"question\": \"q1\", \"answer\": \"1\"}\n{\"question\": \"q2\"}\n", f);
    fclose(f);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: m\nversion: 1\ndataset:\n  format: jsonl\n  files: eval_missing.jsonl\nprompt: \"{{ question }}\"\n"
             "target: answer\nmax_tokens: 8\nextractors: last-number\nanswer: number\n");
    xuan_error err = {0};
    xuan_eval_task *t = task_from(yaml, &err);
    REQUIRE(t);
    xuan_eval_data d;
    CHECK_EQ_INT(xuan_eval_data_load(t, dir, &d, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "eval_missing.jsonl:2: item 2 has no field 'answer'") != NULL);
    CHECK(d.sets == NULL);
    CHECK_EQ_INT(xuan_eval_data_load(t, "/nonexistent-dir", &d, &err), XUAN_ERR_IO);
    xuan_eval_task_free(t);
}

/* ---- the shipped tasks on the real data --------------------------------------------------------- */

typedef struct expect {
    const char *task;
    size_t items;
    size_t per_file[10]; /* in the task's subject order; 0 ends */
} expect;

/* ../shared/datasets/MANIFEST.md: the counts and subject rows. */
static const expect EXPECTED[] = {
    {"gsm8k", 1319, {1319}},
    {"math500", 500, {500}},
    {"humaneval", 164, {164}},
    {"medqa", 1273, {1273}},
    {"mmlu-it", 412, {100, 100, 112, 100}},
    {"mmlu-med", 945, {135, 265, 173, 100, 272}},
    {"cmmlu-it", 735, {204, 171, 122, 238}},
    {"cmmlu-med", 1815, {237, 273, 376, 148, 185, 169, 145, 176, 106}},
    {"ceval-it", 58, {21, 37}},
    {"ceval-med", 41, {22, 19}},
    {"cmath", 1098, {1098}},
    {"mgsm-zh", 250, {250}},
};

static xuan_eval_task *load_shipped(const char *name, xuan_eval_data *d, char *datadir, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tasks/%s.yaml", src_dir(), name);
    snprintf(datadir, n, "%s/datasets", test_shared());
    xuan_error err = {0};
    xuan_eval_task *t = NULL;
    if (xuan_eval_task_load(path, &t, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return NULL;
    }
    if (xuan_eval_data_load(t, datadir, d, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        xuan_eval_task_free(t);
        return NULL;
    }
    return t;
}

/* Runs fn on every shipped task loaded with its data. */
static void each_shipped(void (*fn)(const expect *, xuan_eval_task *, xuan_eval_data *)) {
    NEED_SHARED();
    for (size_t i = 0; i < sizeof EXPECTED / sizeof EXPECTED[0]; i++) {
        xuan_eval_data d;
        char dir[1024];
        xuan_eval_task *t = load_shipped(EXPECTED[i].task, &d, dir, sizeof dir);
        if (!t) continue;
        fn(&EXPECTED[i], t, &d);
        xuan_eval_data_free(&d);
        xuan_eval_task_free(t);
    }
}

static void counts_and_prompts(const expect *e, xuan_eval_task *t, xuan_eval_data *d) {
    CHECK_EQ_STR(t->name, e->task);
    if (d->n_items != e->items)
        test_fail(__FILE__, __LINE__, "%s: %zu items, MANIFEST says %zu", t->name, d->n_items, e->items);
    for (size_t f = 0; f < d->n_sets; f++)
        if (f >= 10 || d->sets[f].n_items != e->per_file[f])
            test_fail(__FILE__, __LINE__, "%s: %s has %zu items, MANIFEST says %zu", t->name, d->sets[f].path,
                      d->sets[f].n_items, f < 10 ? e->per_file[f] : 0);
    if (d->n_shots) CHECK_EQ_INT(d->n_shots, d->n_sets); /* one dev file per subject */
    size_t probe[] = {0, d->n_items / 2, d->n_items - 1};
    for (size_t k = 0; k < 3; k++) {
        xuan_buf b = {0};
        xuan_error err = {0};
        if (xuan_eval_prompt(t, d, probe[k], &b, &err) != 0 || b.len < 10)
            test_fail(__FILE__, __LINE__, "%s item %zu: %s", t->name, probe[k], err.msg);
        xuan_buf_free(&b);
    }
}

static void test_shipped_counts_and_prompts(void) { each_shipped(counts_and_prompts); }

static void test_mmlu_prompt_text(void) {
    NEED_SHARED();
    xuan_eval_data d;
    char dir[1024];
    xuan_eval_task *t = load_shipped("mmlu-med", &d, dir, sizeof dir);
    REQUIRE(t);
    xuan_buf b = {0};
    xuan_error err = {0};
    REQUIRE(xuan_eval_prompt(t, &d, 0, &b, &err) == 0);
    const char *head = "The following are multiple choice questions (with answers) about anatomy.\n\n"
                       "What is the embryological origin of the hyoid bone?\nA. The first pharyngeal arch\n";
    CHECK(strncmp(b.data, head, strlen(head)) == 0);
    size_t shots = 0;
    for (const char *p = b.data; (p = strstr(p, "\nAnswer:")) != NULL; p++) shots++;
    CHECK_EQ_INT(shots, 6); /* five exemplars and the question */
    CHECK(b.len > 0 && strcmp(b.data + b.len - 7, "Answer:") == 0);
    xuan_buf_free(&b);
    /* a Chinese task: the subject's display name from the mapping */
    xuan_eval_data_free(&d);
    xuan_eval_task_free(t);
    t = load_shipped("ceval-med", &d, dir, sizeof dir);
    REQUIRE(t);
    REQUIRE(xuan_eval_prompt(t, &d, 0, &b, &err) == 0);
    CHECK(strstr(b.data, "以下是中国关于临床医学考试的单项选择题") == b.data);
    xuan_buf_free(&b);
    xuan_eval_data_free(&d);
    xuan_eval_task_free(t);
}

/* The gold answer of item it as a model would write it (wrong: another answer). */
static void model_output(const xuan_eval_task *t, const xuan_eval_item *it, bool wrong, xuan_buf *b) {
    const char *gold = t->target ? xuan_eval_item_get(it, t->target) : "";
    xuan_buf_reset(b);
    if (t->answer == XUAN_ANSWER_LETTER) {
        char letter = (char)(gold[0] + (wrong ? 1 : 0));
        if (letter > 'A' + (char)t->n_options - 1) letter = 'A';
        if (t->extractors[0] == XUAN_EXTRACT_OPENCOMPASS) xuan_buf_printf(b, "根据题意分析，答案是 %c", letter);
        else xuan_buf_printf(b, "Let's think step by step. The first option fails. the answer is (%c).", letter);
    } else if (t->answer == XUAN_ANSWER_LATEX) {
        xuan_buf_printf(b, "We compute carefully. So the answer is $\\boxed{%s}$.", wrong ? "987654321" : gold);
    } else if (t->answer == XUAN_ANSWER_NUMBER) {
        const char *h = strstr(gold, "#### ");
        const char *num = h ? h + 5 : gold;
        if (t->extractors[0] == XUAN_EXTRACT_LAST_NUMBER)
            xuan_buf_printf(b, "<think>先算 12 再算 7</think>一步一步算出：答案是 \\boxed{%s}", wrong ? "987654321" : num);
        else xuan_buf_printf(b, "First 3 + 4 = 7.\n#### %s", wrong ? "987654321" : num);
    } else {
        xuan_buf_puts(b, "    pass\n");
    }
}

static void rescore_gold(const expect *e, xuan_eval_task *t, xuan_eval_data *d) {
    (void)e;
    xuan_buf out = {0}, prog = {0};
    for (int wrong = 0; wrong < 2; wrong++) {
        size_t right[XUAN_EXTRACT_COUNT] = {0};
        for (size_t j = 0; j < d->n_items; j++) {
            const xuan_eval_item *it = xuan_eval_data_item(d, j, NULL);
            model_output(t, it, wrong, &out);
            if (t->answer == XUAN_ANSWER_CODE) { /* the task's template gives human-eval's program */
                xuan_buf mine = {0};
                xuan_error err = {0};
                const char *sol = xuan_eval_item_get(it, "canonical_solution");
                xuan_buf_reset(&prog);
                CHECK(xuan_humaneval_program(xuan_eval_item_get(it, "prompt"), sol, xuan_eval_item_get(it, "test"),
                                             xuan_eval_item_get(it, "entry_point"), &prog) == 0);
                if (xuan_eval_program(t, it, sol, &mine, &err) != 0 || !mine.data || strcmp(mine.data, prog.data))
                    test_fail(__FILE__, __LINE__, "%s item %zu: the task's program differs: %s", t->name, j, err.msg);
                xuan_buf_free(&mine);
            }
            for (size_t k = 0; k < t->n_extractors; k++) {
                xuan_eval_verdict v;
                xuan_error err = {0};
                const char *gold = t->target ? xuan_eval_item_get(it, t->target) : "";
                if (xuan_eval_score(t, k, out.data, gold, NULL, &v, &err) != 0) {
                    test_fail(__FILE__, __LINE__, "%s: %s", t->name, err.msg);
                    continue;
                }
                if (v.correct == 1) right[k]++;
                else if (!wrong && t->answer != XUAN_ANSWER_CODE && right[k] + 3 > j)
                    test_fail(__FILE__, __LINE__, "%s item %zu (%s): gold '%s' scored wrong from '%s' (extracted '%s')",
                              t->name, j, xuan_eval_extractor_name(t->extractors[k]), gold, out.data,
                              v.extracted ? v.extracted : "(none)");
                if (t->answer == XUAN_ANSWER_CODE) CHECK_EQ_INT(v.correct, -1);
                xuan_eval_verdict_free(&v);
            }
        }
        for (size_t k = 0; k < t->n_extractors && t->answer != XUAN_ANSWER_CODE; k++)
            if (right[k] != (wrong ? 0 : d->n_items))
                test_fail(__FILE__, __LINE__, "%s %s (%s answers): %zu of %zu right", t->name,
                          xuan_eval_extractor_name(t->extractors[k]), wrong ? "wrong" : "gold", right[k], d->n_items);
    }
    xuan_buf_free(&out);
    xuan_buf_free(&prog);
}

static void test_rescore_gold(void) { each_shipped(rescore_gold); }

int main(void) {
    RUN(test_gsm8k);
    RUN(test_boxed);
    RUN(test_math_equiv);
    RUN(test_letters);
    RUN(test_numbers);
    RUN(test_think);
    RUN(test_invalid_utf8_output);
    RUN(test_pass_at_k);
    RUN(test_humaneval_program);
    RUN(test_csv);
    RUN(test_malformed_data);
    RUN(test_gzip);
    RUN(test_parquet);
    RUN(test_alloc_failures);
    RUN(test_task_parse);
    RUN(test_task_errors);
    RUN(test_task_data_missing_field);
    RUN(test_shipped_counts_and_prompts);
    RUN(test_mmlu_prompt_text);
    RUN(test_rescore_gold);
    return test_done();
}
