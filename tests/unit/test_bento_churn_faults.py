"""The churn bento's fault injection: off by default, exact rates, clear errors."""

from __future__ import annotations

import asyncio

import pytest

from modelops_bentos.churn.faults import Faults


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("MODELOPS_FAULT_ERROR_RATE", raising=False)
    monkeypatch.delenv("MODELOPS_FAULT_DELAY_SECONDS", raising=False)
    faults = Faults.from_env()
    assert not faults.active
    assert asyncio.run(faults.inject()) is None


@pytest.mark.parametrize(("rate", "failures"), [(0.3, 30), (0.5, 50), (1.0, 100), (0.01, 1)])
def test_error_rate_is_exact(rate, failures):
    faults = Faults(error_rate=rate)
    assert sum(faults.should_fail() for _ in range(100)) == failures


def test_injected_failure_is_a_500(monkeypatch):
    monkeypatch.setenv("MODELOPS_FAULT_ERROR_RATE", "1")
    answer = asyncio.run(Faults.from_env().inject())
    assert answer.status == 500
    assert b"MODELOPS_FAULT_ERROR_RATE" in answer.body


@pytest.mark.parametrize("value", ["abc", "1.5", "-0.1"])
def test_bad_values_name_the_variable(monkeypatch, value):
    monkeypatch.setenv("MODELOPS_FAULT_ERROR_RATE", value)
    with pytest.raises(ValueError, match="MODELOPS_FAULT_ERROR_RATE"):
        Faults.from_env()


@pytest.mark.parametrize(
    ("versions", "served", "hit"),
    [
        ("", "2", True),  # no filter: every version misbehaves
        ("3", "3", True),
        ("3", "2", False),  # the stable version beside a faulty canary stays healthy
        (" 3 , 4 ", "4", True),
        ("3", None, False),  # nothing loaded yet: the 503 of a loading model, not a fault
    ],
)
def test_faults_can_target_model_versions(monkeypatch, versions, served, hit):
    monkeypatch.setenv("MODELOPS_FAULT_ERROR_RATE", "1")
    monkeypatch.setenv("MODELOPS_FAULT_VERSIONS", versions)
    answer = asyncio.run(Faults.from_env().inject(served))
    assert (answer is not None) is hit
