/*
 * test_sample.c — the sampler (distributions, filters, penalties, seeds,
 * bad logits, a 152k vocabulary) and stop strings across token boundaries.
 */
#include "harness.h"
#include "xuan/gen.h"

#include <math.h>
#include <stdlib.h>

/* A sampler with every filter off unless the test turns it on. */
static xuan_sampler_params plain(float temperature, uint64_t seed) {
    xuan_sampler_params p = xuan_sampler_params_default();
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

/* Draws n samples and returns the frequency of each of the V tokens. */
static void frequencies(xuan_sampler *s, const float *logits, int V, int n, double *freq) {
    for (int i = 0; i < V; i++) freq[i] = 0;
    for (int i = 0; i < n; i++) {
        int32_t t = -1;
        xuan_error err = {0};
        if (xuan_sampler_sample(s, logits, &t, &err) != 0 || t < 0 || t >= V) {
            test_fail(__FILE__, __LINE__, "sample failed: %s", err.msg);
            return;
        }
        freq[t] += 1.0 / n;
    }
}

/* |observed - expected| within 5 binomial standard deviations (+ a hair). */
static void check_freq(const double *got, const double *want, int V, int n) {
    for (int i = 0; i < V; i++) {
        double sd = sqrt(want[i] * (1 - want[i]) / n);
        if (fabs(got[i] - want[i]) > 5 * sd + 1e-9)
            test_fail(__FILE__, __LINE__, "token %d: frequency %.4f, expected %.4f (sd %.4f)", i, got[i],
                      want[i], sd);
    }
}

static void softmax(const float *l, int V, double t, double *p) {
    double m = -INFINITY, z = 0;
    for (int i = 0; i < V; i++) m = l[i] > m ? l[i] : m;
    for (int i = 0; i < V; i++) z += (p[i] = l[i] == -INFINITY ? 0 : exp((l[i] - m) / t));
    for (int i = 0; i < V; i++) p[i] /= z;
}

/* ---- distributions ----------------------------------------------------------- */

static const float L4[] = {1.0f, 2.0f, 0.5f, -1.0f}; /* probs .244 .665 .148 .036 (+ renorm) */

static void test_temperature_distribution(void) {
    const int N = 40000;
    double got[4], want[4];
    for (int k = 0; k < 3; k++) {
        float t = k == 0 ? 1.0f : k == 1 ? 0.5f : 2.0f;
        xuan_sampler_params p = plain(t, 1234 + k);
        xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
        REQUIRE(s);
        frequencies(s, L4, 4, N, got);
        softmax(L4, 4, t, want);
        check_freq(got, want, 4, N);
        xuan_sampler_free(s);
    }
}

static void test_greedy(void) {
    /* temperature 0 (and negative) => argmax; the first of equal maxima */
    const float l[] = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};
    for (int k = 0; k < 2; k++) {
        xuan_sampler_params p = plain(k ? -1.0f : 0.0f, 7);
        xuan_sampler *s = xuan_sampler_create(5, &p, NULL);
        REQUIRE(s);
        for (int i = 0; i < 50; i++) {
            int32_t t;
            CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
            CHECK_EQ_INT(t, 1);
        }
        xuan_sampler_free(s);
    }
}

