#!/usr/bin/env bash
# Builds versitygw, the S3-compatible object store of the local cluster, from
# this folder's Go module into
#
#   ~/.cache/modelops/s3/<versitygw version>/versitygw
#
# (MODELOPS_CACHE overrides ~/.cache/modelops) and prints that directory on
# stdout; messages go to stderr. versitygw (Apache-2.0) is one static binary;
# its posix backend serves a directory over the S3 API. The version is the one
# go.mod pins, so the cache key cannot drift from what is built. A cold build
# takes about two minutes on 2 cores; a warm run only checks the file.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
MODULE="github.com/versity/versitygw"
VERSION="$(awk -v m="$MODULE" '$1 == "require" && $2 == m {print $3}' "$HERE/go.mod")"
CACHE_ROOT="${MODELOPS_CACHE:-$HOME/.cache/modelops}/s3"
DIR="$CACHE_ROOT/$VERSION"
# go.mod says go 1.26.0; a newer toolchain is not fetched behind our back.
GO_MINOR_WANTED="go1.26"

say() { echo "s3-provision: $*" >&2; }

how_to_provide() {
    say "cannot build versitygw ${VERSION}."
    say "  Install Go ${GO_MINOR_WANTED#go}.x (https://go.dev/dl/) and run tools/s3/provision.sh again"
    say "  (it builds ${MODULE}/cmd/versitygw into $DIR/)."
}

find_go() {
    local candidate
    for candidate in "${GO:-}" go /usr/local/go/bin/go; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if GOTOOLCHAIN=local "$candidate" version | grep -q " ${GO_MINOR_WANTED}[. ]"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ -z "$VERSION" ]; then
    say "no 'require $MODULE' line in $HERE/go.mod"
    exit 1
fi
if [ -x "$DIR/versitygw" ]; then
    echo "$DIR"
    exit 0
fi
if ! go="$(find_go)"; then
    say "Go ${GO_MINOR_WANTED#go}.x not found (GOTOOLCHAIN=local)"
    how_to_provide
    exit 1
fi
say "building versitygw ${VERSION} with $("$go" version) (about two minutes cold)"
staging="$DIR/.build"
rm -rf "$staging"
mkdir -p "$staging"
start=$(date +%s)
# Stamp the version the way versitygw's Makefile does, so `versitygw --version`
# says what runs; -trimpath and no build time keep the binary reproducible.
ldflags="-s -w -X=main.Version=${VERSION} -X=main.Build=module -X=main.BuildTime=none"
# -mod=readonly: build exactly the graph pinned by go.mod/go.sum.
if ! (cd "$HERE" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    "$go" build -trimpath -ldflags="$ldflags" -o "$staging/versitygw" "${MODULE}/cmd/versitygw") \
    >"$staging/build.log" 2>&1; then
    say "go build of versitygw failed; last lines of $staging/build.log:"
    tail -n 30 "$staging/build.log" >&2
    how_to_provide
    exit 1
fi
echo "versitygw $(($(date +%s) - start))" >"$staging/build-seconds"
say "built versitygw in $(($(date +%s) - start)) s"
# Moved into place only once built, so a half-finished build is never a cache hit.
mv "$staging/build.log" "$staging/build-seconds" "$DIR/"
mv "$staging/versitygw" "$DIR/versitygw"
rmdir "$staging"
echo "$DIR"
