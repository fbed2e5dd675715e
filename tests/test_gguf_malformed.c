/*
 * Hostile GGUF files: every case is a small file built here byte by byte,
 * and xuan_gguf_open must refuse it with the right status and a one-line
 * message that names the file and the problem.  Sections:
 *   1. byte builder  — little-endian encoding into a growable buffer
 *   2. valid files   — the well-formed base the truncation cases cut from
 *   3. the cases     — table (name, status, words the message must hold)
 *                      and the switch that builds each one
 *   4. split models and other multi-file cases
 *   5. checks        — each case by path and in memory, under a small
 *                      allocation cap, and under allocation-failure injection
 *   6. main          — also `--write-corpus DIR` (the files for
 *                      tests/cli_gguf_malformed.sh) and `--write-seeds DIR`
 *                      (regenerates fuzz/corpus/gguf)
 *
 * The builder uses libc malloc on purpose: only the reader's own memory goes
 * through xuan_malloc, so the cap and the failure injection measure the
 * reader alone.
 */
#include "harness.h"
#include "xuan/gguf.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== 1. byte builder ==================================================== */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        XUAN_ASSERT(q);
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put_u8(bytes *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(bytes *b, uint16_t v) { put(b, &v, 2); }
static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }
static void put_f32(bytes *b, float v) { put(b, &v, 4); }
static void put_strn(bytes *b, const char *s, uint64_t n) {
    put_u64(b, n);
    put(b, s, (size_t)n);
}
static void put_str(bytes *b, const char *s) { put_strn(b, s, strlen(s)); }
static void zeros(bytes *b, size_t n) {
    for (size_t i = 0; i < n; i++) put_u8(b, 0);
}
static void pad(bytes *b, size_t align) {
    while (b->n % align) put_u8(b, 0);
}
static void pattern(bytes *b, size_t n) {
    for (size_t i = 0; i < n; i++) put_u8(b, (uint8_t)(i * 7 + 1));
}

static void header(bytes *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    put(b, "GGUF", 4);
    put_u32(b, version);
    put_u64(b, n_tensors);
    put_u64(b, n_kv);
}
static void kv_head(bytes *b, const char *key, uint32_t type) {
    put_str(b, key);
    put_u32(b, type);
}
static void kv_str(bytes *b, const char *key, const char *v) {
    kv_head(b, key, XUAN_GGUF_STRING);
    put_str(b, v);
}
static void kv_u32(bytes *b, const char *key, uint32_t v) {
    kv_head(b, key, XUAN_GGUF_UINT32);
    put_u32(b, v);
}
/* A tensor info with n_dims dims taken from ne. */
static void tinfo(bytes *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                  uint64_t offset) {
    put_str(b, name);
    put_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) put_u64(b, ne[i]);
    put_u32(b, type);
    put_u64(b, offset);
}

/* ==== 2. valid files ====================================================== */

/* Offsets inside the base file, recorded while it is built, so that the
 * truncation cases cut exactly inside the field they name. */
typedef struct marks {
    size_t t2_name, t2_ndims, t2_dims, t2_type, t2_offset; /* second tensor info */
    size_t info_end, data_start, t2_data, end;
} marks;

/* The base: v3, eight keys of assorted types (string array, nested array,
 * float array), two tensors (F32 8x2 = 64 bytes, Q8_0 32x2 = 68 bytes). */
static void base_file(bytes *b, marks *m, uint32_t version) {
    marks dummy;
    if (!m) m = &dummy;
    header(b, version, 2, 8);
    kv_str(b, "general.architecture", "llama");
    kv_u32(b, "general.alignment", 32);
    kv_str(b, "general.name", "malformed-test-base");
    kv_head(b, "test.u8", XUAN_GGUF_UINT8);
    put_u8(b, 7);
    kv_head(b, "test.i64", XUAN_GGUF_INT64);
    put_u64(b, (uint64_t)-5);
    kv_head(b, "tokenizer.ggml.tokens", XUAN_GGUF_ARRAY);
    put_u32(b, XUAN_GGUF_STRING);
    put_u64(b, 3);
    put_str(b, "a");
    put_str(b, "bc");
    put_str(b, "");
    kv_head(b, "test.nested", XUAN_GGUF_ARRAY); /* [[1, 2], [3]] */
    put_u32(b, XUAN_GGUF_ARRAY);
    put_u64(b, 2);
    put_u32(b, XUAN_GGUF_UINT32);
    put_u64(b, 2);
    put_u32(b, 1);
    put_u32(b, 2);
    put_u32(b, XUAN_GGUF_UINT32);
    put_u64(b, 1);
    put_u32(b, 3);
    kv_head(b, "tokenizer.ggml.scores", XUAN_GGUF_ARRAY);
    put_u32(b, XUAN_GGUF_FLOAT32);
    put_u64(b, 3);
    put_f32(b, 0.5f);
    put_f32(b, -1.0f);
    put_f32(b, 2.0f);
    uint64_t ne1[2] = {8, 2}, ne2[2] = {32, 2};
    tinfo(b, "token_embd.weight", 2, ne1, XUAN_TYPE_F32, 0);
    m->t2_name = b->n;
    m->t2_ndims = m->t2_name + 8 + strlen("blk.0.attn_q.weight");
    m->t2_dims = m->t2_ndims + 4;
    m->t2_type = m->t2_dims + 16;
    m->t2_offset = m->t2_type + 4;
    tinfo(b, "blk.0.attn_q.weight", 2, ne2, XUAN_TYPE_Q8_0, 64);
    m->info_end = b->n;
    pad(b, 32);
    m->data_start = b->n;
    pattern(b, 64);
    m->t2_data = b->n;
    pattern(b, 68);
    m->end = b->n;
}

/* A file with no tensors whose second key is written by the caller after a
 * 48-byte filler string, so that the key counts pass their plausibility
 * bound and a cut lands in the field under test. */
static void kv_file_begin(bytes *b, uint64_t n_kv) {
    header(b, 3, 0, n_kv);
    kv_str(b, "general.name", "filler-filler-filler-filler-filler-filler-fill48");
}

/* A file with one metadata key and the given tensor infos; `data` bytes of
 * tensor data follow the padding. */
typedef struct tspec {
    const char *name;
    uint32_t n_dims;
    uint64_t ne[5];
    uint32_t type;
    uint64_t offset;
} tspec;

static void tensor_file(bytes *b, const tspec *t, int n, size_t data) {
    header(b, 3, (uint64_t)n, 1);
    kv_str(b, "general.architecture", "llama");
    for (int i = 0; i < n; i++) tinfo(b, t[i].name, t[i].n_dims, t[i].ne, t[i].type, t[i].offset);
    pad(b, 32);
    pattern(b, data);
}

/* ==== 3. the cases ========================================================= */

enum {
    F_FILE_ONLY = 1, /* depends on the path or on split keys: not checked in memory */
    F_NO_CLI = 2,    /* not written to the CLI corpus (not exit 1 by design) */
    F_SPECIAL = 4,   /* made by make_special (several files, directories) */
};

typedef struct mcase {
    const char *name; /* file stem in the corpus; the message must name the file */
    xuan_status status;
    const char *expect; /* distinctive words the message must contain */
    int flags;
} mcase;

