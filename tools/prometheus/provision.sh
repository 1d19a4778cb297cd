#!/usr/bin/env bash
# Builds Prometheus (and promtool) from the Go module pinned in this folder's
# go.mod, with Kubernetes service discovery, into
# ${MODELOPS_CACHE:-~/.cache/modelops}/prometheus/<version>/ unless already there,
# and prints that directory.
#
# Why not Debian's prometheus package: it is built without Kubernetes service
# discovery ("Disable kubernetes SD, until dependencies are more reasonable"),
# and the local cluster's Prometheus must discover the model pods the way a
# real cluster's does. Only the kubernetes, file and http discovery mechanisms
# are compiled in (build tags remove_all_sd,enable_kubernetes_sd), which keeps
# the build and the binary small. No web UI assets: the API is what the
# operator and the demo use.
#
# Cold: a few minutes on 2 cores (the Go build cache is shared with the other
# builds); warm: a file check.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VERSION="$(awk '$1 == "require" && $2 == "github.com/prometheus/prometheus" {print $3}' "$HERE/go.mod")"
DIR="${MODELOPS_CACHE:-$HOME/.cache/modelops}/prometheus/$VERSION"
GO_MINOR_WANTED="go1.26"
say() { echo "prometheus-provision: $*" >&2; }

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

mkdir -p "$DIR"
exec 9>"$DIR/.provision.lock"
flock 9
if [ -x "$DIR/prometheus" ] && [ -x "$DIR/promtool" ]; then
    echo "$DIR"
    exit 0
fi
if ! go="$(find_go)"; then
    say "Go ${GO_MINOR_WANTED#go}.x is needed to build Prometheus $VERSION (GOTOOLCHAIN=local);"
    say "install it (https://go.dev/dl/) or set GO=/path/to/go1.26/bin/go"
    exit 1
fi
staging="$DIR/.build"
rm -rf "$staging"
mkdir -p "$staging"
# Prometheus 3.x is published as module versions v0.3xx.y for 3.xx.y.
release="3.$(echo "$VERSION" | sed -E 's/^v0\.([0-9])([0-9]+)\.([0-9]+).*/\2.\3/' | sed -E 's/^0+([0-9])/\1/')"
ldflags="-s -w -X github.com/prometheus/common/version.Version=$release"
ldflags="$ldflags -X github.com/prometheus/common/version.Branch=module -X github.com/prometheus/common/version.Revision=$VERSION"
start=$(date +%s)
say "building prometheus $release ($VERSION) with $("$go" version) (a few minutes cold)"
for cmd in prometheus promtool; do
    t0=$(date +%s)
    if ! (cd "$HERE" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        "$go" build -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags="$ldflags" \
        -o "$staging/$cmd" "github.com/prometheus/prometheus/cmd/$cmd") >>"$staging/build.log" 2>&1; then
        say "go build of $cmd failed; last lines of $staging/build.log:"
        tail -n 30 "$staging/build.log" >&2
        exit 1
    fi
    echo "$cmd $(($(date +%s) - t0))" >>"$staging/build-seconds"
done
echo "total $(($(date +%s) - start))" >>"$staging/build-seconds"
mv "$staging/build.log" "$staging/build-seconds" "$DIR/"
mv "$staging/prometheus" "$staging/promtool" "$DIR/"
rmdir "$staging"
say "built prometheus and promtool in $(($(date +%s) - start)) s into $DIR"
echo "$DIR"
