/*
 * data.c — a task's items: every dataset file of the task loaded from the
 * data folder, the few-shot files beside them, and the prompt of one item
 * rendered by the chat room's Jinja engine over the item's fields.
 */
#include "xuan/eval.h"
#include "xuan/chat.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void xuan_eval_data_free(xuan_eval_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_sets; i++) xuan_dataset_free(&d->sets[i]);
    for (size_t i = 0; i < d->n_shots; i++) xuan_dataset_free(&d->shots[i]);
    xuan_free(d->sets);
    xuan_free(d->shots);
    memset(d, 0, sizeof *d);
}

static int load_one(const char *dir, const char *file, const xuan_dataset_opts *o, xuan_dataset *out,
                    xuan_error *err) {
    char path[4096];
    int w = file[0] == '/' ? snprintf(path, sizeof path, "%s", file) : snprintf(path, sizeof path, "%s/%s", dir, file);
    if (w < 0 || (size_t)w >= sizeof path) return xuan_fail(err, XUAN_ERR_USAGE, "%s/%s: path too long", dir, file);
    return xuan_dataset_load(path, o, out, err);
}

/* Appends a field to an item (its subject). */
static int add_field(xuan_eval_item *it, const char *name, const char *value) {
    void *p = xuan_realloc(it->fields, (it->n_fields + 1) * sizeof *it->fields);
    if (!p) return XUAN_ERR_NOMEM;
    it->fields = p;
    xuan_eval_field *f = &it->fields[it->n_fields];
    f->name = xuan_strdup(name);
    f->value = xuan_strdup(value);
    f->len = strlen(value);
    f->json = false;
    if (!f->name || !f->value) {
        xuan_free(f->name);
        xuan_free(f->value);
        return XUAN_ERR_NOMEM;
    }
    it->n_fields++;
    return 0;
}

static int add_subject(xuan_dataset *d, const xuan_eval_task *t, size_t s, xuan_error *err) {
    for (size_t i = 0; i < d->n_items; i++) {
        xuan_eval_item *it = &d->items[i];
        if (!xuan_eval_item_get(it, "subject") && add_field(it, "subject", t->subject_names[s]))
            return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        if (!xuan_eval_item_get(it, "subject_id") && add_field(it, "subject_id", t->subjects[s]))
            return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* An option_list task: the item's list field must be a JSON array of
 * strings; the task's `drop` values are taken out of it (MMLU-Pro's
 * preprocess drops "N/A"), and 1 to 26 must be left (`need`: for the test
 * items; few-shot rows only get the drop). */
static int option_list(const xuan_eval_task *t, const xuan_dataset *d, xuan_eval_item *it, size_t j, bool need,
                       xuan_error *err) {
    xuan_eval_field *f = NULL;
    for (size_t i = 0; i < it->n_fields && !f; i++)
        if (!strcmp(it->fields[i].name, t->option_list)) f = &it->fields[i];
    if (!f) return need ? xuan_fail(err, XUAN_ERR_FORMAT, "%s:%u: item %zu has no field '%s' (task %s)", d->path,
                                    it->line, j + 1, t->option_list, t->path) : 0;
    json_t *a = f->json ? json_loadb(f->value, f->len, 0, NULL) : NULL;
    int rc = 0;
    if (!json_is_array(a)) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%u: item %zu: field '%s' is no list (task %s)", d->path, it->line,
                       j + 1, t->option_list, t->path);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(a);) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e)) {
            rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%u: item %zu: option %zu of '%s' is no string (task %s)", d->path,
                           it->line, j + 1, i + 1, t->option_list, t->path);
            goto done;
        }
        bool drop = false;
        for (size_t k = 0; k < t->n_option_drop && !drop; k++) drop = !strcmp(json_string_value(e), t->option_drop[k]);
        if (drop) json_array_remove(a, i);
        else i++;
    }
    size_t n = json_array_size(a);
    if (need && (n < 1 || n > 26)) {
        rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%u: item %zu: %zu options in '%s', expected 1 to 26 (task %s)",
                       d->path, it->line, j + 1, n, t->option_list, t->path);
        goto done;
    }
    if (t->n_option_drop) {
        char *text = json_dumps(a, JSON_COMPACT);
        char *copy = text ? xuan_strdup(text) : NULL;
        free(text); /* jansson's allocator */
        if (!copy) {
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
            goto done;
        }
        xuan_free(f->value);
        f->value = copy;
        f->len = strlen(copy);
    }
