/* xuan synth — write a synthetic GGUF of a real model's shape. */
#include "cli.h"
#include "xuan/model.h"
#include "xuan/quant.h"

#include <getopt.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: xuan synth --preset NAME -o OUT.gguf [options]\n\n"
            "Writes a model with llama.cpp's tensor names and metadata, a real shape and random\n"
            "weights (deterministic in --seed). For tests and benchmarks: speed does not depend\n"
            "on weight values.\n\n"
            "  --preset NAME      shape: ");
    for (const char *const *n = xuan_synth_preset_names(); *n; n++) fprintf(f, "%s%s", *n, n[1] ? ", " : "\n");
    fprintf(f,
            "  -o, --out FILE     output file (refuses to overwrite unless --force)\n"
            "  --type T           2D weights: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K\n"
            "                     Q5_K Q6_K IQ4_NL IQ4_XS (default F16); rows that do not fit a\n"
            "                     block fall back as llama-quantize does (Q4_K -> Q5_0, ...)\n"
            "  --ftype NAME       type every tensor as llama-quantize's file type NAME does\n"
            "                     (%s); overrides --type\n"
            "  --embd-type T      token_embd.weight (default: --type)\n"
            "  --output-type T    output.weight (default: --type)\n"
            "  --vocab-from FILE  copy the tokenizer from this GGUF (default: built-in byte vocab)\n"
            "  --arch A --layers N --dim N --ffn N --heads N --kv-heads N --head-dim N\n"
            "  --vocab N --ctx N --rope-base X --eps X --tied yes|no    override the preset\n"
            "  --sparse           leave tensor data as holes: a header-exact file of any size,\n"
            "                     written instantly, for size and memory checks (not runnable)\n"
            "  --seed N           random seed (default 1234)\n"
            "  --name S           general.name\n"
            "  --force            overwrite OUT\n", xuan_quant_mix_names());
}

static int type_arg(const char *flag, const char *v, uint32_t *out) {
    xuan_type t;
    if (xuan_type_from_name(v, &t) == 0) {
        *out = t;
        return 0;
    }
    return cli_usage_error("synth", "%s: unknown type '%s'", flag, v);
}

