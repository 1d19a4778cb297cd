"""The admission queue (overload.py): its variable, when it refuses, how it releases."""

from __future__ import annotations

import asyncio

import pytest

from modelops_bentos.common import overload


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, overload.DEFAULT_MAX_QUEUE_MS), ("", overload.DEFAULT_MAX_QUEUE_MS),
     ("50", 50.0), (" 0 ", 0.0), ("12.5", 12.5)],
)  # fmt: skip
def test_parse(raw, expected) -> None:
    assert overload.parse_max_queue_ms(raw) == expected


@pytest.mark.parametrize("raw", ["x", "-1", "nan", "60001", "1e9"])
def test_a_malformed_bound_is_refused_naming_the_variable(raw) -> None:
    with pytest.raises(ValueError, match="MODELOPS_MAX_QUEUE_MS"):
        overload.parse_max_queue_ms(raw)


def test_zero_switches_the_queue_off() -> None:
    assert not overload.AdmissionQueue(0).enabled
    assert overload.AdmissionQueue(1).enabled


async def test_an_idle_queue_admits() -> None:
    queue = overload.AdmissionQueue(100)
    assert await queue.enter("predict") is None
    assert not queue.parked


async def test_beyond_the_bound_of_queued_work_it_refuses_at_once() -> None:
    queue = overload.AdmissionQueue(50)  # 50 ms
    queue.cost["predict"] = 0.020  # 20 ms a request
    admitted = [asyncio.ensure_future(queue.enter("predict")) for _ in range(3)]
    await asyncio.sleep(0)  # all three park: 60 ms queued
    assert queue.expected_wait() == pytest.approx(0.060)
    refused = await queue.enter("predict")  # returns without waiting for a turn
    assert refused == pytest.approx(0.060)
    assert queue.shed == {"predict": 1}
    status, body = queue.refusal(refused)
    assert status == 503
    assert "MODELOPS_MAX_QUEUE_MS" in body["error"] and body["detail"][0]["type"] == "overloaded"
    assert await asyncio.gather(*admitted) == [None, None, None]
    assert queue.expected_wait() == 0 and not queue.parked


async def test_parked_work_is_released_a_slice_per_loop_iteration() -> None:
    queue = overload.AdmissionQueue(1000)
    cost = overload.SLICE_SECONDS / 2  # two requests make a slice
    queue.cost["predict"] = cost
    order: list[int] = []

    async def request(i: int) -> None:
        await queue.enter("predict")
        order.append(i)

    tasks = [asyncio.ensure_future(request(i)) for i in range(6)]
    await asyncio.sleep(0)  # all parked
    released_per_step = []
    while len(order) < 6:
        before = len(order)
        await asyncio.sleep(0)
        released_per_step.append(len(order) - before)
    await asyncio.gather(*tasks)
    assert order == list(range(6)), "first come, first served"
    assert max(released_per_step) == 2, released_per_step


async def test_a_caller_that_goes_away_while_parked_leaves_the_queue() -> None:
    queue = overload.AdmissionQueue(1000)
    queue.cost["predict"] = 0.5  # each request is a slice or more: released one at a time
    first = asyncio.ensure_future(queue.enter("predict"))
    second = asyncio.ensure_future(queue.enter("predict"))
    await asyncio.sleep(0)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert await first is None
    assert not queue.parked and queue.queued_work == 0


def test_cost_is_a_moving_average_per_endpoint() -> None:
    queue = overload.AdmissionQueue(100)
    queue.done("predict", 0.010)
    queue.done("predict", 0.020)
    queue.done("features", 0.1)
    assert queue.cost["predict"] == pytest.approx(0.010 + overload.COST_WEIGHT * 0.010)
    assert queue.cost["features"] == pytest.approx(0.1)


