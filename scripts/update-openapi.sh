#!/usr/bin/env bash
# Rewrites static/src/api/openapi.json, the SPA's copy of the app's OpenAPI
# document (GET /api/openapi.json, pretty-printed with a two-space indent),
# after an API change. The app test `openapi_snapshot` fails until it is
# regenerated; with UPDATE_OPENAPI set, that same test writes the file.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_OPENAPI=1 cargo test --quiet -p app --test it -- \
  --exact openapi_snapshot::the_committed_openapi_snapshot_is_current
echo "==> wrote static/src/api/openapi.json"
