"""Ground-truth benchmark: the inference log's serving cost, live quality at 1M labels, and
the label-free estimate's error after a concept shift. A report, never asserted.

    .venv/bin/python -P benchmarks/ground_truth.py [--smoke] [--duration 10] [--runs 2]
        [--rows 1000000] [--only serving,quality,estimate]

1. Serving cost (benchmarks/serving.py's machinery: `wrk -t1 -c16`, server CPU
   per request from /proc): the churn bento as it was before the inference log
   (commit BEFORE_COMMIT, run from `git archive` in this venv), then this
   checkout with MODELOPS_LOG_SAMPLE 0, 0.1 and 1.0 (default queue, batch and
   flush settings, a file:// store), 1 and 100 records per request. After each
   run the bento's own counters say how many records were written or dropped.
2. Live quality for N labelled predictions (default 1M): a churn log written in
   files of 50k rows with every column (what the bento writes), outcomes for all
   of them (half by request id, half by hashed customer id), then the phases
   of groundtruth.window_quality (read, join, maths) timed on their own, and the
   whole call.
3. The label-free estimate (CBPE) against the measured metric, on 50k fresh
   customers per world: as trained, with input (covariate) shift, and with
   concept shift (synthetic:N:seed:0:concept, the same inputs answered
   differently). The estimate follows input shift and is blind to concept shift.

--smoke: 2 s wrk runs, one run, sample 0 and 1.0 only, 20k rows, 5k customers.
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
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Appended, not prepended: a module here must never shadow the standard library.
sys.path.append(str(HERE))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import serving  # noqa: E402  (the churn bodies and the model the serving benchmark uses)
import serving_http  # noqa: E402  (wrk, process-tree CPU, the table)

# The last commit of the churn bento before the inference log and request ids.
BEFORE_COMMIT = "a61316ac866d74d6087f5132c8c39f8fa5e10cc8"
TARGET = "modelops_bentos.churn.service:Churn"
FILE_ROWS = 50_000


# -- 1. serving cost -----------------------------------------------------------------


def _archive(commit: str, dest: Path) -> Path:
    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit, "bentos/modelops_bentos"],
                                 cwd=REPO, check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "bentos"


def _logged(url: str) -> dict[str, float]:
    """The bento's modelops_logged_records_total for the inference log, by outcome."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("modelops_logged_records_total{") and 'stream="inference-log"' in line:
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            out[outcome] = float(line.rsplit(" ", 1)[1])
    return out


