"""Serving benchmark of the learning-path service, in the same table as churn's.

    .venv/bin/python benchmarks/serving_learning_path.py [--registry URI --version V] [--duration 10]
    .venv/bin/python benchmarks/serving_learning_path.py --smoke   # 1 s runs, small model (CI)

Rows (same columns and load generator as benchmarks/serving.py, through
benchmarks/serving_http.py):
  lp-in-process   features + numpy softmax + top-k in this process, no HTTP
  learning-path   the bento's POST /recommend, one student per request

/recommend takes one student per request (it ranks modules for that student),
so there is no 100-record row. Without --registry a model is trained on
synthetic:20000 into a temporary registry first. Timings are a report, never
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Appended, not prepended: a module here must never shadow the standard library.
sys.path.append(str(HERE))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import serving_http as serving  # noqa: E402  (wrk, process-tree and table helpers)

MODEL = "learning-path"
TARGET = "modelops_bentos.learning_path.service:LearningPath"
BODY = "student"  # the "body" column: one student's activity per request


def ensure_model(
    registry: str | None, version: str, workdir: Path, rows: int = 20_000
) -> tuple[str, str]:
    if registry:
        from modelops_registry import Registry

        return registry, Registry.from_uri(registry).resolve(MODEL, version)
    from modelops_training import train

    uri = f"file://{workdir / 'registry'}"
    print(f"benchmark: training learning-path on synthetic:{rows}", file=sys.stderr)
    result = train(model=MODEL, data=f"synthetic:{rows}", registry_uri=uri)
    return uri, str(result["version"])


def body() -> bytes:
    from modelops_bentos.learning_path.examples import SAMPLE_REQUEST

    return json.dumps(SAMPLE_REQUEST).encode()


def in_process(uri: str, version: str, seconds: float) -> serving.Row:
    from modelops_bentos.learning_path.model import LoadRequest, load_recommender
    from modelops_bentos.learning_path.scoring import rank

    model = load_recommender(LoadRequest(registry_uri=uri, model=MODEL, ref=version))
    request = json.loads(body())
    activity, k = request["activity"], request["k"]
    for _ in range(200):
        rank(model.scorer, activity, k)
    times, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        rank(model.scorer, activity, k)
        times.append((time.perf_counter() - t0) * 1e3)
    q = statistics.quantiles(times, n=100)
    return serving.Row("lp-in-process", 1, q[49], q[98], 1e3 / statistics.fmean(times),
                       note="rank(): features + numpy softmax + top-k", body=BODY)  # fmt: skip


def bento(uri: str, version: str, args: argparse.Namespace, workdir: Path) -> list[serving.Row]:
    from modelops_bentos.launch import serve_command, serve_env

    port = serving.free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = serve_command(TARGET, "127.0.0.1", port)
    env = serve_env(uri, MODEL, version)
    with serving.server(cmd, env, base, workdir / "learning-path.log") as pid:
        return serving.measure_http("learning-path", pid, f"{base}/recommend", {1: body()}, args,
                                    workdir, "BentoML 1.4, /recommend", body=BODY)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registry", help="registry URI holding a learning-path model")
    parser.add_argument("--version", default="latest")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--smoke", action="store_true", help="1 s wrk runs, a small model (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.warmup = 1.0, 1.0
    if shutil.which("wrk") is None:
        sys.exit("benchmark: wrk is missing; install it with tools/system-deps.sh")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="modelops-bench-lp-") as tmp:
        workdir = Path(tmp)
        rows = 3_000 if args.smoke else 20_000
        uri, version = ensure_model(args.registry, args.version, workdir, rows)
        rows = [in_process(uri, version, seconds=min(args.duration, 5.0))]
        rows, refused = serving.reportable(rows + bento(uri, version, args, workdir))
    print(f"\nlearning-path model version {version}; wrk -t1 -c{args.connections} "
          f"-d{args.duration:g}s --latency after {args.warmup:g}s warm-up; {os.cpu_count()} CPUs; "
          f"1-min load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after\n")  # fmt: skip
    print(serving.table(rows))
    serving.print_refused(refused)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
