"""CPU per stage of a churn /predict request, in process: where the work goes, without HTTP.

    .venv/bin/python benchmarks/serving_stages.py [--registry URI --version V] [--repeat 5]
    .venv/bin/python benchmarks/serving_stages.py --smoke   # every stage a few times (CI)

py-spy (serving_profile.py) shows shares of a *running* server, but it charges
time a worker spends runnable-but-preempted (e.g. right after the socket write
that wakes the client) to the line it stopped on. This script times each stage
of the direct route's work alone, on the same bodies as serving.py (1 and 100
synthetic records), with the best of --repeat rounds of CPU time: validation
(the msgspec fast accept, and BentoML's generated input model it stands in
front of), features, predict (DensePredictor and, for
comparison, Booster.inplace_predict), the modelops metrics, and the response
encoding (pydantic-core, and json.dumps for comparison). Without --registry a
model is trained on synthetic:20000 into a temporary directory first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def cpu_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best-of-`repeat` process CPU time per call, in microseconds."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - start) / number)
    return best * 1e6


def stages(uri: str, version: str, body: bytes) -> dict[str, Callable[[], object]]:
    import pydantic_core

    from modelops_bentos.churn.fast_records import DECODER as FAST_RECORDS
    from modelops_bentos.churn.model import LoadRequest, load_model
    from modelops_bentos.churn.scoring import compute_features, score
    from modelops_bentos.churn.service import Churn
    from modelops_bentos.churn.telemetry import Telemetry

    model = load_model(LoadRequest(registry_uri=uri, model="churn", ref=version))
    spec = Churn.apis["predict"].input_spec
    parsed = spec.model_validate_json(body)
    raw = [vars(r) for r in parsed.records]
    features, rows = compute_features(raw)
    scored = score(model, raw)
    telemetry = Telemetry("churn")
    telemetry.model_loaded(version, model.profile)
    predictions = scored.probabilities.tolist()
    answer = {
        "model": "churn",
        "version": version,
        "predictions": [
            {"customer_id": r["customer_id"], "churn_probability": p}
            for r, p in zip(raw, predictions, strict=True)
        ],
    }
    return {
        "validate (the direct route's msgspec fast accept)": lambda: FAST_RECORDS.decode(body),
        "  for comparison: BentoML's input model": lambda: spec.model_validate_json(body),
        "features": lambda: compute_features(raw),
        "predict (DensePredictor)": lambda: model.predict(rows),
        "  for comparison: Booster.inplace_predict": lambda: model.predict.booster.inplace_predict(
            rows
        ),
        "modelops metrics": lambda: telemetry.observe_predictions(features, scored.probabilities),
        "response dicts": lambda: [
            {"customer_id": r["customer_id"], "churn_probability": p}
            for r, p in zip(raw, predictions, strict=True)
        ],
        "response JSON (pydantic-core)": lambda: pydantic_core.to_json(answer),
        "  for comparison: json.dumps": lambda: json.dumps(answer).encode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--registry", help="registry URI holding a churn model (default: train one)"
    )
    parser.add_argument("--version", default="latest")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="1 round of few calls (CI)")
    args = parser.parse_args()
    # Calls per round for 1 and for 100 records; smoke divides them by 100.
    calls = {1: 20, 100: 2} if args.smoke else {1: 2000, 100: 200}
    if args.smoke:
        args.repeat = 1
    from serving import SIZES, bodies, ensure_model

    with tempfile.TemporaryDirectory(prefix="modelops-stages-") as tmp:
        rows = 3_000 if args.smoke else 20_000
        uri, version = ensure_model(args.registry, args.version, Path(tmp), rows)
        by_size = {n: stages(uri, version, body) for n, body in bodies().items()}
        print(f"churn model version {version}; best of {args.repeat} rounds of CPU time per call")
        print()
        print("| stage | " + " | ".join(f"{n} record(s), us" for n in SIZES) + " |")
        print("| --- |" + " ---: |" * len(SIZES))
        for name in by_size[SIZES[0]]:
            cells = [f"{cpu_us(by_size[n][name], calls[n], args.repeat):.1f}" for n in SIZES]
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
