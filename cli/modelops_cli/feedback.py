"""`modelops feedback`: store outcomes of earlier predictions in bulk, beside the inference log.

    modelops feedback --model churn --labels outcomes.csv [--registry URI] [--report 7d]
    modelops feedback --model churn --report 7d          # the live quality only

The labels file (.csv, .parquet, .jsonl or .json) has one outcome per row:
`request_id` (and optionally `record`) or `entity_id`, `outcome` and
`observed_at` (RFC 3339 with a timezone; empty means now). Every row is
checked before anything is written; all problems are listed by row and
column and the command exits 2. Entity ids are hashed the way the bentos
hash them (MODELOPS_LOG_IDENTIFIERS, MODELOPS_LOG_HASH_KEY), so they join
with the log. The store is MODELOPS_LOG_URI, else the registry.

Prints one JSON line: {"model", "kind", "written", "files", "store"}, plus
"quality" (modelops_features.groundtruth.window_quality: per version, the
labelled metrics, the label-free estimate and how many outcomes matched)
with --report WINDOW.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from modelops_cli.registry import BadInput, registry_errors, registry_option

ENV_LOG_URI = "MODELOPS_LOG_URI"
COLUMNS = ("request_id", "record", "entity_id", "outcome", "observed_at")
CLOCK_SKEW = timedelta(minutes=5)
MAX_LISTED_ERRORS = 20
MAX_ID_LENGTH = 256


def read_labels(path: Path) -> list[dict[str, Any]]:
    """The file's rows as dicts of the known columns (unknown columns are refused)."""
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    if not path.is_file():
        raise BadInput(f"--labels {path}: no such file")
    if suffix in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    elif suffix == ".json":
        rows = json.loads(path.read_text())
        if isinstance(rows, dict):
            rows = rows.get("outcomes", [])
    elif suffix in (".csv", ".csv.gz", ".parquet", ".pq"):
        import pandas as pd

        try:
            if suffix.startswith(".csv"):
                # Ids are labels, not numbers: "007" is not 7.
                frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            else:
                frame = pd.read_parquet(path)
        except ImportError as exc:
            raise BadInput(f"--labels {path}: reading Parquet needs pyarrow ({exc}); "
                           "use CSV or JSON lines") from exc  # fmt: skip
        except Exception as exc:  # pandas raises many types for a broken file
            raise BadInput(f"--labels {path}: cannot read it: {exc}") from exc
        rows = frame.to_dict(orient="records")
    else:
        raise BadInput(f"--labels {path}: unknown file type; use .csv, .parquet, .jsonl or .json")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadInput(f"--labels {path}: expected one object per outcome")
    unknown = sorted({k for r in rows for k in r} - set(COLUMNS))
    if unknown:
        raise BadInput(f"--labels {path}: unknown column(s) {unknown}; known: {list(COLUMNS)}")
    return rows


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


def parse_time(value: Any, now: datetime) -> datetime:
    """An aware UTC datetime from RFC 3339 text or a datetime; blank means now."""
    if _blank(value):
        return now
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"needs a timezone (e.g. 2026-12-01T10:00:00Z): {value!r}")
    if moment > now + CLOCK_SKEW:
        raise ValueError(f"is in the future: {value!r}")
    return moment.astimezone(UTC)


def check_row(layout: Any, row: dict[str, Any], now: datetime) -> tuple[dict[str, Any], list[str]]:
    """(feedback columns of one row, problems as 'column: message')."""
    errors: list[str] = []
    request_id, entity_id = _text(row.get("request_id")), _text(row.get("entity_id"))
    if request_id is None and entity_id is None:
        errors.append(
            "request_id/entity_id: give one (the prediction's X-Request-Id, or the entity)"
        )
    if request_id is not None and entity_id is not None:
        errors.append("request_id/entity_id: give one, not both")
    for name, value in (("request_id", request_id), ("entity_id", entity_id)):
        if value is not None and len(value) > MAX_ID_LENGTH:
            errors.append(f"{name}: longer than {MAX_ID_LENGTH} characters")
    if entity_id is not None and layout.entity_column is None:
        errors.append(
            f"entity_id: the {layout.kind} service never logs entity ids; give request_id"
        )
    record = None
    if not _blank(row.get("record")):
        try:
            record = int(str(row["record"]).strip().removesuffix(".0"))
            if record < 0:
                raise ValueError
        except ValueError:
            errors.append(f"record: not a whole number >= 0: {row['record']!r}")
        if request_id is None:
            errors.append("record: a position in a request, needs request_id")
    outcome = None
    try:
        outcome = layout.check_outcome(row.get("outcome"))
    except ValueError as exc:
        errors.append(f"outcome: {exc}")
    try:
        observed = parse_time(row.get("observed_at"), now)
    except ValueError as exc:
        errors.append(f"observed_at: {exc}")
        observed = now
    columns = {
        "request_id": request_id,
        "record": (record or 0) if request_id is not None else None,
        "entity_id": entity_id,
        "outcome": outcome,
        "observed_at": _us(observed),
        "received_at": _us(now),
        "source": "cli",
    }
    return columns, errors


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def resolve_kind(model: str, kind: str | None, store: Any) -> str:
    """--kind, else the kind the model's log files record, else the model name itself."""
    from modelops_features import inference_log as il
    from modelops_features import parquet

    known = il.layouts()
    if kind:
        return kind
    for stream in (il.LOG_STREAM, il.FEEDBACK_STREAM):
        keys = store.files(model, stream)
        if keys:
            recorded = parquet.decode(store.read(keys[-1]), columns=()).metadata.get(il.KIND_KEY)
            if recorded:
                return recorded
    if model in known:
        return model
    raise BadInput(
        f"--model {model}: no inference log yet to read its kind from; give --kind "
        f"({', '.join(known)})"
    )


