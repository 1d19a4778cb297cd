"""The registry adapter: the operator's one way into the model registry (modelops_registry).

Three reads, behind one small protocol so the engine can be given another
registry in tests, and so the operator process imports the registry (and
its fsspec backends) only when a ModelDeployment needs it:

* `resolve` a version channel (@latest-approved), cached briefly: it runs on
  every reconcile of a channel-following ModelDeployment, and the short
  cache keeps hundreds of objects from listing the registry each time while
  a newly approved version is still noticed within `ttl` seconds;
* a version's reference `profile`, which drift is measured against: versions
  are immutable, so profiles are cached for the life of the process
  (bounded, oldest dropped first);
* the `candidate` a retraining Job published (the version whose
  metadata.retraining.job is the Job's name and whose owner_uid, when
  recorded, is the ModelDeployment's uid); never cached, since the answer
  changes when a Job publishes;
* and, beside the versions, a `window_quality` of the inference log joined
  with feedback (the registry's DataLog), for spec.monitoring.performance.

Every call may run on several threads at once (the reconcile workers and
the drift measurements), so the caches are guarded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

PROFILE_CACHE_SIZE = 256
# A retraining Job publishes one version; it is among the newest. Looking at a
# bounded number of versions keeps the lookup cheap on a registry with a long history.
CANDIDATE_SCAN_LIMIT = 50


class ProfileNotAvailable(RuntimeError):
    """The serving version has no reference profile (or it could not be read)."""


class ModelRegistry(Protocol):
    def resolve(self, uri: str, model: str, ref: str) -> str:
        """The concrete version `ref` names for `model` in the registry at `uri`."""
        ...

    def profile(self, uri: str, model: str, version: str) -> Mapping[str, Any]:
        """The reference profile of a version; raises ProfileNotAvailable."""
        ...

    def candidate(
        self, uri: str, model: str, job: str, *, owner_uid: str | None = None
    ) -> tuple[str, Mapping[str, Any]] | None:
        """The version a retraining Job of `owner_uid` published, with its metadata; None when none."""
        ...


class RegistryReader:
    """ModelRegistry through modelops_registry."""

    def __init__(self, ttl: float = 10.0) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._resolved: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._profiles: OrderedDict[tuple[str, str, str], Mapping[str, Any]] = OrderedDict()

    def resolve(self, uri: str, model: str, ref: str) -> str:
        key = (uri, model, ref)
        with self._lock:
            hit = self._resolved.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        from modelops_registry import Registry

        version = Registry.from_uri(uri).resolve(model, ref)
        with self._lock:
            self._resolved[key] = (time.monotonic(), version)
        return version

    def profile(self, uri: str, model: str, version: str) -> Mapping[str, Any]:
        key = (uri, model, version)
        with self._lock:
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
        with self._lock:
            self._profiles[key] = profile
            while len(self._profiles) > PROFILE_CACHE_SIZE:
                self._profiles.popitem(last=False)
        return profile

    def candidate(
        self, uri: str, model: str, job: str, *, owner_uid: str | None = None
    ) -> tuple[str, Mapping[str, Any]] | None:
        from modelops_registry import Registry

        registry = Registry.from_uri(uri)
        for version in reversed(registry.versions(model)[-CANDIDATE_SCAN_LIMIT:]):
            metadata = registry.metadata(model, version)
            if is_candidate_of(metadata, job, owner_uid):
                return version, metadata
        return None


def is_candidate_of(metadata: Mapping[str, Any], job: str, owner_uid: str | None) -> bool:
    """Whether a version's metadata says the Job `job` of `owner_uid` published it.

    Metadata written before the owner's uid was recorded (no owner_uid) still
    matches on the Job name: such names predate the uid in Job names, so a
    Job named by this operator never matches one of them by accident.
    """
    retraining = metadata.get("retraining") or {}
    if retraining.get("job") != job:
        return False
    recorded = retraining.get("owner_uid")
    return recorded is None or owner_uid is None or recorded == owner_uid


def window_quality(uri: str, model: str, start: Any, end: Any) -> Any:
    """Live quality per version over [start, end) from the inference log and feedback in `uri`
    (modelops_features.groundtruth.window_quality over the registry's DataLog).

    Not cached: every call reads the window afresh, since outcomes keep arriving.
    Raises whatever the store raises; the caller makes it an Unknown measurement.
    """
    from modelops_features.groundtruth import window_quality as measure
    from modelops_registry.datalog import DataLog

    return measure(DataLog.from_uri(uri), model, start, end)
