"""`modelops serve`'s options are checked before anything starts (click's runner)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from modelops_cli.serve import serve

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536", "http"])
def test_a_port_outside_1_to_65535_is_refused_by_name(port: str) -> None:
    result = CliRunner().invoke(serve, ["churn", "--port", port])
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output
    assert "serving" not in result.output  # nothing was started


def test_the_port_range_is_in_the_help() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    assert "1<=x<=65535" in result.output
