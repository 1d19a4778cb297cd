"""Drift measurements, taken in the background so no reconcile waits for Prometheus.

A drift measurement is three Prometheus queries and a profile read; with an
unreachable Prometheus each query waits for its timeout. Run inside a
reconcile, that would hold a worker for seconds, and the promote, abort and
canary steps of other objects would queue behind it. So the engine only
*starts* a measurement when one is due, on a small pool of its own (many
objects are measured side by side), and the measurement's end wakes the
object up: its next reconcile takes the result and writes it, in the one
status patch.

At most one measurement per object runs at a time, and a result is handed
over only to a reconcile that would take the same measurement (same stable
version and drift settings); a stale one is dropped and measured afresh.

Live-quality measurements (spec.monitoring.performance: reading a window of
the inference log and feedback) run on a second pool of the same kind, with
their own `failed` result, so a slow log read never delays a drift check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from modelops_operator.reconcile.plan import DriftMeasurement

log = logging.getLogger("modelops.operator.drift")

Key = tuple[str, str]


def _drift_failed(message: str) -> DriftMeasurement:
    return DriftMeasurement(version="", report=None, error=message)


class DriftMeasurements:
    def __init__(
        self,
        workers: int,
        on_done: Callable[[str, str], None],
        *,
        name: str = "drift",
        failed: Callable[[str], Any] = _drift_failed,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._on_done = on_done
        self._name = name
        self._failed = failed
        self._lock = threading.Lock()
        self._running: set[Key] = set()
        self._results: dict[Key, tuple[Hashable, Any]] = {}
        self._stopped = False

    def take_or_start(self, key: Key, scope: Hashable, measure: Callable[[], Any]) -> Any:
        """A finished measurement of `scope` for this object, else start one (None meanwhile)."""
        with self._lock:
            done = self._results.pop(key, None)
            if done is not None and done[0] == scope:
                return done[1]
            if key in self._running or self._stopped:
                return None
            self._running.add(key)
        self._pool.submit(self._run, key, scope, measure)
        return None

    def _run(self, key: Key, scope: Hashable, measure: Callable[[], Any]) -> None:
        try:
            result = measure()
        except Exception as exc:  # measure reports its own failures; this is a bug guard
            log.exception("%s measurement of %s/%s failed", self._name, *key)
            result = self._failed(f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._running.discard(key)
            if self._stopped:
                return
            self._results[key] = (scope, result)
        self._on_done(*key)

    def forget(self, key: Key) -> None:
        """The object is gone: drop its result (a running measurement ends unheard)."""
        with self._lock:
            self._results.pop(key, None)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._results.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
