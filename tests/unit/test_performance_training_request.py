"""`modelops train` run as a Performance retraining Job: the data comes from MODELOPS_TRAIN_DATA
when the template names none, and the measurement that started it is recorded."""

from __future__ import annotations

import json

from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_registry import Registry


def test_the_offered_data_and_the_performance_report_reach_the_candidate(tmp_path) -> None:
    uri = f"file://{tmp_path}"
    env = {
        "MODELOPS_MODEL": "churn",
        "MODELOPS_REGISTRY": uri,
        "MODELOPS_RETRAIN_JOB": "churn-retrain-v1-1-abcdef12",
        "MODELOPS_RETRAIN_REASON": "Performance",
        # The operator offers the log; a synthetic source keeps this test fast (the
        # inference-log: source itself is tested in tests/unit/test_training_logged_data.py).
        "MODELOPS_TRAIN_DATA": "synthetic:1500:3:0",
        "MODELOPS_PERFORMANCE_REPORT": json.dumps({"metric": "auc", "value": 0.55}),
    }
    result = CliRunner().invoke(cli, ["train", "--n-estimators", "20", "--no-gates"], env=env)
    assert result.exit_code == 0, result.output
    meta = Registry.from_uri(uri).metadata("churn", "1")
    assert meta["dataset"]["name"] == "synthetic:1500:3:0"
    assert meta["retraining"]["reason"] == "Performance"
    assert meta["retraining"]["performance"] == {"metric": "auc", "value": 0.55}


def test_without_data_anywhere_the_error_names_both(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["train", "--registry", f"file://{tmp_path}"], env={})
    assert result.exit_code == 2
    assert "--data" in result.output
