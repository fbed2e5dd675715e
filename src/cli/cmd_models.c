/*
 * xuan models — the catalog: every model with its facts, its published GGUF
 * and how many results back it; filters and --json.
 */
#include "cli.h"
#include "xuan/gguf.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan models [options]\n"
            "  --lang zh         native Chinese support only\n"
            "  --license LIST    open, restricted, apache-2.0, mit, ...\n"
            "  --max-params N    at most N billion parameters\n"
            "  --task NAME       only models with a published result for the task (math, code, med, general, zh)\n"
            "  --all             include reference rows (proprietary, >14B)\n"
            "  --json            machine-readable, every field\n"
            "  --catalog FILE    another catalog file (or XUAN_CATALOG)\n");
}

static int n_results(const xuan_catalog *cat, const char *id, const char *task) {
    int n = 0;
    for (size_t i = 0; i < cat->n_scores; i++)
        if (!strcasecmp(cat->scores[i].model, id) && (!task || !strcmp(cat->scores[i].task, task))) n++;
    return n;
}

static bool license_ok(const xuan_model_info *m, const char *list) {
    if (!list) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if ((m->license_class && !strcasecmp(t, m->license_class)) || (m->license_short && !strcasecmp(t, m->license_short)))
            return true;
    return false;
}

int cmd_models(int argc, char **argv) {
    enum { O_LANG = 256, O_LICENSE, O_MAXP, O_TASK, O_ALL, O_JSON, O_CATALOG };
    static const struct option opts[] = {
        {"lang", required_argument, 0, O_LANG}, {"license", required_argument, 0, O_LICENSE},
        {"max-params", required_argument, 0, O_MAXP}, {"task", required_argument, 0, O_TASK},
        {"all", no_argument, 0, O_ALL}, {"json", no_argument, 0, O_JSON},
        {"catalog", required_argument, 0, O_CATALOG}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool zh = false, all = false, json = false;
    const char *license = NULL, *catalog = NULL, *task = NULL;
    double maxp = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case O_LANG:
            if (strcasecmp(optarg, "zh") && strcasecmp(optarg, "en"))
                return cli_usage_error("models", "--lang expects zh or en, got '%s'", optarg);
            zh = !strcasecmp(optarg, "zh");
            break;
        case O_LICENSE: license = optarg; break;
        case O_MAXP:
            if (cli_double_arg("models", "--max-params (billions)", optarg, 0.01, 10000, &maxp)) return XUAN_EXIT_USAGE;
            break;
        case O_TASK: {
            xuan_task t;
            if (xuan_task_from_name(optarg, &t) != 0) {
                const char *names[] = {"general", "math", "code", "med", "it", "zh"};
                const char *near = xuan_closest(optarg, names, 6);
                return cli_usage_error("models", "unknown task '%s'%s%s%s", optarg, near ? "; did you mean '" : "",
                                       near ? near : "", near ? "'?" : "");
            }
            task = xuan_task_name(t);
            break;
        }
        case O_ALL: all = true; break;
        case O_JSON: json = true; break;
        case O_CATALOG: catalog = optarg; break;
        default: return cli_usage_error("models", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
    xuan_catalog cat;
    xuan_error err = {0};
    if (xuan_catalog_load(&cat, catalog, &err) != 0) return cli_error("%s", err.msg);
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("%-31s %7s %-10s %-9s %7s %-9s %-13s %-4s %s\n", "model", "params", "arch", "runs in", "context",
               "Chinese", "license", "GGUF", "results");
    int shown = 0;
    for (size_t i = 0; i < cat.n_models; i++) {
        const xuan_model_info *m = &cat.models[i];
        if (!all && !m->in_scope) continue;
        if (zh && (!m->chinese || strcmp(m->chinese, "native"))) continue;
        if (!license_ok(m, license)) continue;
        if (maxp > 0 && !(m->params_b > 0 && m->params_b <= maxp)) continue;
        if (task && !n_results(&cat, m->id, task)) continue;
        shown++;
        if (json) {
            json_t *o = json_pack("{s:s, s:s?, s:f, s:f, s:s?, s:i, s:i, s:s?, s:s?, s:s?, s:s?, s:b, s:s?, s:i}",
                                  "id", m->id, "family", m->family, "params_b", m->params_b, "params_active_b",
                                  m->params_active_b, "arch", m->arch, "context_native", (int)m->ctx_native,
                                  "n_layers", (int)m->n_layers, "chinese", m->chinese, "license", m->license,
                                  "license_class", m->license_class, "hf_repo", m->hf_repo, "runnable", m->runnable,
                                  "scope", m->scope, "n_results", n_results(&cat, m->id, NULL));
            json_t *files = json_object();
            for (int q = 0; q < XUAN_QUANT_COUNT; q++)
                if (m->gguf_file[q])
                    json_object_set_new(files, xuan_quant_name((xuan_quant)q),
                                        json_pack("{s:s, s:I, s:b}", "file", m->gguf_file[q], "size_bytes",
                                                  (json_int_t)m->gguf_size[q], "size_exact", m->gguf_size_exact[q]));
            json_object_set_new(o, "runs_in", m->runnable ? json_string(xuan_pick_engine_runs(m->arch) ? "xuan" : "llama.cpp")
                                                          : json_null());
            if (m->gguf_repo) json_object_set_new(o, "gguf_repo", json_string(m->gguf_repo));
            json_object_set_new(o, "gguf_files", files);
            if (m->thinking) json_object_set_new(o, "thinking", json_string(m->thinking));
            json_t *sup = json_array();
            for (int k = 0; k < m->n_superseded_by; k++) json_array_append_new(sup, json_string(m->superseded_by[k]));
            json_object_set_new(o, "superseded_by", sup);
            /* Where every number above comes from: the model's sources, and
             * each score with its own. */
            json_t *src = json_array(), *mj = json_array_get(json_object_get((json_t *)cat.json, "models"), i);
            json_t *ms = json_object_get(mj, "sources");
            size_t k;
            json_t *v;
            if (json_is_array(ms)) json_array_foreach(ms, k, v) if (json_is_string(v)) json_array_append(src, v);
            if (m->shape_source) json_array_append_new(src, json_string(m->shape_source));
            json_object_set_new(o, "sources", src);
            /* the GGUF names and sizes, and the facts checked field by field */
            json_t *gn = json_object_get(json_object_get(mj, "gguf"), "note");
            if (json_is_string(gn)) json_object_set(o, "gguf_source", gn);
            json_t *vf = json_object_get(mj, "verified_fields");
            if (json_is_array(vf) && json_array_size(vf)) json_object_set(o, "verified_fields", vf);
            json_object_set_new(o, "added_2025_2026", json_boolean(json_is_true(json_object_get(mj, "addition"))));
            json_t *sc = json_array();
            for (size_t j = 0; j < cat.n_scores; j++) {
                const xuan_score *r = &cat.scores[j];
                if (strcasecmp(r->model, m->id)) continue;
                json_array_append_new(sc, json_pack("{s:s, s:f, s:s, s:s, s:s?, s:s?}", "benchmark", r->benchmark,
                                                    "value", r->value, "kind", r->kind, "task", r->task,
                                                    "setting", r->setting, "source", r->source));
            }
            json_object_set_new(o, "scores", sc);
            json_array_append_new(arr, o);
            continue;
        }
        char params[16], ctx[16];
        if (m->params_b > 0) snprintf(params, sizeof params, "%.2gB", m->params_b);
        else snprintf(params, sizeof params, "?");
        if (m->params_b >= 10) snprintf(params, sizeof params, "%.1fB", m->params_b);
        if (m->ctx_native) snprintf(ctx, sizeof ctx, "%uK", m->ctx_native / 1024);
        else snprintf(ctx, sizeof ctx, "-");
        int nq = 0;
        for (int q = 0; q < XUAN_QUANT_COUNT; q++) nq += m->gguf_file[q] != NULL;
        printf("%-31s %7s %-10.10s %-9s %7s %-9s %-13s %-4s %d%s\n", m->id, params, m->arch ? m->arch : "-",
               !m->runnable ? "-" : xuan_pick_engine_runs(m->arch) ? "xuan" : "llama.cpp", ctx,
               m->chinese ? m->chinese : "?", m->license_short ? m->license_short : "?",
               m->gguf_repo ? (nq ? "yes" : "repo") : "-", n_results(&cat, m->id, NULL),
               m->in_scope ? "" : m->runnable ? "  (outside <=14B)" : "  (reference)");
        for (int k = 0; k < m->n_superseded_by; k++)
            printf("%s%s%s", k ? ", " : "    superseded by ", m->superseded_by[k], k + 1 == m->n_superseded_by ? "\n" : "");
    }
    if (json) {
        char *text = json_dumps(arr, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
        json_decref(arr);
        if (text) puts(text);
        free(text);
    } else {
        printf("\n%d models. runs in: xuan = xuan's own engine runs the architecture (%s);\n"
               "llama.cpp = not in xuan's engine yet. GGUF: yes = repository and files recorded (xuan pull works),\n"
               "repo = repository only. Catalog checked %s.\n"
               "Details and sources: xuan pick --explain MODEL\n", shown, xuan_arch_runnable_list(),
               cat.checked ? cat.checked : "(no date)");
    }
    xuan_catalog_free(&cat);
    return 0;
}
