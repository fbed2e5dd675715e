/*
 * catalog.c — loads data/catalog.json (or the copy embedded in the binary)
 * into plain structs whose strings point into the parsed JSON.
 *
 * The file is input: every field is type-checked and a wrong one is reported
 * as "FILE: models[3].n_layers: expected a whole number", never a crash.
 */
#include "pick_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

const char *xuan_catalog_embedded(size_t *len) {
    if (len) *len = xuan_pick_catalog_json_len;
    return xuan_pick_catalog_json;
}

typedef struct loader {
    const char *origin;
    xuan_error *err;
    int rc;
} loader;

static int bad(loader *ld, const char *where, const char *what) {
    if (!ld->rc) ld->rc = xuan_fail(ld->err, XUAN_ERR_FORMAT, "%s: %s: %s", ld->origin, where, what);
    return ld->rc;
}

static const char *get_str(loader *ld, json_t *o, const char *key, const char *where, bool required) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required) {
            char w[160];
            snprintf(w, sizeof w, "%s.%s", where, key);
            bad(ld, w, "missing");
        }
        return NULL;
    }
    if (!json_is_string(v)) {
        char w[160];
        snprintf(w, sizeof w, "%s.%s", where, key);
        bad(ld, w, "expected a string");
        return NULL;
    }
    return json_string_value(v);
}

static uint32_t get_u32(loader *ld, json_t *o, const char *key, const char *where) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)UINT32_MAX) {
        char w[160];
        snprintf(w, sizeof w, "%s.%s", where, key);
        bad(ld, w, "expected a whole number from 0 to 4294967295");
        return 0;
    }
    return (uint32_t)json_integer_value(v);
}

static double get_num(loader *ld, json_t *o, const char *key, const char *where, double dflt) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return dflt;
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        char w[160];
        snprintf(w, sizeof w, "%s.%s", where, key);
        bad(ld, w, "expected a number");
        return dflt;
    }
    return json_number_value(v);
}

static bool get_bool(json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }

static void load_gguf(loader *ld, xuan_model_info *m, json_t *g, const char *where) {
    if (!g || json_is_null(g)) return;
    if (!json_is_object(g)) {
        bad(ld, where, "gguf: expected an object");
        return;
    }
    m->gguf_repo = get_str(ld, g, "repo", where, false);
    json_t *files = json_object_get(g, "files");
    const char *quant;
    json_t *f;
    if (!json_is_object(files)) return;
    json_object_foreach(files, quant, f) {
        xuan_quant q;
        if (xuan_quant_from_name(quant, &q) != 0 || !json_is_object(f)) continue;
        m->gguf_file[q] = get_str(ld, f, "file", where, false);
        double size = get_num(ld, f, "size_bytes", where, 0);
        if (size < 0 || size > 1e15) bad(ld, where, "gguf size_bytes out of range");
        else m->gguf_size[q] = (uint64_t)size;
        m->gguf_size_exact[q] = get_bool(f, "size_exact");
        m->gguf_size_display[q] = get_str(ld, f, "size_display", where, false);
    }
}

