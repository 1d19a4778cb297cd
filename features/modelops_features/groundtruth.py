"""Ground truth: the inference log joined with the outcomes that arrived later.

`join` is the one rule every consumer uses (live quality, the
`inference-log:` training source, `modelops feedback`'s match count):

1. by request id first: an outcome naming (request_id, record) labels exactly
   that logged prediction;
2. else by entity and time: an outcome naming an entity (hashed like the log)
   observed at time T labels that entity's latest logged prediction made at
   or before T and no earlier than T - max_lag (default 30 days); older
   predictions of the entity stay unlabelled, so one outcome never counts
   twice;
3. a prediction labelled both ways keeps the request-id label; among several
   outcomes for one prediction, the one received last wins (a correction).

`window_quality` reads a window of the log and the feedback that can label
it from a store (anything with `files(model, stream, since, until)` and
`read(key)`: modelops_registry.datalog.DataLog) and computes, per model
version, the labelled metrics and the label-free estimate (quality.py). It
needs numpy only: the operator can call it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from modelops_features import inference_log as il
from modelops_features import parquet, quality

DEFAULT_MAX_LAG = timedelta(days=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Columns the join and the quality maths read (the features are left on disk).
JOIN_COLUMNS = ("request_id", "record", "ts", "version", "entity_id")


class LogStore(Protocol):
    def files(
        self, model: str, stream: str, since: date | None = None, until: date | None = None
    ) -> list[str]: ...

    def read(self, key: str) -> bytes: ...


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


# -- reading -----------------------------------------------------------------------------


@dataclass
class Frame:
    """Columns of several files, concatenated; `kind` from the files' metadata."""

    data: dict[str, np.ndarray]
    rows: int
    kind: str | None = None
    files: int = 0


def read_stream(
    store: LogStore,
    model: str,
    stream: str,
    since: date | None,
    until: date | None,
    columns: Iterable[str] | None = None,
) -> Frame:
    """Every file of the days since..until, concatenated (only `columns` when given)."""
    wanted = None if columns is None else list(columns)
    pieces: list[parquet.Table] = []
    kind = None
    for key in store.files(model, stream, since, until):
        table = parquet.decode(store.read(key))
        kind = kind or table.metadata.get(il.KIND_KEY)
        if wanted is not None:
            present = {c.name for c in table.columns}
            table.data = {name: table.data[name] for name in wanted if name in present}
        pieces.append(table)
    names = wanted if wanted is not None else (list(pieces[0].data) if pieces else [])
    data = {}
    for name in names:
        parts = [t.data[name] for t in pieces if name in t.data]
        data[name] = _concat(parts) if parts else np.zeros(0, dtype=object)
    return Frame(data, sum(t.num_rows for t in pieces), kind, len(pieces))


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    kinds = {p.dtype.kind for p in parts}
    if len(kinds) > 1:
        target = object if "O" in kinds else np.float64
        parts = [p.astype(target) for p in parts]
    return np.concatenate(parts)


def select(frame: Frame, mask: np.ndarray) -> Frame:
    return Frame(
        {k: v[mask] for k, v in frame.data.items()}, int(mask.sum()), frame.kind, frame.files
    )


def read_window(
    store: LogStore,
    model: str,
    start: datetime,
    end: datetime,
    columns: Iterable[str] | None = None,
) -> tuple[Frame, Frame]:
    """(log rows scored in [start, end), feedback that may label them)."""
    if end <= start:
        raise ValueError(f"window end {end.isoformat()} is not after its start {start.isoformat()}")
    wanted = None if columns is None else sorted(set(columns) | set(JOIN_COLUMNS))
    log = read_stream(store, model, il.LOG_STREAM, start.date(), end.date(), wanted)
    if log.rows:
        ts = log.data["ts"]
        log = select(log, (ts >= to_us(start)) & (ts < to_us(end)))
    # Outcomes arrive after the prediction: nothing stored a day before the
    # window opened can label it (one day of slack for clock skew).
    feedback = read_stream(store, model, il.FEEDBACK_STREAM, start.date() - timedelta(days=1), None)
    return log, feedback


# -- the join ----------------------------------------------------------------------------


