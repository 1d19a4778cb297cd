"""Coalescing (common/coalesce.py) on a real event loop: who shares a call, what each gets back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from modelops_bentos.common import overload
from modelops_bentos.common.coalesce import Coalescer, Share, _chunks, enabled_from_env


class Recorder:
    """fn for the coalescer: doubles the items, records every call, fails on "bad"."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, list[Any]]] = []

    def __call__(self, key: Any, items: list[Any]) -> list[Any]:
        self.calls.append((key, list(items)))
        if "bad" in items:
            raise ValueError("bad item")
        return [item * 2 for item in items]


def own(share: Share[list[Any]]) -> list[Any]:
    return share.result[share.start : share.stop]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_calls_of_one_round_share_one_model_call() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    async def main() -> list[Share[list[Any]]]:
        return list(await asyncio.gather(*(coalescer(key, [i, i + 10]) for i in range(5))))

    shares = run(main())
    assert [own(s) for s in shares] == [[2 * i, 2 * (i + 10)] for i in range(5)]
    assert len(fn.calls) == 1 and fn.calls[0][1] == [0, 10, 1, 11, 2, 12, 3, 13, 4, 14]
    assert {s.calls for s in shares} == {5}


def test_calls_of_different_rounds_are_scored_apart_and_nothing_waits() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    async def main() -> list[list[Any]]:
        answers = []
        for i in range(3):  # sequential: each call is alone in its round
            answers.append(own(await coalescer(key, [i])))
        return answers

    assert run(main()) == [[0], [2], [4]]
    assert [items for _, items in fn.calls] == [[0], [1], [2]]


def test_a_lone_call_is_answered_one_loop_round_later() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)

    async def main() -> tuple[bool, bool]:
        future = coalescer.submit(object(), [1])
        before = future.done()
        await asyncio.sleep(0)  # one round: the flush runs
        return before, future.done()

    assert run(main()) == (False, True)


def test_calls_are_grouped_by_key_identity_never_merged_across_keys() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    # Equal but distinct keys (two loaded models with equal fields) stay apart.
    a, b = [1], [1]

    async def main() -> list[Share[list[Any]]]:
        return list(await asyncio.gather(coalescer(a, [1]), coalescer(b, [2]), coalescer(a, [3])))

    shares = run(main())
    assert [own(s) for s in shares] == [[2], [4], [6]]
    assert [(key is a, items) for key, items in fn.calls] == [(True, [1, 3]), (False, [2])]


@pytest.mark.parametrize(
    ("sizes", "max_items", "expected"),
    [
        ([1, 1, 1], 2, [[1, 1], [1]]),
        ([3], 2, [[3]]),  # a call bigger than the chunk is never split
        ([1, 3, 1], 2, [[1], [3], [1]]),
        ([2, 2, 2, 2], 4, [[2, 2], [2, 2]]),
        ([0, 1, 0], 1, [[0, 1, 0]]),
        ([], 4, []),
    ],
)
def test_chunks_cut_at_max_items(sizes: list[int], max_items: int, expected: list[Any]) -> None:
    from modelops_bentos.common.coalesce import _Call

    key = object()
    calls = [_Call(key, [0] * n, None) for n in sizes]  # type: ignore[arg-type]
    chunks = _chunks(calls, max_items)
    assert [[len(c.items) for c in chunk] for chunk in chunks] == expected


def test_chunks_answer_their_callers_before_the_next_chunk_runs() -> None:
    order: list[str] = []

    def fn(key: Any, items: list[Any]) -> list[Any]:
        order.append(f"score {items}")
        return items

    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=2)
    key = object()

    async def caller(i: int) -> None:
        await coalescer(key, [i])
        order.append(f"answer {i}")

    async def main() -> None:
        await asyncio.gather(*(caller(i) for i in range(4)))

    run(main())
    assert order == [
        "score [0, 1]",
        "answer 0",
        "answer 1",
        "score [2, 3]",
        "answer 2",
        "answer 3",
    ]


def test_a_failing_item_fails_only_its_own_call() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                coalescer(key, [1]),
                coalescer(key, ["bad"]),
                coalescer(key, [3]),
                return_exceptions=True,
            )
        )

    first, second, third = run(main())
    assert own(first) == [2] and own(third) == [6]
    assert first.calls == 1 and third.calls == 1  # re-run alone after the merged call failed
    assert isinstance(second, ValueError)
    assert [items for _, items in fn.calls] == [[1, "bad", 3], [1], ["bad"], [3]]


