"""Flags and errors of `modelops rollout` that are settled before any cluster is asked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from modelops_cli.main import cli


@pytest.fixture
def no_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "--watch"], "--watch needs a NAME"),
        (["get", "churn", "-o", "xml"], "'xml' is not one of 'table', 'wide', 'json', 'yaml'"),
        (["history", "churn", "-o", "csv"], "'csv' is not one of"),
        (["undo", "churn", "--timeout", "soon"], "--timeout"),
        (["status", "churn", "--wait", "--timeout", "soon"], "--timeout"),
        (["undo"], "Missing argument 'NAME'"),
    ],
)
def test_usage_errors_exit_2_naming_the_flag(no_cluster, args, message):
    result = CliRunner().invoke(cli, ["rollout", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    "args",
    [["get"], ["get", "churn"], ["history", "churn"], ["undo", "churn"], ["promote", "churn"]],
)
def test_no_kubeconfig_is_one_line_and_exit_1(no_cluster, args):
    result = CliRunner().invoke(cli, ["rollout", *args])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no usable kubeconfig"), result.output


def test_namespace_help_says_it_comes_from_the_context():
    result = CliRunner().invoke(cli, ["rollout", "get", "--help"])
    assert "the kubeconfig context's, else default" in " ".join(result.output.split())
