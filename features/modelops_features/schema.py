"""Declared data schemas, their content hash, and validation of DataFrames against them.

A `Schema` is the data contract of one table (the raw API input, or the computed
features). `validate` checks a DataFrame against it and returns *every* violation
at once, so a data engineer fixes a bad extract in one round instead of one error
per run. `Schema.content_hash` identifies the contract: a model records the hash
of the schema it was trained with, and a mismatch at load time means the serving
code and the model disagree about their inputs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    # Only the DataFrame checks need pandas, and they receive frames, so pandas
    # is loaded by then. The serving processes import this module for the
    # schema alone; importing pandas here cost each of them ~60 MB (with pyarrow).
    import pandas as pd

DTYPES = ("float", "int", "category", "string")
NUMERIC_DTYPES = ("float", "int")
RULES = ("missing_column", "dtype", "null", "min", "max", "category", "not_finite")
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Field:
    """One column of a schema.

    `min`/`max` are inclusive bounds checked on finite values of numeric columns;
    `categories` lists the allowed values of a "category" column (exact, case-sensitive
    string match); `nullable` allows missing values (None / NaN).
    """

    name: str
    dtype: str
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Field.name must be a non-empty string")
        if self.dtype not in DTYPES:
            raise ValueError(f"Field {self.name!r}: dtype {self.dtype!r} is not one of {DTYPES}")
        # Bounds are stored as floats so that `min=0` and `min=0.0` describe (and
        # hash to) the same contract.
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is not None:
                if self.dtype not in NUMERIC_DTYPES:
                    raise ValueError(f"Field {self.name!r}: {bound} only applies to numeric dtypes")
                object.__setattr__(self, bound, float(value))
        if self.dtype == "category":
            if not self.categories:
                raise ValueError(f"Field {self.name!r}: a category field needs categories")
            cats = tuple(str(c) for c in self.categories)
            if len(set(cats)) != len(cats):
                raise ValueError(f"Field {self.name!r}: duplicate categories in {cats}")
            object.__setattr__(self, "categories", cats)
        elif self.categories is not None:
            raise ValueError(f"Field {self.name!r}: categories only apply to dtype 'category'")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "min": self.min,
            "max": self.max,
            "categories": list(self.categories) if self.categories is not None else None,
            "nullable": self.nullable,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Field:
        cats = d.get("categories")
        return cls(
            name=d["name"],
            dtype=d["dtype"],
            min=d.get("min"),
            max=d.get("max"),
            categories=tuple(cats) if cats is not None else None,
            nullable=bool(d.get("nullable", False)),
            description=d.get("description", ""),
        )


# The parts of a field that define the contract. The description is documentation:
# rewording it must not make every trained model incompatible, so it is not hashed.
_HASHED_KEYS = ("name", "dtype", "min", "max", "categories", "nullable")


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Schema {self.name!r}: duplicate field names {dupes}")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"Schema {self.name!r} has no field {name!r}; fields: {self.names}")

    def canonical_json(self) -> str:
        """The canonical JSON text that `content_hash` digests.

        Sorted keys, no whitespace, ASCII only; floats are Python's shortest
        round-trip repr, which is identical across processes and Python versions.
        Field order is kept: it is part of the contract (it fixes the column order).
        """
        payload = [{k: f.to_dict()[k] for k in _HASHED_KEYS} for f in self.fields]
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        return cls(name=d["name"], fields=tuple(Field.from_dict(f) for f in d["fields"]))


@dataclass
class Violation:
    """`count` rows of `column` break `rule`; `examples` holds up to five offending values."""

    column: str
    rule: str
    count: int
    examples: list = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": list(self.examples),
        }


@dataclass
class ValidationReport:
    violations: list[Violation]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "violations": [v.to_dict() for v in self.violations],
        }

    def summary(self) -> str:
        if self.ok:
            return f"data valid: {self.rows} rows, no violations"
        lines = [f"data invalid: {self.rows} rows, {len(self.violations)} violation(s):"]
        for v in self.violations:
            line = f"  - column {v.column!r}: {v.rule} ({v.count} row(s))"
            if v.examples:
                line += f", e.g. {v.examples!r}"
            lines.append(line)
        return "\n".join(lines)


class DataValidationError(ValueError):
    """Raised when data breaks its schema; `.report` holds every violation."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.summary())
        self.report = report