static void load_model(loader *ld, xuan_model_info *m, json_t *o, size_t i) {
    char where[64];
    snprintf(where, sizeof where, "models[%zu]", i);
    if (!json_is_object(o)) {
        bad(ld, where, "expected an object");
        return;
    }
    m->id = get_str(ld, o, "id", where, true);
    m->family = get_str(ld, o, "family", where, false);
    m->hf_repo = get_str(ld, o, "hf_repo", where, false);
    m->license = get_str(ld, o, "license", where, false);
    m->license_short = get_str(ld, o, "license_short", where, false);
    m->license_class = get_str(ld, o, "license_class", where, false);
    m->arch = get_str(ld, o, "arch", where, false);
    m->chinese = get_str(ld, o, "chinese", where, false);
    m->chat_template = get_str(ld, o, "chat_template", where, false);
    m->scope = get_str(ld, o, "scope", where, false);
    m->scope_reason = get_str(ld, o, "scope_reason", where, false);
    m->shapes_missing = get_str(ld, o, "shapes_missing", where, false);
    m->notes = get_str(ld, o, "notes", where, false);
    m->params_b = get_num(ld, o, "params_b", where, 0);
    m->params_active_b = get_num(ld, o, "params_active_b", where, 0);
    if (m->params_b < 0 || m->params_b > 1e5 || m->params_active_b < 0 || m->params_active_b > 1e5)
        bad(ld, where, "params_b out of range");
    m->n_layers = get_u32(ld, o, "n_layers", where);
    m->d_model = get_u32(ld, o, "d_model", where);
    m->n_heads = get_u32(ld, o, "n_heads", where);
    m->n_kv_heads = get_u32(ld, o, "n_kv_heads", where);
    m->head_dim = get_u32(ld, o, "head_dim", where);
    m->d_ffn = get_u32(ld, o, "d_ffn", where);
    m->n_vocab = get_u32(ld, o, "n_vocab", where);
    m->ctx_native = get_u32(ld, o, "context_native", where);
    m->ctx_extended = get_u32(ld, o, "context_extended", where);
    m->sliding_window = get_u32(ld, o, "sliding_window", where);
    m->tied_embeddings = get_bool(o, "tied_embeddings");
    m->runnable = get_bool(o, "runnable");
    m->in_scope = m->scope && !strcmp(m->scope, "in-scope");
    /* Shapes beyond these are not a model, they are an attack or a typo. */
    if (m->n_layers > 4096 || m->d_model > (1u << 20) || m->n_heads > 4096 || m->d_ffn > (1u << 22) ||
        m->n_vocab > (1u << 24) || m->n_kv_heads > m->n_heads ||
        (m->n_heads && m->d_model && m->head_dim > (1u << 16)))
        bad(ld, where, "layer shape out of range");
    json_t *moe = json_object_get(o, "moe");
    if (json_is_object(moe)) {
        m->n_experts = get_u32(ld, moe, "n_experts", where);
        m->n_experts_used = get_u32(ld, moe, "n_experts_used", where);
        m->n_shared_experts = get_u32(ld, moe, "n_shared_experts", where);
        m->moe_d_ffn = get_u32(ld, moe, "moe_d_ffn", where);
        m->first_dense_layers = get_u32(ld, moe, "first_k_dense_replace", where);
        if (m->n_experts > 1024 || m->n_experts_used > m->n_experts || m->moe_d_ffn > (1u << 22))
            bad(ld, where, "moe shape out of range");
    }
    json_t *mla = json_object_get(o, "mla");
    if (json_is_object(mla)) {
        m->q_lora_rank = get_u32(ld, mla, "q_lora_rank", where);
        m->kv_lora_rank = get_u32(ld, mla, "kv_lora_rank", where);
        m->qk_nope_dim = get_u32(ld, mla, "qk_nope_head_dim", where);
        m->qk_rope_dim = get_u32(ld, mla, "qk_rope_head_dim", where);
        m->v_head_dim = get_u32(ld, mla, "v_head_dim", where);
        if (m->q_lora_rank > (1u << 16) || m->kv_lora_rank > (1u << 16) || m->qk_nope_dim > 4096 ||
            m->qk_rope_dim > 4096 || m->v_head_dim > 4096)
            bad(ld, where, "mla shape out of range");
    }
    load_gguf(ld, m, json_object_get(o, "gguf"), where);
    m->thinking = get_str(ld, o, "thinking", where, false);
    if (m->thinking && strcmp(m->thinking, "hybrid") && strcmp(m->thinking, "always") &&
        strcmp(m->thinking, "never"))
        bad(ld, where, "thinking: expected hybrid, always or never");
    m->thinking_default = get_bool(o, "thinking_default");
    m->thinking_switch = get_str(ld, o, "thinking_switch", where, false);
    m->release_date = get_str(ld, o, "release_date", where, false);
    m->sampling_source = get_str(ld, o, "sampling_source", where, false);
    m->shape_source = get_str(ld, o, "shape_source", where, false);
    json_t *smp = json_object_get(o, "sampling");
    if (json_is_object(smp)) {
        m->sampling_thinking = get_str(ld, smp, "thinking", where, false);
        m->sampling_non_thinking = get_str(ld, smp, "non_thinking", where, false);
    }
    json_t *sup = json_object_get(o, "superseded_by");
    if (sup && !json_is_null(sup)) {
        if (!json_is_array(sup) || json_array_size(sup) > 4) {
            bad(ld, where, "superseded_by: expected a list of at most 4 model ids");
        } else {
            for (size_t k = 0; k < json_array_size(sup); k++) {
                json_t *v = json_array_get(sup, k);
                if (!json_is_string(v)) {
                    bad(ld, where, "superseded_by: expected model ids");
                    break;
                }
                m->superseded_by[m->n_superseded_by++] = json_string_value(v);
            }
        }
    }
    /* gemma4's per-layer attention facts (0 = absent) */
    m->swa_pattern = get_u32(ld, o, "swa_pattern", where);
    m->kv_shared_layers = get_u32(ld, o, "kv_shared_layers", where);
    m->head_dim_global = get_u32(ld, o, "head_dim_global", where);
    m->ffn_double_shared = get_bool(o, "ffn_double_shared");
    json_t *ple = json_object_get(o, "per_layer_embd");
    if (json_is_object(ple)) {
        m->ple_dim = get_u32(ld, ple, "dim", where);
        m->ple_vocab = get_u32(ld, ple, "vocab", where);
    }
    if (m->swa_pattern > 64 || m->kv_shared_layers > m->n_layers || m->head_dim_global > (1u << 16) ||
        m->ple_dim > (1u << 16) || m->ple_vocab > (1u << 24))
        bad(ld, where, "swa_pattern / kv_shared_layers / head_dim_global / per_layer_embd out of range");
    json_t *hy = json_object_get(o, "hybrid");
    if (json_is_object(hy)) {
        m->n_attn_layers = get_u32(ld, hy, "attn_layers", where);
        m->attn_interval = get_u32(ld, hy, "full_attention_interval", where);
        m->gdn_k_heads = get_u32(ld, hy, "gdn_k_heads", where);
        m->gdn_v_heads = get_u32(ld, hy, "gdn_v_heads", where);
        m->gdn_head_dim = get_u32(ld, hy, "gdn_head_dim", where);
        m->gdn_conv_kernel = get_u32(ld, hy, "conv_kernel", where);
        if (m->gdn_conv_kernel > 64) bad(ld, where, "hybrid: conv_kernel out of range (at most 64)");
        if (m->n_attn_layers > m->n_layers || m->attn_interval == 0 || m->attn_interval > 64 ||
            m->gdn_k_heads > 4096 || m->gdn_v_heads > 4096 || m->gdn_head_dim > 4096 ||
            (m->n_layers && m->n_attn_layers != m->n_layers / m->attn_interval))
            bad(ld, where, "hybrid: attn_layers must be n_layers / full_attention_interval, heads in range");
    }
}

