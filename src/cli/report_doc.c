/*
 * xuan report --md FILE / --html FILE (docs/eval.md, "xuan report").
 *
 * Everything here comes from the results store, and the store is input like
 * any other: model names, task names and paths are escaped for the format
 * they land in (Markdown cells, HTML text and attributes, SVG text), and
 * bytes that are not UTF-8 become U+FFFD, so a hostile name can neither
 * break a table nor open a tag.  The HTML file needs nothing outside itself:
 * no scripts, no fonts, no images but inline SVG.
 */
#include "report_doc.h"

#include "cli.h"
#include "xuan/pick.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- tasks to axes, quants to bits ---------------------------------------------- */

/* The axis each shipped task counts towards (docs/eval.md has this table). */
static const struct {
    const char *task;
    xuan_task axis;
} AXES[] = {
    {"gsm8k", XUAN_TASK_MATH},     {"math500", XUAN_TASK_MATH},   {"humaneval", XUAN_TASK_CODE},
    {"medqa", XUAN_TASK_MED},      {"mmlu-med", XUAN_TASK_MED},   {"mmlu-it", XUAN_TASK_IT},
    {"mmlu", XUAN_TASK_GENERAL},   {"mmlu-pro", XUAN_TASK_GENERAL}, {"ceval-it", XUAN_TASK_ZH},
    {"ceval-med", XUAN_TASK_ZH},   {"cmmlu-it", XUAN_TASK_ZH},    {"cmmlu-med", XUAN_TASK_ZH},
    {"cmath", XUAN_TASK_ZH},       {"mgsm-zh", XUAN_TASK_ZH},
};

int rep_task_axis(const char *task) {
    for (size_t i = 0; i < sizeof AXES / sizeof AXES[0]; i++)
        if (!strcmp(AXES[i].task, task)) return (int)AXES[i].axis;
    return -1;
}

/* Longest names first, so Q4_K_M is not read as Q4_K. */
static const struct {
    const char *name;
    double bpw;
} QUANTS[] = {
    {"IQ4_XS", 4.25}, {"IQ4_NL", 4.5}, {"IQ3_XXS", 3.06}, {"IQ2_XXS", 2.06}, {"Q5_K_M", 5.69}, {"Q5_K_S", 5.54},
    {"Q4_K_M", 4.89}, {"Q4_K_S", 4.58}, {"Q3_K_L", 4.27}, {"Q3_K_M", 3.91}, {"Q3_K_S", 3.5},  {"BF16", 16},
    {"Q8_0", 8.5},    {"Q6_K", 6.56},  {"Q5_0", 5.5},     {"Q5_1", 6},       {"Q4_0", 4.5},    {"Q4_1", 5},
    {"Q2_K", 2.96},   {"F32", 32},     {"F16", 16},
};

static double quant_bpw(const char *q) {
    for (size_t i = 0; i < sizeof QUANTS / sizeof QUANTS[0]; i++)
        if (!strcasecmp(QUANTS[i].name, q)) return QUANTS[i].bpw;
    return 99;
}

const char *rep_find_quant(const char *s, size_t *at, size_t *len) {
    for (size_t i = 0; i < sizeof QUANTS / sizeof QUANTS[0]; i++) {
        size_t n = strlen(QUANTS[i].name);
        for (const char *p = s; *p; p++) {
            if (strncasecmp(p, QUANTS[i].name, n)) continue;
            /* a word of its own: not the "F16" inside "BF16" or "XF160" */
            bool left = p == s || !((p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= 'a' && p[-1] <= 'z') ||
                                    (p[-1] >= '0' && p[-1] <= '9'));
            char r = p[n];
            bool right = !((r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'));
            if (!left || !right) continue;
            *at = (size_t)(p - s), *len = n;
            return QUANTS[i].name;
        }
    }
    return NULL;
}

/* ---- escaping ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (!n) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))) return 0; /* overlong, surrogate */
    if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))) return 0;
    return n;
}

enum { ESC_HTML, ESC_MD };

