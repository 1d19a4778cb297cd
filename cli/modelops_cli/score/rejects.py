"""Rows that break the raw schema: set aside with the reason, never scored.

The rules are the features package's (`schema.row_violations`, the per-row
form of the `validate` that training runs), so a row batch scoring refuses is
a row training would have refused. A row without an id is refused too: its
score could not be joined back to anything.

Each rejected row becomes one row of the rejects table: where it came from
(file and row number), its id, every violation as text, and its raw values as
text, so the file can be fixed and scored again.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelops_features.schema import Field, Schema, row_violations

SEPARATOR = "; "


def show(value: Any, integral: bool = False) -> str:
    """A raw value as a person reads it in a message: text quoted, numbers as written."""
    if isinstance(value, str):
        return repr(value)
    return as_text(value, integral) or "missing"


def message(field_: Field, rule: str, value: Any) -> str:
    """One violation of one row, e.g. "tenure_months min: -3 is below 0"."""
    name, shown = field_.name, show(value, field_.dtype == "int")
    if rule == "null":
        text = "missing, and the field is required"
    elif rule == "dtype":
        kind = {"int": "an integer", "float": "a number"}.get(field_.dtype, "text")
        text = f"{shown} is not {kind}"
    elif rule == "not_finite":
        text = f"{shown} is not a finite number"
    elif rule == "min":
        text = f"{shown} is below {field_.min:g}"
    elif rule == "max":
        text = f"{shown} is above {field_.max:g}"
    elif rule == "category":
        text = f"{shown} is not one of {', '.join(field_.categories or ())}"
    else:  # a rule added to the schema later still names itself
        text = shown
    return f"{name} {rule}: {text}"


def missing_id_message(id_column: str) -> str:
    return f"{id_column} null: missing, and every row needs an id"


@dataclass
class Checked:
    """The verdict on one chunk: which rows to score, and why the others are refused."""

    valid: np.ndarray  # bool, one per row
    reasons: dict[int, list[str]]  # row position -> its violations (rejected rows only)
    rules: Counter = field(default_factory=Counter)  # "column:rule" -> rows breaking it

    @property
    def rejected(self) -> np.ndarray:
        return np.flatnonzero(~self.valid)


def check_rows(raw: pd.DataFrame, schema: Schema, ids: pa.Array, id_column: str) -> Checked:
    """Validate every row of `raw` against `schema` and `ids` for nulls."""
    id_missing = np.asarray(ids.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    bad = id_missing.copy()
    reasons: dict[int, list[str]] = {}
    rules: Counter = Counter()
    if id_missing.any():
        rules[f"{id_column}:null"] += int(id_missing.sum())
        for i in np.flatnonzero(id_missing).tolist():
            reasons[i] = [missing_id_message(id_column)]
    for column, rule, mask in row_violations(raw, schema):
        field_ = schema.field(column)
        positions = np.flatnonzero(mask)
        rules[f"{column}:{rule}"] += len(positions)
        values = raw[column].to_numpy()
        for i in positions.tolist():
            reasons.setdefault(i, []).append(message(field_, rule, values[i]))
        bad |= mask
    return Checked(~bad, reasons, rules)


def rejects_schema(id_column: str, raw_columns: list[str]) -> pa.Schema:
    fields = [
        pa.field("source", pa.string()),
        pa.field("row", pa.int64()),
        pa.field(id_column, pa.string()),
        pa.field("violations", pa.string()),
    ]
    fields += [pa.field(name, pa.string()) for name in raw_columns if name != id_column]
    return pa.schema(fields)


def rejects_table(
    checked: Checked,
    raw: pd.DataFrame,
    ids: pa.Array,
    source: str,
    first_row: int,
    schema: pa.Schema,
    integer_fields: frozenset[str] = frozenset(),
) -> pa.Table:
    """The rejected rows of one chunk as rows of the rejects table (`schema`)."""
    positions = checked.rejected
    id_text = ids.take(pa.array(positions)).cast(pa.string())
    columns: dict[str, Any] = {
        "source": pa.array([source] * len(positions), pa.string()),
        "row": pa.array(positions + first_row, pa.int64()),
        schema.names[2]: id_text,
        "violations": pa.array(
            [SEPARATOR.join(checked.reasons[i]) for i in positions.tolist()], pa.string()
        ),
    }
    for name in schema.names[4:]:
        values = raw[name].to_numpy()[positions]
        integral = name in integer_fields
        columns[name] = pa.array([as_text(v, integral) for v in values], pa.string())
    return pa.table(columns, schema=schema)


def as_text(value: Any, integral: bool = False) -> str | None:
    """A raw value as text for the rejects file (None when missing).

    An integer column with missing values reads as floats (Parquet and CSV
    alike), so whole numbers of an int field are written back as integers.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if integral and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
