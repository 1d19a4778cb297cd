"""Operator latency and memory on the local control plane (not a test).

Measures, against a real kube-apiserver + controllers started here (or the
cluster of $KUBECONFIG with --kubeconfig):

* apply -> children: time from the ModelDeployment create call to both its
  Deployment and its Service existing, p50 / p99, for ModelDeployments
  applied one at a time and for a burst of 200 applied at once;
* the operator process's RSS with 200 and with 1,000 ModelDeployments
  reconciled, and the API requests it sent per ModelDeployment;
* reactions to things no resync is needed for (`--triggers N` rounds, one
  object at a time): a `modelops.io/retrain` annotation -> its Job exists,
  and that Job finishing -> status.retraining records the outcome.

Run from the repo root (after `make controlplane`):

    .venv/bin/python benchmarks/operator_latency.py [--burst 200] [--total 1000] [--replicas 0]
    .venv/bin/python benchmarks/operator_latency.py --smoke   # 2 single, a burst of 5, 10 in all, 1 trigger (CI)

`--modelops PATH` runs another checkout's operator (e.g. a worktree of an
older commit, for a before/after comparison on the same machine).

ModelDeployments use replicas 0 by default so the shared 2-core machine does
not also have to create thousands of (never running) pods; the operator's
work per object is the same (a Deployment and a Service are applied and
status is written). Goals (issue 4): p99 < 1 s at 200; RSS < 250 MB at 1,000.

This script starts the plane and the operator and prints the table; applying
and timing objects is operator_latency_apply.py, the retrain reactions
operator_latency_reactions.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODELOPS = REPO / ".venv" / "bin" / "modelops"
# Appended, not prepended: a module here must never shadow an installed one.
sys.path.append(str(HERE))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from operator_latency_apply import (  # noqa: E402
    NAMESPACE,
    ChildWatcher,
    apply_and_time,
    install_crd,
    wait_reconciled,
)
from operator_latency_reactions import measure_reactions  # noqa: E402

from modelops_testkit.net import free_port  # noqa: E402
from modelops_testkit.poll import wait  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (it competes with the API server)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_sum(text: str, prefix: str) -> float | None:
    """Sum of the samples whose line starts with `prefix` (None when there are none)."""
    values = [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    ]
    return sum(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single-runs", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=None, help="the operator's --workers (default: its own)"
    )
    parser.add_argument(
        "--kubeconfig", default=None, help="use this cluster instead of starting one"
    )
    parser.add_argument(
        "--modelops", default=str(MODELOPS), help="the modelops executable running the operator"
    )
    parser.add_argument(
        "--triggers",
        type=int,
        default=20,
        help="rounds of retrain annotation -> Job -> outcome (0: skip)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="2 single, a burst of 5, 10 in all, 1 trigger round"
    )
    args = parser.parse_args()
    if args.smoke:
        args.single_runs, args.burst, args.total, args.triggers = 2, 5, 10, 1
    from modelops_operator.adapters.kube import KubeAdapter

    plane = None
    state = tempfile.mkdtemp(prefix="modelops-bench-")
    if args.kubeconfig:
        kubeconfig = args.kubeconfig
    else:
        from modelops_cli.controlplane import ControlPlane

        plane = ControlPlane(Path(state), with_controllers=True, tie_to_parent=True).start()
        kubeconfig = str(plane.kubeconfig)
    kube = KubeAdapter.from_kubeconfig(kubeconfig)
    operator = None
    try:
        install_crd(kube)
        kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": NAMESPACE}})
        env = {**os.environ, "KUBECONFIG": kubeconfig}
        log = open(Path(state) / "operator.log", "wb")  # noqa: SIM115 - lives as long as the process
        operator = subprocess.Popen(
            [
                args.modelops, "operator", "run", "-n", NAMESPACE, "--lease-namespace", NAMESPACE,
                "--metrics-port", str(free_port()), "--resync", "300",
                *(["--workers", str(args.workers)] if args.workers else []),
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # The operator is ready when it has taken its lease.
        wait(
            lambda: kube.get("coordination.k8s.io/v1", "Lease", NAMESPACE, "modelops-operator"),
            timeout=60,
            interval=0.2,
        )
        time.sleep(2)  # kopf's watches are established shortly after the lease
        watcher = ChildWatcher(kube._api)

        single: list[float] = []
        for i in range(args.single_runs):
            single += apply_and_time(kube, watcher, [f"single-{i}"], args.replicas, 1)[0]
            time.sleep(0.2)
        print(f"single: p50 {statistics.median(single):.3f}s", flush=True)
        burst, burst_creates = apply_and_time(
            kube, watcher, [f"burst-{i}" for i in range(args.burst)], args.replicas, 16
        )
        print(
            f"burst: p50 {statistics.median(burst):.3f}s p99 {percentile(burst, 99):.3f}s",
            flush=True,
        )
        wait_reconciled(kube, args.single_runs + args.burst)
        time.sleep(3)
        rss_small = rss_mb(operator.pid)
        print(f"rss at {args.single_runs + args.burst}: {rss_small:.1f} MB", flush=True)
        total_now = args.single_runs + args.burst
        rest = [f"bulk-{i}" for i in range(max(0, args.total - total_now))]
        if rest:
            apply_and_time(kube, watcher, rest, args.replicas, 16)
        wait_reconciled(kube, args.total)
        time.sleep(3)
        rss_large = rss_mb(operator.pid)
        watcher.stop()
        metrics_port = operator.args[operator.args.index("--metrics-port") + 1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
        reconciles = metric_sum(text, 'modelops_operator_reconciles_total{result="success"}')
        requests = metric_sum(text, "modelops_operator_api_requests_total{")
        skipped = metric_sum(text, "modelops_operator_applies_skipped_total")
        busy = metric_sum(text, "modelops_operator_reconcile_duration_seconds_sum")
        cpu = cpu_seconds(operator.pid)
        queued = [
            line
            for line in text.splitlines()
            if line.startswith("modelops_operator_work_queued_total{")
        ]
        # Last, so their requests are not counted per ModelDeployment above.
        to_job, to_outcome = [], []
        if args.triggers:
            to_job, to_outcome = measure_reactions(
                kube, args.triggers, f"file://{Path(state) / 'registry'}"
            )
            print(f"retrain -> Job: p50 {statistics.median(to_job):.3f}s", flush=True)
    finally:
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(60)
            except subprocess.TimeoutExpired:
                print("operator did not stop within 60 s of SIGTERM; killed", file=sys.stderr)
                operator.kill()
                operator.wait()
        if plane is not None:
            plane.stop()

    print(f"operator benchmark (replicas per ModelDeployment: {args.replicas}; state: {state})")
    print(f"{'measure':<44} {'p50':>8} {'p99':>8} {'max':>8}")
    for label, values in (
        (f"apply -> children, 1 at a time (n={len(single)})", single),
        (f"apply -> children, {args.burst} at once", burst),
    ):
        print(
            f"{label:<44} {statistics.median(values):>7.3f}s {percentile(values, 99):>7.3f}s "
            f"{max(values):>7.3f}s"
        )
    for label, values in (
        (f"retrain annotation -> Job exists (n={len(to_job)})", to_job),
        (f"Job finished -> outcome in status (n={len(to_outcome)})", to_outcome),
    ):
        if values:
            print(
                f"{label:<44} {statistics.median(values):>7.3f}s "
                f"{percentile(values, 99):>7.3f}s {max(values):>7.3f}s"
            )
    print(f"{f'operator RSS with {total_now} ModelDeployments':<44} {rss_small:>8.1f} MB")
    print(f"{f'operator RSS with {args.total} ModelDeployments':<44} {rss_large:>8.1f} MB")
    print(f"the API server accepted the {args.burst} creates in {burst_creates:.1f} s")
    print(f"successful reconciles: {reconciles:.0f}, mean wall time {busy / reconciles:.3f} s")
    print(f"operator CPU time: {cpu:.1f} s")
    for line in queued:  # newer operators count what woke each reconcile up
        print(f"  {line}")
    if requests is not None:  # older operators did not count their requests
        print(
            f"operator API requests: {requests:.0f} ({requests / args.total:.1f} per "
            f"ModelDeployment); child applies skipped as unchanged: {skipped or 0:.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
