"""The whole loop on the real node, in numbers (the demo, measured).

Run from the repo root, as root, after `make node images-tools` (what
`make demo` provides), with no node running:

    .venv/bin/python benchmarks/real_loop.py [--runs 2] [--interval 20]
    .venv/bin/python benchmarks/real_loop.py --smoke      # one short run, same table

The smoke run (tests/bench) only proves the script plays every act and prints
its table, so it plays them on 2 replicas at one 5 s step with a 30 s drift
window (see SMOKE); its figures are not the demo's.

Per run it plays the demo (`modelops demo`: images, cluster, registry,
Prometheus, the chart-installed operator, churn v1, traffic, three acts) and
reads the figures the acts record. Before the runs it times `cluster up` cold
(a fresh state directory, so the node's image store is empty and every image
is imported) and warm (the same state directory again: the images are
already in containerd). Printed: one column per run, and the goal where the
issue sets one. Nothing here is asserted: the machine is shared and noisy.

Figures:
* apply -> first prediction: `kubectl apply` of the ModelDeployment to the
  first 200 from its Service (pods scheduled, images started, model loaded
  from the registry, readiness, kube-proxy rules).
* seconds at each canary weight vs the configured interval.
* bad canary -> weight 0: from the first 5xx the callers saw from v3 to the
  sample showing weight 0, in analysis intervals (goal <= 2; Flagger's
  default is an interval of 1 m x a threshold of 10).
* failed requests on the stable version during promotion and rollback, and
  requests the cluster left unanswered (goal 0).
* drift onset (the traffic shifts) -> Drifted -> Job created -> candidate
  published -> candidate promoted, in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def cluster_up_seconds(state_dir: Path, archives: list[Path]) -> tuple[float, float]:
    """(up, import) seconds of one `cluster up` in `state_dir` plus importing the
    images it does not hold, then down."""
    from modelops_cli.cluster import Cluster

    started = time.monotonic()
    cluster = Cluster(state_dir).start()
    up = time.monotonic() - started
    try:
        present = set(cluster.images())
        from modelops_cli.cluster.archive import archive_refs

        missing = [a for a in archives if not set(archive_refs(a)) <= present]
        started = time.monotonic()
        if missing:
            cluster.import_images(missing)
        imported = time.monotonic() - started
    finally:
        cluster.stop()
    return up, imported


# The smoke run's settings, as small as still lets every act pass on a busy
# 2-core machine: 2 replicas and one canary step at 50 % (each promotion
# replaces 2 pods, not 4), 5 s steps (at 20 requests/s the canary sees ~50
# requests a step; minRequests 10), and a 30 s drift window measured every
# 5 s (600 requests in it, still above minSamples 300).
SMOKE = {
    "replicas": 2,
    "steps": (50,),
    "interval_seconds": 5,
    "min_requests": 10,
    "drift_window": "30s",
    "drift_interval": "5s",
}


def play(settings: dict, out: Path) -> dict:
    from modelops_cli.demo.manifests import Settings
    from modelops_cli.demo.play import Demo

    run = Demo(Settings(**settings), out)
    passed = run.run()
    summary = json.loads((out / "summary.json").read_text())
    timeline = json.loads((out / "timeline.json").read_text())
    return {"passed": passed, "summary": summary, "timeline": timeline, "failure": run.failure}


def figures(result: dict) -> dict[str, object]:
    acts = {a["name"]: a for a in result["timeline"]["acts"]}
    system = result["timeline"]["settings"].get("system", {})
    promote = acts.get("promote", {}).get("figures", {})
    rollback = acts.get("rollback", {}).get("figures", {})
    drift = acts.get("drift", {}).get("figures", {})
    steps = ", ".join(f"{s['weight']}%: {s['seconds']:.0f} s" for s in promote.get("steps", []))
    return {
        "every act passed": result["passed"],
        "setup (images, cluster, infra, operator) s": system.get("setup_seconds"),
        "apply -> first prediction s": system.get("apply_to_first_prediction_seconds"),
        "time at each canary weight": steps or None,
        "canary served share vs weight": ", ".join(
            f"{r['weight']}% -> {r['served_percent']}%" for r in promote.get("weight_vs_served", [])
        )
        or None,
        "bad canary: first error -> weight 0, intervals": rollback.get(
            "first_error_to_weight_0_intervals"
        ),
        "bad canary: first error -> weight 0, s": rollback.get("first_error_to_weight_0_seconds"),
        "failed on stable: promotion": promote.get("stable_errors"),
        "failed on stable: rollback": rollback.get("stable_errors"),
        "failed on stable: drift": drift.get("stable_errors"),
        "unanswered (all acts)": sum(
            a.get("figures", {}).get("unanswered", 0) for a in acts.values()
        ),
        "drift onset -> Drifted s": drift.get("onset_to_drifted_seconds"),
        "drift onset -> Job s": drift.get("onset_to_job_seconds"),
        "drift onset -> candidate s": drift.get("onset_to_candidate_seconds"),
        "drift onset -> promoted s": drift.get("onset_to_promoted_seconds"),
    }


GOALS = {
    "bad canary: first error -> weight 0, intervals": "<= 2 (Flagger default: 10)",
    "failed on stable: promotion": "0",
    "failed on stable: rollback": "0",
    "failed on stable: drift": "0",
    "unanswered (all acts)": "0",
}


def render(rows: dict[str, list[object]], extra: dict[str, str]) -> str:
    width = max(len(k) for k in [*rows, *extra]) + 2
    runs = len(next(iter(rows.values()))) if rows else 0
    header = f"{'measure':<{width}}" + "".join(f"{'run ' + str(i + 1):<24}" for i in range(runs))
    lines = [header + "goal", "-" * (len(header) + 30)]
    for key, value in extra.items():
        lines.append(f"{key:<{width}}{value}")
    for key, values in rows.items():
        cells = "".join(f"{_cell(v):<24}" for v in values)
        lines.append(f"{key:<{width}}{cells}{GOALS.get(key, '')}")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, dict):
        return f"{sum(value.values()):.0f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--interval", type=int, default=20, help="seconds per canary step")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one small run (2 replicas, one 5 s step, a 30 s drift window), no cold timing",
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the reports here")
    args = parser.parse_args()
    runs, settings = (1, SMOKE) if args.smoke else (args.runs, {"interval_seconds": args.interval})

    from modelops_cli.demo.stack import IMAGES
    from modelops_cli.images import ensure

    archives = [b.archive for b in ensure(list(IMAGES), echo=lambda m: print(m, flush=True))]
    extra: dict[str, str] = {}
    if not args.smoke:
        with tempfile.TemporaryDirectory(prefix="real-loop-") as tmp:
            cold_up, cold_import = cluster_up_seconds(Path(tmp) / "cluster", archives)
            warm_up, warm_import = cluster_up_seconds(Path(tmp) / "cluster", archives)
        extra["cluster up, cold (+ importing the images) s"] = (
            f"{cold_up:.1f} (+ {cold_import:.1f})"
        )
        extra["cluster up, warm (images already in the node) s"] = (
            f"{warm_up:.1f} (+ {warm_import:.1f})"
        )

    rows: dict[str, list[object]] = {}
    base = args.out or Path(tempfile.mkdtemp(prefix="real-loop-reports-"))
    for index in range(runs):
        started = time.monotonic()
        result = play(settings, base / f"run-{index + 1}")
        wall = time.monotonic() - started
        for key, value in {"whole demo s": round(wall, 1), **figures(result)}.items():
            rows.setdefault(key, []).append(value)
        if result["failure"]:
            print(f"run {index + 1} stopped: {result['failure']}", flush=True)
    extra["canary interval s"] = str(settings["interval_seconds"])
    print()
    print(render(rows, extra))
    intervals = [v for v in rows.get("bad canary: first error -> weight 0, intervals", []) if v]
    if intervals:
        print(
            f"\nrollback intervals: median {statistics.median(intervals):.2f} over {len(intervals)} runs"
        )
    print(f"reports: {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
