"""`modelops score`: score files with a registry model version, streamed, with rejects.

    modelops score --model churn --version 3 --data customers/ --out scores.parquet

Prints a summary (rows, rejects, seconds, rows/s, output) on stdout, as text
or, with `-o json`, as one JSON line; a progress bar with rows/s on stderr
when it is a terminal. Exit codes, as `modelops train`'s:

  0  every row scored, outputs written;
  2  bad input, nothing written (unreadable or incomplete --data, unknown
     version, a model that fails its checksum, bad options); the reason on stderr;
  3  outputs written, but more rows were rejected than --max-reject-rate
     allows (default 0: any rejected row); the rejects file says why per row;
  1  anything else (e.g. the output could not be written).

On Kubernetes, an Indexed Job runs one pod per shard:
`modelops score ... --version 3 --shard $(JOB_COMPLETION_INDEX)/N --out s3://bucket/run/`
(see docs/batch-scoring.md).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from modelops_cli.registry import BadInput, registry_errors, registry_option

from .models import DEFAULT_TOP_K, KINDS

DEFAULT_CHUNK_ROWS = 100_000
# train's EXIT_REJECTED ("written, but a gate said no"); not imported from
# modelops_cli.train, whose functions import the training code.
EXIT_REJECTS = 3


@click.command()
@click.option(
    "--model",
    "kind",
    type=click.Choice(KINDS),
    default="churn",
    show_default=True,
    help="Which model's features and scorer to use.",
)
@click.option(
    "--model-name",
    default=None,
    metavar="NAME",
    help="The model's name in the registry (default: the same as --model).",
)
@click.option(
    "--version",
    default=None,
    metavar="V",
    help='A version number, "latest" (the newest approved; the default) or "@latest-approved".',
)
@click.option(
    "--from-deployment",
    default=None,
    metavar="NAMESPACE/NAME",
    help="Score with the version this ModelDeployment's stable track serves (its "
    "status.stable.version), read from its registry unless --registry is given.",
)
@click.option("--kubeconfig", default=None, help="Kubeconfig for --from-deployment.")
@click.option(
    "--allow-rejected",
    is_flag=True,
    default=False,
    help='Use a version its gates rejected ("latest" then means the newest of any status).',
)
@registry_option
@click.option(
    "--data",
    required=True,
    metavar="SOURCE",
    help="A .parquet / .csv / .csv.gz file, a folder of them, or a glob; local or s3://.",
)
@click.option(
    "--out",
    required=True,
    metavar="PATH",
    help="A .parquet file, or a folder (local or s3://) that gets one part per shard; "
    "rejected rows go beside it (NAME.rejects.parquet, or the folder's _rejects/).",
)
@click.option(
    "--id-column",
    default=None,
    metavar="NAME",
    help="The input's id column, copied to the output (default: customer_id for churn, "
    "student_id for learning-path).",
)
@click.option(
    "--shard",
    default=None,
    metavar="INDEX/COUNT",
    help="Score only shard INDEX of COUNT (Parquet row groups and CSV files dealt round "
    "robin), e.g. $(JOB_COMPLETION_INDEX)/4 in an Indexed Job.",
)
@click.option(
    "--top-k",
    type=int,
    default=None,
    help=f"learning-path: modules to recommend per student (default {DEFAULT_TOP_K}).",
)
@click.option(
    "--max-reject-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Largest share of rejected rows that still exits 0 (above it: exit 3).",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(1, 10_000_000),
    default=DEFAULT_CHUNK_ROWS,
    show_default=True,
    help="Rows read, checked and scored at a time (memory grows with it, not with the input).",
)
@click.option(
    "--threads",
    type=click.IntRange(0, 1024),
    default=0,
    show_default=True,
    help="XGBoost threads; 0: its default (every CPU, within OMP_NUM_THREADS and the cgroup quota).",
)
@click.option(
    "--summary-file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the JSON summary here (e.g. /dev/termination-log in a Job's pod).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="The summary as text or as one JSON line.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on a terminal.")
def score(
    kind: str,
    model_name: str | None,
    version: str | None,
    from_deployment: str | None,
    kubeconfig: str | None,
    allow_rejected: bool,
    registry_uri: str | None,
    data: str,
    out: str,
    id_column: str | None,
    shard: str | None,
    top_k: int | None,
    max_reject_rate: float,
    chunk_rows: int,
    threads: int,
    summary_file: str | None,
    output: str,
    progress: bool,
) -> None:
    """Score files with a model version from the registry: features, rejects, Parquet out."""
    from . import engine, inputs, layout, models, shards
    from . import version as versions
    from .report import progress_bar, rate, render_summary

    scored_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        chosen_shard = shards.parse_shard(shard) if shard is not None else None
        paths = layout.output_paths(out, chosen_shard)
        raw_schema, default_id = models.raw_contract(kind)
        id_column = id_column or default_id
        with registry_errors():
            chosen = versions.choose(
                registry_uri=registry_uri,
                model=model_name or kind,
                version=version,
                from_deployment=from_deployment,
                allow_rejected=allow_rejected,
                kubeconfig=kubeconfig,
            )
        for note in chosen.notes:
            click.echo(f"modelops: {note}", err=True)
        fs, files = inputs.list_files(data)
        plan = inputs.plan(fs, files, id_column, raw_schema.names)
        load_started = time.perf_counter()
        with registry_errors():
            model = models.load(
                kind, chosen.registry_uri, chosen.model, chosen.version,
                threads=threads, top_k=top_k,
            )  # fmt: skip
        load_seconds = time.perf_counter() - load_started
    except ValueError as exc:  # InputError, VersionError, ModelUnavailable: each names its option
        raise BadInput(str(exc)) from exc

    units = shards.units_of(plan.units, chosen_shard or shards.WHOLE)
    job = engine.Job(
        fs=fs,
        units=units,
        id_column=id_column,
        id_type=plan.id_type,
        chunk_rows=chunk_rows,
        outputs=paths,
        scored_at=scored_at,
    )
    label = f"{model.model} v{model.version}" + (f" shard {chosen_shard}" if chosen_shard else "")
    try:
        with progress_bar(inputs.known_rows(units), label, progress) as advance:
            counts = engine.run(job, model, advance)
    except inputs.InputError as exc:
        raise BadInput(f"{exc} (nothing written)") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write the output: {exc} (nothing written)") from exc

    summary = summary_of(
        model, chosen.registry_uri, chosen_shard, plan, units, counts, paths, scored_at,
        load_seconds, max_reject_rate,
    )  # fmt: skip
    summary["rows_per_second"] = round(rate(counts.rows, counts.seconds), 1)
    if summary_file:
        try:
            Path(summary_file).write_text(json.dumps(summary, separators=(",", ":")) + "\n")
        except OSError as exc:
            click.echo(f"modelops: cannot write --summary-file {summary_file}: {exc}", err=True)
    if output == "json":
        click.echo(json.dumps(summary, separators=(",", ":")))
    else:
        click.echo(render_summary(summary))
    if summary["status"] != "ok":
        click.echo(
            f"modelops: {counts.rejected:,} of {counts.rows:,} row(s) rejected "
            f"({summary['reject_rate']:.4%}, above --max-reject-rate {max_reject_rate:g}); "
            f"outputs written, reasons per row in {paths.rejects}",
            err=True,
        )
        sys.exit(EXIT_REJECTS)


def summary_of(
    model: Any,
    registry: str,
    shard: Any,
    plan: Any,
    units: list[Any],
    counts: Any,
    paths: Any,
    scored_at: dt.datetime,
    load_seconds: float,
    max_reject_rate: float,
) -> dict[str, Any]:
    """The run's summary: what `-o json` prints and `--summary-file` holds."""
    reject_rate = counts.rejected / counts.rows if counts.rows else 0.0
    return {
        "model": model.model,
        "version": model.version,
        "registry": registry,
        "feature_schema_hash": model.schema_hash,
        "shard": str(shard) if shard is not None else None,
        "inputs": {"files": len(plan.files), "units": len(units)},
        "rows": counts.rows,
        "scored": counts.scored,
        "rejected": counts.rejected,
        "reject_rate": round(reject_rate, 6),
        "rejects_by_rule": dict(sorted(counts.rules.items())),
        "seconds": round(counts.seconds, 3),
        "cpu_seconds": round(counts.cpu_seconds, 3),
        "load_seconds": round(load_seconds, 3),
        "output": paths.scores,
        "rejects_output": paths.rejects,
        "scored_at": scored_at.isoformat().replace("+00:00", "Z"),
        "status": "ok" if reject_rate <= max_reject_rate else "rejects-over-limit",
    }