static void test_ban(void) {
    /* a banned token is never drawn, greedy or not; unbanning restores it */
    const float l[] = {0.1f, 3.0f, -2.0f, 2.5f, 1.0f};
    for (int k = 0; k < 2; k++) {
        xuan_sampler_params p = plain(k ? 1.0f : 0.0f, 11);
        xuan_sampler *s = xuan_sampler_create(5, &p, NULL);
        REQUIRE(s);
        xuan_sampler_ban(s, 1, true);
        xuan_sampler_ban(s, 1, true); /* twice is once */
        xuan_sampler_ban(s, 99, true); /* out of range: ignored */
        xuan_sampler_ban(s, -1, true);
        int hits[5] = {0};
        for (int i = 0; i < 2000; i++) {
            int32_t t = -1;
            CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
            if (t >= 0 && t < 5) hits[t]++;
        }
        CHECK_EQ_INT(hits[1], 0);
        if (k == 0) CHECK_EQ_INT(hits[3], 2000); /* greedy: the next best */
        else CHECK(hits[3] > hits[0] && hits[0] > 0);
        xuan_sampler_ban(s, 1, false);
        int32_t t = -1;
        if (k == 0) {
            CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
            CHECK_EQ_INT(t, 1);
        }
        /* everything finite banned: an error, not a guess */
        const float two[] = {-INFINITY, 1.0f, -INFINITY, 2.0f, -INFINITY};
        xuan_sampler_ban(s, 1, true);
        xuan_sampler_ban(s, 3, true);
        xuan_error err = {0};
        t = 42;
        CHECK_EQ_INT(xuan_sampler_sample(s, two, &t, &err), XUAN_ERR_FORMAT);
        CHECK(strstr(err.msg, "banned") != NULL);
        CHECK_EQ_INT(t, 42);
        /* banning a token that is -inf anyway changes nothing: 3 is left */
        xuan_sampler_ban(s, 0, true);
        xuan_sampler_ban(s, 3, false);
        CHECK_EQ_INT(xuan_sampler_sample(s, two, &t, &err), 0);
        CHECK_EQ_INT(t, 3);
        xuan_sampler_free(s);
    }
}

static void test_top_k(void) {
    /* top_k 1 at temperature 1 is greedy whatever the seed */
    for (uint64_t seed = 0; seed < 20; seed++) {
        xuan_sampler_params p = plain(1.0f, seed);
        p.top_k = 1;
        xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
        int32_t t;
        CHECK_EQ_INT(xuan_sampler_sample(s, L4, &t, NULL), 0);
        CHECK_EQ_INT(t, 1);
        xuan_sampler_free(s);
    }
    /* top_k 2: only the two best, renormalized */
    const int N = 40000;
    xuan_sampler_params p = plain(1.0f, 99);
    p.top_k = 2;
    xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
    double got[4], want[4];
    frequencies(s, L4, 4, N, got);
    softmax(L4, 4, 1.0, want);
    double z = want[0] + want[1];
    want[0] /= z, want[1] /= z, want[2] = want[3] = 0;
    check_freq(got, want, 4, N);
    xuan_sampler_free(s);
}

static void test_top_p(void) {
    /* probs .665 .244 .148... : top_p 0.8 keeps {1, 0} (0.665 < 0.8, then
     * 0.909 >= 0.8); a tiny top_p keeps only the best */
    const int N = 40000;
    double got[4], want[4];
    xuan_sampler_params p = plain(1.0f, 5);
    p.top_p = 0.8f;
    xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
    frequencies(s, L4, 4, N, got);
    softmax(L4, 4, 1.0, want);
    double z = want[0] + want[1];
    want[0] /= z, want[1] /= z, want[2] = want[3] = 0;
    check_freq(got, want, 4, N);
    xuan_sampler_free(s);

    p.top_p = 1e-6f;
    s = xuan_sampler_create(4, &p, NULL);
    frequencies(s, L4, 4, 2000, got);
    CHECK_NEAR(got[1], 1.0, 1e-12);
    xuan_sampler_free(s);
}

static void test_min_p(void) {
    /* min_p 0.2: keep p >= 0.2 * 0.665 = 0.133 -> tokens 0 (.244), 1, 2 (.148) */
    const int N = 40000;
    double got[4], want[4];
    xuan_sampler_params p = plain(1.0f, 11);
    p.min_p = 0.2f;
    xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
    frequencies(s, L4, 4, N, got);
    softmax(L4, 4, 1.0, want);
    double z = want[0] + want[1] + want[2];
    for (int i = 0; i < 3; i++) want[i] /= z;
    want[3] = 0;
    check_freq(got, want, 4, N);
    xuan_sampler_free(s);
    /* min_p 1: only the maximum */
    p.min_p = 1.0f;
    s = xuan_sampler_create(4, &p, NULL);
    frequencies(s, L4, 4, 1000, got);
    CHECK_NEAR(got[1], 1.0, 1e-12);
    xuan_sampler_free(s);
}

