"""One reconcile at a time per object, and never on a body older than one already used.

Several triggers reconcile the same ModelDeployment from different threads:
kopf's handler for the object, the watch of its child Deployments, the
resync and requeue timers. Run side by side, two reconciles of one object
race each other's status write (a 409 for one of them) and, worse, the one
holding an older body can apply children from an older spec after the newer
one has applied the new spec: a brief rollback. So the engine runs the
reconciles of one object under that object's lock, and a body handed in by a
caller (kopf's event, the resync's list) that is older than the newest this
process has used or written is read again instead of used.

The resourceVersion reading here is also what the memories of children and
Jobs use to tell an older answer or list from a newer one (children.py,
jobs.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

Key = tuple[str, str]


def as_version(value: Any) -> int | None:
    # resourceVersions are opaque by contract; the etcd-backed API server hands
    # out increasing integers, which is what makes "older" decidable. Anything
    # else counts as unknown, and an unknown body is never called stale.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def resource_version(body: Mapping[str, Any]) -> int | None:
    return as_version((body.get("metadata") or {}).get("resourceVersion"))


def object_key(body: Mapping[str, Any]) -> Key:
    metadata = body.get("metadata") or {}
    return (metadata.get("namespace", ""), metadata.get("name", ""))


def deleted_before_list(
    known: Iterable[tuple[Key, int | None]], listed: set[Key], list_version: int | None
) -> list[Key]:
    """The known objects a full list shows were deleted: missing from it and older
    than it. One missing but newer (created by our own write after the list was
    served), or of unknown version, is kept; so is everything when the list's
    version is unknown."""
    if list_version is None:
        return []
    return [
        key
        for key, version in known
        if key not in listed and version is not None and version < list_version
    ]


class Freshness:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Key, threading.Lock] = {}
        self._newest: dict[Key, int] = {}

    def lock(self, key: Key) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def seen(self, key: Key, body: Mapping[str, Any]) -> None:
        """Record a body used or written (e.g. the answer to a status patch)."""
        version = resource_version(body)
        if version is None:
            return
        with self._guard:
            if version > self._newest.get(key, -1):
                self._newest[key] = version

    def stale(self, key: Key, body: Mapping[str, Any]) -> bool:
        version = resource_version(body)
        with self._guard:
            newest = self._newest.get(key)
        return version is not None and newest is not None and version < newest

    def forget(self, key: Key) -> None:
        """The object is gone: its lock and version go too (a new one starts afresh)."""
        with self._guard:
            self._locks.pop(key, None)
            self._newest.pop(key, None)
