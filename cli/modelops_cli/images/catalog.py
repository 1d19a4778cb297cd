"""What each image is built from: the names, files and stand-in bases.

Three kinds of image, each built from the file a user with Docker would use:

* `DockerfileImage`: a Dockerfile and its build context, filtered by
  `<Dockerfile>.dockerignore` (or the context's `.dockerignore`);
* `BentoImage`: a bentofile; `bentoml build` makes the bento, whose
  generated `env/docker/Dockerfile` is then built with the bento as context;
* `BinaryImage`: a Dockerfile whose context is the binaries a provisioning
  script builds from a pinned Go module (Prometheus, the S3 server).

The stand-in bases are Debian root filesystems made with debootstrap and the
uv binary of the release tools/bootstrap.sh pins, tagged with the names the
Dockerfiles' FROM lines use (see bases.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REF_REGISTRY = "modelops.local"


@dataclass(frozen=True)
class RootfsBase:
    """A Debian root filesystem committed as an image under one or more names."""

    key: str  # cache folder prefix
    suite: str
    packages: tuple[str, ...]  # besides minbase
    refs: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cmd: tuple[str, ...]
    # Commands made available where the upstream image has them (link -> target).
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UvBase:
    """The uv release's binaries at /uv and /uvx, as in ghcr.io/astral-sh/uv."""

    ref_repo: str


@dataclass(frozen=True)
class DockerfileImage:
    name: str
    dockerfile: str  # repository-relative
    context: str  # repository-relative folder


@dataclass(frozen=True)
class BentoImage:
    name: str
    bentofile: str  # repository-relative; its folder's ancestor bentos/ is the build context
    base: str  # the FROM line BentoML generates from the bentofile's docker options
    requirements: str  # the pinned list the bentofile installs (repository-relative)
    roots: tuple[str, ...]  # the service's direct dependencies, for that list


@dataclass(frozen=True)
class BinaryImage:
    name: str
    dockerfile: str
    provision: str  # a script printing (last line) the folder that holds `binaries`
    binaries: tuple[str, ...]
    module: str  # the Go module folder whose files pin the binaries


ImageSpec = DockerfileImage | BentoImage | BinaryImage

PATH_ENV = ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

PYTHON_BASE = RootfsBase(
    key="python",
    suite="bookworm",
    # python3-pip: the upstream image has pip, and BentoML's Dockerfile runs it.
    packages=("python3", "python3-pip", "ca-certificates", "netbase", "tzdata"),
    refs=(
        "docker.io/library/python:3.11.13-slim-bookworm",
        "docker.io/library/python:3.11-slim",
    ),
    env=(PATH_ENV, ("LANG", "C.UTF-8")),
    cmd=("python3",),
    # The upstream image installs Python under /usr/local; the Dockerfiles
    # name /usr/local/bin/python3.11.
    links=(
        ("usr/local/bin/python", "/usr/bin/python3.11"),
        ("usr/local/bin/python3", "/usr/bin/python3.11"),
        ("usr/local/bin/python3.11", "/usr/bin/python3.11"),
        ("usr/local/bin/pip", "/usr/bin/pip3"),
        ("usr/local/bin/pip3", "/usr/bin/pip3"),
    ),
)

DEBIAN_BASE = RootfsBase(
    key="debian",
    suite="bookworm",
    packages=(),
    refs=("docker.io/library/debian:bookworm-slim",),
    env=(PATH_ENV,),
    cmd=("bash",),
)

BENTO_ROOTS = (
    "bentoml",
    "prometheus-client",
    "pydantic",
    # uvicorn under `bentoml serve` picks these up by itself ("auto" loop / http).
    "uvloop",
    "httptools",
    # Installed as wheels built from this checkout; their dependencies are pinned here.
    "modelops-features",
    "modelops-registry",
)
# Declared by the xgboost wheel, loaded only by multi-GPU training.
NOT_IN_CPU_IMAGES = ("nvidia-nccl-cu12",)

