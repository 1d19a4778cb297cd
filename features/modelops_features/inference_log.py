"""What the inference log and the feedback files hold: their columns, per model kind.

One definition for every writer and reader: the bentos write the log and
`POST /feedback`, `modelops feedback` writes bulk outcomes, the quality
computation and the `inference-log:` training source read both. The columns
of a model kind are generated from its feature package's schemas, so a log
row is the same raw record the API validated and training validates.

Inference log (one row per scored record of a sampled request):

  request_id   string     the request's X-Request-Id (null on /predict_batch,
                          whose adaptive batching merges callers' requests)
  record       int64      position of the record in its request (0 for one record)
  ts           timestamp  when it was scored (UTC, microseconds)
  model, version, endpoint  string
  entity_id    string     identifier column, hashed or omitted by policy (never
                          the learning-path student id: that kind has none)
  raw_<field>  typed      every field of the model's RAW_SCHEMA
  feature_<f>  double / string  every feature of its FEATURE_SCHEMA
  prediction   double     churn: P(churn); learning-path: score of `predicted`
  predicted    string     learning-path only: the module answered first
  score_<m>    double     learning-path only: probability of each catalogue module

Feedback (one row per outcome):

  request_id, record     which logged prediction it labels, or
  entity_id              which entity (hashed like the log) ...
  observed_at            ... as observed at this time (UTC)
  outcome                churn: 0 / 1 (int64); learning-path: a module name
  received_at, source    when it was stored, and by whom ("api" or "cli")

Each file's key/value metadata names the stream, model kind and model, so a
reader needs nothing but the files.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from modelops_features.parquet import Column

if TYPE_CHECKING:  # schema imports pandas; the log's readers need not load it
    from modelops_features.schema import Schema

LOG_STREAM = "inference-log"
FEEDBACK_STREAM = "feedback"
KIND_KEY = "modelops.kind"
STREAM_KEY = "modelops.stream"
MODEL_KEY = "modelops.model"

BINARY = "binary"
MULTICLASS = "multiclass"

IDENTIFIER_MODES = ("hash", "omit")
HASH_PREFIX_KEYED = "hmac-sha256:"
HASH_PREFIX_PLAIN = "sha256:"
# 128 bits of the digest: collisions are out of reach for any entity count,
# and the log stays compact.
HASH_HEX_CHARS = 32


@dataclass(frozen=True)
class ModelLog:
    """The log and feedback layout of one model kind (see the module docstring)."""

    kind: str
    raw_schema: Schema
    feature_schema: Schema
    target: str  # the label column of a training set
    task: str  # BINARY or MULTICLASS
    classes: tuple[str, ...] = ()  # MULTICLASS: the catalogue, in score order
    entity_column: str | None = None  # the request field that identifies the entity
    segment_columns: tuple[str, ...] = ()  # raw fields the fairness gap is taken over

    @property
    def outcome_kind(self) -> str:
        return "int64" if self.task == BINARY else "string"

    def output_columns(self) -> list[Column]:
        if self.task == BINARY:
            return [Column("prediction", "double")]
        return [
            Column("prediction", "double"),
            Column("predicted", "string"),
            *(Column(f"score_{c}", "double") for c in self.classes),
        ]

    def log_columns(self) -> list[Column]:
        return [
            Column("request_id", "string"),
            Column("record", "int64", nullable=False),
            Column("ts", "timestamp_us", nullable=False),
            Column("model", "string", nullable=False),
            Column("version", "string", nullable=False),
            Column("endpoint", "string", nullable=False),
            Column("entity_id", "string"),
            *(Column(f"raw_{f.name}", _raw_kind(f.dtype)) for f in self.raw_schema.fields),
            *(
                Column(f"feature_{f.name}", "string" if f.dtype == "category" else "double")
                for f in self.feature_schema.fields
            ),
            *self.output_columns(),
        ]

    def feedback_columns(self) -> list[Column]:
        return [
            Column("request_id", "string"),
            Column("record", "int64"),
            Column("entity_id", "string"),
            Column("outcome", self.outcome_kind, nullable=False),
            Column("observed_at", "timestamp_us", nullable=False),
            Column("received_at", "timestamp_us", nullable=False),
            Column("source", "string", nullable=False),
        ]

    def check_outcome(self, value: Any) -> Any:
        """The outcome as stored, or ValueError saying what this kind accepts."""
        if self.task == BINARY:
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, int | np.integer) and int(value) in (0, 1):
                return int(value)
            if isinstance(value, float) and value in (0.0, 1.0):
                return int(value)
            if isinstance(value, str) and value.strip() in ("0", "1"):
                return int(value.strip())
            raise ValueError(f"outcome must be 0 or 1 (the {self.target!r} label), got {value!r}")
        if isinstance(value, str) and value in self.classes:
            return value
        raise ValueError(f"outcome must be one of {list(self.classes)}, got {value!r}")


def _raw_kind(dtype: str) -> str:
    return {"int": "int64", "float": "double"}.get(dtype, "string")


def layouts() -> dict[str, ModelLog]:
    """Every model kind's layout, by kind name (imported lazily: one kind never loads another).

    Only each kind's `contract` (schemas and constants) is needed, not its feature readers."""
    from modelops_features.churn import contract as churn
    from modelops_features.learning_path import contract as lp

    return {
        "churn": ModelLog(
            kind="churn",
            raw_schema=churn.RAW_SCHEMA,
            feature_schema=churn.FEATURE_SCHEMA,
            target=churn.TARGET,
            task=BINARY,
            entity_column=churn.ID_COLUMN,
            segment_columns=churn.SEGMENT_COLUMNS,
        ),
        "learning-path": ModelLog(
            kind="learning-path",
            raw_schema=lp.RAW_SCHEMA,
            feature_schema=lp.FEATURE_SCHEMA,
            target=lp.TARGET,
            task=MULTICLASS,
            classes=tuple(lp.MODULES),
            # No entity column: the learning-path service never logs student ids.
            entity_column=None,
        ),
    }


