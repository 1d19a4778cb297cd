#!/usr/bin/env bash
# Installs checkov (the chart's security scanner) into its own virtualenv at
# ~/.cache/modelops/tools/checkov-<version>/ from the hash-pinned
# requirements.txt beside this script, and prints the path of the checkov
# executable on stdout.
#
# Why not the workspace's dev group: checkov pins pytest, packaging and
# networkx below the versions the rest of the workspace locks, so adding it
# there would downgrade every other part's test tooling.
#
# Regenerate the pins after changing requirements.in:
#   uv pip compile --python-version 3.11 --generate-hashes --no-header \
#       requirements.in -o requirements.txt
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${MODELOPS_CACHE:-$HOME/.cache/modelops}"
VERSION="$(sed -n 's/^checkov==\([0-9.]*\)$/\1/p' "$HERE/requirements.in")"
VENV="$CACHE/tools/checkov-$VERSION"
UV_VERSION=0.13.9
export UV_PYTHON_DOWNLOADS=never

say() { echo "checkov-provision: $*" >&2; }

if [ -x "$VENV/bin/checkov" ] && cmp -s "$VENV/.requirements.txt" "$HERE/requirements.txt"; then
    echo "$VENV/bin/checkov"
    exit 0
fi

UV="$(command -v uv || true)"
[ -n "$UV" ] || UV="$CACHE/tools/uv-$UV_VERSION/bin/uv"
if [ ! -x "$UV" ]; then
    say "uv not found; run tools/bootstrap.sh first (it installs uv $UV_VERSION into $CACHE/tools)"
    exit 1
fi
PY="$(command -v python3.11 || command -v python3)"
mkdir -p "$CACHE/tools"
exec 9>"$CACHE/tools/.checkov.lock"
flock 9
say "installing checkov $VERSION into $VENV"
# The copy of requirements.txt is written last: it marks a finished install,
# so an interrupted one is redone instead of being taken for a cache hit.
rm -rf "$VENV"
"$UV" venv -q --python "$PY" "$VENV"
"$UV" pip install -q --python "$VENV/bin/python" --require-hashes -r "$HERE/requirements.txt"
cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
echo "$VENV/bin/checkov"
