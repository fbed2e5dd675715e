/*
 * task.c — task files (tasks/<name>.yaml) into xuan_eval_task, checked
 * key by key.  The format is in docs/eval.md; libyaml parses, and its marks
 * give the line of every key, so each refusal is one line
 * "FILE:LINE: key 'K': what is wrong".
 *
 * YAML itself gives every plain scalar a type by its look (5 is an integer,
 * true a boolean); here each key has one type and a scalar is read as that
 * type: a string key takes any scalar's text, an integer key a plain decimal,
 * a boolean key plain true / false.  A quoted "5" is no integer.
 */
#include "xuan/eval.h"
#include "xuan/chat.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum { MAX_TASK_BYTES = 1 << 20, MAX_LIST = 4096 };

typedef struct ctx {
    const char *file;
    yaml_document_t *doc;
    xuan_error *err;
} ctx;

static unsigned line_of(const yaml_node_t *n) { return (unsigned)n->start_mark.line + 1; }

static int bad(ctx *c, const yaml_node_t *n, const char *key, const char *what) {
    return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s:%u: key '%s': %s", c->file, line_of(n), key, what);
}

static const char *type_name(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE ? "a scalar" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

static int want_string(ctx *c, const yaml_node_t *n, const char *key, char **out) {
    if (n->type != YAML_SCALAR_NODE) {
        char m[96];
        snprintf(m, sizeof m, "expected a string, got %s", type_name(n));
        return bad(c, n, key, m);
    }
    size_t len = n->data.scalar.length;
    if (memchr(n->data.scalar.value, 0, len)) return bad(c, n, key, "the string holds a NUL byte");
    xuan_free(*out);
    *out = xuan_strndup((const char *)n->data.scalar.value, len);
    return *out ? 0 : xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
}

static int want_int(ctx *c, const yaml_node_t *n, const char *key, int64_t min, int64_t max, int64_t *out) {
    char m[160];
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        snprintf(m, sizeof m, "expected an integer, got %s",
                 n->type == YAML_SCALAR_NODE ? "a quoted string" : type_name(n));
        return bad(c, n, key, m);
    }
    const char *s = (const char *)n->data.scalar.value;
    if (xuan_parse_i64(s, min, max, out) != 0) {
        snprintf(m, sizeof m, "expected an integer from %lld to %lld, got '%.40s'", (long long)min, (long long)max, s);
        return bad(c, n, key, m);
    }
    return 0;
}

static int want_double(ctx *c, const yaml_node_t *n, const char *key, double min, double max, double *out) {
    char m[160];
    const char *s = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        xuan_parse_f64(s, min, max, out) != 0) {
        snprintf(m, sizeof m, "expected a number from %g to %g, got %s'%.40s'", min, max,
                 n->type == YAML_SCALAR_NODE ? "" : type_name(n), s);
        return bad(c, n, key, m);
    }
    return 0;
}

static int want_bool(ctx *c, const yaml_node_t *n, const char *key, bool *out) {
    const char *s = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (!strcmp(s, "true")) return *out = true, 0;
        if (!strcmp(s, "false")) return *out = false, 0;
    }
    char m[96];
    snprintf(m, sizeof m, "expected true or false, got %s'%.40s'", n->type == YAML_SCALAR_NODE ? "" : type_name(n), s);
    return bad(c, n, key, m);
}

/* A Jinja template: its text and the parsed form. */
static int want_template(ctx *c, const yaml_node_t *n, const char *key, char **text, xuan_chat_template **out) {
    int rc = want_string(c, n, key, text);
    if (rc) return rc;
    xuan_error te = {0};
    if (xuan_chat_template_parse(*text, strlen(*text), out, &te) == 0) return 0;
    if (te.code == XUAN_ERR_NOMEM) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
    char m[400];
    snprintf(m, sizeof m, "the template does not parse: %.360s", te.msg);
    return bad(c, n, key, m);
}

static void strv_free(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) xuan_free(v[i]);
    xuan_free(v);
}

