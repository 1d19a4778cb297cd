"""`modelops registry list / show` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_registry import Registry


@pytest.fixture
def uri(tmp_path: Path) -> str:
    uri = f"file://{tmp_path / 'registry'}"
    reg = Registry.from_uri(uri)
    for status, auc in (("approved", 0.81), ("rejected", 0.62)):
        reg.publish(
            "churn",
            {"model.ubj": b"x"},
            {
                "status": status,
                "algorithm": "xgboost",
                "dataset": {"name": "synthetic:100", "sha256": "ab" * 32},
                "metrics": {"auc": auc, "logloss": 0.4},
                "gates": {
                    "min_auc": {"passed": status == "approved", "value": auc, "threshold": 0.75}
                },
            },
        )
    return uri


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_list_table(uri: str) -> None:
    result = run("registry", "list", "--registry", uri)
    assert result.exit_code == 0, result.output
    header, first, second = result.output.strip().splitlines()
    assert header.split() == [
        "MODEL",
        "VERSION",
        "STATUS",
        "ALGORITHM",
        "CREATED",
        "AUC",
        "DATASET",
    ]
    assert first.split()[:3] == ["churn", "1", "approved"]
    assert "0.8100" in first
    assert second.split()[:3] == ["churn", "2", "rejected"]


def test_list_json_and_env_default(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_REGISTRY", uri)
    result = run("registry", "list", "--model", "churn", "-o", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["version"], r["status"], r["auc"]) for r in rows] == [
        ("1", "approved", 0.81),
        ("2", "rejected", 0.62),
    ]


def test_show(uri: str) -> None:
    result = run("registry", "show", "churn", "@latest-approved", "--registry", uri)
    assert result.exit_code == 0, result.output
    assert "version:    1" in result.output
    assert "min_auc" in result.output and "pass" in result.output
    as_json = json.loads(
        run("registry", "show", "churn", "2", "--registry", uri, "-o", "json").output
    )
    assert as_json["status"] == "rejected"
    assert as_json["artefacts"]["model.ubj"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("registry", "show", "churn", "9"), "no version 9"),
        (("registry", "show", "fraud", "1"), "no published versions"),
        (("registry", "list", "--model", "fraud"), "no published versions"),
        (("registry", "show", "churn", "x"), "positive integer"),
    ],
)
def test_errors_exit_2_without_traceback(uri: str, args: tuple[str, ...], message: str) -> None:
    result = run(*args, "--registry", uri)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_empty_registry(tmp_path: Path) -> None:
    result = run("registry", "list", "--registry", str(tmp_path / "empty"))
    assert result.exit_code == 0
    assert "no models" in result.output


def test_s3_without_credentials_is_one_line_naming_the_variables(monkeypatch, tmp_path) -> None:
    """botocore's NoCredentialsError is not an OSError: still one line and exit 2."""
    from click.testing import CliRunner

    from modelops_cli.main import cli

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no metadata-service lookup
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # never reached
    result = CliRunner().invoke(cli, ["registry", "list", "--registry", "s3://models"])
    assert result.exit_code == 2, result.output
    assert "cannot reach the S3 registry" in result.output
    assert "AWS_ACCESS_KEY_ID" in result.output
    assert "Traceback" not in result.output
