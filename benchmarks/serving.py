"""Serving benchmark: one command, one table.

    .venv/bin/python benchmarks/serving.py [--registry URI --version V] [--duration 10]

Measures p50 / p99 latency and throughput for 1-record and 100-record bodies on:
  (a) in-process   features + predict in this process, no HTTP (the floor)
  (b) bento-noop   a BentoML endpoint that parses the same body and does nothing
  (c) fastapi      FastAPI + uvicorn serving the same model, features and validation
  (d) churn        the churn bento's /predict (and /predict_batch, adaptive batching)

HTTP load comes from `wrk -t1 -c16 -d<duration>s --latency` (Debian's wrk, see
tools/system-deps.sh) after a warm-up run, one server at a time, each server a
single worker with OMP_NUM_THREADS=1. Without --registry a model is trained on
synthetic:20000 into a temporary registry first. Server CPU per request is the
server process tree's user+system CPU during the measured run / requests.
Timings are not asserted anywhere: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

SIZES = (1, 100)
GOAL_P50_RATIO_TO_NOOP = 1.3
GOAL_THROUGHPUT_RATIO_TO_FASTAPI = 1.5


@dataclass
class Row:
    server: str
    records: int
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int = 0
    cpu_ms_per_req: float | None = None
    note: str = ""


# -- model and bodies ----------------------------------------------------------------


def ensure_model(registry: str | None, version: str, workdir: Path) -> tuple[str, str]:
    if registry:
        from modelops_registry import Registry

        return registry, Registry.from_uri(registry).resolve("churn", version)
    from modelops_training import train

    uri = f"file://{workdir / 'registry'}"
    print("benchmark: training churn on synthetic:20000 into a temporary registry", file=sys.stderr)
    result = train(model="churn", data="synthetic:20000", registry_uri=uri, base_version=None)
    return uri, str(result["version"])


def bodies() -> dict[int, bytes]:
    from modelops_features import synthetic
    from modelops_features.churn import RAW_SCHEMA

    frame = synthetic.churn(max(SIZES), seed=7)
    columns = [*RAW_SCHEMA.names, "customer_id"]
    records = json.loads(frame[columns].to_json(orient="records"))
    return {n: json.dumps({"records": records[:n]}).encode() for n in SIZES}


# -- processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    ticks = os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        if p in stats:
            total += (int(stats[p][11]) + int(stats[p][12])) / ticks
        stack.extend(children.get(p, []))
    return total


@contextlib.contextmanager
def server(cmd: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[int]:
    from modelops_bentos.launch import wait_ready

    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        wait_ready(url, proc, timeout=120)
        yield proc.pid
    except Exception:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- wrk -----------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"cannot parse wrk duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def lua_script(body: bytes, path: Path) -> Path:
    text = body.decode()
    if "]==]" in text:
        raise ValueError("body cannot be embedded in a Lua long string")
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{text}]==]\n"
    )
    return path


def run_wrk(url: str, script: Path, seconds: float, connections: int) -> dict[str, float]:
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
        "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {"errors": 0.0}
    for line in out.splitlines():
        line = line.strip()
        if m := re.match(r"(50|99)(?:\.0+)?%\s+(\S+)", line):
            result[f"p{m.group(1)}"] = _ms(m.group(2))
        elif m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            result["rps"] = float(m.group(1))
        elif m := re.match(r"(\d+) requests in", line):
            result["requests"] = float(m.group(1))
        elif m := re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line):
            result["errors"] += float(m.group(1))
        elif m := re.match(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line
        ):
            result["errors"] += sum(float(g) for g in m.groups())
    if "rps" not in result or "p50" not in result:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return result


def measure_http(
    name: str, pid: int, url: str, bodies_: dict[int, bytes], args: argparse.Namespace,
    workdir: Path, note: str = "",
) -> list[Row]:  # fmt: skip
    rows = []
    for n, body in bodies_.items():
        script = lua_script(body, workdir / f"{name}-{n}.lua")
        run_wrk(url, script, args.warmup, args.connections)
        cpu0 = tree_cpu_seconds(pid)
        r = run_wrk(url, script, args.duration, args.connections)
        cpu = tree_cpu_seconds(pid) - cpu0
        requests = r.get("requests") or 1.0
        rows.append(
            Row(name, n, r["p50"], r["p99"], r["rps"], int(r["errors"]), cpu / requests * 1e3, note)
        )
        print(f"benchmark: {name} {n} record(s): {r['rps']:.0f} req/s", file=sys.stderr)
    return rows


# -- the four contenders -------------------------------------------------------------


def in_process(uri: str, version: str, bodies_: dict[int, bytes], seconds: float) -> list[Row]:
    """The floor: the same scoring function without HTTP, one call at a time."""
    from modelops_bentos.churn.model import LoadRequest, load_model
    from modelops_bentos.churn.scoring import score

    model = load_model(LoadRequest(registry_uri=uri, model="churn", ref=version))
    rows = []
    for n, body in bodies_.items():
        records = json.loads(body)["records"]
        for _ in range(200):
            score(model, records)
        times, deadline = [], time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            score(model, records)
            times.append((time.perf_counter() - t0) * 1e3)
        q = statistics.quantiles(times, n=100)
        rows.append(Row("in-process", n, q[49], q[98], 1e3 / statistics.fmean(times),
                        note="score(): features + inplace_predict, 1 thread"))  # fmt: skip
    return rows


def bench_env(uri: str, version: str) -> dict[str, str]:
    from modelops_bentos.launch import serve_env

    return serve_env(uri, "churn", version)


def bento(
    target: str, name: str, uri: str, version: str, bodies_, args, workdir, routes
) -> list[Row]:
    from modelops_bentos.launch import bentoml_executable

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [*bentoml_executable(), "serve", target, "--host", "127.0.0.1", "--port", str(port),
           "--working-dir", str(HERE)]  # fmt: skip
    rows = []
    with server(cmd, bench_env(uri, version), base, workdir / f"{name}.log") as pid:
        for route, label, note in routes:
            rows += measure_http(label, pid, f"{base}{route}", bodies_, args, workdir, note)
    return rows


def fastapi(uri: str, version: str, bodies_, args, workdir) -> list[Row]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(HERE),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with server(cmd, bench_env(uri, version), base, workdir / "fastapi.log") as pid:
        return measure_http("fastapi", pid, f"{base}/predict", bodies_, args, workdir,
                            note=_uvicorn_stack())  # fmt: skip


def _uvicorn_stack() -> str:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {loop} + {http}"


# -- report --------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        "| server | records/req | p50 ms | p99 ms | req/s | records/s | server CPU ms/req | non-2xx+errors | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        cpu = "-" if r.cpu_ms_per_req is None else f"{r.cpu_ms_per_req:.2f}"
        lines.append(
            f"| {r.server} | {r.records} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.rps:.0f} | "
            f"{r.rps * r.records:.0f} | {cpu} | {r.errors} | {r.note} |"
        )
    return "\n".join(lines)


def goals(rows: list[Row]) -> str:
    def get(server: str, n: int) -> Row | None:
        return next((r for r in rows if r.server == server and r.records == n), None)

    churn, noop, peer = get("churn", 1), get("bento-noop", 1), get("fastapi", 1)
    out = []
    if churn and noop:
        ratio = churn.p50_ms / noop.p50_ms
        verdict = "met" if ratio <= GOAL_P50_RATIO_TO_NOOP else "NOT met"
        out.append(f"- churn p50 / no-op p50 (1 record): {ratio:.2f}x "
                   f"(goal <= {GOAL_P50_RATIO_TO_NOOP}x): {verdict}")  # fmt: skip
    if churn and noop and churn.cpu_ms_per_req and noop.cpu_ms_per_req:
        out.append(
            f"- churn server CPU / no-op server CPU per 1-record request: "
            f"{churn.cpu_ms_per_req / noop.cpu_ms_per_req:.2f}x (less sensitive to a busy machine than p50)"
        )
    if churn and peer:
        ratio = churn.rps / peer.rps
        verdict = "met" if ratio >= GOAL_THROUGHPUT_RATIO_TO_FASTAPI else "NOT met"
        out.append(f"- churn req/s / FastAPI req/s (1 record): {ratio:.2f}x "
                   f"(goal >= {GOAL_THROUGHPUT_RATIO_TO_FASTAPI}x): {verdict}")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--registry", help="registry URI holding a churn model (default: train one)"
    )
    parser.add_argument("--version", default="latest")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per body")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(
            "benchmark: wrk is missing; install it with tools/system-deps.sh (Debian: apt-get install wrk)"
        )

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="modelops-bench-") as tmp:
        workdir = Path(tmp)
        uri, version = ensure_model(args.registry, args.version, workdir)
        bodies_ = bodies()
        rows = in_process(uri, version, bodies_, seconds=min(args.duration, 5.0))
        rows += bento("noop_service:Noop", "bento-noop", uri, version, bodies_, args, workdir,
                      [("/predict", "bento-noop", "BentoML, parses body, no work")])  # fmt: skip
        rows += fastapi(uri, version, bodies_, args, workdir)
        rows += bento("modelops_bentos.churn.service:Churn", "churn", uri, version, bodies_, args,
                      workdir, [("/predict", "churn", "BentoML 1.4, /predict"),
                                ("/predict_batch", "churn-batch", "adaptive batching")])  # fmt: skip

    print(f"\nchurn model version {version}; wrk -t1 -c{args.connections} -d{args.duration:g}s "
          f"--latency after {args.warmup:g}s warm-up; OMP_NUM_THREADS=1; {os.cpu_count()} CPUs; "
          f"1-min load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
          "(other processes share these CPUs: compare within one run)\n")  # fmt: skip
    print(table(rows))
    print()
    print(goals(rows))


if __name__ == "__main__":
    main()
