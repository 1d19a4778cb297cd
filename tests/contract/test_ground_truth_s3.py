"""The inference log, feedback and live quality on a real S3 HTTP server (moto server mode)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fsspec
import numpy as np
import pytest
from click.testing import CliRunner

from modelops_bentos.common import request_id
from modelops_bentos.common.ground_truth import GroundTruth, LogConfig
from modelops_cli.main import cli
from modelops_features import churn as churn_features
from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_features.synthetic import churn
from modelops_registry import Registry
from modelops_registry.datalog import FEEDBACK, INFERENCE_LOG, DataLog
from tests.groundtruth_support import KEY, labels_frame, records, write_churn_log


def test_datalog_layout_on_s3(s3_bucket: str, moto_s3_endpoint: str) -> None:
    log = DataLog(f"s3://{s3_bucket}/prod")
    first = log.write("churn", INFERENCE_LOG, date(2026, 12, 1), b"a")
    second = log.write("churn", INFERENCE_LOG, date(2026, 12, 2), b"b")
    log.write("churn", FEEDBACK, date(2026, 12, 2), b"c")
    raw = fsspec.filesystem(
        "s3", client_kwargs={"endpoint_url": moto_s3_endpoint}, skip_instance_cache=True
    )
    assert raw.cat_file(f"{s3_bucket}/prod/{first}") == b"a"
    assert log.days("churn", INFERENCE_LOG) == [date(2026, 12, 1), date(2026, 12, 2)]
    assert log.files("churn", INFERENCE_LOG, since=date(2026, 12, 2)) == [second]
    assert log.read(second) == b"b"
    # The registry's versions are untouched by the log beside them.
    reg = Registry.from_uri(f"s3://{s3_bucket}/prod")
    assert reg.publish("churn", {"model.ubj": b"m"}, {"status": "approved"}) == "1"
    assert reg.versions("churn") == ["1"]


def test_the_service_writer_and_window_quality_on_s3(s3_bucket: str) -> None:
    uri = f"s3://{s3_bucket}/models"
    gt = GroundTruth("churn", "churn", LogConfig(uri, sample=1.0, flush_seconds=0.05,
                                                identifiers=il.IdentifierPolicy("hash", KEY)))  # fmt: skip
    gt.start()
    frame = churn(200, seed=11)
    rows = records(frame)
    p = np.linspace(0.05, 0.95, len(rows))
    for i, row in enumerate(rows):
        token = request_id.current.set(f"s3-{i}")
        try:
            gt.log("predict", "2", [row], churn_features.compute_one(row), p[i : i + 1])
        finally:
            request_id.current.reset(token)
    now = time.time_ns() // 1000
    outcomes = [
        {"request_id": f"s3-{i}", "record": 0, "entity_id": None, "outcome": int(y),
         "observed_at": now, "received_at": now, "source": "api"}
        for i, y in enumerate(frame[churn_features.TARGET])
    ]  # fmt: skip
    assert gt.feedback(outcomes)
    gt.close()
    assert gt.log_writer.counts["written"] == 200 and gt.feedback_writer.counts["written"] == 200

    end = datetime.now(UTC) + timedelta(minutes=1)
    report = groundtruth.window_quality(DataLog(uri), "churn", end - timedelta(hours=1), end)
    v2 = report.versions["2"]
    assert (v2.predictions, v2.labelled) == (200, 200)
    y = frame[churn_features.TARGET].to_numpy()
    from modelops_features import quality

    assert v2.metrics["auc"] == pytest.approx(quality.auc(y, p))


def test_modelops_feedback_on_s3(
    s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELOPS_LOG_HASH_KEY", KEY.decode())
    uri = f"s3://{s3_bucket}/models"
    frame = churn(300, seed=12)
    ids = write_churn_log(
        uri, frame, np.full(len(frame), 0.4), datetime.now(UTC) - timedelta(hours=1)
    )
    labels = tmp_path / "labels.csv"
    labels_frame(frame, ids).to_csv(labels, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "feedback",
            "--model",
            "churn",
            "--labels",
            str(labels),
            "--registry",
            uri,
            "--report",
            "1d",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["store"] == uri and out["written"] == 300
    assert out["quality"]["matched"] == {"by_request": 150, "by_entity": 150}