/* Appends s escaped, at most max_cp code points (0: all), an ellipsis where cut. */
static void esc(xuan_buf *b, const char *s, int how, size_t max_cp) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (size_t cp = 0; *p; cp++) {
        if (max_cp && cp == max_cp) {
            xuan_buf_puts(b, "\xE2\x80\xA6");
            return;
        }
        size_t n = utf8_len(p);
        if (!n) { /* not UTF-8: U+FFFD, one byte at a time */
            xuan_buf_puts(b, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        const char c = (char)*p;
        if (*p < 0x20 || *p == 0x7F) xuan_buf_puts(b, " "); /* newlines and tabs end a table row */
        else if (c == '&') xuan_buf_puts(b, "&amp;");
        else if (c == '<') xuan_buf_puts(b, "&lt;");
        else if (c == '>') xuan_buf_puts(b, "&gt;");
        else if (c == '"') xuan_buf_puts(b, "&quot;");
        else if (c == '\'') xuan_buf_puts(b, "&#39;");
        else if (how == ESC_MD && strchr("|\\`*_[]#!", c)) {
            char e[3] = {'\\', c, 0};
            xuan_buf_puts(b, e);
        } else xuan_buf_append(b, p, n);
        p += n;
    }
}

/* Code points in a UTF-8 string (escaped output is valid UTF-8). */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* ---- Markdown tables, columns aligned -------------------------------------------- */

typedef struct table {
    size_t n_cols, n_rows;
    xuan_buf cells[24 * 1100]; /* escaped, row-major */
    bool right[24];            /* right-aligned (numbers) */
} table;

static xuan_buf *cell(table *t, size_t row, size_t col) { return &t->cells[row * t->n_cols + col]; }

static void table_free(table *t) {
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) xuan_buf_free(&t->cells[i]);
}

static void table_print(FILE *f, table *t) {
    size_t w[24] = {0};
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t x = width(cell(t, r, c)->data ? cell(t, r, c)->data : "");
            if (x > w[c]) w[c] = x;
        }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = cell(t, r, c)->data ? cell(t, r, c)->data : "";
            size_t pad = w[c] - width(s);
            fputs("| ", f);
            if (t->right[c]) fprintf(f, "%*s%s ", (int)pad, "", s);
            else fprintf(f, "%s%*s ", s, (int)pad, "");
        }
        fputs("|\n", f);
        if (r == 0) {
            for (size_t c = 0; c < t->n_cols; c++) {
                fputs("|", f);
                for (size_t i = 0; i < w[c] + 1; i++) fputc('-', f);
                fputs(t->right[c] ? ":" : "-", f);
            }
            fputs("|\n", f);
        }
    }
}

static void put(table *t, size_t row, size_t col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(table *t, size_t row, size_t col, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    esc(cell(t, row, col), tmp, ESC_MD, 0);
}

/* 95% interval of a proportion: score ± 1.96 stderr, clipped to [0, 1]. */
static void ci95(const rep_task *t, double *lo, double *hi) {
    *lo = t->score - 1.96 * t->se, *hi = t->score + 1.96 * t->se;
    if (*lo < 0) *lo = 0;
    if (*hi > 1) *hi = 1;
}

static FILE *open_out(const char *path) {
    if (!strcmp(path, "-")) return stdout;
    FILE *f = fopen(path, "w");
    if (!f) cli_error("%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path) {
    if (f == stdout) return fflush(f) ? cli_error("stdout: write failed") : 0;
    bool bad = ferror(f);
    if (fclose(f) || bad) return cli_error("%s: write failed", path);
    return 0;
}

static size_t rows_needed(const rep_run *runs, size_t n) {
    size_t r = 1;
    for (size_t i = 0; i < n; i++) r += runs[i].n_t;
    return r;
}

/* The distinct tasks over the runs, in first-seen order. */
static size_t task_cols(const rep_run *runs, size_t n, const char **cols) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < runs[i].n_t; t++) {
            bool seen = false;
            for (size_t c = 0; c < k; c++) seen |= !strcmp(cols[c], runs[i].t[t].name);
            if (!seen && k < REP_MAX_TASKS) cols[k++] = runs[i].t[t].name;
        }
    return k;
}