static void load_score(loader *ld, xuan_score *s, json_t *o, size_t i) {
    char where[64];
    snprintf(where, sizeof where, "scores[%zu]", i);
    if (!json_is_object(o)) {
        bad(ld, where, "expected an object");
        return;
    }
    s->model = get_str(ld, o, "model", where, true);
    s->benchmark = get_str(ld, o, "benchmark", where, true);
    s->task = get_str(ld, o, "task", where, true);
    s->kind = get_str(ld, o, "kind", where, true);
    s->setting = get_str(ld, o, "setting", where, false);
    s->source = get_str(ld, o, "source", where, false);
    s->verification = get_str(ld, o, "verification", where, false);
    s->errata = get_str(ld, o, "errata", where, false);
    s->value = get_num(ld, o, "value", where, NAN);
    if (isnan(s->value)) bad(ld, where, "value: missing");
    s->published_value = get_num(ld, o, "published_value", where, NAN);
    s->base_model = get_bool(o, "base_model");
    s->disagrees = get_bool(o, "disagrees");
    if (s->kind && strcmp(s->kind, "official") && strcmp(s->kind, "third-party") &&
        strcmp(s->kind, "seed-estimate") && strcmp(s->kind, "measured"))
        bad(ld, where, "kind: expected official, third-party, seed-estimate or measured");
}

