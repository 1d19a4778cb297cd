"""One churn record and a list of them, as the API accepts them — without BentoML.

Generated from `modelops_features.churn.RAW_SCHEMA` (common/schemas.py), so the
API contract cannot drift from what training validates. Kept apart from
schemas.py (whose request models are BentoML IODescriptors) so code that only
validates records — the serving benchmark's peers, which run without BentoML —
can import it; an import-linter contract keeps it BentoML-free.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from modelops_bentos.common.schemas import strict_model
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
