"""How long the local cluster with a real node takes: provisioning, up, down.

Run from the repo root, as root, after `make node`, with no node running:

    .venv/bin/python benchmarks/cluster.py [--runs 3]
    .venv/bin/python benchmarks/cluster.py --smoke   # one warm provisioning, one up/down (CI)

The cold cost of `make node` is not repeated here (it rebuilds kubelet,
kube-proxy, kubectl and CoreDNS); it is read from the provision-seconds file
tools/node/provision.sh appends to whenever a step does real work. Warm
provisioning runs provision.sh again on the filled cache. Each run of `up`
starts a fresh cluster in a temporary state directory and reports its phases
(control plane, containerd + node images, kubelet to node Ready, kube-proxy,
cluster DNS), then a 2-replica Deployment of the node tests' probe image to
Available, then `down` (everything stopped, host restored). Medians over the
runs, because the machine is shared and single runs vary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROVISION = REPO / "tools" / "node" / "provision.sh"
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")


def cold_seconds() -> list[tuple[str, str, str]]:
    """(step, seconds, when) of every cold step provision.sh recorded."""
    base = Path(os.environ.get("MODELOPS_CACHE") or Path.home() / ".cache" / "modelops")
    record = base / "node" / "provision-seconds"
    if not record.is_file():
        return []
    return [tuple(line.split()[:3]) for line in record.read_text().splitlines() if line.strip()]


def warm_provision(runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([str(PROVISION)], check=True, capture_output=True)
        timings.append(time.monotonic() - started)
    return timings


def deployment(ref: str) -> dict:
    labels = {"app": "bench"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [{"name": "probe", "image": ref, "imagePullPolicy": "Never"}],
                },
            },
        },
    }


def one_cycle(ref: str, archive: Path) -> dict[str, float]:
    from modelops_cli.cluster import Cluster

    with tempfile.TemporaryDirectory(prefix="modelops-node-bench-") as state:
        cluster = Cluster(state, tie_to_parent=True)
        cluster.start()
        timings = {f"up: {k}": v for k, v in cluster.timings.items()}
        try:
            started = time.monotonic()
            cluster.import_images([archive])
            timings["load probe image (6 MB)"] = time.monotonic() - started
            started = time.monotonic()
            env = cluster.env()
            kubectl = str(cluster.kubectl)
            subprocess.run(
                [kubectl, "apply", "-f", "-"],
                input=json.dumps(deployment(ref)),
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            subprocess.run(
                [kubectl, "wait", "deploy/bench", "--for=condition=Available", "--timeout=120s"],
                env=env,
                check=True,
                capture_output=True,
            )
            timings["2-replica Deployment to Available"] = time.monotonic() - started
        finally:
            started = time.monotonic()
            problems = cluster.stop()
            timings["down (all stopped, host restored)"] = time.monotonic() - started
        if problems:
            raise SystemExit(f"down left host state behind: {problems}")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="up/down cycles")
    parser.add_argument("--smoke", action="store_true", help="one run of each (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1
    from modelops_testkit.node import build_probe

    print("| cold step of `make node` | seconds | recorded at |")
    print("| --- | --- | --- |")
    for step, seconds, when in cold_seconds():
        print(f"| {step} | {seconds} | {when} |")
    warm = warm_provision(args.runs)
    print(f"\nwarm tools/node/provision.sh: median {statistics.median(warm):.2f} s\n")

    ref, archive = build_probe()
    runs = [one_cycle(ref, archive) for _ in range(args.runs)]
    print("| phase | median | min-max | runs |")
    print("| --- | --- | --- | --- |")
    for phase in runs[0]:
        values = [run[phase] for run in runs]
        spread = f"{min(values):.1f}-{max(values):.1f}"
        print(f"| {phase} | {statistics.median(values):.1f} s | {spread} s | {len(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
