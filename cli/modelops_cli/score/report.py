"""What a run shows: a progress bar with rows/s on a terminal, then a summary.

The summary is a dict (the `-o json` line, and what `--summary-file` holds for
a Kubernetes Job's termination message) rendered as aligned text by default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RowsPerSecond(ProgressColumn):
    """rows/s, smoothed by rich over the last updates."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- rows/s" if speed is None else f"{speed:,.0f} rows/s", style="cyan")


@contextlib.contextmanager
def progress_bar(total: int | None, label: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A callback advancing a bar by `rows` (a no-op unless `enabled` and stderr is a terminal)."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda rows: None
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        RowsPerSecond(),
        TimeElapsedColumn(),
    ]
    if total is not None:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda rows: bar.advance(task, rows)


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


SUMMARY_LINES = (
    ("model", "model"),
    ("version", "version"),
    ("shard", "shard"),
    ("inputs", "inputs"),
    ("rows", "rows"),
    ("scored", "scored"),
    ("rejects", "rejected"),
    ("seconds", "seconds"),
    ("rows/s", "rows_per_second"),
    ("output", "output"),
    ("rejects file", "rejects_output"),
)


def render_summary(summary: dict[str, Any]) -> str:
    """The summary as aligned `name: value` lines, then the rejects per rule, if any."""
    width = max(len(label) for label, _ in SUMMARY_LINES)
    lines = []
    for label, key in SUMMARY_LINES:
        value = summary.get(key)
        if value is None:
            continue
        if key == "rows_per_second":
            value = f"{value:,.0f}"
        elif key in ("rows", "scored", "rejected"):
            value = f"{value:,}"
        elif key == "inputs":
            value = f"{value['files']} file(s), {value['units']} unit(s) in this shard"
        lines.append(f"{label:<{width}}  {value}")
    rules = summary.get("rejects_by_rule") or {}
    if rules:
        lines.append("rejected rows per rule (a row may break several):")
        lines.extend(f"  {rule}: {count:,}" for rule, count in rules.items())
    return "\n".join(lines)
