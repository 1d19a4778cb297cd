"""Errors raised by the model registry.

Every error derives from RegistryError so callers (the CLI, the bento, the
operator) can catch one type and show its message; the subclasses exist for
the callers that must react differently, e.g. the bento refusing to become
ready on a ChecksumError.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Anything that went wrong while reading or writing the registry."""


class VersionNotFound(RegistryError):
    """The model, version or reference names nothing that is published."""


class ModelNotFound(VersionNotFound):
    """The model has no published version at all.

    A subclass of VersionNotFound because, to a caller asking for a version,
    an unknown model is simply one more way of that version not existing.
    """


class ArtefactNotFound(RegistryError):
    """The version exists but has no artefact of that name."""


class ChecksumError(RegistryError):
    """An artefact's bytes do not match the sha256 recorded at publish time."""


class VersionConflict(RegistryError):
    """Internal: another publisher took the version number first (retry with the next)."""