def validate(df: pd.DataFrame, schema: Schema) -> ValidationReport:
    """Check `df` against `schema` and return every violation, in schema field order.

    Extra columns (such as customer_id or the label) are allowed: the schema says
    what must be there, not what may not. Rules, per column:

    * missing_column: the column is absent (nothing else is checked for it);
    * dtype: a value of the wrong kind (text in a numeric column, a fraction in an
      int column, a non-string in a string column);
    * null: a missing value in a non-nullable column;
    * not_finite: +/-inf in a numeric column;
    * min / max: a finite value outside the inclusive bounds;
    * category: a value outside the declared categories.
    """
    violations: list[Violation] = []
    for f in schema.fields:
        if f.name not in df.columns:
            violations.append(Violation(f.name, "missing_column", len(df), []))
            continue
        for rule, mask in field_rule_masks(df[f.name], f):
            count = int(mask.sum())
            if count:
                examples = _examples(df[f.name].to_numpy()[mask])
                violations.append(Violation(f.name, rule, count, examples))
    return ValidationReport(violations=violations, rows=len(df))


def row_violations(df: pd.DataFrame, schema: Schema) -> Iterator[tuple[str, str, np.ndarray]]:
    """(column, rule, boolean mask over the rows) for every rule that some row of `df` breaks.

    The per-row form of `validate`, with the very same rules and order, for callers
    that must set bad rows aside instead of refusing the whole table (batch
    scoring's rejects). A missing column is not a row's fault: it raises KeyError,
    so callers check the columns first.
    """
    for f in schema.fields:
        if f.name not in df.columns:
            raise KeyError(f"column {f.name!r} is missing (schema {schema.name!r})")
        for rule, mask in field_rule_masks(df[f.name], f):
            if mask.any():
                yield f.name, rule, mask


def field_rule_masks(column: pd.Series, f: Field) -> Iterator[tuple[str, np.ndarray]]:
    """(rule, rows breaking it) for each rule that applies to field `f`, in report order."""
    if f.dtype in NUMERIC_DTYPES:
        return _check_numeric(column, f)
    if f.dtype == "category":
        return _check_category(column, f)
    return _check_string(column, f)


def ensure_valid(df: pd.DataFrame, schema: Schema) -> ValidationReport:
    """Validate and raise `DataValidationError` (carrying the full report) when invalid."""
    report = validate(df, schema)
    if not report.ok:
        raise DataValidationError(report)
    return report


def _check_numeric(column: pd.Series, f: Field) -> Iterator[tuple[str, np.ndarray]]:
    import pandas as pd  # loaded already: `column` is a Series

    raw_null = np.array(column.isna(), dtype=bool)
    if pd.api.types.is_bool_dtype(column.dtype):
        # True/False would silently read as 1/0; a boolean in a numeric column is
        # almost always a mis-mapped field, so it is reported, not coerced.
        bad_kind = ~raw_null
    elif column.dtype == object:
        bad_kind = np.array([isinstance(v, bool | np.bool_) for v in column], dtype=bool)
    else:
        bad_kind = np.zeros(len(column), dtype=bool)
    numbers = pd.to_numeric(column.where(~bad_kind), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    # Values present in the input that do not read as numbers (text, objects).
    bad_kind |= np.isnan(numbers) & ~raw_null
    if f.dtype == "int":
        finite = np.isfinite(numbers)
        with np.errstate(invalid="ignore"):
            bad_kind |= finite & (numbers != np.floor(numbers))
    yield "dtype", bad_kind
    if not f.nullable:
        yield "null", raw_null
    yield "not_finite", np.isinf(numbers)
    with np.errstate(invalid="ignore"):
        finite_ok = np.isfinite(numbers) & ~bad_kind
        if f.min is not None:
            yield "min", finite_ok & (numbers < f.min)
        if f.max is not None:
            yield "max", finite_ok & (numbers > f.max)


def _check_category(column: pd.Series, f: Field) -> Iterator[tuple[str, np.ndarray]]:
    null = column.isna().to_numpy()
    if not f.nullable:
        yield "null", null
    known = column.isin(f.categories).to_numpy(dtype=bool)
    yield "category", ~known & ~null


def _check_string(column: pd.Series, f: Field) -> Iterator[tuple[str, np.ndarray]]:
    null = column.isna().to_numpy()
    if not f.nullable:
        yield "null", null
    not_text = ~column.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    yield "dtype", not_text & ~null


def _examples(values: np.ndarray) -> list:
    """Up to MAX_EXAMPLES distinct offending values, as JSON-friendly Python objects."""
    out: list = []
    seen: set[str] = set()
    for v in values:
        item = _jsonable(v)
        key = repr(item)
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
        if len(out) == MAX_EXAMPLES:
            break
    return out


def _jsonable(v: Any) -> Any:
    import pandas as pd  # loaded already: the values come from a DataFrame's column

    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float):
        # JSON has no NaN/inf: a missing value reads as null, an infinite one as text.
        if math.isnan(v):
            return None
        return v if math.isfinite(v) else str(v)
    if isinstance(v, bool | int | str):
        return v
    return repr(v)
