/*
 * xuan report --md / --html: the stored runs as one Markdown file and one
 * self-contained HTML file with inline SVG charts (docs/eval.md).
 */
#ifndef XUAN_CLI_REPORT_DOC_H
#define XUAN_CLI_REPORT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REP_MAX_TASKS 64

typedef struct rep_task {
    char name[64];
    long long version;
    char sha[16];    /* the first 12 hex digits of the task file's sha256 */
    char metric[24]; /* the first metric's name */
    size_t n;        /* items scored; 0: the task is in the run but has no items yet */
    double score;    /* the first metric, 0..1 */
    double se;       /* its stderr */
    double tps;      /* generated tokens / s over the items; 0 when unknown */
} rep_task;

typedef struct rep_run {
    int64_t id;
    char created[32];
    char model[256];  /* the label xuan report prints */
    char family[256]; /* the label without its quant: runs of one model at several quants */
    char quant[16];   /* "" when neither the config nor the name tells */
    char file[256];   /* the model file's name, "" for an endpoint */
    char sha[16];     /* the model file's sha256, 12 digits */
    char engine[96];  /* harness version and git hash */
    rep_task t[REP_MAX_TASKS];
    size_t n_t;
} rep_run;

/* The axis of xuan pick (xuan_task) a task counts towards, or -1. */
int rep_task_axis(const char *task);

/* Finds a GGUF quant name (Q4_K_M, Q8_0, F16, ...) in s: its bits per weight
 * order the quant chart.  Returns the canonical name or NULL; *at and *len
 * give where it sits in s. */
const char *rep_find_quant(const char *s, size_t *at, size_t *len);

/* 0, or an error already printed. */
int rep_write_md(const char *path, const rep_run *runs, size_t n, const char *db);
int rep_write_html(const char *path, const rep_run *runs, size_t n, const char *db);

#endif
