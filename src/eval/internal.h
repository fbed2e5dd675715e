/* internal.h — what the eval room's files share and nobody else needs. */
#ifndef XUAN_EVAL_INTERNAL_H
#define XUAN_EVAL_INTERNAL_H

#include "xuan/eval.h"

/* Python's str.strip() (Unicode white space, as str.isspace) of s[0..n):
 * the kept span is [*b, *e).  math_equiv.c. */
void xuan_eval_py_strip(const char *s, size_t n, size_t *b, size_t *e);

#endif