/* ---- penalties ------------------------------------------------------------------- */

static void test_penalties_known_logits(void) {
    xuan_sampler_params p = plain(0.0f, 1);
    p.repeat_penalty = 2.0f;
    p.frequency_penalty = 0.1f;
    p.presence_penalty = 0.5f;
    p.penalty_last_n = 3;
    xuan_sampler *s = xuan_sampler_create(5, &p, NULL);
    REQUIRE(s);
    xuan_sampler_accept(s, 4); /* pushed out of the 3-token window below */
    xuan_sampler_accept(s, 0);
    xuan_sampler_accept(s, 1);
    xuan_sampler_accept(s, 0);
    xuan_sampler_accept(s, -1);   /* ignored */
    xuan_sampler_accept(s, 5);    /* ignored: out of range */
    float l[] = {2.0f, -1.0f, 0.5f, 3.0f, 4.0f};
    xuan_sampler_penalize(s, l);
    CHECK_NEAR(l[0], 2.0 / 2 - 2 * 0.1 - 0.5, 1e-6);  /* positive: divided; count 2 */
    CHECK_NEAR(l[1], -1.0 * 2 - 1 * 0.1 - 0.5, 1e-6); /* negative: multiplied */
    CHECK_NEAR(l[2], 0.5, 0);
    CHECK_NEAR(l[3], 3.0, 0);
    CHECK_NEAR(l[4], 4.0, 0); /* left the window */
    /* greedy sees the penalized logits: 4 wins; with 4 in the window, 3 */
    const float raw[] = {2.0f, -1.0f, 0.5f, 3.0f, 4.0f};
    int32_t t;
    CHECK_EQ_INT(xuan_sampler_sample(s, raw, &t, NULL), 0);
    CHECK_EQ_INT(t, 4);
    xuan_sampler_accept(s, 4);
    CHECK_EQ_INT(xuan_sampler_sample(s, raw, &t, NULL), 0);
    CHECK_EQ_INT(t, 3);
    /* zero logits count as "negative": multiplied (stays 0), then the
     * presence penalty still applies */
    xuan_sampler_reset(s);
    xuan_sampler_accept(s, 2);
    float z[] = {0, 0, 0, 0, 0};
    xuan_sampler_penalize(s, z);
    CHECK_NEAR(z[2], -0.6, 1e-6);
    CHECK_NEAR(z[0], 0.0, 0);
    xuan_sampler_free(s);

    /* penalty_last_n 0 disables the window */
    p.penalty_last_n = 0;
    s = xuan_sampler_create(5, &p, NULL);
    xuan_sampler_accept(s, 0);
    float l2[] = {2.0f, 0, 0, 0, 0};
    xuan_sampler_penalize(s, l2);
    CHECK_NEAR(l2[0], 2.0, 0);
    xuan_sampler_free(s);
}

/* ---- bad input --------------------------------------------------------------------- */

