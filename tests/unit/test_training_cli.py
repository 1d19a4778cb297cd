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
    result = run("--data", "synthetic:1500", "--registry", uri, "--n-estimators", "20")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert set(line) == {"model", "version", "status", "metrics", "gates", "registry"}
    assert (line["version"], line["status"]) == ("1", "approved")


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
    assert set(line["gates"]) == {"minMetric.auc", "maxFairnessGap"}
    assert "minMetric.auc" in result.stderr and "REJECTED" in result.stderr


def test_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tenure_months,plan\n-1,gold\n")
    for args in (
        ("--data", str(bad)),
        ("--data", "synthetic:100", "--gates", "{not json"),
        ("--data", "synthetic:100", "--base-version", "4"),
    ):
        result = run(*args, "--registry", str(tmp_path / "reg"))
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert result.stdout == ""
    assert "monthly_spend" in run("--data", str(bad), "--registry", str(tmp_path)).stderr
