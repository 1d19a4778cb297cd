"""A bounded queue drained in batches by a background thread: requests never wait for storage.

`offer(item, records)` is all the request path does: append under a lock, or,
when the records queued and being written would exceed the capacity, drop
the item and count it. It never blocks and never raises. The thread wakes
when a batch is full or `flush_seconds` passed, hands everything queued to
`write(items)` (encode and store, which may take seconds on S3), retries a
failed write a few times, and counts the records written or dropped.

`close(timeout)` is the shutdown: it stops accepting items, lets the thread
write what is queued, and returns after at most `timeout` seconds; whatever
could not be written by then is counted as dropped at shutdown (a pod must
not hang on a dead store past its grace period).

Counters by outcome: written, dropped_queue_full, dropped_write_error,
dropped_shutdown (records, not requests).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("bentoml.modelops.ground_truth")

OUTCOMES = ("written", "dropped_queue_full", "dropped_write_error", "dropped_shutdown")
WRITE_ATTEMPTS = 3
RETRY_SECONDS = 0.5


class BatchWriter:
    def __init__(
        self,
        name: str,
        write: Callable[[list[Any]], None],
        capacity: int,
        batch: int,
        flush_seconds: float,
    ) -> None:
        self.name = name
        self._write = write
        self.capacity = capacity
        self.batch = batch
        self.flush_seconds = flush_seconds
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._items: deque[tuple[Any, int]] = deque()
        self._queued = 0  # records in _items
        self._in_flight = 0  # records taken by the thread, not yet written or dropped
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        # Set when close() gave up waiting: the thread's late results are not counted again.
        self._abandoned = False
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> int:
        """Records waiting or being written."""
        return self._queued + self._in_flight

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"modelops-{self.name}-writer", daemon=True
            )
            self._thread.start()

    def offer(self, item: Any, records: int) -> bool:
        """Queue `item` (holding `records` records); False when it was dropped."""
        with self._lock:
            if self._closing or self._queued + self._in_flight + records > self.capacity:
                reason = "dropped_shutdown" if self._closing else "dropped_queue_full"
                self.counts[reason] += records
                return False
            self._items.append((item, records))
            self._queued += records
            if self._queued >= self.batch:
                self._wake.set()
        return True

    def _take(self) -> tuple[list[Any], int]:
        with self._lock:
            items = [item for item, _ in self._items]
            records = self._queued
            self._items.clear()
            self._queued = 0
            self._in_flight += records
            self._wake.clear()
        return items, records

    def _settle(self, records: int, outcome: str) -> None:
        with self._lock:
            if self._abandoned:
                return
            self._in_flight -= records
            self.counts[outcome] += records

    def flush(self) -> None:
        """Write everything queued now (the thread's step; also callable directly)."""
        items, records = self._take()
        if not items:
            return
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                self._write(items)
            except Exception as exc:  # any storage or encoding failure: retry, then drop
                if attempt == WRITE_ATTEMPTS or self._closing:
                    log.error(
                        "modelops: %s: dropping %d record(s) after %d failed write(s): %s: %s",
                        self.name,
                        records,
                        attempt,
                        type(exc).__name__,
                        exc,
                    )
                    self._settle(records, "dropped_write_error")
                    return
                time.sleep(RETRY_SECONDS * attempt)
            else:
                self._settle(records, "written")
                return

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            closing = self._closing
            self.flush()
            if closing:
                return

    def close(self, timeout: float) -> None:
        """Stop accepting, write what is queued, wait at most `timeout` seconds."""
        with self._lock:
            self._closing = True
            self._wake.set()
        if self._thread is None:
            self.flush()
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            with self._lock:
                left = self._queued + self._in_flight
                self.counts["dropped_shutdown"] += left
                self._items.clear()
                self._queued = self._in_flight = 0
                self._abandoned = True
            log.error(
                "modelops: %s: %d record(s) not written within the %.1f s shutdown wait",
                self.name,
                left,
                timeout,
            )
