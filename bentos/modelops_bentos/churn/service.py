"""The churn prediction service: `bentoml serve modelops_bentos.churn.service:Churn`.

Thin by design: pydantic validates the input (schemas), the shared feature code
computes features (scoring), XGBoost predicts, and telemetry records what the
drift check and the canary analysis read. The model version comes from the
registry named by MODELOPS_REGISTRY / MODELOPS_MODEL / MODELOPS_MODEL_VERSION;
/readyz stays 503 until it is loaded and its checksum verified.

Endpoints (all POST, JSON):
  /predict        {"records": [...]} -> {"model", "version", "predictions": [...]}
  /predict_batch  the same body and answer; concurrent requests are merged by
                  adaptive batching into one model call (common/batching.py)
  /features       the features and model rows /predict computes (parity, debugging)
  /feedback       {"outcomes": [...]}: observed outcomes of earlier predictions
                  (common/feedback.py) -> {"model", "accepted"}

/predict never waits for other requests, but the requests that are already
waiting when it scores share one model call (common/coalesce.py): under
concurrent load that more than halves the CPU of a one-record request, and the answers
are the ones each request gets alone (a test compares them).

A sample of /predict and /predict_batch requests (MODELOPS_LOG_SAMPLE) goes to
the inference log with the customer id hashed or omitted (common/ground_truth.py).
"""

from __future__ import annotations

from typing import Any

import bentoml
import pydantic_core

from modelops_bentos.common.batching import AdaptiveBatcher, Overloaded
from modelops_bentos.common.coalesce import Coalescer, enabled_from_env
from modelops_bentos.common.direct import Answer, error_answer
from modelops_bentos.common.feedback import FeedbackResponse
from modelops_bentos.common.loader import ModelHolder
from modelops_bentos.common.service import (
    ServedModel,
    add_modelops_middleware,
    as_response,
    service_config,
)
from modelops_bentos.common.v2 import Tensor, error_of, input_tensors, validate
from modelops_features.churn import RAW_SCHEMA

from .fast_records import DECODER as FAST_RECORDS
from .faults import Faults
from .model import LoadedModel, load_model, load_request
from .schemas import (
    ChurnFeedback,
    ChurnFeedbackRequest,
    FeaturesResponse,
    PredictResponse,
    RecordsRequest,
    configure_max_records,
    max_records,
)
from .scoring import Scored, features_as_records, part, score
from .telemetry import Telemetry

API_ENDPOINTS = ("predict", "predict_batch", "features", "feedback")
# Adaptive batching of /predict_batch. max_latency_ms is 1000, not lower: the
# dispatcher sheds requests it predicts to miss that deadline as 503, and 50 ms
# shed load at 16 connections.
BATCH_MAX_RECORDS = 1000
BATCH_MAX_LATENCY_MS = 1000
# Records of concurrent /predict requests scored in one model call at most
# (common/coalesce.py). Past a few hundred records the per-call costs are
# already paid down, and a smaller chunk lets its callers answer sooner.
COALESCE_MAX_RECORDS = 256
# Generous per-record allowance: a record is ~200 bytes of JSON.
BYTES_PER_RECORD = 2048
BODY_OVERHEAD_BYTES = 64 * 1024


def _records(records: list[Any]) -> list[dict[str, Any]]:
    """The records as dicts: pydantic models (BentoML's route, the input model)
    or already dicts (the direct routes' fast decoder, fast_records.py)."""
    # A validated pydantic model keeps its field values in __dict__; reading it
    # avoids a model_dump() per record on the hot path.
    return [r if type(r) is dict else vars(r) for r in records]


