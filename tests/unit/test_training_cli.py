"""`modelops train` through click's test runner: output line and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from modelops_cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["train", *args])


def test_approved_prints_one_json_line(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    # 20 trees on 1,500 rows trail the logistic baseline by ~0.01 AUC: widen
    # that default gate so this fast model is approved (its quality is not the point).
    result = run(
        "--data", "synthetic:1500", "--registry", uri, "--n-estimators", "20",
        "--max-baseline-regression", "0.05",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert set(line) == {"model", "version", "status", "metrics", "gates", "registry"}
    assert (line["version"], line["status"]) == ("1", "approved")
    # Every gate is shown on stderr, with its threshold and whether it is a default.
    assert "gate minMetric.auc >= 0.6 (default): passed" in result.stderr
    assert "gate maxBaselineRegression <= 0.05: passed" in result.stderr


def test_rejected_exits_3_and_explains(tmp_path: Path) -> None:
    result = run(
        "--data",
        "synthetic:1500",
        "--registry",
        str(tmp_path),
        "--n-estimators",
        "20",
        "--gates",
        '{"maxFairnessGap": 0.5}',
        "--min-auc",
        "0.99",
    )
    assert result.exit_code == 3
    line = json.loads(result.stdout)
    assert line["status"] == "rejected"
    assert set(line["gates"]) == {"minMetric.auc", "maxFairnessGap", "maxBaselineRegression"}
    assert "minMetric.auc" in result.stderr and "REJECTED" in result.stderr


def test_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tenure_months,plan\n-1,gold\n")
    for args in (
        ("--data", str(bad)),
        ("--data", "synthetic:100", "--gates", "{not json"),
        ("--data", "synthetic:100", "--base-version", "4"),
        ("--data", "synthetic:100", "--no-gates", "--min-auc", "0.7"),
    ):
        result = run(*args, "--registry", str(tmp_path / "reg"))
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert result.stdout == ""
    assert "monthly_spend" in run("--data", str(bad), "--registry", str(tmp_path)).stderr


def test_no_flags_means_default_gates_and_a_weak_model_is_rejected(tmp_path: Path) -> None:
    result = run("--data", "synthetic:10", "--registry", str(tmp_path))
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["status"] == "rejected"
    assert "gate minMetric.auc >= 0.6 (default): FAILED (value 0.5)" in result.stderr


def test_no_gates_approves_and_says_so(tmp_path: Path) -> None:
    result = run("--data", "synthetic:10", "--registry", str(tmp_path), "--no-gates")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gates"] == {}
    assert "approved WITHOUT gates (--no-gates)" in result.stderr


def test_no_gates_refuses_gates_from_the_environment(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["train", "--data", "synthetic:100", "--registry", str(tmp_path), "--no-gates"],
        env={"MODELOPS_GATES": '{"maxFairnessGap": 0.1}'},
    )
    assert result.exit_code == 2
    assert "--no-gates cannot be combined" in result.stderr and "maxFairnessGap" in result.stderr


def test_table_output_shows_status_metrics_and_every_gate(tmp_path: Path) -> None:
    """-o table (the default at a terminal): the outcome for a person, no JSON line."""
    uri = f"file://{tmp_path}"
    result = run(
        "--data", "synthetic:1500", "--registry", uri, "--n-estimators", "20",
        "--max-baseline-regression", "0.05", "--min-auc", "0.99", "-o", "table",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert "churn version 1 published as REJECTED" in out
    assert not out.lstrip().startswith("{")
    for text in ("auc", "baseline_auc", "logloss", "minMetric.auc", ">= 0.9900", "FAIL",
                 "maxBaselineRegression", "<= 0.0500", "pass"):  # fmt: skip
        assert text in out, text
    assert "failed gate(s): minMetric.auc" in result.stderr


def test_json_output_is_one_line_even_when_asked_explicitly(tmp_path: Path) -> None:
    result = run("--data", "synthetic:500", "--registry", f"file://{tmp_path}", "--no-gates",
                 "--n-estimators", "5", "-o", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "approved"
