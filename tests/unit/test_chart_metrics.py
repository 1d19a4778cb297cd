"""Prometheus metric names of the operator and of the churn bento pass
`promtool check metrics` (Prometheus' own linter: units, _total suffixes,
help text)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.metrics_samples import bento_exposition, metric_names, operator_exposition


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool not found: install Debian's prometheus package (`make system-deps`, "
            "tools/system-deps.sh)",
            pytrace=False,
        )
    return path


def check_metrics(text: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool(), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_promtool_flags_a_badly_named_metric() -> None:
    """The check can fail: a counter without _total and without help is reported."""
    proc = check_metrics("# TYPE modelops_things counter\nmodelops_things 1\n")
    assert proc.returncode != 0
    assert "_total" in proc.stdout + proc.stderr


def test_operator_metrics_pass_promtool() -> None:
    text = operator_exposition()
    assert {"modelops_operator_reconciles_total", "modelops_operator_leader"} <= metric_names(text)
    proc = check_metrics(text)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip() == ""


def test_bento_metrics_pass_promtool() -> None:
    text = bento_exposition()
    assert {"modelops_requests_total", "modelops_feature_value_bucket"} <= metric_names(text)
    proc = check_metrics(text)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (proc.stdout + proc.stderr).strip() == ""
