"""The serving benchmark's model and request bodies, and the in-process floor.

Shared by serving.py (which re-exports these names for the other benchmarks),
serving_overload.py, serving_profile.py, serving_stages.py and ground_truth.py:
every benchmark loads the same model with the same bodies.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from serving_http import Row

SIZES = (1, 100)


def ensure_model(
    registry: str | None, version: str, workdir: Path, rows: int = 20_000
) -> tuple[str, str]:
    if registry:
        from modelops_registry import Registry

        return registry, Registry.from_uri(registry).resolve("churn", version)
    from modelops_training import train

    uri = f"file://{workdir / 'registry'}"
    print(
        f"benchmark: training churn on synthetic:{rows} into a temporary registry", file=sys.stderr
    )
    result = train(model="churn", data=f"synthetic:{rows}", registry_uri=uri, base_version=None)
    return uri, str(result["version"])


def model_file(uri: str, version: str, workdir: Path) -> Path:
    """The verified artefact as a local file, for the peers (same bytes the bento loads)."""
    from modelops_registry import Registry

    path = workdir / "model.ubj"
    path.write_bytes(Registry.from_uri(uri).read_artefact("churn", version, "model.ubj"))
    return path


def _records() -> list[dict]:
    from modelops_features import synthetic
    from modelops_features.churn import RAW_SCHEMA

    frame = synthetic.churn(max(SIZES), seed=7)
    columns = [*RAW_SCHEMA.names, "customer_id"]
    return json.loads(frame[columns].to_json(orient="records"))


def bodies() -> dict[int, bytes]:
    """Raw-record bodies by size (the churn API's contract)."""
    records = _records()
    return {n: json.dumps({"records": records[:n]}).encode() for n in SIZES}


def _json_rows(values: list) -> list:
    """Missing features (NaN) as JSON null: json.dumps would write `NaN`, which is not
    JSON; MLServer and orjson (Ray's peer) refuse the whole body then."""
    if values and isinstance(values[0], list):
        return [_json_rows(v) for v in values]
    return [None if v != v else v for v in values]  # v != v: NaN


def all_bodies() -> dict[str, dict[int, bytes]]:
    """Every body kind by size: raw records, precomputed rows, and rows as a V2 tensor."""
    from modelops_features import churn as churn_features

    records = _records()
    matrix = churn_features.model_matrix_from_records(records)
    out: dict[str, dict[int, bytes]] = {"records": bodies(), "rows": {}, "v2": {}}
    for n in SIZES:
        rows = matrix[:n]
        out["rows"][n] = json.dumps({"inputs": _json_rows(rows.tolist())}).encode()
        tensor = {"name": "input-0", "shape": list(rows.shape), "datatype": "FP32",
                  "data": _json_rows(rows.reshape(-1).tolist())}  # fmt: skip
        out["v2"][n] = json.dumps({"inputs": [tensor]}).encode()
    return out


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
