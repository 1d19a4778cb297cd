"""The demo's live terminal view: `render(timeline)` -> a rich renderable.

Pure: it reads the recorded timeline and returns what to draw, so the demo
puts it in a `rich.live.Live` refreshed about once a second, and tests render
it into a string. Every field of a sample may be missing (the first seconds
of a run, a Prometheus that has not scraped yet); the view then shows a dash,
never raises. It fits 80 columns and keeps a steady height (~30 lines): long
texts are cut with an ellipsis rather than wrapped.

Text from the cluster (event messages, check names, versions) always goes in
as `rich.text.Text`, never as a markup string, so a "[" in a message is shown,
not interpreted.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from modelops_cli.demo import series
from modelops_cli.demo.timeline import Act, Sample, Timeline
from modelops_cli.demo.traffic import NO_VERSION
from modelops_cli.reports.html import DASH, clock
from modelops_cli.reports.style import GOOD, THRESHOLD, WARN, track_color

EVENTS_SHOWN = 6
BAR_WIDTH = 24
LABEL_WIDTH = 10

# Conditions in the order they are shown: (style when True, style when False,
# shown when False). Ready and the last analysis verdict are always worth a
# look; the others are news only when True, and leaving them out when False
# keeps the line within 80 columns. Progressing is left out: the phase says it.
CONDITIONS = {
    "Ready": (GOOD, THRESHOLD, True),
    "AnalysisPassed": (GOOD, THRESHOLD, True),
    "Degraded": (THRESHOLD, "dim", False),
    "Drifted": (WARN, "dim", False),
    "Retraining": ("cyan", "dim", False),
}
PHASE_STYLES = {
    "Stable": GOOD,
    "Progressing": "cyan",
    "Promoting": "cyan",
    "RolledBack": WARN,
    "Failed": THRESHOLD,
}
# Ready is False while a canary is in flight (the spec's release is not yet the
# one serving): news, not an alarm, in these phases.
ROLLING = ("Progressing", "Promoting")
VERDICT_MARKS = {"Pass": ("\u2714", GOOD), "Fail": ("\u2718", THRESHOLD)}


def render(timeline: Timeline, now: float | None = None) -> RenderableType:
    """The whole view; `now` (seconds since the run started) defaults to the last record."""
    now = series.end_time(timeline) if now is None else now
    last = timeline.last
    colors = series.colors(timeline)
    body = Table.grid(padding=(0, 1), expand=True)
    body.add_column(width=LABEL_WIDTH, style="bold", no_wrap=True)
    body.add_column(ratio=1)
    body.add_row("phase", _phase_line(last))
    body.add_row("rollout", _tracks(last, colors, _steps(timeline)))
    body.add_row("analysis", _checks(timeline, now))
    body.add_row("traffic", _traffic(timeline, last, colors))
    body.add_row("drift", _drift(last))
    body.add_row("retraining", _retraining(last))
    return Group(_acts(timeline, now), body, Text(""), _events(timeline))


# --- acts ---------------------------------------------------------------------------------


def _acts(tl: Timeline, now: float) -> Panel:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=1)
    grid.add_column(ratio=1)  # an act's lines change only when it starts or ends: wrap them
    grid.add_column(justify="right", no_wrap=True)
    current = series.current_act(tl)
    if current is None:
        grid.add_row("", Text("preparing the cluster: no act started yet", style="dim"), "")
    for number, act in enumerate(tl.acts, start=1):
        if act.ended is None and current is not None and act is current[1]:
            grid.add_row(
                Text("\u25b6", style="bold cyan"),
                Text.assemble((f"Act {number} ", "bold"), (act.title or act.name, "bold")),
                Text(f"{clock(now - act.started)} in act", style="cyan"),
            )
            grid.add_row("", Text(f"expected: {act.expected or DASH}", style="dim"), "")
        else:
            grid.add_row(*_finished(number, act))
    title = Text.assemble(
        ("modelops demo", "bold"), f" \u00b7 {tl.model} on {tl.namespace}/{tl.name}"
    )
    return Panel(
        grid,
        title=title,
        title_align="left",
        subtitle=Text(f"elapsed {clock(now)}", style="bold"),
        subtitle_align="right",
        box=box.ROUNDED,
    )


def _finished(number: int, act: Act) -> tuple[Text, Text, Text]:
    mark, style = {True: ("\u2714", GOOD), False: ("\u2718", THRESHOLD)}.get(
        act.passed, ("?", "dim")
    )
    took = clock(act.ended - act.started) if act.ended is not None else ""
    line = Text.assemble((f"Act {number} {act.name}: ", "bold"), act.outcome or act.title or "")
    return Text(mark, style=f"bold {style}"), line, Text(took, style="dim")


# --- phase and tracks -----------------------------------------------------------------------


def _phase_line(last: Sample | None) -> Text:
    if last is None:
        return Text("waiting for the first sample of the cluster", style="dim")
    phase = last.phase or DASH
    text = Text(f"{phase:<12}", style="bold " + PHASE_STYLES.get(phase, "dim"))
    for name, (on, off, always) in CONDITIONS.items():
        status = last.conditions.get(name)
        if status is None or (status == "False" and not always):
            continue
        mark, style = {"True": ("\u25cf", on), "False": ("\u25cb", off)}.get(status, ("?", "dim"))
        if name == "Ready" and status == "False" and phase in ROLLING:
            style = PHASE_STYLES[phase]  # not ready *yet*: the new release is on its way
        text.append(f" {mark} {name}", style=style)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def _steps(tl: Timeline) -> int | None:
    steps = (tl.settings.get("rollout") or {}).get("steps")
    return len(steps) if isinstance(steps, list) and steps else None


def _tracks(last: Sample | None, colors: dict[str, str], steps: int | None) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=6, no_wrap=True)
    grid.add_column(width=5, no_wrap=True)
    grid.add_column(width=BAR_WIDTH)
    grid.add_column(width=4, justify="right")
    grid.add_column(no_wrap=True, overflow="ellipsis")
    if last is None:
        grid.add_row(Text(DASH, style="dim"))
        return grid
    weight = max(0, min(100, last.weight or 0)) if last.canary_version else 0
    stable_color, canary_color = track_color("stable"), track_color("canary")
    grid.add_row(
        Text("stable", style=stable_color),
        _version(last.stable_version, colors),
        _bar(100 - weight, stable_color),
        f"{100 - weight}%",
        _pods(last.ready_pods.get("stable")),
    )
    if not last.canary_version:
        grid.add_row(
            Text("canary", style="dim"), Text(DASH, style="dim"), Text("no canary", style="dim")
        )
        return grid
    step = ""
    if last.step is not None:
        # During a promotion the operator sets step = len(steps): say so instead of "4/3".
        step = "promoting" if steps and last.step >= steps else f"step {last.step + 1}"
        step += f"/{steps}" if steps and last.step < steps else ""
    grid.add_row(
        Text("canary", style=canary_color),
        _version(last.canary_version, colors),
        _bar(weight, canary_color),
        f"{weight}%",
        Text.assemble(_pods(last.ready_pods.get("canary")), ("  " + step if step else "", "bold")),
    )
    return grid


def _bar(percent: int, color: str) -> ProgressBar:
    return ProgressBar(100, percent, BAR_WIDTH, complete_style=color, finished_style=color)


def _version(version: str | None, colors: dict[str, str]) -> Text:
    if not version:
        return Text(DASH, style="dim")
    return Text(f"v{version}", style=f"bold {colors.get(version, '')}".strip())


def _pods(count: int | None) -> Text:
    if count is None:
        return Text(f"{DASH} pods", style="dim")
    return Text(f"{count} pod" + ("" if count == 1 else "s") + " ready")


# --- analysis -----------------------------------------------------------------------------------


def _checks(tl: Timeline, now: float) -> RenderableType:
    found = series.last_checks(tl)
    if found is None:
        return Text("no analysis yet (one runs at the end of each canary step)", style="dim")
    sample, checks = found
    step = checks[0].get("step")
    head = f"of v{sample.canary_version or '?'}"
    head += f" at step {step + 1}" if isinstance(step, int) else ""
    head += f", {clock(now - sample.t)} ago"
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=1)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    for check in checks:
        verdict = str(check.get("verdict") or DASH)
        mark, style = VERDICT_MARKS.get(verdict, ("?", WARN))
        grid.add_row(
            Text(mark, style=f"bold {style}"),
            Text(str(check.get("name") or DASH)),
            _number(check.get("value")),
            Text(verdict, style=f"bold {style}"),
            Text(_bound(check), style="dim"),
        )
    return Group(Text(head, style="dim"), grid)


def _bound(check: dict) -> str:
    """The part of the operator's message after the value ("> max 0.01", or why inconclusive)."""
    message = str(check.get("message") or "")
    name = str(check.get("name") or "")
    if message.startswith(name):
        parts = message[len(name) :].split(maxsplit=1)
        return (
            parts[1]
            if len(parts) == 2 and parts[0][:1].isdigit()
            else message[len(name) :].strip(" :")
        )
    return message


