"""The `--cluster` rows of benchmarks/batch.py: the operator's Indexed Job at 2 pods vs 1 on the real node.

Brings up the node (the machine's one: run it under the node queue's lock,
`flock /work/node-queue.lock ...` where that applies), the registry and the
operator from the project's images, publishes a churn model, writes a
synthetic Parquet input of SHARDS * GROUPS_PER_SHARD row groups into the
cluster's S3, and runs the same 2-shard ModelDeployment with parallelism 1
(one pod at a time: the two shards run one after the other) and parallelism 2
(both at once), alternating, `--repeat` times each. Each run is `modelops
batch run --wait`, as a user types it. Columns:

* wall s: the command, from the request to the run recorded as ended;
* Job s: the Job's startTime to completionTime (whole seconds, Kubernetes');
* shard s: the shards' own `seconds` (reading to the committed part) summed;
* rows/s: rows over wall s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARDS = 2


def run_rows(rows: int, row_group: int, repeat: int) -> list[str]:
    from modelops_cli.demo.manifests import Settings
    from modelops_cli.demo.stack import LocalStack
    from modelops_testkit.batch_scene import BatchScene

    stack = LocalStack(Settings(namespace="batch-bench", training_rows=20_000), echo=_err)
    stack.up()
    try:
        scene = BatchScene(stack)
        version = scene.publish()
        data = scene.write_input(rows, row_group)
        results: dict[int, list[tuple[float, float | None, float]]] = {1: [], 2: []}
        for rep in range(repeat):
            for pods in (1, 2) if rep % 2 == 0 else (2, 1):
                scene.apply(scene.manifest(version, data, shards=SHARDS, parallelism=pods))
                code, last, wall, err = scene.run(timeout=900)
                if code != 0 or last.get("rows") != rows:
                    raise SystemExit(f"batch run with {pods} pod(s) failed (exit {code}): {err}")
                shard_seconds = _shard_seconds(scene, last)
                results[pods].append((wall, scene.job_seconds(last["job"]), shard_seconds))
                _err(f"  {pods} pod(s): {wall:.1f} s wall, {last['rows']:,} rows")
    finally:
        stack.down()
    return _table(rows, row_group, repeat, results)


def _shard_seconds(scene, last: dict) -> float:
    """The shards' own seconds, from their pods' termination messages."""
    import json

    path = f"/api/v1/namespaces/{scene.namespace}/pods"
    pods = scene.stack.kube.request(
        "GET", path, query={"labelSelector": f"batch.kubernetes.io/job-name={last['job']}"}
    )["items"]
    total = 0.0
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            message = ((status.get("state") or {}).get("terminated") or {}).get("message")
            if message:
                total += float(json.loads(message).get("seconds") or 0)
    return total


def _table(rows: int, row_group: int, repeat: int, results: dict) -> list[str]:
    lines = [
        f"{os.cpu_count()} CPUs; {rows:,} rows in {rows // row_group} row groups, "
        f"{SHARDS} shards; median of {repeat} run(s) each",
        "",
        "| pods at a time | wall s | Job s | shard s (sum) | rows/s | speed-up |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    walls = {pods: statistics.median(r[0] for r in runs) for pods, runs in results.items()}
    for pods, runs in sorted(results.items()):
        jobs = [r[1] for r in runs if r[1] is not None]
        job = f"{statistics.median(jobs):.0f}" if jobs else "-"
        shard = statistics.median(r[2] for r in runs)
        lines.append(
            f"| {pods} | {walls[pods]:.1f} | {job} | {shard:.1f} | {rows / walls[pods]:,.0f} | "
            f"{walls[1] / walls[pods]:.2f} |"
        )
    return lines


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(rows: int, row_group: int, repeat: int) -> None:
    sys.path.insert(0, str(REPO))
    started = time.monotonic()
    lines = run_rows(rows, row_group, repeat)
    _err(f"cluster rows in {time.monotonic() - started:.0f} s")
    print("\n".join(lines))