#define FMT XUAN_ERR_FORMAT
#define UNS XUAN_ERR_UNSUPPORTED
enum {
    /* truncated, section by section */
    C_EMPTY, C_MAGIC_2, C_VERSION_CUT, C_NTENSORS_CUT, C_NKV_CUT, C_HEADER_ONLY,
    C_KEYLEN_CUT, C_KEY_CUT, C_VTYPE_CUT, C_SCALAR_CUT, C_STRLEN_CUT, C_STR_CUT,
    C_ARR_TYPE_CUT, C_ARR_LEN_CUT, C_ARR_DATA_CUT, C_STRARR_CUT, C_NESTED_CUT,
    C_TNAME_LEN_CUT, C_TNAME_CUT, C_NDIMS_CUT, C_DIMS_CUT, C_TTYPE_CUT, C_TOFFSET_CUT,
    C_PADDING_CUT, C_DATA_NONE, C_DATA_CUT,
    /* overflowing counts, lengths, dims, offsets */
    C_NTENSORS_2_60, C_NKV_2_60, C_NKV_MAX, C_KEYLEN_2_40, C_STRLEN_2_40, C_STRLEN_MAX,
    C_TNAME_LEN_2_40, C_ARR_U32_2_62, C_ARR_U64_2_61, C_ARR_STR_2_60, C_ARR_ARR_2_60,
    C_DIM_2_63, C_DIM_ZERO, C_DIMS_PRODUCT, C_BYTES_OVERFLOW, C_TENSOR_4TIB, C_OFFSET_MAX,
    C_TOO_MANY_KEYS,
    /* bad types */
    C_VTYPE_13, C_VTYPE_2_31, C_ARR_VTYPE_13, C_NESTED_DEEP,
    C_TTYPE_4, C_TTYPE_5, C_TTYPE_31, C_TTYPE_99, C_TTYPE_2_31,
    /* bad strings and names */
    C_TNAME_NUL, C_TNAME_64, C_TNAME_EMPTY, C_KEY_NEWLINE, C_KEY_UTF8_BAD, C_KEY_UTF8, C_KEY_EMPTY,
    /* alignment */
    C_MISALIGNED, C_ALIGN_0, C_ALIGN_3, C_ALIGN_U64, C_ALIGN_STR,
    /* duplicates, overlap, shapes */
    C_DUP_TENSOR, C_DUP_KEY, C_OVERLAP, C_SAME_OFFSET, C_ROW_Q4K, C_ROW_Q8_0, C_NDIMS_0,
    C_NDIMS_5, C_NDIMS_HUGE,
    /* versions and magic */
    C_VERSION_0, C_VERSION_1, C_VERSION_4, C_BIG_ENDIAN, C_MAGIC_GGML,
    /* split keys in a single file */
    C_SPLIT_COUNT_0, C_SPLIT_COUNT_BIG, C_SPLIT_COUNT_STR, C_SPLIT_BAD_NAME,
    /* several files (section 4) */
    C_SPLIT_MISSING, C_SPLIT_TENSORS_COUNT, C_SPLIT_PART2_CUT, C_SPLIT_DUP_ACROSS,
    C_SPLIT_OPEN_PART2, C_DIRECTORY, C_NO_SUCH_FILE,
    N_CASES
};