static int parse(xuan_catalog *cat, json_t *root, loader *ld) {
    json_t *models = json_object_get(root, "models");
    json_t *scores = json_object_get(root, "scores");
    json_t *errata = json_object_get(root, "errata");
    if (!json_is_object(root)) return bad(ld, "top level", "expected an object");
    if (!json_is_array(models) || json_array_size(models) == 0)
        return bad(ld, "models", "expected a non-empty array");
    if (!json_is_array(scores)) return bad(ld, "scores", "expected an array");
    cat->checked = json_is_string(json_object_get(root, "checked"))
                       ? json_string_value(json_object_get(root, "checked")) : NULL;
    cat->n_models = json_array_size(models);
    cat->n_scores = json_array_size(scores);
    cat->n_errata = json_is_array(errata) ? json_array_size(errata) : 0;
    cat->models = xuan_calloc(cat->n_models, sizeof *cat->models);
    cat->scores = xuan_calloc(cat->n_scores ? cat->n_scores : 1, sizeof *cat->scores);
    cat->errata = xuan_calloc(cat->n_errata ? cat->n_errata : 1, sizeof *cat->errata);
    if (!cat->models || !cat->scores || !cat->errata)
        return ld->rc = xuan_fail(ld->err, XUAN_ERR_NOMEM, "%s: out of memory", ld->origin);
    for (size_t i = 0; i < cat->n_models && !ld->rc; i++)
        load_model(ld, &cat->models[i], json_array_get(models, i), i);
    for (size_t i = 0; i < cat->n_models && !ld->rc; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cat->models[i].id, cat->models[j].id)) {
                char w[64];
                snprintf(w, sizeof w, "models[%zu].id", i);
                return bad(ld, w, "duplicate id");
            }
    for (size_t i = 0; i < cat->n_scores && !ld->rc; i++)
        load_score(ld, &cat->scores[i], json_array_get(scores, i), i);
    json_t *evt = json_object_get(root, "eval_tasks");
    if (evt && !json_is_object(evt)) return bad(ld, "eval_tasks", "expected an object");
    cat->n_eval_tasks = evt ? json_object_size(evt) : 0;
    cat->eval_tasks = xuan_calloc(cat->n_eval_tasks ? cat->n_eval_tasks : 1, sizeof *cat->eval_tasks);
    if (!cat->eval_tasks) return ld->rc = xuan_fail(ld->err, XUAN_ERR_NOMEM, "%s: out of memory", ld->origin);
    if (evt) {
        size_t k = 0;
        const char *key;
        json_t *v;
        void *it = json_object_iter(evt);
        for (; it && !ld->rc; it = json_object_iter_next(evt, it), k++) {
            key = json_object_iter_key(it);
            v = json_object_iter_value(it);
            char where[96];
            snprintf(where, sizeof where, "eval_tasks.%.60s", key);
            xuan_task t;
            if (!json_is_object(v)) return bad(ld, where, "expected an object");
            cat->eval_tasks[k].eval_task = key;
            cat->eval_tasks[k].benchmark = get_str(ld, v, "benchmark", where, true);
            cat->eval_tasks[k].task = get_str(ld, v, "task", where, true);
            if (!ld->rc && xuan_task_from_name(cat->eval_tasks[k].task, &t) != 0)
                return bad(ld, where, "task: expected general, math, code, med, it or zh");
        }
    }
    for (size_t i = 0; i < cat->n_errata && !ld->rc; i++) {
        json_t *e = json_array_get(errata, i);
        char where[64];
        snprintf(where, sizeof where, "errata[%zu]", i);
        if (!json_is_object(e)) return bad(ld, where, "expected an object");
        cat->errata[i].seed_name = get_str(ld, e, "seed_name", where, true);
        cat->errata[i].model = get_str(ld, e, "model", where, false);
        cat->errata[i].fact = get_str(ld, e, "fact", where, true);
        cat->errata[i].source = get_str(ld, e, "source", where, false);
    }
    return ld->rc;
}

int xuan_catalog_load(xuan_catalog *cat, const char *path, xuan_error *err) {
    *cat = (xuan_catalog){0};
    if (!path) {
        const char *env = getenv("XUAN_CATALOG");
        if (env && *env) path = env;
    }
    if (!path) return xuan_catalog_load_text(cat, xuan_pick_catalog_json, xuan_pick_catalog_json_len, NULL, err);
    char *text = NULL;
    size_t len = 0;
    int rc = xuan_read_file(path, 64u << 20, &text, &len, err);
    if (rc) {
        xuan_error_prefix(err, "catalog");
        return rc;
    }
    rc = xuan_catalog_load_text(cat, text, len, path, err);
    xuan_free(text);
    return rc;
}

int xuan_catalog_load_text(xuan_catalog *cat, const char *text, size_t len, const char *origin, xuan_error *err) {
    *cat = (xuan_catalog){0};
    loader ld = {.origin = origin ? origin : "embedded catalog", .err = err};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: not valid JSON at line %d: %s", ld.origin,
                         jerr.line, jerr.text);
    cat->json = root;
    cat->origin = origin ? "file" : "embedded";
    if (parse(cat, root, &ld) != 0) {
        xuan_catalog_free(cat);
        return ld.rc;
    }
    return 0;
}

