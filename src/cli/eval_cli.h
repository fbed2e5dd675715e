/*
 * eval_cli.h — what the two halves of `xuan eval` share: cmd_eval.c (the
 * verb's door and `eval score`) and cmd_eval_run.c (`eval run`).
 */
#ifndef XUAN_EVAL_CLI_H
#define XUAN_EVAL_CLI_H

#include "cli.h"
#include "eval_local.h"
#include "xuan/eval.h"

#include <stdio.h>

/* A task file's path: T itself when it names a file (a '/' or ".yaml"), else
 * T.yaml in $XUAN_TASKS, then in tasks/ beside the binary's folder.
 * Returns 0, or -1 when there is none. */
int eval_find_task(const char *t, char *path, size_t n);
/* The tasks folder: $XUAN_TASKS, else tasks/ beside the binary's folder. */
bool eval_tasks_dir(char *buf, size_t n);
/* The datasets folder: flag, else $XUAN_DATA, else ../shared/datasets next
 * to the repository that holds the task file, unless the task's first file
 * (probe, relative; NULL for none) is not there but in <cache>/datasets,
 * where `xuan data pull` puts sets by default. */
void eval_data_dir(const char *flag, const char *task_path, const char *probe, char *buf, size_t n);
/* Prints at most w columns of s (wide characters count two), padded; line
 * breaks print as spaces so a row stays one line. */
void eval_cell(const char *s, int w);

/* `xuan eval [run] ...` (argv[0] is the verb or "run"), and its usage. */
int eval_run(int argc, char **argv);
void eval_run_usage(FILE *f);

#endif
