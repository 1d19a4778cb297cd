"""Pydantic request models generated from a `modelops_features` schema.

Each service's record model is *generated* from its feature package's
RAW_SCHEMA rather than written by hand, so the API contract (ranges,
categories, nullability) cannot drift away from the schema that training
validates against: one declaration, two enforcers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from modelops_features.schema import Field as SchemaField

# Every request model of the services: unknown keys refused, no type coercion
# (JSON's own types only: an integer field takes 3, not 3.0, "3" or true; a
# float field takes 3 or 3.5). Pydantic's strict mode is checked inside its
# core validator, so it costs nothing per request (benchmarks/serving_stages.py).
STRICT = ConfigDict(extra="forbid", strict=True)


def pydantic_type(field: SchemaField) -> tuple[Any, Any]:
    """(annotation, default) of one schema field as a strict-enough pydantic field."""
    if field.dtype == "category":
        annotation: Any = Literal[field.categories]  # type: ignore[valid-type]
        constraint = Field(description=field.description or None)
    elif field.dtype == "string":
        annotation = str
        constraint = Field(description=field.description or None)
    else:
        annotation = float if field.dtype == "float" else int
        # allow_inf_nan=False: NaN / Infinity literals are refused with a clear
        # per-field error instead of flowing into features and metrics.
        constraint = Field(
            ge=field.min,
            le=field.max,
            allow_inf_nan=False if field.dtype == "float" else None,
            description=field.description or None,
        )
    if field.nullable:
        return Annotated[annotation | None, constraint], None
    return Annotated[annotation, constraint], ...


def strict_model(
    name: str, fields: Iterable[SchemaField], **extra: tuple[Any, Any]
) -> type[BaseModel]:
    """A model of the schema `fields` (plus `extra` pydantic fields), strict and closed.

    extra="forbid": a misspelt field ("tenure_month") is reported by name instead
    of being silently dropped while the real field is reported missing.
    STRICT: `"orders": true` or `"tenure_months": "3"` is a 422 naming the field,
    not a silent 1 or 3 (pydantic's lax mode coerces both).
    """
    definitions: dict[str, Any] = {f.name: pydantic_type(f) for f in fields}
    definitions.update(extra)
    return create_model(name, __config__=STRICT, **definitions)