static void md_tables(FILE *f, const rep_run *runs, size_t n, table *t) {
    static const char *h1[] = {"run", "model", "quant", "file", "sha256", "engine", "created (UTC)"};
    t->n_cols = 7, t->n_rows = n + 1;
    memset(t->right, 0, sizeof t->right);
    t->right[0] = true;
    for (size_t c = 0; c < 7; c++) put(t, 0, c, "%s", h1[c]);
    for (size_t i = 0; i < n; i++) {
        const rep_run *r = &runs[i];
        put(t, i + 1, 0, "%lld", (long long)r->id);
        put(t, i + 1, 1, "%s", r->model);
        put(t, i + 1, 2, "%s", r->quant[0] ? r->quant : "-");
        put(t, i + 1, 3, "%s", r->file[0] ? r->file : "(endpoint)");
        put(t, i + 1, 4, "%s", r->sha[0] ? r->sha : "-");
        put(t, i + 1, 5, "%s", r->engine);
        put(t, i + 1, 6, "%s", r->created);
    }
    fputs("## Runs\n\n", f);
    table_print(f, t);
    table_free(t);

    static const char *h2[] = {"run", "model", "task", "v", "task sha256", "metric", "n", "score %", "95% interval", "tok/s"};
    memset(t->right, 0, sizeof t->right);
    t->n_cols = 10, t->n_rows = 1;
    t->right[0] = t->right[3] = t->right[6] = t->right[7] = t->right[9] = true;
    for (size_t c = 0; c < 10; c++) put(t, 0, c, "%s", h2[c]);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < runs[i].n_t; k++) {
            const rep_task *x = &runs[i].t[k];
            size_t row = t->n_rows++;
            put(t, row, 0, "%lld", (long long)runs[i].id);
            put(t, row, 1, "%s", runs[i].model);
            put(t, row, 2, "%s", x->name);
            put(t, row, 3, "%lld", x->version);
            put(t, row, 4, "%s", x->sha);
            put(t, row, 5, "%s", x->n ? x->metric : "-");
            put(t, row, 6, "%zu", x->n);
            if (x->n) {
                double lo, hi;
                ci95(x, &lo, &hi);
                put(t, row, 7, "%.2f", 100 * x->score);
                put(t, row, 8, "%.2f-%.2f", 100 * lo, 100 * hi);
            } else {
                put(t, row, 7, "-");
                put(t, row, 8, "-");
            }
            if (x->tps > 0) put(t, row, 9, "%.1f", x->tps);
            else put(t, row, 9, "-");
        }
    fputs("\n## Scores\n\n", f);
    table_print(f, t);
    table_free(t);
}

int rep_write_md(const char *path, const rep_run *runs, size_t n, const char *db) {
    table *t = xuan_calloc(1, sizeof *t);
    if (!t) return cli_error("out of memory");
    if (rows_needed(runs, n) > 1100 || n + 1 > 1100) {
        xuan_free(t);
        return cli_error("report: at most 1,099 rows of runs x tasks in one report; name the runs");
    }
    FILE *f = open_out(path);
    if (!f) {
        xuan_free(t);
        return XUAN_EXIT_RUNTIME;
    }
    xuan_buf b = {0};
    esc(&b, db, ESC_MD, 0);
    fprintf(f, "# xuan report\n\nStore: %s, %zu run%s.\n\n", b.data ? b.data : "", n, n == 1 ? "" : "s");
    xuan_buf_free(&b);
    md_tables(f, runs, n, t);
    fputs("\nscore: the first metric of each task; 95% interval: score ± 1.96 stderr, clipped to 0-100; "
          "tok/s: generated tokens over the items' wall time.\n",
          f);
    xuan_free(t);
    return close_out(f, path);
}

/* ---- SVG --------------------------------------------------------------------------- */

