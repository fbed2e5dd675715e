/*
 * sample.c — the sampler: penalties, top-k, top-p, min-p, temperature and a
 * seeded draw, in llama.cpp's default order and with its semantics.
 *
 * Map: random numbers · create/free · penalty window · candidate selection
 *      (heap for top-k, three-way quickselect for top-p) · sample.
 *
 * Cost per token for a vocabulary of V: one pass to copy and check the
 * logits, one for the argmax, then either a size-k heap over V (top-k; most
 * logits are rejected by one comparison with the heap's root) or, with no
 * top-k, a softmax denominator over V and a partial selection that grows
 * geometrically until the nucleus is complete (so top-p 0.95 on a peaked
 * distribution touches a few hundred sorted entries, not 152k).
 */
#include "xuan/gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * random numbers: xoshiro256** seeded through splitmix64 (Blackman & Vigna)
 * ====================================================================== */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t st[4]) {
    uint64_t result = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t st[4]) { return (double)(rng_next(st) >> 11) * 0x1.0p-53; }

/* ======================================================================
 * create / free
 * ====================================================================== */

typedef struct cand {
    float logit;
    int32_t id;
} cand;

struct xuan_sampler {
    int32_t n_vocab;
    xuan_sampler_params p;
    uint64_t seed;
    uint64_t rng[4];
    float *work;      /* n_vocab: the logits after penalties */
    cand *cands;      /* n_vocab: the surviving candidates */
    int32_t *count;   /* n_vocab: occurrences of each token in the window */
    uint8_t *seen;    /* n_vocab: scratch flags, all zero between calls */
    uint8_t *banned;  /* n_vocab: tokens never drawn (xuan_sampler_ban) */
    int32_t n_banned;
    int32_t *window;  /* penalty_last_n ring of accepted tokens */
    int32_t win_len, win_pos;
};

xuan_sampler_params xuan_sampler_params_default(void) {
    xuan_sampler_params p = {
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .presence_penalty = 0.0f, .frequency_penalty = 0.0f,
        .penalty_last_n = 64, .seed = XUAN_SEED_RANDOM,
    };
    return p;
}

static void reseed(xuan_sampler *s) {
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

xuan_sampler *xuan_sampler_create(int32_t n_vocab, const xuan_sampler_params *params,
                                  xuan_error *err) {
    xuan_sampler_params p = params ? *params : xuan_sampler_params_default();
    if (n_vocab <= 0) {
        xuan_fail(err, XUAN_ERR_USAGE, "sampler: vocabulary size %d must be positive", (int)n_vocab);
        return NULL;
    }
    const char *bad = NULL;
    char detail[96];
    if (isnan(p.temperature)) bad = "temperature is NaN";
    else if (isnan(p.top_p) || !(p.top_p > 0.0f && p.top_p <= 1.0f))
        snprintf(detail, sizeof detail, "top_p %g must be in (0, 1]", (double)p.top_p), bad = detail;
    else if (isnan(p.min_p) || !(p.min_p >= 0.0f && p.min_p <= 1.0f))
        snprintf(detail, sizeof detail, "min_p %g must be in [0, 1]", (double)p.min_p), bad = detail;
    else if (isnan(p.repeat_penalty) || !(p.repeat_penalty > 0.0f) || isinf(p.repeat_penalty))
        snprintf(detail, sizeof detail, "repeat penalty %g must be a positive number",
                 (double)p.repeat_penalty), bad = detail;
    else if (!isfinite(p.presence_penalty) || !isfinite(p.frequency_penalty))
        bad = "presence and frequency penalties must be finite";
    else if (p.penalty_last_n < 0)
        snprintf(detail, sizeof detail, "penalty window %d must be >= 0", (int)p.penalty_last_n),
            bad = detail;
    if (bad) {
        xuan_fail(err, XUAN_ERR_USAGE, "sampler: %s", bad);
        return NULL;
    }

    xuan_sampler *s = xuan_calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->n_vocab = n_vocab;
    s->p = p;
    s->work = xuan_alloc_array((size_t)n_vocab, sizeof *s->work);
    s->cands = xuan_alloc_array((size_t)n_vocab, sizeof *s->cands);
    s->count = xuan_calloc((size_t)n_vocab, sizeof *s->count);
    s->seen = xuan_calloc((size_t)n_vocab, 1);
    s->banned = xuan_calloc((size_t)n_vocab, 1);
    s->window = xuan_alloc_array(p.penalty_last_n ? (size_t)p.penalty_last_n : 1, sizeof *s->window);
    if (!s->work || !s->cands || !s->count || !s->seen || !s->banned || !s->window) goto nomem;
    s->seed = p.seed;
    if (s->seed == XUAN_SEED_RANDOM) s->seed = xuan_time_ns() ^ ((uint64_t)(uintptr_t)s << 16);
    reseed(s);
    return s;
nomem:
    xuan_sampler_free(s);
    xuan_fail(err, XUAN_ERR_NOMEM, "sampler: out of memory for a vocabulary of %d tokens",
              (int)n_vocab);
    return NULL;
}

void xuan_sampler_ban(xuan_sampler *s, int32_t token, bool ban) {
    if (token < 0 || token >= s->n_vocab || s->banned[token] == ban) return;
    s->banned[token] = ban;
    s->n_banned += ban ? 1 : -1;
}

void xuan_sampler_free(xuan_sampler *s) {
    if (!s) return;
    xuan_free(s->work);
    xuan_free(s->cands);
    xuan_free(s->count);
    xuan_free(s->seen);
    xuan_free(s->banned);
    xuan_free(s->window);
    xuan_free(s);
}

uint64_t xuan_sampler_seed(const xuan_sampler *s) { return s->seed; }

/* ======================================================================
 * penalty window
 * ====================================================================== */

void xuan_sampler_accept(xuan_sampler *s, int32_t token) {
    int32_t cap = s->p.penalty_last_n;
    if (token < 0 || token >= s->n_vocab || cap == 0) return;
    if (s->win_len == cap) {
        s->count[s->window[s->win_pos]]--; /* the oldest leaves */
    } else {
        s->win_len++;
    }
    s->window[s->win_pos] = token;
    s->count[token]++;
    s->win_pos = (s->win_pos + 1) % cap;
}

void xuan_sampler_reset(xuan_sampler *s) {
    for (int32_t i = 0; i < s->win_len; i++) s->count[s->window[i]] = 0;
    s->win_len = s->win_pos = 0;
    reseed(s);
}

/* llama.cpp's llama_sampler_penalties: once per distinct token in the
 * window, a logit <= 0 is multiplied by the repeat penalty and a positive
 * one divided (so both move away from being chosen), then count x
 * frequency + presence is subtracted. */
void xuan_sampler_penalize(xuan_sampler *s, float *logits) {
    const xuan_sampler_params *p = &s->p;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f)
        return;
    for (int32_t i = 0; i < s->win_len; i++) {
        int32_t t = s->window[i];
        if (s->seen[t]) continue;
        s->seen[t] = 1;
        float l = logits[t];
        l = l <= 0.0f ? l * p->repeat_penalty : l / p->repeat_penalty;
        logits[t] = l - (float)s->count[t] * p->frequency_penalty - p->presence_penalty;
    }
    for (int32_t i = 0; i < s->win_len; i++) s->seen[s->window[i]] = 0;
}

