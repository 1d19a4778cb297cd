"""What the operator knows about its retraining Jobs without asking the API server.

Fed by the watch of Jobs labelled managed-by modelops (handlers.py), by the
list at start (`prime`) and by the answers to the operator's own creates.
A reconcile reads the state of the Job status.retraining names from here
instead of one GET per reconcile, and the watch tells the handlers when a
Job's state changes, so a finished Job is acted on at once rather than at
the next resync.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from modelops_operator.retraining.outcome import job_state

Key = tuple[str, str]


class JobMemory:
    """Thread-safe: the handlers, the workers and the resync share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[Key, str] = {}
        self.primed = False

    def prime(self, jobs: Iterable[Mapping[str, Any]]) -> None:
        """Load the full list; from now on a Job missing here does not exist."""
        for job in jobs:
            self.saw(job)
        self.primed = True

    def saw(self, job: Mapping[str, Any]) -> bool:
        """Record a Job as seen by the watch or a write; True when its state changed."""
        metadata = job.get("metadata") or {}
        key = (metadata.get("namespace", ""), metadata.get("name", ""))
        state = job_state(job)
        with self._lock:
            old = self._states.get(key)
            self._states[key] = state
        return old != state

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._states.pop((namespace, name), None)

    def state(self, namespace: str, name: str) -> str | None:
        """The Job's state (outcome.job_state), or None when this memory cannot know it."""
        with self._lock:
            known = self._states.get((namespace, name))
        if known is None and not self.primed:
            return None
        return known if known is not None else job_state(None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)