/* A list of strings; a single scalar is a list of one when `one_ok`. */
static int want_strings(ctx *c, const yaml_node_t *n, const char *key, bool one_ok, char ***out, size_t *count) {
    strv_free(*out, *count);
    *out = NULL, *count = 0;
    if (n->type == YAML_SCALAR_NODE && one_ok) {
        char **v = xuan_calloc(1, sizeof *v);
        if (!v) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
        *out = v;
        *count = 1;
        return want_string(c, n, key, &v[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        char m[96];
        snprintf(m, sizeof m, "expected a list of strings, got %s", type_name(n));
        return bad(c, n, key, m);
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len > MAX_LIST) return bad(c, n, key, "a list of more than 4096 entries");
    char **v = xuan_calloc(len ? len : 1, sizeof *v);
    if (!v) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
    *out = v;
    *count = len;
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *it = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        int rc = want_string(c, it, key, &v[i]);
        if (rc) return rc;
    }
    return 0;
}

/* Walks a mapping: each key must be one of `keys` and given once; vals[i]
 * gets the value node of keys[i] (NULL when absent), lines[i] the key node. */
static int want_map(ctx *c, const yaml_node_t *n, const char *where, const char *const *keys, size_t nk,
                    const yaml_node_t **vals, const yaml_node_t **knodes) {
    if (n->type != YAML_MAPPING_NODE) {
        char m[96];
        snprintf(m, sizeof m, "expected a mapping, got %s", type_name(n));
        return bad(c, n, where, m);
    }
    for (size_t i = 0; i < nk; i++) vals[i] = knodes[i] = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v) return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s: broken YAML document", c->file);
        if (k->type != YAML_SCALAR_NODE) return bad(c, k, where, "a key must be a plain string");
        const char *name = (const char *)k->data.scalar.value;
        size_t i = 0;
        while (i < nk && strcmp(keys[i], name) != 0) i++;
        if (i == nk) {
            const char *near = xuan_closest(name, keys, nk);
            return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s:%u: key '%.60s'%s%s: unknown key%s%s%s", c->file, line_of(k),
                             name, *where ? " in " : "", where, near ? " (did you mean '" : "", near ? near : "",
                             near ? "'?)" : "");
        }
        if (vals[i]) return bad(c, k, name, "given twice");
        vals[i] = v;
        knodes[i] = k;
    }
    return 0;
}

static int missing(ctx *c, const yaml_node_t *at, const char *key, const char *where) {
    return xuan_fail(c->err, XUAN_ERR_FORMAT, "%s:%u: key '%s'%s%s: required key missing", c->file, line_of(at), key,
                     *where ? " in " : "", where);
}

/* files: "a/{subject}_test.csv" expanded per subject, or a list / one path. */
static int expand_files(ctx *c, const yaml_node_t *n, const char *key, const xuan_eval_task *t, char ***out,
                        size_t *count) {
    int rc = want_strings(c, n, key, true, out, count);
    if (rc) return rc;
    bool pattern = *count == 1 && strstr((*out)[0], "{subject}");
    for (size_t i = 0; i < *count; i++)
        if (!(*out)[i][0]) return bad(c, n, key, "an empty path");
    if (!t->n_subjects) {
        if (pattern) return bad(c, n, key, "'{subject}' in a path but the dataset has no subjects");
        return 0;
    }
    if (!pattern) {
        if (*count == 1) return 0; /* one file for every subject (shots) */
        return bad(c, n, key, "with subjects, give one path with '{subject}' in it");
    }
    char *pat = (*out)[0];
    xuan_free(*out);
    *out = xuan_calloc(t->n_subjects, sizeof **out);
    *count = 0;
    if (!*out) {
        xuan_free(pat);
        return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
    }
    *count = t->n_subjects;
    for (size_t s = 0; s < t->n_subjects; s++) {
        xuan_buf b = {0};
        const char *p = pat, *q;
        int bd = 0;
        while ((q = strstr(p, "{subject}")) != NULL) {
            bd |= xuan_buf_append(&b, p, (size_t)(q - p));
            bd |= xuan_buf_puts(&b, t->subjects[s]);
            p = q + 9;
        }
        bd |= xuan_buf_puts(&b, p);
        if (bd) {
            xuan_buf_free(&b);
            xuan_free(pat);
            return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
        }
        (*out)[s] = b.data;
    }
    xuan_free(pat);
    return 0;
}