def layout(kind: str) -> ModelLog:
    known = layouts()
    if kind not in known:
        raise ValueError(f"no inference-log layout for model kind {kind!r}; known: {list(known)}")
    return known[kind]


# -- identifiers -------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierPolicy:
    """How identifier fields are stored: `hash` (keyed HMAC-SHA256 when a key is set) or `omit`.

    With a key (MODELOPS_LOG_HASH_KEY, from a Secret) the stored value is a
    pseudonym nobody without the key can link back to the id, even by hashing
    guessed ids. Without a key it is a plain SHA-256, which keeps ids out of
    casual reading but can be reversed by guessing: the service warns about it.
    """

    mode: str = "hash"
    key: bytes | None = None

    def __post_init__(self) -> None:
        if self.mode not in IDENTIFIER_MODES:
            raise ValueError(
                f"identifier mode must be one of {IDENTIFIER_MODES}, got {self.mode!r}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> IdentifierPolicy:
        mode = (env.get("MODELOPS_LOG_IDENTIFIERS") or "hash").strip().lower()
        if mode not in IDENTIFIER_MODES:
            raise ValueError(
                f"MODELOPS_LOG_IDENTIFIERS={mode!r} is not one of {list(IDENTIFIER_MODES)}"
            )
        key = env.get("MODELOPS_LOG_HASH_KEY") or None
        return cls(mode, key.encode("utf-8") if key else None)

    def apply(self, value: str | None) -> str | None:
        if value is None or self.mode == "omit":
            return None
        data = str(value).encode("utf-8")
        if self.key:
            digest = hmac.new(self.key, data, hashlib.sha256).hexdigest()
            return HASH_PREFIX_KEYED + digest[:HASH_HEX_CHARS]
        return HASH_PREFIX_PLAIN + hashlib.sha256(data).hexdigest()[:HASH_HEX_CHARS]


# -- rows -> columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedRequest:
    """One sampled request, as the service handed it to the log (expanded off the request path).

    `features` is what the scoring code produced: one mapping per record, a
    mapping of name -> array over the records, or a DataFrame. `probabilities`
    is (n,) for a binary model or (n, len(classes)) for a multi-class one;
    `answers` is the class each record was answered with (multi-class).
    `entity_ids` default to each record's value of the layout's entity column
    (read here, in the writer thread, not on the request path).
    """

    request_id: str | None
    endpoint: str
    ts_us: int
    model: str
    version: str
    records: Sequence[Mapping[str, Any]]
    features: Any
    probabilities: np.ndarray
    entity_ids: Sequence[str | None] | None = None
    answers: Sequence[str] | None = None


def log_columns(
    layout_: ModelLog, requests: Sequence[LoggedRequest], policy: IdentifierPolicy
) -> dict[str, list[Any]]:
    """The inference-log columns (layout_.log_columns()) of these requests' records."""
    out: dict[str, list[Any]] = {c.name: [] for c in layout_.log_columns()}
    raw_names = layout_.raw_schema.names
    feature_names = layout_.feature_schema.names
    for req in requests:
        n = len(req.records)
        if not layout_.entity_column:
            ids: Sequence[str | None] = [None] * n
        elif req.entity_ids is not None:
            ids = req.entity_ids
        else:
            ids = [r.get(layout_.entity_column) for r in req.records]
        out["request_id"] += [req.request_id] * n
        out["record"] += list(range(n))
        out["ts"] += [req.ts_us] * n
        out["model"] += [req.model] * n
        out["version"] += [req.version] * n
        out["endpoint"] += [req.endpoint] * n
        out["entity_id"] += [policy.apply(i) for i in ids]
        for name in raw_names:
            out[f"raw_{name}"] += [_cell(r.get(name)) for r in req.records]
        for name in feature_names:
            out[f"feature_{name}"] += _feature_values(req.features, name, n)
        probabilities = np.asarray(req.probabilities, dtype=np.float64)
        if layout_.task == BINARY:
            out["prediction"] += probabilities.reshape(-1).tolist()
        else:
            matrix = probabilities.reshape(n, len(layout_.classes))
            answers = list(req.answers) if req.answers is not None else [None] * n
            index = {c: j for j, c in enumerate(layout_.classes)}
            for row, answer in zip(matrix, answers, strict=True):
                chosen = answer if answer in index else layout_.classes[int(np.argmax(row))]
                out["predicted"].append(chosen)
                out["prediction"].append(float(row[index[chosen]]))
            for j, c in enumerate(layout_.classes):
                out[f"score_{c}"] += matrix[:, j].tolist()
    return out


def _cell(value: Any) -> Any:
    """A raw value as stored: numbers stay numbers, NaN becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _feature_values(features: Any, name: str, n: int) -> list[Any]:
    if isinstance(features, Sequence) and not isinstance(features, str | bytes):
        values = [f.get(name) for f in features]  # one mapping per record
    else:
        try:
            column = features[name]
        except (KeyError, TypeError, IndexError):
            return [None] * n
        if isinstance(column, np.ndarray):
            values = column.tolist()
        elif hasattr(column, "tolist"):
            values = column.tolist()  # a pandas Series
        else:
            values = [column] * n  # one record: name -> scalar
    return [_feature_cell(v) for v in values]


def _feature_cell(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    number = float(value)
    return None if math.isnan(number) else number


def file_metadata(stream: str, layout_: ModelLog, model: str) -> dict[str, str]:
    return {STREAM_KEY: stream, KIND_KEY: layout_.kind, MODEL_KEY: model}
