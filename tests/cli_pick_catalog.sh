#!/usr/bin/env bash
# data/ is reproducible: scripts/build_catalog.py regenerates exactly the
# committed data/catalog.json, data/sources/ and src/pick/catalog_data.c from
# ../shared/catalog.  Skipped (visibly) when the shared catalog is absent.
set -u
SRC=${XUAN_SRC:?}; SHARED=${XUAN_SHARED:-$SRC/../shared}
if [ ! -f "$SHARED/catalog/models.json" ]; then
  echo "skip: $SHARED/catalog not present (the committed data/ is used as is)"
  echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
if python3 "$SRC/scripts/build_catalog.py" --shared "$SHARED/catalog" --check; then
  echo "ok   data/ matches scripts/build_catalog.py output"; echo "1 passed, 0 failed"
else
  echo "FAIL data/ is stale: run python3 scripts/build_catalog.py"; echo "0 passed, 1 failed"; exit 1
fi
