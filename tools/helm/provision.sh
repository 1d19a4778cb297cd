#!/usr/bin/env bash
# Makes the helm CLI and the third-party CRDs the chart tests need available:
#
#   ~/.cache/modelops/helm/<helm version>-k8s1.<minor>/helm  built from this folder's go.mod
#   ~/.cache/modelops/helm/crds/<module>@<ver>/    Gateway API (standard channel)
#                                                  and prometheus-operator
#                                                  ServiceMonitor / PodMonitor CRDs
#
# Everything comes from Go modules through the Go module proxy, so no other
# download channel is needed. The helm version is the one go.mod pins, so the
# cache key cannot drift from what is built. A cold helm build takes a few
# minutes on 2 cores; a warm run only checks the files.
#
# With --print-env, prints shell lines exporting MODELOPS_HELM and
# MODELOPS_THIRD_PARTY_CRDS on stdout (messages go to stderr).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_ROOT="${MODELOPS_CACHE:-$HOME/.cache/modelops}/helm"
HELM_VERSION="$(awk '$1 == "require" && $2 == "helm.sh/helm/v3" {print $3}' "$HERE/go.mod")"
# helm's own Makefile stamps the Kubernetes version `helm template` and `helm
# lint` assume (without a cluster) from the client-go it is built with:
# v0.37.0 -> 1.37. Without it they assume v1.20, and `helm template` refuses
# the chart's kubeVersion ">=1.30". Part of the cache key, so an older build
# made without the stamp is not reused.
CLIENT_GO="$(awk '$1 == "k8s.io/client-go" {print $2}' "$HERE/go.mod")"
K8S_MINOR="$(echo "$CLIENT_GO" | cut -d. -f2)"
HELM_BUILD="${HELM_VERSION}-k8s1.${K8S_MINOR}"
# Gateway API: HTTPRoute is what the operator writes when trafficRouter is GatewayAPI.
GATEWAY_API_MODULE="sigs.k8s.io/gateway-api"
GATEWAY_API_VERSION="v1.6.3"
# prometheus-operator: ServiceMonitor / PodMonitor, the chart's optional scrape objects.
PROM_OPERATOR_MODULE="github.com/prometheus-operator/prometheus-operator"
PROM_OPERATOR_VERSION="v0.85.0"
# helm.sh/helm/v3 v3.22 declares go 1.26; a newer toolchain is not fetched behind our back.
GO_MINOR_WANTED="go1.26"

say() { echo "helm-provision: $*" >&2; }

how_to_provide() {
    say "cannot provide helm ${HELM_VERSION} and the chart tests' CRDs."
    say "  Install Go ${GO_MINOR_WANTED}.x (https://go.dev/dl/) and run \`make helm\` again"
    say "  (it builds helm.sh/helm/v3/cmd/helm into $CACHE_ROOT/${HELM_BUILD}/ and copies"
    say "  the Gateway API and prometheus-operator CRDs from their Go modules),"
    say "  or set MODELOPS_HELM to a helm v3 binary you trust."
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

build_helm() {
    local dir="$1" go staging start ldflags
    if ! go="$(find_go)"; then
        say "Go ${GO_MINOR_WANTED}.x not found (GOTOOLCHAIN=local)"
        how_to_provide
        exit 1
    fi
    say "building helm ${HELM_VERSION} with $("$go" version) (a few minutes cold)"
    staging="$dir/.build"
    rm -rf "$staging"
    mkdir -p "$staging"
    start=$(date +%s)
    # helm stamps its version through these variables; without them `helm
    # version` reports a development build.
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
    ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    local var
    for var in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ldflags="$ldflags -X $var.k8sVersionMajor=1 -X $var.k8sVersionMinor=${K8S_MINOR}"
    done
    if ! (cd "$HERE" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod \
        "$go" build -trimpath -ldflags="$ldflags" -o "$staging/helm" helm.sh/helm/v3/cmd/helm) \
        >"$staging/build.log" 2>&1; then
        say "go build of helm failed; last lines of $staging/build.log:"
        tail -n 30 "$staging/build.log" >&2
        how_to_provide
        exit 1
    fi
    echo "helm $(($(date +%s) - start))" >"$staging/build-seconds"
    say "built helm in $(($(date +%s) - start)) s"
    # Moved into place only once built, so a half-finished build is never a cache hit.
    mv "$staging/build.log" "$staging/build-seconds" "$dir/"
    mv "$staging/helm" "$dir/helm"
    rmdir "$staging"
}

# Copies the CRD files of one folder of a Go module into the cache.
fetch_crds() {
    local module="$1" version="$2" subdir="$3" dest go src name
    shift 3
    dest="$CACHE_ROOT/crds/$(basename "$module")@${version}"
    if [ -n "$(ls "$dest"/*.yaml 2>/dev/null)" ]; then
        return 0
    fi
    go="$(find_go)" || { how_to_provide; exit 1; }
    src="$(cd /tmp && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go" mod download -json "${module}@${version}" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    if [ -z "$src" ] || [ ! -d "$src/$subdir" ]; then
        say "could not download ${module}@${version} (or it lacks $subdir)"
        how_to_provide
        exit 1
    fi
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    for name in "$@"; do
        cp "$src/$subdir/$name" "$dest.tmp/$name"
    done
    chmod u+w "$dest.tmp"/*.yaml
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    say "CRDs of ${module}@${version} in $dest"
}

mkdir -p "$CACHE_ROOT/$HELM_BUILD"
# Two provisions at once (two terminals, or a test fixture and make) must not
# both build into the same directory.
exec 9>"$CACHE_ROOT/.provision.lock"
flock 9
if [ -n "${MODELOPS_HELM:-}" ]; then
    [ -x "$MODELOPS_HELM" ] || { say "MODELOPS_HELM=$MODELOPS_HELM is not executable"; exit 1; }
    HELM="$MODELOPS_HELM"
else
    HELM="$CACHE_ROOT/$HELM_BUILD/helm"
    if [ -x "$HELM" ]; then
        say "using cached $HELM"
    else
        build_helm "$CACHE_ROOT/$HELM_BUILD"
    fi
fi
# Standard channel only: it is what clusters run in production and what the
# operator's HTTPRoutes must validate against.
fetch_crds "$GATEWAY_API_MODULE" "$GATEWAY_API_VERSION" config/crd/standard \
    gateway.networking.k8s.io_gatewayclasses.yaml \
    gateway.networking.k8s.io_gateways.yaml \
    gateway.networking.k8s.io_httproutes.yaml \
    gateway.networking.k8s.io_grpcroutes.yaml \
    gateway.networking.k8s.io_referencegrants.yaml \
    gateway.networking.k8s.io_backendtlspolicies.yaml \
    gateway.networking.k8s.io_listenersets.yaml \
    gateway.networking.k8s.io_tlsroutes.yaml \
    gateway.networking.k8s.io_tcproutes.yaml \
    gateway.networking.k8s.io_udproutes.yaml
fetch_crds "$PROM_OPERATOR_MODULE" "$PROM_OPERATOR_VERSION" example/prometheus-operator-crd \
    monitoring.coreos.com_servicemonitors.yaml \
    monitoring.coreos.com_podmonitors.yaml
if [ "${1:-}" = "--print-env" ]; then
    echo "export MODELOPS_HELM=$HELM"
    echo "export MODELOPS_THIRD_PARTY_CRDS=$CACHE_ROOT/crds"
fi
