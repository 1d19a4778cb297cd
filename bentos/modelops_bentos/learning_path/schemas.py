"""Request and response models of the learning-path service.

The activity model is generated from `modelops_features.learning_path.RAW_SCHEMA`
with the field mapping every service uses (common/schemas.py), so the API contract (ranges,
nullability, categories) is the very schema training validates against.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from bentoml import IODescriptor
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from modelops_bentos.common.feedback import item_model, request_model
from modelops_bentos.common.schemas import STRICT, integer, strict_model
from modelops_features.learning_path import MODULES, RAW_SCHEMA

STUDENT_ID_MAX_LENGTH = 256


def activity_model() -> type[BaseModel]:
    return strict_model("StudentActivity", RAW_SCHEMA.fields)


StudentActivity = activity_model()
Module = Literal[MODULES]  # type: ignore[valid-type]


def _distinct(candidates: list[str] | None) -> list[str] | None:
    if candidates is not None and len(set(candidates)) != len(candidates):
        raise PydanticCustomError("duplicate_candidates", "candidates must be distinct modules")
    return candidates


DEFAULT_K = 3
StudentId = Annotated[str | None, Field(max_length=STUDENT_ID_MAX_LENGTH)]
TopK = Annotated[integer(1, len(MODULES)), Field(description="how many modules to return")]
Candidates = Annotated[
    list[Module] | None,  # type: ignore[valid-type]
    Field(
        min_length=1,
        max_length=len(MODULES),
        json_schema_extra={"uniqueItems": True},
        description="restrict the answer to these modules (distinct)",
    ),
    AfterValidator(_distinct),
]


class StudentQuery(BaseModel):
    """One student's question. `student_id` is echoed back and used for nothing else."""

    model_config = STRICT

    activity: StudentActivity  # type: ignore[valid-type]
    student_id: StudentId = None
    k: TopK = DEFAULT_K
    candidates: Candidates = None


class RecommendRequest(IODescriptor, StudentQuery):
    """The /recommend body: one StudentQuery.

    An IODescriptor (BentoML's request-model base) so that unknown top-level
    keys are refused by name: a misspelt "candidate" must not be ignored.
    """

    model_config = STRICT


MAX_STUDENTS = 1000


def _check_student_count(students: list[Any]) -> list[Any]:
    if len(students) > MAX_STUDENTS:
        # The shared middleware maps this error type to HTTP 413.
        raise PydanticCustomError(
            "too_many_records",
            "at most {limit} students per request, got {count}",
            {"limit": MAX_STUDENTS, "count": len(students)},
        )
    return students


class RecommendBatchRequest(IODescriptor):
    """The /recommend_batch body: {"students": [StudentQuery, ...]} (at most MAX_STUDENTS)."""

    model_config = STRICT

    students: Annotated[list[StudentQuery], AfterValidator(_check_student_count)]


class Recommendation(BaseModel):
    module: str
    score: float  # probability, renormalised over the candidates
    rank: int  # 1 = best


class RecommendResponse(BaseModel):
    model: str
    version: str
    student_id: str | None = None
    recommendations: list[Recommendation]


class StudentResult(BaseModel):
    student_id: str | None = None
    recommendations: list[Recommendation]


class RecommendBatchResponse(BaseModel):
    model: str
    version: str
    results: list[StudentResult]  # in request order


# POST /feedback: the module that turned out to be the right next step. No
# entity_id: the service never logs student ids (common/feedback.py refuses it).
LearningPathFeedback = item_model("LearningPathFeedback", Module, entity_ids=False)
LearningPathFeedbackRequest = request_model("LearningPathFeedbackRequest", LearningPathFeedback)
