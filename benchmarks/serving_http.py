"""Measuring one HTTP server: its process tree's CPU and memory, wrk runs, the table.

Shared by the serving benchmarks (serving.py for the churn bento and its peers,
serving_learning_path.py). A `Row` is one server x body x size measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelops_testkit.net import free_port as free_port  # the benchmarks take it from here

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    server: str
    records: int
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int = 0  # non-2xx answers plus socket errors (connect, read, write, timeout)
    cpu_ms_per_req: float | None = None
    note: str = ""
    body: str = "records"
    rss_mb: float | None = None
    run: int = 1
    requests: int = 0
    non_2xx: int = 0  # answers that were not 2xx: any at all means the body is wrong

    def refusal(self) -> str | None:
        """Why this row measures nothing, or None when it can be reported.

        A server that answers errors is fast at refusing, not at serving, so a
        single non-2xx answer disqualifies the row (the request body, not the
        server, is then what is broken). Socket errors are tolerated up to 1%:
        wrk cuts the connections open at the end of a run."""
        where = f"{self.server} {self.body} {self.records} (run {self.run})"
        if self.non_2xx:
            return f"{where}: {self.non_2xx} of {self.requests} requests answered non-2xx"
        if self.errors > 0.01 * max(self.requests, 1):
            return f"{where}: {self.errors} of {self.requests} requests failed (socket errors)"
        return None


# -- processes -----------------------------------------------------------------------


def _proc_table() -> tuple[dict[int, list[str]], dict[int, list[int]]]:
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
    return stats, children


def _tree(pid: int) -> tuple[dict[int, list[str]], list[int]]:
    stats, children = _proc_table()
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        if p in stats:
            found.append(p)
        stack.extend(children.get(p, []))
    return stats, found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (from /proc)."""
    stats, pids = _tree(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return sum((int(stats[p][11]) + int(stats[p][12])) / ticks for p in pids)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MiB."""
    stats, pids = _tree(pid)
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(int(stats[p][21]) * page for p in pids) / 2**20


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import http.client
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass  # not listening yet, or not HTTP (someone else's port): the next poll tells
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")


@contextlib.contextmanager
def server(
    cmd: list[str], env: dict[str, str], url: str, log: Path, ready_path: str = "/readyz",
    timeout: float = 120,
) -> Iterator[int]:  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
        )
    try:
        wait_http(f"{url}{ready_path}", proc, timeout)
        yield proc.pid
    except Exception:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT, then SIGKILL the whole session (Ray and LitServe leave helpers behind)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


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
        f"wrk.body = [==[{text}]==]\n" + HISTOGRAM_LUA
    )
    return path


# With WRK_HISTOGRAM set, wrk writes every latency it recorded there ("<us> <count>"
# per distinct value), so runs in turns can be merged exactly (merged_percentile).
HISTOGRAM_LUA = """
done = function(summary, latency, requests)
  local out = os.getenv("WRK_HISTOGRAM")
  if not out then return end
  local f = assert(io.open(out, "w"))
  for i = 1, #latency do
    local value, count = latency(i)
    f:write(string.format("%d %d\\n", value, count))
  end
  f:close()
end
"""


def read_histogram(path: Path) -> Counter[int]:
    """What HISTOGRAM_LUA wrote: latency in microseconds -> count."""
    counts: Counter[int] = Counter()
    for line in path.read_text().splitlines():
        value, count = line.split()
        counts[int(value)] += int(count)
    return counts


def merged_percentile(histograms: list[Mapping[int, int]], p: float) -> float:
    """The p-th percentile (ms) of all the latencies of several wrk runs together."""
    merged: Counter[int] = Counter()
    for histogram in histograms:
        merged.update(histogram)
    rank, seen = math.ceil(p / 100 * merged.total()), 0
    for value in sorted(merged):
        seen += merged[value]
        if seen >= rank:
            return value / 1000
    return 0.0  # no latencies at all


def run_wrk(
    url: str, script: Path, seconds: float, connections: int, histogram: Path | None = None
) -> dict[str, float]:
    """One wrk run; with `histogram`, its latencies are written there too (HISTOGRAM_LUA)."""
    env = {**os.environ, "WRK_HISTOGRAM": str(histogram)} if histogram else None
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--latency",
        "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    result: dict[str, float] = {"errors": 0.0, "non_2xx": 0.0}
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
            result["non_2xx"] = float(m.group(1))
        elif m := re.match(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line
        ):
            result["errors"] += sum(float(g) for g in m.groups())
    if "rps" not in result or "p50" not in result:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return result


def wrk_with_cpu(
    pid: int, url: str, script: Path, seconds: float, connections: int,
    histogram: Path | None = None,
) -> tuple[dict[str, float], float]:  # fmt: skip
    """run_wrk's reading and the server tree's CPU seconds during it."""
    cpu0 = tree_cpu_seconds(pid)
    result = run_wrk(url, script, seconds, connections, histogram)
    return result, tree_cpu_seconds(pid) - cpu0


def measure_http(
    name: str, pid: int, url: str, bodies_: dict[int, bytes], args: argparse.Namespace,
    workdir: Path, note: str = "", body: str = "records",
) -> list[Row]:  # fmt: skip
    rows = []
    for n, payload in bodies_.items():
        script = lua_script(payload, workdir / f"{name}-{body}-{n}.lua")
        run_wrk(url, script, args.warmup, args.connections)
        r, cpu = wrk_with_cpu(pid, url, script, args.duration, args.connections)
        requests = r.get("requests") or 1.0
        rows.append(Row(name, n, r["p50"], r["p99"], r["rps"], int(r["errors"]),
                        cpu / requests * 1e3, note, body, requests=int(requests),
                        non_2xx=int(r["non_2xx"])))  # fmt: skip
        print(f"benchmark: {name} {body} {n}: {r['rps']:.0f} req/s, "
              f"{cpu / requests * 1e3:.2f} ms CPU/req", file=sys.stderr)  # fmt: skip
    return rows


@dataclass(frozen=True)
class Target:
    """One running server's route, loaded by measure_interleaved."""

    label: str
    pid: int
    url: str
    body: str  # body kind: a key of the bodies mapping
    note: str = ""
    rss_mb: float | None = None


def measure_interleaved(
    targets: list[Target], bodies_: dict[str, dict[int, bytes]], args: argparse.Namespace,
    workdir: Path, run: int,
) -> list[Row]:  # fmt: skip
    """Every target of a body kind and size, measured in `args.interleave` turns each.

    The servers are all up; for each body and size each gets its warm-up, then
    the targets take turns of duration / interleave seconds, every other round
    in reverse order, so a slow minute of a shared machine falls on all of them
    instead of on whichever ran then. A row sums its turns: requests over the
    turns' elapsed time, CPU over requests, and p50 / p99 over every latency
    of every turn (wrk writes its histogram, HISTOGRAM_LUA).
    """
    turn = max(1, round(args.duration / args.interleave))
    rows: list[Row] = []
    for kind in dict.fromkeys(t.body for t in targets):
        group = [t for t in targets if t.body == kind]
        for n, payload in bodies_[kind].items():
            script = lua_script(payload, workdir / f"interleaved-{kind}-{n}.lua")
            for t in group:
                run_wrk(t.url, script, args.warmup, args.connections)
            turns: dict[str, list[Turn]] = {t.label: [] for t in group}
            histogram = workdir / "turn-latencies.txt"
            for i in range(args.interleave):
                for t in group if i % 2 == 0 else reversed(group):
                    result, cpu = wrk_with_cpu(
                        t.pid, t.url, script, turn, args.connections, histogram
                    )
                    turns[t.label].append(Turn(result, cpu, read_histogram(histogram)))
            for t in group:
                row = _combined(t, n, turns[t.label], run)
                rows.append(row)
                print(f"benchmark: {t.label} {kind} {n} ({args.interleave} turns): "
                      f"{row.rps:.0f} req/s, {row.cpu_ms_per_req:.2f} ms CPU/req",
                      file=sys.stderr)  # fmt: skip
    return rows


@dataclass(frozen=True)
class Turn:
    """One wrk run of a target in measure_interleaved."""

    result: dict[str, float]  # run_wrk's reading
    cpu_seconds: float  # the server tree's CPU during it
    latencies: Counter[int]  # microseconds -> count (read_histogram)


def _combined(target: Target, n: int, turns: list[Turn], run: int) -> Row:
    results = [t.result for t in turns]
    requests = sum(r.get("requests", 0.0) for r in results)
    elapsed = sum(r.get("requests", 0.0) / r["rps"] for r in results if r["rps"] > 0)
    latencies = [t.latencies for t in turns]
    return Row(
        target.label, n, merged_percentile(latencies, 50), merged_percentile(latencies, 99),
        requests / elapsed if elapsed else 0.0, int(sum(r["errors"] for r in results)),
        sum(t.cpu_seconds for t in turns) / max(requests, 1.0) * 1e3, target.note, target.body,
        rss_mb=target.rss_mb, run=run, requests=int(requests),
        non_2xx=int(sum(r["non_2xx"] for r in results)),
    )  # fmt: skip


# -- report ----------------------------------------------------------------------


def reportable(rows: list[Row]) -> tuple[list[Row], list[str]]:
    """(rows that can be reported, why each other row cannot): see Row.refusal."""
    refused = [(r, why) for r in rows if (why := r.refusal())]
    ids = {id(r) for r, _ in refused}
    return [r for r in rows if id(r) not in ids], [why for _, why in refused]


def print_refused(refused: list[str]) -> None:
    if refused:
        print("\nfailed (no row above):\n" + "\n".join(f"- {f}" for f in refused))


def table(rows: list[Row]) -> str:
    lines = [
        "| server | body | records/req | req/s | p50 ms | p99 ms | server CPU ms/req | idle RSS MiB | non-2xx+errors | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        cpu = "-" if r.cpu_ms_per_req is None else f"{r.cpu_ms_per_req:.2f}"
        rss = "-" if r.rss_mb is None else f"{r.rss_mb:.0f}"
        lines.append(
            f"| {r.server} | {r.body} | {r.records} | {r.rps:.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {cpu} | {rss} | {r.errors} | {r.note} |"
        )
    return "\n".join(lines)