static const mcase CASES[N_CASES] = {
    [C_EMPTY] = {"trunc-empty", FMT, "truncated: magic needs 4 bytes", 0},
    [C_MAGIC_2] = {"trunc-magic", FMT, "truncated: magic", 0},
    [C_VERSION_CUT] = {"trunc-version", FMT, "truncated: version", 0},
    [C_NTENSORS_CUT] = {"trunc-tensor-count", FMT, "truncated: tensor count", 0},
    [C_NKV_CUT] = {"trunc-kv-count", FMT, "truncated: metadata count", 0},
    [C_HEADER_ONLY] = {"trunc-after-header", FMT, "metadata count 8 is more than the file can hold", 0},
    [C_KEYLEN_CUT] = {"trunc-key-length", FMT, "truncated: key needs 8 bytes", 0},
    [C_KEY_CUT] = {"trunc-key-bytes", FMT, "key at offset 104 claims 14 bytes but only 5 remain", 0},
    [C_VTYPE_CUT] = {"trunc-value-type", FMT, "truncated: value type needs 4 bytes", 0},
    [C_SCALAR_CUT] = {"trunc-scalar-value", FMT, "truncated: value needs 8 bytes", 0},
    [C_STRLEN_CUT] = {"trunc-string-length", FMT, "truncated: string value needs 8 bytes", 0},
    [C_STR_CUT] = {"trunc-string-bytes", FMT, "string value at offset", 0},
    [C_ARR_TYPE_CUT] = {"trunc-array-type", FMT, "truncated: array element type", 0},
    [C_ARR_LEN_CUT] = {"trunc-array-length", FMT, "truncated: array length", 0},
    [C_ARR_DATA_CUT] = {"trunc-array-data", FMT, "array of 16 u32 elements runs past the end", 0},
    [C_STRARR_CUT] = {"trunc-string-array", FMT, "array string at offset", 0},
    [C_NESTED_CUT] = {"trunc-nested-array", FMT, "array of 4 u16 elements runs past the end", 0},
    [C_TNAME_LEN_CUT] = {"trunc-tensor-name-length", FMT, "truncated: tensor name needs 8", 0},
    [C_TNAME_CUT] = {"trunc-tensor-name", FMT, "tensor name at offset", 0},
    [C_NDIMS_CUT] = {"trunc-tensor-ndims", FMT, "truncated: tensor dimension count", 0},
    [C_DIMS_CUT] = {"trunc-tensor-dims", FMT, "truncated: tensor dimension needs 8", 0},
    [C_TTYPE_CUT] = {"trunc-tensor-type", FMT, "truncated: tensor type", 0},
    [C_TOFFSET_CUT] = {"trunc-tensor-offset", FMT, "truncated: tensor offset", 0},
    [C_PADDING_CUT] = {"trunc-padding", FMT, "truncated: padding before tensor data", 0},
    [C_DATA_NONE] = {"trunc-no-data", FMT, "'token_embd.weight' (64 bytes at data offset 0) runs past the end", 0},
    [C_DATA_CUT] = {"trunc-data", FMT, "'blk.0.attn_q.weight' (68 bytes at data offset 64) runs past the end", 0},

    [C_NTENSORS_2_60] = {"count-tensors-2e60", FMT, "tensor count 1152921504606846976 is more than the file can hold", 0},
    [C_NKV_2_60] = {"count-kv-2e60", FMT, "metadata count 1152921504606846976 is more than", 0},
    [C_NKV_MAX] = {"count-kv-max", FMT, "metadata count 18446744073709551615 is more than", 0},
    [C_KEYLEN_2_40] = {"len-key-2e40", FMT, "key at offset 24 claims 1099511627776 bytes", 0},
    [C_STRLEN_2_40] = {"len-string-2e40", FMT, "string value at offset 136 claims 1099511627776 bytes", 0},
    [C_STRLEN_MAX] = {"len-string-max", FMT, "claims 18446744073709551615 bytes", 0},
    [C_TNAME_LEN_2_40] = {"len-tensor-name-2e40", FMT, "tensor name at offset", 0},
    [C_ARR_U32_2_62] = {"count-array-u32-2e62", FMT, "array of 4611686018427387904 u32 elements runs past the end", 0},
    [C_ARR_U64_2_61] = {"count-array-u64-2e61", FMT, "array of 2305843009213693952 u64 elements runs past the end", 0},
    [C_ARR_STR_2_60] = {"count-array-str-2e60", FMT, "array claims 1152921504606846976 str elements", 0},
    [C_ARR_ARR_2_60] = {"count-array-arr-2e60", FMT, "array claims 1152921504606846976 arr elements", 0},
    [C_DIM_2_63] = {"dim-2e63", FMT, "tensor 'big' has dimension 1 = 9223372036854775808", 0},
    [C_DIM_ZERO] = {"dim-zero", FMT, "tensor 'empty' has dimension 0 = 0", 0},
    [C_DIMS_PRODUCT] = {"dims-product-overflow", FMT, "the product of its dimensions overflows", 0},
    [C_BYTES_OVERFLOW] = {"dims-bytes-overflow", FMT, "byte size overflows", 0},
    [C_TENSOR_4TIB] = {"tensor-4tib", FMT, "'huge' (4398046511104 bytes at data offset 0) runs past the end", 0},
    [C_OFFSET_MAX] = {"offset-max", FMT, "'far' (64 bytes at data offset 18446744073709551584) runs past the end", 0},
    [C_TOO_MANY_KEYS] = {"count-kv-10001", FMT, "10001 metadata keys is implausible", 0},

    [C_VTYPE_13] = {"vtype-13", FMT, "key 'test.bad' has unknown value type 13", 0},
    [C_VTYPE_2_31] = {"vtype-2e31", FMT, "unknown value type 2147483648", 0},
    [C_ARR_VTYPE_13] = {"array-vtype-13", FMT, "key 'test.arr': unknown array element type 13", 0},
    [C_NESTED_DEEP] = {"array-nested-deep", FMT, "arrays nested deeper than 4", 0},
    [C_TTYPE_4] = {"ttype-4", UNS, "tensor 'w' has unknown type id 4", 0},
    [C_TTYPE_5] = {"ttype-5", UNS, "unknown type id 5", 0},
    [C_TTYPE_31] = {"ttype-31", UNS, "unknown type id 31", 0},
    [C_TTYPE_99] = {"ttype-99", UNS, "unknown type id 99", 0},
    [C_TTYPE_2_31] = {"ttype-2e31", UNS, "unknown type id 2147483648", 0},

    [C_TNAME_NUL] = {"name-nul", FMT, "tensor 0 has a NUL byte in its name", 0},
    [C_TNAME_64] = {"name-64-bytes", FMT, "tensor 0 has a name of 64 bytes (must be 1 to 63)", 0},
    [C_TNAME_EMPTY] = {"name-empty", FMT, "tensor 1 has a name of 0 bytes", 0},
    [C_KEY_NEWLINE] = {"key-newline", FMT, "has byte 0x0a at", 0},
    [C_KEY_UTF8_BAD] = {"key-utf8-invalid", FMT, "metadata key 0 (offset 24) has byte 0xff at 32", 0},
    [C_KEY_UTF8] = {"key-utf8-valid", FMT, "has byte 0xc3 at 33", 0},
    [C_KEY_EMPTY] = {"key-empty", FMT, "metadata key 1 (offset", 0},

    [C_MISALIGNED] = {"misaligned-offset", FMT, "tensor 'b' data offset 48 is not aligned to 32", 0},
    [C_ALIGN_0] = {"alignment-0", FMT, "general.alignment must be a u32 power of two", 0},
    [C_ALIGN_3] = {"alignment-3", FMT, "general.alignment must be a u32 power of two", 0},
    [C_ALIGN_U64] = {"alignment-u64", FMT, "general.alignment must be a u32 power of two", 0},
    [C_ALIGN_STR] = {"alignment-string", FMT, "general.alignment must be a u32 power of two", 0},

    [C_DUP_TENSOR] = {"duplicate-tensor", FMT, "duplicate tensor name 'w'", 0},
    [C_DUP_KEY] = {"duplicate-key", FMT, "duplicate key 'general.architecture'", 0},
    [C_OVERLAP] = {"overlap", FMT, "tensors 'a' and 'b' overlap", 0},
    [C_SAME_OFFSET] = {"overlap-same-offset", FMT, "overlap in the data section", 0},
    [C_ROW_Q4K] = {"row-q4k-100", FMT, "row length 100 is not a multiple of Q4_K's block size 256", 0},
    [C_ROW_Q8_0] = {"row-q8_0-33", FMT, "row length 33 is not a multiple of Q8_0's block size 32", 0},
    [C_NDIMS_0] = {"ndims-0", FMT, "tensor 'w' has 0 dimensions (must be 1 to 4)", 0},
    [C_NDIMS_5] = {"ndims-5", FMT, "tensor 'w' has 5 dimensions", 0},
    [C_NDIMS_HUGE] = {"ndims-max", FMT, "has 4294967295 dimensions", 0},

    [C_VERSION_0] = {"version-0", UNS, "GGUF version 0 is not supported", 0},
    [C_VERSION_1] = {"version-1", UNS, "GGUF version 1 is obsolete", 0},
    [C_VERSION_4] = {"version-4", UNS, "GGUF version 4 is not supported", 0},
    [C_BIG_ENDIAN] = {"big-endian", UNS, "big-endian GGUF is not supported", 0},
    [C_MAGIC_GGML] = {"magic-ggjt", FMT, "not a GGUF file (magic 47 47 4a 54", 0},

    [C_SPLIT_COUNT_0] = {"split-count-0", FMT, "split.count = 0 (must be 1 to 256)", F_FILE_ONLY},
    [C_SPLIT_COUNT_BIG] = {"split-count-70000", FMT, "split.count = 70000", F_FILE_ONLY},
    [C_SPLIT_COUNT_STR] = {"split-count-string", FMT, "key 'split.count' is a str, expected an integer", F_FILE_ONLY},
    [C_SPLIT_BAD_NAME] = {"split-bad-name", FMT, "the file name does not end in -00001-of-00002.gguf", F_FILE_ONLY},

    [C_SPLIT_MISSING] = {"split-missing", XUAN_ERR_IO, "split model part 2 of 2: ", F_FILE_ONLY | F_SPECIAL},
    [C_SPLIT_TENSORS_COUNT] = {"split-tensors-count", FMT, "split.tensors.count is 3 but the 2 parts hold 2 tensors", F_FILE_ONLY | F_SPECIAL},
    [C_SPLIT_PART2_CUT] = {"split-part2-cut", FMT, "-00002-of-00002.gguf: tensor 'blk.1.w' (32 bytes at data offset 0) runs past the end", F_FILE_ONLY | F_SPECIAL},
    [C_SPLIT_DUP_ACROSS] = {"split-dup-across", FMT, "duplicate tensor name 'blk.0.w'", F_FILE_ONLY | F_SPECIAL},
    /* The user named the wrong file: a usage error (exit 2), so not in the exit-1 corpus. */
    [C_SPLIT_OPEN_PART2] = {"split-open-part2", XUAN_ERR_USAGE, "is part 2 of a 2-part model: open the first part", F_FILE_ONLY | F_SPECIAL | F_NO_CLI},
    [C_DIRECTORY] = {"is-a-directory", XUAN_ERR_IO, "not a regular file", F_FILE_ONLY | F_SPECIAL},
    /* The CLI script checks a missing path itself (it cannot glob one). */
    [C_NO_SUCH_FILE] = {"no-such-file", XUAN_ERR_IO, "cannot open: No such file or directory", F_FILE_ONLY | F_SPECIAL | F_NO_CLI},
};

