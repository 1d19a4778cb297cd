"""Go-style durations ("60s", "1h30m", "250ms") as the CRD accepts them.

The CRD's pattern and CEL rule already refuse malformed or zero durations;
this parser exists so the operator turns them into seconds the same way, and
it still raises a clear error if an object slipped in before the CRD had
its validation (an operator must never crash on bad input).
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, *, field: str = "duration") -> float:
    """Seconds in `text`; raises ValueError naming `field` when it is not a positive duration."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"{field}: expected a duration such as 60s or 1h30m, got {text!r}")
    position = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise ValueError(f"{field}: expected a duration such as 60s or 1h30m, got {text!r}")
    if total <= 0:
        raise ValueError(f"{field}: must be greater than zero, got {text!r}")
    return total
