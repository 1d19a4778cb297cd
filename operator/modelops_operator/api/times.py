"""Time as status stores it: RFC 3339 in UTC, whole seconds (Kubernetes' metav1.Time).

One spelling for every part of the operator (rollout steps, drift
measurements, retraining attempts), so a timestamp written by one part reads
back the same in another. The pure code never reads a clock: callers pass
`now`.
"""

from __future__ import annotations

import datetime as dt


def rfc3339(now: dt.datetime) -> str:
    """`now` as Kubernetes writes timestamps: UTC, whole seconds, a trailing Z."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    """A status timestamp, or None when absent or unreadable.

    Unreadable counts as "never", so work depending on it is redone, never
    skipped; and a hand-edited status cannot crash the operator.
    """
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