/* Builds the bytes of a single-file case. */
static void build_case(int id, bytes *b) {
    marks m;
    switch (id) {
    /* ---- truncation: header ---- */
    case C_EMPTY: break;
    case C_MAGIC_2: put(b, "GG", 2); break;
    case C_VERSION_CUT: base_file(b, &m, 3); b->n = 6; break;
    case C_NTENSORS_CUT: base_file(b, &m, 3); b->n = 12; break;
    case C_NKV_CUT: base_file(b, &m, 3); b->n = 20; break;
    case C_HEADER_ONLY: base_file(b, &m, 3); b->n = 24; break;
    /* ---- truncation: key/value pairs (the second key is cut) ---- */
    case C_KEYLEN_CUT: kv_file_begin(b, 2); put_u32(b, 14); break; /* 4 of 8 length bytes */
    case C_KEY_CUT: /* the key length sits at 24 + 8 + 12 + 4 + 8 + 48 = 104 */
        kv_file_begin(b, 2); put_u64(b, 14); put(b, "test.", 5);
        break;
    case C_VTYPE_CUT: kv_file_begin(b, 2); put_str(b, "test.u64"); put_u16(b, 10); break;
    case C_SCALAR_CUT: kv_file_begin(b, 2); kv_head(b, "test.u64", XUAN_GGUF_UINT64); put_u32(b, 1); break;
    case C_STRLEN_CUT: kv_file_begin(b, 2); kv_head(b, "test.s", XUAN_GGUF_STRING); put_u32(b, 5); break;
    case C_STR_CUT:
        kv_file_begin(b, 2); kv_head(b, "test.s", XUAN_GGUF_STRING); put_u64(b, 40); put(b, "only-part", 9);
        break;
    case C_ARR_TYPE_CUT: kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u16(b, 4); break;
    case C_ARR_LEN_CUT:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_UINT32);
        put_u32(b, 16);
        break;
    case C_ARR_DATA_CUT:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_UINT32);
        put_u64(b, 16); zeros(b, 15 * 4);
        break;
    case C_STRARR_CUT: /* three long strings, the third cut short */
        kv_file_begin(b, 2); kv_head(b, "tokenizer.ggml.tokens", XUAN_GGUF_ARRAY);
        put_u32(b, XUAN_GGUF_STRING); put_u64(b, 3);
        put_str(b, "first-token-string"); put_str(b, "second-token-string");
        put_u64(b, 19); put(b, "third", 5);
        break;
    case C_NESTED_CUT: /* [[u16 x4], [u16 x4]] with the second inner array cut */
        kv_file_begin(b, 2); kv_head(b, "test.nested", XUAN_GGUF_ARRAY);
        put_u32(b, XUAN_GGUF_ARRAY); put_u64(b, 2);
        put_u32(b, XUAN_GGUF_UINT16); put_u64(b, 4); zeros(b, 8);
        put_u32(b, XUAN_GGUF_UINT16); put_u64(b, 4); zeros(b, 5);
        break;
    /* ---- truncation: tensor infos, padding, data (cut from the base) ---- */
    case C_TNAME_LEN_CUT: base_file(b, &m, 3); b->n = m.t2_name + 3; break;
    case C_TNAME_CUT: base_file(b, &m, 3); b->n = m.t2_name + 8 + 5; break;
    case C_NDIMS_CUT: base_file(b, &m, 3); b->n = m.t2_ndims + 2; break;
    case C_DIMS_CUT: base_file(b, &m, 3); b->n = m.t2_dims + 8 + 4; break;
    case C_TTYPE_CUT: base_file(b, &m, 3); b->n = m.t2_type + 1; break;
    case C_TOFFSET_CUT: base_file(b, &m, 3); b->n = m.t2_offset + 7; break;
    case C_PADDING_CUT: base_file(b, &m, 3); b->n = m.info_end; break;
    case C_DATA_NONE: base_file(b, &m, 3); b->n = m.data_start; break;
    case C_DATA_CUT: base_file(b, &m, 3); b->n = m.end - 1; break;

    /* ---- overflowing counts and lengths ---- */
    case C_NTENSORS_2_60: base_file(b, &m, 3); memcpy(b->p + 8, &(uint64_t){1ull << 60}, 8); break;
    case C_NKV_2_60: base_file(b, &m, 3); memcpy(b->p + 16, &(uint64_t){1ull << 60}, 8); break;
    case C_NKV_MAX: base_file(b, &m, 3); memcpy(b->p + 16, &(uint64_t){UINT64_MAX}, 8); break;
    case C_KEYLEN_2_40: base_file(b, &m, 3); memcpy(b->p + 24, &(uint64_t){1ull << 40}, 8); break;
    case C_STRLEN_2_40: /* the value length sits at 24 + 80 + 28 + 4 = 136 */
        kv_file_begin(b, 2); kv_head(b, "general.architecture", XUAN_GGUF_STRING);
        put_u64(b, 1ull << 40); put(b, "llama", 5);
        break;
    case C_STRLEN_MAX:
        kv_file_begin(b, 2); kv_head(b, "test.s", XUAN_GGUF_STRING); put_u64(b, UINT64_MAX); zeros(b, 16);
        break;
    case C_TNAME_LEN_2_40: base_file(b, &m, 3); memcpy(b->p + m.t2_name, &(uint64_t){1ull << 40}, 8); break;
    case C_ARR_U32_2_62:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_UINT32);
        put_u64(b, 1ull << 62); zeros(b, 64);
        break;
    case C_ARR_U64_2_61: /* 2^61 * 8 wraps to exactly 0 in 64 bits */
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_UINT64);
        put_u64(b, 1ull << 61); zeros(b, 64);
        break;
    case C_ARR_STR_2_60:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_STRING);
        put_u64(b, 1ull << 60); put_str(b, "a"); put_str(b, "b");
        break;
    case C_ARR_ARR_2_60:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, XUAN_GGUF_ARRAY);
        put_u64(b, 1ull << 60); put_u32(b, XUAN_GGUF_UINT8); put_u64(b, 0);
        break;
    case C_DIM_2_63: tensor_file(b, &(tspec){"big", 2, {4, 1ull << 63}, XUAN_TYPE_F32, 0}, 1, 64); break;
    case C_DIM_ZERO: tensor_file(b, &(tspec){"empty", 1, {0}, XUAN_TYPE_F32, 0}, 1, 64); break;
    case C_DIMS_PRODUCT:
        tensor_file(b, &(tspec){"w", 3, {1ull << 32, 1ull << 32, 2}, XUAN_TYPE_F32, 0}, 1, 64);
        break;
    case C_BYTES_OVERFLOW: /* 2^62 elements fit in int64, 2^62 * 4 bytes do not */
        tensor_file(b, &(tspec){"w", 2, {1ull << 31, 1ull << 31}, XUAN_TYPE_F32, 0}, 1, 64);
        break;
    case C_TENSOR_4TIB:
        tensor_file(b, &(tspec){"huge", 2, {1ull << 20, 1ull << 20}, XUAN_TYPE_F32, 0}, 1, 64);
        break;
    case C_OFFSET_MAX: /* aligned, and offset + size wraps around 2^64 */
        tensor_file(b, &(tspec){"far", 1, {16}, XUAN_TYPE_F32, UINT64_MAX - 31}, 1, 64);
        break;
    case C_TOO_MANY_KEYS:
        header(b, 3, 0, 10001);
        for (int i = 0; i < 10001; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%05d", i);
            kv_head(b, key, XUAN_GGUF_UINT8);
            put_u8(b, 1);
        }
        break;

    /* ---- bad value and tensor types ---- */
    case C_VTYPE_13: kv_file_begin(b, 2); kv_head(b, "test.bad", 13); zeros(b, 8); break;
    case C_VTYPE_2_31: kv_file_begin(b, 2); kv_head(b, "test.bad", 1u << 31); zeros(b, 8); break;
    case C_ARR_VTYPE_13:
        kv_file_begin(b, 2); kv_head(b, "test.arr", XUAN_GGUF_ARRAY); put_u32(b, 13); put_u64(b, 1);
        zeros(b, 8);
        break;
    case C_NESTED_DEEP: /* six levels of one-element arrays */
        kv_file_begin(b, 2); kv_head(b, "test.deep", XUAN_GGUF_ARRAY);
        for (int i = 0; i < 6; i++) { put_u32(b, XUAN_GGUF_ARRAY); put_u64(b, 1); }
        put_u32(b, XUAN_GGUF_UINT8); put_u64(b, 0);
        break;
    case C_TTYPE_4: tensor_file(b, &(tspec){"w", 1, {32}, 4, 0}, 1, 128); break;
    case C_TTYPE_5: tensor_file(b, &(tspec){"w", 1, {32}, 5, 0}, 1, 128); break;
    case C_TTYPE_31: tensor_file(b, &(tspec){"w", 1, {32}, 31, 0}, 1, 128); break;
    case C_TTYPE_99: tensor_file(b, &(tspec){"w", 1, {32}, 99, 0}, 1, 128); break;
    case C_TTYPE_2_31: tensor_file(b, &(tspec){"w", 1, {32}, 1u << 31, 0}, 1, 128); break;

    /* ---- bad strings and names ---- */
    case C_TNAME_NUL: {
        header(b, 3, 1, 0);
        put_strn(b, "tok\0embd", 8);
        put_u32(b, 1); put_u64(b, 16); put_u32(b, XUAN_TYPE_F32); put_u64(b, 0);
        pad(b, 32); pattern(b, 64);
        break;
    }
    case C_TNAME_64:
        tensor_file(b, &(tspec){"blk.0.this-name-is-exactly-sixty-four-bytes-long-xxxxxxxxxxxxx.w", 1, {16},
                                XUAN_TYPE_F32, 0}, 1, 64);
        break;
    case C_TNAME_EMPTY:
        tensor_file(b, (tspec[]){{"a", 1, {16}, XUAN_TYPE_F32, 0}, {"", 1, {16}, XUAN_TYPE_F32, 64}}, 2, 128);
        break;
    case C_KEY_NEWLINE: /* a key with a newline and an escape: the message must stay one line */
        kv_file_begin(b, 2); kv_head(b, "evil\nkey\x1b[2J", 77); zeros(b, 8);
        break;
    case C_KEY_UTF8_BAD: /* the first key's first byte is not UTF-8 (issue 16) */
        header(b, 3, 0, 1); kv_str(b, "\xffgeneral.architecture", "llama");
        break;
    case C_KEY_UTF8: /* valid UTF-8 is still not a GGUF key */
        header(b, 3, 0, 1); kv_str(b, "g\xc3\xa9n\xc3\xa9ral.name", "x");
        break;
    case C_KEY_EMPTY:
        header(b, 3, 0, 2); kv_str(b, "general.architecture", "llama"); kv_str(b, "", "x");
        break;

    /* ---- alignment ---- */
    case C_MISALIGNED:
        tensor_file(b, (tspec[]){{"a", 1, {8}, XUAN_TYPE_F32, 0}, {"b", 1, {8}, XUAN_TYPE_F32, 48}}, 2, 96);
        break;
    case C_ALIGN_0: kv_file_begin(b, 2); kv_u32(b, "general.alignment", 0); break;
    case C_ALIGN_3: kv_file_begin(b, 2); kv_u32(b, "general.alignment", 3); break;
    case C_ALIGN_U64: kv_file_begin(b, 2); kv_head(b, "general.alignment", XUAN_GGUF_UINT64); put_u64(b, 32); break;
    case C_ALIGN_STR: kv_file_begin(b, 2); kv_str(b, "general.alignment", "32"); break;

    /* ---- duplicates, overlap, shapes ---- */
    case C_DUP_TENSOR:
        tensor_file(b, (tspec[]){{"w", 1, {8}, XUAN_TYPE_F32, 0}, {"w", 1, {8}, XUAN_TYPE_F32, 32}}, 2, 64);
        break;
    case C_DUP_KEY:
        header(b, 3, 0, 3);
        kv_str(b, "general.architecture", "llama");
        kv_u32(b, "llama.block_count", 2);
        kv_str(b, "general.architecture", "qwen2");
        break;
    case C_OVERLAP: /* a is 64 bytes at 0, b starts at 32 */
        tensor_file(b, (tspec[]){{"a", 1, {16}, XUAN_TYPE_F32, 0}, {"b", 1, {8}, XUAN_TYPE_F32, 32}}, 2, 128);
        break;
    case C_SAME_OFFSET:
        tensor_file(b, (tspec[]){{"a", 1, {8}, XUAN_TYPE_F32, 0}, {"b", 1, {8}, XUAN_TYPE_F32, 0}}, 2, 64);
        break;
    case C_ROW_Q4K: tensor_file(b, &(tspec){"w", 2, {100, 4}, XUAN_TYPE_Q4_K, 0}, 1, 1024); break;
    case C_ROW_Q8_0: tensor_file(b, &(tspec){"w", 1, {33}, XUAN_TYPE_Q8_0, 0}, 1, 128); break;
    case C_NDIMS_0: tensor_file(b, &(tspec){"w", 0, {0}, XUAN_TYPE_F32, 0}, 1, 64); break;
    case C_NDIMS_5: tensor_file(b, &(tspec){"w", 5, {1, 1, 1, 1, 1}, XUAN_TYPE_F32, 0}, 1, 64); break;
    case C_NDIMS_HUGE: /* n_dims 2^32-1 followed by a few plausible dims */
        header(b, 3, 1, 0); put_str(b, "w"); put_u32(b, UINT32_MAX);
        for (int i = 0; i < 8; i++) put_u64(b, 4);
        break;

    /* ---- version and magic ---- */
    case C_VERSION_0: base_file(b, &m, 0); break;
    case C_VERSION_1: base_file(b, &m, 1); break;
    case C_VERSION_4: base_file(b, &m, 4); break;
    case C_BIG_ENDIAN: base_file(b, &m, 0x03000000u); break; /* v3 written big-endian */
    case C_MAGIC_GGML: base_file(b, &m, 3); memcpy(b->p, "GGJT", 4); break;

    /* ---- split keys in one file ---- */
    case C_SPLIT_COUNT_0:
        header(b, 3, 0, 2); kv_str(b, "general.architecture", "llama");
        kv_head(b, "split.count", XUAN_GGUF_UINT16); put_u16(b, 0);
        break;
    case C_SPLIT_COUNT_BIG:
        header(b, 3, 0, 2); kv_str(b, "general.architecture", "llama"); kv_u32(b, "split.count", 70000);
        break;
    case C_SPLIT_COUNT_STR:
        header(b, 3, 0, 2); kv_str(b, "general.architecture", "llama"); kv_str(b, "split.count", "2");
        break;
    case C_SPLIT_BAD_NAME:
        header(b, 3, 0, 3); kv_str(b, "general.architecture", "llama");
        kv_head(b, "split.no", XUAN_GGUF_UINT16); put_u16(b, 0);
        kv_head(b, "split.count", XUAN_GGUF_UINT16); put_u16(b, 2);
        break;
    default: XUAN_ASSERT(!"case without a builder");
    }
}

