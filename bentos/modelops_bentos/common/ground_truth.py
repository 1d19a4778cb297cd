"""The service's inference log and feedback: sampling, privacy, batching, storage, metrics.

Configured by the environment (the operator sets it on the serving pods; see
bentos/README.md), read once at start; a malformed value refuses to start:

  MODELOPS_LOG_SAMPLE            share of requests logged, 0..1 (default 0: off)
  MODELOPS_LOG_URI               store (file://, s3://); default: the registry's
  MODELOPS_LOG_IDENTIFIERS       hash (default) or omit: identifier fields
  MODELOPS_LOG_HASH_KEY          key of the keyed hash (from a Secret)
  MODELOPS_LOG_QUEUE_RECORDS     records held in memory at most (default 20000)
  MODELOPS_LOG_BATCH_RECORDS     records per file, at most (default 5000)
  MODELOPS_LOG_FLUSH_SECONDS     a file at least this often while traffic flows (30)
  MODELOPS_LOG_SHUTDOWN_SECONDS  wait at most this long to flush on shutdown (10)

Sampling is per request and decided by the request id (CRC-32 below the
share), so every replica, and a retry carrying the same X-Request-Id, decides
the same way; requests without an id (/predict_batch) draw at random. What
the request path does for a sampled request is one object and one append
(batch_writer.py); expanding rows, hashing identifiers, Parquet encoding
and the upload happen in the writer threads. Feedback is never sampled: each
accepted outcome is written, and a full feedback queue answers 503 instead
of dropping a client's labels.
"""

from __future__ import annotations

import logging
import os
import random
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from modelops_features import inference_log as il
from modelops_features import parquet

from . import request_id as request_ids
from .batch_writer import OUTCOMES, BatchWriter

log = logging.getLogger("bentoml.modelops.ground_truth")

ENV_SAMPLE = "MODELOPS_LOG_SAMPLE"
ENV_URI = "MODELOPS_LOG_URI"
ENV_QUEUE = "MODELOPS_LOG_QUEUE_RECORDS"
ENV_BATCH = "MODELOPS_LOG_BATCH_RECORDS"
ENV_FLUSH = "MODELOPS_LOG_FLUSH_SECONDS"
ENV_SHUTDOWN = "MODELOPS_LOG_SHUTDOWN_SECONDS"


class LogConfigError(ValueError):
    """A MODELOPS_LOG_* variable is malformed (the message names it)."""


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, integer: bool
) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise LogConfigError(f"{name}={text!r} is not {kind} ({low:g}..{high:g})") from None
    if not low <= value <= high:
        raise LogConfigError(f"{name}={text!r} must be within {low:g}..{high:g}")
    return value


@dataclass(frozen=True)
class LogConfig:
    uri: str
    sample: float = 0.0
    queue_records: int = 20000
    batch_records: int = 5000
    flush_seconds: float = 30.0
    shutdown_seconds: float = 10.0
    identifiers: il.IdentifierPolicy = field(default_factory=il.IdentifierPolicy)

    @classmethod
    def from_env(cls, registry_uri: str, env: Mapping[str, str] | None = None) -> LogConfig:
        source = os.environ if env is None else env
        try:
            identifiers = il.IdentifierPolicy.from_env(source)
        except ValueError as exc:
            raise LogConfigError(str(exc)) from None
        return cls(
            uri=(source.get(ENV_URI) or "").strip() or registry_uri,
            sample=_number(source, ENV_SAMPLE, 0.0, 0.0, 1.0, integer=False),
            queue_records=int(_number(source, ENV_QUEUE, 20000, 1, 10_000_000, integer=True)),
            batch_records=int(_number(source, ENV_BATCH, 5000, 1, 1_000_000, integer=True)),
            flush_seconds=_number(source, ENV_FLUSH, 30.0, 0.05, 3600.0, integer=False),
            shutdown_seconds=_number(source, ENV_SHUTDOWN, 10.0, 0.0, 600.0, integer=False),
            identifiers=identifiers,
        )


def now_us() -> int:
    return time.time_ns() // 1000


def utc_day(us: int) -> date:
    return datetime.fromtimestamp(us / 1e6, UTC).date()


