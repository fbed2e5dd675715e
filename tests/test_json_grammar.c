/*
 * test_json_grammar.c — the JSON constraint of room gen: schemas compiled
 * or refused (with the keyword and pointer named), texts accepted or
 * refused whole, prefixes that may go on, and the masked sampler on a toy
 * vocabulary.
 */
#include "harness.h"
#include "xuan/gen.h"

#include <math.h>
#include <stdlib.h>

/* 1: text is a complete value of the schema; 2: a valid prefix, not complete; 0: refused */
static int judge(const char *schema, const char *text) {
    xuan_error err = {0};
    xuan_json_schema *g = xuan_json_schema_compile(schema, schema ? strlen(schema) : 0, &err);
    if (!g) {
        test_fail(__FILE__, __LINE__, "schema %s: %s", schema ? schema : "(any object)", err.msg);
        return -1;
    }
    xuan_json_state *st = xuan_json_state_create(g, &err);
    int r = xuan_json_feed(st, text, strlen(text)) ? (xuan_json_complete(st) ? 1 : 2) : 0;
    xuan_json_state_free(st);
    xuan_json_schema_free(g);
    return r;
}

#define ACCEPT(schema, text) CHECK_EQ_INT(judge(schema, text), 1)
#define PREFIX(schema, text) CHECK_EQ_INT(judge(schema, text), 2)
#define REJECT(schema, text) CHECK_EQ_INT(judge(schema, text), 0)

static void test_any_object(void) {
    ACCEPT(NULL, "{}");
    ACCEPT(NULL, "{\"a\":1}");
    ACCEPT(NULL, " { \"a\" : [1, 2.5, -3e+2, true, null, \"x\"], \"b\": {\"c\": {}}}");
    ACCEPT(NULL, "{\"k\":\"\\u00e9\\n\\\"\\/\\ud83d\\ude00 caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"}");
    PREFIX(NULL, "{\"a\":");
    PREFIX(NULL, "{\"a\":12");
    REJECT(NULL, "[]");        /* an object is required */
    REJECT(NULL, "1");
    REJECT(NULL, "{}x");       /* nothing after the value */
    REJECT(NULL, "{\"a\" 1}");
    REJECT(NULL, "{\"a\":1,}");
    REJECT(NULL, "{,}");
    REJECT(NULL, "{'a':1}");
    REJECT(NULL, "{\"a\":01}");   /* numbers grammar */
    REJECT(NULL, "{\"a\":1.}");
    REJECT(NULL, "{\"a\":.5}");
    REJECT(NULL, "{\"a\":+1}");
    REJECT(NULL, "{\"a\":1e}");
    REJECT(NULL, "{\"a\":-}");
    REJECT(NULL, "{\"a\":tru}");
    REJECT(NULL, "{\"a\":True}");
    REJECT(NULL, "{\"a\":\"\x01\"}");          /* control character */
    REJECT(NULL, "{\"a\":\"\\x\"}");          /* bad escape */
    REJECT(NULL, "{\"a\":\"\\u12g4\"}");
    REJECT(NULL, "{\"a\":\"\\ude00\"}");      /* lone low surrogate */
    REJECT(NULL, "{\"a\":\"\\ud83d\"}");      /* high surrogate alone */
    REJECT(NULL, "{\"a\":\"\\ud83d\\u0041\"}");
    REJECT(NULL, "{\"a\":\"\\u0000\"}");      /* jansson refuses NUL */
    REJECT(NULL, "{\"a\":\"\xc0\xaf\"}");     /* overlong */
    REJECT(NULL, "{\"a\":\"\xed\xa0\x80\"}"); /* UTF-8 surrogate */
    REJECT(NULL, "{\"a\":\"\xf4\x90\x80\x80\"}"); /* above U+10FFFF */
    REJECT(NULL, "{\"a\":\"\xe4\xb8\"}");     /* cut character */
    REJECT(NULL, "{\"a\":1}}");
    ACCEPT(NULL, "{\"a\":123456789012345678}");  /* 18 digits fit int64 */
    REJECT(NULL, "{\"a\":1234567890123456789}");
    ACCEPT(NULL, "{\"a\":1e99}");
    REJECT(NULL, "{\"a\":1e999}");
}

