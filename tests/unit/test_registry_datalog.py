"""DataLog on a local folder: the partition layout, complete files only, listing by day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from modelops_registry import Registry, RegistryError
from modelops_registry.datalog import FEEDBACK, INFERENCE_LOG, DataLog

DAY1, DAY2, DAY3 = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def test_layout_names_and_round_trip(tmp_path: Path) -> None:
    log = DataLog.from_uri(f"file://{tmp_path}")
    key = log.write("churn", INFERENCE_LOG, DAY2, b"one")
    assert key.startswith("churn/inference-log/date=2026-12-01/") and key.endswith(".parquet")
    assert (tmp_path / key).read_bytes() == b"one"
    assert log.read(key) == b"one"
    # Two writes in a row never collide, even within one microsecond.
    assert log.write("churn", INFERENCE_LOG, DAY2, b"two") != key
    # Nothing is left aside: the staging name is renamed into place.
    assert not [p for p in (tmp_path / "churn").rglob(".*")]


def test_files_by_day_range_skip_partial_and_foreign_entries(tmp_path: Path) -> None:
    log = DataLog(str(tmp_path))  # a plain path works like file://
    keys = {
        day: log.write("churn", FEEDBACK, day, day.isoformat().encode())
        for day in (DAY1, DAY2, DAY3)
    }
    folder = tmp_path / "churn" / FEEDBACK
    (folder / "date=2026-12-01" / ".half-written.parquet.tmp").write_bytes(b"x")
    (folder / "date=2026-12-01" / "notes.txt").write_text("not a log file")
    (folder / "date=2026-13-45").mkdir()  # not a real day
    (folder / "elsewhere").mkdir()
    assert log.days("churn", FEEDBACK) == [DAY1, DAY2, DAY3]
    assert log.files("churn", FEEDBACK) == [keys[DAY1], keys[DAY2], keys[DAY3]]
    assert log.files("churn", FEEDBACK, since=DAY2) == [keys[DAY2], keys[DAY3]]
    assert log.files("churn", FEEDBACK, DAY1, DAY2) == [keys[DAY1], keys[DAY2]]
    assert log.files("churn", INFERENCE_LOG) == []
    assert log.files("other-model", FEEDBACK) == []


def test_the_registry_still_sees_only_versions(tmp_path: Path) -> None:
    reg = Registry.from_uri(f"file://{tmp_path}")
    reg.publish("churn", {"model.ubj": b"m"}, {"status": "approved"})
    DataLog(f"file://{tmp_path}").write("churn", INFERENCE_LOG, DAY1, b"rows")
    assert reg.versions("churn") == ["1"]
    assert reg.models() == ["churn"]
    assert reg.publish("churn", {"model.ubj": b"m2"}, {"status": "approved"}) == "2"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: log.write("churn", "predictions", DAY1, b""), "unknown log stream"),
        (lambda log: log.write("../etc", INFERENCE_LOG, DAY1, b""), "invalid model name"),
        (lambda log: log.read("churn/../../secret"), "invalid log key"),
    ],
)
def test_bad_names_are_refused(tmp_path: Path, call, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        call(DataLog(f"file://{tmp_path}"))


def test_unsupported_uri() -> None:
    with pytest.raises(RegistryError, match="unsupported log URI"):
        DataLog("gs://bucket")
    with pytest.raises(RegistryError, match="needs a bucket"):
        DataLog("s3://")