@dataclass
class Joined:
    """Per log row, the outcome (None where none arrived) and how it was matched."""

    outcomes: np.ndarray  # object array: the outcome value, or None
    by_request: int
    by_entity: int
    unmatched_feedback: int

    @property
    def labelled(self) -> np.ndarray:
        return np.fromiter((o is not None for o in self.outcomes), dtype=bool, count=len(self))

    def __len__(self) -> int:
        return int(self.outcomes.size)


def _column(frame: Frame | Mapping[str, np.ndarray], name: str, rows: int) -> np.ndarray:
    data = frame.data if isinstance(frame, Frame) else frame
    return data[name] if name in data else np.full(rows, None, dtype=object)


def _rows(frame: Frame | Mapping[str, np.ndarray]) -> int:
    if isinstance(frame, Frame):
        return frame.rows
    return len(next(iter(frame.values()))) if frame else 0


def _record(value: Any) -> int:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return 0
    return int(value)


def join(
    log: Frame | Mapping[str, np.ndarray],
    feedback: Frame | Mapping[str, np.ndarray],
    max_lag: timedelta = DEFAULT_MAX_LAG,
) -> Joined:
    """The outcome of each log row under the rule of the module docstring."""
    n, m = _rows(log), _rows(feedback)
    outcomes = np.full(n, None, dtype=object)
    if n == 0 or m == 0:
        return Joined(outcomes, 0, 0, m)
    f_request = _column(feedback, "request_id", m)
    f_record = _column(feedback, "record", m)
    f_entity = _column(feedback, "entity_id", m)
    f_outcome = _column(feedback, "outcome", m)
    f_observed = _column(feedback, "observed_at", m)
    f_received = _column(feedback, "received_at", m)
    # Oldest received first: a later outcome for the same prediction overwrites.
    order = np.argsort(np.asarray(f_received, dtype=np.float64), kind="stable")

    by_key: dict[tuple[str, int], Any] = {}
    entity_feedback: list[int] = []
    for i in order.tolist():
        if f_request[i] is not None:
            by_key[(f_request[i], _record(f_record[i]))] = f_outcome[i]
        elif f_entity[i] is not None:
            entity_feedback.append(i)

    l_request = _column(log, "request_id", n)
    l_record = _column(log, "record", n)
    matched_keys: set[tuple[str, int]] = set()
    by_request = 0
    if by_key:
        for row, (request, record) in enumerate(
            zip(l_request.tolist(), l_record.tolist(), strict=True)
        ):
            if request is None:
                continue
            key = (request, int(record))
            if key in by_key:
                outcomes[row] = by_key[key]
                matched_keys.add(key)
                by_request += 1
    unmatched = len(by_key) - len(matched_keys)

    by_entity = 0
    if entity_feedback:
        labelled_by_request = outcomes != None  # noqa: E711 (elementwise on an object array)
        entity_rows = _entity_index(_column(log, "entity_id", n), _column(log, "ts", n))
        lag = max_lag // timedelta(microseconds=1)
        entity_labels: dict[int, Any] = {}
        for i in entity_feedback:
            row = _latest_before(entity_rows, f_entity[i], int(f_observed[i]), lag)
            if row is None:
                unmatched += 1
            else:
                entity_labels[row] = f_outcome[i]
        for row, outcome in entity_labels.items():
            if not labelled_by_request[row]:
                outcomes[row] = outcome
                by_entity += 1
    return Joined(outcomes, by_request, by_entity, unmatched)


def _entity_index(entities: np.ndarray, ts: np.ndarray) -> dict[str, tuple[list[int], list[int]]]:
    """entity -> (times ascending, log rows in that order)."""
    index: dict[str, tuple[list[int], list[int]]] = {}
    present = [i for i, e in enumerate(entities.tolist()) if e is not None]
    times = np.asarray(ts, dtype=np.int64)
    for i in sorted(present, key=lambda r: (entities[r], int(times[r]))):
        stamps, rows = index.setdefault(entities[i], ([], []))
        stamps.append(int(times[i]))
        rows.append(i)
    return index


def _latest_before(
    index: Mapping[str, tuple[list[int], list[int]]], entity: str, observed: int, lag: int
) -> int | None:
    found = index.get(entity)
    if found is None:
        return None
    stamps, rows = found
    position = bisect.bisect_right(stamps, observed) - 1
    if position < 0 or stamps[position] < observed - lag:
        return None
    return rows[position]