static int subjects(ctx *c, const yaml_node_t *n, xuan_eval_task *t) {
    if (n->type == YAML_SEQUENCE_NODE) {
        int rc = want_strings(c, n, "subjects", false, &t->subjects, &t->n_subjects);
        if (rc) return rc;
        t->subject_names = xuan_calloc(t->n_subjects ? t->n_subjects : 1, sizeof *t->subject_names);
        if (!t->subject_names) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < t->n_subjects; i++)
            if (!(t->subject_names[i] = xuan_strdup(t->subjects[i])))
                return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
    } else if (n->type == YAML_MAPPING_NODE) {
        size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
        if (len > MAX_LIST) return bad(c, n, "subjects", "more than 4096 subjects");
        t->subjects = xuan_calloc(len ? len : 1, sizeof *t->subjects);
        t->subject_names = xuan_calloc(len ? len : 1, sizeof *t->subject_names);
        if (!t->subjects || !t->subject_names) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < len; i++) {
            yaml_node_pair_t *p = n->data.mapping.pairs.start + i;
            int rc = want_string(c, yaml_document_get_node(c->doc, p->key), "subjects", &t->subjects[i]);
            t->n_subjects = i + 1;
            if (!rc) rc = want_string(c, yaml_document_get_node(c->doc, p->value), "subjects", &t->subject_names[i]);
            if (rc) return rc;
        }
    } else {
        return bad(c, n, "subjects", "expected a list of subject names or a mapping name: display name");
    }
    if (!t->n_subjects) return bad(c, n, "subjects", "an empty list");
    for (size_t i = 0; i < t->n_subjects; i++) {
        const char *s = t->subjects[i];
        if (!*s || strchr(s, '/') || strstr(s, "..")) return bad(c, n, "subjects", "a subject must be a plain file-name part");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->subjects[j], s)) return bad(c, n, "subjects", "a subject listed twice");
    }
    return 0;
}

static const char *const TOP_KEYS[] = {
    "name", "version", "description", "dataset", "fewshot", "prompt", "target", "options", "stop",
    "max_tokens", "max_tokens_reasoning", "extractors", "metric", "k", "answer", "tolerance", "program",
    "mode",
};
enum { K_NAME, K_VERSION, K_DESC, K_DATASET, K_FEWSHOT, K_PROMPT, K_TARGET, K_OPTIONS, K_STOP, K_MAXTOK,
       K_MAXTOK_R, K_EXTRACTORS, K_METRIC, K_K, K_ANSWER, K_TOL, K_PROGRAM, K_MODE, N_TOP };
static const char *const DATA_KEYS[] = {"format", "files", "subjects", "header", "columns"};
enum { D_FORMAT, D_FILES, D_SUBJECTS, D_HEADER, D_COLUMNS, N_DATA };
static const char *const SHOT_KEYS[] = {"files", "count", "columns", "match"};
enum { S_FILES, S_COUNT, S_COLUMNS, S_MATCH, N_SHOT };
static const char *const OPTION_KEYS[] = {"list", "drop"};
enum { O_LIST, O_DROP, N_OPTION };
static const char *const ANSWER_NAMES[] = {"number", "latex", "letter", "code"};

