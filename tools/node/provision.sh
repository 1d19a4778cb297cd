#!/usr/bin/env bash
# Provides everything `modelops cluster up` needs for a real node beside the
# control plane, and records where it is in ~/.cache/modelops/node/node.env:
#
#   1. Debian packages (only those missing): containerd, runc, the CNI plugins,
#      iptables, nftables (to remove the tables a node leaves), conntrack,
#      gcc + libc6-dev (the pause image is a static C program).
#   2. kubelet, kube-proxy and kubectl, built from the control plane's Go
#      module (tools/controlplane/go.mod pins k8s.io/kubernetes) into the same
#      versioned cache directory as kube-apiserver & co. (kubectl too, so the
#      node tests and the demo use a client of the cluster's own version.)
#   3. CoreDNS, built from its own small module (tools/node/coredns), cached
#      by version and by the hash of that module's files.
#   4. The pause (sandbox) and CoreDNS images, written as docker-archives by
#      modelops_cli.cluster.node_images, cached by content.
#
# Cold, each step's seconds are appended to ~/.cache/modelops/node/provision-seconds.
# Run `make controlplane` first (the Makefile's `node` target does): the
# kubelet build reuses its Go build cache, and this script waits on the same
# lock, so a control-plane build still running is never doubled.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${MODELOPS_CACHE:-$HOME/.cache/modelops}"
CP_CACHE="$CACHE/controlplane"
NODE_CACHE="$CACHE/node"
NODE_ENV="$NODE_CACHE/node.env"
SECONDS_FILE="$NODE_CACHE/provision-seconds"
CP_MOD="$REPO/tools/controlplane/go.mod"
K8S_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$CP_MOD")"
K8S_MINOR="$(echo "$K8S_VERSION" | cut -d. -f2)"
COREDNS_VERSION="$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" {print $3}' "$HERE/coredns/go.mod")"
# The same Go minor as the control plane (Go 1.27 breaks kube-openapi in 1.36).
GO_MINOR_WANTED="go1.26"
PYTHON="$REPO/.venv/bin/python"

say() { echo "node: $*" >&2; }

