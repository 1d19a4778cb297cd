"""Registry reads for drift and retraining: reference profiles and retraining candidates.

Kept apart from the channel resolver (registry.py) so each part of the
operator reads only what it needs. Versions are immutable in the registry, so
a version's profile is cached for the life of the process (bounded, oldest
entries dropped first); candidates are never cached, since the answer changes
when a Job publishes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

PROFILE_CACHE_SIZE = 256
# A retraining Job publishes one version; it is among the newest. Looking at a
# bounded number of versions keeps the lookup cheap on a registry with a long history.
CANDIDATE_SCAN_LIMIT = 50


class ProfileNotAvailable(RuntimeError):
    """The serving version has no reference profile (or could not be read)."""


class ModelMetadata(Protocol):
    def profile(self, uri: str, model: str, version: str) -> Mapping[str, Any]: ...

    def candidate(self, uri: str, model: str, job: str) -> tuple[str, Mapping[str, Any]] | None: ...


class RegistryMetadata:
    def __init__(self) -> None:
        self._profiles: OrderedDict[tuple[str, str, str], Mapping[str, Any]] = OrderedDict()

    def profile(self, uri: str, model: str, version: str) -> Mapping[str, Any]:
        key = (uri, model, version)
        if key in self._profiles:
            self._profiles.move_to_end(key)
            return self._profiles[key]
        from modelops_registry import Registry

        try:
            metadata = Registry.from_uri(uri).metadata(model, version)
        except Exception as exc:  # any registry failure makes drift unknown, not fatal
            raise ProfileNotAvailable(f"{type(exc).__name__}: {exc}") from exc
        profile = metadata.get("profile")
        if not isinstance(profile, Mapping) or not profile.get("features"):
            raise ProfileNotAvailable(
                f"model {model} version {version} in {uri} has no reference profile "
                "(metadata.profile); drift cannot be measured against it"
            )
        self._profiles[key] = profile
        while len(self._profiles) > PROFILE_CACHE_SIZE:
            self._profiles.popitem(last=False)
        return profile

    def candidate(self, uri: str, model: str, job: str) -> tuple[str, Mapping[str, Any]] | None:
        """The newest version whose metadata.retraining.job is `job`, with its metadata."""
        from modelops_registry import Registry

        registry = Registry.from_uri(uri)
        for version in reversed(registry.versions(model)[-CANDIDATE_SCAN_LIMIT:]):
            metadata = registry.metadata(model, version)
            if (metadata.get("retraining") or {}).get("job") == job:
                return version, metadata
        return None