static const char *const COLOURS[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define N_COLOURS (sizeof COLOURS / sizeof COLOURS[0])
#define PI 3.14159265358979323846
#define MAX_LEGEND 64

/* 1, 2 or 5 times a power of ten, at least v. */
static double nice_ceil(double v) {
    if (v <= 0) return 1;
    double p = pow(10, floor(log10(v)));
    return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static void text(xuan_buf *o, double x, double y, const char *anchor, const char *cls, const char *s, size_t max_cp) {
    xuan_buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
    esc(o, s, ESC_HTML, max_cp);
    xuan_buf_puts(o, "</text>\n");
}

/* A legend of coloured squares, in rows under the plot, starting at y. */
static double legend(xuan_buf *o, double x0, double y, double w, const char *const *labels, size_t n) {
    double x = x0;
    for (size_t i = 0; i < n; i++) {
        double item = 22 + 7.0 * (double)(width(labels[i]) < 40 ? width(labels[i]) : 40);
        if (x > x0 && x + item > x0 + w) x = x0, y += 18;
        xuan_buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"%s\"/>\n", x, y - 10,
                        COLOURS[i % N_COLOURS]);
        text(o, x + 15, y, "start", "lg", labels[i], 40);
        x += item + 14;
    }
    return y + 18;
}

/* The y axis 0..100% of a plot from (x0, top) to (x1, bottom), grid lines every 20. */
static void y_percent(xuan_buf *o, double x0, double x1, double top, double bottom) {
    for (int v = 0; v <= 100; v += 20) {
        double y = bottom - (bottom - top) * v / 100.0;
        xuan_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", x0, y, x1, y);
        char l[8];
        snprintf(l, sizeof l, "%d%%", v);
        text(o, x0 - 6, y + 4, "end", "tick", l, 0);
    }
}

#define W 960.0

/* (a) one group per task, one bar per run, a 95% interval on each. */
static void chart_scores(xuan_buf *o, const rep_run *runs, size_t n) {
    const char *cols[REP_MAX_TASKS];
    size_t nc = task_cols(runs, n, cols);
    const char *labels[MAX_LEGEND];
    char lab[MAX_LEGEND][300];
    size_t nl = n < MAX_LEGEND ? n : MAX_LEGEND;
    for (size_t i = 0; i < nl; i++) {
        snprintf(lab[i], sizeof lab[i], "run %lld: %s", (long long)runs[i].id, runs[i].model);
        labels[i] = lab[i];
    }
    const double left = 56, right = W - 16, top = 20, bottom = 260;
    xuan_buf body = {0};
    double y_end = legend(&body, left, bottom + 44, right - left, labels, nl);
    xuan_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                       "role=\"img\" id=\"chart-scores\">\n",
                    W, y_end, W, y_end);
    y_percent(o, left, right, top, bottom);
    double gw = (right - left) / (double)(nc ? nc : 1), bw = gw * 0.8 / (double)(n ? n : 1);
    if (bw > 48) bw = 48;
    for (size_t c = 0; c < nc; c++) {
        double gx = left + gw * (double)c + (gw - bw * (double)n) / 2;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < runs[i].n_t; k++) {
                const rep_task *x = &runs[i].t[k];
                if (strcmp(x->name, cols[c]) || !x->n) continue;
                double lo, hi, bx = gx + bw * (double)i, h = (bottom - top) * x->score;
                ci95(x, &lo, &hi);
                xuan_buf_printf(o, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                                bx + 1, bottom - h, bw - 2, h, COLOURS[i % N_COLOURS]);
                xuan_buf_printf(o, "<title>run %lld, ", (long long)runs[i].id);
                esc(o, x->name, ESC_HTML, 0);
                xuan_buf_printf(o, ": %.1f%% (95%%: %.1f-%.1f, n %zu)</title></rect>\n", 100 * x->score, 100 * lo, 100 * hi,
                                x->n);
                double cx = bx + bw / 2, ylo = bottom - (bottom - top) * lo, yhi = bottom - (bottom - top) * hi;
                xuan_buf_printf(o, "<path class=\"ci\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh%.1fM%.1f %.1fh%.1f\"/>\n", cx, ylo, yhi,
                                cx - 4, ylo, 8.0, cx - 4, yhi, 8.0);
            }
        text(o, left + gw * ((double)c + 0.5), bottom + 18, "middle", "tick", cols[c], gw > 120 ? 24 : 12);
    }
    xuan_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n", left, bottom, right,
                    bottom);
    xuan_buf_append(o, body.data ? body.data : "", body.len);
    xuan_buf_free(&body);
    xuan_buf_puts(o, "</svg>\n");
}

/* (b) a radar of xuan pick's axes: the mean score of the run's tasks on each; an
 * axis without a measured task has no vertex and says so. */
