#!/usr/bin/env bash
# Creates .venv/ at the repo root with every modelops part installed (editable)
# plus the dev tools. Installs uv first when the machine lacks it. Safe to run
# again: a second run with an unchanged uv.lock takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
CACHE="${MODELOPS_CACHE:-$HOME/.cache/modelops}"
export UV_PYTHON_DOWNLOADS=never   # use the machine's Python 3.11; no toolchain downloads

if command -v uv >/dev/null 2>&1; then
    UV=uv
else
    UV="$CACHE/tools/uv-$UV_VERSION/bin/uv"
    if [ ! -x "$UV" ]; then
        echo "bootstrap: installing uv $UV_VERSION into $CACHE/tools" >&2
        python3 -m venv "$CACHE/tools/uv-$UV_VERSION"
        "$CACHE/tools/uv-$UV_VERSION/bin/pip" install -q "uv==$UV_VERSION"
    fi
fi

PY="$(command -v python3.11 || command -v python3)"
"$UV" sync --frozen --all-packages --python "$PY" --quiet
