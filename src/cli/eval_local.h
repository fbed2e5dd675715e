/*
 * eval_local.h — the in-process backend of `xuan eval`: a GGUF loaded with
 * the engine (the flags and prompt rendering of `xuan run`), behind the
 * eval room's backend interface (xuan/eval.h).
 */
#ifndef XUAN_EVAL_LOCAL_H
#define XUAN_EVAL_LOCAL_H

#include "engine_cli.h"
#include "xuan/eval.h"

/* Loads the model of o (printing errors; returns an exit code, 0 = ok) and
 * fills *b.  *info gets a JSON object's text (heap, xuan_free) for the run
 * config: path, file sha256, quant, architecture, template and its sha256.
 * Generation is one item at a time (b->parallel = 1). */
int eval_local_open(const engine_opts *o, xuan_eval_backend *b, char **info);

#endif