void xuan_catalog_free(xuan_catalog *cat) {
    if (!cat) return;
    xuan_free(cat->models);
    xuan_free(cat->scores);
    xuan_free(cat->errata);
    xuan_free(cat->eval_tasks);
    if (cat->json) json_decref((json_t *)cat->json);
    *cat = (xuan_catalog){0};
}

const xuan_model_info *xuan_catalog_find(const xuan_catalog *cat, const char *id) {
    if (!id) return NULL;
    for (size_t i = 0; i < cat->n_models; i++)
        if (!strcasecmp(cat->models[i].id, id)) return &cat->models[i];
    return NULL;
}

const xuan_model_info *xuan_catalog_lookup(const xuan_catalog *cat, const char *id, xuan_error *err) {
    const xuan_model_info *m = xuan_catalog_find(cat, id);
    if (m) return m;
    /* The seed named models that do not exist ("Phi-3.5 14B"): say so. */
    for (size_t i = 0; id && i < cat->n_errata; i++) {
        const char *s = cat->errata[i].seed_name;
        char norm[128];
        size_t k = 0;
        for (const char *p = s; *p && k + 1 < sizeof norm; p++) {
            if (*p == '(') break;
            norm[k++] = (*p == ' ') ? '-' : (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        }
        while (k && norm[k - 1] == '-') k--;
        norm[k] = 0;
        if (!strcasecmp(norm, id) && !cat->errata[i].model) {
            xuan_fail(err, XUAN_ERR_NOTFOUND, "unknown model '%s': %s (SEED_ERRATA.md)", id,
                      cat->errata[i].fact);
            return NULL;
        }
    }
    const char **names = xuan_calloc(cat->n_models ? cat->n_models : 1, sizeof *names);
    const char *near = NULL;
    if (names) {
        for (size_t i = 0; i < cat->n_models; i++) names[i] = cat->models[i].id;
        near = xuan_closest(id ? id : "", names, cat->n_models);
    }
    if (near) xuan_fail(err, XUAN_ERR_NOTFOUND, "unknown model '%s'; did you mean '%s'? (xuan models lists them)", id ? id : "", near);
    else xuan_fail(err, XUAN_ERR_NOTFOUND, "unknown model '%s' (xuan models lists them)", id ? id : "");
    xuan_free(names);
    return NULL;
}

/* ---- measured results -------------------------------------------------------------- */

const xuan_eval_task_map *xuan_catalog_eval_task(const xuan_catalog *cat, const char *eval_task) {
    for (size_t i = 0; eval_task && i < cat->n_eval_tasks; i++)
        if (!strcmp(cat->eval_tasks[i].eval_task, eval_task)) return &cat->eval_tasks[i];
    return NULL;
}

int xuan_catalog_add_measured(xuan_catalog *cat, const xuan_measured *m, xuan_error *err) {
    xuan_task t;
    const xuan_model_info *mi = m->model ? xuan_catalog_find(cat, m->model) : NULL;
    if (!mi) return xuan_fail(err, XUAN_ERR_USAGE, "measured result: unknown model '%s'", m->model ? m->model : "");
    if (!m->task || xuan_task_from_name(m->task, &t) != 0)
        return xuan_fail(err, XUAN_ERR_USAGE, "measured result: unknown task '%s'", m->task ? m->task : "");
    if (!m->benchmark || !*m->benchmark || (unsigned)m->quant >= XUAN_QUANT_COUNT)
        return xuan_fail(err, XUAN_ERR_USAGE, "measured result for %s: no benchmark or quant", mi->id);
    if (!(m->value >= 0 && m->value <= 100))
        return xuan_fail(err, XUAN_ERR_USAGE, "measured result for %s %s: %g is not a percentage", mi->id,
                         m->benchmark, m->value);
    xuan_score probe = {.source = m->source};
    if (!xuan_score_has_source(&probe))
        return xuan_fail(err, XUAN_ERR_USAGE, "measured result for %s %s: no source", mi->id, m->benchmark);
    /* The strings live in the catalog's JSON tree, which owns every other
     * string of the catalog too. */
    json_t *root = cat->json, *list = root ? json_object_get(root, "measured_here") : NULL;
    if (root && !list && json_object_set_new(root, "measured_here", json_array()) == 0)
        list = json_object_get(root, "measured_here");
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "model", mi->id, "benchmark", m->benchmark, "task",
                          xuan_task_name(t), "quant", xuan_quant_name(m->quant), "source", m->source, "setting",
                          m->setting);
    xuan_score *grown = o && list ? xuan_realloc(cat->scores, (cat->n_scores + 1) * sizeof *cat->scores) : NULL;
    if (!grown || json_array_append_new(list, o) != 0) {
        if (!grown) json_decref(o);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
    }
    cat->scores = grown;
    cat->scores[cat->n_scores++] = (xuan_score){
        .model = json_string_value(json_object_get(o, "model")),
        .benchmark = json_string_value(json_object_get(o, "benchmark")),
        .task = json_string_value(json_object_get(o, "task")),
        .kind = "measured",
        .setting = json_string_value(json_object_get(o, "setting")),
        .source = json_string_value(json_object_get(o, "source")),
        .quant = json_string_value(json_object_get(o, "quant")),
        .value = m->value,
        .published_value = NAN,
        .measured_seq = (uint32_t)++cat->n_measured,
    };
    return 0;
}

