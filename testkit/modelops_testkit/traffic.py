"""Traffic for canary runs: a load generator split by canary weight, and a weight watcher.

* `LoadGenerator`: a thread sending /predict requests, each to the canary
  server with the probability the operator's current weight says (read from
  status.canary.weight), else to the stable one, and noting when the canary
  first answered 5xx.
* `WeightWatcher`: status.canary.weight and phase, sampled every 0.2 s.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
from collections.abc import Callable

from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_testkit.net import http_open


class LoadGenerator(threading.Thread):
    """Requests at `rate` per second, split between the tracks by `weight()`."""

    def __init__(self, stable_url: str, canary_url: str, weight: Callable[[], int], rate=40.0):
        super().__init__(name="load", daemon=True)
        self.stable_url, self.canary_url, self.weight = stable_url, canary_url, weight
        self.period = 1.0 / rate
        self.stop_flag = threading.Event()
        self.sent = {"stable": 0, "canary": 0}
        self.errors = {"stable": 0, "canary": 0}
        self.first_canary_error: float | None = None
        self._credit = 0.0
        self.body = json.dumps({"records": [SAMPLE_RECORD]}).encode()

    def _track(self) -> str:
        # Deterministic split: the canary's share of requests equals its weight.
        self._credit += max(0, min(100, self.weight())) / 100.0
        if self._credit >= 1.0:
            self._credit -= 1.0
            return "canary"
        return "stable"

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop_flag.is_set():
            track = self._track()
            url = self.canary_url if track == "canary" else self.stable_url
            status = 0
            try:
                with http_open(f"{url}/predict", self.body, timeout=5) as r:
                    status = r.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 599
            self.sent[track] += 1
            if status >= 500:
                self.errors[track] += 1
                if track == "canary" and self.first_canary_error is None:
                    self.first_canary_error = time.monotonic()
            next_at += self.period
            self.stop_flag.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(10)


class WeightWatcher(threading.Thread):
    """Reads status.canary.weight every 0.2 s; remembers every distinct value and when."""

    def __init__(self, read: Callable[[], dict]) -> None:
        super().__init__(name="weights", daemon=True)
        self.read = read
        self.current = 0
        self.changes: list[tuple[float, int, str | None]] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.sample()
            self.stop_flag.wait(0.2)

    def sample(self) -> None:
        with contextlib.suppress(Exception):
            status = self.read().get("status") or {}
            weight = int((status.get("canary") or {}).get("weight") or 0)
            phase = status.get("phase")
            if not self.changes or self.changes[-1][1:] != (weight, phase):
                self.changes.append((time.monotonic(), weight, phase))
            self.current = weight

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(5)
        # The test may see the final phase between two of our polls and stop us
        # before we did: one last sample makes the end state part of `changes`
        # (its timestamp is then at most one poll late).
        self.sample()
