"""Load shedding: an explicit, bounded queue in front of the prediction work.

Why not a count of requests in flight: a worker is one event loop, and a
prediction is CPU work that never yields, so the app runs one request from
start to end before it starts the next; a count of requests inside the app
never passes 1 and sheds nothing. Without this module the queue is implicit
and unbounded: uvicorn parses every request it reads and queues its task in
the loop's ready queue, where it waits behind every request read before it,
and a loop iteration runs all of them before it reads the sockets again; a
rejection, too, would wait its turn behind all that work (measured,
docs/serving-performance.md "Overload").

So the queue is made explicit. A prediction request first parks in the
worker's `AdmissionQueue` (a FIFO of futures). Its expected wait is the
estimated work already queued ahead of it (per endpoint, a moving average of
how long an admitted request of that endpoint took from release to answer),
divided by the share of the loop's time that goes to released work (the rest
goes to reading sockets and answering rejections: under heavy overload that
share is small, and a bound on queued work alone would not bound the wait);
beyond MODELOPS_MAX_QUEUE_MS it is answered 503 with Retry-After at once,
before its body is read or any feature or model work is done. Parked requests
are released in slices of about SLICE_SECONDS of work per loop iteration, so
between two slices the loop reads the sockets and runs every newly arrived
request up to this decision: a rejection waits for at most about one slice,
not for the whole queue, and the admitted requests wait at most about the
bound. When the load drops the queue is short and nothing is shed.

Cheaper still, and sooner: `shed_on_arrival` makes the same decision the
moment uvicorn has parsed a request's headers (a task factory on the worker's
loop sees uvicorn create the request's task), and runs a small 503 app in
place of the whole app. Measured, a rejection through BentoML's middleware
stack cost about as much CPU as a 1-record prediction, so callers that retry
at once kept the worker busy rejecting; this way a rejection skips BentoML's
metrics, tracing and timeout middleware and the extra task the latter makes.
If uvicorn's internals ever differ from what this expects, nothing is shed
early and the middleware's decision still applies.

Health, /metrics and the docs never come here. Requests whose handler waits on
something else (adaptive batching: /predict_batch has its own bounded queue
and sheds by itself) are not paced either. One queue per process: one loop,
one thread, so plain counters need no lock.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from .telemetry import BucketCounts

ENV = "MODELOPS_MAX_QUEUE_MS"
# Half a second of queued work. 100 ms (the first choice) shed 10% of a load
# that only saturates the worker: 16 callers of 100-record requests with the
# inference log on (5.4 ms each) queue ~80 ms by themselves. A 503 is an error
# to canary analysis, so the default bound must sit well above a saturating
# load and act only under real overload (docs/serving-performance.md).
DEFAULT_MAX_QUEUE_MS = 500.0
# Work released per loop iteration: short, so rejections never wait long;
# long enough that the iteration's fixed costs (reading sockets) stay small.
SLICE_SECONDS = 0.010
# Weight of the newest sample in the per-endpoint cost average.
COST_WEIGHT = 0.1
RETRY_AFTER_SECONDS = 1
RETRY_AFTER_HEADER = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# Seconds of an admitted request's release-to-answer time that were other
# requests' work: a coalesced model call scores the records of every request
# sharing it, while each of them waits (coalesce.py). `done` takes them out, so
# a request's cost sample is its own work, not the batch it waited in; counted
# in full, a batch of k requests would make each look k times as costly and the
# queue would shed long before the worker is overloaded.
_others_work: ContextVar[list[float] | None] = ContextVar("modelops_others_work", default=None)


def count_others_work(seconds: float) -> None:
    """Credit the current request (if admitted by a queue) with `seconds` of others' work."""
    tally = _others_work.get()
    if tally is not None and seconds > 0:
        tally[0] += seconds


