"""Every benchmark off the real node runs in its smoke mode and prints its table.

See tests/bench/smoke.py for why and how; the two on the real node are in
test_smoke_node.py.
"""

from __future__ import annotations

import pytest

from tests.bench.smoke import SMOKES, Smoke, params, run_smoke, scripts


def test_every_benchmark_has_a_smoke_run() -> None:
    missing = scripts() - {s.script for s in SMOKES}
    assert not missing, (
        f"benchmarks without a smoke run: {sorted(missing)}; give each a --smoke mode and "
        "an entry in SMOKES (tests/bench/smoke.py)"
    )
    gone = {s.script for s in SMOKES} - scripts()
    assert not gone, f"SMOKES names scripts that are not benchmarks: {sorted(gone)}"


@pytest.mark.parametrize("smoke", params(node=False))
def test_benchmark_smoke(smoke: Smoke) -> None:
    run_smoke(smoke)