/* ==== 4. split models and other multi-file cases ========================== */

static int write_bytes(const char *path, const bytes *b) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = b->n ? fwrite(b->p, 1, b->n, f) : 0;
    int rc = fclose(f);
    return w == b->n && rc == 0 ? 0 : -1;
}

/* One part of a split model as llama.cpp's gguf-split writes it (u16
 * split.no / split.count, i32 split.tensors.count), holding one F32 tensor
 * of 8 elements; `data` bytes of tensor data. */
static void split_part(bytes *b, uint16_t no, uint16_t count, int32_t n_total, const char *tname,
                       size_t data) {
    header(b, 3, 1, no == 0 ? 4 : 3);
    if (no == 0) kv_str(b, "general.architecture", "llama");
    kv_head(b, "split.no", XUAN_GGUF_UINT16);
    put_u16(b, no);
    kv_head(b, "split.count", XUAN_GGUF_UINT16);
    put_u16(b, count);
    kv_head(b, "split.tensors.count", XUAN_GGUF_INT32);
    put_u32(b, (uint32_t)n_total);
    tinfo(b, tname, 1, (uint64_t[]){8}, XUAN_TYPE_F32, 0);
    pad(b, 32);
    pattern(b, data);
}

/* Writes a two-part model "dir/stem-0000i-of-00002.gguf"; returns 0 or -1. */
static int write_split(const char *dir, const char *stem, int32_t n_total, const char *name2,
                       size_t data2, bool part2) {
    char path[4096];
    bytes b = {0};
    split_part(&b, 0, 2, n_total, "blk.0.w", 32);
    snprintf(path, sizeof path, "%s/%s-00001-of-00002.gguf", dir, stem);
    int rc = write_bytes(path, &b);
    if (part2 && !rc) {
        b.n = 0;
        split_part(&b, 1, 2, n_total, name2, data2);
        snprintf(path, sizeof path, "%s/%s-00002-of-00002.gguf", dir, stem);
        rc = write_bytes(path, &b);
    }
    free(b.p);
    return rc;
}

