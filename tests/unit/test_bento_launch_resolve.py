"""Which version `modelops serve` picks: "latest" means the newest approved one.

A candidate its gates rejected is published as evidence; it is served only
when asked for with --allow-rejected, and then with a warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_bentos import launch
from modelops_cli.main import cli
from modelops_registry import Registry

FAILED = {"minMetric.auc": {"passed": False, "value": 0.5, "threshold": 0.6}}


def registry(tmp_path: Path, *statuses: str) -> str:
    reg = Registry.from_uri(f"file://{tmp_path}")
    for status in statuses:
        gates = FAILED if status == "rejected" else {}
        reg.publish("churn", {"model.ubj": b"m"}, {"status": status, "gates": gates})
    return reg.uri


@pytest.mark.parametrize(
    ("statuses", "ref", "allow", "version", "said"),
    [
        (("approved",), "latest", False, "1", None),
        (("approved", "rejected"), "latest", False, "1", "newer version(s) up to 2 were rejected"),
        (("approved", "rejected", "rejected"), "latest", True, "3", "REJECTED by its gates"),
        (("approved", "rejected"), "@latest-approved", False, "1", None),
        (("approved", "rejected"), "1", False, "1", None),
        (("approved", "rejected"), "2", True, "2", "failed gate(s): minMetric.auc"),
    ],
    ids=["latest-approved", "skips-rejected", "allow-latest", "channel", "pinned", "allow-pinned"],
)
def test_resolution_table(tmp_path, statuses, ref, allow, version, said):
    resolved = launch.resolve_version(
        registry(tmp_path, *statuses), "churn", ref, allow_rejected=allow
    )
    assert resolved.version == version
    told = " ".join(t for t in (resolved.note, resolved.warning) if t)
    assert (said in told) if said else told == ""
    if allow and said:
        assert resolved.warning and "--allow-rejected" in resolved.warning


def test_a_pinned_rejected_version_is_refused(tmp_path):
    with pytest.raises(launch.ServeError) as refused:
        launch.resolve_version(registry(tmp_path, "approved", "rejected"), "churn", "2")
    message = str(refused.value)
    assert "version 2 was REJECTED by its gates (failed gate(s): minMetric.auc)" in message
    assert "--allow-rejected" in message


def test_latest_with_only_rejected_versions_is_refused_naming_the_newest(tmp_path):
    with pytest.raises(
        launch.ServeError, match=r"no approved version .* the newest, 2, was rejected"
    ):
        launch.resolve_version(registry(tmp_path, "rejected", "rejected"), "churn", "latest")


def test_the_command_refuses_before_starting_anything(tmp_path):
    uri = registry(tmp_path, "rejected")
    result = CliRunner().invoke(cli, ["serve", "churn", "--registry", uri])
    assert result.exit_code == 1
    assert "no approved version" in result.stderr and "--allow-rejected" in result.stderr