static void test_bad_logits(void) {
    xuan_sampler_params p = plain(1.0f, 3);
    xuan_sampler *s = xuan_sampler_create(4, &p, NULL);
    xuan_error err = {0};
    int32_t t = 77;
    float nan_l[] = {1.0f, NAN, 0.0f, 0.0f};
    CHECK_EQ_INT(xuan_sampler_sample(s, nan_l, &t, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "token 1 is NaN") != NULL);
    CHECK_EQ_INT(t, 77);
    float inf_l[] = {1.0f, 0.0f, INFINITY, 0.0f};
    CHECK_EQ_INT(xuan_sampler_sample(s, inf_l, &t, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "token 2 is +inf") != NULL);
    float all_masked[] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    CHECK_EQ_INT(xuan_sampler_sample(s, all_masked, &t, &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "-inf") != NULL);
    /* -inf masks a token: never drawn, in every mode */
    float masked[] = {-INFINITY, 0.0f, -INFINITY, 0.0f};
    for (int i = 0; i < 500; i++) {
        CHECK_EQ_INT(xuan_sampler_sample(s, masked, &t, NULL), 0);
        CHECK(t == 1 || t == 3);
    }
    xuan_sampler_free(s);
    p.top_k = 3; /* more than the 2 finite logits */
    p.top_p = 0.5f;
    s = xuan_sampler_create(4, &p, NULL);
    for (int i = 0; i < 200; i++) {
        CHECK_EQ_INT(xuan_sampler_sample(s, masked, &t, NULL), 0);
        CHECK(t == 1 || t == 3);
    }
    xuan_sampler_free(s);

    /* bad parameters are usage errors naming the parameter */
    struct { const char *what; xuan_sampler_params p; } bad[6];
    for (int i = 0; i < 6; i++) bad[i].p = plain(1.0f, 1);
    bad[0].what = "top_p", bad[0].p.top_p = 0.0f;
    bad[1].what = "top_p", bad[1].p.top_p = 1.5f;
    bad[2].what = "min_p", bad[2].p.min_p = -0.1f;
    bad[3].what = "repeat penalty", bad[3].p.repeat_penalty = 0.0f;
    bad[4].what = "temperature", bad[4].p.temperature = NAN;
    bad[5].what = "penalty window", bad[5].p.penalty_last_n = -1;
    for (int i = 0; i < 6; i++) {
        CHECK(xuan_sampler_create(10, &bad[i].p, &err) == NULL);
        CHECK_EQ_INT(err.code, XUAN_ERR_USAGE);
        if (!strstr(err.msg, bad[i].what)) test_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err.msg, bad[i].what);
    }
    CHECK(xuan_sampler_create(0, NULL, &err) == NULL);
    CHECK(strstr(err.msg, "vocabulary size 0") != NULL);
    /* allocation failure: NULL and NOMEM, no leak (ASan) */
    xuan_alloc_fail_after(2);
    CHECK(xuan_sampler_create(1000, NULL, &err) == NULL);
    xuan_alloc_fail_after(-1);
    CHECK_EQ_INT(err.code, XUAN_ERR_NOMEM);
}

/* ---- seeds ---------------------------------------------------------------------------- */

static void run_seq(xuan_sampler *s, const float *l, int V, int32_t *out, int n) {
    for (int i = 0; i < n; i++) {
        xuan_sampler_sample(s, l, &out[i], NULL);
        xuan_sampler_accept(s, out[i]);
    }
}

static void test_seeds(void) {
    enum { V = 50, N = 200 };
    float l[V];
    for (int i = 0; i < V; i++) l[i] = (float)sin(i * 1.7) * 2.0f;
    xuan_sampler_params p = xuan_sampler_params_default();
    p.seed = 42;
    p.repeat_penalty = 1.1f;
    int32_t a[N], b[N], c[N], d[N];
    xuan_sampler *s1 = xuan_sampler_create(V, &p, NULL), *s2 = xuan_sampler_create(V, &p, NULL);
    run_seq(s1, l, V, a, N);
    run_seq(s2, l, V, b, N);
    CHECK(memcmp(a, b, sizeof a) == 0);
    xuan_sampler_reset(s1); /* same seed again from the start */
    run_seq(s1, l, V, c, N);
    CHECK(memcmp(a, c, sizeof a) == 0);
    CHECK_EQ_INT(xuan_sampler_seed(s1), 42);
    p.seed = 43;
    xuan_sampler *s3 = xuan_sampler_create(V, &p, NULL);
    run_seq(s3, l, V, d, N);
    CHECK(memcmp(a, d, sizeof a) != 0);
    xuan_sampler_free(s1);
    xuan_sampler_free(s2);
    xuan_sampler_free(s3);
    /* XUAN_SEED_RANDOM picks some seed and reports it */
    p.seed = XUAN_SEED_RANDOM;
    s1 = xuan_sampler_create(V, &p, NULL);
    CHECK(xuan_sampler_seed(s1) != XUAN_SEED_RANDOM);
    xuan_sampler_free(s1);
}

