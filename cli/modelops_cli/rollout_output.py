"""`-o table|wide|json|yaml` for `modelops rollout get` and `history` (pure).

Like kubectl: `table` is one row per object with the columns a person scans
for, `wide` adds the ones that make rows long, `json` / `yaml` print the object
(get) or the history entries (history) for scripts. Each function returns
the text; the command only echoes it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from modelops_operator.api import conditions as cond
from modelops_operator.api.times import parse_time

FORMATS = ("table", "wide", "json", "yaml")

GET_COLUMNS = ("NAME", "STRATEGY", "PHASE", "STABLE", "CANARY", "WEIGHT", "READY", "AGE")
GET_WIDE = ("STEP", "PREVIOUS", "REJECTED", "IMAGE", "MESSAGE")
HISTORY_COLUMNS = ("TIME", "VERSION", "OUTCOME", "REASON")
HISTORY_WIDE = ("IMAGE",)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """kubectl's plain layout: columns padded to their widest cell, three spaces apart."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "   ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def age(timestamp: str | None, now: dt.datetime) -> str:
    """kubectl's short age: 45s, 12m, 3h, 5d (`<unknown>` without a timestamp)."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    seconds = max(0, int((now - when).total_seconds()))
    # Each unit is used from twice its size, as kubectl does (90s, 5m, 3h, 2d).
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def get_row(body: Mapping[str, Any], now: dt.datetime, *, wide: bool = False) -> list[str]:
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    status = body.get("status") or {}
    canary = status.get("canary") or {}
    ready = cond.get_condition(status.get("conditions") or [], cond.READY) or {}
    row = [
        meta.get("name", "?"),
        (spec.get("rollout") or {}).get("strategy", "Immediate"),
        status.get("phase", "Unknown"),
        _version(status.get("stable")),
        _version(canary),
        f"{canary.get('weight', 0)}%" if canary else "-",
        ready.get("status", "Unknown"),
        age(meta.get("creationTimestamp"), now),
    ]
    if wide:
        steps = (spec.get("rollout") or {}).get("steps") or []
        row += [
            f"{int(canary.get('step', 0)) + 1}/{len(steps)}" if canary and steps else "-",
            _version(status.get("previous")),
            _version(status.get("rejected")),
            spec.get("image", "-"),
            status.get("message", "") or "-",
        ]
    return row


def render_get(
    bodies: Sequence[Mapping[str, Any]], fmt: str, now: dt.datetime, *, single: bool
) -> str:
    """`rollout get`: one object (`single`) or a list, in the asked format."""
    if fmt in ("json", "yaml"):
        items = [_without_managed_fields(b) for b in bodies]
        data: Any = items[0] if single else {"apiVersion": "v1", "kind": "List", "items": items}
        return dump(data, fmt)
    wide = fmt == "wide"
    header = [*GET_COLUMNS, *(GET_WIDE if wide else ())]
    return table(header, [get_row(b, now, wide=wide) for b in bodies])


def history_entries(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """status.history, newest first (the operator appends, so the list is oldest first)."""
    return list(reversed((body.get("status") or {}).get("history") or []))


def render_history(body: Mapping[str, Any], fmt: str) -> str:
    """`rollout history`: version, outcome, reason and time of each rollout, newest first."""
    entries = history_entries(body)
    if fmt in ("json", "yaml"):
        return dump(entries, fmt)
    if not entries:
        meta = body.get("metadata") or {}
        return f"No rollout history for {meta.get('namespace')}/{meta.get('name')} yet."
    wide = fmt == "wide"
    header = [*HISTORY_COLUMNS, *(HISTORY_WIDE if wide else ())]
    rows = []
    for entry in entries:
        row = [
            entry.get("time", "-"),
            str(entry.get("version", "-")),
            entry.get("outcome", "-"),
            entry.get("reason", "") or "-",
        ]
        rows.append(row + ([entry.get("image", "-")] if wide else []))
    return table(header, rows)


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip("\n")


def _without_managed_fields(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """kubectl leaves out metadata.managedFields (server-side apply bookkeeping) too."""
    meta = body.get("metadata") or {}
    if "managedFields" not in meta:
        return body
    return {**body, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def _version(release: Mapping[str, Any] | None) -> str:
    return str(release["version"]) if release and release.get("version") is not None else "-"