done:
    json_decref(a);
    return rc;
}

int xuan_eval_data_load(const xuan_eval_task *t, const char *data_dir, xuan_eval_data *out, xuan_error *err) {
    memset(out, 0, sizeof *out);
    xuan_dataset_opts o = {.format = t->format, .header = t->header,
                           .columns = (const char *const *)t->columns, .n_columns = t->n_columns};
    out->sets = xuan_calloc(t->n_files, sizeof *out->sets);
    if (!out->sets) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < t->n_files && rc == 0; i++) {
        if ((rc = load_one(data_dir, t->files[i], &o, &out->sets[i], err)) != 0) break;
        out->n_sets = i + 1;
        xuan_dataset *d = &out->sets[i];
        if (t->n_subjects && (rc = add_subject(d, t, i, err)) != 0) break;
        for (size_t j = 0; j < d->n_items && rc == 0; j++) {
            xuan_eval_item *it = &d->items[j];
            const char *need = t->target && !xuan_eval_item_get(it, t->target) ? t->target : NULL;
            for (size_t k = 0; !need && k < t->n_options; k++)
                if (!xuan_eval_item_get(it, t->options[k])) need = t->options[k];
            if (!need && t->fewshot_match && !xuan_eval_item_get(it, t->fewshot_match)) need = t->fewshot_match;
            if (need)
                rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s:%u: item %zu has no field '%s' (task %s)", d->path, it->line,
                               j + 1, need, t->path);
            if (!rc && t->option_list) rc = option_list(t, d, it, j, true, err);
        }
        out->n_items += d->n_items;
    }
    if (rc == 0 && t->n_fewshot_files) {
        xuan_dataset_opts so = o;
        if (t->n_fewshot_columns) so.columns = (const char *const *)t->fewshot_columns, so.n_columns = t->n_fewshot_columns;
        if (!(out->shots = xuan_calloc(t->n_fewshot_files, sizeof *out->shots)))
            rc = xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < t->n_fewshot_files; i++) {
            if ((rc = load_one(data_dir, t->fewshot_files[i], &so, &out->shots[i], err)) != 0) break;
            out->n_shots = i + 1;
            for (size_t j = 0; rc == 0 && t->option_list && j < out->shots[i].n_items; j++)
                rc = option_list(t, &out->shots[i], &out->shots[i].items[j], j, false, err);
            /* by match, a file holds the shots of many items: counted per item, not here */
            if (rc == 0 && !t->fewshot_match && out->shots[i].n_items < t->fewshot_count)
                rc = xuan_fail(err, XUAN_ERR_FORMAT, "%s: %zu items, the task asks for %u shots", out->shots[i].path,
                               out->shots[i].n_items, t->fewshot_count);
        }
    }
    if (rc) xuan_eval_data_free(out);
    return rc;
}

const xuan_eval_item *xuan_eval_data_item(const xuan_eval_data *d, size_t i, size_t *set) {
    for (size_t s = 0; s < d->n_sets; s++) {
        if (i < d->sets[s].n_items) {
            if (set) *set = s;
            return &d->sets[s].items[i];
        }
        i -= d->sets[s].n_items;
    }
    return NULL;
}

