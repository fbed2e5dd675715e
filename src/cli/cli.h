/*
 * cli.h — what the verbs of the `xuan` program share: the verb table,
 * usage errors (exit 2), runtime errors (exit 1) and common flag handling.
 * Each verb lives in its own file, cmd_<verb>.c, with one entry point.
 */
#ifndef XUAN_CLI_H
#define XUAN_CLI_H

#include "xuan/base.h"

enum { XUAN_EXIT_OK = 0, XUAN_EXIT_RUNTIME = 1, XUAN_EXIT_USAGE = 2 };

/* A verb's entry point: argv[0] is the verb name. Returns the exit code. */
typedef int (*xuan_cmd_fn)(int argc, char **argv);

int cmd_inspect(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_pick(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_eval_kld(int argc, char **argv); /* xuan eval kld */
int cmd_report(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Prints "xuan VERB: message" and a hint to stderr; returns XUAN_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "xuan: message" to stderr; returns XUAN_EXIT_RUNTIME. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Maps a xuan_status to an exit code (usage errors -> 2, others -> 1). */
int cli_exit_for(const xuan_error *err);

/* Common numeric flags: parse or report a usage error naming the flag. */
int cli_int_arg(const char *verb, const char *flag, const char *value, int64_t min, int64_t max,
                int64_t *out);
int cli_double_arg(const char *verb, const char *flag, const char *value, double min, double max,
                   double *out);
int cli_bytes_arg(const char *verb, const char *flag, const char *value, uint64_t *out);

/* Reads a whole file, or standard input for "-", into a NUL-terminated heap
 * buffer (xuan_free); at most max_bytes from a file. */
int cli_read_input(const char *path, uint64_t max_bytes, char **out, size_t *len, xuan_error *err);

/* The results store of eval and report: flag (--db) when given, else
 * <cache>/results.db (the cache folder of xuan/pick.h), creating the folder
 * when create is set. */
void cli_results_db(const char *flag, bool create, char *out, size_t n);

/* -v / -q: adjust the log level. */
void cli_verbosity(int verbose, int quiet);

#endif
