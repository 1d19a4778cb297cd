"""What `modelops score` shows: the summary text and the progress bar."""

from __future__ import annotations

import pytest

from modelops_cli.score.report import progress_bar, rate, render_summary

SUMMARY = {
    "model": "churn",
    "version": "3",
    "shard": "1/4",
    "inputs": {"files": 2, "units": 5},
    "rows": 1234567,
    "scored": 1234560,
    "rejected": 7,
    "seconds": 3.5,
    "rows_per_second": 352733.4,
    "output": "s3://b/o/part-00001-of-00004.parquet",
    "rejects_output": "s3://b/o/_rejects/part-00001-of-00004.parquet",
    "rejects_by_rule": {"plan:category": 5, "tenure_months:min": 2},
}


def test_summary_is_aligned_and_lists_rejects_per_rule() -> None:
    assert render_summary(SUMMARY).splitlines() == [
        "model         churn",
        "version       3",
        "shard         1/4",
        "inputs        2 file(s), 5 unit(s) in this shard",
        "rows          1,234,567",
        "scored        1,234,560",
        "rejects       7",
        "seconds       3.5",
        "rows/s        352,733",
        "output        s3://b/o/part-00001-of-00004.parquet",
        "rejects file  s3://b/o/_rejects/part-00001-of-00004.parquet",
        "rejected rows per rule (a row may break several):",
        "  plan:category: 5",
        "  tenure_months:min: 2",
    ]


def test_an_unsharded_run_without_rejects_shows_no_shard_and_no_rules() -> None:
    text = render_summary({**SUMMARY, "shard": None, "rejected": 0, "rejects_by_rule": {}})
    lines = text.splitlines()
    assert not any(line.startswith("shard") for line in lines)
    assert "per rule" not in text and "rejects       0" in lines


@pytest.mark.parametrize(("rows", "seconds", "expected"), [(10, 2.0, 5.0), (10, 0.0, 0.0)])
def test_rate(rows, seconds, expected) -> None:
    assert rate(rows, seconds) == expected


def test_no_bar_unless_stderr_is_a_terminal(capsys) -> None:
    with progress_bar(100, "churn v1", enabled=True) as advance:
        advance(50)
    assert capsys.readouterr().err == ""


def test_the_bar_shows_rows_and_rows_per_second_on_a_terminal(capsys, monkeypatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: treat the captured stream as a terminal
    monkeypatch.setenv("COLUMNS", "160")
    with progress_bar(1000, "churn v1", enabled=True) as advance:
        advance(400)
        advance(600)
    err = capsys.readouterr().err
    assert "churn v1" in err and "1000/1000" in err and "rows/s" in err


def test_no_bar_when_disabled(capsys, monkeypatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    with progress_bar(None, "churn v1", enabled=False) as advance:
        advance(5)
    assert capsys.readouterr().err == ""
