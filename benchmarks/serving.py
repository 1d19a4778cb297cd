"""Serving benchmark: the churn bento side by side with the peers, one command.

    .venv/bin/python benchmarks/serving.py [--registry URI --version V] [--duration 15]
        [--runs 2] [--only churn,fastapi,...]
    .venv/bin/python benchmarks/serving.py --only churn,fastapi,litserve --interleave 5
    .venv/bin/python benchmarks/serving.py --smoke   # every server, 1 s wrk runs (CI)

Servers (one at a time unless --interleave, one worker each, OMP_NUM_THREADS=1, same
model artefact):
  churn, churn-batch   the churn bento (/predict, /predict_batch), product venv
  churn-routed         the churn bento with /predict through BentoML's route
                       (MODELOPS_DIRECT_ROUTES=false)
  churn-unpaced        the churn bento without its admission queue
                       (MODELOPS_MAX_QUEUE_MS=0): what the queue costs per request
  churn-alone          the churn bento scoring every /predict alone
                       (MODELOPS_COALESCE=false): what coalescing gives
  churn-stock          the churn bento as it was before the performance work
                       (serving_servers.BEFORE_COMMIT, stock BentoML without uvloop / httptools)
  bento-noop           a BentoML endpoint that parses the body and does nothing
  fastapi              FastAPI + uvicorn (uvloop + httptools)
  litserve             LitServe (one API server, one inference worker)
  ray                  Ray Serve, one replica, max_ongoing_requests=32 (default 5)
  mlserver             MLServer + mlserver-xgboost (V2 tensors: precomputed rows only)
Bodies: raw records ({"records": [...]}, validated, features computed) and
precomputed model rows ({"inputs": [[...]]}; MLServer's V2 tensor), 1 and 100
records each. The peers run in bench-only environments the script creates and
caches under ~/.cache/modelops/bench-envs/ (benchmarks/peers/envs.py), never
in the product's venv.

Each server/body/size gets `wrk -t1 -c16 -d<duration>s --latency` after a
warm-up; the whole suite runs --runs times, every other run in reverse order.
With --interleave N a run starts its servers together and, for each body and
size, loads them in turns of duration/N seconds, N turns each, alternating the
order: a slow minute of a shared machine then falls on every server alike
instead of deciding a ratio (serving_http.measure_interleaved says how turns
are summed). Idle servers still cost a little CPU; leave out Ray (its daemons
keep running) with --only when comparing that way.
Server CPU per request is the server process tree's user+system CPU (from
/proc/<pid>/stat) over the measured run divided by its requests; idle RSS is
the tree's resident memory once ready, before any load. Without --registry a
model is trained on synthetic:20000 into a temporary registry first. Timings
are not asserted anywhere: this is a report, not a test. A server that fails
to start or to answer is reported and makes the exit status 1 (the others'
rows are still printed). `--smoke` runs every server and body once with 1 s
wrk runs on a model trained on synthetic:3000: it proves the benchmark and
every peer environment work, its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from serving_data import (  # noqa: F401  (re-exported: the other benchmarks import them from here)
    SIZES,
    all_bodies,
    bodies,
    ensure_model,
    in_process,
    model_file,
)
from serving_http import (
    Row,
    Target,
    free_port,
    measure_http,
    measure_interleaved,
    print_refused,
    reportable,
    server,
    table,
    tree_rss_mb,
)
from serving_servers import (  # noqa: F401  (re-exported: the other benchmarks import them from here)
    BENTO_NAMES,
    SERVERS,
    Context,
    ServerSpec,
    _bento_cmd,
    bench_env,
)

HERE = Path(__file__).resolve().parent
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@contextlib.contextmanager
def started(spec: ServerSpec, ctx: Context, run: int) -> Iterator[tuple[int, str, float]]:
    """The spec's server, up and settled: (pid, base URL, idle RSS in MiB)."""
    cmd, env = spec.command(ctx)
    base = f"http://127.0.0.1:{ctx.port}"
    log = ctx.workdir / f"{spec.name}-{run}.log"
    with server(cmd, env, base, log, spec.ready_path, spec.ready_timeout) as pid:
        time.sleep(1.0)  # let start-up work settle before the idle reading
        yield pid, base, tree_rss_mb(pid)


def run_spec(spec: ServerSpec, ctx: Context, bodies_: dict[str, dict[int, bytes]],
             args: argparse.Namespace, run: int) -> list[Row]:  # fmt: skip
    rows: list[Row] = []
    with started(spec, ctx, run) as (pid, base, rss):
        for label, route, kind in spec.routes:
            got = measure_http(label, pid, f"{base}{route}", bodies_[kind], args, ctx.workdir,
                               spec.note, kind)  # fmt: skip
            for row in got:
                row.rss_mb, row.run = rss, run
            rows += got
    return rows


def run_together(specs: list[ServerSpec], contexts: Callable[[], Context],
                 bodies_: dict[str, dict[int, bytes]], args: argparse.Namespace,
                 run: int) -> tuple[list[Row], list[str]]:  # fmt: skip
    """--interleave: every server of the run up at once, loaded in turns (measure_interleaved)."""
    failed: list[str] = []
    targets: list[Target] = []
    workdir = contexts().workdir
    with contextlib.ExitStack() as stack:
        for spec in specs:
            ctx = contexts()
            try:
                pid, base, rss = stack.enter_context(started(spec, ctx, run))
            except Exception as exc:  # one broken peer must not lose the others' numbers
                print(f"benchmark: {spec.name} failed: {exc}", file=sys.stderr)
                failed.append(f"{spec.name} (run {run}): {exc}")
                continue
            targets += [Target(label, pid, f"{base}{route}", kind, spec.note, rss)
                        for label, route, kind in spec.routes]  # fmt: skip
        rows = measure_interleaved(targets, bodies_, args, workdir, run)
    return rows, failed


