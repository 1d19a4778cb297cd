"""The node's own images: the pod sandbox (pause) and CoreDNS.

Both are one static binary each, so they are written as one-layer
docker-archives (archive.py) rather than built from a base image. The tag is
a hash of the binary and the image config, so a rebuilt binary gets a new
reference and the kubelet never runs a stale image under an old name.

`python -m modelops_cli.cluster.node_images` is what tools/node/provision.sh
runs; it prints the lines of node.env that name the archives and references.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .archive import File, ImageConfig, write_docker_archive

REGISTRY = "modelops.local"
# Bumped when the archive layout changes, so old archives are not reused.
FORMAT = "1"


@dataclass(frozen=True)
class NodeImage:
    name: str
    path_in_image: str
    config: ImageConfig


# 65535 is the user the upstream pause image runs as; nothing in a sandbox
# needs root. CoreDNS listens on an unprivileged port (coredns.py), so it runs
# as the same non-root uid as the project's other images.
PAUSE = NodeImage(
    "pause", "/pause", ImageConfig(entrypoint=("/pause",), env=(), user="65535:65535")
)
COREDNS = NodeImage(
    "coredns",
    "/coredns",
    ImageConfig(entrypoint=("/coredns",), env=(), user="65532:65532"),
)


@dataclass(frozen=True)
class Built:
    image: NodeImage
    ref: str
    path: Path
    cached: bool


def content_tag(image: NodeImage, binary: Path) -> str:
    """12 hex digits of sha256 over the binary, the image config and FORMAT."""
    digest = hashlib.sha256()
    digest.update(FORMAT.encode())
    digest.update(json.dumps(image.config.to_json(), sort_keys=True).encode())
    digest.update(image.path_in_image.encode())
    with open(binary, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def ensure(image: NodeImage, binary: Path, cache_dir: Path) -> Built:
    """Return the archive of `image` made from `binary`, writing it if absent."""
    tag = content_tag(image, binary)
    ref = f"{REGISTRY}/{image.name}:{tag}"
    path = cache_dir / f"{image.name}-{tag}.tar"
    if path.is_file():
        return Built(image, ref, path, cached=True)
    write_docker_archive({image.path_in_image: File(binary, 0o755)}, ref, path, config=image.config)
    return Built(image, ref, path, cached=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="directory of the archives")
    parser.add_argument("--pause", type=Path, required=True, help="the static pause binary")
    parser.add_argument("--coredns", type=Path, required=True, help="the static CoreDNS binary")
    args = parser.parse_args(argv)
    wrote = 0
    for image, binary in ((PAUSE, args.pause), (COREDNS, args.coredns)):
        if not binary.is_file():
            parser.error(f"--{image.name}: {binary} does not exist")
        built = ensure(image, binary, args.cache)
        wrote += not built.cached
        key = image.name.upper()
        print(f"{key}_IMAGE={built.path}")
        print(f"{key}_REF={built.ref}")
    print(f"# wrote {wrote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
