/*
 * libFuzzer target for the task-file parser (tasks/<name>.yaml is anyone's
 * YAML: a user adds a benchmark by writing one).  The input is the file.
 * A file that loads must hold together: a name, at least one extractor
 * that fits the answer type, one file per subject, the letters as many as
 * the options, a 64-digit identity.  A file that is refused must say why in
 * one line naming the file, and leave nothing behind (LeakSanitizer).
 * The prompt template is parsed here, not rendered: fuzz_jinja fuzzes the
 * engine.  Seeds: fuzz/corpus/task (the shipped task files and broken ones).
 */
#include "xuan/eval.h"

#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    xuan_eval_task *t = NULL;
    xuan_error err = {0};
    if (xuan_eval_task_parse("fuzz.yaml", (const char *)data, size, &t, &err) != 0) {
        TRAP_IF(t != NULL);
        TRAP_IF(err.msg[0] == 0 || strchr(err.msg, '\n') != NULL || strncmp(err.msg, "fuzz.yaml", 9) != 0);
        return 0;
    }
    TRAP_IF(!t->name || !t->name[0] || !t->prompt || !t->prompt_tmpl || strlen(t->sha256) != 64);
    TRAP_IF(t->n_extractors == 0 || t->n_extractors > XUAN_EXTRACT_COUNT || t->n_files == 0);
    TRAP_IF(t->n_subjects && t->n_files != t->n_subjects);
    TRAP_IF(t->answer != XUAN_ANSWER_CODE && !t->target);
    char letters[27];
    xuan_eval_task_letters(t, letters);
    TRAP_IF(strlen(letters) != t->n_options);
    for (size_t i = 0; i < t->n_files; i++) TRAP_IF(!t->files[i] || !t->files[i][0]);
    /* every extractor of the task runs on a fixed answer */
    for (size_t k = 0; k < t->n_extractors; k++) {
        xuan_eval_verdict v;
        if (xuan_eval_score(t, k, "the answer is (B). #### 42 \\boxed{42}", t->target ? "42" : "", NULL, &v, &err) == 0)
            xuan_eval_verdict_free(&v);
    }
    xuan_eval_task_free(t);
    return 0;
}
