"""Splitting a scoring run into shards: `--shard INDEX/COUNT`.

A run's work is a list of *units* (a Parquet row group, or a whole CSV file),
in a fixed order: files sorted by name, row groups in file order. Shard i of n
takes units i, i+n, i+2n, ... Every pod of a Kubernetes Indexed Job lists the
same inputs, so each computes the same split without talking to the others,
and a pod that is replaced re-does exactly the units of its index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MAX_SHARDS = 100_000  # five digits in part file names


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """`"3/8"` -> Shard(3, 8); raises ValueError naming what is wrong."""
    usage = "expected INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4"
    index_text, sep, count_text = text.strip().partition("/")
    if not sep:
        raise ValueError(f"--shard {text!r}: {usage}")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"--shard {text!r}: {usage}") from None
    if count < 1 or count > MAX_SHARDS:
        raise ValueError(f"--shard {text!r}: COUNT must be between 1 and {MAX_SHARDS}")
    if not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: {usage}")
    return Shard(index, count)


def units_of(units: Sequence[T], shard: Shard) -> list[T]:
    """The units shard `shard` scores: every COUNT-th unit, starting at INDEX."""
    return list(units[shard.index :: shard.count])