record() {  # record <step> <seconds>: the cold cost of one step
    echo "$1 $2 $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$SECONDS_FILE"
    say "$1 took $2 s"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local need=() t0
    command -v containerd >/dev/null 2>&1 || need+=(containerd)
    command -v runc >/dev/null 2>&1 || need+=(runc)
    [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] \
        && [ -x /usr/lib/cni/portmap ] || need+=(containernetworking-plugins)
    command -v iptables >/dev/null 2>&1 || need+=(iptables)
    command -v nft >/dev/null 2>&1 || need+=(nftables)
    command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
    command -v gcc >/dev/null 2>&1 || need+=(gcc)
    [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/libc.a ] || need+=(libc6-dev)
    [ ${#need[@]} -gt 0 ] || return 0
    say "installing Debian packages: ${need[*]}"
    t0=$(date +%s)
    as_root apt-get update -qq
    # Debian's containerd package would start a daemon through systemd or
    # sysvinit on install; neither runs here, and `modelops cluster up` starts
    # its own containerd with a private configuration either way.
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    record debian-packages $(($(date +%s) - t0))
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
    say "Go ${GO_MINOR_WANTED#go}.x not found (GOTOOLCHAIN=local); install it from https://go.dev/dl/ and run \`make node\` again"
    return 1
}

# go_build <module dir> <package> <output> <ldflags>: build into a staging file
# and move it into place only on success, so a failed build is never cached.
go_build() {
    local dir="$1" pkg="$2" out="$3" ldflags="$4" go log
    go="$(find_go)"
    log="$out.build.log"
    mkdir -p "$(dirname "$out")"
    if ! (cd "$dir" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        "$go" build -trimpath -ldflags="$ldflags" -o "$out.partial" "$pkg") >"$log" 2>&1; then
        say "go build of $pkg failed; last lines of $log:"
        tail -n 30 "$log" >&2
        exit 1
    fi
    mv "$out.partial" "$out"
}

ensure_kube_binaries() {
    local dir="$CP_CACHE/$K8S_VERSION" ldflags="-s -w" pkg name t0
    # Stamped like the control plane's binaries (tools/controlplane/provision.sh):
    # the kubelet reports this version on its Node and the API server compares it.
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags="$ldflags -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1"
        ldflags="$ldflags -X $pkg.gitMinor=${K8S_MINOR} -X $pkg.gitTreeState=clean"
    done
    for name in kubelet kube-proxy kubectl; do
        [ -x "$dir/$name" ] && continue
        # kubelet: under a minute with the control plane's Go cache warm, about
        # 4 minutes cold; kube-proxy and kubectl: 10-40 s.
        say "building $name ${K8S_VERSION}"
        t0=$(date +%s)
        go_build "$REPO/tools/controlplane" "k8s.io/kubernetes/cmd/$name" "$dir/$name" "$ldflags"
        echo "$name $(($(date +%s) - t0))" >>"$dir/build-seconds"
        record "$name" $(($(date +%s) - t0))
    done
    KUBELET="$dir/kubelet"
    KUBE_PROXY="$dir/kube-proxy"
    # A directory with kubectl alone, for PATH: the build directory also
    # holds the control plane's binaries.
    mkdir -p "$NODE_CACHE/bin"
    ln -sfn "$dir/kubectl" "$NODE_CACHE/bin/kubectl"
    KUBECTL="$NODE_CACHE/bin/kubectl"
}

ensure_coredns() {
    local key dir t0
    # The binary depends on the plugin list in main.go as much as on the
    # version, so both are in the cache key.
    key="$(cat "$HERE/coredns/main.go" "$HERE/coredns/go.mod" "$HERE/coredns/go.sum" | sha256sum | cut -c1-12)"
    dir="$NODE_CACHE/coredns-$COREDNS_VERSION-$key"
    COREDNS="$dir/coredns"
    [ -x "$COREDNS" ] && return 0
    say "building CoreDNS $COREDNS_VERSION (about 2 minutes cold)"
    t0=$(date +%s)
    go_build "$HERE/coredns" . "$COREDNS" \
        "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
    record coredns $(($(date +%s) - t0))
}

ensure_pause() {
    local key dir t0
    key="$( (cat "$HERE/images/pause.c"; gcc --version | head -n1) | sha256sum | cut -c1-12)"
    dir="$NODE_CACHE/pause-$key"
    PAUSE="$dir/pause"
    [ -x "$PAUSE" ] && return 0
    t0=$(date +%s)
    mkdir -p "$dir"
    gcc -static -Os -s -o "$PAUSE.partial" "$HERE/images/pause.c"
    mv "$PAUSE.partial" "$PAUSE"
    record pause $(($(date +%s) - t0))
}

ensure_images() {
    local t0 out
    if [ ! -x "$PYTHON" ]; then
        say "$PYTHON is missing; run \`make venv\` (tools/bootstrap.sh) first"
        exit 1
    fi
    t0=$(date +%s)
    # Prints NAME_IMAGE=<archive> and NAME_REF=<ref> lines for node.env and a
    # "# wrote N" line; archives already in the cache are reused, not rewritten.
    out="$("$PYTHON" -m modelops_cli.cluster.node_images --cache "$NODE_CACHE/images" \
        --pause "$PAUSE" --coredns "$COREDNS")"
    IMAGE_LINES="$out"
    if grep -q "^# wrote [1-9]" <<<"$out"; then
        record images $(($(date +%s) - t0))
    fi
}

mkdir -p "$CP_CACHE" "$NODE_CACHE"
ensure_packages
# The control-plane build holds this lock for its whole run: waiting on it
# means the kubelet build starts only once that one has finished.
exec 9>"$CP_CACHE/.provision.lock"
flock 9
ensure_kube_binaries
ensure_coredns
ensure_pause
ensure_images
{
    echo "KUBELET=$KUBELET"
    echo "KUBE_PROXY=$KUBE_PROXY"
    echo "KUBECTL=$KUBECTL"
    echo "COREDNS=$COREDNS"
    echo "PAUSE=$PAUSE"
    grep -v "^#" <<<"$IMAGE_LINES"
} >"$NODE_ENV.tmp"
mv "$NODE_ENV.tmp" "$NODE_ENV"
say "node binaries and images ready: $NODE_ENV"
