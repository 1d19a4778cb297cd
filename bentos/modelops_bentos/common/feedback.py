"""`POST /feedback`: outcomes of earlier predictions, validated like every input.

Body: {"outcomes": [{"request_id": "...", "record": 0, "outcome": 1, "observed_at": "..."},
                    {"entity_id": "c-42", "outcome": 0, "observed_at": "..."}, ...]}

Each outcome names its prediction by `request_id` (the X-Request-Id the
prediction was answered with; `record` is the position in a many-record
request, default 0) or by `entity_id` (then `observed_at` decides which
logged prediction it labels: see modelops_features.groundtruth.join), never
both. `observed_at` is an RFC 3339 time with a timezone, not in the future
(default: now). `outcome` is what the model kind predicts (churn: 0 / 1;
learning-path: a module). Every failing field is reported by path with a 422,
more than MAX_OUTCOMES a 413, like the prediction endpoints.

The learning-path service never logs student ids, so it refuses `entity_id`
(by name, with the reason) rather than accepting labels that can never match.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from bentoml import IODescriptor
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .ground_truth import now_us
from .request_id import MAX_LENGTH
from .schemas import STRICT, integer

MAX_OUTCOMES = 1000
# A client clock a little ahead of ours is not an error; an outcome from
# tomorrow is.
CLOCK_SKEW = timedelta(minutes=5)
ENTITY_ID_MAX_LENGTH = 256

RequestId = Annotated[
    str | None,
    Field(min_length=1, max_length=MAX_LENGTH, pattern=r"^[A-Za-z0-9._:@/+=-]+$"),
]
Record = Annotated[integer(0, 1_000_000) | None, Field(description="the position in the request")]
EntityId = Annotated[str | None, Field(min_length=1, max_length=ENTITY_ID_MAX_LENGTH)]


class FeedbackItem(BaseModel):
    """One outcome: `request_id` (with `record`) or `entity_id`, never both, never neither.

    `record` only with `request_id`; `observed_at` (RFC 3339 with a timezone,
    default now) not in the future. These cross-field rules are checked and
    named in a 422 but cannot be stated in the JSON Schema.
    """

    model_config = STRICT

    request_id: RequestId = None
    record: Record = None
    entity_id: EntityId = None
    observed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> FeedbackItem:
        if self.request_id is None and self.entity_id is None:
            raise PydanticCustomError(
                "missing_reference",
                "give request_id (the X-Request-Id the prediction was answered with) or entity_id",
            )
        if self.request_id is not None and self.entity_id is not None:
            raise PydanticCustomError(
                "ambiguous_reference", "give request_id or entity_id, not both"
            )
        if self.record is not None and self.request_id is None:
            raise PydanticCustomError(
                "record_without_request", "record is a position in a request: give request_id"
            )
        if self.observed_at is not None and self.observed_at > datetime.now(UTC) + CLOCK_SKEW:
            raise PydanticCustomError(
                "observed_in_future",
                "observed_at is in the future: {value}",
                {"value": self.observed_at.isoformat()},
            )
        return self


class NoEntityFeedbackItem(FeedbackItem):
    """For a service whose log holds no entity ids (learning-path)."""

    @field_validator("entity_id")
    @classmethod
    def _refuse_entity(cls, value: str | None) -> str | None:
        if value is not None:
            raise PydanticCustomError(
                "entity_id_not_logged",
                "this service never logs entity ids, so an outcome by entity_id can never "
                "match a prediction: give request_id",
            )
        return value


def _check_count(outcomes: list[Any]) -> list[Any]:
    if len(outcomes) > MAX_OUTCOMES:
        # The shared middleware maps this error type to HTTP 413.
        raise PydanticCustomError(
            "too_many_records",
            "at most {limit} outcomes per request, got {count}",
            {"limit": MAX_OUTCOMES, "count": len(outcomes)},
        )
    return outcomes


def item_model(name: str, outcome: Any, entity_ids: bool) -> type[FeedbackItem]:
    """One outcome of a model kind: the common fields plus `outcome: <outcome>`."""
    base = FeedbackItem if entity_ids else NoEntityFeedbackItem
    return create_model(name, __base__=base, outcome=(outcome, ...))


class _FeedbackRequest(IODescriptor):
    model_config = STRICT


def request_model(name: str, item: type[FeedbackItem]) -> type[IODescriptor]:
    """The /feedback body {"outcomes": [item, ...]} (1..MAX_OUTCOMES items)."""
    outcomes = Annotated[list[item], Field(min_length=1), AfterValidator(_check_count)]  # type: ignore[valid-type]
    return create_model(name, __base__=_FeedbackRequest, outcomes=(outcomes, ...))


class FeedbackResponse(BaseModel):
    model: str
    accepted: int


def rows(items: list[Any], source: str = "api") -> list[dict[str, Any]]:
    """Validated items as feedback columns (entity ids still raw: the writer hashes them)."""
    received = now_us()
    out = []
    for item in items:
        observed = item.observed_at
        out.append(
            {
                "request_id": item.request_id,
                "record": (item.record or 0) if item.request_id is not None else None,
                "entity_id": item.entity_id,
                "outcome": item.outcome,
                "observed_at": received if observed is None else _us(observed),
                "received_at": received,
                "source": source,
            }
        )
    return out


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
