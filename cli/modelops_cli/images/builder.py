"""`ensure(names)`: every named image as a docker-archive, built only when its inputs changed.

Each image is written to `~/.cache/modelops/images/<name>-<hash12>.tar`
(MODELOPS_CACHE overrides ~/.cache/modelops) and named
`modelops.local/<name>:<hash12>` inside; a JSON file beside it records the
digest, size and build time. An archive whose file exists is a cache hit.
The archives are what a node imports (`ctr -n k8s.io images import`) and
what `docker load` reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelops_cli.images import bento, catalog, ignore, inputs
from modelops_cli.images.bases import Bases
from modelops_cli.images.buildah import Buildah
from modelops_cli.images.errors import ImagesError, require_root

KEEP_ARCHIVES = 2  # per image: the current one and the one before


# Depth of the storage lock held by this thread, per images root: a thread
# holding it (a test's working container) can still call the builder without
# waiting for itself; another thread or process waits for the lock.
_HELD = threading.local()


@contextmanager
def storage_lock(root: Path, echo: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """The image store's machine-wide lock (`<root>/.lock`), re-entrant within a thread.

    Builds, prunes and anything that keeps a working container in the store
    (tests/node/images_support.py) hold it: a build ends with `buildah rm
    --all`, which would remove another process's working container.
    """
    root = root.resolve()
    held: dict[Path, int] = _HELD.__dict__.setdefault("depth", {})
    with contextlib.ExitStack() as stack:
        if not held.get(root):
            stack.enter_context(_flock(root / ".lock", echo))
        held[root] = held.get(root, 0) + 1
        try:
            yield
        finally:
            held[root] -= 1


@contextmanager
def _flock(path: Path, echo: Callable[[str], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            echo("waiting for another image build on this machine to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@dataclass(frozen=True)
class BuiltImage:
    name: str
    ref: str
    archive: Path
    digest: str  # the image id (sha256 of its config), as `crictl images` shows it
    size: int  # bytes of the archive
    seconds: float  # spent by this call (a cache hit costs the input hashing only)
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "archive": str(self.archive)}


def cache_root() -> Path:
    return Path(os.environ.get("MODELOPS_CACHE") or Path.home() / ".cache" / "modelops")


def stage_ref(ref: str, stage: str) -> str:
    """The name a build stage's image is kept under: `<ref>-<stage>`."""
    return f"{ref}-{stage}"


def superseded(refs: list[str], keep: str) -> list[str]:
    """The refs of an image to drop: all but `keep` and its stages' (`stage_ref`)."""
    return [ref for ref in refs if ref != keep and not ref.startswith(keep + "-")]


