"""The churn prediction service: `bentoml serve modelops_bentos.churn.service:Churn`.

Thin by design: pydantic validates the input (schemas), the shared feature code
computes features (scoring), XGBoost predicts, and telemetry records what the
drift check and the canary analysis read. The model version comes from the
registry named by MODELOPS_REGISTRY / MODELOPS_MODEL / MODELOPS_MODEL_VERSION;
/readyz stays 503 until it is loaded and its checksum verified.

Endpoints (all POST, JSON):
  /predict        {"records": [...]} -> {"model", "version", "predictions": [...]}
  /predict_batch  the same body; requests are merged by BentoML's adaptive
                  batching into one model call -> [{"customer_id", "churn_probability"}]
  /features       the features and model rows /predict computes (parity, debugging)
"""

from __future__ import annotations

import logging
import os
from typing import Any

import bentoml
import pydantic_core
from pydantic import ValidationError
from starlette.responses import Response

from .direct import Answer, DirectRoute, bentoml_cors_enabled, direct_routes_enabled, error_answer
from .faults import Faults
from .middleware import ModelopsMiddleware, describe_errors
from .model import LoadedModel, LoadRequest, ModelHolder
from .schemas import (
    FeaturesResponse,
    Prediction,
    PredictResponse,
    Records,
    configure_max_records,
    max_records,
)
from .scoring import features_as_records, score
from .telemetry import Telemetry

API_ENDPOINTS = ("predict", "predict_batch", "features")
# Generous per-record allowance: a record is ~200 bytes of JSON.
BYTES_PER_RECORD = 2048
BODY_OVERHEAD_BYTES = 64 * 1024


