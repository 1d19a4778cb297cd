"""MLServer + mlserver-xgboost: writes the settings folder and execs `mlserver start`.

    python mlserver_peer.py PORT WORKDIR GRPC_PORT METRICS_PORT

MLServer serves precomputed rows only (the V2 tensor protocol), on
/v2/models/churn/infer; readiness is /v2/health/ready. parallel_workers=0 keeps
inference in the one server process, like the other peers' single worker.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Every port comes from the benchmark, which draws them where no other
    # program is handed one (modelops_cli.controlplane.ports).
    port, workdir = int(sys.argv[1]), Path(sys.argv[2])
    grpc_port, metrics_port = int(sys.argv[3]), int(sys.argv[4])
    model_dir = workdir / "churn"
    model_dir.mkdir(parents=True, exist_ok=True)
    (workdir / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": port, "grpc_port": grpc_port,
        "metrics_port": metrics_port, "parallel_workers": 0, "debug": False,
    }))  # fmt: skip
    (model_dir / "model-settings.json").write_text(json.dumps({
        "name": "churn", "implementation": "mlserver_xgboost.XGBoostModel",
        "parameters": {"uri": os.environ["MODELOPS_BENCH_MODEL_FILE"], "version": "1"},
    }))  # fmt: skip
    mlserver = Path(sys.executable).parent / "mlserver"
    os.execv(str(mlserver), [str(mlserver), "start", str(workdir)])
