"""Batch scoring: rows/s and peak RSS of `modelops score`, the in-process floor and a naive script.

    .venv/bin/python -P benchmarks/batch.py [--sizes 1000000,10000000] [--repeat 3] [--threads 0]
    .venv/bin/python -P benchmarks/batch.py --smoke      # tiny sizes, same table (for CI)
    flock /work/node-queue.lock .venv/bin/python -P benchmarks/batch.py --cluster [--cluster-rows N]
        # the operator's Indexed Job at 2 pods vs 1 on the real node (batch_cluster.py)

Not a test: it prints a table. In one run, on the same synthetic churn
Parquet files (row groups of 1M rows; 2% missing values) and the same model
(200 trees, trained here on synthetic:20000 into a temporary registry), each
of three runners scores every file in a fresh process, so its peak RSS is its
own (`os.wait4`):

* `modelops score`: the command as users run it (Parquet in, Parquet out,
  validation and rejects included); its time is the summary's `seconds` and
  `cpu_seconds` (reading to the committed output; imports and the model load
  excluded);
* floor: the whole file already in memory (read untimed), then the features
  package's arrays and `Booster.inplace_predict`: what the model itself costs;
* naive: the script a data scientist would write: `pd.read_parquet`, the
  features package's pandas `compute` + `model_matrix`, `XGBClassifier
  .predict_proba`, `to_parquet` of id and probability (timed from the read to
  the written file; imports and the model load excluded).

All three use the same number of XGBoost threads (--threads; 0 is XGBoost's
default: every CPU, within OMP_NUM_THREADS and the cgroup quota). The machine
is shared: each runner is run --repeat times, interleaved, and the table
shows the fastest run, the least CPU time (all threads of the process over
the timed span: the cost, which other tenants disturb less than the wall
clock) and the largest peak RSS of each.

It ends with the CPU of each stage of `modelops score`'s loop (read, check,
features, predict, write), run one after another on the smallest file.

This script is the driver (data, model, processes, peak RSS); the floor, naive
and stages runners are batch_workers.py, the table and goals batch_report.py.

Goals (issue 15): score >= 0.8x the floor's rows/s, >= 3x the naive script's,
and score's peak RSS at the largest size no higher than at the smallest
(judged within 5%: allocator peaks wander by a few MiB between identical runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Appended, not prepended: run with -P, a module here must never shadow an installed one.
sys.path.append(str(HERE))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

from batch_report import Run, best, goals, stages_lines, table  # noqa: E402
from batch_workers import floor_worker, naive_worker, stages_worker  # noqa: E402

SIZES = (1_000_000, 10_000_000)
SMOKE_SIZES = (20_000, 60_000)
ROW_GROUP = 1_000_000
SMOKE_ROW_GROUP = 10_000
RUNNERS = ("score", "floor", "naive")


def score_command(registry: str, data: str, out: str, threads: int) -> list[str]:
    return [
        sys.executable, "-m", "modelops_cli.main", "score", "--registry", registry,
        "--version", "1", "--data", data, "--out", out, "--threads", str(threads),
        "-o", "json", "--no-progress",
    ]  # fmt: skip


# --- the driver ------------------------------------------------------------------------


def run_process(cmd: list[str], runner: str) -> Run:
    """Run `cmd` (it prints a JSON line with rows and seconds) and measure its peak RSS.

    Through a small launcher process (`--measure`): a child's ru_maxrss starts
    at the RSS of the process it was forked from (Linux records the old
    address space's high-water mark at exec), and this driver has grown large
    writing the data. The launcher is a fresh, small interpreter.
    """
    started = time.perf_counter()
    launcher = [sys.executable, "-P", __file__, "--measure", *cmd]
    done = subprocess.run(launcher, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{runner} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    line = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(
        runner,
        line["rows"],
        line["seconds"],
        line["cpu_seconds"],
        line["peak_rss_kib"] / 1024,
        wall,
    )


def measure(cmd: list[str]) -> int:
    """Run `cmd`, print its last stdout line (JSON) with its peak RSS added; its exit code."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    # wait4 gives this child's own rusage (ru_maxrss in KiB on Linux).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code == 0:
        line = json.loads(out.decode().strip().splitlines()[-1])
        print(json.dumps({**line, "peak_rss_kib": usage.ru_maxrss}))
    return code


def command(runner: str, registry: str, artefact: str, data: Path, work: Path, threads: int):
    if runner == "score":
        return score_command(registry, str(data), str(work / f"{data.stem}-scores"), threads)
    worker = [sys.executable, "-P", __file__, "--worker", runner, "--data", str(data)]
    worker += ["--artefact", artefact, "--threads", str(threads)]
    if runner == "naive":
        worker += ["--out", str(work / f"{data.stem}-naive.parquet")]
    return worker


def train_model(registry: str, smoke: bool) -> str:
    from modelops_training import XGBParams, train

    if smoke:
        params, data = XGBParams(n_estimators=30), "synthetic:3000"
        gates = {"maxBaselineRegression": 0.05}  # a tiny fast model; its quality is not measured
    else:
        params, data, gates = XGBParams(), "synthetic:20000", None
    result = train(
        model="churn", data=data, registry_uri=registry, seed=0, params=params, gates=gates
    )
    if result["status"] != "approved" or result["version"] != "1":
        raise SystemExit(f"the benchmark model was not approved as version 1: {result['gates']}")
    return registry.removeprefix("file://") + "/churn/1/model.ubj"


def write_data(path: Path, rows: int, row_group: int) -> None:
    """`rows` synthetic customers, one row group per `row_group` rows, generated block by block."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelops_features import synthetic

    writer = None
    for seed, start in enumerate(range(0, rows, row_group)):
        block = synthetic.churn(min(row_group, rows - start), seed=seed)
        table = pa.Table.from_pandas(block.drop(columns=["churned"]), preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group)
    assert writer is not None
    writer.close()


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:
        raise SystemExit(measure(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each runner per size")
    parser.add_argument("--threads", type=int, default=0, help="XGBoost threads (0: default)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--workdir", default=None, help="keep data and outputs here")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="instead: the operator's Indexed Job at 2 pods vs 1 on the real node",
    )
    parser.add_argument("--cluster-rows", type=int, default=4_000_000, help="rows for --cluster")
    parser.add_argument("--worker", choices=("floor", "naive", "stages"), help=argparse.SUPPRESS)
    parser.add_argument("--registry", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--artefact", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.cluster:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from batch_cluster import main as cluster_main

        rows = 400_000 if args.smoke else args.cluster_rows
        cluster_main(rows, max(rows // 8, 1), 1 if args.smoke else max(args.repeat, 1))
        return
    if args.worker == "floor":
        print(json.dumps(floor_worker(args.data, args.artefact, args.threads)))
        return
    if args.worker == "naive":
        print(json.dumps(naive_worker(args.data, args.artefact, args.threads, args.out)))
        return
    if args.worker == "stages":
        print(json.dumps(stages_worker(args.data, args.registry, args.threads, args.out)))
        return

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    sizes = sorted(sizes or (SMOKE_SIZES if args.smoke else SIZES))
    repeat = 1 if args.smoke else max(args.repeat, 1)
    row_group = SMOKE_ROW_GROUP if args.smoke else ROW_GROUP
    work = Path(args.workdir or tempfile.mkdtemp(prefix="modelops-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        registry = f"file://{work / 'registry'}"
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        artefact = train_model(registry, args.smoke)
        files = {}
        for size in sizes:
            files[size] = work / f"customers-{size}.parquet"
            write_data(files[size], size, row_group)
        print(f"prepared model and data in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        sys.stderr.flush()

        runs: dict[tuple[int, str], list[Run]] = {}
        for size in sizes:
            for rep in range(repeat):
                # Rotate the order, so no runner always follows the same neighbour.
                for runner in RUNNERS[rep % 3 :] + RUNNERS[: rep % 3]:
                    cmd = command(runner, registry, artefact, files[size], work, args.threads)
                    run = run_process(cmd, runner)
                    runs.setdefault((size, runner), []).append(run)
                    print(
                        f"  {size:,} {runner}: {run.seconds:.2f} s, {run.peak_rss_mib:,.0f} MiB",
                        file=sys.stderr,
                    )
        results = {key: best(value) for key, value in sorted(runs.items())}
        stage_cmd = [sys.executable, "-P", __file__, "--worker", "stages", "--data",
                     str(files[sizes[0]]), "--registry", registry, "--threads", str(args.threads),
                     "--out", str(work / "stages.parquet")]  # fmt: skip
        stages = json.loads(subprocess.run(stage_cmd, capture_output=True, check=True).stdout)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)

    print(
        f"{os.cpu_count()} CPUs, load average {load_before:.2f} before / "
        f"{os.getloadavg()[0]:.2f} after; XGBoost threads {args.threads or 'default'}; "
        f"Parquet row groups of {row_group:,} rows; best of {repeat} run(s) each\n"
    )
    print("\n".join(table(results)))
    print()
    print("\n".join(goals(results, sizes)))
    print("\n".join(stages_lines(stages)))


if __name__ == "__main__":
    main()