def disk_usage(path: Path) -> int:
    """Bytes on disk under `path`, hard links once (`du`); 0 when it does not exist."""
    if not path.exists():
        return 0
    proc = subprocess.run(["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ImagesError(f"du {path} failed: {proc.stderr.strip()[-500:]}")
    return int(proc.stdout.split()[0])


def repo_root() -> Path:
    """The checkout this package runs from (the images are built from its files)."""
    root = Path(__file__).resolve().parents[3]
    if not ((root / "uv.lock").is_file() and (root / "docker").is_dir()):
        raise ImagesError(
            f"modelops images builds from a source checkout; {root} is not one "
            "(run it from the repository's .venv)"
        )
    return root


def ensure(
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    refresh_bases: bool = False,
    echo: Callable[[str], None] | None = None,
) -> list[BuiltImage]:
    """The named images (all when None), built where their archive is missing."""
    builder = Builder(repo_root(), cache_root(), refresh_bases=refresh_bases, echo=echo)
    return builder.ensure(list(names) if names else list(catalog.IMAGES), force=force)


class Builder:
    def __init__(
        self,
        repo: Path,
        cache: Path,
        *,
        refresh_bases: bool = False,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.repo = repo
        self.cache = cache
        self.root = cache / "images"
        self.echo = echo or (lambda line: print(f"images: {line}", file=sys.stderr))
        self.bases = Bases(cache, repo, refresh=refresh_bases, echo=self.echo)
        self._buildah: Buildah | None = None
        self._scratch: list[Path] = []

    @property
    def buildah(self) -> Buildah:
        if self._buildah is None:
            self._buildah = Buildah.at(self.root)
        return self._buildah

    # -- inputs ---------------------------------------------------------------

    def inputs(self, name: str, log: Path | None = None) -> dict[str, Any]:
        """Digests of everything the image is made from (bases made first when `log`)."""
        spec = catalog.spec(name)
        parts: dict[str, Any] = {"name": name, "buildah": self.buildah.version()}
        if isinstance(spec, catalog.BentoImage):
            parts.update(bento.input_parts(self.repo, spec, self.bases.uv_version))
            parts["bases"] = {spec.base: self.bases.identity(spec.base, log)}
            return parts
        dockerfile = self.repo / spec.dockerfile
        text = dockerfile.read_text()
        parts["dockerfile"] = inputs.sha256_file(dockerfile)
        parts["bases"] = {ref: self.bases.identity(ref, log) for ref in catalog.from_refs(text)}
        if isinstance(spec, catalog.DockerfileImage):
            context = self.repo / spec.context
            files = inputs.context_files(context, self.ignore_patterns(spec))
            parts["context"] = inputs.manifest_digest(context, files)
        else:
            module = self.repo / spec.module
            parts["module"] = inputs.manifest_digest(module, inputs.context_files(module, []))
            parts["provision"] = inputs.sha256_file(self.repo / spec.provision)
        return parts

    def ignore_patterns(self, spec: catalog.DockerfileImage) -> list[ignore.Pattern]:
        """Docker's choice: `<Dockerfile>.dockerignore`, else the context's `.dockerignore`."""
        beside = self.repo / (spec.dockerfile + ".dockerignore")
        in_context = self.repo / spec.context / ".dockerignore"
        for path in (beside, in_context):
            if path.is_file():
                return ignore.parse(path.read_text())
        return []

    def ref(self, name: str, log: Path | None = None) -> tuple[str, str]:
        """(ref, hash12) for the image's current inputs."""
        digest = inputs.input_hash(self.inputs(name, log))[:12]
        return f"{catalog.REF_REGISTRY}/{name}:{digest}", digest

    def archive_path(self, name: str, digest: str) -> Path:
        return self.root / f"{name}-{digest}.tar"

    # -- building -------------------------------------------------------------

    def ensure(self, names: list[str], *, force: bool = False) -> list[BuiltImage]:
        for name in names:
            catalog.spec(name)  # unknown names fail before anything is built
        require_root()
        self.root.mkdir(parents=True, exist_ok=True)
        with storage_lock(self.root, self.echo):
            return [self._ensure_one(name, force) for name in names]

    def _ensure_one(self, name: str, force: bool) -> BuiltImage:
        start = time.monotonic()
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        log = logs / f"{name}.log"
        log.write_text("")
        parts = self.inputs(name, log)
        digest = inputs.input_hash(parts)[:12]
        ref = f"{catalog.REF_REGISTRY}/{name}:{digest}"
        archive = self.archive_path(name, digest)
        meta = archive.with_suffix(".json")
        if archive.is_file() and meta.is_file() and not force:
            recorded = json.loads(meta.read_text())
            return BuiltImage(
                name, ref, archive, recorded["digest"], archive.stat().st_size,
                round(time.monotonic() - start, 2), True,
            )  # fmt: skip
        self.echo(f"building {ref} (log: {log})")
        spec = catalog.spec(name)
        work = self.root / "work" / name
        try:
            dockerfile, context = self._prepare(spec, work, log, parts.get("context"))
            text = dockerfile.read_text()
            for base_ref in catalog.from_refs(text):
                self.bases.ensure(self.buildah, base_ref, log)
            self.buildah.bud(dockerfile, context, ref, log=log)
            for stage in catalog.cached_stages(text):
                self.buildah.bud(dockerfile, context, stage_ref(ref, stage), log=log, target=stage)
            self.buildah.write_archive(ref, archive, log=log)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            for scratch in self._scratch:
                shutil.rmtree(scratch, ignore_errors=True)
            self._scratch.clear()
        seconds = round(time.monotonic() - start, 2)
        image_id = self.buildah.image_id(ref)
        meta.write_text(
            json.dumps({"ref": ref, "digest": image_id, "build_seconds": seconds}) + "\n"
        )
        self._forget_older(name, keep=ref)
        self.echo(f"built {ref} in {seconds:.0f} s ({archive.stat().st_size / 1e6:.0f} MB)")
        self._prune(log)
        return BuiltImage(name, ref, archive, image_id, archive.stat().st_size, seconds, False)

    def _prepare(
        self, spec: catalog.ImageSpec, work: Path, log: Path, expected_context: str | None
    ) -> tuple[Path, Path]:
        """(Dockerfile, build context) on disk, exactly the inputs that were hashed."""
        if isinstance(spec, catalog.BentoImage):
            uv = self._uv_for_wheels()
            # BentoML refuses paths through hidden folders (~/.cache), so the
            # bento is made under the temporary directory.
            scratch = Path(tempfile.mkdtemp(prefix=f"modelops-{spec.name}-"))
            self._scratch.append(scratch)
            built = bento.build_bento(self.repo, spec, scratch, uv, log)
            return built / "env" / "docker" / "Dockerfile", built
        dockerfile = self.repo / spec.dockerfile
        stage = work / "context"
        shutil.rmtree(work, ignore_errors=True)
        stage.mkdir(parents=True)
        if isinstance(spec, catalog.DockerfileImage):
            # buildah 1.28 ignores <Dockerfile>.dockerignore: build from a copy
            # holding only what the rules let through.
            source = self.repo / spec.context
            files = inputs.context_files(source, self.ignore_patterns(spec))
            for rel in files:
                target = stage / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / rel, target, follow_symlinks=False)
            # The copy is what gets built: it must be what was hashed.
            if inputs.manifest_digest(stage, files) != expected_context:
                raise ImagesError(
                    f"files of {spec.name}'s context changed while it was being built: run again"
                )
            return dockerfile, stage
        folder = self._provision(spec, log)
        for binary in spec.binaries:
            shutil.copy2(folder / binary, stage / binary)
        return dockerfile, stage

    def _provision(self, spec: catalog.BinaryImage, log: Path) -> Path:
        script = self.repo / spec.provision
        with log.open("a") as out:
            proc = subprocess.run([str(script)], stdout=subprocess.PIPE, stderr=out, text=True)
        if proc.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-20:])
            raise ImagesError(f"{spec.provision} failed (log: {log}):\n{tail}")
        return Path(proc.stdout.strip().splitlines()[-1])

    def _uv_for_wheels(self) -> Path:
        found = shutil.which("uv")
        if found:
            return Path(found)
        return self.cache / "tools" / f"uv-{self.bases.uv_version}" / "bin" / "uv"

    def _forget_older(self, name: str, keep: str) -> None:
        """Drops superseded tags, and archives beyond the newest KEEP_ARCHIVES."""
        for ref in superseded(self.buildah.refs_of(f"{catalog.REF_REGISTRY}/{name}"), keep):
            self.buildah.remove(ref)
        archives = sorted(
            self.root.glob(f"{name}-" + "?" * 12 + ".tar"), key=lambda p: p.stat().st_mtime
        )
        for old in archives[:-KEEP_ARCHIVES]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)

    def _prune(self, log: Path) -> None:
        """Dangling images out of the storage, after a build (a cache hit leaves none).

        The archive is written and right by now, so a failed prune is
        reported, not raised: it only leaves disk unfreed.
        """
        try:
            self.buildah.prune(log=log)
            size = disk_usage(self.buildah.storage)
        except ImagesError as exc:
            self.echo(
                f"warning: pruning dangling images failed, `modelops images prune` retries: {exc}"
            )
            return
        self.echo(f"pruned dangling images; image storage now {size / 1e9:.1f} GB")

    def prune(self) -> dict[str, Any]:
        """Dangling images out of the storage now: their ids, the cache's disk use before and after."""
        require_root()
        self.root.mkdir(parents=True, exist_ok=True)
        with storage_lock(self.root, self.echo):
            before = self.usage()
            removed = self.buildah.prune().split()
            return {"removed": removed, "before": before, "after": self.usage()}

    def usage(self) -> dict[str, int]:
        """Bytes on disk of each part of the image cache (docs/images.md, "The cache")."""
        archives = sum(p.stat().st_size for p in self.root.glob("*.tar"))
        parts = {
            "storage": disk_usage(self.root / "storage"),
            "archives": archives,
            "rootfs": disk_usage(self.root / "rootfs"),
        }
        return {**parts, "total": sum(parts.values())}

    # -- listing --------------------------------------------------------------

    def status(self, name: str) -> dict[str, Any]:
        """The current ref and whether its archive is built (no building)."""
        try:
            ref, digest = self.ref(name)
        except ImagesError as exc:
            return {"name": name, "ref": None, "built": False, "note": str(exc)}
        archive = self.archive_path(name, digest)
        meta = archive.with_suffix(".json")
        row: dict[str, Any] = {"name": name, "ref": ref, "built": archive.is_file()}
        if archive.is_file() and meta.is_file():
            recorded = json.loads(meta.read_text())
            row.update(
                archive=str(archive), size=archive.stat().st_size,
                digest=recorded["digest"], build_seconds=recorded["build_seconds"],
            )  # fmt: skip
        return row