static void chart_radar(xuan_buf *o, const rep_run *runs, size_t n) {
    const double cx = 300, cy = 250, R = 180;
    const size_t na = XUAN_TASK_COUNT, nr = n < N_COLOURS ? n : N_COLOURS;
    double v[N_COLOURS][XUAN_TASK_COUNT];
    bool any[XUAN_TASK_COUNT] = {0};
    for (size_t i = 0; i < nr; i++)
        for (size_t a = 0; a < na; a++) {
            double sum = 0;
            size_t k = 0;
            for (size_t t = 0; t < runs[i].n_t; t++)
                if (runs[i].t[t].n && rep_task_axis(runs[i].t[t].name) == (int)a) sum += runs[i].t[t].score, k++;
            v[i][a] = k ? sum / (double)k : -1;
            any[a] |= k > 0;
        }
    xuan_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"500\" viewBox=\"0 0 %.0f 500\" "
                       "role=\"img\" id=\"chart-radar\">\n",
                    W, W);
    for (int ring = 1; ring <= 4; ring++) {
        xuan_buf_puts(o, "<polygon class=\"grid\" fill=\"none\" points=\"");
        for (size_t a = 0; a < na; a++) {
            double ang = -PI / 2 + 2 * PI * (double)a / (double)na, r = R * ring / 4.0;
            xuan_buf_printf(o, "%.1f,%.1f ", cx + r * cos(ang), cy + r * sin(ang));
        }
        xuan_buf_puts(o, "\"/>\n");
        char l[8];
        snprintf(l, sizeof l, "%d%%", 25 * ring);
        text(o, cx + 4, cy - R * ring / 4.0 + 12, "start", "tick", l, 0);
    }
    for (size_t a = 0; a < na; a++) {
        double ang = -PI / 2 + 2 * PI * (double)a / (double)na, ca = cos(ang), sa = sin(ang);
        xuan_buf_printf(o, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cx, cy, cx + R * ca,
                        cy + R * sa);
        char l[48];
        snprintf(l, sizeof l, "%s%s", xuan_task_name((xuan_task)a), any[a] ? "" : " (not measured)");
        text(o, cx + (R + 16) * ca, cy + (R + 16) * sa + 4 + (sa > 0.5 ? 8 : 0),
             fabs(ca) < 0.2 ? "middle" : ca > 0 ? "start" : "end", any[a] ? "lbl" : "lbl missing", l, 0);
    }
    for (size_t i = 0; i < nr; i++) {
        const char *col = COLOURS[i % N_COLOURS];
        xuan_buf_printf(o, "<polygon class=\"area\" fill=\"%s\" stroke=\"%s\" points=\"", col, col);
        for (size_t a = 0; a < na; a++) {
            if (v[i][a] < 0) continue;
            double ang = -PI / 2 + 2 * PI * (double)a / (double)na;
            xuan_buf_printf(o, "%.1f,%.1f ", cx + R * v[i][a] * cos(ang), cy + R * v[i][a] * sin(ang));
        }
        xuan_buf_puts(o, "\"/>\n");
        for (size_t a = 0; a < na; a++) {
            if (v[i][a] < 0) continue;
            double ang = -PI / 2 + 2 * PI * (double)a / (double)na;
            xuan_buf_printf(o, "<circle class=\"rpt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>run %lld, %s: %.1f%%</title></circle>\n",
                            cx + R * v[i][a] * cos(ang), cy + R * v[i][a] * sin(ang), col, (long long)runs[i].id,
                            xuan_task_name((xuan_task)a), 100 * v[i][a]);
        }
    }
    double y = 60;
    for (size_t i = 0; i < nr; i++, y += 20) {
        char l[300];
        snprintf(l, sizeof l, "run %lld: %s", (long long)runs[i].id, runs[i].model);
        xuan_buf_printf(o, "<rect x=\"600\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"%s\"/>\n", y - 10,
                        COLOURS[i % N_COLOURS]);
        text(o, 616, y, "start", "lg", l, 44);
    }
    if (n > nr) {
        char l[64];
        snprintf(l, sizeof l, "(the first %zu runs of %zu)", nr, n);
        text(o, 600, y, "start", "lg", l, 0);
    }
    xuan_buf_puts(o, "</svg>\n");
}

/* Runs whose model was measured at two quants or more: the families. */
static bool in_quant_family(const rep_run *runs, size_t n, size_t i) {
    if (!runs[i].quant[0]) return false;
    for (size_t j = 0; j < n; j++)
        if (j != i && runs[j].quant[0] && !strcmp(runs[j].family, runs[i].family) && strcasecmp(runs[j].quant, runs[i].quant))
            return true;
    return false;
}

