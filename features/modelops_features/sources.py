"""The "synthetic:N[:seed[:...]]" data-source spelling, shared by the seeded generators.

Training takes a data source as text: a file path, or a synthetic spelling that
names a seeded generator's arguments. Each generator (churn, students) declares
its own fields after N; the parsing and its error messages are the same for all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PREFIX = "synthetic:"


def synthetic_fields(source: str, fields: Sequence[tuple[str, type]]) -> list[int | float] | None:
    """The values of `fields` spelled in `source` (missing trailing ones left out).

    `fields` are (name, int or float) pairs, N first. Returns None when `source` is
    not a synthetic spelling (a file path); raises ValueError naming the bad part
    when it is one but malformed, or when N is not positive.
    """
    if not source.startswith(PREFIX):
        return None
    names = [name for name, _ in fields]
    usage = f"expected {PREFIX}{names[0]}" + "".join(f"[:{n}" for n in names[1:])
    usage += "]" * (len(names) - 1)
    parts = source[len(PREFIX) :].split(":")
    if not parts[0] or len(parts) > len(fields):
        raise ValueError(f"bad data source {source!r}: {usage}")
    values: list[int | float] = []
    for (name, kind), text in zip(fields, parts, strict=False):
        try:
            values.append(kind(text))
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"bad data source {source!r}: {name}={text!r} is not {what}") from None
    if values[0] <= 0:
        raise ValueError(f"bad data source {source!r}: {names[0]} must be > 0")
    return values


def check_shift(source: str, shift: float) -> None:
    """Refuse a drift shift that is negative, NaN or infinite, naming the source."""
    if not (shift >= 0 and math.isfinite(shift)):
        raise ValueError(f"bad data source {source!r}: shift must be a finite number >= 0")
