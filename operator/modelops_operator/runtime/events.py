"""Events are posted by one thread of their own, in the order they were decided.

An Event tells what a reconcile already decided, persisted and did; it
changes nothing, and one that cannot be posted must not undo or repeat a
decision. So the reconcile hands its Events over here and moves on: a worker
is free for the next object one request sooner, which matters most when many
objects arrive at once (the Events then trail the children instead of
delaying them). One thread keeps every object's Events in order.

Events still waiting when the process stops are dropped, as Events that
fail to post always were: what they say is in status.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from modelops_operator.runtime import metrics

log = logging.getLogger("modelops.operator")

# Beyond this many waiting Events (an API server that stopped answering),
# new ones are dropped and counted rather than held in memory.
BACKLOG_LIMIT = 10_000


@dataclass(frozen=True)
class Pending:
    involved: Mapping[str, Any]
    type: str
    reason: str
    message: str


class EventPoster:
    def __init__(self, kube: KubeAdapter, instance: str) -> None:
        self.kube = kube
        self.instance = instance
        self._queue: queue.Queue[Pending | None] = queue.Queue(maxsize=BACKLOG_LIMIT)
        self._thread: threading.Thread | None = None

    def start(self) -> EventPoster:
        self._thread = threading.Thread(target=self._loop, name="events", daemon=True)
        self._thread.start()
        return self

    def post(self, involved: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        """Post now when not started (a caller without the thread), else queue it."""
        pending = Pending(involved, type, reason, message)
        if self._thread is None:
            self._post(pending)
            return
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            metrics.EVENTS.labels(type=type, posted="false").inc()
            log.warning("event backlog full; dropped %s on %s", reason, involved["name"])

    def _loop(self) -> None:
        while (pending := self._queue.get()) is not None:
            self._post(pending)

    def _post(self, pending: Pending) -> None:
        try:
            self.kube.post_event(
                pending.involved,
                type=pending.type,
                reason=pending.reason,
                message=pending.message,
                instance=self.instance,
            )
            metrics.EVENTS.labels(type=pending.type, posted="true").inc()
        except KubeError as exc:
            metrics.EVENTS.labels(type=pending.type, posted="false").inc()
            log.warning(
                "could not post event %s on %s: %s", pending.reason, pending.involved["name"], exc
            )

    def waiting(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 2.0) -> None:
        """Post what is waiting for up to `timeout` seconds, then stop."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)