/* name lower-cased, without folders, ".gguf", the quant word and the
 * separator before it: "Qwen2.5-7B-Instruct-Q4_K_M.gguf" -> "qwen2.5-7b-instruct". */
static void file_stem(const char *name, char *out, size_t n, int *quant) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    snprintf(out, n, "%s", base);
    for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
    size_t len = strlen(out);
    if (len > 5 && !strcmp(out + len - 5, ".gguf")) out[len -= 5] = 0;
    *quant = -1;
    /* the longest quant name that is a word of its own: Q4_K_M before Q4_0 */
    size_t best_at = 0, best_len = 0;
    for (int q = 0; q < XUAN_QUANT_COUNT; q++) {
        char qn[16];
        snprintf(qn, sizeof qn, "%s", xuan_quant_name((xuan_quant)q));
        for (char *p = qn; *p; p++) *p = (char)tolower((unsigned char)*p);
        size_t ql = strlen(qn);
        for (const char *p = strstr(out, qn); p; p = strstr(p + 1, qn)) {
            size_t at = (size_t)(p - out);
            bool left = at == 0 || !isalnum((unsigned char)out[at - 1]);
            bool right = !isalnum((unsigned char)p[ql]) && p[ql] != '_';
            if (left && right && ql > best_len) best_at = at, best_len = ql, *quant = q;
        }
    }
    if (best_len) {
        memmove(out + best_at, out + best_at + best_len, strlen(out + best_at + best_len) + 1);
        while (best_at > 0 && strchr("-_.: @", out[best_at - 1])) {
            memmove(out + best_at - 1, out + best_at, strlen(out + best_at) + 1);
            best_at--;
        }
    }
    len = strlen(out);
    while (len && strchr("-_.: @", out[len - 1])) out[--len] = 0;
}

static bool stem_is(const char *stem, const char *s, bool last_part) {
    if (!s) return false;
    if (last_part) {
        const char *slash = strrchr(s, '/');
        s = slash ? slash + 1 : s;
    }
    char buf[256];
    int q;
    file_stem(s, buf, sizeof buf, &q);
    size_t n = strlen(buf);
    if (n > 5 && !strcmp(buf + n - 5, "-gguf")) buf[n - 5] = 0;
    return buf[0] && !strcmp(stem, buf);
}

const xuan_model_info *xuan_catalog_match_file(const xuan_catalog *cat, const char *name,
                                               const char *quant_hint, xuan_quant *quant) {
    if (!name || !*name) return NULL;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    for (size_t i = 0; i < cat->n_models; i++)
        for (int q = 0; q < XUAN_QUANT_COUNT; q++)
            if (cat->models[i].gguf_file[q] && !strcasecmp(cat->models[i].gguf_file[q], base)) {
                *quant = (xuan_quant)q;
                return &cat->models[i];
            }
    char stem[256];
    int q = -1;
    file_stem(name, stem, sizeof stem, &q);
    xuan_quant hinted;
    if (q < 0 && quant_hint && xuan_quant_from_name(quant_hint, &hinted) == 0) q = (int)hinted;
    if (q < 0 || !stem[0]) return NULL;
    const xuan_model_info *found = NULL;
    for (size_t i = 0; i < cat->n_models && !found; i++)
        if (stem_is(stem, cat->models[i].id, false)) found = &cat->models[i];
    for (size_t i = 0; i < cat->n_models && !found; i++)
        if (stem_is(stem, cat->models[i].hf_repo, true) || stem_is(stem, cat->models[i].gguf_repo, true))
            found = &cat->models[i];
    if (found) *quant = (xuan_quant)q;
    return found;
}
