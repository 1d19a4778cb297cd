"""What `modelops rollout status|promote|abort` shows, sends and refuses (pure).

Output is the CLI's business, so it lives here; what it reads (status field
names, the default steps, the annotation keys) comes from the operator's api
and rollout packages, so the two cannot disagree. Pure, so the text is
unit-tested.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import names
from modelops_operator.api.spec import CANARY, DEFAULTS, IMMEDIATE, OPERATOR_DEFAULTS, Spec

BAR_WIDTH = 30


def progress_bar(steps: list[int], step: int, weight: int, promoting: bool) -> str:
    """[=====>.....] with one marker per step, e.g. '10% > 25% > [50%] > 100%'."""
    marks = [*steps, 100]
    current = len(steps) if promoting else min(step, len(steps) - 1)
    filled = round(BAR_WIDTH * (weight if not promoting else 100) / 100)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    labels = " > ".join(f"[{m}%]" if i == current else f"{m}%" for i, m in enumerate(marks))
    return f"[{bar}] {labels}"


def render_status(body: Mapping[str, Any]) -> str:
    """A human summary of a ModelDeployment's rollout."""
    meta, raw = body["metadata"], body.get("spec") or {}
    spec = Spec(raw)
    status = body.get("status") or {}
    # Shown as written: a view never refuses to show what the operator would refuse.
    rollout = raw.get("rollout") or {}
    steps = list(rollout.get("steps") or OPERATOR_DEFAULTS["spec.rollout.steps"])
    interval = rollout.get("interval") or DEFAULTS["spec.rollout.interval"]
    lines = [
        f"{meta['namespace']}/{meta['name']}: phase {status.get('phase', 'Unknown')}",
        f"  stable:   {_release(status.get('stable'))}",
    ]
    canary = status.get("canary")
    if canary:
        promoting = status.get("phase") == "Promoting"
        lines.append(
            f"  canary:   {_release(canary)}, weight {canary.get('weight', 0)}%, "
            f"failures {canary.get('failures', 0)}"
        )
        lines.append(
            "  progress: "
            + progress_bar(
                steps, int(canary.get("step", 0)), int(canary.get("weight", 0)), promoting
            )
        )
        lines.append(f"  strategy: {spec.strategy}, interval {interval}, router {spec.router.type}")
        checks = canary.get("checks") or []
        if checks:
            lines.append("  last checks:")
            for check in checks:
                value = check.get("value")
                shown = "no value" if value is None else f"{value:.4g}"
                lines.append(
                    f"    {check.get('verdict', '?'):<12} {check.get('name', '?'):<14} {shown:<10} "
                    f"{check.get('message', '')}"
                )
    rejected = status.get("rejected")
    if rejected:
        lines.append(f"  rejected: {_release(rejected)}: {rejected.get('reason', '')}")
        lines.append(
            f"            retried when the spec changes, or (a new canary from step 1): "
            f"modelops rollout promote {_hint(meta)} --yes"
        )
    if status.get("message"):
        lines.append(f"  message:  {status['message']}")
    for entry in (status.get("history") or [])[-3:]:
        lines.append(
            f"  history:  {entry.get('time', '')} {entry.get('version', '')} "
            f"{entry.get('outcome', '')}: {entry.get('reason', '')}"
        )
    return "\n".join(lines)


def _release(release: Mapping[str, Any] | None) -> str:
    if not release:
        return "-"
    return f"version {release.get('version')} (image {release.get('image')})"


def new_token(now: dt.datetime | None = None) -> str:
    """A fresh annotation value: the operator acts on each value once."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def action_patch(action: str, token: str) -> dict[str, Any]:
    """The merge patch setting modelops.io/<action> to `token`."""
    keys = {"promote": names.ANNOTATION_PROMOTE, "abort": names.ANNOTATION_ABORT}
    if action not in keys:
        raise ValueError(f"action must be promote or abort, not {action!r}")
    return {"metadata": {"annotations": {keys[action]: token}}}


def refusal(body: Mapping[str, Any], action: str) -> str | None:
    """Why promote / abort would do nothing on this object (exit 1, saying what to do), or None."""
    meta, raw = body["metadata"], body.get("spec") or {}
    status = body.get("status") or {}
    where, hint = f"{meta['namespace']}/{meta['name']}", _hint(meta)
    strategy = (raw.get("rollout") or {}).get("strategy", IMMEDIATE)
    if strategy != CANARY:
        return (
            f"{where} uses strategy {strategy}: there is no rollout to {action} (a new version "
            f"replaces stable in place); to go back to the previous version: "
            f"modelops rollout undo {hint}"
        )
    canary, rejected = status.get("canary"), status.get("rejected")
    promoting = status.get("phase") == "Promoting"
    if action == "abort" and promoting:
        return (
            f"{where} is already promoting version {canary.get('version')} (abort applies to "
            f"canary steps); to go back to the version before it: modelops rollout undo {hint}"
        )
    if action == "abort" and not canary:
        return (
            f"{where} has no canary in progress to abort (phase {status.get('phase', 'Unknown')})"
        )
    if action == "promote" and not canary and not rejected:
        return (
            f"{where} has nothing to promote: no canary in progress and no rolled-back version "
            f"(phase {status.get('phase', 'Unknown')})"
        )
    return None


def retry_warning(body: Mapping[str, Any]) -> str | None:
    """What promote does to a rolled-back version: a new canary from step 1, not a promotion."""
    status = body.get("status") or {}
    rejected = status.get("rejected")
    if status.get("canary") or not rejected:
        return None
    rollout = (body.get("spec") or {}).get("rollout") or {}
    steps = list(rollout.get("steps") or OPERATOR_DEFAULTS["spec.rollout.steps"])
    return (
        f"version {rejected.get('version')} was rolled back ({rejected.get('reason', 'no reason')}); "
        f"promote does not make it stable: it restarts its canary from step 1 "
        f"(weight {steps[0]}%, steps {steps}) and judges it again"
    )


def _hint(meta: Mapping[str, Any]) -> str:
    """NAME -n NS, so a pasted hint finds the object whatever the context's namespace is."""
    return f"{meta['name']} -n {meta['namespace']}"