/* ---- a Qwen-sized vocabulary -------------------------------------------------------- */

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_large_vocab(void) {
    enum { V = 152064 };
    float *l = malloc(sizeof(float) * V), *sorted = malloc(sizeof(float) * V);
    REQUIRE(l && sorted);
    uint64_t x = 12345;
    for (int i = 0; i < V; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        l[i] = (float)((double)(x >> 11) * 0x1.0p-53 * 12.0 - 6.0); /* uniform [-6, 6) */
    }
    memcpy(sorted, l, sizeof(float) * V);
    qsort(sorted, V, sizeof(float), cmp_desc);

    /* top_k 40: every draw is among the 40 largest */
    xuan_sampler_params p = xuan_sampler_params_default();
    p.seed = 1;
    p.min_p = 0.0f;
    p.top_p = 1.0f;
    xuan_sampler *s = xuan_sampler_create(V, &p, NULL);
    REQUIRE(s);
    const int draws = 300;
    double t0 = xuan_time_s();
    for (int i = 0; i < draws; i++) {
        int32_t t;
        CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
        CHECK(l[t] >= sorted[39]);
    }
    double per_k = (xuan_time_s() - t0) / draws;
    xuan_sampler_free(s);

    /* top_p 0.9 alone: every draw is inside the nucleus computed by sorting */
    double z = 0, cum = 0;
    for (int i = 0; i < V; i++) z += exp(sorted[i] - sorted[0]);
    int nucleus = 0;
    while (cum < 0.9 * z) cum += exp(sorted[nucleus++] - sorted[0]);
    p.top_k = 0;
    p.top_p = 0.9f;
    s = xuan_sampler_create(V, &p, NULL);
    t0 = xuan_time_s();
    int in_tail = 0;
    for (int i = 0; i < draws; i++) {
        int32_t t;
        CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
        CHECK(l[t] >= sorted[nucleus - 1]);
        in_tail += l[t] < sorted[nucleus / 2];
    }
    double per_p = (xuan_time_s() - t0) / draws;
    CHECK(in_tail > 0); /* it is a real nucleus, not just the top */
    xuan_sampler_free(s);

    /* all-equal logits (synthetic models): uniform over the vocabulary and
     * still fast (three-way partition) */
    for (int i = 0; i < V; i++) l[i] = 0.5f;
    s = xuan_sampler_create(V, &p, NULL);
    t0 = xuan_time_s();
    int32_t t;
    CHECK_EQ_INT(xuan_sampler_sample(s, l, &t, NULL), 0);
    double per_flat = xuan_time_s() - t0;
    CHECK(t >= 0 && t < V);
    xuan_sampler_free(s);
    /* For scale in the printed line: what a naive sampler does per token,
     * a sort of the whole vocabulary. */
    typedef struct { float l; int32_t id; } pair;
    pair *all = malloc(sizeof(pair) * V);
    REQUIRE(all);
    for (int i = 0; i < V; i++) all[i].l = (float)i * 0.37f - (float)(i % 1000), all[i].id = i;
    t0 = xuan_time_s();
    qsort(all, V, sizeof(pair), cmp_desc);
    double full_sort = xuan_time_s() - t0;
    free(all);
    printf("  V=%d: top_k 40 %.3f ms/token, top_p 0.9 %.3f ms/token (nucleus %d), flat top_p %.3f ms, "
           "one full sort %.3f ms\n", V, per_k * 1e3, per_p * 1e3, nucleus, per_flat * 1e3, full_sort * 1e3);
    /* Printed for information only: timing never decides a test (a loaded
     * CI machine must not fail it); speed is measured by make bench. */
    (void)per_k, (void)per_p;
    free(l);
    free(sorted);
}

/* ---- stop strings ------------------------------------------------------------------ */

/* Feeds pieces; returns everything emitted (+ flush) in out; *hit = which. */
static int feed_all(xuan_stop *st, const char *const *pieces, int n, char *out, size_t cap) {
    size_t len = 0;
    int stopped = 0;
    for (int i = 0; i < n && !stopped; i++) {
        const char *e;
        size_t el;
        stopped = xuan_stop_feed(st, pieces[i], strlen(pieces[i]), &e, &el);
        REQUIRE(len + el < cap);
        memcpy(out + len, e, el), len += el;
    }
    if (!stopped) {
        const char *e;
        size_t el;
        xuan_stop_flush(st, &e, &el);
        REQUIRE(len + el < cap);
        memcpy(out + len, e, el), len += el;
    }
    out[len] = 0;
    return stopped;
}

