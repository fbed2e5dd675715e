/*
 * libFuzzer target for answer extraction and scoring over arbitrary model
 * output: every extractor (with the letters byte 0 picks, A.. up to A-Z),
 * the think-block split, the MATH normaliser and equivalence, the number
 * reader, and the whole scorer of a small task.  Every answer must be valid
 * UTF-8 without a NUL; equivalence must be reflexive; nothing may crash or
 * take long (the regexes run under a PCRE2 match limit).
 * Seeds: fuzz/corpus/extract (answers as models write them, in English and
 * Chinese, boxed LaTeX, think blocks).
 */
#include "xuan/eval.h"

#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

static const char TASK[] =
    "name: f\nversion: 1\ndataset:\n  format: jsonl\n  files: x.jsonl\nprompt: p\ntarget: answer\n"
    "max_tokens: 8\nextractors: [gsm8k-strict, gsm8k-flexible, last-number]\nanswer: number\ntolerance: 0.001\n";

static void answer_ok(const char *a) {
    if (a) TRAP_IF(!xuan_utf8_valid((const uint8_t *)a, strlen(a)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static xuan_eval_task *task;
    xuan_error err = {0};
    if (!task && xuan_eval_task_parse("f.yaml", TASK, sizeof TASK - 1, &task, &err) != 0) __builtin_trap();
    char letters[27];
    size_t nl = 2 + data[0] % 25;
    for (size_t i = 0; i < nl; i++) letters[i] = (char)('A' + i);
    letters[nl] = 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    for (int e = 0; e < XUAN_EXTRACT_COUNT; e++) {
        char *out = NULL;
        TRAP_IF(xuan_eval_extract((xuan_extractor)e, text, n, letters, &out, &err) != 0);
        answer_ok(out);
        if (out && (e == XUAN_EXTRACT_MMLU_PRO || e == XUAN_EXTRACT_OPENCOMPASS))
            TRAP_IF(strlen(out) != 1 || !strchr(letters, out[0]));
        xuan_free(out);
    }
    size_t an;
    const char *a = xuan_eval_strip_think(text, n, &an);
    TRAP_IF(a && (a < text || a + an != text + n));
    /* the NUL-terminated forms */
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, text, n);
    s[n] = 0;
    char *norm = xuan_math_normalize(s);
    if (norm) {
        char *again = xuan_math_normalize(norm); /* must not crash on its own output */
        xuan_free(again);
        xuan_free(norm);
    }
    TRAP_IF(!xuan_math_equiv(s, s));
    double v;
    bool pct;
    if (xuan_eval_parse_number(s, &v, &pct)) TRAP_IF(!xuan_eval_number_equal(s, s, 0) && v == v);
    for (size_t k = 0; k < task->n_extractors; k++) {
        xuan_eval_verdict vd;
        TRAP_IF(xuan_eval_score(task, k, s, "42", NULL, &vd, &err) != 0);
        answer_ok(vd.extracted);
        TRAP_IF(vd.correct != 0 && vd.correct != 1);
        xuan_eval_verdict_free(&vd);
    }
    free(s);
    return 0;
}