# --- traffic ------------------------------------------------------------------------------------


def _traffic(tl: Timeline, last: Sample | None, colors: dict[str, str]) -> Table:
    until = last.t if last is not None else 0.0
    window = series.trailing(tl.samples, until, series.SMOOTH_SECONDS)
    totals = series.traffic_totals(window, series.SMOOTH_SECONDS)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, min_width=6)
    for _ in range(3):  # req/s, errors, p99
        grid.add_column(justify="right", no_wrap=True, min_width=7)
    grid.add_row(
        Text(f"last {series.SMOOTH_SECONDS:g} s", style="dim"),
        "",
        *(Text(h, style="dim") for h in ("req/s", "errors", "p99")),
    )
    source = "load gen."
    for version, total in totals.items():
        errors = Text(str(total.errors), style=THRESHOLD if total.errors else "")
        name = (
            Text("no answer", style=THRESHOLD)
            if version == NO_VERSION
            else _version(version, colors)
        )
        grid.add_row(source, name, _rate(total.rate), errors, _ms(total.p99_ms))
        source = ""
    source = "Prometheus"
    for track in series.TRACKS:
        metric = last.metrics.get(track) if last is not None else None
        if metric is None:
            continue
        rate = metric.error_rate
        errors = Text(
            DASH if rate is None else f"{100 * rate:.1f}%", style=THRESHOLD if rate else ""
        )
        p99 = None if metric.p99_seconds is None else metric.p99_seconds * 1000
        grid.add_row(
            source,
            Text(track, style=track_color(track)),
            _rate(metric.request_rate),
            errors,
            _ms(p99),
        )
        source = ""
    if grid.row_count == 1:
        grid.add_row(Text("no traffic yet", style="dim"))
    return grid


