"""The serving benchmark's merging of wrk runs taken in turns (benchmarks/serving_http.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# Loaded from its file: benchmarks/ is not a package, and putting it on
# sys.path would let its module names shadow others for the whole session.
_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "serving_http.py"
_SPEC = importlib.util.spec_from_file_location("bench_serving_http", _PATH)
serving_http = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = serving_http  # its dataclasses look their module up there
_SPEC.loader.exec_module(serving_http)
merged_percentile, read_histogram = serving_http.merged_percentile, serving_http.read_histogram


@pytest.mark.parametrize(
    ("histograms", "p", "expected_ms"),
    [
        ([{1000: 99, 50_000: 1}], 50, 1.0),
        ([{1000: 99, 50_000: 1}], 99, 1.0),
        ([{1000: 99, 50_000: 1}], 99.5, 50.0),
        # Two turns: the slow turn's tail counts by its share of all requests.
        ([{1000: 90}, {2000: 9, 80_000: 1}], 99, 2.0),
        ([{1000: 90}, {2000: 9, 80_000: 1}], 100, 80.0),
        ([{1000: 1}, {1000: 1, 3000: 2}], 50, 1.0),
        ([{}, {}], 99, 0.0),
    ],
)
def test_merged_percentile(histograms, p, expected_ms) -> None:
    assert merged_percentile(histograms, p) == expected_ms


def test_read_histogram_adds_repeated_values(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text("524 1\n631 3\n524 2\n")
    assert read_histogram(path) == {524: 3, 631: 3}