/* The item as a JSON object; "a.b" becomes {"a": {"b": ...}}. */
static json_t *item_json(const xuan_eval_item *it) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < it->n_fields; i++) {
        const xuan_eval_field *f = &it->fields[i];
        json_t *at = o;
        char name[256];
        snprintf(name, sizeof name, "%s", f->name);
        char *part = name, *dot;
        while (at && (dot = strchr(part, '.')) != NULL) {
            *dot = 0;
            json_t *sub = json_object_get(at, part);
            if (!json_is_object(sub)) {
                sub = json_object();
                if (!sub || json_object_set_new(at, part, sub)) sub = NULL;
            }
            at = sub;
            part = dot + 1;
        }
        json_t *val = f->json ? json_loadb(f->value, f->len, JSON_DECODE_ANY, NULL) : NULL;
        if (!val) val = json_stringn(f->value, f->len);
        if (at && json_object_set_new(at, part, val)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int xuan_eval_prompt(const xuan_eval_task *t, const xuan_eval_data *d, size_t i, xuan_buf *out, xuan_error *err) {
    size_t set = 0;
    const xuan_eval_item *it = xuan_eval_data_item(d, i, &set);
    if (!it) return xuan_fail(err, XUAN_ERR_USAGE, "%s: no item %zu (%zu items)", t->path, i, d->n_items);
    json_t *ctx = item_json(it), *shots = json_array();
    int rc = 0;
    if (!ctx || !shots) rc = XUAN_ERR_NOMEM;
    if (!rc && d->n_shots && t->fewshot_match) {
        /* the first count rows, over the files in order, whose field equals the item's */
        const char *want = xuan_eval_item_get(it, t->fewshot_match);
        uint32_t left = t->fewshot_count;
        for (size_t f = 0; !rc && want && left && f < d->n_shots; f++)
            for (size_t j = 0; !rc && left && j < d->shots[f].n_items; j++) {
                const char *v = xuan_eval_item_get(&d->shots[f].items[j], t->fewshot_match);
                if (!v || strcmp(v, want)) continue;
                json_t *s = item_json(&d->shots[f].items[j]);
                if (!s || json_array_append_new(shots, s)) rc = XUAN_ERR_NOMEM;
                left--;
            }
    } else if (!rc && d->n_shots) {
        /* per subject when there is one file per subject, else from the files in order */
        size_t first = d->n_shots == d->n_sets && t->n_subjects ? set : 0;
        uint32_t left = t->fewshot_count;
        for (size_t f = first; !rc && left && f < d->n_shots; f++) {
            for (size_t j = 0; !rc && left && j < d->shots[f].n_items; j++, left--) {
                json_t *s = item_json(&d->shots[f].items[j]);
                if (!s || json_array_append_new(shots, s)) rc = XUAN_ERR_NOMEM;
            }
            if (first == set && d->n_shots == d->n_sets && t->n_subjects) break;
        }
    }
    if (!rc && json_object_set(ctx, "shots", shots)) rc = XUAN_ERR_NOMEM;
    char *kw = rc ? NULL : json_dumps(ctx, JSON_COMPACT);
    json_decref(ctx);
    json_decref(shots);
    if (!kw) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    o.add_generation_prompt = false;
    o.kwargs_json = kw;
    rc = xuan_chat_template_render(t->prompt_tmpl, "[]", &o, out, err);
    free(kw); /* jansson's allocator */
    if (rc) xuan_error_prefix(err, "%s: prompt of %s:%u", t->path, d->sets[set].path, it->line);
    return rc;
}

int xuan_eval_program(const xuan_eval_task *t, const xuan_eval_item *it, const char *completion, xuan_buf *out,
                      xuan_error *err) {
    if (!t->program_tmpl) return xuan_fail(err, XUAN_ERR_USAGE, "%s: the task has no program template", t->path);
    json_t *ctx = item_json(it);
    if (!ctx || json_object_set_new(ctx, "completion", json_string(completion))) {
        json_decref(ctx);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory (or a completion that is not UTF-8)");
    }
    char *kw = json_dumps(ctx, JSON_COMPACT);
    json_decref(ctx);
    if (!kw) return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    xuan_chat_template_opts o = xuan_chat_template_opts_default();
    o.add_generation_prompt = false;
    o.kwargs_json = kw;
    int rc = xuan_chat_template_render(t->program_tmpl, "[]", &o, out, err);
    free(kw); /* jansson's allocator */
    if (rc) xuan_error_prefix(err, "%s: program of the item on line %u", t->path, it->line);
    return rc;
}