static void test_whitespace_and_depth(void) {
    ACCEPT(NULL, "{        }");                  /* 8 in a row */
    REJECT(NULL, "{         }");                 /* 9 */
    ACCEPT(NULL, "{ \n  \"a\" :  1 ,\n  \"b\":2\n}");
    /* nesting: the object and 30 arrays fill the 32 frames (the deepest
     * array's item is the last), one more array does not fit */
    char deep[256] = "{\"a\":";
    size_t n = strlen(deep);
    for (int i = 0; i < XUAN_JSON_MAX_DEPTH - 2; i++) deep[n++] = '[';
    deep[n] = 0;
    PREFIX(NULL, deep);
    deep[n++] = '[';
    deep[n] = 0;
    REJECT(NULL, deep);
}

static const char person[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":5},"
    "\"age\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\",\"ab\"]},"
    "\"minItems\":1,\"maxItems\":2},\"ok\":{\"type\":[\"boolean\",\"null\"]}},"
    "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}";

static void test_schema(void) {
    ACCEPT(person, "{\"name\":\"Ann\",\"age\":3}");
    ACCEPT(person, "{\"age\":-3,\"name\":\"\xc3\xa9\xc3\xa9\",\"tags\":[\"ab\",\"a\"],\"ok\":null}");
    ACCEPT(person, "{\"name\":\"x\",\"age\":0,\"ok\":true}");
    REJECT(person, "{\"name\":\"Ann\"}");            /* age required */
    REJECT(person, "{\"name\":\"\",\"age\":1}");      /* minLength */
    REJECT(person, "{\"name\":\"abcdef\",\"age\":1}"); /* maxLength */
    REJECT(person, "{\"name\":\"a\",\"age\":1.5}");   /* integer */
    REJECT(person, "{\"name\":\"a\",\"age\":1e3}");
    REJECT(person, "{\"name\":\"a\",\"age\":1,\"x\":1}"); /* additionalProperties false */
    REJECT(person, "{\"name\":\"a\",\"name\":\"b\",\"age\":1}"); /* repeated */
    REJECT(person, "{\"name\":\"a\",\"age\":1,\"tags\":[]}");      /* minItems */
    REJECT(person, "{\"name\":\"a\",\"age\":1,\"tags\":[\"a\",\"a\",\"a\"]}"); /* maxItems */
    REJECT(person, "{\"name\":\"a\",\"age\":1,\"tags\":[\"c\"]}");
    REJECT(person, "{\"name\":\"a\",\"age\":1,\"ok\":1}");
    PREFIX(person, "{\"na");
    REJECT(person, "{\"nx");
    /* const, prefixItems, anyOf, $ref, additionalProperties as a schema */
    const char *s2 = "{\"$defs\":{\"pt\":{\"type\":\"array\",\"prefixItems\":[{\"type\":\"number\"},{\"type\":\"number\"}],"
                     "\"items\":false,\"minItems\":2}},\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"v\"},"
                     "\"p\":{\"$ref\":\"#/$defs/pt\"},\"u\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}},"
                     "\"required\":[\"k\"],\"additionalProperties\":{\"type\":\"boolean\"}}";
    ACCEPT(s2, "{\"k\":\"v\",\"p\":[1,2.5],\"u\":\"s\",\"zz\":false}");
    ACCEPT(s2, "{\"u\":7,\"k\":\"v\"}");
    REJECT(s2, "{\"k\":\"w\"}");
    REJECT(s2, "{\"k\":\"v\",\"p\":[1]}");
    REJECT(s2, "{\"k\":\"v\",\"p\":[1,2,3]}");
    REJECT(s2, "{\"k\":\"v\",\"u\":1.5}");
    REJECT(s2, "{\"k\":\"v\",\"zz\":1}");
    /* top-level scalars: a number is complete but could go on */
    ACCEPT("{\"type\":\"number\"}", "-0.5e-3");
    ACCEPT("{\"type\":\"integer\"}", "120");
    ACCEPT("{\"enum\":[1,12,\"x\",null,{\"a\":1}]}", "12");
    ACCEPT("{\"enum\":[1,12,\"x\",null,{\"a\":1}]}", "1");
    ACCEPT("{\"enum\":[1,12,\"x\",null,{\"a\":1}]}", "{\"a\":1}");
    REJECT("{\"enum\":[1,12,\"x\",null,{\"a\":1}]}", "13");
    /* a recursive schema through $defs */
    const char *tree = "{\"$ref\":\"#/$defs/n\",\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
                       "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/n\"}}},\"required\":[\"v\"],"
                       "\"additionalProperties\":false}}}";
    ACCEPT(tree, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[]}]}");
    REJECT(tree, "{\"v\":1,\"kids\":[{}]}");
}

