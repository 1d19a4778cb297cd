"""Request and response models of the churn service.

The request record model is *generated* from `modelops_features.churn.RAW_SCHEMA`
(common/schemas.py), so the API contract (ranges, categories, nullability)
cannot drift away from the schema that training validates against: one
declaration, two enforcers. A test checks the generated constraints.
"""

from __future__ import annotations

from typing import Annotated

from bentoml import IODescriptor
from pydantic import BaseModel, Field

# The record model and its limits live in records.py (no BentoML); re-exported here.
from modelops_bentos.churn.records import (  # noqa: F401
    CUSTOMER_ID_MAX_LENGTH,
    DEFAULT_MAX_RECORDS,
    MAX_RECORDS_ENV,
    ChurnRecord,
    Records,
    configure_max_records,
    max_records,
    parse_max_records,
    record_model,
)
from modelops_bentos.common.feedback import item_model, request_model
from modelops_bentos.common.schemas import STRICT, integer


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
