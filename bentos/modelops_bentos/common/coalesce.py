"""Coalescing: one model call for the requests already waiting, never a wait for more.

Why: under concurrent load the event loop wakes with several requests ready at
once (one `epoll` returns every readable connection; uvicorn starts a task per
request and they all run before the loop polls again). Scoring each alone pays
the per-call costs once per request -- XGBoost's ~55 us per call, the batch
feature path's fixed work, one fold entry in the metrics -- and on a one-record
request those fixed costs are most of the CPU (docs/serving-performance.md).

How: the first call of an event-loop round schedules a flush with
`loop.call_soon`; every call that reaches the coalescer before that flush runs
(the tasks already made runnable in the same round) joins it. The flush groups
the calls by key (the model object they were routed to, by identity), runs
`fn(key, items)` once per group in chunks of at most `max_items`, and hands
each caller a `Share`: the chunk's result and the slice of it that is its own.
A call that is alone is scored alone, one loop round later, so coalescing adds
no waiting -- unlike adaptive batching (batching.py), which holds requests for
a window to collect more.

Each chunk is its own callback, scheduled after the previous chunk's callers
were woken: the callers of a chunk answer before the next chunk is computed,
instead of every caller waiting for the whole round.

The admission queue (overload.py) learns each request's cost from how long it
took once released; a coalesced request also waits while the others' records
are scored, so the coalescer credits it with that time (everything it waited
minus its records' share of the call) and its cost sample stays its own work.

MODELOPS_COALESCE=false scores every request alone (for comparison, or a
model whose per-call cost does not depend on the batch); a malformed value
refuses to start.

Failure stays per request: if `fn` raises for a merged chunk, each of its calls
is run alone, so only the call whose items fail gets the exception. A caller
that went away (its future cancelled) before the flush is not computed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .overload import count_others_work

R = TypeVar("R")

ENV = "MODELOPS_COALESCE"
_ON, _OFF = ("", "1", "true", "yes", "on"), ("0", "false", "no", "off")


def enabled_from_env(env: Mapping[str, str] | None = None) -> bool:
    """MODELOPS_COALESCE: on unless false / 0 / no / off; anything else is refused."""
    raw = (os.environ if env is None else env).get(ENV, "")
    value = raw.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(f"{ENV}={raw!r} must be true or false")


@dataclass(frozen=True)
class Share(Generic[R]):
    """One caller's part of a chunk: `result` of the chunk's call, items [start, stop) its own."""

    result: R
    start: int
    stop: int
    calls: int  # callers that shared the model call (1: scored alone)
    seconds: float  # the model call's duration
    items: int  # the items it scored, all callers together

    @property
    def own_seconds(self) -> float:
        """This caller's part of the call's duration, by its share of the items."""
        if self.items:
            return self.seconds * (self.stop - self.start) / self.items
        return self.seconds / self.calls


@dataclass
class _Call:
    key: Any
    items: list[Any]
    future: asyncio.Future[Any]


class Coalescer(Generic[R]):
    """`await coalescer(key, items)` -> Share of `fn(key, merged items)` (module docstring).

    `fn` runs on the event loop, synchronously, and returns a result whose
    items [start, stop) belong to the call that brought items [start, stop).
    With `enabled=False` every call runs `fn` at once on its own items.
    """

    def __init__(
        self, fn: Callable[[Any, list[Any]], R], max_items: int, enabled: bool = True
    ) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self._fn = fn
        self.max_items = max_items
        self.enabled = enabled
        self._pending: list[_Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, key: Any, items: list[Any]) -> Share[R]:
        waiting = time.perf_counter()
        share = await self.submit(key, items)
        # Waited for the others' records and the loop round: not this request's work.
        count_others_work(time.perf_counter() - waiting - share.own_seconds)
        return share

    def submit(self, key: Any, items: list[Any]) -> asyncio.Future[Share[R]]:
        """The call's future, without crediting its wait (`__call__` does both)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Share[R]] = loop.create_future()
        if not self.enabled:
            self._run(key, [_Call(key, items, future)])
            return future
        if loop is not self._loop:
            # A first call, or a new loop (tests run one per case): what was
            # pending belonged to a loop that no longer runs.
            self._loop, self._pending = loop, []
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append(_Call(key, items, future))
        return future

    def _flush(self) -> None:
        calls, self._pending = self._pending, []
        chunks = _chunks([c for c in calls if not c.future.done()], self.max_items)
        self._next(chunks)

    def _next(self, chunks: list[list[_Call]]) -> None:
        """Run the first chunk now and schedule the rest behind its callers' wake-ups."""
        if not chunks:
            return
        # A caller may have gone away while an earlier chunk ran.
        chunk = [c for c in chunks[0] if not c.future.done()]
        if chunk:
            self._run(chunk[0].key, chunk)
        if len(chunks) > 1:
            asyncio.get_running_loop().call_soon(self._next, chunks[1:])

    def _run(self, key: Any, chunk: list[_Call]) -> None:
        items = chunk[0].items if len(chunk) == 1 else [i for c in chunk for i in c.items]
        began = time.perf_counter()
        try:
            result = self._fn(key, items)
        except Exception as exc:
            if len(chunk) == 1:
                _settle(chunk[0].future, exception=exc)
            else:
                for call in chunk:  # isolate the call that fails
                    self._run(key, [call])
            return
        seconds = time.perf_counter() - began
        start = 0
        for call in chunk:
            stop = start + len(call.items)
            _settle(call.future, Share(result, start, stop, len(chunk), seconds, len(items)))
            start = stop


def _chunks(calls: list[_Call], max_items: int) -> list[list[_Call]]:
    """The calls grouped by key identity (first-come order), each group cut at max_items.

    A call bigger than max_items is a chunk of its own; calls are never split.
    """
    groups: dict[int, list[_Call]] = {}
    for call in calls:
        groups.setdefault(id(call.key), []).append(call)
    chunks: list[list[_Call]] = []
    for group in groups.values():
        chunk: list[_Call] = []
        size = 0
        for call in group:
            if chunk and size + len(call.items) > max_items:
                chunks.append(chunk)
                chunk, size = [], 0
            chunk.append(call)
            size += len(call.items)
        chunks.append(chunk)
    return chunks


def _settle(future: asyncio.Future[Any], result: Any = None, exception: Any = None) -> None:
    if future.done():  # cancelled while the chunk ran
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
