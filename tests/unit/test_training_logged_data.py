"""The `inference-log:<model>[:window]` training source: labelled logged rows, validated,
and the window and counts recorded in the candidate's metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from modelops_features import churn as churn_features
from modelops_features import inference_log as il
from modelops_features import parquet
from modelops_features.synthetic import churn
from modelops_registry import Registry
from modelops_registry.datalog import DataLog
from modelops_training import TrainingInputError, XGBParams, logged_data, train
from modelops_training.logged_data import LoggedSource, parse_source
from tests.groundtruth_support import write_churn_log


@pytest.mark.parametrize(
    ("source", "parsed"),
    [
        ("inference-log:churn", LoggedSource("churn", "30d")),
        ("inference-log:churn-eu:7d", LoggedSource("churn-eu", "7d")),
        ("inference-log:churn:36h", LoggedSource("churn", "36h")),
        ("synthetic:100", None),
        ("data.csv", None),
    ],
)
def test_parse_source(source: str, parsed) -> None:
    assert parse_source(source) == parsed


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("inference-log:", "expected inference-log:<model>"),
        ("inference-log:churn:7d:x", "expected inference-log:<model>"),
        ("inference-log:churn:week", "window duration 'week'"),
    ],
)
def test_bad_spellings(source: str, message: str) -> None:
    with pytest.raises(TrainingInputError, match=message):
        parse_source(source)


def feedback_for(uri: str, frame, request_ids: list[str], share: float = 1.0) -> int:
    """Outcomes (by request id) for the first `share` of the logged rows."""
    layout = il.layout("churn")
    now = int(datetime.now(UTC).timestamp() * 1e6)
    n = int(len(frame) * share)
    rows = {
        "request_id": request_ids[:n],
        "record": [i % 50 for i in range(n)],
        "entity_id": [None] * n,
        "outcome": frame[churn_features.TARGET].tolist()[:n],
        "observed_at": [now] * n,
        "received_at": [now] * n,
        "source": ["cli"] * n,
    }
    DataLog(uri).write("churn", il.FEEDBACK_STREAM, datetime.now(UTC).date(),
                       parquet.encode(layout.feedback_columns(), rows))  # fmt: skip
    return n


def test_training_on_the_log_records_the_window_and_counts(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    world = churn(3000, seed=4, concept=1.0)
    start = datetime.now(UTC) - timedelta(hours=3)
    ids = write_churn_log(uri, world, np.full(len(world), 0.3), start, version="1")
    old = churn(500, seed=5)  # logged 10 days ago: outside a 7d window
    write_churn_log(uri, old, np.full(len(old), 0.3), start - timedelta(days=10), version="0")
    labelled = feedback_for(uri, world, ids, share=0.9)

    result = train(
        model="churn",
        data="inference-log:churn:7d",
        registry_uri=uri,
        params=XGBParams(n_estimators=30),
        gates={"maxBaselineRegression": 0.2},
    )
    meta = Registry.from_uri(uri).metadata("churn", result["version"])
    dataset = meta["dataset"]
    assert dataset["name"] == "inference-log:churn:7d"
    assert dataset["source"] == "inference-log"
    assert (dataset["rows"], dataset["labelled_rows"]) == (labelled, labelled)
    assert dataset["logged_predictions"] == 3000 and dataset["feedback_rows"] == labelled
    assert dataset["versions"] == {"1": labelled}
    window = dataset["window"]
    assert window["length"] == "7d"
    assert datetime.fromisoformat(window["end"]) - datetime.fromisoformat(
        window["start"]
    ) == timedelta(days=7)
    # Split by the hashed customer id, as a file with customer ids would be.
    assert meta["training"]["split"] == "customer_id_hash"
    # The new world is learnable from its labels.
    assert result["metrics"]["auc"] > 0.7


def test_no_labels_is_a_clear_input_error(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    world = churn(200, seed=4)
    write_churn_log(uri, world, np.full(len(world), 0.3), datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(
        TrainingInputError, match=r"no labelled predictions .* \(200 logged, 0 feedback"
    ):
        train(model="churn", data="inference-log:churn:1d", registry_uri=uri)
    assert Registry.from_uri(uri).versions("churn") == []


def test_logged_rows_are_validated_like_any_dataset(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    world = churn(300, seed=4)
    world.loc[0:9, "tenure_months"] = 9999  # out of the raw schema's range (max 600)
    ids = write_churn_log(
        uri, world, np.full(len(world), 0.3), datetime.now(UTC) - timedelta(hours=1)
    )
    feedback_for(uri, world, ids)
    with pytest.raises(TrainingInputError, match=r"tenure_months.*max") as err:
        train(model="churn", data="inference-log:churn:1d", registry_uri=uri)
    assert err.value.report["violations"][0]["count"] == 10


def test_learning_path_needs_the_group_the_log_never_holds(tmp_path: Path) -> None:
    with pytest.raises(TrainingInputError, match=r"needs column\(s\) \['group'\]"):
        train(
            model="learning-path", data="inference-log:learning-path:7d", registry_uri=str(tmp_path)
        )


def test_a_log_of_another_kind_is_refused(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    world = churn(100, seed=4)
    ids = write_churn_log(
        uri, world, np.full(len(world), 0.3), datetime.now(UTC) - timedelta(hours=1)
    )
    feedback_for(uri, world, ids)
    with pytest.raises(TrainingInputError, match="written by a churn service"):
        logged_data.load(LoggedSource("churn"), uri, "learning-path", "student_id")
