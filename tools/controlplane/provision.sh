#!/usr/bin/env bash
# Makes the Kubernetes control-plane binaries available for the cluster tests
# and `modelops controlplane up`, then records where they are in
# ~/.cache/modelops/controlplane/assets.env (sourced by tools/run-tests.sh).
#
# Order of preference (envtest convention):
#   1. KUBEBUILDER_ASSETS, when set: a directory holding kube-apiserver and etcd
#      (and kube-controller-manager + kube-scheduler for the controller tests).
#   2. The cache ~/.cache/modelops/controlplane/<k8s version>/, built here from
#      Go modules when absent (this folder's go.mod pins k8s.io/kubernetes).
# etcd comes from Debian's etcd-server package and is linked into the cache
# directory so that the directory alone satisfies the envtest convention.
#
# kwok (sigs.k8s.io/kwok, pinned in kwok/go.mod) is built too, into its own
# cache directory keyed by kwok version, and linked into the assets directory:
# `modelops controlplane up --with-kwok` uses it to simulate a node, so Pods get
# Running and Deployments Available. MODELOPS_KWOK=0 skips it
# (then `up --with-kwok` and the kwok tests fail, saying why).
#
# A cold build takes about 10 minutes and 2 GB of memory on 2 cores; a warm
# run only checks the files and takes well under a second.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_ROOT="${MODELOPS_CACHE:-$HOME/.cache/modelops}/controlplane"
ASSETS_ENV="$CACHE_ROOT/assets.env"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler)
# The Kubernetes version is the one go.mod pins, so the cache key cannot drift
# from what is built.
K8S_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$HERE/go.mod")"
K8S_MINOR="$(echo "$K8S_VERSION" | cut -d. -f2)"
KWOK_VERSION="$(awk '$1 == "require" && $2 == "sigs.k8s.io/kwok" {print $3}' "$HERE/kwok/go.mod")"
# kwok's stock "fast" stages: nodes become Ready and keep a lease; Pods on
# them become Running and Ready, Job Pods complete, deleted Pods go away.
KWOK_STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
# Go 1.27 changed encoding/json in ways that break kube-openapi in 1.36: the
# server starts but serves broken OpenAPI. Only this Go minor is accepted.
GO_MINOR_WANTED="go1.26"

say() { echo "controlplane: $*" >&2; }

