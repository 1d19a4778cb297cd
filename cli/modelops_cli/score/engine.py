"""The scoring loop: read a chunk, set invalid rows aside, score the rest, write.

Two stages overlap: a background thread reads the next chunk, checks it and
computes its features (pyarrow, pandas and numpy release the GIL for most of
that work), while the calling thread predicts the current one (XGBoost
releases the GIL too) and writes it. The queue between them holds at most
`PREFETCH` chunks, so memory stays bounded by the chunk size, not the input.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from .inputs import Unit
from .layout import OutputPaths
from .models import BatchModel
from .readers import Chunk, read_unit
from .rejects import Checked, check_rows, rejects_schema, rejects_table
from .sink import PartWriter

PREFETCH = 2
META_FIELDS = [
    pa.field("model", pa.string(), nullable=False),
    pa.field("model_version", pa.string(), nullable=False),
    pa.field("feature_schema_hash", pa.string(), nullable=False),
    pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
]


@dataclass(frozen=True)
class Job:
    """Everything one run (or one shard) does, decided before it starts."""

    fs: Any
    units: list[Unit]
    id_column: str
    id_type: Any  # pyarrow DataType of the id column in the output
    chunk_rows: int
    outputs: OutputPaths
    scored_at: dt.datetime


@dataclass
class Counts:
    rows: int = 0
    scored: int = 0
    rejected: int = 0
    rules: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # every thread of the process: what the run cost in CPU


@dataclass(frozen=True)
class Prepared:
    chunk: Chunk
    checked: Checked
    ids: pa.Array  # ids of the valid rows, in the output's id type
    matrix: np.ndarray | None  # model input of the valid rows (None: no valid row)


def scores_schema(model: BatchModel, id_column: str, id_type: Any) -> pa.Schema:
    return pa.schema(
        [pa.field(id_column, id_type, nullable=False), *model.output_fields(), *META_FIELDS]
    )


def prepare(chunk: Chunk, model: BatchModel, job: Job) -> Prepared:
    """Check a chunk's rows and compute the model input of the valid ones."""
    checked = check_rows(chunk.raw, model.raw_schema, chunk.ids, job.id_column)
    if checked.valid.all():
        raw, ids = chunk.raw, chunk.ids
    else:
        raw = chunk.raw[checked.valid].reset_index(drop=True)
        ids = chunk.ids.filter(pa.array(checked.valid))
    matrix = model.matrix(raw) if len(raw) else None
    return Prepared(chunk, checked, ids.cast(job.id_type), matrix)


def prepared_chunks(job: Job, model: BatchModel) -> Iterator[Prepared]:
    raw_columns = model.raw_schema.names
    for unit in job.units:
        for chunk in read_unit(job.fs, unit, job.id_column, raw_columns, job.chunk_rows):
            yield prepare(chunk, model, job)


def constant(value: Any, type_: pa.DataType, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


def scores_table(prepared: Prepared, model: BatchModel, job: Job, schema: pa.Schema) -> pa.Table:
    n = len(prepared.ids)
    columns: dict[str, Any] = {job.id_column: prepared.ids}
    columns.update(model.predict(prepared.matrix))  # type: ignore[arg-type]
    columns["model"] = constant(model.model, pa.string(), n)
    columns["model_version"] = constant(model.version, pa.string(), n)
    columns["feature_schema_hash"] = constant(model.schema_hash, pa.string(), n)
    columns["scored_at"] = constant(job.scored_at, schema.field("scored_at").type, n)
    return pa.table(columns, schema=schema)


def run(job: Job, model: BatchModel, progress: Callable[[int], None] = lambda rows: None) -> Counts:
    """Score every unit of `job`; both parts are committed only if everything succeeded."""
    started, cpu_started = time.perf_counter(), time.process_time()
    counts = Counts()
    schema = scores_schema(model, job.id_column, job.id_type)
    reject_schema = rejects_schema(job.id_column, model.raw_schema.names)
    integer_fields = frozenset(f.name for f in model.raw_schema.fields if f.dtype == "int")
    repeated = tuple(f.name for f in META_FIELDS if f.type == pa.string())
    scores = PartWriter(job.outputs.scores, schema, dictionary=repeated)
    rejects = PartWriter(job.outputs.rejects, reject_schema)
    try:
        for prepared in prefetch(prepared_chunks(job, model), PREFETCH):
            chunk, checked = prepared.chunk, prepared.checked
            if prepared.matrix is not None:
                scores.write(scores_table(prepared, model, job, schema))
            if not checked.valid.all():
                rejects.write(
                    rejects_table(
                        checked, chunk.raw, chunk.ids, chunk.unit.file.shown, chunk.first_row,
                        reject_schema, integer_fields,
                    )
                )  # fmt: skip
            counts.rows += len(chunk)
            counts.scored += len(prepared.ids)
            counts.rejected += len(chunk) - len(prepared.ids)
            counts.rules.update(checked.rules)
            progress(len(chunk))
        # Rejects first: a committed scores part always has its rejects beside it.
        rejects.commit()
        scores.commit()
    except BaseException:
        scores.abort()
        rejects.abort()
        raise
    counts.seconds = time.perf_counter() - started
    counts.cpu_seconds = time.process_time() - cpu_started
    return counts


_DONE = object()


def prefetch(items: Iterator[Any], depth: int) -> Iterator[Any]:
    """`items`, produced by a background thread up to `depth` ahead; its errors re-raised here."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="modelops-score-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


@dataclass(frozen=True)
class _Failure:
    error: BaseException
