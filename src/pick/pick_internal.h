/* pick_internal.h — what the files of src/pick share and nobody else needs. */
#ifndef XUAN_PICK_INTERNAL_H
#define XUAN_PICK_INTERNAL_H

#include "xuan/gguf.h"
#include "xuan/pick.h"

#include <string.h>

/* data/catalog.json, embedded (catalog_data.c, generated). */
extern const char xuan_pick_catalog_json[];
extern const unsigned long xuan_pick_catalog_json_len;

#endif
