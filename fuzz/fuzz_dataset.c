/*
 * libFuzzer target for the dataset loaders (JSONL, gzipped JSONL, CSV, TSV)
 * over arbitrary bytes.  Byte 0 picks the format (bits 0-1), a header row
 * (bit 2) and whether the columns are given (bit 3); the rest is the file.
 * A load that succeeds gives items whose every field is valid UTF-8 without
 * a NUL inside, within the bounds; a refusal is one line naming the file and
 * leaves nothing allocated.  The JSONL text is also gzip-compressed here and
 * loaded as .jsonl.gz: the same items must come back.  Bounds are small
 * (4 KiB lines, 1,000 items) so every input is fast.
 * Seeds: fuzz/corpus/dataset (rows of the real files, each format).
 */
#include "xuan/eval.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

static void check(const xuan_dataset *d, const xuan_dataset_opts *o) {
    TRAP_IF(d->n_items > o->max_items);
    for (size_t i = 0; i < d->n_items; i++) {
        const xuan_eval_item *it = &d->items[i];
        TRAP_IF(it->line == 0);
        for (size_t j = 0; j < it->n_fields; j++) {
            const xuan_eval_field *f = &it->fields[j];
            TRAP_IF(!f->name || !f->value || strlen(f->value) != f->len || f->len > o->max_field);
            TRAP_IF(!xuan_utf8_valid((const uint8_t *)f->value, f->len));
            TRAP_IF(xuan_eval_item_get(it, f->name) == NULL);
        }
    }
}

static bool same(const xuan_dataset *a, const xuan_dataset *b) {
    if (a->n_items != b->n_items) return false;
    for (size_t i = 0; i < a->n_items; i++) {
        if (a->items[i].n_fields != b->items[i].n_fields) return false;
        for (size_t j = 0; j < a->items[i].n_fields; j++)
            if (strcmp(a->items[i].fields[j].name, b->items[i].fields[j].name) ||
                strcmp(a->items[i].fields[j].value, b->items[i].fields[j].value))
                return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const cols[] = {"question", "A", "answer"};
    xuan_dataset_opts o = {.format = (xuan_data_format)(data[0] & 3), .header = (data[0] & 4) != 0,
                           .max_line = 4096, .max_field = 2048, .max_items = 1000, .max_bytes = 1 << 20};
    if (data[0] & 8) o.columns = cols, o.n_columns = 3;
    xuan_dataset d;
    xuan_error err = {0};
    int rc = xuan_dataset_parse("fuzz.data", data + 1, size - 1, &o, &d, &err);
    if (rc != 0) {
        TRAP_IF(d.items != NULL || d.n_items != 0 || d.path != NULL);
        TRAP_IF(err.msg[0] == 0 || strchr(err.msg, '\n') != NULL || strncmp(err.msg, "fuzz.data", 9) != 0);
    } else {
        check(&d, &o);
    }
    if (o.format == XUAN_DATA_JSONL) { /* the same text through gzip */
        uLong bound = compressBound((uLong)size) + 64;
        unsigned char *gz = malloc(bound);
        z_stream z;
        memset(&z, 0, sizeof z);
        if (gz && deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK) {
            z.next_in = (Bytef *)(data + 1);
            z.avail_in = (uInt)(size - 1);
            z.next_out = gz;
            z.avail_out = (uInt)bound;
            int zr = deflate(&z, Z_FINISH);
            size_t n = z.total_out;
            deflateEnd(&z);
            if (zr == Z_STREAM_END) {
                xuan_dataset g;
                xuan_dataset_opts og = o;
                og.format = XUAN_DATA_JSONL_GZ;
                int grc = xuan_dataset_parse("fuzz.data", gz, n, &og, &g, &err);
                TRAP_IF((grc == 0) != (rc == 0));
                if (grc == 0) {
                    TRAP_IF(!same(&d, &g));
                    xuan_dataset_free(&g);
                }
            }
        }
        free(gz);
    }
    xuan_dataset_free(&d);
    return 0;
}
