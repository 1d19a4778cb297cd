"""Loading training data and checking it before anything is learned from it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from modelops_features import churn, synthetic
from modelops_features.schema import Field, Schema, validate
from modelops_training import logged_data
from modelops_training.errors import TrainingInputError

# The raw API contract plus the label: what a training set must satisfy.
TRAINING_SCHEMA = Schema(
    name="churn_training",
    fields=(
        *churn.RAW_SCHEMA.fields,
        Field(churn.TARGET, "int", min=0, max=1, description="1 when the customer churned."),
    ),
)

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


class Dataset(NamedTuple):
    frame: pd.DataFrame
    name: str  # how the data was named on the command line (canonical for synthetic)
    sha256: str  # content hash recorded in the model metadata
    # Recorded beside name / sha256 / rows in the metadata (the inference-log
    # source: its window and row counts).
    details: dict[str, Any] = {}


def load(
    source: str,
    parse_synthetic: Callable[[str], Any] = synthetic.parse_source,
    id_column: str = churn.ID_COLUMN,
    registry_uri: str | None = None,
    kind: str = "churn",
    required: Sequence[str] = (),
) -> Dataset:
    """Read `source`: a .csv / .parquet path, a "synthetic:..." generator spelling, or
    "inference-log:<model>[:window]" (logged_data.py; needs `registry_uri`).

    `parse_synthetic` is the model's generator parser (churn's by default): it
    returns None for a file path, else an object with `.name` and `.generate()`.
    `kind` is the trainer's model kind and `required` the columns its training
    schema needs besides the raw fields and the label (for the inference log).
    """
    logged = logged_data.parse_source(source)
    if logged is not None:
        if registry_uri is None:
            raise TrainingInputError(f"--data {source}: the inference log needs a registry")
        frame, details = logged_data.load(logged, registry_uri, kind, id_column, required)
        return Dataset(frame, logged.name, frame_sha256(frame), details)
    try:
        spec = parse_synthetic(source)
    except ValueError as exc:
        raise TrainingInputError(str(exc)) from exc
    if spec is not None:
        frame = spec.generate()
        return Dataset(frame, spec.name, frame_sha256(frame))
    return _load_file(Path(source), id_column)


def _load_file(path: Path, id_column: str = churn.ID_COLUMN) -> Dataset:
    suffixes = [s.lower() for s in path.suffixes]
    # data.csv.gz reads as CSV: pandas decompresses by the last suffix.
    kind = next((s for s in reversed(suffixes) if s in READERS), None)
    if kind is None:
        raise TrainingInputError(
            f"--data {path}: unknown file type; use .csv, .parquet, synthetic:N[:seed[:shift]] "
            "or inference-log:<model>[:window]"
        )
    if not path.is_file():
        raise TrainingInputError(f"--data {path}: no such file")
    try:
        frame = READERS[kind](path)
    except Exception as exc:  # pandas / pyarrow raise many types for a broken file
        raise TrainingInputError(f"--data {path}: cannot read it as {kind[1:]}: {exc}") from exc
    if id_column in frame.columns:
        # IDs are labels, not numbers: "007" and 7 are different customers.
        frame[id_column] = frame[id_column].astype(str)
    # A file's identity is its bytes: the same file always gives the same hash.
    return Dataset(frame, str(path), file_sha256(path))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """Content hash of a generated frame (column names, dtypes and values)."""
    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def check(frame: pd.DataFrame) -> None:
    """Refuse data that breaks the raw contract or has an unusable label.

    Raises TrainingInputError carrying the full validation report (every
    violation, not only the first), so a data owner can fix everything at once.
    """
    report = validate(frame, TRAINING_SCHEMA)
    if not report.ok:
        raise TrainingInputError(
            "training data refused:\n" + report.summary(), report=report.to_dict()
        )
    if len(frame) == 0:
        raise TrainingInputError("training data refused: it has no rows")
    classes = set(frame[churn.TARGET].astype(int).unique())
    if classes != {0, 1}:
        raise TrainingInputError(
            f"training data refused: column {churn.TARGET!r} needs both classes 0 and 1, "
            f"found only {sorted(classes)}"
        )