static int build(ctx *c, const yaml_node_t *root, xuan_eval_task *t) {
    const yaml_node_t *v[N_TOP], *k[N_TOP];
    int rc = want_map(c, root, "", TOP_KEYS, N_TOP, v, k);
    if (rc) return rc;
    /* each required key is checked where it is read, so the file's first
     * problem from the top is the one reported */
#define NEED(K) do { if (!v[K]) return missing(c, root, TOP_KEYS[K], ""); } while (0)
    int64_t i64;
    NEED(K_NAME);
    if ((rc = want_string(c, v[K_NAME], "name", &t->name))) return rc;
    for (const char *p = t->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return bad(c, v[K_NAME], "name", "use lower-case letters, digits, '-', '_' and '.'");
    if (!t->name[0]) return bad(c, v[K_NAME], "name", "an empty name");
    NEED(K_VERSION);
    if ((rc = want_int(c, v[K_VERSION], "version", 0, INT32_MAX, &t->version))) return rc;
    if (v[K_DESC] && (rc = want_string(c, v[K_DESC], "description", &t->description))) return rc;
    if (!t->description && !(t->description = xuan_strdup(""))) return xuan_fail(c->err, XUAN_ERR_NOMEM, "out of memory");

    /* dataset */
    const yaml_node_t *dv[N_DATA], *dk[N_DATA];
    NEED(K_DATASET);
    if ((rc = want_map(c, v[K_DATASET], "dataset", DATA_KEYS, N_DATA, dv, dk))) return rc;
    if (!dv[D_FORMAT]) return missing(c, v[K_DATASET], "format", "dataset");
    char *fmt = NULL;
    if ((rc = want_string(c, dv[D_FORMAT], "format", &fmt))) return rc;
    int f = xuan_data_format_from_name(fmt);
    xuan_free(fmt);
    if (f < 0) return bad(c, dv[D_FORMAT], "format", "expected jsonl, jsonl.gz, csv, tsv or parquet");
    t->format = (xuan_data_format)f;
    if (!dv[D_FILES]) return missing(c, v[K_DATASET], "files", "dataset");
    if (dv[D_SUBJECTS] && (rc = subjects(c, dv[D_SUBJECTS], t))) return rc;
    if ((rc = expand_files(c, dv[D_FILES], "files", t, &t->files, &t->n_files))) return rc;
    if (t->n_files == 0) return bad(c, dv[D_FILES], "files", "an empty list");
    if (t->n_subjects && t->n_files != t->n_subjects) return bad(c, dv[D_FILES], "files", "one path per subject");
    if (dv[D_HEADER] && (rc = want_bool(c, dv[D_HEADER], "header", &t->header))) return rc;
    if (dv[D_COLUMNS] && (rc = want_strings(c, dv[D_COLUMNS], "columns", false, &t->columns, &t->n_columns))) return rc;
    bool table = t->format == XUAN_DATA_CSV || t->format == XUAN_DATA_TSV;
    if (!table && (dv[D_HEADER] || dv[D_COLUMNS]))
        return bad(c, dv[D_HEADER] ? dv[D_HEADER] : dv[D_COLUMNS], dv[D_HEADER] ? "header" : "columns",
                   "only for csv and tsv datasets");
    if (table && !t->header && !t->n_columns)
        return missing(c, v[K_DATASET], "columns", "dataset (the file has no header row)");
    if (dv[D_COLUMNS] && !t->n_columns) return bad(c, dv[D_COLUMNS], "columns", "an empty list");

    /* few-shot exemplars */
    if (v[K_FEWSHOT]) {
        const yaml_node_t *sv[N_SHOT], *sk[N_SHOT];
        if ((rc = want_map(c, v[K_FEWSHOT], "fewshot", SHOT_KEYS, N_SHOT, sv, sk))) return rc;
        if (!sv[S_FILES]) return missing(c, v[K_FEWSHOT], "files", "fewshot");
        if (!sv[S_COUNT]) return missing(c, v[K_FEWSHOT], "count", "fewshot");
        if ((rc = expand_files(c, sv[S_FILES], "files", t, &t->fewshot_files, &t->n_fewshot_files))) return rc;
        if (!t->n_fewshot_files) return bad(c, sv[S_FILES], "files", "an empty list");
        if ((rc = want_int(c, sv[S_COUNT], "count", 0, 64, &i64))) return rc;
        t->fewshot_count = (uint32_t)i64;
        if (sv[S_COLUMNS] &&
            (rc = want_strings(c, sv[S_COLUMNS], "columns", false, &t->fewshot_columns, &t->n_fewshot_columns)))
            return rc;
        if (sv[S_COLUMNS] && !table) return bad(c, sv[S_COLUMNS], "columns", "only for csv and tsv datasets");
        if (sv[S_MATCH]) {
            if ((rc = want_string(c, sv[S_MATCH], "match", &t->fewshot_match))) return rc;
            if (!t->fewshot_match[0]) return bad(c, sv[S_MATCH], "match", "an empty field name");
        }
    }

    /* the answer type decides which of the keys below are needed */
    NEED(K_ANSWER);
    char *ans = NULL;
    if ((rc = want_string(c, v[K_ANSWER], "answer", &ans))) return rc;
    int a = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(ans, ANSWER_NAMES[i])) a = i;
    xuan_free(ans);
    if (a < 0) return bad(c, v[K_ANSWER], "answer", "expected number, latex, letter or code");
    t->answer = (xuan_answer_type)a;

    /* prompting */
    NEED(K_PROMPT);
    if ((rc = want_template(c, v[K_PROMPT], "prompt", &t->prompt, &t->prompt_tmpl))) return rc;
    if (v[K_PROGRAM]) {
        if (t->answer != XUAN_ANSWER_CODE) return bad(c, v[K_PROGRAM], "program", "only for answer: code");
        if ((rc = want_template(c, v[K_PROGRAM], "program", &t->program, &t->program_tmpl))) return rc;
    } else if (t->answer == XUAN_ANSWER_CODE) {
        return missing(c, root, "program", "");
    }
    if (v[K_TARGET]) {
        if ((rc = want_string(c, v[K_TARGET], "target", &t->target))) return rc;
        if (!t->target[0]) return bad(c, v[K_TARGET], "target", "an empty field name");
    } else if (t->answer != XUAN_ANSWER_CODE) {
        return missing(c, root, "target", "");
    }
    if (v[K_OPTIONS] && v[K_OPTIONS]->type == YAML_MAPPING_NODE) { /* {list: FIELD, drop: [...]} */
        const yaml_node_t *ov[N_OPTION], *ok[N_OPTION];
        if ((rc = want_map(c, v[K_OPTIONS], "options", OPTION_KEYS, N_OPTION, ov, ok))) return rc;
        if (!ov[O_LIST]) return missing(c, v[K_OPTIONS], "list", "options");
        if ((rc = want_string(c, ov[O_LIST], "list", &t->option_list))) return rc;
        if (!t->option_list[0]) return bad(c, ov[O_LIST], "list", "an empty field name");
        if (ov[O_DROP] && (rc = want_strings(c, ov[O_DROP], "drop", false, &t->option_drop, &t->n_option_drop)))
            return rc;
    } else if (v[K_OPTIONS]) {
        if ((rc = want_strings(c, v[K_OPTIONS], "options", false, &t->options, &t->n_options))) return rc;
        if (t->n_options < 2 || t->n_options > 26) return bad(c, v[K_OPTIONS], "options", "give 2 to 26 option fields");
    }
    if (t->answer == XUAN_ANSWER_LETTER && !xuan_eval_task_has_options(t)) return missing(c, root, "options", "");
    if (v[K_STOP] && (rc = want_strings(c, v[K_STOP], "stop", false, &t->stop, &t->n_stop))) return rc;
    for (size_t i = 0; i < t->n_stop; i++)
        if (!t->stop[i][0]) return bad(c, v[K_STOP], "stop", "an empty stop string");
    NEED(K_MAXTOK);
    if ((rc = want_int(c, v[K_MAXTOK], "max_tokens", 1, 1 << 20, &i64))) return rc;
    t->max_tokens = (uint32_t)i64;
    t->max_tokens_reasoning = t->max_tokens;
    if (v[K_MAXTOK_R]) {
        if ((rc = want_int(c, v[K_MAXTOK_R], "max_tokens_reasoning", 1, 1 << 20, &i64))) return rc;
        t->max_tokens_reasoning = (uint32_t)i64;
    }

    /* scoring */
    char **ex = NULL;
    size_t n_ex = 0;
    NEED(K_EXTRACTORS);
    rc = want_strings(c, v[K_EXTRACTORS], "extractors", true, &ex, &n_ex);
    for (size_t i = 0; rc == 0 && i < n_ex; i++) {
        int e = xuan_eval_extractor_from_name(ex[i]);
        char m[300];
        if (e < 0) {
            snprintf(m, sizeof m, "unknown extractor '%.60s' (known: gsm8k-strict, gsm8k-flexible, math-boxed, "
                     "mmlu-pro, opencompass, last-number, humaneval)", ex[i]);
            rc = bad(c, v[K_EXTRACTORS], "extractors", m);
            break;
        }
        for (size_t j = 0; j < t->n_extractors; j++)
            if (t->extractors[j] == (xuan_extractor)e) rc = bad(c, v[K_EXTRACTORS], "extractors", "an extractor listed twice");
        bool letter = e == XUAN_EXTRACT_MMLU_PRO || e == XUAN_EXTRACT_OPENCOMPASS;
        bool code = e == XUAN_EXTRACT_HUMANEVAL;
        if (!rc && (letter != (t->answer == XUAN_ANSWER_LETTER) || code != (t->answer == XUAN_ANSWER_CODE))) {
            snprintf(m, sizeof m, "extractor '%s' does not give a %s answer", ex[i], ANSWER_NAMES[t->answer]);
            rc = bad(c, v[K_EXTRACTORS], "extractors", m);
        }
        if (!rc) t->extractors[t->n_extractors++] = (xuan_extractor)e;
    }
    strv_free(ex, n_ex);
    if (rc) return rc;
    if (!t->n_extractors) return bad(c, v[K_EXTRACTORS], "extractors", "an empty list");
    t->metric = XUAN_METRIC_ACCURACY;
    if (v[K_METRIC]) {
        char *m = NULL;
        if ((rc = want_string(c, v[K_METRIC], "metric", &m))) return rc;
        if (!strcmp(m, "accuracy")) t->metric = XUAN_METRIC_ACCURACY;
        else if (!strcmp(m, "pass@k")) t->metric = XUAN_METRIC_PASS_AT_K;
        else rc = bad(c, v[K_METRIC], "metric", "expected accuracy or pass@k");
        xuan_free(m);
        if (rc) return rc;
    }
    t->k = 1;
    if (v[K_K]) {
        if ((rc = want_int(c, v[K_K], "k", 1, 1000, &i64))) return rc;
        t->k = (uint32_t)i64;
    }
    if (v[K_TOL] && (rc = want_double(c, v[K_TOL], "tolerance", 0, 1, &t->tolerance))) return rc;
    t->mode = XUAN_EVAL_GENERATE;
    if (v[K_MODE]) {
        char *m = NULL;
        if ((rc = want_string(c, v[K_MODE], "mode", &m))) return rc;
        if (!strcmp(m, "generate")) t->mode = XUAN_EVAL_GENERATE;
        else if (!strcmp(m, "loglik")) t->mode = XUAN_EVAL_LOGLIK;
        else rc = bad(c, v[K_MODE], "mode", "expected generate or loglik");
        xuan_free(m);
        if (rc) return rc;
        if (t->mode == XUAN_EVAL_LOGLIK && (t->answer != XUAN_ANSWER_LETTER || !xuan_eval_task_has_options(t)))
            return bad(c, v[K_MODE], "mode", "loglik needs answer: letter and options");
    }
    return 0;
#undef NEED
}