/* (c) score against quant, one line per model and task, quants by bits per weight. */
static void chart_quant(xuan_buf *o, const rep_run *runs, size_t n) {
    const char *q[32];
    size_t nq = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_quant_family(runs, n, i)) continue;
        bool seen = false;
        for (size_t k = 0; k < nq; k++) seen |= !strcasecmp(q[k], runs[i].quant);
        if (!seen && nq < 32) q[nq++] = runs[i].quant;
    }
    if (!nq) {
        xuan_buf_puts(o, "<p class=\"note\">No model in these runs was measured at two quants.</p>\n");
        return;
    }
    for (size_t a = 1; a < nq; a++) /* by bits per weight, fewest first */
        for (size_t b = a; b > 0 && quant_bpw(q[b - 1]) > quant_bpw(q[b]); b--) {
            const char *t = q[b];
            q[b] = q[b - 1], q[b - 1] = t;
        }
    /* series: (family, task) */
    struct {
        const char *family, *task;
    } s[64];
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_quant_family(runs, n, i)) continue;
        for (size_t t = 0; t < runs[i].n_t; t++) {
            if (!runs[i].t[t].n) continue;
            bool seen = false;
            for (size_t k = 0; k < ns; k++) seen |= !strcmp(s[k].family, runs[i].family) && !strcmp(s[k].task, runs[i].t[t].name);
            if (!seen && ns < 64) s[ns].family = runs[i].family, s[ns].task = runs[i].t[t].name, ns++;
        }
    }
    char lab[64][330];
    const char *labels[64];
    for (size_t k = 0; k < ns; k++) {
        snprintf(lab[k], sizeof lab[k], "%s, %s", s[k].family, s[k].task);
        labels[k] = lab[k];
    }
    const double left = 56, right = W - 16, top = 20, bottom = 260;
    xuan_buf body = {0};
    double y_end = legend(&body, left, bottom + 60, right - left, labels, ns);
    xuan_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                       "role=\"img\" id=\"chart-quant\">\n",
                    W, y_end, W, y_end);
    y_percent(o, left, right, top, bottom);
    double step = (right - left) / (double)nq;
    for (size_t k = 0; k < nq; k++) text(o, left + step * ((double)k + 0.5), bottom + 18, "middle", "tick", q[k], 0);
    for (size_t k = 0; k < ns; k++) {
        const char *col = COLOURS[k % N_COLOURS];
        xuan_buf line = {0};
        for (size_t c = 0; c < nq; c++)
            for (size_t i = 0; i < n; i++) {
                if (strcmp(runs[i].family, s[k].family) || strcasecmp(runs[i].quant, q[c])) continue;
                for (size_t t = 0; t < runs[i].n_t; t++) {
                    const rep_task *x = &runs[i].t[t];
                    if (strcmp(x->name, s[k].task) || !x->n) continue;
                    double px = left + step * ((double)c + 0.5), py = bottom - (bottom - top) * x->score, lo, hi;
                    ci95(x, &lo, &hi);
                    xuan_buf_printf(&line, "%s%.1f,%.1f", line.len ? " " : "", px, py);
                    xuan_buf_printf(o, "<path class=\"ci\" d=\"M%.1f %.1fV%.1f\"/>\n", px, bottom - (bottom - top) * lo,
                                    bottom - (bottom - top) * hi);
                    xuan_buf_printf(o, "<circle class=\"qpt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"><title>run %lld, %s: %.1f%%</title></circle>\n",
                                    px, py, col, (long long)runs[i].id, q[c], 100 * x->score);
                }
            }
        if (line.len)
            xuan_buf_printf(o, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" points=\"%s\"/>\n", col, line.data);
        xuan_buf_free(&line);
    }
    xuan_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n", left, bottom, right,
                    bottom);
    text(o, (left + right) / 2, bottom + 34, "middle", "lbl", "quant (fewer bits per weight on the left)", 0);
    xuan_buf_append(o, body.data ? body.data : "", body.len);
    xuan_buf_free(&body);
    xuan_buf_puts(o, "</svg>\n");
}

