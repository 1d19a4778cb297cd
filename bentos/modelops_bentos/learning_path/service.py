"""The learning-path service: `bentoml serve modelops_bentos.learning_path.service:LearningPath`.

POST /recommend {"student_id"?, "activity": {...}, "k"?, "candidates"?}
  -> {"model", "version", "student_id", "recommendations": [{"module", "score", "rank"}]}
POST /recommend_batch {"students": [<the /recommend body>, ...]}   (at most 1000)
  -> {"model", "version", "results": [{"student_id", "recommendations"}, ...]}
POST /feedback {"outcomes": [{"request_id", "record"?, "outcome": <module>, "observed_at"?}]}
  -> {"model", "accepted"}

Thin, like churn's: pydantic validates (field-level 422s), the shared feature
code computes features, numpy scores the exported model, telemetry records
feature histograms at the profile's edges. The model version comes from
MODELOPS_REGISTRY / MODELOPS_MODEL (default learning-path) /
MODELOPS_MODEL_VERSION; /readyz is 503 until it is loaded and verified.

The student id is dropped at the boundary: it is echoed in the response for
the caller's correlation and used for nothing else. It never becomes a
feature, a metric label or a log field (validation failures are logged by
field path only, never with values), and the inference log has no entity
column for this service: outcomes are matched by request id only.

/recommend is answered on a direct route past BentoML's router
(common/direct.py, as churn's /predict): BentoML's own input model validates,
`_recommend` answers for both routes, and the bytes are the same
(tests/serving/test_bento_direct_routes.py). MODELOPS_DIRECT_ROUTES=false
sends it through BentoML's route.
"""

from __future__ import annotations

from typing import Any

import bentoml
import pydantic_core

from modelops_bentos.common.direct import Answer
from modelops_bentos.common.feedback import FeedbackResponse
from modelops_bentos.common.loader import ModelHolder
from modelops_bentos.common.service import (
    ServedModel,
    add_modelops_middleware,
    as_response,
    service_config,
)
from modelops_bentos.common.v2 import Tensor, V2Error, error_of, input_tensors, validate
from modelops_features.learning_path import RAW_SCHEMA

from .model import LoadedRecommender, load_recommender, load_request
from .schemas import (
    DEFAULT_K,
    MAX_STUDENTS,
    Candidates,
    LearningPathFeedback,
    LearningPathFeedbackRequest,
    Recommendation,
    RecommendBatchRequest,
    RecommendBatchResponse,
    RecommendRequest,
    RecommendResponse,
    StudentActivity,
    StudentId,
    StudentQuery,
    StudentResult,
    TopK,
)
from .scoring import rank, rank_many
from .telemetry import LearningPathTelemetry

API_ENDPOINTS = ("recommend", "recommend_batch", "feedback")
# One student's query is ~500 bytes of JSON; 2 KiB each is generous.
MAX_BODY_BYTES = MAX_STUDENTS * 2048 + 64 * 1024