IMAGES: dict[str, ImageSpec] = {
    spec.name: spec
    for spec in (
        DockerfileImage("modelops-operator", "docker/operator.Dockerfile", "."),
        DockerfileImage("modelops-training", "docker/training.Dockerfile", "."),
        BentoImage(
            "churn-bento",
            "bentos/modelops_bentos/churn/bentofile.yaml",
            base="python:3.11.13-slim-bookworm",
            requirements="bentos/requirements/churn.txt",
            # msgspec: churn's fast-accept decoder (churn/fast_records.py).
            roots=(*BENTO_ROOTS, "xgboost", "msgspec"),
        ),
        BentoImage(
            "learning-path-bento",
            "bentos/modelops_bentos/learning_path/bentofile.yaml",
            base="python:3.11.13-slim-bookworm",
            requirements="bentos/requirements/learning-path.txt",
            roots=BENTO_ROOTS,
        ),
        # Built from its Go module with Kubernetes service discovery, which
        # Debian's prometheus package leaves out.
        BinaryImage(
            "prometheus",
            "docker/dev/prometheus.Dockerfile",
            provision="tools/prometheus/provision.sh",
            binaries=("prometheus", "promtool"),
            module="tools/prometheus",
        ),
        BinaryImage(
            "s3",
            "docker/dev/s3.Dockerfile",
            provision="tools/s3/provision.sh",
            binaries=("versitygw",),
            module="tools/s3",
        ),
    )
}


class CatalogError(ValueError):
    """A name or a FROM line the catalogue does not know."""


def spec(name: str) -> ImageSpec:
    try:
        return IMAGES[name]
    except KeyError:
        known = ", ".join(IMAGES)
        raise CatalogError(f"unknown image {name!r} (known: {known})") from None


def uv_version(repo: Path) -> str:
    """The uv release tools/bootstrap.sh pins (one place says it)."""
    text = (repo / "tools" / "bootstrap.sh").read_text()
    match = re.search(r"^UV_VERSION=([0-9][0-9A-Za-z.]*)\s*$", text, re.MULTILINE)
    if match is None:
        raise CatalogError("tools/bootstrap.sh has no UV_VERSION=<version> line")
    return match.group(1)


def uv_base(repo: Path) -> UvBase:
    return UvBase(f"ghcr.io/astral-sh/uv:{uv_version(repo)}")


def normalize_ref(ref: str) -> str:
    """Docker's reading of an image name: `python:3.11` is docker.io/library/python:3.11."""
    name = ref.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if not rest:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def _from_instruction(words: list[str]) -> tuple[str, str | None] | None:
    """(image, stage name or None) of a FROM line's words; None for any other line."""
    if len(words) < 2 or words[0].upper() != "FROM":
        return None
    args = [w for w in words[1:] if not w.startswith("--")]
    named = len(args) >= 3 and args[1].upper() == "AS"
    return args[0], (args[2].lower() if named else None)


def from_refs(dockerfile_text: str) -> list[str]:
    """The external images a Dockerfile's FROM lines name (not its own stages)."""
    stages: set[str] = set()
    refs: list[str] = []
    for line in dockerfile_text.splitlines():
        instruction = _from_instruction(line.split())
        if instruction is None:
            continue
        image, stage = instruction
        if image.lower() not in stages and image != "scratch":
            refs.append(normalize_ref(image))
        if stage is not None:
            stages.add(stage)
    return refs


def cached_stages(dockerfile_text: str) -> list[str]:
    """The named stages before the last one that run at least one instruction.

    With `--layers`, each such stage ends in an image that nothing is built
    on (the last stage only copies from it), so buildah counts it as dangling
    and `rmi --prune` would delete it with the layers under it: the layer
    cache of, e.g., the dependency install. The builder tags them to keep them.
    """
    stages: list[tuple[str | None, int]] = []  # (name, instructions)
    for line in dockerfile_text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = _from_instruction(words)
        if instruction is not None:
            stages.append((instruction[1], 0))
        elif stages:
            name, count = stages[-1]
            stages[-1] = (name, count + 1)
    return [name for name, count in stages[:-1] if name is not None and count > 0]
