"""`modelops train` run as an operator retraining Job: the request comes from the env."""

from __future__ import annotations

import json

from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_registry import Registry


def test_job_env_drives_training_and_is_recorded(tmp_path) -> None:
    uri = f"file://{tmp_path}"
    runner = CliRunner()
    # A fast 20-tree base model, approved with a widened baseline gate (it trails
    # its logistic baseline by ~0.01 AUC; the request handling is under test).
    first = runner.invoke(cli, ["train", "--data", "synthetic:1500", "--registry", uri,
                                "--n-estimators", "20", "--max-baseline-regression", "0.05"])  # fmt: skip
    assert first.exit_code == 0, first.output
    env = {
        "MODELOPS_MODEL": "churn",
        "MODELOPS_REGISTRY": uri,
        "MODELOPS_BASE_VERSION": "1",
        "MODELOPS_GATES": json.dumps({"minMetric": {"auc": 0.99}}),
        "MODELOPS_RETRAIN_JOB": "churn-retrain-v1-1-abcdef12",
        "MODELOPS_RETRAIN_REASON": "Drift",
        "MODELOPS_RETRAIN_OWNER_UID": "3f1c2a9e-77aa-4c1b-9d0e-5a6b7c8d9e0f",
        "MODELOPS_DRIFT_REPORT": json.dumps({"method": "psi", "score": 0.4}),
    }
    result = runner.invoke(
        cli, ["train", "--data", "synthetic:1500:1:1.0", "--n-estimators", "20"], env=env
    )
    # The env's gate (auc >= 0.99) is enforced: rejected, exit code 3.
    assert result.exit_code == 3, result.output
    meta = Registry.from_uri(uri).metadata("churn", "2")
    assert meta["status"] == "rejected"
    assert meta["gates"]["minMetric.auc"]["passed"] is False
    assert meta["retraining"] == {
        "job": "churn-retrain-v1-1-abcdef12",
        "owner_uid": "3f1c2a9e-77aa-4c1b-9d0e-5a6b7c8d9e0f",
        "reason": "Drift",
        "drift": {"method": "psi", "score": 0.4},
        "base_version": "1",
    }
    # The env's gates plus the defaults it does not override; nothing else.
    assert set(meta["gates"]) == {"minMetric.auc", "maxBaselineRegression"}
    assert meta["gates"]["maxBaselineRegression"]["default"] is True
    assert meta["comparison"]  # compared with the base version 1


def test_plain_training_records_no_retraining(tmp_path) -> None:
    uri = f"file://{tmp_path}"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            "synthetic:1500",
            "--registry",
            uri,
            "--n-estimators",
            "20",
            "--max-baseline-regression",
            "0.05",
        ],
        env={"MODELOPS_RETRAIN_JOB": ""},
    )
    assert result.exit_code == 0, result.output
    assert "retraining" not in Registry.from_uri(uri).metadata("churn", "1")
