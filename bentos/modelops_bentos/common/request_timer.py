"""BentoML's per-request timeout, with the line it lacks: the timer is cancelled once answered.

BentoML 1.4 wraps every HTTP request in `TimeoutMiddleware`
(bentoml/_internal/server/http/traffic.py): it arms
`loop.call_later(timeout, ...)` and resolves a future when the response starts,
but never cancels the timer. Every answered request therefore leaves its timer
handle, the future, a context and a bound method alive for the whole
`traffic.timeout` (30 s in these services): at 2,000 requests/s about 60,000
timers and 300,000 objects that every full garbage collection walks, and tens
of MiB. Measured on the churn worker under `wrk -c16` with 1-record bodies
(docs/serving-performance.md): tracked objects grew by ~90,000 every 8 s of
load and RSS by ~12 MiB, and the p99 went from 17 ms in the first 8 s to 55-80
ms in the next ones, when collections walked the growing heap.

`install()` gives the middleware class the same `__call__` with the timer
cancelled as soon as the response starts (and in any case when the request
ends). What a client sees is unchanged: a request that has not started its
answer within the timeout still gets BentoML's 504.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse

MARK = "_modelops_cancels_its_timer"


async def timeout_call(self: Any, scope: Any, receive: Any, send: Any) -> None:
    """TimeoutMiddleware.__call__ of BentoML 1.4, plus `timer.cancel()`."""
    if scope["type"] not in ("http", "websocket"):
        return await self.app(scope, receive, send)
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

    async def _send(message: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)
            timer.cancel()  # answered in time: nothing left for the timer to do
        await send(message)

    fut = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
    try:
        await waiter
    except TimeoutError:
        if fut.cancel():
            resp = JSONResponse(
                {"error": f"Not able to process the request in {self.timeout} seconds"},
                status_code=504,
            )
            await resp(scope, receive, send)
    else:
        await fut  # wait for the future to finish
    finally:
        timer.cancel()
    return None


def install() -> None:
    """Give BentoML's TimeoutMiddleware the cancelling __call__ (once per process)."""
    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    if getattr(TimeoutMiddleware, MARK, False):
        return
    TimeoutMiddleware.__call__ = timeout_call  # type: ignore[method-assign]
    setattr(TimeoutMiddleware, MARK, True)