/* Makes the files of a case in `dir`; *path gets the path to open. */
static int make_case(int id, const char *dir, char *path, size_t cap) {
    const char *stem = CASES[id].name;
    snprintf(path, cap, "%s/%s.gguf", dir, stem);
    if (!(CASES[id].flags & F_SPECIAL)) {
        bytes b = {0};
        build_case(id, &b);
        int rc = write_bytes(path, &b);
        free(b.p);
        return rc;
    }
    snprintf(path, cap, "%s/%s-00001-of-00002.gguf", dir, stem);
    switch (id) {
    case C_SPLIT_MISSING: return write_split(dir, stem, 2, "blk.1.w", 32, false);
    case C_SPLIT_TENSORS_COUNT: return write_split(dir, stem, 3, "blk.1.w", 32, true);
    case C_SPLIT_PART2_CUT: return write_split(dir, stem, 2, "blk.1.w", 31, true);
    case C_SPLIT_DUP_ACROSS: return write_split(dir, stem, 2, "blk.0.w", 32, true);
    case C_SPLIT_OPEN_PART2:
        snprintf(path, cap, "%s/%s-00002-of-00002.gguf", dir, stem);
        return write_split(dir, stem, 2, "blk.1.w", 32, true);
    case C_DIRECTORY:
        snprintf(path, cap, "%s/%s.gguf", dir, stem);
        return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
    case C_NO_SUCH_FILE:
        snprintf(path, cap, "%s/%s.gguf", dir, stem);
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    }
    XUAN_ASSERT(!"special case without a maker");
}

/* ==== 5. checks ============================================================ */

static char case_dir[2048]; /* short enough that case_dir + a file name fits in 4096 */

static void ensure_dir(const char *dir) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        exit(1);
    }
}

/* One open attempt must fail with the case's status and message. */
static void expect_failure(int id, xuan_gguf *g, const xuan_error *err, const char *who,
                           const char *label) {
    const mcase *c = &CASES[id];
    if (g) {
        test_fail(__FILE__, __LINE__, "%s (%s): opened, expected %s", c->name, label,
                  xuan_status_name(c->status));
        xuan_gguf_close(g);
        return;
    }
    if (err->code != c->status)
        test_fail(__FILE__, __LINE__, "%s (%s): status %s, expected %s: %s", c->name, label,
                  xuan_status_name(err->code), xuan_status_name(c->status), err->msg);
    if (!strstr(err->msg, c->expect))
        test_fail(__FILE__, __LINE__, "%s (%s): message lacks \"%s\": %s", c->name, label, c->expect,
                  err->msg);
    if (!strstr(err->msg, who))
        test_fail(__FILE__, __LINE__, "%s (%s): message does not name %s: %s", c->name, label, who,
                  err->msg);
    for (const char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            test_fail(__FILE__, __LINE__, "%s (%s): control byte 0x%02x in the message: %s", c->name,
                      label, (unsigned char)*p, err->msg);
            break;
        }
}

static void check_case(int id, const char *label) {
    const mcase *c = &CASES[id];
    char path[4096];
    REQUIRE(make_case(id, case_dir, path, sizeof path) == 0);
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(path, &err);
    expect_failure(id, g, &err, c->name, label);
    if (!(c->flags & F_FILE_ONLY)) {
        bytes b = {0};
        build_case(id, &b);
        /* An exact-size heap copy, so that ASan sees any read past the end. */
        void *copy = malloc(b.n ? b.n : 1);
        if (b.n) memcpy(copy, b.p, b.n);
        memset(&err, 0, sizeof err);
        g = xuan_gguf_open_memory(b.n ? copy : NULL, b.n, &err);
        expect_failure(id, g, &err, "(memory)", label);
        free(copy);
        free(b.p);
    }
}

static void test_cases_default_cap(void) {
    for (int id = 0; id < N_CASES; id++) check_case(id, "default cap");
}

/* A hostile count must be refused before anything is allocated for it: with
 * the cap at 64 MiB (and again at 1 MiB, still far above what these few-KB
 * files need), every case must fail exactly as before, never with NOMEM. */
static void test_cases_small_cap(void) {
    xuan_alloc_set_cap(64ull << 20);
    for (int id = 0; id < N_CASES; id++) check_case(id, "cap 64 MiB");
    xuan_alloc_set_cap(1ull << 20);
    for (int id = 0; id < N_CASES; id++) check_case(id, "cap 1 MiB");
    xuan_alloc_set_cap(0);
}

/* Allocation failure at every index while a malformed file is parsed: each
 * attempt ends in NOMEM or in the case's own error; ASan reports any leak or
 * bad free on those paths at exit. */
static void test_cases_alloc_failure(void) {
    for (int id = 0; id < N_CASES; id++) {
        const mcase *c = &CASES[id];
        if (id == C_TOO_MANY_KEYS) continue; /* slow, and no allocation beyond the key table */
        char path[4096];
        REQUIRE(make_case(id, case_dir, path, sizeof path) == 0);
        for (int64_t k = 0; k < 1000; k++) {
            xuan_error err = {0};
            xuan_alloc_fail_after(k);
            xuan_gguf *g = xuan_gguf_open(path, &err);
            xuan_alloc_fail_after(-1);
            if (g) {
                test_fail(__FILE__, __LINE__, "%s opened with failure injected at %lld", c->name, (long long)k);
                xuan_gguf_close(g);
                break;
            }
            if (err.code == c->status) break;
            if (err.code != XUAN_ERR_NOMEM || !strstr(err.msg, "out of memory")) {
                test_fail(__FILE__, __LINE__, "%s, allocation %lld failing: %s", c->name, (long long)k, err.msg);
                break;
            }
        }
    }
}

/* Opens `path` (or, when it is NULL, the bytes in memory) with allocation k failing, for
 * every k until it succeeds; returns the number of allocations it needed. */
static int64_t fail_every_allocation(const char *path, const uint8_t *data, size_t size) {
    for (int64_t k = 0; k < 100000; k++) {
        xuan_error err = {0};
        xuan_alloc_fail_after(k);
        xuan_gguf *g = path ? xuan_gguf_open(path, &err) : xuan_gguf_open_memory(data, size, &err);
        xuan_alloc_fail_after(-1);
        if (g) {
            CHECK_EQ_INT(xuan_gguf_n_tensors(g), 2); /* both valid files hold two */
            xuan_gguf_close(g);
            return k;
        }
        if (err.code != XUAN_ERR_NOMEM || !strstr(err.msg, "out of memory")) {
            test_fail(__FILE__, __LINE__, "allocation %lld failing gave: %s", (long long)k, err.msg);
            return -1;
        }
    }
    return -1;
}

