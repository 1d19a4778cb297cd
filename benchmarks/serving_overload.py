"""Overload benchmark: the churn bento at 1x, 3x and 10x its capacity, with wrk.

    .venv/bin/python benchmarks/serving_overload.py [--registry URI --version V]
        [--duration 15] [--capacity 16] [--loads 1,3,10] [--env KEY=VALUE ...]
    .venv/bin/python benchmarks/serving_overload.py --smoke   # 1 s runs at 1x and 10x (CI)

One `bentoml serve` of the churn service per --env setting (default: the
service as configured, then with shedding off: MODELOPS_MAX_QUEUE_MS=0), one
worker, OMP_NUM_THREADS=1. For each load, `wrk -t1 -c<capacity x load>` posts
1-record /predict bodies for --duration seconds (closed loop: every connection
sends its next request when the previous one is answered). Capacity is
--capacity connections: the benchmark suite's 16, at which one worker is
already saturated (its req/s no longer grows with connections).

wrk cannot split its latency by status, so a probe (one more keep-alive
connection, one request at a time) runs beside it and records each answer's
status and latency: the admitted (200) and shed (503) latency columns are the
probe's, the req/s, status counts and overall p99 are wrk's. A gentle probe
sees less than the callers that hammer: `--generator asyncio` replaces wrk
with an asyncio client (same closed loop, same connections) that times every
request by status, which is what the docs quote. Timings are a report, never
asserted: the machine is shared. `--smoke` proves the script
works (model trained on synthetic:3000, 1 s runs); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from serving import Context, _bento_cmd, bodies, ensure_model  # noqa: E402
from serving_http import _ms, free_port, server  # noqa: E402

from modelops_testkit import wrk  # noqa: E402


@dataclass
class Result:
    setting: str
    load: int
    connections: int
    rps: float
    ok: int
    shed: int
    other: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    seconds: float
    probe_ok: list[float]
    probe_shed: list[float]
    probe_other: int


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
           "-s", str(script), url]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    got: dict[str, float] = {}
    for line in out.splitlines():
        line = line.strip()
        if m := re.match(r"(50|99)(?:\.0+)?%\s+(\S+)", line):
            got[f"p{m.group(1)}"] = _ms(m.group(2))
        elif m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            got["rps"] = float(m.group(1))
    counts = wrk.status_counts(out)
    if "rps" not in got or counts is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return {**got, **counts}


class Probe(threading.Thread):
    """One request at a time on one keep-alive connection: (status, latency ms) per answer."""

    def __init__(self, port: int, body: bytes) -> None:
        super().__init__(daemon=True)
        self.port, self.body = port, body
        self.samples: list[tuple[int, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/predict", self.body, headers)
                response = conn.getresponse()
                response.read()
                self.samples.append((response.status, (time.perf_counter() - t0) * 1e3))
            except OSError:
                self.samples.append((-1, (time.perf_counter() - t0) * 1e3))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            time.sleep(0.01)  # a sample, not load


def run_asyncio(port: int, body: bytes, seconds: float, connections: int) -> Result:
    """Every connection sends its next request when the last is answered; each one timed."""
    import asyncio

    head = (b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    samples: list[tuple[int, float]] = []

    async def connection(end: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < end:
            started = time.monotonic()
            writer.write(head + body)
            lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            length = next(int(h.split(b":")[1]) for h in lines if h.lower().startswith(b"content-length"))  # fmt: skip
            await reader.readexactly(length)
            samples.append((int(lines[0].split(b" ")[1]), (time.monotonic() - started) * 1e3))
        writer.close()

    async def all_connections() -> None:
        end = time.monotonic() + seconds
        await asyncio.gather(*(connection(end) for _ in range(connections)))

    asyncio.run(all_connections())
    ok = [ms for status, ms in samples if status == 200]
    shed = [ms for status, ms in samples if status == 503]
    everything = sorted(ms for _, ms in samples)
    return Result(
        "", 0, connections, len(samples) / seconds, len(ok), len(shed),
        len(samples) - len(ok) - len(shed), 0, float(pct(everything, 50)),
        float(pct(everything, 99)), seconds, ok, shed, 0,
    )  # fmt: skip


def measure(setting: str, port: int, body: bytes, load: int, args, workdir: Path) -> Result:
    script = wrk.status_script(body.decode(), workdir / "overload.lua")
    connections = args.capacity * load
    url = f"http://127.0.0.1:{port}/predict"
    run_wrk(url, script, 1 if args.smoke else 2, connections)  # warm-up
    if args.generator == "asyncio":
        r = run_asyncio(port, body, args.duration, connections)
        r.setting, r.load = setting, load
        return r
    probe = Probe(port, body)
    probe.start()
    got = run_wrk(url, script, int(args.duration), connections)
    probe.stop.set()
    probe.join()
    return Result(
        setting, load, connections, got["rps"], int(got["ok"]), int(got["shed"]),
        int(got["other"]), int(got["socket_errors"]), got.get("p50", 0.0), got.get("p99", 0.0),
        args.duration,
        [ms for s, ms in probe.samples if s == 200], [ms for s, ms in probe.samples if s == 503],
        sum(1 for s, _ in probe.samples if s not in (200, 503)),
    )  # fmt: skip


def pct(values: list[float], q: int) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.0f}"


def table(results: list[Result]) -> str:
    lines = [
        "| setting | load | connections | req/s | 200 | 503 share | other non-2xx + socket errors "
        "| p50 / p99 ms (all) | mean ms (Little) | admitted p50 / p99 ms | 503 p50 / p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        total = max(r.ok + r.shed + r.other, 1)
        # Closed loop: every connection always has one request out, so the mean
        # latency is connections x seconds / answers (Little's law), whatever
        # wrk's own latency histogram says.
        little = r.connections * r.seconds / total * 1e3
        lines.append(
            f"| {r.setting} | {r.load}x | {r.connections} | {r.rps:.0f} | {r.ok} | "
            f"{r.shed / total:.0%} | {r.other + r.socket_errors + r.probe_other} | "
            f"{r.p50_ms:.0f} / {r.p99_ms:.0f} | {little:.0f} | {pct(r.probe_ok, 50)} / {pct(r.probe_ok, 99)} | "
            f"{pct(r.probe_shed, 50)} / {pct(r.probe_shed, 99)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--registry", help="registry URI holding a churn model (default: train one)"
    )
    parser.add_argument("--version", default="latest")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--capacity", type=int, default=16, help="connections at 1x")
    parser.add_argument("--loads", default="1,3,10", help="multiples of --capacity")
    parser.add_argument(
        "--env", action="append", default=None, metavar="KEY=VALUE[,KEY=VALUE]",
        help="one server setting per flag (default: as configured, then MODELOPS_MAX_QUEUE_MS=0)",
    )  # fmt: skip
    parser.add_argument(
        "--generator", choices=("wrk", "asyncio"), default="wrk",
        help="wrk + a probe (default), or an asyncio client timing every request",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="1 s runs at 1x and 10x (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.loads = 1.0, "1,10"
    if shutil.which("wrk") is None:
        sys.exit("benchmark: wrk is missing; install it with tools/system-deps.sh")
    settings = args.env or ["", "MODELOPS_MAX_QUEUE_MS=0"]
    loads = [int(x) for x in args.loads.split(",")]
    results: list[Result] = []
    load_before = os.getloadavg()[0]
    runs_root = Path.home() / ".cache" / "modelops" / "bench-runs"
    runs_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="overload-", dir=runs_root) as tmp:
        workdir = Path(tmp)
        uri, version = ensure_model(
            args.registry, args.version, workdir, 3_000 if args.smoke else 20_000
        )
        body = bodies()[1]
        for setting in settings:
            extra = dict(kv.split("=", 1) for kv in setting.split(",") if kv)
            ctx = Context(uri, version, workdir / "unused", workdir, free_port())
            cmd, env = _bento_cmd("modelops_bentos.churn.service:Churn", extra)(ctx)
            base = f"http://127.0.0.1:{ctx.port}"
            with server(cmd, env, base, workdir / "server.log"):
                for load in loads:
                    r = measure(setting or "default", ctx.port, body, load, args, workdir)
                    print(f"benchmark: {r.setting} {load}x: {r.rps:.0f} req/s, "
                          f"{r.shed} shed", file=sys.stderr)  # fmt: skip
                    results.append(r)
    print(f"\nchurn model version {version}; 1-record /predict; {args.generator} -c<connections> "
          f"-d{args.duration:g}s; 1x = {args.capacity} connections; OMP_NUM_THREADS=1; "
          f"{os.cpu_count()} CPUs; 1-min load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (other processes share these CPUs)\n")  # fmt: skip
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
