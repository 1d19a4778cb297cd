"""How long the local control plane takes: cold build, warm provisioning, up-to-ready.

Run from the repo root after `make controlplane`:

    .venv/bin/python benchmarks/controlplane.py [--runs 5]
    .venv/bin/python benchmarks/controlplane.py --smoke   # one run of each (CI)

The cold build is not repeated here (it costs ~10 minutes and a cleared Go
cache); its time is read from the build-seconds file provision.sh writes next
to the binaries when it builds them. Warm provisioning runs provision.sh again
on the filled cache. `up` to ready starts and stops a fresh control plane
several times (etcd + apiserver, then with controller-manager and scheduler)
and reports the median, because the machine is shared and single runs vary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROVISION = REPO / "tools" / "controlplane" / "provision.sh"

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def cold_build_seconds(assets_dir: Path) -> dict[str, int]:
    """Per-binary and total seconds recorded when the cache was built."""
    record = assets_dir / "build-seconds"
    if not record.is_file():
        return {}
    rows = (line.split() for line in record.read_text().splitlines() if line.strip())
    return {name: int(seconds) for name, seconds in rows}


def warm_provision_seconds(runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([str(PROVISION)], check=True, capture_output=True)
        timings.append(time.monotonic() - started)
    return timings


def up_seconds(runs: int, with_controllers: bool, with_kwok: bool = False) -> list[float]:
    from modelops_cli.controlplane import ControlPlane

    timings = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="modelops-cp-bench-") as state:
            plane = ControlPlane(
                state, with_controllers=with_controllers, with_kwok=with_kwok, tie_to_parent=True
            )
            started = time.monotonic()
            plane.start()
            timings.append(time.monotonic() - started)
            plane.stop()
    return timings


def row(what: str, timings: list[float]) -> str:
    median = statistics.median(timings)
    spread = f"{min(timings):.1f}-{max(timings):.1f}"
    return f"| {what} | {median:.1f} s | {spread} s | {len(timings)} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--smoke", action="store_true", help="one run of each measurement (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1

    from modelops_cli.controlplane import discover

    assets = discover(controllers=True, kwok=True)
    assets_dir = assets["kube-apiserver"].parent
    cold = cold_build_seconds(assets_dir)
    # kwok lives in its own cache directory (keyed by kwok version).
    cold.update(cold_build_seconds(assets["kwok"].parent))

    print(f"command: .venv/bin/python benchmarks/controlplane.py --runs {args.runs}")
    print(f"binaries: {assets_dir} (from {assets.source})")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    print("| measurement | median | min-max | runs |")
    print("| --- | --- | --- | --- |")
    if cold:
        parts = ", ".join(f"{k} {v} s" for k, v in cold.items() if k != "total")
        total = sum(v for k, v in cold.items() if k != "total")
        print(f"| cold build (recorded: {parts}) | {total} s | - | 1 |")
    else:
        print("| cold build | not recorded (binaries came from KUBEBUILDER_ASSETS) | - | 0 |")
    print(row("warm provisioning (provision.sh, cache filled)", warm_provision_seconds(args.runs)))
    print(row("up to ready: etcd + kube-apiserver", up_seconds(args.runs, False)))
    print(row("up to ready: + controller-manager + scheduler", up_seconds(args.runs, True)))
    print(row("up to ready: + kwok with a Ready node", up_seconds(args.runs, True, True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