static void test_valid_files_alloc_failure(void) {
    bytes b = {0};
    base_file(&b, NULL, 3);
    char path[4096];
    snprintf(path, sizeof path, "%s/valid-base.gguf", case_dir);
    REQUIRE(write_bytes(path, &b) == 0);
    int64_t n_file = fail_every_allocation(path, NULL, 0);
    int64_t n_mem = fail_every_allocation(NULL, b.p, b.n);
    /* the string array and the nested arrays each allocate: at least 5 */
    CHECK(n_file >= 5);
    CHECK(n_mem >= 5);
    REQUIRE(write_split(case_dir, "valid-split", 2, "blk.1.w", 32, true) == 0);
    snprintf(path, sizeof path, "%s/valid-split-00001-of-00002.gguf", case_dir);
    CHECK(fail_every_allocation(path, NULL, 0) >= 3);
    free(b.p);
}

/* The base file and the split pair are valid, so each case above fails for
 * the reason it names, not because the starting point was broken. */
static void test_base_is_valid(void) {
    bytes b = {0};
    marks m;
    base_file(&b, &m, 3);
    CHECK(m.data_start > m.info_end); /* the padding case needs padding */
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open_memory(b.p, b.n, &err);
    if (!g) fprintf(stderr, "  base: %s\n", err.msg);
    REQUIRE(g);
    CHECK_EQ_INT(xuan_gguf_n_kv(g), 8);
    CHECK_EQ_INT(xuan_gguf_n_tensors(g), 2);
    const xuan_gguf_tensor *t = xuan_gguf_find_tensor(g, "blk.0.attn_q.weight");
    REQUIRE(t);
    CHECK_EQ_INT(t->n_bytes, 68);
    CHECK(t->data == b.p + m.t2_data);
    const xuan_gguf_array *a;
    REQUIRE(xuan_gguf_get_arr(g, "test.nested", &a) == 0);
    CHECK(a->n == 2 && a->items && a->items[1].v.arr.n == 1);
    xuan_gguf_close(g);
    b.n = 0; /* the longest legal name, 63 bytes, is accepted */
    tensor_file(&b, &(tspec){"blk.0.this-name-is-exactly-sixty-three-bytes-long-xxxxxxxxxxx.w", 1, {16},
                             XUAN_TYPE_F32, 0}, 1, 64);
    g = xuan_gguf_open_memory(b.p, b.n, &err);
    CHECK(g && strlen(xuan_gguf_tensor_at(g, 0)->name) == 63);
    xuan_gguf_close(g);
    b.n = 0;
    base_file(&b, NULL, 2); /* version 2 is read too */
    g = xuan_gguf_open_memory(b.p, b.n, &err);
    CHECK(g && xuan_gguf_version(g) == 2);
    xuan_gguf_close(g);
    free(b.p);

    REQUIRE(write_split(case_dir, "valid-split", 2, "blk.1.w", 32, true) == 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/valid-split-00001-of-00002.gguf", case_dir);
    g = xuan_gguf_open(path, &err);
    if (!g) fprintf(stderr, "  split: %s\n", err.msg);
    REQUIRE(g);
    CHECK_EQ_INT(xuan_gguf_n_splits(g), 2);
    CHECK_EQ_INT(xuan_gguf_n_tensors(g), 2);
    xuan_gguf_close(g);
}

/* Beyond the named cuts: every proper prefix of the base file must be
 * refused as a FORMAT error (each cut is read from an exact-size copy). */
static void test_every_prefix(void) {
    bytes b = {0};
    base_file(&b, NULL, 3);
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.p, n);
        xuan_error err = {0};
        xuan_gguf *g = xuan_gguf_open_memory(n ? copy : NULL, n, &err);
        if (g || err.code != XUAN_ERR_FORMAT) {
            test_fail(__FILE__, __LINE__, "prefix of %zu bytes: %s", n, g ? "opened" : err.msg);
            xuan_gguf_close(g);
        }
        free(copy);
    }
    free(b.p);
}

/* Inputs fuzz_gguf found problems with (the reader is fixed; these keep it so). */
static void test_fuzz_regressions(void) {
    /* 1. A header with no tensors: the reader computed NULL + 0 (UB). */
    bytes b = {0};
    header(&b, 3, 0, 0);
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open_memory(b.p, b.n, &err);
    CHECK(g && xuan_gguf_n_tensors(g) == 0 && xuan_gguf_n_kv(g) == 0);
    xuan_gguf_close(g);

    /* 2. xuan_gguf_arr_i64 on float elements the file chose: NaN, infinities
     * and values beyond int64 were cast directly (UB); now they saturate. */
    b.n = 0;
    header(&b, 3, 0, 2);
    const float f32[] = {__builtin_nanf(""), __builtin_inff(), -__builtin_inff(), 1e30f, -1e30f, -3.75f};
    kv_head(&b, "test.f32", XUAN_GGUF_ARRAY);
    put_u32(&b, XUAN_GGUF_FLOAT32);
    put_u64(&b, 6);
    put(&b, f32, sizeof f32);
    const double f64[] = {9223372036854775808.0, -9223372036854775808.0, 9223372036854774784.0};
    kv_head(&b, "test.f64", XUAN_GGUF_ARRAY);
    put_u32(&b, XUAN_GGUF_FLOAT64);
    put_u64(&b, 3);
    put(&b, f64, sizeof f64);
    g = xuan_gguf_open_memory(b.p, b.n, &err);
    REQUIRE(g);
    const xuan_gguf_array *a;
    REQUIRE(xuan_gguf_get_arr(g, "test.f32", &a) == 0);
    CHECK_EQ_INT(xuan_gguf_arr_i64(a, 0), 0);
    CHECK(xuan_gguf_arr_i64(a, 1) == INT64_MAX);
    CHECK(xuan_gguf_arr_i64(a, 2) == INT64_MIN);
    CHECK(xuan_gguf_arr_i64(a, 3) == INT64_MAX);
    CHECK(xuan_gguf_arr_i64(a, 4) == INT64_MIN);
    CHECK_EQ_INT(xuan_gguf_arr_i64(a, 5), -3); /* truncation toward zero, as a C cast */
    REQUIRE(xuan_gguf_get_arr(g, "test.f64", &a) == 0);
    CHECK(xuan_gguf_arr_i64(a, 0) == INT64_MAX);
    CHECK(xuan_gguf_arr_i64(a, 1) == INT64_MIN);
    CHECK(xuan_gguf_arr_i64(a, 2) == 9223372036854774784ll);
    xuan_gguf_close(g);
    free(b.p);
}

/* ==== 6. main =============================================================== */

/* Tensor bytes for the seeds: any bytes are valid data to the reader. */
static int fill_seed(void *ctx, const xuan_gguf_tensor *t, uint64_t off, uint8_t *out, uint64_t n,
                     xuan_error *err) {
    (void)ctx, (void)err;
    for (uint64_t i = 0; i < n; i++) out[i] = (uint8_t)((off + i) * 13 + (uint8_t)t->name[0]);
    return 0;
}

static int add_seed_tensor(xuan_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                           const int64_t *ne) {
    xuan_error err = {0};
    int rc = xuan_gguf_writer_add_tensor(w, name, type, n_dims, ne, NULL, fill_seed, NULL, &err);
    if (rc) fprintf(stderr, "seed tensor %s: %s\n", name, err.msg);
    return rc;
}

/* The fuzzer's seed corpus (fuzz/corpus/gguf): small valid files that reach
 * every part of the reader, and a few malformed ones that stop at its later
 * checks.  Valid seeds are named valid-*, malformed ones bad-*. */