bool xuan_eval_task_has_options(const xuan_eval_task *t) { return t->n_options >= 2 || t->option_list; }

void xuan_eval_item_letters(const xuan_eval_task *t, const xuan_eval_item *it, char out[27]) {
    if (!t->option_list) {
        xuan_eval_task_letters(t, out);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; it && i < it->n_fields; i++) {
        const xuan_eval_field *f = &it->fields[i];
        if (strcmp(f->name, t->option_list) != 0 || !f->json) continue;
        /* the loader checked it: a JSON array of strings; count its elements */
        json_t *a = json_loadb(f->value, f->len, 0, NULL);
        n = json_array_size(a);
        json_decref(a);
        break;
    }
    if (n > 26) n = 26;
    for (size_t i = 0; i < n; i++) out[i] = (char)('A' + i);
    out[n] = 0;
}

void xuan_eval_task_letters(const xuan_eval_task *t, char out[27]) {
    size_t n = t->n_options <= 26 ? t->n_options : 26;
    for (size_t i = 0; i < n; i++) out[i] = (char)('A' + i);
    out[n] = 0;
}

void xuan_eval_task_free(xuan_eval_task *t) {
    if (!t) return;
    xuan_free(t->path);
    xuan_free(t->name);
    xuan_free(t->description);
    strv_free(t->columns, t->n_columns);
    strv_free(t->files, t->n_files);
    strv_free(t->subjects, t->n_subjects);
    strv_free(t->subject_names, t->n_subjects);
    strv_free(t->fewshot_files, t->n_fewshot_files);
    strv_free(t->fewshot_columns, t->n_fewshot_columns);
    xuan_free(t->prompt);
    xuan_chat_template_free(t->prompt_tmpl);
    xuan_free(t->target);
    xuan_free(t->program);
    xuan_chat_template_free(t->program_tmpl);
    strv_free(t->options, t->n_options);
    strv_free(t->option_drop, t->n_option_drop);
    xuan_free(t->option_list);
    xuan_free(t->fewshot_match);
    strv_free(t->stop, t->n_stop);
    xuan_free(t);
}