class _OneLineValidationErrors(logging.Filter):
    """BentoML logs a full ERROR traceback for every request that fails validation.

    A client sending bad input is not a server error: keep one INFO line that
    names the fields (never the values: they may be personal data) and let real
    exceptions through untouched.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            original = record.getMessage()  # "Exception on /predict [POST]"
            record.msg = "%s: rejected invalid input: %s"
            record.args = (original, describe_errors(exc.errors()))
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


logging.getLogger("bentoml._internal.server.http_app").addFilter(_OneLineValidationErrors())


def _records(records: list[Any]) -> list[dict[str, Any]]:
    # A validated pydantic model keeps its field values in __dict__; reading it
    # avoids a model_dump() per record on the hot path.
    return [vars(r) for r in records]


TRACING_ENV = "MODELOPS_TRACE_REQUESTS"


def tracing_requested(env: dict[str, str] | None = None) -> bool:
    source = os.environ if env is None else env
    return source.get(TRACING_ENV, "").strip().lower() in ("1", "true", "yes")


def tracing_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """BentoML tracing settings: API routes untraced unless MODELOPS_TRACE_REQUESTS=true.

    BentoML wraps every request in an OpenTelemetry span even when no exporter
    is configured; on a 1-record call that was the largest single cost (~21% of
    the worker's CPU, docs/serving-performance.md). Operators who export traces
    turn it back on with the environment variable.
    """
    if tracing_requested(env):
        return {}
    return {"excluded_urls": [f"/{e}$" for e in API_ENDPOINTS]}


@bentoml.service(
    name="churn",
    # One worker per pod: the modelops_ counters are per process (see telemetry).
    workers=1,
    traffic={"timeout": 30},
    # No per-request access-log line (a formatted log record per call costs
    # more than the prediction); errors are still logged, and request counts
    # and latencies are in /metrics (BentoML's and modelops_*).
    logging={"access": {"enabled": False}},
    tracing=tracing_config(),
)
class Churn:
    def __init__(self) -> None:
        configure_max_records()  # refuses to start on a malformed MODELOPS_MAX_RECORDS
        self.holder = ModelHolder(LoadRequest.from_env())
        self.telemetry = Telemetry(self.holder.request.model)
        self.holder.on_loaded(self._on_loaded)
        self._version_header = b""
        self.faults = Faults.from_env()  # off unless MODELOPS_FAULT_* are set (faults.py)
        self.direct_routes = self._direct_routes()
        self.holder.start()

    def _direct_routes(self) -> dict[str, DirectRoute]:
        """/predict answered past BentoML's router (direct.py), unless switched off."""
        if not direct_routes_enabled(tracing=tracing_requested(), cors=bentoml_cors_enabled()):
            return {}
        # `Churn` is the bentoml.Service wrapping this class: its generated input model.
        spec = Churn.apis["predict"].input_spec
        return {"predict": DirectRoute("/predict", spec, self._predict_direct)}

    def _on_loaded(self, loaded: LoadedModel) -> None:
        self.telemetry.model_loaded(loaded.version, loaded.profile)
        self._version_header = loaded.version.encode()

    def version_header(self) -> bytes:
        return self._version_header

    async def __is_ready__(self) -> bool:
        return self.holder.ready

    async def __metrics__(self, content: str) -> str:
        return content + self.telemetry.render()

    @bentoml.on_shutdown
    def stop_loader(self) -> None:
        self.holder.stop()

    def _not_ready(self) -> Answer:
        return error_answer(
            503, {"error": f"model not loaded ({self.holder.status()})"}, {"Retry-After": "5"}
        )

    @bentoml.api
    async def predict(self, records: Records) -> PredictResponse:
        """Churn probability per record, with the model version that produced it."""
        result = await self._predict(records)
        if isinstance(result, Answer):
            return _response(result)  # type: ignore[return-value]
        return PredictResponse.model_validate(result)

    async def _predict_direct(self, request: Any) -> Answer:
        result = await self._predict(request.records)
        if isinstance(result, Answer):
            return result
        # The PredictResponse shape as plain dicts, serialised by pydantic-core's
        # own JSON writer: the same bytes as PredictResponse(...).model_dump_json()
        # (the direct-route test compares them) without building one model per
        # record, which was ~6% of a 100-record request.
        return Answer(200, pydantic_core.to_json(result))

    async def _predict(self, records: list[Any]) -> dict[str, Any] | Answer:
        """/predict's work and answer (PredictResponse's fields), for both routes."""
        if (fault := await self.faults.inject()) is not None:
            return fault
        model = self.holder.loaded
        if model is None:
            return self._not_ready()
        raw = _records(records)
        scored = score(model, raw)
        self.telemetry.observe_predictions(scored.features, scored.probabilities)
        return {
            "model": model.model,
            "version": model.version,
            "predictions": [
                {"customer_id": r["customer_id"], "churn_probability": p}
                for r, p in zip(raw, scored.probabilities.tolist(), strict=True)
            ],
        }

    @bentoml.api(batchable=True, max_batch_size=1000, max_latency_ms=1000)
    async def predict_batch(self, records: Records) -> list[Prediction]:
        """Like /predict, but concurrent requests share one model call.

        max_latency_ms is 1000, not lower: BentoML sheds requests it predicts to
        miss that deadline as 503, and 50 ms shed load at 16 connections.
        """
        model = self.holder.loaded
        if model is None:
            return _response(self._not_ready())  # type: ignore[return-value]
        raw = _records(records)
        scored = score(model, raw)
        self.telemetry.observe_predictions(scored.features, scored.probabilities)
        return [
            Prediction(customer_id=r["customer_id"], churn_probability=float(p))
            for r, p in zip(raw, scored.probabilities.tolist(), strict=True)
        ]

    @bentoml.api
    async def features(self, records: Records) -> FeaturesResponse:
        """The exact features and model rows /predict computes for these records.

        Not counted in the feature metrics: it is a debugging / parity tool, not
        live traffic.
        """
        model = self.holder.loaded
        if model is None:
            return _response(self._not_ready())  # type: ignore[return-value]
        from modelops_features import churn as churn_features

        scored = score(model, _records(records))
        return FeaturesResponse(
            model=model.model,
            version=model.version,
            feature_names=list(churn_features.FEATURE_NAMES),
            model_columns=model.model_columns,
            features=features_as_records(scored.features) if len(records) else [],
            rows=scored.rows.astype(float).tolist(),
        )


def _response(result: Any) -> Any:
    """An error Answer as the starlette Response BentoML's route returns; anything else as is."""
    if isinstance(result, Answer):
        return Response(
            result.body,
            status_code=result.status,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in result.headers},
            media_type="application/json",
        )
    return result


def _current_service() -> Churn | None:
    try:
        return bentoml.get_current_service()
    except Exception:  # not instantiated yet (startup) or already torn down
        return None


def _max_body_bytes() -> int:
    return max_records() * BYTES_PER_RECORD + BODY_OVERHEAD_BYTES


Churn.add_asgi_middleware(
    ModelopsMiddleware,
    endpoints=API_ENDPOINTS,
    state=_current_service,
    max_body_bytes=_max_body_bytes,
)