@bentoml.service(
    name="learning-path",
    **service_config(API_ENDPOINTS),
)
class LearningPath(ServedModel):
    def __init__(self) -> None:
        request = load_request()
        # `LearningPath` here is the bentoml.Service wrapping this class: its
        # input models validate the direct routes (common/direct.py).
        self.serve_model(
            ModelHolder(request, load_recommender),
            LearningPathTelemetry(request.model),
            LearningPath.apis,
            direct={"recommend": self._recommend_direct},
            kind="learning-path",
        )

    @bentoml.api(input_spec=RecommendRequest)
    async def recommend(
        self,
        activity: StudentActivity,  # type: ignore[valid-type]
        student_id: StudentId = None,
        k: TopK = DEFAULT_K,
        candidates: Candidates = None,
    ) -> RecommendResponse:
        """The top-k next modules for one student, with scores and the model version."""
        result = self._recommend(activity, student_id, k, candidates)
        if isinstance(result, Answer):
            return as_response(result)  # type: ignore[return-value]
        return RecommendResponse.model_validate(result)

    async def _recommend_direct(self, query: RecommendRequest) -> Answer:
        result = self._recommend(query.activity, query.student_id, query.k, query.candidates)
        if isinstance(result, Answer):
            return result
        # RecommendResponse's shape as plain dicts through pydantic-core's JSON
        # writer: the same bytes as its model_dump_json (the direct-route test
        # compares them) without building a model per recommendation.
        return Answer(200, pydantic_core.to_json(result))

    def _recommend(
        self, activity: Any, student_id: str | None, k: int, candidates: list[str] | None
    ) -> dict[str, Any] | Answer:
        """/recommend's work and answer (RecommendResponse's fields), for both routes."""
        model: LoadedRecommender | None = self.holder.loaded
        if model is None:
            return self._not_ready()
        raw = vars(activity)
        ranked = rank(model.scorer, raw, k, candidates)
        self.telemetry.observe_predictions(ranked.features, ranked.probabilities.max(keepdims=True))
        self.telemetry.observe_recommendation(ranked.top[0][0])
        self.ground_truth.log(
            "recommend",
            model.version,
            [raw],
            ranked.features,
            ranked.probabilities,
            answers=[ranked.top[0][0]],
        )
        return {
            "model": model.model,
            "version": model.version,
            "student_id": student_id,
            "recommendations": [
                {"module": m, "score": s, "rank": i + 1} for i, (m, s) in enumerate(ranked.top)
            ],
        }

    @bentoml.api(input_spec=RecommendBatchRequest)
    async def recommend_batch(self, students: list[StudentQuery]) -> RecommendBatchResponse:
        """/recommend for many students in one call, through the vectorised feature path."""
        model: LoadedRecommender | None = self.holder.loaded  # type: ignore[assignment]
        if model is None:
            return as_response(self._not_ready())  # type: ignore[return-value]
        tops = self._rank_many(model, students, "recommend_batch")
        return RecommendBatchResponse(
            model=model.model,
            version=model.version,
            results=[
                StudentResult(
                    student_id=s.student_id,
                    recommendations=[
                        Recommendation(module=m, score=score, rank=i + 1)
                        for i, (m, score) in enumerate(top)
                    ],
                )
                for s, top in zip(students, tops, strict=True)
            ],
        )

    def _rank_many(
        self, model: LoadedRecommender, students: list[Any], endpoint: str
    ) -> list[list[tuple[str, float]]]:
        """Each student's top (module, score) list; metrics and inference log as every route."""
        raw = [vars(s.activity) for s in students]
        ranked = rank_many(
            model.scorer, raw, [s.k for s in students], [s.candidates for s in students]
        )
        if students:
            self.telemetry.observe_predictions(ranked.features, ranked.probabilities.max(axis=1))
            for top in ranked.tops:
                self.telemetry.observe_recommendation(top[0][0])
            self.ground_truth.log(
                endpoint,
                model.version,
                raw,
                ranked.features,
                ranked.probabilities,
                answers=[top[0][0] for top in ranked.tops],
            )
        return ranked.tops

    # -- the Open Inference Protocol (common/v2.py): /recommend_batch's work on tensors

    def v2_platform(self) -> str:
        return "modelops-learning-path-softmax"

    def v2_inputs(self) -> list[Tensor]:
        return V2_INPUTS

    def v2_outputs(self) -> list[Tensor]:
        return V2_OUTPUTS

    async def v2_infer(
        self, records: list[dict[str, Any]], payload: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Top-k modules and scores per row; k from the request's parameters (default 3).

        Other parameters are ignored, not refused: V2 clients add their own
        protocol extensions there (Triton's client sends binary_data_output;
        the answer is JSON, which it reads as well).
        """
        parameters = payload.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise V2Error(422, "parameters: an object")
        k = parameters.get("k", DEFAULT_K)
        students = [{"activity": r, "k": k} for r in records]
        parsed = validate(RecommendBatchRequest, {"students": students})
        model: LoadedRecommender | None = self.holder.loaded  # type: ignore[assignment]
        if model is None:
            raise error_of(self._not_ready())
        tops = self._rank_many(model, parsed.students, "v2_infer")
        shape = [len(tops), len(tops[0]) if tops else 0]
        return {
            "modules": {
                "datatype": "BYTES",
                "shape": shape,
                "data": [m for t in tops for m, _ in t],
            },
            "scores": {"datatype": "FP64", "shape": shape, "data": [s for t in tops for _, s in t]},
        }

    @bentoml.api(input_spec=LearningPathFeedbackRequest)
    async def feedback(self, outcomes: list[LearningPathFeedback]) -> FeedbackResponse:  # type: ignore[valid-type]
        """The modules that were the right next step for earlier recommendations (by request id)."""
        result = self._accept_feedback(outcomes)
        if isinstance(result, Answer):
            return as_response(result)  # type: ignore[return-value]
        return FeedbackResponse.model_validate(result)


# One tensor per activity field (the columns of /recommend_batch's students).
V2_INPUTS = input_tensors(RAW_SCHEMA.fields)
V2_OUTPUTS = [Tensor("modules", "BYTES", (-1, -1)), Tensor("scores", "FP64", (-1, -1))]


add_modelops_middleware(
    LearningPath,
    API_ENDPOINTS,
    lambda: MAX_BODY_BYTES,
    model="learning-path",
    description=__doc__,
)
