/*
 * libFuzzer target for the parquet reader (src/eval/parquet.c) through the
 * dataset loader, over arbitrary bytes.  A load that succeeds gives items
 * whose every field is valid UTF-8 without a NUL, within the bounds, and
 * whose list fields are JSON arrays; a refusal is one line naming the file
 * and leaves nothing allocated.  The bounds are small (64 KiB of cells and
 * pages, 2 KiB a field, 1,000 rows) and the allocation cap is 64 MiB, so an
 * input whose counts claim more must be refused, never allocated (NOMEM
 * counts as a bug).
 * Seeds: fuzz/corpus/parquet (tests/parquet_gen.mjs ... seeds: every
 * variant the test reads, 8 rows each).
 */
#include "xuan/eval.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        xuan_alloc_set_cap((uint64_t)64 << 20);
        init = true;
    }
    xuan_dataset_opts o = {.format = XUAN_DATA_PARQUET, .max_line = 4096, .max_field = 2048, .max_items = 1000,
                           .max_bytes = 1 << 16};
    xuan_dataset d;
    xuan_error err = {0};
    int rc = xuan_dataset_parse("fuzz.parquet", data, size, &o, &d, &err);
    if (rc != 0) {
        TRAP_IF(rc == XUAN_ERR_NOMEM);
        TRAP_IF(d.items != NULL || d.n_items != 0 || d.path != NULL);
        TRAP_IF(err.msg[0] == 0 || strchr(err.msg, '\n') != NULL || strncmp(err.msg, "fuzz.parquet", 12) != 0);
        return 0;
    }
    TRAP_IF(d.n_items > o.max_items);
    size_t total = 0;
    for (size_t i = 0; i < d.n_items; i++) {
        const xuan_eval_item *it = &d.items[i];
        TRAP_IF(it->line != i + 1);
        for (size_t j = 0; j < it->n_fields; j++) {
            const xuan_eval_field *f = &it->fields[j];
            TRAP_IF(!f->name || !f->value || strlen(f->value) != f->len || f->len > o.max_field);
            TRAP_IF(!xuan_utf8_valid((const uint8_t *)f->value, f->len));
            total += f->len;
            if (f->json) {
                json_error_t je;
                json_t *v = json_loadb(f->value, f->len, 0, &je);
                TRAP_IF(!json_is_array(v));
                json_decref(v);
            }
        }
    }
    TRAP_IF(total > o.max_bytes);
    xuan_dataset_free(&d);
    return 0;
}
