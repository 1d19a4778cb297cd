"""Adaptive batching of a handler's records, with BentoML's own dispatcher.

Why not `@bentoml.api(batchable=True)`: a batchable API must answer each
request with a bare slice of the batch's output list, so /predict_batch could
not answer `{"model", "version", "predictions"}` like /predict and
learning-path's /recommend_batch. Here the API stays an ordinary one (its body
and answer are the same shape as /predict, it may take the direct route), and
only the scoring goes through BentoML's CorkDispatcher -- the class BentoML's
batchable routes use -- so concurrent requests still share one model call,
with the same adaptive window and the same load shedding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

BatchFn = Callable[[list[Any]], Awaitable[list[Any]]]


class Overloaded(Exception):
    """The dispatcher shed this request: it would have missed max_latency_ms."""


def _shed() -> Any:
    raise Overloaded("process is overloaded")


class AdaptiveBatcher:
    """`await batcher(items)`: `fn` over items merged with concurrent calls; this call's part back.

    `fn` maps a list of items to a list of answers of the same length, in order.
    """

    def __init__(self, fn: BatchFn, max_batch_size: int, max_latency_ms: int) -> None:
        from bentoml._internal.marshal.dispatcher import CorkDispatcher

        self._fn = fn
        dispatcher = CorkDispatcher(
            max_latency_in_ms=max_latency_ms,
            max_batch_size=max_batch_size,
            fallback=_shed,
            get_batch_size=len,
            batch_dim=(0, 0),
        )
        self._dispatch = dispatcher(self._run)

    async def _run(self, jobs: Sequence[list[Any]]) -> list[list[Any]]:
        merged = [item for job in jobs for item in job]
        answers = await self._fn(merged)
        if len(answers) != len(merged):
            raise ValueError(f"batch function answered {len(answers)} for {len(merged)} items")
        parts, start = [], 0
        for job in jobs:
            parts.append(answers[start : start + len(job)])
            start += len(job)
        return parts

    async def __call__(self, items: list[Any]) -> list[Any]:
        """The answers for `items`; raises Overloaded when the dispatcher sheds the request."""
        if not items:
            return []
        return list(await self._dispatch(items))