/* (d) score against generation speed, one point per run and task, coloured by task. */
static void chart_speed(xuan_buf *o, const rep_run *runs, size_t n) {
    const char *cols[REP_MAX_TASKS];
    size_t nc = task_cols(runs, n, cols);
    double max = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < runs[i].n_t; t++)
            if (runs[i].t[t].n && runs[i].t[t].tps > max) max = runs[i].t[t].tps;
    if (max <= 0) {
        xuan_buf_puts(o, "<p class=\"note\">No run stored generation timings.</p>\n");
        return;
    }
    max = nice_ceil(max * 1.05);
    const double left = 56, right = W - 16, top = 20, bottom = 260;
    xuan_buf body = {0};
    double y_end = legend(&body, left, bottom + 60, right - left, cols, nc);
    xuan_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                       "role=\"img\" id=\"chart-speed\">\n",
                    W, y_end, W, y_end);
    y_percent(o, left, right, top, bottom);
    for (int k = 0; k <= 5; k++) {
        double x = left + (right - left) * k / 5.0;
        char l[32];
        snprintf(l, sizeof l, "%g", max * k / 5.0);
        xuan_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", x, top, x, bottom);
        text(o, x, bottom + 18, "middle", "tick", l, 0);
    }
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < runs[i].n_t; t++) {
                const rep_task *x = &runs[i].t[t];
                if (strcmp(x->name, cols[c]) || !x->n || x->tps <= 0) continue;
                xuan_buf_printf(o, "<circle class=\"tpt\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>run %lld, ",
                                left + (right - left) * x->tps / max, bottom - (bottom - top) * x->score,
                                COLOURS[c % N_COLOURS], (long long)runs[i].id);
                esc(o, x->name, ESC_HTML, 0);
                xuan_buf_printf(o, ": %.1f%% at %.1f tok/s</title></circle>\n", 100 * x->score, x->tps);
            }
    xuan_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n", left, bottom, right,
                    bottom);
    text(o, (left + right) / 2, bottom + 34, "middle", "lbl", "generated tokens / s", 0);
    xuan_buf_append(o, body.data ? body.data : "", body.len);
    xuan_buf_free(&body);
    xuan_buf_puts(o, "</svg>\n");
}

static void html_table(xuan_buf *o, table *t) {
    xuan_buf_puts(o, "<table>\n<thead><tr>");
    for (size_t c = 0; c < t->n_cols; c++) {
        xuan_buf_puts(o, "<th>");
        esc(o, cell(t, 0, c)->data, ESC_HTML, 0);
        xuan_buf_puts(o, "</th>");
    }
    xuan_buf_puts(o, "</tr></thead>\n<tbody>\n");
    for (size_t r = 1; r < t->n_rows; r++) {
        xuan_buf_puts(o, "<tr>");
        for (size_t c = 0; c < t->n_cols; c++) {
            xuan_buf_puts(o, t->right[c] ? "<td class=\"num\">" : "<td>");
            esc(o, cell(t, r, c)->data, ESC_HTML, 0);
            xuan_buf_puts(o, "</td>");
        }
        xuan_buf_puts(o, "</tr>\n");
    }
    xuan_buf_puts(o, "</tbody>\n</table>\n");
    table_free(t);
}