def run_one_by_one(specs: list[ServerSpec], contexts: Callable[[], Context],
                   bodies_: dict[str, dict[int, bytes]], args: argparse.Namespace,
                   run: int) -> tuple[list[Row], list[str]]:  # fmt: skip
    """The default: one server at a time, each loaded for every body and size in a row."""
    rows: list[Row] = []
    failed: list[str] = []
    for spec in specs:
        try:
            rows += run_spec(spec, contexts(), bodies_, args, run)
        except Exception as exc:  # one broken peer must not lose the others' numbers
            print(f"benchmark: {spec.name} failed: {exc}", file=sys.stderr)
            failed.append(f"{spec.name} (run {run}): {exc}")
    return rows, failed


# -- report --------------------------------------------------------------------------


def ratios(rows: list[Row]) -> str:
    """The churn bento against the best peer (by req/s) on the same body and size."""
    out = []
    for n in SIZES:
        churn = [r for r in rows if r.server == "churn" and r.records == n]
        peers = [r for r in rows
                 if r.server not in BENTO_NAMES and r.body == "records" and r.records == n]  # fmt: skip
        if not churn or not peers:
            continue
        c, best = churn[0], max(peers, key=lambda r: r.rps)
        cpu = ""
        if c.cpu_ms_per_req and best.cpu_ms_per_req:
            cpu = f", CPU/req {c.cpu_ms_per_req / best.cpu_ms_per_req:.2f}x"
        out.append(
            f"- {n} record(s), raw-record body: churn {c.rps:.0f} req/s vs best peer "
            f"{best.server} {best.rps:.0f} req/s = {c.rps / best.rps:.2f}x; "
            f"p99 {c.p99_ms:.1f} vs {best.p99_ms:.1f} ms{cpu}"
        )
        for other, what in (
            ("churn-routed", "BentoML's route"),
            ("churn-unpaced", "no admission queue"),
            ("churn-alone", "no coalescing"),
            ("churn-stock", "before"),
        ):
            for s in [r for r in rows if r.server == other and r.records == n][:1]:
                out.append(f"  - churn vs {other} ({what}): {c.rps / s.rps:.2f}x req/s, "
                           f"CPU/req {c.cpu_ms_per_req:.2f} vs {s.cpu_ms_per_req:.2f} ms")  # fmt: skip
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--registry", help="registry URI holding a churn model (default: train one)"
    )
    parser.add_argument("--version", default="latest")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per body")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2, help="suite runs, alternating order")
    parser.add_argument("--only", help="comma-separated server names (default: all)")
    parser.add_argument("--smoke", action="store_true", help="every server once, 1 s runs (CI)")
    parser.add_argument(
        "--interleave", type=int, default=1, metavar="N",
        help="start a run's servers together and load them in N turns each, alternating "
        "(default 1: one server at a time)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.warmup, args.runs = 1.0, 1.0, 1
    if shutil.which("wrk") is None:
        sys.exit(
            "benchmark: wrk is missing; install it with tools/system-deps.sh (Debian: apt-get install wrk)"
        )
    specs = SERVERS
    if args.only:
        wanted = set(args.only.split(","))
        specs = [s for s in SERVERS if s.name in wanted]
    sys.path.insert(0, str(HERE))

    load_before = os.getloadavg()
    runs: list[list[Row]] = []
    # The work folder lives beside the bench environments, not in /tmp: on a
    # shared machine other jobs' /tmp clean-ups removed it mid-run once.
    runs_root = Path.home() / ".cache" / "modelops" / "bench-runs"
    runs_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="serving-", dir=runs_root) as tmp:
        workdir = Path(tmp)
        uri, version = ensure_model(
            args.registry, args.version, workdir, 3_000 if args.smoke else 20_000
        )
        artefact = model_file(uri, version, workdir)
        bodies_ = all_bodies()
        floor = in_process(uri, version, bodies_["records"], seconds=min(args.duration, 5.0))
        failed: list[str] = []

        def contexts() -> Context:  # one per server: its own port
            return Context(uri, version, artefact, workdir, free_port())

        for run in range(1, args.runs + 1):
            order = specs if run % 2 else list(reversed(specs))
            measure = run_together if args.interleave > 1 else run_one_by_one
            got, broken = measure(order, contexts, bodies_, args, run)
            # A row of error answers measures nothing: it is not reported at all
            # (Row.refusal), and the run exits non-zero naming it.
            kept, refused = reportable(got)
            runs.append(kept)
            failed += broken + refused

    how = f"-d{args.duration:g}s"
    if args.interleave > 1:
        turn = max(1, round(args.duration / args.interleave))
        how = f"-d{turn}s x {args.interleave} turns per server, servers up together"
    print(f"\nchurn model version {version}; wrk -t1 -c{args.connections} {how} "
          f"--latency after {args.warmup:g}s warm-up; OMP_NUM_THREADS=1; {os.cpu_count()} CPUs; "
          f"1-min load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
          "(other processes share these CPUs: compare within one run)\n")  # fmt: skip
    print("In process (no HTTP, the floor):\n")
    print(table(floor))
    for run, rows in enumerate(runs, start=1):
        order = "listed order" if run % 2 else "reverse order"
        print(f"\nRun {run} ({order}):\n")
        print(table(sorted(rows, key=lambda r: (r.body, r.records, -r.rps))))
        print()
        print(ratios(rows))
    if failed:
        print_refused(failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
