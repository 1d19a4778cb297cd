"""When `modelops rollout status --wait` stops, and with which exit code (pure).

Like `kubectl rollout status`: the answer comes from the object's conditions,
and only from conditions the operator wrote for the current spec. A status
of an older generation, or a promote / abort annotation the operator has
not acted on yet, is "still waiting", never the previous rollout's outcome
(annotations do not move metadata.generation, so status.actions says which
token was acted on). The conditions mean (docs/operator.md, "Conditions"):

* Degraded=True, reason RolledBack: the spec names a version that was
  rolled back;
* Degraded=True, any other reason, and not Progressing: the stable track
  failed (progress deadline, lost pods, a channel that does not resolve);
* Ready=True and not Progressing: the spec's release serves (promoted, or
  deployed in place); Ready=False ScaledToZero counts too (replicas: 0 asked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.rollout.state import action_name

# Exit codes (documented in docs/operator.md; click itself uses 2 for usage errors).
ROLLED_OUT = 0
ERROR = 1  # not found, deleted while waiting, API server unreachable
ROLLED_BACK = 3
DEGRADED = 4
TIMED_OUT = 5


@dataclass(frozen=True)
class Verdict:
    """Whether the rollout has ended, the exit code if it has, and one line saying where it is."""

    done: bool
    code: int
    line: str


def waiting(line: str) -> Verdict:
    return Verdict(False, TIMED_OUT, line)


def verdict(body: Mapping[str, Any]) -> Verdict:
    """Where the rollout of this ModelDeployment stands, from its status (see the module doc)."""
    meta = body.get("metadata") or {}
    name = meta.get("name", "?")
    status = body.get("status") or {}
    unobserved = _unobserved(meta, status)
    if unobserved:
        return waiting(unobserved)
    conditions = status.get("conditions") or []
    ready = cond.get_condition(conditions, cond.READY) or {}
    progressing = cond.get_condition(conditions, cond.PROGRESSING) or {}
    degraded = cond.get_condition(conditions, cond.DEGRADED) or {}
    moving = progressing.get("status") == cond.TRUE
    if degraded.get("status") == cond.TRUE and degraded.get("reason") == cond.REASON_ROLLED_BACK:
        rejected = (status.get("rejected") or {}).get("version", "?")
        return Verdict(
            True, ROLLED_BACK, f"{name}: version {rejected} rolled back: {degraded.get('message')}"
        )
    if degraded.get("status") == cond.TRUE and not moving:
        return Verdict(
            True,
            DEGRADED,
            f"{name}: degraded ({degraded.get('reason')}): {degraded.get('message')}",
        )
    if not moving and (
        ready.get("status") == cond.TRUE or ready.get("reason") == cond.REASON_SCALED_TO_ZERO
    ):
        stable = (status.get("stable") or {}).get("version", "?")
        return Verdict(
            True, ROLLED_OUT, f"{name}: successfully rolled out, serving version {stable}"
        )
    return waiting(f"Waiting for {name} rollout to finish: {_progress(status, ready)}")


def _unobserved(meta: Mapping[str, Any], status: Mapping[str, Any]) -> str | None:
    """Why the status does not describe the current spec and annotations yet, or None."""
    generation = meta.get("generation")
    observed = status.get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return f"Waiting for the operator to observe generation {generation}"
    for ctype in (cond.READY, cond.PROGRESSING, cond.DEGRADED):
        c = cond.get_condition(status.get("conditions") or [], ctype)
        if c is None:
            return "Waiting for the operator to report the rollout"
        if generation is not None and c.get("observedGeneration", generation) < generation:
            return f"Waiting for the operator to observe generation {generation}"
    annotations = meta.get("annotations") or {}
    acted = status.get("actions") or {}
    for key in (names.ANNOTATION_PROMOTE, names.ANNOTATION_ABORT):
        token = annotations.get(key)
        if token and acted.get(action_name(key)) != token:
            return f"Waiting for the operator to act on {key}={token}"
    return None


def _progress(status: Mapping[str, Any], ready: Mapping[str, Any]) -> str:
    canary = status.get("canary")
    phase = status.get("phase", "Unknown")
    if canary and phase != "Promoting":
        return (
            f"canary version {canary.get('version')} at weight {canary.get('weight', 0)}% "
            f"(step {int(canary.get('step', 0)) + 1}, failed analyses {canary.get('failures', 0)})"
        )
    if canary:
        return f"promoting version {canary.get('version')}"
    return ready.get("message") or f"phase {phase}"


def follow(bodies: Iterable[Mapping[str, Any]], echo: Callable[[str], None]) -> Verdict | None:
    """Judge each version of the object as it arrives, echoing each new progress line.

    Returns the final verdict, or None when the bodies ran out first (the timeout).
    """
    last = None
    for body in bodies:
        now = verdict(body)
        if now.line != last:
            echo(now.line)
            last = now.line
        if now.done:
            return now
    return None