def parse_max_queue_ms(raw: str | None) -> float:
    """The bound in ms from its environment value; 0 switches shedding (and pacing) off.

    Raises ValueError naming the variable (the service then refuses to start).
    """
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_QUEUE_MS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r} is not a number of milliseconds") from None
    if not 0 <= value <= 60_000:  # also refuses nan
        raise ValueError(f"{ENV}={raw!r} must be within 0 (no shedding)..60000 ms")
    return value


@dataclass(eq=False)  # identity: a deque.remove finds this very request
class _Parked:
    future: asyncio.Future[None]
    endpoint: str
    cost: float  # the work this request is expected to take, in seconds


class AdmissionQueue:
    """See the module docstring. `enter` admits (after the request's turn) or refuses."""

    def __init__(self, max_queue_ms: float) -> None:
        self.max_wait = max_queue_ms / 1e3
        self.parked: deque[_Parked] = deque()
        self.queued_work = 0.0  # sum of the parked requests' expected costs
        self.cost: dict[str, float] = {}
        self.shed: dict[str, int] = {}
        self.waits = BucketCounts(WAIT_BUCKETS)
        self._releasing: asyncio.AbstractEventLoop | None = None  # the loop a release is due on
        # Share of wall time spent on released work while the queue is busy (moving average).
        self.work_share = 1.0
        self._last_release: float | None = None
        self._last_released = 0.0

    @property
    def enabled(self) -> bool:
        return self.max_wait > 0

    def expected_wait(self) -> float:
        """Seconds a request arriving now would wait for its turn."""
        return self.queued_work / self.work_share

    async def enter(self, endpoint: str) -> float | None:
        """Wait for this request's turn and return None; or the expected wait if refused."""
        expected = self.expected_wait()
        if expected > self.max_wait:
            self.shed[endpoint] = self.shed.get(endpoint, 0) + 1
            return expected
        loop = asyncio.get_running_loop()
        item = _Parked(loop.create_future(), endpoint, self.cost.get(endpoint, 0.0))
        self.parked.append(item)
        self.queued_work += item.cost
        # A release due on another loop (one that stopped with requests parked,
        # as an in-process test client's may) would never come: schedule one here.
        if self._releasing is not loop:
            self._releasing = loop
            loop.call_soon(self._release)
        parked_at = time.perf_counter()
        try:
            await item.future
        except asyncio.CancelledError:
            # The caller went away or timed out while parked: its work leaves the queue.
            self._forget(item)
            raise
        self.waits.observe(time.perf_counter() - parked_at)
        # This task's context: what the request waits for others from here on
        # is tallied for `done` (count_others_work).
        _others_work.set([0.0])
        return None

    def done(self, endpoint: str, seconds: float) -> None:
        """An admitted request of `endpoint` took `seconds` from its release to its answer.

        Called from the request's own task: the others' work tallied since its
        admission (count_others_work) is not its cost.
        """
        tally = _others_work.get()
        if tally is not None:
            seconds = max(0.0, seconds - tally[0])
        old = self.cost.get(endpoint)
        self.cost[endpoint] = seconds if old is None else old + COST_WEIGHT * (seconds - old)

    def _forget(self, item: _Parked) -> None:
        try:
            self.parked.remove(item)
        except ValueError:
            return
        self.queued_work = max(0.0, self.queued_work - item.cost)

    def _release(self) -> None:
        """Wake about SLICE_SECONDS of parked work; come back next loop iteration."""
        now = time.perf_counter()
        if self._last_release is not None and now > self._last_release:
            share = min(1.0, max(0.01, self._last_released / (now - self._last_release)))
            self.work_share += COST_WEIGHT * (share - self.work_share)
        released = 0.0
        while self.parked and (released == 0.0 or released < SLICE_SECONDS):
            item = self.parked.popleft()
            self.queued_work = max(0.0, self.queued_work - item.cost)
            if item.future.done():
                continue
            item.future.set_result(None)
            # A request of unknown cost counts as a whole slice: released alone.
            released += item.cost or SLICE_SECONDS
        if self.parked:
            # call_soon from a running callback lands after the requests just
            # woken, in the next iteration: the loop reads its sockets between.
            asyncio.get_running_loop().call_soon(self._release)
            self._last_release, self._last_released = now, released
        else:
            # The queue emptied: the loop had time to spare, so an old overload's
            # small share must not make the next few callers look queued behind
            # seconds of work (recovery). The next busy period measures afresh.
            self._releasing = None
            self._last_release = None
            self.work_share = 1.0
            self.queued_work = 0.0  # no drift from rounding

    def refusal(self, expected: float) -> tuple[int, dict[str, Any]]:
        """The 503 body in the services' one error shape: says why, and when to retry."""
        return 503, {
            "error": f"overloaded: about {expected * 1e3:.0f} ms of work queued in this worker, "
            f"the bound is {self.max_wait * 1e3:.0f} ms ({ENV}); retry after "
            f"{RETRY_AFTER_SECONDS} s",
            "detail": [{"loc": ["server"], "type": "overloaded"}],
        }

    def families(self, model: str, version: str) -> list[Metric]:
        shed = CounterMetricFamily(
            "modelops_shed_requests",
            f"Requests answered 503 at once because more than {ENV} of work was queued.",
            labels=["model", "version", "endpoint"],
        )
        for endpoint, count in sorted(self.shed.items()):
            shed.add_metric([model, version, endpoint], float(count))
        waits = HistogramMetricFamily(
            "modelops_request_queue_seconds",
            "Time an admitted prediction request waited in the worker's admission queue.",
            labels=["model", "version"],
        )
        waits.add_metric([model, version], self.waits.buckets(), self.waits.sum)
        return [shed, waits]


