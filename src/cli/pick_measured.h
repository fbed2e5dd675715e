/*
 * pick_measured.h — `xuan eval` results into the catalog (pick_measured.c).
 */
#ifndef XUAN_CLI_PICK_MEASURED_H
#define XUAN_CLI_PICK_MEASURED_H

#include "xuan/base.h"
#include "xuan/pick.h"

/* Adds every stored run's mapped task scores to cat as measured records.
 * db_flag: --db, or NULL for <cache>/results.db (absent: nothing to add, not
 * an error; an absent --db file is a usage error).  notes gets one line per
 * run or task left out, and why; *added the records added.  Returns 0 or
 * an exit code (the message is printed). */
int cli_pick_load_measured(xuan_catalog *cat, const char *db_flag, xuan_buf *notes, int *added);

#endif
