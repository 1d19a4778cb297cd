"""Fault injection for canary tests and demos: OFF unless its variables are set.

A canary rollout has to be shown rolling back a bad version. These variables,
read once when the service starts, make a perfectly good model behave badly
on /predict so the operator's analysis has something real to catch:

* MODELOPS_FAULT_ERROR_RATE (0..1): that share of /predict requests is
  answered 500. Deterministic (every k-th request), so a test knows the rate
  Prometheus will see without sampling noise.
* MODELOPS_FAULT_DELAY_SECONDS (>= 0): added to every /predict request.
* MODELOPS_FAULT_VERSIONS (comma-separated model versions, optional): only
  a service that loaded one of these versions misbehaves. A ModelDeployment's
  `spec.env` reaches the pods of both tracks, so this is what makes "version 3
  is bad" true on the canary while the stable version stays healthy — without
  it the faults would hit both tracks (and changing them would restart stable).

Unset or 0, `inject` returns None at once and costs one attribute check.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from modelops_bentos.common.direct import Answer, error_answer


def _number(name: str, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number within {low}..{high}, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be within {low}..{high}, got {value}")
    return value


def _versions(text: str) -> frozenset[str]:
    return frozenset(v.strip() for v in text.split(",") if v.strip())


@dataclass
class Faults:
    error_rate: float = 0.0
    delay_seconds: float = 0.0
    versions: frozenset[str] = frozenset()  # empty: every version
    _count: int = 0

    @classmethod
    def from_env(cls) -> Faults:
        return cls(
            error_rate=_number("MODELOPS_FAULT_ERROR_RATE", 0.0, 1.0),
            delay_seconds=_number("MODELOPS_FAULT_DELAY_SECONDS", 0.0, 60.0),
            versions=_versions(os.environ.get("MODELOPS_FAULT_VERSIONS", "")),
        )

    @property
    def active(self) -> bool:
        return self.error_rate > 0 or self.delay_seconds > 0

    def should_fail(self) -> bool:
        """True for round(n * rate) of the first n requests: exact, with no randomness."""
        self._count += 1
        n = self._count
        return int(n * self.error_rate) > int((n - 1) * self.error_rate)

    def applies_to(self, version: str | None) -> bool:
        """Whether the faults hit a service serving `version` (None: not loaded yet)."""
        return self.active and (not self.versions or version in self.versions)

    async def inject(self, version: str | None = None) -> Answer | None:
        if not self.applies_to(version):
            return None
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.error_rate and self.should_fail():
            return error_answer(500, {"error": "injected fault (MODELOPS_FAULT_ERROR_RATE)"})
        return None
