"""What the operator knows about its children without asking the API server.

Two pieces of memory, both fed by the watch of child Deployments (handlers.py)
and by the answers to the operator's own writes:

* the live state of every child Deployment (`DeploymentState` plus the uid of
  its controlling owner), so a reconcile observes children from memory instead
  of one GET per track. Once `prime` has loaded the full list at start, a
  Deployment missing here does not exist (as far as the watch has told us);
  before that, the engine falls back to a GET. Every resync pass lists them
  again (`prime`), so an event the watch never delivered is corrected within
  one resync period.
* a digest of the last object this process applied to each child, so an
  unchanged child is not applied again. Server-side apply of an unchanged
  object changes nothing, but it still costs the API server a full apply
  (decoding, defaulting, managed-fields merge); with many objects reconciled
  at once these no-op applies were most of the operator's API traffic.

A digest is dropped when the child may have drifted from it: the Deployment
watch reports a new `metadata.generation` (someone edited its spec) or the
object was deleted. Kinds without a watch (Services, HTTPRoutes) rely on the
periodic resync, which applies everything regardless of this memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.objects import DeploymentState
from modelops_operator.runtime.freshness import (
    as_version,
    deleted_before_list,
    object_key,
    resource_version,
)

# Fields the API server adds to every object and the operator never reads:
# managedFields alone is often larger than the rest of a Deployment.
UNUSED_METADATA = ("managedFields",)


def slim(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-dict copy of an API object without the metadata the operator never reads.

    Also turns read-only mapping views (kopf's Body) into plain dicts, so the
    result can be compared with `==` and kept after the handler returns.
    """
    plain = _plain(obj)
    metadata = plain.get("metadata")
    if isinstance(metadata, dict):
        for key in UNUSED_METADATA:
            metadata.pop(key, None)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def digest(obj: Mapping[str, Any]) -> str:
    """A stable fingerprint of a desired object (key order does not matter)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def key_of(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    return (obj.get("kind", ""), metadata.get("namespace", ""), metadata.get("name", ""))


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


@dataclass(frozen=True)
class KnownDeployment:
    owner_uid: str | None
    state: DeploymentState
    generation: int
    resource_version: int | None


class ChildMemory:
    """Thread-safe: kopf's handler threads, the resync thread and requeue timers share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deployments: dict[tuple[str, str], KnownDeployment] = {}
        self._applied: dict[tuple[str, str, str], tuple[str, int | None]] = {}
        self.primed = False

    # --- live Deployments ------------------------------------------------------

    def prime(
        self, deployments: Iterable[Mapping[str, Any]], list_version: str | None = None
    ) -> int:
        """Load the full list of child Deployments; from now on absence means absent.

        Called at start and again on every resync pass (a relist). This memory
        is authoritative (absence means absent), so an event the watch does not
        deliver is otherwise wrong until the watch re-lists by itself; kopf
        notices a silent stream only after 70 s without events or bookmarks.
        The relist bounds that by the resync period. A listed object older
        than what is known is ignored (saw_deployment); a known one missing
        from the list is dropped only if it is older than the list
        (`list_version`): one created by our own write after it is kept.
        Returns how many entries the list corrected (changed or dropped).
        """
        listed: set[tuple[str, str]] = set()
        corrected = 0
        for obj in deployments:
            listed.add(object_key(obj))
            corrected += self.saw_deployment(obj)
        with self._lock:  # decided and dropped under one lock: no event slips between
            gone = deleted_before_list(
                ((key, known.resource_version) for key, known in self._deployments.items()),
                listed,
                as_version(list_version),
            )
            for namespace, name in gone:
                del self._deployments[(namespace, name)]
                self._applied.pop(("Deployment", namespace, name), None)
        corrected += len(gone)
        first = not self.primed
        self.primed = True
        return 0 if first else corrected

    def saw_deployment(self, obj: Mapping[str, Any]) -> bool:
        """Record a Deployment as seen by a watch or a write; True if its state changed.

        An answer older than what is already known is ignored (the watch can
        deliver an event after the answer to a later write of ours).
        """
        metadata = obj.get("metadata") or {}
        key = object_key(obj)
        known = KnownDeployment(
            owner_uid=controller_uid(obj),
            state=DeploymentState.from_object(obj),
            generation=int(metadata.get("generation") or 0),
            resource_version=resource_version(obj),
        )
        with self._lock:
            old = self._deployments.get(key)
            if (
                old is not None
                and old.resource_version is not None
                and known.resource_version is not None
                and known.resource_version < old.resource_version
            ):
                return False
            self._deployments[key] = known
            applied_key = ("Deployment", key[0], key[1])
            applied = self._applied.get(applied_key)
            if applied is not None and applied[1] != known.generation:
                # The spec changed after our last apply (by someone else, or by a
                # write we have not heard back from): apply again next time.
                del self._applied[applied_key]
            return old is None or old.state != known.state or old.owner_uid != known.owner_uid

    def forget_deployment(self, namespace: str, name: str) -> None:
        with self._lock:
            self._deployments.pop((namespace, name), None)
            self._applied.pop(("Deployment", namespace, name), None)

    def deployment(self, namespace: str, name: str) -> KnownDeployment | None:
        with self._lock:
            return self._deployments.get((namespace, name))

    # --- applied objects ---------------------------------------------------------

    def unchanged(self, desired: Mapping[str, Any]) -> bool:
        """True when this process already applied exactly `desired` and nothing has drifted since."""
        with self._lock:
            applied = self._applied.get(key_of(desired))
        return applied is not None and applied[0] == digest(desired)

    def applied(self, desired: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        """Remember a successful apply (and, for a Deployment, its live state from the answer)."""
        generation = (answer.get("metadata") or {}).get("generation")
        if desired.get("kind") == "Deployment":
            self.saw_deployment(answer)
        with self._lock:
            self._applied[key_of(desired)] = (
                digest(desired),
                int(generation) if generation is not None else None,
            )

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop everything known about a child (deleted, or its apply failed)."""
        with self._lock:
            self._applied.pop((kind, namespace, name), None)
            if kind == "Deployment":
                self._deployments.pop((namespace, name), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._deployments)
