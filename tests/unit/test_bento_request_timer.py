"""request_timer.py: BentoML's TimeoutMiddleware no longer leaves a live timer per request.

The middleware is BentoML's own class, with the `__call__` modelops installs,
run on a real event loop: every timer it arms is cancelled once the answer
has started, and a request that does not answer in time still gets the 504.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bentoml._internal.server.http.traffic import TimeoutMiddleware

from modelops_bentos.common import request_timer

request_timer.install()

SCOPE = {"type": "http", "method": "POST", "path": "/predict", "headers": []}


async def answering_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def slow_app(seconds: float):
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(seconds)
        await answering_app(scope, receive, send)

    return app


async def serve(app: Any, timeout: float, requests: int) -> tuple[list[list[dict]], list]:
    """Each request's sent messages, and every timer the middleware armed."""
    loop = asyncio.get_running_loop()
    timers: list[asyncio.TimerHandle] = []
    arm = loop.call_later

    def recording(*args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timers.append(arm(*args, **kwargs))
        return timers[-1]

    loop.call_later = recording  # type: ignore[method-assign]
    middleware = TimeoutMiddleware(app, timeout=timeout)
    answers: list[list[dict]] = []
    for _ in range(requests):
        sent: list[dict] = []

        async def send(message: dict, sent: list[dict] = sent) -> None:
            sent.append(message)

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        await middleware(SCOPE, receive, send)
        answers.append(sent)
    return answers, timers


def test_the_middleware_is_modelops_call_once_installed() -> None:
    request_timer.install()  # twice is once
    assert TimeoutMiddleware.__call__ is request_timer.timeout_call


def test_an_answered_request_leaves_no_armed_timer() -> None:
    answers, timers = asyncio.run(serve(answering_app, timeout=30, requests=50))
    assert [a[0]["status"] for a in answers] == [200] * 50
    assert len(timers) == 50
    # BentoML's own __call__ left all 50 armed for 30 s.
    assert all(timer.cancelled() for timer in timers)


def test_a_request_that_does_not_answer_in_time_still_gets_the_504() -> None:
    answers, _ = asyncio.run(serve(slow_app(5.0), timeout=0.05, requests=1))
    (sent,) = answers
    assert sent[0]["status"] == 504
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body == {"error": "Not able to process the request in 0.05 seconds"}
