"""Waiting for a condition by polling it (the benchmarks' one copy)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait(
    check: Callable[[], Any],
    timeout: float,
    *,
    what: str = "the condition",
    interval: float = 0.05,
    error: type[BaseException] = TimeoutError,
) -> Any:
    """`check()`'s first truthy value, asked every `interval` seconds for `timeout` seconds.

    On timeout it raises `error` naming `what`: TimeoutError by default (a
    traceback); a script that should just stop with the message passes
    SystemExit.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise error(f"timed out after {timeout:g} s waiting for {what}")
