"""The shape of a version's metadata.json and the helpers around it.

The constants live here (and not in training) because the registry, the
trainer, the bento and the operator all read the same document, and the
registry is the lowest layer they share.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from modelops_registry.errors import RegistryError, VersionNotFound

METADATA_FILE = "metadata.json"
METADATA_SCHEMA_VERSION = 1

STATUS_APPROVED = "approved"
STATUS_REJECTED = "rejected"
STATUSES = (STATUS_APPROVED, STATUS_REJECTED)

# References accepted by Registry.resolve besides a plain version number.
REF_LATEST = "latest"
REF_LATEST_APPROVED = "@latest-approved"

# Keys a complete metadata document carries. The registry itself fills
# version, created_at and artefacts; the publisher supplies the rest.
KEYS_FILLED_BY_REGISTRY = ("version", "created_at", "artefacts")
KEYS_FROM_PUBLISHER = (
    "algorithm",
    "dataset",
    "metrics",
    "features",
    "profile",
    "gates",
    "status",
    "git_commit",
)

# Model and artefact names become path segments on disk and keys in S3, so
# they are restricted to a portable alphabet; a leading dot is refused because
# hidden names are how the registry marks staging areas.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION = re.compile(r"^[1-9][0-9]*$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now_iso() -> str:
    """Creation time as an ISO 8601 UTC string with a Z suffix, second precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_model_name(model: str) -> str:
    if not isinstance(model, str) or not _NAME.match(model):
        raise RegistryError(
            f"invalid model name {model!r}: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return model


def check_artefact_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name == METADATA_FILE:
        raise RegistryError(
            f"invalid artefact name {name!r}: a plain file name other than {METADATA_FILE}"
        )
    return name


def is_version(text: str) -> bool:
    return bool(_VERSION.match(text))


def check_version(version: str) -> str:
    version = str(version)
    if not is_version(version):
        raise VersionNotFound(
            f"invalid version {version!r}: a version is a positive integer such as '3', "
            f"or use '{REF_LATEST}' / '{REF_LATEST_APPROVED}'"
        )
    return version


def check_publisher_metadata(metadata: dict[str, Any]) -> None:
    """Refuse metadata the rest of the system could not rely on."""
    if not isinstance(metadata, dict):
        raise RegistryError("metadata must be a dict")
    status = metadata.get("status")
    if status not in STATUSES:
        raise RegistryError(f"metadata.status must be one of {STATUSES}, got {status!r}")


def encode(metadata: dict[str, Any]) -> bytes:
    """Strict JSON (no NaN / Infinity, which other languages' parsers reject)."""
    try:
        text = json.dumps(metadata, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"metadata is not strict JSON: {exc}") from exc
    return (text + "\n").encode()


def decode(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise RegistryError(f"{where}: metadata.json is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise RegistryError(f"{where}: metadata.json is not a JSON object")
    return value