int cmd_synth(int argc, char **argv) {
    enum { O_PRESET = 256, O_TYPE, O_EMBD, O_OUTT, O_VOCAB, O_ARCH, O_LAYERS, O_DIM, O_FFN, O_HEADS,
           O_KV, O_HD, O_NVOCAB, O_CTX, O_ROPE, O_EPS, O_TIED, O_SEED, O_NAME, O_FTYPE, O_SPARSE, O_FORCE };
    static const struct option opts[] = {
        {"preset", 1, 0, O_PRESET}, {"out", 1, 0, 'o'}, {"type", 1, 0, O_TYPE},
        {"embd-type", 1, 0, O_EMBD}, {"output-type", 1, 0, O_OUTT}, {"vocab-from", 1, 0, O_VOCAB},
        {"arch", 1, 0, O_ARCH}, {"layers", 1, 0, O_LAYERS}, {"dim", 1, 0, O_DIM}, {"ffn", 1, 0, O_FFN},
        {"heads", 1, 0, O_HEADS}, {"kv-heads", 1, 0, O_KV}, {"head-dim", 1, 0, O_HD},
        {"vocab", 1, 0, O_NVOCAB}, {"ctx", 1, 0, O_CTX}, {"rope-base", 1, 0, O_ROPE},
        {"eps", 1, 0, O_EPS}, {"tied", 1, 0, O_TIED}, {"seed", 1, 0, O_SEED}, {"name", 1, 0, O_NAME},
        {"ftype", 1, 0, O_FTYPE}, {"sparse", 0, 0, O_SPARSE}, {"force", 0, 0, O_FORCE}, {"help", 0, 0, 'h'}, {"verbose", 0, 0, 'v'}, {"quiet", 0, 0, 'q'},
        {0, 0, 0, 0}};
    const char *preset = NULL, *out = NULL;
    /* Overrides are collected first and applied on top of the preset. */
    struct { int set; int64_t v; } ov[O_FORCE + 1];
    memset(ov, 0, sizeof ov);
    double rope = 0, eps = 0;
    uint32_t type = 0, embd = 0, outt = 0;
    int have_type = 0, have_embd = 0, have_outt = 0, force = 0, verbose = 0, quiet = 0;
    const char *vocab = NULL, *arch = NULL, *name = NULL, *tied = NULL, *ftype = NULL;
    int sparse = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:hvq", opts, NULL)) != -1) {
        int64_t v;
        switch (c) {
        case O_PRESET: preset = optarg; break;
        case 'o': out = optarg; break;
        case O_TYPE: if (type_arg("--type", optarg, &type)) return XUAN_EXIT_USAGE; have_type = 1; break;
        case O_EMBD: if (type_arg("--embd-type", optarg, &embd)) return XUAN_EXIT_USAGE; have_embd = 1; break;
        case O_OUTT: if (type_arg("--output-type", optarg, &outt)) return XUAN_EXIT_USAGE; have_outt = 1; break;
        case O_VOCAB: vocab = optarg; break;
        case O_ARCH: arch = optarg; break;
        case O_NAME: name = optarg; break;
        case O_TIED:
            if (strcmp(optarg, "yes") && strcmp(optarg, "no"))
                return cli_usage_error("synth", "--tied expects yes or no, got '%s'", optarg);
            tied = optarg;
            break;
        case O_ROPE: if (cli_double_arg("synth", "--rope-base", optarg, 1, 1e12, &rope)) return XUAN_EXIT_USAGE; break;
        case O_EPS: if (cli_double_arg("synth", "--eps", optarg, 1e-12, 1, &eps)) return XUAN_EXIT_USAGE; break;
        case O_SEED: if (cli_int_arg("synth", "--seed", optarg, 0, INT64_MAX, &v)) return XUAN_EXIT_USAGE; ov[c].set = 1, ov[c].v = v; break;
        case O_LAYERS: case O_DIM: case O_FFN: case O_HEADS: case O_KV: case O_HD: case O_NVOCAB: case O_CTX:
            if (cli_int_arg("synth", argv[optind - 2][0] == '-' ? argv[optind - 2] : "option", optarg, 1,
                            c == O_CTX ? 1 << 24 : c == O_NVOCAB ? 1 << 22 : 1 << 18, &v))
                return XUAN_EXIT_USAGE;
            ov[c].set = 1, ov[c].v = v;
            break;
        case O_FTYPE: ftype = optarg; break;
        case O_SPARSE: sparse = 1; break;
        case O_FORCE: force = 1; break;
        case 'v': verbose++; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: return cli_usage_error("synth", "unknown option");
        }
    }
    cli_verbosity(verbose, quiet);
    if (optind < argc) return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
    if (!preset) return cli_usage_error("synth", "--preset is required");
    if (!out) return cli_usage_error("synth", "-o/--out is required");
    xuan_synth_params p;
    if (xuan_synth_preset(preset, &p)) {
        const char *const *names = xuan_synth_preset_names();
        size_t n = 0;
        while (names[n]) n++;
        const char *near = xuan_closest(preset, names, n);
        return cli_usage_error("synth", "unknown preset '%s'%s%s%s", preset, near ? "; did you mean '" : "",
                               near ? near : "", near ? "'?" : "");
    }
    if (have_type) p.type = p.embd_type = p.output_type = type;
    if (have_embd) p.embd_type = embd;
    if (have_outt) p.output_type = outt;
    if (arch) {
        const xuan_arch_info *ai = xuan_arch_find(arch, strlen(arch));
        snprintf(p.arch, sizeof p.arch, "%s", arch);
        p.qkv_bias = ai && ai->qkv_bias == XUAN_REQUIRED;
    }
    if (ov[O_LAYERS].set) p.n_layers = (uint32_t)ov[O_LAYERS].v;
    if (ov[O_DIM].set) p.d_model = (uint32_t)ov[O_DIM].v;
    if (ov[O_FFN].set) p.d_ffn = (uint32_t)ov[O_FFN].v;
    if (ov[O_HEADS].set) p.n_heads = (uint32_t)ov[O_HEADS].v;
    if (ov[O_KV].set) p.n_kv_heads = (uint32_t)ov[O_KV].v;
    if (ov[O_HD].set) p.head_dim = (uint32_t)ov[O_HD].v;
    else if (ov[O_DIM].set || ov[O_HEADS].set) p.head_dim = p.n_heads ? p.d_model / p.n_heads : 0;
    if (ov[O_NVOCAB].set) p.n_vocab = (uint32_t)ov[O_NVOCAB].v;
    if (ov[O_CTX].set) p.n_ctx = (uint32_t)ov[O_CTX].v;
    if (ov[O_SEED].set) p.seed = (uint64_t)ov[O_SEED].v;
    if (rope > 0) p.rope_base = (float)rope;
    if (eps > 0) p.norm_eps = (float)eps;
    if (tied) p.tied = !strcmp(tied, "yes");
    p.vocab_from = vocab;
    p.mix = ftype;
    p.sparse = sparse;
    p.name = name;
    if (!force && xuan_file_exists(out))
        return cli_error("%s already exists; pass --force to overwrite it", out);
    xuan_error err = {0};
    double t0 = xuan_time_s();
    if (xuan_synth_write(&p, out, &err)) {
        fprintf(stderr, "xuan synth: %s\n", err.msg);
        return cli_exit_for(&err);
    }
    if (!quiet) {
        xuan_gguf *g = xuan_gguf_open(out, &err);
        char size[32];
        if (g) {
            fprintf(stderr, "wrote %s: %s %s, %llu tensors, %s in %.1f s\n", out, p.arch,
                    p.preset, (unsigned long long)xuan_gguf_n_tensors(g),
                    xuan_fmt_bytes(xuan_gguf_file_size(g), size, sizeof size), xuan_time_s() - t0);
            xuan_gguf_close(g);
        } else {
            return cli_error("wrote %s but cannot read it back: %s", out, err.msg);
        }
    }
    return XUAN_EXIT_OK;
}
