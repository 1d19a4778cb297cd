"""Every benchmark runs in its smoke mode and prints its table: the runs, and how each is judged.

A benchmark is a script, not a test: nothing else runs it, so a moved helper
or a changed API breaks it silently, and the figure the docs quote becomes an
old number. Here each script in benchmarks/ runs with `--smoke` (its smallest
sizes and durations that still take every code path, peers included) in a
subprocess, as a user would run it. A test fails when the script exits
non-zero or does not print its table; it asserts nothing about speed (the
machines are shared and noisy). A new script without an entry here fails
`test_every_benchmark_has_a_smoke_run`.

The two benchmarks on the real node (real_loop.py, cluster.py) start their
own node under the machine's node lock (modelops_cli.cluster.lock), as the
`node_cluster` fixture does; test_smoke_node.py runs them before the session's
shared node is started (tests/node/conftest.py's ordering rule). A node left
running elsewhere makes them fail saying who holds it.

The test modules are test_smoke.py and test_smoke_node.py; this module holds
the table of runs and the runner.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"


@dataclass(frozen=True)
class Smoke:
    """How a benchmark's smoke run is judged: the table lines it must print."""

    script: str
    tables: tuple[str, ...]  # regexes (multiline) the output must contain
    timeout: float = 600.0  # seconds; cold peer environments are a pip install
    python_flags: tuple[str, ...] = ()
    node: bool = False  # starts a real node of its own (root, `make node`)
    args: tuple[str, ...] = ()  # after --smoke: a second mode of the same script

    @property
    def id(self) -> str:
        return " ".join((self.script, *self.args))


SMOKES = [
    # -P: batch.py must not import its own folder's modules as top-level names.
    Smoke("batch.py", (r"^\| rows \| runner \| seconds", r"^\| [\d,]+ \| score \|"),
          python_flags=("-P",)),
    Smoke("canary_rollback.py", (r"^\| run \| canary version \|", r"^\| 1 \| 2 \| [\d.]+ \|")),
    Smoke("cluster.py", (r"^\| phase \| median \|", r"^\| down \(all stopped"), node=True),
    Smoke("controlplane.py", (r"^\| measurement \| median \|", r"^\| up to ready: \+ kwok")),
    Smoke("drift.py", (r"^tool\s+seconds", r"^modelops\s+[\d.]+", r"^evidently\s+[\d.]+",
                       r"^nannyml\s+[\d.]+", r"1,000,000 requests in the window"),
          timeout=1200),
    Smoke("drift_offline.py", (r"^\s*shift\s+psi\s+ks\s+js", r"^\s*1\.00\s")),
    Smoke("features_paths.py", (r"^path\s+per call\s+per record", r"^model_matrix_from_records")),
    Smoke("ground_truth.py", (r"^\| server \| body \|", r"^\| phase \| seconds \| note \|",
                              r"^\| world \| AUC \|"), python_flags=("-P",)),
    Smoke("operator_latency.py", (r"^measure\s+p50\s+p99", r"^operator RSS with 10 ")),
    # Its smoke settings are small (benchmarks/real_loop.py SMOKE): the acts must still pass.
    Smoke("real_loop.py", (r"^measure\s+run 1", r"^every act passed\s+True\s*$",
                           r"^bad canary: first error -> weight 0"), timeout=1200, node=True),
    Smoke("serving.py", (r"^\| server \| body \|", *(rf"^\| {name} \|" for name in (
        "churn", "churn-batch", "churn-routed", "churn-stock", "bento-noop", "fastapi",
        "litserve", "ray", "mlserver"))), timeout=2400),
    # The servers up together, loaded in turns (serving_http.measure_interleaved).
    Smoke("serving.py", (r"^\| server \| body \|", r"^\| churn \|", r"^\| fastapi \|",
                         r"2 turns per server"),
          args=("--interleave", "2", "--only", "churn,fastapi")),
    Smoke("serving_overload.py", (r"^\| setting \| load \|", r"^\| default \| 10x \|",
                                  r"^\| MODELOPS_MAX_QUEUE_MS=0 \| 10x \|")),
    Smoke("serving_learning_path.py", (r"^\| server \| body \|", r"^\| learning-path \|")),
    Smoke("serving_profile.py", (r"^\| part of the stack \| samples \| share \|",
                                 r"^\| xgboost predict \|"), timeout=900),
    Smoke("serving_stages.py", (r"^\| stage \|", r"^\| features")),
]  # fmt: skip


def scripts() -> set[str]:
    """The benchmarks: scripts in benchmarks/ (modules they share have no __main__)."""
    return {
        path.name
        for path in BENCHMARKS.glob("*.py")
        if 'if __name__ == "__main__":' in path.read_text()
    }


def params(node: bool) -> list:
    """pytest params of the smoke runs on (node=True) or off the real node, each with its timeout."""
    return [
        pytest.param(s, id=s.id, marks=pytest.mark.timeout(s.timeout + 60))
        for s in SMOKES
        if s.node == node
    ]


def run_smoke(smoke: Smoke) -> None:
    """Run `benchmarks/<script> --smoke`; fail with its output unless it exits 0 with its table."""
    command = [
        sys.executable, *smoke.python_flags, str(BENCHMARKS / smoke.script), "--smoke", *smoke.args
    ]  # fmt: skip
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=smoke.timeout
        )
    except subprocess.TimeoutExpired as exc:
        tail = ((exc.stdout or b"") + (exc.stderr or b"")).decode(errors="replace")[-4000:]
        pytest.fail(
            f"benchmarks/{smoke.id} --smoke still running after {smoke.timeout:.0f} s:\n{tail}",
            pytrace=False,
        )
    seconds = time.monotonic() - started
    shown = " ".join(command[1:])
    if done.returncode != 0:
        pytest.fail(
            f"`{shown}` exited {done.returncode} after {seconds:.0f} s\n"
            f"--- stdout (end) ---\n{done.stdout[-3000:]}\n--- stderr (end) ---\n"
            f"{done.stderr[-4000:]}",
            pytrace=False,
        )
    missing = [p for p in smoke.tables if not re.search(p, done.stdout, re.MULTILINE)]
    if missing:
        pytest.fail(
            f"`{shown}` exited 0 but its table lacks {missing}\n"
            f"--- stdout (end) ---\n{done.stdout[-4000:]}",
            pytrace=False,
        )
    # Shown with -rA / in the junit report: how long each smoke run took.
    print(f"benchmarks/{smoke.id} --smoke: {seconds:.1f} s")
