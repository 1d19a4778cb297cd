"""modelops_testkit.poll.wait: the benchmarks' one polling loop."""

from __future__ import annotations

import pytest

from modelops_testkit.poll import wait


def test_returns_the_first_truthy_value() -> None:
    values = iter([None, 0, [], {"phase": "Stable"}, "later"])
    assert wait(lambda: next(values), 5, interval=0) == {"phase": "Stable"}


@pytest.mark.parametrize("error", [TimeoutError, SystemExit])
def test_a_timeout_raises_the_chosen_error_naming_what(error: type[BaseException]) -> None:
    with pytest.raises(error, match=r"timed out after 0\.01 s waiting for stable v1"):
        wait(lambda: None, 0.01, what="stable v1", interval=0.001, error=error)
