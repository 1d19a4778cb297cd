#!/usr/bin/env bash
# `make demo`: train the churn model on synthetic data into the default local
# registry, then serve that version with BentoML in the foreground. Prints the
# endpoint and a sample curl once the model is loaded; Ctrl-C stops it.
#
# Environment: MODELOPS_REGISTRY (default: the local registry folder),
# PORT (default 3000), HOST (default 127.0.0.1), DEMO_DATA (default synthetic:20000).
set -euo pipefail
cd "$(dirname "$0")/.."
export BENTOML_DO_NOT_TRACK=true OMP_NUM_THREADS=1
PY=.venv/bin/python
REGISTRY="${MODELOPS_REGISTRY:-$($PY -c 'from modelops_registry import default_uri; print(default_uri())')}"
export MODELOPS_REGISTRY="$REGISTRY"

echo "demo: training churn on ${DEMO_DATA:-synthetic:20000} into $REGISTRY" >&2
result="$(.venv/bin/modelops train --model churn --data "${DEMO_DATA:-synthetic:20000}" --registry "$REGISTRY")"
echo "$result"
version="$(printf '%s' "$result" | $PY -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["version"])')"

# Serve exactly the version just trained ("latest" would race with another
# training run publishing into the same registry).
exec .venv/bin/modelops serve churn --registry "$REGISTRY" --version "$version" \
    --host "${HOST:-127.0.0.1}" --port "${PORT:-3000}"