static void test_stop_strings(void) {
    const char *stops[] = {"<|im_end|>", "\n\nUser:", "。\n"};
    xuan_error err = {0};
    xuan_stop *st = xuan_stop_create(stops, 3, &err);
    REQUIRE(st);
    char out[256];

    /* split over two tokens; the prefix is held back, not shown */
    const char *e;
    size_t el;
    CHECK_EQ_INT(xuan_stop_feed(st, "Hello<|im", 9, &e, &el), 0);
    CHECK_EQ_INT(el, 5);
    CHECK(memcmp(e, "Hello", 5) == 0);
    CHECK_EQ_INT(xuan_stop_feed(st, "_end|>ignored", 13, &e, &el), 1);
    CHECK_EQ_INT(el, 0);
    CHECK_EQ_INT(xuan_stop_which(st), 0);
    CHECK_EQ_INT(xuan_stop_feed(st, "more", 4, &e, &el), 1); /* stays stopped */
    CHECK_EQ_INT(el, 0);

    /* split over three tokens, one byte at a time at the end */
    xuan_stop_reset(st);
    const char *p1[] = {"Answer: 5.\n", "\nUs", "e", "r:", " next"};
    CHECK_EQ_INT(feed_all(st, p1, 5, out, sizeof out), 1);
    CHECK_EQ_STR(out, "Answer: 5.");
    CHECK_EQ_INT(xuan_stop_which(st), 1);

    /* a prefix that does not complete is released, nothing is lost */
    xuan_stop_reset(st);
    const char *p2[] = {"a <|i", "x> b\n", "\nUse", "ful"};
    CHECK_EQ_INT(feed_all(st, p2, 4, out, sizeof out), 0);
    CHECK_EQ_STR(out, "a <|ix> b\n\nUseful");
    CHECK_EQ_INT(xuan_stop_which(st), -1);

    /* UTF-8 stop string split inside a character ("。" is 3 bytes) */
    xuan_stop_reset(st);
    const char *p3[] = {"好的\xe3\x80", "\x82", "\n后面"};
    CHECK_EQ_INT(feed_all(st, p3, 3, out, sizeof out), 1);
    CHECK_EQ_STR(out, "好的");

    /* the earliest occurrence wins, whichever string it is */
    xuan_stop_reset(st);
    const char *p4[] = {"x。\n<|im_end|>"};
    CHECK_EQ_INT(feed_all(st, p4, 1, out, sizeof out), 1);
    CHECK_EQ_STR(out, "x");
    CHECK_EQ_INT(xuan_stop_which(st), 2);

    /* a stop string inside one piece, text before it emitted */
    xuan_stop_reset(st);
    const char *p5[] = {"abc<|im_end|>def"};
    CHECK_EQ_INT(feed_all(st, p5, 1, out, sizeof out), 1);
    CHECK_EQ_STR(out, "abc");
    xuan_stop_free(st);

    /* no stop strings: everything passes at once */
    xuan_stop *none = xuan_stop_create(NULL, 0, &err);
    REQUIRE(none);
    CHECK_EQ_INT(xuan_stop_feed(none, "abc", 3, &e, &el), 0);
    CHECK_EQ_INT(el, 3);
    xuan_stop_free(none);

    const char *empty[] = {"ok", ""};
    CHECK(xuan_stop_create(empty, 2, &err) == NULL);
    CHECK(strstr(err.msg, "stop string 1 is empty") != NULL);
}

int main(void) {
    RUN(test_temperature_distribution);
    RUN(test_greedy);
    RUN(test_ban);
    RUN(test_top_k);
    RUN(test_top_p);
    RUN(test_min_p);
    RUN(test_penalties_known_logits);
    RUN(test_bad_logits);
    RUN(test_seeds);
    RUN(test_large_vocab);
    RUN(test_stop_strings);
    return test_done();
}