# --- drift and retraining -----------------------------------------------------------------------


def _drift(last: Sample | None) -> RenderableType:
    if last is None or last.drift_score is None:
        return Text("not measured yet", style="dim")
    drifted = last.conditions.get("Drifted") == "True"
    threshold = last.drift_threshold
    over = threshold is not None and last.drift_score > threshold
    line = Text.assemble(
        (f"{last.drift_score:.3f}", f"bold {WARN}" if over or drifted else "bold"),
        f" / threshold {threshold:g}" if threshold is not None else " / threshold ?",
        ("  DRIFTED" if drifted else "", f"bold {WARN}"),
        (
            f"  over {last.drift_samples:,} requests" if last.drift_samples is not None else "",
            "dim",
        ),
    )
    top = series.top_features(last.drift_features)
    if not top:
        return line
    features = Text(
        " \u00b7 ".join(f"{k} {v:.3f}" for k, v in top),
        style="dim",
        no_wrap=True,
        overflow="ellipsis",
    )
    return Group(line, features)


def _retraining(last: Sample | None) -> Text:
    if last is None or not (last.retraining_job or last.candidate_version):
        return Text("no Job yet", style="dim")
    state = last.retraining_state or DASH
    style = {"Running": "cyan", "Succeeded": GOOD, "Failed": THRESHOLD}.get(state, "")
    text = Text.assemble(
        (f"{state} ", f"bold {style}".strip()),
        (last.retraining_job or DASH, ""),
        ("  candidate ", "dim"),
        (f"v{last.candidate_version}" if last.candidate_version else DASH, "bold"),
    )
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


# --- events -------------------------------------------------------------------------------------


def _events(tl: Timeline) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        expand=True,
        title=Text("events", style="bold"),
        title_justify="left",
    )
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("reason", no_wrap=True, max_width=19, overflow="ellipsis")
    table.add_column("message", no_wrap=True, overflow="ellipsis", ratio=1)
    shown = sorted((e for e in tl.events if series.notable(e)), key=lambda e: e.t)
    shown = shown[-EVENTS_SHOWN:]
    for event in shown:
        if event.type == "Warning":
            style = f"bold {THRESHOLD}"
        else:
            style = "dim" if event.source == "demo" else "cyan"
        table.add_row(
            clock(event.t),
            Text(event.reason or DASH, style=style),
            Text(event.message or "", style="dim" if event.source == "demo" else ""),
        )
    if not shown:
        table.add_row("", Text("none yet", style="dim"), "")
    return table


def _number(value: object, digits: int = 4) -> Text:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Text(DASH, style="dim")
    return Text(f"{value:.{digits}g}")


def _rate(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f} ms"
