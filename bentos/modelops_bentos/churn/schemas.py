"""Request and response models of the churn service.

The request record model is *generated* from `modelops_features.churn.RAW_SCHEMA`
(common/schemas.py), so the API contract (ranges, categories, nullability)
cannot drift away from the schema that training validates against: one
declaration, two enforcers. A test checks the generated constraints.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from bentoml import IODescriptor
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from modelops_bentos.common.feedback import item_model, request_model
from modelops_bentos.common.schemas import STRICT, integer, strict_model
from modelops_features.churn import RAW_SCHEMA
from modelops_features.schema import Schema

DEFAULT_MAX_RECORDS = 1000
MAX_RECORDS_ENV = "MODELOPS_MAX_RECORDS"
CUSTOMER_ID_MAX_LENGTH = 256

# Set by the service at start from the environment (it refuses to start on a
# malformed value); read by the validator on every request.
_max_records: int = DEFAULT_MAX_RECORDS


def max_records() -> int:
    """The largest number of records one request may carry."""
    return _max_records


def configure_max_records(env: dict[str, str] | None = None) -> int:
    """Read MODELOPS_MAX_RECORDS (default 1000) and apply it; raises ValueError if malformed."""
    global _max_records
    source = os.environ if env is None else env
    _max_records = parse_max_records(source.get(MAX_RECORDS_ENV))
    return _max_records


def parse_max_records(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_RECORDS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_RECORDS_ENV}={raw!r} is not an integer") from None
    if value < 1:
        raise ValueError(f"{MAX_RECORDS_ENV}={raw!r} must be at least 1")
    return value


def record_model(schema: Schema, name: str = "ChurnRecord") -> type[BaseModel]:
    """A pydantic model of one raw record: the schema's fields plus optional customer_id."""
    return strict_model(
        name,
        (f for f in schema.fields if f.name != "customer_id"),
        customer_id=(Annotated[str | None, Field(max_length=CUSTOMER_ID_MAX_LENGTH)], None),
    )


ChurnRecord = record_model(RAW_SCHEMA)


def _check_record_count(records: list[Any]) -> list[Any]:
    limit = max_records()
    if len(records) > limit:
        # The middleware maps this error type to HTTP 413.
        raise PydanticCustomError(
            "too_many_records",
            "at most {limit} records per request ({env}), got {count}",
            {"limit": limit, "count": len(records), "env": MAX_RECORDS_ENV},
        )
    return records


Records = Annotated[list[ChurnRecord], AfterValidator(_check_record_count)]  # type: ignore[valid-type]


class RecordsRequest(IODescriptor):
    """The body of /predict, /predict_batch and /features: {"records": [ChurnRecord, ...]}.

    An IODescriptor (BentoML's request-model base) so that the body itself is
    strict and closed like learning-path's: an unknown top-level key (even a
    2 MB one) is a 422 naming it, not silently dropped.
    """

    model_config = STRICT

    records: Records = Field(
        description=f"the customers to score, at most {MAX_RECORDS_ENV} (default "
        f"{DEFAULT_MAX_RECORDS}) per request; more is a 413"
    )


class Prediction(BaseModel):
    customer_id: str | None = None
    churn_probability: float


class PredictResponse(BaseModel):
    model: str
    version: str
    predictions: list[Prediction]


class FeaturesResponse(BaseModel):
    """What /features returns: the exact features and model rows /predict would use."""

    model: str
    version: str
    feature_names: list[str]
    model_columns: list[str]
    features: list[dict[str, float | str | None]]
    # null where the feature is missing (NaN in the model row).
    rows: list[list[float | None]]


# POST /feedback: the observed outcome of a churn prediction, the 0 / 1 label
# training learns ("churned"); strict, so true / "1" are refused by name.
ChurnOutcome = Annotated[integer(0, 1), Field(description="1 churned, 0 stayed")]
ChurnFeedback = item_model("ChurnFeedback", ChurnOutcome, entity_ids=True)
ChurnFeedbackRequest = request_model("ChurnFeedbackRequest", ChurnFeedback)