class GroundTruth:
    """One service process's inference log and feedback writer (see the module docstring)."""

    def __init__(self, kind: str, model: str, config: LogConfig) -> None:
        self.layout = il.layout(kind)
        self.model = model
        self.config = config
        self._threshold = int(config.sample * 2**32)
        self._store: Any = None
        self._log_columns = self.layout.log_columns()
        self._feedback_columns = self.layout.feedback_columns()
        writer = dict(
            capacity=config.queue_records,
            batch=config.batch_records,
            flush_seconds=config.flush_seconds,
        )
        self.log_writer = BatchWriter(il.LOG_STREAM, self._write_log, **writer)
        self.feedback_writer = BatchWriter(il.FEEDBACK_STREAM, self._write_feedback, **writer)

    @property
    def logging(self) -> bool:
        return self.config.sample > 0

    def start(self) -> None:
        if self.logging:
            self.log_writer.start()
            if (
                self.layout.entity_column
                and self.config.identifiers.mode == "hash"
                and not self.config.identifiers.key
            ):
                log.warning(
                    "modelops: %s ids are logged as plain SHA-256 hashes, which can be "
                    "reversed by hashing guessed ids; set MODELOPS_LOG_HASH_KEY (from a "
                    "Secret) for keyed hashes, or MODELOPS_LOG_IDENTIFIERS=omit",
                    self.layout.entity_column,
                )
        self.feedback_writer.start()

    # -- the request path ----------------------------------------------------------------

    def sampled(self, request_id: str | None) -> bool:
        if self._threshold <= 0:
            return False
        if request_id is None:
            return random.random() < self.config.sample
        return zlib.crc32(request_id.encode()) < self._threshold

    def log(
        self,
        endpoint: str,
        version: str,
        records: Sequence[Mapping[str, Any]],
        features: Any,
        probabilities: np.ndarray,
        answers: Sequence[str] | None = None,
        attributable: bool = True,
    ) -> None:
        """Queue a sampled request's records; returns at once, whatever the store does.

        `attributable=False` logs without a request id: adaptive batching merges
        several callers' records into one call, and the request-id variable of
        the batch's task belongs to none of them.
        """
        rid = request_ids.get() if attributable else None
        if not records or not self.sampled(rid):
            return
        item = il.LoggedRequest(
            request_id=rid,
            endpoint=endpoint,
            ts_us=now_us(),
            model=self.model,
            version=version,
            records=records,
            features=features,
            probabilities=probabilities,
            answers=answers,
        )
        self.log_writer.offer(item, len(records))

    def feedback(self, rows: list[dict[str, Any]]) -> bool:
        """Queue validated feedback rows (feedback columns); False when the queue is full."""
        return self.feedback_writer.offer(rows, len(rows))

    # -- the writer threads --------------------------------------------------------------

    def store(self) -> Any:
        if self._store is None:
            from modelops_registry.datalog import DataLog

            self._store = DataLog.from_uri(self.config.uri)
        return self._store

    def _write_log(self, items: list[il.LoggedRequest]) -> None:
        columns = il.log_columns(self.layout, items, self.config.identifiers)
        self._write_by_day(il.LOG_STREAM, self._log_columns, columns, columns["ts"])

    def _write_feedback(self, items: list[list[dict[str, Any]]]) -> None:
        rows = [row for batch in items for row in batch]
        policy = self.config.identifiers
        columns = {c.name: [row.get(c.name) for row in rows] for c in self._feedback_columns}
        columns["entity_id"] = [policy.apply(v) for v in columns["entity_id"]]
        self._write_by_day(
            il.FEEDBACK_STREAM, self._feedback_columns, columns, columns["received_at"]
        )

    def _write_by_day(
        self,
        stream: str,
        schema: list[parquet.Column],
        columns: dict[str, list[Any]],
        stamps: list[int],
    ) -> None:
        """One file per UTC day the rows fall in (a batch may straddle midnight)."""
        days = [utc_day(us) for us in stamps]
        meta = il.file_metadata(stream, self.layout, self.model)
        for day in sorted(set(days)):
            keep = [i for i, d in enumerate(days) if d == day]
            part = (
                columns
                if len(keep) == len(days)
                else {name: [values[i] for i in keep] for name, values in columns.items()}
            )
            self.store().write(self.model, stream, day, parquet.encode(schema, part, metadata=meta))

    def close(self) -> None:
        """Flush both streams, waiting at most MODELOPS_LOG_SHUTDOWN_SECONDS in all."""
        deadline = time.monotonic() + self.config.shutdown_seconds
        self.log_writer.close(max(deadline - time.monotonic(), 0.0))
        self.feedback_writer.close(max(deadline - time.monotonic(), 0.0))

    # -- metrics -------------------------------------------------------------------------

    def families(self) -> list[Metric]:
        records = CounterMetricFamily(
            "modelops_logged_records",
            "Inference-log and feedback records by outcome (written, or dropped because the "
            "queue was full, the store failed, or shutdown came first).",
            labels=["model", "stream", "outcome"],
        )
        queued = GaugeMetricFamily(
            "modelops_log_queue_records",
            "Records waiting in memory or being written, by stream.",
            labels=["model", "stream"],
        )
        for writer in (self.log_writer, self.feedback_writer):
            for outcome in OUTCOMES:
                records.add_metric(
                    [self.model, writer.name, outcome], float(writer.counts[outcome])
                )
            queued.add_metric([self.model, writer.name], float(writer.queued))
        sample = GaugeMetricFamily(
            "modelops_log_sample_ratio",
            "Share of requests written to the inference log (MODELOPS_LOG_SAMPLE).",
            labels=["model"],
        )
        sample.add_metric([self.model], self.config.sample)
        return [records, queued, sample]
