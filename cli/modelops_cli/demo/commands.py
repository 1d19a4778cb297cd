"""`modelops demo`: the whole loop on a local node, and its report.

`modelops demo [--keep] [--out DIR]` plays it (demo/play.py).

`modelops demo report TIMELINE.json [--out DIR]` re-renders the HTML report
and the JSON summary from a saved timeline, without a cluster. Heavy imports
(matplotlib) happen only inside the command, so `modelops --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group(invoke_without_command=True)
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the cluster running at the end and print how to explore it "
    "(`modelops cluster down` removes it).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for report.html, summary.json and timeline.json "
    "[default: ~/.local/state/modelops/demo/<time>].",
)
@click.option(
    "--interval",
    type=click.IntRange(5, 600),
    default=20,
    show_default=True,
    help="Seconds each canary step is analysed.",
)
@click.pass_context
def demo(ctx: click.Context, keep: bool, out_dir: Path | None, interval: int) -> None:
    """The whole loop on a local node (canary, rollback, drift and retraining), and its report.

    Without a sub-command: builds or finds everything, brings up a cluster
    with a real node, installs the operator's chart, trains churn v1, applies
    a ModelDeployment and sends it steady traffic, then plays three acts the
    operator decides alone — a better v2 promoted through canary steps, a
    faulty v3 rolled back, drifted traffic retrained and promoted — with a
    live view, and writes an HTML report. Needs root (a real node). Exit code
    0 when every act passed, 1 otherwise.
    """
    if ctx.invoked_subcommand is not None:
        return
    from modelops_cli.demo.manifests import Settings
    from modelops_cli.demo.play import Demo, default_out_dir

    settings = Settings(interval_seconds=interval)
    run = Demo(settings, out_dir or default_out_dir(), keep=keep)
    ctx.exit(0 if run.run() else 1)


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