# -- quality over a window ---------------------------------------------------------------


@dataclass
class WindowQuality:
    """Quality per model version over one window (what the operator exports)."""

    model: str
    kind: str | None
    start: datetime
    end: datetime
    versions: dict[str, quality.Quality] = field(default_factory=dict)
    by_request: int = 0
    by_entity: int = 0
    unmatched_feedback: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "matched": {"by_request": self.by_request, "by_entity": self.by_entity},
            "unmatched_feedback": self.unmatched_feedback,
            "versions": {v: q.to_dict() for v, q in self.versions.items()},
        }


def quality_columns(layout: il.ModelLog) -> list[str]:
    """The log columns the quality computation reads."""
    if layout.task == il.BINARY:
        return ["prediction", *(f"raw_{c}" for c in layout.segment_columns)]
    return ["predicted", *(f"score_{c}" for c in layout.classes)]


def window_quality(
    store: LogStore,
    model: str,
    start: datetime,
    end: datetime,
    kind: str | None = None,
    max_lag: timedelta = DEFAULT_MAX_LAG,
    min_segment_rows: int = quality.MIN_SEGMENT_ROWS,
) -> WindowQuality:
    """Labelled metrics and the label-free estimate per version, over [start, end).

    `kind` (churn, learning-path) defaults to what the log files record.
    A window without logged predictions gives no versions.
    """
    layout = il.layout(kind) if kind else None
    columns = quality_columns(layout) if layout else None
    log, feedback = read_window(store, model, start, end, columns)
    kind = kind or log.kind
    result = WindowQuality(model, kind, start, end)
    if log.rows == 0:
        return result
    layout = layout or il.layout(kind or "")
    joined = join(log, feedback, max_lag)
    result.by_request, result.by_entity = joined.by_request, joined.by_entity
    result.unmatched_feedback = joined.unmatched_feedback
    versions = log.data["version"]
    for version in sorted(set(versions.tolist()), key=_version_key):
        mask = versions == version
        part = select(log, mask)
        result.versions[version] = version_quality(
            layout, part, joined.outcomes[mask], min_segment_rows
        )
    return result


def version_quality(
    layout: il.ModelLog,
    log: Frame,
    outcomes: np.ndarray,
    min_segment_rows: int = quality.MIN_SEGMENT_ROWS,
) -> quality.Quality:
    """Quality of one version's rows (`outcomes` aligned with them, None = not labelled)."""
    if layout.task == il.BINARY:
        y = np.array([np.nan if o is None else float(o) for o in outcomes.tolist()])
        segments = {
            c: log.data[f"raw_{c}"] for c in layout.segment_columns if f"raw_{c}" in log.data
        }
        return quality.binary_quality(log.data["prediction"], y, segments, min_segment_rows)
    index = {c: j for j, c in enumerate(layout.classes)}
    y = np.array([index.get(o, -1) if o is not None else -1 for o in outcomes.tolist()])
    answered = np.array([index.get(a, 0) for a in log.data["predicted"].tolist()])
    scores = np.column_stack([log.data[f"score_{c}"] for c in layout.classes])
    return quality.multiclass_quality(y, answered, scores)


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (1 << 62, version)


def labelled_rows(
    store: LogStore,
    model: str,
    start: datetime,
    end: datetime,
    max_lag: timedelta = DEFAULT_MAX_LAG,
) -> tuple[Frame, np.ndarray, Frame, Frame]:
    """(labelled log rows, their outcomes, the whole window's log, its feedback).

    What the `inference-log:` training source trains on: every column of the
    log rows an outcome arrived for.
    """
    log, feedback = read_window(store, model, start, end)
    joined = join(log, feedback, max_lag)
    mask = joined.labelled
    return select(log, mask), joined.outcomes[mask], log, feedback


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '24h', '7d', '2w' -> timedelta; ValueError naming the text otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip().lower()
    if len(raw) < 2 or raw[-1] not in units or not raw[:-1].isdigit() or int(raw[:-1]) <= 0:
        raise ValueError(
            f"duration {text!r}: use a positive whole number with a unit s, m, h, d or w "
            "(e.g. 24h, 7d)"
        )
    return timedelta(seconds=int(raw[:-1]) * units[raw[-1]])
