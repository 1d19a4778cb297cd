"""modelops_registry: versioned model artefacts with metadata (file:// and s3://).

See docs/registry.md for the layout and the publishing protocol.
"""

from modelops_registry.core import ENV_REGISTRY, Registry, default_uri
from modelops_registry.errors import (
    ArtefactNotFound,
    ChecksumError,
    ModelNotFound,
    RegistryError,
    VersionNotFound,
)
from modelops_registry.metadata import (
    METADATA_FILE,
    REF_LATEST,
    REF_LATEST_APPROVED,
    STATUS_APPROVED,
    STATUS_REJECTED,
    STATUSES,
    sha256_hex,
)

__all__ = [
    "ENV_REGISTRY",
    "METADATA_FILE",
    "REF_LATEST",
    "REF_LATEST_APPROVED",
    "STATUSES",
    "STATUS_APPROVED",
    "STATUS_REJECTED",
    "ArtefactNotFound",
    "ChecksumError",
    "ModelNotFound",
    "Registry",
    "RegistryError",
    "VersionNotFound",
    "default_uri",
    "sha256_hex",
]
