"""`modelops feedback`: bulk outcomes checked row by row, hashed like the log, then joined."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_features.synthetic import churn
from modelops_registry.datalog import DataLog
from tests.groundtruth_support import KEY, labels_frame, write_churn_log


@pytest.fixture(autouse=True)
def hash_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_LOG_HASH_KEY", KEY.decode())
    monkeypatch.delenv("MODELOPS_LOG_IDENTIFIERS", raising=False)
    monkeypatch.delenv("MODELOPS_LOG_URI", raising=False)


def run(*args: str):
    return CliRunner().invoke(cli, ["feedback", *args])


def logged(tmp_path: Path, n: int = 400) -> tuple[str, pd.DataFrame, list[str]]:
    uri = f"file://{tmp_path / 'reg'}"
    frame = churn(n, seed=3)
    p = np.clip(np.random.default_rng(0).random(n), 0.01, 0.99)
    start = datetime.now(UTC) - timedelta(hours=2)
    return uri, frame, write_churn_log(uri, frame, p, start)


def test_csv_outcomes_are_written_hashed_and_joined(tmp_path: Path) -> None:
    uri, frame, ids = logged(tmp_path)
    labels = tmp_path / "labels.csv"
    labels_frame(frame, ids).to_csv(labels, index=False)
    result = run("--model", "churn", "--labels", str(labels), "--registry", uri, "--report", "1d")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["model"], out["kind"], out["written"], len(out["files"])) == (
        "churn",
        "churn",
        400,
        1,
    )
    store = DataLog(uri)
    raw = store.read(out["files"][0])
    assert frame["customer_id"].iloc[1].encode() not in raw  # hashed before it is stored
    quality = out["quality"]
    assert quality["matched"] == {"by_request": 200, "by_entity": 200}
    assert quality["versions"]["1"]["labelled"] == 400
    assert quality["unmatched_feedback"] == 0


def test_every_problem_is_listed_by_row_and_nothing_is_written(tmp_path: Path) -> None:
    uri, _, _ = logged(tmp_path, 50)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    labels = tmp_path / "bad.jsonl"
    rows = [
        {"request_id": "r", "outcome": 1},  # good
        {"outcome": 1},
        {"request_id": "r", "entity_id": "e", "outcome": 0},
        {"request_id": "r", "outcome": 2},
        {"entity_id": "e", "record": 3, "outcome": 0},
        {"request_id": "r", "outcome": 1, "observed_at": "2026-12-01T10:00:00"},
        {"request_id": "r", "outcome": 1, "observed_at": future},
        {"request_id": "r", "record": -1, "outcome": 1},
    ]
    labels.write_text("\n".join(json.dumps(r) for r in rows))
    result = run("--model", "churn", "--labels", str(labels), "--registry", uri)
    assert result.exit_code == 2
    for expected in (
        "row 2: request_id/entity_id: give one",
        "row 3: request_id/entity_id: give one, not both",
        "row 4: outcome: outcome must be 0 or 1",
        "row 5: record: a position in a request, needs request_id",
        "row 6: observed_at: needs a timezone",
        "row 7: observed_at: is in the future",
        "row 8: record: not a whole number >= 0",
    ):
        assert expected in result.stderr, expected
    assert "row 1" not in result.stderr and "Traceback" not in result.output
    assert DataLog(uri).files("churn", il.FEEDBACK_STREAM) == []


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("request_id,outcome,colour\nr,1,red\n", "x.csv", r"unknown column\(s\) \['colour'\]"),
        ("request_id,outcome\n", "x.csv", "no outcomes"),
        ("{}", "x.txt", "unknown file type"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run("--model", "churn", "--labels", str(path), "--registry", str(tmp_path))
    assert result.exit_code == 2
    assert re.search(message, result.stderr), result.stderr


def test_missing_file_and_unknown_kind(tmp_path: Path) -> None:
    result = run(
        "--model", "churn", "--labels", str(tmp_path / "nope.csv"), "--registry", str(tmp_path)
    )
    assert result.exit_code == 2 and "no such file" in result.stderr
    labels = tmp_path / "l.csv"
    labels.write_text("request_id,outcome\nr,1\n")
    result = run("--model", "churn-eu", "--labels", str(labels), "--registry", str(tmp_path))
    assert result.exit_code == 2 and "give --kind" in result.stderr
    result = run(
        "--model",
        "churn-eu",
        "--kind",
        "churn",
        "--labels",
        str(labels),
        "--registry",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output


def test_learning_path_and_omit_refuse_entity_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = tmp_path / "l.csv"
    labels.write_text("entity_id,outcome\nstu-1,math-advanced\n")
    result = run("--model", "learning-path", "--labels", str(labels), "--registry", str(tmp_path))
    assert result.exit_code == 2 and "never logs entity ids" in result.stderr
    labels.write_text("entity_id,outcome\nc-1,1\n")
    monkeypatch.setenv("MODELOPS_LOG_IDENTIFIERS", "omit")
    result = run("--model", "churn", "--labels", str(labels), "--registry", str(tmp_path))
    assert result.exit_code == 2 and "MODELOPS_LOG_IDENTIFIERS=omit" in result.stderr


def test_ids_stay_text_and_the_report_window_is_checked(tmp_path: Path) -> None:
    labels = tmp_path / "l.csv"
    labels.write_text("request_id,record,outcome,observed_at\n007,2,0,2026-12-01T10:00:00Z\n")
    result = run("--model", "churn", "--labels", str(labels), "--registry", str(tmp_path))
    assert result.exit_code == 0, result.output
    store = DataLog(str(tmp_path))
    frame = groundtruth.read_stream(store, "churn", il.FEEDBACK_STREAM, None, None)
    assert frame.data["request_id"].tolist() == ["007"] and frame.data["record"].tolist() == [2]
    assert frame.data["source"].tolist() == ["cli"]
    assert frame.data["observed_at"][0] == groundtruth.to_us(datetime(2026, 12, 1, 10, tzinfo=UTC))
    result = run(
        "--model", "churn", "--labels", str(labels), "--registry", str(tmp_path), "--report", "soon"
    )
    assert result.exit_code == 2 and "--report duration 'soon'" in result.stderr


def test_report_only_and_nothing_asked(tmp_path: Path) -> None:
    uri, _frame, _ids = logged(tmp_path, 100)
    result = run("--model", "churn", "--registry", uri, "--report", "1d")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["written"] == 0 and out["files"] == []
    assert out["quality"]["versions"]["1"]["predictions"] == 100
    assert out["quality"]["versions"]["1"]["labelled"] == 0
    result = run("--model", "churn", "--registry", uri)
    assert result.exit_code == 2 and "give --labels FILE" in result.stderr