@click.command()
@click.option("--model", required=True, help="Model name in the registry (as served).")
@click.option(
    "--labels",
    "labels_path",
    default=None,
    type=click.Path(path_type=Path),
    help="Outcomes: .csv, .parquet, .jsonl or .json with request_id [record] | entity_id, "
    "outcome, observed_at.",
)
@registry_option
@click.option(
    "--kind",
    type=click.Choice(["churn", "learning-path"]),
    default=None,
    help="Model kind (default: what the model's log records, else the model name).",
)
@click.option(
    "--batch-records",
    type=click.IntRange(1, 10_000_000),
    default=100_000,
    show_default=True,
    help="Outcomes per file written.",
)
@click.option(
    "--report",
    "report_window",
    default=None,
    metavar="WINDOW",
    help="Then print the live quality over the last WINDOW (e.g. 24h, 7d): per version, the "
    "labelled metrics and the label-free estimate.",
)
def feedback(
    model: str,
    labels_path: Path | None,
    registry_uri: str | None,
    kind: str | None,
    batch_records: int,
    report_window: str | None,
) -> None:
    """Store outcomes of earlier predictions (bulk feedback) and report live quality."""
    from modelops_features import groundtruth, parquet
    from modelops_features import inference_log as il
    from modelops_registry import default_uri
    from modelops_registry.datalog import DataLog

    window = None
    if report_window:
        try:
            window = groundtruth.parse_duration(report_window)
        except ValueError as exc:
            raise BadInput(f"--report {exc}") from None
    if labels_path is None and window is None:
        raise BadInput("give --labels FILE (outcomes to store), --report WINDOW, or both")
    uri = os.environ.get(ENV_LOG_URI, "").strip() or registry_uri or default_uri()
    rows = read_labels(labels_path) if labels_path is not None else []
    if labels_path is not None and not rows:
        raise BadInput(f"--labels {labels_path}: no outcomes in the file")
    try:
        policy = il.IdentifierPolicy.from_env(os.environ)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with registry_errors():
        store = DataLog.from_uri(uri)
        kind = resolve_kind(model, kind, store)
        layout = il.layout(kind)
        now = datetime.now(UTC)
        checked, problems = [], []
        for number, row in enumerate(rows, start=1):
            columns, errors = check_row(layout, row, now)
            if policy.mode == "omit" and columns["entity_id"] is not None:
                errors.append(
                    "entity_id: the log omits entity ids (MODELOPS_LOG_IDENTIFIERS=omit); "
                    "give request_id"
                )
            problems += [f"row {number}: {e}" for e in errors]
            columns["entity_id"] = policy.apply(columns["entity_id"])
            checked.append(columns)
        if problems:
            shown = problems[:MAX_LISTED_ERRORS]
            more = len(problems) - len(shown)
            raise BadInput(
                f"--labels {labels_path}: {len(problems)} problem(s), nothing written:\n  "
                + "\n  ".join(shown)
                + (f"\n  ... and {more} more" if more else "")
            )
        schema = layout.feedback_columns()
        meta = il.file_metadata(il.FEEDBACK_STREAM, layout, model)
        files = []
        for start in range(0, len(checked), batch_records):  # nothing without --labels
            part = checked[start : start + batch_records]
            data = {c.name: [r[c.name] for r in part] for c in schema}
            files.append(
                store.write(
                    model,
                    il.FEEDBACK_STREAM,
                    now.date(),
                    parquet.encode(schema, data, metadata=meta),
                )
            )
        result: dict[str, Any] = {
            "model": model,
            "kind": kind,
            "written": len(checked),
            "files": files,
            "store": store.uri,
        }
        if window is not None:
            end = datetime.now(UTC)
            report = groundtruth.window_quality(store, model, end - window, end, kind=kind)
            result["quality"] = report.to_dict()
    click.echo(json.dumps(result))