static void refused(const char *schema, const char *needle) {
    xuan_error err = {0};
    xuan_json_schema *g = xuan_json_schema_compile(schema, strlen(schema), &err);
    CHECK(g == NULL);
    xuan_json_schema_free(g);
    if (!strstr(err.msg, needle)) test_fail(__FILE__, __LINE__, "'%s' not in '%s'", needle, err.msg);
}

static void test_refused(void) {
    refused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^a\"}}}",
            "unsupported keyword 'pattern' at /properties/a");
    refused("{\"type\":\"string\",\"minimum\":1}", "unsupported keyword 'minimum' at /");
    refused("{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"object\",\"properties\":{}}]}", "both can start with '{'");
    refused("{\"type\":\"integr\"}", "unknown type");
    refused("{\"$ref\":\"http://x/y\"}", "local reference");
    refused("{\"$ref\":\"#/$defs/none\"}", "local reference");
    refused("{\"type\":\"object\",\"required\":[\"a\"]}", "'required' name that is not in 'properties'");
    refused("false", "no value is valid");
    refused("{\"enum\":[]}", "non-empty array");
    refused("{\"type\":\"array\",\"minItems\":3,\"maxItems\":2}", "minItems above maxItems");
    refused("{\"type\":\"string\",\"minLength\":-1}", "non-negative integer");
    refused("{nope", "not valid JSON");
    /* deep nesting of the schema itself */
    char deep[4096] = "";
    for (int i = 0; i < 100; i++) strcat(deep, "{\"items\":");
    strcat(deep, "{}");
    for (int i = 0; i < 100; i++) strcat(deep, "}");
    refused(deep, "nested more than 64 deep");
}

/* The masked sampler on a toy vocabulary: byte tokens, so that the filter
 * is exercised without a model.  Built through a fake xuan_json_vocab is
 * not possible (opaque), so this goes through the state API directly. */
static void test_state_api(void) {
    xuan_error err = {0};
    xuan_json_schema *g = xuan_json_schema_compile(NULL, 0, &err);
    REQUIRE(g != NULL);
    xuan_json_state *st = xuan_json_state_create(g, &err);
    CHECK(xuan_json_can_feed(st, "{\"", 2));
    CHECK(!xuan_json_can_feed(st, "[", 1));
    CHECK(!xuan_json_feed(st, "{x", 2)); /* refused whole: the state is unchanged */
    CHECK(xuan_json_feed(st, "{", 1));
    CHECK(!xuan_json_complete(st));
    CHECK(xuan_json_feed(st, "}", 1));
    CHECK(xuan_json_complete(st) && xuan_json_done(st));
    CHECK(!xuan_json_can_feed(st, " ", 1));
    xuan_json_state_reset(st);
    CHECK(!xuan_json_done(st) && xuan_json_can_feed(st, "{}", 2));
    xuan_json_state_free(st);
    xuan_json_schema_free(g);
}

int main(void) {
    RUN(test_any_object);
    RUN(test_whitespace_and_depth);
    RUN(test_schema);
    RUN(test_refused);
    RUN(test_state_api);
    return test_done();
}
