"""The `inference-log:<model>[:window]` data source: train on what the model saw, as labelled.

The rows are the raw records the serving model logged in the last `window`
(default 30d; s, m, h, d or w) whose outcome arrived (POST /feedback or
`modelops feedback`), joined by modelops_features.groundtruth.join: request
id first, else entity and time. The label column is the outcome; the entity
id (hashed as logged) becomes the id column, so the held-out split keeps an
entity's rows together, as with a file. The frame then goes through the
trainer's usual validation: logged data gets no special treatment.

The store is the registry's (or MODELOPS_LOG_URI, as for the bento). The
candidate's metadata records the window and the counts it trained on
(`dataset.window`, `dataset.logged_predictions`, `dataset.labelled_rows`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pandas as pd

from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_training.errors import TrainingInputError

PREFIX = "inference-log:"
DEFAULT_WINDOW = "30d"
ENV_LOG_URI = "MODELOPS_LOG_URI"


class LoggedSource(NamedTuple):
    model: str
    window: str = DEFAULT_WINDOW

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.model}:{self.window}"


def parse_source(source: str) -> LoggedSource | None:
    """Parse "inference-log:<model>[:window]"; None for any other source."""
    if not source.startswith(PREFIX):
        return None
    parts = source[len(PREFIX) :].split(":")
    if not parts[0] or len(parts) > 2:
        raise TrainingInputError(
            f"bad data source {source!r}: expected {PREFIX}<model>[:window], e.g. {PREFIX}churn:7d"
        )
    window = parts[1] if len(parts) == 2 else DEFAULT_WINDOW
    try:
        groundtruth.parse_duration(window)
    except ValueError as exc:
        raise TrainingInputError(f"bad data source {source!r}: window {exc}") from None
    return LoggedSource(parts[0], window)


def load(
    spec: LoggedSource,
    registry_uri: str,
    kind: str,
    id_column: str,
    required: Sequence[str] = (),
    now: datetime | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(frame of raw columns + label + id, the details the metadata records)."""
    from modelops_registry import RegistryError
    from modelops_registry.datalog import DataLog

    layout = il.layout(kind)
    missing = [c for c in required if c not in (*layout.raw_schema.names, layout.target)]
    if missing:
        raise TrainingInputError(
            f"--data {spec.name}: the {kind} trainer needs column(s) {missing}, which the "
            "inference log never holds (they are not inputs of the model); train on a file "
            "that carries them"
        )
    end = (now or datetime.now(UTC)).astimezone(UTC)
    start = end - groundtruth.parse_duration(spec.window)
    uri = os.environ.get(ENV_LOG_URI, "").strip() or registry_uri
    try:
        store = DataLog.from_uri(uri)
        labelled, outcomes, log, feedback = groundtruth.labelled_rows(store, spec.model, start, end)
    except (RegistryError, OSError, ValueError) as exc:
        raise TrainingInputError(
            f"--data {spec.name}: cannot read the log in {uri}: {exc}"
        ) from exc
    if log.kind is not None and log.kind != kind:
        raise TrainingInputError(
            f"--data {spec.name}: the log of {spec.model!r} was written by a {log.kind} service, "
            f"not {kind}"
        )
    details = {
        "source": "inference-log",
        "window": {"start": start.isoformat(), "end": end.isoformat(), "length": spec.window},
        "logged_predictions": log.rows,
        "labelled_rows": labelled.rows,
        "feedback_rows": feedback.rows,
        "log_files": log.files,
        "versions": _counts(labelled.data.get("version")),
    }
    if labelled.rows == 0:
        raise TrainingInputError(
            f"--data {spec.name}: no labelled predictions between {start:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M} UTC ({log.rows} logged, {feedback.rows} feedback rows in "
            f"{uri}); send outcomes with POST /feedback or `modelops feedback`"
        )
    frame = pd.DataFrame(
        {f.name: _column(labelled.data[f"raw_{f.name}"], f.dtype) for f in layout.raw_schema.fields}
    )
    frame[layout.target] = [_label(layout, o) for o in outcomes.tolist()]
    entities = labelled.data.get("entity_id")
    if entities is not None and all(e is not None for e in entities.tolist()):
        frame[id_column] = entities
    return frame, details


def _column(values: Any, dtype: str) -> pd.Series:
    if dtype == "int":
        # Nullable ints come back as floats with NaN; keep them integers.
        return pd.Series(values).astype("Int64")
    return pd.Series(values)


def _label(layout: il.ModelLog, outcome: Any) -> Any:
    return int(outcome) if layout.task == il.BINARY else outcome


def _counts(values: Any) -> dict[str, int]:
    if values is None:
        return {}
    out: dict[str, int] = {}
    for value in values.tolist():
        out[str(value)] = out.get(str(value), 0) + 1
    return dict(sorted(out.items()))