async def test_others_work_in_an_admitted_request_is_not_its_cost() -> None:
    queue = overload.AdmissionQueue(100)

    async def request(others: float) -> None:
        assert await queue.enter("predict") is None
        overload.count_others_work(others)  # e.g. waiting in a coalesced call
        queue.done("predict", 0.010)  # 10 ms from release to answer

    await asyncio.ensure_future(request(0.006))
    assert queue.cost["predict"] == pytest.approx(0.004)
    await asyncio.ensure_future(request(0.5))  # never below zero
    assert queue.cost["predict"] == pytest.approx(0.004 * (1 - overload.COST_WEIGHT))


def test_others_work_outside_an_admitted_request_is_ignored() -> None:
    queue = overload.AdmissionQueue(100)
    overload.count_others_work(1.0)  # no request admitted in this context
    queue.done("predict", 0.010)
    assert queue.cost["predict"] == pytest.approx(0.010)


def test_metrics_name_the_shed_requests_per_endpoint() -> None:
    queue = overload.AdmissionQueue(100)
    queue.shed["predict"] = 3
    shed, waits = queue.families("churn", "4")
    assert shed.name == "modelops_shed_requests"
    assert [(s.labels, s.value) for s in shed.samples if s.name.endswith("_total")] == [
        ({"model": "churn", "version": "4", "endpoint": "predict"}, 3.0)
    ]
    assert waits.name == "modelops_request_queue_seconds"


class Cycle:
    """The shape shed_on_arrival relies on: uvicorn's RequestResponseCycle.run_asgi(app)."""

    def __init__(self, method: str, path: str) -> None:
        self.scope = {"type": "http", "method": method, "path": path}

    async def run_asgi(self, app) -> None:
        await app(self.scope, None, None)


def shed_app(endpoint: str, expected: float):
    async def app(scope, receive, send) -> None:
        scope["answered"] = f"503 {endpoint}"

    return app


async def service_app(scope, receive, send) -> None:
    scope["answered"] = "service"


@pytest.mark.parametrize(
    ("method", "path", "overloaded", "answered"),
    [("POST", "/predict", True, "503 predict"),
     ("POST", "/predict", False, "service"),
     ("GET", "/predict", True, "service"),
     ("POST", "/readyz", True, "service"),
     ("POST", "/predict_batch", True, "service")],
)  # fmt: skip
async def test_a_request_is_refused_on_arrival_only_when_over_the_bound(
    method, path, overloaded, answered
) -> None:
    queue = overload.AdmissionQueue(10)
    queue.queued_work = 0.050 if overloaded else 0.0
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    try:
        overload.shed_on_arrival(loop, queue, {"/predict": "predict"}, shed_app)
        cycle = Cycle(method, path)
        # As uvicorn does: from a protocol callback, outside any task.
        created: list[asyncio.Task] = []
        loop.call_soon(lambda: created.append(loop.create_task(cycle.run_asgi(service_app))))
        await asyncio.sleep(0)
        await created[0]
    finally:
        loop.set_task_factory(previous)
    assert cycle.scope["answered"] == answered
    assert queue.shed == ({"predict": 1} if answered.startswith("503") else {})


async def test_tasks_created_inside_a_task_are_never_touched() -> None:
    queue = overload.AdmissionQueue(10)
    queue.queued_work = 1.0
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    try:
        overload.shed_on_arrival(loop, queue, {"/predict": "predict"}, shed_app)
        cycle = Cycle("POST", "/predict")
        await loop.create_task(cycle.run_asgi(service_app))
    finally:
        loop.set_task_factory(previous)
    assert cycle.scope["answered"] == "service"


async def test_an_emptied_queue_forgets_an_old_overload() -> None:
    queue = overload.AdmissionQueue(100)
    queue.cost["predict"] = 0.001
    queue.work_share = 0.01  # as after a storm of rejections
    assert await queue.enter("predict") is None
    assert queue.work_share == 1.0
    # A few callers at once are far below the bound again.
    assert await asyncio.gather(*(queue.enter("predict") for _ in range(5))) == [None] * 5
