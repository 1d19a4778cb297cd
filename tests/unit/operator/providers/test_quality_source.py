"""Where live quality comes from: the log's store read through the registry adapter (a real
file:// DataLog here), or the metrics file seam; the factory picks one, never silently."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from modelops_features import groundtruth as gt
from modelops_features import inference_log as il
from modelops_features import parquet
from modelops_operator.api.spec import Spec
from modelops_operator.providers import FILE_PROVIDER_ENV, quality_source_for
from modelops_operator.providers.file import FileProvider, FileProviderError
from modelops_operator.providers.quality import LogQualitySource
from modelops_operator.quality.source import QualityScope
from modelops_registry.datalog import DataLog

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SPEC = Spec({"model": {"name": "churn", "version": "3"}, "registry": {"uri": "file:///r"}})


def scope(store: str, hours: float = 2) -> QualityScope:
    return QualityScope("churn", store, hours * 3600, "ml", "churn")


def logged(rid: str, version: str, minutes_ago: float, p: float) -> il.LoggedRequest:
    record = {"tenure_months": 3, "monthly_spend": 10.0, "total_spend": None, "orders": 1,
              "support_tickets": 0, "plan": "basic", "region": "north", "customer_id": rid}  # fmt: skip
    ts = gt.to_us(NOW - dt.timedelta(minutes=minutes_ago))
    return il.LoggedRequest(rid, "predict", ts, "churn", version, [record], {}, np.array([p]))


def write(store: DataLog, requests: list[il.LoggedRequest], outcomes: dict[str, int]) -> None:
    layout = il.layout("churn")
    columns = il.log_columns(layout, requests, il.IdentifierPolicy("omit", None))
    meta = il.file_metadata(il.LOG_STREAM, layout, "churn")
    store.write(
        "churn", il.LOG_STREAM, NOW.date(), parquet.encode(layout.log_columns(), columns, metadata=meta)
    )  # fmt: skip
    schema = layout.feedback_columns()
    at = gt.to_us(NOW - dt.timedelta(minutes=1))
    rows = [
        {"request_id": rid, "record": 0, "entity_id": None, "outcome": y,
         "observed_at": at, "received_at": at, "source": "cli"}
        for rid, y in outcomes.items()
    ]  # fmt: skip
    data = {c.name: [r[c.name] for r in rows] for c in schema}
    store.write("churn", il.FEEDBACK_STREAM, NOW.date(), parquet.encode(schema, data))


def test_the_log_source_reads_the_window_that_ends_now_per_version(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    store = DataLog(uri)
    # Version 3 gets every answer wrong; version 2 (earlier) right; one request is too old.
    requests = [
        logged("a", "3", 10, 0.9),
        logged("b", "3", 20, 0.1),
        logged("c", "3", 30, 0.8),
        logged("d", "3", 40, 0.2),
        logged("e", "2", 50, 0.9),
        logged("f", "2", 55, 0.1),
        logged("old", "3", 180, 0.9),
    ]
    write(store, requests, {"a": 0, "b": 1, "c": 0, "d": 1, "e": 1, "f": 0, "old": 1})
    report = LogQualitySource().window_quality(scope(uri), NOW)
    assert report.start == NOW - dt.timedelta(hours=2) and report.end == NOW
    v3, v2 = report.versions["3"], report.versions["2"]
    assert (v3.predictions, v3.labelled) == (4, 4)  # "old" is outside the window
    assert v3.metrics["auc"] == 0.0 and v2.metrics["auc"] == 1.0
    assert v3.estimated["auc"] is not None  # the label-free estimate beside it


def test_an_unreadable_store_raises_for_the_caller_to_report() -> None:
    with pytest.raises(Exception):  # noqa: B017  any store error becomes an Unknown measurement
        LogQualitySource().window_quality(scope("nosuch://bucket"), NOW)


def test_the_file_seam_answers_quality_like_the_store(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    entry = {"versions": {"3": {"predictions": 900, "labelled": 800,
             "metrics": {"auc": 0.61}, "estimated": {"auc": 0.82}}}}  # fmt: skip
    path.write_text(json.dumps({"ml/churn": {"quality": entry}}))
    report = FileProvider(str(path)).window_quality(scope("unused"), NOW)
    q = report.versions["3"]
    assert (q.predictions, q.labelled, q.metrics, q.estimated) == (
        900, 800, {"auc": 0.61}, {"auc": 0.82}
    )  # fmt: skip
    assert report.end - report.start == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"ml/churn": {"requests": 5}}, "no quality for ml/churn"),
        ({"ml/churn": {"unavailable": "store down", "quality": {}}}, "store down"),
        ("not json", "cannot read metrics file"),
    ],
)
def test_the_file_seam_fails_saying_why(tmp_path: Path, content, words) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(FileProviderError, match=words):
        FileProvider(str(path)).window_quality(scope("unused"), NOW)


def test_the_factory_uses_the_file_seam_only_when_it_is_set(tmp_path: Path) -> None:
    assert isinstance(quality_source_for(SPEC, {FILE_PROVIDER_ENV: "/x.json"}), FileProvider)
    assert isinstance(quality_source_for(SPEC, {}), LogQualitySource)


def test_the_log_store_is_the_registry_unless_spec_env_names_one() -> None:
    assert SPEC.log_store == "file:///r"
    raw = {**SPEC.raw, "env": [{"name": "MODELOPS_LOG_URI", "value": "s3://logs"}]}
    assert Spec(raw).log_store == "s3://logs"