/* The same cells as the Markdown tables, raw: html_table escapes them. */
static void put_raw(table *t, size_t row, size_t col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put_raw(table *t, size_t row, size_t col, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    xuan_buf_puts(cell(t, row, col), tmp);
}

static const char CSS[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:24px auto;"
    "max-width:1000px;padding:0 16px}\n"
    "h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;"
    "text-align:left;white-space:nowrap}th{background:#f4f4f4}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    ".note{color:#666}svg{display:block;margin:8px 0}\n"
    "svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n"
    "svg .tick{font-size:11px;fill:#555}svg .lbl{font-size:12px;fill:#333}svg .missing{fill:#aaa;font-style:italic}\n"
    "svg .lg{font-size:12px;fill:#333}svg .grid{stroke:#e6e6e6;stroke-width:1}svg .axis{stroke:#888;stroke-width:1}\n"
    "svg .ci{stroke:#333;stroke-width:1.2;fill:none}svg .area{fill-opacity:.12;stroke-width:2}\n"
    "svg .series{stroke-width:2}svg circle{stroke:#fff;stroke-width:1}\n";

int rep_write_html(const char *path, const rep_run *runs, size_t n, const char *db) {
    if (rows_needed(runs, n) > 1100 || n + 1 > 1100)
        return cli_error("report: at most 1,099 rows of runs x tasks in one report; name the runs");
    table *t = xuan_calloc(1, sizeof *t);
    if (!t) return cli_error("out of memory");
    xuan_buf o = {0};
    xuan_buf_printf(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                        "<title>xuan report</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>xuan report</h1>\n"
                        "<p>Store <code>",
                    CSS);
    esc(&o, db, ESC_HTML, 0);
    xuan_buf_printf(&o, "</code>, %zu run%s. Scores: the first metric of each task, with its 95%% interval "
                        "(± 1.96 stderr).</p>\n",
                    n, n == 1 ? "" : "s");

    xuan_buf_puts(&o, "<h2>Scores by task</h2>\n");
    chart_scores(&o, runs, n);
    xuan_buf_puts(&o, "<h2>Axes of xuan pick</h2>\n<p class=\"note\">Each axis: the mean score of the run's tasks "
                      "on it (docs/eval.md has the table). An axis with no measured task has no vertex.</p>\n");
    chart_radar(&o, runs, n);
    xuan_buf_puts(&o, "<h2>Score against quant</h2>\n");
    chart_quant(&o, runs, n);
    xuan_buf_puts(&o, "<h2>Score against speed</h2>\n");
    chart_speed(&o, runs, n);

    static const char *h1[] = {"run", "model", "quant", "file", "sha256", "engine", "created (UTC)"};
    memset(t->right, 0, sizeof t->right);
    t->n_cols = 7, t->n_rows = n + 1, t->right[0] = true;
    for (size_t c = 0; c < 7; c++) put_raw(t, 0, c, "%s", h1[c]);
    for (size_t i = 0; i < n; i++) {
        const rep_run *r = &runs[i];
        put_raw(t, i + 1, 0, "%lld", (long long)r->id);
        put_raw(t, i + 1, 1, "%s", r->model);
        put_raw(t, i + 1, 2, "%s", r->quant[0] ? r->quant : "-");
        put_raw(t, i + 1, 3, "%s", r->file[0] ? r->file : "(endpoint)");
        put_raw(t, i + 1, 4, "%s", r->sha[0] ? r->sha : "-");
        put_raw(t, i + 1, 5, "%s", r->engine);
        put_raw(t, i + 1, 6, "%s", r->created);
    }
    xuan_buf_puts(&o, "<h2>Runs</h2>\n");
    html_table(&o, t);

    static const char *h2[] = {"run", "model", "task", "v", "task sha256", "metric", "n", "score %", "95% interval", "tok/s"};
    memset(t->right, 0, sizeof t->right);
    t->n_cols = 10, t->n_rows = 1;
    t->right[0] = t->right[3] = t->right[6] = t->right[7] = t->right[9] = true;
    for (size_t c = 0; c < 10; c++) put_raw(t, 0, c, "%s", h2[c]);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < runs[i].n_t; k++) {
            const rep_task *x = &runs[i].t[k];
            size_t row = t->n_rows++;
            double lo, hi;
            ci95(x, &lo, &hi);
            put_raw(t, row, 0, "%lld", (long long)runs[i].id);
            put_raw(t, row, 1, "%s", runs[i].model);
            put_raw(t, row, 2, "%s", x->name);
            put_raw(t, row, 3, "%lld", x->version);
            put_raw(t, row, 4, "%s", x->sha);
            put_raw(t, row, 5, "%s", x->n ? x->metric : "-");
            put_raw(t, row, 6, "%zu", x->n);
            if (x->n) put_raw(t, row, 7, "%.2f", 100 * x->score), put_raw(t, row, 8, "%.2f-%.2f", 100 * lo, 100 * hi);
            else put_raw(t, row, 7, "-"), put_raw(t, row, 8, "-");
            if (x->tps > 0) put_raw(t, row, 9, "%.1f", x->tps);
            else put_raw(t, row, 9, "-");
        }
    xuan_buf_puts(&o, "<h2>Scores</h2>\n");
    html_table(&o, t);
    xuan_buf_puts(&o, "</body>\n</html>\n");
    xuan_free(t);
    if (!o.data) return cli_error("out of memory");
    FILE *f = open_out(path);
    if (!f) {
        xuan_buf_free(&o);
        return XUAN_EXIT_RUNTIME;
    }
    fwrite(o.data, 1, o.len, f);
    xuan_buf_free(&o);
    return close_out(f, path);
}
