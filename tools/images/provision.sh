#!/usr/bin/env bash
# Installs what `modelops images build` needs, only what is missing:
#   * Debian's buildah (builds the Dockerfiles; chroot isolation, no daemon)
#     and debootstrap (makes the Debian root filesystems of the stand-in bases);
#   * the uv release tools/bootstrap.sh pins, as a binary in
#     ~/.cache/modelops/tools/uv-<version>/bin/ (the uv base image's /uv and /uvx),
#     installed from PyPI exactly as tools/bootstrap.sh does.
# The S3 server's binary is built by tools/s3/provision.sh when its image is built.
# Needs root (apt-get; the builds themselves mount file systems). A warm run
# checks and returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${MODELOPS_CACHE:-$HOME/.cache/modelops}"
UV_VERSION="$(sed -n 's/^UV_VERSION=\([0-9][0-9A-Za-z.]*\)$/\1/p' tools/bootstrap.sh)"

say() { echo "images-provision: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    say "building images needs root (apt-get, debootstrap, buildah's chroot isolation); run as root"
    exit 1
fi

need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (Debian packages)"
    apt-get update -qq
    # No recommends: buildah's chroot isolation needs neither runc nor crun,
    # and fuse-overlayfs is for rootless storage.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -z "$UV_VERSION" ]; then
    say "tools/bootstrap.sh has no UV_VERSION=<version> line"
    exit 1
fi
UV_DIR="$CACHE/tools/uv-$UV_VERSION"
if [ ! -x "$UV_DIR/bin/uv" ] || [ ! -x "$UV_DIR/bin/uvx" ]; then
    say "installing uv $UV_VERSION into $UV_DIR (PyPI)"
    python3 -m venv "$UV_DIR"
    "$UV_DIR/bin/pip" install -q "uv==$UV_VERSION"
fi