static int write_seeds(const char *dir) {
    ensure_dir(dir);
    char path[4096];
    xuan_error err = {0};
    int rc = 0;
    bytes b = {0};
    /* hand-built: the base in v3 and v2, and a header with nothing in it */
    const struct { const char *name; uint32_t version; } hand[] = {{"valid-base-v3", 3}, {"valid-base-v2", 2}};
    for (size_t i = 0; i < 2 && !rc; i++) {
        b.n = 0;
        base_file(&b, NULL, hand[i].version);
        snprintf(path, sizeof path, "%s/%s.gguf", dir, hand[i].name);
        rc = write_bytes(path, &b);
    }
    b.n = 0;
    header(&b, 3, 0, 0);
    snprintf(path, sizeof path, "%s/valid-empty.gguf", dir);
    rc = rc ? rc : write_bytes(path, &b);
    free(b.p);

    /* with the writer: a key of every type, arrays of every fixed type,
     * strings, nested arrays */
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w);
    xuan_gguf_writer_set_str(w, "general.architecture", "llama");
    xuan_gguf_writer_set_u32(w, "test.u32", 7);
    xuan_gguf_writer_set_i32(w, "test.i32", -7);
    xuan_gguf_writer_set_u64(w, "test.u64", 1ull << 40);
    xuan_gguf_writer_set_f32(w, "test.f32", 0.5f);
    xuan_gguf_writer_set_bool(w, "test.bool", true);
    uint8_t raw[64];
    for (int i = 0; i < 64; i++) raw[i] = (uint8_t)(i * 37);
    for (uint32_t t = 0; t < XUAN_GGUF_VTYPE_COUNT; t++) {
        size_t es = xuan_gguf_vtype_size(t);
        if (!es) continue;
        char key[32];
        snprintf(key, sizeof key, "test.arr_%s", xuan_gguf_vtype_name(t));
        xuan_gguf_writer_set_arr(w, key, t, raw, 64 / es);
        xuan_gguf_value v = {.type = t};
        memcpy(&v.v.u64, raw + 8 * t % 56, 8);
        if (t == XUAN_GGUF_FLOAT32 || t == XUAN_GGUF_FLOAT64) v.v.f64 = -2.5;
        snprintf(key, sizeof key, "test.%s", xuan_gguf_vtype_name(t));
        xuan_gguf_writer_set_value(w, key, &v);
    }
    xuan_str toks[4] = {{"<s>", 3}, {"\xe4\xb8\xad", 3}, {"", 0}, {"hello", 5}};
    xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
    xuan_gguf_value inner[2] = {{.type = XUAN_GGUF_ARRAY}, {.type = XUAN_GGUF_ARRAY}};
    inner[0].v.arr = (xuan_gguf_array){.type = XUAN_GGUF_UINT16, .n = 3, .raw = raw};
    inner[1].v.arr = (xuan_gguf_array){.type = XUAN_GGUF_STRING, .n = 2, .strs = toks};
    xuan_gguf_value outer = {.type = XUAN_GGUF_ARRAY};
    outer.v.arr = (xuan_gguf_array){.type = XUAN_GGUF_ARRAY, .n = 2, .items = inner};
    xuan_gguf_writer_set_value(w, "test.nested", &outer);
    rc = rc ? rc : add_seed_tensor(w, "output_norm.weight", XUAN_TYPE_F32, 1, (int64_t[]){16});
    snprintf(path, sizeof path, "%s/valid-types.gguf", dir);
    rc = rc ? rc : xuan_gguf_writer_write(w, path, &err);
    xuan_gguf_writer_free(w);

    /* tensors of assorted types and ranks, alignment 64 */
    w = xuan_gguf_writer_new();
    REQUIRE(w);
    xuan_gguf_writer_set_str(w, "general.architecture", "qwen2");
    xuan_gguf_writer_set_alignment(w, 64);
    const struct { const char *name; uint32_t type; uint32_t n_dims; int64_t ne[4]; } ts[] = {
        {"token_embd.weight", XUAN_TYPE_Q4_K, 2, {256, 2}},
        {"blk.0.attn_q.weight", XUAN_TYPE_Q8_0, 2, {32, 3}},
        {"blk.0.attn_k.weight", XUAN_TYPE_Q4_0, 1, {64}},
        {"blk.0.ffn_down.weight", XUAN_TYPE_Q6_K, 1, {256}},
        {"blk.0.attn_norm.weight", XUAN_TYPE_F16, 3, {4, 2, 2}},
        {"blk.0.ffn_gate.weight", XUAN_TYPE_BF16, 4, {2, 2, 2, 2}},
        {"blk.0.ffn_up.weight", XUAN_TYPE_IQ4_NL, 1, {32}},
        {"rope_freqs.weight", XUAN_TYPE_I32, 1, {3}},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0] && !rc; i++)
        rc = add_seed_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne);
    snprintf(path, sizeof path, "%s/valid-tensors.gguf", dir);
    rc = rc ? rc : xuan_gguf_writer_write(w, path, &err);
    xuan_gguf_writer_free(w);

    /* a few malformed files whose problem sits late in the reader */
    const int bad[] = {C_DUP_TENSOR, C_OVERLAP, C_MISALIGNED, C_NESTED_DEEP, C_TTYPE_99, C_ROW_Q4K,
                       C_DATA_CUT, C_ALIGN_3};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] && !rc; i++) {
        bytes m = {0};
        build_case(bad[i], &m);
        snprintf(path, sizeof path, "%s/bad-%s.gguf", dir, CASES[bad[i]].name);
        rc = write_bytes(path, &m);
        free(m.p);
    }
    if (rc) fprintf(stderr, "cannot write the seeds to %s: %s\n", dir, err.msg[0] ? err.msg : strerror(errno));
    return rc ? 1 : 0;
}

/* The committed seeds agree with the reader: valid-* open, bad-* do not. */
static void test_seed_corpus(void) {
    const char *src = getenv("XUAN_SRC");
    if (!src) {
        printf("  (XUAN_SRC not set: seed corpus not checked)\n");
        return;
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s/fuzz/corpus/gguf'", src);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    char name[512];
    int n_valid = 0, n_bad = 0;
    while (fgets(name, sizeof name, p)) {
        name[strcspn(name, "\n")] = 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/fuzz/corpus/gguf/%s", src, name);
        xuan_error err = {0};
        xuan_gguf *g = xuan_gguf_open(path, &err);
        if (!strncmp(name, "valid-", 6)) {
            n_valid++;
            if (!g) test_fail(__FILE__, __LINE__, "seed %s: %s", name, err.msg);
        } else if (!strncmp(name, "bad-", 4)) {
            n_bad++;
            if (g) test_fail(__FILE__, __LINE__, "seed %s opened", name);
        }
        xuan_gguf_close(g);
    }
    pclose(p);
    CHECK(n_valid >= 5);
    CHECK(n_bad >= 5);
}

static int write_corpus(const char *dir) {
    ensure_dir(dir);
    int n = 0;
    for (int id = 0; id < N_CASES; id++) {
        if (CASES[id].flags & F_NO_CLI) continue;
        char path[4096];
        if (make_case(id, dir, path, sizeof path)) {
            fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
        n++;
    }
    printf("%d malformed cases written to %s\n", n, dir);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "--write-seeds")) return write_seeds(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: test_gguf_malformed [--write-corpus DIR | --write-seeds DIR]\n");
        return 2;
    }
    snprintf(case_dir, sizeof case_dir, "%s/gguf_malformed", test_tmp());
    ensure_dir(case_dir);
    printf("%d malformed cases\n", N_CASES);
    RUN(test_base_is_valid);
    RUN(test_cases_default_cap);
    RUN(test_cases_small_cap);
    RUN(test_cases_alloc_failure);
    RUN(test_valid_files_alloc_failure);
    RUN(test_every_prefix);
    RUN(test_seed_corpus);
    RUN(test_fuzz_regressions);
    return test_done();
}