@bentoml.service(
    name="churn",
    **service_config(API_ENDPOINTS),
)
class Churn(ServedModel):
    def __init__(self) -> None:
        configure_max_records()  # refuses to start on a malformed MODELOPS_MAX_RECORDS
        request = load_request()
        self.faults = Faults.from_env()  # off unless MODELOPS_FAULT_* are set (faults.py)
        self.batcher = AdaptiveBatcher(self._score_batch, BATCH_MAX_RECORDS, BATCH_MAX_LATENCY_MS)
        self.coalescer: Coalescer[Scored] = Coalescer(
            self._score_merged, COALESCE_MAX_RECORDS, enabled=enabled_from_env()
        )
        # `Churn` here is the bentoml.Service wrapping this class: its generated
        # input models validate the direct routes (common/direct.py).
        self.serve_model(
            ModelHolder(request, load_model),
            Telemetry(request.model),
            Churn.apis,
            direct={"predict": self._predict_direct, "predict_batch": self._predict_batch_direct},
            kind="churn",
            # msgspec accepts what is surely valid in a quarter of pydantic's
            # time; anything else goes to the input model (fast_records.py).
            fast={"predict": FAST_RECORDS.decode, "predict_batch": FAST_RECORDS.decode},
        )

    @bentoml.api(input_spec=RecordsRequest)
    async def predict(self, records: list[Any]) -> PredictResponse:
        """Churn probability per record, with the model version that produced it."""
        return _as_route_answer(await self._predict(records))

    async def _predict_direct(self, request: Any) -> Answer:
        return _as_direct_answer(await self._predict(request.records))

    async def _predict(
        self, records: list[Any], endpoint: str = "predict"
    ) -> dict[str, Any] | Answer:
        """/predict's work and answer (PredictResponse's fields), for every route."""
        model = self.holder.loaded
        if (fault := await self.faults.inject(model and model.version)) is not None:
            return fault
        if model is None:
            return self._not_ready()
        raw = _records(records)
        # Scored with the requests already waiting, if any (common/coalesce.py).
        share = await self.coalescer(model, raw)
        probabilities = share.result.probabilities[share.start : share.stop]
        if self.ground_truth.logging:
            # From this request's task: the log reads its request id.
            own = part(share.result, share.start, share.stop)
            self.ground_truth.log(endpoint, model.version, raw, own.features, probabilities)
        return {
            "model": model.model,
            "version": model.version,
            "predictions": [
                {"customer_id": r["customer_id"], "churn_probability": p}
                for r, p in zip(raw, probabilities.tolist(), strict=True)
            ],
        }

    def _score_merged(self, model: LoadedModel, raw: list[dict[str, Any]]) -> Scored:
        """One model call and one metrics entry for merged records (coalesced /predict, batches)."""
        scored = score(model, raw)
        self.telemetry.observe_predictions(scored.features, scored.probabilities)
        return scored

    # -- the Open Inference Protocol (common/v2.py): /predict's work on tensors

    def v2_platform(self) -> str:
        return "modelops-churn-xgboost"

    def v2_inputs(self) -> list[Tensor]:
        return V2_INPUTS

    def v2_outputs(self) -> list[Tensor]:
        return V2_OUTPUTS

    async def v2_infer(
        self, records: list[dict[str, Any]], payload: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        parsed = validate(RecordsRequest, {"records": records})
        result = await self._predict(parsed.records, endpoint="v2_infer")
        if isinstance(result, Answer):
            raise error_of(result)
        probabilities = [p["churn_probability"] for p in result["predictions"]]
        return {
            "churn_probability": {
                "datatype": "FP64",
                "shape": [len(probabilities)],
                "data": probabilities,
            }
        }

    @bentoml.api(input_spec=RecordsRequest)
    async def predict_batch(self, records: list[Any]) -> PredictResponse:
        """Like /predict (same body, same answer), but concurrent requests share one model call."""
        return _as_route_answer(await self._predict_batch(records))

    async def _predict_batch_direct(self, request: Any) -> Answer:
        return _as_direct_answer(await self._predict_batch(request.records))

    async def _predict_batch(self, records: list[Any]) -> dict[str, Any] | Answer:
        model = self.holder.loaded
        if model is None:
            return self._not_ready()
        raw = _records(records)
        try:
            probabilities = await self.batcher(raw)
        except Overloaded as exc:
            return error_answer(503, {"error": str(exc)}, {"Retry-After": "1"})
        return {
            "model": model.model,
            "version": model.version,
            "predictions": [
                {"customer_id": r["customer_id"], "churn_probability": p}
                for r, p in zip(raw, probabilities, strict=True)
            ],
        }

    async def _score_batch(self, raw: list[dict[str, Any]]) -> list[float]:
        """One model call for the records of concurrent /predict_batch requests (batching.py)."""
        model = self.holder.loaded
        scored = self._score_merged(model, raw)
        # Merged requests: the rows cannot name their request id (logged without one).
        self.ground_truth.log(
            "predict_batch",
            model.version,
            raw,
            scored.features,
            scored.probabilities,
            attributable=False,
        )
        return scored.probabilities.tolist()

    @bentoml.api(input_spec=RecordsRequest)
    async def features(self, records: list[Any]) -> FeaturesResponse:
        """The exact features and model rows /predict computes for these records.

        Not counted in the feature metrics: it is a debugging / parity tool, not
        live traffic.
        """
        model = self.holder.loaded
        if model is None:
            return as_response(self._not_ready())  # type: ignore[return-value]
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

    @bentoml.api(input_spec=ChurnFeedbackRequest)
    async def feedback(self, outcomes: list[ChurnFeedback]) -> FeedbackResponse:  # type: ignore[valid-type]
        """Observed outcomes (churned 0 / 1) of earlier predictions, by request id or customer."""
        result = self._accept_feedback(outcomes)
        if isinstance(result, Answer):
            return as_response(result)  # type: ignore[return-value]
        return FeedbackResponse.model_validate(result)


# One tensor per raw field (the columns of /predict's records), customer_id optional.
V2_INPUTS = input_tensors(
    (f for f in RAW_SCHEMA.fields if f.name != "customer_id"),
    extra=[Tensor("customer_id", "BYTES", (-1,), optional=True)],
)
V2_OUTPUTS = [Tensor("churn_probability", "FP64", (-1,))]


def _as_route_answer(result: dict[str, Any] | Answer) -> Any:
    """An answer as BentoML's route returns it: an error Response or the PredictResponse."""
    if isinstance(result, Answer):
        return as_response(result)
    return PredictResponse.model_validate(result)


def _as_direct_answer(result: dict[str, Any] | Answer) -> Answer:
    if isinstance(result, Answer):
        return result
    # The PredictResponse shape as plain dicts, serialised by pydantic-core's
    # own JSON writer: the same bytes as PredictResponse(...).model_dump_json()
    # (the direct-route test compares them) without building one model per
    # record, which was ~6% of a 100-record request.
    return Answer(200, pydantic_core.to_json(result))


FAULT = "fault injection for canary demos (MODELOPS_FAULT_*, off by default)"


def _max_body_bytes() -> int:
    return max_records() * BYTES_PER_RECORD + BODY_OVERHEAD_BYTES


add_modelops_middleware(
    Churn,
    API_ENDPOINTS,
    _max_body_bytes,
    model="churn",
    description=__doc__,
    extra_errors={
        "/predict": {"500": FAULT},
        "/v2/models/{name}/infer": {"500": FAULT},  # the same _predict, the same faults
    },
    # Adaptive batching has its own bounded queue and sheds by itself (batching.py).
    unpaced=("predict_batch",),
)
