"""The work queue every trigger feeds and the workers that drain it.

Triggers -- a ModelDeployment's watch event, a child Deployment or Job
changing, the resync, a plan's wake-up timer, a finished drift measurement --
only name an object here; `--workers` threads reconcile them. As with
client-go's workqueue, an object is at most once in the queue and in at most
one worker at a time: an object named again while queued keeps one entry
(the newest body offered, `force` if any trigger asked for it), and one named
while a worker reconciles it is queued again once that worker is done. So a
burst of events for one object costs one reconcile, never two racing ones,
and no trigger ever blocks on a reconcile (kopf's watch handlers return at
once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.runtime import metrics
from modelops_operator.runtime.freshness import resource_version

log = logging.getLogger("modelops.operator")

Key = tuple[str, str]

# Delays before a failed reconcile is tried again (kopf does not retry event
# handlers; the queue's wake-up timer does).
CONFLICT_RETRY_SECONDS = 2.0
ERROR_RETRY_SECONDS = 10.0


@dataclass
class Work:
    body: Mapping[str, Any] | None = None  # the newest body a trigger offered (None: read it)
    force: bool = False  # apply every child even if applied unchanged before (resync)

    def merge(self, body: Mapping[str, Any] | None, force: bool) -> None:
        if body is not None and (self.body is None or _newer(body, self.body)):
            self.body = body
        self.force = self.force or force


def _newer(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    va, vb = resource_version(a), resource_version(b)
    return va is None or vb is None or va >= vb


class WorkQueue:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._order: deque[Key] = deque()
        self._waiting: dict[Key, Work] = {}  # queued, not being reconciled
        self._busy: set[Key] = set()  # in a worker now
        self._again: dict[Key, Work] = {}  # named while busy: queued when done
        self._closed = False

    def add(
        self,
        namespace: str,
        name: str,
        body: Mapping[str, Any] | None = None,
        force: bool = False,
        trigger: str = "timer",
    ) -> None:
        key = (namespace, name)
        with self._cond:
            if self._closed:
                return
            coalesced = key in self._waiting or key in self._again
            metrics.QUEUED.labels(trigger=trigger, coalesced=str(coalesced).lower()).inc()
            if key in self._busy:
                self._again.setdefault(key, Work()).merge(body, force)
                return
            work = self._waiting.get(key)
            if work is not None:
                work.merge(body, force)
                return
            work = Work()
            work.merge(body, force)
            self._waiting[key] = work
            self._order.append(key)
            self._cond.notify()

    def get(self) -> tuple[Key, Work] | None:
        """The next object to reconcile (it is then busy until `done`); None once closed."""
        with self._cond:
            while not self._order and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            key = self._order.popleft()
            work = self._waiting.pop(key)
            self._busy.add(key)
            return key, work

    def done(self, key: Key) -> None:
        with self._cond:
            self._busy.discard(key)
            again = self._again.pop(key, None)
            if again is not None and not self._closed:
                self._waiting[key] = again
                self._order.append(key)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._order.clear()
            self._waiting.clear()
            self._again.clear()
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._order) + len(self._again)


class Workers:
    """`count` threads reconciling what the queue hands out; a failure is retried later."""

    def __init__(
        self,
        queue: WorkQueue,
        reconcile: Callable[..., Any],
        retry: Callable[[str, str, float], None],
        count: int,
        busy_error: type[Exception],
    ) -> None:
        self.queue = queue
        self._reconcile = reconcile
        self._retry = retry
        self._busy_error = busy_error
        self._threads = [
            threading.Thread(target=self._loop, name=f"reconcile-{i}", daemon=True)
            for i in range(count)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _loop(self) -> None:
        while (item := self.queue.get()) is not None:
            (namespace, name), work = item
            try:
                self._reconcile(namespace, name, body=work.body, force=work.force)
            except Exception as exc:
                # The object is busy (conflicts) or the API server is in trouble: try
                # again shortly, level-based, instead of waiting for the resync.
                busy = isinstance(exc, self._busy_error)
                delay = CONFLICT_RETRY_SECONDS if busy else ERROR_RETRY_SECONDS
                log.warning(
                    "reconcile of %s/%s failed (%s); again in %.0f s", namespace, name, exc, delay
                )
                self._retry(namespace, name, delay)
            finally:
                self.queue.done((namespace, name))

    def stop(self, timeout: float = 5.0) -> None:
        """Close the queue and wait a little, in all, for reconciles in flight.

        The threads are daemons: one stuck on an API server that went away
        does not keep the process alive past this wait.
        """
        self.queue.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
