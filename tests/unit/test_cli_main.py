"""The `modelops` command's lazy sub-command table."""

from __future__ import annotations

import pytest

from modelops_cli import main


@pytest.mark.parametrize(
    ("target", "exists"),
    [
        ("modelops_cli.train:train", True),
        ("modelops_cli.no_such_module:x", False),
        # The images leave whole packages out: a missing parent package.
        ("modelops_cli.no_such_package.commands:x", False),
    ],
)
def test_missing_command_modules_are_simply_not_offered(target, exists):
    assert main._module_exists(target) is exists


def test_help_lists_only_installed_commands(monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setitem(main.COMMANDS, "gone", "modelops_cli.no_such_package.commands:gone")
    result = CliRunner().invoke(main.cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "gone" not in result.output and "train" in result.output


def test_no_kubeconfig_is_one_line_and_exit_1(tmp_path) -> None:
    """A command that needs a cluster, without one: the fix in one line, no traceback."""
    from click.testing import CliRunner

    from modelops_cli.main import cli

    missing = tmp_path / "nope.yaml"
    result = CliRunner().invoke(cli, ["rollout", "status", "churn", "--kubeconfig", str(missing)])
    assert result.exit_code == 1, result.output
    assert f"no usable kubeconfig ({missing})" in result.output
    assert "KUBECONFIG" in result.output
    assert "Traceback" not in result.output
