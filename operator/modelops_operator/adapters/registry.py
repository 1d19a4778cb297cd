"""The registry adapter: resolves version channels through modelops_registry.

Kept behind a one-method protocol so the engine can be given another
resolver in tests, and so the operator process only imports the registry
(and its fsspec backends) when a ModelDeployment uses a channel.
"""

from __future__ import annotations

import time
from typing import Protocol


class VersionResolver(Protocol):
    def resolve(self, uri: str, model: str, ref: str) -> str:
        """The concrete version `ref` names for `model` in the registry at `uri`."""


class RegistryResolver:
    """Resolves through modelops_registry, caching answers briefly.

    Resolution runs on every reconcile of a channel-following ModelDeployment;
    the short cache keeps the timer from listing the registry for each of
    hundreds of objects while still noticing a new approved version within
    `ttl` seconds.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, str]] = {}

    def resolve(self, uri: str, model: str, ref: str) -> str:
        key = (uri, model, ref)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        from modelops_registry import Registry

        version = Registry.from_uri(uri).resolve(model, ref)
        self._cache[key] = (time.monotonic(), version)
        return version
