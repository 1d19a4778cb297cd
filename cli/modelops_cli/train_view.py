"""What `modelops train` shows a person at a terminal: the outcome as tables.

Scripts and the operator's Jobs read the one JSON line (`-o json`, the
default when stdout is not a terminal); a person gets the version, its
status, the held-out metrics next to the baseline's, and every gate with
its threshold, value and verdict, without reading a 1,500-character line.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

# Metrics shown first, in this order, when present; any other scalar follows.
PREFERRED = ("auc", "baseline_auc", "logloss", "baseline_logloss", "accuracy", "ece",
             "top1_accuracy", "top3_accuracy", "fairness_gap")  # fmt: skip


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def scalar_metrics(metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) for the metrics worth a row: numbers and short labels, preferred first."""
    shown = [(k, metrics[k]) for k in PREFERRED if k in metrics]
    rest = sorted(
        (k, v)
        for k, v in metrics.items()
        if k not in PREFERRED and isinstance(v, int | float | str) and not isinstance(v, bool)
    )
    return shown + rest


def render(result: dict[str, Any]) -> Group:
    """The summary: a headline, the metrics table and the gates table."""
    approved = result.get("status") == "approved"
    headline = Text.assemble(
        (f"{result.get('model')} version {result.get('version')}", "bold"),
        " published as ",
        ("APPROVED" if approved else "REJECTED", "bold green" if approved else "bold red"),
        f"  ({result.get('registry')})",
    )
    metrics = Table(title="held-out metrics", title_justify="left", show_edge=False)
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for name, value in scalar_metrics(result.get("metrics") or {}):
        metrics.add_row(name, _number(value))
    parts: list[Any] = [headline, Text(""), metrics, Text("")]
    gates = result.get("gates") or {}
    if not gates:
        parts.append(Text("no gates (--no-gates): approved without any check", style="yellow"))
        return Group(*parts)
    table = Table(title="gates", title_justify="left", show_edge=False)
    for column, justify in (("gate", "left"), ("threshold", "right"), ("value", "right"),
                            ("", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, gate in gates.items():
        op = ">=" if name.startswith("minMetric.") else "<="
        origin = " (default)" if gate.get("default") else ""
        verdict = Text("pass", style="green") if gate.get("passed") else Text("FAIL", style="red")
        table.add_row(
            name + origin, f"{op} {_number(gate.get('threshold'))}",
            _number(gate.get("value")), verdict,
        )  # fmt: skip
    parts.append(table)
    return Group(*parts)


def print_summary(result: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(render(result))
