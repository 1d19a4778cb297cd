"""Where a served request's CPU goes: py-spy samples of a server under wrk, by stack part.

    .venv/bin/python benchmarks/serving_profile.py --pid <worker pid> --url http://127.0.0.1:3000/predict \
        --body benchmarks-body.lua [--seconds 20]
    .venv/bin/python benchmarks/serving_profile.py --summarise samples.txt   # an existing raw py-spy file
    .venv/bin/python benchmarks/serving_profile.py --smoke   # its own churn bento, 2 s of samples (CI)

py-spy (from the bench-only "tools" environment, see benchmarks/peers/envs.py)
samples the worker's Python stacks while wrk keeps 16 connections busy. Each
sample is charged to the *innermost* frame that belongs to a known part of the
stack (so pydantic called by BentoML counts as pydantic, not BentoML), and the
table gives each part's share of the non-idle samples. `--smoke` trains a small
churn model, serves it with the churn bento, finds the worker and records it
for 2 seconds: the whole path, without a server of your own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# (part, substrings of a frame's "function (file:line)" text), most specific first.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("xgboost predict", ("xgboost/", "modelops_bentos/churn/predict.py")),
    ("features (modelops_features)", ("modelops_features/",)),
    ("modelops metrics (telemetry)", ("modelops_bentos/churn/telemetry.py", "common/telemetry.py")),
    # middleware.py, and direct.py since the direct route (py-spy shortens paths).
    (
        "modelops middleware + direct route",
        ("churn/middleware.py", "common/middleware.py", "churn/direct.py", "common/direct.py"),
    ),
    ("modelops service code", ("modelops_bentos/",)),
    ("pydantic validation / serialisation", ("pydantic",)),
    ("JSON (json / orjson)", ("json/", "orjson")),
    # py-spy shortens paths: opentelemetry's files show as trace/…, asgi/…, context/….
    (
        "tracing (opentelemetry)",
        (
            "opentelemetry",
            "OpenTelemetry",
            "trace/__init__.py",
            "asgi/__init__.py",
            "context/",
            "propagat",
            "_start_internal_or_server_span",
            "_decorator.py",
        ),
    ),
    ("BentoML metrics (prometheus_client)", ("prometheus_client/", "server/http/instruments.py")),
    ("access log / logging", ("server/http/access.py", "logging/")),
    ("HTTP parsing (uvicorn h11 / httptools)", ("h11", "httptools_impl", "uvicorn/protocols")),
    ("starlette routing / requests", ("starlette/",)),
    ("BentoML service machinery", ("_bentoml_impl/", "bentoml/")),
    ("numpy", ("numpy/",)),
    ("event loop (asyncio / uvloop)", ("asyncio/", "uvloop", "selectors.py")),
]
OTHER = "other"
DEFAULT_OUT = Path("serving-profile.txt")


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for part, needles in PARTS:
            if any(n in frame for n in needles):
                return part
    return OTHER


def summarise(raw: str) -> list[tuple[str, int, float]]:
    """(part, samples, share) rows from py-spy's raw (collapsed) output, largest first."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        counts[part_of(stack_text.split(";"))] += int(count)
    total = sum(counts.values()) or 1
    return [(p, c, c / total) for p, c in counts.most_common()]


def table(rows: list[tuple[str, int, float]]) -> str:
    lines = ["| part of the stack | samples | share |", "| --- | ---: | ---: |"]
    lines += [f"| {p} | {c} | {s:.0%} |" for p, c, s in rows]
    return "\n".join(lines)


def record(pid: int, url: str, lua: Path, seconds: float, out: Path) -> str:
    from peers import envs

    spy = envs.ensure("tools").parent / "py-spy"
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c16", f"-d{int(seconds) + 4}s", "-s", str(lua), url],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)
        subprocess.run(
            [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200",
             "-f", "raw", "-o", str(out), "--nonblocking"],
            check=True, capture_output=True,
        )  # fmt: skip
    finally:
        wrk.wait()
    return out.read_text()


def smoke(seconds: float, out: Path | None) -> str:
    """Record a churn bento of our own (a small model) for `seconds`: the whole path."""
    import tempfile

    from serving import bench_env, bodies, ensure_model
    from serving_http import free_port, lua_script, server

    from modelops_bentos.launch import serve_command

    with tempfile.TemporaryDirectory(prefix="modelops-profile-") as tmp:
        workdir = Path(tmp)
        uri, version = ensure_model(None, "latest", workdir, 3_000)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = serve_command("modelops_bentos.churn.service:Churn", "127.0.0.1", port)
        lua = lua_script(bodies()[1], workdir / "body.lua")
        with server(cmd, bench_env(uri, version), base, workdir / "churn.log") as pid:
            out = out or workdir / "samples.txt"
            return record(worker_pid(pid), f"{base}/predict", lua, seconds, out)


def worker_pid(server_pid: int) -> int:
    """The BentoML worker that runs /predict: the server itself when it serves in one
    process (modelops_bentos.one_process), else the worker under `bentoml serve`."""
    from serving_http import _tree

    _, pids = _tree(server_pid)
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"_bentoml_impl.worker" in cmdline or b"--as-bentoml-worker" in cmdline:
            return pid
    raise SystemExit(f"benchmark: no BentoML worker under process {server_pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summarise", type=Path, help="a raw py-spy output file")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--url")
    parser.add_argument("--body", type=Path, help="a wrk Lua script setting the POST body")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, help="raw samples file (default serving-profile.txt)")
    parser.add_argument("--smoke", action="store_true", help="profile a bento of its own, 2 s")
    args = parser.parse_args()
    if args.smoke:
        raw = smoke(2.0, args.out)
    elif args.summarise:
        raw = args.summarise.read_text()
    elif args.pid and args.url and args.body:
        raw = record(args.pid, args.url, args.body, args.seconds, args.out or DEFAULT_OUT)
    else:
        parser.error("give --summarise FILE, or --pid, --url and --body")
    print(table(summarise(raw)))


if __name__ == "__main__":
    main()