ShedApp = Callable[[str, float], Callable[..., Awaitable[None]]]


def shed_on_arrival(
    loop: asyncio.AbstractEventLoop,
    queue: AdmissionQueue,
    paced: Mapping[str, str],
    shed_app: ShedApp,
) -> None:
    """Refuse requests for `paced` paths (path -> endpoint) when their task is created.

    `shed_app(endpoint, expected)` returns the ASGI app that answers the 503.
    Idempotent per loop; chains to a task factory already installed.
    """
    previous = loop.get_task_factory()
    if getattr(previous, "sheds_on_arrival", False) or not queue.enabled:
        return

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Future:
        # Every task of the loop comes here: the cheap test first, so a worker that is
        # not overloaded pays one comparison per task. Outside a task, a coroutine
        # `run_asgi(self=cycle, app)`: uvicorn has just parsed a request and is about
        # to run the app for it.
        if queue.expected_wait() > queue.max_wait and asyncio.current_task(loop) is None:
            coro = _shed_if_overloaded(coro, queue, paced, shed_app)
        if previous is not None:
            return previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    factory.sheds_on_arrival = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)


def _shed_if_overloaded(
    coro: Any, queue: AdmissionQueue, paced: Mapping[str, str], shed_app: ShedApp
) -> Any:
    code, frame = getattr(coro, "cr_code", None), getattr(coro, "cr_frame", None)
    if code is None or frame is None or code.co_name != "run_asgi":
        return coro
    cycle = frame.f_locals.get("self")
    scope = getattr(cycle, "scope", None)
    if not isinstance(scope, dict) or scope.get("method") != "POST":
        return coro
    endpoint = paced.get(scope.get("path", ""))
    if endpoint is None:
        return coro
    expected = queue.expected_wait()
    if expected <= queue.max_wait:
        return coro
    queue.shed[endpoint] = queue.shed.get(endpoint, 0) + 1
    coro.close()  # never started: nothing ran
    return cycle.run_asgi(shed_app(endpoint, expected))


_queue: AdmissionQueue | None = None


def admission_queue(env: Mapping[str, str] | None = None) -> AdmissionQueue:
    """This process's queue, configured from the environment on first use."""
    global _queue
    if _queue is None:
        _queue = AdmissionQueue(parse_max_queue_ms((os.environ if env is None else env).get(ENV)))
    return _queue
