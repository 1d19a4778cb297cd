"""`modelops rollout get NAME --watch`: a live view of one rollout, redrawn on every watch event.

Like `kubectl argo rollouts get rollout --watch`: tracks with their versions
and traffic weights, the step progress, the last analysis checks and the
conditions. `frame` is pure (a body in, a rich renderable out, tested by
rendering it to text); `show` draws the frames of a stream of bodies
(rollout_watch.versions), in place at a terminal and one after the other
into a pipe or a log, where redrawing would leave escape codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from modelops_cli.rollout_view import progress_bar
from modelops_operator.api import conditions as cond
from modelops_operator.api.spec import DEFAULTS, OPERATOR_DEFAULTS

# Colours of a phase: green settled, cyan moving, red rolled back or failing.
PHASE_STYLE = {
    "Stable": "green",
    "Progressing": "cyan",
    "Promoting": "cyan",
    "RolledBack": "red",
    "Failed": "red",
}
VERDICT_STYLE = {"Pass": "green", "Fail": "red", "Inconclusive": "yellow"}


def frame(body: Mapping[str, Any], now: dt.datetime) -> RenderableType:
    """Everything the live view shows for one version of the object."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    status = body.get("status") or {}
    rollout = spec.get("rollout") or {}
    strategy = rollout.get("strategy", "Immediate")
    phase = status.get("phase", "Unknown")
    header = Text.assemble(
        (f"{meta.get('namespace')}/{meta.get('name')}", "bold"),
        f"  strategy {strategy}  phase ",
        (phase, PHASE_STYLE.get(phase, "yellow")),
        f"  generation {meta.get('generation', '?')}"
        f" (observed {status.get('observedGeneration', '-')})",
    )
    parts: list[RenderableType] = [header]
    if status.get("message"):
        parts.append(Text(f"message: {status['message']}"))
    parts.append(tracks(status))
    canary = status.get("canary")
    if canary and strategy == "Canary":
        steps = list(rollout.get("steps") or OPERATOR_DEFAULTS["spec.rollout.steps"])
        interval = rollout.get("interval") or DEFAULTS["spec.rollout.interval"]
        bar = progress_bar(
            steps,
            int(canary.get("step", 0)),
            int(canary.get("weight", 0)),
            phase == "Promoting",
        )
        parts.append(
            Text(f"steps: {bar}  every {interval}, failed analyses {canary.get('failures', 0)}")
        )
        if canary.get("checks"):
            parts.append(checks(canary["checks"]))
    rejected = status.get("rejected")
    if rejected and not canary:
        where = f"{meta.get('name')} -n {meta.get('namespace')}"
        parts.append(
            Text(
                f"version {rejected.get('version')} was rolled back: retry it from step 1 with "
                f"`modelops rollout promote {where} --yes`, or make the spec name what serves "
                f"with `modelops rollout undo {where}`",
                "yellow",
            )
        )
    parts.append(conditions(status.get("conditions") or [], status.get("message")))
    parts.append(
        Text(f"updated {now.strftime('%H:%M:%S')} UTC; watching for changes, Ctrl-C to exit", "dim")
    )
    return Group(*parts)


def tracks(status: Mapping[str, Any]) -> Table:
    """Stable and canary with their traffic, then the rollback target and a rejected version."""
    table = Table(
        "TRACK", "VERSION", "IMAGE", "WEIGHT", "SINCE", box=box.SIMPLE, title_justify="left"
    )
    canary = status.get("canary")
    weight = int(canary.get("weight", 0)) if canary else 0
    stable = status.get("stable")
    if stable:
        table.add_row("stable", *_release(stable), f"{100 - weight}%", stable.get("since", ""))
    if canary:
        table.add_row(
            Text("canary", "cyan"), *_release(canary), f"{weight}%", canary.get("startedAt", "")
        )
    previous = status.get("previous")
    if previous:
        table.add_row(Text("previous", "dim"), *_release(previous), "-", previous.get("since", ""))
    rejected = status.get("rejected")
    if rejected:
        table.add_row(Text("rejected", "red"), *_release(rejected), "0%", rejected.get("at", ""))
    return table


def checks(items: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(
        "VERDICT",
        "METRIC",
        "VALUE",
        "MESSAGE",
        box=box.SIMPLE,
        title="last checks",
        title_justify="left",
    )
    for check in items:
        value = check.get("value")
        verdict = check.get("verdict", "?")
        table.add_row(
            Text(verdict, VERDICT_STYLE.get(verdict, "")),
            check.get("name", "?"),
            "no value" if value is None else f"{value:.4g}",
            check.get("message", ""),
        )
    return table


def conditions(items: Iterable[Mapping[str, Any]], message: str | None = None) -> Table:
    """The conditions; a message repeating status.message (shown above) is not printed again."""
    table = Table("CONDITION", "STATUS", "REASON", "MESSAGE", box=box.SIMPLE)
    for c in items:
        # Degraded is the one condition where True is bad.
        good = (c.get("status") == cond.TRUE) != (c.get("type") == cond.DEGRADED)
        table.add_row(
            c.get("type", "?"),
            Text(c.get("status", "?"), "green" if good else "red"),
            c.get("reason", ""),
            "(the message above)"
            if message and c.get("message") == message
            else c.get("message", ""),
        )
    return table


def _release(release: Mapping[str, Any]) -> tuple[str, str]:
    return str(release.get("version", "-")), str(release.get("image", "-"))


def show(bodies: Iterable[Mapping[str, Any]], console: Console) -> None:
    """Draw a frame per body until the stream ends (the caller turns Ctrl-C into exit 0)."""

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    if not console.is_terminal:
        for body in bodies:
            console.print(frame(body, now()))
            console.print()
            console.file.flush()  # a pipe is block-buffered: `| tee log` must see each frame
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        for body in bodies:
            live.update(frame(body, now()), refresh=True)