/* ======================================================================
 * candidate selection
 * ====================================================================== */

/* Order used everywhere: higher logit first, lower id first on ties, so
 * results do not depend on the selection algorithm's visiting order. */
static bool better(cand a, cand b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); }

/* Min-heap (by `better`: the root is the worst kept candidate). */
static void heap_sift_down(cand *h, int32_t n, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(h[w], h[l])) w = l;
        if (r < n && better(h[w], h[r])) w = r;
        if (w == i) return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* The k best of the n values in work[] (skipping -inf) into out[0..k),
 * sorted best first.  Returns how many were found (< k if fewer finite). */
static int32_t select_top_k(const float *work, int32_t n, int32_t k, cand *out) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (work[i] == -INFINITY) continue;
        cand c = {work[i], i};
        if (m < k) {
            /* sift up */
            int32_t j = m++;
            out[j] = c;
            while (j > 0 && better(out[(j - 1) / 2], out[j])) {
                cand t = out[j];
                out[j] = out[(j - 1) / 2];
                out[(j - 1) / 2] = t;
                j = (j - 1) / 2;
            }
        } else if (better(c, out[0])) {
            out[0] = c;
            heap_sift_down(out, m, 0);
        }
    }
    /* heap sort: moving the root (worst) to the end leaves best-first order */
    for (int32_t end = m - 1; end > 0; end--) {
        cand t = out[0];
        out[0] = out[end];
        out[end] = t;
        heap_sift_down(out, end, 0);
    }
    return m;
}

/* Rearranges c[0..n) so that its m best are in c[0..m) (in any order).
 * Quickselect with a three-way partition, so that vocabularies full of
 * equal logits (synthetic models) stay linear. */
static void select_front(cand *c, int32_t n, int32_t m) {
    int32_t lo = 0, hi = n; /* the boundary m lies in [lo, hi) */
    while (hi - lo > 1 && m > lo && m < hi) {
        cand a = c[lo], b = c[lo + (hi - lo) / 2], d = c[hi - 1], pivot;
        /* median of three by `better` */
        if (better(a, b)) pivot = better(b, d) ? b : (better(a, d) ? d : a);
        else pivot = better(a, d) ? a : (better(b, d) ? d : b);
        /* [lo, lt) better than pivot, [lt, i) equal, [gt, hi) worse */
        int32_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (better(c[i], pivot)) {
                cand t = c[i]; c[i] = c[lt]; c[lt] = t;
                lt++, i++;
            } else if (better(pivot, c[i])) {
                gt--;
                cand t = c[i]; c[i] = c[gt]; c[gt] = t;
            } else {
                i++;
            }
        }
        if (m <= lt) hi = lt;
        else if (m >= i) lo = i;
        else return; /* the boundary falls among the pivot's equals */
    }
}

