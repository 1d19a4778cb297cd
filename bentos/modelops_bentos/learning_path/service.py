"""The learning-path service: `bentoml serve modelops_bentos.learning_path.service:LearningPath`.

POST /recommend {"student_id"?, "activity": {...}, "k"?, "candidates"?}
  -> {"model", "version", "student_id", "recommendations": [{"module", "score", "rank"}]}
POST /recommend_batch {"students": [<the /recommend body>, ...]}   (at most 1000)
  -> {"model", "version", "results": [{"student_id", "recommendations"}, ...]}

Thin, like churn's: pydantic validates (field-level 422s), the shared feature
code computes features, numpy scores the exported model, telemetry records
feature histograms at the profile's edges. The model version comes from
MODELOPS_REGISTRY / MODELOPS_MODEL (default learning-path) /
MODELOPS_MODEL_VERSION; /readyz is 503 until it is loaded and verified.

The student id is dropped at the boundary: it is echoed in the response for
the caller's correlation and used for nothing else. It never becomes a
feature, a metric label or a log field (validation failures are logged by
field path only, never with values).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import bentoml
from pydantic import ValidationError
from starlette.responses import JSONResponse

from modelops_bentos.churn.middleware import ModelopsMiddleware, describe_errors

from .model import LoadedRecommender, RecommenderHolder, load_request
from .schemas import (
    DEFAULT_K,
    MAX_STUDENTS,
    Candidates,
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

API_ENDPOINTS = ("recommend", "recommend_batch")
# One student's query is ~500 bytes of JSON; 2 KiB each is generous.
MAX_BODY_BYTES = MAX_STUDENTS * 2048 + 64 * 1024


class _ValidationErrorsWithoutValues(logging.Filter):
    """BentoML logs a traceback with the failing input for every invalid request.

    A client's bad input is not a server error, and the input may hold the
    student id: keep one INFO line naming the fields (never their values).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            original = record.getMessage()
            record.msg = "%s: rejected invalid input: %s"
            record.args = (original, describe_errors(exc.errors()))
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


logging.getLogger("bentoml._internal.server.http_app").addFilter(_ValidationErrorsWithoutValues())


TRACING_ENV = "MODELOPS_TRACE_REQUESTS"  # the churn service's switch, same meaning


def tracing_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """API routes untraced unless MODELOPS_TRACE_REQUESTS=true, as for churn.

    BentoML opens an OpenTelemetry span per request even with no exporter, the
    largest single per-request cost measured on the churn service.
    """
    source = os.environ if env is None else env
    if source.get(TRACING_ENV, "").strip().lower() in ("1", "true", "yes"):
        return {}
    return {"excluded_urls": [f"/{e}$" for e in API_ENDPOINTS]}


@bentoml.service(
    name="learning-path",
    # One worker per pod: the modelops_ counters are per process.
    workers=1,
    traffic={"timeout": 30},
    # No per-request access-log line (it costs more than scoring); errors are
    # still logged, counts and latencies are in /metrics.
    logging={"access": {"enabled": False}},
    tracing=tracing_config(),
)
class LearningPath:
    def __init__(self) -> None:
        self.holder = RecommenderHolder(load_request())
        self.telemetry = LearningPathTelemetry(self.holder.request.model)
        self.holder.on_loaded(self._on_loaded)
        self._version_header = b""
        self.holder.start()

    def _on_loaded(self, loaded: LoadedRecommender) -> None:
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

    def _not_ready(self) -> JSONResponse:
        return JSONResponse(
            {"error": f"model not loaded ({self.holder.status()})"},
            status_code=503,
            headers={"Retry-After": "5"},
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
        model: LoadedRecommender | None = self.holder.loaded  # type: ignore[assignment]
        if model is None:
            return self._not_ready()  # type: ignore[return-value]
        ranked = rank(model.scorer, vars(activity), k, candidates)
        self.telemetry.observe_predictions(ranked.features, ranked.probabilities.max(keepdims=True))
        self.telemetry.observe_recommendation(ranked.top[0][0])
        return RecommendResponse(
            model=model.model,
            version=model.version,
            student_id=student_id,
            recommendations=[
                Recommendation(module=m, score=s, rank=i + 1) for i, (m, s) in enumerate(ranked.top)
            ],
        )

    @bentoml.api(input_spec=RecommendBatchRequest)
    async def recommend_batch(self, students: list[StudentQuery]) -> RecommendBatchResponse:
        """/recommend for many students in one call, through the vectorised feature path."""
        model: LoadedRecommender | None = self.holder.loaded  # type: ignore[assignment]
        if model is None:
            return self._not_ready()  # type: ignore[return-value]
        ranked = rank_many(
            model.scorer,
            [vars(s.activity) for s in students],
            [s.k for s in students],
            [s.candidates for s in students],
        )
        if students:
            self.telemetry.observe_predictions(ranked.features, ranked.probabilities.max(axis=1))
            for top in ranked.tops:
                self.telemetry.observe_recommendation(top[0][0])
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
                for s, top in zip(students, ranked.tops, strict=True)
            ],
        )


def _current_service() -> LearningPath | None:
    try:
        return bentoml.get_current_service()
    except Exception:  # not instantiated yet (startup) or already torn down
        return None


LearningPath.add_asgi_middleware(
    ModelopsMiddleware,
    endpoints=API_ENDPOINTS,
    state=_current_service,
    max_body_bytes=lambda: MAX_BODY_BYTES,
)
