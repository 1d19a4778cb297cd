"""`modelops demo`: the whole loop on a local node, and its report.

`modelops demo report TIMELINE.json [--out DIR]` re-renders the HTML report
and the JSON summary from a saved timeline, without a cluster. Heavy imports
(matplotlib) happen only inside the command, so `modelops --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def demo() -> None:
    """The whole loop on a local node (canary, rollback, drift and retraining), and its report."""


@demo.command("report")
@click.argument(
    "timeline_path",
    metavar="TIMELINE.json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for report.html and summary.json [default: the timeline's folder].",
)
def report(timeline_path: Path, out_dir: Path | None) -> None:
    """Write report.html and summary.json from a timeline a demo run saved."""
    from modelops_cli.demo.timeline import Timeline, validate

    try:
        timeline = Timeline.load(timeline_path)
        validate(timeline)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # JSONDecodeError is a ValueError; a field the schema does not know is a TypeError.
        raise click.ClickException(f"{timeline_path} is not a demo timeline: {exc}") from exc

    from modelops_cli.demo.report import write_report
    from modelops_cli.reports.figures import ReportExtraMissing

    try:
        html = write_report(timeline, out_dir or timeline_path.parent)
    except ReportExtraMissing as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report:  {html}")
    click.echo(f"summary: {html.with_name('summary.json')}")
    passed = json.loads(html.with_name("summary.json").read_text())["passed"]
    click.echo("every act passed" if passed else "not every act passed: see the report's Outcome")