int xuan_eval_task_parse(const char *name, const char *text, size_t len, xuan_eval_task **out, xuan_error *err) {
    *out = NULL;
    if (len > MAX_TASK_BYTES)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: %zu bytes, a task file is at most 1 MiB", name, len);
    xuan_eval_task *t = xuan_calloc(1, sizeof *t);
    if (!t || !(t->path = xuan_strdup(name))) {
        xuan_free(t);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    xuan_sha256 h;
    uint8_t d[32];
    xuan_sha256_init(&h);
    xuan_sha256_update(&h, text, len);
    xuan_sha256_final(&h, d);
    xuan_sha256_hex(d, t->sha256);

    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p)) {
        xuan_eval_task_free(t);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 0;
    if (!yaml_parser_load(&p, &doc)) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%zu: bad YAML: %s%s%s", name, p.problem_mark.line + 1,
                       p.problem ? p.problem : "parse error", p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        xuan_eval_task_free(t);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    ctx c = {.file = name, .doc = &doc, .err = err};
    if (!root) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:1: an empty task file", name);
    } else {
        rc = build(&c, root, t);
        if (rc == 0) { /* a second document is a mistake, not more keys */
            yaml_document_t next;
            if (!yaml_parser_load(&p, &next)) {
                rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%zu: bad YAML: %s", name, p.problem_mark.line + 1,
                               p.problem ? p.problem : "parse error");
            } else {
                if (yaml_document_get_root_node(&next))
                    rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%zu: a second YAML document; a task file holds one",
                                   name, next.start_mark.line + 1);
                yaml_document_delete(&next);
            }
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (rc) {
        xuan_eval_task_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int xuan_eval_task_load(const char *path, xuan_eval_task **out, xuan_error *err) {
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc = xuan_read_file(path, MAX_TASK_BYTES, &text, &n, err);
    if (rc) return rc;
    rc = xuan_eval_task_parse(path, text, n, out, err);
    xuan_free(text);
    return rc;
}
