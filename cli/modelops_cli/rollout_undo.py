"""`modelops rollout undo NAME`: an instant rollback, never a canary (the plan is pure).

The target is the release before the one the spec names, as `kubectl rollout
undo` goes to the revision before the current one:

* a canary is running, or the spec names a version that was rolled back
  (spec != status.stable): the target is status.stable. The spec goes back to
  it, which the operator treats as an instant rollback (canary deleted, nothing
  rejected; a rejected version is forgotten);
* otherwise (settled, or promoting: status.stable already names the new
  release) the target is status.previous, the operator's rollback target.
  While promoting, a spec back to `previous` is instant in the operator too.
  Settled under strategy Canary, a spec naming any other version would start a
  canary of it; so undo sets the version together with strategy Immediate
  (the operator then replaces stable in place and drops all rollout state), waits
  for the operator to serve it, and puts spec.rollout back as it was. With the
  spec equal to stable again, nothing starts.

The version is written into spec.model.version, pinning an object that
followed a channel (`@latest-approved` would resolve back to the newest one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.api.spec import CANARY, IMMEDIATE


class Refused(Exception):
    """There is nothing to undo; the message says why and what to do instead."""


@dataclass(frozen=True)
class UndoPlan:
    target: Mapping[str, Any]  # the release (version, image) that will serve
    why: str  # one line for the user: from what to what, and how
    patch: dict[str, Any]  # the merge patch naming the target (with resourceVersion)
    restore: dict[str, Any] | None = field(default=None)  # spec.rollout as it was, after


def wanted(body: Mapping[str, Any]) -> dict[str, Any]:
    """The release the spec names (a channel's: the version it resolved to)."""
    spec, status = body.get("spec") or {}, body.get("status") or {}
    version = (spec.get("model") or {}).get("version")
    if isinstance(version, str) and version.startswith("@"):
        version = status.get("resolvedVersion", version)
    return {"version": version, "image": spec.get("image")}


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return bool(a and b) and (a["version"], a.get("image")) == (b["version"], b.get("image"))


def plan(body: Mapping[str, Any]) -> UndoPlan:
    """What undo writes for this object, or Refused (see the module doc)."""
    meta, spec = body["metadata"], body.get("spec") or {}
    status = body.get("status") or {}
    where = f"{meta['namespace']}/{meta['name']}"
    stable, previous, spec_release = status.get("stable"), status.get("previous"), wanted(body)
    rollout = dict(spec.get("rollout") or {})
    strategy = rollout.get("strategy", IMMEDIATE)
    if not stable:
        raise Refused(
            f"{where} has no status.stable yet: the operator has not deployed it "
            "(is the operator running? see `modelops rollout get`)"
        )
    if not _same(spec_release, stable):
        cause = "the canary of" if status.get("canary") else "the rejected"
        return UndoPlan(
            target=stable,
            why=f"spec back to stable version {stable['version']}: the operator drops {cause} "
            f"version {spec_release['version']} at once (no canary)",
            patch=_version_patch(meta, stable),
        )
    if not previous:
        raise Refused(
            f"{where} has no previous version to roll back to (status.previous is empty: "
            f"only version {stable['version']} has served); set spec.model.version to deploy "
            "another one"
        )
    if status.get("canary") or strategy != CANARY:
        how = "promotion reverted" if status.get("canary") else "replaced in place"
        return UndoPlan(
            target=previous,
            why=f"version {stable['version']} -> previous version {previous['version']} "
            f"({how}, no canary)",
            patch=_version_patch(meta, previous),
        )
    patch = _version_patch(meta, previous)
    # steps belongs to Canary only (the CRD refuses it under Immediate): null removes it.
    patch["spec"]["rollout"] = {"strategy": IMMEDIATE, "steps": None}
    return UndoPlan(
        target=previous,
        why=f"version {stable['version']} -> previous version {previous['version']}, in place: "
        "spec.rollout.strategy is Immediate until the operator serves it, then Canary again",
        patch=patch,
        restore={"spec": {"rollout": {"strategy": CANARY, "steps": rollout.get("steps")}}},
    )


def _version_patch(meta: Mapping[str, Any], release: Mapping[str, Any]) -> dict[str, Any]:
    # resourceVersion makes the patch fail (409) rather than undo on top of a change
    # made since the object was read.
    return {
        "metadata": {"resourceVersion": meta.get("resourceVersion")},
        "spec": {"model": {"version": str(release["version"])}, "image": release["image"]},
    }


def served(body: Mapping[str, Any], target: Mapping[str, Any], generation: int) -> bool:
    """The operator has acted on the undo: generation observed, target stable, no canary."""
    status = body.get("status") or {}
    return (
        int(status.get("observedGeneration") or 0) >= generation
        and _same(status.get("stable"), target)
        and not status.get("canary")
    )
