"""Storage backends: where version folders live and how one is committed.

The registry logic (numbering, metadata, checksums) is the same for every
store; what differs is how a version becomes visible in one atomic step:

* local folders: write everything into a hidden staging folder, then
  `os.rename` it to the version number. POSIX rename of a folder onto an
  existing non-empty folder fails, so two publishers racing for the same
  number cannot overwrite each other: the loser retries with the next number.
* S3 (through fsspec / s3fs): there is no rename. The publisher first claims
  the number with a conditional put (`If-None-Match: *`) of a small marker,
  uploads the artefacts, and writes metadata.json last, also conditionally.
  Readers only see versions whose metadata.json exists, so a half-uploaded
  version is invisible; a crashed publish leaves an invisible gap in the
  numbering, which is harmless.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from modelops_registry.errors import RegistryError
from modelops_registry.metadata import METADATA_FILE, is_version

# A publisher gives up after this many lost races; reaching it means something
# other than honest concurrency (e.g. a store that rejects every write).
MAX_PUBLISH_ATTEMPTS = 50

# Renders metadata.json for a given version number (the number is only known
# once a publisher has won it).
RenderMetadata = Callable[[str], bytes]


class Backend(Protocol):
    uri: str

    def models(self) -> list[str]: ...

    def visible_versions(self, model: str) -> list[str]: ...

    def read(self, model: str, version: str, name: str) -> bytes: ...

    def publish(self, model: str, files: dict[str, bytes], render: RenderMetadata) -> str: ...


def _next_number(names: list[str]) -> int:
    numbers = [int(name) for name in names if is_version(name)]
    return max(numbers, default=0) + 1


class LocalBackend:
    """Versions as folders on a local (or mounted) file system."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser()
        self.uri = "file://" + str(self.root)

    def models(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir()
            and not entry.name.startswith(".")
            and self.visible_versions(entry.name)
        )

    def visible_versions(self, model: str) -> list[str]:
        model_dir = self.root / model
        if not model_dir.is_dir():
            return []
        # Only renamed folders have numeric names, and a rename is atomic, so
        # every numeric folder is complete; the metadata check guards against
        # folders someone copied in by hand.
        return [
            entry.name
            for entry in model_dir.iterdir()
            if is_version(entry.name) and (entry / METADATA_FILE).is_file()
        ]

    def read(self, model: str, version: str, name: str) -> bytes:
        return (self.root / model / version / name).read_bytes()

    def publish(self, model: str, files: dict[str, bytes], render: RenderMetadata) -> str:
        model_dir = self.root / model
        model_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
        try:
            for name, data in files.items():
                _write_durably(staging / name, data)
            for _ in range(MAX_PUBLISH_ATTEMPTS):
                version = str(_next_number([p.name for p in model_dir.iterdir()]))
                # The metadata names its own version, so it is (re)written for
                # each number tried.
                _write_durably(staging / METADATA_FILE, render(version))
                _make_read_only(staging)
                try:
                    os.rename(staging, model_dir / version)
                except OSError as exc:
                    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                        _make_writable(staging)
                        continue
                    raise
                _fsync_dir(model_dir)
                return version
            raise RegistryError(
                f"could not publish {model}: lost {MAX_PUBLISH_ATTEMPTS} races for a version number"
            )
        finally:
            if staging.exists():
                _make_writable(staging)
                shutil.rmtree(staging, ignore_errors=True)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself survive a power cut, not just the file contents.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_read_only(folder: Path) -> None:
    # Immutability is enforced by the API (no call overwrites a version); the
    # read-only bits also stop a careless `>` in a shell from doing it.
    folder.chmod(0o755)
    for entry in folder.iterdir():
        entry.chmod(0o444)


def _make_writable(folder: Path) -> None:
    for entry in folder.iterdir():
        entry.chmod(0o644)


class S3Backend:
    """Versions as key prefixes in an S3 bucket, reached through fsspec / s3fs."""

    CLAIM_MARKER = ".publishing"

    def __init__(self, bucket_and_prefix: str, endpoint_url: str | None = None) -> None:
        import fsspec  # imported here so file:// users never load aiobotocore

        self.root = bucket_and_prefix.strip("/")
        if not self.root:
            raise RegistryError("s3:// registry URI needs a bucket, e.g. s3://models")
        self.uri = "s3://" + self.root
        client_kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
        # Listing caches would hide versions other processes publish, and
        # instance caching would share those caches across Registry objects.
        self.fs = fsspec.filesystem(
            "s3",
            client_kwargs=client_kwargs,
            use_listings_cache=False,
            skip_instance_cache=True,
        )

    def _path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def _children(self, path: str) -> list[str]:
        try:
            entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        return [
            entry["name"].rstrip("/").rsplit("/", 1)[-1]
            for entry in entries
            if entry.get("type") == "directory"
        ]

    def models(self) -> list[str]:
        return sorted(
            name
            for name in self._children(self.root)
            if not name.startswith(".") and self.visible_versions(name)
        )

    def visible_versions(self, model: str) -> list[str]:
        # One listing call for the whole model instead of one per version.
        found = self.fs.glob(self._path(model, "*", METADATA_FILE))
        return [version for version in (p.rsplit("/", 2)[-2] for p in found) if is_version(version)]

    def read(self, model: str, version: str, name: str) -> bytes:
        return self.fs.cat_file(self._path(model, version, name))

    def _create(self, path: str, data: bytes) -> bool:
        """Write only if absent; False when the object already exists."""
        try:
            self.fs.pipe_file(path, data, mode="create")
        except FileExistsError:
            return False
        except OSError as exc:
            # Some s3fs versions map 412 Precondition Failed to EINVAL
            # instead of FileExistsError.
            if exc.errno == errno.EINVAL and self.fs.exists(path):
                return False
            raise
        return True

    def publish(self, model: str, files: dict[str, bytes], render: RenderMetadata) -> str:
        for _ in range(MAX_PUBLISH_ATTEMPTS):
            version = str(_next_number(self._children(self._path(model))))
            claim = self._path(model, version, self.CLAIM_MARKER)
            if not self._create(claim, b""):
                continue
            for name, data in files.items():
                self.fs.pipe_file(self._path(model, version, name), data)
            # metadata.json is the commit marker: the version exists from here on.
            if not self._create(self._path(model, version, METADATA_FILE), render(version)):
                raise RegistryError(
                    f"{self.uri}/{model}/{version} gained a metadata.json while we held its "
                    "claim; another writer ignores the publishing protocol"
                )
            with contextlib.suppress(OSError):
                self.fs.rm_file(claim)
            return version
        raise RegistryError(
            f"could not publish {model}: lost {MAX_PUBLISH_ATTEMPTS} races for a version number"
        )
