"""Wake-ups at a time a plan asks for (Plan.requeue_after).

A canary step ends when its interval is over, not when something in the
cluster changes, so no watch event would trigger the analysis on time; the
periodic resync alone would add up to a full resync period of delay to
every step. One timer per object, replaced by each newer request, calls the
engine back. The timers live in memory only: after a restart the resume
handler reconciles every object, which schedules them again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MIN_DELAY_SECONDS = 0.2


class Requeuer:
    def __init__(self, callback: Callable[[str, str], None]) -> None:
        self._callback = callback
        self._timers: dict[tuple[str, str], threading.Timer] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def schedule(self, namespace: str, name: str, delay: float) -> None:
        key = (namespace, name)
        timer = threading.Timer(max(MIN_DELAY_SECONDS, delay), self._fire, key)
        timer.daemon = True
        with self._lock:
            if self._stopped:
                return
            old = self._timers.get(key)
            if old is not None:
                old.cancel()
            self._timers[key] = timer
        timer.start()

    def _fire(self, namespace: str, name: str) -> None:
        with self._lock:
            self._timers.pop((namespace, name), None)
            if self._stopped:
                return
        self._callback(namespace, name)

    def pending(self) -> int:
        with self._lock:
            return len(self._timers)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()
