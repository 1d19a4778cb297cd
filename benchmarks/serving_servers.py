"""The serving benchmark's contenders: how each server starts, and what it is loaded with.

benchmarks/serving.py lists them for users (its docstring) and runs them; the
other serving benchmarks (serving_overload.py, serving_profile.py) start the
churn bento the same way through `_bento_cmd` / `bench_env`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# The churn bento before issue 9's performance work: run from this commit's
# source in the stock-BentoML bench environment, so before / after share a run.
BEFORE_COMMIT = "a60cf7799cc9d243ae0e8cd468f5cc10e7e810ae"
STOCK_SOURCE = HERE / "peers" / "churn-stock-a60cf77.tar.gz"
BENTO_NAMES = (
    "churn", "churn-batch", "churn-routed", "churn-unpaced", "churn-alone", "churn-stock",
    "bento-noop",
)  # fmt: skip


def bench_env(uri: str, version: str) -> dict[str, str]:
    from modelops_bentos.launch import serve_env

    return serve_env(uri, "churn", version)


@dataclass
class Context:
    """What a server spec needs to build its command."""

    uri: str
    version: str
    model_file: Path
    workdir: Path
    port: int


@dataclass
class ServerSpec:
    """One contender: how to start it and which (route, body kind) pairs to load it with."""

    name: str
    note: str
    command: Callable[[Context], tuple[list[str], dict[str, str]]]
    routes: list[tuple[str, str, str]]  # (label, route, body kind)
    ready_path: str = "/readyz"
    ready_timeout: float = 120.0
    labels: list[str] = field(default_factory=list)


def _bento_cmd(
    target: str, extra_env: dict[str, str] | None = None
) -> Callable[[Context], tuple[list[str], dict[str, str]]]:
    def build(ctx: Context) -> tuple[list[str], dict[str, str]]:
        from modelops_bentos.launch import serve_command

        cmd = [*serve_command(target, "127.0.0.1", ctx.port), "--working-dir", str(HERE)]
        return cmd, {**bench_env(ctx.uri, ctx.version), **(extra_env or {})}

    return build


def _stock_bento_cmd(ctx: Context) -> tuple[list[str], dict[str, str]]:
    """The churn service source of BEFORE_COMMIT, in the stock-BentoML environment."""
    from peers import envs

    python = envs.ensure("bento-stock")
    source = ctx.workdir / "stock"
    if not source.exists():
        source.mkdir()
        # `git archive BEFORE_COMMIT bentos/modelops_bentos`, kept in the repository so
        # a shallow checkout (CI's, often) has the "before" service too.
        subprocess.run(["tar", "-xzf", str(STOCK_SOURCE), "-C", str(source)], check=True)
    env = bench_env(ctx.uri, ctx.version)
    env["PYTHONPATH"] = str(source / "bentos")
    cmd = [str(python.parent / "bentoml"), "serve", "modelops_bentos.churn.service:Churn",
           "--host", "127.0.0.1", "--port", str(ctx.port),
           "--working-dir", str(source / "bentos")]  # fmt: skip
    return cmd, env


def _peer_env(ctx: Context) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "OMP_NUM_THREADS": "1", "BENTOML_DO_NOT_TRACK": "true",
        "MODELOPS_BENCH_MODEL_FILE": str(ctx.model_file),
        # The peers import the bento's request schema (pydantic + modelops_features only).
        "PYTHONPATH": f"{HERE / 'peers'}:{REPO / 'bentos'}",
        "RAY_USAGE_STATS_ENABLED": "0", "LITSERVE_DISABLE_TELEMETRY": "1",
    })  # fmt: skip
    return env


def _peer_cmd(name: str, script: str) -> Callable[[Context], tuple[list[str], dict[str, str]]]:
    def build(ctx: Context) -> tuple[list[str], dict[str, str]]:
        from peers import envs

        python = str(envs.ensure(name))
        if name == "fastapi":
            cmd = [python, "-m", "uvicorn", "fastapi_peer:app", "--app-dir", str(HERE / "peers"),
                   "--host", "127.0.0.1", "--port", str(ctx.port), "--workers", "1",
                   "--loop", "uvloop", "--http", "httptools",
                   "--log-level", "warning", "--no-access-log"]  # fmt: skip
        elif name == "mlserver":
            from modelops_cli.controlplane.ports import free_ports

            cmd = [python, str(HERE / "peers" / script), str(ctx.port), str(ctx.workdir / "mls"),
                   *map(str, free_ports(2))]  # fmt: skip
        else:
            cmd = [python, str(HERE / "peers" / script), str(ctx.port)]
        return cmd, _peer_env(ctx)

    return build


SERVERS: list[ServerSpec] = [
    ServerSpec("churn", "BentoML 1.4 churn bento (this checkout)",
               _bento_cmd("modelops_bentos.churn.service:Churn"),
               [("churn", "/predict", "records"), ("churn-batch", "/predict_batch", "records")]),
    ServerSpec("churn-routed", "the churn bento, /predict through BentoML's route (no direct route)",
               _bento_cmd("modelops_bentos.churn.service:Churn", {"MODELOPS_DIRECT_ROUTES": "false"}),
               [("churn-routed", "/predict", "records")]),
    ServerSpec("churn-unpaced", "the churn bento without its admission queue (MODELOPS_MAX_QUEUE_MS=0)",
               _bento_cmd("modelops_bentos.churn.service:Churn", {"MODELOPS_MAX_QUEUE_MS": "0"}),
               [("churn-unpaced", "/predict", "records")]),
    ServerSpec("churn-alone", "the churn bento, every /predict scored alone (MODELOPS_COALESCE=false)",
               _bento_cmd("modelops_bentos.churn.service:Churn", {"MODELOPS_COALESCE": "false"}),
               [("churn-alone", "/predict", "records")]),
    ServerSpec("churn-stock", f"the churn bento at {BEFORE_COMMIT[:7]}, stock BentoML",
               _stock_bento_cmd, [("churn-stock", "/predict", "records")]),
    ServerSpec("bento-noop", "BentoML endpoint that parses the body, no work",
               _bento_cmd("noop_service:Noop"), [("bento-noop", "/predict", "records")]),
    ServerSpec("fastapi", "FastAPI + uvicorn (uvloop + httptools)", _peer_cmd("fastapi", ""),
               [("fastapi", "/predict", "records"), ("fastapi", "/predict_rows", "rows")]),
    ServerSpec("litserve", "LitServe 0.2.19, 1 API server + 1 worker",
               _peer_cmd("litserve", "litserve_peer.py"),
               [("litserve", "/predict", "records"), ("litserve", "/predict", "rows")],
               ready_path="/health"),
    ServerSpec("ray", "Ray Serve 2.60, 1 replica, max_ongoing_requests=32",
               _peer_cmd("ray", "ray_peer.py"),
               [("ray", "/predict", "records"), ("ray", "/predict", "rows")],
               ready_path="/readyz", ready_timeout=240),
    ServerSpec("mlserver", "MLServer 1.7.1 + mlserver-xgboost, V2 tensor body",
               _peer_cmd("mlserver", "mlserver_peer.py"),
               [("mlserver", "/v2/models/churn/infer", "v2")], ready_path="/v2/health/ready"),
]  # fmt: skip
