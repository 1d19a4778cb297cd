"""What `modelops drift report` prints at a terminal: the verdict and the features, as tables."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from modelops_cli.drift_report.measure import Measurement
from modelops_operator.drift import verdict as verdicts

VERDICT_STYLE = {verdicts.DRIFTED: "bold red", verdicts.NOT_DRIFTED: "bold green"}


def render(m: Measurement, html_path: str | None) -> Group:
    s = m.settings
    headline = Text.assemble(
        (f"{m.model} version {m.version}", "bold"),
        f" against {m.data} ({m.rows:,} rows): ",
        (m.verdict, VERDICT_STYLE.get(m.verdict, "bold yellow")),
        f"  {s.method} {m.report.score:.4f}, threshold {s.threshold:g}, minSamples {s.min_samples}",
    )
    features = Table(show_edge=False)
    for column, justify in (("feature", "left"), ("kind", "left"), ("score", "right"),
                            ("", "left")):  # fmt: skip
        features.add_column(column, justify=justify)
    for f in m.features:
        mark = Text("drifts", style="red") if f.drifts else Text("stable", style="green")
        features.add_row(f.name, f.kind, f"{f.score:.4f}", mark)
    parts = [
        headline,
        Text(f"Drifted={m.condition.status} {m.condition.reason}: {m.condition.message}"),
        Text(""),
        features,
    ]
    if html_path:
        parts += [Text(""), Text(f"report: {html_path}")]
    return Group(*parts)