static int cmp_best_first(const void *a, const void *b) {
    cand x = *(const cand *)a, y = *(const cand *)b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* Insertion sort for small chunks, qsort for the big ones a flat
 * distribution's nucleus needs. */
static void sort_best_first(cand *c, int32_t n) {
    if (n > 32) {
        qsort(c, (size_t)n, sizeof *c, cmp_best_first);
        return;
    }
    for (int32_t i = 1; i < n; i++) {
        cand x = c[i];
        int32_t j = i;
        while (j > 0 && better(x, c[j - 1])) c[j] = c[j - 1], j--;
        c[j] = x;
    }
}

/* ======================================================================
 * sample
 * ====================================================================== */

int xuan_sampler_sample(xuan_sampler *s, const float *logits, int32_t *out, xuan_error *err) {
    const xuan_sampler_params *p = &s->p;
    const int32_t V = s->n_vocab;
    float *w = s->work;
    int32_t n_finite = 0;
    for (int32_t i = 0; i < V; i++) {
        float l = logits[i];
        if (isnan(l) || l == INFINITY)
            return xuan_fail(err, XUAN_ERR_FORMAT, "sampler: logit of token %d is %s", (int)i,
                             isnan(l) ? "NaN" : "+inf");
        n_finite += l != -INFINITY;
        w[i] = l;
    }
    if (s->n_banned)
        for (int32_t i = 0; i < V; i++)
            if (s->banned[i] && w[i] != -INFINITY) {
                w[i] = -INFINITY;
                n_finite--;
            }
    if (n_finite == 0)
        return xuan_fail(err, XUAN_ERR_FORMAT, "sampler: every one of %d logits is -inf%s", (int)V,
                         s->n_banned ? " or banned" : "");
    xuan_sampler_penalize(s, w);

    /* greedy: the first maximum, as llama.cpp's greedy sampler */
    if (!(p->temperature > 0.0f) || p->top_k == 1) {
        int32_t best = -1;
        for (int32_t i = 0; i < V; i++)
            if (w[i] != -INFINITY && (best < 0 || w[i] > w[best])) best = i;
        *out = best;
        return 0;
    }

    /* top-k (sorted) or every finite token (unsorted) */
    cand *c = s->cands;
    int32_t n;
    bool sorted;
    if (p->top_k > 0 && p->top_k < n_finite) {
        n = select_top_k(w, V, p->top_k, c);
        sorted = true;
    } else {
        n = 0;
        for (int32_t i = 0; i < V; i++)
            if (w[i] != -INFINITY) c[n++] = (cand){w[i], i};
        sorted = false;
    }
    float max_l = c[0].logit;
    if (!sorted)
        for (int32_t i = 1; i < n; i++) max_l = c[i].logit > max_l ? c[i].logit : max_l;

    /* top-p on the untempered softmax: keep the best tokens until their
     * mass reaches top_p (the one that crosses it included) */
    if (p->top_p < 1.0f && n > 1) {
        double z = 0.0;
        for (int32_t i = 0; i < n; i++) z += (double)expf(c[i].logit - max_l);
        double target = (double)p->top_p * z, cum = 0.0;
        int32_t done = 0, chunk = sorted ? n : 64, keep = n;
        while (done < n && keep == n) {
            int32_t m = n - done < chunk ? n - done : chunk;
            if (m > (n - done) / 2) m = n - done; /* selecting most of it: just sort */
            if (!sorted) {
                select_front(c + done, n - done, m);
                sort_best_first(c + done, m);
            }
            for (int32_t i = done; i < done + m; i++) {
                cum += (double)expf(c[i].logit - max_l);
                if (cum >= target) {
                    keep = i + 1;
                    break;
                }
            }
            done += m;
            chunk = chunk > (INT32_MAX / 8) ? INT32_MAX : chunk * 8;
        }
        if (keep < n) sorted = true; /* c[0..keep) is now best-first */
        n = keep;
    }

    /* min-p: p >= min_p * p_max, i.e. logit >= max + log(min_p) */
    if (p->min_p > 0.0f && n > 1) {
        float threshold = max_l + logf(p->min_p);
        int32_t k = 0;
        for (int32_t i = 0; i < n; i++)
            if (c[i].logit >= threshold) c[k++] = c[i];
        n = k > 0 ? k : 1;
    }

    /* temperature, then one draw from the softmax of the survivors */
    double inv_t = 1.0 / (double)p->temperature, total = 0.0;
    for (int32_t i = 0; i < n; i++) {
        /* the walk below sums the stored floats, so the total must too */
        c[i].logit = (float)exp(((double)c[i].logit - (double)max_l) * inv_t);
        total += c[i].logit;
    }
    double u = rng_uniform(s->rng) * total, acc = 0.0;
    int32_t pick = c[n - 1].id;
    for (int32_t i = 0; i < n; i++) {
        acc += c[i].logit;
        if (u < acc) {
            pick = c[i].id;
            break;
        }
    }
    *out = pick;
    return 0;
}