def test_a_lone_failing_call_gets_its_exception() -> None:
    coalescer: Coalescer[list[Any]] = Coalescer(Recorder(), max_items=100)

    async def main() -> None:
        await coalescer(object(), ["bad"])

    with pytest.raises(ValueError, match="bad item"):
        run(main())


def test_a_cancelled_caller_is_not_scored() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    async def main() -> list[Any]:
        gone = coalescer.submit(key, [1])
        kept = coalescer.submit(key, [2])
        gone.cancel()
        return own(await kept)

    assert run(main()) == [4]
    assert [items for _, items in fn.calls] == [[2]]


def test_disabled_scores_each_call_at_once() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100, enabled=False)
    key = object()

    async def main() -> list[Any]:
        first = coalescer.submit(key, [1])
        assert first.done()  # nothing scheduled: scored in the call
        second = coalescer.submit(key, [2])
        return [own(await first), own(await second)]

    assert run(main()) == [[2], [4]]
    assert [items for _, items in fn.calls] == [[1], [2]]


def test_a_new_event_loop_starts_clean() -> None:
    fn = Recorder()
    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    loop = asyncio.new_event_loop()

    def abandon() -> None:
        loop.stop()  # this round is the loop's last: the flush never runs
        coalescer.submit(key, [1])

    async def use() -> list[Any]:
        return own(await coalescer(key, [2]))

    loop.call_soon(abandon)
    loop.run_forever()
    loop.close()
    assert run(use()) == [4]
    assert [items for _, items in fn.calls] == [[2]]


def test_max_items_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_items"):
        Coalescer(Recorder(), max_items=0)


def test_a_coalesced_call_credits_its_wait_for_the_others_to_the_admission_queue() -> None:
    def fn(key: Any, items: list[Any]) -> list[Any]:
        time.sleep(0.005 * len(items))
        return items

    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=100)
    key = object()

    async def request(items: list[Any]) -> tuple[Share[list[Any]], float]:
        tally = [0.0]
        overload._others_work.set(tally)  # what AdmissionQueue.enter does on admission
        share = await coalescer(key, items)
        return share, tally[0]

    async def main() -> list[tuple[Share[list[Any]], float]]:
        return list(await asyncio.gather(request([1]), request([2, 3]), request([4])))

    results = run(main())
    for (share, credited), size in zip(results, (1, 2, 1), strict=True):
        assert share.items == 4 and share.calls == 3
        assert share.own_seconds == pytest.approx(share.seconds * size / 4)
        # It waited at least the whole call; only its records' share was its own work.
        assert credited >= share.seconds - share.own_seconds - 1e-6


def test_own_seconds_of_empty_calls_split_the_call_evenly() -> None:
    share = Share(result=None, start=0, stop=0, calls=4, seconds=0.008, items=0)
    assert share.own_seconds == pytest.approx(0.002)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, True), ("", True), ("true", True), (" ON ", True), ("1", True),
     ("false", False), ("0", False), ("No", False), ("off", False)],
)  # fmt: skip
def test_the_switch(raw: str | None, expected: bool) -> None:
    env = {} if raw is None else {"MODELOPS_COALESCE": raw}
    assert enabled_from_env(env) is expected


def test_a_malformed_switch_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="MODELOPS_COALESCE='sometimes' must be true or false"):
        enabled_from_env({"MODELOPS_COALESCE": "sometimes"})


def test_a_caller_that_goes_away_while_an_earlier_chunk_runs_is_not_scored() -> None:
    scored: list[list[Any]] = []
    later: list[asyncio.Future[Any]] = []

    def fn(key: Any, items: list[Any]) -> list[Any]:
        scored.append(list(items))
        if items == [0]:
            later[0].cancel()  # the caller of the next chunk leaves meanwhile
        return items

    coalescer: Coalescer[list[Any]] = Coalescer(fn, max_items=1)
    key = object()

    async def main() -> None:
        first = coalescer.submit(key, [0])
        later.append(coalescer.submit(key, [1]))
        third = coalescer.submit(key, [2])
        await first
        await third

    run(main())
    assert scored == [[0], [2]]
