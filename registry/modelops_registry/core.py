"""The model registry: immutable, numbered versions of a model with metadata.

Layout, the same on every store::

    <root>/<model>/<version>/<artefact files>
    <root>/<model>/<version>/metadata.json

Versions are numbered 1, 2, 3... per model, never reused and never
rewritten. Every artefact's sha256 is recorded in metadata.json at publish
time and checked on every read, so a corrupted or tampered file is refused
instead of being loaded.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from modelops_registry import metadata as md
from modelops_registry.backends import Backend, LocalBackend, S3Backend
from modelops_registry.errors import (
    ArtefactNotFound,
    ChecksumError,
    ModelNotFound,
    RegistryError,
    VersionNotFound,
)

ENV_REGISTRY = "MODELOPS_REGISTRY"
ENV_S3_ENDPOINTS = ("FSSPEC_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def default_uri() -> str:
    """MODELOPS_REGISTRY when set, else a per-user folder (XDG data home convention)."""
    configured = os.environ.get(ENV_REGISTRY, "").strip()
    if configured:
        return configured
    return "file://" + str(Path("~/.local/share/modelops/registry").expanduser())


def _s3_endpoint() -> str | None:
    for name in ENV_S3_ENDPOINTS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def backend_for(uri: str) -> Backend:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        # file:///abs/path and plain paths; file://relative would put the
        # first segment in netloc, so it is glued back on.
        path = parsed.netloc + parsed.path if parsed.scheme == "file" else uri
        if not path:
            raise RegistryError(f"registry URI {uri!r} names no folder")
        return LocalBackend(Path(path))
    if parsed.scheme == "s3":
        return S3Backend(parsed.netloc + parsed.path, endpoint_url=_s3_endpoint())
    raise RegistryError(
        f"unsupported registry URI {uri!r}: use file:///path, a plain path, or s3://bucket/prefix"
    )


class Registry:
    """Publish and read model versions. Create with Registry.from_uri(uri)."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @classmethod
    def from_uri(cls, uri: str | None = None) -> Registry:
        return cls(backend_for(uri or default_uri()))

    @property
    def uri(self) -> str:
        return self._backend.uri

    # -- reading -----------------------------------------------------------

    def models(self) -> list[str]:
        return self._backend.models()

    def versions(self, model: str) -> list[str]:
        md.check_model_name(model)
        return sorted(self._backend.visible_versions(model), key=int)

    def resolve(self, model: str, ref: str) -> str:
        """Turn "3", "latest" or "@latest-approved" into a published version number."""
        ref = str(ref).strip()
        versions = self.versions(model)
        if not versions:
            raise ModelNotFound(f"model {model!r} has no published versions in {self.uri}")
        if ref == md.REF_LATEST:
            return versions[-1]
        if ref in (md.REF_LATEST_APPROVED, md.REF_LATEST_APPROVED.lstrip("@")):
            for version in reversed(versions):
                if self.metadata(model, version).get("status") == md.STATUS_APPROVED:
                    return version
            raise VersionNotFound(f"model {model!r} has no approved version in {self.uri}")
        md.check_version(ref)
        if ref not in versions:
            raise VersionNotFound(
                f"model {model!r} has no version {ref} in {self.uri} "
                f"(published: {', '.join(versions)})"
            )
        return ref

    def metadata(self, model: str, version: str) -> dict[str, Any]:
        md.check_model_name(model)
        version = md.check_version(version)
        try:
            raw = self._backend.read(model, version, md.METADATA_FILE)
        except FileNotFoundError:
            raise self._not_found(model, version) from None
        return md.decode(raw, f"{self.uri}/{model}/{version}")

    def read_artefact(self, model: str, version: str, name: str) -> bytes:
        """The artefact's bytes, after checking them against the recorded sha256."""
        meta = self.metadata(model, version)
        expected = meta.get("artefacts", {}).get(name)
        if expected is None:
            raise ArtefactNotFound(
                f"{model} version {version} has no artefact {name!r} "
                f"(has: {', '.join(sorted(meta.get('artefacts', {}))) or 'none'})"
            )
        try:
            data = self._backend.read(model, version, name)
        except FileNotFoundError:
            raise ChecksumError(
                f"{model} version {version}: artefact {name!r} is listed in metadata but missing"
            ) from None
        actual = md.sha256_hex(data)
        if actual != expected:
            raise ChecksumError(
                f"{model} version {version}: artefact {name!r} has sha256 {actual}, "
                f"metadata records {expected}; refusing to use it"
            )
        return data

    def fetch(self, model: str, version: str, dest: Path) -> Path:
        """Copy a version's verified artefacts and metadata.json into dest; returns dest.

        Every artefact is verified before anything is written, so dest never
        holds a mix of good and bad files.
        """
        meta = self.metadata(model, version)
        verified = {name: self.read_artefact(model, version, name) for name in meta["artefacts"]}
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in verified.items():
            (dest / name).write_bytes(data)
        (dest / md.METADATA_FILE).write_bytes(md.encode(meta))
        return dest

    # -- writing -----------------------------------------------------------

    def publish(self, model: str, files: dict[str, bytes], metadata: dict[str, Any]) -> str:
        """Publish a new immutable version and return its number.

        Fills metadata["version"], ["created_at"] and ["artefacts"] (name ->
        sha256) in the caller's dict too, so the caller can print what was
        stored.
        """
        md.check_model_name(model)
        if not files:
            raise RegistryError("a version needs at least one artefact")
        for name, data in files.items():
            md.check_artefact_name(name)
            if not isinstance(data, bytes | bytearray | memoryview):
                raise RegistryError(f"artefact {name!r} must be bytes, got {type(data).__name__}")
        md.check_publisher_metadata(metadata)
        files = {name: bytes(data) for name, data in files.items()}
        document = copy.deepcopy(metadata)
        document["model"] = model
        document["created_at"] = md.utc_now_iso()
        document["artefacts"] = {name: md.sha256_hex(data) for name, data in files.items()}
        document.setdefault("metadata_schema", md.METADATA_SCHEMA_VERSION)
        md.encode(document)  # fail before touching the store if it is not strict JSON

        def render(version: str) -> bytes:
            document["version"] = version
            return md.encode(document)

        version = self._backend.publish(model, files, render)
        metadata.update(document)
        return version

    def _not_found(self, model: str, version: str) -> VersionNotFound:
        versions = self.versions(model)
        if not versions:
            return ModelNotFound(f"model {model!r} has no published versions in {self.uri}")
        return VersionNotFound(
            f"model {model!r} has no version {version} in {self.uri} "
            f"(published: {', '.join(versions)})"
        )
