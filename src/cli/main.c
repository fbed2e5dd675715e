/* xuan — run, measure and choose open LLMs on your own machine.
 * The program's front door: finds the verb and hands over argv. */
#include "cli.h"

#include <string.h>

typedef struct verb {
    const char *name;
    xuan_cmd_fn fn;
    const char *summary;
} verb;

static const verb VERBS[] = {
    {"pick", cmd_pick, "recommend the best model for your tasks on this hardware"},
    {"models", cmd_models, "list the model catalog with facts and published scores"},
    {"pull", cmd_pull, "download a model's GGUF (resumable, verified)"},
    {"data", cmd_data, "download benchmark sets, pinned by revision and sha256 (data pull)"},
    {"run", cmd_run, "generate text from a prompt with a local GGUF model"},
    {"chat", cmd_chat, "talk with a local model, multi-turn, with line editing"},
    {"serve", cmd_serve, "an OpenAI-compatible HTTP server with continuous batching"},
    {"bench", cmd_bench, "measure prompt and generation speed like llama-bench"},
    {"eval", cmd_eval, "measure a model on benchmark tasks (results in SQLite); eval score rescores outputs"},
    {"report", cmd_report, "show stored eval runs side by side, or one run in detail"},
    {"inspect", cmd_inspect, "summarise a GGUF file: shape, tokenizer, types, memory"},
    {"template", cmd_template, "print the exact prompt a chat template renders for a conversation"},
    {"tokenize", cmd_tokenize, "turn text into token ids with a model's tokenizer"},
    {"quantize", cmd_quantize, "convert a GGUF to Q4_K_M, Q8_0, ... like llama-quantize"},
    {"synth", cmd_synth, "write a synthetic GGUF of a real model's shape (tests, benchmarks)"},
    {"sandbox", cmd_sandbox, "run Python programs in the sandbox for generated code"},
};
enum { N_VERBS = sizeof VERBS / sizeof VERBS[0] };

static void print_help(FILE *f) {
    fprintf(f,
            "xuan %s — run, measure and choose open LLMs on your own machine\n\n"
            "usage: xuan <verb> [options]      xuan <verb> --help for a verb's options\n\n"
            "verbs:\n",
            xuan_version());
    for (int i = 0; i < N_VERBS; i++) fprintf(f, "  %-10s %s\n", VERBS[i].name, VERBS[i].summary);
    fprintf(f, "\n  help       this text        --version  version, commit, SIMD level, build\n"
               "\nexit codes: 0 ok, 1 runtime error, 2 usage error\n");
}

static void print_version(void) {
    const xuan_cpu *cpu = xuan_cpu_get();
    printf("xuan %s (commit %s, %s build, SIMD %s", xuan_version(), xuan_git_hash(),
           xuan_build_type(), xuan_simd_name(cpu->simd));
    if (cpu->simd != cpu->native) printf(", CPU supports %s", xuan_simd_name(cpu->native));
    printf(")\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return XUAN_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char *sub[] = {argv[2], "--help", NULL};
            for (int i = 0; i < N_VERBS; i++)
                if (!strcmp(VERBS[i].name, argv[2])) return VERBS[i].fn(2, sub);
        }
        print_help(stdout);
        return XUAN_EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        print_version();
        return XUAN_EXIT_OK;
    }
    for (int i = 0; i < N_VERBS; i++)
        if (!strcmp(VERBS[i].name, name)) return VERBS[i].fn(argc - 1, argv + 1);

    const char *names[N_VERBS];
    for (int i = 0; i < N_VERBS; i++) names[i] = VERBS[i].name;
    const char *near = xuan_closest(name, names, N_VERBS);
    if (near) fprintf(stderr, "xuan: unknown verb '%s'; did you mean '%s'? (see 'xuan help')\n", name, near);
    else fprintf(stderr, "xuan: unknown verb '%s' (see 'xuan help')\n", name);
    return XUAN_EXIT_USAGE;
}