def serving_cost(args: argparse.Namespace, uri: str, version: str, workdir: Path) -> list:
    from modelops_bentos.launch import bentoml_executable, serve_env

    bodies = serving.bodies()
    configs = [("before", None)] + [(f"sample {s:g}", s) for s in args.samples]
    rows, notes = [], []
    for run in range(1, args.runs + 1):
        order = configs if run % 2 else list(reversed(configs))
        for label, sample in order:
            port = serving_http.free_port()
            base = f"http://127.0.0.1:{port}"
            store = workdir / f"log-{run}-{label.replace(' ', '')}"
            cmd = [
                *bentoml_executable(),
                "serve",
                TARGET,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            env = serve_env(uri, "churn", version)
            if sample is None:
                source = _archive(BEFORE_COMMIT, workdir / "before")
                env["PYTHONPATH"] = str(source)
                cmd += ["--working-dir", str(source)]
                note = f"bento at {BEFORE_COMMIT[:7]}: no log, no request ids"
            else:
                env.update(
                    {"MODELOPS_LOG_SAMPLE": str(sample), "MODELOPS_LOG_URI": f"file://{store}"}
                )
                note = f"MODELOPS_LOG_SAMPLE={sample:g}"
            log = workdir / f"serve-{run}-{label.replace(' ', '')}.log"
            with serving_http.server(cmd, env, base, log) as pid:
                time.sleep(1.0)
                got = serving_http.measure_http(label, pid, f"{base}/predict", bodies, args,
                                                workdir, note)  # fmt: skip
                counts = _logged(base) if sample is not None else {}
            for row in got:
                row.run = run
            rows += got
            if counts:
                notes.append(
                    f"run {run}, {label}: {counts.get('written', 0):.0f} records written in the "
                    f"run, {sum(v for k, v in counts.items() if k.startswith('dropped')):.0f} "
                    "dropped before shutdown"
                )
    return [rows, notes]


# -- 2. quality at scale -------------------------------------------------------------


def _train(workdir: Path) -> tuple[str, str]:
    from modelops_training import train

    uri = f"file://{workdir / 'registry'}"
    print("benchmark: training churn on synthetic:20000", file=sys.stderr)
    result = train(model="churn", data="synthetic:20000", registry_uri=uri)
    return uri, str(result["version"])


def _timed(fn, *a, **kw):
    started = time.perf_counter()
    value = fn(*a, **kw)
    return value, time.perf_counter() - started


def write_logged_world(
    uri: str, version: str, rows: int, concept: float = 0.0
) -> tuple[datetime, datetime, float, float]:
    """A churn log of `rows` scored customers plus an outcome for each; returns the window
    and the seconds spent writing the log and the feedback."""
    from modelops_bentos.churn.model import LoadRequest, load_model
    from modelops_bentos.churn.scoring import score
    from modelops_features import churn as churn_features
    from modelops_features import groundtruth, parquet, synthetic
    from modelops_features import inference_log as il
    from modelops_registry.datalog import DataLog

    model = load_model(LoadRequest(registry_uri=uri, model="churn", ref=version))
    layout = il.layout("churn")
    policy = il.IdentifierPolicy("hash", b"bench")
    store = DataLog(uri)
    world = synthetic.churn(rows, seed=11, concept=concept)
    columns = [*churn_features.RAW_SCHEMA.names, churn_features.ID_COLUMN]
    # Requests one second apart must all lie in the past: a prediction after the window's
    # end (or after its outcome's observed_at) is neither read nor matched by entity.
    start = datetime.now(UTC) - timedelta(seconds=rows / 100 + 600)
    write_log = write_feedback = 0.0
    meta = il.file_metadata(il.LOG_STREAM, layout, "churn")
    now = groundtruth.to_us(datetime.now(UTC))
    for first in range(0, rows, FILE_ROWS):
        chunk = world.iloc[first : first + FILE_ROWS]
        records = json.loads(chunk[columns].to_json(orient="records"))
        requests = []
        for r in range(0, len(records), 100):  # 100-record requests, one second apart
            part = records[r : r + 100]
            scored = score(model, part)
            requests.append(il.LoggedRequest(
                f"q{first + r}", "predict", groundtruth.to_us(start) + (first + r) * 10_000,
                "churn", version, part, scored.features, scored.probabilities))  # fmt: skip
        started = time.perf_counter()
        data = il.log_columns(layout, requests, policy)
        store.write(
            "churn",
            il.LOG_STREAM,
            start.date(),
            parquet.encode(layout.log_columns(), data, metadata=meta),
        )
        write_log += time.perf_counter() - started
        labels = chunk[churn_features.TARGET].tolist()
        ids = chunk[churn_features.ID_COLUMN].tolist()
        by_request = [i % 2 == 0 for i in range(len(chunk))]
        fb = {
            "request_id": [f"q{first + (i // 100) * 100}" if b else None for i, b in enumerate(by_request)],
            "record": [i % 100 if b else None for i, b in enumerate(by_request)],
            "entity_id": [None if b else policy.apply(e) for e, b in zip(ids, by_request, strict=True)],
            "outcome": labels,
            "observed_at": [now] * len(chunk),
            "received_at": [now] * len(chunk),
            "source": ["bench"] * len(chunk),
        }  # fmt: skip
        started = time.perf_counter()
        store.write("churn", il.FEEDBACK_STREAM, datetime.now(UTC).date(),
                    parquet.encode(layout.feedback_columns(), fb))  # fmt: skip
        write_feedback += time.perf_counter() - started
    return (
        start - timedelta(minutes=1),
        datetime.now(UTC) + timedelta(minutes=1),
        write_log,
        write_feedback,
    )


def quality_at_scale(uri: str, version: str, rows: int) -> list[tuple[str, float, str]]:
    from modelops_features import groundtruth, quality
    from modelops_features import inference_log as il
    from modelops_registry.datalog import DataLog

    print(f"benchmark: writing a {rows}-row inference log and its outcomes", file=sys.stderr)
    start, end, write_log, write_feedback = write_logged_world(uri, version, rows)
    store = DataLog(uri)
    layout = il.layout("churn")
    size = sum(p.stat().st_size for p in Path(uri[7:]).rglob("*.parquet"))
    (log, feedback), read = _timed(
        groundtruth.read_window, store, "churn", start, end, groundtruth.quality_columns(layout)
    )
    joined, join = _timed(groundtruth.join, log, feedback)
    y = np.array([np.nan if o is None else float(o) for o in joined.outcomes.tolist()])
    segments = {c: log.data[f"raw_{c}"] for c in layout.segment_columns}
    result, maths = _timed(quality.binary_quality, log.data["prediction"], y, segments)
    report, whole = _timed(groundtruth.window_quality, store, "churn", start, end)
    q = report.versions[version]
    return [
        ("write the log (encode + store)", write_log, f"{rows / write_log:,.0f} rows/s, {log.files} files"),
        ("write the outcomes", write_feedback, f"{rows / write_feedback:,.0f} rows/s"),
        ("read the window (needed columns)", read, f"{size / 2**20:.0f} MiB of Parquet on disk"),
        ("join (request id, else entity + time)", join,
         f"{joined.by_request:,} by request id, {joined.by_entity:,} by entity"),
        ("metrics + estimate (numpy)", maths, f"AUC {result.metrics['auc']:.4f}, est. {result.estimated['auc']:.4f}"),
        ("window_quality(), the whole call", whole, f"{q.labelled:,} labelled of {q.predictions:,}"),
    ]  # fmt: skip


# -- 3. the estimate's error ---------------------------------------------------------


def estimate_error(uri: str, version: str, customers: int) -> list[tuple[str, dict, dict]]:
    from modelops_bentos.churn.model import LoadRequest, load_model
    from modelops_features import churn as churn_features
    from modelops_features import quality, synthetic

    model = load_model(LoadRequest(registry_uri=uri, model="churn", ref=version))
    worlds = [
        ("as trained (synthetic:N:21)", 0.0, 0.0),
        ("input shift 1.0 (covariate)", 1.0, 0.0),
        ("concept shift 0.5", 0.0, 0.5),
        ("concept shift 1.0", 0.0, 1.0),
    ]
    out = []
    for name, shift, concept in worlds:
        frame = synthetic.churn(customers, seed=21, shift=shift, concept=concept)
        matrix = churn_features.model_matrix(churn_features.compute(frame)).astype(np.float32)
        p = model.predict(matrix).reshape(-1).astype(np.float64)
        result = quality.binary_quality(p, frame[churn_features.TARGET].to_numpy(dtype=float))
        out.append((name, result.metrics, result.estimated))
    return out


# -- report --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="seconds, not minutes: a quick check")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per body")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2, help="serving runs, alternating order")
    parser.add_argument("--rows", type=int, default=1_000_000, help="labelled predictions")
    parser.add_argument("--customers", type=int, default=50_000, help="per world, for the estimate")
    parser.add_argument("--only", default="serving,quality,estimate")
    args = parser.parse_args()
    args.samples = (0.0, 0.1, 1.0)
    if args.smoke:
        args.duration, args.warmup, args.runs = 2.0, 1.0, 1
        args.rows, args.customers, args.samples = 20_000, 5_000, (0.0, 1.0)
    parts = set(args.only.split(","))
    if "serving" in parts and shutil.which("wrk") is None:
        sys.exit("benchmark: wrk is missing; install it with tools/system-deps.sh")
    load = os.getloadavg()
    runs_root = Path.home() / ".cache" / "modelops" / "bench-runs"
    runs_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ground-truth-", dir=runs_root) as tmp:
        workdir = Path(tmp)
        uri, version = _train(workdir)
        serving_rows = serving_cost(args, uri, version, workdir) if "serving" in parts else None
        scale = quality_at_scale(uri, version, args.rows) if "quality" in parts else None
        errors = estimate_error(uri, version, args.customers) if "estimate" in parts else None

    print(f"\nchurn model version {version} (synthetic:20000); {os.cpu_count()} CPUs; 1-min load "
          f"average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after (shared machine)\n")  # fmt: skip
    status = 0
    if serving_rows:
        rows, notes = serving_rows
        rows, refused = serving_http.reportable(rows)
        print(f"1. Serving cost of the inference log: wrk -t1 -c{args.connections} "
              f"-d{args.duration:g}s --latency after {args.warmup:g}s warm-up, POST /predict\n")  # fmt: skip
        print(serving_http.table(sorted(rows, key=lambda r: (r.run, r.records, r.server))))
        print()
        for note in notes:
            print(f"- {note}")
        serving_http.print_refused(refused)
        status = 1 if refused else 0
    if scale:
        print(
            f"\n2. Live quality over {args.rows:,} labelled predictions (one window, one version)\n"
        )
        print("| phase | seconds | note |\n| --- | ---: | --- |")
        for phase, seconds, note in scale:
            print(f"| {phase} | {seconds:.2f} | {note} |")
    if errors:
        print(
            f"\n3. Label-free estimate (CBPE) against the measured metric, {args.customers:,} customers per world\n"
        )
        print("| world | AUC | estimated AUC | error | accuracy | estimated accuracy | error |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, measured, estimated in errors:
            print(f"| {name} | {measured['auc']:.3f} | {estimated['auc']:.3f} | "
                  f"{estimated['auc'] - measured['auc']:+.3f} | {measured['accuracy']:.3f} | "
                  f"{estimated['accuracy']:.3f} | {estimated['accuracy'] - measured['accuracy']:+.3f} |")  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
