"""The drift end-to-end tests' Prometheus: the served churn process is its one
target, labelled as the stable pod (prometheus_support.py does the rest).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.e2e import prometheus_support
from tests.e2e.prometheus_support import http_open

__all__ = ["http_open", "prometheus"]


@contextlib.contextmanager
def prometheus(workdir: Path, target: str, labels: dict[str, str]) -> Iterator[str]:
    """Run Prometheus scraping `target` (host:port) with `labels`; yields its base URL."""
    with prometheus_support.prometheus(workdir, {"churn": (target, labels)}) as server:
        yield server.address
