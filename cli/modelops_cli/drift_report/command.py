"""`modelops drift report`: would the operator call this data drifted?

Exit codes (docs/cli.md), so a script can gate on the verdict:

  0  NotDrifted
  2  bad input: unknown model or version, no reference profile, unreadable
     --data, missing raw columns, a bad setting (the message names it)
  3  Drifted: the score is above the threshold
  4  InsufficientData: fewer rows than --min-samples (the operator would not
     judge it, and never retrains on it)
  1  anything else (e.g. matplotlib missing for the HTML: the message says
     what to install)
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from modelops_cli.registry import BadInput, registry_errors, registry_option

EXIT_NOT_DRIFTED = 0
EXIT_DRIFTED = 3
EXIT_INSUFFICIENT = 4
METHODS = ("psi", "ks", "js")


def exit_code(verdict: str) -> int:
    from modelops_operator.drift import verdict as verdicts

    return {verdicts.DRIFTED: EXIT_DRIFTED, verdicts.INSUFFICIENT: EXIT_INSUFFICIENT}.get(
        verdict, EXIT_NOT_DRIFTED
    )


@click.group()
def drift() -> None:
    """Drift of data against a model version's training profile, offline."""


@drift.command("report")
@click.option("--model", "model", required=True, help="Model name in the registry, e.g. churn.")
@click.option(
    "--version",
    "version",
    required=True,
    help="A version number, 'latest' or '@latest-approved' (the profile it was trained with).",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Raw records (.csv or .parquet) with the model's raw columns, e.g. logged requests.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The HTML report. Default: drift-<model>-<version>.html in the current directory.",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help="spec.monitoring.drift.method (default, as in the CRD: psi).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.0),
    default=None,
    help="spec.monitoring.drift.threshold (default, as in the CRD: 0.2).",
)
@click.option(
    "--min-samples",
    "min_samples",
    type=click.IntRange(min=0),
    default=None,
    help="spec.monitoring.drift.minSamples (default, as in the CRD: 1000).",
)
@click.option(
    "--kind",
    type=click.Choice(["churn", "learning-path"]),
    default=None,
    help="The model kind whose features to compute. Default: read from the version's schema.",
)
@registry_option
@click.option(
    "-o",
    "--output",
    type=click.Choice(["auto", "table", "json"]),
    default="auto",
    show_default=True,
    help="table: a summary for people; json: one object for scripts; auto: table at a terminal.",
)
def report(
    model: str,
    version: str,
    data: Path,
    out: Path | None,
    method: str | None,
    threshold: float | None,
    min_samples: int | None,
    kind: str | None,
    registry_uri: str | None,
    output: str,
) -> None:
    """Measure --data against a version's reference profile as the operator would, and
    write a self-contained HTML report (per feature: reference vs observed histogram,
    score, threshold). Exit code 0 no drift, 3 drifted, 4 too few rows, 2 bad input.
    """
    from modelops_cli.drift_report import measure, page
    from modelops_cli.reports.figures import ReportExtraMissing

    try:
        settings = measure.drift_settings(method, threshold, min_samples)
        with registry_errors():
            result = measure.run(
                model=model,
                version=version,
                registry_uri=registry_uri,
                data=data,
                settings=settings,
                kind=kind,
            )
    except measure.DriftInputError as exc:
        raise BadInput(str(exc)) from exc
    path = out or Path(f"drift-{model}-{result.version}.html")
    try:
        page.write(result, path)
    except ReportExtraMissing as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise BadInput(f"--out {path}: {exc}") from exc
    table = output == "table" or (output == "auto" and click.get_text_stream("stdout").isatty())
    if table:
        from rich.console import Console

        from modelops_cli.drift_report.view import render

        Console().print(render(result, str(path)))
    else:
        click.echo(json.dumps({**result.to_dict(), "report": str(path)}, indent=2))
    click.get_current_context().exit(exit_code(result.verdict))