how_to_provide() {
    cat >&2 <<EOF
controlplane: cannot provide the Kubernetes control-plane binaries.
  Either install Go ${GO_MINOR_WANTED#go}.x (https://go.dev/dl/) and run \`make controlplane\` again
  (it builds kube-apiserver, kube-controller-manager and kube-scheduler ${K8S_VERSION}
  from Go modules into $CACHE_ROOT/${K8S_VERSION}/, and kwok ${KWOK_VERSION}),
  or point KUBEBUILDER_ASSETS at a directory that holds etcd, kube-apiserver,
  kube-controller-manager and kube-scheduler (e.g. \`setup-envtest use -p path\`
  gives etcd + kube-apiserver; add the other two from a Kubernetes release).
EOF
}

missing_in() {
    local dir="$1" name
    for name in "${BINARIES[@]}"; do
        [ -x "$dir/$name" ] || echo "$name"
    done
    # etcd may also come from PATH (Debian's etcd-server), as on the Python side.
    [ -x "$dir/etcd" ] || command -v etcd >/dev/null 2>&1 || echo etcd
}

ensure_etcd() {
    command -v etcd >/dev/null 2>&1 && return 0
    say "installing etcd (Debian etcd-server)"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
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

build_binaries() {
    local dir="$1" go staging ldflags start t0 name
    if ! go="$(find_go)"; then
        say "Go ${GO_MINOR_WANTED#go}.x not found (GOTOOLCHAIN=local; Go 1.27 breaks kube-openapi in Kubernetes 1.${K8S_MINOR})"
        how_to_provide
        exit 1
    fi
    say "building Kubernetes ${K8S_VERSION} control plane with $("$go" version) (about 10 minutes cold)"
    staging="$dir/.build"
    rm -rf "$staging"
    mkdir -p "$staging"
    # Stamp the version the way Kubernetes' own build does; without it the
    # server reports v0.0.0-master, which confuses version-aware clients.
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags="$ldflags -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1"
        ldflags="$ldflags -X $pkg.gitMinor=${K8S_MINOR} -X $pkg.gitTreeState=clean"
    done
    start=$(date +%s)
    # -mod=readonly: build exactly the graph pinned by go.mod/go.sum, never
    # edit them behind the user's back.
    for name in "${BINARIES[@]}"; do
        t0=$(date +%s)
        if ! (cd "$HERE" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
            "$go" build -trimpath -ldflags="$ldflags" -o "$staging/$name" "k8s.io/kubernetes/cmd/$name") \
            >>"$staging/build.log" 2>&1; then
            say "go build of $name failed; last lines of $staging/build.log:"
            tail -n 30 "$staging/build.log" >&2
            how_to_provide
            exit 1
        fi
        echo "$name $(($(date +%s) - t0))" >>"$staging/build-seconds"
        say "built $name in $(($(date +%s) - t0)) s"
    done
    echo "total $(($(date +%s) - start))" >>"$staging/build-seconds"
    # Move into place only when all three built, so a half-finished build is
    # never mistaken for a cache hit.
    mv "$staging/build.log" "$staging/build-seconds" "$dir/"
    for name in "${BINARIES[@]}"; do mv "$staging/$name" "$dir/$name"; done
    rmdir "$staging"
}

build_kwok() {
    local dir="$1" go staging t0 module_dir stage
    if ! go="$(find_go)"; then
        say "Go ${GO_MINOR_WANTED#go}.x not found; cannot build kwok (the cluster tests and \`up --with-kwok\` need it)"
        return 1
    fi
    say "building kwok ${KWOK_VERSION} (a few minutes cold)"
    staging="$dir/.build"
    rm -rf "$staging"
    mkdir -p "$staging"
    t0=$(date +%s)
    if ! (cd "$HERE/kwok" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        "$go" build -trimpath -ldflags="-s -w" -o "$staging/kwok" sigs.k8s.io/kwok/cmd/kwok) \
        >>"$staging/build.log" 2>&1; then
        say "go build of kwok failed; last lines of $staging/build.log:"
        tail -n 30 "$staging/build.log" >&2
        return 1
    fi
    echo "kwok $(($(date +%s) - t0))" >"$staging/build-seconds"
    module_dir="$(cd "$HERE/kwok" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$go" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" || return 1
    for stage in "${KWOK_STAGES[@]}"; do
        echo "---"
        cat "$module_dir/kustomize/stage/$stage"
    done >"$staging/stages.yaml" || return 1
    mv "$staging/build.log" "$staging/build-seconds" "$staging/stages.yaml" "$dir/"
    mv "$staging/kwok" "$dir/kwok"
    rmdir "$staging"
    say "built kwok in $(($(date +%s) - t0)) s"
}

# Prints the directory holding kwok + stages.yaml, building it when absent.
ensure_kwok() {
    local kwok_dir="$CACHE_ROOT/kwok-$KWOK_VERSION"
    mkdir -p "$kwok_dir"
    if { [ -x "$kwok_dir/kwok" ] && [ -f "$kwok_dir/stages.yaml" ]; } || build_kwok "$kwok_dir"; then
        echo "$kwok_dir"
        return 0
    fi
    say "kwok could not be built; set MODELOPS_KWOK=0 to provision without it"
    how_to_provide
    exit 1
}

mkdir -p "$CACHE_ROOT"
# Two `make controlplane` runs at once (e.g. two terminals) must not both
# spend 10 minutes building into the same directory.
exec 9>"$CACHE_ROOT/.provision.lock"
flock 9

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    missing="$(missing_in "$KUBEBUILDER_ASSETS")"
    if [ -n "$missing" ]; then
        say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks:" $missing
        how_to_provide
        exit 1
    fi
    say "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    # envtest directories carry no kwok; the Python side also looks for it
    # in the cache, so build it there rather than writing into the user's dir.
    if [ "${MODELOPS_KWOK:-1}" != 0 ] && [ ! -x "$KUBEBUILDER_ASSETS/kwok" ]; then
        kwok_dir="$(ensure_kwok)"
        say "kwok from $kwok_dir"
    fi
    exit 0
fi

DIR="$CACHE_ROOT/$K8S_VERSION"
mkdir -p "$DIR"
ensure_etcd
need_build=0
for name in "${BINARIES[@]}"; do [ -x "$DIR/$name" ] || need_build=1; done
if [ "$need_build" = 1 ]; then
    build_binaries "$DIR"
else
    say "using cached binaries in $DIR"
fi
ln -sfn "$(command -v etcd)" "$DIR/etcd"
if [ "${MODELOPS_KWOK:-1}" != 0 ]; then
    KWOK_DIR="$(ensure_kwok)"
    ln -sfn "$KWOK_DIR/kwok" "$DIR/kwok"
fi
missing="$(missing_in "$DIR")"
if [ -n "$missing" ]; then
    say "still missing in $DIR:" $missing
    how_to_provide
    exit 1
fi
echo "export KUBEBUILDER_ASSETS=$DIR" >"$ASSETS_ENV.tmp"
mv "$ASSETS_ENV.tmp" "$ASSETS_ENV"
say "assets ready: $(cat "$ASSETS_ENV")"
