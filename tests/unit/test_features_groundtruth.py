"""The join rule (request id first, else entity + time) and quality over a window of a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from modelops_features import groundtruth as gt
from modelops_features import inference_log as il
from modelops_features import parquet
from modelops_registry.datalog import DataLog

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = 3600 * 10**6


def us(hours: float) -> int:
    return gt.to_us(T0) + int(hours * HOUR)


def frame(rows: list[dict], columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {c: np.array([r.get(c) for r in rows], dtype=object) for c in columns}


LOG_COLUMNS = ("request_id", "record", "entity_id", "ts")
FEEDBACK_COLUMNS = ("request_id", "record", "entity_id", "outcome", "observed_at", "received_at")


def log_rows() -> dict[str, np.ndarray]:
    return frame(
        [
            {"request_id": "r1", "record": 0, "entity_id": "e1", "ts": us(0)},
            {"request_id": "r1", "record": 1, "entity_id": "e2", "ts": us(0)},
            {"request_id": "r2", "record": 0, "entity_id": "e1", "ts": us(5)},
            {"request_id": None, "record": 0, "entity_id": "e3", "ts": us(1)},
            {"request_id": "r4", "record": 0, "entity_id": None, "ts": us(2)},
        ],
        LOG_COLUMNS,
    )


def feedback(*rows: dict) -> dict[str, np.ndarray]:
    return frame(
        [{"received_at": us(10), "observed_at": us(9), **r} for r in rows], FEEDBACK_COLUMNS
    )


@pytest.mark.parametrize(
    ("rows", "outcomes", "by_request", "by_entity", "unmatched"),
    [
        # By request id and record (record defaults to 0).
        ([{"request_id": "r1", "record": 1, "outcome": 1}], [None, 1, None, None, None], 1, 0, 0),
        ([{"request_id": "r4", "outcome": 0}], [None, None, None, None, 0], 1, 0, 0),
        # A request id the log does not hold (not sampled, or another window).
        ([{"request_id": "zz", "outcome": 1}], [None] * 5, 0, 0, 1),
        # By entity: the latest prediction at or before observed_at labels.
        (
            [{"entity_id": "e1", "outcome": 1, "observed_at": us(6)}],
            [None, None, 1, None, None],
            0,
            1,
            0,
        ),
        (
            [{"entity_id": "e1", "outcome": 1, "observed_at": us(3)}],
            [1, None, None, None, None],
            0,
            1,
            0,
        ),
        # Before any prediction of the entity, or older than the lag: no match.
        ([{"entity_id": "e1", "outcome": 1, "observed_at": us(-1)}], [None] * 5, 0, 0, 1),
        ([{"entity_id": "e3", "outcome": 1, "observed_at": us(24 * 31)}], [None] * 5, 0, 0, 1),
        # Request id wins over the entity label of the same prediction.
        (
            [
                {"entity_id": "e2", "outcome": 0, "observed_at": us(1)},
                {"request_id": "r1", "record": 1, "outcome": 1},
            ],
            [None, 1, None, None, None],
            1,
            0,
            0,
        ),
        # The outcome received last wins (a correction), whichever came first in the file.
        (
            [
                {"request_id": "r2", "outcome": 1, "received_at": us(20)},
                {"request_id": "r2", "outcome": 0, "received_at": us(11)},
            ],
            [None, None, 1, None, None],
            1,
            0,
            0,
        ),
    ],
)
def test_join_rule(rows, outcomes, by_request, by_entity, unmatched) -> None:
    joined = gt.join(log_rows(), feedback(*rows))
    assert joined.outcomes.tolist() == outcomes
    assert (joined.by_request, joined.by_entity, joined.unmatched_feedback) == (
        by_request,
        by_entity,
        unmatched,
    )
    assert joined.labelled.tolist() == [o is not None for o in outcomes]


def test_join_with_nothing() -> None:
    assert gt.join(log_rows(), feedback()).outcomes.tolist() == [None] * 5
    assert (
        gt.join(
            frame([], LOG_COLUMNS), feedback({"request_id": "r1", "outcome": 1})
        ).unmatched_feedback
        == 1
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), ("2w", 1209600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert gt.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "d", "0h", "-1d", "1.5h", "3y", "7 d"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        gt.parse_duration(text)


def write_log(store: DataLog, layout: il.ModelLog, requests: list[il.LoggedRequest], day) -> None:
    policy = il.IdentifierPolicy("hash", b"key")
    columns = il.log_columns(layout, requests, policy)
    meta = il.file_metadata(il.LOG_STREAM, layout, "churn")
    store.write(
        "churn", il.LOG_STREAM, day, parquet.encode(layout.log_columns(), columns, metadata=meta)
    )


def churn_request(rid: str, version: str, hours: float, p: float, customer: str, plan: str):
    record = {"tenure_months": 3, "monthly_spend": 10.0, "total_spend": None, "orders": 1,
              "support_tickets": 0, "plan": plan, "region": "north", "customer_id": customer}  # fmt: skip
    return il.LoggedRequest(
        rid, "predict", us(hours), "churn", version, [record], {}, np.array([p])
    )


def test_window_quality_reads_the_store_and_splits_by_version(tmp_path: Path) -> None:
    store = DataLog(f"file://{tmp_path}")
    layout = il.layout("churn")
    requests = [
        churn_request("a", "1", 0, 0.9, "c1", "basic"),
        churn_request("b", "1", 1, 0.2, "c2", "basic"),
        churn_request("c", "2", 2, 0.7, "c3", "premium"),
        churn_request("d", "2", 3, 0.4, "c4", "premium"),
        churn_request("old", "1", -48, 0.9, "c5", "basic"),  # before the window
    ]
    write_log(store, layout, requests[:4], T0.date())
    write_log(store, layout, requests[4:], (T0 - timedelta(days=2)).date())
    policy = il.IdentifierPolicy("hash", b"key")
    rows = [
        {"request_id": "a", "record": 0, "entity_id": None, "outcome": 1},
        {"request_id": None, "record": None, "entity_id": policy.apply("c2"), "outcome": 0},
        {"request_id": "c", "record": 0, "entity_id": None, "outcome": 0},
        {"request_id": "old", "record": 0, "entity_id": None, "outcome": 1},
    ]
    schema = layout.feedback_columns()
    data = {
        c.name: [
            {"observed_at": us(4), "received_at": us(5), "source": "cli", **r}[c.name] for r in rows
        ]
        for c in schema
    }
    store.write("churn", il.FEEDBACK_STREAM, T0.date(), parquet.encode(schema, data))

    report = gt.window_quality(store, "churn", T0 - timedelta(hours=1), T0 + timedelta(hours=4))
    assert report.kind == "churn"  # read from the files' metadata
    assert list(report.versions) == ["1", "2"]
    v1, v2 = report.versions["1"], report.versions["2"]
    assert (v1.predictions, v1.labelled) == (2, 2)
    assert v1.metrics["auc"] == 1.0 and v1.metrics["accuracy"] == 1.0
    assert (v2.predictions, v2.labelled) == (2, 1)
    assert v2.metrics["auc"] is None  # one class only
    assert v2.metrics["accuracy"] == 0.0  # 0.7 said churn, the customer stayed
    assert (report.by_request, report.by_entity, report.unmatched_feedback) == (2, 1, 1)
    as_dict = report.to_dict()
    assert as_dict["versions"]["2"]["label_coverage"] == 0.5

    empty = gt.window_quality(store, "churn", T0 + timedelta(days=3), T0 + timedelta(days=4))
    assert empty.versions == {}
    with pytest.raises(ValueError, match="not after"):
        gt.window_quality(store, "churn", T0, T0)
